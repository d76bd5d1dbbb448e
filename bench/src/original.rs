//! `scripts/bench original`: the workload the original Django/Celery app was measured with, run
//! through the local stack, so the two can be compared route by route:
//! 8 clients; 5 group rooms of 5 members; 50 sends per client (one in five a direct message to
//! another member of its room), then 200 reads per client cycling over its room's history,
//! unseen, `GET /users/` and `GET /chat/chatroom/?user_id=N`; a new connection per request.
//! Measured on a warm stack: the same workload runs once before in rooms of its own (its
//! figures are kept as the first pass).
//!
//! Then, per route alone: the server's CPU per request (every process but this one, from
//! /proc/stat, and each process's share), and the same for what is not our code,
//! measured bare in the same run: `cargo lambda watch` with a function that does no I/O, each
//! DynamoDB call the routes make straight against DynamoDB Local, and an SQS SendMessage.

use crate::api::{batch_get, concurrently, key_map, new_room, new_user, var, Api};
use crate::cpu::Emulators;
use crate::stats::{round, Summary};
use aws_sdk_dynamodb::types::AttributeValue;
use domain::keys;
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Instant;

const CLIENTS: usize = 8;
const SENDS: usize = 50;
const READS: usize = 200;

/// One client's view of the fixture: who it is, its room, a fellow member, the route paths.
#[derive(Clone)]
struct Client {
    id: u64,
    room: u64,
    peer: u64,
}

/// A request through a fresh connection, as the original was measured. Returns the status and
/// the milliseconds it took.
async fn fresh(base: &str, method: &str, path: &str, body: Option<Value>) -> (u16, f64) {
    let http = reqwest::Client::builder().pool_max_idle_per_host(0).build().expect("http client");
    let started = Instant::now();
    let mut req = http.request(method.parse().unwrap(), format!("{base}{path}"));
    if let Some(body) = body {
        req = req.header("content-type", "application/json").body(body.to_string());
    }
    let res = req.send().await.unwrap_or_else(|e| panic!("{method} {path}: {e}"));
    let status = res.status().as_u16();
    let _ = res.bytes().await;
    (status, started.elapsed().as_secs_f64() * 1000.0)
}

type Samples = Arc<Mutex<BTreeMap<&'static str, Vec<f64>>>>;

fn record(samples: &Samples, route: &'static str, ms: f64) {
    samples.lock().unwrap().entry(route).or_default().push(ms);
}

/// A client's `i`th request of a route: (method, path, body, expected status).
fn request(c: &Client, route: &'static str, i: usize) -> (&'static str, String, Option<Value>, u16) {
    match route {
        "POST /chat/group/{id}/" => (
            "POST",
            format!("/chat/group/{}/", c.room),
            Some(json!({"from": c.id, "text": format!("group {i}")})),
            202,
        ),
        "POST /chat/user/{id}/" => (
            "POST",
            format!("/chat/user/{}/", c.peer),
            Some(json!({"from": c.id, "text": format!("direct {i}")})),
            202,
        ),
        "GET /chat/messages/{room}/" => {
            ("GET", format!("/chat/messages/{}/?user_id={}", c.room, c.id), None, 200)
        }
        "GET /chat/messages/unseen/" => {
            ("GET", format!("/chat/messages/unseen/?user_id={}", c.id), None, 200)
        }
        "GET /users/" => ("GET", "/users/".into(), None, 200),
        "GET /chat/chatroom/?user_id=N" => ("GET", format!("/chat/chatroom/?user_id={}", c.id), None, 200),
        "GET /chat/task_state/x (no I/O)" => ("GET", "/chat/task_state/x".into(), None, 404),
        other => panic!("no route {other}"),
    }
}

const READ_ROUTES: [&str; 4] = [
    "GET /chat/messages/{room}/",
    "GET /chat/messages/unseen/",
    "GET /users/",
    "GET /chat/chatroom/?user_id=N",
];
const SEND_ROUTES: [&str; 2] = ["POST /chat/group/{id}/", "POST /chat/user/{id}/"];

