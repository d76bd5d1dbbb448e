//! `scripts/bench files`: attachments (API.md "Attachments") beside the routes they are held
//! against in the same run: `POST /chat/attachments/` against a plain send, a send with one
//! file against one without, and a history page of 50 messages with a file each against a page
//! of 50 plain ones (its presigning is CPU only: no call per URL). Rows as `lifecycle`'s; then
//! the signing of a page's URLs alone (`presign.rs`).

use crate::api::{new_room, new_user, Api, CLIENTS};
use crate::lifecycle::{measure, PER_CLIENT};
use serde_json::{json, Value};
use std::sync::Arc;

struct Fixture {
    users: Vec<u64>,
    room: u64,
    /// Per client, uploaded files (bytes in the bucket) for its sends with a file.
    files: Vec<Vec<String>>,
    plain_room: u64,
    files_room: u64,
}

/// A presigned upload of `bytes` into `room` by `user`, PUT to S3: the attachment's id.
async fn upload(api: &Api, user: u64, room: u64, bytes: &'static [u8]) -> String {
    let body =
        json!({"room": room, "filename": "bench.txt", "content_type": "text/plain", "size": bytes.len()});
    let data = api.expect("POST", &format!("/chat/attachments/?user_id={user}"), Some(body), 201).await
        ["data"]
        .clone();
    let mut put = api.http.put(data["upload"]["url"].as_str().unwrap()).body(bytes);
    for (name, value) in data["upload"]["headers"].as_object().unwrap() {
        if !name.eq_ignore_ascii_case("content-length") {
            put = put.header(name.as_str(), value.as_str().unwrap());
        }
    }
    assert_eq!(put.send().await.expect("S3 answers").status().as_u16(), 200);
    data["id"].as_str().unwrap().to_string()
}

/// `n` messages into `room`, each with a file when `with_files`, delivered.
async fn fill(api: &Api, users: &[u64], room: u64, n: usize, with_files: bool) {
    for i in 0..n {
        let from = users[i % users.len()];
        let files =
            if with_files { vec![upload(api, from, room, b"a file of a page").await] } else { vec![] };
        let body = json!({"from": from, "text": format!("message {i}"), "attachments": files});
        let task = api.expect("POST", &format!("/chat/group/{room}/"), Some(body), 202).await;
        let done = api.finished(task["data"].as_str().unwrap()).await;
        assert_eq!(done["state"], "SUCCESS", "{done}");
    }
}

async fn fixture(api: &Api) -> Fixture {
    let (mut users, mut names) = (Vec::new(), Vec::new());
    for _ in 0..=CLIENTS {
        let (id, name) = new_user(api).await;
        users.push(id);
        names.push(name);
    }
    let all: Vec<&str> = names.iter().map(String::as_str).collect();
    let room = new_room(api, &all).await;
    let mut files = Vec::new();
    for &user in &users {
        let mut mine = Vec::new();
        for _ in 0..PER_CLIENT {
            mine.push(upload(api, user, room, b"bench").await);
        }
        files.push(mine);
    }
    let (plain_room, files_room) = (new_room(api, &all).await, new_room(api, &all).await);
    fill(api, &users, plain_room, 50, false).await;
    fill(api, &users, files_room, 50, true).await;
    Fixture { users, room, files, plain_room, files_room }
}

const ROWS: [(&str, &str); 5] = [
    ("POST /chat/group/{id}/", "messages"),
    ("POST /chat/attachments/", "messages"),
    ("POST /chat/group/{id}/ with 1 attachment", "messages"),
    ("GET /chat/messages/{id}/ (50 plain messages)", "messages"),
    ("GET /chat/messages/{id}/ (50 with a file each)", "messages"),
];

/// Request `i` of client `c` of a row (the one-client pass uses the sends' second half).
async fn request(api: &Api, fx: &Fixture, row: &str, c: usize, i: usize) {
    let (room, user) = (fx.room, fx.users[c]);
    match row {
        "POST /chat/group/{id}/" => {
            let body = json!({"from": user, "text": format!("plain {c} {i}")});
            api.expect("POST", &format!("/chat/group/{room}/"), Some(body), 202).await;
        }
        "POST /chat/attachments/" => {
            let body = json!({"room": room, "filename": "b.png", "content_type": "image/png", "size": 1000});
            api.expect("POST", &format!("/chat/attachments/?user_id={user}"), Some(body), 201).await;
        }
        "POST /chat/group/{id}/ with 1 attachment" => {
            // Each file once: the spare client (the one-client pass) has files of its own.
            let file = &fx.files[c][i];
            let body = json!({"from": user, "text": format!("file {c} {i}"), "attachments": [file]});
            api.expect("POST", &format!("/chat/group/{room}/"), Some(body), 202).await;
        }
        "GET /chat/messages/{id}/ (50 plain messages)" => {
            api.expect("GET", &format!("/chat/messages/{}/?user_id={user}", fx.plain_room), None, 200).await;
        }
        "GET /chat/messages/{id}/ (50 with a file each)" => {
            let path = format!("/chat/messages/{}/?user_id={user}", fx.files_room);
            let page = api.expect("GET", &path, None, 200).await;
            assert!(page["data"]["messages"][49]["attachments"][0]["url"].is_string(), "URLs are signed");
        }
        other => unreachable!("{other}"),
    }
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
    json!({"clients": CLIENTS, "rows": rows, "signing_50_urls_ms": crate::presign::compare(200).await})
}
