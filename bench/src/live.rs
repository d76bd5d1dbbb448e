//! Live room state (API.md, "Live room state"): a typing frame from one client's WebSocket to
//! another's (no stream in its path), what a typing storm writes (nothing), what a presence
//! change writes as a room fills (one item however many are online), and a user's list of 100
//! rooms with news (`room_list.rs`).

use crate::api::{new_room, new_user, var, Api};
use crate::stats::Summary;
use futures_util::{SinkExt, StreamExt};
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::time::{Duration, Instant};
use tokio_tungstenite::tungstenite::Message;

type Socket = tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

async fn connect(user: u64) -> Socket {
    let base = var("WEBSOCKET_URL");
    tokio_tungstenite::connect_async(format!("{base}?user_id={user}")).await.expect("connects").0
}

async fn typing(socket: &mut Socket, room: u64) {
    let frame = json!({"action": "typing", "room": room}).to_string();
    socket.send(Message::text(frame)).await.expect("sent");
}

/// Waits for a typing frame in `room` (10 s at most).
async fn typing_in(socket: &mut Socket, room: u64) {
    let wait = async {
        while let Some(Ok(message)) = socket.next().await {
            let frame: Value = serde_json::from_str(message.to_text().unwrap_or("null")).unwrap_or_default();
            if frame["type"] == "typing" && frame["data"]["room"] == room {
                return;
            }
        }
        panic!("the connection closed");
    };
    tokio::time::timeout(Duration::from_secs(10), wait).await.expect("a typing frame within 10 s");
}

