use std::process::Command;
use std::time::{Duration, SystemTime};

use super::*;
use crate::link::capfile::{
    PcapWriter, LINKTYPE_LINUX_SLL, LINKTYPE_LINUX_SLL2, MAGIC_NSEC, MAGIC_USEC,
};
use crate::wire::testutil::{self, hex};

fn tmp(name: &str) -> std::path::PathBuf {
    std::env::temp_dir().join(format!("pfc-capfile-{}-{name}", std::process::id()))
}

fn frames() -> Vec<(SystemTime, Vec<u8>)> {
    [
        testutil::RR_REQUEST,
        testutil::RR_REPLY,
        testutil::SR_FAILED,
    ]
    .iter()
    .enumerate()
    .map(|(i, h)| {
        (
            SystemTime::UNIX_EPOCH + Duration::new(1_700_000_000 + i as u64, 123_456_789),
            hex(h),
        )
    })
    .collect()
}

fn write_pcap(path: &std::path::Path) {
    let mut w = PcapWriter::create(path).unwrap();
    for (t, f) in frames() {
        w.write(t, &f).unwrap();
    }
    w.flush().unwrap();
}

fn read_all(path: &std::path::Path) -> Result<Vec<Record>> {
    CaptureFile::open(path)?.collect()
}

#[test]
fn pcap_and_pcapng_read_alike_with_nanoseconds() {
    let pcap = tmp("a.pcap");
    write_pcap(&pcap);
    let got = read_all(&pcap).unwrap();
    assert_eq!(
        got.iter()
            .map(|r| (r.timestamp, r.data.clone()))
            .collect::<Vec<_>>(),
        frames()
    );
    // Wireshark's own converter writes the pcapng (nanosecond if_tsresol kept).
    let ng = tmp("a.pcapng");
    let st = Command::new("editcap")
        .args(["-F", "pcapng"])
        .arg(&pcap)
        .arg(&ng)
        .status()
        .expect("editcap (tshark's wireshark-common, .ci/install)");
    assert!(st.success());
    let got = read_all(&ng).unwrap();
    assert_eq!(
        got.iter()
            .map(|r| (r.timestamp, r.data.clone()))
            .collect::<Vec<_>>(),
        frames()
    );
    std::fs::remove_file(&pcap).ok();
    std::fs::remove_file(&ng).ok();
}

#[test]
fn linux_cooked_frames_become_ethernet() {
    let eth = hex(testutil::RR_REQUEST);
    // SLL: pkttype 0, ARPHRD_ETHER, halen 6, the source MAC, 2 pad bytes, protocol.
    let mut sll = vec![0, 0, 0, 1, 0, 6];
    sll.extend_from_slice(&eth[6..12]);
    sll.extend_from_slice(&[0, 0]);
    sll.extend_from_slice(&eth[12..]);
    // SLL2: protocol, reserved, ifindex, hatype, pkttype, halen, address.
    let mut sll2 = eth[12..14].to_vec();
    sll2.extend_from_slice(&[0, 0, 0, 0, 0, 2, 0, 1, 0, 6]);
    sll2.extend_from_slice(&eth[6..12]);
    sll2.extend_from_slice(&[0, 0]);
    sll2.extend_from_slice(&eth[14..]);
    for (lt, body) in [(LINKTYPE_LINUX_SLL, sll), (LINKTYPE_LINUX_SLL2, sll2)] {
        let mut file = vec![0xd4, 0xc3, 0xb2, 0xa1, 2, 0, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0];
        file.extend_from_slice(&262_144u32.to_le_bytes());
        file.extend_from_slice(&lt.to_le_bytes());
        file.extend_from_slice(&[1, 0, 0, 0, 0, 0, 0, 0]);
        file.extend_from_slice(&(body.len() as u32).to_le_bytes());
        file.extend_from_slice(&(body.len() as u32).to_le_bytes());
        file.extend_from_slice(&body);
        let r: Vec<Record> = CaptureFile::new(&file[..], "cooked")
            .unwrap()
            .collect::<Result<_>>()
            .unwrap();
        assert_eq!(r.len(), 1);
        assert_eq!(r[0].linktype, lt);
        assert_eq!(&r[0].data[6..], &eth[6..], "link type {lt}");
        assert_eq!(&r[0].data[..6], &[0; 6]);
        assert_eq!(r[0].wire_len, eth.len());
    }
}

