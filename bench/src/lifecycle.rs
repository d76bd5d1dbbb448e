//! `scripts/bench lifecycle`: the message lifecycle's routes through the local stack (API.md
//! "Message lifecycle"), beside the routes they are held against in the same run: an edit, a
//! delete and a reaction against `GET /chat/task_state/{id}`; a history page of 50 messages
//! carrying reactions and replies against a plain one; a send with an `Idempotency-Key`
//! against one without; and the governance routes of rooms with owners. Per row: p50 from one client and from 16, p99, DynamoDB calls per
//! request by operation, and the read and write units per request (counted by the proxy from
//! item sizes, one client's requests).

use crate::api::{concurrently, load, new_room, new_user, Api, CLIENTS};
use crate::stats::{round, Summary};
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Instant;

/// Requests per client and row.
pub const PER_CLIENT: usize = 20;

struct Fixture {
    users: Vec<u64>,
    room: u64,
    /// Per client, its own delivered messages for each row that changes one: edits, reactions,
    /// deletions.
    edits: Vec<Vec<u64>>,
    reacts: Vec<Vec<u64>>,
    deletes: Vec<Vec<u64>>,
    /// One message every client reacts to at once.
    shared: u64,
    plain_room: u64,
    decorated_room: u64,
    task: String,
    /// Per client, a room it owns and a user it adds and kicks, bans and unbans there.
    owned: Vec<(u64, u64, String)>,
}

/// Sends `texts` as `from` into `room` (at most 16 at once), waits for every delivery and
/// answers the stored ids, in order.
async fn delivered(api: &Api, room: u64, sends: Vec<(u64, String, Option<u64>)>) -> Vec<u64> {
    let tasks = concurrently(
        CLIENTS,
        sends.into_iter().map(|(from, text, reply_to)| {
            let api = api.clone();
            async move {
                let body = json!({"from": from, "text": text, "reply_to": reply_to});
                let sent = api.expect("POST", &format!("/chat/group/{room}/"), Some(body), 202).await;
                api.finished(sent["data"].as_str().unwrap()).await
            }
        }),
    )
    .await;
    tasks.iter().map(|t| t["result"]["id"].as_u64().expect("delivered")).collect()
}

async fn fixture(api: &Api) -> Fixture {
    let mut users = Vec::new();
    let mut names = Vec::new();
    for _ in 0..=CLIENTS {
        let (id, name) = new_user(api).await;
        users.push(id);
        names.push(name);
    }
    let all: Vec<&str> = names.iter().map(String::as_str).collect();
    let room = new_room(api, &all).await;
    let own = |kind: &'static str| {
        let users = users.clone();
        async move {
            let mut per_user = Vec::new();
            for &u in &users {
                let sends = (0..PER_CLIENT).map(|i| (u, format!("{kind} {i}"), None)).collect();
                per_user.push(delivered(api, room, sends).await);
            }
            per_user
        }
    };
    let (edits, reacts, deletes) = (own("edit").await, own("react").await, own("delete").await);
    let shared = delivered(api, room, vec![(users[0], "shared".into(), None)]).await[0];
    let plain_room = new_room(api, &all).await;
    let sends = (0..50).map(|i| (users[i % CLIENTS], format!("plain message {i}"), None)).collect();
    delivered(api, plain_room, sends).await;
    // 10 messages, then 50 replies to them (quotes outside the newest page), each with 3
    // emoji from 5 users.
    let decorated_room = new_room(api, &all).await;
    let sends = (0..10).map(|i| (users[i], format!("quoted message {i}"), None)).collect();
    let quoted = delivered(api, decorated_room, sends).await;
    let sends = (0..50).map(|i| (users[i % CLIENTS], format!("reply {i}"), Some(quoted[i % 10]))).collect();
    let replies = delivered(api, decorated_room, sends).await;
    let reactions = replies.iter().flat_map(|&m| {
        ["%F0%9F%91%8D", "%F0%9F%8E%89", ":fire:"]
            .into_iter()
            .flat_map(move |emoji| (0..5).map(move |u| (m, emoji, u)))
    });
    concurrently(
        CLIENTS,
        reactions.map(|(m, emoji, u)| {
            let (api, user) = (api.clone(), users[u]);
            async move {
                let path = format!("/chat/messages/{decorated_room}/{m}/reactions/{emoji}/?user_id={user}");
                api.expect("PUT", &path, None, 200).await;
            }
        }),
    )
    .await;
    let body = json!({"from": users[0], "text": "a task"});
    let task = api.expect("POST", &format!("/chat/group/{room}/"), Some(body), 202).await["data"]
        .as_str()
        .unwrap()
        .to_string();
    api.finished(&task).await;
    let mut owned = Vec::new();
    for &owner in &users {
        let (guest, name) = new_user(api).await;
        let body = json!({"room_name": format!("owned {owner}"), "topic": "bench"});
        let room = api.expect("POST", &format!("/chat/chatroom/?user_id={owner}"), Some(body), 201).await;
        owned.push((room["data"]["id"].as_u64().unwrap(), guest, name));
    }
    Fixture { users, room, edits, reacts, deletes, shared, plain_room, decorated_room, task, owned }
}

