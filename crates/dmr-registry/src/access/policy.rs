//! Who may call what: the decision table, given who the caller proved to be and what the
//! route asks for. Pure: no cache, no store.

use std::sync::Arc;

use dmr_store::TenantId;

/// What a request presented as its credential (the HTTP layer reads the headers).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Credential<'a> {
    /// No `Authorization` or `X-API-Key` header.
    Absent,
    /// A header that does not carry a key (another scheme, empty, two different keys).
    Malformed,
    Key(&'a str),
}

/// What a route asks of the caller.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Requirement<'a> {
    /// Anyone: probes and the service description.
    Public,
    /// Any valid key, a tenant's or the admin's: reads that belong to no tenant.
    AnyKey,
    /// The admin key, or a key of the tenant the path names (the HTTP layer's one decoded
    /// reading of it, the same the route then serves).
    Tenant(&'a str),
    /// The admin key only.
    Admin,
}

/// Why a request is refused. The HTTP layer chooses the status; the variants say which.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Denial {
    /// A protected route without a key: 401.
    Missing,
    /// A key that is malformed, unknown or revoked: 401.
    Invalid,
    /// A tenant key on an admin route: 403. The admin routes are documented, so saying
    /// "not with this key" reveals nothing.
    AdminOnly,
    /// A tenant key on another tenant's route: answered exactly as a route that does not
    /// exist, whether or not that tenant does, so tenant ids cannot be probed.
    Hidden,
}

/// The tenant a verified key belongs to, and the key's id (to drop it on revocation).
#[derive(Debug)]
pub(crate) struct Grant {
    pub(crate) tenant: TenantId,
    pub(crate) key_id: String,
}

/// Who the caller proved to be.
#[derive(Debug, Clone)]
pub(crate) enum Identity {
    Admin,
    Tenant(Arc<Grant>),
    /// A key that is not one: wrong shape, unknown, or revoked.
    Invalid,
}

pub(crate) fn authorize(identity: &Identity, requirement: Requirement<'_>) -> Result<(), Denial> {
    match (identity, requirement) {
        (_, Requirement::Public) | (Identity::Admin, _) => Ok(()),
        (Identity::Invalid, _) => Err(Denial::Invalid),
        (Identity::Tenant(_), Requirement::AnyKey) => Ok(()),
        (Identity::Tenant(_), Requirement::Admin) => Err(Denial::AdminOnly),
        (Identity::Tenant(grant), Requirement::Tenant(path_tenant)) => {
            if grant.tenant.as_str() == path_tenant {
                Ok(())
            } else {
                Err(Denial::Hidden)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tenant_key(tenant: &str) -> Identity {
        Identity::Tenant(Arc::new(Grant {
            tenant: TenantId::parse(tenant).unwrap(),
            key_id: "k".into(),
        }))
    }

    #[test]
    fn the_decision_table() {
        use Denial::*;
        let acme = tenant_key("acme");
        let rows: [(&Identity, Requirement<'_>, Result<(), Denial>); 16] = [
            (&Identity::Admin, Requirement::Public, Ok(())),
            (&Identity::Admin, Requirement::AnyKey, Ok(())),
            (&Identity::Admin, Requirement::Tenant("acme"), Ok(())),
            (&Identity::Admin, Requirement::Admin, Ok(())),
            (&acme, Requirement::Public, Ok(())),
            (&acme, Requirement::AnyKey, Ok(())),
            (&acme, Requirement::Tenant("acme"), Ok(())),
            (&acme, Requirement::Tenant("globex"), Err(Hidden)),
            (&acme, Requirement::Admin, Err(AdminOnly)),
            (&Identity::Invalid, Requirement::Public, Ok(())),
            (&Identity::Invalid, Requirement::AnyKey, Err(Invalid)),
            (
                &Identity::Invalid,
                Requirement::Tenant("acme"),
                Err(Invalid),
            ),
            (&Identity::Invalid, Requirement::Admin, Err(Invalid)),
            // The path's tenant as written: case and encoding are not folded.
            (&acme, Requirement::Tenant("ACME"), Err(Hidden)),
            (&acme, Requirement::Tenant("ac%6De"), Err(Hidden)),
            (&acme, Requirement::Tenant("acme "), Err(Hidden)),
        ];
        for (identity, requirement, expected) in rows {
            assert_eq!(
                authorize(identity, requirement),
                expected,
                "{identity:?} on {requirement:?}"
            );
        }
    }
}
