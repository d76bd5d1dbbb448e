//! The delivery pipeline through the local stack: send-to-SUCCESS latency, the worker's
//! throughput and DynamoDB calls per message, and the emulators' own floor and ceiling beside
//! them (what any route or worker could reach here).

use crate::api::{load, new_room, new_user, var, Api, CLIENTS};
use crate::stats::{round, Summary};
use aws_sdk_dynamodb::types::AttributeValue;
use aws_sdk_sqs::types::{DeleteMessageBatchRequestEntry, SendMessageBatchRequestEntry};
use domain::job::Job;
use domain::keys;
use domain::model::StoredMessage;
use serde_json::{json, Value};
use std::time::Instant;

/// Send-to-SUCCESS: one send at a time, its task polled every 2 ms.
pub(crate) async fn delivery(api: &Api, sends: usize) -> Summary {
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
pub(crate) async fn emulator_floor(api: &Api, room: u64) -> Value {
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
