//! Users: the record (with the password hash), its copies in the id-ordered listing and in one
//! index partition per filterable attribute, and the username guard that makes names unique.
//! All of them change in one transaction, so every listing and filter reads strongly
//! consistent data without a secondary index.

use crate::item::{decode, decode_all, encode, s, Attrs};
use crate::items::{UserRecord, UsernameGuard};
use crate::ops::Range;
use crate::txn::{Outcome, Txn, EXISTS, NEW};
use crate::{Store, StoreError, UserPage, UserWriteError};
use domain::clock;
use domain::keys::{self, UserIndex};
use domain::page::PageRequest;
use domain::users::{Profile, User, UserChanges, UserFilter};
use serde::{Deserialize, Serialize};

/// A copy of the public user in the listing or an index partition.
#[derive(Serialize, Deserialize)]
struct UserEntry {
    pk: String,
    sk: String,
    user: User,
}

/// The index partition that serves a filter, the most selective first; the listing when no
/// indexed filter is given.
fn partition(filter: &UserFilter) -> String {
    [
        (UserIndex::LastName, &filter.last_name),
        (UserIndex::FirstName, &filter.first_name),
        (UserIndex::Status, &filter.status),
    ]
    .into_iter()
    .find_map(|(index, value)| value.as_deref().map(|v| index.pk(v)))
    .unwrap_or_else(|| keys::USERS_PK.to_string())
}

/// Items one listing request looks at, at most, whatever the filters leave.
const MAX_EXAMINED: usize = 1000;

fn index_value(user: &User, index: UserIndex) -> &str {
    match index {
        UserIndex::FirstName => &user.first_name,
        UserIndex::LastName => &user.last_name,
        UserIndex::Status => &user.profile.status,
    }
}

impl Store {
    fn put_copies(&self, txn: &mut Txn, user: &User) {
        let entry = |(pk, sk): keys::Key| encode(&UserEntry { pk, sk, user: user.clone() });
        txn.put(entry(keys::user_listing(user.id)), None, &[]);
        for index in UserIndex::ALL {
            txn.put(entry(index.key(index_value(user, index), user.id)), None, &[]);
        }
    }

    fn record(user: &User, password_hash: &str) -> Attrs {
        let (pk, sk) = keys::user(user.id);
        encode(&UserRecord { pk, sk, user: user.clone(), password: password_hash.to_string() })
    }

    fn guard(user: &User) -> Attrs {
        let (pk, sk) = keys::username(&user.username);
        encode(&UsernameGuard { pk, sk, user_id: user.id })
    }

    /// One page of users in id order, matching the filters: `id` and `username` are one item
    /// (GetItem, or two for a username), the other filters a Query of their index partition,
    /// none a Query of the listing; at most [`MAX_EXAMINED`] items looked at.
    pub async fn list_users(&self, filter: &UserFilter, page: PageRequest) -> Result<UserPage, StoreError> {
        let single = match (filter.id, &filter.username) {
            (Some(id), _) => Some(Some(id)),
            (None, Some(name)) => Some(self.user_id_by_name(name).await?),
            (None, None) => None,
        };
        if let Some(id) = single {
            let user = match id {
                Some(id) if id > page.after => self.get_user(id).await?.map(|(u, _)| u),
                _ => None,
            };
            return Ok(UserPage {
                users: user.into_iter().filter(|u| filter.matches(u)).collect(),
                next_after: None,
            });
        }
        let pk = partition(filter);
        let mut users = Vec::new();
        let (mut after, mut examined) = (keys::user_sk(page.after), 0);
        loop {
            let want = page.limit - users.len();
            let got = self
                .query_page("Query users", &pk, Range::After(keys::USER_PREFIX, &after), want, true)
                .await?;
            examined += got.items.len();
            let entries: Vec<UserEntry> = decode_all("user entry", got.items)?;
            if let Some(last) = entries.last() {
                after = last.sk.clone();
            }
            users.extend(entries.into_iter().map(|e| e.user).filter(|u| filter.matches(u)));
            if !got.more {
                return Ok(UserPage { users, next_after: None });
            }
            if users.len() == page.limit || examined >= MAX_EXAMINED {
                let next_after = keys::trailing_id(&after);
                return Ok(UserPage { users, next_after });
            }
        }
    }

    /// One GetItem.
    pub async fn get_user(&self, id: u64) -> Result<Option<(User, String)>, StoreError> {
        let Some(item) = self.get("GetItem user", keys::user(id)).await? else { return Ok(None) };
        let record: UserRecord = decode("user record", item)?;
        Ok(Some((record.user, record.password)))
    }

