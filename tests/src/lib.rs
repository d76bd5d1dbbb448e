//! Helpers for the end-to-end tests in `tests/tests/`: one HTTP client for the stack that
//! `scripts/test` starts (its address comes in `API_URL`), small builders of test data, and a
//! way behind the API: the production store, queue and job types over the AWS SDK, pointed at
//! the stack's emulators. Every test makes its own users and rooms with unique names, so tests
//! run in parallel.

use aws_lambda_events::event::sqs::{SqsEvent, SqsMessage};
use domain::job::Job;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use services::queue::Queue;
use store::Store;

pub mod ws;

/// The one HTTP client of a test: each test runs on a thread and a runtime of its own, and a
/// client's pooled connections live on the runtime that opened them, so one client per test
/// thread, reused by every request of the test.
pub fn http() -> reqwest::Client {
    thread_local! {
        static CLIENT: reqwest::Client = reqwest::Client::new();
    }
    CLIENT.with(Clone::clone)
}

/// Base URL of the API under test.
pub fn api_url() -> String {
    std::env::var("API_URL").expect("API_URL is not set: run the end-to-end tests with scripts/test")
}

/// A response: status, the headers the tests look at, raw body and its JSON (Null if none).
#[derive(Debug, Default)]
pub struct Reply {
    pub status: StatusCode,
    pub cache: Option<String>,
    pub content_type: Option<String>,
    pub allow: Option<String>,
    pub link: Option<String>,
    pub authenticate: Option<String>,
    pub retry_after: Option<String>,
    pub text: String,
    pub json: Value,
}

impl Reply {
    pub fn status(&self) -> u16 {
        self.status.as_u16()
    }

    /// The target of `Link: <...>; rel="next"`, when there is a next page.
    pub fn next_page(&self) -> Option<String> {
        let link = self.link.as_deref()?;
        let (target, params) = link.split_once(';')?;
        params
            .contains("rel=\"next\"")
            .then(|| target.trim().trim_start_matches('<').trim_end_matches('>').to_string())
    }
}

pub async fn request(method: Method, path: &str, body: Option<Body>) -> Reply {
    request_to(&api_url(), method, path, body, None).await
}

/// A request to the API at `base`, with `Authorization: Bearer <token>` when given.
pub async fn request_to(
    base: &str,
    method: Method,
    path: &str,
    body: Option<Body>,
    token: Option<&str>,
) -> Reply {
    request_with(base, method, path, body, token, &[]).await
}

/// [`request_to`] with more headers.
pub async fn request_with(
    base: &str,
    method: Method,
    path: &str,
    body: Option<Body>,
    token: Option<&str>,
    headers: &[(&str, &str)],
) -> Reply {
    let mut req = http().request(method, format!("{base}{path}"));
    for (name, value) in headers {
        req = req.header(*name, *value);
    }
    if let Some(token) = token {
        req = req.bearer_auth(token);
    }
    match body {
        Some(Body::Json(v)) => req = req.header("content-type", "application/json").body(v.to_string()),
        Some(Body::Raw(s)) => req = req.header("content-type", "application/json").body(s),
        None => {}
    }
    let res = req.send().await.expect("the API answers");
    let status = res.status();
    let header = |name: &str| res.headers().get(name).map(|v| v.to_str().unwrap().to_string());
    let (cache, content_type, allow, link) =
        (header("x-cache"), header("content-type"), header("allow"), header("link"));
    let (authenticate, retry_after) = (header("www-authenticate"), header("retry-after"));
    let text = res.text().await.unwrap();
    let json = if text.is_empty() { Value::Null } else { serde_json::from_str(&text).unwrap_or(Value::Null) };
    Reply { status, cache, content_type, allow, link, authenticate, retry_after, text, json }
}

pub enum Body {
    Json(Value),
    Raw(String),
}

pub async fn get(path: &str) -> Reply {
    request(Method::GET, path, None).await
}

pub async fn post(path: &str, body: Value) -> Reply {
    request(Method::POST, path, Some(Body::Json(body))).await
}

pub async fn post_raw(path: &str, body: impl Into<String>) -> Reply {
    request(Method::POST, path, Some(Body::Raw(body.into()))).await
}

pub async fn patch(path: &str, body: Value) -> Reply {
    request(Method::PATCH, path, Some(Body::Json(body))).await
}

pub async fn put(path: &str, body: Option<Value>) -> Reply {
    request(Method::PUT, path, body.map(Body::Json)).await
}

pub async fn delete(path: &str) -> Reply {
    request(Method::DELETE, path, None).await
}

/// A username no other test uses.
pub fn unique(prefix: &str) -> String {
    format!("{prefix}_{}", &uuid::Uuid::new_v4().simple().to_string()[..12])
}

/// Creates a user with a unique name; returns (id, username).
pub async fn new_user(prefix: &str) -> (u64, String) {
    let name = unique(prefix);
    let r = post("/users/", json!({"username": name, "password": "Passw0rd!", "profile": {}})).await;
    assert_eq!(r.status(), 201, "creating {name}: {}", r.text);
    (r.json["id"].as_u64().unwrap(), name)
}

