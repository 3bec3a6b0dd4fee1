//! What a reflector did: its counters, the totals of its summary record.
//!
//! They live with the events (not with the reflector) so that the record stream depends on no
//! driver; the reflector fills them in.

use serde::Serialize;

/// What the responder did.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Counters {
    /// Frames seen (after the kernel's ARP+ICMP filter).
    pub frames: u64,
    /// ARP requests answered.
    pub arp_replies: u64,
    /// Echo requests answered.
    pub echo_replies: u64,
    /// UDP echo datagrams answered (RFC 862).
    pub udp_echo_replies: u64,
    /// Timestamp requests answered.
    pub timestamp_replies: u64,
    /// Address mask requests answered.
    pub mask_replies: u64,
    /// Router advertisements sent (solicited and unsolicited).
    pub advertisements: u64,
    /// Requests to broadcast/multicast addresses ignored (not asked to answer them).
    pub ignored_broadcast: u64,
    /// Requests we do not answer (mask without a mask to give, information, other types).
    pub ignored_other: u64,
    /// Frames with bad checksums, fragments, or malformed headers.
    pub malformed: u64,
    /// Source-routed requests whose route was not exhausted (we are not a router).
    pub route_not_done: u64,
    /// Replies dropped by the rate limit.
    pub rate_limited: u64,
    /// Replies not sent because they would have been larger than the request.
    pub would_amplify: u64,
    /// Requests from a source nobody can answer: 0.0.0.0, broadcast (limited or our
    /// subnet's), multicast, loopback, our own address, or a group Ethernet source.
    pub martian: u64,
    /// Frames addressed to another host's Ethernet address (or to a group one we do not
    /// answer on).
    pub not_our_mac: u64,
    /// Frames not on our VLAN stack (tagged when we are not, another VLAN, a deeper or
    /// shallower stack); the kernel filter drops most of them before they are counted.
    pub other_vlan: u64,
    /// Where echo was answered: "xdp-native", "xdp-generic" or "packet".
    pub mode: String,
    /// Echo requests answered in the kernel by the XDP program (not in `echo_replies`).
    pub xdp_echo_replies: u64,
    /// Frames the interface failed to transmit while the XDP program answered (a veth
    /// whose peer takes no XDP frames).
    pub xdp_tx_failed: u64,
    /// Why the XDP program was not used or was removed (auto mode).
    pub xdp_unavailable: Option<String>,
}

impl Counters {
    /// Requests answered (not counting ARP or unsolicited advertisements).
    pub fn answered(&self) -> u64 {
        self.echo_replies
            + self.xdp_echo_replies
            + self.udp_echo_replies
            + self.timestamp_replies
            + self.mask_replies
    }
}
