//! The pacing planner: when to send, sleep or spin on an absolute schedule (frame `n` leaves at
//! `t0 + n / rate`). A sender sleeps in the kernel until its wake-up latency before the next
//! departure and spins only what is left; where frames are closer than a wake-up is worth
//! (100 µs), it sends a group of them per wake-up (1 ms), each no earlier than its departure.

/// Frames at least this far apart each get their own wake-up (and leave at their own time).
pub(super) const OWN_WAKE_GAP_NS: u64 = 100_000;
/// Closer frames are grouped: one wake-up per this many nanoseconds (at most the frames one
/// send carries, `--batch`), each frame leaving with its group, none before its departure.
/// A timer wake-up cost 15–30 µs of CPU on the VM this was measured on (arming the timer and
/// taking its interrupt exit to the hypervisor): one every 100 µs was 15–20% of a core, one a
/// millisecond ~2%.
pub(super) const GROUP_PERIOD_NS: u64 = 1_000_000;
/// Wake-up latency assumed before any is measured (this machine's median with a 1 ns timer
/// slack was ~18 µs).
pub(super) const INITIAL_LEAD_NS: u64 = 20_000;
/// Largest wake-up latency the planner sleeps ahead by: beyond it, lateness is preemption,
/// not latency, and spinning for it would be waste.
pub(super) const MAX_LEAD_NS: u64 = 50_000;
/// A sleep shorter than this is not worth a context switch: spin instead.
pub(super) const MIN_SLEEP_NS: u64 = 5_000;

/// What the sender does next.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Step {
    /// Send this many frames now (their departures have come).
    Send(u64),
    /// Sleep until this time (ns after t0), then plan again.
    Sleep(i64),
    /// The departure is closer than a useful sleep: spin, then plan again.
    Spin,
}

/// One sender's schedule.
#[derive(Debug, Clone)]
pub(super) struct Pacer {
    /// Frames per second.
    rate: f64,
    /// Frames per wake-up when the gap is short (1 when it is long).
    per_wake: u64,
    /// Largest number of frames per send.
    cap: u64,
    /// Estimated wake-up latency (ns): how long before a departure to ask to be woken.
    lead_ns: u64,
}

impl Pacer {
    /// A schedule of `rate` frames/s grouping at most `group` frames per wake-up and sending
    /// at most `cap` at once (when catching up).
    pub(super) fn new(rate: f64, group: usize, cap: usize) -> Pacer {
        let cap = cap.max(1) as u64;
        let per_wake = if rate * OWN_WAKE_GAP_NS as f64 <= 1e9 {
            1
        } else {
            ((GROUP_PERIOD_NS as f64 * rate / 1e9).ceil() as u64)
                .clamp(1, (group as u64).clamp(1, cap))
        };
        Pacer {
            rate,
            per_wake,
            cap,
            lead_ns: INITIAL_LEAD_NS,
        }
    }

    /// Frames sent per wake-up when the sender keeps up.
    #[cfg(test)]
    pub(super) fn per_wake(&self) -> u64 {
        self.per_wake
    }

    /// The wake-up latency the planner currently allows for (ns).
    #[cfg(test)]
    pub(super) fn lead_ns(&self) -> u64 {
        self.lead_ns
    }

    /// Departure time of frame `seq` (ns after t0).
    pub(super) fn departure(&self, seq: u64) -> i64 {
        (seq as f64 * 1e9 / self.rate) as i64
    }

    /// Frames whose departure has come by `now` (ns after t0), `seq` already sent.
    fn due(&self, now: i64, seq: u64) -> u64 {
        if now < 0 {
            return 0;
        }
        let by_now = (now as f64 * self.rate / 1e9) as u64 + 1;
        by_now.saturating_sub(seq)
    }

    /// What to do at `now` (ns after t0, negative before it) with `seq` frames sent and `left`
    /// still to send (≥ 1). A group of frames leaves when its last frame's departure comes:
    /// no frame ever leaves before its own departure.
    pub(super) fn step(&self, now: i64, seq: u64, left: u64) -> Step {
        let group = self.per_wake.min(left).max(1);
        let last = self.departure(seq + group - 1);
        if now >= last {
            return Step::Send(self.due(now, seq).clamp(1, self.cap).min(left));
        }
        let wake = last - self.lead_ns as i64;
        if wake - now >= MIN_SLEEP_NS as i64 {
            Step::Sleep(wake)
        } else {
            Step::Spin
        }
    }

