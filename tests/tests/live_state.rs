//! Live room state (API.md, "Live room state"), through the running stack with real WebSocket
//! clients: typing frames from one connection to the room's other members' connections (the
//! sockets function, its throttle in Redis, the push function invoked with the frame, the local
//! gateway's Management API), and who is online in a member's view of a room, with a room past
//! the old presence limit.

use e2e::ws::*;
use e2e::*;
use futures_util::stream::{self, StreamExt, TryStreamExt};
use futures_util::SinkExt;
use serde_json::{json, Value};
use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, Instant};
use tokio_tungstenite::tungstenite::Message;

/// The storm and the filled room each load the local emulators heavily: one at a time, so
/// neither's timing is the other's.
static HEAVY: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

async fn typing(socket: &mut Stream, room: Value) {
    socket.send(Message::text(json!({"action": "typing", "room": room}).to_string())).await.unwrap();
}

/// The typing frames a connection gets within `within`.
async fn typing_frames(socket: &mut Stream, within: Duration) -> Vec<Value> {
    typing_frames_until(socket, usize::MAX, within).await
}

/// Typing frames until `wanted` came or `within` passed, then any more within 300 ms (so a
/// frame too many still shows).
async fn typing_frames_until(socket: &mut Stream, wanted: usize, within: Duration) -> Vec<Value> {
    let mut deadline = Instant::now() + within;
    let mut found = Vec::new();
    while let Some(frame) = next_frame(socket, deadline.saturating_duration_since(Instant::now())).await {
        if frame["type"] == "typing" {
            found.push(frame["data"].clone());
            if found.len() == wanted {
                deadline = Instant::now() + Duration::from_millis(300);
            }
        }
    }
    found
}

