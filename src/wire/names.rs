//! Every protocol name table, once: ICMP and ICMPv6 types and codes, EtherTypes, IP protocols,
//! IP options, IPv6 options, NDP options.
//!
//! Readers in the crate (the dissector, the capture filter's keywords, iputils-style error
//! wording) look names up here instead of keeping their own `match` of numbers.

/// One ICMP type: its number and the names different readers show.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IcmpTypeName {
    /// The type number.
    pub number: u8,
    /// RFC 792 name, as Wireshark shows it ("Destination Unreachable").
    pub name: &'static str,
    /// A tcpdump-style keyword ("unreach"), as the capture filter accepts it.
    pub keyword: &'static str,
    /// iputils-ping wording for the type when no code text applies ("Timestamp").
    pub ping: &'static str,
}

const fn t(
    number: u8,
    name: &'static str,
    keyword: &'static str,
    ping: &'static str,
) -> IcmpTypeName {
    IcmpTypeName {
        number,
        name,
        keyword,
        ping,
    }
}

/// The ICMP types pktforge knows by name (RFC 792, 950, 1256).
pub const ICMP_TYPES: [IcmpTypeName; 15] = [
    t(0, "Echo Reply", "echo-reply", "Echo Reply"),
    t(3, "Destination Unreachable", "unreach", "Dest Unreachable"),
    t(4, "Source Quench", "source-quench", "Source Quench"),
    t(5, "Redirect", "redirect", "Redirect"),
    t(8, "Echo Request", "echo-request", "Echo Request"),
    t(
        9,
        "Router Advertisement",
        "router-advert",
        "Router Advertisement",
    ),
    t(
        10,
        "Router Solicitation",
        "router-solicit",
        "Router Solicitation",
    ),
    t(11, "Time Exceeded", "time-exceeded", "Time exceeded"),
    t(
        12,
        "Parameter Problem",
        "param-problem",
        "Parameter problem",
    ),
    t(13, "Timestamp Request", "timestamp", "Timestamp"),
    t(14, "Timestamp Reply", "timestamp-reply", "Timestamp Reply"),
    t(
        15,
        "Information Request",
        "info-request",
        "Information Request",
    ),
    t(16, "Information Reply", "info-reply", "Information Reply"),
    t(
        17,
        "Address Mask Request",
        "mask-request",
        "Address Mask Request",
    ),
    t(18, "Address Mask Reply", "mask-reply", "Address Mask Reply"),
];

/// The entry for ICMP type `number`, if it has a name.
pub fn icmp_type(number: u8) -> Option<&'static IcmpTypeName> {
    ICMP_TYPES.iter().find(|e| e.number == number)
}

/// Wireshark-style name of ICMP type `number`, "Unknown" when it has none.
pub fn icmp_type_name(number: u8) -> &'static str {
    icmp_type(number).map_or("Unknown", |e| e.name)
}

/// The ICMP type a filter keyword names ("echo" is also accepted for echo-request), or a number.
pub fn icmp_type_by_keyword(word: &str) -> Option<u8> {
    if word == "echo" {
        return Some(8);
    }
    ICMP_TYPES
        .iter()
        .find(|e| e.keyword == word)
        .map(|e| e.number)
        .or_else(|| word.parse().ok())
}

/// One ICMP code of a type that has codes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IcmpCodeName {
    /// The type number.
    pub icmp_type: u8,
    /// The code number.
    pub code: u8,
    /// RFC wording, lower case, as the dissector shows it ("host unreachable").
    pub name: &'static str,
    /// iputils-ping wording ("Destination Host Unreachable"); empty where ping words the code
    /// with a value (fragmentation needed: "... (mtu = N)").
    pub ping: &'static str,
}

const fn c(icmp_type: u8, code: u8, name: &'static str, ping: &'static str) -> IcmpCodeName {
    IcmpCodeName {
        icmp_type,
        code,
        name,
        ping,
    }
}

