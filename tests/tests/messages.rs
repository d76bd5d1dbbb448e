//! Message routes over HTTP through the whole pipeline: API → DynamoDB task + SQS → poller →
//! worker (Lambda Invoke API) → DynamoDB, then reads, unseen and task state.

use domain::model::Position;
use e2e::*;
use serde_json::{json, Value};
use std::time::Duration;

fn texts(messages: &Value) -> Vec<String> {
    messages.as_array().unwrap().iter().map(|m| m["text"].as_str().unwrap().to_string()).collect()
}

async fn history(room: u64, user: u64, query: &str) -> Reply {
    get(&format!("/chat/messages/{room}/?user_id={user}{query}")).await
}

#[tokio::test]
async fn readme_direct_message_flow() {
    // POST /chat/user/1/ {"from": 2, "text": "hey man"}, then its task state, then the room.
    let task = send_direct(2, 1, "hey man").await;
    let state = finished(&task).await;
    assert_eq!(state["state"], "SUCCESS", "{state}");
    let result = &state["result"];
    assert_eq!(result["text"], "hey man");
    assert_eq!(result["msg_from"], json!({"id": 2, "username": "user_2"}));
    assert_eq!(result["room"]["room_name"], "user_1 - user_2");
    assert_eq!(member_names(&result["room"]), ["user_1", "user_2"]);
    assert!(result["sent_at"].as_str().unwrap().ends_with('Z'));
    let room = result["room"]["id"].as_u64().unwrap();
    // Both slash forms of task_state answer the same bare shape.
    let slash = get(&format!("/chat/task_state/{task}/")).await;
    assert_eq!(slash.json, state);
    assert_eq!(state.as_object().unwrap().len(), 2);
    let r = history(room, 1, "").await;
    assert_eq!(r.status(), 200);
    assert!(r.json["data"]["messages"].as_array().unwrap().iter().any(|m| m["id"] == result["id"]));
}

#[tokio::test]
async fn first_direct_message_creates_the_pair_room_and_later_ones_reuse_it() {
    let (a, na) = new_user("dm_a").await;
    let (b, nb) = new_user("dm_b").await;
    let first = finished(&send_direct(b, a, "one").await).await;
    let room = &first["result"]["room"];
    // Smaller id first, whoever sends.
    assert_eq!(room["room_name"], format!("{na} - {nb}"));
    let second = finished(&send_direct(a, b, "two").await).await;
    assert_eq!(second["result"]["room"]["id"], room["id"]);
    let id = room["id"].as_u64().unwrap();
    let r = history(id, a, "").await;
    assert_eq!(texts(&r.json["data"]["messages"]), ["one", "two"]);
    assert_eq!(r.json["data"]["room_name"], format!("{na} - {nb}"));
    // It is a direct room: listed for its members, not among group rooms, not joinable.
    let mine = get(&format!("/chat/chatroom/?user_id={b}")).await;
    assert!(mine.json["data"].as_array().unwrap().iter().any(|r| r["id"] == id));
    let groups = get("/chat/chatroom/").await;
    assert!(groups.json["data"].as_array().unwrap().iter().all(|r| r["id"] != id));
    assert_error(&put(&format!("/chat/chatroom/{id}/?user_id={a}"), None).await, 403);
    let (c, _) = new_user("dm_c").await;
    assert_error(&put(&format!("/chat/chatroom/{id}/?user_id={c}"), None).await, 403);
    // Members see it in detail; without a user it is hidden like any direct room.
    assert_eq!(get(&format!("/chat/chatroom/{id}/?user_id={a}")).await.status(), 200);
    assert_error(&get(&format!("/chat/chatroom/{id}/")).await, 404);
    assert_error(&get(&format!("/chat/chatroom/{id}/?user_id={c}")).await, 403);
}