/// Waits until `room` has `connections` live connections (their connects recorded), so that
/// a frame's figures do not count a push before its receivers were known.
async fn online(api: &Api, room: u64, connections: usize) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while api.store.online(room).await.expect("presence reads").len() < connections {
        assert!(Instant::now() < deadline, "{connections} connections online in room {room} within 30 s");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Calls that write, from the counting proxy's `function:Operation` counts.
fn writes(calls: &BTreeMap<String, u64>) -> u64 {
    let writing = ["PutItem", "UpdateItem", "DeleteItem", "BatchWriteItem", "TransactWriteItems"];
    calls.iter().filter(|(k, _)| writing.iter().any(|w| k.ends_with(w))).map(|(_, v)| v).sum()
}

/// One typing frame per room of `rooms` (the throttle is per user and room), each timed from
/// the send to its arrival on the other member's connection.
async fn typing_latency(api: &Api, samples: usize) -> Value {
    let ((a, na), (b, nb)) = (new_user(api).await, new_user(api).await);
    let mut rooms = Vec::new();
    for _ in 0..samples {
        rooms.push(new_room(api, &[&na, &nb]).await);
    }
    let (mut sa, mut sb) = (connect(a).await, connect(b).await);
    for &room in &rooms {
        online(api, room, 2).await;
    }
    let mut took = Vec::new();
    for &room in &rooms {
        let started = Instant::now();
        typing(&mut sa, room).await;
        typing_in(&mut sb, room).await;
        took.push(started.elapsed().as_secs_f64() * 1000.0);
    }
    json!({"frame_ms": Summary::of(took).json()})
}

/// 50 connected members of one room each send 5 typing frames at once: what the members
/// hear (one frame from each other member per window of the throttle; more within one are
/// duplicates), how long until all of it arrived, and the table's writes (none).
async fn typing_storm(api: &Api) -> Value {
    let mut users = Vec::new();
    for _ in 0..50 {
        users.push(new_user(api).await);
    }
    let names: Vec<&str> = users.iter().map(|(_, n)| n.as_str()).collect();
    let room = new_room(api, &names).await;
    let mut sockets = Vec::new();
    for (user, _) in &users {
        sockets.push(connect(*user).await);
    }
    online(api, room, users.len()).await;
    api.dynamodb_calls(true).await;
    let started = Instant::now();
    for _ in 0..5 {
        for socket in &mut sockets {
            typing(socket, room).await;
        }
    }
    // Each member listens until it heard every other member, or for 120 s, then 2 s more for
    // frames still on their way (a duplicate).
    let others = users.len() - 1;
    let heard = futures_util::future::join_all(sockets.iter_mut().map(|socket| async move {
        let mut from: BTreeMap<u64, u64> = BTreeMap::new();
        let mut deadline = started + Duration::from_secs(120);
        let mut last = None;
        while let Ok(Some(Ok(message))) =
            tokio::time::timeout(deadline.saturating_duration_since(Instant::now()), socket.next()).await
        {
            let frame: Value = serde_json::from_str(message.to_text().unwrap_or("null")).unwrap_or_default();
            if frame["type"] == "typing" {
                *from.entry(frame["data"]["user"]["id"].as_u64().unwrap_or(0)).or_default() += 1;
                last = Some(started.elapsed());
                if from.len() == others {
                    deadline = deadline.min(Instant::now() + Duration::from_secs(2));
                }
            }
        }
        (from, last)
    }))
    .await;
    let frames: u64 = heard.iter().flat_map(|(from, _)| from.values()).sum();
    let distinct: usize = heard.iter().map(|(from, _)| from.len()).sum();
    let complete = heard.iter().filter(|(from, _)| from.len() == others).count();
    let all_in = heard.iter().filter_map(|(_, last)| *last).max().unwrap_or_default();
    let calls = api.dynamodb_calls(false).await;
    json!({
        "frames_sent": 250,
        // push reads the room's presence once per frame it relays.
        "relayed": calls.get("push:Query").copied().unwrap_or(0),
        "frames_heard": frames,
        // Within one 3-s window of the throttle, any of these is a duplicate.
        "repeats": frames - distinct as u64,
        "members_who_heard_everyone": complete,
        "last_frame_after_s": all_in.as_secs_f64(),
        "dynamodb_writes": writes(&calls),
        "dynamodb_calls": calls.values().sum::<u64>(),
        "calls": calls,
    })
}

/// A member's connect writes one presence item per room of theirs, however many connections
/// the room holds already: its write calls with 10, 1,000 and 10,000 others online.
async fn presence_writes(api: &Api) -> Value {
    let ((a, na), (b, nb)) = (new_user(api).await, new_user(api).await);
    let room = new_room(api, &[&na, &nb]).await;
    let rooms = [room];
    let mut rows = json!({});
    let mut filled = 0;
    for online in [10usize, 1_000, 10_000] {
        let fillers: Vec<String> = (filled..online).map(|i| format!("BenchFiller{i:06}=")).collect();
        futures_util::stream::iter(fillers.iter().map(|c| api.store.present(c, b, &rooms)))
            .buffer_unordered(64)
            .collect::<Vec<_>>()
            .await;
        filled = online;
        api.dynamodb_calls(true).await;
        let socket = connect(a).await;
        tokio::time::sleep(Duration::from_millis(300)).await;
        let calls = api.dynamodb_calls(false).await;
        let presence: u64 = calls
            .iter()
            .filter(|(k, _)| k.starts_with("sockets:") && k.ends_with("PutItem"))
            .map(|(_, v)| v)
            .sum();
        rows[online.to_string()] = json!({"connect_writes": writes(&calls), "presence_puts": presence});
        drop(socket);
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
    rows
}

/// `GET /chat/chatroom/?user_id=N&limit=100` over 100 rooms with news (a mention in half).
pub async fn run() -> Value {
    let api = Api::from_env().await;
    let mut report = json!({});
    // Each part as it ends (the storm, the hardest on the local emulators, last).
    report["typing"] = typing_latency(&api, 30).await;
    eprintln!("typing: {}", report["typing"]);
    report["room_list_100"] = crate::room_list::run(&api, 50).await;
    eprintln!("room list: {}", report["room_list_100"]);
    report["presence"] = presence_writes(&api).await;
    eprintln!("presence: {}", report["presence"]);
    report["typing_storm"] = typing_storm(&api).await;
    report
}
