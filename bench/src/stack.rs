//! Every route through the local stack: latency and throughput with 16 concurrent clients, the
//! DynamoDB calls each route makes (counted by the proxy), then the delivery pipeline's figures
//! (`pipeline.rs`). Calls behind the API go through the AWS SDK with the production keys, jobs
//! and store.
use crate::api::{load, new_room, new_user, Api, CLIENTS};
use crate::pipeline::{delivery, emulator_floor, worker};
use crate::stats::{round, Summary};
use futures_util::future::join_all;
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Instant;

/// What the routes are measured on.
struct Fixture {
    users: Vec<u64>,
    names: Vec<String>,
    /// A room of all users holding 100 messages.
    history_room: u64,
    /// A room of all users that the send route writes to (so the history room stays at 100).
    send_room: u64,
    /// Per client, a room it may join and leave.
    join_rooms: Vec<u64>,
    /// Per client, users it may delete.
    doomed: Vec<Vec<u64>>,
    /// Per client, a user with a few unseen messages (as a long-polling client has).
    readers: Vec<u64>,
    task: String,
}

/// Fixtures for CLIENTS clients and one more, whose subjects serve the counting of calls.
async fn fixture(api: &Api, per_client: usize) -> Fixture {
    let mut users = Vec::new();
    let mut names = Vec::new();
    for _ in 0..=CLIENTS {
        let (id, name) = new_user(api).await;
        users.push(id);
        names.push(name);
    }
    let all: Vec<&str> = names.iter().map(String::as_str).collect();
    let history_room = new_room(api, &all).await;
    let send_room = new_room(api, &all).await;
    let mut tasks = Vec::new();
    for i in 0..100 {
        let body = json!({"from": users[i % CLIENTS], "text": format!("message {i}")});
        tasks.push(
            api.expect("POST", &format!("/chat/group/{history_room}/"), Some(body), 202).await["data"]
                .as_str()
                .unwrap()
                .to_string(),
        );
    }
    for task in &tasks {
        assert_eq!(api.finished(task).await["state"], "SUCCESS");
    }
    let (keeper_id, keeper) = new_user(api).await;
    let mut readers = Vec::new();
    let mut reader_tasks = Vec::new();
    for _ in 0..=CLIENTS {
        let (reader, reader_name) = new_user(api).await;
        let room = new_room(api, &[&keeper, &reader_name]).await;
        for i in 0..5 {
            let body = json!({"from": keeper_id, "text": format!("for you {i}")});
            reader_tasks.push(
                api.expect("POST", &format!("/chat/group/{room}/"), Some(body), 202).await["data"]
                    .as_str()
                    .unwrap()
                    .to_string(),
            );
        }
        readers.push(reader);
    }
    for task in &reader_tasks {
        assert_eq!(api.finished(task).await["state"], "SUCCESS");
    }
    let mut join_rooms = Vec::new();
    for _ in 0..=CLIENTS {
        join_rooms.push(new_room(api, &[&keeper]).await);
    }
    let mut doomed = Vec::new();
    for _ in 0..=CLIENTS {
        let mut mine = Vec::new();
        for _ in 0..per_client.min(3) {
            mine.push(new_user(api).await.0);
        }
        doomed.push(mine);
    }
    Fixture { users, names, history_room, send_room, join_rooms, doomed, readers, task: tasks[0].clone() }
}

/// `cargo lambda watch` starts a function instance per concurrent request it cannot place:
/// let it start them all before anything is measured.
async fn warm_up(api: &Api, fx: &Arc<Fixture>) {
    for _ in 0..2 {
        let requests = (0..CLIENTS).map(|c| {
            let (api, fx) = (api.clone(), fx.clone());
            tokio::spawn(async move {
                api.expect("GET", &format!("/users/{}/", fx.users[c]), None, 200).await;
                api.expect("GET", "/chat/chatroom/", None, 200).await;
                api.expect("GET", &format!("/chat/messages/unseen/?user_id={}", fx.users[c]), None, 200)
                    .await;
                api.expect("GET", &format!("/chat/task_state/{}", fx.task), None, 200).await;
            })
        });
        join_all(requests).await;
    }
}

