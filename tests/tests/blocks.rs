//! Blocks between users and send limits (API.md "Rooms with owners"), through the running
//! stack. The limits are checked on the token-mode copy of the API, which runs with the
//! contract's 10 sends per room and 30 in all per 10 seconds (the rest of the suite sends
//! faster than that).

use e2e::*;
use reqwest::Method;
use serde_json::{json, Value};
use std::time::Duration;

#[tokio::test]
async fn a_blocked_user_s_direct_messages_are_refused_at_once_and_store_nothing() {
    let (a, _) = new_user("blk_a").await;
    let (b, nb) = new_user("blk_b").await;
    let r = put(&format!("/users/{a}/blocks/{b}/"), None).await;
    assert_eq!((r.status(), &r.json["username"]), (200, &json!(nb)), "{}", r.text);
    let refused = post(&format!("/chat/user/{a}/"), json!({"from": b, "text": "let me in"})).await;
    assert_error(&refused, 403);
    let rooms = get(&format!("/chat/chatroom/?user_id={b}")).await;
    assert_eq!(rooms.json["data"], json!([]), "no direct room was opened");
    // Nor through the pair's room by its id, once it exists.
    let room = finished(&send_direct(a, b, "opening").await).await["result"]["room"]["id"].as_u64().unwrap();
    assert_error(&post(&format!("/chat/group/{room}/"), json!({"from": b, "text": "sneaky"})).await, 403);
    // The blocker may still write; the list shows the block; lifting it lets b write again.
    assert_eq!(post(&format!("/chat/user/{b}/"), json!({"from": a, "text": "one way"})).await.status(), 202);
    assert_eq!(
        post(&format!("/chat/group/{room}/"), json!({"from": a, "text": "and back"})).await.status(),
        202
    );
    let list = get(&format!("/users/{a}/blocks/")).await;
    assert_eq!(list.json.as_array().map(|l| l.len()), Some(1), "{}", list.text);
    assert_eq!(list.json[0]["id"], b);
    assert_eq!(delete(&format!("/users/{a}/blocks/{b}/")).await.status(), 204);
    assert_eq!(delete(&format!("/users/{a}/blocks/{b}/")).await.status(), 204, "again");
    assert_eq!(post(&format!("/chat/user/{a}/"), json!({"from": b, "text": "thanks"})).await.status(), 202);
    assert_eq!(get(&format!("/users/{a}/blocks/")).await.json, json!([]));
    // Errors in the /users/ style.
    assert_eq!(put(&format!("/users/{a}/blocks/{a}/"), None).await.status(), 400);
    let unknown = put(&format!("/users/{a}/blocks/999999999/"), None).await;
    assert_eq!((unknown.status(), &unknown.json), (404, &json!({"detail": "Not found."})));
    assert_eq!(get("/users/999999999/blocks/").await.status(), 404);
}

fn token_api() -> String {
    std::env::var("TOKEN_API_URL").expect("TOKEN_API_URL is set by scripts/test")
}

async fn access_token(name: &str) -> String {
    let body = json!({"username": name, "password": "Passw0rd!"});
    let r = request_to(&token_api(), Method::POST, "/auth/token/", Some(Body::Json(body)), None).await;
    r.json["access"].as_str().expect("signed in").to_string()
}

async fn send(token: &str, room: u64, text: &str) -> Reply {
    let body = Some(Body::Json(json!({"text": text})));
    request_to(&token_api(), Method::POST, &format!("/chat/group/{room}/"), body, Some(token)).await
}

#[tokio::test]
async fn the_eleventh_send_into_a_room_within_ten_seconds_is_a_429_that_queues_nothing() {
    let (a, na) = new_user("limit").await;
    let (room, _) = new_room(&[&na]).await;
    let (other, _) = new_room(&[&na]).await;
    let token = access_token(&na).await;
    for i in 0..10 {
        assert_eq!(send(&token, room, &format!("m{i}")).await.status(), 202, "send {i}");
    }
    let over = send(&token, room, "too many").await;
    assert_error(&over, 429);
    let wait: u64 = over.retry_after.as_deref().and_then(|s| s.parse().ok()).expect("Retry-After");
    assert!((1..=10).contains(&wait), "{wait}");
    // Another room still takes messages: the limit is per room (and 30 in all).
    assert_eq!(send(&token, other, "elsewhere").await.status(), 202);
    tokio::time::sleep(Duration::from_secs(wait + 1)).await;
    assert_eq!(send(&token, room, "later").await.status(), 202);
    tokio::time::sleep(Duration::from_secs(2)).await;
    let texts: Vec<Value> = all_messages(room, a).await.iter().map(|m| m["text"].clone()).collect();
    assert!(!texts.contains(&json!("too many")), "the refused send was not queued: {texts:?}");
    assert_eq!(texts.len(), 11);
}