/// Runs each client's list of routes in order, all clients at once; collects latencies and
/// counts the answers that were not the expected status.
async fn workload(
    base: &str,
    clients: &[Client],
    plan: fn(usize) -> &'static str,
    per_client: usize,
    samples: &Samples,
) -> usize {
    let runs = clients.iter().cloned().map(|c| {
        let (base, samples) = (base.to_string(), samples.clone());
        async move {
            let mut errors = 0;
            for i in 0..per_client {
                let route = plan(i);
                let (method, path, body, expected) = request(&c, route, i);
                let (status, ms) = fresh(&base, method, &path, body).await;
                if status != expected {
                    errors += 1;
                }
                record(&samples, route, ms);
            }
            errors
        }
    });
    futures_util::future::join_all(runs).await.into_iter().sum()
}

/// Busy CPU of the whole machine so far (all cores), in ms: /proc/stat's first line.
fn machine_busy_ms() -> f64 {
    let stat = std::fs::read_to_string("/proc/stat").unwrap_or_default();
    let fields: Vec<f64> =
        stat.lines().next().unwrap_or("").split_whitespace().skip(1).filter_map(|v| v.parse().ok()).collect();
    let idle = fields.get(3).copied().unwrap_or(0.0) + fields.get(4).copied().unwrap_or(0.0);
    (fields.iter().sum::<f64>() - idle) * 10.0
}

fn own_cpu_ms() -> f64 {
    crate::cpu::cpu_ms(std::process::id())
}

/// The server's CPU per request for `requests` made by `phase`: everything the machine did
/// meanwhile but this process, DynamoDB Local's and moto's part of it, and every process's.
async fn cpu_per_request<F: std::future::Future<Output = usize>>(requests: usize, phase: F) -> Value {
    let (busy, own, emulators, processes) =
        (machine_busy_ms(), own_cpu_ms(), Emulators::now(), crate::cpu::processes());
    let done = phase.await;
    let used = Emulators::now().since(emulators);
    let after = crate::cpu::processes();
    let server = machine_busy_ms() - busy - (own_cpu_ms() - own);
    let n = requests.max(done).max(1) as f64;
    let by_process = crate::cpu::per_request_by_process(&processes, &after, n);
    json!({"by_process_ms": by_process, "server_ms": round(server / n), "dynamodb_local_ms": round(used.dynamodb / n), "moto_ms": round(used.moto / n),
           "functions_and_router_ms": round((server - used.dynamodb - used.moto) / n)})
}

