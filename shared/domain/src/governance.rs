//! Who runs a group room and who may see it (API.md "Rooms with owners"): its owner, its admins
//! in the order they became admins, its visibility and topic, and the rules of who may do what
//! to whom. Pure.

use crate::model::RoomKind;
use serde::{Deserialize, Serialize};

/// Public rooms are listed and joinable; private ones exist for their members only.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Visibility {
    #[default]
    Public,
    Private,
}

impl Visibility {
    pub fn parse(s: &str) -> Option<Visibility> {
        match s {
            "public" => Some(Visibility::Public),
            "private" => Some(Visibility::Private),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Visibility::Public => "public",
            Visibility::Private => "private",
        }
    }
}

/// Longest topic, in characters.
pub const MAX_TOPIC_CHARS: usize = 250;

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Governance {
    pub owner: Option<u64>,
    /// (user, the microsecond they became admin), longest first; the owner is not among them.
    pub admins: Vec<(u64, u64)>,
    pub visibility: Visibility,
    pub topic: String,
}

impl Governance {
    /// The owner has every right an admin has.
    pub fn is_admin(&self, user: u64) -> bool {
        self.owner == Some(user) || self.admins.iter().any(|&(u, _)| u == user)
    }

    /// Whether a group room is hidden from someone: private, and they are no member. (Direct
    /// rooms answer their non-members 403, as before rooms had owners.)
    pub fn hides(&self, kind: RoomKind, member: bool) -> bool {
        kind == RoomKind::Group && self.visibility == Visibility::Private && !member
    }

    /// Admins kick and ban members; only the owner kicks or bans an admin; nobody the owner.
    pub fn may_remove(&self, actor: u64, target: u64) -> bool {
        if self.owner == Some(target) {
            false
        } else if self.is_admin(target) {
            self.owner == Some(actor)
        } else {
            self.is_admin(actor)
        }
    }

    /// Who owns the room once `leaving` (its owner) is gone: the admin who has been one
    /// longest, else the member who joined first (`members` in joining order).
    pub fn successor(&self, leaving: u64, members: &[u64]) -> Option<u64> {
        let admin = self.admins.iter().map(|&(u, _)| u).find(|&u| u != leaving);
        admin.or_else(|| members.iter().copied().find(|&u| u != leaving))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn room() -> Governance {
        Governance { owner: Some(1), admins: vec![(3, 10), (2, 20)], ..Governance::default() }
    }

    #[test]
    fn the_owner_removes_admins_admins_remove_members_nobody_removes_the_owner() {
        let g = room();
        assert!(g.may_remove(1, 2) && g.may_remove(1, 4), "the owner removes admins and members");
        assert!(g.may_remove(2, 4), "an admin removes a member");
        assert!(!g.may_remove(2, 3), "an admin does not remove an admin");
        assert!(!g.may_remove(2, 1) && !g.may_remove(1, 1), "nobody removes the owner");
        assert!(!g.may_remove(4, 5), "a member removes nobody");
    }

    #[test]
    fn ownership_passes_to_the_longest_admin_else_the_first_member() {
        assert_eq!(room().successor(1, &[1, 4, 2, 3]), Some(3));
        let plain = Governance { owner: Some(1), ..Governance::default() };
        assert_eq!(plain.successor(1, &[1, 4, 2]), Some(4));
        assert_eq!(plain.successor(1, &[1]), None);
        assert_eq!(Visibility::parse("private"), Some(Visibility::Private));
        assert_eq!(Visibility::parse("Private"), None);
    }
}
