//! TCP header (RFC 9293) with options (RFC 7323, 2018): a borrowed view and a `Repr`, the
//! checksum over the IPv4 pseudo-header.

use std::net::{Ipv4Addr, Ipv6Addr};

use pnet_packet::tcp::TcpPacket as PnetTcp;

use super::udp::pseudo_header_checksum;
use super::{be16, be32, WireError};

/// IP protocol number of TCP.
pub const IP_PROTO_TCP: u8 = 6;
/// Length of the TCP header without options.
pub const TCP_MIN_HEADER_LEN: usize = 20;
/// Most bytes of TCP options (data offset 15 = a 60-byte header).
pub const TCP_MAX_OPTIONS_LEN: usize = 40;

/// Byte ranges of the TCP header.
pub mod field {
    use std::ops::Range;
    /// Source port.
    pub const SRC_PORT: Range<usize> = 0..2;
    /// Destination port.
    pub const DST_PORT: Range<usize> = 2..4;
    /// Sequence number.
    pub const SEQ: Range<usize> = 4..8;
    /// Acknowledgment number.
    pub const ACK: Range<usize> = 8..12;
    /// Data offset (high nibble), reserved bits, and the NS/AE flag (low bit).
    pub const DATA_OFF: usize = 12;
    /// The eight flags CWR ECE URG ACK PSH RST SYN FIN.
    pub const FLAGS: usize = 13;
    /// Window.
    pub const WINDOW: Range<usize> = 14..16;
    /// Checksum.
    pub const CHECKSUM: Range<usize> = 16..18;
    /// Urgent pointer.
    pub const URGENT: Range<usize> = 18..20;
    /// Where the options start.
    pub const OPTIONS: usize = 20;
}

/// TCP flag bits, as a 9-bit value (NS/AE is bit 8, from the data offset byte).
pub mod flags {
    /// No more data.
    pub const FIN: u16 = 0x001;
    /// Synchronize sequence numbers.
    pub const SYN: u16 = 0x002;
    /// Reset.
    pub const RST: u16 = 0x004;
    /// Push.
    pub const PSH: u16 = 0x008;
    /// Acknowledgment field significant.
    pub const ACK: u16 = 0x010;
    /// Urgent pointer significant.
    pub const URG: u16 = 0x020;
    /// ECN echo.
    pub const ECE: u16 = 0x040;
    /// Congestion window reduced.
    pub const CWR: u16 = 0x080;
    /// ECN nonce (RFC 3540, historic) / AccECN (AE).
    pub const NS: u16 = 0x100;
}

/// Option kinds pktforge knows.
pub mod kind {
    /// End of option list.
    pub const EOL: u8 = 0;
    /// No operation.
    pub const NOP: u8 = 1;
    /// Maximum segment size.
    pub const MSS: u8 = 2;
    /// Window scale.
    pub const WINDOW_SCALE: u8 = 3;
    /// SACK permitted.
    pub const SACK_PERMITTED: u8 = 4;
    /// SACK blocks.
    pub const SACK: u8 = 5;
    /// Timestamps.
    pub const TIMESTAMPS: u8 = 8;
}

/// One TCP option.
#[derive(Debug, Clone, PartialEq, Eq, Hash, serde::Serialize)]
pub enum TcpOption {
    /// End of option list (kind 0).
    EndOfList,
    /// No operation (kind 1).
    Nop,
    /// Maximum segment size (kind 2, 4 bytes).
    Mss(u16),
    /// Window scale shift (kind 3, 3 bytes).
    WindowScale(u8),
    /// SACK permitted (kind 4, 2 bytes).
    SackPermitted,
    /// SACK blocks, left and right edges (kind 5, 2 + 8 per block; at most 4 blocks fit).
    Sack(Vec<(u32, u32)>),
    /// Timestamps value and echo reply (kind 8, 10 bytes).
    Timestamps {
        /// TSval.
        tsval: u32,
        /// TSecr.
        tsecr: u32,
    },
    /// Another kind with a length byte: kind, then the data after the length.
    Other {
        /// Option kind.
        kind: u8,
        /// Bytes after kind and length.
        data: Vec<u8>,
    },
    /// Bytes written verbatim (to send anything at all); on parse, bytes that do not form an
    /// option (a length byte that is wrong or runs past the header).
    Raw(Vec<u8>),
}

