//! Hand-written hostile input: control and unicode characters, expression- and SQL-like text,
//! ids at and past every limit. Each is refused with a 4xx and a JSON error, or stored exactly
//! as sent; and no password or message text ever reaches a log.

use e2e::*;
use serde_json::json;

#[tokio::test]
async fn ids_past_every_limit_are_400_and_the_largest_valid_one_is_404() {
    for id in ["9007199254740992", "18446744073709551616", "1e3", "0x10", "%20", "1%2F2"] {
        for path in [
            format!("/users/{id}/"),
            format!("/chat/chatroom/{id}/"),
            format!("/chat/messages/{id}/?user_id=1"),
        ] {
            let r = get(&path).await;
            assert_eq!(r.status(), 400, "{path}: {}", r.text);
            assert!(r.json.is_object(), "{path}");
        }
    }
    assert_eq!(get("/users/9007199254740991/").await.status(), 404);
    assert_error(&get("/chat/chatroom/9007199254740991/").await, 404);
    assert_error(&get("/chat/chatroom/?user_id=9007199254740992").await, 400);
    assert_error(&post("/chat/group/1/", json!({"from": 9007199254740992u64, "text": "t"})).await, 400);
    assert_error(&post("/chat/group/1/", json!({"from": "-1", "text": "t"})).await, 400);
}

#[tokio::test]
async fn control_characters_are_refused_in_names_and_kept_in_text() {
    for name in ["bell\u{7}", "new\nline", "nul\u{0}"] {
        let r = post("/users/", json!({"username": name, "password": "p", "profile": {}})).await;
        assert_eq!(r.status(), 400, "{name:?}: {}", r.text);
        assert!(r.json.get("username").is_some());
        assert_error(
            &post("/chat/chatroom/", json!({"room_name": format!("{}{name}", unique("r"))})).await,
            400,
        );
    }
    let (a, na) = new_user("ctl").await;
    let (room, _) = new_room(&[&na]).await;
    let text =
        "tab\there, newline\nthere, bell\u{7}, escape\u{1b}[31m, emoji 🦀, rtl \u{202e}olleh, nul \u{0}.";
    let stored = delivered_group(room, a, text).await;
    assert_eq!(stored["text"], text);
    let history = get(&format!("/chat/messages/{room}/?user_id={a}")).await;
    assert_eq!(history.json["data"]["messages"][0]["text"], text);
}

#[tokio::test]
async fn sql_and_expression_like_strings_are_stored_literally() {
    let hostile = [
        "'; DROP TABLE users; --",
        "\" OR \"1\"=\"1",
        "#pk = :v AND attribute_exists(sk)",
        "${jndi:ldap://x}",
        "{{7*7}}",
    ];
    for value in hostile {
        let name = unique("lit");
        let r = post(
            "/users/",
            json!({"username": name, "password": value, "first_name": value, "last_name": value,
                                         "profile": {"status_msg": value}}),
        )
        .await;
        assert_eq!(r.status(), 201, "{value}: {}", r.text);
        let id = r.json["id"].as_u64().unwrap();
        let back = get(&format!("/users/{id}/")).await.json;
        assert_eq!(back["first_name"], value);
        assert_eq!(back["profile"]["status_msg"], value);
        let filtered = get(&format!("/users/?first_name={}", urlencode(value))).await;
        assert!(filtered.json.as_array().unwrap().iter().any(|u| u["id"] == id), "{value}");
    }
}

fn urlencode(value: &str) -> String {
    value
        .bytes()
        .map(|b| if b.is_ascii_alphanumeric() { (b as char).to_string() } else { format!("%{b:02X}") })
        .collect()
}

#[tokio::test]
async fn unicode_names_round_trip() {
    let name = format!("Zoë_Ørsted_李_{}", &unique("u")[2..]);
    let r = post(
        "/users/",
        json!({"username": name, "password": "p", "first_name": "Zoë", "profile": {"status_msg": "☕ 🦀"}}),
    )
    .await;
    assert_eq!(r.status(), 201, "{}", r.text);
    assert_eq!(get(&format!("/users/?username={}", urlencode(&name))).await.json[0]["username"], name);
    let room = format!("Família ☕ {}", unique("r"));
    let r = post("/chat/chatroom/", json!({"room_name": room, "room_member": [{"username": name}]})).await;
    assert_eq!(r.status(), 201, "{}", r.text);
    assert_eq!(member_names(&r.json["data"]), [name]);
}

#[tokio::test]
async fn request_logs_hold_neither_passwords_nor_message_text() {
    let password = format!("pw-{}", uuid::Uuid::new_v4());
    let text = format!("secret text {}", uuid::Uuid::new_v4());
    let name = unique("quiet");
    let r = post("/users/", json!({"username": name, "password": password, "profile": {}})).await;
    assert_eq!(r.status(), 201);
    let id = r.json["id"].as_u64().unwrap();
    assert_eq!(
        patch(&format!("/users/{id}/"), json!({"password": format!("{password}-2")})).await.status(),
        200
    );
    let (room, _) = new_room(&[&name]).await;
    delivered_group(room, id, &text).await;
    assert_eq!(get(&format!("/chat/messages/{room}/?user_id={id}")).await.status(), 200);
    // Every log the stack wrote: the functions', the worker's, the poller's and the emulator's.
    let run = std::env::var("RUN").expect("RUN is set by scripts/test");
    let mut logs = 0;
    for entry in std::fs::read_dir(&run).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "log") {
            let content = String::from_utf8_lossy(&std::fs::read(&path).unwrap()).to_string();
            logs += 1;
            if path.file_name().unwrap() == "moto.log" {
                continue; // the emulator stands in for AWS; it is not our log
            }
            assert!(!content.contains(&password), "password in {}", path.display());
            assert!(!content.contains(&text), "message text in {}", path.display());
        }
    }
    assert!(logs >= 4, "found the stack's logs in {run}");
    // The request log itself is there, with method, path and status.
    let api = std::fs::read_to_string(format!("{run}/watch.log")).unwrap();
    assert!(api.contains(&format!("path=\"/users/{id}/\"")) && api.contains("status=200"));
}
