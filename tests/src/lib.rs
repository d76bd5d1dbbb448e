//! Helpers for the end-to-end tests in `tests/tests/`: an HTTP client for the stack that
//! `scripts/test` starts (its address comes in `API_URL`), and small builders of test data.
//! Every test makes its own users and rooms with unique names, so tests run in parallel.

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

/// Base URL of the API under test.
pub fn api_url() -> String {
    std::env::var("API_URL").expect("API_URL is not set: run the end-to-end tests with scripts/test")
}

/// A response: status, the `x-cache` header if any, raw body and its JSON (Null if none).
#[derive(Debug)]
pub struct Reply {
    pub status: StatusCode,
    pub cache: Option<String>,
    pub content_type: Option<String>,
    pub text: String,
    pub json: Value,
}

impl Reply {
    pub fn status(&self) -> u16 {
        self.status.as_u16()
    }
}

pub async fn request(method: Method, path: &str, body: Option<Body>) -> Reply {
    let client = reqwest::Client::new();
    let mut req = client.request(method, format!("{}{}", api_url(), path));
    match body {
        Some(Body::Json(v)) => req = req.header("content-type", "application/json").body(v.to_string()),
        Some(Body::Raw(s)) => req = req.header("content-type", "application/json").body(s),
        None => {}
    }
    let res = req.send().await.expect("the API answers");
    let status = res.status();
    let header = |name: &str| res.headers().get(name).map(|v| v.to_str().unwrap().to_string());
    let cache = header("x-cache");
    let content_type = header("content-type");
    let text = res.text().await.unwrap();
    let json = if text.is_empty() { Value::Null } else { serde_json::from_str(&text).unwrap_or(Value::Null) };
    Reply { status, cache, content_type, text, json }
}

pub enum Body {
    Json(Value),
    Raw(String),
}

pub async fn get(path: &str) -> Reply {
    request(Method::GET, path, None).await
}

pub async fn post(path: &str, body: Value) -> Reply {
    request(Method::POST, path, Some(Body::Json(body))).await
}

pub async fn post_raw(path: &str, body: impl Into<String>) -> Reply {
    request(Method::POST, path, Some(Body::Raw(body.into()))).await
}

pub async fn patch(path: &str, body: Value) -> Reply {
    request(Method::PATCH, path, Some(Body::Json(body))).await
}

pub async fn put(path: &str, body: Option<Value>) -> Reply {
    request(Method::PUT, path, body.map(Body::Json)).await
}

pub async fn delete(path: &str) -> Reply {
    request(Method::DELETE, path, None).await
}

/// A username no other test uses.
pub fn unique(prefix: &str) -> String {
    format!("{prefix}_{}", &uuid::Uuid::new_v4().simple().to_string()[..12])
}

/// Creates a user with a unique name; returns (id, username).
pub async fn new_user(prefix: &str) -> (u64, String) {
    let name = unique(prefix);
    let r = post("/users/", json!({"username": name, "password": "Passw0rd!", "profile": {}})).await;
    assert_eq!(r.status(), 201, "creating {name}: {}", r.text);
    (r.json["id"].as_u64().unwrap(), name)
}

/// Creates a group room with a unique name and these members; returns (id, name).
pub async fn new_room(members: &[&str]) -> (u64, String) {
    let name = unique("room");
    let room_member: Vec<Value> = members.iter().map(|m| json!({"username": m})).collect();
    let r = post("/chat/chatroom/", json!({"room_name": name, "room_member": room_member})).await;
    assert_eq!(r.status(), 201, "creating {name}: {}", r.text);
    (r.json["data"]["id"].as_u64().unwrap(), name)
}

/// Checks the chat envelope of an error: `{"status": <http status>, "msg": "<text>"}`.
pub fn assert_error(r: &Reply, status: u16) {
    assert_eq!(r.status(), status, "{}", r.text);
    assert_eq!(r.json["status"], status, "envelope status equals HTTP status: {}", r.text);
    assert!(r.json["msg"].as_str().is_some_and(|m| !m.is_empty()), "readable msg: {}", r.text);
}

/// Usernames of a room's `room_member`, sorted.
pub fn member_names(room: &Value) -> Vec<String> {
    let mut names: Vec<String> = room["room_member"]
        .as_array()
        .unwrap_or_else(|| panic!("room_member in {room}"))
        .iter()
        .map(|m| m["username"].as_str().unwrap().to_string())
        .collect();
    names.sort();
    names
}

/// Runs requests concurrently and returns their replies in order.
pub async fn concurrently<F>(requests: impl IntoIterator<Item = F>) -> Vec<Reply>
where
    F: std::future::Future<Output = Reply> + Send + 'static,
{
    let handles: Vec<_> = requests.into_iter().map(tokio::spawn).collect();
    let mut replies = Vec::new();
    for handle in handles {
        replies.push(handle.await.expect("request task"));
    }
    replies
}
