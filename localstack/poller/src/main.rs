//! Local stand-in for Lambda's event source mappings. SQS: long-polls the job queue and the
//! dead-letter queue, invokes the worker with each batch through the Lambda Invoke API that
//! `cargo lambda watch` serves, deletes what the worker handled and leaves its reported
//! failures (or a whole batch, if the invoke failed) for SQS to deliver again. DynamoDB
//! stream: see `stream`, when `STREAM_ARN`, `PUSH_URL` (the push function's invoke URL) and
//! `PUSH_FILTERS` (a JSON list of filter patterns) are set. And Lambda's asynchronous
//! invocation: see `invoke`, when `ASYNC_INVOKE_PORT` and `ASYNC_INVOKE_TARGET` are set.
//!
//! Environment: `QUEUE_URL`, `DLQ_URL`, `WORKER_URL` (the worker's invoke URL), and optionally
//! `POLLERS` (concurrent pollers of the job queue, default 8: as fast as 16 and faster than 2
//! or 4 in `scripts/bench worker` on 2 cores), `BATCH_SIZE` (1-10, default 10, as in template.yaml)
//! and `WORKER_TIMEOUT` (seconds an invoke may take, default 30 like the worker's Lambda timeout;
//! `cargo lambda watch` never answers for an instance that died, so this is what ends it).

use aws_lambda_events::event::sqs::{SqsBatchResponse, SqsEvent, SqsMessage};
use aws_sdk_sqs::types::{DeleteMessageBatchRequestEntry, MessageSystemAttributeName};
use aws_sdk_sqs::Client;
use std::time::Duration;

mod invoke;
mod stream;

#[derive(Clone)]
struct Source {
    sqs: Client,
    http: reqwest::Client,
    url: String,
    arn: String,
    worker: String,
    batch_size: i32,
}

fn env(name: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| panic!("{name} must be set"))
}

fn env_or(name: &str, default: i32) -> i32 {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    lambda_runtime::tracing::init_default_subscriber();
    let aws = aws_config::load_defaults(aws_config::BehaviorVersion::latest()).await;
    let sqs = Client::new(&aws);
    let timeout = Duration::from_secs(env_or("WORKER_TIMEOUT", 30).max(1) as u64);
    let http = reqwest::Client::builder().timeout(timeout).build().expect("http client");
    let worker = env("WORKER_URL");
    let batch_size = env_or("BATCH_SIZE", 10).clamp(1, 10);
    let mut tasks = Vec::new();
    for (url, pollers) in [(env("QUEUE_URL"), env_or("POLLERS", 8)), (env("DLQ_URL"), 1)] {
        let arn = queue_arn(&sqs, &url).await;
        let source =
            Source { sqs: sqs.clone(), http: http.clone(), url, arn, worker: worker.clone(), batch_size };
        for _ in 0..pollers.max(1) {
            tasks.push(tokio::spawn(poll(source.clone())));
        }
    }
    if let (Ok(arn), Ok(function)) = (std::env::var("STREAM_ARN"), std::env::var("PUSH_URL")) {
        let filters: Vec<serde_json::Value> =
            serde_json::from_str(&std::env::var("PUSH_FILTERS").unwrap_or("[]".into()))
                .expect("PUSH_FILTERS is a JSON list of patterns");
        let streams = aws_sdk_dynamodbstreams::Client::new(&aws);
        tracing::info!(arn, function, filters = filters.len(), "following the table's stream");
        tasks.push(tokio::spawn(stream::follow(stream::Source {
            streams,
            http: http.clone(),
            arn,
            function,
            filters,
        })));
    }
    if let (Ok(port), Ok(base)) = (std::env::var("ASYNC_INVOKE_PORT"), std::env::var("ASYNC_INVOKE_TARGET")) {
        let port = port.parse().expect("ASYNC_INVOKE_PORT is a port number");
        tasks.push(tokio::spawn(invoke::serve(port, base, http.clone())));
    }
    tracing::info!(worker, "polling");
    for task in tasks {
        let _ = task.await;
    }
}

