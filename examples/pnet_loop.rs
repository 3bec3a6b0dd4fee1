//! The reference for `benches/system.sh`: a plain per-frame `pnet_datalink` loop, one
//! `send_to` per frame, as a user of pnet would write it.
//!
//! `pnet_loop IFACE COUNT [FRAME_BYTES]` sends COUNT copies of one frame (default 60 bytes:
//! a 64-byte Ethernet frame without FCS) and prints frames/s.
//!
//! Dependencies: pnet_datalink = "0.35"

use std::time::Instant;

use pnet_datalink::Channel;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.len() < 3 {
        eprintln!("usage: pnet_loop IFACE COUNT [FRAME_BYTES]");
        std::process::exit(2);
    }
    let count: u64 = args[2].parse().expect("COUNT is a number");
    let len: usize = args.get(3).map_or(60, |s| s.parse().expect("FRAME_BYTES"));
    let iface = pnet_datalink::interfaces()
        .into_iter()
        .find(|i| i.name == args[1])
        .expect("no such interface");
    let Ok(Channel::Ethernet(mut tx, _rx)) =
        pnet_datalink::channel(&iface, pnet_datalink::Config::default())
    else {
        panic!("no Ethernet channel on {}", args[1]);
    };
    let mut frame = vec![0u8; len];
    frame[..6].copy_from_slice(&[0x02, 0, 0, 0, 0, 0x02]);
    frame[6..12].copy_from_slice(&[0x02, 0, 0, 0, 0, 0x01]);
    frame[12..14].copy_from_slice(&[0x08, 0x00]);
    let t = Instant::now();
    for _ in 0..count {
        tx.send_to(&frame, None).expect("send_to").expect("sent");
    }
    let s = t.elapsed().as_secs_f64();
    println!(
        "{count} frames in {s:.3} s: {:.0} frames/s",
        count as f64 / s
    );
}
