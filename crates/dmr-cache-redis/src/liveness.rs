//! Whether Redis answers now. The breaker alone cannot say: it moves only when requests
//! call Redis, and L1 hits never do. Two signals can: the backplane subscription, whose
//! connection drops the moment the server dies, and a PING (bounded by the command
//! timeout, at most one in flight, its result reused for up to a second), which also
//! catches a server that hangs with its connections open.

use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use dmr_cache::Liveness;
use redis::aio::MultiplexedConnection;

use crate::recent::Recent;

/// How long a PING's answer stands for the health of Redis.
pub(crate) const PING_MAX_AGE: Duration = Duration::from_secs(1);

pub(crate) struct LivenessState {
    subscribed: AtomicBool,
    /// The last PING's outcome: `Err` holds why it failed.
    ping: Recent<Result<(), String>>,
    /// The PING's own connection (the requests' connection manager has its own pace of
    /// reconnecting, which would make a returned server look dead for longer): opened
    /// when needed, dropped when a PING on it fails. Only the refresh touches it, one at
    /// a time.
    connection: Mutex<Option<MultiplexedConnection>>,
    /// `Liveness::up` as of the last check, for the round-trip-free stats.
    up: AtomicBool,
}

impl LivenessState {
    pub fn new() -> Self {
        Self::with_ping_max_age(PING_MAX_AGE)
    }

    fn with_ping_max_age(max_age: Duration) -> Self {
        Self {
            subscribed: AtomicBool::new(false),
            ping: Recent::new(max_age),
            connection: Mutex::new(None),
            up: AtomicBool::new(false),
        }
    }

    pub fn set_subscribed(&self, subscribed: bool) {
        self.subscribed.store(subscribed, Ordering::Relaxed);
    }

    pub fn subscribed(&self) -> bool {
        self.subscribed.load(Ordering::Relaxed)
    }

    /// Up as of the last check.
    pub fn last_up(&self) -> bool {
        self.up.load(Ordering::Relaxed)
    }

    /// The last PING's outcome if it is fresh, else the outcome of `ping` (run by this
    /// caller while concurrent ones wait for it).
    pub async fn ping(
        &self,
        ping: impl AsyncFnOnce(
            Option<MultiplexedConnection>,
        ) -> (Result<(), String>, Option<MultiplexedConnection>),
    ) -> Result<(), String> {
        self.ping
            .get(
                async || {
                    let held = self.take_connection();
                    let (outcome, kept) = ping(held).await;
                    *self.connection.lock().unwrap_or_else(|p| p.into_inner()) = kept;
                    outcome
                },
                |_| true,
            )
            .await
            .0
    }

    fn take_connection(&self) -> Option<MultiplexedConnection> {
        self.connection
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .take()
    }

    /// Records and returns what the signals add up to.
    pub fn record(&self, ping: &Result<(), String>, breaker_open: bool) -> Liveness {
        let liveness = assess(self.subscribed(), ping, breaker_open);
        self.up.store(liveness.up(), Ordering::Relaxed);
        liveness
    }
}

/// What the subscription, the PING and the breaker add up to.
pub(crate) fn assess(subscribed: bool, ping: &Result<(), String>, breaker_open: bool) -> Liveness {
    let error = match ping {
        Err(e) => Some(format!("PING failed: {e}")),
        Ok(()) if breaker_open => Some("the circuit is open".to_owned()),
        Ok(()) if !subscribed => Some("the backplane subscription is down".to_owned()),
        Ok(()) => None,
    };
    Liveness {
        subscribed,
        answering: ping.is_ok() && !breaker_open,
        error,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn up_takes_the_subscription_the_ping_and_a_closed_circuit() {
        let up = assess(true, &Ok(()), false);
        assert!(up.up());
        assert_eq!(up.error, None);

        let unsubscribed = assess(false, &Ok(()), false);
        assert!(!unsubscribed.up());
        assert!(unsubscribed.answering);
        assert_eq!(
            unsubscribed.error.as_deref(),
            Some("the backplane subscription is down")
        );

        let silent = assess(true, &Err("timed out after 250ms".into()), false);
        assert!(!silent.up());
        assert_eq!(
            silent.error.as_deref(),
            Some("PING failed: timed out after 250ms")
        );

        let open = assess(true, &Ok(()), true);
        assert!(!open.up());
        assert!(!open.answering);
    }

    #[test]
    fn the_ping_failure_is_named_first() {
        let both = assess(false, &Err("connection refused".into()), true);
        assert_eq!(
            both.error.as_deref(),
            Some("PING failed: connection refused")
        );
    }

    #[tokio::test]
    async fn a_failed_ping_stands_while_fresh_and_drops_its_connection() {
        let state = LivenessState::with_ping_max_age(Duration::from_secs(3600));
        let outcome = state
            .ping(async |held| {
                assert!(held.is_none());
                (Err("connection refused".to_owned()), None)
            })
            .await;
        assert_eq!(outcome, Err("connection refused".to_owned()));
        // While fresh, the failure is reused: this refresh does not run.
        let again = state
            .ping(async |_| panic!("a fresh outcome is reused"))
            .await;
        assert_eq!(again, outcome);
        assert!(!state.record(&again, false).up());
        assert!(!state.last_up());
    }

    #[tokio::test]
    async fn the_last_check_is_what_the_stats_read() {
        let state = LivenessState::new();
        state.set_subscribed(true);
        assert!(!state.last_up(), "nothing checked yet: not up");
        assert!(state.record(&Ok(()), false).up());
        assert!(state.last_up());
        state.set_subscribed(false);
        assert!(!state.record(&Ok(()), false).up());
        assert!(!state.last_up());
    }
}
