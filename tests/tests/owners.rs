//! Rooms with owners (API.md "Rooms with owners"), through the running stack: owners and
//! admins, private rooms, settings, adding members, kicks, bans and their races, ownership
//! passed on, room lists showing each change at once, admins deleting messages, and the
//! `membership` frame of a kick.

use e2e::ws::*;
use e2e::*;
use serde_json::{json, Value};
use std::time::Duration;

/// `n` new users: (ids, names).
async fn users(n: usize) -> (Vec<u64>, Vec<String>) {
    let (mut ids, mut names) = (Vec::new(), Vec::new());
    for _ in 0..n {
        let (id, name) = new_user("own").await;
        ids.push(id);
        names.push(name);
    }
    (ids, names)
}

/// A room created by `owner` with `members` and `visibility`: its JSON.
async fn owned_room(owner: u64, members: &[&str], visibility: &str) -> Value {
    let room_member: Vec<Value> = members.iter().map(|m| json!({"username": m})).collect();
    let body = json!({"room_name": unique("owned"), "room_member": room_member, "visibility": visibility, "topic": "plans"});
    let r = post(&format!("/chat/chatroom/?user_id={owner}"), body).await;
    assert_eq!(r.status(), 201, "{}", r.text);
    r.json["data"].clone()
}

async fn view(room: u64, user: u64) -> Reply {
    get(&format!("/chat/chatroom/{room}/?user_id={user}")).await
}

fn ids_of(list: &Value) -> Vec<u64> {
    list.as_array().unwrap().iter().map(|u| u["id"].as_u64().unwrap()).collect()
}

#[tokio::test]
async fn the_creator_owns_a_room_and_a_room_without_one_is_owned_by_its_first_member() {
    let (u, n) = users(3).await;
    let room = owned_room(u[0], &[&n[1]], "public").await;
    assert_eq!(room["owner"], json!({"id": u[0], "username": n[0]}));
    assert_eq!(
        (&room["admins"], &room["visibility"], &room["topic"]),
        (&json!([]), &json!("public"), &json!("plans"))
    );
    assert_eq!(member_names(&room), {
        let mut m = vec![n[0].clone(), n[1].clone()];
        m.sort();
        m
    });
    // The original's curl line: no acting user, the first listed member owns it.
    let (id, _) = new_room(&[&n[2], &n[1]]).await;
    assert_eq!(view(id, u[1]).await.json["data"]["owner"]["id"], u[2]);
    // No member at all: no owner until someone joins, and the first to join owns it.
    let (empty, _) = new_room(&[]).await;
    assert_eq!(get(&format!("/chat/chatroom/{empty}/")).await.status(), 200);
    assert_eq!(put(&format!("/chat/chatroom/{empty}/?user_id={}", u[1]), None).await.status(), 200);
    assert_eq!(put(&format!("/chat/chatroom/{empty}/?user_id={}", u[2]), None).await.status(), 200);
    assert_eq!(view(empty, u[2]).await.json["data"]["owner"]["id"], u[1]);
    let bad = post(
        &format!("/chat/chatroom/?user_id={}", u[0]),
        json!({"room_name": unique("r"), "visibility": "secret"}),
    )
    .await;
    assert_error(&bad, 400);
    let long = post("/chat/chatroom/", json!({"room_name": unique("r"), "topic": "t".repeat(251)})).await;
    assert_error(&long, 400);
}

#[tokio::test]
async fn a_private_room_does_not_exist_for_those_outside() {
    let (u, n) = users(3).await;
    let room = owned_room(u[0], &[&n[1]], "private").await;
    let id = room["id"].as_u64().unwrap();
    let listed = get(&format!("/chat/chatroom/?after={}&limit=1", id - 1)).await;
    assert!(ids_of(&listed.json["data"]).iter().all(|&r| r != id), "not in the group list");
    assert_error(&get(&format!("/chat/chatroom/{id}/")).await, 404);
    assert_error(&view(id, u[2]).await, 404);
    assert_error(&put(&format!("/chat/chatroom/{id}/?user_id={}", u[2]), None).await, 403);
    assert_error(&get(&format!("/chat/messages/{id}/?user_id={}", u[2])).await, 403);
    let mine = get(&format!("/chat/chatroom/?user_id={}", u[1])).await;
    let shown = mine.json["data"].as_array().unwrap().iter().find(|r| r["id"] == id).cloned().unwrap();
    assert_eq!((&shown["visibility"], &shown["owner"]["id"]), (&json!("private"), &json!(u[0])));
    assert_eq!(view(id, u[1]).await.json["data"]["topic"], "plans");
}

