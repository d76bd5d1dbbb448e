//! `/chat/chatroom/` routes over HTTP: group rooms, membership as a plain current set, every
//! error case with the envelope. Direct rooms are made by messages; see `messages.rs`.

use e2e::*;
use serde_json::{json, Value};

fn room_path(id: u64, user: u64) -> String {
    format!("/chat/chatroom/{id}/?user_id={user}")
}

async fn detail_as(id: u64, user: u64) -> Reply {
    get(&room_path(id, user)).await
}

#[tokio::test]
async fn readme_family_flow() {
    // The README's lines, on a unique room name so tests can run in parallel.
    let name = unique("family");
    let r = post(
        "/chat/chatroom/",
        json!({"room_member": [{"username": "user_7"}, {"username": "user_8"}, {"username": "user_9"}], "room_name": name}),
    )
    .await;
    assert_eq!(r.status(), 201, "{}", r.text);
    assert_eq!(r.json["status"], 201);
    assert_eq!(r.json["message"], "HTTP_201_CREATED");
    let id = r.json["data"]["id"].as_u64().unwrap();
    assert_eq!(r.json["data"]["room_name"], name);
    assert_eq!(member_names(&r.json["data"]), ["user_7", "user_8", "user_9"]);

    assert_error(&put(&room_path(id, 9), None).await, 400); // already a member
    let r = put(&room_path(id, 12), None).await;
    assert_eq!(r.status(), 200);
    assert_eq!(r.json, json!({"status": 200, "message": "HTTP_200_OK"}));
    let r = delete(&room_path(id, 7)).await;
    assert_eq!(r.status(), 204);
    assert!(r.text.is_empty());
    assert_error(&detail_as(id, 7).await, 403);
    let r = detail_as(id, 8).await;
    assert_eq!(r.status(), 200);
    assert_eq!(r.json["data"]["id"], id);
    assert_eq!(member_names(&r.json["data"]), ["user_12", "user_8", "user_9"]);
}

#[tokio::test]
async fn group_list_shows_names_only() {
    let (id, name) = new_room(&["user_1"]).await;
    let r = get("/chat/chatroom/").await;
    assert_eq!(r.status(), 200);
    assert_eq!(r.json["status"], 200);
    assert_eq!(r.json["message"], "HTTP_200_OK");
    let rooms = r.json["data"].as_array().unwrap();
    assert!(rooms.contains(&json!({"id": id, "room_name": name})));
    assert!(rooms.iter().all(|room| room.as_object().unwrap().len() == 2));
    let ids: Vec<u64> = rooms.iter().map(|r| r["id"].as_u64().unwrap()).collect();
    assert!(ids.windows(2).all(|w| w[0] < w[1]), "ordered by id");
    // Without the slash too (other tests create and delete rooms meanwhile: compare ours only).
    let r = get("/chat/chatroom").await;
    assert_eq!(r.status(), 200);
    assert!(r.json["data"].as_array().unwrap().contains(&json!({"id": id, "room_name": name})));
}

