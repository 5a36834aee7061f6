//! Whether a connection is doing anything: bytes moved either way, or a request being
//! answered. The keep-alive timeout closes a connection only when neither happened for the
//! whole timeout (hyper's HTTP/1 has no idle timeout of its own).

use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::task::{Context, Poll};

use pin_project_lite::pin_project;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tower::Service;

/// One connection's activity, written by its socket and its requests, read by its watchdog.
#[derive(Debug, Default)]
pub(super) struct Activity {
    /// Bytes moved since the watchdog last looked.
    moved: AtomicBool,
    /// Requests whose response is not ready yet.
    answering: AtomicUsize,
}

impl Activity {
    /// True when nothing moved since the last look and no request is being answered; each
    /// look starts a new period.
    pub(super) fn was_quiet(&self) -> bool {
        let moved = self.moved.swap(false, Ordering::Relaxed);
        !moved && self.answering.load(Ordering::Relaxed) == 0
    }

    fn moved(&self) {
        // A load first: the common case (already set) writes nothing.
        if !self.moved.load(Ordering::Relaxed) {
            self.moved.store(true, Ordering::Relaxed);
        }
    }
}

pin_project! {
    /// The socket, noting every read and write that moved bytes.
    pub(super) struct Watched<T> {
        #[pin]
        pub(super) io: T,
        pub(super) activity: Arc<Activity>,
    }
}

impl<T: AsyncRead> AsyncRead for Watched<T> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.project();
        let before = buf.filled().len();
        let polled = this.io.poll_read(cx, buf);
        if buf.filled().len() > before {
            this.activity.moved();
        }
        polled
    }
}

impl<T: AsyncWrite> AsyncWrite for Watched<T> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.project();
        let polled = this.io.poll_write(cx, buf);
        if matches!(polled, Poll::Ready(Ok(n)) if n > 0) {
            this.activity.moved();
        }
        polled
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let this = self.project();
        let polled = this.io.poll_write_vectored(cx, bufs);
        if matches!(polled, Poll::Ready(Ok(n)) if n > 0) {
            this.activity.moved();
        }
        polled
    }

    fn is_write_vectored(&self) -> bool {
        self.io.is_write_vectored()
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.project().io.poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.project().io.poll_shutdown(cx)
    }
}

/// The connection's app, counting the requests it is answering.
#[derive(Debug, Clone)]
pub(super) struct Counted<S> {
    pub(super) app: S,
    pub(super) activity: Arc<Activity>,
}

impl<S: Service<R>, R> Service<R> for Counted<S> {
    type Response = S::Response;
    type Error = S::Error;
    type Future = Answering<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), S::Error>> {
        self.app.poll_ready(cx)
    }

    fn call(&mut self, request: R) -> Self::Future {
        self.activity.answering.fetch_add(1, Ordering::Relaxed);
        Answering {
            inner: self.app.call(request),
            _answering: AnsweringGuard(Arc::clone(&self.activity)),
        }
    }
}

/// Counts one request out when its future is done or dropped.
struct AnsweringGuard(Arc<Activity>);

impl Drop for AnsweringGuard {
    fn drop(&mut self) {
        self.0.answering.fetch_sub(1, Ordering::Relaxed);
    }
}

pin_project! {
    pub(super) struct Answering<F> {
        #[pin]
        inner: F,
        _answering: AnsweringGuard,
    }
}

impl<F: Future> Future for Answering<F> {
    type Output = F::Output;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        self.project().inner.poll(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quiet_only_when_nothing_moved_and_nothing_is_answered() {
        let activity = Arc::new(Activity::default());
        assert!(activity.was_quiet());
        activity.moved();
        assert!(!activity.was_quiet(), "bytes moved in this period");
        assert!(activity.was_quiet(), "a look starts a new period");
        activity.answering.fetch_add(1, Ordering::Relaxed);
        let answering = AnsweringGuard(Arc::clone(&activity));
        assert!(!activity.was_quiet(), "a request is being answered");
        drop(answering);
        assert!(activity.was_quiet(), "the guard counted the request out");
    }
}
