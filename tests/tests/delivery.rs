//! Delivery guarantees, proven by breaking things: duplicate deliveries, a worker killed in the
//! middle of its batches and restarted, a poison job that ends in the dead-letter queue, and
//! ordering under concurrent senders.
//!
//! These tests kill and restart the worker, so they run one at a time (the lock below) in a
//! binary of their own: `cargo test` runs test binaries one after another.

use domain::job::Job;
use domain::model::{Position, StoredMessage};
use e2e::*;
use serde_json::{json, Value};
use std::collections::HashMap;
use std::process::Command;
use tokio::sync::Mutex;

static SERIAL: Mutex<()> = Mutex::const_new(());

fn run_dir() -> String {
    std::env::var("RUN").expect("RUN is set by scripts/test")
}

/// The job the API queued for a delivered message, rebuilt from its task's result.
fn job_of(task: &str, result: &Value) -> Job {
    let text = |v: &Value| v.as_str().unwrap().to_string();
    let message = StoredMessage {
        id: result["id"].as_u64().unwrap(),
        room: result["room"]["id"].as_u64().unwrap(),
        from_id: result["msg_from"]["id"].as_u64().unwrap(),
        from_username: text(&result["msg_from"]["username"]),
        text: text(&result["text"]),
        sent_at: text(&result["sent_at"]),
        ..Default::default()
    };
    Job::Send { task_id: task.to_string(), room_name: text(&result["room"]["room_name"]), message }
}

#[tokio::test]
async fn duplicate_deliveries_store_one_message_and_never_resurrect_seen_ones() {
    let _serial = SERIAL.lock().await;
    let (a, na) = new_user("dup_a").await;
    let (b, nb) = new_user("dup_b").await;
    let (room, _) = new_room(&[&na, &nb]).await;
    let task = send_group(room, a, "only once").await;
    let state = finished(&task).await;
    assert_eq!(state["state"], "SUCCESS");
    // b reads it, so b's unseen entry is gone.
    assert_eq!(unseen_of(b).await[0]["messages"].as_array().unwrap().len(), 1);
    until_nothing_unseen(b).await;

    let job = job_of(&task, &state["result"]);
    // The same job twice in one batch, then again in another batch: nothing fails, nothing new.
    assert_eq!(invoke_worker(&bodies(&[job.clone(), job.clone()])).await, json!({"batchItemFailures": []}));
    assert_eq!(invoke_worker(&bodies(std::slice::from_ref(&job))).await, json!({"batchItemFailures": []}));
    // And twice more through the real queue.
    let queue = job_queue().await;
    queue.send(&job).await.unwrap();
    queue.send(&job).await.unwrap();
    let marker = delivered_group(room, a, "after the duplicates").await;

    let texts: Vec<Value> = all_messages(room, a).await.iter().map(|m| m["text"].clone()).collect();
    assert_eq!(texts, [json!("only once"), json!("after the duplicates")]);
    assert_eq!(finished(&task).await, state, "the task keeps its first result");
    let unseen = unseen_of(b).await;
    assert_eq!(
        unseen[0]["messages"].as_array().unwrap().len(),
        1,
        "only the new message is unseen: {unseen}"
    );
    assert_eq!(unseen[0]["messages"][0]["id"], marker["id"]);
}

#[tokio::test]
async fn a_job_that_breaks_its_batch_does_not_hold_back_the_others() {
    let _serial = SERIAL.lock().await;
    let (a, na) = new_user("batch_a").await;
    let (room, name) = new_room(&[&na]).await;
    // Two jobs claiming one task cannot have their tasks written in one batch, so the room's
    // delivery as a whole fails and goes again job by job.
    let signing = signing().await;
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_millis() as u64;
    let task = signing.issue_task_id(now);
    let job = |id: u64, task: &str, text: &str| send_job(task, (room, &name), (a, &na), id, text);
    let base = 900_000_000_000 + room * 10;
    let good_task = signing.issue_task_id(now);
    let batch = [
        job(base, &task, "twin one"),
        job(base + 1, &task, "twin two"),
        job(base + 2, &good_task, "innocent"),
    ];
    assert_eq!(invoke_worker(&bodies(&batch)).await, json!({"batchItemFailures": []}));
    let texts: Vec<Value> = all_messages(room, a).await.iter().map(|m| m["text"].clone()).collect();
    assert!(texts.contains(&json!("innocent")), "{texts:?}");
    assert_eq!(get(&format!("/chat/task_state/{good_task}")).await.json["state"], "SUCCESS");
}

