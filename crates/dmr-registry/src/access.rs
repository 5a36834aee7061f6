//! Authentication and tenant isolation: which presented key may reach which route.
//!
//! The admin key comes from configuration; tenant keys are issued at run time and kept in
//! the store's control plane as hashes, so every instance sharing the store accepts them.
//! A request's check is a hash and an in-memory lookup:
//!
//! - `verified`: digests of keys the store confirmed, with their tenant, for
//!   `cache_ttl`. This bounds how long a key revoked on another instance keeps working
//!   there; the instance that revokes drops it at once.
//! - `unknown`: digests the store did not know, for `cache_ttl`, so a client repeating a
//!   wrong or revoked key costs one store read per TTL, not one per request. A separate,
//!   bounded cache: a flood of random keys churns it but never evicts a verified key.
//! - Misses go to the store through `lookup_concurrency` permits: a flood of distinct
//!   well-formed random keys keeps at most that many store reads in flight (the rest
//!   queue), and malformed keys never reach the store at all.

mod keys;
mod policy;

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime};

use dmr_model::date::format_system_time;
use dmr_store::{ApiKeyRecord, Backend, TenantId};
use moka::sync::Cache;
use serde::Serialize;
use tokio::sync::Semaphore;

pub use keys::{KEY_LEN, KEY_PREFIX, MAX_LABEL_CHARS};
pub use policy::{Credential, Denial, Requirement};

use crate::error::RegistryError;
use keys::KeyDigest;
use policy::{Grant, Identity, authorize};

#[derive(Clone)]
pub struct AccessConfig {
    /// The admin key. `None` turns every check off (development only: the binary refuses
    /// to start in production without one); tenant keys are then not checked either.
    pub admin_key: Option<String>,
    /// How long a store answer about a key is trusted: the bound on a revocation reaching
    /// other instances.
    pub cache_ttl: Duration,
    /// Most verified keys kept in memory.
    pub verified_capacity: u64,
    /// Most unknown digests kept in memory.
    pub unknown_capacity: u64,
    /// Most store reads for keys in flight at once.
    pub lookup_concurrency: usize,
}

impl Default for AccessConfig {
    /// Checks off (no admin key), 30 s trust, bounded caches.
    fn default() -> Self {
        Self {
            admin_key: None,
            cache_ttl: Duration::from_secs(30),
            verified_capacity: 10_000,
            unknown_capacity: 10_000,
            lookup_concurrency: 4,
        }
    }
}

// The admin key never reaches a log line through `{:?}`.
impl std::fmt::Debug for AccessConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AccessConfig")
            .field("admin_key", &self.admin_key.as_ref().map(|_| "<set>"))
            .field("cache_ttl", &self.cache_ttl)
            .field("verified_capacity", &self.verified_capacity)
            .field("unknown_capacity", &self.unknown_capacity)
            .field("lookup_concurrency", &self.lookup_concurrency)
            .finish()
    }
}

/// The answer from memory alone.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    Allow,
    Deny(Denial),
    /// The key is well formed but not cached: `AccessControl::resolve` asks the store.
    AskStore(PendingKey),
}

/// A well-formed key no cache knows, as its digest: what `resolve` needs to finish the
/// decision without reading or hashing the key again.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct PendingKey(KeyDigest);

// Never prints a key digest.
impl std::fmt::Debug for PendingKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("PendingKey(..)")
    }
}

/// A key just issued: the only time the key itself exists outside the client.
pub struct IssuedKey {
    pub key: String,
    pub record: ApiKeyRecord,
}

impl std::fmt::Debug for IssuedKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IssuedKey")
            .field("key", &"<redacted>")
            .field("record", &self.record)
            .finish()
    }
}

/// Cheap to clone; one per process, shared by every request.
#[derive(Clone)]
pub struct AccessControl {
    inner: Arc<Inner>,
}

// Never prints a key digest.
impl std::fmt::Debug for AccessControl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AccessControl")
            .field("enforced", &self.is_enforced())
            .finish_non_exhaustive()
    }
}

