//! Live push latency: from a message stored (the worker's own `Store::deliver`, timed here) to
//! its frame received on each connected client's WebSocket, with 1 and with 100 clients
//! connected as members of the room; and from a send's request to the frames, for context.
//! Locally the stream is polled 4 times a second per shard, as Lambda polls, so about 125 ms of
//! each figure is that wait on average (each message is stored at a random point of the cycle).
//! Also counts the push function's DynamoDB calls per message and times the connects.

use crate::api::{new_room, new_user, var, Api};
use crate::stats::Summary;
use domain::model::StoredMessage;
use futures_util::StreamExt;
use serde_json::{json, Value};
use std::time::{Duration, Instant};
use store::Delivery;
use tokio::sync::mpsc;
use tokio_tungstenite::tungstenite::Message;

/// Frames received: (client, message id, when).
type Arrivals = mpsc::UnboundedReceiver<(usize, u64, Instant)>;

/// Connects each user, one after another, and forwards the ids of the message frames they
/// receive; also how long each connect took (handshake to `$connect` answered), in ms.
async fn connect_all(users: &[u64]) -> (Arrivals, Vec<f64>) {
    let (tx, rx) = mpsc::unbounded_channel();
    let base = var("WEBSOCKET_URL");
    let mut took = Vec::new();
    for (client, user) in users.iter().enumerate() {
        let started = Instant::now();
        let (socket, _) =
            tokio_tungstenite::connect_async(format!("{base}?user_id={user}")).await.expect("connects");
        took.push(started.elapsed().as_secs_f64() * 1000.0);
        let tx = tx.clone();
        tokio::spawn(async move {
            let (_, mut frames) = socket.split();
            while let Some(Ok(Message::Text(text))) = frames.next().await {
                let frame: Value = serde_json::from_str(&text).unwrap_or_default();
                if let (Some("message"), Some(id)) = (frame["type"].as_str(), frame["data"]["id"].as_u64()) {
                    let _ = tx.send((client, id, Instant::now()));
                }
            }
        });
    }
    (rx, took)
}

/// Waits for message `id` on every one of `clients` clients; each one's wait from `from`, in ms.
async fn arrivals(rx: &mut Arrivals, id: u64, clients: usize, from: Instant) -> Vec<f64> {
    let mut got = Vec::new();
    while got.len() < clients {
        let (_, frame_id, at) = tokio::time::timeout(Duration::from_secs(10), rx.recv())
            .await
            .unwrap_or_else(|_| panic!("message {id}: {} of {clients} frames within 10 s", got.len()))
            .expect("clients connected");
        if frame_id == id {
            got.push(at.duration_since(from).as_secs_f64() * 1000.0);
        }
    }
    got
}

pub async fn run(api: &Api, messages: usize) -> Value {
    let (sender, sender_name) = new_user(api).await;
    let mut users = Vec::new();
    let mut names = vec![sender_name.clone()];
    for _ in 0..100 {
        let (id, name) = new_user(api).await;
        users.push(id);
        names.push(name);
    }
    let mut report = json!({"messages": messages});
    for clients in [1usize, 100] {
        let members: Vec<&str> = names[..=clients].iter().map(String::as_str).collect();
        let room = new_room(api, &members).await;
        let (mut rx, connects) = connect_all(&users[..clients]).await;
        tokio::time::sleep(Duration::from_millis(500)).await; // the memberships' frames go by
        while rx.try_recv().is_ok() {}
        api.dynamodb_calls(true).await;
        let (mut each, mut last) = (Vec::new(), Vec::new());
        for i in 0..messages {
            // At a random point of the stream poller's 250 ms cycle, as messages come on AWS.
            let jitter = uuid::Uuid::new_v4().as_u128() % 250;
            tokio::time::sleep(Duration::from_millis(jitter as u64)).await;
            let (id, sent_at) = domain::clock::accepted_now();
            let message = StoredMessage {
                id,
                room,
                from_id: sender,
                from_username: sender_name.clone(),
                text: format!("push {i}"),
                sent_at,
                ..Default::default()
            };
            let task = uuid::Uuid::new_v4().to_string();
            api.store.deliver(&[Delivery { message: &message, task_id: &task }]).await.expect("stored");
            let stored = Instant::now();
            let waits = arrivals(&mut rx, id, clients, stored).await;
            last.push(waits.iter().copied().fold(0.0, f64::max));
            each.extend(waits);
        }
        let calls = api.dynamodb_calls(false).await;
        let push_calls: u64 = calls.iter().filter(|(k, _)| k.starts_with("push:")).map(|(_, v)| v).sum();
        // A send through the API, from the request to the frames (its delivery included), for context.
        let mut sent = Vec::new();
        for i in 0..messages.min(20) {
            let started = Instant::now();
            let body = json!({"from": sender, "text": format!("sent {i}")});
            let task = api.expect("POST", &format!("/chat/group/{room}/"), Some(body), 202).await;
            let result = api.finished(task["data"].as_str().unwrap()).await;
            let id = result["result"]["id"].as_u64().expect("stored message id");
            sent.extend(arrivals(&mut rx, id, clients, started).await);
        }
        report[format!("clients_{clients}")] = json!({
            "stored_to_frame_ms": Summary::of(each).json(),
            "stored_to_last_frame_ms": Summary::of(last).json(),
            "send_to_frame_ms": Summary::of(sent).json(),
            "push_dynamodb_calls_per_message": crate::stats::round(push_calls as f64 / messages as f64),
            "connect_ms": Summary::of(connects).json(),
        });
    }
    report
}
