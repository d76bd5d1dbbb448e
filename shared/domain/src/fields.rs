//! Field errors: what validation finds wrong with a body, per field (the `/users/` style's
//! `{"username": ["..."]}`); the edge answers them as a 400.

use serde_json::{json, Map, Value};

#[derive(Debug, Clone, PartialEq)]
pub struct FieldErrors(pub Map<String, Value>);

impl FieldErrors {
    /// A single field's message, e.g. `field("username", "This field is required.")`.
    pub fn field(name: &str, message: impl Into<String>) -> FieldErrors {
        let mut map = Map::new();
        map.insert(name.into(), json!([message.into()]));
        FieldErrors(map)
    }
}
