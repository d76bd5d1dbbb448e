//! Local stand-in for Lambda's DynamoDB stream event source mapping: follows every shard of the
//! table's stream (4 reads a second per shard, as Lambda polls), keeps the records that match
//! the mapping's filters (the template's `FilterCriteria` patterns, which bootstrap.py passes
//! on), and invokes the function with them in Lambda's event shape, in order, up to 100 a time.
//! An invoke that fails is tried twice more, then its records are skipped, like
//! `MaximumRetryAttempts: 2`.

use aws_sdk_dynamodbstreams::types::{AttributeValue, Record, ShardIteratorType};
use aws_sdk_dynamodbstreams::Client;
use serde_json::{json, Map, Value};
use std::collections::HashSet;
use std::time::Duration;

pub struct Source {
    pub streams: Client,
    pub http: reqwest::Client,
    pub arn: String,
    pub function: String,
    /// Filter patterns; a record is passed on when it matches any (all, when there are none).
    pub filters: Vec<Value>,
}

const POLL: Duration = Duration::from_millis(250);
const BATCH_SIZE: usize = 100;

pub async fn follow(source: Source) {
    // Shards open at the start are read from their end, shards that appear later (a closed
    // shard's children) from their start, a shard whose iterator failed from its end again.
    let mut followed: HashSet<String> = HashSet::new();
    let mut lost: HashSet<String> = HashSet::new();
    let mut iterators: Vec<(String, String)> = Vec::new();
    let mut started = false;
    loop {
        match shards(&source).await {
            Ok(shards) => {
                for (shard, open) in shards {
                    if followed.contains(&shard) || (!started && !open) {
                        continue;
                    }
                    let latest = !started || lost.remove(&shard);
                    let from =
                        if latest { ShardIteratorType::Latest } else { ShardIteratorType::TrimHorizon };
                    match iterator(&source, &shard, from).await {
                        Ok(it) => {
                            followed.insert(shard.clone());
                            iterators.push((shard, it));
                        }
                        Err(e) => tracing::warn!(shard, error = %e, "no iterator yet"),
                    }
                }
                started = true;
            }
            Err(e) => tracing::warn!(error = %e, "stream not readable yet"),
        }
        let mut next = Vec::new();
        for (shard, it) in iterators {
            match source.streams.get_records().shard_iterator(&it).send().await {
                Ok(out) => {
                    let records = out.records.unwrap_or_default();
                    let events: Vec<Value> = records
                        .iter()
                        .map(|r| event_record(&source.arn, r))
                        .filter(|r| source.wanted(r))
                        .collect();
                    for batch in events.chunks(BATCH_SIZE) {
                        source.invoke(batch).await;
                    }
                    // No next iterator: the shard is closed; its children turn up in the listing.
                    next.extend(out.next_shard_iterator.map(|it| (shard, it)));
                }
                Err(e) => {
                    tracing::warn!(shard, error = ?e, "GetRecords failed; following the shard again");
                    followed.remove(&shard);
                    lost.insert(shard);
                }
            }
        }
        iterators = next;
        tokio::time::sleep(POLL).await;
    }
}

/// The stream's shards, and whether each is still open.
async fn shards(source: &Source) -> Result<Vec<(String, bool)>, String> {
    let out = source
        .streams
        .describe_stream()
        .stream_arn(&source.arn)
        .send()
        .await
        .map_err(|e| format!("DescribeStream: {e:?}"))?;
    let shards = out.stream_description.and_then(|d| d.shards).unwrap_or_default();
    Ok(shards
        .into_iter()
        .filter_map(|s| {
            let open = s.sequence_number_range().is_none_or(|r| r.ending_sequence_number().is_none());
            Some((s.shard_id?, open))
        })
        .collect())
}

async fn iterator(source: &Source, shard: &str, from: ShardIteratorType) -> Result<String, String> {
    let out = source
        .streams
        .get_shard_iterator()
        .stream_arn(&source.arn)
        .shard_id(shard)
        .shard_iterator_type(from)
        .send()
        .await
        .map_err(|e| format!("GetShardIterator: {e:?}"))?;
    out.shard_iterator.ok_or_else(|| "no iterator".into())
}

impl Source {
    fn wanted(&self, record: &Value) -> bool {
        self.filters.is_empty() || self.filters.iter().any(|f| matches(f, record))
    }

