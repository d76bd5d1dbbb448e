//! Writes with a condition: their expressions ([`Expr`]) and what they found ([`Written`]).

use crate::item::Attrs;
use crate::txn::{self, names};
use crate::StoreError;
use aws_sdk_dynamodb::error::SdkError;
use aws_sdk_dynamodb::types::{AttributeValue, ReturnValuesOnConditionCheckFailure};
use std::collections::HashMap;

/// How a write with a condition went.
#[derive(Debug)]
pub(crate) enum Written {
    Done,
    /// The condition failed; the item as it was (`None`: there was none).
    Refused(Option<Attrs>),
}

impl Written {
    pub fn done(&self) -> bool {
        matches!(self, Written::Done)
    }
}

/// A write's expressions besides its own: the condition (none: unconditional), the `:values`,
/// and the names of `#placeholders` that do not stand for the attribute of their own name.
#[derive(Default)]
pub(crate) struct Expr<'a> {
    pub condition: Option<&'a str>,
    pub values: &'a [(&'a str, AttributeValue)],
    pub names: &'a [(&'a str, &'a str)],
}

impl Expr<'_> {
    pub(crate) fn old_on_failure(&self) -> Option<ReturnValuesOnConditionCheckFailure> {
        txn::old_on_failure(self.condition)
    }

    pub(crate) fn values(&self) -> Option<Attrs> {
        txn::values(self.values)
    }

    pub(crate) fn names(&self, update: Option<&str>) -> Option<HashMap<String, String>> {
        let mut all = names(&[update, self.condition]).unwrap_or_default();
        all.extend(self.names.iter().map(|(k, v)| (k.to_string(), v.to_string())));
        (!all.is_empty()).then_some(all)
    }
}

/// The outcome of a single conditional write from its SDK result: a failed condition, with the
/// item it found, is a `Refused`; any other error is the store's.
pub(crate) fn written<T, E: std::fmt::Debug>(
    op: &'static str,
    sent: Result<T, SdkError<E>>,
    refused: impl Fn(E) -> Result<Option<Attrs>, Box<E>>,
) -> Result<Written, StoreError> {
    match sent {
        Ok(_) => Ok(Written::Done),
        Err(SdkError::ServiceError(e)) => match refused(e.into_err()) {
            Ok(found) => Ok(Written::Refused(found.filter(|item| !item.is_empty()))),
            Err(other) => Err(StoreError::unavailable(op, other)),
        },
        Err(e) => Err(StoreError::unavailable(op, e)),
    }
}