#[tokio::test]
async fn leaving_a_direct_room_hides_it_until_the_next_message_from_either_side() {
    let (a, na) = new_user("hide_a").await;
    let (b, nb) = new_user("hide_b").await;
    let room = finished(&send_direct(a, b, "hello").await).await["result"]["room"]["id"].as_u64().unwrap();
    assert_eq!(delete(&format!("/chat/chatroom/{room}/?user_id={b}")).await.status(), 204);
    assert!(get(&format!("/chat/chatroom/?user_id={b}")).await.json["data"].as_array().unwrap().is_empty());
    assert_error(&history(room, b, "").await, 403);
    let detail = get(&format!("/chat/chatroom/{room}/?user_id={a}")).await;
    assert_eq!(member_names(&detail.json["data"]), [na.as_str()]);
    // a writes again: b is a member again and sees the whole conversation.
    let again = finished(&send_direct(a, b, "are you there?").await).await;
    assert_eq!(again["result"]["room"]["id"], room);
    let mut both = vec![na.clone(), nb.clone()];
    both.sort();
    assert_eq!(member_names(&again["result"]["room"]), both);
    assert_eq!(texts(&history(room, b, "").await.json["data"]["messages"]), ["hello", "are you there?"]);
    // Leaving and writing from the leaver's side also works, again and again.
    for round in 0..2 {
        assert_eq!(delete(&format!("/chat/chatroom/{room}/?user_id={b}")).await.status(), 204);
        let back = finished(&send_direct(b, a, &format!("back {round}")).await).await;
        assert_eq!(back["result"]["room"]["id"], room);
    }
}

#[tokio::test]
async fn both_leaving_a_direct_room_deletes_it_and_a_new_message_starts_afresh() {
    let (a, _) = new_user("both_a").await;
    let (b, _) = new_user("both_b").await;
    let room = finished(&send_direct(a, b, "old").await).await["result"]["room"]["id"].as_u64().unwrap();
    assert_eq!(delete(&format!("/chat/chatroom/{room}/?user_id={a}")).await.status(), 204);
    assert_eq!(delete(&format!("/chat/chatroom/{room}/?user_id={b}")).await.status(), 204);
    assert_error(&get(&format!("/chat/chatroom/{room}/?user_id={a}")).await, 404);
    let fresh = finished(&send_direct(b, a, "new").await).await;
    let new_room = fresh["result"]["room"]["id"].as_u64().unwrap();
    assert_ne!(new_room, room);
    assert_eq!(texts(&history(new_room, a, "").await.json["data"]["messages"]), ["new"]);
}

#[tokio::test]
async fn a_note_to_oneself_has_a_room_of_one() {
    let (a, na) = new_user("self").await;
    let state = finished(&send_direct(a, a, "remember the milk").await).await;
    assert_eq!(state["result"]["room"]["room_name"], format!("{na} - {na}"));
    assert_eq!(member_names(&state["result"]["room"]), [na]);
    assert_eq!(unseen_of(a).await, json!([]));
}

#[tokio::test]
async fn group_message_flow_with_unseen_for_every_other_member() {
    let (a, na) = new_user("grp_a").await;
    let (b, nb) = new_user("grp_b").await;
    let (c, nc) = new_user("grp_c").await;
    let (room, name) = new_room(&[&na, &nb, &nc]).await;
    let first = delivered_group(room, a, "first").await;
    assert_eq!(first["room"]["id"], room);
    assert_eq!(first["room"]["room_name"], name);
    assert_eq!(first["msg_from"], json!({"id": a, "username": na}));
    delivered_group(room, a, "second").await;
    // The sender has nothing unseen; each other member has both messages, oldest first.
    assert_eq!(unseen_of(a).await, json!([]));
    let for_b = unseen_of(b).await;
    assert_eq!(for_b.as_array().unwrap().len(), 1);
    assert_eq!(for_b[0]["id"], room);
    assert_eq!(for_b[0]["room_name"], name);
    assert_eq!(member_names(&for_b[0]).len(), 3);
    assert_eq!(texts(&for_b[0]["messages"]), ["first", "second"]);
    let m = &for_b[0]["messages"][0];
    assert_eq!(m["room"], room);
    assert_eq!(m["msg_from"]["username"], na);
    assert!(m["id"].is_u64() && m["sent_at"].is_string());
    // b's read marks b's copies seen, not c's.
    until_nothing_unseen(b).await;
    assert_eq!(texts(&unseen_of(c).await[0]["messages"]), ["first", "second"]);
    // Reading the history marks seen too.
    assert_eq!(history(room, c, "").await.status(), 200);
    until_nothing_unseen(c).await;
    // New messages show up again for both, from whichever sender.
    delivered_group(room, c, "third").await;
    assert_eq!(texts(&unseen_of(b).await[0]["messages"]), ["third"]);
    assert_eq!(texts(&unseen_of(a).await[0]["messages"]), ["third"]);
    assert_eq!(unseen_of(c).await, json!([]));
    let _ = nb;
}

