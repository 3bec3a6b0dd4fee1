//! Capture files written: classic pcap or pcapng ([`PcapWriter`], nanosecond timestamps and
//! original lengths kept, pcapng blocks by `pcap-file`); and a reader for classic pcap files of
//! either resolution and byte order ([`PcapReader`]; `link::capfile` reads pcapng too).

use std::borrow::Cow;
use std::fs::File;
use std::io::{self, BufReader, BufWriter, Read, Write};
use std::path::Path;
use std::time::{Duration, SystemTime};

use pcap_file::pcapng::blocks::enhanced_packet::{EnhancedPacketBlock, EnhancedPacketOption};
use pcap_file::pcapng::blocks::interface_description::{
    InterfaceDescriptionBlock, InterfaceDescriptionOption,
};
use pcap_file::pcapng::blocks::section_header::{SectionHeaderBlock, SectionHeaderOption};
use pcap_file::pcapng::PcapNgWriter;
use pcap_file::DataLink;

use crate::{Error, Result};

/// Magic of a microsecond-resolution file (as read in the file's own byte order).
pub const MAGIC_USEC: u32 = 0xa1b2_c3d4;
/// Magic of a nanosecond-resolution file.
pub const MAGIC_NSEC: u32 = 0xa1b2_3c4d;
/// `LINKTYPE_ETHERNET`.
pub const LINKTYPE_ETHERNET: u32 = 1;
/// Largest frame stored whole; longer frames are cut (their original length is kept).
pub const SNAPLEN: u32 = 262_144;
/// Refuse records larger than this when reading (corrupt length fields).
const MAX_RECORD: u32 = 16 * 1024 * 1024;
/// Most bytes reserved for a record before its data arrives (a frame of a 9000-byte jumbo MTU
/// fits; longer records grow as they are read).
const PREALLOC_MAX: usize = 16 * 1024;

/// Which file format a writer produces.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum PcapFormat {
    /// pcapng when the file name ends in `.pcapng`, classic pcap otherwise.
    #[default]
    ByName,
    /// Classic pcap (nanosecond magic, one link type per file).
    Pcap,
    /// pcapng: a section header, an interface description per link type (`if_tsresol` 9:
    /// nanoseconds), an enhanced packet block per frame.
    PcapNg,
}

impl PcapFormat {
    /// The format a file at `path` gets: `ByName` decided by the name's extension.
    pub fn resolve(self, path: &Path) -> PcapFormat {
        match self {
            PcapFormat::ByName => {
                let ng = path
                    .extension()
                    .is_some_and(|e| e.eq_ignore_ascii_case("pcapng"));
                if ng {
                    PcapFormat::PcapNg
                } else {
                    PcapFormat::Pcap
                }
            }
            f => f,
        }
    }
}

/// One frame to write: when, its bytes, how long it was on the wire, its link type and, when
/// known, which way it went.
#[derive(Debug, Clone, Copy)]
pub struct Packet<'a> {
    /// When it was captured or sent.
    pub timestamp: SystemTime,
    /// The bytes kept (cut to [`SNAPLEN`] when longer).
    pub data: &'a [u8],
    /// Its length on the wire (at least `data.len()`).
    pub wire_len: usize,
    /// Its link type (1 Ethernet, 113 Linux SLL, 276 SLL2).
    pub linktype: u32,
    /// Sent by this host (true) or received (false); pcapng records it as `epb_flags`.
    pub outgoing: Option<bool>,
}

enum Out {
    Pcap(BufWriter<File>),
    PcapNg(Box<PcapNgWriter<BufWriter<File>>>),
}

/// Writes frames to a classic pcap or a pcapng file, nanosecond timestamps and original lengths
/// kept (little-endian pcap; pcapng in the host's byte order).
pub struct PcapWriter {
    out: Out,
    path: String,
    /// pcap: the file's one link type. pcapng: the link type of each interface described.
    linktypes: Vec<u32>,
    if_name: Option<String>,
}

impl PcapWriter {
    /// Create (truncate) `path` for Ethernet frames, pcapng if its name ends in `.pcapng`.
    pub fn create(path: impl AsRef<Path>) -> Result<Self> {
        Self::create_as(path, PcapFormat::ByName, LINKTYPE_ETHERNET, None)
    }