/// Waits until `user`'s connections are online in `room` (their connect has been recorded).
async fn online_in(room: u64, user: u64, connections: usize) {
    let store = store().await;
    let deadline = Instant::now() + Duration::from_secs(10);
    while store.online(room).await.unwrap().iter().filter(|p| p.user == user).count() != connections {
        assert!(Instant::now() < deadline, "user {user} not online in room {room}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn typing_reaches_the_room_s_other_members_once_per_three_seconds() {
    let (a, na) = new_user("typing_a").await;
    let (b, nb) = new_user("typing_b").await;
    let (c, nc) = new_user("typing_c").await;
    let (d, _) = new_user("typing_outsider").await;
    let (room, _) = new_room(&[&na, &nb, &nc]).await;
    let (mut a1, mut a2) = (connect(a).await, connect(a).await);
    let (mut sb, mut sc, mut sd) = (connect(b).await, connect(c).await, connect(d).await);
    for (user, n) in [(a, 2), (b, 1), (c, 1)] {
        online_in(room, user, n).await;
    }
    let sent = Instant::now();
    typing(&mut a1, json!(room)).await;
    let expected = json!({"room": room, "user": {"id": a, "username": na}});
    for socket in [&mut sb, &mut sc] {
        let frame = frame_where(socket, "typing", Duration::from_secs(5), |_| true).await;
        assert_eq!(frame["data"], expected);
    }
    assert!(sent.elapsed() < Duration::from_secs(1), "typing took {:?}", sent.elapsed());
    // Not the sender's own connections, and nobody outside the room.
    let quiet = Duration::from_millis(800);
    assert_eq!(typing_frames(&mut a2, quiet).await, Vec::<Value>::new());
    assert_eq!(typing_frames(&mut sd, quiet).await, Vec::<Value>::new());
    // Within three seconds of the last one let through, a's frames are dropped, from any of
    // their connections at once; b's own typing still goes.
    typing(&mut a1, json!(room)).await;
    typing(&mut a2, json!(room)).await;
    typing(&mut sb, json!(room)).await;
    let at_c = typing_frames(&mut sc, Duration::from_millis(1_000)).await;
    assert_eq!(at_c, [json!({"room": room, "user": {"id": b, "username": nb}})], "only b's");
    // Once the window has passed, a's next one goes again.
    tokio::time::sleep(Duration::from_millis(3_100).saturating_sub(sent.elapsed())).await;
    typing(&mut a2, json!(room)).await;
    let frame = frame_where(&mut sc, "typing", Duration::from_secs(5), |_| true).await;
    assert_eq!(frame["data"], expected);
    // a's connections got b's frame, never one of a's own.
    let at_a1 = typing_frames(&mut a1, quiet).await;
    assert_eq!(at_a1, [json!({"room": room, "user": {"id": b, "username": nb}})], "b's only");
}

#[tokio::test]
async fn typing_where_one_may_not_is_an_error_frame() {
    let (a, _) = new_user("typing_bad").await;
    let (b, nb) = new_user("typing_bad_b").await;
    let (room, _) = new_room(&[&nb]).await;
    let mut socket = connect(a).await;
    let needs_room = r#"A typing frame needs "room": a chat room id."#.to_string();
    for (room, why) in [
        (json!(room), format!("User {a} is not a member of chat room {room}.")),
        (json!(999_999_999), format!("User {a} is not a member of chat room 999999999.")),
        (json!("x"), needs_room.clone()),
        (Value::Null, needs_room),
    ] {
        typing(&mut socket, room.clone()).await;
        let frame = frame_where(&mut socket, "error", Duration::from_secs(5), |_| true).await;
        assert_eq!(frame["data"], json!({"msg": why}), "{room}");
    }
    // A refused frame does not hold back the next: once a member, the first one goes.
    let r = put(&format!("/chat/chatroom/{room}/?user_id={a}"), None).await;
    assert_eq!(r.status(), 200, "{}", r.text);
    online_in(room, a, 1).await;
    let mut sb = connect(b).await;
    online_in(room, b, 1).await;
    typing(&mut socket, json!(room)).await;
    frame_where(&mut sb, "typing", Duration::from_secs(5), |d| d["user"]["id"] == a).await;
}

#[tokio::test]
async fn a_typing_storm_reaches_every_member_within_the_throttle() {
    let _heavy = HEAVY.lock().await;
    let mut users = Vec::new();
    for _ in 0..20 {
        users.push(new_user("storm").await);
    }
    let names: Vec<&str> = users.iter().map(|(_, n)| n.as_str()).collect();
    let (room, _) = new_room(&names).await;
    let mut sockets = Vec::new();
    for &(user, _) in &users {
        sockets.push(connect(user).await);
        online_in(room, user, 1).await;
    }
    // A first frame from each, its frames drained and the 3-second window let pass: the
    // storm below then meets warm instances (locally each cold one is a process `cargo lambda
    // watch` starts, slower than the window on 2 cores).
    for socket in &mut sockets {
        typing(socket, json!(room)).await;
    }
    for (i, socket) in sockets.iter_mut().enumerate() {
        let heard = typing_frames_until(socket, users.len() - 1, Duration::from_secs(15)).await;
        let from: BTreeSet<u64> = heard.iter().map(|d| d["user"]["id"].as_u64().unwrap()).collect();
        assert_eq!(from.len(), users.len() - 1, "member {i}: the first frame of each other member");
    }
    tokio::time::sleep(Duration::from_millis(3_200)).await;
    let storm = Instant::now();
    // Everyone at once, three times over, well within the 3-second window.
    for _ in 0..3 {
        for socket in &mut sockets {
            typing(socket, json!(room)).await;
        }
    }
    // Each member hears every other member. The throttle lets a second frame of one member
    // through only once 3 s have passed since the first was let through: locally, on 2 cores,
    // 60 invocations may take longer than that, so a second frame may come. Arrival times say
    // little of when a frame was let through (a delivery may lag), but every frame heard was
    // let through after the storm began and before it was heard: k frames of one member need
    // k - 1 windows of 3 s in between.
    for (i, socket) in sockets.iter_mut().enumerate() {
        let others: BTreeSet<u64> = users.iter().map(|&(id, _)| id).filter(|&id| id != users[i].0).collect();
        let mut heard: BTreeMap<u64, Vec<Instant>> = BTreeMap::new();
        let mut deadline = Instant::now() + Duration::from_secs(if i == 0 { 15 } else { 1 });
        while let Some(frame) = next_frame(socket, deadline.saturating_duration_since(Instant::now())).await {
            if frame["type"] == "typing" {
                heard.entry(frame["data"]["user"]["id"].as_u64().unwrap()).or_default().push(Instant::now());
                if heard.len() == others.len() {
                    deadline = deadline.min(Instant::now() + Duration::from_millis(500));
                }
            }
        }
        assert_eq!(
            heard.keys().copied().collect::<BTreeSet<u64>>(),
            others,
            "member {i}: a frame from each other member"
        );
        for (from, times) in &heard {
            let span = *times.last().unwrap() - storm;
            let allowed = 1 + (span.as_millis() / 3_000) as usize;
            assert!(times.len() <= allowed, "member {i}: {} frames of {from} within {span:?}", times.len());
        }
    }
}

/// A token-mode WebSocket connection of a user (the token copy of the API and its gateway).
async fn connect_with_token(name: &str) -> Stream {
    let api = std::env::var("TOKEN_API_URL").expect("TOKEN_API_URL is set by scripts/test");
    let body = json!({"username": name, "password": "Passw0rd!"});
    let r = request_to(&api, reqwest::Method::POST, "/auth/token/", Some(Body::Json(body)), None).await;
    assert_eq!(r.status(), 200, "{}", r.text);
    let query = format!("token={}", r.json["access"].as_str().unwrap());
    open(&ws_url("TOKEN_WEBSOCKET_URL"), &query).await.expect("a valid token connects")
}

#[tokio::test]
async fn typing_works_in_token_mode_too() {
    let (a, na) = new_user("typing_token_a").await;
    let (b, nb) = new_user("typing_token_b").await;
    let (room, _) = new_room(&[&na, &nb]).await;
    let mut sa = connect_with_token(&na).await;
    let mut sb = connect_with_token(&nb).await;
    for user in [a, b] {
        online_in(room, user, 1).await;
    }
    typing(&mut sa, json!(room)).await;
    let frame = frame_where(&mut sb, "typing", Duration::from_secs(5), |_| true).await;
    assert_eq!(frame["data"], json!({"room": room, "user": {"id": a, "username": na}}));
}

/// Who is online, as a member's view of the room shows it.
async fn online_members(room: u64, viewer: u64) -> Vec<(String, bool)> {
    let r = get(&format!("/chat/chatroom/{room}/?user_id={viewer}")).await;
    assert_eq!(r.status(), 200, "{}", r.text);
    let members = r.json["data"]["room_member"].as_array().unwrap().clone();
    members.iter().map(|m| (m["username"].as_str().unwrap().to_string(), m["online"] == true)).collect()
}

#[tokio::test]
async fn a_member_s_view_shows_who_is_online_even_past_the_old_presence_limit() {
    let _heavy = HEAVY.lock().await;
    let (a, na) = new_user("online_a").await;
    let (b, nb) = new_user("online_b").await;
    let (room, _) = new_room(&[&na, &nb]).await;
    assert_eq!(online_members(room, a).await, [(na.clone(), false), (nb.clone(), false)]);
    let mut sb = connect(b).await;
    online_in(room, b, 1).await;
    assert_eq!(online_members(room, a).await, [(na.clone(), false), (nb.clone(), true)]);
    // Without user_id the view shows no members, so no presence either.
    let public = get(&format!("/chat/chatroom/{room}/")).await.json;
    assert!(public["data"].get("room_member").is_none(), "{public}");
    // 6,000 more live connections in the room: one item of them all would have passed
    // DynamoDB's 400 KB item limit at about 5,000. Each is an item of its own now.
    let store = store().await;
    let connections: Vec<String> = (0..6_000).map(|i| format!("Filler{i:05}=")).collect();
    let rooms = [room];
    stream::iter(connections.iter().map(|c| store.present(c, b, &rooms)))
        .buffer_unordered(64)
        .try_collect::<Vec<()>>()
        .await
        .unwrap();
    assert_eq!(store.online(room).await.unwrap().len(), 6_001);
    assert_eq!(online_members(room, a).await, [(na.clone(), false), (nb.clone(), true)]);
    let mut sa = connect(a).await;
    online_in(room, a, 1).await;
    assert_eq!(online_members(room, b).await, [(na.clone(), true), (nb.clone(), true)]);
    // Typing still reaches a in the full room.
    typing(&mut sb, json!(room)).await;
    frame_where(&mut sa, "typing", Duration::from_secs(10), |d| d["user"]["id"] == b).await;
    // Gone again when the connection closes.
    drop(sa);
    online_in(room, a, 0).await;
    assert_eq!(online_members(room, b).await, [(na, false), (nb, true)]);
}
