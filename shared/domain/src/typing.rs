//! Typing (API.md, "Live room state"): what the `sockets` function hands the `push` function
//! for a typing frame it let through, and the frame the room's other members get.

use crate::model::Member;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

/// The least time between two typing frames of one user in one room.
pub const TYPING_WINDOW_MS: u64 = 3_000;

/// `user` is typing in `room`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Typing {
    pub room: u64,
    pub user: Member,
}

impl Typing {
    /// `{"type": "typing", "data": {"room", "user": {id, username}}}`.
    pub fn frame(&self) -> Value {
        json!({"type": "typing", "data": {"room": self.room, "user": self.user}})
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_typing_frame_names_the_room_and_the_user() {
        let typing = Typing { room: 7, user: Member { id: 3, username: "ann".into() } };
        assert_eq!(
            typing.frame(),
            json!({"type": "typing", "data": {"room": 7, "user": {"id": 3, "username": "ann"}}})
        );
    }
}
