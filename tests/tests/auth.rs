//! Token mode (API.md, "Authentication"), through a copy of the API functions that runs with
//! `AUTH_MODE=token` (`TOKEN_API_URL`, on the same DynamoDB, queue and worker as the rest), a
//! short `ACCESS_TOKEN_SECONDS` and `LOGIN_WINDOW_SECONDS`, so expiry and the end of a lockout
//! take seconds. The none mode is the rest of the suite.

use e2e::*;
use reqwest::Method;
use serde_json::{json, Value};
use std::time::Duration;

fn token_api() -> String {
    std::env::var("TOKEN_API_URL").expect("TOKEN_API_URL is set by scripts/test")
}

/// `TOKEN_ACCESS_SECONDS` or `TOKEN_LOGIN_WINDOW_SECONDS`: the token stack's settings.
fn seconds(name: &str) -> u64 {
    std::env::var(name).unwrap_or_else(|_| panic!("{name} is set by scripts/test")).parse().unwrap()
}

async fn call(method: Method, path: &str, body: Option<Value>, token: Option<&str>) -> Reply {
    request_to(&token_api(), method, path, body.map(Body::Json), token).await
}

/// A new user and a token pair of theirs: (id, username, access, refresh).
async fn signed_in(prefix: &str) -> (u64, String, String, String) {
    let (id, name) = new_user(prefix).await;
    let r = sign_in(&name, "Passw0rd!").await;
    assert_eq!(r.status(), 200, "{}", r.text);
    let (access, refresh) = (r.json["access"].as_str().unwrap(), r.json["refresh"].as_str().unwrap());
    (id, name, access.to_string(), refresh.to_string())
}

async fn sign_in(username: &str, password: &str) -> Reply {
    call(Method::POST, "/auth/token/", Some(json!({"username": username, "password": password})), None).await
}

/// A 401 in the route's style, with `WWW-Authenticate: Bearer`.
fn assert_unauthorized(r: &Reply, what: &str) {
    assert_eq!(r.status(), 401, "{what}: {}", r.text);
    assert_eq!(r.authenticate.as_deref(), Some("Bearer"), "{what}");
    if what.contains("/users") {
        assert!(r.json["detail"].as_str().is_some_and(|m| !m.is_empty()), "{what}: {}", r.text);
    } else {
        assert_error(r, 401);
    }
}

/// Every route that needs a token, as (method, path, body), acting for `user` in `room`.
fn protected(user: u64, room: u64) -> Vec<(Method, String, Option<Value>)> {
    let task = "00000000-0000-8000-8000-000000000000";
    vec![
        (Method::GET, "/users/".into(), None),
        (Method::GET, format!("/users/{user}/"), None),
        (Method::PATCH, format!("/users/{user}/"), Some(json!({"first_name": "x"}))),
        (
            Method::PUT,
            format!("/users/{user}/"),
            Some(json!({"username": unique("put"), "password": "Passw0rd!"})),
        ),
        (Method::DELETE, format!("/users/{user}/"), None),
        (Method::GET, "/chat/chatroom/".into(), None),
        (Method::GET, format!("/chat/chatroom/?user_id={user}"), None),
        (Method::POST, "/chat/chatroom/".into(), Some(json!({"room_name": unique("r"), "room_member": []}))),
        (Method::GET, format!("/chat/chatroom/{room}/"), None),
        (Method::PUT, format!("/chat/chatroom/{room}/"), None),
        (Method::DELETE, format!("/chat/chatroom/{room}/"), None),
        (Method::POST, format!("/chat/group/{room}/"), Some(json!({"text": "hi"}))),
        (Method::POST, format!("/chat/user/{user}/"), Some(json!({"text": "hi"}))),
        (Method::GET, format!("/chat/messages/{room}/"), None),
        (Method::GET, "/chat/messages/unseen/".into(), None),
        (Method::GET, format!("/chat/task_state/{task}"), None),
        (Method::PATCH, format!("/chat/chatroom/{room}/"), Some(json!({"topic": "t"}))),
        (Method::POST, format!("/chat/chatroom/{room}/members/"), Some(json!({"username": "user_1"}))),
        (Method::DELETE, format!("/chat/chatroom/{room}/members/1/"), None),
        (Method::GET, format!("/chat/chatroom/{room}/bans/"), None),
        (Method::PUT, format!("/chat/chatroom/{room}/bans/1/"), None),
        (Method::PUT, format!("/chat/chatroom/{room}/admins/1/"), None),
        (Method::GET, format!("/users/{user}/blocks/"), None),
        (Method::PUT, format!("/users/{user}/blocks/1/"), None),
        (Method::PATCH, format!("/chat/messages/{room}/1/"), Some(json!({"text": "hi"}))),
        (Method::DELETE, format!("/chat/messages/{room}/1/"), None),
        (Method::PUT, format!("/chat/messages/{room}/1/reactions/:ok:/"), None),
        (Method::DELETE, format!("/chat/messages/{room}/1/reactions/:ok:/"), None),
    ]
}

