//! Files of messages (API.md "Attachments") through the running stack and the bucket on the
//! moto server: every rule of an upload URL, uploads S3 refuses, sends with files and their
//! FAILUREs, download URLs for members only, deletion, hostile names, token mode, push.

use e2e::ws::*;
use e2e::*;
use reqwest::Method;
use serde_json::{json, Value};
use std::time::Duration;

/// A real PNG (1x1), as the browser test uploads one too.
const PNG: &[u8] = &[
    0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 0x00, 0x00, 0x00, 0x0D, 0x49, 0x48, 0x44, 0x52, 0x00,
    0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01, 0x08, 0x06, 0x00, 0x00, 0x00, 0x1F, 0x15, 0xC4, 0x89, 0x00,
    0x00, 0x00, 0x0D, 0x49, 0x44, 0x41, 0x54, 0x78, 0x9C, 0x63, 0xF8, 0xCF, 0xC0, 0xF0, 0x1F, 0x00, 0x05,
    0x00, 0x01, 0xFF, 0x89, 0x99, 0x3D, 0x1D, 0x00, 0x00, 0x00, 0x00, 0x49, 0x45, 0x4E, 0x44, 0xAE, 0x42,
    0x60, 0x82,
];

fn declare(room: u64, filename: &str, content_type: &str, size: usize) -> Value {
    json!({"room": room, "filename": filename, "content_type": content_type, "size": size})
}

/// `POST /chat/attachments/?user_id=N`: asserts the 201 and returns `data`.
async fn upload_url(user: u64, body: Value) -> Value {
    let r = post(&format!("/chat/attachments/?user_id={user}"), body).await;
    assert_eq!(r.status(), 201, "{}", r.text);
    r.json["data"].clone()
}

/// PUTs `bytes` as `data.upload` says, with `content_type` (the declared one unless tested);
/// the length is the body's, as a browser sends it. Returns S3's status.
async fn put_bytes(data: &Value, bytes: Vec<u8>, content_type: Option<&str>) -> u16 {
    let upload = &data["upload"];
    assert_eq!(upload["method"], "PUT");
    let mut req = http().put(upload["url"].as_str().unwrap()).body(bytes);
    for (name, value) in upload["headers"].as_object().unwrap() {
        let value = match (name.to_ascii_lowercase().as_str(), content_type) {
            ("content-length", _) => continue,
            ("content-type", Some(other)) => other,
            _ => value.as_str().unwrap(),
        };
        req = req.header(name.as_str(), value);
    }
    req.send().await.expect("S3 answers").status().as_u16()
}

/// Uploads `bytes` as `filename` for `room`: the attachment's id.
async fn uploaded(user: u64, room: u64, filename: &str, content_type: &str, bytes: &[u8]) -> String {
    let data = upload_url(user, declare(room, filename, content_type, bytes.len())).await;
    assert_eq!(put_bytes(&data, bytes.to_vec(), None).await, 200);
    data["id"].as_str().unwrap().to_string()
}

async fn send_files(room: u64, from: u64, text: &str, ids: &[&str]) -> e2e::Reply {
    post(&format!("/chat/group/{room}/"), json!({"from": from, "text": text, "attachments": ids})).await
}

/// Downloads a URL: (status, content type, content disposition, bytes).
async fn download(url: &str) -> (u16, String, String, Vec<u8>) {
    let res = http().get(url).send().await.expect("S3 answers");
    let header = |n: &str| res.headers().get(n).map(|v| v.to_str().unwrap().to_string()).unwrap_or_default();
    let (status, kind, disposition) =
        (res.status().as_u16(), header("content-type"), header("content-disposition"));
    (status, kind, disposition, res.bytes().await.unwrap().to_vec())
}

/// A room of three new users and a fourth who is no member: (room, a, b, outsider).
async fn room() -> (u64, u64, u64, u64) {
    let (a, na) = new_user("files_a").await;
    let (b, nb) = new_user("files_b").await;
    let (c, _) = new_user("files_out").await;
    let (room, _) = new_room(&[&na, &nb]).await;
    (room, a, b, c)
}

