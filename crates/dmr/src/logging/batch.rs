//! A log destination written in batches by a thread of its own: each thread appends its
//! lines to a buffer of its own (an uncontended lock, a copy: no allocation, no channel, no
//! wake-up per line), and the writer thread takes every buffer at least every
//! `INTERVAL` (sooner when one fills) and writes it with one call. `tracing-appender`'s
//! non-blocking writer sends each line through a channel and wakes its thread for it:
//! measured, that and the line's allocation cost a request more than the rest of its
//! logging (BENCHMARKS.md).
//!
//! Lines from one thread stay in order; lines of different threads within one interval are
//! written thread by thread (their timestamps tell the order). A buffer that reaches `CAP`
//! because the destination does not keep up drops further lines (counted): a slow disk
//! never slows a request or grows memory without bound.

use std::cell::RefCell;
use std::io::{self, Write};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex, PoisonError};
use std::thread::JoinHandle;
use std::time::Duration;

use tracing_subscriber::fmt::MakeWriter;

/// The longest a line waits before it is written.
const INTERVAL: Duration = Duration::from_millis(100);
/// A buffer this full asks for a write at once.
const FLUSH_AT: usize = 64 * 1024;
/// A buffer this full drops lines.
const CAP: usize = 8 * 1024 * 1024;

type Buffer = Arc<Mutex<Vec<u8>>>;

struct Shared {
    id: usize,
    /// Every thread's buffer for this destination.
    buffers: Mutex<Vec<Buffer>>,
    dropped: AtomicU64,
    stop: AtomicBool,
    wake: (Mutex<bool>, Condvar),
}

/// The `MakeWriter` of one destination; cheap to clone.
#[derive(Clone)]
pub struct BatchWriter {
    shared: Arc<Shared>,
}

/// Writes what is left and stops the destination's thread when dropped.
pub struct BatchGuard {
    shared: Arc<Shared>,
    thread: Option<JoinHandle<()>>,
}

impl BatchWriter {
    /// Starts the thread that writes to `destination`.
    pub fn spawn<W: Write + Send + 'static>(
        name: &str,
        destination: W,
    ) -> io::Result<(BatchWriter, BatchGuard)> {
        static NEXT_ID: AtomicUsize = AtomicUsize::new(0);
        let shared = Arc::new(Shared {
            id: NEXT_ID.fetch_add(1, Ordering::Relaxed),
            buffers: Mutex::new(Vec::new()),
            dropped: AtomicU64::new(0),
            stop: AtomicBool::new(false),
            wake: (Mutex::new(false), Condvar::new()),
        });
        let thread = std::thread::Builder::new()
            .name(format!("log-{name}"))
            .spawn({
                let shared = Arc::clone(&shared);
                move || write_batches(&shared, destination)
            })?;
        Ok((
            BatchWriter {
                shared: Arc::clone(&shared),
            },
            BatchGuard {
                shared,
                thread: Some(thread),
            },
        ))
    }

    /// Lines dropped so far because the destination fell behind.
    pub fn dropped(&self) -> u64 {
        self.shared.dropped.load(Ordering::Relaxed)
    }

    /// This thread's buffer for this destination, registered on first use.
    fn with_buffer<R>(&self, f: impl FnOnce(&Mutex<Vec<u8>>) -> R) -> R {
        thread_local! {
            static MINE: RefCell<Vec<(usize, Buffer)>> = const { RefCell::new(Vec::new()) };
        }
        MINE.with(|mine| {
            let mut mine = mine.borrow_mut();
            let id = self.shared.id;
            if let Some((_, buffer)) = mine.iter().find(|(i, _)| *i == id) {
                return f(buffer);
            }
            let buffer: Buffer = Arc::default();
            lock(&self.shared.buffers).push(Arc::clone(&buffer));
            let result = f(&buffer);
            mine.push((id, buffer));
            result
        })
    }

    fn wake(&self) {
        let (asked, condvar) = &self.shared.wake;
        *lock(asked) = true;
        condvar.notify_one();
    }
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

