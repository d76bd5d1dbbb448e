//! `scripts/bench scale`: DynamoDB traffic per partition key, measured through the counting
//! proxy (`proxy.rs`) while the local stack does real work, and what it projects to at scale:
//! - the items a message writes (send and delivery) in rooms of 2, 50 and 500 members;
//! - the reads of an idle long-polling client per minute, in 1 room and in 1,000 rooms;
//! - a mixed run spread over many rooms, projected to 10,000 messages/s over 10,000 rooms, and
//!   a mixed run in one room, projected to 1,000 messages/s into that room.
//!
//! The projection scales each key's measured traffic by what it belongs to: a room's keys (and
//! its members', live connections included) by the messages of that room, a task's by its one message, and the rest (the
//! id counters, the user listing) by all messages. Writes are items written; write and read
//! units are DynamoDB's capacity units (transactional writes count twice).

use crate::api::Api;
use serde_json::{json, Map, Value};
use std::collections::BTreeMap;
use std::time::{Duration, Instant};

#[derive(serde::Deserialize, Default, Clone, Copy)]
struct Traffic {
    read_requests: f64,
    read_units: f64,
    items_written: f64,
    write_units: f64,
}

#[derive(serde::Deserialize)]
struct Keys {
    partitions: BTreeMap<String, Traffic>,
}

/// What a key belongs to, for projecting its traffic.
#[derive(Clone, Copy, PartialEq)]
enum Owner {
    Room,
    Message,
    Everything,
}

fn owner(pk: &str) -> Owner {
    let family = pk.split('#').next().unwrap_or("");
    match family {
        // A member's keys (`USER`, and `CONNS`: push reads a sender's connections per task)
        // go with their rooms' messages, like the room's own.
        "ROOM" | "SEQ" | "MSGS" | "DELIVERED" | "DIRECT" | "USER" | "CONNS" | "ONLINE" => Owner::Room,
        "TASK" => Owner::Message,
        _ => Owner::Everything,
    }
}

async fn users(api: &Api, n: usize) -> Vec<(u64, String)> {
    crate::api::concurrently(
        8,
        (0..n).map(|_| {
            let api = api.clone();
            async move { crate::api::new_user(&api).await }
        }),
    )
    .await
}

async fn room_of(api: &Api, members: &[(u64, String)]) -> u64 {
    let names: Vec<&str> = members.iter().map(|(_, n)| n.as_str()).collect();
    crate::api::new_room(api, &names).await
}

async fn send(api: &Api, path: String, from: u64, text: String) -> String {
    let body = json!({"from": from, "text": text});
    api.expect("POST", &path, Some(body), 202).await["data"].as_str().unwrap().to_string()
}

/// Items written and write units per message, send and delivery together, in a room of `size`.
async fn writes_per_message(api: &Api, members: &[(u64, String)]) -> (f64, f64) {
    const MESSAGES: usize = 20;
    let room = room_of(api, members).await;
    api.quiet().await;
    let _: Keys = api.proxy_stats("dynamodb-keys", true).await;
    for i in 0..MESSAGES {
        let task = send(api, format!("/chat/group/{room}/"), members[0].0, format!("to all {i}")).await;
        assert_eq!(api.finished(&task).await["state"], "SUCCESS");
    }
    api.quiet().await;
    let keys: Keys = api.proxy_stats("dynamodb-keys", false).await;
    let total = keys.partitions.values().fold(Traffic::default(), |a, t| Traffic {
        items_written: a.items_written + t.items_written,
        write_units: a.write_units + t.write_units,
        ..a
    });
    // The task polling above reads, it does not write: every write counted is the messages'.
    (total.items_written / MESSAGES as f64, total.write_units / MESSAGES as f64)
}