/// One route: its function, and how client `c` makes its `i`th request.
struct Route {
    name: &'static str,
    function: &'static str,
    per_client: usize,
    request: Request,
}

type Request = Arc<
    dyn Fn(Api, Arc<Fixture>, usize, usize) -> futures_util::future::BoxFuture<'static, ()> + Send + Sync,
>;

macro_rules! route {
    ($name:expr, $function:expr, $per_client:expr, |$api:ident, $fx:ident, $c:ident, $i:ident| $body:expr) => {
        Route {
            name: $name,
            function: $function,
            per_client: $per_client,
            request: Arc::new(move |$api: Api, $fx: Arc<Fixture>, $c: usize, $i: usize| {
                Box::pin(async move { $body })
            }),
        }
    };
}

fn routes(per_client: usize) -> Vec<Route> {
    vec![
        route!("GET /users/ (cached)", "users", per_client, |api, _fx, _c, _i| {
            api.expect("GET", "/users/", None, 200).await;
        }),
        route!("GET /users/{id}/", "users", per_client, |api, fx, c, _i| {
            api.expect("GET", &format!("/users/{}/", fx.users[c]), None, 200).await;
        }),
        route!("PATCH /users/{id}/", "users", per_client, |api, fx, c, i| {
            api.expect(
                "PATCH",
                &format!("/users/{}/", fx.users[c]),
                Some(json!({"first_name": format!("n{i}")})),
                200,
            )
            .await;
        }),
        route!("POST /users/ (argon2id)", "users", 3, |api, _fx, _c, _i| {
            new_user(&api).await;
        }),
        route!("DELETE /users/{id}/", "users", 3, |api, fx, c, i| {
            api.expect("DELETE", &format!("/users/{}/", fx.doomed[c][i]), None, 204).await;
        }),
        route!("GET /chat/chatroom/", "chatrooms", per_client, |api, _fx, _c, _i| {
            api.expect("GET", "/chat/chatroom/", None, 200).await;
        }),
        route!("GET /chat/chatroom/?user_id=N", "chatrooms", per_client, |api, fx, c, _i| {
            api.expect("GET", &format!("/chat/chatroom/?user_id={}", fx.users[c]), None, 200).await;
        }),
        route!("POST /chat/chatroom/", "chatrooms", per_client, |api, fx, c, _i| {
            new_room(&api, &[&fx.names[c]]).await;
        }),
        route!("GET /chat/chatroom/{id}/?user_id=N", "chatrooms", per_client, |api, fx, c, _i| {
            api.expect(
                "GET",
                &format!("/chat/chatroom/{}/?user_id={}", fx.history_room, fx.users[c]),
                None,
                200,
            )
            .await;
        }),
        route!(
            "PUT + DELETE /chat/chatroom/{id}/ (join, leave)",
            "chatrooms",
            per_client,
            |api, fx, c, _i| {
                let path = format!("/chat/chatroom/{}/?user_id={}", fx.join_rooms[c], fx.users[c]);
                api.expect("PUT", &path, None, 200).await;
                api.expect("DELETE", &path, None, 204).await;
            }
        ),
        route!("POST /chat/group/{id}/", "messages", per_client, |api, fx, c, i| {
            let body = json!({"from": fx.users[c], "text": format!("load {c} {i}")});
            api.expect("POST", &format!("/chat/group/{}/", fx.send_room), Some(body), 202).await;
        }),
        route!("POST /chat/user/{id}/", "messages", per_client, |api, fx, c, i| {
            let body = json!({"from": fx.users[c], "text": format!("dm {c} {i}")});
            api.expect(
                "POST",
                &format!("/chat/user/{}/", fx.users[(c + 1) % fx.users.len()]),
                Some(body),
                202,
            )
            .await;
        }),
        route!("GET /chat/messages/{id}/ (100 messages)", "messages", per_client, |api, fx, c, _i| {
            let path = format!("/chat/messages/{}/?user_id={}&limit=100", fx.history_room, fx.users[c]);
            let page = api.expect("GET", &path, None, 200).await;
            assert_eq!(page["data"]["messages"].as_array().unwrap().len(), 100);
        }),
        route!(
            "GET /chat/messages/unseen/ (5 unseen, then none)",
            "messages",
            per_client,
            |api, fx, c, _i| {
                api.expect("GET", &format!("/chat/messages/unseen/?user_id={}", fx.readers[c]), None, 200)
                    .await;
            }
        ),
        route!("GET /chat/task_state/{id}", "tasks", per_client, |api, fx, _c, _i| {
            api.expect("GET", &format!("/chat/task_state/{}", fx.task), None, 200).await;
        }),
    ]
}

