//! Items as types: each item family is a struct whose fields are its attributes (named once,
//! there), encoded and decoded with `serde_dynamo`. A missing or mistyped attribute is a decode
//! error, logged with the item's family and answered 503; never a default.

use crate::StoreError;
use aws_sdk_dynamodb::types::AttributeValue;
use domain::keys::Key;
use serde::de::DeserializeOwned;
use serde::Serialize;
use std::collections::HashMap;

pub type Attrs = HashMap<String, AttributeValue>;

/// An item struct to attributes (its `pk` and `sk` are fields of it).
pub fn encode<T: Serialize>(item: &T) -> Attrs {
    serde_dynamo::to_item(item).expect("item structs encode")
}

/// A value (a nested struct) as one attribute, for update expressions.
pub fn encode_value<T: Serialize>(value: &T) -> AttributeValue {
    serde_dynamo::to_attribute_value(value).expect("values encode")
}

/// Attributes to an item struct; `what` names the family in the log if they do not decode.
pub fn decode<T: DeserializeOwned>(what: &'static str, attrs: Attrs) -> Result<T, StoreError> {
    serde_dynamo::from_item(attrs).map_err(|e| StoreError::corrupt(what, e))
}

/// Decodes every item of a list.
pub fn decode_all<T: DeserializeOwned>(what: &'static str, items: Vec<Attrs>) -> Result<Vec<T>, StoreError> {
    items.into_iter().map(|i| decode(what, i)).collect()
}

pub fn s(value: impl Into<String>) -> AttributeValue {
    AttributeValue::S(value.into())
}

pub fn n(value: impl std::fmt::Display) -> AttributeValue {
    AttributeValue::N(value.to_string())
}

pub fn key_map((pk, sk): Key) -> Attrs {
    HashMap::from([("pk".to_string(), s(pk)), ("sk".to_string(), s(sk))])
}

/// A string attribute of an item's key, for items read back by key.
pub fn sk_of(item: &Attrs) -> &str {
    item.get("sk").and_then(|v| v.as_s().ok()).map(String::as_str).unwrap_or("")
}

/// Keys of items read with their `pk` and `sk`.
pub fn key_of(item: &Attrs) -> Key {
    let get = |name: &str| item.get(name).and_then(|v| v.as_s().ok()).cloned().unwrap_or_default();
    (get("pk"), get("sk"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use domain::model::RoomKind;
    use serde::Deserialize;

    #[derive(Debug, PartialEq, Serialize, Deserialize)]
    struct Example {
        pk: String,
        sk: String,
        id: u64,
        kind: RoomKind,
        note: Option<String>,
    }

    #[test]
    fn items_round_trip_and_a_missing_or_mistyped_attribute_is_an_error() {
        let item =
            Example { pk: "ROOM#1".into(), sk: "META".into(), id: 1, kind: RoomKind::Direct, note: None };
        let attrs = encode(&item);
        assert_eq!(attrs["kind"], s("direct"));
        assert_eq!(decode::<Example>("example", attrs.clone()).unwrap(), item);
        let mut missing = attrs.clone();
        missing.remove("id");
        assert!(matches!(decode::<Example>("example", missing), Err(StoreError::Corrupt(_))));
        let mut unknown_kind = attrs.clone();
        unknown_kind.insert("kind".into(), s("broadcast"));
        assert!(decode::<Example>("example", unknown_kind).is_err());
        let mut mistyped = attrs;
        mistyped.insert("id".into(), s("one"));
        assert!(decode::<Example>("example", mistyped).is_err());
    }
}
