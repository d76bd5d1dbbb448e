//! The bench's client of the local stack: its HTTP API, the counting proxy's figures, the
//! queues, and the helpers every phase builds its fixtures and load with.

use crate::stats::Summary;
use aws_sdk_dynamodb::types::{AttributeValue, KeysAndAttributes};
use aws_sdk_dynamodb::Client;
use domain::keys::Key;
use futures_util::future::join_all;
use serde_json::{json, Value};
use std::collections::{BTreeMap, HashMap};
use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, Instant};
use store::Store;

pub const CLIENTS: usize = 16;

#[derive(Clone)]
pub struct Api {
    pub(crate) http: reqwest::Client,
    pub(crate) base: String,
    pub(crate) proxy: String,
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

/// A table key as the SDK takes it.
pub fn key_map((pk, sk): Key) -> HashMap<String, AttributeValue> {
    HashMap::from([("pk".into(), AttributeValue::S(pk)), ("sk".into(), AttributeValue::S(sk))])
}

/// One strongly consistent BatchGetItem of `keys` (at most 100), until none is left unprocessed.
pub async fn batch_get(db: &Client, table: &str, keys: Vec<Key>) {
    let mut pending: Vec<_> = keys.into_iter().map(key_map).collect();
    while !pending.is_empty() {
        let request =
            KeysAndAttributes::builder().set_keys(Some(pending)).consistent_read(true).build().unwrap();
        let out = db.batch_get_item().request_items(table, request).send().await.expect("BatchGetItem");
        pending = out.unprocessed_keys.and_then(|mut u| u.remove(table)).map(|k| k.keys).unwrap_or_default();
    }
}