impl TcpOption {
    /// Bytes this option takes on the wire.
    pub fn len(&self) -> usize {
        match self {
            TcpOption::EndOfList | TcpOption::Nop => 1,
            TcpOption::Mss(_) => 4,
            TcpOption::WindowScale(_) => 3,
            TcpOption::SackPermitted => 2,
            TcpOption::Sack(b) => 2 + 8 * b.len(),
            TcpOption::Timestamps { .. } => 10,
            TcpOption::Other { data, .. } => 2 + data.len(),
            TcpOption::Raw(b) => b.len(),
        }
    }

    /// Whether the option takes no bytes (only an empty `Raw`).
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Its name as tcpdump prints it in `options [...]`.
    pub fn describe(&self) -> String {
        match self {
            TcpOption::EndOfList => "eol".into(),
            TcpOption::Nop => "nop".into(),
            TcpOption::Mss(m) => format!("mss {m}"),
            TcpOption::WindowScale(s) => format!("wscale {s}"),
            TcpOption::SackPermitted => "sackOK".into(),
            TcpOption::Sack(b) => {
                let blocks: Vec<String> = b.iter().map(|(l, r)| format!("{{{l}:{r}}}")).collect();
                format!("sack {} {}", b.len(), blocks.join(""))
            }
            TcpOption::Timestamps { tsval, tsecr } => format!("TS val {tsval} ecr {tsecr}"),
            TcpOption::Other { kind, data } => format!("opt-{kind}:{}", super_hex(data)),
            TcpOption::Raw(b) => format!("raw {}", super_hex(b)),
        }
    }

    fn write(&self, out: &mut [u8]) {
        let n = self.len();
        let o = &mut out[..n];
        match self {
            TcpOption::EndOfList => o[0] = kind::EOL,
            TcpOption::Nop => o[0] = kind::NOP,
            TcpOption::Mss(m) => {
                o[..2].copy_from_slice(&[kind::MSS, 4]);
                o[2..].copy_from_slice(&m.to_be_bytes());
            }
            TcpOption::WindowScale(s) => o.copy_from_slice(&[kind::WINDOW_SCALE, 3, *s]),
            TcpOption::SackPermitted => o.copy_from_slice(&[kind::SACK_PERMITTED, 2]),
            TcpOption::Sack(b) => {
                o[..2].copy_from_slice(&[kind::SACK, n as u8]);
                for (i, (l, r)) in b.iter().enumerate() {
                    o[2 + 8 * i..6 + 8 * i].copy_from_slice(&l.to_be_bytes());
                    o[6 + 8 * i..10 + 8 * i].copy_from_slice(&r.to_be_bytes());
                }
            }
            TcpOption::Timestamps { tsval, tsecr } => {
                o[..2].copy_from_slice(&[kind::TIMESTAMPS, 10]);
                o[2..6].copy_from_slice(&tsval.to_be_bytes());
                o[6..].copy_from_slice(&tsecr.to_be_bytes());
            }
            TcpOption::Other { kind, data } => {
                o[..2].copy_from_slice(&[*kind, n as u8]);
                o[2..].copy_from_slice(data);
            }
            TcpOption::Raw(b) => o.copy_from_slice(b),
        }
    }
}

fn super_hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

/// Bytes `options` take padded to a multiple of 4; `Limit` over 40 (data offset 15), naming
/// the limit.
pub fn tcp_options_len(options: &[TcpOption]) -> Result<usize, WireError> {
    let mut raw = 0usize;
    for o in options {
        if let TcpOption::Other { kind, data } = o {
            if 2 + data.len() > 255 {
                return Err(WireError::Limit(format!(
                    "TCP option kind {kind} takes {} bytes; its length byte holds at most 255",
                    2 + data.len()
                )));
            }
        }
        raw += o.len();
    }
    let padded = raw.div_ceil(4) * 4;
    if padded > TCP_MAX_OPTIONS_LEN {
        return Err(WireError::Limit(format!(
            "TCP options take {raw} bytes{}; at most {TCP_MAX_OPTIONS_LEN} fit (data offset 15 = a \
             60-byte header)",
            if padded != raw {
                format!(" ({padded} padded to 4)")
            } else {
                String::new()
            }
        )));
    }
    Ok(padded)
}