#[tokio::test]
async fn an_image_goes_straight_to_s3_and_back_to_members_only() {
    let (room, a, b, outsider) = room().await;
    let data = upload_url(a, declare(room, "cat.png", "image/png", PNG.len())).await;
    assert_eq!(data["expires_in"], 900);
    let headers = data["upload"]["headers"].as_object().unwrap();
    assert_eq!(headers.get("content-type"), Some(&json!("image/png")), "{data}");
    assert_eq!(headers.get("x-amz-tagging"), Some(&json!("state=unsent")), "{data}");
    assert!(
        headers.keys().all(|h| ["content-type", "content-length", "x-amz-tagging"].contains(&h.as_str())),
        "{data}"
    );
    assert_eq!(put_bytes(&data, PNG.to_vec(), None).await, 200);
    let id = data["id"].as_str().unwrap();
    let r = send_files(room, a, "", &[id]).await;
    assert_eq!(r.status(), 202, "{}", r.text);
    let task = finished(r.json["data"].as_str().unwrap()).await;
    assert_eq!(task["state"], "SUCCESS", "{task}");
    let shown = &task["result"]["attachments"][0];
    assert_eq!(
        (&shown["id"], &shown["filename"], &shown["content_type"], &shown["size"]),
        (&json!(id), &json!("cat.png"), &json!("image/png"), &json!(PNG.len()))
    );
    assert_eq!(task["result"]["text"], "");
    // Before b reads the history, which marks it seen.
    let unseen = unseen_of(b).await;
    assert!(unseen.to_string().contains(id), "{unseen}");
    for reader in [a, b] {
        let history = all_messages(room, reader).await;
        let url = history[0]["attachments"][0]["url"].as_str().expect("a download URL").to_string();
        let (status, kind, disposition, bytes) = download(&url).await;
        assert_eq!((status, kind.as_str(), bytes.as_slice()), (200, "image/png", PNG));
        assert_eq!(disposition, "inline; filename*=UTF-8''cat.png");
    }
    // No member, no URL: neither through the history nor a new upload for the room.
    let r = get(&format!("/chat/messages/{room}/?user_id={outsider}")).await;
    assert_error(&r, 403);
    assert!(!r.text.contains(id));
    let r =
        post(&format!("/chat/attachments/?user_id={outsider}"), declare(room, "x.png", "image/png", 4)).await;
    assert_error(&r, 403);
}

#[tokio::test]
async fn s3_refuses_a_put_of_another_size_or_type_than_declared() {
    let (room, a, _, _) = room().await;
    let data = upload_url(a, declare(room, "doc.pdf", "application/pdf", 10)).await;
    assert_eq!(put_bytes(&data, vec![b'x'; 11], None).await, 403, "one byte more");
    assert_eq!(put_bytes(&data, vec![b'x'; 10], Some("image/png")).await, 403, "another type");
    // Nothing arrived, so a send of it fails (below); the declared upload still works.
    let r = send_files(room, a, "too early", &[data["id"].as_str().unwrap()]).await;
    let task = finished(r.json["data"].as_str().unwrap()).await;
    assert_eq!(task["state"], "FAILURE", "{task}");
    assert!(task["result"].to_string().contains("never uploaded"), "{task}");
    assert_eq!(put_bytes(&data, vec![b'x'; 10], None).await, 200);
}

#[tokio::test]
async fn a_send_whose_file_never_arrived_fails_and_stores_no_message() {
    let (room, a, b, _) = room().await;
    let data = upload_url(a, declare(room, "ghost.txt", "text/plain", 5)).await;
    let id = data["id"].as_str().unwrap();
    let r = send_files(room, a, "see attached", &[id]).await;
    assert_eq!(r.status(), 202, "{}", r.text);
    let task = finished(r.json["data"].as_str().unwrap()).await;
    assert_eq!(task["state"], "FAILURE", "{task}");
    assert!(task["result"].to_string().contains("ghost.txt"), "{task}");
    assert!(all_messages(room, b).await.is_empty(), "no message with a broken file");
}