    /// A sleep asked to end at `asked` ended at `now` (ns after t0): learn the wake-up
    /// latency from it. Sleeps cut short (a reply arrived, a signal) say nothing about it.
    pub(super) fn woke(&mut self, asked: i64, now: i64) {
        if now < asked {
            return;
        }
        let late = ((now - asked) as u64).min(MAX_LEAD_NS);
        // Down fast, up slowly: on a shared machine some wake-ups are preempted, and the lead
        // should follow the usual latency (spinning the rest), not the rare long one.
        self.lead_ns = if late < self.lead_ns {
            self.lead_ns - (self.lead_ns - late).div_ceil(4)
        } else {
            self.lead_ns + (late - self.lead_ns).div_ceil(16)
        };
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_long_gap_sleeps_until_the_wake_up_latency_before_the_departure_then_spins() {
        // 1 kpps: 1 ms between frames, one frame per wake-up.
        let p = Pacer::new(1_000.0, 64, 64);
        assert_eq!(p.per_wake(), 1);
        let lead = p.lead_ns() as i64;
        assert_eq!(p.step(0, 0, 100), Step::Send(1), "frame 0 leaves at t0");
        // Frame 1 leaves at 1 ms: sleep until 1 ms − lead.
        assert_eq!(p.step(1_000, 1, 99), Step::Sleep(1_000_000 - lead));
        // Woken a little early: the last microseconds are spun, not slept.
        assert_eq!(p.step(1_000_000 - 3_000, 1, 99), Step::Spin);
        assert_eq!(p.step(999_999, 1, 99), Step::Spin);
        assert_eq!(p.step(1_000_000, 1, 99), Step::Send(1), "on time");
        // 10 kpps (100 µs apart): still a wake-up per frame.
        let p = Pacer::new(10_000.0, 64, 64);
        assert_eq!(p.per_wake(), 1);
        assert_eq!(p.step(1_000, 1, 99), Step::Sleep(100_000 - lead));
        assert_eq!(p.step(100_000, 1, 99), Step::Send(1));
        // Before t0: sleep towards the first departure.
        assert_eq!(p.step(-2_000_000, 0, 100), Step::Sleep(-lead));
    }

    #[test]
    fn a_short_gap_groups_frames_per_wake_up_none_leaving_early() {
        // 50 kpps: 20 µs between frames, fifty per 1 ms wake-up.
        assert_eq!(
            Pacer::new(10_001.0, 64, 64).per_wake(),
            11,
            "closer than 100 µs"
        );
        let p = Pacer::new(50_000.0, 64, 64);
        assert_eq!(p.per_wake(), 50);
        let lead = p.lead_ns() as i64;
        // After frame 0, frames 1..=50 go together when frame 50's departure (1 ms) comes.
        assert_eq!(p.step(1_000, 1, 1000), Step::Sleep(1_000_000 - lead));
        assert_eq!(p.step(500_000, 1, 1000), Step::Sleep(1_000_000 - lead));
        assert_eq!(p.step(999_000, 1, 1000), Step::Spin);
        assert_eq!(p.step(1_000_000, 1, 1000), Step::Send(50));
        // Where one send carries fewer (`--batch 5`), the group is that many.
        let p = Pacer::new(50_000.0, 5, 5);
        assert_eq!(p.per_wake(), 5);
        assert_eq!(p.step(1_000, 1, 1000), Step::Sleep(100_000 - lead));
        assert_eq!(p.step(100_000, 1, 1000), Step::Send(5));
        // The last group is as long as what is left.
        assert_eq!(p.step(1_000, 1, 2), Step::Sleep(40_000 - lead));
        assert_eq!(p.step(40_000, 1, 2), Step::Send(2));
        // 1 Mpps: a group is bounded by the frames one send may carry.
        let p = Pacer::new(1e6, 64, 64);
        assert_eq!(p.per_wake(), 64);
        assert_eq!(p.step(0, 1, 1 << 20), Step::Sleep(64_000 - lead));
        let p = Pacer::new(1e6, 1 << 14, 1 << 14);
        assert_eq!(p.per_wake(), 1000);
        // Live frames: groups bounded by --batch, catching up by whole calls.
        let p = Pacer::new(1e6, 64, 1 << 14);
        assert_eq!(p.per_wake(), 64);
        assert_eq!(p.step(1_000_000, 1, 1 << 20), Step::Send(1000));
    }

    #[test]
    fn a_late_sender_catches_up_in_one_send_bounded_by_the_cap() {
        let p = Pacer::new(50_000.0, 64, 64);
        // 1 ms behind, 50 frames are due: one send takes what it can carry.
        let p5 = Pacer::new(50_000.0, 5, 5);
        assert_eq!(
            p5.step(1_000_000, 1, 1000),
            Step::Send(5),
            "never past the cap"
        );
        assert_eq!(
            p.step(1_100_000, 1, 1000),
            Step::Send(55),
            "all that is due"
        );
        assert_eq!(
            p.step(1_000_000, 1, 10),
            Step::Send(10),
            "never past the count"
        );
        assert_eq!(
            p.step(10_000_000, 1, 1000),
            Step::Send(64),
            "never past the cap"
        );
    }

    #[test]
    fn the_lead_follows_the_measured_wake_up_latency() {
        let mut p = Pacer::new(1_000.0, 64, 64);
        for _ in 0..64 {
            p.woke(100_000, 103_000);
        }
        assert_eq!(p.lead_ns(), 3_000);
        assert_eq!(
            p.step(1_000, 1, 10),
            Step::Sleep(1_000_000 - p.lead_ns() as i64)
        );
        // A sleep cut short by a reply teaches nothing.
        let before = p.lead_ns();
        p.woke(100_000, 50_000);
        assert_eq!(p.lead_ns(), before);
        // One preempted wake-up moves it little; preemption (milliseconds late) is clamped.
        p.woke(0, 5_000_000);
        assert!(
            p.lead_ns() < 3_000 + MAX_LEAD_NS / 16 + 1,
            "{}",
            p.lead_ns()
        );
        for _ in 0..400 {
            p.woke(0, 5_000_000);
        }
        assert_eq!(p.lead_ns(), MAX_LEAD_NS);
    }
}
