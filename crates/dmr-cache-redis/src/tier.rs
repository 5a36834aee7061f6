use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant, SystemTime};

use async_trait::async_trait;
use dmr_cache::{
    Awaited, BackplaneEvent, BackplaneMessage, CircuitBreaker, FleetLock, Invalidation, KeyCount,
    Liveness, SharedTier, TierError, TierStats,
};
use redis::aio::{ConnectionManager, ConnectionManagerConfig, MultiplexedConnection};
use redis::{AsyncCommands, AsyncConnectionConfig};
use tokio::sync::mpsc;

use crate::config::RedisTierConfig;
use crate::liveness::LivenessState;
use crate::recent::Recent;
use crate::scripts;
use crate::subscriber;

/// How long an L2 entry count stands: counting walks the tenant hashes, so stats polled
/// every second do not walk them every second.
pub(crate) const KEY_COUNT_MAX_AGE: Duration = Duration::from_secs(5);
/// SCAN steps (of `SCAN_BATCH` keys each) one count takes at most; past them the count
/// is reported as capped.
pub(crate) const KEY_COUNT_MAX_STEPS: usize = 40;
const SCAN_BATCH: u64 = 500;

/// The shared tier on one Redis server (or a proxy in front of many).
pub struct RedisTier {
    pub(crate) config: RedisTierConfig,
    instance_id: String,
    connection: ConnectionManager,
    /// For the health PING's own connection.
    client: redis::Client,
    breaker: CircuitBreaker,
    pub(crate) counters: Counters,
    pub(crate) liveness: LivenessState,
    /// The last count of L2 entries (only successful counts are kept) and whether it was
    /// capped.
    key_count: Recent<(Result<u64, TierError>, bool)>,
}

#[derive(Default)]
pub(crate) struct Counters {
    hits: AtomicU64,
    misses: AtomicU64,
    errors: AtomicU64,
    calls: AtomicU64,
    latency_total_us: AtomicU64,
    latency_max_us: AtomicU64,
    sent: AtomicU64,
    pub(crate) received: AtomicU64,
    pub(crate) subscriptions: AtomicU64,
}

fn bump(counter: &AtomicU64) {
    counter.fetch_add(1, Ordering::Relaxed);
}

