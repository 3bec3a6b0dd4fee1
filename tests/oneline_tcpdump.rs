//! `capture -r FILE` prints what `tcpdump -nn -r FILE` prints (with -e and -v too), and reads
//! every file tcpdump reads: records cut by a snapshot length, link types with FCS bits set,
//! fractions of a second out of range, Linux cooked frames shown as such.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicU32, Ordering};

use common::pktforge_here as pktforge;

fn tmp(name: &str) -> PathBuf {
    static N: AtomicU32 = AtomicU32::new(0);
    let n = N.fetch_add(1, Ordering::Relaxed);
    std::env::temp_dir().join(format!("pfc-1line-{}-{n}-{name}", std::process::id()))
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

fn generated(n: usize) -> PathBuf {
    let p = tmp("gen.pcap");
    let st = Command::new("python3")
        .arg(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/benches/gen_frames.py"
        ))
        .arg(n.to_string())
        .arg(&p)
        .status()
        .expect("python3 (.ci/install)");
    assert!(st.success());
    p
}

/// Each frame's text without its time stamp (continuation lines of -v joined with `\n`).
fn frames(text: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for l in text.lines() {
        let stamped = l.len() > 16 && l.as_bytes()[2] == b':' && l.as_bytes()[8] == b'.';
        if stamped {
            out.push(l.split_once(' ').unwrap().1.to_string());
        } else if let Some(last) = out.last_mut() {
            last.push('\n');
            last.push_str(l);
        }
    }
    out
}

fn tcpdump(flags: &[&str], file: &Path) -> Vec<String> {
    let o = Command::new("tcpdump")
        .arg("-nn")
        .args(flags)
        .arg("-r")
        .arg(file)
        .env("TZ", "UTC")
        .output()
        .expect("tcpdump (.ci/install)");
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    frames(&String::from_utf8_lossy(&o.stdout))
}

fn ours(flags: &[&str], file: &Path) -> Vec<String> {
    let mut args = vec!["capture"];
    args.extend_from_slice(flags);
    args.extend_from_slice(&["-r", s(file)]);
    let o = pktforge(&args);
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    frames(&String::from_utf8_lossy(&o.stdout))
}

/// tcpdump's line up to where it decodes an application (DNS on port 53): its transport part.
fn transport_part(line: &str) -> &str {
    let Some(i) = line.find(".53 > ").or_else(|| line.find(".53: ")) else {
        return line;
    };
    match line[i..].find(": ") {
        Some(j) if !line[i..].contains("UDP, length") => &line[..i + j + 2],
        _ => line,
    }
}

/// Every line (TCP with relative numbers, UDP, ICMP errors, ARP, VLAN-tagged frames) equals
/// tcpdump's, up to the transport where tcpdump decodes DNS; with -e and -v as well.
#[test]
fn lines_equal_tcpdump_nn() {
    let file = generated(300);
    for flags in [&[][..], &["-e"][..], &["-v"][..], &["-e", "-v"][..]] {
        let t = tcpdump(flags, &file);
        let p = ours(flags, &file);
        assert_eq!(t.len(), p.len(), "{flags:?}");
        let mut tcp_udp = 0;
        for (a, b) in t.iter().zip(&p) {
            let want = transport_part(a);
            // pktforge marks a frame the capture cut; tcpdump does not when it all fits.
            let got = b.split(" [|truncated").next().unwrap();
            assert_eq!(want, &got[..want.len().min(got.len())], "{flags:?}");
            if a.contains("Flags [") || a.contains("UDP, length") {
                tcp_udp += 1;
            }
        }
        assert!(tcp_udp > 100, "{tcp_udp} TCP/UDP lines only");
    }
}

/// The relative sequence numbers of a handshake and data, as tcpdump numbers them.
#[test]
fn tcp_connection_numbered_as_tcpdump() {
    let file = generated(300);
    let p = ours(&["tcp"], &file);
    assert!(p.iter().any(|l| l.contains("Flags [S], seq ")), "{p:?}");
    assert!(
        p.iter()
            .any(|l| l.contains("options [mss 1460,sackOK,TS val 0 ecr 0,nop,wscale 7], length 0")),
        "{p:?}"
    );
    assert!(!p.iter().any(|l| l.contains("ip-proto-6")), "{p:?}");
}

