//! Users: the public shape and the validation of create/update bodies and list filters
//! (DRF-style field errors). Passwords are hashed at the edge (`edge::passwords`).

use crate::fields::FieldErrors;
use crate::page::PageRequest;
use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};

pub const STATUSES: [&str; 3] = ["Online", "Busy", "Offline"];

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Profile {
    pub status: String,
    pub status_msg: Option<String>,
    /// Whether the user's read position shows to the other members of their rooms (`read_to`,
    /// `read` frames). On unless turned off.
    #[serde(default = "on")]
    pub read_receipts: bool,
}

fn on() -> bool {
    true
}

/// A user as the API shows it. The password hash lives only in the store.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct User {
    pub id: u64,
    pub username: String,
    pub first_name: String,
    pub last_name: String,
    pub email: String,
    pub profile: Profile,
    pub date_joined: String,
    pub is_active: bool,
}

/// The writable fields found in a create or update body, each already valid.
#[derive(Debug, Default)]
pub struct UserChanges {
    pub username: Option<String>,
    pub password: Option<String>,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub email: Option<String>,
    pub status: Option<String>,
    /// `Some(None)` clears the status message.
    pub status_msg: Option<Option<String>>,
    pub read_receipts: Option<bool>,
}

impl UserChanges {
    /// Applies these changes to a user (profile fields merge, absent fields stay).
    pub fn apply(&self, user: &mut User) {
        let set = |target: &mut String, value: &Option<String>| {
            if let Some(v) = value {
                target.clone_from(v)
            }
        };
        set(&mut user.username, &self.username);
        set(&mut user.first_name, &self.first_name);
        set(&mut user.last_name, &self.last_name);
        set(&mut user.email, &self.email);
        set(&mut user.profile.status, &self.status);
        if let Some(msg) = &self.status_msg {
            user.profile.status_msg.clone_from(msg);
        }
        if let Some(on) = self.read_receipts {
            user.profile.read_receipts = on;
        }
    }
}

const REQUIRED: &str = "This field is required.";

/// Validates a `POST /users/` body (`partial = false`) or a `PATCH` body (`partial = true`).
/// Every violation is reported at once, as a field map.
pub fn parse_changes(body: &Map<String, Value>, partial: bool) -> Result<UserChanges, FieldErrors> {
    let mut errors = Map::new();
    let mut changes = UserChanges::default();

    let text = |name: &str, max: usize, rule: TextRule, errors: &mut Map<String, Value>| match body.get(name)
    {
        None if partial || !rule.required => None,
        None => {
            errors.insert(name.into(), json!([REQUIRED]));
            None
        }
        Some(value) => match check_text(value, max, &rule) {
            Ok(v) => v,
            Err(msgs) => {
                errors.insert(name.into(), json!(msgs));
                None
            }
        },
    };
    changes.username = text("username", 150, TextRule::USERNAME, &mut errors);
    changes.password = text("password", 128, TextRule::PASSWORD, &mut errors);
    changes.first_name = text("first_name", 150, TextRule::NAME, &mut errors);
    changes.last_name = text("last_name", 150, TextRule::NAME, &mut errors);
    changes.email = text("email", 254, TextRule::EMAIL, &mut errors);

    match body.get("profile") {
        None if partial => {}
        None => {
            errors.insert("profile".into(), json!([REQUIRED]));
        }
        Some(Value::Object(profile)) => {
            let mut profile_errors = Map::new();
            match profile.get("status") {
                None | Some(Value::Null) => {}
                Some(Value::String(s)) if STATUSES.contains(&s.as_str()) => changes.status = Some(s.clone()),
                Some(other) => {
                    let shown = other.as_str().map(str::to_string).unwrap_or_else(|| other.to_string());
                    profile_errors
                        .insert("status".into(), json!([format!("\"{shown}\" is not a valid choice.")]));
                }
            }
            if let Some(value) = profile.get("status_msg") {
                match check_text(value, 255, &TextRule::STATUS_MSG) {
                    Ok(v) => changes.status_msg = Some(v),
                    Err(msgs) => {
                        profile_errors.insert("status_msg".into(), json!(msgs));
                    }
                }
            }
            match profile.get("read_receipts") {
                None => {}
                Some(Value::Bool(on)) => changes.read_receipts = Some(*on),
                Some(_) => {
                    profile_errors.insert("read_receipts".into(), json!(["Must be a valid boolean."]));
                }
            }
            if !profile_errors.is_empty() {
                errors.insert("profile".into(), Value::Object(profile_errors));
            }
        }
        Some(other) => {
            errors.insert(
                "profile".into(),
                json!({"non_field_errors": [format!("Invalid data. Expected a dictionary, but got {}.", type_name(other))]}),
            );
        }
    }

    if errors.is_empty() {
        Ok(changes)
    } else {
        Err(FieldErrors(errors))
    }
}

struct TextRule {
    required: bool,
    nullable: bool,
    blank: bool,
    trim: bool,
    check: fn(&str) -> Option<&'static str>,
}

impl TextRule {
    const USERNAME: TextRule =
        TextRule { required: true, nullable: false, blank: false, trim: true, check: username_error };
    const PASSWORD: TextRule =
        TextRule { required: true, nullable: false, blank: false, trim: false, check: no_error };
    const NAME: TextRule =
        TextRule { required: false, nullable: false, blank: true, trim: true, check: no_error };
    const EMAIL: TextRule =
        TextRule { required: false, nullable: false, blank: true, trim: true, check: email_error };
    const STATUS_MSG: TextRule =
        TextRule { required: false, nullable: true, blank: true, trim: true, check: no_error };
}

