//! User profiles and the username guard items that make usernames unique.

use super::item::{delete, item, n, opt_s, put, s, Item, EXISTS, NEW};
use super::{Store, Txn};
use crate::error::ApiError;
use crate::keys;
use crate::users::{Profile, User, UserChanges};
use aws_sdk_dynamodb::types::AttributeValue;

/// Why a user write was refused.
pub enum UserWriteError {
    DuplicateUsername,
    /// The user was deleted or renamed meanwhile; re-read and retry.
    Changed,
    Api(ApiError),
}

impl From<ApiError> for UserWriteError {
    fn from(e: ApiError) -> Self {
        UserWriteError::Api(e)
    }
}

pub(super) fn to_user(item: &Item) -> User {
    User {
        id: item.n("id"),
        username: item.s("username"),
        first_name: item.s("first_name"),
        last_name: item.s("last_name"),
        email: item.s("email"),
        profile: Profile { status: item.s("status"), status_msg: item.opt_s("status_msg") },
        date_joined: item.s("date_joined"),
        is_active: item.bool("is_active"),
    }
}

impl Store {
    fn user_item(&self, user: &User, password_hash: &str) -> super::item::Attrs {
        item(
            keys::user(user.id),
            [
                ("id", n(user.id)),
                ("username", s(&user.username)),
                ("first_name", s(&user.first_name)),
                ("last_name", s(&user.last_name)),
                ("email", s(&user.email)),
                ("status", s(&user.profile.status)),
                ("status_msg", opt_s(&user.profile.status_msg)),
                ("date_joined", s(&user.date_joined)),
                ("is_active", AttributeValue::Bool(user.is_active)),
                ("password", s(password_hash)),
            ],
        )
    }

    fn guard_item(&self, user: &User) -> super::item::Attrs {
        item(keys::username(&user.username), [("user_id", n(user.id))])
    }

    /// Every user, ordered by id. One paginated Query of the `USERS` partition.
    pub async fn list_users(&self) -> Result<Vec<User>, ApiError> {
        let items = self.query_prefix("Query users", keys::USERS_PK, keys::USER_SK_PREFIX).await?;
        Ok(items.iter().map(to_user).collect())
    }

    /// One GetItem.
    pub async fn get_user(&self, id: u64) -> Result<Option<(User, String)>, ApiError> {
        let item = self.get("GetItem user", keys::user(id)).await?;
        Ok(item.map(|i| (to_user(&i), i.s("password"))))
    }

    /// Usernames of the given users, for those that exist. One BatchGetItem per 100 ids.
    pub async fn usernames(&self, ids: &[u64]) -> Result<std::collections::HashMap<u64, String>, ApiError> {
        Ok(self.users(ids).await?.into_iter().map(|u| (u.id, u.username)).collect())
    }

    /// The given users that exist, in no particular order. One BatchGetItem per 100 ids.
    pub async fn users(&self, ids: &[u64]) -> Result<Vec<User>, ApiError> {
        let mut unique = ids.to_vec();
        unique.sort_unstable();
        unique.dedup();
        let items = self.get_many("BatchGetItem users", unique.into_iter().map(keys::user).collect()).await?;
        Ok(items.iter().map(to_user).collect())
    }

    /// User ids by username, for those that exist. One BatchGetItem of the guard items.
    pub async fn user_ids_by_name(
        &self,
        names: &[String],
    ) -> Result<std::collections::HashMap<String, u64>, ApiError> {
        let items = self
            .get_many("BatchGetItem usernames", names.iter().map(|n| keys::username(n)).collect())
            .await?;
        Ok(items
            .iter()
            .map(|i| (i.s("pk").trim_start_matches("USERNAME#").to_string(), i.n("user_id")))
            .collect())
    }

    /// Creates a user with a fresh id: one UpdateItem (counter) and one TransactWriteItems
    /// (profile + username guard, both conditional on not existing).
    pub async fn create_user(&self, changes: &UserChanges, password_hash: &str) -> Result<User, UserWriteError> {
        let id = self.next_id("user").await?;
        let mut user = User {
            id,
            username: String::new(),
            first_name: String::new(),
            last_name: String::new(),
            email: String::new(),
            profile: Profile { status: "Offline".into(), status_msg: None },
            date_joined: crate::now(),
            is_active: true,
        };
        changes.apply(&mut user);
        let txn = vec![
            put(&self.table, self.user_item(&user, password_hash), Some(NEW)),
            put(&self.table, self.guard_item(&user), Some(NEW)),
        ];
        match self.transact("TransactWriteItems create user", txn).await? {
            Txn::Done => Ok(user),
            Txn::ConditionFailed(_) => Err(UserWriteError::DuplicateUsername),
        }
    }

    /// Replaces a user read before as `old`. One TransactWriteItems: the profile (conditional on
    /// the username read), and on a rename the old guard deleted and the new one created.
    pub async fn update_user(&self, old: &User, new: &User, password_hash: &str) -> Result<(), UserWriteError> {
        let unchanged_name = "attribute_exists(pk) AND username = :old";
        let mut profile = put(&self.table, self.user_item(new, password_hash), Some(unchanged_name));
        if let Some(p) = profile.put.as_mut() {
            p.expression_attribute_values = Some([(":old".to_string(), s(&old.username))].into());
        }
        let mut txn = vec![profile];
        if old.username != new.username {
            txn.push(delete(&self.table, keys::username(&old.username), Some(EXISTS)));
            txn.push(put(&self.table, self.guard_item(new), Some(NEW)));
        }
        match self.transact("TransactWriteItems update user", txn).await? {
            Txn::Done => Ok(()),
            Txn::ConditionFailed(failed) if failed.contains(&2) => Err(UserWriteError::DuplicateUsername),
            Txn::ConditionFailed(_) => Err(UserWriteError::Changed),
        }
    }

    /// Deletes the profile and its username guard. One TransactWriteItems. `false` when the user
    /// was already gone.
    pub async fn delete_user_record(&self, user: &User) -> Result<bool, ApiError> {
        let txn = vec![
            delete(&self.table, keys::user(user.id), Some(EXISTS)),
            delete(&self.table, keys::username(&user.username), None),
        ];
        Ok(matches!(self.transact("TransactWriteItems delete user", txn).await?, Txn::Done))
    }
}
