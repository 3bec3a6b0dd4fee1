//! Round-trip checks shared by the fuzz targets (public pktforge API only).
//!
//! Each `check_*` parses its input, rebuilds what it parsed with the library's own emitters,
//! parses that again and asserts the two parses agree; where the input was canonical (right
//! checksums, no bytes the `Repr` does not keep) it also asserts the rebuilt bytes are the
//! input's. A failed assertion panics with the input as hex, which libFuzzer reports as a crash.

// Lists of one byte range are what they look like (not a range of counts).
#![allow(clippy::single_range_in_vec_init)]

use std::ops::Range;

use pktforge::wire::{
    emit_options, parse_options, IcmpMessage, IcmpRepr, IpOption, Ipv4Repr, ParsedIcmp, ParsedIpv4,
};

/// Lower-case hex of `b`, for assertion messages.
pub fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

/// Byte ranges of an ICMP message (`m` as parsed) that [`IcmpRepr`] does not keep, so emit
/// writes zeros there: "unused" words of errors, the reserved word of a solicitation, the
/// padding words of router advertisement entries larger than 2 words.
pub fn icmp_unkept(m: &[u8]) -> Vec<Range<usize>> {
    if m.len() < 8 {
        return Vec::new();
    }
    match m[0] {
        3 => vec![4..6],
        4 | 10 | 11 => vec![4..8],
        12 => vec![5..8],
        9 => {
            let (n, size) = (usize::from(m[4]), usize::from(m[5]).max(2));
            let stride = size * 4;
            (0..n)
                .map(|i| 8 + i * stride + 8..8 + (i + 1) * stride)
                .filter(|r| r.start < r.end)
                .collect()
        }
        _ => Vec::new(),
    }
}

/// The bytes of an option area after an EOL (parsing stops there; emit pads with zeros).
pub fn options_unkept(area: &[u8], opts: &[IpOption]) -> Option<Range<usize>> {
    if opts.last() == Some(&IpOption::EndOfList) {
        let used: usize = opts.iter().map(IpOption::wire_len).sum();
        Some(used..area.len())
    } else {
        None
    }
}

/// Whether `b` has a non-zero byte in any of `ranges` (clamped to `b`).
pub fn nonzero_in(b: &[u8], ranges: &[Range<usize>]) -> bool {
    ranges.iter().any(|r| {
        b[r.start.min(b.len())..r.end.min(b.len())]
            .iter()
            .any(|&x| x != 0)
    })
}

/// Assert `rebuilt` equals `orig` except inside `unkept` (where `rebuilt` must be zero) and,
/// if a byte there was not zero or the stored checksum was wrong, inside `checksums`.
pub fn assert_same_bytes(
    what: &str,
    orig: &[u8],
    rebuilt: &[u8],
    unkept: &[Range<usize>],
    checksums: &[Range<usize>],
    checksum_was_ok: bool,
) {
    assert_eq!(
        orig.len(),
        rebuilt.len(),
        "{what}: length, input {}",
        hex(orig)
    );
    let lossy = nonzero_in(orig, unkept) || !checksum_was_ok;
    for i in 0..orig.len() {
        let in_unkept = unkept.iter().any(|r| r.contains(&i));
        let field = checksums.iter().find(|r| r.contains(&i));
        if in_unkept {
            assert_eq!(
                rebuilt[i],
                0,
                "{what}: unkept byte {i} not zeroed: {}",
                hex(orig)
            );
        } else if let Some(r) = field.filter(|_| lossy) {
            // The checksum is recomputed over what was kept.
            let _ = r;
        } else if let Some(r) = field {
            // A verifying checksum of 0xffff is one's-complement zero: emit writes 0x0000.
            let (a, b) = (&orig[r.clone()], &rebuilt[r.clone()]);
            assert!(
                a == b || (a.iter().all(|&x| x == 0xff) && b.iter().all(|&x| x == 0)),
                "{what}: checksum {} rebuilt as {}: {}",
                hex(a),
                hex(b),
                hex(orig)
            );
        } else {
            assert_eq!(
                orig[i],
                rebuilt[i],
                "{what}: byte {i} changed in the round trip\n input {}\n built {}",
                hex(orig),
                hex(rebuilt)
            );
        }
    }
}

