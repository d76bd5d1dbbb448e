//! Live push (API.md, "Live push"), through the running stack with real WebSocket clients: the
//! local WebSocket API (localstack/gateway) on `WEBSOCKET_URL`, its `$connect`/`$disconnect`/
//! `$default` events to the sockets function, the table's stream (the poller) to the push
//! function, and its Management API calls back to the gateway.

use e2e::ws::*;
use e2e::*;
use futures_util::{SinkExt, StreamExt};
use serde_json::{json, Value};
use std::time::{Duration, Instant};
use tokio_tungstenite::tungstenite::Message;

fn text_is(text: &str) -> impl Fn(&Value) -> bool + '_ {
    move |data| data["text"] == text
}

/// Polls the stored connections of a user until `done` holds of them (10 s at most).
async fn connections_until(user: u64, done: impl Fn(&[String]) -> bool) -> Vec<String> {
    let store = store().await;
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let found = store.connections_of(user).await.expect("connections read");
        if done(&found) {
            return found;
        }
        assert!(Instant::now() < deadline, "connections of {user} still {found:?}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn a_message_reaches_every_connected_member_within_a_second() {
    let (a, na) = new_user("push_a").await;
    let (b, nb) = new_user("push_b").await;
    let (room, _) = new_room(&[&na, &nb]).await;
    let (mut sa, mut sb) = (connect(a).await, connect(b).await);
    let text = unique("hello");
    let sent = Instant::now();
    send_group(room, a, &text).await;
    for (who, socket) in [("the sender", &mut sa), ("the other member", &mut sb)] {
        let frame = frame_where(socket, "message", Duration::from_secs(10), text_is(&text)).await;
        let took = sent.elapsed();
        assert!(took < Duration::from_secs(1), "{who} got the message after {took:?}");
        assert_eq!(frame["data"]["room"], room);
        assert_eq!(frame["data"]["msg_from"], json!({"id": a, "username": na}));
    }
    // The frame is the message as history shows it.
    let history = all_messages(room, b).await;
    let stored = history.iter().find(|m| m["text"] == text.as_str()).expect("stored");
    let mut again = connect(b).await;
    let text2 = unique("again");
    send_group(room, a, &text2).await;
    let frame = frame_where(&mut again, "message", Duration::from_secs(10), text_is(&text2)).await;
    let keys = |v: &Value| v.as_object().unwrap().keys().cloned().collect::<Vec<_>>();
    assert_eq!(keys(&frame["data"]), keys(stored), "{frame} has the fields of {stored}");
}

#[tokio::test]
async fn a_direct_message_reaches_its_recipient_and_the_sender_gets_its_task() {
    let (a, _) = new_user("push_from").await;
    let (b, _) = new_user("push_to").await;
    let (mut sa, mut sb) = (connect(a).await, connect(b).await);
    let text = unique("psst");
    let task = send_direct(a, b, &text).await;
    let frame = frame_where(&mut sb, "message", Duration::from_secs(10), text_is(&text)).await;
    assert_eq!(frame["data"]["msg_from"]["id"], a);
    let frame =
        frame_where(&mut sa, "task", Duration::from_secs(10), |d| d["task_id"] == task.as_str()).await;
    // The same as task_state answers.
    let state = finished(&task).await;
    assert_eq!(frame["data"]["state"], "SUCCESS");
    assert_eq!(frame["data"]["result"], state["result"], "{frame} vs {state}");
    // Only the sender gets the task.
    let mut others = Vec::new();
    while let Some(f) = next_frame(&mut sb, Duration::from_millis(500)).await {
        others.push(f);
    }
    assert!(others.iter().all(|f| f["type"] != "task"), "{others:?}");
}

#[tokio::test]
async fn each_connection_of_a_user_gets_every_frame_once() {
    let (a, na) = new_user("push_tabs").await;
    let (b, nb) = new_user("push_peer").await;
    let (room, _) = new_room(&[&na, &nb]).await;
    let mut tabs = [connect(a).await, connect(a).await];
    let texts = [unique("one"), unique("two")];
    for text in &texts {
        delivered_group(room, b, text).await;
    }
    for tab in &mut tabs {
        let mut got = Vec::new();
        while let Some(frame) = next_frame(tab, Duration::from_secs(2)).await {
            if frame["type"] == "message" {
                got.push(frame["data"]["text"].as_str().unwrap().to_string());
            }
        }
        assert_eq!(got, texts, "each tab, every message once, in order");
    }
}

#[tokio::test]
async fn membership_changes_are_pushed_to_their_user() {
    let (a, na) = new_user("push_joins").await;
    let (creator, nb) = new_user("push_creator").await;
    let mut socket = connect(a).await;
    // Added at creation.
    let (room, _) = new_room(&[&nb, &na]).await;
    let added = frame_where(&mut socket, "membership", Duration::from_secs(10), |d| d["room"] == room).await;
    assert_eq!(added["data"], json!({"room": room, "joined": true}));
    let left = delete(&format!("/chat/chatroom/{room}/?user_id={a}")).await;
    assert_eq!(left.status(), 204, "{}", left.text);
    let gone = frame_where(&mut socket, "membership", Duration::from_secs(10), |d| d["room"] == room).await;
    assert_eq!(gone["data"], json!({"room": room, "joined": false}));
    // Out of the room, out of its pushes.
    let unheard = unique("unheard");
    delivered_group(room, creator, &unheard).await;
    let joined = put(&format!("/chat/chatroom/{room}/?user_id={a}"), None).await;
    assert_eq!(joined.status(), 200, "{}", joined.text);
    let back = frame_where(&mut socket, "membership", Duration::from_secs(10), |d| d["room"] == room).await;
    assert_eq!(back["data"]["joined"], true);
    // Back in: pushed again, and nothing of the time away was.
    let heard = unique("heard");
    send_group(room, creator, &heard).await;
    let mut between = Vec::new();
    loop {
        let frame =
            next_frame(&mut socket, Duration::from_secs(10)).await.expect("the message after the join");
        if frame["type"] == "message" && frame["data"]["text"] == heard.as_str() {
            break;
        }
        between.push(frame);
    }
    assert!(between.iter().all(|f| f["data"]["text"] != unheard.as_str()), "{between:?}");
}

#[tokio::test]
async fn a_closed_connection_is_forgotten_and_a_stale_one_does_not_fail_the_delivery() {
    let (a, na) = new_user("push_stale").await;
    let (b, nb) = new_user("push_live").await;
    let (room, _) = new_room(&[&na, &nb]).await;
    // Closed by the client: $disconnect removes it.
    let mut closing = connect(a).await;
    connections_until(a, |c| c.len() == 1).await;
    closing.close(None).await.unwrap();
    connections_until(a, <[String]>::is_empty).await;
    // A connection API Gateway no longer knows (its $disconnect never came): the push to it
    // answers 410, the delivery is not held up, the others still get the frame, and it goes.
    let mut live = connect(a).await;
    let live_id = connections_until(a, |c| c.len() == 1).await.remove(0);
    let store = store().await;
    let stale = "StaleConnId0=";
    store.connect(a, stale).await.unwrap();
    store.present(stale, a, &[room]).await.unwrap();
    assert_eq!(connections_until(a, |c| c.len() == 2).await.len(), 2);
    let text = unique("still");
    let task = finished(&send_group(room, b, &text).await).await;
    assert_eq!(task["state"], "SUCCESS", "{task}");
    frame_where(&mut live, "message", Duration::from_secs(10), text_is(&text)).await;
    connections_until(a, |c| c == [live_id.clone()]).await;
    let online: Vec<String> = store.online(room).await.unwrap().into_iter().map(|p| p.connection).collect();
    assert_eq!(online, [live_id], "the stale connection left the room's presence too");
}

#[tokio::test]
async fn a_deleted_user_s_connections_are_closed() {
    let (a, _) = new_user("push_deleted").await;
    let mut socket = connect(a).await;
    connections_until(a, |c| c.len() == 1).await;
    let r = delete(&format!("/users/{a}/")).await;
    assert_eq!(r.status(), 204, "{}", r.text);
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let left = deadline.checked_duration_since(Instant::now()).expect("closed within 10 s");
        match tokio::time::timeout(left, socket.next()).await.expect("closed within 10 s") {
            None | Some(Ok(Message::Close(_))) | Some(Err(_)) => break,
            Some(Ok(_)) => {}
        }
    }
    connections_until(a, <[String]>::is_empty).await;
}

