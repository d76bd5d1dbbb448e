//! `bench proxy LISTEN TARGET`: a counting HTTP proxy in front of DynamoDB Local. The bench's
//! stack points the functions at it (`DYNAMODB_PROXY` in scripts/lib.sh). Every request and
//! response passes through unchanged; on the way it counts:
//! - calls by caller and operation (`users:GetItem`; the caller is the app name the SDK puts in
//!   its user agent, which our functions set to their Lambda function name);
//! - per partition key and per item, the items read and written and their capacity units,
//!   computed from item sizes by DynamoDB's published rules (DynamoDB Local's own
//!   `ConsumedCapacity` is not faithful: a 100-item transaction reports 2 units).
//!
//! `GET /_chat/dynamodb-calls` returns the calls, `GET /_chat/dynamodb-keys` the per-key
//! traffic; `DELETE` on either resets everything. Per-key traffic is counted only from a
//! `DELETE /_chat/dynamodb-keys` to the next `GET` of it (the scale phase's window): parsing
//! every request and answer costs CPU and latency that the other phases would measure as ours.

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::service::service_fn;
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use serde_json::{json, Map, Value};
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use tokio::net::TcpListener;

/// Traffic of one partition key (or one item).
#[derive(Default, Clone, Copy)]
struct Traffic {
    read_requests: u64,
    items_read: u64,
    read_units: f64,
    items_written: u64,
    write_units: f64,
}

impl Traffic {
    fn json(&self) -> Value {
        json!({"read_requests": self.read_requests, "items_read": self.items_read, "read_units": self.read_units,
               "items_written": self.items_written, "write_units": self.write_units})
    }
}

#[derive(Default)]
struct Counts {
    calls: BTreeMap<String, u64>,
    partitions: BTreeMap<String, Traffic>,
    items: BTreeMap<String, Traffic>,
    /// Whether per-key traffic is being counted (see the module).
    tracking_keys: bool,
}

pub async fn run(listen: &str, target: &str) {
    let listener = TcpListener::bind(listen).await.unwrap_or_else(|e| panic!("bind {listen}: {e}"));
    let counts = Arc::new(Mutex::new(Counts::default()));
    let http = reqwest::Client::builder().pool_max_idle_per_host(64).build().expect("http client");
    let target = format!("http://{target}");
    loop {
        let Ok((stream, _)) = listener.accept().await else { continue };
        let (counts, http, target) = (counts.clone(), http.clone(), target.clone());
        tokio::spawn(async move {
            let service = service_fn(move |req| handle(counts.clone(), http.clone(), target.clone(), req));
            let _ = hyper::server::conn::http1::Builder::new()
                .serve_connection(TokioIo::new(stream), service)
                .await;
        });
    }
}

