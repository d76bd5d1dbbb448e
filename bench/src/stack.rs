//! Through the local stack: latency and throughput of every route with 16 concurrent clients,
//! the DynamoDB calls each route makes (counted by the proxy), send-to-SUCCESS delivery
//! latency, worker throughput, and the emulator's own floor for comparison. Calls behind the
//! API go through the AWS SDK with the production keys, jobs and store.

use crate::stats::{round, Summary};
use aws_sdk_dynamodb::types::AttributeValue;
use aws_sdk_sqs::types::{DeleteMessageBatchRequestEntry, SendMessageBatchRequestEntry};
use domain::job::Job;
use domain::keys;
use domain::model::StoredMessage;
use futures_util::future::join_all;
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, Instant};
use store::Store;

pub const CLIENTS: usize = 16;

#[derive(Clone)]
pub struct Api {
    pub(crate) http: reqwest::Client,
    pub(crate) base: String,
    proxy: String,
    pub store: Store,
    pub dynamodb: aws_sdk_dynamodb::Client,
    pub sqs: aws_sdk_sqs::Client,
}

pub fn var(name: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| panic!("{name} must be set (scripts/bench sets it)"))
}

impl Api {
    pub async fn from_env() -> Api {
        let aws = services::config::aws().await;
        Api {
            http: reqwest::Client::new(),
            base: var("API_URL"),
            proxy: var("DYNAMODB_PROXY_URL"),
            store: services::config::store(&aws),
            dynamodb: aws_sdk_dynamodb::Client::new(&aws),
            sqs: aws_sdk_sqs::Client::new(&aws),
        }
    }

    pub async fn call(&self, method: &str, path: &str, body: Option<Value>) -> (u16, Value) {
        let mut req = self.http.request(method.parse().unwrap(), format!("{}{path}", self.base));
        if let Some(body) = body {
            req = req.header("content-type", "application/json").body(body.to_string());
        }
        let res = req.send().await.unwrap_or_else(|e| panic!("{method} {path}: {e}"));
        let status = res.status().as_u16();
        let text = res.text().await.unwrap();
        (status, serde_json::from_str(&text).unwrap_or(Value::Null))
    }

    pub async fn expect(&self, method: &str, path: &str, body: Option<Value>, status: u16) -> Value {
        let (got, json) = self.call(method, path, body).await;
        assert_eq!(got, status, "{method} {path}: {json}");
        json
    }

    pub async fn dynamodb_calls(&self, reset: bool) -> BTreeMap<String, u64> {
        self.proxy_stats("dynamodb-calls", reset).await
    }

    /// What the counting proxy saw (`proxy.rs`), optionally resetting it.
    pub async fn proxy_stats<T: serde::de::DeserializeOwned>(&self, what: &str, reset: bool) -> T {
        let url = format!("{}/_chat/{what}", self.proxy);
        let res = if reset { self.http.delete(url).send().await } else { self.http.get(url).send().await };
        res.expect("proxy stats").json().await.unwrap()
    }

    /// Messages in a queue, visible or being handled.
    async fn queue_depth(&self, queue: &str) -> u64 {
        use aws_sdk_sqs::types::QueueAttributeName as Name;
        let out = self
            .sqs
            .get_queue_attributes()
            .queue_url(queue)
            .attribute_names(Name::ApproximateNumberOfMessages)
            .attribute_names(Name::ApproximateNumberOfMessagesNotVisible)
            .send()
            .await
            .expect("queue attributes");
        let attrs = out.attributes().cloned().unwrap_or_default();
        let count = |name: Name| attrs.get(&name).and_then(|v| v.parse::<u64>().ok()).unwrap_or(0);
        count(Name::ApproximateNumberOfMessages) + count(Name::ApproximateNumberOfMessagesNotVisible)
    }

