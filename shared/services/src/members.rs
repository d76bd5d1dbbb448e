//! Members of rooms for showing them (`room_member`, senders' names): from the cache when it
//! has the room, else one Query per room (at once), which then fills the cache. Who may post
//! or read is never decided from here: that is the membership item, read from DynamoDB.

use crate::cache::Cache;
use domain::model::Member;
use std::collections::HashMap;
use store::{Store, StoreError};

pub async fn of(
    store: &Store,
    cache: &Cache,
    rooms: &[u64],
) -> Result<HashMap<u64, Vec<Member>>, StoreError> {
    let cached = cache.members(rooms).await;
    let mut found = HashMap::new();
    let mut missing = Vec::new();
    for (i, &room) in rooms.iter().enumerate() {
        let hit = cached
            .as_ref()
            .and_then(|c| c[i].0.as_deref())
            .and_then(|json| serde_json::from_str::<Vec<(u64, String)>>(json).ok());
        match hit {
            Some(list) => {
                found.insert(room, list.into_iter().map(|(id, username)| Member { id, username }).collect());
            }
            None => missing.push((room, cached.as_ref().map(|c| c[i].1.clone()))),
        }
    }
    let ids: Vec<u64> = missing.iter().map(|(room, _)| *room).collect();
    let read = store.members_of(&ids).await?;
    for (room, generation) in missing {
        let members = read[&room].clone();
        if let Some(generation) = generation {
            let list: Vec<(u64, &str)> = members.iter().map(|m| (m.id, m.username.as_str())).collect();
            cache
                .store_members(room, &serde_json::to_string(&list).expect("lists serialize"), &generation)
                .await;
        }
        found.insert(room, members);
    }
    Ok(found)
}

/// One room's members.
pub async fn of_room(store: &Store, cache: &Cache, room: u64) -> Result<Vec<Member>, StoreError> {
    Ok(of(store, cache, &[room]).await?.remove(&room).unwrap_or_default())
}