/// Parse TCP option bytes. Never fails: bytes that do not form an option end the list as a
/// `Raw` (with everything from there on).
pub fn parse_tcp_options(b: &[u8]) -> Vec<TcpOption> {
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        let k = b[i];
        match k {
            kind::EOL => {
                out.push(TcpOption::EndOfList);
                // The rest is padding (zeros) after EOL: show non-zero leftovers.
                if b[i + 1..].iter().any(|&x| x != 0) {
                    out.push(TcpOption::Raw(b[i + 1..].to_vec()));
                }
                return out;
            }
            kind::NOP => {
                out.push(TcpOption::Nop);
                i += 1;
                continue;
            }
            _ => {}
        }
        let Some(&len) = b.get(i + 1) else {
            out.push(TcpOption::Raw(b[i..].to_vec()));
            return out;
        };
        let len = usize::from(len);
        if len < 2 || i + len > b.len() {
            out.push(TcpOption::Raw(b[i..].to_vec()));
            return out;
        }
        let d = &b[i + 2..i + len];
        let o = match (k, len) {
            (kind::MSS, 4) => TcpOption::Mss(be16(d, 0)),
            (kind::WINDOW_SCALE, 3) => TcpOption::WindowScale(d[0]),
            (kind::SACK_PERMITTED, 2) => TcpOption::SackPermitted,
            (kind::SACK, l) if l >= 10 && (l - 2) % 8 == 0 => TcpOption::Sack(
                d.chunks_exact(8)
                    .map(|c| (be32(c, 0), be32(c, 4)))
                    .collect(),
            ),
            (kind::TIMESTAMPS, 10) => TcpOption::Timestamps {
                tsval: be32(d, 0),
                tsecr: be32(d, 4),
            },
            (
                kind::MSS
                | kind::WINDOW_SCALE
                | kind::SACK_PERMITTED
                | kind::SACK
                | kind::TIMESTAMPS,
                _,
            ) => {
                // A known kind with a wrong length: shown as bytes, not guessed at.
                TcpOption::Raw(b[i..i + len].to_vec())
            }
            _ => TcpOption::Other {
                kind: k,
                data: d.to_vec(),
            },
        };
        out.push(o);
        i += len;
    }
    out
}

/// A borrowed view of a TCP segment, in the style of smoltcp's `Packet<T: AsRef<[u8]>>`.
/// [`new_checked`](Self::new_checked) makes sure the 20-byte header and the options the data
/// offset claims are there; after it no accessor panics. Fixed fields are read through
/// `pnet_packet`'s `TcpPacket`. (A segment quoted in an ICMP error holds only 8 bytes: read
/// its ports and sequence number with [`quoted_tcp`].)
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TcpPacket<T: AsRef<[u8]>> {
    buffer: T,
}

impl<T: AsRef<[u8]>> TcpPacket<T> {
    /// Wrap `buffer` without checking: accessors panic under 20 bytes; options and payload
    /// are clamped to it.
    pub fn new_unchecked(buffer: T) -> Self {
        TcpPacket { buffer }
    }

    /// Wrap `buffer` after checking it: at least 20 bytes, data offset ≥ 5, and the header it
    /// claims present.
    pub fn new_checked(buffer: T) -> Result<Self, WireError> {
        let p = TcpPacket { buffer };
        let n = p.buffer.as_ref().len();
        if n < TCP_MIN_HEADER_LEN {
            return Err(WireError::truncated("TCP", TCP_MIN_HEADER_LEN, n));
        }
        let off = p.data_offset();
        if off < 5 {
            return Err(WireError::malformed(
                "TCP",
                format!(
                    "data offset field is {off} ({} bytes), below the minimum 5 (20 bytes)",
                    usize::from(off) * 4
                ),
            ));
        }
        if n < p.header_len() {
            return Err(WireError::truncated("TCP header", p.header_len(), n));
        }
        Ok(p)
    }

