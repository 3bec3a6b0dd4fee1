//! Reply matching over a sequence-indexed window: one atomic word per slot, sized to the
//! in-flight window, so memory stays flat however long a run lasts. Any receive thread may
//! match a reply of any sender thread.

use std::sync::atomic::{AtomicU64, Ordering};

/// What a reply turned out to be.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Match {
    /// The first reply to a request we sent.
    First,
    /// Another reply to an already answered request.
    Duplicate,
    /// Its slot was reused by a later request: it came back after `WINDOW` more were sent.
    Late,
    /// A sequence number we never sent (forged or corrupted).
    Unknown,
}

/// The in-flight window of one sender. Slot `seq % len` holds `(seq + 1) << 1 | answered`.
#[derive(Debug)]
pub struct Window {
    slots: Box<[AtomicU64]>,
    mask: u64,
}

impl Window {
    /// A window of `len` slots (rounded up to a power of two).
    pub fn new(len: usize) -> Window {
        let len = len.next_power_of_two().max(2);
        Window {
            slots: (0..len).map(|_| AtomicU64::new(0)).collect(),
            mask: len as u64 - 1,
        }
    }

    /// Number of slots.
    pub fn len(&self) -> usize {
        self.slots.len()
    }

    /// Always false: a window has at least two slots.
    pub fn is_empty(&self) -> bool {
        false
    }

    /// Record that request `seq` is being sent (before it can be answered).
    #[inline]
    pub fn sent(&self, seq: u64) {
        self.slots[(seq & self.mask) as usize].store((seq + 1) << 1, Ordering::Release);
    }

    /// Whether request `seq` is still in the window and unanswered.
    #[inline]
    pub fn unanswered(&self, seq: u64) -> bool {
        let tag = (seq + 1) << 1;
        self.slots[(seq & self.mask) as usize].load(Ordering::Acquire) == tag
    }

    /// Classify a reply carrying `seq`.
    #[inline]
    pub fn reply(&self, seq: u64) -> Match {
        let Some(tag) = seq.checked_add(1).and_then(|s| s.checked_mul(2)) else {
            return Match::Unknown;
        };
        let slot = &self.slots[(seq & self.mask) as usize];
        match slot.compare_exchange(tag, tag | 1, Ordering::AcqRel, Ordering::Acquire) {
            Ok(_) => Match::First,
            Err(v) if v == tag | 1 => Match::Duplicate,
            Err(v) if v >> 1 > seq + 1 => Match::Late,
            Err(_) => Match::Unknown,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn first_duplicate_late_unknown() {
        let w = Window::new(4);
        assert_eq!(w.len(), 4);
        assert_eq!(w.reply(0), Match::Unknown, "never sent");
        for s in 0..4 {
            w.sent(s);
        }
        assert_eq!(w.reply(2), Match::First);
        assert_eq!(w.reply(2), Match::Duplicate);
        assert_eq!(w.reply(0), Match::First);
        w.sent(4); // reuses slot 0
        w.sent(5); // reuses slot 1, which was never answered
        assert_eq!(w.reply(1), Match::Late);
        assert_eq!(
            w.reply(0),
            Match::Late,
            "even an answered slot, once reused"
        );
        assert_eq!(w.reply(5), Match::First);
        assert_eq!(w.reply(9), Match::Unknown, "from the future");
        assert_eq!(w.reply(u64::MAX), Match::Unknown);
        assert!(!w.unanswered(5), "answered");
        w.sent(6);
        assert!(w.unanswered(6));
        assert!(!w.unanswered(2), "slot reused by 6");
    }

    #[test]
    fn shared_between_threads() {
        let w = std::sync::Arc::new(Window::new(1 << 10));
        for s in 0..1000 {
            w.sent(s);
        }
        let firsts: usize = std::thread::scope(|sc| {
            let hs: Vec<_> = (0..4)
                .map(|_| {
                    let w = &w;
                    sc.spawn(move || (0..1000).filter(|&s| w.reply(s) == Match::First).count())
                })
                .collect();
            hs.into_iter().map(|h| h.join().unwrap()).sum()
        });
        assert_eq!(firsts, 1000, "each request is answered first exactly once");
    }
}
