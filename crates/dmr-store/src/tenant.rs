use std::fmt;
use std::sync::Arc;

use dmr_error_code::{CodedError, ErrorCode};

/// Longest accepted tenant id; keeps `tenant_<id>` inside MongoDB's 64-byte database-name
/// limit and inside every filesystem's file-name limit.
pub const MAX_TENANT_ID_LEN: usize = 48;

/// A validated tenant id: 1-48 characters of `[A-Za-z0-9_-]`, so it is safe as a file
/// name and inside a MongoDB database name. (Which ids the HTTP routes can reach is the
/// HTTP layer's business: it refuses the route words a tenant id would shadow.)
/// Cheap to clone (shared string), so cache keys and log fields can hold it freely.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TenantId(Arc<str>);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TenantIdError {
    #[error("tenant id must not be empty")]
    Empty,
    #[error("tenant id is {0} characters long; the limit is {MAX_TENANT_ID_LEN}")]
    TooLong(usize),
    #[error("tenant id may contain only letters, digits, '_' and '-' (found {0:?})")]
    BadCharacter(char),
}

impl CodedError for TenantIdError {
    fn error_code(&self) -> ErrorCode {
        ErrorCode::InvalidTenantId
    }
}

impl TenantId {
    pub fn parse(raw: &str) -> Result<Self, TenantIdError> {
        if raw.is_empty() {
            return Err(TenantIdError::Empty);
        }
        let len = raw.chars().count();
        if len > MAX_TENANT_ID_LEN {
            return Err(TenantIdError::TooLong(len));
        }
        if let Some(bad) = raw
            .chars()
            .find(|c| !(c.is_ascii_alphanumeric() || *c == '_' || *c == '-'))
        {
            return Err(TenantIdError::BadCharacter(bad));
        }
        Ok(Self(Arc::from(raw)))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The tenant's database name, as the Node registry names it.
    pub fn database_name(&self) -> String {
        format!("tenant_{}", self.0)
    }
}

impl fmt::Display for TenantId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for TenantId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "TenantId({})", self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_the_documented_alphabet_up_to_48_characters() {
        for ok in ["a", "tenant123", "Acme_Corp-2", &"x".repeat(48)] {
            assert_eq!(TenantId::parse(ok).unwrap().as_str(), ok);
        }
        assert_eq!(
            TenantId::parse("acme").unwrap().database_name(),
            "tenant_acme"
        );
    }

    #[test]
    fn rejects_everything_else_with_the_reason() {
        assert_eq!(TenantId::parse(""), Err(TenantIdError::Empty));
        assert_eq!(
            TenantId::parse(&"x".repeat(49)),
            Err(TenantIdError::TooLong(49))
        );
        for (bad, c) in [
            ("a.b", '.'),
            ("a/b", '/'),
            ("a b", ' '),
            ("../x", '.'),
            ("é", 'é'),
            ("a$", '$'),
        ] {
            assert_eq!(TenantId::parse(bad), Err(TenantIdError::BadCharacter(c)));
        }
    }
}
