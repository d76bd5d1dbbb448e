//! Reactions and retry-safe sends (API.md "Message lifecycle"), through the running stack:
//! counts with `me` per reader, idempotent toggles, what an emoji may be, the 20-emoji cap, a
//! storm of concurrent reactions, and `Idempotency-Key`s under concurrent retries.

use e2e::*;
use reqwest::Method;
use serde_json::{json, Value};

const THUMBS: &str = "%F0%9F%91%8D";

fn reaction_path(room: u64, id: u64, emoji: &str, user: u64) -> String {
    format!("/chat/messages/{room}/{id}/reactions/{emoji}/?user_id={user}")
}

async fn reactions_seen_by(room: u64, id: u64, reader: u64) -> Value {
    let all = all_messages(room, reader).await;
    all.into_iter().find(|m| m["id"] == id).expect("the message")["reactions"].clone()
}

/// A room of `n` new users with a message of the first delivered: (room, users, message id).
async fn room_of(n: usize) -> (u64, Vec<u64>, u64) {
    let mut users = Vec::new();
    let mut names = Vec::new();
    for _ in 0..n {
        let (id, name) = new_user("react").await;
        users.push(id);
        names.push(name);
    }
    let refs: Vec<&str> = names.iter().map(String::as_str).collect();
    let (room, _) = new_room(&refs).await;
    let m = delivered_group(room, users[0], "react to me").await;
    (room, users, m["id"].as_u64().unwrap())
}

#[tokio::test]
async fn reactions_count_per_emoji_in_first_use_order_with_me_for_each_reader() {
    let (room, u, id) = room_of(3).await;
    let r = put(&reaction_path(room, id, THUMBS, u[1]), None).await;
    assert_eq!(r.status(), 200, "{}", r.text);
    assert_eq!(r.json["data"], json!([{"emoji": "👍", "count": 1, "me": true}]));
    // A second PUT changes nothing; the other slash form answers the same.
    let again = put(&format!("/chat/messages/{room}/{id}/reactions/{THUMBS}?user_id={}", u[1]), None).await;
    assert_eq!(again.json["data"], r.json["data"]);
    put(&reaction_path(room, id, ":party_parrot:", u[2]), None).await;
    put(&reaction_path(room, id, THUMBS, u[2]), None).await;
    assert_eq!(
        reactions_seen_by(room, id, u[1]).await,
        json!([{"emoji": "👍", "count": 2, "me": true}, {"emoji": ":party_parrot:", "count": 1, "me": false}])
    );
    assert_eq!(reactions_seen_by(room, id, u[0]).await[0]["me"], false);
    // Taking one back: 204, again 204; an emoji nobody uses any more leaves the list.
    for _ in 0..2 {
        let r = delete(&reaction_path(room, id, ":party_parrot:", u[2])).await;
        assert_eq!((r.status(), r.text.as_str()), (204, ""));
    }
    assert_eq!(reactions_seen_by(room, id, u[2]).await, json!([{"emoji": "👍", "count": 2, "me": true}]));
    let task = finished(&send_group(room, u[0], "unrelated").await).await;
    assert_eq!(task["result"]["reactions"], json!([]));
}

#[tokio::test]
async fn an_emoji_is_one_emoji_or_a_short_name_and_a_message_holds_20() {
    let (room, u, id) = room_of(2).await;
    for ok in
        ["%F0%9F%91%A9%E2%80%8D%F0%9F%92%BB", "%F0%9F%87%AB%F0%9F%87%B7", "%F0%9F%91%8D%F0%9F%8F%BD", ":a:"]
    {
        assert_eq!(put(&reaction_path(room, id, ok, u[1]), None).await.status(), 200, "{ok}");
    }
    let long = format!(":{}:", "a".repeat(33));
    for bad in ["ab", "%F0%9F%91%8D%F0%9F%91%8D", ":Big:", "%3Cb%3E", "%FF", "%20", long.as_str()] {
        assert_error(&put(&reaction_path(room, id, bad, u[1]), None).await, 400);
        assert_error(&delete(&reaction_path(room, id, bad, u[1])).await, 400);
    }
    for i in 4..20 {
        assert_eq!(put(&reaction_path(room, id, &format!(":e{i}:"), u[1]), None).await.status(), 200);
    }
    assert_error(&put(&reaction_path(room, id, ":one_too_many:", u[0]), None).await, 409);
    assert_eq!(
        put(&reaction_path(room, id, ":e4:", u[0]), None).await.status(),
        200,
        "a used emoji still takes users"
    );
    assert_eq!(reactions_seen_by(room, id, u[0]).await.as_array().unwrap().len(), 20);
}