/// `parse_options` → `emit_options` → `parse_options`. Returns the parsed options.
pub fn check_options(area: &[u8]) -> Vec<IpOption> {
    let opts = parse_options(area);
    let used: usize = opts.iter().map(IpOption::wire_len).sum();
    let ends_eol = opts.last() == Some(&IpOption::EndOfList);
    if ends_eol {
        assert!(
            used <= area.len(),
            "options longer than their area: {}",
            hex(area)
        );
    } else {
        assert_eq!(
            used,
            area.len(),
            "options do not cover their area: {}",
            hex(area)
        );
    }
    for o in &opts {
        let _ = o.to_string();
        assert!(o.wire_len() >= 1);
        let slots = match o {
            IpOption::RecordRoute { slots: a, .. }
            | IpOption::LooseSourceRoute { route: a, .. }
            | IpOption::StrictSourceRoute { route: a, .. } => a.len(),
            _ => 0,
        };
        assert!(o.recorded().len() <= slots);
        if let IpOption::Timestamp { entries, .. } = o {
            assert!(o.stamped().len() <= entries.len());
        }
    }
    // An IPv4 option area is a multiple of 4 bytes, at most 40: only there must emit (which
    // pads to 4) give the same parse back.
    if area.len() > 40 || !area.len().is_multiple_of(4) {
        return opts;
    }
    let bytes = emit_options(&opts).expect("options parsed from at most 40 bytes emit");
    assert_eq!(
        &bytes[..used],
        &area[..used],
        "options not rebuilt byte for byte: {}",
        hex(area)
    );
    assert!(bytes[used..].iter().all(|&b| b == 0), "padding not EOL");
    let again = parse_options(&bytes);
    let mut want = opts.clone();
    if !ends_eol && !used.is_multiple_of(4) {
        want.push(IpOption::EndOfList); // emit padded to 4 with EOL
    }
    assert_eq!(
        again,
        want,
        "options changed in the round trip: {}",
        hex(area)
    );
    opts
}

/// `Ipv4Repr::parse` → `emit` → `parse` over `b` (a datagram, or a quote of one).
/// Returns the parse, if any.
pub fn check_ipv4(b: &[u8]) -> Option<(ParsedIpv4, &[u8])> {
    let (ip, payload) = Ipv4Repr::parse_bytes(b).ok()?;
    let hl = ip.header_len;
    assert_eq!(hl, usize::from(b[0] & 0x0f) * 4);
    assert!(hl + payload.len() <= b.len());
    assert!(hl + payload.len() <= usize::from(ip.total_len));
    let area = &b[20..hl];
    assert_eq!(check_options(area), ip.repr.options);
    // Rebuild without lies: the header changes only where the Repr keeps nothing.
    let mut buf = vec![0u8; 60 + payload.len()];
    let hl2 = ip
        .repr
        .emit(&mut buf, payload.len())
        .expect("a parsed IPv4 header emits");
    buf.truncate(hl2);
    buf.extend_from_slice(payload);
    let (ip2, payload2) = Ipv4Repr::parse_bytes(&buf).expect("an emitted header parses");
    assert_eq!(
        ip2.repr,
        ip.repr,
        "IPv4 header changed in the round trip: {}",
        hex(b)
    );
    assert!(
        ip2.checksum_ok,
        "emitted IPv4 checksum wrong: {}",
        hex(&buf)
    );
    assert_eq!(usize::from(ip2.total_len), buf.len());
    assert_eq!(payload2, payload);
    let full = hl + payload.len() == usize::from(ip.total_len);
    if hl2 == hl && full {
        let unkept: Vec<_> = options_unkept(area, &ip.repr.options)
            .map(|r| r.start + 20..r.end + 20)
            .into_iter()
            .collect();
        assert_same_bytes(
            "IPv4 header",
            &b[..hl],
            &buf[..hl],
            &unkept,
            &[10..12],
            ip.checksum_ok,
        );
    }
    Some((ip, payload))
}

