//! Benchmarks, run by `scripts/bench`: prints one table and writes the figures as JSON.
//!
//! - per function, under a Lambda Runtime API stub (`runtime.rs`): cold start, i.e. process
//!   exec until the first invocation is answered, over BENCH_RUNS fresh processes (default 20);
//!   peak RSS after BENCH_INVOCATIONS warm invocations (default 1000); the zipped artifact size;
//! - through the local stack (`api.rs` its client) with 16 concurrent clients: latency and
//!   req/s of every route, the DynamoDB calls each makes (`stack.rs`), delivery latency, worker
//!   throughput, and the emulator's floor (`pipeline.rs`);
//! - live push (`push.rs`): stored to frame received at 1 and 100 connected clients;
//! - the message lifecycle (`lifecycle.rs`): edits, deletions, reactions, decorated history
//!   pages and keyed sends beside the routes they are held against;
//! - attachments (`files.rs`): upload URLs, sends with a file and pages of files beside plain ones;
//! - live room state (`live.rs`, `room_list.rs`): typing, presence writes, a list of 100 rooms with news.
//!
//! Environment: BIN_DIR (release binaries), LAMBDA_DIR (cargo lambda zips), BENCH_JSON (output
//! path), and the stack's API_URL, AWS_ENDPOINT_URL (moto: SQS), AWS_ENDPOINT_URL_DYNAMODB
//! (DynamoDB Local), DYNAMODB_PROXY_URL (the counting proxy, `proxy.rs`), RUN (its pids),
//! TABLE_NAME, QUEUE_URL, DLQ_URL.
//!
//! `bench proxy LISTEN TARGET` runs the counting proxy itself (scripts/bench starts it).

mod api;
mod cpu;
mod files;
mod functions;
mod lifecycle;
mod live;
mod original;
mod pipeline;
mod presign;
mod proxy;
mod push;
mod room_list;
mod runtime;
mod scale;
mod stack;
mod stats;

use serde_json::{json, Value};
use std::path::PathBuf;

