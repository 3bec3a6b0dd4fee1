//! IPv4 options (RFC 791): record route, source routes, timestamps, and raw bytes for experiments.
//!
//! Pointer semantics follow RFC 791 as Linux implements them: for RR/LSRR/SSRR the pointer is
//! the 1-based octet offset (within the option) of the next slot, minimum 4, and the option is
//! full when the pointer exceeds the length; for the timestamp option the minimum is 5.

use std::fmt;
use std::net::Ipv4Addr;

use super::{be32, ip_at, WireError};

/// Most option bytes an IPv4 header can hold (IHL 15 = 60 bytes, minus the 20-byte header).
pub const MAX_OPTIONS_LEN: usize = 40;
/// Option type: end of option list.
pub const IPOPT_EOL: u8 = 0;
/// Option type: no operation.
pub const IPOPT_NOP: u8 = 1;
/// Option type: record route.
pub const IPOPT_RR: u8 = 7;
/// Option type: internet timestamp.
pub const IPOPT_TS: u8 = 68;
/// Option type: loose source and record route.
pub const IPOPT_LSRR: u8 = 131;
/// Option type: strict source and record route.
pub const IPOPT_SSRR: u8 = 137;

/// Most address slots an RR/LSRR/SSRR option can have within 40 bytes (3 + 9×4 = 39).
pub const MAX_ROUTE_SLOTS: usize = 9;
/// Most timestamps a timestamp-only option can have (4 + 9×4 = 40).
pub const MAX_TS_ONLY_SLOTS: usize = 9;
/// Most address+timestamp pairs a timestamp option can have (4 + 4×8 = 36).
pub const MAX_TS_ADDR_SLOTS: usize = 4;

/// One IPv4 option.
#[derive(Debug, Clone, PartialEq, Eq, Hash, serde::Serialize)]
pub enum IpOption {
    /// End of option list (type 0). Parsing stops after it.
    EndOfList,
    /// No operation (type 1), used for alignment.
    Nop,
    /// Record route (type 7). `slots.len()` is the capacity; unfilled slots are 0.0.0.0.
    RecordRoute {
        /// 1-based offset of the next free slot (minimum 4).
        pointer: u8,
        /// The slots, filled or not.
        slots: Vec<Ipv4Addr>,
    },
    /// Loose source and record route (type 131).
    LooseSourceRoute {
        /// 1-based offset of the next address to visit (minimum 4).
        pointer: u8,
        /// The route: addresses still to visit, and those recorded in their place.
        route: Vec<Ipv4Addr>,
    },
    /// Strict source and record route (type 137).
    StrictSourceRoute {
        /// 1-based offset of the next address to visit (minimum 4).
        pointer: u8,
        /// The route: addresses still to visit, and those recorded in their place.
        route: Vec<Ipv4Addr>,
    },
    /// Internet timestamp (type 68).
    Timestamp {
        /// 1-based offset of the next free entry (minimum 5).
        pointer: u8,
        /// Count of hops that could not stamp (high nibble of byte 3).
        overflow: u8,
        /// Layout of the entries (low nibble of byte 3).
        flag: TimestampFlag,
        /// The entries, filled or not; 4 bytes each when `addr` is `None`, 8 otherwise.
        entries: Vec<TimestampEntry>,
    },
    /// Any other option: the whole option bytes (type, length, data) verbatim, emitted as-is.
    Raw(Vec<u8>),
    /// Produced only by parsing: the rest of the option area from this option on, and why it
    /// could not be understood. Emitted verbatim.
    Malformed {
        /// The bytes from this option to the end of the area.
        bytes: Vec<u8>,
        /// Why they could not be understood.
        reason: String,
    },
}

/// Timestamp option flag (RFC 791).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
pub enum TimestampFlag {
    /// 0: timestamps only.
    TsOnly,
    /// 1: each hop records its address and a timestamp.
    TsAndAddr,
    /// 3: only the prespecified addresses record a timestamp.
    Prespecified,
    /// Any other flag value (entries are parsed as 4-byte words).
    Other(u8),
}

impl TimestampFlag {
    /// The 4-bit wire value.
    pub fn to_u8(self) -> u8 {
        match self {
            TimestampFlag::TsOnly => 0,
            TimestampFlag::TsAndAddr => 1,
            TimestampFlag::Prespecified => 3,
            TimestampFlag::Other(v) => v & 0x0f,
        }
    }

    /// From the 4-bit wire value.
    pub fn from_u8(v: u8) -> Self {
        match v & 0x0f {
            0 => TimestampFlag::TsOnly,
            1 => TimestampFlag::TsAndAddr,
            3 => TimestampFlag::Prespecified,
            o => TimestampFlag::Other(o),
        }
    }

    /// Whether entries carry an address (8 bytes) rather than a timestamp alone (4 bytes).
    pub fn has_addr(self) -> bool {
        matches!(self, TimestampFlag::TsAndAddr | TimestampFlag::Prespecified)
    }

    /// Name as `ping -T` spells it: `tsonly`, `tsandaddr`, `tsprespec`, or `flag N`.
    pub fn name(self) -> String {
        match self {
            TimestampFlag::TsOnly => "tsonly".into(),
            TimestampFlag::TsAndAddr => "tsandaddr".into(),
            TimestampFlag::Prespecified => "tsprespec".into(),
            TimestampFlag::Other(v) => format!("flag {v}"),
        }
    }
}

/// One timestamp option entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
pub struct TimestampEntry {
    /// The address (`None` for timestamp-only entries).
    pub addr: Option<Ipv4Addr>,
    /// Milliseconds since midnight UT; the high bit marks a non-standard value.
    pub timestamp: u32,
}

impl TimestampEntry {
    /// Whether the high bit marks the timestamp as non-standard.
    pub fn is_nonstandard(&self) -> bool {
        self.timestamp & 0x8000_0000 != 0
    }
}

