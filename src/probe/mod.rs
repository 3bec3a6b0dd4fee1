//! The request/reply engine: send probes, match what answers them, time them.

pub mod engine;
pub mod kinds;
pub mod ping;
pub mod port;
pub mod query;
pub mod trace;
pub mod transport;
