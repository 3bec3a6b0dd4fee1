//! A handle that ends a run from elsewhere: a signal handler, another thread, a timer.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

/// Ends a run when [`stop`](Stop::stop) is called on it or any of its clones. A run that is
/// stopped still reports its summary (and flushes its pcap) before it returns.
#[derive(Debug, Clone, Default)]
pub struct Stop(Arc<AtomicBool>);

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
}

/// A stop handle is a shared flag: code that polls an [`AtomicBool`] can take one directly.
impl std::ops::Deref for Stop {
    type Target = AtomicBool;
    fn deref(&self) -> &AtomicBool {
        &self.0
    }
}