/// `IcmpRepr::parse` → `emit` → `parse` over `m` (an ICMP message), then the same for the
/// datagram an error quotes, and for ICMP inside that, 8 levels deep at most (no recursion).
pub fn check_icmp(m: &[u8]) -> Option<ParsedIcmp> {
    let first = check_one_icmp(m)?;
    let mut p = first.clone();
    for _ in 0..8 {
        let Some(q) = p.repr.message.quote() else {
            break;
        };
        let quote = p
            .repr
            .message
            .quote_bytes()
            .expect("errors have quote bytes");
        let Ok(q) = q else { break };
        let (ip, payload) = check_ipv4(quote).expect("quote() parsed it");
        assert_eq!(q.ip, ip);
        assert_eq!(q.payload, payload);
        let idseq = q.echo_id_seq();
        let is_echo = ip.repr.protocol == 1 && payload.len() >= 8 && matches!(payload[0], 0 | 8);
        assert_eq!(idseq.is_some(), is_echo);
        if ip.repr.protocol != 1 {
            break;
        }
        match check_one_icmp(payload) {
            Some(inner) => p = inner,
            None => break,
        }
    }
    Some(first)
}

fn check_one_icmp(m: &[u8]) -> Option<ParsedIcmp> {
    let p = IcmpRepr::parse_bytes(m).ok()?;
    let _ = p.describe();
    assert_eq!(p.icmp_type, m[0]);
    assert_eq!(p.repr.message.icmp_type(), m[0]);
    if let IcmpMessage::ParameterProblem { pointer, quote, .. } = &p.repr.message {
        let _ = pktforge::wire::explain_pointer(quote, *pointer);
    }
    let mut r = p.repr.clone();
    r.code_override = Some(p.code);
    let len = r.buffer_len();
    assert!(
        len <= m.len(),
        "ICMP rebuilt longer than parsed: {}",
        hex(m)
    );
    let mut buf = vec![0u8; len];
    r.emit(&mut buf).expect("the buffer is sized for it");
    let p2 = IcmpRepr::parse_bytes(&buf).expect("an emitted ICMP message parses");
    assert_eq!(p2.repr.message, p.repr.message, "ICMP changed: {}", hex(m));
    assert_eq!((p2.icmp_type, p2.code), (p.icmp_type, p.code));
    assert!(p2.checksum_ok);
    if len == m.len() {
        assert_same_bytes("ICMP", m, &buf, &icmp_unkept(m), &[2..4], p.checksum_ok);
    }
    Some(p)
}

/// `parse_frame` → rebuild (Ethernet, ARP, IPv4 with its payload or ICMP) → `parse_frame`.
pub fn check_frame(b: &[u8]) {
    use pktforge::wire::{build_icmp_frame, parse_frame, ArpRepr, EthernetRepr, L3, L4};
    if let Ok((eth, n)) = EthernetRepr::parse_bytes(b) {
        // The Repr keeps every tag with its TPID: the header comes back byte for byte.
        assert_eq!(n, eth.header_len(), "header {n} bytes");
        let mut out = vec![0u8; n];
        eth.emit(&mut out).expect("the buffer is sized for it");
        assert_eq!(
            &out[..],
            &b[..n],
            "Ethernet header not rebuilt byte for byte"
        );
        assert_eq!(eth.vlans.header_len_in(b), Some(n), "own stack not matched");
    }
    let Ok(f) = parse_frame(b) else { return };
    let eh = f.eth.header_len();
    let rest = &b[eh..];
    let mut rebuilt = vec![0u8; eh];
    f.eth
        .emit(&mut rebuilt)
        .expect("the buffer is sized for it");
    match &f.l3 {
        L3::Other(p) => assert_eq!(p, rest),
        L3::Arp(a) => {
            let mut out = [0u8; ArpRepr::BUFFER_LEN];
            a.emit(&mut out).expect("the buffer is sized for it");
            assert_eq!(
                &out[..],
                &rest[..ArpRepr::BUFFER_LEN],
                "ARP not rebuilt exactly"
            );
            assert_eq!(ArpRepr::parse(&out).as_ref(), Ok(a));
        }
        L3::Ipv4 { ip, l4 } => {
            let (ip_again, payload) = check_ipv4(rest).expect("parse_frame parsed it");
            assert_eq!(&ip_again, ip);
            let frame = match l4 {
                L4::Icmp(p) => {
                    assert_eq!(check_icmp(payload).as_ref(), Some(p));
                    let mut ic = p.repr.clone();
                    ic.code_override = Some(p.code);
                    build_icmp_frame(&f.eth, &ip.repr, &ic).expect("parsed frame rebuilds")
                }
                L4::Malformed { bytes, error } => {
                    assert_eq!(bytes, payload);
                    assert_eq!(IcmpRepr::parse_bytes(payload).err().as_ref(), Some(error));
                    with_payload(rebuilt, &ip.repr, bytes)
                }
                L4::Other(bytes) => {
                    assert_eq!(bytes, payload);
                    with_payload(rebuilt, &ip.repr, bytes)
                }
            };
            let f2 = parse_frame(&frame).expect("a rebuilt frame parses");
            assert_eq!(f2.eth, f.eth);
            let L3::Ipv4 { ip: ip2, l4: l42 } = &f2.l3 else {
                panic!("rebuilt frame is not IPv4: {}", hex(b))
            };
            assert_eq!(ip2.repr, ip.repr);
            match (l4, l42) {
                (L4::Icmp(p), L4::Icmp(p2)) => {
                    assert_eq!((&p2.repr.message, p2.code), (&p.repr.message, p.code));
                    assert!(p2.checksum_ok);
                }
                (L4::Other(a), L4::Other(c)) => assert_eq!(a, c),
                (L4::Malformed { bytes: a, .. }, L4::Malformed { bytes: c, .. }) => {
                    assert_eq!(a, c)
                }
                (x, y) => panic!("payload kind changed: {x:?} → {y:?}\n input {}", hex(b)),
            }
        }
    }
}