/// Codes of destination unreachable (3), redirect (5), time exceeded (11) and parameter
/// problem (12).
pub const ICMP_CODES: [IcmpCodeName; 25] = [
    c(3, 0, "net unreachable", "Destination Net Unreachable"),
    c(3, 1, "host unreachable", "Destination Host Unreachable"),
    c(
        3,
        2,
        "protocol unreachable",
        "Destination Protocol Unreachable",
    ),
    c(3, 3, "port unreachable", "Destination Port Unreachable"),
    c(3, 4, "fragmentation needed and DF set", ""),
    c(3, 5, "source route failed", "Source Route Failed"),
    c(
        3,
        6,
        "destination network unknown",
        "Destination Net Unknown",
    ),
    c(3, 7, "destination host unknown", "Destination Host Unknown"),
    c(3, 8, "source host isolated", "Source Host Isolated"),
    c(
        3,
        9,
        "network administratively prohibited",
        "Destination Net Prohibited",
    ),
    c(
        3,
        10,
        "host administratively prohibited",
        "Destination Host Prohibited",
    ),
    c(
        3,
        11,
        "network unreachable for TOS",
        "Destination Net Unreachable for Type of Service",
    ),
    c(
        3,
        12,
        "host unreachable for TOS",
        "Destination Host Unreachable for Type of Service",
    ),
    c(
        3,
        13,
        "communication administratively prohibited",
        "Packet filtered",
    ),
    c(3, 14, "host precedence violation", "Precedence Violation"),
    c(3, 15, "precedence cutoff in effect", "Precedence Cutoff"),
    c(5, 0, "redirect for network", "Redirect Network"),
    c(5, 1, "redirect for host", "Redirect Host"),
    c(
        5,
        2,
        "redirect for TOS and network",
        "Redirect Type of Service and Network",
    ),
    c(
        5,
        3,
        "redirect for TOS and host",
        "Redirect Type of Service and Host",
    ),
    c(11, 0, "TTL exceeded in transit", "Time to live exceeded"),
    c(
        11,
        1,
        "fragment reassembly time exceeded",
        "Frag reassembly time exceeded",
    ),
    c(12, 0, "pointer indicates the error", ""),
    c(12, 1, "missing a required option", ""),
    c(12, 2, "bad length", ""),
];

/// The entry for `code` of ICMP type `icmp_type`, if it has a name.
pub fn icmp_code(icmp_type: u8, code: u8) -> Option<&'static IcmpCodeName> {
    ICMP_CODES
        .iter()
        .find(|e| e.icmp_type == icmp_type && e.code == code)
}

/// Whether ICMP type `t` has named codes (so any other code is unexpected).
pub fn icmp_type_has_codes(t: u8) -> bool {
    ICMP_CODES.iter().any(|e| e.icmp_type == t)
}

/// Name of an EtherType, if known ("IPv4", "ARP", "802.1Q", "802.1ad", "IPv6").
pub fn ethertype_name(t: u16) -> Option<&'static str> {
    Some(match t {
        0x0800 => "IPv4",
        0x0806 => "ARP",
        0x8100 => "802.1Q",
        0x88a8 => "802.1ad",
        0x9100 => "802.1Q (QinQ, 0x9100)",
        0x86dd => "IPv6",
        _ => return None,
    })
}

/// Name of an IP protocol number, if known ("ICMP", "TCP", ...).
pub fn ip_proto_name(p: u8) -> Option<&'static str> {
    Some(match p {
        1 => "ICMP",
        2 => "IGMP",
        4 => "IPIP",
        6 => "TCP",
        17 => "UDP",
        47 => "GRE",
        50 => "ESP",
        _ => return None,
    })
}

/// The IP option types IANA lists ("IP Option Numbers"), with the name Wireshark gives each
/// (its wording where it names one) and the short name: (type, long name, short name).
pub const IP_OPTIONS: &[(u8, &str, &str)] = &[
    (0, "End of Options List (EOL)", "EOL"),
    (1, "No-Operation (NOP)", "NOP"),
    (7, "Record Route (RR)", "RR"),
    (10, "Experimental Measurement (ZSU)", "ZSU"),
    (11, "MTU Probe (MTUP)", "MTUP"),
    (12, "MTU Reply (MTUR)", "MTUR"),
    (15, "Encode (ENCODE)", "ENCODE"),
    (25, "Quick-Start (QS)", "QS"),
    (30, "RFC3692-style Experiment (EXP)", "EXP"),
    (68, "Time Stamp (TS)", "TS"),
    (82, "Traceroute (TR)", "TR"),
    (94, "RFC3692-style Experiment (EXP)", "EXP"),
    (130, "Security (SEC)", "SEC"),
    (131, "Loose Source Route (LSRR)", "LSRR"),
    (133, "Extended Security (E-SEC)", "E-SEC"),
    (134, "Commercial Security (CIPSO)", "CIPSO"),
    (136, "Stream ID (SID)", "SID"),
    (137, "Strict Source Route (SSRR)", "SSRR"),
    (142, "Experimental Access Control (VISA)", "VISA"),
    (144, "IMI Traffic Descriptor (IMITD)", "IMITD"),
    (145, "Extended Internet Protocol (EIP)", "EIP"),
    (147, "Address Extension (ADDEXT)", "ADDEXT"),
    (148, "Router Alert (RTRALT)", "RA"),
    (149, "Selective Directed Broadcast (SDB)", "SDB"),
    (151, "Dynamic Packet State (DPS)", "DPS"),
    (152, "Upstream Multicast Packet (UMP)", "UMP"),
    (158, "RFC3692-style Experiment (EXP)", "EXP"),
    (205, "Experimental Flow Control (FINN)", "FINN"),
    (222, "RFC3692-style Experiment (EXP)", "EXP"),
];

