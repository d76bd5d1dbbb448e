//! The user-list cache over HTTP: MISS then HIT, invalidation by every write before its
//! response, and Redis down changing nothing but the `X-Cache` header (and, for long polls that
//! it wakes, the time of the answer, never the answer).
//!
//! These tests watch one shared cache, so they run one at a time (the lock below) and in a
//! test binary of their own: `cargo test` runs test binaries one after another, so no other
//! test writes users meanwhile.

use domain::page::PageRequest;
use domain::users::UserFilter;
use e2e::*;
use serde_json::json;
use std::process::Command;
use tokio::sync::Mutex;

static SERIAL: Mutex<()> = Mutex::const_new(());

/// The users of these tests share a last name, so "the list" they watch is one page of the
/// cache (on a test stack the whole list runs to many pages).
fn family() -> &'static str {
    static FAMILY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    FAMILY.get_or_init(|| unique("Cached"))
}

async fn list() -> Reply {
    let r = get(&format!("/users/?last_name={}", family())).await;
    assert_eq!(r.status(), 200, "{}", r.text);
    r
}

/// A user of the family; returns (id, username).
async fn new_member(prefix: &str) -> (u64, String) {
    let name = unique(prefix);
    let r = post(
        "/users/",
        json!({"username": name, "password": "Passw0rd!", "last_name": family(), "profile": {}}),
    )
    .await;
    assert_eq!(r.status(), 201, "{}", r.text);
    (r.json["id"].as_u64().unwrap(), name)
}

async fn warm() {
    list().await;
    assert_eq!(list().await.cache.as_deref(), Some("HIT"));
}

fn names(r: &Reply) -> Vec<String> {
    r.json.as_array().unwrap().iter().map(|u| u["username"].as_str().unwrap().to_string()).collect()
}

#[tokio::test]
async fn second_read_is_a_hit_with_the_same_list() {
    let _serial = SERIAL.lock().await;
    let _ = list().await; // fills the cache if a write emptied it
    new_member("cachefill").await;
    let first = list().await;
    assert_eq!(first.cache.as_deref(), Some("MISS"));
    let second = list().await;
    assert_eq!(second.cache.as_deref(), Some("HIT"));
    assert_eq!(first.json, second.json);
    // Each query is a page of its own in the cache: a filter misses once, then hits.
    let filtered = get("/users/?username=user_2").await;
    let again = get("/users/?username=user_2").await;
    assert_eq!((filtered.cache.as_deref(), again.cache.as_deref()), (Some("MISS"), Some("HIT")));
    assert_eq!(again.json.as_array().unwrap().len(), 1);
    assert_eq!(again.json, filtered.json);
}

#[tokio::test]
async fn create_invalidates_before_responding() {
    let _serial = SERIAL.lock().await;
    warm().await;
    let (_, name) = new_member("fresh").await;
    let r = list().await;
    assert_eq!(r.cache.as_deref(), Some("MISS"));
    assert!(names(&r).contains(&name));
}

#[tokio::test]
async fn update_invalidates_before_responding() {
    let _serial = SERIAL.lock().await;
    let (id, _) = new_member("upd").await;
    warm().await;
    let renamed = unique("updated");
    assert_eq!(patch(&format!("/users/{id}/"), json!({"username": renamed})).await.status(), 200);
    let r = list().await;
    assert_eq!(r.cache.as_deref(), Some("MISS"));
    assert!(names(&r).contains(&renamed));
}

#[tokio::test]
async fn delete_invalidates_before_responding() {
    let _serial = SERIAL.lock().await;
    let (id, name) = new_member("del").await;
    warm().await;
    assert_eq!(delete(&format!("/users/{id}/")).await.status(), 204);
    let r = list().await;
    assert_eq!(r.cache.as_deref(), Some("MISS"));
    assert!(!names(&r).contains(&name));
}

#[tokio::test]
async fn failed_writes_keep_the_cache() {
    let _serial = SERIAL.lock().await;
    warm().await;
    assert_eq!(
        post("/users/", json!({"username": "user_1", "password": "x", "profile": {}})).await.status(),
        400
    );
    assert_eq!(list().await.cache.as_deref(), Some("HIT"));
}

fn redis_port() -> String {
    std::env::var("REDIS_PORT").expect("REDIS_PORT is set by scripts/test")
}