/// A classic pcap of `records` (bytes kept, length on the wire) with this header.
fn classic(snaplen: u32, linktype: u32, usec: u32, records: &[(&[u8], u32)]) -> Vec<u8> {
    let mut f = Vec::new();
    f.extend_from_slice(&0xa1b2_c3d4u32.to_le_bytes());
    f.extend_from_slice(&2u16.to_le_bytes());
    f.extend_from_slice(&4u16.to_le_bytes());
    f.extend_from_slice(&[0; 8]);
    f.extend_from_slice(&snaplen.to_le_bytes());
    f.extend_from_slice(&linktype.to_le_bytes());
    for (i, (data, orig)) in records.iter().enumerate() {
        f.extend_from_slice(&(1_000_000 + i as u32).to_le_bytes());
        f.extend_from_slice(&usec.to_le_bytes());
        f.extend_from_slice(&(data.len() as u32).to_le_bytes());
        f.extend_from_slice(&orig.to_le_bytes());
        f.extend_from_slice(data);
    }
    f
}

/// An Ethernet frame: IPv4/ICMP echo request with `n` bytes of data, checksums right.
fn echo(n: usize) -> Vec<u8> {
    let mut ip = vec![
        0x45, 0, 0, 0, 0, 1, 0x40, 0, 64, 1, 0, 0, 192, 0, 2, 2, 203, 0, 113, 2,
    ];
    let total = (20 + 8 + n) as u16;
    ip[2..4].copy_from_slice(&total.to_be_bytes());
    let c = pktforge::wire::checksum(&ip);
    ip[10..12].copy_from_slice(&c.to_be_bytes());
    let mut icmp = vec![8, 0, 0, 0, 0x12, 0x34, 0, 1];
    icmp.extend((0..n).map(|i| i as u8));
    let c = pktforge::wire::checksum(&icmp);
    icmp[2..4].copy_from_slice(&c.to_be_bytes());
    let mut f = vec![2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1, 8, 0];
    f.extend_from_slice(&ip);
    f.extend_from_slice(&icmp);
    f
}