/// Bare DynamoDB Local and SQS: each call a route makes, from CLIENTS at once, 50 each.
async fn floors(api: &Api, room: u64, user: u64) -> Value {
    let table = var("TABLE_NAME");
    // A standard queue of its own: the bare sends must not reach the worker.
    let queue = api
        .sqs
        .create_queue()
        .queue_name("bench-floor")
        .send()
        .await
        .expect("CreateQueue")
        .queue_url()
        .unwrap()
        .to_string();
    let s = |v: String| AttributeValue::S(v);
    let mut out = json!({});
    for name in [
        "GetItem",
        "BatchGetItem of 4",
        "Query of 60 messages",
        "UpdateItem (counter)",
        "PutItem (task)",
        "SQS SendMessage",
    ] {
        let (api, table, queue) = (api.clone(), table.clone(), queue.clone());
        let samples = Arc::new(Mutex::new(Vec::new()));
        let runs = (0..CLIENTS).map(|c| {
            let (api, table, queue, samples) = (api.clone(), table.clone(), queue.clone(), samples.clone());
            async move {
                for i in 0..50 {
                    let started = Instant::now();
                    match name {
                        "GetItem" => {
                            api.dynamodb
                                .get_item()
                                .table_name(&table)
                                .set_key(Some(key_map(keys::user(user))))
                                .consistent_read(true)
                                .send()
                                .await
                                .unwrap();
                        }
                        "BatchGetItem of 4" => {
                            let ks = [
                                keys::room(room),
                                keys::delivery_state(room),
                                keys::user(user),
                                keys::membership(user, room),
                            ];
                            batch_get(&api.dynamodb, &table, ks.to_vec()).await;
                        }
                        "Query of 60 messages" => {
                            api.dynamodb
                                .query()
                                .table_name(&table)
                                .key_condition_expression("pk = :pk")
                                .limit(60)
                                .scan_index_forward(false)
                                .expression_attribute_values(":pk", s(keys::messages_pk(room)))
                                .consistent_read(true)
                                .send()
                                .await
                                .unwrap();
                        }
                        "UpdateItem (counter)" => {
                            api.dynamodb
                                .update_item()
                                .table_name(&table)
                                .set_key(Some(key_map((format!("BENCH#{c}"), "SEQ".into()))))
                                .update_expression("ADD #v :one")
                                .expression_attribute_names("#v", "value")
                                .expression_attribute_values(":one", AttributeValue::N("1".into()))
                                .send()
                                .await
                                .unwrap();
                        }
                        "PutItem (task)" => {
                            let mut item = key_map((format!("BENCH#{c}-{i}"), "TASK".into()));
                            item.insert("task_state".into(), s("PENDING".into()));
                            api.dynamodb
                                .put_item()
                                .table_name(&table)
                                .set_item(Some(item))
                                .send()
                                .await
                                .unwrap();
                        }
                        _ => {
                            api.sqs.send_message().queue_url(&queue).message_body("{}").send().await.unwrap();
                        }
                    }
                    samples.lock().unwrap().push(started.elapsed().as_secs_f64() * 1000.0);
                }
            }
        });
        let cpu = cpu_per_request(CLIENTS * 50, async {
            futures_util::future::join_all(runs).await;
            CLIENTS * 50
        })
        .await;
        let latency = Summary::of(samples.lock().unwrap().clone());
        out[name] = json!({"latency_ms": latency.json(), "cpu": cpu});
    }
    let _ = api.sqs.delete_queue().queue_url(&queue).send().await;
    out
}

/// 25 new users in 5 rooms of 5, and the clients spread over the rooms, each with a fellow
/// member to write to directly.
async fn fixture(api: &Api) -> Vec<Client> {
    let users: Vec<(u64, String)> = concurrently(
        8,
        (0..25).map(|_| {
            let api = api.clone();
            async move { new_user(&api).await }
        }),
    )
    .await;
    let mut rooms = Vec::new();
    for r in 0..5 {
        let names: Vec<&str> = users[r * 5..r * 5 + 5].iter().map(|(_, n)| n.as_str()).collect();
        rooms.push(new_room(api, &names).await);
    }
    (0..CLIENTS)
        .map(|c| {
            let (r, k) = (c % 5, c / 5);
            Client { id: users[r * 5 + k].0, room: rooms[r], peer: users[r * 5 + k + 2].0 }
        })
        .collect()
}

