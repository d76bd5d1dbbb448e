//! What rooms show (`room_member`, senders' names, and for lists each room's name and rules):
//! from the cache when it has the room, else from DynamoDB (one Query per room for members,
//! at once; one BatchGetItem of the rooms' `META`), which then fills the cache in one pipeline.
//! Who may post or read is never decided from here: that is the membership item and `META`,
//! read from DynamoDB.

use crate::cache::{Cache, CachedRoom, RoomFill};
use domain::governance::Governance;
use domain::model::{Member, Room};
use std::collections::HashMap;
use store::{Store, StoreError};

/// A room as lists show it: its name and rules, and its members.
pub struct Shown {
    pub room: Room,
    pub rules: Governance,
    pub members: Vec<Member>,
}

pub async fn of(
    store: &Store,
    cache: &Cache,
    rooms: &[u64],
) -> Result<HashMap<u64, Vec<Member>>, StoreError> {
    Ok(read(store, cache, rooms, false).await?.0)
}

/// One room's members.
pub async fn of_room(store: &Store, cache: &Cache, room: u64) -> Result<Vec<Member>, StoreError> {
    Ok(of(store, cache, &[room]).await?.remove(&room).unwrap_or_default())
}

/// Rooms with their names, rules and members, in the order asked; rooms that are gone are
/// left out. With every room in the cache: no DynamoDB call.
pub async fn shown(store: &Store, cache: &Cache, rooms: &[u64]) -> Result<Vec<Shown>, StoreError> {
    let (mut members, mut looks) = read(store, cache, rooms, true).await?;
    Ok(rooms
        .iter()
        .filter_map(|id| {
            let (room, rules) = looks.remove(id)?;
            Some(Shown { room, rules, members: members.remove(id).unwrap_or_default() })
        })
        .collect())
}

type Look = (Room, Governance);

/// Members of `rooms` and, with `looks`, their looks: what the cache holds, the rest read
/// from DynamoDB at once and then cached.
async fn read(
    store: &Store,
    cache: &Cache,
    rooms: &[u64],
    looks: bool,
) -> Result<(HashMap<u64, Vec<Member>>, HashMap<u64, Look>), StoreError> {
    let cached = cache.rooms(rooms, looks).await;
    let entry = |i: usize| cached.as_ref().map(|c| &c[i]);
    let (mut members, mut found) = (HashMap::new(), HashMap::new());
    let (mut no_members, mut no_look) = (Vec::new(), Vec::new());
    for (i, &room) in rooms.iter().enumerate() {
        if let Some(list) = entry(i).and_then(|e| e.members.as_deref()).and_then(parse_members) {
            members.insert(room, list);
        } else {
            no_members.push(room);
        }
        if !looks {
            continue;
        }
        if let Some(look) =
            entry(i).and_then(|e| e.look.as_deref()).and_then(|j| serde_json::from_str::<Look>(j).ok())
        {
            found.insert(room, look);
        } else {
            no_look.push(room);
        }
    }
    let (read_members, read_looks) =
        tokio::try_join!(store.members_of(&no_members), store.rooms_rules(&no_look))?;
    // What was read goes to the cache under the generation read before it.
    let lists: HashMap<u64, String> =
        read_members.iter().map(|(&room, list)| (room, list_json(list))).collect();
    let shown: HashMap<u64, String> = read_looks
        .iter()
        .map(|look| (look.0.id, serde_json::to_string(look).expect("looks serialize")))
        .collect();
    if let Some(cached) = &cached {
        let fills: Vec<RoomFill> = rooms
            .iter()
            .zip(cached)
            .filter(|(room, _)| lists.contains_key(room) || shown.contains_key(room))
            .map(|(room, CachedRoom { generation, .. })| RoomFill {
                room: *room,
                members: lists.get(room).map(String::as_str),
                look: shown.get(room).map(String::as_str),
                generation,
            })
            .collect();
        cache.store_rooms(&fills).await;
    }
    members.extend(read_members);
    found.extend(read_looks.into_iter().map(|look| (look.0.id, look)));
    Ok((members, found))
}

fn parse_members(json: &str) -> Option<Vec<Member>> {
    let list: Vec<(u64, String)> = serde_json::from_str(json).ok()?;
    Some(list.into_iter().map(|(id, username)| Member { id, username }).collect())
}

fn list_json(members: &[Member]) -> String {
    let list: Vec<(u64, &str)> = members.iter().map(|m| (m.id, m.username.as_str())).collect();
    serde_json::to_string(&list).expect("lists serialize")
}