#[test]
fn bad_files_name_the_file_and_the_offset() {
    let pcap = tmp("b.pcap");
    write_pcap(&pcap);
    let whole = std::fs::read(&pcap).unwrap();
    let first = 24 + 16 + hex(testutil::RR_REQUEST).len();
    // Ends mid-record: the error names where that record starts.
    let cut = &whole[..first + 20];
    let mut f = CaptureFile::new(cut, "cut.pcap").unwrap();
    assert!(f.next_record().unwrap().is_some());
    let e = f.next_record().unwrap_err().to_string();
    assert_eq!(
        e,
        format!(
            "cut.pcap: ends in the middle of a record (20 bytes of it) (at byte offset {first})"
        )
    );
    // Garbage, empty, a wrong link type, a directory, a missing file.
    let e = CaptureFile::new(&b"GIF89a............................"[..], "x.gif")
        .err()
        .unwrap()
        .to_string();
    assert!(
        e.starts_with("x.gif: not a pcap or pcapng file (magic 47494638)"),
        "{e}"
    );
    let e = CaptureFile::new(&b""[..], "empty")
        .err()
        .unwrap()
        .to_string();
    assert!(e.contains("empty: is empty"), "{e}");
    let mut wrong = whole.clone();
    wrong[20..24].copy_from_slice(&105u32.to_le_bytes());
    // Any link type is read (as libpcap reads it); only seeing it as Ethernet is refused.
    let mut f = CaptureFile::new(&wrong[..], "wifi.pcap").unwrap();
    assert_eq!(f.linktype(), 105);
    let e = f.next_record().unwrap_err().to_string();
    assert!(
        e.contains("link type 105 is not Ethernet (1) or Linux cooked"),
        "{e}"
    );
    assert!(e.contains("at byte offset 24"), "{e}");
    let e = CaptureFile::open(std::env::temp_dir())
        .err()
        .unwrap()
        .to_string();
    assert!(e.contains("is a directory"), "{e}");
    let e = CaptureFile::open("/nonexistent/pfc.pcap")
        .err()
        .unwrap()
        .to_string();
    assert!(e.contains("opening /nonexistent/pfc.pcap"), "{e}");
    // A huge length field is corruption, not a reason to allocate.
    let mut huge = whole[..24].to_vec();
    huge.extend_from_slice(&[0; 8]);
    huge.extend_from_slice(&u32::MAX.to_le_bytes());
    huge.extend_from_slice(&u32::MAX.to_le_bytes());
    let r: Result<Vec<Record>> = CaptureFile::new(&huge[..], "huge").unwrap().collect();
    assert!(r.is_err());
    std::fs::remove_file(&pcap).ok();
}

#[test]
fn pcapng_with_an_unknown_block_skips_it() {
    let pcap = tmp("u.pcap");
    write_pcap(&pcap);
    let ng = tmp("u.pcapng");
    assert!(Command::new("editcap")
        .args(["-F", "pcapng"])
        .arg(&pcap)
        .arg(&ng)
        .status()
        .unwrap()
        .success());
    let mut bytes = std::fs::read(&ng).unwrap();
    let at = bytes.len();
    // Block type 0x0BADB10C, total length 12, no body.
    bytes.extend_from_slice(&0x0bad_b10cu32.to_le_bytes());
    bytes.extend_from_slice(&12u32.to_le_bytes());
    bytes.extend_from_slice(&12u32.to_le_bytes());
    // libpcap skips a block it does not know; so does this reader.
    let _ = at;
    let mut f = CaptureFile::new(&bytes[..], "u.pcapng").unwrap();
    for _ in 0..3 {
        assert!(f.next_record().unwrap().is_some());
    }
    assert!(f.next_record().unwrap().is_none());
    std::fs::remove_file(&pcap).ok();
    std::fs::remove_file(&ng).ok();
}