#[tokio::test]
async fn only_members_react_and_a_deleted_message_takes_none() {
    let (room, u, id) = room_of(2).await;
    let (stranger, _) = new_user("react_x").await;
    assert_error(&put(&reaction_path(room, id, THUMBS, stranger), None).await, 403);
    assert_error(&delete(&reaction_path(room, id, THUMBS, stranger)).await, 403);
    assert_error(&put(&reaction_path(room, id + 1, THUMBS, u[1]), None).await, 404);
    assert_error(&put(&reaction_path(room + 1_000_000, id, THUMBS, u[1]), None).await, 404);
    assert_error(&put(&format!("/chat/messages/{room}/{id}/reactions/{THUMBS}/"), None).await, 400);
    assert_eq!(reactions_seen_by(room, id, u[0]).await, json!([]), "nothing changed");
    put(&reaction_path(room, id, THUMBS, u[1]), None).await;
    assert_eq!(delete(&format!("/chat/messages/{room}/{id}/?user_id={}", u[0])).await.status(), 204);
    assert_error(&put(&reaction_path(room, id, THUMBS, u[1]), None).await, 409);
    assert_eq!(delete(&reaction_path(room, id, THUMBS, u[1])).await.status(), 204);
}

#[tokio::test]
async fn a_storm_of_20_users_reacting_at_once_gives_exact_counts() {
    let (room, u, id) = room_of(20).await;
    let puts = u.iter().map(|&user| async move {
        let a = put(&reaction_path(room, id, THUMBS, user), None).await.status();
        let b = put(&reaction_path(room, id, ":fire:", user), None).await.status();
        (a, b)
    });
    let statuses = concurrently(puts).await;
    assert!(statuses.iter().all(|&s| s == (200, 200)), "{statuses:?}");
    let counts =
        |v: &Value| v.as_array().unwrap().iter().map(|r| r["count"].as_u64().unwrap()).collect::<Vec<_>>();
    assert_eq!(counts(&reactions_seen_by(room, id, u[0]).await), [20, 20]);
    // Half take the thumbs back, at once.
    let deletes = u
        .iter()
        .step_by(2)
        .map(|&user| async move { delete(&reaction_path(room, id, THUMBS, user)).await.status() });
    assert!(concurrently(deletes).await.iter().all(|&s| s == 204));
    let now = reactions_seen_by(room, id, u[1]).await;
    assert_eq!(counts(&now), [10, 20]);
    assert_eq!(now[0]["me"], true, "u[1] kept its thumbs");
    assert_eq!(reactions_seen_by(room, id, u[0]).await[0]["me"], false);
}

/// A group send with an `Idempotency-Key`.
async fn keyed_send(room: u64, from: u64, text: &str, key: &str) -> Reply {
    let body = json!({"from": from, "text": text});
    request_with(
        &api_url(),
        Method::POST,
        &format!("/chat/group/{room}/"),
        Some(Body::Json(body)),
        None,
        &[("Idempotency-Key", key)],
    )
    .await
}

#[tokio::test]
async fn five_concurrent_sends_with_one_key_store_one_message_under_one_task() {
    let (room, u, _) = room_of(2).await;
    let key = uuid::Uuid::new_v4().to_string();
    let sender = u[1];
    let sends = (0..5).map(|_| {
        let key = key.clone();
        async move { keyed_send(room, sender, "once only", &key).await }
    });
    let replies = concurrently(sends).await;
    let tasks: Vec<&Value> = replies.iter().map(|r| &r.json["data"]).collect();
    assert!(
        replies.iter().all(|r| r.status() == 202),
        "{:?}",
        replies.iter().map(|r| &r.text).collect::<Vec<_>>()
    );
    assert!(tasks.iter().all(|t| *t == tasks[0]), "{tasks:?}");
    assert_eq!(finished(tasks[0].as_str().unwrap()).await["state"], "SUCCESS");
    // A late retry after delivery answers the same task too.
    assert_eq!(&keyed_send(room, u[1], "once only", &key).await.json["data"], tasks[0]);
    let stored = all_messages(room, u[0]).await.iter().filter(|m| m["text"] == "once only").count();
    assert_eq!(stored, 1);
    // The same key with another text is a 422 naming the key; another user's same key is theirs.
    let other = keyed_send(room, u[1], "something else", &key).await;
    assert_error(&other, 422);
    assert!(other.json["msg"].as_str().unwrap().contains(&key), "{}", other.text);
    let theirs = keyed_send(room, u[0], "once only", &key).await;
    assert_eq!(theirs.status(), 202);
    assert_ne!(&theirs.json["data"], tasks[0]);
}

#[tokio::test]
async fn a_refused_send_gives_its_key_back_and_bad_keys_are_400s() {
    let (room, u, _) = room_of(1).await;
    let (outsider, name) = new_user("react_o").await;
    let key = uuid::Uuid::new_v4().to_string();
    assert_error(&keyed_send(room, outsider, "let me in", &key).await, 403);
    assert_eq!(
        put(&format!("/chat/chatroom/{room}/?user_id={outsider}"), None).await.status(),
        200,
        "{name}"
    );
    let r = keyed_send(room, outsider, "let me in", &key).await;
    assert_eq!(r.status(), 202, "the key was given back: {}", r.text);
    assert_eq!(finished(r.json["data"].as_str().unwrap()).await["state"], "SUCCESS");
    let long = "k".repeat(65);
    for bad in ["", "a b", "a/b", long.as_str()] {
        assert_error(&keyed_send(room, u[0], "x", bad).await, 400);
    }
    let sent = all_messages(room, u[0]).await.iter().filter(|m| m["text"] == "x").count();
    assert_eq!(sent, 0, "a bad key sends nothing");
}
