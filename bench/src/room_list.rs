//! A user's list of 100 rooms with news (`GET /chat/chatroom/?user_id=N&limit=100`, API.md
//! "Live room state"): its latency and DynamoDB calls through the stack, and beside it the
//! emulator's own floor for the reads it makes, straight from this process: the list before
//! unread state (a Query of the user's rooms, then a BatchGetItem of their `META`) and now
//! (the same Query, then that BatchGetItem and one of the rooms' delivery states at once).
//! The two floors, measured alternately in one run, tell the emulator's share of a change in
//! the route's latency from the function's.

use crate::api::{batch_get, new_room, new_user, var, Api};
use crate::stats::Summary;
use aws_sdk_dynamodb::types::AttributeValue;
use aws_sdk_dynamodb::Client;
use domain::keys;
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::time::Instant;

/// The list's reads, straight to the emulator: `with_states` adds the delivery states' batch
/// beside the `META` one. Milliseconds.
async fn floor_once(db: &Client, table: &str, user: u64, rooms: &[u64], with_states: bool) -> f64 {
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
    let metas = batch_get(db, table, rooms.iter().map(|&r| keys::room(r)).collect());
    if with_states {
        let states = batch_get(db, table, rooms.iter().map(|&r| keys::delivery_state(r)).collect());
        tokio::join!(metas, states);
    } else {
        metas.await;
    }
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
    api.dynamodb_calls(true).await;
    let mut took = Vec::new();
    for _ in 0..requests {
        let started = Instant::now();
        api.expect("GET", &path, None, 200).await;
        took.push(started.elapsed().as_secs_f64() * 1000.0);
    }
    let calls = api.dynamodb_calls(false).await;
    let per_request: BTreeMap<&String, f64> = calls
        .iter()
        .filter(|(k, _)| k.starts_with("chatrooms:"))
        .map(|(k, &v)| (k, v as f64 / requests as f64))
        .collect();
    let table = var("TABLE_NAME");
    // The same reads through the counting proxy too, which the functions' calls pass.
    let aws = services::config::aws().await;
    let proxied =
        Client::from_conf(aws_sdk_dynamodb::config::Builder::from(&aws).endpoint_url(&api.proxy).build());
    let mut floors: [Vec<f64>; 4] = Default::default();
    for _ in 0..requests {
        for (i, (db, with_states)) in
            [(&api.dynamodb, false), (&api.dynamodb, true), (&proxied, false), (&proxied, true)]
                .into_iter()
                .enumerate()
        {
            floors[i].push(floor_once(db, &table, b, &rooms, with_states).await);
        }
    }
    let [before, now, proxied_before, proxied_now] = floors.map(|f| Summary::of(f).json());
    json!({
        "latency_ms": Summary::of(took).json(),
        "dynamodb_calls_per_request": per_request,
        "rooms_with_mentions_shown": mentioned,
        "emulator_floor_ms": {"query_and_meta": before, "query_and_meta_beside_states": now},
        "through_proxy_floor_ms": {"query_and_meta": proxied_before, "query_and_meta_beside_states": proxied_now},
    })
}
