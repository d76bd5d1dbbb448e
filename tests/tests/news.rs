//! Unread state and mentions (API.md, "Live room state"), through the running stack: messages
//! carry the members they mention, and every room of a user's list its newest message, whether
//! it has news for them and how many unread messages mention them.

use e2e::*;
use serde_json::{json, Value};
use std::time::Duration;

fn named(id: u64, username: &str) -> Value {
    json!({"id": id, "username": username})
}

/// The rooms of `GET /chat/chatroom/?user_id=N` by id (one page of up to `limit`).
async fn listed(user: u64, limit: usize) -> Vec<Value> {
    let r = get(&format!("/chat/chatroom/?user_id={user}&limit={limit}")).await;
    assert_eq!(r.status(), 200, "{}", r.text);
    r.json["data"].as_array().unwrap().clone()
}

async fn listed_room(user: u64, room: u64) -> Value {
    let rooms = listed(user, 200).await;
    rooms.into_iter().find(|r| r["id"] == room).unwrap_or_else(|| panic!("room {room} not listed"))
}

/// Polls the user's listing of a room until `done` holds (the seen marking is asynchronous).
async fn listed_until(user: u64, room: u64, done: impl Fn(&Value) -> bool) -> Value {
    for _ in 0..100 {
        let shown = listed_room(user, room).await;
        if done(&shown) {
            return shown;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("room {room} as user {user} lists it: {}", listed_room(user, room).await)
}

#[tokio::test]
async fn messages_carry_the_members_they_mention() {
    let (a, na) = new_user("mention_a").await;
    let (b, nb) = new_user("mention_b").await;
    let (c, nc) = new_user("mention_c").await;
    let (_, nd) = new_user("mention_outsider").await;
    let (room, _) = new_room(&[&na, &nb, &nc]).await;
    let text = format!("@{nc} and @{nb}, not @{nd} nor mail{na}@x.org; @{nb} again.");
    let sent = delivered_group(room, a, &text).await;
    assert_eq!(sent["mentions"], json!([named(c, &nc), named(b, &nb)]), "{sent}");
    let history = all_messages(room, b).await;
    assert_eq!(history.last().unwrap()["mentions"], sent["mentions"]);
    let plain = delivered_group(room, a, "nobody here").await;
    assert_eq!(plain["mentions"], json!([]));
    // An edit names whom its new text names; a deletion erases them with the text.
    let id = sent["id"].as_u64().unwrap();
    let r =
        patch(&format!("/chat/messages/{room}/{id}/?user_id={a}"), json!({"text": format!("only @{na}")}))
            .await;
    assert_eq!(r.status(), 200, "{}", r.text);
    assert_eq!(r.json["data"]["mentions"], json!([named(a, &na)]));
    let r = delete(&format!("/chat/messages/{room}/{id}/?user_id={a}")).await;
    assert_eq!(r.status(), 204, "{}", r.text);
    let gone = all_messages(room, b).await.into_iter().find(|m| m["id"] == id).unwrap();
    assert_eq!(gone["mentions"], json!([]), "{gone}");
    // A direct message mentions its recipient.
    let task = finished(&send_direct(a, b, &format!("hey @{nb}")).await).await;
    assert_eq!(task["result"]["mentions"], json!([named(b, &nb)]), "{task}");
}

#[tokio::test]
async fn a_user_s_rooms_show_their_news_until_read() {
    let (a, na) = new_user("news_a").await;
    let (b, nb) = new_user("news_b").await;
    let (room, _) = new_room(&[&na, &nb]).await;
    let quiet = listed_room(b, room).await;
    assert_eq!(
        (quiet["last_message"].clone(), quiet["unread"].clone(), quiet["mentions"].clone()),
        (Value::Null, json!(false), json!(0))
    );
    // Two messages from a, one naming b; the newest shows its first 100 characters.
    delivered_group(room, a, &format!("look @{nb}")).await;
    let long = "é".repeat(150);
    let newest = delivered_group(room, a, &long).await;
    let shown = listed_room(b, room).await;
    assert_eq!(
        shown["last_message"],
        json!({"id": newest["id"], "msg_from": named(a, &na), "text": "é".repeat(100), "sent_at": newest["sent_at"], "deleted": false})
    );
    assert_eq!((shown["unread"].clone(), shown["mentions"].clone()), (json!(true), json!(1)));
    // The sender has no news in it, nor mentions.
    let own = listed_room(a, room).await;
    assert_eq!((own["unread"].clone(), own["mentions"].clone()), (json!(false), json!(0)));
    // Reading the history moves b's position: no news, no mentions.
    all_messages(room, b).await;
    listed_until(b, room, |r| r["unread"] == false && r["mentions"] == 0).await;
    // An edit and a deletion of the newest message show in the list.
    let id = newest["id"].as_u64().unwrap();
    let r = patch(&format!("/chat/messages/{room}/{id}/?user_id={a}"), json!({"text": "short now"})).await;
    assert_eq!(r.status(), 200, "{}", r.text);
    assert_eq!(listed_room(b, room).await["last_message"]["text"], "short now");
    let r = delete(&format!("/chat/messages/{room}/{id}/?user_id={a}")).await;
    assert_eq!(r.status(), 204, "{}", r.text);
    let last = listed_room(b, room).await["last_message"].clone();
    assert_eq!(
        (last["id"].clone(), last["text"].clone(), last["deleted"].clone()),
        (json!(id), json!(""), json!(true))
    );
    // b's own newest message is no news to b.
    delivered_group(room, b, "mine").await;
    assert_eq!(listed_room(b, room).await["unread"], false);
    assert_eq!(listed_room(a, room).await["unread"], true);
}

#[tokio::test]
async fn unread_mentions_follow_edits_and_deletions() {
    let (a, na) = new_user("remention_a").await;
    let (b, nb) = new_user("remention_b").await;
    let (c, nc) = new_user("remention_c").await;
    let (room, _) = new_room(&[&na, &nb, &nc]).await;
    let id = delivered_group(room, a, &format!("hey @{nb}")).await["id"].as_u64().unwrap();
    let mentions = |user: u64| async move { listed_room(user, room).await["mentions"].clone() };
    assert_eq!((mentions(b).await, mentions(c).await), (json!(1), json!(0)));
    // An edit that names c instead of b moves the unread mention.
    let r = patch(&format!("/chat/messages/{room}/{id}/?user_id={a}"), json!({"text": format!("hey @{nc}")}))
        .await;
    assert_eq!(r.status(), 200, "{}", r.text);
    assert_eq!((mentions(b).await, mentions(c).await), (json!(0), json!(1)));
    // A deletion takes it back.
    let r = delete(&format!("/chat/messages/{room}/{id}/?user_id={a}")).await;
    assert_eq!(r.status(), 204, "{}", r.text);
    assert_eq!((mentions(b).await, mentions(c).await), (json!(0), json!(0)));
}

#[tokio::test]
async fn a_page_of_a_hundred_rooms_shows_the_news_of_each() {
    let (a, na) = new_user("page_news_a").await;
    let (b, nb) = new_user("page_news_b").await;
    let rooms: Vec<u64> = concurrently((0..100).map(|_| {
        let (na, nb) = (na.clone(), nb.clone());
        async move { new_room(&[&na, &nb]).await.0 }
    }))
    .await;
    // News in 60 of them, about half of those with mentions of b.
    let sends = rooms.iter().enumerate().filter(|(i, _)| i % 5 < 3).map(|(i, &room)| {
        // Mentions of b: none in odd rooms, two messages in every third even one, else one.
        let mentions = match (i % 2, i % 3) {
            (1, _) => 0,
            (_, 0) => 2,
            _ => 1,
        };
        let text = if mentions == 0 { "news".to_string() } else { format!("hi @{nb}") };
        async move {
            for _ in 0..mentions.max(1) {
                assert_eq!(finished(&send_group(room, a, &text).await).await["state"], "SUCCESS");
            }
            (room, mentions)
        }
    });
    let expected: std::collections::HashMap<u64, u64> = concurrently(sends).await.into_iter().collect();
    let page = listed(b, 100).await;
    assert_eq!(page.len(), 100);
    for shown in &page {
        let room = shown["id"].as_u64().unwrap();
        let mentions = expected.get(&room).copied().unwrap_or(0);
        assert_eq!(shown["unread"], expected.contains_key(&room), "{shown}");
        assert_eq!(shown["mentions"], mentions, "{shown}");
        assert_eq!(shown["last_message"].is_null(), !expected.contains_key(&room), "{shown}");
    }
    assert!(expected.values().filter(|&&m| m > 0).count() >= 20, "{expected:?}");
}