struct Inner {
    admin: Option<KeyDigest>,
    backend: Arc<dyn Backend>,
    verified: Cache<KeyDigest, Arc<Grant>>,
    unknown: Cache<KeyDigest, ()>,
    lookups: Semaphore,
    store_lookups: AtomicU64,
}

/// What the access layer holds and how often it asked the store.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AccessStats {
    pub enforced: bool,
    pub verified_keys: u64,
    pub unknown_keys: u64,
    pub store_lookups: u64,
}

impl AccessControl {
    pub fn new(backend: Arc<dyn Backend>, config: AccessConfig) -> Self {
        Self {
            inner: Arc::new(Inner {
                admin: config.admin_key.as_deref().map(keys::digest),
                backend,
                verified: Cache::builder()
                    .max_capacity(config.verified_capacity)
                    .time_to_live(config.cache_ttl)
                    .support_invalidation_closures()
                    .build(),
                unknown: Cache::builder()
                    .max_capacity(config.unknown_capacity)
                    .time_to_live(config.cache_ttl)
                    .build(),
                lookups: Semaphore::new(config.lookup_concurrency.max(1)),
                store_lookups: AtomicU64::new(0),
            }),
        }
    }

    /// False when no admin key is configured: every route is open.
    pub fn is_enforced(&self) -> bool {
        self.inner.admin.is_some()
    }

    /// The decision from memory: the per-request path, one hash of the key. `AskStore`
    /// only for a well-formed key this instance has not seen within the cache TTL.
    pub fn check_cached(
        &self,
        credential: Credential<'_>,
        requirement: Requirement<'_>,
    ) -> Verdict {
        let Some(admin) = &self.inner.admin else {
            return Verdict::Allow;
        };
        if requirement == Requirement::Public {
            return Verdict::Allow;
        }
        let key = match credential {
            Credential::Absent => return Verdict::Deny(Denial::Missing),
            Credential::Malformed => return Verdict::Deny(Denial::Invalid),
            Credential::Key(key) => key,
        };
        let digest = keys::digest(key);
        let identity = if keys::constant_time_eq(&digest, admin) {
            Identity::Admin
        } else if !keys::is_tenant_key_shaped(key) {
            Identity::Invalid
        } else if let Some(grant) = self.inner.verified.get(&digest) {
            Identity::Tenant(grant)
        } else if self.inner.unknown.contains_key(&digest) {
            Identity::Invalid
        } else {
            return Verdict::AskStore(PendingKey(digest));
        };
        match authorize(&identity, requirement) {
            Ok(()) => Verdict::Allow,
            Err(denial) => Verdict::Deny(denial),
        }
    }

    /// The whole decision: from memory, else from the store (and then cached).
    pub async fn check(
        &self,
        credential: Credential<'_>,
        requirement: Requirement<'_>,
    ) -> Result<Result<(), Denial>, RegistryError> {
        match self.check_cached(credential, requirement) {
            Verdict::Allow => Ok(Ok(())),
            Verdict::Deny(denial) => Ok(Err(denial)),
            Verdict::AskStore(pending) => self.resolve(pending, requirement).await,
        }
    }

    /// Finishes a decision `check_cached` could not make from memory: one store read for
    /// the key (then cached), and the requirement decided as `check_cached` would have.
    pub async fn resolve(
        &self,
        pending: PendingKey,
        requirement: Requirement<'_>,
    ) -> Result<Result<(), Denial>, RegistryError> {
        let identity = self.lookup(pending.0).await?;
        Ok(authorize(&identity, requirement))
    }