impl RedisTier {
    /// Builds the tier without waiting for Redis: a server that is down at start-up makes
    /// the service degraded, not absent. Spawns the subscriber and the breaker's probe;
    /// backplane events arrive on the returned receiver.
    pub fn start(
        config: RedisTierConfig,
        instance_id: String,
    ) -> Result<(Arc<Self>, mpsc::UnboundedReceiver<BackplaneEvent>), String> {
        // rediss:// uses rustls; pick its crypto provider once per process (a second call
        // finds one installed and changes nothing).
        let _ = rustls::crypto::ring::default_provider().install_default();
        let client = redis::Client::open(config.url.as_str())
            .map_err(|e| format!("REDIS_URL/REDIS_HOST: {e}"))?;
        let manager_config = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(config.op_timeout))
            .set_response_timeout(Some(config.op_timeout))
            .set_number_of_retries(1)
            .set_max_delay(Duration::from_millis(500));
        let connection = ConnectionManager::new_lazy_with_config(client.clone(), manager_config)
            .map_err(|e| format!("Redis: {e}"))?;
        let tier = Arc::new(Self {
            breaker: CircuitBreaker::new(config.breaker_threshold),
            config,
            instance_id,
            connection,
            client: client.clone(),
            counters: Counters::default(),
            liveness: LivenessState::new(),
            key_count: Recent::new(KEY_COUNT_MAX_AGE),
        });
        let (events, receiver) = mpsc::unbounded_channel();
        tokio::spawn(subscriber::run(Arc::downgrade(&tier), client, events));
        tokio::spawn(probe(Arc::downgrade(&tier)));
        Ok((tier, receiver))
    }

    fn key(&self, parts: &[&str]) -> String {
        let mut key = self.config.key_prefix.clone();
        for part in parts {
            key.push(':');
            key.push_str(part);
        }
        key
    }

    pub(crate) fn channel(&self) -> String {
        self.key(&["backplane"])
    }

    fn tenant_hash(&self, tenant: &str) -> String {
        self.key(&["t", tenant])
    }

    fn global_epoch(&self) -> String {
        self.key(&["epoch"])
    }

    fn tenant_epoch(&self, tenant: &str) -> String {
        self.key(&["epoch", "t", tenant])
    }

    fn lock_key(&self, tenant: &str, entry: &str) -> String {
        self.key(&["lock", tenant, entry])
    }

    /// Every Redis call goes through here: the breaker may refuse it, the timeout bounds
    /// it, and its outcome feeds the breaker and the latency figures.
    async fn call<T>(
        &self,
        work: impl Future<Output = redis::RedisResult<T>>,
    ) -> Result<T, TierError> {
        if !self.breaker.allows() {
            return Err(TierError::CircuitOpen);
        }
        let started = Instant::now();
        let outcome = tokio::time::timeout(self.config.op_timeout, work).await;
        let elapsed_us = u64::try_from(started.elapsed().as_micros()).unwrap_or(u64::MAX);
        self.counters.calls.fetch_add(1, Ordering::Relaxed);
        self.counters
            .latency_total_us
            .fetch_add(elapsed_us, Ordering::Relaxed);
        self.counters
            .latency_max_us
            .fetch_max(elapsed_us, Ordering::Relaxed);
        let error = match outcome {
            Ok(Ok(value)) => {
                self.breaker.record_success();
                return Ok(value);
            }
            Ok(Err(e)) => TierError::Failed(e.to_string()),
            Err(_) => TierError::Timeout(self.config.op_timeout),
        };
        bump(&self.counters.errors);
        if self.breaker.record_failure(Instant::now()) {
            tracing::warn!(error = %error, "shared cache circuit opened: serving from L1 and the store");
        }
        Err(error)
    }

    /// One PING, past the breaker: what the probe uses to close it.
    async fn ping(&self) -> bool {
        let mut connection = self.connection.clone();
        let pong = tokio::time::timeout(
            self.config.op_timeout,
            redis::cmd("PING").query_async::<String>(&mut connection),
        )
        .await;
        matches!(pong, Ok(Ok(_)))
    }

    /// One SCAN step over the tenant hashes under the prefix (never KEYS, which blocks
    /// the server): the next cursor (0 when done) and a batch of keys.
    async fn scan_tenant_hashes(&self, cursor: u64) -> Result<(u64, Vec<String>), TierError> {
        let mut connection = self.connection.clone();
        self.call(
            redis::cmd("SCAN")
                .arg(cursor)
                .arg("MATCH")
                .arg(self.key(&["t", "*"]))
                .arg("COUNT")
                .arg(SCAN_BATCH)
                .query_async(&mut connection),
        )
        .await
    }

    /// An L2 entry younger than the L2 TTL, without counting a hit or a miss.
    async fn fetch(&self, tenant: &str, entry: &str) -> Result<Option<Vec<u8>>, TierError> {
        let mut connection = self.connection.clone();
        let stored: Option<Vec<u8>> = self
            .call(connection.hget(self.tenant_hash(tenant), entry))
            .await?;
        Ok(stored.and_then(|bytes| {
            let (stamp, value) = bytes.split_at_checked(8)?;
            let stored_at = u64::from_be_bytes(stamp.try_into().ok()?);
            let age = Duration::from_millis(now_millis().saturating_sub(stored_at));
            (age <= self.config.l2_ttl).then(|| value.to_vec())
        }))
    }

    /// One health PING on its own connection (`held`, or a new one), bounded by the
    /// command timeout; the connection comes back only if the PING answered.
    async fn ping_on_own_connection(
        &self,
        held: Option<MultiplexedConnection>,
    ) -> (Result<(), String>, Option<MultiplexedConnection>) {
        let timeout = self.config.op_timeout;
        let answered = tokio::time::timeout(timeout, async {
            let mut connection = match held {
                Some(connection) => connection,
                None => {
                    let config = AsyncConnectionConfig::new()
                        .set_connection_timeout(Some(timeout))
                        .set_response_timeout(Some(timeout));
                    self.client
                        .get_multiplexed_async_connection_with_config(&config)
                        .await?
                }
            };
            redis::cmd("PING")
                .query_async::<String>(&mut connection)
                .await?;
            Ok::<_, redis::RedisError>(connection)
        })
        .await;
        match answered {
            Ok(Ok(connection)) => (Ok(()), Some(connection)),
            Ok(Err(e)) => (Err(e.to_string()), None),
            Err(_) => (Err(format!("no answer within {timeout:?}")), None),
        }
    }

    /// Counts the fields of the tenant hashes, for at most `KEY_COUNT_MAX_STEPS` SCAN
    /// steps: the total, and whether the walk stopped before its end.
    async fn count_entries(&self) -> (Result<u64, TierError>, bool) {
        let mut connection = self.connection.clone();
        let (mut cursor, mut total) = (0, 0);
        for _ in 0..KEY_COUNT_MAX_STEPS {
            let (next, keys) = match self.scan_tenant_hashes(cursor).await {
                Ok(step) => step,
                Err(e) => return (Err(e), false),
            };
            if !keys.is_empty() {
                let mut lengths = redis::pipe();
                for key in &keys {
                    lengths.hlen(key);
                }
                match self
                    .call(lengths.query_async::<Vec<u64>>(&mut connection))
                    .await
                {
                    Ok(lengths) => total += lengths.iter().sum::<u64>(),
                    Err(e) => return (Err(e), false),
                }
            }
            if next == 0 {
                return (Ok(total), false);
            }
            cursor = next;
        }
        (Ok(total), true)
    }

    pub(crate) fn instance_id_owned(&self) -> String {
        self.instance_id.clone()
    }

    pub(crate) fn breaker_open(&self) -> bool {
        !self.breaker.allows()
    }
}

