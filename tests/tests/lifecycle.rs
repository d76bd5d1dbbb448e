//! Edits, deletions and replies (API.md "Message lifecycle"), through the running stack: every
//! rule and error case, what a deletion leaves in the table, and the push frames of each change.

use e2e::ws::*;
use e2e::*;
use serde_json::{json, Value};
use std::time::Duration;

fn message_path(room: u64, id: u64, user: u64) -> String {
    format!("/chat/messages/{room}/{id}/?user_id={user}")
}

/// The message `id` as `reader`'s history shows it.
async fn in_history(room: u64, reader: u64, id: u64) -> Value {
    let all = all_messages(room, reader).await;
    all.into_iter().find(|m| m["id"] == id).unwrap_or_else(|| panic!("message {id} not in history"))
}

/// A room of two new users, with a message of the first delivered: (room, a, b, message).
async fn room_with_message(text: &str) -> (u64, u64, u64, Value) {
    let (a, na) = new_user("life_a").await;
    let (b, nb) = new_user("life_b").await;
    let (room, _) = new_room(&[&na, &nb]).await;
    let m = delivered_group(room, a, text).await;
    (room, a, b, m)
}

#[tokio::test]
async fn an_author_edits_a_message_in_place_and_everyone_sees_it_edited() {
    let (room, a, b, m) = room_with_message("frist").await;
    let id = m["id"].as_u64().unwrap();
    assert!(m["edited_at"].is_null() && m["deleted"] == false && m["reply_to"].is_null(), "{m}");
    assert_eq!(m["reactions"], json!([]));
    // b reads it first: an edit must not make it unseen again.
    until_nothing_unseen(b).await;
    let r = patch(&message_path(room, id, a), json!({"text": "first"})).await;
    assert_eq!(r.status(), 200, "{}", r.text);
    let edited = &r.json["data"];
    assert_eq!(
        (edited["id"].as_u64(), &edited["text"], &edited["sent_at"]),
        (Some(id), &json!("first"), &m["sent_at"])
    );
    assert!(edited["edited_at"].as_str().unwrap().ends_with('Z'));
    assert_eq!(edited["msg_from"], m["msg_from"]);
    for reader in [a, b] {
        let shown = in_history(room, reader, id).await;
        assert_eq!((&shown["text"], &shown["edited_at"]), (&json!("first"), &edited["edited_at"]));
    }
    assert_eq!(unseen_of(b).await, json!([]), "an edit is not news");
    // Both slash forms; an edit again moves edited_at on.
    let again = patch(&format!("/chat/messages/{room}/{id}?user_id={a}"), json!({"text": "first!"})).await;
    assert_eq!(again.status(), 200, "{}", again.text);
    assert!(again.json["data"]["edited_at"].as_str() >= edited["edited_at"].as_str());
}

#[tokio::test]
async fn an_edit_is_refused_with_a_clear_error_and_changes_nothing() {
    let (room, a, b, m) = room_with_message("keep me").await;
    let id = m["id"].as_u64().unwrap();
    // A room a is a member of too: the id is of another room there.
    let (other_room, _) = new_room(&[m["msg_from"]["username"].as_str().unwrap()]).await;
    let (stranger, _) = new_user("life_x").await;
    let cases = [
        (message_path(room, id, b), json!({"text": "mine now"}), 403),
        (message_path(room, id, stranger), json!({"text": "x"}), 403),
        (message_path(room, id + 1, a), json!({"text": "x"}), 404),
        (message_path(other_room, id, a), json!({"text": "x"}), 404),
        (message_path(room, id, 999_999_999), json!({"text": "x"}), 404),
        (message_path(room, id, a), json!({"text": ""}), 400),
        (message_path(room, id, a), json!({"text": 5}), 400),
        (message_path(room, id, a), json!({}), 400),
        (message_path(room, id, a), json!({"text": "x".repeat(1025)}), 413),
        (format!("/chat/messages/{room}/abc/?user_id={a}"), json!({"text": "x"}), 400),
        (format!("/chat/messages/{room}/{id}/"), json!({"text": "x"}), 400),
    ];
    for (path, body, status) in cases {
        let r = patch(&path, body.clone()).await;
        assert_error(&r, status);
        assert!(r.json["msg"].as_str().is_some_and(|m| !m.is_empty()), "{path} {body}: {}", r.text);
    }
    let shown = in_history(room, a, id).await;
    assert_eq!((&shown["text"], &shown["edited_at"]), (&json!("keep me"), &Value::Null));
}