#[tokio::test]
async fn declarations_are_checked_before_any_url_is_signed() {
    let (room, a, _, _) = room().await;
    let marker = unique("never_written");
    let cases = [
        (declare(room, "", "image/png", 4), 400),
        (declare(room, "a/b.png", "image/png", 4), 400),
        (declare(room, "a\\b.png", "image/png", 4), 400),
        (declare(room, "new\nline.png", "image/png", 4), 400),
        (declare(room, &"x".repeat(256), "image/png", 4), 400),
        (declare(room, &marker, "image/png", 0), 400),
        (json!({"room": room, "filename": marker, "content_type": "image/png", "size": "4"}), 400),
        (json!({"room": room, "filename": marker, "content_type": "image/png"}), 400),
        (json!({"filename": marker, "content_type": "image/png", "size": 4}), 400),
        (declare(room, &marker, "image/png", 25 * 1024 * 1024 + 1), 413),
        (declare(room, &marker, "text/html", 4), 415),
        (declare(room, &marker, "image/svg+xml", 4), 415),
        (declare(9_000_000_000_000, &marker, "image/png", 4), 404),
    ];
    for (body, status) in cases {
        let r = post(&format!("/chat/attachments/?user_id={a}"), body.clone()).await;
        assert_error(&r, status);
        assert!(r.json["msg"].as_str().is_some_and(|m| !m.is_empty()), "{body}: {}", r.text);
    }
    assert_error(&post("/chat/attachments/", declare(room, "a.png", "image/png", 4)).await, 400);
    assert!(items_holding(&marker).await.is_empty(), "a refused declaration writes nothing");
    // The largest file is allowed.
    upload_url(a, declare(room, "big.zip", "application/zip", 25 * 1024 * 1024)).await;
}

#[tokio::test]
async fn a_send_with_files_not_its_own_is_refused_at_once() {
    let (room, a, b, _) = room().await;
    let (other_room, _) = new_room(&[&name_of(a).await]).await;
    let of_b = uploaded(b, room, "b.txt", "text/plain", b"bbb").await;
    let elsewhere = uploaded(a, other_room, "o.txt", "text/plain", b"ooo").await;
    let mine = uploaded(a, room, "a.txt", "text/plain", b"aaa").await;
    let eleven: Vec<String> = (0..11).map(|i| format!("f{i}")).collect();
    let eleven: Vec<&str> = eleven.iter().map(String::as_str).collect();
    for (ids, text) in [
        (vec!["no-such-upload"], "x"),
        (vec![of_b.as_str()], "x"),
        (vec![elsewhere.as_str()], "x"),
        (vec![mine.as_str(), mine.as_str()], "x"),
        (eleven, "x"),
        (vec![], ""),
    ] {
        assert_error(&send_files(room, a, text, &ids).await, 400);
    }
    assert_error(
        &post(&format!("/chat/group/{room}/"), json!({"from": a, "attachments": "a.txt"})).await,
        400,
    );
    // Sent once, then a 400: the upload was taken.
    let task = finished(send_files(room, a, "", &[&mine]).await.json["data"].as_str().unwrap()).await;
    assert_eq!(task["state"], "SUCCESS", "{task}");
    assert_error(&send_files(room, a, "again", &[&mine]).await, 400);
    assert_eq!(all_messages(room, b).await.len(), 1);
}

#[tokio::test]
async fn two_sends_racing_for_one_file_store_one_message() {
    let (room, a, b, _) = room().await;
    let id = uploaded(a, room, "once.txt", "text/plain", b"once").await;
    let sends = concurrently(["race 0", "race 1"].map(|text| {
        let id = id.clone();
        async move { send_files(room, a, text, &[&id]).await }
    }))
    .await;
    let mut states = Vec::new();
    for r in sends {
        if r.status() == 202 {
            states.push(finished(r.json["data"].as_str().unwrap()).await["state"].clone());
        } else {
            assert_error(&r, 400);
        }
    }
    assert_eq!(states.iter().filter(|s| **s == "SUCCESS").count(), 1, "{states:?}");
    let with_file: Vec<Value> =
        all_messages(room, b).await.into_iter().filter(|m| m["attachments"] != json!([])).collect();
    assert_eq!(with_file.len(), 1);
}

