//! Live room state (API.md, "Live room state"), through the running stack with real WebSocket
//! clients: who is online in a member's view of a room, with a room past the old presence limit.

use e2e::ws::*;
use e2e::*;
use futures_util::stream::{self, StreamExt, TryStreamExt};
use std::time::{Duration, Instant};

/// Waits until `user`'s connections are online in `room` (their connect has been recorded).
async fn online_in(room: u64, user: u64, connections: usize) {
    let store = store().await;
    let deadline = Instant::now() + Duration::from_secs(10);
    while store.online(room).await.unwrap().iter().filter(|p| p.user == user).count() != connections {
        assert!(Instant::now() < deadline, "user {user} not online in room {room}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Who is online, as a member's view of the room shows it.
async fn online_members(room: u64, viewer: u64) -> Vec<(String, bool)> {
    let r = get(&format!("/chat/chatroom/{room}/?user_id={viewer}")).await;
    assert_eq!(r.status(), 200, "{}", r.text);
    let members = r.json["data"]["room_member"].as_array().unwrap().clone();
    members.iter().map(|m| (m["username"].as_str().unwrap().to_string(), m["online"] == true)).collect()
}

#[tokio::test]
async fn a_member_s_view_shows_who_is_online_even_past_the_old_presence_limit() {
    let (a, na) = new_user("online_a").await;
    let (b, nb) = new_user("online_b").await;
    let (room, _) = new_room(&[&na, &nb]).await;
    assert_eq!(online_members(room, a).await, [(na.clone(), false), (nb.clone(), false)]);
    let socket = connect(b).await;
    online_in(room, b, 1).await;
    assert_eq!(online_members(room, a).await, [(na.clone(), false), (nb.clone(), true)]);
    // Without user_id the view shows no members, so no presence either.
    let public = get(&format!("/chat/chatroom/{room}/")).await.json;
    assert!(public["data"].get("room_member").is_none(), "{public}");
    // 6,000 more live connections in the room: one item of them all would have passed
    // DynamoDB's 400 KB item limit at about 5,000. Each is an item of its own now.
    let store = store().await;
    let connections: Vec<String> = (0..6_000).map(|i| format!("Filler{i:05}=")).collect();
    let rooms = [room];
    stream::iter(connections.iter().map(|c| store.present(c, b, &rooms)))
        .buffer_unordered(64)
        .try_collect::<Vec<()>>()
        .await
        .unwrap();
    assert_eq!(store.online(room).await.unwrap().len(), 6_001);
    assert_eq!(online_members(room, a).await, [(na.clone(), false), (nb.clone(), true)]);
    let sa = connect(a).await;
    online_in(room, a, 1).await;
    assert_eq!(online_members(room, b).await, [(na.clone(), true), (nb.clone(), true)]);
    // Gone again when the connection closes.
    drop(sa);
    online_in(room, a, 0).await;
    assert_eq!(online_members(room, b).await, [(na, false), (nb, true)]);
    drop(socket);
}