async fn queue_arn(sqs: &Client, url: &str) -> String {
    loop {
        match sqs.get_queue_attributes().queue_url(url).attribute_names("QueueArn".into()).send().await {
            Ok(out) => {
                if let Some(arn) = out.attributes().and_then(|a| a.get(&"QueueArn".into())) {
                    return arn.clone();
                }
            }
            Err(e) => tracing::warn!(error = ?e, url, "queue not reachable yet"),
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
}

async fn poll(source: Source) {
    loop {
        if let Err(e) = poll_once(&source).await {
            tracing::warn!(error = %e, queue = source.url, "poll failed, retrying");
            tokio::time::sleep(Duration::from_secs(1)).await;
        }
    }
}

async fn poll_once(source: &Source) -> Result<(), String> {
    let received = source
        .sqs
        .receive_message()
        .queue_url(&source.url)
        .max_number_of_messages(source.batch_size)
        .wait_time_seconds(20)
        .message_system_attribute_names(MessageSystemAttributeName::All)
        .send()
        .await
        .map_err(|e| format!("ReceiveMessage: {e:?}"))?;
    let messages = received.messages.unwrap_or_default();
    if messages.is_empty() {
        return Ok(());
    }
    let mut event = SqsEvent::default();
    event.records = messages.iter().map(|m| record(source, m)).collect();
    let failed: Vec<String> = match invoke(source, &event).await {
        Ok(response) => response.batch_item_failures.into_iter().map(|f| f.item_identifier).collect(),
        Err(e) => {
            // Nothing is deleted: the whole batch comes back after its visibility timeout.
            tracing::warn!(error = %e, records = messages.len(), "worker invoke failed");
            return Ok(());
        }
    };
    let done: Vec<DeleteMessageBatchRequestEntry> = messages
        .iter()
        .filter(|m| !failed.iter().any(|f| Some(f.as_str()) == m.message_id()))
        .enumerate()
        .map(|(i, m)| {
            DeleteMessageBatchRequestEntry::builder()
                .id(i.to_string())
                .receipt_handle(m.receipt_handle().unwrap_or_default())
                .build()
                .expect("id and receipt handle are set")
        })
        .collect();
    tracing::info!(records = messages.len(), failed = failed.len(), "batch handled");
    if !done.is_empty() {
        let out = source
            .sqs
            .delete_message_batch()
            .queue_url(&source.url)
            .set_entries(Some(done))
            .send()
            .await
            .map_err(|e| format!("DeleteMessageBatch: {e:?}"))?;
        // What is not deleted comes back after its visibility timeout; the worker is idempotent.
        for f in out.failed() {
            tracing::warn!(code = f.code(), message = f.message(), "a handled job was not deleted");
        }
    }
    Ok(())
}

/// The record Lambda would hand the worker for this message.
fn record(source: &Source, m: &aws_sdk_sqs::types::Message) -> SqsMessage {
    let mut record = SqsMessage::default();
    record.message_id = m.message_id.clone();
    record.receipt_handle = m.receipt_handle.clone();
    record.body = m.body.clone();
    record.md5_of_body = m.md5_of_body.clone();
    record.attributes = m
        .attributes()
        .map(|a| a.iter().map(|(k, v)| (k.as_str().to_string(), v.clone())).collect())
        .unwrap_or_default();
    record.event_source = Some("aws:sqs".into());
    record.event_source_arn = Some(source.arn.clone());
    record.aws_region = std::env::var("AWS_REGION").ok();
    record
}

async fn invoke(source: &Source, event: &SqsEvent) -> Result<SqsBatchResponse, String> {
    let text = invoke_function(&source.http, &source.worker, event).await?;
    serde_json::from_str::<SqsBatchResponse>(&text).map_err(|_| format!("unexpected worker response: {text}"))
}

/// A function's answer through the Lambda Invoke API; an error for a refused invoke or a
/// function error (which comes back as 200 with an error object).
async fn invoke_function(
    http: &reqwest::Client,
    url: &str,
    event: &impl serde::Serialize,
) -> Result<String, String> {
    let response = http.post(url).json(event).send().await.map_err(|e| e.to_string())?;
    let status = response.status();
    let text = response.text().await.map_err(|e| e.to_string())?;
    if !status.is_success() {
        return Err(format!("{status}: {text}"));
    }
    if text.contains("\"errorType\"") {
        return Err(format!("the function failed: {text}"));
    }
    Ok(text)
}
