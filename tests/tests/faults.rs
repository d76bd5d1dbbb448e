//! A backing service that fails gives a quick 503 with a JSON body, never a hang or a 500, and
//! changes nothing. These tests talk to a second copy of the API functions (`FAULT_API_URL`)
//! whose DynamoDB and SQS endpoints are ports this file controls: closed (the service is
//! down), a blackhole (it accepts and never answers), or a proxy to the real emulator.
//! Redis down is in `user_cache.rs`; the worker's faults are in `delivery.rs`.

use e2e::*;
use reqwest::Method;
use serde_json::{json, Value};
use std::time::{Duration, Instant};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Mutex;
use tokio::task::JoinHandle;

static SERIAL: Mutex<()> = Mutex::const_new(());

/// The SDK gives up after 5 s (its operation timeout); allow for retries' backoff around it.
const FAST: Duration = Duration::from_secs(10);

fn port(name: &str) -> u16 {
    std::env::var(name).unwrap_or_else(|_| panic!("{name} is set by scripts/test")).parse().unwrap()
}

/// What listens on a fault port while it lives.
struct Endpoint(JoinHandle<()>);

impl Drop for Endpoint {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// The previous test's endpoint is released by its runtime shortly after that test ends.
async fn bind(port: u16) -> TcpListener {
    for _ in 0..100 {
        if let Ok(listener) = TcpListener::bind(("127.0.0.1", port)).await {
            return listener;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("port {port} stays busy");
}

/// Waits until nothing listens on the port (a previous test's endpoint is gone).
async fn closed(port: u16) {
    for _ in 0..100 {
        if TcpStream::connect(("127.0.0.1", port)).await.is_err() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("port {port} stays open");
}

impl Endpoint {
    /// Accepts connections and never answers.
    async fn blackhole(port: u16) -> Endpoint {
        let listener = bind(port).await;
        Endpoint(tokio::spawn(async move {
            let mut held = Vec::new();
            while let Ok((socket, _)) = listener.accept().await {
                held.push(socket);
            }
        }))
    }

    /// Forwards every connection to the emulator of a service.
    async fn proxy(port: u16, service: &str) -> Endpoint {
        let listener = bind(port).await;
        let target = endpoint(service).trim_start_matches("http://").to_string();
        Endpoint(tokio::spawn(async move {
            while let Ok((mut inbound, _)) = listener.accept().await {
                let target = target.clone();
                tokio::spawn(async move {
                    if let Ok(mut outbound) = TcpStream::connect(target).await {
                        let _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound).await;
                    }
                });
            }
        }))
    }
}

async fn faulty(method: Method, path: &str, body: Option<Value>) -> (Reply, Duration) {
    let url = std::env::var("FAULT_API_URL").expect("FAULT_API_URL is set by scripts/test");
    let started = Instant::now();
    let reply = request_to(&url, method, path, body.map(Body::Json), None).await;
    (reply, started.elapsed())
}

fn assert_unavailable(r: &Reply, took: Duration, what: &str) {
    assert_eq!(r.status(), 503, "{what}: {}", r.text);
    assert!(took < FAST, "{what} took {took:?}");
    let message = r.json.get("msg").or_else(|| r.json.get("detail"));
    assert!(message.and_then(Value::as_str).is_some_and(|m| m.contains("unavailable")), "{what}: {}", r.text);
    assert!(!r.text.contains("Error") && !r.text.contains("127.0.0.1"), "{what} leaks internals: {}", r.text);
}

/// A task id as the API issues it: only such an id makes `task_state` read DynamoDB.
async fn a_task_id() -> String {
    signing().await.issue_task_id(
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_millis() as u64,
    )
}

/// One request per route that needs DynamoDB, with valid input.
fn every_route(room: u64, task: &str) -> Vec<(Method, String, Option<Value>)> {
    vec![
        (Method::GET, "/users/1/".into(), None),
        (
            Method::POST,
            "/users/".into(),
            Some(json!({"username": unique("down"), "password": "p", "profile": {}})),
        ),
        (Method::PATCH, "/users/1/".into(), Some(json!({"first_name": "x"}))),
        (Method::DELETE, "/users/999999/".into(), None),
        (Method::GET, "/chat/chatroom/".into(), None),
        (Method::GET, "/chat/chatroom/?user_id=1".into(), None),
        (Method::POST, "/chat/chatroom/".into(), Some(json!({"room_name": unique("down")}))),
        (Method::GET, format!("/chat/chatroom/{room}/"), None),
        (Method::PUT, format!("/chat/chatroom/{room}/?user_id=2"), None),
        (Method::DELETE, format!("/chat/chatroom/{room}/?user_id=1"), None),
        (Method::POST, "/chat/user/2/".into(), Some(json!({"from": 1, "text": "t"}))),
        (Method::POST, format!("/chat/group/{room}/"), Some(json!({"from": 1, "text": "t"}))),
        (Method::GET, format!("/chat/messages/{room}/?user_id=1"), None),
        (Method::GET, "/chat/messages/unseen/?user_id=1".into(), None),
        (Method::GET, format!("/chat/task_state/{task}"), None),
        (Method::PATCH, format!("/chat/messages/{room}/1/?user_id=1"), Some(json!({"text": "t"}))),
        (Method::DELETE, format!("/chat/messages/{room}/1/?user_id=1"), None),
        (Method::PUT, format!("/chat/messages/{room}/1/reactions/:ok:/?user_id=1"), None),
        (Method::DELETE, format!("/chat/messages/{room}/1/reactions/:ok:/?user_id=1"), None),
    ]
}

#[tokio::test]
async fn dynamodb_down_is_a_quick_json_503_on_every_route_and_changes_nothing() {
    let _serial = SERIAL.lock().await;
    closed(port("FAULT_DYNAMODB_PORT")).await;
    closed(port("FAULT_SQS_PORT")).await;
    let (room, _) = new_room(&["user_1"]).await;
    let before = get(&format!("/chat/chatroom/{room}/?user_id=1")).await.json;
    for (method, path, body) in every_route(room, &a_task_id().await) {
        let (r, took) = faulty(method.clone(), &path, body).await;
        assert_unavailable(&r, took, &format!("{method} {path}"));
    }
    // Bad input is still refused as such: it is checked before any call.
    let (r, _) = faulty(Method::POST, "/chat/chatroom/", Some(json!({"room_name": ""}))).await;
    assert_eq!(r.status(), 400);
    // Nothing changed: the same room, the same members, no message.
    assert_eq!(get(&format!("/chat/chatroom/{room}/?user_id=1")).await.json, before);
    assert!(get(&format!("/chat/messages/{room}/?user_id=1")).await.json["data"]["messages"]
        .as_array()
        .unwrap()
        .is_empty());
}

#[tokio::test]
async fn dynamodb_that_never_answers_is_a_503_within_seconds() {
    let _serial = SERIAL.lock().await;
    let _dynamodb = Endpoint::blackhole(port("FAULT_DYNAMODB_PORT")).await;
    let task = format!("/chat/task_state/{}", a_task_id().await);
    for path in ["/users/1/", "/chat/chatroom/", task.as_str()] {
        let (r, took) = faulty(Method::GET, path, None).await;
        assert_unavailable(&r, took, path);
    }
}

#[tokio::test]
async fn sqs_down_refuses_sends_but_reads_work() {
    let _serial = SERIAL.lock().await;
    let _dynamodb = Endpoint::proxy(port("FAULT_DYNAMODB_PORT"), "dynamodb").await;
    closed(port("FAULT_SQS_PORT")).await;
    let (a, na) = new_user("nosqs_a").await;
    let (b, nb) = new_user("nosqs_b").await;
    let (room, _) = new_room(&[&na, &nb]).await;
    delivered_group(room, a, "before the outage").await;

    let (r, took) =
        faulty(Method::POST, &format!("/chat/group/{room}/"), Some(json!({"from": a, "text": "lost?"})))
            .await;
    assert_unavailable(&r, took, "group send");
    let (r, took) =
        faulty(Method::POST, &format!("/chat/user/{b}/"), Some(json!({"from": a, "text": "lost?"}))).await;
    assert_unavailable(&r, took, "direct send");
    // Reads need no queue: seen marking that cannot be queued just leaves messages unseen.
    let (r, _) = faulty(Method::GET, &format!("/chat/messages/{room}/?user_id={b}"), None).await;
    assert_eq!(r.status(), 200, "{}", r.text);
    let (r, _) = faulty(Method::GET, &format!("/chat/messages/unseen/?user_id={b}"), None).await;
    assert_eq!(r.status(), 200, "{}", r.text);
    assert_eq!(r.json["data"][0]["messages"][0]["text"], "before the outage");
    // The refused sends left nothing behind.
    tokio::time::sleep(Duration::from_secs(1)).await;
    let history = get(&format!("/chat/messages/{room}/?user_id={a}")).await;
    let texts: Vec<&str> = history.json["data"]["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["text"].as_str().unwrap())
        .collect();
    assert_eq!(texts, ["before the outage"]);
}

#[tokio::test]
async fn the_functions_recover_when_the_services_come_back() {
    let _serial = SERIAL.lock().await;
    closed(port("FAULT_DYNAMODB_PORT")).await;
    let (r, _) = faulty(Method::GET, "/users/2/", None).await;
    assert_eq!(r.status(), 503);
    let _dynamodb = Endpoint::proxy(port("FAULT_DYNAMODB_PORT"), "dynamodb").await;
    let _sqs = Endpoint::proxy(port("FAULT_SQS_PORT"), "sqs").await;
    let (r, _) = faulty(Method::GET, "/users/2/", None).await;
    assert_eq!(r.status(), 200, "{}", r.text);
    let (a, na) = new_user("back").await;
    let (room, _) = new_room(&[&na]).await;
    let (r, _) =
        faulty(Method::POST, &format!("/chat/group/{room}/"), Some(json!({"from": a, "text": "back"}))).await;
    assert_eq!(r.status(), 202, "{}", r.text);
    let state = finished(r.json["data"].as_str().unwrap()).await;
    assert_eq!(state["state"], "SUCCESS");
}

#[tokio::test]
async fn a_keyed_send_refused_by_a_queue_outage_goes_through_when_retried() {
    let _serial = SERIAL.lock().await;
    let _dynamodb = Endpoint::proxy(port("FAULT_DYNAMODB_PORT"), "dynamodb").await;
    closed(port("FAULT_SQS_PORT")).await;
    let (a, na) = new_user("nosqs_key").await;
    let (room, _) = new_room(&[&na]).await;
    let path = format!("/chat/group/{room}/");
    let body = json!({"from": a, "text": "retried"});
    let send = |body: Value| {
        let url = std::env::var("FAULT_API_URL").expect("FAULT_API_URL is set by scripts/test");
        let path = path.clone();
        async move {
            request_with(
                &url,
                Method::POST,
                &path,
                Some(Body::Json(body)),
                None,
                &[("Idempotency-Key", "outage-1")],
            )
            .await
        }
    };
    let started = Instant::now();
    let r = send(body.clone()).await;
    assert_unavailable(&r, started.elapsed(), "keyed send without a queue");
    // The queue is back: the retry with the same key is a new send (the key was given back).
    let _sqs = Endpoint::proxy(port("FAULT_SQS_PORT"), "sqs").await;
    let r = send(body.clone()).await;
    assert_eq!(r.status(), 202, "{}", r.text);
    assert_eq!(finished(r.json["data"].as_str().unwrap()).await["state"], "SUCCESS");
    assert_eq!(send(body).await.json["data"], r.json["data"], "and now the key holds");
    let stored = all_messages(room, a).await.iter().filter(|m| m["text"] == "retried").count();
    assert_eq!(stored, 1);
}