    /// The underlying buffer.
    pub fn into_inner(self) -> T {
        self.buffer
    }

    /// All the bytes of the view.
    pub fn as_bytes(&self) -> &[u8] {
        self.buffer.as_ref()
    }

    #[inline]
    fn pnet(&self) -> PnetTcp<'_> {
        PnetTcp::new(self.buffer.as_ref())
            .expect("TcpPacket made with new_unchecked over fewer than 20 bytes")
    }

    /// Source port.
    pub fn src_port(&self) -> u16 {
        self.pnet().get_source()
    }
    /// Destination port.
    pub fn dst_port(&self) -> u16 {
        self.pnet().get_destination()
    }
    /// Sequence number.
    pub fn seq(&self) -> u32 {
        self.pnet().get_sequence()
    }
    /// Acknowledgment number.
    pub fn ack(&self) -> u32 {
        self.pnet().get_acknowledgement()
    }
    /// Data offset in 32-bit words.
    pub fn data_offset(&self) -> u8 {
        self.pnet().get_data_offset()
    }
    /// Header length in bytes (data offset × 4).
    pub fn header_len(&self) -> usize {
        usize::from(self.data_offset()) * 4
    }
    /// The three reserved bits between the data offset and NS.
    pub fn reserved(&self) -> u8 {
        (self.buffer.as_ref()[field::DATA_OFF] >> 1) & 0x7
    }
    /// The nine flag bits (NS high).
    pub fn flags(&self) -> u16 {
        let b = self.buffer.as_ref();
        (u16::from(b[field::DATA_OFF] & 1) << 8) | u16::from(b[field::FLAGS])
    }
    /// Whether every bit of `f` is set.
    pub fn has(&self, f: u16) -> bool {
        self.flags() & f == f
    }
    /// Window.
    pub fn window(&self) -> u16 {
        self.pnet().get_window()
    }
    /// Checksum field.
    pub fn checksum(&self) -> u16 {
        self.pnet().get_checksum()
    }
    /// Urgent pointer.
    pub fn urgent(&self) -> u16 {
        self.pnet().get_urgent_ptr()
    }
    /// Option bytes (clamped to the bytes present).
    pub fn options(&self) -> &[u8] {
        let b = self.buffer.as_ref();
        let end = self.header_len().clamp(TCP_MIN_HEADER_LEN, b.len());
        &b[field::OPTIONS.min(end)..end]
    }
    /// The options parsed.
    pub fn option_list(&self) -> Vec<TcpOption> {
        parse_tcp_options(self.options())
    }
    /// Data after the header.
    pub fn payload(&self) -> &[u8] {
        let b = self.buffer.as_ref();
        b.get(self.header_len().max(TCP_MIN_HEADER_LEN)..)
            .unwrap_or(&[])
    }
    /// Whether the checksum is right behind the pseudo-header of `src`, `dst` (the view must
    /// hold the whole segment).
    pub fn verify_checksum(&self, src: Ipv4Addr, dst: Ipv4Addr) -> bool {
        pseudo_header_checksum(src, dst, IP_PROTO_TCP, self.buffer.as_ref()) == 0
    }
    /// The checksum this segment should carry.
    pub fn right_checksum(&self, src: Ipv4Addr, dst: Ipv4Addr) -> u16 {
        let mut copy = self.buffer.as_ref().to_vec();
        copy[field::CHECKSUM].fill(0);
        pseudo_header_checksum(src, dst, IP_PROTO_TCP, &copy)
    }
}