    /// The given users that exist, in no particular order. One BatchGetItem per 100 ids.
    pub async fn users(&self, ids: &[u64]) -> Result<Vec<User>, StoreError> {
        let items =
            self.get_many("BatchGetItem users", ids.iter().map(|&id| keys::user(id)).collect()).await?;
        Ok(decode_all::<UserRecord>("user record", items)?.into_iter().map(|r| r.user).collect())
    }

    /// The id of a username, if taken. One GetItem of the guard.
    pub async fn user_id_by_name(&self, name: &str) -> Result<Option<u64>, StoreError> {
        let item = self.get("GetItem username", keys::username(name)).await?;
        Ok(item.map(|i| decode::<UsernameGuard>("username guard", i)).transpose()?.map(|g| g.user_id))
    }

    /// User ids by username, for those that exist. One BatchGetItem of the guard items.
    pub async fn user_ids_by_name(
        &self,
        names: &[String],
    ) -> Result<std::collections::HashMap<String, u64>, StoreError> {
        let items = self
            .get_many("BatchGetItem usernames", names.iter().map(|n| keys::username(n)).collect())
            .await?;
        let guards: Vec<UsernameGuard> = decode_all("username guard", items)?;
        Ok(guards
            .into_iter()
            .map(|g| (g.pk.trim_start_matches("USERNAME#").to_string(), g.user_id))
            .collect())
    }

    /// Creates a user with a fresh id: one UpdateItem (counter) and one TransactWriteItems of
    /// the record and username guard (both conditional on not existing), the listing and index
    /// copies.
    pub async fn create_user(
        &self,
        changes: &UserChanges,
        password_hash: &str,
    ) -> Result<User, UserWriteError> {
        let id = self.next("UpdateItem user counter", keys::counter("user")).await?;
        let mut user = User {
            id,
            username: String::new(),
            first_name: String::new(),
            last_name: String::new(),
            email: String::new(),
            profile: Profile { status: "Offline".into(), status_msg: None, read_receipts: true },
            date_joined: clock::timestamp(),
            is_active: true,
        };
        changes.apply(&mut user);
        let mut txn = Txn::new(self);
        txn.put(Self::record(&user, password_hash), Some(NEW), &[]);
        let guard = txn.put(Self::guard(&user), Some(NEW), &[]);
        self.put_copies(&mut txn, &user);
        let outcome = self.transact("TransactWriteItems create user", txn).await?;
        if outcome.failed(guard) {
            return Err(UserWriteError::DuplicateUsername);
        }
        match outcome {
            Outcome::Done => Ok(user),
            Outcome::Cancelled(_) => Err(UserWriteError::Changed),
        }
    }

    /// Replaces a user read before as `old`: one TransactWriteItems of the record (conditional
    /// on the username read), the copies, index entries moved where a value changed, and on a
    /// rename the old guard deleted and the new one created.
    pub async fn update_user(
        &self,
        old: &User,
        new: &User,
        password_hash: &str,
    ) -> Result<(), UserWriteError> {
        let mut txn = Txn::new(self);
        txn.put(
            Self::record(new, password_hash),
            Some("attribute_exists(pk) AND #user.username = :old"),
            &[(":old", s(&old.username))],
        );
        self.put_copies(&mut txn, new);
        for index in UserIndex::ALL {
            if index_value(old, index) != index_value(new, index) {
                txn.delete(index.key(index_value(old, index), old.id), None, &[]);
            }
        }
        let mut new_guard = None;
        if old.username != new.username {
            txn.delete(keys::username(&old.username), Some(EXISTS), &[]);
            new_guard = Some(txn.put(Self::guard(new), Some(NEW), &[]));
        }
        let outcome = self.transact("TransactWriteItems update user", txn).await?;
        match outcome {
            Outcome::Done => Ok(()),
            _ if new_guard.is_some_and(|g| outcome.failed(g)) => Err(UserWriteError::DuplicateUsername),
            Outcome::Cancelled(_) => Err(UserWriteError::Changed),
        }
    }

    /// Deletes the record, its guard and copies. One TransactWriteItems. `false` when the user
    /// was already gone.
    pub async fn delete_user_record(&self, user: &User) -> Result<bool, StoreError> {
        let mut txn = Txn::new(self);
        txn.delete(keys::user(user.id), Some(EXISTS), &[]);
        txn.delete(keys::username(&user.username), None, &[]);
        txn.delete(keys::user_listing(user.id), None, &[]);
        for index in UserIndex::ALL {
            txn.delete(index.key(index_value(user, index), user.id), None, &[]);
        }
        Ok(matches!(self.transact("TransactWriteItems delete user", txn).await?, Outcome::Done))
    }
}