/// DynamoDB read calls of the messages function while `user` long-polls with nothing arriving.
async fn idle_poll_reads(api: &Api, user: u64, seconds: u64) -> f64 {
    api.quiet().await;
    api.dynamodb_calls(true).await;
    let end = Instant::now() + Duration::from_secs(seconds);
    while Instant::now() < end {
        let wait = (end - Instant::now()).as_secs().clamp(1, 20);
        api.expect("GET", &format!("/chat/messages/unseen/?user_id={user}&wait={wait}"), None, 200).await;
    }
    let calls = api.dynamodb_calls(false).await;
    let reads = ["GetItem", "BatchGetItem", "Query", "TransactGetItems"];
    calls
        .iter()
        .filter(|(k, _)| reads.iter().any(|r| *k == &format!("messages:{r}")))
        .map(|(_, v)| *v as f64)
        .sum::<f64>()
        * 60.0
        / seconds as f64
}

/// Clients acting at once in their rooms as chat users do: three sends to one read, the reads
/// half unseen and half a page of history, one send in five a direct message. Returns the
/// messages sent and the per-key traffic of the run (background work included).
async fn mixed(
    api: &Api,
    clients: &[(u64, String)],
    rooms: &[(u64, Vec<u64>)],
    actions: usize,
    direct: bool,
) -> (usize, Keys) {
    if direct {
        // The pairs' direct rooms exist before the run: a room is created once, not per message.
        for (c, &(me, _)) in clients.iter().enumerate() {
            let task =
                send(api, format!("/chat/user/{}/", clients[(c + 1) % clients.len()].0), me, "hello".into())
                    .await;
            assert_eq!(api.finished(&task).await["state"], "SUCCESS");
        }
    }
    api.quiet().await;
    let _: Keys = api.proxy_stats("dynamodb-keys", true).await;
    let runs = clients.iter().enumerate().map(|(c, &(me, _))| {
        let api = api.clone();
        let mine: Vec<u64> = rooms.iter().filter(|(_, m)| m.contains(&me)).map(|(r, _)| *r).collect();
        let peer = clients[(c + 1) % clients.len()].0;
        async move {
            let mut tasks = Vec::new();
            for step in 0..actions {
                let room = mine[step % mine.len()];
                if step % 4 == 3 {
                    let path = if step % 8 == 3 {
                        format!("/chat/messages/unseen/?user_id={me}")
                    } else {
                        format!("/chat/messages/{room}/?user_id={me}&limit=20")
                    };
                    api.expect("GET", &path, None, 200).await;
                } else if direct && step % 5 == 0 {
                    tasks.push(send(&api, format!("/chat/user/{peer}/"), me, format!("dm {step}")).await);
                } else {
                    tasks.push(send(&api, format!("/chat/group/{room}/"), me, format!("hi {step}")).await);
                }
            }
            for task in &tasks {
                assert_eq!(api.finished(task).await["state"], "SUCCESS");
            }
            tasks.len()
        }
    });
    let sent: usize = futures_util::future::join_all(runs).await.into_iter().sum();
    api.quiet().await;
    (sent, api.proxy_stats("dynamodb-keys", false).await)
}

/// The busiest key's rates once the run's traffic is scaled to `msgs_per_s`, the run's rooms
/// standing for `rooms_then` rooms (each room's keys then see `rooms_run / rooms_then` of the
/// run's rate per message).
fn project(keys: &Keys, messages: usize, rooms_run: usize, msgs_per_s: f64, rooms_then: f64) -> Value {
    let per_message = |t: f64, pk: &str| match owner(pk) {
        Owner::Room => t / messages as f64 * rooms_run as f64 * msgs_per_s / rooms_then,
        Owner::Message => t,
        Owner::Everything => t / messages as f64 * msgs_per_s,
    };
    let max = |f: fn(&Traffic) -> f64| {
        keys.partitions
            .iter()
            .map(|(pk, t)| (pk.clone(), per_message(f(t), pk)))
            .max_by(|a, b| a.1.total_cmp(&b.1))
            .map(|(pk, rate)| (pk, crate::stats::round(rate)))
            .unwrap_or_default()
    };
    let (wk, w) = max(|t| t.items_written);
    let (wuk, wu) = max(|t| t.write_units);
    let (rk, r) = max(|t| t.read_requests);
    let (ruk, ru) = max(|t| t.read_units);
    json!({"msgs_per_s": msgs_per_s, "rooms": rooms_then,
        "max_key_writes_per_s": w, "max_key_write_units_per_s": wu, "max_key_reads_per_s": r, "max_key_read_units_per_s": ru,
        "busiest": {"writes": wk, "write_units": wuk, "reads": rk, "read_units": ruk}})
}