/// Request `i` of client `c` of a row.
async fn request(api: &Api, fx: &Fixture, row: &str, c: usize, i: usize) {
    let (room, user) = (fx.room, fx.users[c]);
    let thumbs = "%F0%9F%91%8D";
    match row {
        "GET /chat/task_state/{id}" => {
            api.expect("GET", &format!("/chat/task_state/{}", fx.task), None, 200).await;
        }
        "PATCH /chat/messages/{room}/{id}/ (edit)" => {
            let path = format!("/chat/messages/{room}/{}/?user_id={user}", fx.edits[c][i]);
            api.expect("PATCH", &path, Some(json!({"text": format!("edited {i}")})), 200).await;
        }
        "PUT .../reactions/{emoji}/" => {
            let path =
                format!("/chat/messages/{room}/{}/reactions/{thumbs}/?user_id={user}", fx.reacts[c][i]);
            api.expect("PUT", &path, None, 200).await;
        }
        "DELETE .../reactions/{emoji}/" => {
            let path =
                format!("/chat/messages/{room}/{}/reactions/{thumbs}/?user_id={user}", fx.reacts[c][i]);
            api.call("DELETE", &path, None).await;
        }
        "PUT + DELETE .../reactions/{emoji}/, 16 users on one message" => {
            let path = format!("/chat/messages/{room}/{}/reactions/{thumbs}/?user_id={user}", fx.shared);
            api.expect("PUT", &path, None, 200).await;
            api.expect("DELETE", &path, None, 204).await;
        }
        "DELETE /chat/messages/{room}/{id}/" => {
            let path = format!("/chat/messages/{room}/{}/?user_id={user}", fx.deletes[c][i]);
            api.expect("DELETE", &path, None, 204).await;
        }
        "GET /chat/messages/{id}/ (50 plain messages)" => {
            let path = format!("/chat/messages/{}/?user_id={user}", fx.plain_room);
            api.expect("GET", &path, None, 200).await;
        }
        "GET /chat/messages/{id}/ (50 with reactions and replies)" => {
            let path = format!("/chat/messages/{}/?user_id={user}", fx.decorated_room);
            let page = api.expect("GET", &path, None, 200).await;
            assert_eq!(page["data"]["messages"][0]["reply_to"]["deleted"], false, "quotes are read");
        }
        "POST /chat/group/{id}/" => {
            let body = json!({"from": user, "text": format!("load {c} {i}")});
            api.expect("POST", &format!("/chat/group/{room}/"), Some(body), 202).await;
        }
        "POST /chat/group/{id}/ with an Idempotency-Key" => {
            let body = json!({"from": user, "text": format!("keyed {c} {i}")});
            let res = api
                .http
                .post(format!("{}/chat/group/{room}/", api.base))
                .header("content-type", "application/json")
                .header("idempotency-key", uuid::Uuid::new_v4().to_string())
                .body(body.to_string())
                .send()
                .await
                .expect("the API answers");
            assert_eq!(res.status().as_u16(), 202);
        }
        "POST /chat/user/{id}/" => {
            let body = json!({"from": user, "text": format!("dm {c} {i}")});
            let to = fx.users[(c + 1) % fx.users.len()];
            api.expect("POST", &format!("/chat/user/{to}/"), Some(body), 202).await;
        }
        "PATCH /chat/chatroom/{id}/ (topic)" => {
            let path = format!("/chat/chatroom/{}/?user_id={user}", fx.owned[c].0);
            api.expect("PATCH", &path, Some(json!({"topic": format!("topic {i}")})), 200).await;
        }
        "POST + DELETE /chat/chatroom/{id}/members/ (add, kick)" => {
            let (room, guest, name) = &fx.owned[c];
            let add = format!("/chat/chatroom/{room}/members/?user_id={user}");
            api.expect("POST", &add, Some(json!({"username": name})), 201).await;
            let kick = format!("/chat/chatroom/{room}/members/{guest}/?user_id={user}");
            api.expect("DELETE", &kick, None, 204).await;
        }
        "PUT + DELETE /chat/chatroom/{id}/bans/{user_id}/" => {
            let (room, guest, _) = &fx.owned[c];
            let path = format!("/chat/chatroom/{room}/bans/{guest}/?user_id={user}");
            api.expect("PUT", &path, None, 200).await;
            api.expect("DELETE", &path, None, 204).await;
        }
        other => unreachable!("{other}"),
    }
}