#[tokio::test]
async fn a_message_s_author_edits_deletes_and_reacts_by_token() {
    let (a, na, access_a, _) = signed_in("life_tok_a").await;
    let (b, nb, access_b, _) = signed_in("life_tok_b").await;
    let (room, _) = new_room(&[&na, &nb]).await;
    let sent = call(
        Method::POST,
        &format!("/chat/group/{room}/"),
        Some(json!({"text": "by token"})),
        Some(&access_a),
    )
    .await;
    assert_eq!(sent.status(), 202, "{}", sent.text);
    let id = finished(sent.json["data"].as_str().unwrap()).await["result"]["id"].as_u64().unwrap();
    let path = format!("/chat/messages/{room}/{id}/");
    // b's token may not edit a's message, nor act as a.
    let r = call(Method::PATCH, &path, Some(json!({"text": "mine"})), Some(&access_b)).await;
    assert_error(&r, 403);
    let r =
        call(Method::PATCH, &format!("{path}?user_id={a}"), Some(json!({"text": "mine"})), Some(&access_b))
            .await;
    assert_error(&r, 403);
    let r = call(Method::PATCH, &path, Some(json!({"text": "edited by token"})), Some(&access_a)).await;
    assert_eq!((r.status(), &r.json["data"]["text"]), (200, &json!("edited by token")), "{}", r.text);
    let r = call(Method::PUT, &format!("{path}reactions/%F0%9F%91%8D/"), None, Some(&access_b)).await;
    assert_eq!(r.json["data"], json!([{"emoji": "👍", "count": 1, "me": true}]), "{}", r.text);
    let r =
        call(Method::DELETE, &format!("{path}reactions/%F0%9F%91%8D/?user_id={b}"), None, Some(&access_b))
            .await;
    assert_eq!(r.status(), 204);
    assert_error(&call(Method::DELETE, &path, None, Some(&access_b)).await, 403);
    assert_eq!(call(Method::DELETE, &path, None, Some(&access_a)).await.status(), 204);
    let page = call(Method::GET, &format!("/chat/messages/{room}/"), None, Some(&access_b)).await;
    assert_eq!(page.json["data"]["messages"][0]["deleted"], true, "{}", page.text);
}

#[tokio::test]
async fn every_route_refuses_a_missing_tampered_unsigned_or_refresh_token() {
    let (user, name, access, refresh) = signed_in("guarded").await;
    let (room, _) = new_room(&[&name]).await;
    let mut tampered = access.clone();
    tampered.pop();
    tampered.push(if access.ends_with('A') { 'B' } else { 'A' });
    let claims = access.split('.').nth(1).unwrap();
    // {"alg":"none","typ":"JWT"} with the real claims and no signature.
    let unsigned = format!("eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0.{claims}.");
    for (method, path, body) in protected(user, room) {
        for (token, kind) in [
            (None, "none"),
            (Some(tampered.as_str()), "tampered"),
            (Some(&unsigned), "alg none"),
            (Some(&refresh), "refresh"),
        ] {
            let r = call(method.clone(), &path, body.clone(), token).await;
            assert_unauthorized(&r, &format!("{method} {path} with {kind} token"));
        }
    }
    // Nothing changed meanwhile: the user and the room are as they were.
    let me = call(Method::GET, &format!("/users/{user}/"), None, Some(&access)).await;
    assert_eq!((me.status(), me.json["username"].as_str()), (200, Some(name.as_str())));
    let r = call(Method::GET, &format!("/chat/chatroom/{room}/?user_id={user}"), None, Some(&access)).await;
    assert_eq!(member_names(&r.json["data"]), [name.as_str()]);
    // Open in token mode: sign-up and both token routes.
    let r = call(
        Method::POST,
        "/users/",
        Some(json!({"username": unique("open"), "password": "Passw0rd!", "profile": {}})),
        None,
    )
    .await;
    assert_eq!(r.status(), 201, "{}", r.text);
}