/// A send's files go to its message all together or not at all: a send refused because one
/// of its files went out with another message leaves its other files free to send. The
/// worker's own call, against the table, since the FIFO queue hands one room's sends over one
/// at a time and the race cannot be timed from outside.
#[tokio::test]
async fn a_send_takes_its_files_all_or_none() {
    let (room, a, _, _) = room().await;
    let mut ids = Vec::new();
    for name in ["x.txt", "z.txt"] {
        ids.push(
            upload_url(a, declare(room, name, "text/plain", 4)).await["id"].as_str().unwrap().to_string(),
        );
    }
    let (x, z) = (ids[0].clone(), ids[1].clone());
    let store = store().await;
    assert_eq!(store.take_uploads(std::slice::from_ref(&x), 1).await.unwrap(), None);
    assert_eq!(
        store.take_uploads(&[z.clone(), x.clone()], 2).await.unwrap(),
        Some(x.clone()),
        "x went with 1"
    );
    assert_eq!(store.uploads(std::slice::from_ref(&z)).await.unwrap()[&z].sent, None, "z is still free");
    assert_eq!(store.take_uploads(std::slice::from_ref(&z), 3).await.unwrap(), None);
    assert_eq!(
        store.take_uploads(&[z.clone(), x.clone()], 1).await.unwrap(),
        Some(z.clone()),
        "z went with 3"
    );
    assert_eq!(
        store.take_uploads(std::slice::from_ref(&x), 1).await.unwrap(),
        None,
        "again for 1: redelivered"
    );
}

#[tokio::test]
async fn deleting_a_message_deletes_its_files() {
    let (room, a, b, _) = room().await;
    let id = uploaded(a, room, "bye.pdf", "application/pdf", b"%PDF-1.4 bye").await;
    let task = finished(send_files(room, a, "take this", &[&id]).await.json["data"].as_str().unwrap()).await;
    let message = task["result"]["id"].as_u64().unwrap();
    let url = task["result"]["attachments"][0]["url"].as_str().unwrap().to_string();
    let (status, _, disposition, _) = download(&url).await;
    assert_eq!((status, disposition.as_str()), (200, "attachment; filename*=UTF-8''bye.pdf"));
    let r = delete(&format!("/chat/messages/{room}/{message}/?user_id={a}")).await;
    assert_eq!(r.status(), 204, "{}", r.text);
    // S3 answers 404, or 403 to a signer who may not list the bucket (the messages function).
    assert!([403, 404].contains(&download(&url).await.0), "the link no longer serves it");
    let files = services::config::files(&services::config::aws().await);
    let held = files.uploaded(room, &id).await.expect("S3 answers");
    assert_eq!(held, services::files::Uploaded::Missing, "the file is gone, not just hidden");
    let shown = all_messages(room, b).await;
    assert_eq!((&shown[0]["deleted"], &shown[0]["attachments"]), (&json!(true), &json!([])));
}

#[tokio::test]
async fn hostile_file_names_stay_names() {
    let (room, a, b, _) = room().await;
    for name in
        ["\"><img src=x onerror=alert(1)>.png", "résumé 📄;\" x=1.pdf", "..", "CON", "%2e%2e%2fetc.txt"]
    {
        let kind = if name.ends_with(".png") { "image/png" } else { "application/pdf" };
        let id = uploaded(a, room, name, kind, b"data").await;
        let task = finished(send_files(room, a, "", &[&id]).await.json["data"].as_str().unwrap()).await;
        assert_eq!(task["state"], "SUCCESS", "{name}: {task}");
        let shown = &all_messages(room, b).await.last().unwrap()["attachments"][0].clone();
        assert_eq!(shown["filename"], name);
        let url = shown["url"].as_str().unwrap();
        assert!(url.contains(&format!("/files/{room}/{id}?")), "the key is the id, never the name: {url}");
        let (status, _, disposition, bytes) = download(url).await;
        assert_eq!((status, bytes.as_slice()), (200, &b"data"[..]));
        assert!(disposition.contains("filename*=UTF-8''") && !disposition.contains('"'), "{disposition}");
    }
}

