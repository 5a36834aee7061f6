//! The open-file budget: how many file descriptors the settings can make the process hold
//! at once, checked at start-up against `RLIMIT_NOFILE`. The soft limit is raised to the
//! hard one (many systems start services at a soft 1024 with a far higher hard limit); a
//! budget past the hard limit is a warning that names the numbers and what to change, since
//! the process runs until that many tenants and connections are actually open.

use crate::config::Config;

/// Descriptors the process holds whatever the load: the listeners, logs, runtime's
/// epoll and event fds, the control database, Redis and the metrics listener, with room.
const RESERVE: u64 = 64;

/// What the settings allow, by part.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FdBudget {
    /// `MAX_CONNECTIONS`: one socket each.
    pub connections: u64,
    /// Tenant stores open at once (`MAX_OPEN_TENANTS` on SQLite; on MongoDB the tenants
    /// share one pool, counted once).
    pub tenant_stores: u64,
    /// Descriptors one open tenant store holds at most: on SQLite, each pooled connection
    /// holds the file and its WAL, and the process one shared-memory file per tenant
    /// (2 x SQLITE_POOL_SIZE + 1, as counted in /proc/PID/fd); on MongoDB, the pool's
    /// sockets.
    pub per_tenant_store: u64,
    pub reserve: u64,
}

impl FdBudget {
    pub fn of(config: &Config) -> Self {
        let (tenant_stores, per_tenant_store) = match &config.mongodb.uri {
            None => (
                config.max_open_tenants as u64,
                2 * config.sqlite_pool_size as u64 + 1,
            ),
            // Tenants on a dedicated URI get clients of their own; they are few, and
            // the reserve covers a handful.
            Some(_) => (1, config.mongodb.pool_size),
        };
        Self {
            connections: config.connections.max_connections as u64,
            tenant_stores,
            per_tenant_store,
            reserve: RESERVE,
        }
    }

    pub fn total(&self) -> u64 {
        self.connections + self.tenant_stores * self.per_tenant_store + self.reserve
    }
}

/// What start-up did about the limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FdLimit {
    /// The soft limit already covers the budget.
    Enough { soft: u64 },
    /// The soft limit was raised (to the hard one) and now covers it.
    Raised { from: u64, to: u64 },
    /// Even the hard limit is below the budget; the soft limit is as high as it goes.
    Short { soft: u64, hard: u64 },
}

/// The decision, on numbers alone: what the soft limit should become.
pub fn decide(need: u64, soft: u64, hard: u64) -> FdLimit {
    if soft >= need {
        FdLimit::Enough { soft }
    } else if hard >= need {
        FdLimit::Raised {
            from: soft,
            to: hard,
        }
    } else {
        FdLimit::Short { soft, hard }
    }
}

/// Reads `RLIMIT_NOFILE`, raises the soft limit to the hard one when the budget needs it,
/// and logs the outcome.
pub fn ensure(config: &Config) {
    let budget = FdBudget::of(config);
    let need = budget.total();
    let Some((soft, hard)) = read_limit() else {
        tracing::warn!("cannot read RLIMIT_NOFILE; the open-file budget is not checked");
        return;
    };
    let outcome = match decide(need, soft, hard) {
        FdLimit::Short { soft, hard } if soft < hard => {
            // Raise as far as it goes: short either way, but less short.
            if set_soft_limit(hard, hard) {
                FdLimit::Short { soft: hard, hard }
            } else {
                FdLimit::Short { soft, hard }
            }
        }
        FdLimit::Raised { from, to } if !set_soft_limit(to, hard) => {
            FdLimit::Short { soft: from, hard }
        }
        outcome => outcome,
    };
    let parts = format_args!(
        "MAX_CONNECTIONS {} + {} tenant store(s) x {} + {} reserved",
        budget.connections, budget.tenant_stores, budget.per_tenant_store, budget.reserve
    );
    match outcome {
        FdLimit::Enough { soft } => {
            tracing::debug!(need, soft, "open-file limit covers the settings ({parts})")
        }
        FdLimit::Raised { from, to } => tracing::info!(
            need,
            from,
            to,
            "open-file limit raised from {from} to {to} for the settings ({parts} = {need})"
        ),
        FdLimit::Short { soft, hard } => tracing::warn!(
            need,
            soft,
            hard,
            "the settings may need {need} open files ({parts}) but RLIMIT_NOFILE allows {soft} \
             (hard limit {hard}): lower MAX_OPEN_TENANTS, SQLITE_POOL_SIZE or MAX_CONNECTIONS, \
             or raise the limit (systemd LimitNOFILE=, docker --ulimit nofile=, ulimit -n); \
             past it, new connections and tenant stores fail"
        ),
    }
}

fn read_limit() -> Option<(u64, u64)> {
    let mut limit = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit writes the struct it is given and nothing else.
    let read = unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) };
    (read == 0).then_some((limit.rlim_cur, limit.rlim_max))
}

fn set_soft_limit(soft: u64, hard: u64) -> bool {
    let limit = libc::rlimit {
        rlim_cur: soft,
        rlim_max: hard,
    };
    // SAFETY: setrlimit reads the struct it is given; raising the soft limit up to the
    // hard one needs no privilege.
    unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &limit) == 0 }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_soft_limit_is_raised_only_when_needed_and_only_to_the_hard_one() {
        assert_eq!(decide(900, 1024, 4096), FdLimit::Enough { soft: 1024 });
        assert_eq!(
            decide(2000, 1024, 4096),
            FdLimit::Raised {
                from: 1024,
                to: 4096
            }
        );
        assert_eq!(
            decide(13_160, 1024, 4096),
            FdLimit::Short {
                soft: 1024,
                hard: 4096
            }
        );
    }

    #[test]
    fn the_default_settings_budget_counts_every_part() {
        let config =
            Config::from_vars(&crate::config::merge_sources(&[], &Default::default(), &[]))
                .unwrap();
        let budget = FdBudget::of(&config);
        assert_eq!(
            budget,
            FdBudget {
                connections: 4096,
                tenant_stores: 1000,
                per_tenant_store: 9,
                reserve: RESERVE,
            }
        );
        assert_eq!(budget.total(), 4096 + 9000 + 64);
    }
}
