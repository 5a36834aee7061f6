//! What the driver tells us about its client: connections (CMAP events) for the stats'
//! pool figures, and server reachability (SDAM events) so that, while no server answers,
//! operations fail at once with "unavailable" instead of each waiting out server selection.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use dmr_store::{PoolStats, StoreError};
use mongodb::event::EventHandler;
use mongodb::event::cmap::CmapEvent;
use mongodb::event::sdam::SdamEvent;
use mongodb::options::{ClientOptions, ServerAddress};

/// While no server answers, one operation per interval still goes to the driver (whose
/// server selection asks the monitor for an immediate check): recovery never depends on
/// the next heartbeat alone.
const PROBE_INTERVAL: Duration = Duration::from_secs(1);

pub(crate) struct ClientMonitor {
    open: AtomicI64,
    in_use: AtomicI64,
    max_size: AtomicI64,
    /// Whether each known server answered its last check.
    servers: Mutex<HashMap<ServerAddress, bool>>,
    /// False once every known server has failed its check; true again when one answers.
    reachable: AtomicBool,
    origin: Instant,
    /// Milliseconds since `origin` of the last operation let through while unreachable.
    last_probe_ms: AtomicU64,
}

impl ClientMonitor {
    /// Installs the monitor's event handlers on `options`.
    pub(crate) fn attach(options: &mut ClientOptions) -> Arc<Self> {
        let monitor = Arc::new(Self {
            open: AtomicI64::new(0),
            in_use: AtomicI64::new(0),
            max_size: AtomicI64::new(i64::from(options.max_pool_size.unwrap_or(10))),
            servers: Mutex::default(),
            reachable: AtomicBool::new(true),
            origin: Instant::now(),
            last_probe_ms: AtomicU64::new(0),
        });
        let cmap = Arc::clone(&monitor);
        options.cmap_event_handler = Some(EventHandler::callback(move |e| cmap.on_cmap(&e)));
        let sdam = Arc::clone(&monitor);
        options.sdam_event_handler = Some(EventHandler::callback(move |e| sdam.on_sdam(&e)));
        monitor
    }

    fn on_cmap(&self, event: &CmapEvent) {
        match event {
            CmapEvent::ConnectionCreated(_) => self.open.fetch_add(1, Ordering::Relaxed),
            CmapEvent::ConnectionClosed(_) => self.open.fetch_sub(1, Ordering::Relaxed),
            CmapEvent::ConnectionCheckedOut(_) => self.in_use.fetch_add(1, Ordering::Relaxed),
            CmapEvent::ConnectionCheckedIn(_) => self.in_use.fetch_sub(1, Ordering::Relaxed),
            _ => 0,
        };
    }

    fn on_sdam(&self, event: &SdamEvent) {
        let mut servers = self.servers.lock().unwrap_or_else(|p| p.into_inner());
        match event {
            SdamEvent::ServerDescriptionChanged(change) => {
                let answered = change.new_description.server_type() != mongodb::ServerType::Unknown;
                servers.insert(change.address.clone(), answered);
            }
            SdamEvent::ServerClosed(closed) => {
                servers.remove(&closed.address);
            }
            _ => return,
        }
        let reachable = servers.is_empty() || servers.values().any(|answered| *answered);
        let was = self.reachable.swap(reachable, Ordering::Relaxed);
        if was != reachable {
            if reachable {
                tracing::info!("MongoDB is reachable again");
            } else {
                tracing::warn!("no MongoDB server answers; operations fail fast until one does");
            }
        }
    }

    /// Whether an operation should go to the driver now: while a server answers, always;
    /// while none does, one probe per `PROBE_INTERVAL`.
    pub(crate) fn reachable(&self) -> bool {
        if self.reachable.load(Ordering::Relaxed) {
            return true;
        }
        let now = u64::try_from(self.origin.elapsed().as_millis()).unwrap_or(u64::MAX);
        let last = self.last_probe_ms.load(Ordering::Relaxed);
        now.saturating_sub(last) >= PROBE_INTERVAL.as_millis() as u64
            && self
                .last_probe_ms
                .compare_exchange(last, now, Ordering::Relaxed, Ordering::Relaxed)
                .is_ok()
    }

    /// `Unavailable` at once while no server answers (but for the probe `reachable` lets
    /// through).
    pub(crate) fn fail_fast(&self) -> Result<(), StoreError> {
        if self.reachable() {
            Ok(())
        } else {
            Err(StoreError::Unavailable(
                "no MongoDB server answers (failing fast until one does)".to_owned(),
            ))
        }
    }

    pub(crate) fn pool_stats(&self) -> PoolStats {
        let count = |a: &AtomicI64| usize::try_from(a.load(Ordering::Relaxed)).unwrap_or(0);
        let open = count(&self.open);
        let in_use = count(&self.in_use).min(open);
        PoolStats {
            in_use,
            idle: open - in_use,
            max_size: count(&self.max_size),
        }
    }
}