/// The long and short names of IP option type `t`, when IANA lists it.
pub fn ip_option(t: u8) -> Option<(&'static str, &'static str)> {
    IP_OPTIONS
        .iter()
        .find(|o| o.0 == t)
        .map(|&(_, long, short)| (long, short))
}

/// Short name of an IP option type ("RR", "LSRR", ...), "unknown" when it has none.
pub fn ip_option_short_name(t: u8) -> &'static str {
    ip_option(t).map_or("unknown", |o| o.1)
}

/// Long name of an IP option type, as the dissector titles it ("Record Route (RR)"); "Option"
/// for types without one.
pub fn ip_option_long_name(t: u8) -> &'static str {
    ip_option(t).map_or("Option", |o| o.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_iana_ip_option_is_named() {
        for (t, long, short) in [
            (0, "End of Options List (EOL)", "EOL"),
            (1, "No-Operation (NOP)", "NOP"),
            (7, "Record Route (RR)", "RR"),
            (10, "Experimental Measurement (ZSU)", "ZSU"),
            (11, "MTU Probe (MTUP)", "MTUP"),
            (12, "MTU Reply (MTUR)", "MTUR"),
            (15, "Encode (ENCODE)", "ENCODE"),
            (25, "Quick-Start (QS)", "QS"),
            (68, "Time Stamp (TS)", "TS"),
            (82, "Traceroute (TR)", "TR"),
            (130, "Security (SEC)", "SEC"),
            (131, "Loose Source Route (LSRR)", "LSRR"),
            (133, "Extended Security (E-SEC)", "E-SEC"),
            (134, "Commercial Security (CIPSO)", "CIPSO"),
            (136, "Stream ID (SID)", "SID"),
            (137, "Strict Source Route (SSRR)", "SSRR"),
            (142, "Experimental Access Control (VISA)", "VISA"),
            (144, "IMI Traffic Descriptor (IMITD)", "IMITD"),
            (145, "Extended Internet Protocol (EIP)", "EIP"),
            (147, "Address Extension (ADDEXT)", "ADDEXT"),
            (148, "Router Alert (RTRALT)", "RA"),
            (149, "Selective Directed Broadcast (SDB)", "SDB"),
            (151, "Dynamic Packet State (DPS)", "DPS"),
            (152, "Upstream Multicast Packet (UMP)", "UMP"),
            (205, "Experimental Flow Control (FINN)", "FINN"),
        ] {
            assert_eq!(ip_option_long_name(t), long, "{t}");
            assert_eq!(ip_option_short_name(t), short, "{t}");
        }
        for t in [30, 94, 158, 222] {
            assert_eq!(ip_option_long_name(t), "RFC3692-style Experiment (EXP)");
        }
        // Unassigned numbers have no name.
        for t in [2, 50, 150, 255] {
            assert_eq!(ip_option_long_name(t), "Option");
            assert_eq!(ip_option_short_name(t), "unknown");
        }
        for (i, a) in IP_OPTIONS.iter().enumerate() {
            assert!(IP_OPTIONS[i + 1..].iter().all(|b| b.0 != a.0), "{}", a.0);
        }
    }

    #[test]
    fn one_entry_per_number_and_keyword() {
        for (i, a) in ICMP_TYPES.iter().enumerate() {
            for b in &ICMP_TYPES[i + 1..] {
                assert_ne!(a.number, b.number);
                assert_ne!(a.keyword, b.keyword);
            }
            assert_eq!(icmp_type_by_keyword(a.keyword), Some(a.number));
        }
        for (i, a) in ICMP_CODES.iter().enumerate() {
            for b in &ICMP_CODES[i + 1..] {
                assert!((a.icmp_type, a.code) != (b.icmp_type, b.code));
            }
        }
        assert_eq!(icmp_type_by_keyword("echo"), Some(8));
        assert_eq!(icmp_type_by_keyword("200"), Some(200));
        assert_eq!(icmp_type_by_keyword("nope"), None);
        assert_eq!(icmp_type_name(11), "Time Exceeded");
        assert_eq!(icmp_type_name(99), "Unknown");
    }
}