    /// Asks the store about a well-formed key missing from both caches.
    async fn lookup(&self, digest: KeyDigest) -> Result<Identity, RegistryError> {
        let inner = &self.inner;
        let _permit = inner
            .lookups
            .acquire()
            .await
            .map_err(|_| RegistryError::Internal("key lookups stopped".to_owned()))?;
        // Whoever held the permit before may have looked this very key up.
        if let Some(grant) = inner.verified.get(&digest) {
            return Ok(Identity::Tenant(grant));
        }
        if inner.unknown.contains_key(&digest) {
            return Ok(Identity::Invalid);
        }
        let hash = keys::hex(&digest);
        inner.store_lookups.fetch_add(1, Ordering::Relaxed);
        let found = inner.backend.find_api_key(&hash).await?;
        let grant = found
            .filter(|record| record.hash == hash)
            .and_then(|record| match TenantId::parse(&record.tenant_id) {
                Ok(tenant) => Some(Grant {
                    tenant,
                    key_id: record.id,
                }),
                Err(e) => {
                    tracing::error!(key_id = %record.id, error = %e, "stored API key names an invalid tenant; refused");
                    None
                }
            });
        Ok(match grant {
            Some(grant) => {
                let grant = Arc::new(grant);
                inner.verified.insert(digest, Arc::clone(&grant));
                Identity::Tenant(grant)
            }
            None => {
                inner.unknown.insert(digest, ());
                Identity::Invalid
            }
        })
    }

    /// Cache sizes (after pending evictions) and the store reads so far.
    pub fn stats(&self) -> AccessStats {
        let inner = &self.inner;
        inner.verified.run_pending_tasks();
        inner.unknown.run_pending_tasks();
        AccessStats {
            enforced: self.is_enforced(),
            verified_keys: inner.verified.entry_count(),
            unknown_keys: inner.unknown.entry_count(),
            store_lookups: inner.store_lookups.load(Ordering::Relaxed),
        }
    }

    /// Issues a key for the tenant. The key is returned once and never stored.
    pub async fn issue_key(
        &self,
        tenant: &TenantId,
        label: Option<String>,
    ) -> Result<IssuedKey, RegistryError> {
        if let Some(label) = &label {
            keys::check_label(label).map_err(RegistryError::InvalidKeyLabel)?;
        }
        let randomness = |e: getrandom::Error| {
            RegistryError::Internal(format!("the system random source failed: {e}"))
        };
        let key = keys::generate().map_err(randomness)?;
        let digest = keys::digest(&key);
        let record = ApiKeyRecord {
            id: keys::new_key_id().map_err(randomness)?,
            tenant_id: tenant.as_str().to_owned(),
            hash: keys::hex(&digest),
            label,
            created_at: format_system_time(SystemTime::now()),
        };
        self.inner.backend.insert_api_key(&record).await?;
        self.inner.verified.insert(
            digest,
            Arc::new(Grant {
                tenant: tenant.clone(),
                key_id: record.id.clone(),
            }),
        );
        tracing::info!(tenant = %tenant, key_id = %record.id, "API key issued");
        Ok(IssuedKey { key, record })
    }

    /// The tenant's keys (ids, labels, creation times; never a key), oldest first.
    pub async fn list_keys(&self, tenant: &TenantId) -> Result<Vec<ApiKeyRecord>, RegistryError> {
        let mut records = self.inner.backend.list_api_keys(tenant).await?;
        records.sort_by(|a, b| (&a.created_at, &a.id).cmp(&(&b.created_at, &b.id)));
        Ok(records)
    }

    /// Revokes a key: at once on this instance, within the cache TTL on the others.
    /// False when the tenant has no key with this id.
    pub async fn revoke_key(&self, tenant: &TenantId, id: &str) -> Result<bool, RegistryError> {
        let deleted = self.inner.backend.delete_api_key(tenant, id).await?;
        if deleted {
            tracing::info!(tenant = %tenant, key_id = %id, "API key revoked");
            let (tenant, id) = (tenant.clone(), id.to_owned());
            // Only fails without closure support, which `new` enables.
            let _ = self.inner.verified.invalidate_entries_if(move |_, grant| {
                grant.tenant == tenant && grant.key_id == id
            });
        }
        Ok(deleted)
    }
}