fn write_batches<W: Write>(shared: &Shared, mut destination: W) {
    let mut batch = Vec::new();
    loop {
        let stopping = shared.stop.load(Ordering::Acquire);
        let buffers: Vec<Buffer> = {
            let mut buffers = lock(&shared.buffers);
            // A thread that ended (tokio's blocking threads come and go) left its buffer
            // here only; once written, it goes.
            buffers.retain(|b| Arc::strong_count(b) > 1 || !lock(b).is_empty());
            buffers.clone()
        };
        for buffer in &buffers {
            std::mem::swap(&mut *lock(buffer), &mut batch);
            if !batch.is_empty() {
                // A write error (a full disk) loses this batch; the next may succeed.
                let _ = destination.write_all(&batch);
                batch.clear();
            }
        }
        let _ = destination.flush();
        if stopping {
            return;
        }
        let (asked, condvar) = &shared.wake;
        let asked = lock(asked);
        let (mut asked, _) = condvar
            .wait_timeout_while(asked, INTERVAL, |asked| !*asked)
            .unwrap_or_else(PoisonError::into_inner);
        *asked = false;
    }
}

impl Drop for BatchGuard {
    fn drop(&mut self) {
        self.shared.stop.store(true, Ordering::Release);
        let (asked, condvar) = &self.shared.wake;
        *lock(asked) = true;
        condvar.notify_one();
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// One event's writer: its line goes into the thread's buffer.
pub struct LineWriter<'a>(&'a BatchWriter);

impl Write for LineWriter<'_> {
    fn write(&mut self, line: &[u8]) -> io::Result<usize> {
        let full = self.0.with_buffer(|buffer| {
            let mut buffer = lock(buffer);
            if buffer.len() + line.len() > CAP {
                self.0.shared.dropped.fetch_add(1, Ordering::Relaxed);
                return false;
            }
            buffer.extend_from_slice(line);
            buffer.len() >= FLUSH_AT
        });
        if full {
            self.0.wake();
        }
        Ok(line.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl<'a> MakeWriter<'a> for BatchWriter {
    type Writer = LineWriter<'a>;

    fn make_writer(&'a self) -> LineWriter<'a> {
        LineWriter(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A destination the test can read.
    #[derive(Clone, Default)]
    struct Shared(Arc<Mutex<Vec<u8>>>);

    impl Write for Shared {
        fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
            lock(&self.0).extend_from_slice(buf);
            Ok(buf.len())
        }

        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn every_threads_lines_arrive_whole_and_in_their_order() {
        let out = Shared::default();
        let (writer, guard) = BatchWriter::spawn("test", out.clone()).unwrap();
        let threads: Vec<_> = (0..4)
            .map(|t| {
                let writer = writer.clone();
                std::thread::spawn(move || {
                    for i in 0..1000 {
                        let line = format!("thread {t} line {i}\n");
                        writer.make_writer().write_all(line.as_bytes()).unwrap();
                    }
                })
            })
            .collect();
        threads.into_iter().for_each(|t| t.join().unwrap());
        drop(guard);
        let text = String::from_utf8(lock(&out.0).clone()).unwrap();
        assert_eq!(text.lines().count(), 4000);
        for t in 0..4 {
            let mine: Vec<&str> = text
                .lines()
                .filter(|l| l.starts_with(&format!("thread {t} ")))
                .collect();
            let expected: Vec<String> = (0..1000).map(|i| format!("thread {t} line {i}")).collect();
            assert_eq!(mine, expected);
        }
        assert_eq!(writer.dropped(), 0);
    }

    #[test]
    fn lines_are_written_within_the_interval_without_a_flush() {
        let out = Shared::default();
        let (writer, _guard) = BatchWriter::spawn("test", out.clone()).unwrap();
        writer.make_writer().write_all(b"one line\n").unwrap();
        let started = std::time::Instant::now();
        while lock(&out.0).is_empty() {
            assert!(started.elapsed() < Duration::from_secs(5), "never written");
            std::thread::sleep(Duration::from_millis(10));
        }
        assert_eq!(&*lock(&out.0), b"one line\n");
    }
}