fn with_payload(mut frame: Vec<u8>, ip: &Ipv4Repr, payload: &[u8]) -> Vec<u8> {
    let eh = frame.len();
    frame.resize(eh + 60, 0);
    let hl = ip
        .emit(&mut frame[eh..], payload.len())
        .expect("a parsed IPv4 header emits");
    frame.truncate(eh + hl);
    frame.extend_from_slice(payload);
    frame
}

/// Make the IPv4 header checksum and (unfragmented) ICMP checksum of an Ethernet frame right,
/// in place, so code behind a checksum test is reachable from mutated input.
pub fn fix_checksums(f: &mut [u8]) {
    let at = match f.get(12..14) {
        Some([0x81, 0x00]) if f.get(16..18) == Some(&[0x08, 0x00]) => 18,
        Some([0x08, 0x00]) => 14,
        _ => return,
    };
    let Some(&vihl) = f.get(at) else { return };
    let hl = usize::from(vihl & 0x0f) * 4;
    if hl < 20 || f.len() < at + hl {
        return;
    }
    f[at + 10..at + 12].fill(0);
    let c = pktforge::wire::checksum(&f[at..at + hl]);
    f[at + 10..at + 12].copy_from_slice(&c.to_be_bytes());
    let total = usize::from(u16::from_be_bytes([f[at + 2], f[at + 3]]));
    let frag = u16::from_be_bytes([f[at + 6], f[at + 7]]) & 0x1fff;
    let end = (at + total).min(f.len());
    if f[at + 9] == 1 && frag == 0 && end >= at + hl + 4 {
        let m = &mut f[at + hl..end];
        m[2..4].fill(0);
        let c = pktforge::wire::checksum(m);
        m[2..4].copy_from_slice(&c.to_be_bytes());
    }
}