#[tokio::test]
async fn a_user_holds_at_most_ten_connections() {
    let (a, _) = new_user("push_many").await;
    let mut held = Vec::new();
    for _ in 0..10 {
        held.push(connect(a).await);
    }
    let (status, body) = open(&ws_url("WEBSOCKET_URL"), &format!("user_id={a}")).await.expect_err("refused");
    assert_eq!(status, 429, "{body}");
    assert_eq!(connections_until(a, |c| c.len() == 10).await.len(), 10);
    // One closed, one more may connect.
    held.pop().unwrap().close(None).await.unwrap();
    connections_until(a, |c| c.len() == 9).await;
    held.push(connect(a).await);
}

#[tokio::test]
async fn a_ping_gets_a_pong_and_a_bad_connect_is_refused() {
    let (a, _) = new_user("push_ping").await;
    let mut socket = connect(a).await;
    socket.send(Message::text(r#"{"action": "ping"}"#)).await.unwrap();
    assert_eq!(next_frame(&mut socket, Duration::from_secs(5)).await, Some(json!({"type": "pong"})));
    socket.send(Message::text("hello")).await.unwrap();
    let error = next_frame(&mut socket, Duration::from_secs(5)).await.unwrap();
    assert_eq!(error["type"], "error", "{error}");
    // None mode: user_id names a user that exists.
    let base = ws_url("WEBSOCKET_URL");
    for (query, status) in [("", 400), ("user_id=abc", 400), ("user_id=0", 400), ("user_id=999999999", 404)] {
        let (got, body) = open(&base, query).await.err().unwrap_or_else(|| panic!("{query:?} connected"));
        assert_eq!(got, status, "{query:?}: {body}");
        assert_eq!(body["status"], status, "{query:?}: {body}");
    }
}

#[tokio::test]
async fn token_mode_checks_the_token_at_connect() {
    let api = std::env::var("TOKEN_API_URL").expect("TOKEN_API_URL is set by scripts/test");
    let base = ws_url("TOKEN_WEBSOCKET_URL");
    let (a, name) = new_user("push_token").await;
    let body = json!({"username": name, "password": "Passw0rd!"});
    let r = request_to(&api, reqwest::Method::POST, "/auth/token/", Some(Body::Json(body)), None).await;
    assert_eq!(r.status(), 200, "{}", r.text);
    let (access, refresh) = (r.json["access"].as_str().unwrap(), r.json["refresh"].as_str().unwrap());
    let tampered = format!("{}x", &access[..access.len() - 1]);
    for query in [
        String::new(),
        "token=".into(),
        format!("token={tampered}"),
        format!("token={refresh}"),
        format!("user_id={a}"),
    ] {
        let (status, body) = open(&base, &query).await.err().unwrap_or_else(|| panic!("{query:?} connected"));
        assert_eq!(status, 401, "{query:?}: {body}");
    }
    let mut socket = open(&base, &format!("token={access}")).await.expect("a valid token connects");
    let text = unique("tok");
    send_direct(a, a, &text).await;
    let frame = frame_where(&mut socket, "message", Duration::from_secs(10), text_is(&text)).await;
    assert_eq!(frame["data"]["msg_from"]["id"], a);
}

#[tokio::test]
async fn a_send_that_fails_pushes_its_failure_to_the_sender() {
    let (a, _) = new_user("push_failed").await;
    let mut socket = connect(a).await;
    // A job the worker can never read, for a task of a's: it ends FAILURE through the
    // dead-letter queue, and the sender hears of it.
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_millis();
    let task = signing().await.issue_task_id(now as u64);
    let poison = json!({"kind": "send", "task_id": task, "room_name": "x", "message": {"id": "not a number", "from_id": a}});
    sqs()
        .await
        .send_message()
        .queue_url(std::env::var("QUEUE_URL").unwrap())
        .message_body(poison.to_string())
        .message_group_id(unique("poison"))
        .send()
        .await
        .unwrap();
    let frame =
        frame_where(&mut socket, "task", Duration::from_secs(60), |d| d["task_id"] == task.as_str()).await;
    assert_eq!(frame["data"]["state"], "FAILURE");
    assert_eq!(frame["data"]["result"], finished(&task).await["result"]);
}
