//! SIGQUIT (Ctrl-\) asks the running driver for interim totals and lets it go on, as iputils
//! ping does, instead of dumping core.

use std::sync::OnceLock;

use pktforge::Stop;

static HANDLE: OnceLock<Stop> = OnceLock::new();

extern "C" fn on_quit(_: libc::c_int) {
    // Only an atomic store: async-signal-safe.
    if let Some(s) = HANDLE.get() {
        s.request_progress();
    }
}

/// Route SIGQUIT to `stop`'s progress request.
pub fn install(stop: &Stop) {
    let _ = HANDLE.set(stop.clone());
    // SAFETY: sigaction with a handler that only touches an atomic; SA_RESTART keeps blocking
    // calls other than poll going.
    unsafe {
        let mut sa: libc::sigaction = std::mem::zeroed();
        sa.sa_sigaction = on_quit as extern "C" fn(libc::c_int) as usize;
        sa.sa_flags = libc::SA_RESTART;
        libc::sigemptyset(&mut sa.sa_mask);
        libc::sigaction(libc::SIGQUIT, &sa, std::ptr::null_mut());
    }
}