fn limit_err(what: &str, max: usize, unit: &str, asked: usize) -> WireError {
    WireError::Limit(format!(
        "{what} holds at most {max} {unit} ({MAX_OPTIONS_LEN} bytes of options), asked for {asked}"
    ))
}

fn check_count(what: &str, max: usize, unit: &str, n: usize) -> Result<(), WireError> {
    if n == 0 {
        return Err(WireError::Limit(format!(
            "{what} needs at least 1 of its {unit}, asked for 0"
        )));
    }
    if n > max {
        return Err(limit_err(what, max, unit, n));
    }
    Ok(())
}

impl IpOption {
    /// Record route with `slots` empty address slots (1..=9), pointer 4.
    pub fn record_route(slots: usize) -> Result<IpOption, WireError> {
        check_count("record route", MAX_ROUTE_SLOTS, "addresses", slots)?;
        Ok(IpOption::RecordRoute {
            pointer: 4,
            slots: vec![Ipv4Addr::UNSPECIFIED; slots],
        })
    }

    /// Loose source route through `route` (1..=9 hops), pointer 4.
    ///
    /// As on the wire: the packet's destination is the first hop, and the last address in the
    /// route is the final destination.
    pub fn loose_source_route(route: Vec<Ipv4Addr>) -> Result<IpOption, WireError> {
        check_count("loose source route", MAX_ROUTE_SLOTS, "hops", route.len())?;
        Ok(IpOption::LooseSourceRoute { pointer: 4, route })
    }

    /// Strict source route through `route` (1..=9 hops), pointer 4. See
    /// [`loose_source_route`](Self::loose_source_route).
    pub fn strict_source_route(route: Vec<Ipv4Addr>) -> Result<IpOption, WireError> {
        check_count("strict source route", MAX_ROUTE_SLOTS, "hops", route.len())?;
        Ok(IpOption::StrictSourceRoute { pointer: 4, route })
    }

    /// Timestamp-only option with `slots` empty stamps (1..=9), pointer 5.
    pub fn timestamp_only(slots: usize) -> Result<IpOption, WireError> {
        check_count("timestamp option", MAX_TS_ONLY_SLOTS, "timestamps", slots)?;
        Ok(IpOption::Timestamp {
            pointer: 5,
            overflow: 0,
            flag: TimestampFlag::TsOnly,
            entries: vec![
                TimestampEntry {
                    addr: None,
                    timestamp: 0
                };
                slots
            ],
        })
    }

    /// Timestamp option where each hop records address + stamp, `slots` pairs (1..=4).
    pub fn timestamp_and_address(slots: usize) -> Result<IpOption, WireError> {
        check_count(
            "timestamp option",
            MAX_TS_ADDR_SLOTS,
            "address+timestamp pairs",
            slots,
        )?;
        Ok(IpOption::Timestamp {
            pointer: 5,
            overflow: 0,
            flag: TimestampFlag::TsAndAddr,
            entries: vec![
                TimestampEntry {
                    addr: Some(Ipv4Addr::UNSPECIFIED),
                    timestamp: 0
                };
                slots
            ],
        })
    }

    /// Timestamp option where only the given addresses (1..=4) stamp, in order.
    pub fn timestamp_prespecified(addrs: Vec<Ipv4Addr>) -> Result<IpOption, WireError> {
        check_count(
            "timestamp option",
            MAX_TS_ADDR_SLOTS,
            "prespecified addresses",
            addrs.len(),
        )?;
        Ok(IpOption::Timestamp {
            pointer: 5,
            overflow: 0,
            flag: TimestampFlag::Prespecified,
            entries: addrs
                .into_iter()
                .map(|a| TimestampEntry {
                    addr: Some(a),
                    timestamp: 0,
                })
                .collect(),
        })
    }

    /// Any option as raw bytes (type, length, data), 1..=40 bytes, emitted verbatim.
    ///
    /// The length byte is deliberately NOT checked against `bytes.len()`, nor is a
    /// single-byte option of type ≥ 2 refused: experiments may lie to see what a receiver does.
    pub fn raw(bytes: Vec<u8>) -> Result<IpOption, WireError> {
        if bytes.is_empty() || bytes.len() > MAX_OPTIONS_LEN {
            return Err(WireError::Limit(format!(
                "a raw IP option must be 1 to {MAX_OPTIONS_LEN} bytes (the most an IPv4 header \
                 holds), got {}",
                bytes.len()
            )));
        }
        Ok(IpOption::Raw(bytes))
    }

    /// The option type byte (`None` for `Malformed` with no bytes).
    pub fn option_type(&self) -> Option<u8> {
        Some(match self {
            IpOption::EndOfList => IPOPT_EOL,
            IpOption::Nop => IPOPT_NOP,
            IpOption::RecordRoute { .. } => IPOPT_RR,
            IpOption::LooseSourceRoute { .. } => IPOPT_LSRR,
            IpOption::StrictSourceRoute { .. } => IPOPT_SSRR,
            IpOption::Timestamp { .. } => IPOPT_TS,
            IpOption::Raw(b) | IpOption::Malformed { bytes: b, .. } => return b.first().copied(),
        })
    }

