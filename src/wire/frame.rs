//! frames (being written)
