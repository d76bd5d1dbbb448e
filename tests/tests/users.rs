//! `/users/` routes over HTTP: list and filters, create with validation, detail, update, delete.

use e2e::*;
use serde_json::{json, Value};

fn user_body(name: &str) -> Value {
    json!({"username": name, "password": "Passw0rd!", "profile": {}})
}

/// The user with this name as the list shows it, if listed.
async fn listed(name: &str) -> Option<Value> {
    let r = get(&format!("/users/?username={name}")).await;
    assert_eq!(r.status(), 200);
    r.json.as_array().unwrap().first().cloned()
}

#[tokio::test]
async fn seeded_users_are_listed_in_id_order_without_passwords() {
    let r = get("/users/").await;
    assert_eq!(r.status(), 200);
    assert_eq!(r.content_type.as_deref(), Some("application/json"));
    let users = r.json.as_array().unwrap();
    let ids: Vec<u64> = users.iter().map(|u| u["id"].as_u64().unwrap()).collect();
    let mut sorted = ids.clone();
    sorted.sort();
    assert_eq!(ids, sorted);
    for i in 1..=15u64 {
        let u = users.iter().find(|u| u["id"] == i).unwrap_or_else(|| panic!("user {i} is seeded"));
        assert_eq!(u["username"], format!("user_{i}"));
        assert_eq!(u["profile"], json!({"status": "Offline", "status_msg": null, "read_receipts": true}));
        let mut keys: Vec<&str> = u.as_object().unwrap().keys().map(String::as_str).collect();
        keys.sort();
        assert_eq!(
            keys,
            ["date_joined", "email", "first_name", "id", "is_active", "last_name", "profile", "username"]
        );
    }
    assert!(!r.text.contains("argon2") && !r.text.contains("password"));
}

#[tokio::test]
async fn readme_create_example_stores_number_status_msg_as_text() {
    let name = unique("readme");
    let r = post(
        "/users/",
        json!({"username": name, "password": "Passw0rd!", "first_name": "Ada", "last_name": "Lovelace",
               "email": "ada@example.com", "profile": {"status": "Online", "status_msg": 5}}),
    )
    .await;
    assert_eq!(r.status(), 201, "{}", r.text);
    assert_eq!(r.json["username"], name);
    assert_eq!(r.json["profile"], json!({"status": "Online", "status_msg": "5", "read_receipts": true}));
    assert_eq!(r.json["email"], "ada@example.com");
    assert_eq!(r.json["is_active"], true);
    assert!(r.json["date_joined"].as_str().unwrap().ends_with('Z'));
    assert!(r.json.get("password").is_none());
    let id = r.json["id"].as_u64().unwrap();
    let detail = get(&format!("/users/{id}/")).await;
    assert_eq!(detail.status(), 200);
    assert_eq!(detail.json, r.json);
}

#[tokio::test]
async fn profile_status_defaults_to_offline() {
    let name = unique("plain");
    let r = post("/users/", user_body(&name)).await;
    assert_eq!(r.status(), 201);
    assert_eq!(r.json["profile"], json!({"status": "Offline", "status_msg": null, "read_receipts": true}));
}

#[tokio::test]
async fn each_filter_matches_exactly() {
    let name = unique("filter");
    let last = unique("Last");
    let r = post(
        "/users/",
        json!({"username": name, "password": "x", "first_name": "Filterina", "last_name": last,
               "profile": {"status": "Busy"}}),
    )
    .await;
    assert_eq!(r.status(), 201);
    let id = r.json["id"].as_u64().unwrap();
    for query in [
        format!("id={id}"),
        format!("username={name}"),
        format!("last_name={last}"),
        format!("last_name={last}&first_name=Filterina&profile__status=Busy"),
    ] {
        let r = get(&format!("/users/?{query}")).await;
        assert_eq!(r.status(), 200);
        let ids: Vec<u64> = r.json.as_array().unwrap().iter().map(|u| u["id"].as_u64().unwrap()).collect();
        assert_eq!(ids, vec![id], "{query}");
    }
    let busy = get("/users/?profile__status=Busy").await;
    assert!(busy.json.as_array().unwrap().iter().all(|u| u["profile"]["status"] == "Busy"));
    assert_eq!(get("/users/?username=user_3").await.json[0]["id"], 3);
    assert_eq!(get(&format!("/users/?username={}", name.to_uppercase())).await.json, json!([]));
    assert_eq!(get(&format!("/users/?last_name={last}&profile__status=Online")).await.json, json!([]));
}

#[tokio::test]
async fn malformed_id_filter_is_a_field_error() {
    for bad in ["abc", "0", "-3", "1.5", ""] {
        let r = get(&format!("/users/?id={bad}")).await;
        assert_eq!(r.status(), 400, "{bad}");
        assert_eq!(r.json, json!({"id": ["Enter a positive whole number."]}));
    }
}

#[tokio::test]
async fn create_reports_every_missing_field() {
    let r = post("/users/", json!({})).await;
    assert_eq!(r.status(), 400);
    let required = json!(["This field is required."]);
    assert_eq!(r.json, json!({"username": required, "password": required, "profile": required}));
}