#[tokio::test]
async fn list_of_a_user_shows_current_rooms_with_members() {
    let (a, name_a) = new_user("lister").await;
    let (_, name_b) = new_user("other").await;
    let (r1, n1) = new_room(&[&name_a, &name_b]).await;
    let (r2, _) = new_room(&[&name_b]).await;
    let (r3, n3) = new_room(&[]).await;
    assert_eq!(put(&room_path(r3, a), None).await.status(), 200);
    let r = get(&format!("/chat/chatroom/?user_id={a}")).await;
    assert_eq!(r.status(), 200);
    let rooms = r.json["data"].as_array().unwrap();
    let mut expected_1 = vec![name_a.clone(), name_b.clone()];
    expected_1.sort();
    assert_eq!(rooms.len(), 2, "{rooms:?}");
    assert_eq!(rooms[0]["id"], r1);
    assert_eq!(rooms[0]["room_name"], n1);
    assert_eq!(member_names(&rooms[0]), expected_1);
    let owner = json!({"id": a, "username": name_a});
    assert_eq!(
        rooms[1],
        json!({"id": r3, "room_name": n3, "room_member": [{"username": name_a}], "owner": owner,
            "admins": [], "visibility": "public", "topic": "", "last_message": null, "unread": false,
            "mentions": 0})
    );
    assert!(rooms.iter().all(|room| room["id"] != r2));
    // After leaving, the room is no longer listed for a.
    assert_eq!(delete(&room_path(r1, a)).await.status(), 204);
    let r = get(&format!("/chat/chatroom?user_id={a}")).await;
    assert_eq!(r.json["data"].as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn list_of_unknown_or_malformed_user_fails() {
    assert_error(&get("/chat/chatroom/?user_id=999999999").await, 404);
    for bad in ["abc", "0", "-1", "1.5", ""] {
        assert_error(&get(&format!("/chat/chatroom/?user_id={bad}")).await, 400);
    }
}

#[tokio::test]
async fn create_without_members_gives_an_empty_room() {
    let name = unique("empty");
    let r = post("/chat/chatroom/", json!({"room_name": name})).await;
    assert_eq!(r.status(), 201);
    assert_eq!(r.json["data"]["room_member"], json!([]));
    assert_eq!(r.json["data"]["room_name"], name);
}

#[tokio::test]
async fn duplicate_room_name_is_409() {
    let (_, name) = new_room(&[]).await;
    let r =
        post("/chat/chatroom/", json!({"room_name": name, "room_member": [{"username": "user_1"}]})).await;
    assert_error(&r, 409);
    assert!(r.json["msg"].as_str().unwrap().contains(&name));
    // And the refused create added nobody anywhere.
    let r = get("/chat/chatroom/").await;
    assert_eq!(r.json["data"].as_array().unwrap().iter().filter(|room| room["room_name"] == name).count(), 1);
}

#[tokio::test]
async fn concurrent_creates_of_one_name_give_one_201_and_409s() {
    let name = unique("racing");
    let body = json!({"room_name": name});
    let replies = concurrently((0..6).map(|_| post("/chat/chatroom/", body.clone()))).await;
    let mut statuses: Vec<u16> = replies.iter().map(Reply::status).collect();
    statuses.sort();
    assert_eq!(statuses, [201, 409, 409, 409, 409, 409]);
}

#[tokio::test]
async fn unknown_member_is_400_naming_it_and_creates_nothing() {
    let name = unique("ghosts");
    let ghost = unique("ghost");
    let r = post(
        "/chat/chatroom/",
        json!({"room_name": name, "room_member": [{"username": "user_2"}, {"username": ghost}]}),
    )
    .await;
    assert_error(&r, 400);
    assert!(r.json["msg"].as_str().unwrap().contains(&ghost), "{}", r.text);
    let groups = get("/chat/chatroom/").await;
    assert!(groups.json["data"].as_array().unwrap().iter().all(|room| room["room_name"] != name));
    // The name is still free.
    assert_eq!(post("/chat/chatroom/", json!({"room_name": name})).await.status(), 201);
}

#[tokio::test]
async fn malformed_create_bodies_are_400() {
    let name = unique("bad");
    let cases: Vec<Value> = vec![
        json!({}),
        json!({"room_name": ""}),
        json!({"room_name": "   "}),
        json!({"room_name": "x".repeat(129)}),
        json!({"room_name": 42}),
        json!({"room_name": name, "room_member": "user_1"}),
        json!({"room_name": name, "room_member": ["user_1"]}),
        json!({"room_name": name, "room_member": [{"name": "user_1"}]}),
        json!({"room_name": name, "room_member": [{"username": 1}]}),
    ];
    for body in cases {
        let r = post("/chat/chatroom/", body.clone()).await;
        assert_error(&r, 400);
    }
    for raw in ["{", "[]", "\"room\"", ""] {
        assert_error(&post_raw("/chat/chatroom/", raw).await, 400);
    }
    let huge = json!({"room_name": unique("huge"), "pad": "x".repeat(70_000)});
    assert_error(&post("/chat/chatroom/", huge).await, 413);
    let groups = get("/chat/chatroom/").await;
    assert!(groups.json["data"].as_array().unwrap().iter().all(|room| room["room_name"] != name));
}

#[tokio::test]
async fn room_names_keep_unicode_and_expression_like_text_literally() {
    for name in [
        format!("família ☕ {}", unique("u")),
        format!("'; DROP TABLE rooms; -- {}", unique("s")),
        format!("#pk = :v {}", unique("e")),
    ] {
        let r = post("/chat/chatroom/", json!({"room_name": name})).await;
        assert_eq!(r.status(), 201, "{}", r.text);
        let id = r.json["data"]["id"].as_u64().unwrap();
        assert_eq!(get(&format!("/chat/chatroom/{id}/")).await.json["data"]["room_name"], name);
    }
}

#[tokio::test]
async fn join_errors() {
    let (id, _) = new_room(&["user_3"]).await;
    assert_error(&put(&room_path(id, 3), None).await, 400);
    assert_error(&put(&room_path(999_999_999, 3), None).await, 404);
    assert_error(&put(&room_path(id, 999_999_999), None).await, 404);
    assert_error(&put(&format!("/chat/chatroom/{id}/"), None).await, 400);
    assert_error(&put(&format!("/chat/chatroom/{id}/?user_id=x"), None).await, 400);
    assert_error(&put("/chat/chatroom/abc/?user_id=3", None).await, 400);
    // The body is ignored.
    let (user, _) = new_user("bodyjoin").await;
    assert_eq!(put(&room_path(id, user), Some(json!({"anything": true}))).await.status(), 200);
}

#[tokio::test]
async fn concurrent_joins_of_one_user_give_one_200() {
    let (id, _) = new_room(&[]).await;
    let (user, name) = new_user("joiner").await;
    let path = room_path(id, user);
    let replies = concurrently((0..6).map(|_| {
        let path = path.clone();
        async move { put(&path, None).await }
    }))
    .await;
    let mut statuses: Vec<u16> = replies.iter().map(Reply::status).collect();
    statuses.sort();
    assert_eq!(statuses, [200, 400, 400, 400, 400, 400]);
    assert_eq!(member_names(&detail_as(id, user).await.json["data"]), [name]);
}

#[tokio::test]
async fn leave_errors() {
    let (id, _) = new_room(&["user_4"]).await;
    assert_error(&delete(&room_path(id, 5)).await, 400);
    assert_error(&delete(&room_path(999_999_999, 4)).await, 404);
    assert_error(&delete(&room_path(id, 999_999_999)).await, 404);
    assert_error(&delete(&format!("/chat/chatroom/{id}/")).await, 400);
    assert_error(&delete(&format!("/chat/chatroom/{id}/?user_id=0")).await, 400);
}

#[tokio::test]
async fn leave_rejoin_leave_behaves_the_same_every_time() {
    let (keeper, keeper_name) = new_user("keeper").await;
    let (id, _) = new_room(&[&keeper_name]).await;
    let (user, name) = new_user("cycler").await;
    for _ in 0..3 {
        assert_eq!(put(&room_path(id, user), None).await.status(), 200);
        let members = member_names(&detail_as(id, keeper).await.json["data"]);
        assert!(members.contains(&name));
        assert_eq!(detail_as(id, user).await.status(), 200);
        assert_error(&put(&room_path(id, user), None).await, 400);

        assert_eq!(delete(&room_path(id, user)).await.status(), 204);
        let members = member_names(&detail_as(id, keeper).await.json["data"]);
        assert!(!members.contains(&name));
        assert_error(&detail_as(id, user).await, 403);
        assert_error(&delete(&room_path(id, user)).await, 400);
    }
}

#[tokio::test]
async fn last_leave_deletes_the_room_and_frees_its_name() {
    let (a, na) = new_user("last_a").await;
    let (b, nb) = new_user("last_b").await;
    let (id, name) = new_room(&[&na, &nb]).await;
    assert_eq!(delete(&room_path(id, a)).await.status(), 204);
    assert_eq!(get(&format!("/chat/chatroom/{id}/")).await.status(), 200);
    assert_eq!(delete(&room_path(id, b)).await.status(), 204);
    assert_error(&get(&format!("/chat/chatroom/{id}/")).await, 404);
    assert_error(&put(&room_path(id, a), None).await, 404);
    let groups = get("/chat/chatroom/").await;
    assert!(groups.json["data"].as_array().unwrap().iter().all(|room| room["id"] != id));
    // Rooms emptied later are deleted as well, every time.
    let again = post("/chat/chatroom/", json!({"room_name": name, "room_member": [{"username": na}]})).await;
    assert_eq!(again.status(), 201);
    let id2 = again.json["data"]["id"].as_u64().unwrap();
    assert_ne!(id2, id);
    assert_eq!(delete(&room_path(id2, a)).await.status(), 204);
    assert_error(&get(&format!("/chat/chatroom/{id2}/")).await, 404);
}

#[tokio::test]
async fn detail_without_user_shows_the_name_of_a_group_room() {
    let (id, name) = new_room(&["user_5"]).await;
    for path in [format!("/chat/chatroom/{id}/"), format!("/chat/chatroom/{id}")] {
        let r = get(&path).await;
        assert_eq!(r.status(), 200);
        assert_eq!(
            r.json,
            json!({"status": 200, "message": "HTTP_200_OK", "data": {"id": id, "room_name": name}})
        );
    }
    assert_error(&get("/chat/chatroom/999999999/").await, 404);
    for bad in ["0", "-2", "1.5", "x"] {
        assert_error(&get(&format!("/chat/chatroom/{bad}/")).await, 400);
    }
}

#[tokio::test]
async fn detail_with_user_needs_membership() {
    let (id, name) = new_room(&["user_5", "user_6"]).await;
    let r = detail_as(id, 6).await;
    assert_eq!(r.status(), 200);
    assert_eq!(r.json["data"]["room_name"], name);
    assert_eq!(member_names(&r.json["data"]), ["user_5", "user_6"]);
    assert_error(&detail_as(id, 7).await, 403);
    assert_error(&detail_as(id, 999_999_999).await, 404);
    assert_error(&detail_as(999_999_999, 6).await, 404);
}

#[tokio::test]
async fn deleted_user_leaves_their_rooms() {
    let (a, na) = new_user("doomed").await;
    let (b, nb) = new_user("stays").await;
    let (shared_room, _) = new_room(&[&na, &nb]).await;
    let (own_room, _) = new_room(&[&na]).await;
    assert_eq!(delete(&format!("/users/{a}/")).await.status(), 204);
    assert_eq!(member_names(&detail_as(shared_room, b).await.json["data"]), [nb]);
    assert_error(&get(&format!("/chat/chatroom/{own_room}/")).await, 404);
    assert_error(&get(&format!("/chat/chatroom/?user_id={a}")).await, 404);
}

/// The test stack holds rooms to `MAX_ROOM_MEMBERS` (scripts/test: 40, above the 32 members a
/// create writes in its first transaction, so the create's later transactions are covered too).
#[tokio::test]
async fn a_room_holds_at_most_max_room_members() {
    let max: usize =
        std::env::var("MAX_ROOM_MEMBERS").expect("MAX_ROOM_MEMBERS is set by scripts/test").parse().unwrap();
    let users = concurrently((0..=max).map(|_| new_user("crowd"))).await;
    let names: Vec<&str> = users.iter().map(|(_, n)| n.as_str()).collect();
    let name = unique("crowded");
    let too_many: Vec<Value> = names.iter().map(|n| json!({"username": n})).collect();
    let r = post("/chat/chatroom/", json!({"room_name": name, "room_member": too_many})).await;
    assert_error(&r, 400);
    assert!(r.json["msg"].as_str().unwrap().contains(&max.to_string()), "{}", r.text);
    let (room, _) = new_room(&names[..max]).await;
    let full = detail_as(room, users[0].0).await;
    assert_eq!(member_names(&full.json["data"]).len(), max, "every member was written");
    let outsider = users[max].0;
    assert_error(&put(&room_path(room, outsider), None).await, 409);
    assert_eq!(delete(&room_path(room, users[0].0)).await.status(), 204);
    assert_eq!(put(&room_path(room, outsider), None).await.status(), 200);
    assert_error(&put(&room_path(room, users[0].0), None).await, 409);
}

#[tokio::test]
async fn unsupported_methods_are_405_with_the_envelope() {
    let r = request(reqwest::Method::PATCH, "/chat/chatroom/", None).await;
    assert_error(&r, 405);
    assert_eq!(r.allow.as_deref(), Some("GET, POST"));
    let r = post("/chat/chatroom/1/", json!({})).await;
    assert_error(&r, 405);
    assert_eq!(r.allow.as_deref(), Some("GET, PATCH, PUT, DELETE"));
}