    /// Short name: "EOL", "NOP", "RR", "LSRR", "SSRR", "TS", "RAW", "MALFORMED".
    pub fn type_name(&self) -> &'static str {
        match self {
            IpOption::EndOfList => "EOL",
            IpOption::Nop => "NOP",
            IpOption::RecordRoute { .. } => "RR",
            IpOption::LooseSourceRoute { .. } => "LSRR",
            IpOption::StrictSourceRoute { .. } => "SSRR",
            IpOption::Timestamp { .. } => "TS",
            IpOption::Raw(_) => "RAW",
            IpOption::Malformed { .. } => "MALFORMED",
        }
    }

    /// Bytes this option takes on the wire (before padding).
    pub fn wire_len(&self) -> usize {
        match self {
            IpOption::EndOfList | IpOption::Nop => 1,
            IpOption::RecordRoute { slots: a, .. }
            | IpOption::LooseSourceRoute { route: a, .. }
            | IpOption::StrictSourceRoute { route: a, .. } => 3 + 4 * a.len(),
            IpOption::Timestamp { entries, .. } => {
                4 + entries
                    .iter()
                    .map(|e| if e.addr.is_some() { 8 } else { 4 })
                    .sum::<usize>()
            }
            IpOption::Raw(b) | IpOption::Malformed { bytes: b, .. } => b.len(),
        }
    }

    /// For RR/LSRR/SSRR, the addresses before the pointer: the recorded hops for RR, the hops
    /// already visited (and overwritten with the recording address) for a source route.
    /// Empty for other options.
    pub fn recorded(&self) -> Vec<Ipv4Addr> {
        match self {
            IpOption::RecordRoute { pointer, slots: a }
            | IpOption::LooseSourceRoute { pointer, route: a }
            | IpOption::StrictSourceRoute { pointer, route: a } => {
                let n = (usize::from(*pointer).saturating_sub(4) / 4).min(a.len());
                a[..n].to_vec()
            }
            _ => Vec::new(),
        }
    }

    /// For a timestamp option, the entries before the pointer (the filled ones).
    pub fn stamped(&self) -> Vec<TimestampEntry> {
        match self {
            IpOption::Timestamp {
                pointer, entries, ..
            } => {
                let mut off = 5usize; // 1-based offset of the first entry
                let mut out = Vec::new();
                for e in entries {
                    let sz = if e.addr.is_some() { 8 } else { 4 };
                    if off + sz > usize::from(*pointer) {
                        break;
                    }
                    out.push(*e);
                    off += sz;
                }
                out
            }
            _ => Vec::new(),
        }
    }

    /// Write this option at the start of `out` (which must hold `wire_len()` bytes); returns
    /// the length written. Lengths above 255 are impossible here: callers check the 40-byte
    /// limit first.
    fn write(&self, out: &mut [u8]) -> usize {
        let len = self.wire_len();
        let out = &mut out[..len];
        match self {
            IpOption::EndOfList => out[field::TYPE] = IPOPT_EOL,
            IpOption::Nop => out[field::TYPE] = IPOPT_NOP,
            IpOption::RecordRoute { pointer, slots: a }
            | IpOption::LooseSourceRoute { pointer, route: a }
            | IpOption::StrictSourceRoute { pointer, route: a } => {
                out[field::TYPE] = self.option_type().unwrap_or(0);
                out[field::LENGTH] = len as u8;
                out[field::POINTER] = *pointer;
                for (i, addr) in a.iter().enumerate() {
                    let at = field::ROUTE_DATA + 4 * i;
                    out[at..at + 4].copy_from_slice(&addr.octets());
                }
            }
            IpOption::Timestamp {
                pointer,
                overflow,
                flag,
                entries,
            } => {
                out[field::TYPE] = IPOPT_TS;
                out[field::LENGTH] = len as u8;
                out[field::POINTER] = *pointer;
                out[field::TS_OFLW_FLG] = (overflow << 4) | flag.to_u8();
                let mut at = field::TS_DATA;
                for e in entries {
                    if let Some(a) = e.addr {
                        out[at..at + 4].copy_from_slice(&a.octets());
                        at += 4;
                    }
                    out[at..at + 4].copy_from_slice(&e.timestamp.to_be_bytes());
                    at += 4;
                }
            }
            IpOption::Raw(b) | IpOption::Malformed { bytes: b, .. } => out.copy_from_slice(b),
        }
        len
    }
}

/// Length of the option area for `opts`: their total padded to a multiple of 4, or `Limit`
/// if over 40 bytes.
pub fn options_len(opts: &[IpOption]) -> Result<usize, WireError> {
    let raw: usize = opts.iter().map(IpOption::wire_len).sum();
    let padded = raw.div_ceil(4) * 4;
    if padded > MAX_OPTIONS_LEN {
        return Err(WireError::Limit(format!(
            "IP options need {padded} bytes; an IPv4 header holds at most {MAX_OPTIONS_LEN} bytes \
             of options (IHL 15 = 60 bytes)"
        )));
    }
    Ok(padded)
}

/// Write `opts` into `out`, padded with EOL (zero) bytes; returns the padded length.
/// `out` must be at least [`options_len`] long.
pub(crate) fn write_options(opts: &[IpOption], out: &mut [u8]) -> Result<usize, WireError> {
    let padded = options_len(opts)?;
    if out.len() < padded {
        return Err(WireError::truncated(
            "IPv4 options buffer",
            padded,
            out.len(),
        ));
    }
    let mut at = 0;
    for o in opts {
        at += o.write(&mut out[at..]);
    }
    out[at..padded].fill(IPOPT_EOL);
    Ok(padded)
}

/// Concatenate `opts` and pad with EOL (zero) bytes to a multiple of 4.
///
/// More than 40 bytes (after padding) is a `Limit` error naming the limit.
pub fn emit_options(opts: &[IpOption]) -> Result<Vec<u8>, WireError> {
    let mut out = vec![0u8; options_len(opts)?];
    write_options(opts, &mut out)?;
    Ok(out)
}

/// Byte offsets inside one IP option (RFC 791 3.1).
pub mod field {
    /// Option type (copied flag, class, number).
    pub const TYPE: usize = 0;
    /// Option length, counting the type and length bytes (absent in EOL and NOP).
    pub const LENGTH: usize = 1;
    /// Pointer of RR, LSRR, SSRR and TS: 1-based offset of the next free slot.
    pub const POINTER: usize = 2;
    /// Overflow (high nibble) and flag (low nibble) of the timestamp option.
    pub const TS_OFLW_FLG: usize = 3;
    /// First address of RR, LSRR and SSRR.
    pub const ROUTE_DATA: usize = 3;
    /// First entry of the timestamp option.
    pub const TS_DATA: usize = 4;
}

/// A borrowed view of one option in an IPv4 option area, as [`IpOptions`] yields it: its
/// bytes are whole (the length byte fits the area), but its contents are not validated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IpOptionView<'a> {
    offset: usize,
    bytes: &'a [u8],
}