/// An IPv6 packet through every IPv6 reader: the header, the extension-header walker, each
/// header's `Repr` (Routing and Fragment rebuilt byte for byte, options re-parsed alike), the
/// upper layer's ICMPv6 parse → emit → parse, an error's quote and pointer; then the packet cut
/// into fragments at an MTU picked by its first byte comes back whole from the reassembler in
/// reverse order. Never panics except on a failed assertion.
pub fn check_ipv6(data: &[u8]) {
    use pktforge::wire::frag6::{fragment6, Reassembler6};
    use pktforge::wire::icmpv6::explain_pointer6;
    use pktforge::wire::ipv6ext::{
        final_destination, FragmentHeader, FragmentRepr, Ipv6Option, OptionIter, OptionsRepr,
        RoutingRepr,
    };
    use pktforge::wire::{
        ChainEnd, ExtChain, ExtHeaderRepr, ExtKind, Icmpv6Repr, Ipv6Repr, WireError,
    };
    use std::time::{Duration, Instant};

    let now = Instant::now();
    let mut r = Reassembler6::new(Duration::from_secs(60), 64 << 10);
    let _ = r.push(data, now);
    let Ok((ip, payload)) = Ipv6Repr::parse_bytes(data) else {
        return;
    };
    let mut chain = ExtChain::new(ip.repr.next_header, payload);
    for h in &mut chain {
        let Ok(h) = h else { break };
        let parsed = ExtHeaderRepr::parse(&h);
        for o in OptionIter::new(h.bytes).flatten() {
            let _ = Ipv6Option::parse(&o);
        }
        let Ok(parsed) = parsed else { continue };
        match (&parsed, h.kind) {
            (ExtHeaderRepr::HopByHop(o) | ExtHeaderRepr::DestOpts(o), _) => {
                if let Ok(n) = o.buffer_len() {
                    let mut b = vec![0u8; n];
                    o.emit(&mut b, h.bytes[0]).expect("emit within buffer_len");
                    let again = OptionsRepr::parse(&b).expect("emitted options parse");
                    let named = |r: &OptionsRepr| -> Vec<Ipv6Option> {
                        r.options
                            .iter()
                            .filter(|x| !matches!(x, Ipv6Option::Pad1 | Ipv6Option::PadN(_)))
                            .cloned()
                            .collect()
                    };
                    assert_eq!(named(o), named(&again), "options: {}", hex(h.bytes));
                }
            }
            (ExtHeaderRepr::Routing(rt), _) => {
                // What was read is rebuilt, except what the builder refuses on purpose (an
                // HMAC TLV of a size RFC 8754 does not allow): that refusal names its limit.
                let n = match rt.buffer_len() {
                    Ok(n) => n,
                    Err(WireError::Limit(_)) => continue,
                    Err(e) => panic!("a parsed routing header fits: {e}: {}", hex(h.bytes)),
                };
                let mut b = vec![0u8; n];
                rt.emit(&mut b, h.bytes[0]).expect("emit within buffer_len");
                assert_eq!(
                    RoutingRepr::parse(&b).as_ref(),
                    Ok(rt),
                    "routing: {}",
                    hex(h.bytes)
                );
                let exact = !matches!(rt, RoutingRepr::Type0 { .. })
                    || (h.bytes.len() - 8).is_multiple_of(16);
                if exact {
                    assert_eq!(b, h.bytes, "routing rebuilt: {}", hex(h.bytes));
                }
            }
            (ExtHeaderRepr::Fragment(f), ExtKind::Fragment) => {
                let mut b = [0u8; 8];
                f.emit(&mut b, h.bytes[0]).expect("a parsed offset fits");
                let v = FragmentHeader::new_checked(&b[..]).unwrap();
                assert_eq!(FragmentRepr::parse(&v), *f);
            }
            _ => {}
        }
    }
    let fd = final_destination(ip.repr.dst, ip.repr.next_header, payload);
    if let Some(ChainEnd::Upper {
        protocol: 58,
        offset,
    }) = chain.end()
    {
        if let Ok(m) = Icmpv6Repr::parse_bytes(&payload[offset..], ip.repr.src, fd) {
            let _ = m.repr.message.describe();
            if let Some(Ok(q)) = m.repr.message.quote() {
                let _ = q.upper_bytes();
                let _ = q.echo_id_seq();
            }
            if let pktforge::wire::Icmpv6Message::ParameterProblem { pointer, quote, .. } =
                &m.repr.message
            {
                let _ = explain_pointer6(quote, *pointer);
            }
            let mut b = vec![0u8; m.repr.buffer_len()];
            if m.repr.emit(&mut b, ip.repr.src, fd).is_ok() {
                let again = Icmpv6Repr::parse_bytes(&b, ip.repr.src, fd)
                    .expect("an emitted ICMPv6 message parses");
                assert_eq!(again.repr, m.repr, "ICMPv6: {}", hex(&payload[offset..]));
                assert!(
                    again.checksum_ok,
                    "ICMPv6 checksum: {}",
                    hex(&payload[offset..])
                );
            }
        }
    }
    // Fragment it and put it back together.
    let mtu = 1280usize.min(48 + usize::from(data[0] & 0x0f) * 8 + 64);
    if let Ok(pieces) = fragment6(data, mtu, 0x1234_5678) {
        if pieces.len() >= 2 {
            let total = 40 + usize::from(u16::from_be_bytes([data[4], data[5]]));
            let mut fresh = Reassembler6::new(Duration::from_secs(60), 1 << 20);
            let mut whole = None;
            for p in pieces.iter().rev() {
                assert!(p.len() <= mtu, "fragment over the MTU");
                whole = fresh.push(p, now).or(whole);
            }
            assert_eq!(
                whole.as_deref(),
                Some(&data[..total]),
                "reassembled: {}",
                hex(data)
            );
        }
    }
}