async fn handle(
    counts: Arc<Mutex<Counts>>,
    http: reqwest::Client,
    target: String,
    req: Request<hyper::body::Incoming>,
) -> Result<Response<Full<Bytes>>, hyper::Error> {
    let path = req.uri().path().to_string();
    if path.starts_with("/_chat/") {
        return Ok(stats(&counts, &path, req.method() == hyper::Method::DELETE));
    }
    let (parts, body) = req.into_parts();
    let body = body.collect().await?.to_bytes();
    let operation = parts
        .headers
        .get("x-amz-target")
        .and_then(|v| v.to_str().ok())
        .and_then(|t| t.split('.').nth(1))
        .unwrap_or("")
        .to_string();
    let agent = ["x-amz-user-agent", "user-agent"]
        .iter()
        .filter_map(|h| parts.headers.get(*h).and_then(|v| v.to_str().ok()))
        .collect::<Vec<_>>()
        .join(" ");
    let app = agent.split_whitespace().find_map(|p| p.strip_prefix("app/")).unwrap_or("").to_string();

    let mut forward = http.request(parts.method.clone(), format!("{target}{}", parts.uri));
    for (name, value) in &parts.headers {
        if name != "host" && name != "content-length" {
            forward = forward.header(name, value);
        }
    }
    let answer = match forward.body(body.clone()).send().await {
        Ok(answer) => answer,
        Err(e) => {
            return Ok(Response::builder().status(502).body(Full::new(Bytes::from(e.to_string()))).unwrap());
        }
    };
    let status = answer.status();
    let headers = answer.headers().clone();
    let answer_body = answer.bytes().await.unwrap_or_default();

    if !operation.is_empty() {
        let tracking = {
            let mut counts = counts.lock().unwrap();
            *counts.calls.entry(format!("{app}:{operation}")).or_default() += 1;
            counts.tracking_keys
        };
        if tracking && status.is_success() {
            let request: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
            let response: Value = serde_json::from_slice(&answer_body).unwrap_or(Value::Null);
            record(&mut counts.lock().unwrap(), &operation, &request, &response);
        }
    }
    let mut response = Response::builder().status(status);
    for (name, value) in &headers {
        if name != "content-length" && name != "transfer-encoding" {
            response = response.header(name, value);
        }
    }
    Ok(response.body(Full::new(answer_body)).unwrap())
}

fn stats(counts: &Mutex<Counts>, path: &str, reset: bool) -> Response<Full<Bytes>> {
    let mut counts = counts.lock().unwrap();
    let keys = path == "/_chat/dynamodb-keys";
    let body = if keys {
        let table = |m: &BTreeMap<String, Traffic>| -> Map<String, Value> {
            m.iter().map(|(k, t)| (k.clone(), t.json())).collect()
        };
        json!({"partitions": table(&counts.partitions), "items": table(&counts.items)})
    } else {
        json!(counts.calls)
    };
    if reset {
        *counts = Counts::default();
    }
    if keys {
        counts.tracking_keys = reset;
    }
    Response::builder()
        .header("content-type", "application/json")
        .body(Full::new(Bytes::from(body.to_string())))
        .unwrap()
}

/// Counts what one successful call read and wrote, per partition key and per item.
fn record(counts: &mut Counts, operation: &str, request: &Value, response: &Value) {
    let consistent = |r: &Value| r["ConsistentRead"].as_bool().unwrap_or(false);
    match operation {
        "GetItem" => {
            if let Some(item) = response.get("Item") {
                read(counts, item, 1, read_units(size(item), consistent(request)));
            }
        }
        "BatchGetItem" => {
            for (table, items) in response["Responses"].as_object().into_iter().flatten() {
                let strong = consistent(&request["RequestItems"][table]);
                for item in items.as_array().into_iter().flatten() {
                    read(counts, item, 1, read_units(size(item), strong));
                }
            }
        }
        "TransactGetItems" => {
            for r in response["Responses"].as_array().into_iter().flatten() {
                read(counts, &r["Item"], 1, 2.0 * read_units(size(&r["Item"]), true));
            }
        }
        "Query" => {
            let items: Vec<&Value> = response["Items"].as_array().into_iter().flatten().collect();
            let pk = request["ExpressionAttributeValues"]
                .as_object()
                .and_then(|values| {
                    let condition = request["KeyConditionExpression"].as_str().unwrap_or("");
                    let name = condition.split("pk = ").nth(1)?.split_whitespace().next()?;
                    values.get(name)
                })
                .and_then(|v| v["S"].as_str())
                .unwrap_or("?")
                .to_string();
            let total: usize = items.iter().map(|i| size(i)).sum();
            let units = read_units(total, consistent(request));
            let t = counts.partitions.entry(pk).or_default();
            t.read_requests += 1;
            t.items_read += items.len() as u64;
            t.read_units += units;
        }
        "PutItem" => write(counts, &request["Item"], write_units(size(&request["Item"]))),
        // By the item's size when the answer holds it (ReturnValues), else at least 1 unit.
        "UpdateItem" | "DeleteItem" => {
            let units = response.get("Attributes").map_or(1.0, |item| write_units(size(item)));
            write(counts, &request["Key"], units)
        }
        "BatchWriteItem" => {
            for requests in request["RequestItems"].as_object().into_iter().flat_map(|m| m.values()) {
                for r in requests.as_array().into_iter().flatten() {
                    if let Some(item) = r["PutRequest"].get("Item") {
                        write(counts, item, write_units(size(item)));
                    } else {
                        write(counts, &r["DeleteRequest"]["Key"], 1.0);
                    }
                }
            }
        }
        "TransactWriteItems" => {
            for entry in request["TransactItems"].as_array().into_iter().flatten() {
                if let Some(put) = entry.get("Put") {
                    write(counts, &put["Item"], 2.0 * write_units(size(&put["Item"])));
                } else if let Some(op) = entry.get("Update").or_else(|| entry.get("Delete")) {
                    write(counts, &op["Key"], 2.0);
                } else if let Some(check) = entry.get("ConditionCheck") {
                    // Charged like a write of the item, without writing it.
                    let t = counts.partitions.entry(pk_of(&check["Key"])).or_default();
                    t.write_units += 2.0;
                }
            }
        }
        _ => {}
    }
}