#[tokio::test]
async fn files_work_in_token_mode_for_the_token_holder_only() {
    let api = std::env::var("TOKEN_API_URL").expect("TOKEN_API_URL is set by scripts/test");
    let (_, na) = new_user("files_token_a").await;
    let (_, nb) = new_user("files_token_b").await;
    let (room, _) = new_room(&[&na, &nb]).await;
    let token = |name: String| {
        let api = api.clone();
        async move {
            let body = json!({"username": name, "password": "Passw0rd!"});
            let r = request_to(&api, Method::POST, "/auth/token/", Some(Body::Json(body)), None).await;
            r.json["access"].as_str().unwrap().to_string()
        }
    };
    let ta = token(na).await;
    let body = Some(Body::Json(declare(room, "t.txt", "text/plain", 2)));
    let none = request_to(&api, Method::POST, "/chat/attachments/", body, None).await;
    assert_eq!(none.status(), 401, "{}", none.text);
    let body = Some(Body::Json(declare(room, "t.txt", "text/plain", 2)));
    let r = request_to(&api, Method::POST, "/chat/attachments/", body, Some(&ta)).await;
    assert_eq!(r.status(), 201, "{}", r.text);
    assert_eq!(put_bytes(&r.json["data"], b"hi".to_vec(), None).await, 200);
    let id = r.json["data"]["id"].as_str().unwrap();
    let send = json!({"text": "", "attachments": [id]});
    let r =
        request_to(&api, Method::POST, &format!("/chat/group/{room}/"), Some(Body::Json(send)), Some(&ta))
            .await;
    assert_eq!(r.status(), 202, "{}", r.text);
    assert_eq!(finished(r.json["data"].as_str().unwrap()).await["state"], "SUCCESS");
}

#[tokio::test]
async fn a_pushed_message_carries_its_files_urls() {
    let (room, a, b, _) = room().await;
    let mut socket = connect(b).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let id = uploaded(a, room, "live.png", "image/png", PNG).await;
    send_files(room, a, "", &[&id]).await;
    // Generous: this file runs first in the suite, where a fresh clone's first stream push
    // passes a chain of cold instances (CI once took over 20 s); push.rs times warm pushes.
    let frame = frame_where(&mut socket, "message", Duration::from_secs(60), |m| m["room"] == room).await;
    let url = frame["data"]["attachments"][0]["url"].as_str().expect("a URL in the frame").to_string();
    assert_eq!(download(&url).await.3, PNG);
}

/// The bucket as the functions reach it: its name, and a client by path, as for moto.
async fn bucket() -> (String, aws_sdk_s3::Client) {
    let config = services::config::aws().await;
    let s3 = aws_sdk_s3::config::Builder::from(&config).force_path_style(true).build();
    (std::env::var("FILES_BUCKET").expect("FILES_BUCKET"), aws_sdk_s3::Client::from_conf(s3))
}

async fn tags(room: u64, id: &str) -> Vec<(String, String)> {
    let (name, s3) = bucket().await;
    let key = domain::attachments::object_key(room, id);
    let out = s3.get_object_tagging().bucket(name).key(key).send().await.expect("the object's tags");
    out.tag_set().iter().map(|t| (t.key().to_string(), t.value().to_string())).collect()
}

#[tokio::test]
async fn an_upload_is_tagged_unsent_until_its_message_takes_it_and_the_bucket_expires_unsent_ones() {
    let (room, a, _, _) = room().await;
    let id = uploaded(a, room, "later.txt", "text/plain", b"later").await;
    assert_eq!(tags(room, &id).await, [("state".to_string(), "unsent".to_string())]);
    let task = finished(send_files(room, a, "", &[&id]).await.json["data"].as_str().unwrap()).await;
    assert_eq!(task["state"], "SUCCESS", "{task}");
    assert!(tags(room, &id).await.is_empty(), "a sent file is kept");
    // The rule that deletes the tagged ones (moto keeps it; S3 applies it).
    let (name, s3) = bucket().await;
    let rules = s3.get_bucket_lifecycle_configuration().bucket(name).send().await.expect("lifecycle");
    let unsent = rules.rules().iter().find(|r| {
        let tag = r.filter().and_then(|f| f.tag());
        tag.is_some_and(|t| t.key() == "state" && t.value() == "unsent")
    });
    let days = unsent.and_then(|r| r.expiration()).and_then(|e| e.days());
    assert_eq!(days, Some(1), "{rules:?}");
}

async fn name_of(user: u64) -> String {
    get(&format!("/users/{user}/")).await.json["username"].as_str().unwrap().to_string()
}
