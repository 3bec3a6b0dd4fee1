//! Reverse name lookups through the system resolver, off the probe loop: each address is looked
//! up once on its own thread; readers wait a bounded time and fall back to the number.

use std::collections::HashMap;
use std::net::Ipv4Addr;
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

type Table = HashMap<Ipv4Addr, Option<Option<String>>>; // None: pending

/// Background reverse resolver.
#[derive(Clone, Default)]
pub struct Names {
    inner: Arc<(Mutex<Table>, Condvar)>,
}

impl Names {
    /// Start looking `addr` up unless already known or pending. Never blocks.
    pub fn prefetch(&self, addr: Ipv4Addr) {
        let mut t = self.inner.0.lock().unwrap_or_else(|e| e.into_inner());
        if t.contains_key(&addr) {
            return;
        }
        t.insert(addr, None);
        let inner = Arc::clone(&self.inner);
        std::thread::spawn(move || {
            let name = reverse_lookup(addr);
            let (m, cv) = &*inner;
            m.lock()
                .unwrap_or_else(|e| e.into_inner())
                .insert(addr, Some(name));
            cv.notify_all();
        });
    }

    /// The name of `addr`, waiting at most `wait` for a pending lookup.
    pub fn get(&self, addr: Ipv4Addr, wait: Duration) -> Option<String> {
        self.prefetch(addr);
        let end = Instant::now() + wait;
        let (m, cv) = &*self.inner;
        let mut t = m.lock().unwrap_or_else(|e| e.into_inner());
        loop {
            if let Some(Some(done)) = t.get(&addr) {
                return done.clone();
            }
            let now = Instant::now();
            if now >= end {
                return None;
            }
            t = cv
                .wait_timeout(t, end - now)
                .unwrap_or_else(|e| e.into_inner())
                .0;
        }
    }
}

/// getnameinfo(3) with NI_NAMEREQD: a name, or None.
fn reverse_lookup(addr: Ipv4Addr) -> Option<String> {
    let sa = libc::sockaddr_in {
        sin_family: libc::AF_INET as libc::sa_family_t,
        sin_port: 0,
        sin_addr: libc::in_addr {
            s_addr: u32::from(addr).to_be(),
        },
        sin_zero: [0; 8],
    };
    let mut host = [0 as libc::c_char; 1025];
    // SAFETY: sa is a valid sockaddr_in of the given length; host is a writable buffer of the
    // given length; no service buffer is requested.
    let rc = unsafe {
        libc::getnameinfo(
            &sa as *const libc::sockaddr_in as *const libc::sockaddr,
            std::mem::size_of::<libc::sockaddr_in>() as libc::socklen_t,
            host.as_mut_ptr(),
            host.len() as libc::socklen_t,
            std::ptr::null_mut(),
            0,
            libc::NI_NAMEREQD,
        )
    };
    if rc != 0 {
        return None;
    }
    // SAFETY: getnameinfo wrote a NUL-terminated string into host on success.
    let s = unsafe { std::ffi::CStr::from_ptr(host.as_ptr()) };
    Some(s.to_string_lossy().into_owned())
}
