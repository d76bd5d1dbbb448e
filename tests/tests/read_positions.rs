//! Seen state as read positions (API.md "Seen state: read positions"): a position per member
//! and room that moves forward to the newest message read, never backward; and no message is
//! ever skipped, also when deliveries of one room finish out of order. The out-of-order
//! deliveries are made here: two messages get their ids from the room's sequence in acceptance
//! order, as the API gives them, and the worker is handed the newer one first.

use domain::job::Job;
use domain::model::Position;
use e2e::*;
use serde_json::{json, Value};
use std::time::Duration;

fn texts(messages: &Value) -> Vec<String> {
    messages.as_array().unwrap().iter().map(|m| m["text"].as_str().unwrap().to_string()).collect()
}

async fn position(user: u64, room: u64) -> Position {
    let rooms = store().await.memberships(user).await.unwrap();
    rooms.into_iter().find(|m| m.room.id == room).expect("a member of the room").position
}

/// Waits (10 s at most) until a member's position in a room is past `read_to`.
async fn until_read_to(user: u64, room: u64, read_to: u64) {
    for _ in 0..100 {
        if position(user, room).await.read_to >= read_to {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("user {user} never read to {read_to} in room {room}: {:?}", position(user, room).await);
}

/// A message accepted now (its id the moment, as the API gives it), not yet delivered.
async fn accepted(room: u64, room_name: &str, from: (u64, &str), text: &str) -> Job {
    let (id, _) = domain::clock::accepted_now();
    send_job(&uuid::Uuid::new_v4().to_string(), (room, room_name), from, id, text)
}

async fn deliver(job: &Job) {
    assert_eq!(invoke_worker(&bodies(std::slice::from_ref(job))).await, json!({"batchItemFailures": []}));
}

#[tokio::test]
async fn a_message_stored_after_a_newer_one_was_read_is_unseen_until_read() {
    let (a, na) = new_user("late_a").await;
    let (b, nb) = new_user("late_b").await;
    let (room, name) = new_room(&[&na, &nb]).await;
    let older = accepted(room, &name, (a, &na), "accepted first").await;
    let newer = accepted(room, &name, (a, &na), "accepted second").await;
    let Job::Send { message: newer_message, .. } = &newer else { unreachable!() };

    // The newer one is stored first, and b reads it: b's position passes the older one's id.
    deliver(&newer).await;
    let page = get(&format!("/chat/messages/{room}/?user_id={b}")).await;
    assert_eq!(texts(&page.json["data"]["messages"]), ["accepted second"]);
    until_read_to(b, room, newer_message.id).await;
    assert_eq!(unseen_of(b).await, json!([]));

    // Now the older one arrives: history shows it in acceptance order, and it is unseen.
    deliver(&older).await;
    let page = get(&format!("/chat/messages/{room}/?user_id={a}")).await;
    assert_eq!(texts(&page.json["data"]["messages"]), ["accepted first", "accepted second"]);
    let unseen = unseen_of(b).await;
    assert_eq!(texts(&unseen[0]["messages"]), ["accepted first"], "{unseen}");
    // Read once, it is seen.
    until_nothing_unseen(b).await;
    assert!(position(b, room).await.late_to >= 1);
}

#[tokio::test]
async fn a_late_message_stays_unseen_through_pages_that_do_not_show_it() {
    let (a, na) = new_user("hidden_a").await;
    let (b, nb) = new_user("hidden_b").await;
    let (room, name) = new_room(&[&na, &nb]).await;
    let late = accepted(room, &name, (a, &na), "late").await;
    let mut later = Vec::new();
    for i in 0..3 {
        later.push(accepted(room, &name, (a, &na), &format!("later {i}")).await);
    }
    for job in &later {
        deliver(job).await;
    }
    let Job::Send { message: newest, .. } = &later[2] else { unreachable!() };
    assert_eq!(get(&format!("/chat/messages/{room}/?user_id={b}")).await.status(), 200);
    until_read_to(b, room, newest.id).await;
    deliver(&late).await;
    // A page of the two newest does not show the late message: it stays unseen.
    let page = get(&format!("/chat/messages/{room}/?user_id={b}&limit=2")).await;
    assert_eq!(texts(&page.json["data"]["messages"]), ["later 1", "later 2"]);
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(texts(&unseen_of(b).await[0]["messages"]), ["late"]);
}

#[tokio::test]
async fn read_positions_never_move_backward() {
    let (a, na) = new_user("back_a").await;
    let (b, nb) = new_user("back_b").await;
    let (room, _) = new_room(&[&na, &nb]).await;
    let first = delivered_group(room, a, "one").await["id"].as_u64().unwrap();
    let second = delivered_group(room, a, "two").await["id"].as_u64().unwrap();
    let ahead = Job::Seen { reader: b, positions: vec![(room, Position { read_to: second, late_to: 0 })] };
    let behind = Job::Seen { reader: b, positions: vec![(room, Position { read_to: first, late_to: 0 })] };
    assert_eq!(invoke_worker(&bodies(&[ahead])).await, json!({"batchItemFailures": []}));
    assert_eq!(invoke_worker(&bodies(&[behind])).await, json!({"batchItemFailures": []}));
    assert_eq!(position(b, room).await.read_to, second);
    assert_eq!(unseen_of(b).await, json!([]));
    // A move for a room the reader left does not bring the membership back.
    assert_eq!(delete(&format!("/chat/chatroom/{room}/?user_id={b}")).await.status(), 204);
    let stale =
        Job::Seen { reader: b, positions: vec![(room, Position { read_to: second + 5, late_to: 3 })] };
    assert_eq!(invoke_worker(&bodies(&[stale])).await, json!({"batchItemFailures": []}));
    assert!(store().await.memberships(b).await.unwrap().iter().all(|m| m.room.id != room));
}

#[tokio::test]
async fn a_new_member_starts_after_the_messages_already_there() {
    let (a, na) = new_user("host").await;
    let (c, _) = new_user("newcomer").await;
    let (room, _) = new_room(&[&na]).await;
    delivered_group(room, a, "before you came").await;
    assert_eq!(put(&format!("/chat/chatroom/{room}/?user_id={c}"), None).await.status(), 200);
    assert_eq!(unseen_of(c).await, json!([]));
    delivered_group(room, a, "welcome").await;
    assert_eq!(texts(&unseen_of(c).await[0]["messages"]), ["welcome"]);
    // History still shows everything to the new member.
    let page = get(&format!("/chat/messages/{room}/?user_id={c}")).await;
    assert_eq!(texts(&page.json["data"]["messages"]), ["before you came", "welcome"]);
}

#[tokio::test]
async fn own_messages_are_never_unseen_and_move_no_position_when_sent() {
    let (a, na) = new_user("self_a").await;
    let (b, nb) = new_user("self_b").await;
    let (room, _) = new_room(&[&na, &nb]).await;
    delivered_group(room, a, "mine").await;
    assert_eq!(position(a, room).await, Position::default());
    assert_eq!(unseen_of(a).await, json!([]));
    assert_eq!(texts(&unseen_of(b).await[0]["messages"]), ["mine"]);
}

/// The queue gives a room's deliveries one at a time; invoked directly, four run at once over
/// one room here, each with messages interleaved with the others', while the reader keeps
/// reading. Whatever the reads showed plus what unseen then gives must be every message.
#[tokio::test]
async fn overlapping_deliveries_of_one_room_skip_nothing() {
    let (a, na) = new_user("overlap_a").await;
    let (b, nb) = new_user("overlap_b").await;
    let (room, name) = new_room(&[&na, &nb]).await;
    let mut jobs = Vec::new();
    for i in 0..40 {
        jobs.push(accepted(room, &name, (a, &na), &format!("m{i}")).await);
    }
    let all: std::collections::BTreeSet<String> = (0..40).map(|i| format!("m{i}")).collect();
    let deliverers: Vec<_> = (0..4)
        .map(|d| {
            let mine: Vec<Job> = jobs.iter().skip(d).step_by(4).cloned().collect();
            tokio::spawn(async move {
                for pair in mine.chunks(2) {
                    assert_eq!(invoke_worker(&bodies(pair)).await, json!({"batchItemFailures": []}));
                }
            })
        })
        .collect();
    let mut shown = std::collections::BTreeSet::new();
    while !deliverers.iter().all(|d| d.is_finished()) {
        let page = get(&format!("/chat/messages/{room}/?user_id={b}&limit=200")).await;
        shown.extend(texts(&page.json["data"]["messages"]));
    }
    for d in deliverers {
        d.await.unwrap();
    }
    // The reads' position moves are asynchronous: drain unseen until it is empty.
    for _ in 0..100 {
        let unseen = unseen_of(b).await;
        if unseen == json!([]) {
            break;
        }
        shown.extend(texts(&unseen[0]["messages"]));
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let missing: Vec<&String> = all.difference(&shown).collect();
    assert!(missing.is_empty(), "skipped: {missing:?}");
    let log =
        std::fs::read_to_string(format!("{}/worker.log", std::env::var("RUN").unwrap())).unwrap_or_default();
    println!("deliveries that overlapped: {}", log.matches("deliveries of the room overlapped").count());
}
