//! Attribute-map plumbing: building items and transaction parts, reading attributes back.

use crate::keys::Key;
use aws_sdk_dynamodb::types::{AttributeValue, ConditionCheck, Delete, Put, TransactWriteItem, Update};
use std::collections::HashMap;

pub type Attrs = HashMap<String, AttributeValue>;

/// A stored item with typed accessors; a missing or mistyped attribute reads as empty.
#[derive(Clone, Debug)]
pub struct Item(pub Attrs);

impl Item {
    pub fn s(&self, name: &str) -> String {
        self.0.get(name).and_then(|v| v.as_s().ok()).cloned().unwrap_or_default()
    }

    pub fn opt_s(&self, name: &str) -> Option<String> {
        self.0.get(name).and_then(|v| v.as_s().ok()).cloned()
    }

    pub fn n(&self, name: &str) -> u64 {
        self.0.get(name).and_then(|v| v.as_n().ok()).and_then(|v| v.parse().ok()).unwrap_or(0)
    }

    pub fn i(&self, name: &str) -> i64 {
        self.0.get(name).and_then(|v| v.as_n().ok()).and_then(|v| v.parse().ok()).unwrap_or(0)
    }

    pub fn bool(&self, name: &str) -> bool {
        self.0.get(name).and_then(|v| v.as_bool().ok()).copied().unwrap_or(false)
    }

    pub fn sk(&self) -> String {
        self.s("sk")
    }
}

pub fn s(value: impl Into<String>) -> AttributeValue {
    AttributeValue::S(value.into())
}

pub fn n(value: impl std::fmt::Display) -> AttributeValue {
    AttributeValue::N(value.to_string())
}

/// `Some(text)` as a string, `None` as NULL.
pub fn opt_s(value: &Option<String>) -> AttributeValue {
    match value {
        Some(v) => s(v.clone()),
        None => AttributeValue::Null(true),
    }
}

pub fn key_map((pk, sk): Key) -> Attrs {
    HashMap::from([("pk".to_string(), s(pk)), ("sk".to_string(), s(sk))])
}

/// An item: its key plus attributes.
pub fn item(key: Key, attrs: impl IntoIterator<Item = (&'static str, AttributeValue)>) -> Attrs {
    let mut map = key_map(key);
    map.extend(attrs.into_iter().map(|(k, v)| (k.to_string(), v)));
    map
}

pub const NEW: &str = "attribute_not_exists(pk)";
pub const EXISTS: &str = "attribute_exists(pk)";

pub fn put(table: &str, attrs: Attrs, condition: Option<&str>) -> TransactWriteItem {
    let put = Put::builder()
        .table_name(table)
        .set_item(Some(attrs))
        .set_condition_expression(condition.map(str::to_string))
        .build()
        .expect("table and item are set");
    TransactWriteItem::builder().put(put).build()
}

pub fn delete(table: &str, key: Key, condition: Option<&str>) -> TransactWriteItem {
    let delete = Delete::builder()
        .table_name(table)
        .set_key(Some(key_map(key)))
        .set_condition_expression(condition.map(str::to_string))
        .build()
        .expect("table and key are set");
    TransactWriteItem::builder().delete(delete).build()
}

pub fn check(table: &str, key: Key, condition: &str) -> TransactWriteItem {
    let check = ConditionCheck::builder()
        .table_name(table)
        .set_key(Some(key_map(key)))
        .condition_expression(condition)
        .build()
        .expect("table, key and condition are set");
    TransactWriteItem::builder().condition_check(check).build()
}

/// An update with its expression, condition and `:name` values.
pub fn update(
    table: &str,
    key: Key,
    expression: &str,
    condition: Option<&str>,
    values: impl IntoIterator<Item = (&'static str, AttributeValue)>,
) -> TransactWriteItem {
    let values: Attrs = values.into_iter().map(|(k, v)| (k.to_string(), v)).collect();
    let update = Update::builder()
        .table_name(table)
        .set_key(Some(key_map(key)))
        .update_expression(expression)
        .set_condition_expression(condition.map(str::to_string))
        .set_expression_attribute_values((!values.is_empty()).then_some(values))
        .build()
        .expect("table, key and expression are set");
    TransactWriteItem::builder().update(update).build()
}
