//! TransactWriteItems with named slots: each write pushed returns a [`Slot`], and a cancelled
//! transaction is asked about a slot ("did this condition fail, and what was there?") rather
//! than about a position in a list, so reordering the writes cannot misreport an outcome.

use crate::item::{key_map, Attrs};
use crate::{Backoff, Store, StoreError};
use aws_sdk_dynamodb::error::SdkError;
use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;
use aws_sdk_dynamodb::types::{
    CancellationReason, ConditionCheck, Delete, Put, ReturnValuesOnConditionCheckFailure, TransactWriteItem,
    Update,
};
use domain::keys::Key;

/// Items per TransactWriteItems call (DynamoDB's limit).
pub const TXN_ITEMS: usize = 100;

pub const NEW: &str = "attribute_not_exists(pk)";
pub const EXISTS: &str = "attribute_exists(pk)";

/// Where one write sits in its transaction.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Slot(usize);

/// A transaction being built.
pub struct Txn {
    table: String,
    items: Vec<TransactWriteItem>,
}

/// An expression's `:name` values.
pub type Values<'a> = &'a [(&'a str, aws_sdk_dynamodb::types::AttributeValue)];

pub(crate) fn values(values: Values<'_>) -> Option<Attrs> {
    (!values.is_empty()).then(|| values.iter().map(|(k, v)| (k.to_string(), v.clone())).collect())
}

/// Expression attribute names by convention: `#name` in an expression stands for the attribute
/// `name`, so expressions may use names DynamoDB reserves (`user`, `value`).
pub fn names(expressions: &[Option<&str>]) -> Option<std::collections::HashMap<String, String>> {
    let mut names = std::collections::HashMap::new();
    for expression in expressions.iter().flatten() {
        for token in expression.split('#').skip(1) {
            let name: String = token.chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '_').collect();
            if !name.is_empty() {
                names.insert(format!("#{name}"), name);
            }
        }
    }
    (!names.is_empty()).then_some(names)
}

/// Conditional writes hand back the item they found when their condition fails.
pub(crate) fn old_on_failure(condition: Option<&str>) -> Option<ReturnValuesOnConditionCheckFailure> {
    condition.map(|_| ReturnValuesOnConditionCheckFailure::AllOld)
}

impl Txn {
    pub fn new(store: &Store) -> Txn {
        Txn { table: store.table.clone(), items: Vec::new() }
    }

    fn push(&mut self, item: TransactWriteItem) -> Slot {
        self.items.push(item);
        Slot(self.items.len() - 1)
    }

    pub fn put(&mut self, item: Attrs, condition: Option<&str>, vals: Values<'_>) -> Slot {
        let put = Put::builder()
            .table_name(&self.table)
            .set_item(Some(item))
            .set_condition_expression(condition.map(str::to_string))
            .set_expression_attribute_names(names(&[condition]))
            .set_expression_attribute_values(values(vals))
            .set_return_values_on_condition_check_failure(old_on_failure(condition))
            .build()
            .expect("table and item are set");
        self.push(TransactWriteItem::builder().put(put).build())
    }

    pub fn update(&mut self, key: Key, expression: &str, condition: Option<&str>, vals: Values<'_>) -> Slot {
        let update = Update::builder()
            .table_name(&self.table)
            .set_key(Some(key_map(key)))
            .update_expression(expression)
            .set_condition_expression(condition.map(str::to_string))
            .set_expression_attribute_names(names(&[Some(expression), condition]))
            .set_expression_attribute_values(values(vals))
            .set_return_values_on_condition_check_failure(old_on_failure(condition))
            .build()
            .expect("table, key and expression are set");
        self.push(TransactWriteItem::builder().update(update).build())
    }

    pub fn delete(&mut self, key: Key, condition: Option<&str>, vals: Values<'_>) -> Slot {
        let delete = Delete::builder()
            .table_name(&self.table)
            .set_key(Some(key_map(key)))
            .set_condition_expression(condition.map(str::to_string))
            .set_expression_attribute_names(names(&[condition]))
            .set_expression_attribute_values(values(vals))
            .set_return_values_on_condition_check_failure(old_on_failure(condition))
            .build()
            .expect("table and key are set");
        self.push(TransactWriteItem::builder().delete(delete).build())
    }

    pub fn check(&mut self, key: Key, condition: &str, vals: Values<'_>) -> Slot {
        let check = ConditionCheck::builder()
            .table_name(&self.table)
            .set_key(Some(key_map(key)))
            .condition_expression(condition)
            .set_expression_attribute_names(names(&[Some(condition)]))
            .set_expression_attribute_values(values(vals))
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld)
            .build()
            .expect("table, key and condition are set");
        self.push(TransactWriteItem::builder().condition_check(check).build())
    }
}