#[tokio::test]
async fn an_access_token_expires() {
    let (user, _, access, refresh) = signed_in("expiring").await;
    let me = format!("/users/{user}/");
    assert_eq!(call(Method::GET, &me, None, Some(&access)).await.status(), 200);
    tokio::time::sleep(Duration::from_secs(seconds("TOKEN_ACCESS_SECONDS") + 1)).await;
    assert_unauthorized(
        &call(Method::GET, &me, None, Some(&access)).await,
        "/users/{id}/ with an expired token",
    );
    // The refresh token still works, and its new access token too.
    let r = call(Method::POST, "/auth/token/refresh/", Some(json!({"refresh": refresh})), None).await;
    assert_eq!(r.status(), 200, "{}", r.text);
    let fresh = r.json["access"].as_str().unwrap();
    assert_eq!(call(Method::GET, &me, None, Some(fresh)).await.status(), 200);
}

#[tokio::test]
async fn sign_in_refresh_and_their_errors() {
    let (_, name, access, _) = signed_in("signin").await;
    let no_account = json!({"detail": "No active account found with the given credentials"});
    let wrong = sign_in(&name, "wrong password").await;
    let unknown = sign_in(&unique("nobody"), "Passw0rd!").await;
    for r in [&wrong, &unknown] {
        assert_eq!((r.status(), &r.json), (401, &no_account), "{}", r.text);
    }
    let r = call(Method::POST, "/auth/token/", Some(json!({"username": name})), None).await;
    assert_eq!((r.status(), &r.json), (400, &json!({"password": ["This field is required."]})));
    let r = call(Method::POST, "/auth/token/refresh/", Some(json!({})), None).await;
    assert_eq!((r.status(), &r.json), (400, &json!({"refresh": ["This field is required."]})));
    for bad in [access.as_str(), "junk"] {
        let r = call(Method::POST, "/auth/token/refresh/", Some(json!({"refresh": bad})), None).await;
        assert_eq!(r.status(), 401, "{}", r.text);
        assert!(r.json["detail"].is_string(), "{}", r.text);
    }
    // Both routes also exist in none mode, so one client works against either.
    let r = post("/auth/token/", json!({"username": name, "password": "Passw0rd!"})).await;
    assert_eq!(r.status(), 200, "{}", r.text);
    assert!(r.json["access"].is_string() && r.json["refresh"].is_string());
}

#[tokio::test]
async fn a_token_user_acts_only_as_themselves() {
    let (a, na, token_a, _) = signed_in("actor").await;
    let (b, nb, token_b, _) = signed_in("other").await;
    let (_, nc) = new_user("outsider").await;
    let (room, _) = new_room(&[&na, &nb]).await;
    let (elsewhere, _) = new_room(&[&nc]).await;
    let as_a = |method: Method, path: String, body: Option<Value>| {
        let token = token_a.clone();
        async move { call(method, &path, body, Some(&token)).await }
    };
    // Naming another user is a 403, and changes nothing.
    let forbidden = [
        (Method::POST, format!("/chat/group/{room}/"), Some(json!({"from": b, "text": "as b"}))),
        (Method::POST, format!("/chat/user/{b}/"), Some(json!({"from": b, "text": "as b"}))),
        (Method::GET, format!("/chat/messages/{room}/?user_id={b}"), None),
        (Method::GET, format!("/chat/messages/unseen/?user_id={b}"), None),
        (Method::GET, format!("/chat/chatroom/?user_id={b}"), None),
        (Method::GET, format!("/chat/chatroom/{room}/?user_id={b}"), None),
        (Method::DELETE, format!("/chat/chatroom/{room}/?user_id={b}"), None),
        (Method::PATCH, format!("/users/{b}/"), Some(json!({"first_name": "hacked"}))),
        (Method::DELETE, format!("/users/{b}/"), None),
    ];
    for (method, path, body) in forbidden {
        let r = as_a(method.clone(), path.clone(), body).await;
        assert_eq!(r.status(), 403, "{method} {path}: {}", r.text);
    }
    // A room a is not in stays closed, as in none mode.
    assert_error(&as_a(Method::GET, format!("/chat/messages/{elsewhere}/"), None).await, 403);
    let b_now = call(Method::GET, &format!("/users/{b}/"), None, Some(&token_b)).await;
    assert_eq!(b_now.json["first_name"], "", "{}", b_now.text);
    // Left out, the acting user is the token's; given and equal, the same.
    let sent = as_a(Method::POST, format!("/chat/group/{room}/"), Some(json!({"text": "from a"}))).await;
    assert_eq!(sent.status(), 202, "{}", sent.text);
    let task = sent.json["data"].as_str().unwrap().to_string();
    let done = finished(&task).await;
    assert_eq!(done["state"], "SUCCESS", "{done}");
    // The task's state with a's token, as the token API answers it.
    let r = as_a(Method::GET, format!("/chat/task_state/{task}"), None).await;
    assert_eq!((r.status(), &r.json), (200, &done), "{}", r.text);
    assert_eq!(done["result"]["msg_from"]["id"], a, "{done}");
    let unseen = call(Method::GET, "/chat/messages/unseen/", None, Some(&token_b)).await;
    assert_eq!(unseen.status(), 200, "{}", unseen.text);
    assert!(unseen.text.contains("from a"), "{}", unseen.text);
    let own = as_a(Method::PATCH, format!("/users/{a}/"), Some(json!({"first_name": "Ann"}))).await;
    assert_eq!((own.status(), own.json["first_name"].as_str()), (200, Some("Ann")), "{}", own.text);
    let history = as_a(Method::GET, format!("/chat/messages/{room}/?user_id={a}"), None).await;
    assert_eq!(history.status(), 200, "{}", history.text);
    let rooms = as_a(Method::GET, "/chat/chatroom/".into(), None).await;
    assert_eq!(rooms.status(), 200, "group rooms without user_id: {}", rooms.text);
}

