//! Driver errors as store errors: the registry only needs to tell "retry later" (the
//! server is unreachable, timed out, or changing primaries) from "this write collides"
//! from everything else.

use dmr_store::StoreError;
use mongodb::error::{Error, ErrorKind, WriteFailure};

/// Server error codes meaning the deployment is unavailable for now, not that the request
/// was wrong: HostUnreachable, HostNotFound, NetworkTimeout, ShutdownInProgress,
/// PrimarySteppedDown, ExceededTimeLimit, NotWritablePrimary, InterruptedAtShutdown,
/// InterruptedDueToReplStateChange, NotPrimaryNoSecondaryOk, NotPrimaryOrSecondary,
/// StaleConfig-family retries, and the "retry this" ones.
const UNAVAILABLE_CODES: &[i32] = &[
    6, 7, 89, 91, 189, 262, 10107, 11600, 11602, 13435, 13436, 9001, 50,
];

pub(crate) const DUPLICATE_KEY: i32 = 11000;
pub(crate) const NAMESPACE_EXISTS: i32 = 48;
pub(crate) const NAMESPACE_NOT_FOUND: i32 = 26;

pub(crate) fn store_error(error: &Error, collection: &str) -> StoreError {
    if let Some(index) = duplicate_index(error) {
        return StoreError::Duplicate {
            collection: collection.to_owned(),
            index,
        };
    }
    match error.kind.as_ref() {
        ErrorKind::Io(_)
        | ErrorKind::ConnectionPoolCleared { .. }
        | ErrorKind::ServerSelection { .. }
        | ErrorKind::DnsResolve { .. }
        | ErrorKind::Shutdown => StoreError::Unavailable(error.to_string()),
        ErrorKind::Command(c) if UNAVAILABLE_CODES.contains(&c.code) => {
            StoreError::Unavailable(error.to_string())
        }
        _ if error.contains_label("RetryableWriteError")
            || error.contains_label("TransientTransactionError") =>
        {
            StoreError::Unavailable(error.to_string())
        }
        _ => StoreError::Internal(error.to_string()),
    }
}

pub(crate) fn code(error: &Error) -> Option<i32> {
    match error.kind.as_ref() {
        ErrorKind::Command(c) => Some(c.code),
        ErrorKind::Write(WriteFailure::WriteError(w)) => Some(w.code),
        ErrorKind::Write(WriteFailure::WriteConcernError(w)) => Some(w.code),
        _ => None,
    }
}

/// The server's own words for a failed command (`IndexKeySpecsConflict (86): ...`), without
/// the driver's dump of the raw reply; other errors as the driver prints them.
pub(crate) fn describe(error: &Error) -> String {
    match error.kind.as_ref() {
        ErrorKind::Command(c) => format!("{} ({}): {}", c.code_name, c.code, c.message),
        ErrorKind::Write(WriteFailure::WriteError(w)) => format!("{} ({})", w.message, w.code),
        _ => error.to_string(),
    }
}

fn message(error: &Error) -> Option<&str> {
    match error.kind.as_ref() {
        ErrorKind::Command(c) => Some(&c.message),
        ErrorKind::Write(WriteFailure::WriteError(w)) => Some(&w.message),
        _ => None,
    }
}

/// The index a duplicate-key error names: MongoDB's message reads
/// `E11000 duplicate key error collection: db.users index: email_1 dup key: { ... }`
/// (Mongoose parses the same text).
fn duplicate_index(error: &Error) -> Option<String> {
    if code(error) != Some(DUPLICATE_KEY) {
        return None;
    }
    index_in_message(message(error)?).map(str::to_owned)
}

fn index_in_message(text: &str) -> Option<&str> {
    text.split_once("index: ")?.1.split_whitespace().next()
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_index_name_comes_from_the_server_message() {
        let text = "E11000 duplicate key error collection: tenant_a.users index: email_1 dup key: { email: \"a@x.io\" }";
        assert_eq!(super::index_in_message(text), Some("email_1"));
        assert_eq!(super::index_in_message("E11000 duplicate key error"), None);
    }
}