/// A classic pcap file header (`magic` in the chosen byte order, snaplen 65535, Ethernet) and
/// one record at 10 s + 500,000 units holding 1, 2, 3.
fn classic(be: bool, magic: u32) -> Vec<u8> {
    let mut v = Vec::new();
    let put32 = |v: &mut Vec<u8>, x: u32| {
        v.extend_from_slice(&if be { x.to_be_bytes() } else { x.to_le_bytes() })
    };
    let put16 = |v: &mut Vec<u8>, x: u16| {
        v.extend_from_slice(&if be { x.to_be_bytes() } else { x.to_le_bytes() })
    };
    put32(&mut v, magic);
    put16(&mut v, 2);
    put16(&mut v, 4);
    for x in [0, 0, 65535, 1, 10, 500_000, 3, 3] {
        put32(&mut v, x);
    }
    v.extend_from_slice(&[1, 2, 3]);
    v
}

#[test]
fn reads_microsecond_nanosecond_and_big_endian_files() {
    for be in [false, true] {
        for (magic, nanos) in [(MAGIC_USEC, 500_000_000u32), (MAGIC_NSEC, 500_000)] {
            let bytes = classic(be, magic);
            let f = CaptureFile::new(&bytes[..], "mem").unwrap();
            assert_eq!(f.linktype(), LINKTYPE_ETHERNET);
            let v: Vec<Record> = f.map(|x| x.unwrap()).collect();
            assert_eq!(v.len(), 1, "be={be} magic={magic:#x}");
            assert_eq!(
                v[0].timestamp,
                SystemTime::UNIX_EPOCH + Duration::new(10, nanos)
            );
            assert_eq!(v[0].data, vec![1, 2, 3]);
            assert_eq!(v[0].wire_len, 3);
        }
    }
    // A sub-second field out of range carries into the seconds, as libpcap reads it.
    let mut b = classic(false, MAGIC_USEC);
    b[28..32].copy_from_slice(&2_000_000u32.to_le_bytes());
    let r = CaptureFile::new(&b[..], "x")
        .unwrap()
        .next()
        .unwrap()
        .unwrap();
    assert_eq!(r.timestamp, SystemTime::UNIX_EPOCH + Duration::new(12, 0));
}

#[test]
fn iteration_stops_after_an_error() {
    let mut b = classic(false, MAGIC_NSEC);
    b.pop();
    let mut f = CaptureFile::new(&b[..], "cut").unwrap();
    let e = f.next().unwrap().unwrap_err().to_string();
    assert!(e.contains("cut: ends in the middle of a record"), "{e}");
    assert!(f.next().is_none(), "stops after an error");
}

/// A reader over `data` that remembers the largest buffer it was asked to fill.
struct Spy<'a> {
    data: &'a [u8],
    largest: &'a std::cell::Cell<usize>,
}

impl Read for Spy<'_> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        self.largest.set(self.largest.get().max(buf.len()));
        self.data.read(buf)
    }
}

#[test]
fn huge_record_length_allocates_only_what_arrives() {
    // A 16-byte record header claiming 16 MiB in a 43-byte file: the reader asks for one
    // chunk at a time, never for what the length field claims.
    let mut b = classic(false, MAGIC_NSEC);
    b[32..36].copy_from_slice(&(16u32 << 20).to_le_bytes());
    let largest = std::cell::Cell::new(0);
    let spy = Spy {
        data: &b,
        largest: &largest,
    };
    let mut f = CaptureFile::new(spy, "huge").unwrap();
    assert!(f.next().unwrap().is_err());
    assert!(largest.get() <= CHUNK, "asked to fill {}", largest.get());
    // A long record that is really there is still read whole.
    let mut b = classic(false, MAGIC_NSEC);
    b[16..20].copy_from_slice(&262_144u32.to_le_bytes());
    b.truncate(32);
    let big = 200_000u32;
    b.extend_from_slice(&big.to_le_bytes());
    b.extend_from_slice(&big.to_le_bytes());
    b.extend((0..big).map(|i| i as u8));
    let r = CaptureFile::new(&b[..], "x")
        .unwrap()
        .next()
        .unwrap()
        .unwrap();
    assert_eq!(r.data.len(), 200_000);
    assert_eq!(r.data[199_999], (199_999u32 as u8));
}