#[tokio::test]
async fn admins_change_a_room_s_name_topic_and_visibility() {
    let (u, n) = users(3).await;
    let id = owned_room(u[0], &[&n[1], &n[2]], "private").await["id"].as_u64().unwrap();
    let path = |user: u64| format!("/chat/chatroom/{id}/?user_id={user}");
    assert_error(&patch(&path(u[1]), json!({"topic": "mine"})).await, 403);
    assert_eq!(
        put(&format!("/chat/chatroom/{id}/admins/{}/?user_id={}", u[1], u[0]), None).await.status(),
        200
    );
    let new_name = unique("renamed");
    let r = patch(&path(u[1]), json!({"room_name": new_name, "topic": "new topic", "visibility": "public"}))
        .await;
    assert_eq!(r.status(), 200, "{}", r.text);
    assert_eq!(
        (&r.json["data"]["room_name"], &r.json["data"]["topic"]),
        (&json!(new_name), &json!("new topic"))
    );
    assert_eq!(r.json["data"]["admins"], json!([{"id": u[1], "username": n[1]}]));
    assert_eq!(get(&format!("/chat/chatroom/{id}/")).await.json["data"]["room_name"], new_name, "public now");
    let mine = get(&format!("/chat/chatroom/?user_id={}", u[2])).await;
    assert!(
        mine.json["data"].as_array().unwrap().iter().any(|r| r["room_name"] == new_name),
        "the list shows the new name"
    );
    let (_, taken) = new_room(&[]).await;
    assert_error(&patch(&path(u[0]), json!({"room_name": taken})).await, 409);
    assert_error(&patch(&path(u[0]), json!({"topic": 5})).await, 400);
    assert_eq!(patch(&path(u[0]), json!({"visibility": "private"})).await.status(), 200);
    assert_error(&get(&format!("/chat/chatroom/{id}/")).await, 404);
}

#[tokio::test]
async fn members_add_to_public_rooms_and_admins_to_private_ones() {
    let (u, n) = users(5).await;
    let public = owned_room(u[0], &[&n[1]], "public").await["id"].as_u64().unwrap();
    let add = |room: u64, actor: u64, name: &str| {
        let path = format!("/chat/chatroom/{room}/members/?user_id={actor}");
        let body = json!({"username": name});
        async move { post(&path, body).await }
    };
    let r = add(public, u[1], &n[2]).await;
    assert_eq!(r.status(), 201, "{}", r.text);
    assert!(member_names(&r.json["data"]).contains(&n[2]));
    assert_error(&add(public, u[1], &n[2]).await, 400);
    assert_error(&add(public, u[1], "nobody-at-all").await, 404);
    assert_error(&add(public, u[3], &n[4]).await, 403);
    let private = owned_room(u[0], &[&n[1]], "private").await["id"].as_u64().unwrap();
    assert_error(&add(private, u[1], &n[3]).await, 403);
    assert_eq!(add(private, u[0], &n[3]).await.status(), 201);
    assert_eq!(view(private, u[3]).await.status(), 200, "an added member sees the room");
    assert_error(&post(&format!("/chat/chatroom/{public}/members/?user_id={}", u[1]), json!({})).await, 400);
}

#[tokio::test]
async fn admins_kick_members_only_the_owner_kicks_admins_and_nobody_the_owner() {
    let (u, n) = users(5).await;
    let id = owned_room(u[0], &[&n[1], &n[2], &n[3]], "public").await["id"].as_u64().unwrap();
    let kick = |actor: u64, target: u64| async move {
        delete(&format!("/chat/chatroom/{id}/members/{target}/?user_id={actor}")).await
    };
    assert_eq!(
        put(&format!("/chat/chatroom/{id}/admins/{}/?user_id={}", u[1], u[0]), None).await.status(),
        200
    );
    assert_error(&put(&format!("/chat/chatroom/{id}/admins/{}/?user_id={}", u[2], u[1]), None).await, 403);
    assert_error(&kick(u[2], u[3]).await, 403);
    assert_error(&kick(u[1], u[0]).await, 403);
    assert_error(&kick(u[1], u[4]).await, 404);
    let mut socket = connect(u[3]).await;
    assert_eq!(kick(u[1], u[3]).await.status(), 204);
    let left = |d: &Value| d["room"] == id && d["joined"] == false;
    let frame = frame_where(&mut socket, "membership", Duration::from_secs(10), left).await;
    assert_eq!(frame["data"], json!({"room": id, "joined": false, "reason": "kicked"}));
    assert_error(&get(&format!("/chat/messages/{id}/?user_id={}", u[3])).await, 403);
    // An admin cannot kick an admin; the owner can; admins come and go by the owner only.
    assert_eq!(
        put(&format!("/chat/chatroom/{id}/admins/{}/?user_id={}", u[2], u[0]), None).await.status(),
        200
    );
    assert_error(&kick(u[1], u[2]).await, 403);
    assert_eq!(delete(&format!("/chat/chatroom/{id}/admins/{}/?user_id={}", u[2], u[0])).await.status(), 204);
    assert_eq!(kick(u[1], u[2]).await.status(), 204);
    assert_eq!(kick(u[0], u[1]).await.status(), 204);
    assert_eq!(member_names(&view(id, u[0]).await.json["data"]), [n[0].clone()]);
}