/// Creates a group room with a unique name and these members; returns (id, name).
pub async fn new_room(members: &[&str]) -> (u64, String) {
    let name = unique("room");
    let room_member: Vec<Value> = members.iter().map(|m| json!({"username": m})).collect();
    let r = post("/chat/chatroom/", json!({"room_name": name, "room_member": room_member})).await;
    assert_eq!(r.status(), 201, "creating {name}: {}", r.text);
    (r.json["data"]["id"].as_u64().unwrap(), name)
}

/// Checks the chat envelope of an error: `{"status": <http status>, "msg": "<text>"}`.
pub fn assert_error(r: &Reply, status: u16) {
    assert_eq!(r.status(), status, "{}", r.text);
    assert_eq!(r.json["status"], status, "envelope status equals HTTP status: {}", r.text);
    assert!(r.json["msg"].as_str().is_some_and(|m| !m.is_empty()), "readable msg: {}", r.text);
}

/// Usernames of a room's `room_member`, sorted.
pub fn member_names(room: &Value) -> Vec<String> {
    let mut names: Vec<String> = room["room_member"]
        .as_array()
        .unwrap_or_else(|| panic!("room_member in {room}"))
        .iter()
        .map(|m| m["username"].as_str().unwrap().to_string())
        .collect();
    names.sort();
    names
}

/// Runs requests concurrently, at most 16 at a time, and returns their replies in order.
///
/// The bound matters: `cargo lambda watch` 1.9 deadlocks for good once more than 100 requests
/// queue for one function (it awaits a full channel while holding its global lock).
pub async fn concurrently<F, T>(requests: impl IntoIterator<Item = F>) -> Vec<T>
where
    F: std::future::Future<Output = T> + Send + 'static,
    T: Send + 'static,
{
    let gate = std::sync::Arc::new(tokio::sync::Semaphore::new(16));
    let handles: Vec<_> = requests
        .into_iter()
        .map(|request| {
            let gate = gate.clone();
            tokio::spawn(async move {
                let _permit = gate.acquire().await.expect("semaphore open");
                request.await
            })
        })
        .collect();
    let mut replies = Vec::new();
    for handle in handles {
        replies.push(handle.await.expect("request task"));
    }
    replies
}

/// `POST /chat/user/{to}/` from `from`; asserts the 202 and returns the task id.
pub async fn send_direct(from: u64, to: u64, text: &str) -> String {
    accepted(post(&format!("/chat/user/{to}/"), json!({"from": from, "text": text})).await)
}

/// `POST /chat/group/{room}/` from `from`; asserts the 202 and returns the task id.
pub async fn send_group(room: u64, from: u64, text: &str) -> String {
    accepted(post(&format!("/chat/group/{room}/"), json!({"from": from, "text": text})).await)
}

fn accepted(r: Reply) -> String {
    assert_eq!(r.status(), 202, "{}", r.text);
    assert_eq!(r.json["status"], 202);
    assert_eq!(r.json["message"], "HTTP_202_ACCEPTED");
    let id = r.json["data"].as_str().expect("task id").to_string();
    assert!(uuid::Uuid::parse_str(&id).is_ok(), "task id is a UUID: {id}");
    id
}

