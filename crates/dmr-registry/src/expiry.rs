//! TTL indexes on engines that do not expire documents themselves (SQLite): a periodic
//! sweep deletes, in every open tenant store, the documents whose indexed date is older
//! than the index's `expireAfterSeconds` — what MongoDB's TTL monitor does every minute.

use std::time::{Duration, SystemTime};

use dmr_model::date::format_system_time;
use dmr_store::StoreError;

use crate::registry::Registry;

impl Registry {
    /// One sweep over the open tenants; returns how many documents were deleted. A tenant
    /// whose collection was never compiled has no table yet: nothing to expire there.
    pub async fn expire_documents(&self) -> u64 {
        let models = self.models();
        let ttl: Vec<_> = models
            .iter()
            .flat_map(|def| {
                def.indexes.iter().filter_map(move |index| {
                    Some((
                        def,
                        index.expire_after_seconds?,
                        index.keys.first()?.path.clone(),
                    ))
                })
            })
            .collect();
        if ttl.is_empty() {
            return 0;
        }
        let now = SystemTime::now();
        let mut deleted = 0;
        for open in self.inner.connections.open_tenants() {
            for (def, seconds, path) in &ttl {
                let cutoff = format_system_time(
                    now.checked_sub(Duration::from_secs(*seconds))
                        .unwrap_or(SystemTime::UNIX_EPOCH),
                );
                match open
                    .store
                    .expire(&self.inner.specs.get(def), path, &cutoff)
                    .await
                {
                    Ok(0) => {}
                    Ok(n) => {
                        tracing::info!(tenant = %open.tenant, model = %def.name, path = %path, deleted = n, "expired documents deleted");
                        deleted += n;
                    }
                    Err(StoreError::Internal(e)) if e.contains("no such table") => {}
                    Err(e) => {
                        tracing::warn!(tenant = %open.tenant, model = %def.name, error = %e, "TTL sweep failed")
                    }
                }
            }
        }
        deleted
    }
}