/// While the circuit is open, PING every probe interval; close it on the first answer.
async fn probe(tier: std::sync::Weak<RedisTier>) {
    loop {
        let Some(interval) = tier.upgrade().map(|t| t.config.probe_interval) else {
            return;
        };
        tokio::time::sleep(interval).await;
        let Some(tier) = tier.upgrade() else { return };
        if tier.breaker_open() && tier.ping().await {
            tier.breaker.record_success();
            tracing::info!("shared cache circuit closed: Redis answers again");
        }
    }
}

fn now_millis() -> u64 {
    SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .map(|d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
        .unwrap_or_default()
}

#[async_trait]
impl SharedTier for RedisTier {
    fn instance_id(&self) -> &str {
        &self.instance_id
    }

    async fn get(&self, tenant: &str, entry: &str) -> Result<Option<Vec<u8>>, TierError> {
        let fresh = self.fetch(tenant, entry).await?;
        bump(if fresh.is_some() {
            &self.counters.hits
        } else {
            &self.counters.misses
        });
        Ok(fresh)
    }

    async fn await_entry(
        &self,
        tenant: &str,
        entry: &str,
        max_wait: Duration,
    ) -> Result<Awaited, TierError> {
        let deadline = Instant::now() + max_wait;
        let lock = self.lock_key(tenant, entry);
        let mut pause = Duration::from_millis(5);
        loop {
            if let Some(value) = self.fetch(tenant, entry).await? {
                bump(&self.counters.hits);
                return Ok(Awaited::Ready(value));
            }
            let mut connection = self.connection.clone();
            let held: bool = self.call(connection.exists(&lock)).await?;
            if !held {
                // The holder may have stored just before releasing.
                return Ok(match self.fetch(tenant, entry).await? {
                    Some(value) => Awaited::Ready(value),
                    None => Awaited::Released,
                });
            }
            if Instant::now() >= deadline {
                return Ok(Awaited::TimedOut);
            }
            tokio::time::sleep(pause).await;
            pause = (pause * 2).min(Duration::from_millis(100));
        }
    }

    async fn put(&self, lock: &FleetLock, value: &[u8]) -> Result<bool, TierError> {
        let mut stamped = Vec::with_capacity(8 + value.len());
        stamped.extend_from_slice(&now_millis().to_be_bytes());
        stamped.extend_from_slice(value);
        let ttl_ms = u64::try_from(self.config.l2_ttl.as_millis()).unwrap_or(u64::MAX);
        let mut connection = self.connection.clone();
        let mut invocation = scripts::PUT.prepare_invoke();
        invocation
            .key(self.lock_key(&lock.tenant, &lock.entry))
            .key(self.global_epoch())
            .key(self.tenant_epoch(&lock.tenant))
            .key(self.tenant_hash(&lock.tenant))
            .arg(lock.token)
            .arg(lock.epochs.0)
            .arg(lock.epochs.1)
            .arg(&lock.entry)
            .arg(stamped)
            .arg(ttl_ms);
        let stored: i64 = self.call(invocation.invoke_async(&mut connection)).await?;
        Ok(stored == 1)
    }

    async fn try_lock(&self, tenant: &str, entry: &str) -> Result<Option<FleetLock>, TierError> {
        let ttl_ms = u64::try_from(self.config.lock_ttl.as_millis()).unwrap_or(u64::MAX);
        let mut connection = self.connection.clone();
        let mut invocation = scripts::LOCK.prepare_invoke();
        invocation
            .key(self.lock_key(tenant, entry))
            .key(self.key(&["fence"]))
            .key(self.global_epoch())
            .key(self.tenant_epoch(tenant))
            .arg(ttl_ms);
        let taken: Option<(u64, u64, u64)> =
            self.call(invocation.invoke_async(&mut connection)).await?;
        Ok(taken.map(|(token, global, tenant_epoch)| FleetLock {
            tenant: tenant.to_owned(),
            entry: entry.to_owned(),
            token,
            epochs: (global, tenant_epoch),
        }))
    }

    async fn unlock(&self, lock: &FleetLock) -> Result<(), TierError> {
        let mut connection = self.connection.clone();
        let mut invocation = scripts::UNLOCK.prepare_invoke();
        invocation
            .key(self.lock_key(&lock.tenant, &lock.entry))
            .arg(lock.token);
        let _: i64 = self.call(invocation.invoke_async(&mut connection)).await?;
        Ok(())
    }

    async fn invalidate_tenant(&self, tenant: &str) -> Result<(), TierError> {
        let mut connection = self.connection.clone();
        let mut pipe = redis::pipe();
        pipe.atomic()
            .incr(self.tenant_epoch(tenant), 1)
            .ignore()
            .del(self.tenant_hash(tenant))
            .ignore();
        self.call(pipe.query_async::<()>(&mut connection)).await
    }

    async fn invalidate_all(&self) -> Result<(), TierError> {
        let mut connection = self.connection.clone();
        // The epoch first: from here on, compiles that started earlier cannot store.
        let _: u64 = self.call(connection.incr(self.global_epoch(), 1)).await?;
        let mut cursor = 0;
        loop {
            let (next, keys) = self.scan_tenant_hashes(cursor).await?;
            if !keys.is_empty() {
                let _: u64 = self
                    .call(redis::cmd("UNLINK").arg(&keys).query_async(&mut connection))
                    .await?;
            }
            if next == 0 {
                return Ok(());
            }
            cursor = next;
        }
    }

    async fn publish(&self, invalidation: &Invalidation) -> Result<(), TierError> {
        let message = BackplaneMessage {
            sender: self.instance_id.clone(),
            invalidation: invalidation.clone(),
        };
        let payload =
            serde_json::to_string(&message).map_err(|e| TierError::Failed(e.to_string()))?;
        let mut connection = self.connection.clone();
        let _: u64 = self
            .call(connection.publish(self.channel(), payload))
            .await?;
        bump(&self.counters.sent);
        Ok(())
    }

    async fn key_count(&self) -> KeyCount {
        // Not even tried while Redis is known to be down: the answer would be a timeout.
        if self.breaker_open() {
            return KeyCount {
                entries: Err(TierError::CircuitOpen),
                age: Duration::ZERO,
                capped: false,
            };
        }
        if !self.liveness.last_up() {
            return KeyCount {
                entries: Err(TierError::Failed(
                    "Redis is not answering (see the health check)".to_owned(),
                )),
                age: Duration::ZERO,
                capped: false,
            };
        }
        let ((entries, capped), age) = self
            .key_count
            .get(
                async || self.count_entries().await,
                |(entries, _)| entries.is_ok(),
            )
            .await;
        KeyCount {
            entries,
            age,
            capped,
        }
    }

    async fn liveness(&self) -> Liveness {
        let ping = self
            .liveness
            .ping(async |held| self.ping_on_own_connection(held).await)
            .await;
        // Redis answers: requests may call it again without waiting for the probe.
        if ping.is_ok() && self.breaker_open() {
            self.breaker.record_success();
            tracing::info!("shared cache circuit closed: Redis answers the health check");
        }
        self.liveness.record(&ping, self.breaker_open())
    }

    fn stats(&self) -> TierStats {
        let c = &self.counters;
        let calls = c.calls.load(Ordering::Relaxed).max(1);
        TierStats {
            connected: self.liveness.last_up() && self.breaker.allows(),
            subscribed: self.liveness.subscribed(),
            breaker: self.breaker.state().as_str(),
            hits: c.hits.load(Ordering::Relaxed),
            misses: c.misses.load(Ordering::Relaxed),
            errors: c.errors.load(Ordering::Relaxed),
            latency_avg_ms: c.latency_total_us.load(Ordering::Relaxed) as f64
                / calls as f64
                / 1000.0,
            latency_max_ms: c.latency_max_us.load(Ordering::Relaxed) as f64 / 1000.0,
            backplane_sent: c.sent.load(Ordering::Relaxed),
            backplane_received: c.received.load(Ordering::Relaxed),
            subscriptions: c.subscriptions.load(Ordering::Relaxed),
        }
    }
}