impl<T: AsRef<[u8]>> TcpPacket<T> {
    /// Whether the checksum is right behind the IPv6 pseudo-header of `src`, `dst` (the final
    /// destination; the view must hold the whole segment).
    pub fn verify_checksum_v6(&self, src: Ipv6Addr, dst: Ipv6Addr) -> bool {
        super::udp::pseudo_header_checksum_v6(src, dst, IP_PROTO_TCP, self.buffer.as_ref()) == 0
    }
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> TcpPacket<T> {
    /// Compute and write the checksum behind the IPv6 pseudo-header of `src`, `dst`.
    pub fn fill_checksum_v6(&mut self, src: Ipv6Addr, dst: Ipv6Addr) {
        self.set_checksum(0);
        let c = super::udp::pseudo_header_checksum_v6(src, dst, IP_PROTO_TCP, self.buffer.as_ref());
        self.set_checksum(c);
    }
    /// Set the source port.
    pub fn set_src_port(&mut self, p: u16) {
        self.buffer.as_mut()[field::SRC_PORT].copy_from_slice(&p.to_be_bytes());
    }
    /// Set the destination port.
    pub fn set_dst_port(&mut self, p: u16) {
        self.buffer.as_mut()[field::DST_PORT].copy_from_slice(&p.to_be_bytes());
    }
    /// Set the sequence number.
    pub fn set_seq(&mut self, s: u32) {
        self.buffer.as_mut()[field::SEQ].copy_from_slice(&s.to_be_bytes());
    }
    /// Set the acknowledgment number.
    pub fn set_ack(&mut self, a: u32) {
        self.buffer.as_mut()[field::ACK].copy_from_slice(&a.to_be_bytes());
    }
    /// Set the data offset (words) and the three reserved bits, keeping NS.
    pub fn set_data_offset(&mut self, words: u8, reserved: u8) {
        let b = &mut self.buffer.as_mut()[field::DATA_OFF];
        *b = (words << 4) | ((reserved & 7) << 1) | (*b & 1);
    }
    /// Set the nine flag bits.
    pub fn set_flags(&mut self, f: u16) {
        let b = self.buffer.as_mut();
        b[field::DATA_OFF] = (b[field::DATA_OFF] & !1) | ((f >> 8) & 1) as u8;
        b[field::FLAGS] = f as u8;
    }
    /// Set the window.
    pub fn set_window(&mut self, w: u16) {
        self.buffer.as_mut()[field::WINDOW].copy_from_slice(&w.to_be_bytes());
    }
    /// Set the checksum field.
    pub fn set_checksum(&mut self, c: u16) {
        self.buffer.as_mut()[field::CHECKSUM].copy_from_slice(&c.to_be_bytes());
    }
    /// Set the urgent pointer.
    pub fn set_urgent(&mut self, u: u16) {
        self.buffer.as_mut()[field::URGENT].copy_from_slice(&u.to_be_bytes());
    }
    /// Compute and write the checksum behind the pseudo-header of `src`, `dst`.
    pub fn fill_checksum(&mut self, src: Ipv4Addr, dst: Ipv4Addr) {
        self.set_checksum(0);
        let c = pseudo_header_checksum(src, dst, IP_PROTO_TCP, self.buffer.as_ref());
        self.set_checksum(c);
    }
}

/// The ports and sequence number of a TCP header quoted in an ICMP error (its first 8 bytes).
pub fn quoted_tcp(b: &[u8]) -> Option<(u16, u16, u32)> {
    b.get(..8)?;
    Some((be16(b, 0), be16(b, 2), be32(b, 4)))
}

/// A TCP segment to build, or as parsed.
#[derive(Debug, Clone, PartialEq, Eq, Hash, serde::Serialize)]
pub struct TcpRepr {
    /// Source port.
    pub src_port: u16,
    /// Destination port.
    pub dst_port: u16,
    /// Sequence number.
    pub seq: u32,
    /// Acknowledgment number.
    pub ack: u32,
    /// The nine flag bits ([`flags`]).
    pub flags: u16,
    /// The three reserved bits (normally 0).
    pub reserved: u8,
    /// Window.
    pub window: u16,
    /// Urgent pointer.
    pub urgent: u16,
    /// Options, padded with EOL to a multiple of 4 on emit (at most 40 bytes).
    pub options: Vec<TcpOption>,
    /// Data after the header.
    pub payload: Vec<u8>,
    /// Write this data offset (5..=15) instead of the real one; the layout is unchanged.
    pub data_offset_override: Option<u8>,
    /// Write this checksum instead of the computed one.
    pub checksum_override: Option<u16>,
}

/// A parsed TCP header plus the on-wire values the [`TcpRepr`] does not keep.
#[derive(Debug, Clone, PartialEq, Eq, Hash, serde::Serialize)]
pub struct ParsedTcp {
    /// The segment (overrides `None`).
    pub repr: TcpRepr,
    /// Header length in bytes.
    pub header_len: usize,
    /// Checksum field.
    pub checksum: u16,
    /// Whether the checksum is right.
    pub checksum_ok: bool,
}

impl TcpRepr {
    /// A segment between two ports with `flags`, window 64240 (Linux's SYN), nothing else.
    pub fn new(src_port: u16, dst_port: u16, flags: u16) -> Self {
        TcpRepr {
            src_port,
            dst_port,
            seq: 0,
            ack: 0,
            flags,
            reserved: 0,
            window: 64240,
            urgent: 0,
            options: Vec::new(),
            payload: Vec::new(),
            data_offset_override: None,
            checksum_override: None,
        }
    }