/// Polls the task until it leaves PENDING (60 s at most) and returns `{"state", "result"}`.
pub async fn finished(task: &str) -> Value {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    loop {
        let r = get(&format!("/chat/task_state/{task}")).await;
        assert_eq!(r.status(), 200, "{}", r.text);
        if r.json["state"] != "PENDING" {
            return r.json;
        }
        assert!(std::time::Instant::now() < deadline, "task {task} still PENDING after 60 s");
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
}

/// Sends and waits for delivery; returns the stored message (the task's result).
pub async fn delivered_group(room: u64, from: u64, text: &str) -> Value {
    let task = finished(&send_group(room, from, text).await).await;
    assert_eq!(task["state"], "SUCCESS", "{task}");
    task["result"].clone()
}

/// `data` of `GET /chat/messages/unseen/?user_id=N`.
pub async fn unseen_of(user: u64) -> Value {
    let r = get(&format!("/chat/messages/unseen/?user_id={user}")).await;
    assert_eq!(r.status(), 200, "{}", r.text);
    r.json["data"].clone()
}

/// What a long poll answered, and when.
pub struct LongPoll {
    pub status: u16,
    pub data: Value,
    pub at: std::time::Instant,
}

/// `GET /chat/messages/unseen/?user_id=N&wait=S`, begun now in the background.
pub fn long_poll(user: u64, wait: u64) -> tokio::task::JoinHandle<LongPoll> {
    tokio::spawn(async move {
        let r = get(&format!("/chat/messages/unseen/?user_id={user}&wait={wait}")).await;
        LongPoll { status: r.status(), data: r.json["data"].clone(), at: std::time::Instant::now() }
    })
}

/// The whole history of a room as N sees it, oldest first, following `next_before` pages.
pub async fn all_messages(room: u64, user: u64) -> Vec<Value> {
    let mut messages: Vec<Value> = Vec::new();
    let mut page = format!("/chat/messages/{room}/?user_id={user}&limit=200");
    loop {
        let r = get(&page).await;
        assert_eq!(r.status(), 200, "{}", r.text);
        let mut older = r.json["data"]["messages"].as_array().unwrap().clone();
        older.extend(messages);
        messages = older;
        match r.json["data"]["next_before"].as_u64() {
            Some(id) => page = format!("/chat/messages/{room}/?user_id={user}&limit=200&before={id}"),
            None => return messages,
        }
    }
}

/// Waits (10 s at most) until the asynchronous "seen" marking leaves nothing unseen for N.
pub async fn until_nothing_unseen(user: u64) {
    for _ in 0..100 {
        if unseen_of(user).await == json!([]) {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    panic!("user {user} still has unseen messages after 10 s");
}

/// The emulator's URL for a service, as the SDKs find it: `AWS_ENDPOINT_URL_<SERVICE>`, else
/// `AWS_ENDPOINT_URL` (scripts/test: DynamoDB Local for DynamoDB, moto for the rest).
pub fn endpoint(service: &str) -> String {
    std::env::var(format!("AWS_ENDPOINT_URL_{}", service.to_uppercase()))
        .or_else(|_| std::env::var("AWS_ENDPOINT_URL"))
        .expect("AWS_ENDPOINT_URL is set by scripts/test")
}

/// The production store over the stack's table, to look behind the API (read positions, a
/// task as the API records it). Built per use: SDK clients, like HTTP clients, keep their
/// connections on the runtime of the test that made them.
pub async fn store() -> Store {
    services::config::store(&services::config::aws().await)
}

/// The stack's signing keys, as the functions read them.
pub async fn signing() -> services::signing::Signing {
    services::config::signing(&services::config::aws().await).await
}

/// Every item of the table holding `text` in any of its string attributes, as (pk, sk): one
/// Scan of the whole (test-sized) table, to prove that something is erased, not hidden.
pub async fn items_holding(text: &str) -> Vec<(String, String)> {
    use aws_sdk_dynamodb::types::AttributeValue as A;
    fn holds(value: &A, text: &str) -> bool {
        match value {
            A::S(s) => s.contains(text),
            A::L(list) => list.iter().any(|v| holds(v, text)),
            A::M(map) => map.values().any(|v| holds(v, text)),
            A::Ss(set) => set.iter().any(|s| s.contains(text)),
            _ => false,
        }
    }
    let db = aws_sdk_dynamodb::Client::new(&services::config::aws().await);
    let table = std::env::var("TABLE_NAME").expect("TABLE_NAME is set by scripts/test");
    let pages = db.scan().table_name(table).into_paginator().items().send();
    let items: Vec<_> = pages.collect::<Vec<_>>().await.into_iter().map(|i| i.expect("scan")).collect();
    let key = |item: &std::collections::HashMap<String, A>, k: &str| item[k].as_s().unwrap().clone();
    items
        .iter()
        .filter(|item| item.values().any(|v| holds(v, text)))
        .map(|item| (key(item, "pk"), key(item, "sk")))
        .collect()
}

/// The stack's SQS, through the SDK.
pub async fn sqs() -> aws_sdk_sqs::Client {
    aws_sdk_sqs::Client::new(&services::config::aws().await)
}

/// The job queue, as the functions send to it.
pub async fn job_queue() -> Queue {
    Queue::new(sqs().await, std::env::var("QUEUE_URL").expect("QUEUE_URL is set by scripts/test"))
}

/// Invokes the worker through the Lambda Invoke API with an SQS event of these record bodies
/// (jobs, or anything else a queue could carry), as if the queue delivered them; returns the
/// worker's batch response.
pub async fn invoke_worker(bodies: &[String]) -> Value {
    let url = std::env::var("WORKER_URL").expect("WORKER_URL is set by scripts/test");
    let mut event = SqsEvent::default();
    event.records = bodies
        .iter()
        .map(|body| {
            let mut record = SqsMessage::default();
            record.message_id = Some(uuid::Uuid::new_v4().to_string());
            record.receipt_handle = Some("test".into());
            record.body = Some(body.clone());
            record.event_source = Some("aws:sqs".into());
            record.event_source_arn = Some("arn:aws:sqs:us-east-1:123456789012:test".into());
            record.aws_region = Some("us-east-1".into());
            record
        })
        .collect();
    let res = http().post(url).json(&event).send().await.expect("worker invoke");
    assert!(res.status().is_success());
    res.json().await.unwrap()
}

/// A send job as the API queues it, for `room` (id, name) from `from` (id, username), under a
/// given message id and task; `sent_at` is now.
pub fn send_job(task: &str, room: (u64, &str), from: (u64, &str), id: u64, text: &str) -> Job {
    let message = domain::model::StoredMessage {
        id,
        room: room.0,
        from_id: from.0,
        from_username: from.1.into(),
        text: text.into(),
        sent_at: domain::clock::timestamp(),
        ..Default::default()
    };
    Job::Send { task_id: task.into(), room_name: room.1.into(), message }
}

/// The bodies of jobs, as the functions queue them.
pub fn bodies(jobs: &[Job]) -> Vec<String> {
    jobs.iter().map(Job::body).collect()
}
