//! The store's one error: DynamoDB failed, or an item does not decode. Both are logged with
//! their cause where they happen; the edge answers them as a 503 without the detail. Every
//! other "no" is an outcome of the call (`JoinOutcome::RoomFull`, `Created::NameTaken`, ...).

#[derive(Debug)]
pub enum StoreError {
    /// A DynamoDB call failed, timed out, or was still refused after retries.
    Unavailable(&'static str),
    /// A stored item does not decode into its type.
    Corrupt(&'static str),
}

impl StoreError {
    /// Logs a failed call and names its operation.
    pub fn unavailable(operation: &'static str, err: impl std::fmt::Debug) -> Self {
        tracing::error!(operation, error = ?err, "backing service failed");
        StoreError::Unavailable(operation)
    }

    /// Logs an item that does not decode and names its family.
    pub fn corrupt(what: &'static str, err: impl std::fmt::Debug) -> Self {
        tracing::error!(item = what, error = ?err, "stored item does not decode");
        StoreError::Corrupt(what)
    }
}

impl std::fmt::Display for StoreError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            StoreError::Unavailable(op) => write!(f, "DynamoDB unavailable ({op})"),
            StoreError::Corrupt(what) => write!(f, "a stored {what} does not decode"),
        }
    }
}