    /// Header bytes: 20 + options padded to 4; `Limit` over 60.
    pub fn header_len(&self) -> Result<usize, WireError> {
        Ok(TCP_MIN_HEADER_LEN + tcp_options_len(&self.options)?)
    }

    /// Bytes [`emit`](Self::emit) writes.
    pub fn buffer_len(&self) -> Result<usize, WireError> {
        Ok(self.header_len()? + self.payload.len())
    }

    /// Write the segment into the start of `buf` as sent from `src` to `dst`; returns its
    /// length. Errors: options over 40 bytes, a data offset override outside 5..=15, `buf`
    /// too short.
    pub fn emit(&self, buf: &mut [u8], src: Ipv4Addr, dst: Ipv4Addr) -> Result<usize, WireError> {
        let hl = self.header_len()?;
        let off = match self.data_offset_override {
            Some(v) if v > 15 => {
                return Err(WireError::Limit(format!(
                    "TCP data offset {v} does not fit its 4-bit field (at most 15 = 60 bytes)"
                )))
            }
            Some(v) => v,
            None => (hl / 4) as u8,
        };
        let n = hl + self.payload.len();
        if buf.len() < n {
            return Err(WireError::truncated("TCP output buffer", n, buf.len()));
        }
        let seg = &mut buf[..n];
        seg[..hl].fill(0);
        {
            let mut p = TcpPacket::new_unchecked(&mut *seg);
            p.set_src_port(self.src_port);
            p.set_dst_port(self.dst_port);
            p.set_seq(self.seq);
            p.set_ack(self.ack);
            p.set_data_offset(off, self.reserved);
            p.set_flags(self.flags);
            p.set_window(self.window);
            p.set_urgent(self.urgent);
        }
        let mut at = field::OPTIONS;
        for o in &self.options {
            o.write(&mut seg[at..]);
            at += o.len();
        }
        seg[hl..].copy_from_slice(&self.payload);
        let mut p = TcpPacket::new_unchecked(seg);
        match self.checksum_override {
            Some(c) => p.set_checksum(c),
            None => p.fill_checksum(src, dst),
        }
        Ok(n)
    }

    /// Write the segment into the start of `buf` as sent over IPv6 from `src` to `dst` (the
    /// final destination); as [`emit`](Self::emit) otherwise.
    pub fn emit_v6(
        &self,
        buf: &mut [u8],
        src: Ipv6Addr,
        dst: Ipv6Addr,
    ) -> Result<usize, WireError> {
        let n = self.emit(buf, Ipv4Addr::UNSPECIFIED, Ipv4Addr::UNSPECIFIED)?;
        if self.checksum_override.is_none() {
            TcpPacket::new_unchecked(&mut buf[..n]).fill_checksum_v6(src, dst);
        }
        Ok(n)
    }

