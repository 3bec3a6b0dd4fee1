//! A handle that ends a run from elsewhere: a signal handler, another thread, a timer.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

/// Ends a run when [`stop`](Stop::stop) is called on it or any of its clones. A run that is
/// stopped still reports its summary (and flushes its pcap) before it returns.
///
/// A second flag asks a running driver for interim totals without ending it (what SIGQUIT does
/// to iputils ping): see [`request_progress`](Stop::request_progress).
#[derive(Debug, Clone, Default)]
pub struct Stop(Arc<AtomicBool>, Arc<AtomicBool>);

impl Stop {
    /// A handle not yet stopped.
    pub fn new() -> Self {
        Self::default()
    }

    /// Ask every run watching this handle (or a clone) to end.
    pub fn stop(&self) {
        self.0.store(true, Ordering::SeqCst);
    }

    /// Whether [`stop`](Stop::stop) was called.
    pub fn is_stopped(&self) -> bool {
        self.0.load(Ordering::Relaxed)
    }

    /// Ask the run watching this handle to report its totals so far (a `Progress` event) and go
    /// on. Safe to call from a signal handler: it only stores to an atomic.
    pub fn request_progress(&self) {
        self.1.store(true, Ordering::SeqCst);
    }

    /// Whether interim totals were asked for since the last call (clears the request).
    pub fn take_progress_request(&self) -> bool {
        self.1.load(Ordering::Relaxed) && self.1.swap(false, Ordering::SeqCst)
    }
}

/// A stop handle is a shared flag: code that polls an [`AtomicBool`] can take one directly.
impl std::ops::Deref for Stop {
    type Target = AtomicBool;
    fn deref(&self) -> &AtomicBool {
        &self.0
    }
}