#[tokio::test]
async fn create_rejects_each_invalid_field_and_stores_nothing() {
    let cases: Vec<(Value, &str)> = vec![
        (json!({"username": "has space"}), "username"),
        (json!({"username": "semi;colon"}), "username"),
        (json!({"username": "x".repeat(151)}), "username"),
        (json!({"username": ""}), "username"),
        (json!({"username": ["list"]}), "username"),
        (json!({"password": ""}), "password"),
        (json!({"email": "not-an-address"}), "email"),
        (json!({"first_name": "f".repeat(151)}), "first_name"),
        (json!({"last_name": "l".repeat(151)}), "last_name"),
        (json!({"profile": "Online"}), "profile"),
        (json!({"profile": {"status": "Away"}}), "profile"),
        (json!({"profile": {"status_msg": "m".repeat(256)}}), "profile"),
        (json!({"profile": {"status_msg": {"nested": true}}}), "profile"),
    ];
    for (patch, field) in cases {
        let name = unique("invalid");
        let mut body = user_body(&name);
        for (k, v) in patch.as_object().unwrap() {
            body[k] = v.clone();
        }
        let r = post("/users/", body.clone()).await;
        assert_eq!(r.status(), 400, "{body}: {}", r.text);
        assert!(r.json.get(field).is_some(), "{body} should name {field}: {}", r.text);
        assert!(listed(&name).await.is_none(), "{body} must store nothing");
    }
}

#[tokio::test]
async fn boundary_lengths_are_accepted() {
    let name = format!("{}{}", unique("b"), "x".repeat(150));
    let name = &name[..150];
    let r = post(
        "/users/",
        json!({"username": name, "password": "p", "first_name": "f".repeat(150), "email": "",
               "profile": {"status_msg": "m".repeat(255)}}),
    )
    .await;
    assert_eq!(r.status(), 201, "{}", r.text);
    assert_eq!(r.json["username"], name);
}

#[tokio::test]
async fn malformed_bodies_are_json_400s() {
    for raw in ["{not json", "[1, 2]", "\"text\"", "", "null"] {
        let r = post_raw("/users/", raw).await;
        assert_eq!(r.status(), 400, "{raw:?}");
        assert!(r.json.is_object(), "{raw:?} answers a JSON error: {}", r.text);
    }
}

#[tokio::test]
async fn bodies_over_64_kib_are_413() {
    let name = unique("huge");
    let mut body = user_body(&name);
    body["first_name"] = json!("x".repeat(70 * 1024));
    let r = post("/users/", body).await;
    assert_eq!(r.status(), 413);
    assert!(r.json["detail"].is_string());
    assert!(listed(&name).await.is_none());
}

#[tokio::test]
async fn duplicate_username_is_a_field_error() {
    let (_, name) = new_user("dup").await;
    let r = post("/users/", user_body(&name)).await;
    assert_eq!(r.status(), 400);
    assert_eq!(r.json, json!({"username": ["A user with that username already exists."]}));
    let r = post("/users/", user_body("user_1")).await;
    assert_eq!(r.status(), 400);
}