/// Until no function instance is starting: `cargo lambda watch` starts one more (a `cargo run`,
/// hundreds of ms of CPU) every 100 ms while a function has requests waiting and no idle
/// instance, so the first burst of 8 clients starts several per function.
async fn instances_started() {
    let starting = || crate::cpu::processes().values().filter(|(name, _)| name == "cargo").count();
    let started = Instant::now();
    while starting() > 0 && started.elapsed() < std::time::Duration::from_secs(120) {
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
}

pub async fn run() -> Value {
    let api = Api::from_env().await;
    let base = var("API_URL");
    // A warm stack, as the original's figures are of a running server: the whole workload once
    // before, in rooms of its own, until every instance the 8 clients need has started; it also
    // gives DynamoDB Local's JIT a workload's worth of calls (alone, its CPU per call halves over
    // the first tens of thousands). That first pass is reported too, as `first_pass`.
    let warm = fixture(&api).await;
    let first: Samples = Arc::default();
    let first_errors = run_workload(&api, &base, &warm, &first).await;
    instances_started().await;
    let clients = fixture(&api).await;
    let rooms: Vec<u64> = clients.iter().map(|c| c.room).collect();

    let samples: Samples = Arc::default();
    let started = Instant::now();
    let errors = run_workload(&api, &base, &clients, &samples).await;
    let elapsed = started.elapsed();

    // Each route alone, for its CPU per request; then what is not ours, bare.
    let mut cpu = json!({});
    for route in
        SEND_ROUTES.iter().chain(READ_ROUTES.iter()).chain(["GET /chat/task_state/x (no I/O)"].iter())
    {
        let route: &'static str = route;
        let alone: Samples = Arc::default();
        let clients = clients.clone();
        let base = base.clone();
        api.quiet().await;
        let per_client = 20;
        // Until the worker is done too: a send's delivery is part of what it costs.
        api.dynamodb_calls(true).await;
        let mut result = cpu_per_request(CLIENTS * per_client, async {
            workload(&base, &clients, PLANS[index_of(route)], per_client, &alone).await;
            api.quiet().await;
            CLIENTS * per_client
        })
        .await;
        let calls = api.dynamodb_calls(false).await;
        let n = (CLIENTS * per_client) as f64;
        let per_request: BTreeMap<String, f64> =
            calls.into_iter().map(|(k, v)| (k, round(v as f64 / n))).collect();
        result["dynamodb_calls"] = json!(round(per_request.values().sum::<f64>()));
        result["dynamodb_calls_by_function"] = json!(per_request);
        api.quiet().await;
        cpu[route] = result;
        if route.contains("no I/O") {
            let latency = Summary::of(alone.lock().unwrap()[route].clone());
            cpu[route]["latency_ms"] = latency.json();
        }
    }
    let bare = floors(&api, rooms[0], clients[0].id).await;

    let routes = summaries(&samples);
    json!({
        "clients": CLIENTS, "sends_per_client": SENDS, "reads_per_client": READS,
        "errors": errors, "workload_s": round(elapsed.as_secs_f64()),
        "latency_ms": routes,
        "first_pass": {"errors": first_errors, "latency_ms": summaries(&first)},
        "cpu_per_request": cpu,
        "bare": bare,
    })
}

/// The workload: every client's sends, until all are delivered, then every client's reads.
/// Returns the answers that were not the expected status.
async fn run_workload(api: &Api, base: &str, clients: &[Client], samples: &Samples) -> usize {
    let sends =
        workload(base, clients, |i| if i % 5 == 4 { SEND_ROUTES[1] } else { SEND_ROUTES[0] }, SENDS, samples)
            .await;
    api.quiet().await;
    let reads = workload(base, clients, |i| READ_ROUTES[i % 4], READS, samples).await;
    api.quiet().await;
    sends + reads
}

fn summaries(samples: &Samples) -> BTreeMap<&'static str, Value> {
    samples.lock().unwrap().iter().map(|(r, s)| (*r, Summary::of(s.clone()).json())).collect()
}

/// One plan per route, for running a route alone.
const PLANS: [fn(usize) -> &'static str; 7] = [
    |_| SEND_ROUTES[0],
    |_| SEND_ROUTES[1],
    |_| READ_ROUTES[0],
    |_| READ_ROUTES[1],
    |_| READ_ROUTES[2],
    |_| READ_ROUTES[3],
    |_| "GET /chat/task_state/x (no I/O)",
];

fn index_of(route: &str) -> usize {
    let all: Vec<&str> = SEND_ROUTES
        .iter()
        .chain(READ_ROUTES.iter())
        .copied()
        .chain(["GET /chat/task_state/x (no I/O)"])
        .collect();
    all.iter().position(|r| *r == route).expect("a route of the plans")
}