    /// Read a segment from a checked view sent from `src` to `dst`.
    pub fn parse<T: AsRef<[u8]>>(p: &TcpPacket<T>, src: Ipv4Addr, dst: Ipv4Addr) -> ParsedTcp {
        ParsedTcp {
            repr: TcpRepr {
                src_port: p.src_port(),
                dst_port: p.dst_port(),
                seq: p.seq(),
                ack: p.ack(),
                flags: p.flags(),
                reserved: p.reserved(),
                window: p.window(),
                urgent: p.urgent(),
                options: p.option_list(),
                payload: p.payload().to_vec(),
                data_offset_override: None,
                checksum_override: None,
            },
            header_len: p.header_len(),
            checksum: p.checksum(),
            checksum_ok: p.verify_checksum(src, dst),
        }
    }
}

/// Flags in tcpdump's letters (`S`, `S.`, `R.`, `FP.`…): F S R P U E W for the flags, `.`
/// for ACK, and `N` for NS; `none` when none is set.
pub fn flags_text(f: u16) -> String {
    let mut s = String::new();
    for (bit, c) in [
        (flags::FIN, 'F'),
        (flags::SYN, 'S'),
        (flags::RST, 'R'),
        (flags::PSH, 'P'),
        (flags::URG, 'U'),
        (flags::ECE, 'E'),
        (flags::CWR, 'W'),
        (flags::NS, 'N'),
    ] {
        if f & bit != 0 {
            s.push(c);
        }
    }
    if f & flags::ACK != 0 {
        s.push('.');
    }
    if s.is_empty() {
        "none".into()
    } else {
        s
    }
}

/// Parse TCP flags: tcpdump's letters (`S`, `SA`, `FPU`; `.` for ACK, `N` for NS), names
/// joined by `,`, `|` or `+` (`syn,ack`), `none`, or a number (`0x12`). Unknown letters and
/// names are refused, naming them and what is known.
pub fn parse_tcp_flags(text: &str) -> Result<u16, WireError> {
    use super::names::TCP_FLAGS;
    let t = text.trim();
    if t.eq_ignore_ascii_case("none") || t.is_empty() {
        return Ok(0);
    }
    if let Some(h) = t.strip_prefix("0x").or_else(|| t.strip_prefix("0X")) {
        return match u16::from_str_radix(h, 16) {
            Ok(v) if v <= 0x1ff => Ok(v),
            _ => Err(WireError::Invalid(format!(
                "TCP flags {t:?}: a number must be 0x0..=0x1ff (9 flag bits)"
            ))),
        };
    }
    if let Ok(v) = t.parse::<u16>() {
        return if v <= 0x1ff {
            Ok(v)
        } else {
            Err(WireError::Invalid(format!(
                "TCP flags {v}: a number must be 0..=511 (9 flag bits)"
            )))
        };
    }
    let known = || {
        let letters: String = TCP_FLAGS.iter().map(|f| f.letter).collect();
        let names: Vec<&str> = TCP_FLAGS.iter().map(|f| f.name).collect();
        format!(
            "letters {letters} (and . for ACK) or names {}",
            names.join(",")
        )
    };
    let tokens: Vec<&str> = t.split([',', '|', '+']).map(str::trim).collect();
    let by_name = |w: &str| {
        TCP_FLAGS
            .iter()
            .find(|f| f.name.eq_ignore_ascii_case(w))
            .map(|f| f.bit)
    };
    if tokens.len() > 1 || (t.len() > 1 && by_name(t).is_some()) {
        let mut v = 0;
        for w in tokens {
            v |= by_name(w).ok_or_else(|| {
                WireError::Invalid(format!("unknown TCP flag {w:?} in {t:?}: use {}", known()))
            })?;
        }
        return Ok(v);
    }
    let mut v = 0;
    for c in t.chars() {
        let bit = if c == '.' {
            Some(flags::ACK)
        } else {
            TCP_FLAGS
                .iter()
                .find(|f| f.letter == c.to_ascii_uppercase())
                .map(|f| f.bit)
        };
        v |= bit.ok_or_else(|| {
            WireError::Invalid(format!(
                "unknown TCP flag letter {c:?} in {t:?}: use {}",
                known()
            ))
        })?;
    }
    Ok(v)
}

impl std::str::FromStr for TcpOption {
    type Err = WireError;