    /// Create (truncate) `path` in `format` for frames of `linktype`; `iface` names the
    /// interface in a pcapng file (`if_name`).
    pub fn create_as(
        path: impl AsRef<Path>,
        format: PcapFormat,
        linktype: u32,
        iface: Option<&str>,
    ) -> Result<Self> {
        let path = path.as_ref();
        let p = path.display().to_string();
        let f = File::create(path).map_err(|e| Error::io(format!("creating {p}"), e))?;
        let out = BufWriter::new(f);
        let out = match format.resolve(path) {
            PcapFormat::PcapNg => {
                let shb = SectionHeaderBlock {
                    endianness: pcap_file::Endianness::native(),
                    options: vec![SectionHeaderOption::UserApplication(
                        format!("pktforge {}", env!("CARGO_PKG_VERSION")).into(),
                    )],
                    ..SectionHeaderBlock::default()
                };
                Out::PcapNg(Box::new(
                    PcapNgWriter::with_section_header(out, shb).map_err(|e| ng_error(&p, e))?,
                ))
            }
            _ => Out::Pcap(out),
        };
        let mut w = PcapWriter {
            out,
            path: p,
            linktypes: Vec::new(),
            if_name: iface.map(str::to_string),
        };
        match w.out {
            Out::Pcap(_) => {
                let mut h = Vec::with_capacity(24);
                h.extend_from_slice(&MAGIC_NSEC.to_le_bytes());
                h.extend_from_slice(&2u16.to_le_bytes());
                h.extend_from_slice(&4u16.to_le_bytes());
                h.extend_from_slice(&0i32.to_le_bytes()); // thiszone
                h.extend_from_slice(&0u32.to_le_bytes()); // sigfigs
                h.extend_from_slice(&SNAPLEN.to_le_bytes());
                h.extend_from_slice(&linktype.to_le_bytes());
                w.put(&h)?;
                w.linktypes.push(linktype);
            }
            Out::PcapNg(_) => {
                w.interface(linktype)?;
            }
        }
        Ok(w)
    }

    /// The format being written.
    pub fn format(&self) -> PcapFormat {
        match self.out {
            Out::Pcap(_) => PcapFormat::Pcap,
            Out::PcapNg(_) => PcapFormat::PcapNg,
        }
    }

    fn put(&mut self, b: &[u8]) -> Result<()> {
        let r = match &mut self.out {
            Out::Pcap(o) => o.write_all(b),
            Out::PcapNg(o) => o.get_mut().write_all(b),
        };
        r.map_err(|e| Error::io(format!("writing {}", self.path), e))
    }

    /// The pcapng interface for `linktype`, described (an IDB written) on first use.
    fn interface(&mut self, linktype: u32) -> Result<u32> {
        if let Some(i) = self.linktypes.iter().position(|&l| l == linktype) {
            return Ok(i as u32);
        }
        let Out::PcapNg(w) = &mut self.out else {
            return Err(Error::Invalid(format!(
                "{}: a pcap file holds frames of one link type ({}), this one is {linktype}: \
                 write pcapng for several",
                self.path,
                self.linktypes.first().copied().unwrap_or(LINKTYPE_ETHERNET)
            )));
        };
        let mut options = vec![InterfaceDescriptionOption::IfTsResol(9)];
        if let Some(n) = &self.if_name {
            options.insert(0, InterfaceDescriptionOption::IfName(n.clone().into()));
        }
        let idb = InterfaceDescriptionBlock {
            linktype: DataLink::from(linktype),
            snaplen: SNAPLEN,
            options,
        };
        w.write_pcapng_block(idb)
            .map_err(|e| ng_error(&self.path, e))?;
        self.linktypes.push(linktype);
        Ok(self.linktypes.len() as u32 - 1)
    }

    /// Append one Ethernet frame received (or sent) at `ts`.
    pub fn write(&mut self, ts: SystemTime, frame: &[u8]) -> Result<()> {
        self.write_cut(ts, frame, frame.len())
    }

    /// Append an Ethernet frame that was `wire_len` bytes long on the wire, of which `frame`
    /// was kept (the record's original length says how much was cut).
    pub fn write_cut(&mut self, ts: SystemTime, frame: &[u8], wire_len: usize) -> Result<()> {
        self.write_packet(&Packet {
            timestamp: ts,
            data: frame,
            wire_len,
            linktype: LINKTYPE_ETHERNET,
            outgoing: None,
        })
    }