impl<'a> IpOptionView<'a> {
    /// Offset of the option in the option area.
    pub fn offset(&self) -> usize {
        self.offset
    }
    /// The option's bytes (1 for EOL and NOP, else its length field's worth).
    pub fn bytes(&self) -> &'a [u8] {
        self.bytes
    }
    /// The option type byte.
    pub fn option_type(&self) -> u8 {
        self.bytes[field::TYPE]
    }
    /// The copied flag, class (0 control, 2 debugging) and number of the type byte.
    pub fn type_parts(&self) -> (bool, u8, u8) {
        let t = self.option_type();
        (t & 0x80 != 0, (t >> 5) & 3, t & 31)
    }
    /// Bytes the option takes.
    pub fn len(&self) -> usize {
        self.bytes.len()
    }
    /// Whether the option is empty (never: it has at least its type byte).
    pub fn is_empty(&self) -> bool {
        self.bytes.is_empty()
    }
    /// The length field (`None` for EOL and NOP, which have none).
    pub fn length_field(&self) -> Option<u8> {
        match self.option_type() {
            IPOPT_EOL | IPOPT_NOP => None,
            _ => self.bytes.get(field::LENGTH).copied(),
        }
    }
    /// Whether this type carries a pointer (RR, LSRR, SSRR, TS).
    pub fn has_pointer(&self) -> bool {
        matches!(
            self.option_type(),
            IPOPT_RR | IPOPT_LSRR | IPOPT_SSRR | IPOPT_TS
        )
    }
    /// The pointer of RR, LSRR, SSRR and TS, if the option is long enough to hold it.
    pub fn pointer(&self) -> Option<u8> {
        if self.has_pointer() {
            self.bytes.get(field::POINTER).copied()
        } else {
            None
        }
    }
    /// The timestamp option's overflow/flag byte, if present.
    pub fn ts_overflow_flag(&self) -> Option<u8> {
        if self.option_type() == IPOPT_TS {
            self.bytes.get(field::TS_OFLW_FLG).copied()
        } else {
            None
        }
    }
    /// The option's data: the addresses of a route, the entries of a timestamp, the bytes
    /// after the length of any other option; empty for EOL and NOP (and when cut short).
    pub fn data(&self) -> &'a [u8] {
        let from = match self.option_type() {
            IPOPT_EOL | IPOPT_NOP => return &[],
            IPOPT_RR | IPOPT_LSRR | IPOPT_SSRR => field::ROUTE_DATA,
            IPOPT_TS => field::TS_DATA,
            _ => field::POINTER,
        };
        self.bytes.get(from..).unwrap_or(&[])
    }
}

/// Why an option area could not be walked further.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OptionFault {
    /// The area ends right after the type byte.
    NoLength {
        /// Option type.
        option_type: u8,
    },
    /// The length byte is 0 or 1.
    LengthBelowTwo {
        /// Option type.
        option_type: u8,
        /// Its length field.
        len: u8,
    },
    /// The length byte runs past the area.
    LengthBeyond {
        /// Option type.
        option_type: u8,
        /// Its length field.
        len: u8,
        /// Bytes left in the area from the option's start.
        remain: usize,
    },
}

impl fmt::Display for OptionFault {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            OptionFault::NoLength { option_type: t } => {
                write!(f, "option type {t} truncated: no length byte")
            }
            OptionFault::LengthBelowTwo {
                option_type: t,
                len,
            } => {
                write!(f, "option type {t} has length {len}, below the minimum 2")
            }
            OptionFault::LengthBeyond {
                option_type: t,
                len,
                remain,
            } => write!(
                f,
                "option type {t} has length {len} but only {remain} bytes of options remain"
            ),
        }
    }
}

/// An option that could not be delimited: where, the rest of the area, and why.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MalformedOption<'a> {
    /// Offset in the option area.
    pub offset: usize,
    /// The area from that offset to its end.
    pub rest: &'a [u8],
    /// Why.
    pub fault: OptionFault,
}

/// The options of an IPv4 option area, one view at a time. Stops after an EOL (the rest is
/// padding, see [`consumed`](Self::consumed)) and after the first option it cannot delimit
/// (yielded as `Err`). Never panics on any input.
#[derive(Debug, Clone)]
pub struct IpOptions<'a> {
    area: &'a [u8],
    at: usize,
    done: bool,
}

impl<'a> IpOptions<'a> {
    /// Walk `area` (the bytes after the 20-byte IPv4 header, up to IHL × 4).
    pub fn new(area: &'a [u8]) -> Self {
        IpOptions {
            area,
            at: 0,
            done: false,
        }
    }

    /// Bytes walked so far: after the iterator ends, where padding after an EOL begins (or the
    /// area's end).
    pub fn consumed(&self) -> usize {
        self.at
    }
}

impl<'a> Iterator for IpOptions<'a> {
    type Item = Result<IpOptionView<'a>, MalformedOption<'a>>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.done {
            return None;
        }
        let offset = self.at;
        let rest = self.area.get(offset..).filter(|r| !r.is_empty())?;
        let t = rest[field::TYPE];
        let one = |this: &mut Self| {
            this.at += 1;
            Some(Ok(IpOptionView {
                offset,
                bytes: &rest[..1],
            }))
        };
        match t {
            IPOPT_EOL => {
                self.done = true;
                return one(self);
            }
            IPOPT_NOP => return one(self),
            _ => {}
        }
        let fault = match rest.get(field::LENGTH).copied() {
            None => OptionFault::NoLength { option_type: t },
            Some(len) if len < 2 => OptionFault::LengthBelowTwo {
                option_type: t,
                len,
            },
            Some(len) if usize::from(len) > rest.len() => OptionFault::LengthBeyond {
                option_type: t,
                len,
                remain: rest.len(),
            },
            Some(len) => {
                let len = usize::from(len);
                self.at += len;
                return Some(Ok(IpOptionView {
                    offset,
                    bytes: &rest[..len],
                }));
            }
        };
        self.done = true;
        self.at = self.area.len();
        Some(Err(MalformedOption {
            offset,
            rest,
            fault,
        }))
    }
}