/// How a transaction ended.
pub enum Outcome {
    Done,
    /// Cancelled because conditions failed; ask about each slot.
    Cancelled(Vec<CancellationReason>),
}

impl Outcome {
    /// Whether the write at `slot` had its condition fail.
    pub fn failed(&self, slot: Slot) -> bool {
        match self {
            Outcome::Done => false,
            Outcome::Cancelled(reasons) => {
                reasons.get(slot.0).is_some_and(|r| r.code() == Some("ConditionalCheckFailed"))
            }
        }
    }

    /// The item that was there when the condition at `slot` failed (`None` when there was none).
    pub fn found(&self, slot: Slot) -> Option<&Attrs> {
        match self {
            Outcome::Done => None,
            Outcome::Cancelled(reasons) => {
                reasons.get(slot.0).and_then(|r| r.item()).filter(|item| !item.is_empty())
            }
        }
    }
}

impl Store {
    /// Runs a transaction. A cancellation for failed conditions is an ordinary outcome; one for
    /// a conflict with another transaction on the same items is retried with backoff.
    pub async fn transact(&self, op: &'static str, txn: Txn) -> Result<Outcome, StoreError> {
        let mut backoff = Backoff::new(op);
        loop {
            let sent =
                self.db.transact_write_items().set_transact_items(Some(txn.items.clone())).send().await;
            let reasons = match sent {
                Ok(_) => return Ok(Outcome::Done),
                Err(SdkError::ServiceError(ctx)) => match ctx.err() {
                    TransactWriteItemsError::TransactionCanceledException(e) => {
                        e.cancellation_reasons().to_vec()
                    }
                    TransactWriteItemsError::TransactionInProgressException(_) => Vec::new(),
                    other => return Err(StoreError::unavailable(op, other)),
                },
                Err(e) => return Err(StoreError::unavailable(op, e)),
            };
            if reasons.iter().any(|r| r.code() == Some("ConditionalCheckFailed")) {
                return Ok(Outcome::Cancelled(reasons));
            }
            let conflict =
                reasons.is_empty() || reasons.iter().any(|r| r.code() == Some("TransactionConflict"));
            if !conflict {
                return Err(StoreError::unavailable(op, reasons));
            }
            backoff.wait().await?;
        }
    }
}

/// Packs groups of writes into transactions of at most [`TXN_ITEMS`] items, keeping each group
/// whole and in order; a group larger than a transaction is an error of the caller. Returns
/// the groups' indexes per transaction.
pub fn pack(group_sizes: &[usize]) -> Vec<Vec<usize>> {
    let mut txns: Vec<Vec<usize>> = Vec::new();
    let mut used = TXN_ITEMS;
    for (i, &size) in group_sizes.iter().enumerate() {
        assert!(size <= TXN_ITEMS, "a group of {size} writes cannot be one transaction");
        if used + size > TXN_ITEMS {
            txns.push(Vec::new());
            used = 0;
        }
        txns.last_mut().expect("a transaction was started").push(i);
        used += size;
    }
    txns
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hash_names_stand_for_the_attribute_of_that_name() {
        let found = names(&[
            Some("SET #top = :top, late = late + :n"),
            Some("#user.username = :old AND #top < :min"),
        ])
        .unwrap();
        let mut found: Vec<_> = found.into_iter().collect();
        found.sort();
        assert_eq!(
            found,
            [("#top".to_string(), "top".to_string()), ("#user".to_string(), "user".to_string())]
        );
        assert_eq!(names(&[Some("attribute_exists(pk)"), None]), None);
    }

    #[test]
    fn packing_fills_transactions_up_to_100_items_and_keeps_groups_whole() {
        assert_eq!(pack(&[]), Vec::<Vec<usize>>::new());
        assert_eq!(pack(&[100]), vec![vec![0]]);
        assert_eq!(pack(&[50, 50, 1]), vec![vec![0, 1], vec![2]]);
        assert_eq!(pack(&[60, 50, 40]), vec![vec![0], vec![1, 2]]);
        let many = vec![11; 10];
        let txns = pack(&many);
        assert!(txns.iter().all(|t| t.iter().map(|&i| many[i]).sum::<usize>() <= TXN_ITEMS));
        assert_eq!(txns.iter().flatten().copied().collect::<Vec<_>>(), (0..10).collect::<Vec<_>>());
    }

    #[test]
    #[should_panic(expected = "cannot be one transaction")]
    fn a_group_over_100_items_is_refused() {
        pack(&[101]);
    }
}