#[tokio::test]
async fn history_pages_backwards_with_limit_and_before() {
    let (a, na) = new_user("page").await;
    let (room, name) = new_room(&[&na]).await;
    for i in 1..=5 {
        delivered_group(room, a, &format!("m{i}")).await;
    }
    let all = history(room, a, "").await;
    assert_eq!(all.status(), 200);
    assert_eq!(all.json["data"]["room_name"], name);
    assert_eq!(member_names(&all.json["data"]), [na]);
    assert_eq!(texts(&all.json["data"]["messages"]), ["m1", "m2", "m3", "m4", "m5"]);
    assert!(all.json["data"].get("next_before").is_none());
    let ids: Vec<u64> =
        all.json["data"]["messages"].as_array().unwrap().iter().map(|m| m["id"].as_u64().unwrap()).collect();
    assert!(ids.windows(2).all(|w| w[0] < w[1]));

    let page = history(room, a, "&limit=2").await;
    assert_eq!(texts(&page.json["data"]["messages"]), ["m4", "m5"]);
    let before = page.json["data"]["next_before"].as_u64().expect("older messages exist");
    assert_eq!(before, ids[3]);
    let page = history(room, a, &format!("&limit=2&before={before}")).await;
    assert_eq!(texts(&page.json["data"]["messages"]), ["m2", "m3"]);
    let before = page.json["data"]["next_before"].as_u64().unwrap();
    let page = history(room, a, &format!("&limit=2&before={before}")).await;
    assert_eq!(texts(&page.json["data"]["messages"]), ["m1"]);
    assert!(page.json["data"].get("next_before").is_none());
    for bad in ["&limit=0", "&limit=201", "&limit=x", "&before=0", "&before=x"] {
        assert_error(&history(room, a, bad).await, 400);
    }
}

/// A member's read position in a room, read straight from DynamoDB (the unseen route would
/// move it).
async fn position(user: u64, room: u64) -> Position {
    let rooms = store().await.memberships(user).await.unwrap();
    rooms.into_iter().find(|m| m.room.id == room).expect("a member of the room").position
}