fn stop_redis() {
    let pidfile = format!("{}/redis.pid", std::env::var("RUN").expect("RUN is set by scripts/test"));
    let pid = std::fs::read_to_string(&pidfile).expect("redis pidfile");
    assert!(Command::new("kill").arg(pid.trim()).status().unwrap().success());
    while std::net::TcpStream::connect(format!("127.0.0.1:{}", redis_port())).is_ok() {
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
}

fn start_redis() {
    let run = std::env::var("RUN").expect("RUN is set by scripts/test");
    assert!(Command::new(format!("{run}/start-redis")).status().unwrap().success());
    while std::net::TcpStream::connect(format!("127.0.0.1:{}", redis_port())).is_err() {
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
}

/// A cache client of the stack's Redis under a key prefix, as the functions build it.
fn cache_under(prefix: &str) -> services::cache::Cache {
    services::cache::Cache::new(Some(&format!("redis://127.0.0.1:{}", redis_port())), prefix)
}

/// A Redis outlives the stacks that use it (scripts/dev reuses the machine's). What an earlier
/// start cached under its own prefix must never be served by this one, which has its own
/// (`CACHE_PREFIX`, new on every start); the same page under this start's prefix is served,
/// which shows the planting works.
#[tokio::test]
async fn each_stack_start_has_its_own_cache_keys() {
    let _serial = SERIAL.lock().await;
    let ours = std::env::var("CACHE_PREFIX").expect("CACHE_PREFIX is set by scripts/test");
    let ghost = unique("ghost_of_an_earlier_start");
    let page = json!({"users": [{"id": 999_999_999u64, "username": ghost, "first_name": "", "last_name": "", "email": "",
        "profile": {"status": "Offline", "status_msg": null}, "date_joined": "2026-01-01T00:00:00.000000Z", "is_active": true}],
        "next_after": null}).to_string();
    let family = UserFilter { last_name: Some(family().to_string()), ..UserFilter::default() };
    let first_page = family.cache_key(PageRequest { limit: 100, after: 0 });
    let earlier = cache_under(&unique("chat-earlier"));
    let (_, generation) = earlier.user_page(&first_page).await;
    earlier.store_user_page(&first_page, &page, &generation).await;
    assert_eq!(earlier.user_page(&first_page).await.0.as_deref(), Some(page.as_str()), "planted");
    let r = list().await;
    assert!(!names(&r).contains(&ghost), "served an earlier start's cache: {}", r.text);

    let this = cache_under(&ours);
    let (_, generation) = this.user_page(&first_page).await;
    this.store_user_page(&first_page, &page, &generation).await;
    let r = list().await;
    assert_eq!((r.cache.as_deref(), names(&r)), (Some("HIT"), vec![ghost.clone()]));
    // Any user write makes it stale.
    new_member("afterghost").await;
    assert!(!names(&list().await).contains(&ghost));
}

#[tokio::test]
async fn redis_down_changes_nothing_but_the_header() {
    let _serial = SERIAL.lock().await;
    warm().await;
    let before = list().await;
    stop_redis();
    let outcome = tokio::spawn(async {
        let down = list().await;
        assert_eq!(down.cache.as_deref(), Some("MISS"));
        // Writes and reads still work from DynamoDB alone.
        let (id, name) = new_member("nocache").await;
        let r = list().await;
        assert!(names(&r).contains(&name));
        assert_eq!(get(&format!("/users/{id}/")).await.status(), 200);
        assert_eq!(patch(&format!("/users/{id}/"), json!({"first_name": "N"})).await.status(), 200);
        (down, name)
    })
    .await;
    start_redis();
    let (down, name) = outcome.expect("requests with Redis down succeed");
    assert_eq!(down.json, before.json);
    // Back up: broken connections are replaced at once, and the first read refills the cache
    // with what was written meanwhile.
    let r = list().await;
    assert_eq!(r.cache.as_deref(), Some("MISS"));
    assert!(names(&r).contains(&name));
    assert_eq!(list().await.cache.as_deref(), Some("HIT"));
}

/// Without Redis to wake it, a waiting poll reads its user's rooms and looks at DynamoDB every
/// 2 s: a new correspondent's first message still answers it, later, never with `[]`.
#[tokio::test]
async fn redis_down_a_long_poll_still_gets_a_new_correspondent_s_first_message() {
    let _serial = SERIAL.lock().await;
    let (a, _) = new_user("nocache_dm_a").await;
    let (b, _) = new_user("nocache_dm_b").await;
    stop_redis();
    let outcome = tokio::spawn(async move {
        let waiting = long_poll(b, 15);
        tokio::time::sleep(std::time::Duration::from_millis(500)).await;
        let task = finished(&send_direct(a, b, "hi without a cache").await).await;
        let delivered = std::time::Instant::now();
        let answer = waiting.await.unwrap();
        (task, delivered, answer)
    })
    .await;
    start_redis();
    let (task, delivered, answer) = outcome.expect("requests with Redis down succeed");
    assert_eq!(answer.status, 200);
    assert_eq!(answer.data[0]["id"], task["result"]["room"]["id"], "{}", answer.data);
    assert_eq!(answer.data[0]["messages"][0]["text"], "hi without a cache");
    let late = answer.at.saturating_duration_since(delivered);
    assert!(late < std::time::Duration::from_secs(4), "answered {late:?} after the delivery");
}