const ROWS: [(&str, &str); 14] = [
    ("GET /chat/task_state/{id}", "tasks"),
    ("PATCH /chat/messages/{room}/{id}/ (edit)", "messages"),
    ("PUT .../reactions/{emoji}/", "messages"),
    ("DELETE .../reactions/{emoji}/", "messages"),
    ("PUT + DELETE .../reactions/{emoji}/, 16 users on one message", "messages"),
    ("DELETE /chat/messages/{room}/{id}/", "messages"),
    ("GET /chat/messages/{id}/ (50 plain messages)", "messages"),
    ("GET /chat/messages/{id}/ (50 with reactions and replies)", "messages"),
    ("POST /chat/group/{id}/", "messages"),
    ("POST /chat/group/{id}/ with an Idempotency-Key", "messages"),
    ("POST /chat/user/{id}/", "messages"),
    ("PATCH /chat/chatroom/{id}/ (topic)", "chatrooms"),
    ("POST + DELETE /chat/chatroom/{id}/members/ (add, kick)", "chatrooms"),
    ("PUT + DELETE /chat/chatroom/{id}/bans/{user_id}/", "chatrooms"),
];

/// The spare client's requests of a row, one at a time: latency, DynamoDB calls by operation
/// of the row's function, and read and write units per request.
async fn one_client<F, Fut>(api: &Api, function: &str, request: &F) -> Value
where
    F: Fn(usize, usize) -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    let n = PER_CLIENT / 2;
    api.dynamodb_calls(true).await;
    api.proxy_stats::<Value>("dynamodb-keys", true).await;
    let mut samples = Vec::new();
    for i in 0..n {
        let t = Instant::now();
        request(CLIENTS, i).await;
        samples.push(t.elapsed().as_secs_f64() * 1000.0);
    }
    let keys: Value = api.proxy_stats("dynamodb-keys", false).await;
    let calls = api.dynamodb_calls(false).await;
    let prefix = format!("{function}:");
    let mine: BTreeMap<String, f64> = calls
        .iter()
        .filter_map(|(k, v)| k.strip_prefix(&prefix).map(|op| (op.to_string(), round(*v as f64 / n as f64))))
        .collect();
    let units = |what: &str| {
        let total: f64 =
            keys["partitions"].as_object().unwrap().values().map(|t| t[what].as_f64().unwrap()).sum();
        round(total / n as f64)
    };
    json!({"latency_ms": Summary::of(samples).json(), "dynamodb_calls": round(mine.values().sum()),
        "dynamodb_calls_by_operation": mine, "read_units": units("read_units"), "write_units": units("write_units")})
}

/// Each row of `rows` (route, function), measured in turn: [`CLIENTS`] clients at once making
/// [`PER_CLIENT`] requests each (`request(row, client, i)`), then the spare client alone.
pub async fn measure<F, Fut>(api: &Api, rows: &[(&'static str, &str)], request: F) -> Vec<Value>
where
    F: Fn(&'static str, usize, usize) -> Fut + Clone + Send + Sync + 'static,
    Fut: std::future::Future<Output = ()> + Send + 'static,
{
    let mut measured = Vec::new();
    for &(row, function) in rows {
        api.quiet().await;
        let request = request.clone();
        let each = move |c: usize, i: usize| request(row, c, i);
        let (latency, rps) = load(CLIENTS, PER_CLIENT, each.clone()).await;
        api.quiet().await;
        let alone = one_client(api, function, &each).await;
        measured.push(json!({"route": row, "latency_ms": latency.json(), "requests_per_s": round(rps), "one_client": alone}));
    }
    measured
}

pub async fn run() -> Value {
    let api = Api::from_env().await;
    let fx = Arc::new(fixture(&api).await);
    let (api2, fx2) = (api.clone(), fx.clone());
    let rows = measure(&api, &ROWS, move |row, c, i| {
        let (api, fx) = (api2.clone(), fx2.clone());
        async move { request(&api, &fx, row, c, i).await }
    })
    .await;
    json!({"clients": CLIENTS, "rows": rows})
}