/// Waits (10 s at most) until a member's position in a room reads `read_to`: moves are
/// asynchronous, through the worker.
async fn until_read_to(user: u64, room: u64, read_to: u64) {
    for _ in 0..100 {
        if position(user, room).await.read_to == read_to {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(position(user, room).await.read_to, read_to);
}

#[tokio::test]
async fn a_history_page_moves_the_read_position_to_its_newest_message_and_never_back() {
    let (a, na) = new_user("seenpage_a").await;
    let (b, nb) = new_user("seenpage_b").await;
    let (room, _) = new_room(&[&na, &nb]).await;
    let mut ids = Vec::new();
    for i in 1..=4 {
        ids.push(delivered_group(room, a, &format!("m{i}")).await["id"].as_u64().unwrap());
    }
    assert_eq!(position(b, room).await, Position::default());
    // Another room's message stays unseen through this room's reads.
    let (other, _) = new_room(&[&na, &nb]).await;
    delivered_group(other, a, "elsewhere").await;

    let page = history(room, b, "&limit=2").await;
    assert_eq!(texts(&page.json["data"]["messages"]), ["m3", "m4"]);
    until_read_to(b, room, ids[3]).await;
    // Older messages are behind the position now; only the other room is unseen.
    let unseen = unseen_of(b).await;
    assert_eq!(unseen.as_array().unwrap().len(), 1, "{unseen}");
    assert_eq!(
        (unseen[0]["id"].as_u64(), texts(&unseen[0]["messages"])),
        (Some(other), vec!["elsewhere".to_string()])
    );
    // Reading an older page does not move it back.
    let before = page.json["data"]["next_before"].as_u64().unwrap();
    assert_eq!(
        texts(&history(room, b, &format!("&limit=2&before={before}")).await.json["data"]["messages"]),
        ["m1", "m2"]
    );
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(position(b, room).await.read_to, ids[3]);
    // Sending moves nobody's position: the sender's stays where it was.
    assert_eq!(position(a, room).await, Position::default());
}

#[tokio::test]
async fn history_errors() {
    let (room, _) = new_room(&["user_10"]).await;
    assert_error(&history(room, 11, "").await, 403);
    assert_error(&history(room, 999_999_999, "").await, 404);
    assert_error(&history(999_999_999, 10, "").await, 404);
    assert_error(&get(&format!("/chat/messages/{room}/")).await, 400);
    assert_error(&get("/chat/messages/x/?user_id=10").await, 400);
}

#[tokio::test]
async fn send_validation_errors_accept_nothing() {
    let (a, na) = new_user("val_a").await;
    let (room, _) = new_room(&[&na]).await;
    for path in [format!("/chat/user/{a}/"), format!("/chat/group/{room}/")] {
        for (body, status) in [
            (json!({"text": "no sender"}), 400),
            (json!({"from": a}), 400),
            (json!({"from": a, "text": ""}), 400),
            (json!({"from": a, "text": 7}), 400),
            (json!({"from": a, "text": null}), 400),
            (json!({"from": 0, "text": "t"}), 400),
            (json!({"from": -4, "text": "t"}), 400),
            (json!({"from": 1.5, "text": "t"}), 400),
            (json!({"from": "abc", "text": "t"}), 400),
            (json!({"from": a, "text": "x".repeat(1025)}), 413),
            (json!({"from": 999_999_999, "text": "t"}), 404),
        ] {
            assert_error(&post(&path, body.clone()).await, status);
        }
        for raw in ["{", "[]", "\"x\"", ""] {
            assert_error(&post_raw(&path, raw).await, 400);
        }
        assert_error(&post(&path, json!({"from": a, "text": "x".repeat(70_000)})).await, 413);
    }
    assert_error(&post("/chat/user/999999999/", json!({"from": a, "text": "t"})).await, 404);
    assert_error(&post("/chat/group/999999999/", json!({"from": a, "text": "t"})).await, 404);
    assert_error(&post("/chat/user/0/", json!({"from": a, "text": "t"})).await, 400);
    // Nothing was accepted: the room is still empty, a has no direct room.
    assert!(history(room, a, "").await.json["data"]["messages"].as_array().unwrap().is_empty());
    assert_eq!(get(&format!("/chat/chatroom/?user_id={a}")).await.json["data"].as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn sender_may_be_a_numeric_string_and_text_may_be_1024_chars_of_anything() {
    let (a, na) = new_user("str").await;
    let (room, _) = new_room(&[&na]).await;
    let text = format!("é☕\"'\\\n\t; DROP TABLE messages; -- #pk :v {}", "x".repeat(980));
    let text: String = text.chars().take(1024).collect();
    let task = accepted_from_string(room, a, &text).await;
    let state = finished(&task).await;
    assert_eq!(state["result"]["text"], text);
    assert_eq!(texts(&history(room, a, "").await.json["data"]["messages"]), [text]);
}

async fn accepted_from_string(room: u64, from: u64, text: &str) -> String {
    let r = post(&format!("/chat/group/{room}/"), json!({"from": from.to_string(), "text": text})).await;
    assert_eq!(r.status(), 202, "{}", r.text);
    r.json["data"].as_str().unwrap().to_string()
}

#[tokio::test]
async fn non_members_cannot_post_and_leavers_lose_the_right() {
    let (a, na) = new_user("np_a").await;
    let (b, _) = new_user("np_b").await;
    let (room, _) = new_room(&[&na]).await;
    assert_error(&post(&format!("/chat/group/{room}/"), json!({"from": b, "text": "let me in"})).await, 403);
    assert_eq!(put(&format!("/chat/chatroom/{room}/?user_id={b}"), None).await.status(), 200);
    delivered_group(room, b, "joined").await;
    assert_eq!(delete(&format!("/chat/chatroom/{room}/?user_id={b}")).await.status(), 204);
    assert_error(&post(&format!("/chat/group/{room}/"), json!({"from": b, "text": "gone"})).await, 403);
    assert_eq!(texts(&history(room, a, "").await.json["data"]["messages"]), ["joined"]);
}

#[tokio::test]
async fn deleted_senders_messages_stay_with_their_last_username() {
    let (a, na) = new_user("leaver").await;
    let (b, nb) = new_user("reader").await;
    let (room, _) = new_room(&[&na, &nb]).await;
    delivered_group(room, a, "bye").await;
    assert_eq!(delete(&format!("/users/{a}/")).await.status(), 204);
    let r = history(room, b, "").await;
    assert_eq!(r.json["data"]["messages"][0]["msg_from"], json!({"id": a, "username": na}));
    assert_eq!(member_names(&r.json["data"]), [nb]);
}

#[tokio::test]
async fn renamed_senders_show_their_current_name() {
    let (a, na) = new_user("old_name").await;
    let (room, _) = new_room(&[&na]).await;
    delivered_group(room, a, "hi").await;
    let renamed = unique("new_name");
    assert_eq!(patch(&format!("/users/{a}/"), json!({"username": renamed})).await.status(), 200);
    let r = history(room, a, "").await;
    assert_eq!(r.json["data"]["messages"][0]["msg_from"]["username"], renamed);
}

#[tokio::test]
async fn last_leave_deletes_the_rooms_messages() {
    let (a, na) = new_user("purge").await;
    let (room, name) = new_room(&[&na]).await;
    delivered_group(room, a, "doomed").await;
    assert_eq!(delete(&format!("/chat/chatroom/{room}/?user_id={a}")).await.status(), 204);
    assert_error(&history(room, a, "").await, 404);
    // A new room of the same name starts empty.
    let r = post("/chat/chatroom/", json!({"room_name": name, "room_member": [{"username": na}]})).await;
    let fresh = r.json["data"]["id"].as_u64().unwrap();
    assert!(history(fresh, a, "").await.json["data"]["messages"].as_array().unwrap().is_empty());
}

#[tokio::test]
async fn a_send_to_a_room_deleted_before_delivery_fails_with_a_reason() {
    let (a, na) = new_user("race_a").await;
    let (room, _) = new_room(&[&na]).await;
    // Send and leave at once: whichever the worker sees first decides, and both ends are clean.
    let task = send_group(room, a, "into the void?").await;
    assert_eq!(delete(&format!("/chat/chatroom/{room}/?user_id={a}")).await.status(), 204);
    let state = finished(&task).await;
    match state["state"].as_str().unwrap() {
        "FAILURE" => assert_eq!(
            state["result"],
            json!({"error": "The chat room was deleted before the message could be delivered."})
        ),
        // Stored, then deleted with its room: the result shows the message gone.
        "SUCCESS" => {
            assert_eq!((&state["result"]["deleted"], &state["result"]["text"]), (&json!(true), &json!("")))
        }
        other => panic!("unexpected state {other}"),
    }
    assert_error(&history(room, a, "").await, 404);
}

#[tokio::test]
async fn task_state_errors_are_404() {
    for id in
        ["00000000-0000-4000-8000-000000000000", "not-a-uuid", "0", "00000000-0000-4000-8000-00000000000Z"]
    {
        assert_error(&get(&format!("/chat/task_state/{id}")).await, 404);
        assert_error(&get(&format!("/chat/task_state/{id}/")).await, 404);
    }
}

#[tokio::test]
async fn unsupported_methods_are_405() {
    for (r, allow) in [
        (get("/chat/user/1/").await, "POST"),
        (delete("/chat/group/1/").await, "POST"),
        (post("/chat/messages/unseen/", json!({})).await, "GET"),
        (put("/chat/messages/1/", None).await, "GET"),
        (post("/chat/task_state/00000000-0000-4000-8000-000000000000", json!({})).await, "GET"),
    ] {
        assert_error(&r, 405);
        assert_eq!(r.allow.as_deref(), Some(allow));
    }
}