#[tokio::test]
async fn a_delete_leaves_a_tombstone_and_erases_the_text_everywhere() {
    let secret = unique("erase-me");
    let (room, a, b, m) = room_with_message(&secret).await;
    let id = m["id"].as_u64().unwrap();
    let task = {
        // The same text sent again, to check its task record too.
        let task = send_group(room, a, &format!("{secret} twice")).await;
        assert_eq!(finished(&task).await["state"], "SUCCESS");
        task
    };
    let twice = all_messages(room, a).await.last().unwrap()["id"].as_u64().unwrap();
    let put = put(&format!("/chat/messages/{room}/{twice}/reactions/%F0%9F%91%8D/?user_id={b}"), None).await;
    assert_eq!(put.status(), 200, "{}", put.text);
    assert_error(&delete(&message_path(room, id, b)).await, 403);
    for (victim, path) in
        [(id, message_path(room, id, a)), (twice, format!("/chat/messages/{room}/{twice}?user_id={a}"))]
    {
        let r = delete(&path).await;
        assert_eq!((r.status(), r.text.as_str()), (204, ""), "{victim}");
    }
    let tombstone = in_history(room, b, twice).await;
    assert_eq!(
        (&tombstone["text"], &tombstone["deleted"], &tombstone["reactions"]),
        (&json!(""), &json!(true), &json!([]))
    );
    assert_eq!(tombstone["sent_at"], in_history(room, a, twice).await["sent_at"]);
    assert!(items_holding(&secret).await.is_empty(), "the text is gone from the table");
    let state = finished(&task).await;
    assert_eq!(
        (&state["state"], &state["result"]["deleted"], &state["result"]["text"]),
        (&json!("SUCCESS"), &json!(true), &json!(""))
    );
    // Again: 204; never unseen; still refused to others; an edit of it is a 409.
    assert_eq!(delete(&message_path(room, id, a)).await.status(), 204);
    assert_eq!(unseen_of(b).await, json!([]));
    assert_error(&delete(&message_path(room, id, b)).await, 403);
    assert_error(&patch(&message_path(room, id, a), json!({"text": "back"})).await, 409);
    assert_error(&delete(&message_path(room, id + 1, a)).await, 404);
}

#[tokio::test]
async fn an_edit_racing_a_delete_ends_in_exactly_one_of_the_two_outcomes() {
    for round in 0..6 {
        let (room, a, _, m) = room_with_message(&format!("race {round}")).await;
        let id = m["id"].as_u64().unwrap();
        let path = message_path(room, id, a);
        let (edit, del) = tokio::join!(patch(&path, json!({"text": "edited"})), delete(&path));
        assert_eq!(del.status(), 204);
        let shown = in_history(room, a, id).await;
        assert_eq!((&shown["deleted"], &shown["text"]), (&json!(true), &json!("")));
        match edit.status() {
            // Edited first, then deleted: the tombstone keeps the edit's time.
            200 => assert_eq!(shown["edited_at"], edit.json["data"]["edited_at"]),
            409 => assert!(shown["edited_at"].is_null(), "{shown}"),
            other => panic!("edit answered {other}: {}", edit.text),
        }
    }
}

#[tokio::test]
async fn a_reply_quotes_its_message_and_the_quote_follows_the_message() {
    let (room, a, b, m) = room_with_message(&"q".repeat(150)).await;
    let id = m["id"].as_u64().unwrap();
    let r = post(&format!("/chat/group/{room}/"), json!({"from": b, "text": "agreed", "reply_to": id})).await;
    assert_eq!(r.status(), 202, "{}", r.text);
    let reply = finished(r.json["data"].as_str().unwrap()).await["result"].clone();
    let quote = json!({"id": id, "msg_from": m["msg_from"], "text": "q".repeat(100), "deleted": false});
    assert_eq!(reply["reply_to"], quote, "the task's result");
    let reply_id = reply["id"].as_u64().unwrap();
    // Unseen first: reading history moves a's position past the reply.
    let unseen = unseen_of(a).await;
    assert_eq!(unseen[0]["messages"][0]["reply_to"], quote, "unseen: {unseen}");
    assert_eq!(in_history(room, a, reply_id).await["reply_to"], quote, "history");
    // A page that holds the reply but not its quote still shows the quote.
    let page = get(&format!("/chat/messages/{room}/?user_id={a}&limit=1")).await;
    assert_eq!(page.json["data"]["messages"][0]["reply_to"], quote);
    assert_eq!(delete(&message_path(room, id, a)).await.status(), 204);
    let gone = in_history(room, b, reply_id).await;
    assert_eq!(gone["reply_to"], json!({"id": id, "msg_from": m["msg_from"], "text": "", "deleted": true}));
}