    /// Waits until the worker has nothing left to do (both queues empty), so one phase's
    /// background work does not weigh on the next phase's figures.
    pub async fn quiet(&self) {
        let started = Instant::now();
        for queue in
            [std::env::var("QUEUE_URL").expect("QUEUE_URL"), std::env::var("DLQ_URL").expect("DLQ_URL")]
        {
            while self.queue_depth(&queue).await > 0 {
                assert!(
                    started.elapsed() < Duration::from_secs(600),
                    "the worker did not catch up within 10 min"
                );
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        }
    }

    pub async fn finished(&self, task: &str) -> Value {
        loop {
            let state = self.expect("GET", &format!("/chat/task_state/{task}"), None, 200).await;
            if state["state"] != "PENDING" {
                return state;
            }
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
    }
}

fn unique(prefix: &str) -> String {
    format!("{prefix}_{}", &uuid::Uuid::new_v4().simple().to_string()[..10])
}

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

/// Runs futures at most `limit` at a time; their outputs in order.
pub async fn concurrently<F, T>(limit: usize, futures: impl IntoIterator<Item = F>) -> Vec<T>
where
    F: Future<Output = T> + Send + 'static,
    T: Send + 'static,
{
    let gate = Arc::new(tokio::sync::Semaphore::new(limit));
    let handles: Vec<_> = futures
        .into_iter()
        .map(|f| {
            let gate = gate.clone();
            tokio::spawn(async move {
                let _permit = gate.acquire().await.expect("semaphore open");
                f.await
            })
        })
        .collect();
    join_all(handles).await.into_iter().map(|r| r.expect("task")).collect()
}

pub async fn new_user(api: &Api) -> (u64, String) {
    let name = unique("bench");
    let user = api
        .expect(
            "POST",
            "/users/",
            Some(json!({"username": name, "password": "Passw0rd!", "profile": {}})),
            201,
        )
        .await;
    (user["id"].as_u64().unwrap(), name)
}

pub async fn new_room(api: &Api, members: &[&str]) -> u64 {
    let room_member: Vec<Value> = members.iter().map(|m| json!({"username": m})).collect();
    let body = json!({"room_name": unique("bench"), "room_member": room_member});
    api.expect("POST", "/chat/chatroom/", Some(body), 201).await["data"]["id"].as_u64().unwrap()
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

/// `per_client` requests from each of CLIENTS concurrent clients: latencies in ms and req/s.
pub(crate) async fn load<F, Fut>(clients: usize, per_client: usize, request: F) -> (Summary, f64)
where
    F: Fn(usize, usize) -> Fut + Clone + Send + 'static,
    Fut: Future<Output = ()> + Send,
{
    let started = Instant::now();
    let workers = (0..clients).map(|client| {
        let request = request.clone();
        tokio::spawn(async move {
            let mut samples = Vec::with_capacity(per_client);
            for i in 0..per_client {
                let t = Instant::now();
                request(client, i).await;
                samples.push(t.elapsed().as_secs_f64() * 1000.0);
            }
            samples
        })
    });
    let samples: Vec<f64> = join_all(workers).await.into_iter().flat_map(|s| s.expect("client")).collect();
    let rps = samples.len() as f64 / started.elapsed().as_secs_f64();
    (Summary::of(samples), rps)
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

/// Send-to-SUCCESS: one send at a time, its task polled every 2 ms.
async fn delivery(api: &Api, sends: usize) -> Summary {
    let (a, na) = new_user(api).await;
    let (_, nb) = new_user(api).await;
    let room = new_room(api, &[&na, &nb]).await;
    let mut samples = Vec::new();
    for i in 0..sends {
        let body = json!({"from": a, "text": format!("delivery {i}")});
        let task = api.expect("POST", &format!("/chat/group/{room}/"), Some(body), 202).await;
        let accepted = Instant::now();
        assert_eq!(api.finished(task["data"].as_str().unwrap()).await["state"], "SUCCESS");
        samples.push(accepted.elapsed().as_secs_f64() * 1000.0);
    }
    Summary::of(samples)
}

/// Rooms the worker's throughput is measured over: the queue delivers one room's jobs one
/// batch at a time, rooms in parallel.
const WORKER_ROOMS: usize = 20;

/// Jobs put straight on the queue (10 per SendMessageBatch) for 20 rooms of two, timed until
/// every message is stored: messages per second, and the worker's DynamoDB calls per message.
async fn worker_throughput(api: &Api, jobs: usize) -> (f64, f64, u64) {
    let (a, na) = new_user(api).await;
    let (_, nb) = new_user(api).await;
    let mut rooms = Vec::new();
    for _ in 0..WORKER_ROOMS {
        rooms.push(new_room(api, &[&na, &nb]).await);
    }
    let queue = var("QUEUE_URL");
    api.dynamodb_calls(true).await;
    let started = Instant::now();
    for chunk in (0..jobs).collect::<Vec<_>>().chunks(10) {
        let entries: Vec<SendMessageBatchRequestEntry> = chunk
            .iter()
            .map(|&i| {
                let room = rooms[i % WORKER_ROOMS];
                let id = (i / WORKER_ROOMS) as u64 + 1;
                let message = StoredMessage {
                    id,
                    room,
                    from_id: a,
                    from_username: na.clone(),
                    text: format!("job {i}"),
                    sent_at: domain::clock::timestamp(),
                    ..Default::default()
                };
                let job = Job::Send {
                    task_id: uuid::Uuid::new_v4().to_string(),
                    room_name: "bench".into(),
                    message,
                };
                SendMessageBatchRequestEntry::builder()
                    .id(i.to_string())
                    .message_body(job.body())
                    .message_group_id(job.group())
                    .build()
                    .unwrap()
            })
            .collect();
        api.sqs
            .send_message_batch()
            .queue_url(&queue)
            .set_entries(Some(entries))
            .send()
            .await
            .expect("SendMessageBatch");
    }
    // Done when the queues are empty: the poller deletes a job once the worker handled it.
    api.quiet().await;
    let rate = jobs as f64 / started.elapsed().as_secs_f64();
    // Then every message must be there, read back page by page.
    let mut stored = 0;
    for &room in &rooms {
        let mut before = None;
        loop {
            let page = api.store.history(room, 200, before).await.expect("history");
            stored += page.messages.len();
            match page.next_before {
                Some(next) => before = Some(next),
                None => break,
            }
        }
    }
    assert_eq!(stored, jobs, "the worker lost messages");
    let room = rooms[0];
    let counts = api.dynamodb_calls(false).await;
    let worker: u64 = counts.iter().filter(|(k, _)| k.starts_with("worker:")).map(|(_, v)| v).sum();
    (rate, worker as f64 / jobs as f64, room)
}

/// The emulator alone: a GetItem and a Query of the newest 100 messages of a room, straight
/// from this process, from one client and from CLIENTS at once: the floor under the routes.
async fn emulator_floor(api: &Api, room: u64) -> Value {
    let table = var("TABLE_NAME");
    let mut floor = json!({});
    for name in ["GetItem", "Query_100_items"] {
        for clients in [1, CLIENTS] {
            let (api, table) = (api.clone(), table.clone());
            let (latency, _) = load(clients, 50, move |_, _| {
                let (db, table) = (api.dynamodb.clone(), table.clone());
                async move {
                    if name == "GetItem" {
                        let (pk, sk) = keys::user(1);
                        db.get_item()
                            .table_name(table)
                            .key("pk", AttributeValue::S(pk))
                            .key("sk", AttributeValue::S(sk))
                            .consistent_read(true)
                            .send()
                            .await
                            .expect("GetItem");
                    } else {
                        db.query()
                            .table_name(table)
                            .limit(100)
                            .scan_index_forward(false)
                            .key_condition_expression("pk = :pk")
                            .expression_attribute_values(":pk", AttributeValue::S(keys::messages_pk(room)))
                            .send()
                            .await
                            .expect("Query");
                    }
                }
            })
            .await;
            floor[name][format!("clients_{clients}")] = latency.json();
        }
    }
    floor
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

/// Worker throughput alone (`scripts/bench worker`), for tuning the poller and the worker.
pub async fn worker(api: &Api, jobs: usize) -> Value {
    api.quiet().await;
    let (rate, calls, room) = worker_throughput(api, jobs).await;
    api.quiet().await;
    let ceiling = worker_ceiling(api, room, jobs / 10).await;
    json!({"jobs": jobs, "messages_per_s": round(rate), "dynamodb_calls_per_message": round(calls),
        "emulator_ceiling_messages_per_s": round(ceiling)})
}

/// The emulators alone doing what the worker pipeline asks of them per 10 messages of one room
/// (a SendMessageBatch, a ReceiveMessage, the members Query, a TransactWriteItems of the 10
/// messages and the room's state, a BatchWriteItem of the 10 tasks, a DeleteMessageBatch),
/// from 8 clients like the 8 pollers: the most messages per second any worker could reach here.
async fn worker_ceiling(api: &Api, room: u64, batches: usize) -> f64 {
    const POLLERS: usize = 8;
    let table = var("TABLE_NAME");
    let queue = api.sqs.create_queue().queue_name("bench-ceiling").send().await.expect("CreateQueue");
    let queue = queue.queue_url().expect("QueueUrl").to_string();
    let started = Instant::now();
    let api = api.clone();
    load(POLLERS, batches / POLLERS, move |c, i| {
        let (api, table, queue) = (api.clone(), table.clone(), queue.clone());
        async move {
            let s = |v: String| AttributeValue::S(v);
            let ids: Vec<String> = (0..10).map(|n| format!("{c}-{i}-{n}")).collect();
            let entries: Vec<SendMessageBatchRequestEntry> = ids
                .iter()
                .map(|id| SendMessageBatchRequestEntry::builder().id(id).message_body(id).build().unwrap())
                .collect();
            api.sqs
                .send_message_batch()
                .queue_url(&queue)
                .set_entries(Some(entries))
                .send()
                .await
                .expect("SendMessageBatch");
            let got = api
                .sqs
                .receive_message()
                .queue_url(&queue)
                .max_number_of_messages(10)
                .send()
                .await
                .expect("ReceiveMessage");
            api.dynamodb
                .query()
                .table_name(&table)
                .key_condition_expression("pk = :pk AND begins_with(sk, :member)")
                .expression_attribute_values(":pk", s(keys::room_pk(room)))
                .expression_attribute_values(":member", s(keys::MEMBER_PREFIX.into()))
                .consistent_read(true)
                .send()
                .await
                .expect("Query");
            use aws_sdk_dynamodb::types::{Put, PutRequest, TransactWriteItem, Update, WriteRequest};
            let item = |pk: String, sk: String| {
                std::collections::HashMap::from([
                    ("pk".to_string(), s(pk)),
                    ("sk".to_string(), s(sk)),
                    ("text".to_string(), s("ceiling".into())),
                ])
            };
            let mut txn: Vec<TransactWriteItem> = ids
                .iter()
                .map(|id| {
                    let put = Put::builder()
                        .table_name(&table)
                        .set_item(Some(item("BENCH#message".into(), id.clone())))
                        .condition_expression("attribute_not_exists(pk)")
                        .build()
                        .unwrap();
                    TransactWriteItem::builder().put(put).build()
                })
                .collect();
            let update = Update::builder()
                .table_name(&table)
                .key("pk", s(format!("BENCH#state-{c}")))
                .key("sk", s("STATE".into()))
                .update_expression("ADD #top :n")
                .expression_attribute_names("#top", "top")
                .expression_attribute_values(":n", AttributeValue::N("10".into()))
                .build()
                .unwrap();
            txn.push(TransactWriteItem::builder().update(update).build());
            api.dynamodb
                .transact_write_items()
                .set_transact_items(Some(txn))
                .send()
                .await
                .expect("TransactWriteItems");
            let tasks: Vec<WriteRequest> = ids
                .iter()
                .map(|id| {
                    WriteRequest::builder()
                        .put_request(
                            PutRequest::builder()
                                .set_item(Some(item("BENCH#task".into(), id.clone())))
                                .build()
                                .unwrap(),
                        )
                        .build()
                })
                .collect();
            api.dynamodb
                .batch_write_item()
                .request_items(&table, tasks)
                .send()
                .await
                .expect("BatchWriteItem");
            let received = got.messages.unwrap_or_default();
            if !received.is_empty() {
                let entries: Vec<DeleteMessageBatchRequestEntry> = received
                    .iter()
                    .enumerate()
                    .map(|(n, m)| {
                        DeleteMessageBatchRequestEntry::builder()
                            .id(n.to_string())
                            .receipt_handle(m.receipt_handle().unwrap())
                            .build()
                            .unwrap()
                    })
                    .collect();
                api.sqs
                    .delete_message_batch()
                    .queue_url(&queue)
                    .set_entries(Some(entries))
                    .send()
                    .await
                    .expect("DeleteMessageBatch");
            }
        }
    })
    .await;
    (batches / POLLERS * POLLERS * 10) as f64 / started.elapsed().as_secs_f64()
}