#[tokio::test]
async fn two_sends_of_the_same_microsecond_are_both_stored_once_each() {
    let _serial = SERIAL.lock().await;
    let (a, na) = new_user("tie_a").await;
    let (room, name) = new_room(&[&na]).await;
    // Two API instances can accept sends to one room in the same microsecond: the same id.
    let (id, _) = domain::clock::accepted_now();
    let signing = signing().await;
    let job = |text: &str| send_job(&signing.issue_task_id(id / 1000), (room, &name), (a, &na), id, text);
    let (first, second) = (job("first of the tie"), job("second of the tie"));
    // The second in a batch of its own, twice over (a redelivery), after the first.
    for batch in [vec![first.clone()], vec![second.clone()], vec![second.clone(), first.clone()]] {
        assert_eq!(invoke_worker(&bodies(&batch)).await, json!({"batchItemFailures": []}));
    }
    let messages = all_messages(room, a).await;
    let stored: Vec<(u64, &str)> =
        messages.iter().map(|m| (m["id"].as_u64().unwrap(), m["text"].as_str().unwrap())).collect();
    assert_eq!(stored, [(id, "first of the tie"), (id + 1, "second of the tie")]);
    // Each task's result is its own message, under the id it was stored with.
    for (job, want) in [(&first, id), (&second, id + 1)] {
        let Job::Send { task_id, message, .. } = job else { unreachable!() };
        let state = finished(task_id).await;
        assert_eq!(state["state"], "SUCCESS", "{state}");
        assert_eq!(state["result"]["id"], want, "{state}");
        assert_eq!(state["result"]["text"], message.text.as_str(), "{state}");
    }
}

#[tokio::test]
async fn seen_jobs_are_idempotent() {
    let _serial = SERIAL.lock().await;
    let (a, na) = new_user("seen_a").await;
    let (b, nb) = new_user("seen_b").await;
    let (room, _) = new_room(&[&na, &nb]).await;
    let m = delivered_group(room, a, "look").await;
    let seen = Job::Seen {
        reader: b,
        positions: vec![(room, Position { read_to: m["id"].as_u64().unwrap(), late_to: 0 })],
    };
    for _ in 0..3 {
        assert_eq!(
            invoke_worker(&bodies(&[seen.clone(), seen.clone()])).await,
            json!({"batchItemFailures": []})
        );
    }
    assert_eq!(unseen_of(b).await, json!([]));
}

/// SIGKILLs the worker's `cargo lambda watch` and every instance it runs: the whole worker
/// "Lambda" dies with batches in flight.
fn kill_worker() {
    let pids = std::fs::read_to_string(format!("{}/pids", run_dir())).unwrap();
    for line in pids.lines().filter(|l| l.ends_with(" worker")) {
        let pid: u32 = line.split(' ').next().unwrap().parse().expect("a pid");
        let script = format!("pkill -KILL -P {pid}; kill -KILL -- -{pid}");
        let _ = Command::new("bash").args(["-c", &script]).status();
    }
}

fn start_worker() {
    assert!(Command::new(format!("{}/start-worker", run_dir())).status().unwrap().success());
}

