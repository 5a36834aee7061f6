//! A circuit breaker: after `threshold` consecutive failures the circuit opens and calls
//! fail fast; a probe (a cheap call, made by whoever owns the breaker) closes it again on
//! success. Time is passed in, so the state machine is testable without sleeping.

use std::sync::Mutex;
use std::time::{Duration, Instant};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BreakerState {
    Closed,
    Open,
}

impl BreakerState {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Closed => "closed",
            Self::Open => "open",
        }
    }
}

#[derive(Debug)]
pub struct CircuitBreaker {
    threshold: u32,
    inner: Mutex<Inner>,
}

#[derive(Debug)]
struct Inner {
    state: BreakerState,
    consecutive_failures: u32,
    opened_at: Option<Instant>,
}

impl CircuitBreaker {
    pub fn new(threshold: u32) -> Self {
        Self {
            threshold: threshold.max(1),
            inner: Mutex::new(Inner {
                state: BreakerState::Closed,
                consecutive_failures: 0,
                opened_at: None,
            }),
        }
    }

    fn inner(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub fn state(&self) -> BreakerState {
        self.inner().state
    }

    /// Whether a call may go through now.
    pub fn allows(&self) -> bool {
        self.state() == BreakerState::Closed
    }

    pub fn record_success(&self) {
        let mut inner = self.inner();
        inner.consecutive_failures = 0;
        inner.state = BreakerState::Closed;
        inner.opened_at = None;
    }

    /// Returns true when this failure opened the circuit.
    pub fn record_failure(&self, now: Instant) -> bool {
        let mut inner = self.inner();
        inner.consecutive_failures = inner.consecutive_failures.saturating_add(1);
        if inner.state == BreakerState::Closed && inner.consecutive_failures >= self.threshold {
            inner.state = BreakerState::Open;
            inner.opened_at = Some(now);
            return true;
        }
        false
    }

    /// How long the circuit has been open.
    pub fn open_for(&self, now: Instant) -> Option<Duration> {
        self.inner()
            .opened_at
            .map(|at| now.saturating_duration_since(at))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn opens_after_threshold_consecutive_failures_and_closes_on_success() {
        let breaker = CircuitBreaker::new(3);
        let t0 = Instant::now();
        assert!(!breaker.record_failure(t0));
        breaker.record_success();
        assert!(!breaker.record_failure(t0));
        assert!(!breaker.record_failure(t0));
        assert!(breaker.allows(), "two in a row after a success");
        assert!(
            breaker.record_failure(t0),
            "the third consecutive failure opens"
        );
        assert!(!breaker.allows());
        assert!(!breaker.record_failure(t0), "already open");
        assert_eq!(
            breaker.open_for(t0 + Duration::from_secs(2)),
            Some(Duration::from_secs(2))
        );
        breaker.record_success();
        assert_eq!(breaker.state(), BreakerState::Closed);
        assert_eq!(breaker.open_for(t0), None);
    }
}