fn no_error(_: &str) -> Option<&'static str> {
    None
}

/// DRF's CharField: strings, and numbers as their text (`5` becomes `"5"`); anything else is an
/// error. `Ok(None)` is an accepted null.
fn check_text(value: &Value, max: usize, rule: &TextRule) -> Result<Option<String>, Vec<String>> {
    let raw = match value {
        Value::Null if rule.nullable => return Ok(None),
        Value::Null => return Err(vec!["This field may not be null.".into()]),
        Value::String(s) => s.clone(),
        Value::Number(n) => n.to_string(),
        _ => return Err(vec!["Not a valid string.".into()]),
    };
    let text = if rule.trim { raw.trim().to_string() } else { raw };
    if text.is_empty() {
        return if rule.blank { Ok(Some(text)) } else { Err(vec!["This field may not be blank.".into()]) };
    }
    if text.chars().any(|c| c == '\0') {
        return Err(vec!["Null characters are not allowed.".into()]);
    }
    let mut errors = Vec::new();
    if text.chars().count() > max {
        errors.push(format!("Ensure this field has no more than {max} characters."));
    }
    if let Some(e) = (rule.check)(&text) {
        errors.push(e.into());
    }
    if errors.is_empty() {
        Ok(Some(text))
    } else {
        Err(errors)
    }
}

fn username_error(name: &str) -> Option<&'static str> {
    let ok = name.chars().all(|c| c.is_alphanumeric() || "@.+-_".contains(c));
    (!ok).then_some(
        "Enter a valid username. This value may contain only letters, numbers, and @/./+/-/_ characters.",
    )
}

fn email_error(email: &str) -> Option<&'static str> {
    let valid = match email.rsplit_once('@') {
        Some((local, domain)) => {
            !local.is_empty()
                && !email.chars().any(|c| c.is_whitespace() || c.is_control())
                && domain.contains('.')
                && !domain.starts_with('.')
                && !domain.ends_with('.')
                && !domain.contains("..")
                && !local.contains('@')
        }
        None => false,
    };
    (!valid).then_some("Enter a valid email address.")
}

fn type_name(value: &Value) -> &'static str {
    match value {
        Value::Null => "NoneType",
        Value::Bool(_) => "bool",
        Value::Number(n) if n.is_f64() => "float",
        Value::Number(_) => "int",
        Value::String(_) => "str",
        Value::Array(_) => "list",
        Value::Object(_) => "dict",
    }
}

/// The exact-match filters of `GET /users/`.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct UserFilter {
    pub id: Option<u64>,
    pub username: Option<String>,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub status: Option<String>,
}

impl UserFilter {
    /// From the query string (`profile__status` is the status); `id` must be a positive whole
    /// number, like every id.
    pub fn parse(query: impl Fn(&str) -> Option<String>) -> Result<UserFilter, FieldErrors> {
        let id = match query("id") {
            None => None,
            Some(raw) => Some(
                crate::ids::parse_id(&raw)
                    .ok_or_else(|| FieldErrors::field("id", "Enter a positive whole number."))?,
            ),
        };
        Ok(UserFilter {
            id,
            username: query("username"),
            first_name: query("first_name"),
            last_name: query("last_name"),
            status: query("profile__status"),
        })
    }

    pub fn matches(&self, user: &User) -> bool {
        let is = |want: &Option<String>, have: &str| want.as_deref().is_none_or(|w| w == have);
        self.id.is_none_or(|id| id == user.id)
            && is(&self.username, &user.username)
            && is(&self.first_name, &user.first_name)
            && is(&self.last_name, &user.last_name)
            && is(&self.status, &user.profile.status)
    }

    /// The cache key of one page of these filters: every part, in a fixed order.
    pub fn cache_key(&self, page: PageRequest) -> String {
        let part = |v: &Option<String>| v.as_deref().map(|v| format!("{}:{v}", v.len())).unwrap_or_default();
        format!(
            "id={};u={};f={};l={};s={};limit={};after={}",
            self.id.map(|i| i.to_string()).unwrap_or_default(),
            part(&self.username),
            part(&self.first_name),
            part(&self.last_name),
            part(&self.status),
            page.limit,
            page.after
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn body(v: Value) -> Map<String, Value> {
        v.as_object().unwrap().clone()
    }

    #[test]
    fn create_requires_username_password_profile() {
        let FieldErrors(map) = parse_changes(&body(json!({})), false).unwrap_err();
        assert_eq!(
            Value::Object(map),
            json!({"username": [REQUIRED], "password": [REQUIRED], "profile": [REQUIRED]})
        );
    }

    #[test]
    fn numbers_become_text_and_status_defaults_are_left_to_the_caller() {
        let c = parse_changes(
            &body(json!({"username": "a", "password": "p", "profile": {"status_msg": 5}})),
            false,
        )
        .unwrap();
        assert_eq!(c.status_msg, Some(Some("5".into())));
        assert_eq!(c.status, None);
    }

    #[test]
    fn bad_fields_are_all_reported() {
        let err = parse_changes(
            &body(json!({"username": "no spaces", "password": "", "email": "x@", "profile": {"status": "Away"}})),
            false,
        )
        .unwrap_err();
        let FieldErrors(map) = err;
        assert!(map.contains_key("username") && map.contains_key("password") && map.contains_key("email"));
        assert_eq!(map["profile"], json!({"status": ["\"Away\" is not a valid choice."]}));
    }

    #[test]
    fn usernames_allow_letters_digits_and_symbols() {
        assert_eq!(username_error("user.name+tag@x_y-1"), None);
        assert_eq!(username_error("ünïcode"), None);
        assert!(username_error("semi;colon").is_some());
    }
}