fn malformed(rest: &[u8], reason: String) -> IpOption {
    IpOption::Malformed {
        bytes: rest.to_vec(),
        reason,
    }
}

/// Parse an IPv4 option area. Never fails: an option that cannot be understood (bogus length,
/// pointer out of range, truncated) becomes [`IpOption::Malformed`] holding the rest of the area,
/// and parsing stops there. After an EOL (which is reported) the padding is skipped.
pub fn parse_options(area: &[u8]) -> Vec<IpOption> {
    let mut out = Vec::new();
    for item in IpOptions::new(area) {
        match item {
            Ok(v) => match IpOption::parse(&v) {
                Ok(o) => out.push(o),
                Err(reason) => {
                    out.push(malformed(&area[v.offset()..], reason));
                    break;
                }
            },
            Err(m) => out.push(malformed(m.rest, m.fault.to_string())),
        }
    }
    out
}

impl IpOption {
    /// The typed option of a view, or why its contents are bogus (pointer out of range, a
    /// length that is not whole addresses or entries).
    pub fn parse(view: &IpOptionView<'_>) -> Result<IpOption, String> {
        match view.option_type() {
            IPOPT_EOL => Ok(IpOption::EndOfList),
            IPOPT_NOP => Ok(IpOption::Nop),
            _ => parse_one(view.bytes()),
        }
    }
}

/// Parse one option whose length byte is known to fit; Err(reason) for a bogus one.
fn parse_one(opt: &[u8]) -> Result<IpOption, String> {
    let (t, len) = (opt[0], opt.len());
    match t {
        IPOPT_RR | IPOPT_LSRR | IPOPT_SSRR => {
            let name = match t {
                IPOPT_RR => "RR",
                IPOPT_LSRR => "LSRR",
                _ => "SSRR",
            };
            if len < 3 {
                return Err(format!("{name} length {len} has no room for the pointer"));
            }
            if (len - 3) % 4 != 0 {
                return Err(format!(
                    "{name} length {len} is not 3 + 4×n (whole addresses)"
                ));
            }
            let pointer = opt[field::POINTER];
            if pointer < 4 {
                return Err(format!("{name} pointer {pointer} below the minimum 4"));
            }
            // A pointer past the length means the area is full (RFC 791): legal, whatever
            // its value. One between slots is legal to parse too; the dissector flags it.
            let addrs = (field::ROUTE_DATA..len)
                .step_by(4)
                .map(|at| ip_at(opt, at))
                .collect();
            Ok(match t {
                IPOPT_RR => IpOption::RecordRoute {
                    pointer,
                    slots: addrs,
                },
                IPOPT_LSRR => IpOption::LooseSourceRoute {
                    pointer,
                    route: addrs,
                },
                _ => IpOption::StrictSourceRoute {
                    pointer,
                    route: addrs,
                },
            })
        }
        IPOPT_TS => {
            if len < 4 {
                return Err(format!("TS length {len} has no room for pointer and flags"));
            }
            let pointer = opt[field::POINTER];
            let overflow = opt[field::TS_OFLW_FLG] >> 4;
            let flag = TimestampFlag::from_u8(opt[field::TS_OFLW_FLG]);
            if pointer < 5 {
                return Err(format!("TS pointer {pointer} below the minimum 5"));
            }
            let step = if flag.has_addr() { 8 } else { 4 };
            if (len - 4) % step != 0 {
                return Err(format!(
                    "TS {} length {len} is not 4 + {step}×n (whole entries)",
                    flag.name()
                ));
            }
            let entries = (field::TS_DATA..len)
                .step_by(step)
                .map(|at| {
                    if step == 8 {
                        TimestampEntry {
                            addr: Some(ip_at(opt, at)),
                            timestamp: be32(opt, at + 4),
                        }
                    } else {
                        TimestampEntry {
                            addr: None,
                            timestamp: be32(opt, at),
                        }
                    }
                })
                .collect();
            Ok(IpOption::Timestamp {
                pointer,
                overflow,
                flag,
                entries,
            })
        }
        _ => Ok(IpOption::Raw(opt.to_vec())),
    }
}

fn hex_bytes(b: &[u8]) -> String {
    b.iter()
        .map(|x| format!("{x:02x}"))
        .collect::<Vec<_>>()
        .join(" ")
}

fn fmt_ts(t: u32) -> String {
    if t & 0x8000_0000 != 0 {
        format!("nonstd:{}", t & 0x7fff_ffff)
    } else {
        t.to_string()
    }
}