    /// Append one frame of any link type. A classic pcap file refuses a link type other than
    /// the one it was created for.
    pub fn write_packet(&mut self, p: &Packet<'_>) -> Result<()> {
        let d = p
            .timestamp
            .duration_since(SystemTime::UNIX_EPOCH)
            .unwrap_or_default();
        let kept = p.data.len().min(SNAPLEN as usize);
        let orig = u32::try_from(p.wire_len.max(p.data.len())).unwrap_or(u32::MAX);
        let data = &p.data[..kept];
        let interface_id = self.interface(p.linktype)?;
        let path = &self.path;
        match &mut self.out {
            Out::Pcap(o) => {
                let secs = u32::try_from(d.as_secs()).map_err(|_| {
                    Error::Invalid(format!(
                        "timestamp {}s does not fit a pcap file",
                        d.as_secs()
                    ))
                })?;
                let mut h = [0u8; 16];
                h[0..4].copy_from_slice(&secs.to_le_bytes());
                h[4..8].copy_from_slice(&d.subsec_nanos().to_le_bytes());
                h[8..12].copy_from_slice(&(kept as u32).to_le_bytes());
                h[12..16].copy_from_slice(&orig.to_le_bytes());
                o.write_all(&h)
                    .and_then(|()| o.write_all(data))
                    .map_err(|e| Error::io(format!("writing {path}"), e))
            }
            Out::PcapNg(w) => {
                let options = match p.outgoing {
                    // epb_flags bits 0-1: 01 inbound, 10 outbound.
                    Some(out) => vec![EnhancedPacketOption::Flags(if out { 2 } else { 1 })],
                    None => Vec::new(),
                };
                let epb = EnhancedPacketBlock {
                    interface_id,
                    // pcap-file writes the timestamp in nanoseconds: the unit if_tsresol 9
                    // declares.
                    timestamp: d,
                    original_len: orig,
                    data: Cow::Borrowed(data),
                    options,
                };
                w.write_pcapng_block(epb)
                    .map(|_| ())
                    .map_err(|e| ng_error(path, e))
            }
        }
    }

    /// Push buffered records to the file.
    pub fn flush(&mut self) -> Result<()> {
        let r = match &mut self.out {
            Out::Pcap(o) => o.flush(),
            Out::PcapNg(o) => o.get_mut().flush(),
        };
        r.map_err(|e| Error::io(format!("flushing {}", self.path), e))
    }
}

fn ng_error(path: &str, e: pcap_file::PcapError) -> Error {
    match e {
        pcap_file::PcapError::IoError(e) => Error::io(format!("writing {path}"), e),
        e => Error::Invalid(format!("writing {path}: {e}")),
    }
}

impl Drop for PcapWriter {
    fn drop(&mut self) {
        let _ = self.flush();
    }
}

/// Reads frames back from a classic pcap file, as `(timestamp, bytes)`.
pub struct PcapReader<R: Read = BufReader<File>> {
    input: R,
    name: String,
    big_endian: bool,
    nanos: bool,
    linktype: u32,
    snaplen: u32,
    index: u64,
    done: bool,
}

fn bad(name: &str, why: String) -> Error {
    Error::io(
        format!("reading pcap {name}"),
        io::Error::new(io::ErrorKind::InvalidData, why),
    )
}