/// Read by both tools: the same number of records; `decode --pcap` reads them too.
fn same_count(bytes: &[u8], name: &str) -> (Vec<String>, Vec<String>) {
    // (Each kind here was refused before: `capture -r` exited 2.)
    let file = tmp(name);
    std::fs::write(&file, bytes).unwrap();
    let t = tcpdump(&[], &file);
    let p = ours(&[], &file);
    assert_eq!(t.len(), p.len(), "{name}: {t:?} {p:?}");
    assert!(!t.is_empty(), "{name}");
    // decode exits 1 when a frame's dissection is incomplete (a cut record), 2 on an error.
    let o = pktforge(&["decode", "--pcap", s(&file)]);
    assert!(
        matches!(o.status.code(), Some(0 | 1)),
        "{name}: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    let frames = String::from_utf8_lossy(&o.stdout)
        .lines()
        .filter(|l| l.starts_with("Frame "))
        .count();
    assert_eq!(frames, t.len(), "{name}");
    (t, p)
}

#[test]
fn reads_what_tcpdump_reads() {
    let f = echo(56);
    // Cut by a 60-byte snapshot length (editcap -s 60): orig_len > incl_len.
    let (t, p) = same_count(
        &classic(
            60,
            1,
            0,
            &[(&f[..60], f.len() as u32), (&f[..60], f.len() as u32)],
        ),
        "snap.pcap",
    );
    assert!(
        p[0].starts_with(
            "IP 192.0.2.2 > 203.0.113.2: ICMP echo request, id 4660, seq 1, length 64"
        ),
        "{p:?} {t:?}"
    );
    // A record longer than the file's snapshot length: libpcap cuts it.
    same_count(&classic(64, 1, 0, &[(&f, f.len() as u32)]), "over.pcap");
    // FCS length and class bits above the link type (libpcap masks them).
    same_count(
        &classic(65535, 0x1000_0001 | 0x0400_0000, 0, &[(&f, f.len() as u32)]),
        "fcs.pcap",
    );
    // Microseconds out of range.
    same_count(
        &classic(
            65535,
            1,
            1_500_000,
            &[(&f, f.len() as u32), (&f, f.len() as u32)],
        ),
        "usec.pcap",
    );
}

/// A little-endian pcapng block of `kind` with `body`, its lengths around it.
fn block(kind: u32, body: &[u8]) -> Vec<u8> {
    let len = (12 + body.len()) as u32;
    let mut b = kind.to_le_bytes().to_vec();
    b.extend_from_slice(&len.to_le_bytes());
    b.extend_from_slice(body);
    b.extend_from_slice(&len.to_le_bytes());
    b
}

/// pcapng that libpcap reads and pcap-file alone refuses: options with no end-of-options
/// marker in the section and interface blocks, a block type nobody knows.
#[test]
fn pcapng_options_and_blocks_libpcap_reads() {
    let f = echo(56);
    let mut shb = 0x1a2b_3c4du32.to_le_bytes().to_vec();
    shb.extend_from_slice(&[1, 0, 0, 0]);
    shb.extend_from_slice(&[0xff; 8]);
    // shb_userappl "hello", padded, and no opt_endofopt.
    shb.extend_from_slice(&[4, 0, 5, 0, b'h', b'e', b'l', b'l', b'o', 0, 0, 0]);
    let mut idb = vec![1, 0, 0, 0, 0, 0, 0, 0];
    // if_name "x", then if_tsresol 9 (ns), no opt_endofopt.
    idb.extend_from_slice(&[2, 0, 1, 0, b'x', 0, 0, 0, 9, 0, 1, 0, 9, 0, 0, 0]);
    let mut epb = vec![0u8; 4];
    epb.extend_from_slice(&0u32.to_le_bytes());
    epb.extend_from_slice(&1_000_000_000u32.to_le_bytes());
    epb.extend_from_slice(&(f.len() as u32).to_le_bytes());
    epb.extend_from_slice(&(f.len() as u32).to_le_bytes());
    epb.extend_from_slice(&f);
    while !epb.len().is_multiple_of(4) {
        epb.push(0);
    }
    let mut bytes = block(0x0a0d_0d0a, &shb);
    bytes.extend(block(1, &idb));
    bytes.extend(block(6, &epb));
    bytes.extend(block(0x0bad_b10c, &[1, 2, 3, 4]));
    bytes.extend(block(6, &epb));
    let (t, p) = same_count(&bytes, "opts.pcapng");
    assert_eq!(t, p);
}

/// Linux cooked frames shown as such, with their own length, as tcpdump shows them.
#[test]
fn linux_cooked_shown_as_such() {
    let f = echo(56);
    let mut sll = vec![0, 4, 0, 1, 0, 6, 2, 0, 0, 0, 0, 1, 0, 0, 8, 0];
    sll.extend_from_slice(&f[14..]);
    let file = tmp("sll.pcap");
    std::fs::write(&file, classic(65535, 113, 0, &[(&sll, sll.len() as u32)])).unwrap();
    for flags in [&[][..], &["-e"][..]] {
        let t = tcpdump(flags, &file);
        let p = ours(flags, &file);
        assert_eq!(t, p, "{flags:?}");
    }
    let p = ours(&["-e"], &file);
    assert!(
        p[0].starts_with("Out 02:00:00:00:00:01 ethertype IPv4 (0x0800), length 100: 192.0.2.2 >"),
        "{p:?}"
    );
    // SLL2 (tcpdump -i any since libpcap 1.10): protocol, interface index 1 (lo), ARPHRD
    // Ethernet, incoming, a 6-byte address.
    let mut sll2 = vec![8, 0, 0, 0, 0, 0, 0, 1, 0, 1, 0, 6, 2, 0, 0, 0, 0, 9, 0, 0];
    sll2.extend_from_slice(&f[14..]);
    let file = tmp("sll2.pcap");
    std::fs::write(&file, classic(65535, 276, 0, &[(&sll2, sll2.len() as u32)])).unwrap();
    for flags in [&[][..], &["-e"][..], &["-v"][..]] {
        let t = tcpdump(flags, &file);
        let p = ours(flags, &file);
        assert_eq!(t, p, "{flags:?}");
    }
    let p = ours(&[], &file);
    assert!(
        p[0].starts_with("lo    In  IP 192.0.2.2 > 203.0.113.2: ICMP echo request"),
        "{p:?}"
    );
}

/// In the namespace lab: a real TCP connection (handshake, data both ways, close), UDP to a
/// closed port (the far host's port unreachable), UDP with TTL 1 (the first router's time
/// exceeded) and the ARP before them, captured by tcpdump on a's link; `capture -r` prints
/// each frame as `tcpdump -nn -r` does, with -e and -v as well.
#[test]
fn lab_conversation_lines_equal_tcpdump() {
    if !common::can_run_lab() {
        return;
    }
    use pktforge::lab::Host;
    use std::io::{BufRead, BufReader};
    use std::process::Stdio;
    let lab = common::lab();
    let file = tmp("lab.pcap");
    let server = Command::new("ip")
        .args(["netns", "exec", &lab.ns(Host::B), "python3", "-c"])
        .arg(
            "import socket\n\
             s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)\n\
             s.bind(('203.0.113.2', 7777)); s.listen(1); print('ready', flush=True)\n\
             c, _ = s.accept(); d = c.recv(100); c.sendall(d.upper() * 2); c.close()\n",
        )
        .stdout(Stdio::piped())
        .spawn()
        .expect("python3");
    let mut server = server;
    let mut line = String::new();
    BufReader::new(server.stdout.as_mut().unwrap())
        .read_line(&mut line)
        .unwrap();
    assert_eq!(line.trim(), "ready");
    let mut dump = Command::new("ip")
        .args([
            "netns",
            "exec",
            &lab.ns(Host::A),
            "tcpdump",
            "--immediate-mode",
            "-U",
            "-i",
            "a-r1",
            "-w",
        ])
        .arg(&file)
        .stderr(Stdio::piped())
        .spawn()
        .expect("tcpdump");
    let mut line = String::new();
    BufReader::new(dump.stderr.as_mut().unwrap())
        .read_line(&mut line)
        .unwrap();
    assert!(line.contains("listening on a-r1"), "{line}");
    let client = lab
        .exec(
            Host::A,
            "python3",
            &[
                "-c",
                "import socket, time\n\
                 c = socket.create_connection(('203.0.113.2', 7777)); c.sendall(b'hello pfC!')\n\
                 while c.recv(100): pass\n\
                 c.close()\n\
                 u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)\n\
                 u.sendto(b'x' * 28, ('203.0.113.2', 9999)); time.sleep(0.2)\n\
                 u.setsockopt(socket.IPPROTO_IP, socket.IP_TTL, 1)\n\
                 u.sendto(b'y' * 12, ('203.0.113.2', 9998)); time.sleep(0.3)\n",
            ],
        )
        .unwrap();
    assert!(client.status.success(), "{client:?}");
    server.wait().unwrap();
    // SAFETY: kill(2) on the tcpdump this test started, by its pid.
    unsafe { libc::kill(dump.id() as i32, libc::SIGINT) };
    dump.wait().unwrap();
    let plain = tcpdump(&[], &file);
    for want in [
        "Flags [S], seq ",
        "Flags [S.], seq ",
        "Flags [P.], seq 1:11, ack 1, win ",
        "ICMP 203.0.113.2 udp port 9999 unreachable, length 64",
        "ICMP time exceeded in-transit, length 48",
        ": UDP, length 28",
    ] {
        assert!(plain.iter().any(|l| l.contains(want)), "{want}: {plain:#?}");
    }
    for flags in [&[][..], &["-e"][..], &["-v"][..]] {
        let t = tcpdump(flags, &file);
        let p = ours(flags, &file);
        assert_eq!(t, p, "{flags:?}");
    }
    std::fs::remove_file(&file).ok();
}

/// Every prefix of every frame of the generated mix, read as Ethernet, SLL, SLL2 and raw IP,
/// with and without -e and -v: a line, never a panic.
#[test]
fn cut_frames_never_panic() {
    use pktforge::dissect::OneLine;
    let file = generated(200);
    let recs: Vec<_> = pktforge::link::capfile::CaptureFile::open(&file)
        .unwrap()
        .map(|r| r.unwrap())
        .collect();
    for (v, e) in [(false, false), (true, false), (false, true), (true, true)] {
        let mut line = OneLine::new(v, e);
        for r in &recs {
            for n in 0..=r.data.len() {
                for lt in [1, 113, 276, 101, 0, 105] {
                    let l = line.line(lt, &r.data[..n], r.wire_len);
                    assert!(!l.is_empty());
                }
                // The IP datagram alone, cut anywhere.
                let ip = &r.data[14.min(n)..n];
                let _ = line.line(101, ip, ip.len());
            }
        }
    }
}

/// An Ethernet frame carrying an IPv4 datagram of `proto` (fragment field `frag`) with
/// `payload`, header checksum right.
fn ipv4_frame(proto: u8, frag: u16, payload: &[u8]) -> Vec<u8> {
    let mut ip = vec![
        0x45, 0, 0, 0, 0, 7, 0, 0, 64, proto, 0, 0, 192, 0, 2, 2, 192, 0, 2, 1,
    ];
    ip[2..4].copy_from_slice(&((20 + payload.len()) as u16).to_be_bytes());
    ip[6..8].copy_from_slice(&frag.to_be_bytes());
    let c = pktforge::wire::checksum(&ip);
    ip[10..12].copy_from_slice(&c.to_be_bytes());
    let mut f = vec![2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1, 8, 0];
    f.extend_from_slice(&ip);
    f.extend_from_slice(payload);
    f
}

/// ESP, IGMP, a protocol tcpdump has no name for under -nn, and fragments (the first with
/// its ports, the later ones with the protocol number only), as tcpdump prints them.
#[test]
fn ip_protocols_and_fragments_as_tcpdump() {
    let mut esp = vec![0, 0, 0x10, 0, 0, 0, 0, 1];
    esp.extend_from_slice(&[0; 32]);
    let udp: Vec<u8> = [0, 1, 2, 3, 0x03, 0xfd, 0, 0]
        .into_iter()
        .chain(0..32)
        .collect();
    let frames = [
        ipv4_frame(50, 0, &esp),
        ipv4_frame(2, 0, &[0x16, 0, 0, 0, 224, 0, 0, 251]),
        ipv4_frame(2, 0, &[0x11, 100, 0, 0, 0, 0, 0, 0]),
        ipv4_frame(2, 0, &[0x17, 0, 0, 0, 224, 0, 0, 251]),
        ipv4_frame(253, 0, &[0; 20]),
        ipv4_frame(17, 0x2000, &udp),
        ipv4_frame(17, 185, &udp),
        ipv4_frame(6, 0x2000 | 185, &udp),
    ];
    let recs: Vec<(&[u8], u32)> = frames.iter().map(|f| (&f[..], f.len() as u32)).collect();
    let file = tmp("protos.pcap");
    std::fs::write(&file, classic(65535, 1, 0, &recs)).unwrap();
    for flags in [&[][..], &["-v"][..], &["-e"][..]] {
        let t = tcpdump(flags, &file);
        assert_eq!(t, ours(flags, &file), "{flags:?}");
    }
    let p = ours(&[], &file);
    assert!(
        p[0].contains("ESP(spi=0x00001000,seq=0x1), length 40"),
        "{p:?}"
    );
    assert!(p[6].ends_with(": ip-proto-17"), "{p:?}");
}
