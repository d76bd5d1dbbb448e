//! Typing frames handed over by the `sockets` function (already throttled and checked): one
//! Query of the room's presence, then the frame posted to each live connection of the room's
//! other members. Connections that are gone are forgotten as for any push.

use crate::gateway::{self, Work};
use crate::State;
use domain::typing::Typing;
use store::StoreError;

pub async fn relay(state: &State, typing: Typing) -> Result<(), StoreError> {
    let online = state.store.online(typing.room).await?;
    let frames = [typing.frame().to_string()];
    let work = online
        .iter()
        .filter(|present| present.user != typing.user.id)
        .map(|present| Work::Send(present.user, &present.connection, &frames));
    let pushed = gateway::run_all(state, work).await;
    tracing::info!(room = typing.room, frames = pushed, "typing pushed");
    Ok(())
}
