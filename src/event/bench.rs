//! What a device benchmark (RFC 2544) reports: a step before each trial, each trial's
//! counts, each test's result per frame size, and the totals.
//!
//! They live with the events (not with the benchmark) so that the record stream depends on
//! no driver. Frame sizes count the Ethernet frame with its 4-byte FCS, as RFC 2544 does
//! (64 = 60 bytes sent + FCS); bit rates count the frame with FCS, preamble and inter-frame
//! gap (20 bytes more), as testers report the load on the wire.

use serde::Serialize;

use super::RttStats;

/// Bytes a frame takes on the wire beyond its size with FCS: 7 preamble + 1 start of
/// frame delimiter + 12 inter-frame gap.
pub const WIRE_OVERHEAD: usize = 20;

/// Bits per second on the wire of `pps` frames of `frame_bytes` (FCS included).
pub fn wire_bps(pps: f64, frame_bytes: usize) -> f64 {
    pps * ((frame_bytes + WIRE_OVERHEAD) * 8) as f64
}

/// The RFC 2544 tests.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum BenchTest {
    /// 26.1: the highest rate with loss within the bound (binary search).
    Throughput,
    /// 26.2: latency at the throughput rate.
    Latency,
    /// 26.3: loss at 100 %, 90 %, ... of the maximum rate.
    FrameLoss,
    /// 26.4: the longest burst at the maximum rate without loss.
    BackToBack,
}

impl BenchTest {
    /// Its name in records and on the command line.
    pub fn name(self) -> &'static str {
        match self {
            BenchTest::Throughput => "throughput",
            BenchTest::Latency => "latency",
            BenchTest::FrameLoss => "frame_loss",
            BenchTest::BackToBack => "back_to_back",
        }
    }
}

/// A trial is about to run: which test, which size, which trial, the search's bounds.
#[derive(Debug, Clone, Serialize)]
pub struct BenchStep {
    /// The test.
    pub test: BenchTest,
    /// Frame size with FCS.
    pub frame_bytes: usize,
    /// Trial number within this test and size, from 1.
    pub trial: u32,
    /// Offered rate, frames per second; absent: as fast as the sender goes.
    pub rate_pps: Option<f64>,
    /// Burst length (back-to-back), frames.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub burst: Option<u64>,
    /// The search's lower bound (highest passing value so far).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub low: Option<f64>,
    /// The search's upper bound (lowest failing value so far).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub high: Option<f64>,
}

/// What one trial sent and got back.
#[derive(Debug, Clone, Serialize)]
pub struct BenchTrial {
    /// The test.
    pub test: BenchTest,
    /// Frame size with FCS.
    pub frame_bytes: usize,
    /// Trial number within this test and size, from 1.
    pub trial: u32,
    /// Offered rate asked for, frames per second; absent: as fast as the sender goes.
    pub rate_pps: Option<f64>,
    /// Burst length (back-to-back), frames.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub burst: Option<u64>,
    /// Rate the sender achieved, frames per second.
    pub achieved_pps: f64,
    /// Frames sent.
    pub sent: u64,
    /// Distinct frames answered.
    pub received: u64,
    /// Frames never answered within the wait.
    pub lost: u64,
    /// Lost frames in percent of those sent.
    pub loss_percent: f64,
    /// Extra copies of answered frames (a device that duplicates).
    pub duplicates: u64,
    /// Answers that came after their wait had expired (counted lost).
    pub late: u64,
    /// Answers that arrived after a later frame's.
    pub out_of_order: u64,
    /// Round-trip times; absent without answers.
    pub rtt_us: Option<RttStats>,
    /// The trial met the loss bound (and for a burst: no loss).
    pub passed: bool,
    /// Why it ended early (an error, or a stop).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// A test's result at one frame size.
#[derive(Debug, Clone, Serialize)]
pub struct BenchResult {
    /// The test.
    pub test: BenchTest,
    /// Frame size with FCS.
    pub frame_bytes: usize,
    /// Throughput: the highest passing rate; latency: the rate it was measured at; frame
    /// loss: the offered rate of this step. Frames per second; 0 when no trial passed.
    pub rate_pps: f64,
    /// `rate_pps` in bits per second on the wire (FCS, preamble and gap included).
    pub rate_bps: f64,
    /// The loss bound the throughput met, percent.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub loss_bound_percent: Option<f64>,
    /// Frame loss: the step's rate in percent of the maximum.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub percent_of_max: Option<f64>,
    /// Loss measured at this rate, percent.
    pub loss_percent: f64,
    /// Back-to-back: the longest burst without loss, frames.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub burst: Option<u64>,
    /// Round-trip times at this rate (latency: over all its trials' frames).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rtt_us: Option<RttStats>,
    /// Latency: RFC 2544's statistic, the average over the trials of each trial's mean
    /// round-trip time (every frame carries its send time, so each trial's value is the mean
    /// over all its frames, not one tagged frame).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rfc_latency_us: Option<f64>,
    /// The search ended at the sender's own limit: the device took everything offered.
    pub sender_limited: bool,
    /// Trials run for this result.
    pub trials: u32,
    /// Cut short by a stop: the bounds found so far.
    pub interrupted: bool,
}

/// The totals of a benchmark: every result.
#[derive(Debug, Clone, Serialize)]
pub struct BenchTotals {
    /// The responder.
    pub dest: String,
    /// Trials run.
    pub trials: u64,
    /// Frames sent over all trials.
    pub sent: u64,
    /// Frames answered over all trials.
    pub received: u64,
    /// Every result, in the order found.
    pub results: Vec<BenchResult>,
}
