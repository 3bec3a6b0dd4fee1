//! The slot book: every probe in flight by sequence number, and the unsettled ones in send
//! order for timeouts.

use std::time::{Instant, SystemTime};

/// One probe's bookkeeping, in a slot indexed by its sequence number.
#[derive(Debug, Clone, Copy)]
pub(super) struct Pending {
    /// Which probe of the run this is (1-based): tells a reused slot from its old occupant.
    pub(super) n: u64,
    /// The clock read just before it left: where its RTT starts.
    pub(super) at: SystemTime,
    /// When it left, by the monotonic clock: where its timeout starts.
    pub(super) sent: Instant,
    /// Answers with a good checksum so far (more than one: duplicates).
    pub(super) answers: u32,
    /// Answered, or timed out, or failed: no longer outstanding.
    pub(super) settled: bool,
}

/// Probes by sequence number (a slot per u16, grown as sequence numbers are used: at most
/// 65,536 slots), plus the unsettled ones in send order for timeouts. Every operation is O(1)
/// (amortized), and memory is bounded whatever the count.
#[derive(Debug, Default)]
pub(super) struct Book {
    slots: Vec<Option<Pending>>,
    /// (sequence number, probe number) in send order; settled entries are dropped lazily.
    order: std::collections::VecDeque<(u16, u64)>,
    pub(super) outstanding: usize,
}

impl Book {
    pub(super) fn get(&self, seq: u16) -> Option<&Pending> {
        self.slots.get(usize::from(seq)).and_then(Option::as_ref)
    }

    pub(super) fn get_mut(&mut self, seq: u16) -> Option<&mut Pending> {
        self.slots
            .get_mut(usize::from(seq))
            .and_then(Option::as_mut)
    }

    /// Record probe `p` under `seq`; returns the unsettled probe it displaced (sequence numbers
    /// wrapped before it was answered or timed out).
    pub(super) fn insert(&mut self, seq: u16, p: Pending) -> Option<Pending> {
        let i = usize::from(seq);
        if self.slots.len() <= i {
            self.slots.resize(i + 1, None);
        }
        let old = self.slots[i].replace(p).filter(|o| !o.settled);
        if old.is_none() {
            self.outstanding += 1;
        }
        self.order.push_back((seq, p.n));
        old
    }

    /// Settle `seq` (answered); true if it was outstanding.
    pub(super) fn settle(&mut self, seq: u16) -> bool {
        match self.get_mut(seq) {
            Some(p) if !p.settled => {
                p.settled = true;
                self.outstanding -= 1;
                true
            }
            _ => false,
        }
    }

    /// The oldest unsettled probe sent before `limit`, settled as timed out.
    pub(super) fn expire(&mut self, limit: Instant) -> Option<u16> {
        while let Some(&(seq, n)) = self.order.front() {
            match self.get(seq) {
                Some(p) if p.n == n && !p.settled => {
                    if p.sent > limit {
                        return None;
                    }
                    self.order.pop_front();
                    self.settle(seq);
                    return Some(seq);
                }
                _ => {
                    self.order.pop_front();
                }
            }
        }
        None
    }
}
