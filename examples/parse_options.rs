//! Read the IP options of a captured frame through the zero-copy views: an echo reply that
//! crossed two Linux routers with record route set (captured in the namespace lab).
//!
//! ```sh
//! cargo run --example parse_options
//! ```

use pktforge::wire::{EthernetFrame, IcmpPacket, IpOption, Ipv4Packet};

/// `ping -R` echo reply as it arrived at 192.0.2.2: 7 addresses recorded on the way.
const RR_REPLY: &str = "5a7f533d69e572b6fa7b54a808004f00007c228900003e01b23fcb007102c0000202\
072720c0000202c6336401cb007101cb007102cb007102c6336402c00002010000000000000000000000f1511a6a\
0001f802046b000000002f020a0000000000101112131415161718191a1b1c1d1e1f202122232425262728292a2b\
2c2d2e2f3031323334353637";

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let bytes: Vec<u8> = (0..RR_REPLY.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&RR_REPLY[i..i + 2], 16))
        .collect::<Result<_, _>>()?;
    let eth = EthernetFrame::new_checked(&bytes[..])?;
    let ip = Ipv4Packet::new_checked(eth.payload())?;
    println!(
        "{} > {}, ttl {}, header {} bytes ({} of options)",
        ip.src(),
        ip.dst(),
        ip.ttl(),
        ip.header_len(),
        ip.options().len()
    );
    // The raw views: type, length and pointer of each option, borrowed from the frame.
    for opt in ip.option_iter() {
        match opt {
            Ok(v) => println!(
                "  option type {} at offset {}, {} bytes, pointer {:?}",
                v.option_type(),
                v.offset(),
                v.len(),
                v.pointer()
            ),
            Err(bad) => println!("  undecodable option: {bad:?}"),
        }
    }
    // The typed values: what each router recorded.
    for opt in ip.option_iter().flatten() {
        if let Ok(o @ IpOption::RecordRoute { .. }) = IpOption::parse(&opt) {
            println!("  {o}");
            for (i, hop) in o.recorded().iter().enumerate() {
                println!("    hop {}: {hop}", i + 1);
            }
        }
    }
    let icmp = IcmpPacket::new_checked(ip.payload())?;
    println!("ICMP type {} code {}", icmp.msg_type(), icmp.code());
    Ok(())
}