    async fn invoke(&self, records: &[Value]) {
        let event = json!({ "Records": records });
        for attempt in 1..=3 {
            match crate::invoke_function(&self.http, &self.function, &event).await {
                Ok(_) => return,
                Err(e) => tracing::warn!(attempt, error = %e, "invoke failed"),
            }
        }
        tracing::error!(records = records.len(), "records skipped after 3 attempts");
    }
}

/// A record as Lambda hands it to a function.
fn event_record(arn: &str, r: &Record) -> Value {
    let change = r.dynamodb();
    let image = |m: Option<&std::collections::HashMap<String, AttributeValue>>| {
        Value::Object(
            m.map(|m| m.iter().map(|(k, v)| (k.clone(), attribute(v))).collect()).unwrap_or_default(),
        )
    };
    let mut stream = json!({
        "Keys": image(change.and_then(|c| c.keys.as_ref())),
        "SequenceNumber": change.and_then(|c| c.sequence_number()),
        "SizeBytes": change.and_then(|c| c.size_bytes()),
        "StreamViewType": change.and_then(|c| c.stream_view_type()).map(|t| t.as_str()),
        "ApproximateCreationDateTime": change
            .and_then(|c| c.approximate_creation_date_time())
            .map(|t| t.as_secs_f64()),
    });
    if let Some(new) = change.and_then(|c| c.new_image.as_ref()) {
        stream["NewImage"] = image(Some(new));
    }
    json!({
        "eventID": r.event_id(),
        "eventName": r.event_name().map(|n| n.as_str()),
        "eventVersion": r.event_version(),
        "eventSource": "aws:dynamodb",
        "awsRegion": r.aws_region(),
        "dynamodb": stream,
        "eventSourceARN": arn,
    })
}

/// An attribute in DynamoDB's JSON form (`{"S": "..."}`); binary ones do not occur here.
fn attribute(v: &AttributeValue) -> Value {
    match v {
        AttributeValue::S(s) => json!({ "S": s }),
        AttributeValue::N(n) => json!({ "N": n }),
        AttributeValue::Bool(b) => json!({ "BOOL": b }),
        AttributeValue::Null(_) => json!({ "NULL": true }),
        AttributeValue::Ss(v) => json!({ "SS": v }),
        AttributeValue::Ns(v) => json!({ "NS": v }),
        AttributeValue::L(v) => json!({ "L": v.iter().map(attribute).collect::<Vec<_>>() }),
        AttributeValue::M(m) => {
            json!({ "M": m.iter().map(|(k, v)| (k.clone(), attribute(v))).collect::<Map<_, _>>() })
        }
        _ => json!({ "NULL": true }),
    }
}

/// Whether an event matches a Lambda filter pattern, in the part of the pattern language
/// filters use here: nested objects, and lists of exact strings or `{"prefix": ...}`.
pub fn matches(pattern: &Value, event: &Value) -> bool {
    let Some(pattern) = pattern.as_object() else { return false };
    pattern.iter().all(|(key, wanted)| {
        let Some(actual) = event.get(key) else { return false };
        match wanted {
            Value::Array(options) => options.iter().any(|o| match (o, actual) {
                (Value::Object(op), Value::String(s)) => {
                    op.get("prefix").and_then(Value::as_str).is_some_and(|p| s.starts_with(p))
                }
                (o, actual) => o == actual,
            }),
            Value::Object(_) => matches(wanted, actual),
            _ => false,
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filter_patterns_match_nested_values_exactly_or_by_prefix() {
        let pattern = json!({"eventName": ["INSERT", "REMOVE"], "dynamodb": {"Keys": {"pk": {"S": [{"prefix": "USER#"}]}}}});
        let event =
            |name: &str, pk: &str| json!({"eventName": name, "dynamodb": {"Keys": {"pk": {"S": pk}}}});
        assert!(matches(&pattern, &event("INSERT", "USER#3")));
        assert!(matches(&pattern, &event("REMOVE", "USER#3")));
        assert!(!matches(&pattern, &event("MODIFY", "USER#3")));
        assert!(!matches(&pattern, &event("INSERT", "ROOM#3")));
        assert!(!matches(&pattern, &json!({"eventName": "INSERT"})), "a missing field matches nothing");
    }
}