#[tokio::test]
async fn worker_killed_mid_batch_and_restarted_loses_and_duplicates_nothing() {
    let _serial = SERIAL.lock().await;
    let (a, na) = new_user("crash_a").await;
    let (b, nb) = new_user("crash_b").await;
    let (room, _) = new_room(&[&na, &nb]).await;
    const SENDS: usize = 200;
    let sending = tokio::spawn(concurrently((0..SENDS).map(move |i| {
        let from = if i % 2 == 0 { a } else { b };
        async move { send_group(room, from, &format!("msg {i}")).await }
    })));
    // Kill the worker once it is busy delivering, while sends keep coming in.
    while all_messages(room, a).await.is_empty() {
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    kill_worker();
    let stored_at_kill = all_messages(room, a).await.len();
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    start_worker();
    let tasks = sending.await.unwrap();
    assert!(stored_at_kill < SENDS, "the kill came after all {SENDS} deliveries; the test proved nothing");

    let mut ids = Vec::new();
    for task in &tasks {
        let state = finished(task).await;
        assert_eq!(state["state"], "SUCCESS", "{state}");
        ids.push(state["result"]["id"].as_u64().unwrap());
    }
    let stored = all_messages(room, a).await;
    let mut counts: HashMap<String, usize> = HashMap::new();
    for m in &stored {
        *counts.entry(m["text"].as_str().unwrap().to_string()).or_default() += 1;
    }
    assert_eq!(stored.len(), SENDS, "{stored_at_kill} were stored at the kill");
    assert!(counts.values().all(|&n| n == 1), "duplicates: {counts:?}");
    let mut stored_ids: Vec<u64> = stored.iter().map(|m| m["id"].as_u64().unwrap()).collect();
    stored_ids.sort();
    ids.sort();
    assert_eq!(stored_ids, ids, "exactly the accepted messages are stored");
}

#[tokio::test]
async fn a_poison_job_ends_failure_through_the_dead_letter_queue() {
    let _serial = SERIAL.lock().await;
    // A task id as the API issues it, and a job for it that the worker can never read.
    let task = signing().await.issue_task_id(
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_millis() as u64,
    );
    assert_eq!(
        get(&format!("/chat/task_state/{task}")).await.json,
        json!({"state": "PENDING", "result": null})
    );
    let poison =
        json!({"kind": "send", "task_id": task, "room_name": "x", "message": {"id": "not a number"}});
    let queue = std::env::var("QUEUE_URL").unwrap();
    sqs()
        .await
        .send_message()
        .queue_url(queue)
        .message_body(poison.to_string())
        .message_group_id("poison")
        .send()
        .await
        .unwrap();
    // Retried maxReceiveCount (3 here) times, moved to the DLQ, then failed with a reason.
    let state = finished(&task).await;
    assert_eq!(
        state,
        json!({"state": "FAILURE", "result": {"error": "The message could not be delivered after repeated attempts."}})
    );
}

#[tokio::test]
async fn concurrent_senders_read_back_in_acceptance_order() {
    let _serial = SERIAL.lock().await;
    let mut members = Vec::new();
    for _ in 0..4 {
        members.push(new_user("order").await);
    }
    let names: Vec<&str> = members.iter().map(|(_, n)| n.as_str()).collect();
    let (room, _) = new_room(&names).await;
    // Each sender sends in sequence (so its own acceptance order is known), all senders at once.
    let senders = members.iter().map(|&(id, _)| {
        tokio::spawn(async move {
            let mut tasks = Vec::new();
            for i in 0..15 {
                tasks.push(send_group(room, id, &format!("{id}:{i}")).await);
            }
            tasks
        })
    });
    let mut accepted = Vec::new();
    for s in senders {
        accepted.extend(s.await.unwrap());
    }
    let mut ids = Vec::new();
    for task in &accepted {
        ids.push(finished(task).await["result"]["id"].as_u64().unwrap());
    }
    let stored = all_messages(room, members[0].0).await;
    assert_eq!(stored.len(), 60);
    let stored_ids: Vec<u64> = stored.iter().map(|m| m["id"].as_u64().unwrap()).collect();
    assert!(stored_ids.windows(2).all(|w| w[0] < w[1]), "read back by acceptance order");
    let times: Vec<&str> = stored.iter().map(|m| m["sent_at"].as_str().unwrap()).collect();
    assert!(times.windows(2).all(|w| w[0] <= w[1]), "sent_at follows acceptance order");
    for &(id, _) in &members {
        let own: Vec<String> = stored
            .iter()
            .filter(|m| m["msg_from"]["id"] == id)
            .map(|m| m["text"].as_str().unwrap().to_string())
            .collect();
        let expected: Vec<String> = (0..15).map(|i| format!("{id}:{i}")).collect();
        assert_eq!(own, expected, "sender {id}'s messages in the order they were accepted");
    }
}