fn setting(name: &str, default: usize) -> usize {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

fn path(name: &str) -> PathBuf {
    PathBuf::from(
        std::env::var(name).unwrap_or_else(|_| panic!("{name} must be set (scripts/bench sets it)")),
    )
}

#[tokio::main]
async fn main() {
    let phase = std::env::args().nth(1).unwrap_or_else(|| "all".into());
    if phase == "proxy" {
        let arg = |n: usize| std::env::args().nth(n).expect("usage: bench proxy LISTEN TARGET");
        return proxy::run(&arg(2), &arg(3)).await;
    }
    let mut report = json!({});
    if phase == "all" || phase == "functions" {
        let rows = functions::run(
            &path("BIN_DIR"),
            &path("LAMBDA_DIR"),
            setting("BENCH_RUNS", 20),
            setting("BENCH_INVOCATIONS", 1000),
        )
        .await;
        print_functions(&rows);
        report["functions"] = rows;
    }
    if phase == "all" || phase == "stack" {
        let stack = stack::run(
            setting("BENCH_PER_CLIENT", 25),
            setting("BENCH_DELIVERIES", 100),
            setting("BENCH_WORKER_JOBS", 2000),
        )
        .await;
        print_stack(&stack);
        report["stack"] = stack;
    }
    if phase == "all" || phase == "push" {
        let push = push::run(&api::Api::from_env().await, setting("BENCH_PUSH_MESSAGES", 50)).await;
        print_push(&push);
        report["push"] = push;
    }
    if phase == "worker" {
        let worker = pipeline::worker(&api::Api::from_env().await, setting("BENCH_WORKER_JOBS", 2000)).await;
        report["stack"] = json!({"worker": worker});
        print_worker(&report["stack"]["worker"]);
    }
    if phase == "lifecycle" {
        let run = lifecycle::run().await;
        print_lifecycle(&run);
        write_beside("lifecycle", &run);
        return;
    }
    if phase == "files" {
        let run = files::run().await;
        print_lifecycle(&run);
        let signing = &run["signing_50_urls_ms"];
        println!(
            "\nsigning a page's 50 download URLs, CPU only, p50: {} ms as the functions do (aws-sigv4), {} ms by the S3 client's presigner",
            ms(&signing["aws_sigv4_directly"]["p50"]),
            ms(&signing["s3_client_presigner"]["p50"])
        );
        write_beside("files", &run);
        return;
    }
    if phase == "live" {
        let run = live::run().await;
        print_live(&run);
        write_beside("live", &run);
        return;
    }
    if phase == "rooms" {
        // In results.json, so that a baseline's figures are kept beside (scripts/bench).
        report = room_list::run(&api::Api::from_env().await, 50).await;
        print_room_list(&report);
    }
    if phase == "original" {
        let run = original::run().await;
        print_original(&run);
        write_beside("original", &run);
        return;
    }
    if phase == "scale" {
        let scale = scale::run().await;
        print_scale(&scale);
        write_beside("scale", &scale);
        return;
    }
    let out = path("BENCH_JSON");
    std::fs::write(&out, serde_json::to_string_pretty(&report).unwrap()).expect("write the JSON report");
    println!("\nfigures written to {}", out.display());
}

/// Writes a phase's figures beside the main report, as `target/bench/{name}.json`.
fn write_beside(name: &str, run: &Value) {
    let out = path("BENCH_JSON").with_file_name(format!("{name}.json"));
    std::fs::write(&out, serde_json::to_string_pretty(run).unwrap()).expect("write the phase's JSON");
    println!("\nfigures written to {}", out.display());
}

fn ms(v: &Value) -> String {
    format!("{:.1}", v.as_f64().unwrap_or(f64::NAN))
}

fn print_functions(rows: &Value) {
    println!("\n| function | cold start p50 ms | p90 ms | peak RSS MB | zip MB |");
    println!("|---|---|---|---|---|");
    for r in rows.as_array().unwrap() {
        let zip = r["artifact_zip_mb"].as_f64().map(|v| format!("{v:.2}")).unwrap_or_else(|| "-".into());
        println!(
            "| {} | {} | {} | {:.1} | {zip} |",
            r["function"].as_str().unwrap(),
            ms(&r["cold_start_ms"]["p50"]),
            ms(&r["cold_start_ms"]["p90"]),
            r["peak_rss_mb"].as_f64().unwrap()
        );
    }
}

fn print_stack(stack: &Value) {
    println!("\n| route | 1 client p50 ms | {0} clients p50 ms | p90 ms | p99 ms | req/s | DynamoDB calls | DynamoDB Local CPU ms/call | moto CPU ms/request |", stack["clients"]);
    println!("|---|---|---|---|---|---|---|---|---|");
    for r in stack["routes"].as_array().unwrap() {
        let l = &r["latency_ms"];
        let per_call =
            r["dynamodb_cpu_ms_per_call"].as_f64().map(|v| format!("{v:.2}")).unwrap_or_else(|| "-".into());
        println!(
            "| {} | {} | {} | {} | {} | {:.0} | {} | {per_call} | {:.2} |",
            r["route"].as_str().unwrap(),
            ms(&r["latency_ms_one_client"]["p50"]),
            ms(&l["p50"]),
            ms(&l["p90"]),
            ms(&l["p99"]),
            r["requests_per_s"].as_f64().unwrap(),
            r["dynamodb_calls"],
            r["emulator_cpu_ms_per_request"]["moto"].as_f64().unwrap_or(0.0)
        );
    }
    let d = &stack["delivery_ms"];
    println!(
        "\ndelivery, send to SUCCESS: p50 {} ms, p90 {} ms, p99 {} ms",
        ms(&d["p50"]),
        ms(&d["p90"]),
        ms(&d["p99"])
    );
    print_worker(&stack["worker"]);
    let f = &stack["emulator_floor_ms"];
    for (name, label) in [("GetItem", "GetItem"), ("Query_100_items", "Query of 100 messages")] {
        println!("emulator floor, a bare DynamoDB Local {label} from this process: p50 {} ms from 1 client, {} ms from {} clients",
            ms(&f[name]["clients_1"]["p50"]), ms(&f[name][format!("clients_{}", stack["clients"])]["p50"]), stack["clients"]);
    }
}

fn print_lifecycle(run: &Value) {
    println!("\n| route | 1 client p50 ms | {0} clients p50 ms | p99 ms | req/s | DynamoDB calls | read units | write units |", run["clients"]);
    println!("|---|---|---|---|---|---|---|---|");
    for r in run["rows"].as_array().unwrap() {
        let alone = &r["one_client"];
        println!(
            "| {} | {} | {} | {} | {:.0} | {} | {} | {} |",
            r["route"].as_str().unwrap(),
            ms(&alone["latency_ms"]["p50"]),
            ms(&r["latency_ms"]["p50"]),
            ms(&r["latency_ms"]["p99"]),
            r["requests_per_s"].as_f64().unwrap(),
            alone["dynamodb_calls_by_operation"],
            alone["read_units"],
            alone["write_units"]
        );
    }
}

fn print_worker(w: &Value) {
    println!(
        "worker: {} messages/s end to end over {} jobs, {} DynamoDB calls per message",
        w["messages_per_s"], w["jobs"], w["dynamodb_calls_per_message"]
    );
    println!("emulator ceiling, the worker pipeline's calls per 10 messages made bare from 8 clients: {} messages/s",
        w["emulator_ceiling_messages_per_s"]);
}

fn print_push(p: &Value) {
    let connect = &p["clients_100"]["connect_ms"];
    println!(
        "\nWebSocket connect (handshake, $connect through the sockets function): p50 {} ms, p90 {} ms",
        ms(&connect["p50"]),
        ms(&connect["p90"])
    );
    println!("\n| live push, {} messages | stored to frame p50 ms | p90 ms | p99 ms | to the last client's frame p50 ms | send request to frame p50 ms | push function's DynamoDB calls per message |", p["messages"]);
    println!("|---|---|---|---|---|---|---|");
    for clients in [1, 100] {
        let c = &p[format!("clients_{clients}")];
        let f = &c["stored_to_frame_ms"];
        println!(
            "| {clients} connected member{} | {} | {} | {} | {} | {} | {} |",
            if clients == 1 { "" } else { "s" },
            ms(&f["p50"]),
            ms(&f["p90"]),
            ms(&f["p99"]),
            ms(&c["stored_to_last_frame_ms"]["p50"]),
            ms(&c["send_to_frame_ms"]["p50"]),
            c["push_dynamodb_calls_per_message"]
        );
    }
}

fn print_scale(s: &Value) {
    let w = &s["writes_per_delivery"];
    let u = &s["write_units_per_delivery"];
    println!("\n| room members | items written per message (send + delivery) | write units per message |");
    println!("|---|---|---|");
    for size in ["2", "50", "500"] {
        println!("| {size} | {} | {} |", w[size], u[size]);
    }
    let r = &s["reads_per_idle_poll_minute"];
    println!(
        "\nDynamoDB reads of an idle long-polling client per minute: in 1 room {}, in 1,000 rooms {}",
        r["1"], r["1000"]
    );
    println!("\n| hottest partition keys of the spread run | share of write units | share of read units |");
    println!("|---|---|---|");
    for k in s["hottest_partition_keys"].as_array().unwrap() {
        println!("| {} | {} | {} |", k["key"].as_str().unwrap(), k["share_of_writes"], k["share_of_reads"]);
    }
    println!("\n| projection | busiest key: writes/s | write units/s | reads/s | read units/s |");
    println!("|---|---|---|---|---|");
    for (name, label) in
        [("projected", "10,000 msgs/s over 10,000 rooms"), ("one_room", "1,000 msgs/s into one room")]
    {
        let p = &s[name];
        let b = &p["busiest"];
        println!(
            "| {label} | {} ({}) | {} ({}) | {} ({}) | {} ({}) |",
            p["max_key_writes_per_s"],
            b["writes"].as_str().unwrap_or(""),
            p["max_key_write_units_per_s"],
            b["write_units"].as_str().unwrap_or(""),
            p["max_key_reads_per_s"],
            b["reads"].as_str().unwrap_or(""),
            p["max_key_read_units_per_s"],
            b["read_units"].as_str().unwrap_or("")
        );
    }
}

fn print_original(r: &Value) {
    println!("\nthe original's workload: {} clients, {} sends then {} reads each, a new connection per request, on a warm stack; {} errors ({} in the first pass)",
        r["clients"], r["sends_per_client"], r["reads_per_client"], r["errors"], r["first_pass"]["errors"]);
    println!("\n| route | p50 ms | p90 ms | p99 ms | first pass p50 | server CPU ms/request alone | of it DynamoDB Local | moto | functions + cargo lambda watch | DynamoDB calls (worker's included) |");
    println!("|---|---|---|---|---|---|---|---|---|---|");
    let cpu = &r["cpu_per_request"];
    for (route, l) in r["latency_ms"].as_object().unwrap() {
        let c = &cpu[route];
        println!(
            "| {route} | {} | {} | {} | {} | {} | {} | {} | {} | {} |",
            ms(&l["p50"]),
            ms(&l["p90"]),
            ms(&l["p99"]),
            ms(&r["first_pass"]["latency_ms"][route]["p50"]),
            c["server_ms"],
            c["dynamodb_local_ms"],
            c["moto_ms"],
            c["functions_and_router_ms"],
            c["dynamodb_calls"]
        );
    }
    for (route, c) in cpu.as_object().unwrap() {
        println!(
            "  {route}: calls {}; CPU ms by process {}",
            c["dynamodb_calls_by_function"], c["by_process_ms"]
        );
    }
    let bare = &cpu["GET /chat/task_state/x (no I/O)"];
    println!("\nbare, not our code (8 clients): cargo lambda watch + a function without I/O p50 {} ms, CPU {} ms/request", ms(&bare["latency_ms"]["p50"]), bare["server_ms"]);
    for (name, b) in r["bare"].as_object().unwrap() {
        println!(
            "  {name}: p50 {} ms, server CPU {} ms/call",
            ms(&b["latency_ms"]["p50"]),
            b["cpu"]["server_ms"]
        );
    }
}

fn print_live(l: &Value) {
    let f = &l["typing"]["frame_ms"];
    println!("\n| typing frame, one client to another ({} frames) | p50 ms | p90 ms | p99 ms |", f["n"]);
    println!("|---|---|---|---|");
    println!("| send to arrival | {} | {} | {} |", ms(&f["p50"]), ms(&f["p90"]), ms(&f["p99"]));
    let s = &l["typing_storm"];
    println!(
        "\nTyping storm, 50 members sending {} frames: {} relayed by push, {} frames heard ({} beyond \
         one per sender and member), {} of 50 members heard every other, the last frame after {:.1} s; \
         {} DynamoDB writes, {} calls in all: {}",
        s["frames_sent"],
        s["relayed"],
        s["frames_heard"],
        s["repeats"],
        s["members_who_heard_everyone"],
        s["last_frame_after_s"].as_f64().unwrap_or(f64::NAN),
        s["dynamodb_writes"],
        s["dynamodb_calls"],
        s["calls"]
    );
    println!("\n| live connections in the room | DynamoDB writes of one more member's connect | of which presence PutItems |");
    println!("|---|---|---|");
    for online in ["10", "1000", "10000"] {
        let r = &l["presence"][online];
        println!("| {online} | {} | {} |", r["connect_writes"], r["presence_puts"]);
    }
    print_room_list(&l["room_list_100"]);
}

fn print_room_list(r: &Value) {
    println!(
        "\nGET /chat/chatroom/?user_id=N&limit=100 over 100 rooms with news: p50 {} ms, p90 {} ms; DynamoDB calls per request: {}; rooms showing a mention: {}",
        ms(&r["latency_ms"]["p50"]),
        ms(&r["latency_ms"]["p90"]),
        r["dynamodb_calls_per_request"],
        r["rooms_with_mentions_shown"]
    );
    let (floor, proxied) = (&r["emulator_floor_ms"], &r["through_proxy_floor_ms"]);
    println!(
        "floors, p50: a Query and the META BatchGetItem {} ms ({} through the proxy); a Query and the \
         delivery states' BatchGetItem {} ms ({}); the route above the latter, p50 {} ms",
        ms(&floor["query_and_meta"]["p50"]),
        ms(&proxied["query_and_meta"]["p50"]),
        ms(&floor["query_and_states"]["p50"]),
        ms(&proxied["query_and_states"]["p50"]),
        ms(&r["above_its_floor_ms"]["p50"])
    );
}
