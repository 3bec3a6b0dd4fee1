//! Bytes → a tree of named fields (name, value, byte offset/length, status), for `decode`,
//! `capture -v`, `send --wait` and `craft`'s dump. No I/O.
//!
//! Field keys follow Wireshark's display-filter names where one exists (`ip.ttl`,
//! `icmp.redir_gw`, `ip.rec_rt`, ...), so a tree can be compared with `tshark -T fields` field
//! by field. Checksums are marked good or bad (with the right value); the datagram quoted in an
//! ICMP error is dissected recursively; bytes that cannot be decoded end in an `undecoded` node
//! and make the dissection incomplete. Nothing here panics on any input.
//!
//! One file per header (`ether`, `arp`, `ipv4`, `ipopt`, `icmp`, `ipv6` with its extension
//! headers, `icmpv6`, `udp`, `tcp`), each reading through the
//! [`crate::wire`] views; the tree in `tree`, its text forms in `render`.

mod arp;
mod ether;
mod icmp;
mod icmpv6;
mod ipopt;
mod ipv4;
mod ipv6;
mod link;
mod oneline;
mod render;
mod tcp;
mod tree;
mod udp;

pub use link::summary_link;
pub use oneline::{ip_proto_name, OneLine};
pub use render::{hexdump_beside, render_text, summary};

/// Most ICMP errors dissected inside one another (a quote quoting a quote ...). A conforming
/// host never sends an error about an error (RFC 1122 3.2.2), so 2 levels already show
/// something odd; deeper quotes end in an `undecoded` node saying so. Without a limit a 64 KB
/// frame of nested quotes (28 bytes a level) gave thousands of levels, indented further each
/// time: output quadratic in the frame size, and a deep recursion.
pub const MAX_QUOTE_DEPTH: usize = 4;
pub use tree::{Dissection, Node, Status};

use crate::wire::{checksum, MacAddr};

/// Dissect a whole Ethernet frame.
pub fn dissect_frame(b: &[u8]) -> Dissection {
    ether::dissect(b)
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

/// Hex of up to 32 bytes, with the total when longer.
fn hex_preview(b: &[u8]) -> String {
    if b.len() <= 32 {
        hex(b)
    } else {
        format!("{}… ({} bytes)", hex(&b[..32]), b.len())
    }
}

/// `aa:bb:cc:dd:ee:ff`, two digits per octet.
fn mac_text(m: MacAddr) -> String {
    m.octets()
        .iter()
        .map(|x| format!("{x:02x}"))
        .collect::<Vec<_>>()
        .join(":")
}

/// Bytes from `offset` to `end` that could not be decoded.
fn undecoded(offset: usize, bytes: &[u8], why: &str) -> Node {
    Node::new(
        "undecoded",
        "Undecoded",
        format!("{} bytes: {}", bytes.len(), hex_preview(bytes)),
        offset,
        bytes.len(),
    )
    .malformed(why)
}

fn cksum_status(data: &[u8], field_at: usize) -> Status {
    if checksum(data) == 0 {
        Status::Good
    } else {
        let mut copy = data.to_vec();
        copy[field_at] = 0;
        copy[field_at + 1] = 0;
        let right = checksum(&copy);
        Status::Bad {
            expected: format!("0x{right:04x}"),
        }
    }
}

fn finish(len: usize, layers: Vec<Node>) -> Dissection {
    let complete = !layers.iter().any(Node::is_malformed);
    Dissection {
        len,
        layers,
        complete,
    }
}

fn data_node(b: &[u8], from: usize, to: usize) -> Node {
    Node::new(
        "data",
        "Data",
        format!("{} bytes: {}", to - from, hex_preview(&b[from..to])),
        from,
        to - from,
    )
}

/// A timestamp in ms since midnight UT, as `12345678 (03:25:45.678 UT)`; high bit: non-standard.
fn ts_text(t: u32) -> String {
    if t & 0x8000_0000 != 0 {
        return format!("{t} (non-standard: {})", t & 0x7fff_ffff);
    }
    let ms = t % 1000;
    let s = t / 1000;
    if s >= 86400 {
        return format!("{t} (beyond 24 h)");
    }
    format!(
        "{t} ({:02}:{:02}:{:02}.{ms:03} UT)",
        s / 3600,
        (s / 60) % 60,
        s % 60
    )
}

#[cfg(test)]
mod tests;
#[cfg(test)]
mod transport_tests;
