//! Soak: many clients at once, a mix of sends and reads, then an audit. Every 202 must end
//! SUCCESS (or FAILURE with a reason), the stored messages must equal the accepted ones (no
//! loss, no duplicates), and each room must read back in acceptance order. Prints the counts.
//!
//! `scripts/test` runs a short form; `scripts/load` a long one. Sizes: SOAK_CLIENTS (default
//! 16), SOAK_SENDS (default 600), SOAK_ROOMS (default 4).

use e2e::*;
use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Instant;

fn setting(name: &str, default: usize) -> usize {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

/// An accepted send: where it went, its text, and its task.
struct Accepted {
    room: Option<u64>,
    text: String,
    task: String,
}

#[tokio::test]
async fn many_clients_lose_and_duplicate_nothing_and_keep_room_order() {
    let clients = setting("SOAK_CLIENTS", 16);
    let sends = setting("SOAK_SENDS", 600);
    let room_count = setting("SOAK_ROOMS", 4);
    let mut users = Vec::new();
    for _ in 0..clients {
        users.push(new_user("soak").await);
    }
    let names: Vec<&str> = users.iter().map(|(_, n)| n.as_str()).collect();
    let mut rooms = Vec::new();
    for _ in 0..room_count {
        rooms.push(new_room(&names).await.0);
    }

    let started = Instant::now();
    let budget = Arc::new(AtomicUsize::new(sends));
    let reads = Arc::new(AtomicUsize::new(0));
    let workers = users.iter().enumerate().map(|(i, &(me, _))| {
        let (budget, reads, rooms, users) = (budget.clone(), reads.clone(), rooms.clone(), users.clone());
        tokio::spawn(async move {
            let mut accepted = Vec::new();
            let mut step = i;
            while budget.fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1)).is_ok() {
                step += 1;
                let text = format!("{me}:{step}");
                // Every fourth action is a read; the rest are sends, mostly to groups.
                if step % 4 == 0 {
                    let r = if step % 8 == 0 {
                        get(&format!("/chat/messages/unseen/?user_id={me}")).await
                    } else {
                        get(&format!("/chat/messages/{}/?user_id={me}&limit=20", rooms[step % rooms.len()]))
                            .await
                    };
                    assert_eq!(r.status(), 200, "{}", r.text);
                    reads.fetch_add(1, Ordering::SeqCst);
                } else if step % 5 == 0 {
                    let to = users[(i + 1) % users.len()].0;
                    accepted.push(Accepted { room: None, task: send_direct(me, to, &text).await, text });
                } else {
                    let room = rooms[step % rooms.len()];
                    accepted.push(Accepted {
                        room: Some(room),
                        task: send_group(room, me, &text).await,
                        text,
                    });
                }
            }
            accepted
        })
    });
    let mut accepted = Vec::new();
    for worker in workers {
        accepted.extend(worker.await.expect("a client failed"));
    }
    let accepting = started.elapsed();

    // Every task ends, and says where its message went.
    let (mut success, mut failure) = (0, 0);
    let mut stored_by_task: HashMap<String, (u64, u64)> = HashMap::new();
    for a in &accepted {
        let state = finished(&a.task).await;
        match state["state"].as_str().unwrap() {
            "SUCCESS" => {
                success += 1;
                assert_eq!(state["result"]["text"], a.text.as_str());
                let room = state["result"]["room"]["id"].as_u64().unwrap();
                if let Some(expected) = a.room {
                    assert_eq!(room, expected);
                }
                stored_by_task.insert(a.task.clone(), (room, state["result"]["id"].as_u64().unwrap()));
            }
            "FAILURE" => {
                failure += 1;
                assert!(state["result"]["error"].as_str().is_some_and(|e| !e.is_empty()), "{state}");
            }
            other => panic!("task {} ended {other}", a.task),
        }
    }
    let delivered = started.elapsed();

    // Stored messages equal accepted ones, room by room, in acceptance order.
    let mut expected: BTreeMap<u64, Vec<(u64, &str)>> = BTreeMap::new();
    for a in &accepted {
        if let Some(&(room, id)) = stored_by_task.get(&a.task) {
            expected.entry(room).or_default().push((id, a.text.as_str()));
        }
    }
    let mut stored_total = 0;
    for (room, mut want) in expected {
        want.sort();
        let reader = users
            .iter()
            .find(|(id, _)| want.iter().any(|(_, text)| text.starts_with(&format!("{id}:"))))
            .unwrap()
            .0;
        let stored = all_messages(room, reader).await;
        let got: Vec<(u64, &str)> =
            stored.iter().map(|m| (m["id"].as_u64().unwrap(), m["text"].as_str().unwrap())).collect();
        stored_total += got.len();
        assert_eq!(got, want, "room {room}: stored messages differ from accepted ones, or their order does");
        // Each client's messages appear in the order it sent them.
        let mut last_step: HashMap<&str, u64> = HashMap::new();
        for (_, text) in &got {
            let (client, step) = text.split_once(':').unwrap();
            let step: u64 = step.parse().unwrap();
            assert!(
                last_step.insert(client, step).is_none_or(|previous| previous < step),
                "room {room}: {text} out of order"
            );
        }
    }
    assert_eq!(success + failure, accepted.len());
    assert_eq!(stored_total, success, "every SUCCESS is stored exactly once");
    println!(
        "soak: {clients} clients, {} sends accepted, {} reads; {success} SUCCESS, {failure} FAILURE; \
         {stored_total} stored, 0 lost, 0 duplicated; accepted in {:.1?} ({:.0} requests/s), all delivered after {:.1?}",
        accepted.len(),
        reads.load(Ordering::SeqCst),
        accepting,
        sends as f64 / accepting.as_secs_f64(),
        delivered,
    );
}