#[tokio::test]
async fn a_ban_kicks_and_bars_until_lifted() {
    let (u, n) = users(4).await;
    let id = owned_room(u[0], &[&n[1]], "public").await["id"].as_u64().unwrap();
    let ban = format!("/chat/chatroom/{id}/bans/{}/?user_id={}", u[1], u[0]);
    assert_error(&put(&format!("/chat/chatroom/{id}/bans/{}/?user_id={}", u[0], u[1]), None).await, 403);
    assert_eq!(put(&ban, None).await.status(), 200);
    assert_eq!(put(&ban, None).await.status(), 200, "again");
    assert_error(&view(id, u[1]).await, 403);
    assert_error(&put(&format!("/chat/chatroom/{id}/?user_id={}", u[1]), None).await, 403);
    let add =
        post(&format!("/chat/chatroom/{id}/members/?user_id={}", u[0]), json!({"username": n[1]})).await;
    assert_error(&add, 403);
    // An outsider banned before they ever joined.
    assert_eq!(
        put(&format!("/chat/chatroom/{id}/bans/{}/?user_id={}", u[2], u[0]), None).await.status(),
        200
    );
    assert_error(&put(&format!("/chat/chatroom/{id}/?user_id={}", u[2]), None).await, 403);
    let list = get(&format!("/chat/chatroom/{id}/bans/?user_id={}", u[0])).await;
    assert_eq!(list.json["data"], json!([{"id": u[1], "username": n[1]}, {"id": u[2], "username": n[2]}]));
    assert_error(&get(&format!("/chat/chatroom/{id}/bans/?user_id={}", u[3])).await, 403);
    assert_eq!(delete(&ban).await.status(), 204);
    assert_eq!(put(&format!("/chat/chatroom/{id}/?user_id={}", u[1]), None).await.status(), 200);
}

#[tokio::test]
async fn a_ban_racing_a_join_leaves_the_banned_user_outside() {
    for _ in 0..5 {
        let (u, n) = users(2).await;
        let id = owned_room(u[0], &[], "public").await["id"].as_u64().unwrap();
        let (join, ban) = (
            format!("/chat/chatroom/{id}/?user_id={}", u[1]),
            format!("/chat/chatroom/{id}/bans/{}/?user_id={}", u[1], u[0]),
        );
        let (join, ban) = tokio::join!(put(&join, None), put(&ban, None));
        assert_eq!(ban.status(), 200, "{}", ban.text);
        assert!([200, 403].contains(&join.status()), "{}", join.text);
        assert_error(&view(id, u[1]).await, 403);
        assert!(!member_names(&view(id, u[0]).await.json["data"]).contains(&n[1]));
    }
}

#[tokio::test]
async fn an_owner_and_an_admin_kicking_each_other_at_once_leave_the_owner() {
    for _ in 0..3 {
        let (u, n) = users(2).await;
        let id = owned_room(u[0], &[&n[1]], "public").await["id"].as_u64().unwrap();
        put(&format!("/chat/chatroom/{id}/admins/{}/?user_id={}", u[1], u[0]), None).await;
        let (a, b) = (
            format!("/chat/chatroom/{id}/members/{}/?user_id={}", u[1], u[0]),
            format!("/chat/chatroom/{id}/members/{}/?user_id={}", u[0], u[1]),
        );
        let (a, b) = tokio::join!(delete(&a), delete(&b));
        assert_eq!((a.status(), b.status()), (204, 403));
        assert_eq!(member_names(&view(id, u[0]).await.json["data"]), [n[0].clone()]);
    }
}

