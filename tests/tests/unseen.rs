//! Unseen messages over HTTP: what `GET /chat/messages/unseen/` answers across rooms, and long
//! polling (`?wait=`): answered as soon as a message arrives, lasting its whole wait otherwise,
//! and going on (watching the new room) when its user is added to a room.

use e2e::*;
use serde_json::json;
use std::time::{Duration, Instant};

fn texts(messages: &serde_json::Value) -> Vec<String> {
    messages.as_array().unwrap().iter().map(|m| m["text"].as_str().unwrap().to_string()).collect()
}

#[tokio::test]
async fn unseen_spans_several_rooms_ordered_by_room() {
    let (a, na) = new_user("multi_a").await;
    let (b, nb) = new_user("multi_b").await;
    let (r1, _) = new_room(&[&na, &nb]).await;
    let (r2, _) = new_room(&[&na, &nb]).await;
    delivered_group(r2, a, "in two").await;
    delivered_group(r1, a, "in one").await;
    let direct = finished(&send_direct(a, b, "direct").await).await;
    let dm = direct["result"]["room"]["id"].as_u64().unwrap();
    let unseen = unseen_of(b).await;
    let rooms: Vec<u64> = unseen.as_array().unwrap().iter().map(|r| r["id"].as_u64().unwrap()).collect();
    assert_eq!(rooms, [r1, r2, dm]);
    assert_eq!(texts(&unseen[2]["messages"]), ["direct"]);
}

#[tokio::test]
async fn leaving_a_room_drops_its_unseen_messages() {
    let (a, na) = new_user("drop_a").await;
    let (b, nb) = new_user("drop_b").await;
    let (room, _) = new_room(&[&na, &nb]).await;
    delivered_group(room, a, "unread").await;
    assert_eq!(unseen_of(b).await.as_array().unwrap().len(), 1);
    assert_eq!(delete(&format!("/chat/chatroom/{room}/?user_id={b}")).await.status(), 204);
    assert_eq!(unseen_of(b).await, json!([]));
}

#[tokio::test]
async fn long_polling_returns_as_soon_as_a_message_arrives() {
    let (a, na) = new_user("poll_a").await;
    let (b, nb) = new_user("poll_b").await;
    let (room, _) = new_room(&[&na, &nb]).await;
    let started = Instant::now();
    let waiting =
        tokio::spawn(async move { get(&format!("/chat/messages/unseen/?user_id={b}&wait=20")).await });
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert!(!waiting.is_finished(), "nothing unseen yet, so the poll is still waiting");
    send_group(room, a, "wake up").await;
    let r = waiting.await.unwrap();
    let elapsed = started.elapsed();
    assert_eq!(r.status(), 200);
    assert_eq!(texts(&r.json["data"][0]["messages"]), ["wake up"]);
    assert!(elapsed < Duration::from_secs(15), "returned early, after {elapsed:?}");
}

#[tokio::test]
async fn long_polling_with_nothing_to_say_returns_an_empty_list_after_the_wait() {
    let (b, _) = new_user("idle").await;
    let started = Instant::now();
    let r = get(&format!("/chat/messages/unseen/?user_id={b}&wait=1")).await;
    assert_eq!(r.status(), 200);
    assert_eq!(r.json["data"], json!([]));
    assert!(started.elapsed() >= Duration::from_millis(900));
    assert_eq!(get(&format!("/chat/messages/unseen?user_id={b}&wait=0")).await.json["data"], json!([]));
}

/// Being added to a room is not an arrival: the poll goes on, watching the new room, and the
/// room's first message answers it within a second of its delivery.
async fn assert_answered_with(
    poll: tokio::task::JoinHandle<LongPoll>,
    room: u64,
    text: &str,
    delivered: Instant,
) {
    let answer = poll.await.unwrap();
    assert_eq!(answer.status, 200);
    assert_eq!(answer.data[0]["id"], room, "{}", answer.data);
    assert_eq!(texts(&answer.data[0]["messages"]), [text]);
    let late = answer.at.saturating_duration_since(delivered);
    assert!(late < Duration::from_secs(1), "answered {late:?} after the delivery");
}

#[tokio::test]
async fn a_long_poll_gets_a_new_correspondent_s_first_message() {
    // Bob waits with no rooms at all; Ann's first direct message makes their room, then arrives.
    let (a, _) = new_user("first_dm_a").await;
    let (b, _) = new_user("first_dm_b").await;
    let waiting = long_poll(b, 15);
    tokio::time::sleep(Duration::from_millis(500)).await;
    let task = finished(&send_direct(a, b, "hi").await).await;
    let delivered = Instant::now();
    let room = task["result"]["room"]["id"].as_u64().unwrap();
    assert_answered_with(waiting, room, "hi", delivered).await;
}

#[tokio::test]
async fn a_long_poll_goes_on_when_a_room_is_made_with_its_user_and_gets_its_first_message() {
    let (a, na) = new_user("made_a").await;
    let (b, nb) = new_user("made_b").await;
    let waiting = long_poll(b, 15);
    tokio::time::sleep(Duration::from_millis(500)).await;
    let (room, _) = new_room(&[&na, &nb]).await;
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert!(!waiting.is_finished(), "being added to a room ended the poll");
    delivered_group(room, a, "welcome").await;
    assert_answered_with(waiting, room, "welcome", Instant::now()).await;
}

#[tokio::test]
async fn a_long_poll_goes_on_when_its_user_joins_a_room_and_gets_its_next_message() {
    let (a, na) = new_user("joined_a").await;
    let (b, nb) = new_user("joined_b").await;
    let (mine, _) = new_room(&[&nb]).await;
    let (other, _) = new_room(&[&na]).await;
    delivered_group(other, a, "before the join").await;
    let waiting = long_poll(b, 15);
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(put(&format!("/chat/chatroom/{other}/?user_id={b}"), None).await.status(), 200);
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert!(!waiting.is_finished(), "joining a room ended the poll");
    delivered_group(other, a, "after the join").await;
    assert_answered_with(waiting, other, "after the join", Instant::now()).await;
    // The rooms it watched before still answer too (once the answer above moved the read
    // position, asynchronously: until then a poll answers the same message again).
    until_nothing_unseen(b).await;
    let waiting = long_poll(b, 15);
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(put(&format!("/chat/chatroom/{mine}/?user_id={a}"), None).await.status(), 200);
    delivered_group(mine, a, "in the old room").await;
    assert_answered_with(waiting, mine, "in the old room", Instant::now()).await;
}

#[tokio::test]
async fn a_long_poll_with_nothing_arriving_lasts_its_whole_wait_through_a_join() {
    let (_, na) = new_user("quiet_a").await;
    let (b, _) = new_user("quiet_b").await;
    let (room, _) = new_room(&[&na]).await;
    let started = Instant::now();
    let waiting = long_poll(b, 4);
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(put(&format!("/chat/chatroom/{room}/?user_id={b}"), None).await.status(), 200);
    let answer = waiting.await.unwrap();
    assert_eq!((answer.status, answer.data), (200, json!([])));
    assert!(answer.at - started >= Duration::from_millis(3900), "ended after {:?}", answer.at - started);
}

#[tokio::test]
async fn unseen_errors() {
    assert_error(&get("/chat/messages/unseen/").await, 400);
    assert_error(&get("/chat/messages/unseen/?user_id=abc").await, 400);
    assert_error(&get("/chat/messages/unseen/?user_id=999999999").await, 404);
    for wait in ["21", "-1", "x", "1.5"] {
        assert_error(&get(&format!("/chat/messages/unseen/?user_id=1&wait={wait}")).await, 400);
    }
}
