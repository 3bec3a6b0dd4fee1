//! Build an echo request that carries a record-route option (9 slots, the full 40 option bytes)
//! and print its bytes beside their dissection. No network needed.
//!
//! ```sh
//! cargo run --example rr_echo_frame
//! ```

use std::net::Ipv4Addr;

use pktforge::dissect::{dissect_frame, hexdump_beside, render_text};
use pktforge::wire::{
    build_icmp_frame, EthernetRepr, IcmpRepr, IpOption, Ipv4Repr, MacAddr, ETHERTYPE_IPV4,
};

fn main() -> pktforge::Result<()> {
    let eth = EthernetRepr {
        dst: MacAddr::new(0x02, 0, 0, 0, 0, 0x02),
        src: MacAddr::new(0x02, 0, 0, 0, 0, 0x01),
        vlans: pktforge::wire::VlanStack::EMPTY,
        ethertype: ETHERTYPE_IPV4,
    };
    let mut ip = Ipv4Repr::new(
        Ipv4Addr::new(192, 0, 2, 2),
        Ipv4Addr::new(203, 0, 113, 2),
        1, // ICMP
    );
    ip.options = vec![IpOption::record_route(9)?];
    let icmp = IcmpRepr::echo_request(0x4242, 1, (0..56).map(|i| i as u8).collect());
    let frame = build_icmp_frame(&eth, &ip, &icmp)?;
    print!(
        "{}",
        hexdump_beside(&frame, &render_text(&dissect_frame(&frame)))
    );
    Ok(())
}