impl fmt::Display for IpOption {
    /// One line, e.g. `RR: 192.0.2.2 198.51.100.1 (8 of 9 slots)`,
    /// `LSRR ptr=8: 198.51.100.2 203.0.113.2`, `TS tsonly: 12345678 12345680`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            IpOption::EndOfList => write!(f, "EOL"),
            IpOption::Nop => write!(f, "NOP"),
            IpOption::RecordRoute { slots, .. } => {
                let rec = self.recorded();
                write!(f, "RR:")?;
                for a in &rec {
                    write!(f, " {a}")?;
                }
                write!(f, " ({} of {} slots)", rec.len(), slots.len())
            }
            IpOption::LooseSourceRoute { pointer, route }
            | IpOption::StrictSourceRoute { pointer, route } => {
                write!(f, "{} ptr={pointer}:", self.type_name())?;
                for a in route {
                    write!(f, " {a}")?;
                }
                Ok(())
            }
            IpOption::Timestamp {
                overflow,
                flag,
                entries,
                ..
            } => {
                let st = self.stamped();
                write!(f, "TS {}:", flag.name())?;
                if *flag == TimestampFlag::Prespecified {
                    for (i, e) in entries.iter().enumerate() {
                        let a = e.addr.unwrap_or(Ipv4Addr::UNSPECIFIED);
                        if i < st.len() {
                            write!(f, " {a}={}", fmt_ts(e.timestamp))?;
                        } else {
                            write!(f, " {a}=?")?;
                        }
                    }
                } else {
                    for e in &st {
                        match e.addr {
                            Some(a) => write!(f, " {a}={}", fmt_ts(e.timestamp))?,
                            None => write!(f, " {}", fmt_ts(e.timestamp))?,
                        }
                    }
                    if st.len() < entries.len() || st.is_empty() {
                        write!(f, " ({} of {} slots)", st.len(), entries.len())?;
                    }
                }
                if *overflow != 0 {
                    write!(f, " (overflow {overflow})")?;
                }
                Ok(())
            }
            IpOption::Raw(b) => {
                write!(
                    f,
                    "option type {}: {}",
                    b.first().copied().unwrap_or(0),
                    hex_bytes(b)
                )
            }
            IpOption::Malformed { bytes, reason } => {
                write!(f, "malformed option ({reason}): {}", hex_bytes(bytes))
            }
        }
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::wire::testutil::hex;
    use proptest::prelude::*;

    fn ip(s: &str) -> Ipv4Addr {
        s.parse().unwrap()
    }

    /// Option area of an echo reply to `ping -R` from a (192.0.2.2) to b (203.0.113.2) across
    /// two Linux routers, as captured on a's interface (AF_PACKET sees this): b recorded itself
    /// twice, the routers their outgoing addresses, pointer 32 = 7 addresses, 2 slots free.
    pub const RR_REPLY_WIRE_OPTS: &str = "072720 c0000202 c6336401 cb007101 cb007102 cb007102 \
        c6336402 c0000201 00000000 00000000 00";

    /// The same option as `ping -R` on a reads it from its socket: a's kernel records its own
    /// address (192.0.2.2) on input, pointer 36 = 8 addresses, 1 slot free.
    pub const RR_REPLY_SOCKET_OPTS: &str = "072724 c0000202 c6336401 cb007101 cb007102 cb007102 \
        c6336402 c0000201 c0000202 00000000 00";

    const RR_HOPS: [&str; 8] = [
        "192.0.2.2",
        "198.51.100.1",
        "203.0.113.1",
        "203.0.113.2",
        "203.0.113.2",
        "198.51.100.2",
        "192.0.2.1",
        "192.0.2.2",
    ];

    #[test]
    fn rr_linux_echo_reply() {
        let area = hex(RR_REPLY_SOCKET_OPTS);
        assert_eq!(area.len(), 40);
        let opts = parse_options(&area);
        assert_eq!(opts.len(), 2, "{opts:?}");
        match &opts[0] {
            IpOption::RecordRoute { pointer, slots } => {
                assert_eq!(*pointer, 36);
                assert_eq!(slots.len(), 9);
                assert_eq!(slots[8], Ipv4Addr::UNSPECIFIED);
            }
            o => panic!("{o:?}"),
        }
        assert_eq!(opts[0].recorded(), RR_HOPS.map(ip).to_vec());
        assert_eq!(opts[1], IpOption::EndOfList);
        assert_eq!(
            opts[0].to_string(),
            "RR: 192.0.2.2 198.51.100.1 203.0.113.1 203.0.113.2 203.0.113.2 198.51.100.2 \
             192.0.2.1 192.0.2.2 (8 of 9 slots)"
        );
        assert_eq!(emit_options(&opts).unwrap(), area);
    }

    #[test]
    fn rr_linux_echo_reply_on_the_wire() {
        let area = hex(RR_REPLY_WIRE_OPTS);
        let opts = parse_options(&area);
        assert_eq!(opts.len(), 2, "{opts:?}");
        assert_eq!(
            opts[0].recorded(),
            RR_HOPS[..7].iter().map(|s| ip(s)).collect::<Vec<_>>()
        );
        assert!(opts[0].to_string().ends_with("(7 of 9 slots)"));
        assert_eq!(emit_options(&opts).unwrap(), area);
    }

    #[test]
    fn rr_linux_request_nop_first() {
        // The request Linux sent (ping -R): NOP, then RR with its own address recorded.
        let area = hex(
            "01 072708 c0000202 00000000 00000000 00000000 00000000 00000000 \
                        00000000 00000000 00000000",
        );
        let opts = parse_options(&area);
        assert_eq!(opts.len(), 2);
        assert_eq!(opts[0], IpOption::Nop);
        assert_eq!(opts[1].recorded(), vec![ip("192.0.2.2")]);
        assert_eq!(opts[1].to_string(), "RR: 192.0.2.2 (1 of 9 slots)");
        assert_eq!(emit_options(&opts).unwrap(), area);
    }

    #[test]
    fn ts_only_linux_reply() {
        // Echo reply to `ping -T tsonly` (captured): pointer 33, 7 stamps filled, 2 empty.
        let area = hex(
            "442821 00 01f7cb54 01f7cb54 01f7cb54 01f7cb54 01f7cb54 01f7cb54 \
                        01f7cb54 00000000 00000000",
        );
        let opts = parse_options(&area);
        assert_eq!(opts.len(), 1);
        match &opts[0] {
            IpOption::Timestamp {
                pointer,
                overflow,
                flag,
                entries,
            } => {
                assert_eq!((*pointer, *overflow, *flag), (33, 0, TimestampFlag::TsOnly));
                assert_eq!(entries.len(), 9);
                assert!(entries.iter().all(|e| e.addr.is_none()));
            }
            o => panic!("{o:?}"),
        }
        let st = opts[0].stamped();
        assert_eq!(st.len(), 7);
        assert!(st.iter().all(|e| e.timestamp == 33016660));
        assert!(opts[0]
            .to_string()
            .starts_with("TS tsonly: 33016660 33016660"));
        assert!(opts[0].to_string().ends_with("(7 of 9 slots)"));
        assert_eq!(emit_options(&opts).unwrap(), area);
    }

    #[test]
    fn ts_and_addr_linux_reply_with_overflow() {
        // `ping -T tsandaddr` reply (captured): 4 pairs full, overflow 2 ("Unrecorded hops: 3"
        // in iputils counts the replying host's own attempt too), flag 1.
        let area = hex(
            "442425 21 c0000202 01f7cb59 c0000201 01f7cb59 c6336402 01f7cb59 \
                        cb007102 01f7cb59",
        );
        let opts = parse_options(&area);
        match &opts[..] {
            [IpOption::Timestamp {
                pointer: 37,
                overflow: 2,
                flag: TimestampFlag::TsAndAddr,
                entries,
            }] => {
                assert_eq!(entries[2].addr, Some(ip("198.51.100.2")));
                assert_eq!(entries[3].timestamp, 33016665);
            }
            o => panic!("{o:?}"),
        }
        assert_eq!(opts[0].stamped().len(), 4);
        assert_eq!(
            opts[0].to_string(),
            "TS tsandaddr: 192.0.2.2=33016665 192.0.2.1=33016665 198.51.100.2=33016665 \
             203.0.113.2=33016665 (overflow 2)"
        );
        assert_eq!(emit_options(&opts).unwrap(), area);
    }

    #[test]
    fn ts_prespec_linux_reply() {
        // `ping -T tsprespec 192.0.2.1 198.51.100.2 203.0.113.1 203.0.113.2` reply (captured):
        // pointer 29: the first three prespecified hops stamped, the fourth did not.
        let area = hex(
            "44241d 03 c0000201 01f7cb5d c6336402 01f7cb5d cb007101 01f7cb5d \
                        cb007102 00000000",
        );
        let opts = parse_options(&area);
        assert_eq!(opts[0].stamped().len(), 3);
        assert_eq!(
            opts[0].to_string(),
            "TS tsprespec: 192.0.2.1=33016669 198.51.100.2=33016669 203.0.113.1=33016669 \
             203.0.113.2=?"
        );
        assert_eq!(emit_options(&opts).unwrap(), area);
    }

    #[test]
    fn exact_emitted_bytes() {
        let rr = IpOption::record_route(9).unwrap();
        let mut want = hex("072704");
        want.extend([0u8; 37]);
        assert_eq!(emit_options(std::slice::from_ref(&rr)).unwrap(), want);
        assert_eq!(want.len(), 40);

        let lsrr =
            IpOption::loose_source_route(vec![ip("198.51.100.2"), ip("203.0.113.2")]).unwrap();
        assert_eq!(
            emit_options(&[lsrr]).unwrap(),
            hex("830b04 c6336402 cb007102 00")
        );

        let ts = IpOption::timestamp_only(9).unwrap();
        let mut want = hex("44280500");
        want.extend([0u8; 36]);
        assert_eq!(emit_options(&[ts]).unwrap(), want);

        let pre = IpOption::timestamp_prespecified(vec![
            ip("192.0.2.1"),
            ip("198.51.100.2"),
            ip("203.0.113.1"),
            ip("203.0.113.2"),
        ])
        .unwrap();
        assert_eq!(
            emit_options(&[pre]).unwrap(),
            hex(
                "44240503 c0000201 00000000 c6336402 00000000 cb007101 00000000 \
                 cb007102 00000000"
            )
        );

        let ssrr = IpOption::strict_source_route(vec![ip("203.0.113.2")]).unwrap();
        assert_eq!(
            emit_options(&[IpOption::Nop, ssrr]).unwrap(),
            hex("01 890704 cb007102")
        );
        let tsa = IpOption::timestamp_and_address(1).unwrap();
        assert_eq!(
            emit_options(&[tsa]).unwrap(),
            hex("440c0501 00000000 00000000")
        );
        assert_eq!(emit_options(&[]).unwrap(), Vec::<u8>::new());
    }

    #[test]
    fn limits_name_the_limit() {
        let e = IpOption::record_route(10).unwrap_err().to_string();
        assert_eq!(
            e,
            "record route holds at most 9 addresses (40 bytes of options), asked for 10"
        );
        let e = IpOption::loose_source_route(vec![ip("192.0.2.1"); 10])
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("at most 9 hops") && e.contains("asked for 10"),
            "{e}"
        );
        let e = IpOption::strict_source_route(vec![])
            .unwrap_err()
            .to_string();
        assert!(e.contains("at least 1"), "{e}");
        let e = IpOption::timestamp_and_address(5).unwrap_err().to_string();
        assert!(
            e.contains("at most 4 address+timestamp pairs") && e.contains("asked for 5"),
            "{e}"
        );
        let e = IpOption::timestamp_only(10).unwrap_err().to_string();
        assert!(e.contains("at most 9 timestamps"), "{e}");
        let e = IpOption::timestamp_prespecified(vec![ip("192.0.2.1"); 5])
            .unwrap_err()
            .to_string();
        assert!(e.contains("at most 4 prespecified"), "{e}");
        assert!(IpOption::record_route(0).is_err());
        let e = IpOption::raw(vec![0x94; 41]).unwrap_err().to_string();
        assert!(e.contains("1 to 40 bytes") && e.contains("got 41"), "{e}");
        assert!(IpOption::raw(vec![]).is_err());

        // NOP + RR(9) is exactly 40 bytes: what Linux `ping -R` sends.
        let full = [IpOption::Nop, IpOption::record_route(9).unwrap()];
        assert_eq!(emit_options(&full).unwrap().len(), 40);
        let e = emit_options(&[
            IpOption::record_route(9).unwrap(),
            IpOption::Nop,
            IpOption::Nop,
        ])
        .unwrap_err()
        .to_string();
        assert_eq!(
            e,
            "IP options need 44 bytes; an IPv4 header holds at most 40 bytes of options \
             (IHL 15 = 60 bytes)"
        );
    }

    #[test]
    fn raw_lies_are_kept() {
        // Length byte says 200: emitted verbatim; parsing it back gives Malformed.
        let r = IpOption::raw(hex("94c8 0000")).unwrap();
        let area = emit_options(&[r]).unwrap();
        assert_eq!(area, hex("94c80000"));
        let p = parse_options(&area);
        assert!(matches!(&p[..], [IpOption::Malformed { bytes, .. }] if *bytes == area));
        // Router alert (type 148) is Raw.
        let p = parse_options(&hex("94040000"));
        assert_eq!(p, vec![IpOption::Raw(hex("94040000"))]);
        assert_eq!(p[0].to_string(), "option type 148: 94 04 00 00");
    }

    #[test]
    fn malformed_cases() {
        let cases: &[(&str, &str)] = &[
            ("07", "no length byte"),
            ("0701", "below the minimum 2"),
            ("07 27 04 00", "only 4 bytes"),
            ("07 07 03 00000000", "pointer 3 below the minimum 4"),
            ("07 06 04 000000 00", "not 3 + 4×n"),
            ("44 08 04 00 00000000", "TS pointer 4 below the minimum 5"),
            ("44 08 05 01 00000000", "not 4 + 8×n"),
            ("83 02", "no room for the pointer"),
            ("44 03 05", "no room for pointer and flags"),
        ];
        for (h, why) in cases {
            let area = hex(h);
            let p = parse_options(&[&[1u8][..], &area].concat());
            assert_eq!(p.len(), 2, "{h}: {p:?}");
            assert_eq!(p[0], IpOption::Nop);
            match &p[1] {
                IpOption::Malformed { bytes, reason } => {
                    assert_eq!(bytes, &area, "{h}");
                    assert!(reason.contains(why), "{h}: {reason}");
                }
                o => panic!("{h}: {o:?}"),
            }
        }
        // Full RR (pointer = length + 1) is fine, and so is any pointer past the length
        // (RFC 791: "greater than the length" means full), for routes and timestamps alike.
        for h in [
            "07 07 08 c0000201",
            "07 07 09 c0000201",
            "83 07 ff c0000201",
        ] {
            let p = parse_options(&hex(h));
            assert_eq!(p[0].recorded(), vec![ip("192.0.2.1")], "{h}");
        }
        let p = parse_options(&hex("44 08 20 00 00000001"));
        assert_eq!(p[0].stamped().len(), 1);
        // Padding after EOL is skipped even when not zero.
        assert_eq!(
            parse_options(&hex("00 ff ff ff")),
            vec![IpOption::EndOfList]
        );
        assert!(parse_options(&[]).is_empty());
    }

    #[test]
    fn source_route_recorded_and_display() {
        let o = IpOption::LooseSourceRoute {
            pointer: 8,
            route: vec![ip("198.51.100.2"), ip("203.0.113.2")],
        };
        assert_eq!(o.to_string(), "LSRR ptr=8: 198.51.100.2 203.0.113.2");
        assert_eq!(o.recorded(), vec![ip("198.51.100.2")]);
        assert_eq!(o.type_name(), "LSRR");
        assert_eq!(o.option_type(), Some(131));
        let ts = IpOption::Timestamp {
            pointer: 13,
            overflow: 0,
            flag: TimestampFlag::TsOnly,
            entries: vec![
                TimestampEntry {
                    addr: None,
                    timestamp: 12345678,
                },
                TimestampEntry {
                    addr: None,
                    timestamp: 12345680,
                },
            ],
        };
        assert_eq!(ts.to_string(), "TS tsonly: 12345678 12345680");
    }

    /// Any option built by a validated constructor (or NOP), for property tests elsewhere.
    pub fn arb_option() -> impl Strategy<Value = IpOption> {
        let addr = any::<u32>().prop_map(Ipv4Addr::from);
        prop_oneof![
            Just(IpOption::Nop),
            (1usize..=9).prop_map(|n| IpOption::record_route(n).unwrap()),
            proptest::collection::vec(addr.clone(), 1..=9)
                .prop_map(|r| IpOption::loose_source_route(r).unwrap()),
            proptest::collection::vec(addr.clone(), 1..=9)
                .prop_map(|r| IpOption::strict_source_route(r).unwrap()),
            (1usize..=9).prop_map(|n| IpOption::timestamp_only(n).unwrap()),
            (1usize..=4).prop_map(|n| IpOption::timestamp_and_address(n).unwrap()),
            proptest::collection::vec(addr, 1..=4)
                .prop_map(|r| IpOption::timestamp_prespecified(r).unwrap()),
            (2u8..=255, proptest::collection::vec(any::<u8>(), 0..=10))
                .prop_filter("not a known type", |(t, _)| ![7, 68, 131, 137].contains(t))
                .prop_map(|(t, d)| {
                    let mut b = vec![t, (d.len() + 2) as u8];
                    b.extend(d);
                    IpOption::raw(b).unwrap()
                }),
        ]
    }

    /// A list of options that fits in 40 bytes.
    pub fn arb_options() -> impl Strategy<Value = Vec<IpOption>> {
        proptest::collection::vec(arb_option(), 0..4).prop_map(|mut v| {
            while options_len(&v).is_err() {
                v.pop();
            }
            v
        })
    }

    proptest! {
        #[test]
        fn parse_options_never_panics(area in proptest::collection::vec(any::<u8>(), 0..200)) {
            let opts = parse_options(&area);
            // Whatever was parsed re-emits to a prefix of the input (up to EOL padding).
            let total: usize = opts.iter().map(IpOption::wire_len).sum();
            prop_assert!(total <= area.len());
            for o in &opts {
                let _ = o.to_string();
                let _ = o.recorded();
                let _ = o.stamped();
            }
        }

        #[test]
        fn options_round_trip(opts in arb_options()) {
            let area = emit_options(&opts).unwrap();
            prop_assert_eq!(area.len() % 4, 0);
            let mut parsed = parse_options(&area);
            let raw: usize = opts.iter().map(IpOption::wire_len).sum();
            if raw < area.len() {
                prop_assert_eq!(parsed.pop(), Some(IpOption::EndOfList));
            }
            prop_assert_eq!(parsed, opts);
        }
    }
}