/// One TCP flag: its bit (as in [`crate::wire::tcp::flags`]), tcpdump's letter for `--flags`
/// and its name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TcpFlagName {
    /// The bit in the 9-bit flags value.
    pub bit: u16,
    /// The letter tcpdump's `tcpflags` and hping3 use (`S`, `A`...).
    pub letter: char,
    /// Its name (`SYN`).
    pub name: &'static str,
}

/// The TCP flags, FIN first (tcpdump's letters `SFRPAUEC`, plus `N` for NS/AE).
pub const TCP_FLAGS: [TcpFlagName; 9] = [
    TcpFlagName {
        bit: 0x001,
        letter: 'F',
        name: "FIN",
    },
    TcpFlagName {
        bit: 0x002,
        letter: 'S',
        name: "SYN",
    },
    TcpFlagName {
        bit: 0x004,
        letter: 'R',
        name: "RST",
    },
    TcpFlagName {
        bit: 0x008,
        letter: 'P',
        name: "PSH",
    },
    TcpFlagName {
        bit: 0x010,
        letter: 'A',
        name: "ACK",
    },
    TcpFlagName {
        bit: 0x020,
        letter: 'U',
        name: "URG",
    },
    TcpFlagName {
        bit: 0x040,
        letter: 'E',
        name: "ECE",
    },
    TcpFlagName {
        bit: 0x080,
        letter: 'C',
        name: "CWR",
    },
    TcpFlagName {
        bit: 0x100,
        letter: 'N',
        name: "NS",
    },
];

/// Names of the flags set in `f`, e.g. "SYN, ACK" ("none").
pub fn tcp_flag_names(f: u16) -> String {
    let v: Vec<&str> = TCP_FLAGS
        .iter()
        .filter(|e| f & e.bit != 0)
        .map(|e| e.name)
        .collect();
    if v.is_empty() {
        "none".into()
    } else {
        v.join(", ")
    }
}

/// Name of a TCP option kind (RFC 9293, 7323, 2018), as Wireshark titles it.
pub fn tcp_option_name(kind: u8) -> &'static str {
    match kind {
        0 => "End of Option List (EOL)",
        1 => "No-Operation (NOP)",
        2 => "Maximum segment size",
        3 => "Window scale",
        4 => "SACK permitted",
        5 => "SACK",
        8 => "Timestamps",
        28 => "User Timeout",
        29 => "TCP Authentication Option (TCP-AO)",
        30 => "Multipath TCP (MPTCP)",
        34 => "TCP Fast Open Cookie",
        _ => "Unknown option",
    }
}

/// One ICMPv6 type: its number and the names different readers show.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Icmpv6TypeName {
    /// The type number.
    pub number: u8,
    /// Name as Wireshark shows it ("Echo (ping) request").
    pub name: &'static str,
    /// tcpdump's filter keyword ("icmp6-echo").
    pub keyword: &'static str,
    /// tcpdump's one-line wording ("echo request").
    pub line: &'static str,
}

const fn t6(
    number: u8,
    name: &'static str,
    keyword: &'static str,
    line: &'static str,
) -> Icmpv6TypeName {
    Icmpv6TypeName {
        number,
        name,
        keyword,
        line,
    }
}