/// The route's requests from one client alone (the spare one), sequentially: their latency,
/// and the DynamoDB calls of the route's function per request, as counted by the emulator.
async fn one_client(api: &Api, fx: &Arc<Fixture>, route: &Route) -> (Summary, f64, BTreeMap<String, f64>) {
    let n = route.per_client.min(10);
    api.dynamodb_calls(true).await;
    let mut samples = Vec::new();
    for i in 0..n {
        let t = Instant::now();
        (route.request)(api.clone(), fx.clone(), CLIENTS, i).await;
        samples.push(t.elapsed().as_secs_f64() * 1000.0);
    }
    let counts = api.dynamodb_calls(false).await;
    let prefix = format!("{}:", route.function);
    let mine: BTreeMap<String, f64> = counts
        .iter()
        .filter_map(|(k, v)| k.strip_prefix(&prefix).map(|op| (op.to_string(), *v as f64 / n as f64)))
        .collect();
    (Summary::of(samples), mine.values().sum(), mine)
}

pub async fn run(per_client: usize, delivery_sends: usize, worker_jobs: usize) -> Value {
    let api = Api::from_env().await;
    let fx = Arc::new(fixture(&api, per_client).await);
    warm_up(&api, &fx).await;
    let routes = routes(per_client);
    let mut results = Vec::new();
    for route in &routes {
        api.quiet().await;
        let request = route.request.clone();
        let (api2, fx2) = (api.clone(), fx.clone());
        let run_one = move |c: usize, i: usize| (request)(api2.clone(), fx2.clone(), c, i);
        let before = crate::cpu::Emulators::now();
        let (latency, rps) = load(CLIENTS, route.per_client, run_one).await;
        let cpu = crate::cpu::Emulators::now().since(before);
        results.push((route, latency, rps, cpu));
    }
    let mut rows = Vec::new();
    for (route, latency, rps, cpu) in results {
        api.quiet().await;
        let (alone, calls, by_operation) = one_client(&api, &fx, route).await;
        let requests = (CLIENTS * route.per_client) as f64;
        let dynamodb_cpu = cpu.dynamodb / requests;
        rows.push(json!({
            "route": route.name, "function": route.function, "latency_ms": latency.json(), "requests_per_s": round(rps),
            "latency_ms_one_client": alone.json(), "dynamodb_calls": round(calls), "dynamodb_calls_by_operation": by_operation,
            "emulator_cpu_ms_per_request": {"dynamodb": round(dynamodb_cpu), "moto": round(cpu.moto / requests)},
            "dynamodb_cpu_ms_per_call": if calls > 0.0 { json!(round(dynamodb_cpu / calls)) } else { Value::Null },
        }));
    }
    api.quiet().await;
    let delivered = delivery(&api, delivery_sends).await;
    api.quiet().await;
    let worker = worker(&api, worker_jobs).await;
    let floor = emulator_floor(&api, fx.history_room).await;
    json!({
        "clients": CLIENTS, "routes": rows,
        "delivery_ms": delivered.json(),
        "worker": worker,
        "emulator_floor_ms": floor,
    })
}