#[tokio::test]
async fn a_reply_to_a_message_that_is_not_there_is_refused_before_the_202() {
    let (room, a, b, m) = room_with_message("quoted").await;
    let id = m["id"].as_u64().unwrap();
    let elsewhere = {
        let (c, nc) = new_user("life_c").await;
        let (r2, _) = new_room(&[&nc]).await;
        delivered_group(r2, c, "elsewhere").await["id"].as_u64().unwrap()
    };
    assert_eq!(delete(&message_path(room, id, a)).await.status(), 204);
    for reply_to in [json!(id), json!(elsewhere), json!(id + 7), json!("x"), json!(0), json!(-1)] {
        let r = post(&format!("/chat/group/{room}/"), json!({"from": b, "text": "re", "reply_to": reply_to}))
            .await;
        assert_error(&r, 400);
    }
    // Direct messages: a reply to a message of the pair's room, and not to another room's.
    let first = finished(&send_direct(a, b, "direct one").await).await["result"].clone();
    let ok =
        post(&format!("/chat/user/{a}/"), json!({"from": b, "text": "re", "reply_to": first["id"]})).await;
    assert_eq!(ok.status(), 202, "{}", ok.text);
    let reply = finished(ok.json["data"].as_str().unwrap()).await;
    assert_eq!(reply["result"]["reply_to"]["text"], "direct one");
    let bad =
        post(&format!("/chat/user/{a}/"), json!({"from": b, "text": "re", "reply_to": elsewhere})).await;
    assert_error(&bad, 400);
    let (lonely, _) = new_user("life_l").await;
    let none =
        post(&format!("/chat/user/{lonely}/"), json!({"from": b, "text": "re", "reply_to": first["id"]}))
            .await;
    assert_error(&none, 400);
    let rooms = get(&format!("/chat/chatroom/?user_id={lonely}")).await;
    assert_eq!(rooms.json["data"], json!([]), "a refused first message opens no room");
}

#[tokio::test]
async fn connected_members_get_edits_reactions_and_deletions_within_a_second() {
    let (room, a, b, m) = room_with_message("live").await;
    let id = m["id"].as_u64().unwrap();
    let mut socket = connect(b).await;
    let within = Duration::from_secs(3);
    let started = std::time::Instant::now();
    assert_eq!(patch(&message_path(room, id, a), json!({"text": "live!"})).await.status(), 200);
    let edited = frame_where(&mut socket, "message_edited", within, |d| d["id"] == id).await;
    assert_eq!((&edited["data"]["text"], &edited["data"]["room"]), (&json!("live!"), &json!(room)));
    assert!(edited["data"]["edited_at"].is_string());
    let emoji = "%F0%9F%8E%89";
    assert_eq!(
        put(&format!("/chat/messages/{room}/{id}/reactions/{emoji}/?user_id={a}"), None).await.status(),
        200
    );
    let reaction = frame_where(&mut socket, "reaction", within, |d| d["id"] == id).await;
    assert_eq!(
        reaction["data"],
        json!({"room": room, "id": id, "emoji": "🎉", "user": m["msg_from"], "added": true, "count": 1})
    );
    assert_eq!(
        delete(&format!("/chat/messages/{room}/{id}/reactions/{emoji}/?user_id={a}")).await.status(),
        204
    );
    let back = frame_where(&mut socket, "reaction", within, |d| d["id"] == id).await;
    assert_eq!((&back["data"]["added"], &back["data"]["count"]), (&json!(false), &json!(0)));
    assert_eq!(delete(&message_path(room, id, a)).await.status(), 204);
    let deleted = frame_where(&mut socket, "message_deleted", within, |d| d["id"] == id).await;
    assert_eq!(deleted["data"], json!({"room": room, "id": id}));
    assert!(started.elapsed() < Duration::from_secs(8), "four changes took {:?}", started.elapsed());
}