/// The ICMPv6 types pktforge knows by name (RFC 4443, 4861).
pub const ICMPV6_TYPES: [Icmpv6TypeName; 11] = [
    t6(
        1,
        "Destination Unreachable",
        "icmp6-destinationunreach",
        "destination unreachable",
    ),
    t6(2, "Packet Too Big", "icmp6-packettoobig", "packet too big"),
    t6(
        3,
        "Time Exceeded",
        "icmp6-timeexceeded",
        "time exceeded in-transit",
    ),
    t6(
        4,
        "Parameter Problem",
        "icmp6-parameterproblem",
        "parameter problem",
    ),
    t6(128, "Echo (ping) request", "icmp6-echo", "echo request"),
    t6(129, "Echo (ping) reply", "icmp6-echoreply", "echo reply"),
    t6(
        133,
        "Router Solicitation",
        "icmp6-routersolicit",
        "router solicitation",
    ),
    t6(
        134,
        "Router Advertisement",
        "icmp6-routeradvert",
        "router advertisement",
    ),
    t6(
        135,
        "Neighbor Solicitation",
        "icmp6-neighborsolicit",
        "neighbor solicitation",
    ),
    t6(
        136,
        "Neighbor Advertisement",
        "icmp6-neighboradvert",
        "neighbor advertisement",
    ),
    t6(137, "Redirect", "icmp6-redirect", "redirect"),
];

/// The entry for ICMPv6 type `number`, if it has a name.
pub fn icmpv6_type(number: u8) -> Option<&'static Icmpv6TypeName> {
    ICMPV6_TYPES.iter().find(|e| e.number == number)
}

/// Named codes of ICMPv6 Destination Unreachable (1), Time Exceeded (3) and Parameter Problem
/// (4), as IANA words them: `(type, code, name)`.
pub const ICMPV6_CODES: [(u8, u8, &str); 22] = [
    (1, 0, "No route to destination"),
    (
        1,
        1,
        "Communication with destination administratively prohibited",
    ),
    (1, 2, "Beyond scope of source address"),
    (1, 3, "Address unreachable"),
    (1, 4, "Port unreachable"),
    (1, 5, "Source address failed ingress/egress policy"),
    (1, 6, "Reject route to destination"),
    (1, 7, "Error in Source Routing Header"),
    (1, 8, "Headers too long"),
    (3, 0, "Hop limit exceeded in transit"),
    (3, 1, "Fragment reassembly time exceeded"),
    (4, 0, "Erroneous header field encountered"),
    (4, 1, "Unrecognized Next Header type encountered"),
    (4, 2, "Unrecognized IPv6 option encountered"),
    (4, 3, "IPv6 First Fragment has incomplete IPv6 Header Chain"),
    (4, 4, "SR Upper-layer Header Error"),
    (
        4,
        5,
        "Unrecognized Next Header type encountered by intermediate node",
    ),
    (4, 6, "Extension header too big"),
    (4, 7, "Extension header chain too long"),
    (4, 8, "Too many extension headers"),
    (4, 9, "Too many options in extension header"),
    (4, 10, "Option too big"),
];

/// The IANA name of `code` of ICMPv6 type `icmp_type`, if it has one.
pub fn icmpv6_code(icmp_type: u8, code: u8) -> Option<&'static str> {
    ICMPV6_CODES
        .iter()
        .find(|e| e.0 == icmp_type && e.1 == code)
        .map(|e| e.2)
}

/// Name of a Hop-by-Hop / Destination Options option type (IANA), if it has one.
pub fn ipv6_option_name(t: u8) -> Option<&'static str> {
    Some(match t {
        0x00 => "Pad1",
        0x01 => "PadN",
        0x04 => "Tunnel Encapsulation Limit",
        0x05 => "Router Alert",
        0x07 => "CALIPSO",
        0x08 => "SMF_DPD",
        0x26 => "Quick-Start",
        0x31 => "IOAM",
        0x63 => "RPL Option",
        0x6d => "MPL Option",
        0x8b => "ILNP Nonce",
        0x8c => "Line-Identification Option",
        0xc2 => "Jumbo Payload",
        0xc9 => "Home Address",
        0xee => "IP_DFF",
        _ => return None,
    })
}

/// Name of an NDP option type (IANA), if it has one.
pub fn ndp_option_name(t: u8) -> Option<&'static str> {
    Some(match t {
        1 => "Source link-layer address",
        2 => "Target link-layer address",
        3 => "Prefix information",
        4 => "Redirected header",
        5 => "MTU",
        14 => "Nonce",
        24 => "Route Information",
        25 => "Recursive DNS Server",
        31 => "DNS Search List",
        38 => "PREF64",
        _ => return None,
    })
}