/// The keys with the largest shares of the run's write and read units.
fn hottest(keys: &Keys, n: usize) -> Vec<Value> {
    let (w, r) = keys.partitions.values().fold((0.0, 0.0), |(w, r), t| (w + t.write_units, r + t.read_units));
    let mut rows: Vec<(String, f64, f64)> = keys
        .partitions
        .iter()
        .map(|(pk, t)| (pk.clone(), t.write_units / w.max(1.0), t.read_units / r.max(1.0)))
        .collect();
    rows.sort_by(|a, b| (b.1.max(b.2)).total_cmp(&a.1.max(a.2)));
    rows.into_iter()
        .take(n)
        .map(|(key, sw, sr)| json!({"key": key, "share_of_writes": crate::stats::round(sw * 1000.0) / 1000.0, "share_of_reads": crate::stats::round(sr * 1000.0) / 1000.0}))
        .collect()
}

pub async fn run() -> Value {
    let api = Api::from_env().await;
    let people = users(&api, 500).await;

    let mut writes = Map::new();
    let mut write_units = Map::new();
    for size in [2usize, 50, 500] {
        let (items, units) = writes_per_message(&api, &people[..size]).await;
        writes.insert(size.to_string(), json!(crate::stats::round(items)));
        write_units.insert(size.to_string(), json!(crate::stats::round(units)));
    }

    let seconds = std::env::var("BENCH_IDLE_SECONDS").ok().and_then(|v| v.parse().ok()).unwrap_or(60);
    let alone = crate::api::new_user(&api).await;
    room_of(&api, std::slice::from_ref(&alone)).await;
    let busy = crate::api::new_user(&api).await;
    crate::api::concurrently(
        8,
        (0..1000).map(|_| {
            let (api, busy) = (api.clone(), busy.clone());
            async move { room_of(&api, &[busy]).await }
        }),
    )
    .await;
    let mut idle = Map::new();
    idle.insert("1".into(), json!(crate::stats::round(idle_poll_reads(&api, alone.0, seconds).await)));
    idle.insert("1000".into(), json!(crate::stats::round(idle_poll_reads(&api, busy.0, seconds).await)));

    // Spread: 40 rooms of 5 among 40 clients, each client in 5 rooms.
    let clients = &people[..40];
    let mut rooms = Vec::new();
    for r in 0..40 {
        let members: Vec<(u64, String)> = (0..5).map(|k| clients[(r + k * 8) % 40].clone()).collect();
        rooms.push((room_of(&api, &members).await, members.iter().map(|m| m.0).collect::<Vec<_>>()));
    }
    let (spread_messages, spread) = mixed(&api, &clients[..16], &rooms, 40, true).await;
    // One room of 16, all of them talking.
    let crowd = &people[40..56];
    let one = (room_of(&api, crowd).await, crowd.iter().map(|m| m.0).collect::<Vec<_>>());
    let (one_messages, one_room) = mixed(&api, crowd, std::slice::from_ref(&one), 40, false).await;

    json!({
        "writes_per_delivery": writes,
        "write_units_per_delivery": write_units,
        "reads_per_idle_poll_minute": idle,
        "hottest_partition_keys": hottest(&spread, 10),
        // The spread run's rooms: the 40 group rooms and the 16 direct rooms of its clients.
        "projected": project(&spread, spread_messages, rooms.len() + 16, 10_000.0, 10_000.0),
        "one_room": project(&one_room, one_messages, 1, 1_000.0, 1.0),
        "runs": {"spread": {"rooms": rooms.len(), "clients": 16, "messages": spread_messages},
                 "one_room": {"clients": crowd.len(), "messages": one_messages}},
    })
}