#[tokio::test]
async fn ten_failed_sign_ins_lock_the_username_until_the_window_passes() {
    let (_, name) = new_user("locked").await;
    for attempt in 1..=10 {
        assert_eq!(sign_in(&name, "wrong").await.status(), 401, "attempt {attempt}");
    }
    // Locked: even the right password is refused now, with when to try again.
    let r = sign_in(&name, "Passw0rd!").await;
    assert_eq!(r.status(), 429, "{}", r.text);
    let retry: u64 = r.retry_after.as_deref().expect("Retry-After").parse().unwrap();
    assert!((1..=seconds("TOKEN_LOGIN_WINDOW_SECONDS")).contains(&retry), "Retry-After {retry}");
    assert!(r.json["detail"].is_string(), "{}", r.text);
    // Another username is not affected.
    let (_, other) = new_user("unlocked").await;
    assert_eq!(sign_in(&other, "Passw0rd!").await.status(), 200);
    tokio::time::sleep(Duration::from_secs(retry + 1)).await;
    assert_eq!(sign_in(&name, "Passw0rd!").await.status(), 200, "the lockout ended");
}

#[tokio::test]
async fn a_deleted_users_tokens_are_refused() {
    let (user, _, access, refresh) = signed_in("leaving").await;
    let r = call(Method::DELETE, &format!("/users/{user}/"), None, Some(&access)).await;
    assert_eq!(r.status(), 204, "{}", r.text);
    assert_unauthorized(
        &call(Method::GET, "/users/", None, Some(&access)).await,
        "/users/ of a deleted user",
    );
    let r = call(Method::POST, "/auth/token/refresh/", Some(json!({"refresh": refresh})), None).await;
    assert_eq!(r.status(), 401, "{}", r.text);
}

#[tokio::test]
async fn rooms_and_blocks_act_as_the_token_s_user() {
    let (a, _, access_a, _) = signed_in("own_tok_a").await;
    let (b, nb, _, _) = signed_in("own_tok_b").await;
    // The token's user owns what they create and becomes a member.
    let body = json!({"room_name": unique("tok"), "visibility": "private"});
    let r = call(Method::POST, "/chat/chatroom/", Some(body), Some(&access_a)).await;
    assert_eq!((r.status(), &r.json["data"]["owner"]["id"]), (201, &json!(a)), "{}", r.text);
    let room = r.json["data"]["id"].as_u64().unwrap();
    let add = call(
        Method::POST,
        &format!("/chat/chatroom/{room}/members/"),
        Some(json!({"username": nb})),
        Some(&access_a),
    )
    .await;
    assert_eq!(add.status(), 201, "{}", add.text);
    let as_b = call(
        Method::PATCH,
        &format!("/chat/chatroom/{room}/?user_id={b}"),
        Some(json!({"topic": "x"})),
        Some(&access_a),
    )
    .await;
    assert_error(&as_b, 403);
    // Blocks only for oneself.
    let r = call(Method::PUT, &format!("/users/{b}/blocks/{a}/"), None, Some(&access_a)).await;
    assert_eq!(r.status(), 403, "{}", r.text);
    let r = call(Method::PUT, &format!("/users/{a}/blocks/{b}/"), None, Some(&access_a)).await;
    assert_eq!(r.status(), 200, "{}", r.text);
    let list = call(Method::GET, &format!("/users/{a}/blocks/"), None, Some(&access_a)).await;
    assert_eq!(list.json[0]["id"], b);
}
