//! A user's list of 100 rooms with news (`GET /chat/chatroom/?user_id=N&limit=100`, API.md
//! "Live room state"): its latency and DynamoDB calls through the stack, and beside it the
//! emulator's own floor for the reads a list makes, straight from this process and through the
//! counting proxy: a Query of the user's rooms, then a BatchGetItem of the rooms' `META` (the
//! list before unread state) or of their delivery states (the list now). Each route request is
//! followed by one of each floor, so the route's distance above its floor is taken within one
//! iteration, not across minutes in which the machine's speed moves.

use crate::api::{batch_get, new_room, new_user, var, Api};
use crate::stats::Summary;
use aws_sdk_dynamodb::types::AttributeValue;
use aws_sdk_dynamodb::Client;
use domain::keys;
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::time::Instant;

/// Which batch follows the Query.
#[derive(Clone, Copy)]
enum Batch {
    Meta,
    States,
}

/// A list's reads, straight to `db`. Milliseconds.
async fn floor_once(db: &Client, table: &str, user: u64, rooms: &[u64], batch: Batch) -> f64 {
    let started = Instant::now();
    db.query()
        .table_name(table)
        .key_condition_expression("pk = :pk AND begins_with(sk, :rooms)")
        .expression_attribute_values(":pk", AttributeValue::S(keys::user_pk(user)))
        .expression_attribute_values(":rooms", AttributeValue::S(keys::ROOM_PREFIX.into()))
        .limit(rooms.len() as i32 + 1)
        .consistent_read(true)
        .send()
        .await
        .expect("Query");
    let key = match batch {
        Batch::Meta => keys::room,
        Batch::States => keys::delivery_state,
    };
    batch_get(db, table, rooms.iter().map(|&r| key(r)).collect()).await;
    started.elapsed().as_secs_f64() * 1000.0
}

/// The route's time: from the request to its whole body received (parsing it is the client's).
async fn timed_get(api: &Api, path: &str) -> f64 {
    let started = Instant::now();
    let res = api.http.get(format!("{}{path}", api.base)).send().await.expect("GET");
    assert_eq!(res.status(), 200, "GET {path}");
    res.bytes().await.expect("the body");
    started.elapsed().as_secs_f64() * 1000.0
}

pub async fn run(api: &Api, requests: usize) -> Value {
    let ((a, na), (b, nb)) = (new_user(api).await, new_user(api).await);
    let mut rooms = Vec::new();
    for i in 0..100 {
        let room = new_room(api, &[&na, &nb]).await;
        let text = if i % 2 == 0 { format!("hi @{nb}") } else { "news".into() };
        let body = json!({"from": a, "text": text});
        let task = api.expect("POST", &format!("/chat/group/{room}/"), Some(body), 202).await;
        api.finished(task["data"].as_str().unwrap()).await;
        rooms.push(room);
    }
    let path = format!("/chat/chatroom/?user_id={b}&limit=100");
    let page = api.expect("GET", &path, None, 200).await;
    // Counted, not asserted: `scripts/bench rooms` also measures commits from before mentions.
    let mentioned = page["data"].as_array().unwrap().iter().filter(|r| r["mentions"] == 1).count();
    let table = var("TABLE_NAME");
    let aws = services::config::aws().await;
    let proxied =
        Client::from_conf(aws_sdk_dynamodb::config::Builder::from(&aws).endpoint_url(&api.proxy).build());
    let floors_of = [
        (&api.dynamodb, Batch::Meta),
        (&api.dynamodb, Batch::States),
        (&proxied, Batch::Meta),
        (&proxied, Batch::States),
    ];
    api.dynamodb_calls(true).await;
    let (mut took, mut above) = (Vec::new(), Vec::new());
    let mut floors: [Vec<f64>; 4] = Default::default();
    for _ in 0..requests {
        let route = timed_get(api, &path).await;
        took.push(route);
        for (i, &(db, batch)) in floors_of.iter().enumerate() {
            floors[i].push(floor_once(db, &table, b, &rooms, batch).await);
        }
        // Today's route against today's reads through the proxy (the last floor), as the
        // functions make them.
        above.push(route - floors[3].last().expect("just measured"));
    }
    let calls = api.dynamodb_calls(false).await;
    let per_request: BTreeMap<&String, f64> = calls
        .iter()
        .filter(|(k, _)| k.starts_with("chatrooms:"))
        .map(|(k, &v)| (k, v as f64 / requests as f64))
        .collect();
    let [meta, states, proxied_meta, proxied_states] = floors.map(|f| Summary::of(f).json());
    json!({
        "latency_ms": Summary::of(took).json(),
        "above_its_floor_ms": Summary::of(above).json(),
        "dynamodb_calls_per_request": per_request,
        "rooms_with_mentions_shown": mentioned,
        "emulator_floor_ms": {"query_and_meta": meta, "query_and_states": states},
        "through_proxy_floor_ms": {"query_and_meta": proxied_meta, "query_and_states": proxied_states},
    })
}
