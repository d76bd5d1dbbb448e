//! Per function: cold start (process exec until its first invocation is answered) and peak RSS
//! after warm invocations, each function run as Lambda runs it, under the Runtime API stub.

use crate::runtime::Stub;
use crate::stats::Summary;
use bytes::Bytes;
use serde_json::{json, Value};
use std::path::Path;
use std::process::Stdio;
use std::time::{Duration, Instant};
use tokio::process::{Child, Command};

pub const FUNCTIONS: [&str; 9] =
    ["users", "chatrooms", "messages", "tasks", "worker", "auth", "web", "sockets", "push"];

/// The first invocation's event: bench/events/<function>.json, or from BENCH_EVENTS if set.
/// Each shipped event makes exactly one DynamoDB call, so cold starts compare like with like
/// (auth's, a refresh with a malformed token, and web's, the page, make none; sockets' is a
/// `$disconnect`, push's a membership to a user without connections).
fn event(function: &str) -> Bytes {
    let dir = std::env::var("BENCH_EVENTS")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|_| Path::new(env!("CARGO_MANIFEST_DIR")).join("events"));
    let path = dir.join(format!("{function}.json"));
    Bytes::from(std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display())))
}

/// Starts the function binary against the stub, with the environment Lambda gives it.
fn spawn(bin_dir: &Path, function: &str, stub: &Stub) -> Child {
    Command::new(bin_dir.join(function))
        .env("AWS_LAMBDA_RUNTIME_API", stub.addr.to_string())
        .env("AWS_LAMBDA_FUNCTION_NAME", function)
        .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "256")
        .env("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
        .env("AWS_LAMBDA_LOG_GROUP_NAME", format!("/aws/lambda/{function}"))
        .env("AWS_LAMBDA_LOG_STREAM_NAME", "bench")
        .env("AWS_LAMBDA_LOG_FORMAT", "JSON")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .unwrap_or_else(|e| panic!("starting {function}: {e}"))
}

async fn answer(stub: &mut Stub, function: &str) -> crate::runtime::Answer {
    let answer = tokio::time::timeout(Duration::from_secs(10), stub.answer())
        .await
        .unwrap_or_else(|_| panic!("{function} did not answer within 10 s"))
        .expect("stub alive");
    assert!(answer.ok, "{function} failed: {}", String::from_utf8_lossy(&answer.body));
    answer
}

/// Milliseconds from exec to the first answer, for `runs` fresh processes.
pub async fn cold_starts(bin_dir: &Path, function: &str, runs: usize) -> Summary {
    let mut samples = Vec::with_capacity(runs);
    for _ in 0..runs {
        let mut stub = Stub::start().await;
        stub.push(event(function));
        let started = Instant::now();
        let mut child = spawn(bin_dir, function, &stub);
        let answered = answer(&mut stub, function).await;
        samples.push(answered.at.duration_since(started).as_secs_f64() * 1000.0);
        let _ = child.kill().await;
    }
    Summary::of(samples)
}

/// Peak resident memory (VmHWM) of one process after `invocations` warm invocations, in MB.
pub async fn peak_rss(bin_dir: &Path, function: &str, invocations: usize) -> f64 {
    let mut stub = Stub::start().await;
    let event = event(function);
    for _ in 0..invocations {
        stub.push(event.clone());
    }
    let mut child = spawn(bin_dir, function, &stub);
    for _ in 0..invocations {
        answer(&mut stub, function).await;
    }
    let pid = child.id().expect("running");
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).expect("procfs");
    let kb: f64 = status
        .lines()
        .find(|l| l.starts_with("VmHWM:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse().ok())
        .expect("VmHWM in /proc/<pid>/status");
    let _ = child.kill().await;
    kb / 1024.0
}

/// Size in MB of the deploy artifact `cargo lambda build --output-format zip` wrote.
pub fn artifact_mb(lambda_dir: &Path, function: &str) -> Option<f64> {
    let size = std::fs::metadata(lambda_dir.join(function).join("bootstrap.zip")).ok()?.len();
    Some(size as f64 / 1_000_000.0)
}

pub async fn run(bin_dir: &Path, lambda_dir: &Path, runs: usize, invocations: usize) -> Value {
    let mut rows = Vec::new();
    for function in FUNCTIONS {
        let cold = cold_starts(bin_dir, function, runs).await;
        let rss = peak_rss(bin_dir, function, invocations).await;
        let zip = artifact_mb(lambda_dir, function);
        rows.push(json!({"function": function, "cold_start_ms": cold.json(), "peak_rss_mb": rss, "artifact_zip_mb": zip}));
    }
    json!(rows)
}