#[tokio::test]
async fn concurrent_creates_of_one_name_give_exactly_one_201() {
    let name = unique("race");
    let body = user_body(&name);
    let replies = concurrently((0..8).map(|_| post("/users/", body.clone()))).await;
    let created = replies.iter().filter(|r| r.status() == 201).count();
    let refused = replies.iter().filter(|r| r.status() == 400).count();
    assert_eq!((created, refused), (1, 7), "{:?}", replies.iter().map(|r| r.status()).collect::<Vec<_>>());
    let r = get(&format!("/users/?username={name}")).await;
    assert_eq!(r.json.as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn detail_of_unknown_user_is_drf_404() {
    let r = get("/users/999999999/").await;
    assert_eq!(r.status(), 404);
    assert_eq!(r.json, json!({"detail": "Not found."}));
}

#[tokio::test]
async fn malformed_user_ids_are_400_on_every_method() {
    for id in ["abc", "0", "-3", "1.5", "99999999999999999999"] {
        for r in [
            get(&format!("/users/{id}/")).await,
            patch(&format!("/users/{id}/"), json!({"first_name": "x"})).await,
            delete(&format!("/users/{id}")).await,
        ] {
            assert_eq!(r.status(), 400, "{id}: {}", r.text);
            assert!(r.json["detail"].is_string());
        }
    }
}

#[tokio::test]
async fn routes_answer_with_and_without_trailing_slash() {
    let (id, _) = new_user("slash").await;
    assert_eq!(get("/users").await.status(), 200);
    assert_eq!(get(&format!("/users/{id}")).await.status(), 200);
    assert_eq!(get(&format!("/users/{id}/")).await.status(), 200);
    let r = post("/users", user_body(&unique("noslash"))).await;
    assert_eq!(r.status(), 201);
}

#[tokio::test]
async fn patch_merges_profile_and_keeps_other_fields() {
    let name = unique("patch");
    let r = post(
        "/users/",
        json!({"username": name, "password": "x", "first_name": "Old", "profile": {"status": "Busy", "status_msg": "hi"}}),
    )
    .await;
    let id = r.json["id"].as_u64().unwrap();
    let r =
        patch(&format!("/users/{id}/"), json!({"last_name": "New", "profile": {"status": "Online"}})).await;
    assert_eq!(r.status(), 200, "{}", r.text);
    assert_eq!(r.json["first_name"], "Old");
    assert_eq!(r.json["last_name"], "New");
    assert_eq!(r.json["profile"], json!({"status": "Online", "status_msg": "hi", "read_receipts": true}));
    let r = patch(&format!("/users/{id}"), json!({"profile": {"status_msg": null}})).await;
    assert_eq!(r.json["profile"], json!({"status": "Online", "status_msg": null, "read_receipts": true}));
    assert_eq!(get(&format!("/users/{id}/")).await.json, r.json);
}

#[tokio::test]
async fn patch_rename_frees_the_old_name_and_refuses_a_taken_one() {
    let (id, old) = new_user("rename").await;
    let new = unique("renamed");
    let r = patch(&format!("/users/{id}/"), json!({"username": new})).await;
    assert_eq!(r.status(), 200);
    assert_eq!(r.json["username"], new);
    // The old name is free again, the new one is taken.
    assert_eq!(post("/users/", user_body(&old)).await.status(), 201);
    let r = patch(&format!("/users/{id}/"), json!({"username": old})).await;
    assert_eq!(r.status(), 400);
    assert_eq!(r.json, json!({"username": ["A user with that username already exists."]}));
    assert_eq!(get(&format!("/users/{id}/")).await.json["username"], new);
}

#[tokio::test]
async fn invalid_patch_changes_nothing() {
    let (id, name) = new_user("badpatch").await;
    let before = get(&format!("/users/{id}/")).await.json;
    let r = patch(
        &format!("/users/{id}/"),
        json!({"first_name": "Fine", "email": "nope", "profile": {"status": "x"}}),
    )
    .await;
    assert_eq!(r.status(), 400);
    assert!(r.json.get("email").is_some() && r.json.get("profile").is_some());
    assert_eq!(get(&format!("/users/{id}/")).await.json, before);
    assert_eq!(before["username"], name);
}

#[tokio::test]
async fn patch_of_unknown_user_is_404() {
    let r = patch("/users/999999998/", json!({"first_name": "x"})).await;
    assert_eq!(r.status(), 404);
    assert_eq!(r.json, json!({"detail": "Not found."}));
}

#[tokio::test]
async fn put_with_profile_replaces_the_user() {
    let (id, _) = new_user("put").await;
    let name = unique("putnew");
    let r = put(
        &format!("/users/{id}/"),
        Some(
            json!({"username": name, "password": "new", "profile": {"status": "Busy", "status_msg": "away"}}),
        ),
    )
    .await;
    assert_eq!(r.status(), 200, "{}", r.text);
    assert_eq!(r.json["username"], name);
    assert_eq!(r.json["profile"], json!({"status": "Busy", "status_msg": "away", "read_receipts": true}));
    let r = put(&format!("/users/{id}/"), Some(json!({"first_name": "only"}))).await;
    assert_eq!(r.status(), 400);
}

#[tokio::test]
async fn delete_removes_the_user_and_frees_the_name() {
    let (id, name) = new_user("gone").await;
    let r = delete(&format!("/users/{id}/")).await;
    assert_eq!(r.status(), 204);
    assert!(r.text.is_empty());
    assert_eq!(get(&format!("/users/{id}/")).await.status(), 404);
    assert!(listed(&name).await.is_none());
    assert_eq!(delete(&format!("/users/{id}/")).await.status(), 404);
    assert_eq!(post("/users/", user_body(&name)).await.status(), 201);
}

#[tokio::test]
async fn unsupported_methods_are_405_with_json() {
    let r = request(reqwest::Method::DELETE, "/users/", None).await;
    assert_eq!(r.status(), 405);
    assert_eq!(r.json, json!({"detail": "Method \"DELETE\" not allowed."}));
    assert_eq!(r.allow.as_deref(), Some("GET, POST"));
    let r = post("/users/1/", json!({})).await;
    assert_eq!(r.status(), 405);
    assert_eq!(r.allow.as_deref(), Some("GET, PATCH, PUT, DELETE"));
}

#[tokio::test]
async fn passwords_never_appear_in_any_response() {
    let secret = format!("S3cret-{}", unique("pw"));
    let name = unique("secret");
    let r = post("/users/", json!({"username": name, "password": secret, "profile": {}})).await;
    let id = r.json["id"].as_u64().unwrap();
    let replies = [
        r,
        get("/users/").await,
        get(&format!("/users/{id}/")).await,
        patch(&format!("/users/{id}/"), json!({"password": format!("{secret}-2")})).await,
        get(&format!("/users/?username={name}")).await,
    ];
    for reply in replies {
        assert!(reply.status.is_success(), "{}", reply.text);
        for needle in [secret.as_str(), "argon2", "password", "$argon"] {
            assert!(!reply.text.contains(needle), "{needle} leaked: {}", reply.text);
        }
    }
}