/// Fill `buf`; Ok(false) on clean EOF before the first byte, error on EOF in the middle.
fn read_full(r: &mut impl Read, buf: &mut [u8]) -> io::Result<bool> {
    let mut got = 0;
    while got < buf.len() {
        match r.read(&mut buf[got..]) {
            Ok(0) if got == 0 => return Ok(false),
            Ok(0) => {
                return Err(io::Error::new(
                    io::ErrorKind::UnexpectedEof,
                    format!("truncated: {got} of {} bytes", buf.len()),
                ))
            }
            Ok(n) => got += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(true)
}

impl PcapReader<BufReader<File>> {
    /// Open `path` and check its header.
    pub fn open(path: impl AsRef<Path>) -> Result<Self> {
        let name = path.as_ref().display().to_string();
        let f = File::open(path.as_ref()).map_err(|e| Error::io(format!("opening {name}"), e))?;
        Self::new(BufReader::new(f), name)
    }
}

impl<R: Read> PcapReader<R> {
    /// Read the file header from `input`; `name` is used in error messages.
    pub fn new(mut input: R, name: impl Into<String>) -> Result<Self> {
        let name = name.into();
        let mut h = [0u8; 24];
        match read_full(&mut input, &mut h) {
            Ok(true) => {}
            Ok(false) => return Err(bad(&name, "empty file, not a pcap".into())),
            Err(e) => return Err(bad(&name, format!("file header: {e}"))),
        }
        let le = u32::from_le_bytes([h[0], h[1], h[2], h[3]]);
        let be = u32::from_be_bytes([h[0], h[1], h[2], h[3]]);
        let (big_endian, nanos) = match (le, be) {
            (MAGIC_USEC, _) => (false, false),
            (MAGIC_NSEC, _) => (false, true),
            (_, MAGIC_USEC) => (true, false),
            (_, MAGIC_NSEC) => (true, true),
            _ => {
                let hint = if be == 0x0a0d_0d0a {
                    " (this is a pcapng file; only classic pcap is supported)"
                } else {
                    ""
                };
                return Err(bad(&name, format!("bad magic {be:#010x}{hint}")));
            }
        };
        let mut r = PcapReader {
            input,
            name,
            big_endian,
            nanos,
            linktype: 0,
            snaplen: 0,
            index: 0,
            done: false,
        };
        let major = r.u16(&h[4..6]);
        if major != 2 {
            return Err(bad(&r.name, format!("unsupported pcap version {major}")));
        }
        r.snaplen = r.u32(&h[16..20]);
        // libpcap keeps the low 16 bits: FCS length and class bits live above them.
        r.linktype = r.u32(&h[20..24]) & 0xffff;
        Ok(r)
    }

    fn u16(&self, b: &[u8]) -> u16 {
        let a = [b[0], b[1]];
        if self.big_endian {
            u16::from_be_bytes(a)
        } else {
            u16::from_le_bytes(a)
        }
    }
    fn u32(&self, b: &[u8]) -> u32 {
        let a = [b[0], b[1], b[2], b[3]];
        if self.big_endian {
            u32::from_be_bytes(a)
        } else {
            u32::from_le_bytes(a)
        }
    }

    /// Link type of the file (1 = Ethernet).
    pub fn linktype(&self) -> u32 {
        self.linktype
    }
    /// True for nanosecond-resolution files.
    pub fn nanosecond(&self) -> bool {
        self.nanos
    }
    /// Snapshot length from the header.
    pub fn snaplen(&self) -> u32 {
        self.snaplen
    }

    fn next_record(&mut self) -> Result<Option<(SystemTime, Vec<u8>)>> {
        let mut h = [0u8; 16];
        let n = self.index + 1;
        match read_full(&mut self.input, &mut h) {
            Ok(true) => {}
            Ok(false) => return Ok(None),
            Err(e) => return Err(bad(&self.name, format!("record {n} header: {e}"))),
        }
        let secs = self.u32(&h[0..4]);
        let frac = self.u32(&h[4..8]);
        let incl = self.u32(&h[8..12]);
        if incl > MAX_RECORD.max(self.snaplen.min(MAX_RECORD)) {
            return Err(bad(
                &self.name,
                format!("record {n}: length {incl} is implausible"),
            ));
        }
        // Grow the buffer as the bytes arrive rather than trusting the length field: a record
        // header claiming 16 MiB in a 40-byte file must not allocate 16 MiB.
        let mut data = Vec::with_capacity((incl as usize).min(PREALLOC_MAX));
        // (read_to_end retries on EINTR itself.)
        let got = (&mut self.input)
            .take(u64::from(incl))
            .read_to_end(&mut data)
            .map_err(|e| bad(&self.name, format!("record {n} data: {e}")))?;
        if got == 0 && incl > 0 {
            return Err(bad(&self.name, format!("record {n}: data missing")));
        }
        if data.len() < incl as usize {
            return Err(bad(
                &self.name,
                format!("record {n} data: truncated: {} of {incl} bytes", data.len()),
            ));
        }
        // A sub-second field out of range carries into the seconds, as libpcap reads it.
        let nanos = if self.nanos {
            u64::from(frac)
        } else {
            u64::from(frac) * 1000
        };
        self.index = n;
        Ok(Some((
            SystemTime::UNIX_EPOCH
                + Duration::from_secs(u64::from(secs))
                + Duration::from_nanos(nanos),
            data,
        )))
    }
}

impl<R: Read> Iterator for PcapReader<R> {
    type Item = Result<(SystemTime, Vec<u8>)>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.done {
            return None;
        }
        match self.next_record() {
            Ok(Some(r)) => Some(Ok(r)),
            Ok(None) => {
                self.done = true;
                None
            }
            Err(e) => {
                self.done = true;
                Some(Err(e))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tmp(name: &str) -> std::path::PathBuf {
        std::env::temp_dir().join(format!("pf-pcap-{}-{name}.pcap", std::process::id()))
    }

    fn sample_frames() -> Vec<(SystemTime, Vec<u8>)> {
        let t = SystemTime::UNIX_EPOCH + Duration::new(1_700_000_000, 123_456_789);
        let mut icmp = vec![0xffu8; 6];
        icmp.extend_from_slice(&[2, 0, 0, 0, 0, 1, 0x08, 0x00]);
        icmp.extend_from_slice(&[
            0x45, 0, 0, 28, 0, 1, 0, 0, 64, 1, 0, 0, 192, 0, 2, 2, 192, 0, 2, 1,
        ]);
        icmp.extend_from_slice(&[8, 0, 0xf7, 0xfe, 0, 1, 0, 0]);
        vec![
            (t, icmp),
            (t + Duration::from_nanos(1), vec![0u8; 60]),
            (t + Duration::from_secs(1), (0..=255u8).collect()),
        ]
    }

    #[test]
    fn round_trip_keeps_nanoseconds() {
        let p = tmp("rt");
        let frames = sample_frames();
        {
            let mut w = PcapWriter::create(&p).unwrap();
            for (t, f) in &frames {
                w.write(*t, f).unwrap();
            }
            // no explicit flush: Drop must flush
        }
        let r = PcapReader::open(&p).unwrap();
        assert!(r.nanosecond());
        assert_eq!(r.linktype(), LINKTYPE_ETHERNET);
        assert_eq!(r.snaplen(), SNAPLEN);
        let back: Vec<_> = r.map(|x| x.unwrap()).collect();
        assert_eq!(back, frames);
        std::fs::remove_file(&p).ok();
    }

    fn header(be: bool, magic: u32) -> Vec<u8> {
        let mut v = Vec::new();
        let put32 = |v: &mut Vec<u8>, x: u32| {
            v.extend_from_slice(&if be { x.to_be_bytes() } else { x.to_le_bytes() })
        };
        put32(&mut v, magic);
        v.extend_from_slice(&if be {
            2u16.to_be_bytes()
        } else {
            2u16.to_le_bytes()
        });
        v.extend_from_slice(&if be {
            4u16.to_be_bytes()
        } else {
            4u16.to_le_bytes()
        });
        put32(&mut v, 0);
        put32(&mut v, 0);
        put32(&mut v, 65535);
        put32(&mut v, 1);
        for x in [10u32, 500_000, 3, 3] {
            put32(&mut v, x);
        }
        v.extend_from_slice(&[1, 2, 3]);
        v
    }

    #[test]
    fn reads_microsecond_and_big_endian_files() {
        for be in [false, true] {
            for (magic, nanos) in [(MAGIC_USEC, 500_000_000u32), (MAGIC_NSEC, 500_000)] {
                let bytes = header(be, magic);
                let r = PcapReader::new(&bytes[..], "mem").unwrap();
                let v: Vec<_> = r.map(|x| x.unwrap()).collect();
                assert_eq!(v.len(), 1, "be={be} magic={magic:#x}");
                assert_eq!(v[0].0, SystemTime::UNIX_EPOCH + Duration::new(10, nanos));
                assert_eq!(v[0].1, vec![1, 2, 3]);
            }
        }
    }

    #[test]
    fn bad_files_give_clear_errors() {
        let msg = |r: Result<PcapReader<&[u8]>>| match r {
            Err(e) => e.to_string(),
            Ok(_) => panic!("accepted a bad file"),
        };
        assert!(msg(PcapReader::new(&[][..], "x")).contains("empty"));
        assert!(msg(PcapReader::new(&[1, 2, 3][..], "x")).contains("truncated"));
        let s = msg(PcapReader::new(
            &[
                0x0a, 0x0d, 0x0d, 0x0a, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
            ][..],
            "x",
        ));
        assert!(s.contains("bad magic") && s.contains("pcapng"), "{s}");
        // Truncated record data.
        let mut b = header(false, MAGIC_NSEC);
        b.pop();
        let mut r = PcapReader::new(&b[..], "cut").unwrap();
        let e = r.next().unwrap().unwrap_err().to_string();
        assert!(e.contains("record 1") && e.contains("cut"), "{e}");
        assert!(r.next().is_none(), "stops after an error");
        // Truncated record header.
        let b = header(false, MAGIC_NSEC);
        let mut r = PcapReader::new(&b[..30], "x").unwrap();
        assert!(r.next().unwrap().is_err());
        // Implausible length.
        let mut b = header(false, MAGIC_NSEC);
        b[32..36].copy_from_slice(&u32::MAX.to_le_bytes());
        assert!(PcapReader::new(&b[..], "x")
            .unwrap()
            .next()
            .unwrap()
            .is_err());
        // Sub-second field out of range: read as libpcap reads it, carried into the seconds.
        let mut b = header(false, MAGIC_USEC);
        b[28..32].copy_from_slice(&2_000_000u32.to_le_bytes());
        assert!(PcapReader::new(&b[..], "x")
            .unwrap()
            .next()
            .unwrap()
            .is_ok());
        assert!(PcapReader::open("/nonexistent/x.pcap").is_err());
    }

    /// A reader over `data` that remembers the largest buffer it was asked to fill: a reader
    /// hands `read` the buffer it allocated for the record.
    struct Spy<'a> {
        data: &'a [u8],
        largest: &'a std::cell::Cell<usize>,
    }

    impl Read for Spy<'_> {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            self.largest.set(self.largest.get().max(buf.len()));
            self.data.read(buf)
        }
    }

    #[test]
    fn huge_record_length_allocates_only_what_arrives() {
        // Regression (pcap fuzz target): a 16-byte record header claiming 16 MiB made the
        // reader allocate and zero 16 MiB before finding that the file ends 3 bytes later.
        let mut b = header(false, MAGIC_NSEC);
        b[32..36].copy_from_slice(&MAX_RECORD.to_le_bytes());
        let largest = std::cell::Cell::new(0);
        let spy = Spy {
            data: &b,
            largest: &largest,
        };
        let mut r = PcapReader::new(spy, "huge").unwrap();
        let e = r.next().unwrap().unwrap_err().to_string();
        assert!(
            e.contains("record 1 data: truncated: 3 of 16777216 bytes"),
            "{e}"
        );
        assert!(
            largest.get() <= PREALLOC_MAX,
            "asked to fill {}",
            largest.get()
        );
        // A long record that is really there is still read whole.
        let mut b = header(false, MAGIC_NSEC);
        b.truncate(32);
        let big = 1_000_000u32;
        b.extend_from_slice(&big.to_le_bytes());
        b.extend_from_slice(&big.to_le_bytes());
        b.extend((0..big).map(|i| i as u8));
        let (_, f) = PcapReader::new(&b[..], "x")
            .unwrap()
            .next()
            .unwrap()
            .unwrap();
        assert_eq!(f.len(), 1_000_000);
        assert_eq!(f[999_999], (999_999u32 as u8));
        // A record whose data is simply absent.
        let mut b = header(false, MAGIC_NSEC);
        b.truncate(40);
        let e = PcapReader::new(&b[..], "x")
            .unwrap()
            .next()
            .unwrap()
            .unwrap_err()
            .to_string();
        assert!(e.contains("record 1: data missing"), "{e}");
    }

    #[test]
    fn tshark_reads_our_file() {
        let tshark = Path::new("/usr/bin/tshark");
        if !tshark.exists() {
            if std::env::var("CI").as_deref() == Ok("true") {
                panic!("tshark missing at /usr/bin/tshark and CI=true");
            }
            eprintln!("note: skipping tshark_reads_our_file: /usr/bin/tshark not installed");
            return;
        }
        let p = tmp("tshark");
        let frames = sample_frames();
        {
            let mut w = PcapWriter::create(&p).unwrap();
            for (t, f) in &frames {
                w.write(*t, f).unwrap();
            }
            w.flush().unwrap();
        }
        let out = std::process::Command::new(tshark)
            .args(["-n", "-r"])
            .arg(&p)
            .args([
                "-T",
                "fields",
                "-e",
                "frame.len",
                "-e",
                "frame.time_epoch",
                "-e",
                "icmp.type",
            ])
            .output()
            .unwrap();
        std::fs::remove_file(&p).ok();
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(
            out.status.success(),
            "tshark failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let lines: Vec<&str> = stdout.lines().collect();
        assert_eq!(lines.len(), 3, "{stdout}");
        let first: Vec<&str> = lines[0].split('\t').collect();
        assert_eq!(first[0], "42");
        assert!(first[1].starts_with("1700000000.123456789"), "{stdout}");
        assert_eq!(first[2], "8", "tshark decoded the ICMP echo request");
        assert!(lines[2].starts_with("256\t"));
    }
}

#[cfg(test)]
#[path = "pcapng_tests.rs"]
mod ng_tests;
