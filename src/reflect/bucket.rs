//! The rate limit: a token bucket.

use std::time::Instant;

/// Replies per second with a burst of a tenth of a second (at least one).
pub(super) struct TokenBucket {
    rate: f64,
    cap: f64,
    tokens: f64,
    last: Instant,
}

impl TokenBucket {
    /// `rate` replies a second, the bucket full at `now`.
    pub(super) fn new(rate: u32, now: Instant) -> Self {
        let cap = (f64::from(rate) / 10.0).max(1.0);
        TokenBucket {
            rate: f64::from(rate),
            cap,
            tokens: cap,
            last: now,
        }
    }

    /// Whether a reply may go at `now` (and take its token).
    pub(super) fn take(&mut self, now: Instant) -> bool {
        let dt = now.duration_since(self.last).as_secs_f64();
        self.last = now;
        self.tokens = (self.tokens + dt * self.rate).min(self.cap);
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            true
        } else {
            false
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn token_bucket_caps_the_rate() {
        let t0 = Instant::now();
        let mut b = TokenBucket::new(10, t0);
        assert!(b.take(t0));
        assert!(!b.take(t0), "burst of one at 10/s");
        assert!(b.take(t0 + Duration::from_millis(100)));
    }
}
