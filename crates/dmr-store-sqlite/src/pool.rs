//! A small connection pool for one SQLite file. The pools that exist as crates pin older
//! rusqlite versions (only one libsqlite3-sys may link), and what we need is tiny: a
//! semaphore bounding concurrent use, a stack of idle connections, lazy growth, close.

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use dmr_store::{PoolStats, StoreError};
use rusqlite::{Connection, OpenFlags};
use tokio::sync::Semaphore;

pub(crate) struct Pool {
    path: PathBuf,
    busy_timeout: Duration,
    max_size: usize,
    idle: Mutex<Vec<Connection>>,
    permits: Arc<Semaphore>,
    closed: AtomicBool,
}

impl Pool {
    /// Opens the file (creating it), switches it to WAL and keeps that first connection.
    pub(crate) async fn open(
        path: PathBuf,
        max_size: usize,
        busy_timeout: Duration,
    ) -> Result<Arc<Self>, StoreError> {
        let first = {
            let path = path.clone();
            run_blocking(move || open_connection(&path, busy_timeout)).await??
        };
        Ok(Arc::new(Self {
            path,
            busy_timeout,
            max_size,
            idle: Mutex::new(vec![first]),
            permits: Arc::new(Semaphore::new(max_size)),
            closed: AtomicBool::new(false),
        }))
    }

    /// Runs `work` on a pooled connection on the blocking thread pool.
    pub(crate) async fn with_conn<T, F>(self: &Arc<Self>, work: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&mut Connection) -> Result<T, StoreError> + Send + 'static,
    {
        let permit = Arc::clone(&self.permits)
            .acquire_owned()
            .await
            .map_err(|_| StoreError::Closed)?;
        if self.closed.load(Ordering::Acquire) {
            return Err(StoreError::Closed);
        }
        let pooled = self.idle().pop();
        let pool = Arc::clone(self);
        run_blocking(move || {
            let mut conn = match pooled {
                Some(conn) => conn,
                None => open_connection(&pool.path, pool.busy_timeout)?,
            };
            let result = work(&mut conn);
            if !pool.closed.load(Ordering::Acquire) {
                pool.idle().push(conn);
            }
            drop(permit);
            result
        })
        .await?
    }

    /// The idle stack. A poisoned lock still guards a consistent stack (every critical
    /// section is one push, pop, len or clear), so it is used as it is.
    fn idle(&self) -> std::sync::MutexGuard<'_, Vec<Connection>> {
        self.idle.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub(crate) fn stats(&self) -> PoolStats {
        let idle = self.idle().len();
        PoolStats {
            in_use: self.max_size - self.permits.available_permits(),
            idle,
            max_size: self.max_size,
        }
    }

    pub(crate) fn is_open(&self) -> bool {
        !self.closed.load(Ordering::Acquire)
    }

    /// Drops idle connections now; busy ones are dropped when their work returns.
    pub(crate) fn close(&self) {
        self.closed.store(true, Ordering::Release);
        self.permits.close();
        self.idle().clear();
    }
}

fn open_connection(
    path: &std::path::Path,
    busy_timeout: Duration,
) -> Result<Connection, StoreError> {
    let flags = OpenFlags::SQLITE_OPEN_READ_WRITE
        | OpenFlags::SQLITE_OPEN_CREATE
        | OpenFlags::SQLITE_OPEN_NO_MUTEX
        | OpenFlags::SQLITE_OPEN_URI;
    let conn = Connection::open_with_flags(path, flags).map_err(|e| unavailable(path, &e))?;
    conn.busy_timeout(busy_timeout)
        .map_err(|e| unavailable(path, &e))?;
    // WAL lets readers run beside the writer; NORMAL sync keeps every committed
    // transaction across a process crash (kill -9), which is the durability we promise.
    conn.execute_batch("PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL;")
        .map_err(|e| unavailable(path, &e))?;
    Ok(conn)
}

fn unavailable(path: &std::path::Path, e: &rusqlite::Error) -> StoreError {
    StoreError::Unavailable(format!("{}: {e}", path.display()))
}

/// Runs blocking SQLite work off the async workers.
pub(crate) async fn run_blocking<T: Send + 'static>(
    work: impl FnOnce() -> T + Send + 'static,
) -> Result<T, StoreError> {
    tokio::task::spawn_blocking(work)
        .await
        .map_err(|e| StoreError::Internal(format!("blocking task failed: {e}")))
}

/// Maps an engine error to the store's error type.
pub(crate) fn internal(e: rusqlite::Error) -> StoreError {
    match e {
        rusqlite::Error::SqliteFailure(code, _)
            if matches!(
                code.code,
                rusqlite::ErrorCode::DatabaseBusy
                    | rusqlite::ErrorCode::DatabaseLocked
                    | rusqlite::ErrorCode::CannotOpen
                    | rusqlite::ErrorCode::DiskFull
                    | rusqlite::ErrorCode::SystemIoFailure
            ) =>
        {
            StoreError::Unavailable(e.to_string())
        }
        other => StoreError::Internal(other.to_string()),
    }
}
