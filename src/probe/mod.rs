//! The request/reply engine: send probes, match what answers them, time them.

pub mod options;
pub mod ping;
