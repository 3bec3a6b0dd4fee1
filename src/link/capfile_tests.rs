use std::process::Command;
use std::time::{Duration, SystemTime};

use super::*;
use crate::link::pcap::PcapWriter;
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