    /// `eol`, `nop`, `mss=N`, `wscale=N` (0..=14), `sackok`, `sack=L:R[,L:R…]` (1..=4
    /// blocks), `ts=VAL[:ECR]`, `raw=HEX` (bytes as they are).
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let bad = |why: String| WireError::Invalid(format!("TCP option {text:?}: {why}"));
        let (name, value) = match text.split_once('=') {
            Some((n, v)) => (n.trim().to_ascii_lowercase(), Some(v.trim())),
            None => (text.trim().to_ascii_lowercase(), None),
        };
        let need = |v: Option<&'_ str>| -> Result<String, WireError> {
            v.map(str::to_string)
                .ok_or_else(|| bad(format!("{name} needs a value ({name}=...)")))
        };
        let num = |v: &str, max: u64| -> Result<u64, WireError> {
            let n = match v.strip_prefix("0x") {
                Some(h) => u64::from_str_radix(h, 16),
                None => v.parse(),
            }
            .map_err(|_| bad(format!("{v:?} is not a number")))?;
            if n > max {
                return Err(bad(format!("{n} is over {max}")));
            }
            Ok(n)
        };
        Ok(match name.as_str() {
            "eol" => TcpOption::EndOfList,
            "nop" => TcpOption::Nop,
            "sackok" | "sack-permitted" | "sackperm" => TcpOption::SackPermitted,
            "mss" => TcpOption::Mss(num(&need(value)?, 65535)? as u16),
            "wscale" | "ws" => {
                let s = num(&need(value)?, 255)? as u8;
                if s > 14 {
                    return Err(bad(format!(
                        "window scale {s} is over 14, the largest RFC 7323 allows (use raw= to send it anyway)"
                    )));
                }
                TcpOption::WindowScale(s)
            }
            "sack" => {
                let mut blocks = Vec::new();
                for b in need(value)?.split(',') {
                    let (l, r) = b
                        .split_once(':')
                        .ok_or_else(|| bad(format!("block {b:?} is not LEFT:RIGHT")))?;
                    blocks.push((num(l, u32::MAX.into())? as u32, num(r, u32::MAX.into())? as u32));
                }
                if blocks.len() > 4 {
                    return Err(bad(format!(
                        "{} SACK blocks take {} bytes; at most 4 fit in 40 bytes of options",
                        blocks.len(),
                        2 + 8 * blocks.len()
                    )));
                }
                TcpOption::Sack(blocks)
            }
            "ts" | "timestamp" | "timestamps" => {
                let v = need(value)?;
                let (a, b) = v.split_once(':').unwrap_or((&v, "0"));
                TcpOption::Timestamps {
                    tsval: num(a, u32::MAX.into())? as u32,
                    tsecr: num(b, u32::MAX.into())? as u32,
                }
            }
            "raw" => {
                let h: String = need(value)?.chars().filter(|c| !c.is_whitespace() && *c != ':').collect();
                if !h.len().is_multiple_of(2) || !h.chars().all(|c| c.is_ascii_hexdigit()) {
                    return Err(bad("raw= takes hex bytes".into()));
                }
                TcpOption::Raw(
                    (0..h.len())
                        .step_by(2)
                        .map(|i| u8::from_str_radix(&h[i..i + 2], 16).unwrap_or(0))
                        .collect(),
                )
            }
            _ => {
                return Err(bad(
                    "unknown option: use eol, nop, mss=N, wscale=N, sackok, sack=L:R[,L:R], ts=VAL[:ECR] or raw=HEX"
                        .into(),
                ))
            }
        })
    }
}

#[cfg(test)]
#[path = "transport_tests.rs"]
pub(crate) mod tests;
