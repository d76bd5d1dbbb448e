//! Read receipts (API.md, "Live room state"), through the running stack: how far each member
//! has read in a member's view of the room, `read` frames to the others' WebSocket connections
//! when a position moves, and `profile.read_receipts: false` hiding both.

use e2e::ws::*;
use e2e::*;
use serde_json::{json, Value};
use std::time::{Duration, Instant};

/// `read_to` of each member (by username) in `viewer`'s view of the room.
async fn read_to(room: u64, viewer: u64) -> Vec<(String, Value)> {
    let r = get(&format!("/chat/chatroom/{room}/?user_id={viewer}")).await;
    assert_eq!(r.status(), 200, "{}", r.text);
    let members = r.json["data"]["room_member"].as_array().unwrap().clone();
    members.iter().map(|m| (m["username"].as_str().unwrap().to_string(), m["read_to"].clone())).collect()
}

/// Polls the view until `done` holds (the seen marking is asynchronous).
async fn read_to_until(
    room: u64,
    viewer: u64,
    done: impl Fn(&[(String, Value)]) -> bool,
) -> Vec<(String, Value)> {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let shown = read_to(room, viewer).await;
        if done(&shown) {
            return shown;
        }
        assert!(Instant::now() < deadline, "room {room} still shows {shown:?}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test]
async fn members_see_how_far_each_has_read_and_hear_when_it_moves() {
    let (a, na) = new_user("receipt_a").await;
    let (b, nb) = new_user("receipt_b").await;
    let (room, _) = new_room(&[&na, &nb]).await;
    assert_eq!(read_to(room, a).await, [(na.clone(), Value::Null), (nb.clone(), Value::Null)]);
    let mut sa = connect(a).await;
    let mut sb = connect(b).await;
    let first = delivered_group(room, a, "seen yet?").await["id"].as_u64().unwrap();
    // b reads the history: a hears of it, b does not hear of their own move.
    all_messages(room, b).await;
    let frame = frame_where(&mut sa, "read", Duration::from_secs(5), |_| true).await;
    assert_eq!(frame["data"], json!({"room": room, "user": {"id": b, "username": nb}, "read_to": first}));
    let shown = read_to_until(room, a, |s| s[1].1 == first).await;
    assert_eq!(shown, [(na.clone(), Value::Null), (nb.clone(), json!(first))]);
    // Unseen reads move it too.
    let second = delivered_group(room, a, "and now?").await["id"].as_u64().unwrap();
    unseen_of(b).await;
    frame_where(&mut sa, "read", Duration::from_secs(5), |d| d["read_to"] == second).await;
    let own = tokio::time::timeout(
        Duration::from_millis(800),
        frame_where(&mut sb, "read", Duration::from_secs(5), |_| true),
    );
    assert!(own.await.is_err(), "no frame of one's own move");
}

#[tokio::test]
async fn read_receipts_turned_off_hide_the_position_and_its_frames() {
    let (a, na) = new_user("private_reader_a").await;
    let (b, nb) = new_user("private_reader_b").await;
    let (room, _) = new_room(&[&na, &nb]).await;
    let first = delivered_group(room, a, "one").await["id"].as_u64().unwrap();
    all_messages(room, b).await;
    read_to_until(room, a, |s| s[1].1 == first).await;
    // Not a boolean: a field error, nothing changed.
    let r = patch(&format!("/users/{b}/"), json!({"profile": {"read_receipts": "no"}})).await;
    assert_eq!(r.status(), 400, "{}", r.text);
    assert_eq!(r.json, json!({"profile": {"read_receipts": ["Must be a valid boolean."]}}));
    assert_eq!(read_to(room, a).await[1].1, json!(first));
    let r = patch(&format!("/users/{b}/"), json!({"profile": {"read_receipts": false}})).await;
    assert_eq!(r.status(), 200, "{}", r.text);
    assert_eq!(r.json["profile"]["read_receipts"], false);
    assert_eq!(read_to(room, a).await, [(na.clone(), Value::Null), (nb.clone(), Value::Null)]);
    // b reads on: a hears nothing and sees nothing, though b's position moved.
    let mut sa = connect(a).await;
    let second = delivered_group(room, a, "two").await["id"].as_u64().unwrap();
    all_messages(room, b).await;
    until_nothing_unseen(b).await;
    // (A frame of b's earlier move may still be on its way; none of this one.)
    let heard = tokio::time::timeout(
        Duration::from_millis(1500),
        frame_where(&mut sa, "read", Duration::from_secs(5), |d| d["read_to"] == second),
    );
    assert!(heard.await.is_err(), "no read frame for b's move");
    assert_eq!(read_to(room, a).await[1].1, Value::Null);
    // On again: the next move shows.
    let r = patch(&format!("/users/{b}/"), json!({"profile": {"read_receipts": true}})).await;
    assert_eq!(r.status(), 200, "{}", r.text);
    let third = delivered_group(room, a, "three").await["id"].as_u64().unwrap();
    all_messages(room, b).await;
    frame_where(&mut sa, "read", Duration::from_secs(5), |d| d["read_to"] == third).await;
    assert_eq!(read_to_until(room, a, |s| s[1].1 == third).await[1].1, json!(third));
}
