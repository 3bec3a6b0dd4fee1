//! Capture: frames received on an interface ([`live`]) or read from a capture file
//! ([`file`](mod@file), as `tcpdump -r`), each reported as a [`Frame`] record in tcpdump's one-line form
//! (and the full dissection when asked), optionally written to a capture file.

pub mod file;
pub mod live;

use std::time::SystemTime;

use crate::dissect::{dissect_frame, OneLine};
use crate::event::{self, Frame};

/// The largest frame a capture keeps whole: a 64 KiB GRO/GSO packet (or one of lo's 65,536-byte
/// MTU) with its Ethernet header and two VLAN tags, whatever the MTU is when the capture starts
/// (it may be raised while it runs). Longer frames (BIG TCP's GRO) are cut and marked truncated.
pub const WHOLE_FRAME: usize = 65_536 + 14 + 8;

/// The record of the `index`th frame captured at `ts`: `frame` is (the bytes kept, its length
/// on the wire) as `linktype` frames them, truncated when fewer were kept; its line from
/// `line` (which keeps TCP state across frames); `dissect`: the frame as Ethernet, to dissect.
pub(crate) fn frame_record(
    index: u64,
    ts: SystemTime,
    direction: Option<event::Direction>,
    frame: (&[u8], usize),
    linktype: u32,
    line: &mut OneLine,
    dissect: Option<&[u8]>,
) -> Frame {
    let (data, wire_len) = frame;
    let cut = data.len() < wire_len;
    Frame {
        index,
        time_us: Some(event::time_us(ts)),
        direction,
        bytes: wire_len.max(data.len()),
        truncated: cut,
        captured: cut.then_some(data.len()),
        summary: line.line(linktype, data, wire_len),
        hex: None,
        dissection: dissect.map(dissect_frame),
    }
}
