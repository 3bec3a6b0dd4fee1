//! Bytes ↔ typed values. No I/O here. (being written)

/// Error building or parsing a frame.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WireError {
    /// Fewer bytes than the layer needs.
    #[error("{layer} truncated: needs {needed} bytes, got {got}")]
    Truncated {
        layer: &'static str,
        needed: usize,
        got: usize,
    },
    /// A field holds a value that cannot be right.
    #[error("malformed {layer}: {detail}")]
    Malformed { layer: &'static str, detail: String },
    /// A request over a protocol limit; the message names the limit.
    #[error("{0}")]
    Limit(String),
}