fn pk_of(item: &Value) -> String {
    item["pk"]["S"].as_str().unwrap_or("?").to_string()
}

fn item_key(item: &Value) -> String {
    format!("{}|{}", pk_of(item), item["sk"]["S"].as_str().unwrap_or("?"))
}

fn read(counts: &mut Counts, item: &Value, requests: u64, units: f64) {
    for t in
        [counts.partitions.entry(pk_of(item)).or_default(), counts.items.entry(item_key(item)).or_default()]
    {
        t.read_requests += requests;
        t.items_read += 1;
        t.read_units += units;
    }
}

fn write(counts: &mut Counts, item: &Value, units: f64) {
    for t in
        [counts.partitions.entry(pk_of(item)).or_default(), counts.items.entry(item_key(item)).or_default()]
    {
        t.items_written += 1;
        t.write_units += units;
    }
}

/// Read units: 4 KB each, rounded up; eventually consistent reads cost half.
fn read_units(bytes: usize, consistent: bool) -> f64 {
    let units = bytes.div_ceil(4096).max(1) as f64;
    if consistent {
        units
    } else {
        units / 2.0
    }
}

/// Write units: 1 KB each, rounded up.
fn write_units(bytes: usize) -> f64 {
    bytes.div_ceil(1024).max(1) as f64
}

/// An item's size by DynamoDB's rules: attribute names plus values (strings and binaries by
/// length, numbers about one byte per two digits plus one, containers 3 bytes plus contents).
fn size(item: &Value) -> usize {
    item.as_object().map(|m| m.iter().map(|(name, v)| name.len() + value_size(v)).sum()).unwrap_or(0)
}

fn value_size(value: &Value) -> usize {
    let Some((kind, v)) = value.as_object().and_then(|m| m.iter().next()) else { return 0 };
    match kind.as_str() {
        "S" | "B" => v.as_str().map_or(0, str::len),
        "N" => v.as_str().map_or(0, |n| n.trim_start_matches('-').len().div_ceil(2) + 1),
        "BOOL" | "NULL" => 1,
        "SS" | "BS" => v.as_array().map_or(0, |a| a.iter().filter_map(Value::as_str).map(str::len).sum()),
        "NS" => v
            .as_array()
            .map_or(0, |a| a.iter().filter_map(Value::as_str).map(|n| n.len().div_ceil(2) + 1).sum()),
        "L" => 3 + v.as_array().map_or(0, |a| a.iter().map(|e| 1 + value_size(e)).sum()),
        "M" => 3 + v.as_object().map_or(0, |m| m.iter().map(|(k, e)| 1 + k.len() + value_size(e)).sum()),
        _ => 0,
    }
}