/// `room` as `user`'s room list shows it.
async fn listed(room: u64, user: u64) -> Value {
    let r = get(&format!("/chat/chatroom/?user_id={user}")).await;
    assert_eq!(r.status(), 200, "{}", r.text);
    r.json["data"].as_array().unwrap().iter().find(|r| r["id"] == room).cloned().expect("listed")
}

#[tokio::test]
async fn a_room_list_shows_each_change_of_a_room_s_name_and_rules_at_once() {
    // The list shows names and rules from the cache once read: every change must reach it.
    let (u, n) = users(3).await;
    let id = owned_room(u[0], &[&n[1], &n[2]], "public").await["id"].as_u64().unwrap();
    let first = listed(id, u[2]).await;
    assert_eq!(
        (&first["owner"]["id"], &first["admins"], &first["topic"]),
        (&json!(u[0]), &json!([]), &json!("plans"))
    );
    assert_eq!(
        put(&format!("/chat/chatroom/{id}/admins/{}/?user_id={}", u[1], u[0]), None).await.status(),
        200
    );
    assert_eq!(listed(id, u[2]).await["admins"], json!([{"id": u[1], "username": n[1]}]));
    let name = unique("relisted");
    let body = json!({"room_name": name, "topic": "news", "visibility": "private"});
    assert_eq!(patch(&format!("/chat/chatroom/{id}/?user_id={}", u[1]), body).await.status(), 200);
    let now = listed(id, u[2]).await;
    assert_eq!(
        (&now["room_name"], &now["topic"], &now["visibility"]),
        (&json!(name), &json!("news"), &json!("private"))
    );
    let revoked = delete(&format!("/chat/chatroom/{id}/admins/{}/?user_id={}", u[1], u[0])).await;
    assert_eq!(revoked.status(), 204, "{}", revoked.text);
    assert_eq!(listed(id, u[2]).await["admins"], json!([]));
    assert_eq!(delete(&format!("/chat/chatroom/{id}/?user_id={}", u[0])).await.status(), 204);
    let after = listed(id, u[2]).await;
    assert_eq!(after["owner"]["id"], u[1], "the owner left: the first member owns it");
    assert_eq!(after["room_member"], json!([{"username": n[1]}, {"username": n[2]}]));
}

#[tokio::test]
async fn ownership_passes_to_the_longest_admin_else_the_first_member() {
    let (u, n) = users(4).await;
    let id = owned_room(u[0], &[&n[1], &n[2], &n[3]], "public").await["id"].as_u64().unwrap();
    for admin in [u[2], u[1]] {
        put(&format!("/chat/chatroom/{id}/admins/{admin}/?user_id={}", u[0]), None).await;
    }
    assert_eq!(delete(&format!("/chat/chatroom/{id}/?user_id={}", u[0])).await.status(), 204);
    let room = view(id, u[1]).await.json["data"].clone();
    assert_eq!(
        (&room["owner"]["id"], &room["admins"]),
        (&json!(u[2]), &json!([{"id": u[1], "username": n[1]}]))
    );
    assert_eq!(delete(&format!("/chat/chatroom/{id}/?user_id={}", u[2])).await.status(), 204);
    assert_eq!(view(id, u[1]).await.json["data"]["owner"]["id"], u[1]);
    assert_eq!(delete(&format!("/chat/chatroom/{id}/?user_id={}", u[1])).await.status(), 204);
    assert_eq!(view(id, u[3]).await.json["data"]["owner"]["id"], u[3], "no admin left: the first member");
}

#[tokio::test]
async fn admins_delete_any_message_members_only_their_own() {
    let (u, n) = users(3).await;
    let id = owned_room(u[0], &[&n[1], &n[2]], "public").await["id"].as_u64().unwrap();
    let m = delivered_group(id, u[2], "spam").await["id"].as_u64().unwrap();
    assert_error(&delete(&format!("/chat/messages/{id}/{m}/?user_id={}", u[1])).await, 403);
    assert_eq!(delete(&format!("/chat/messages/{id}/{m}/?user_id={}", u[0])).await.status(), 204);
    let page = get(&format!("/chat/messages/{id}/?user_id={}", u[2])).await;
    assert_eq!(page.json["data"]["messages"][0]["deleted"], true);
    assert_eq!(page.json["data"]["owner"]["id"], u[0], "history shows the room's rules too");
}
