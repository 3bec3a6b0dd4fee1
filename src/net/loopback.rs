//! Frames injected on `lo` through a packet socket go through full input routing, unlike the
//! kernel's own loopback traffic, and Linux drops them as martians: a 127/8 source needs
//! `route_localnet`, and any local source needs `accept_local`. [`LoopbackGuard`] turns both on
//! for `lo` while a probe runs and puts the old values back when dropped.

use std::path::PathBuf;

use crate::{Error, Result};

const KEYS: [&str; 2] = ["accept_local", "route_localnet"];

/// Restores `lo`'s `accept_local` and `route_localnet` when dropped.
#[derive(Debug)]
pub struct LoopbackGuard {
    restore: Vec<(PathBuf, String)>,
}

impl LoopbackGuard {
    /// Turn on what injected frames on `lo` need; returns which settings were changed (empty
    /// when they were already on).
    pub fn enable() -> Result<LoopbackGuard> {
        let mut restore = Vec::new();
        for key in KEYS {
            // /proc/sys/net shows the network namespace of the thread that opens it.
            let path = PathBuf::from(format!("/proc/sys/net/ipv4/conf/lo/{key}"));
            let old = std::fs::read_to_string(&path)
                .map_err(|e| Error::io(format!("reading {}", path.display()), e))?;
            if old.trim() != "1" {
                std::fs::write(&path, "1")
                    .map_err(|e| Error::io(format!("setting {} to 1", path.display()), e))?;
                restore.push((path, old.trim().to_string()));
            }
        }
        Ok(LoopbackGuard { restore })
    }

    /// The sysctl names this guard changed, e.g. `net.ipv4.conf.lo.accept_local`.
    pub fn changed(&self) -> Vec<String> {
        self.restore
            .iter()
            .map(|(p, _)| {
                let s = p.to_string_lossy();
                s.trim_start_matches("/proc/sys/").replace('/', ".")
            })
            .collect()
    }
}

impl Drop for LoopbackGuard {
    fn drop(&mut self) {
        for (path, old) in &self.restore {
            let _ = std::fs::write(path, old);
        }
    }
}
