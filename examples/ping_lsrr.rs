//! Ping through a loose source route from code and get every reply as a struct. Run it inside
//! the namespace lab (it needs root and a network where routers honour source routes):
//!
//! ```sh
//! sudo target/release/pktforge lab up --prefix pf
//! cargo build --release --example ping_lsrr
//! sudo ip netns exec pf-a target/release/examples/ping_lsrr 203.0.113.2 198.51.100.2
//! sudo target/release/pktforge lab down --prefix pf
//! ```

use std::time::Duration;

use pktforge::craft::options::SourceRoute;
use pktforge::probe::ping::PingRequest;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let dest = args
        .next()
        .unwrap_or_else(|| "203.0.113.2".into())
        .parse()?;
    let hop = args
        .next()
        .unwrap_or_else(|| "198.51.100.2".into())
        .parse()?;

    let mut ping = PingRequest::new(dest);
    ping.count = Some(3);
    ping.interval = Duration::from_millis(200);
    ping.timeout = Duration::from_secs(2);
    ping.target.options.source_route = Some(SourceRoute::Loose(vec![hop]));
    ping.target.options.record_route = true;

    let outcome = ping.run()?;
    for r in &outcome.replies {
        println!(
            "seq {} from {} ttl {} rtt {:.1} us",
            r.seq, r.from, r.ttl, r.rtt_us
        );
        for o in &r.options {
            println!("    {o}");
        }
    }
    for e in &outcome.errors {
        println!("seq {} error from {}: {}", e.seq, e.from, e.description);
    }
    // The counts, without a match on the summary's kind.
    let s = &outcome.summary;
    println!(
        "{} sent, {} received, {} lost",
        s.sent().unwrap_or(0),
        s.received().unwrap_or(0),
        s.lost().unwrap_or(0)
    );
    if let Some(rtt) = s.rtt_us() {
        println!(
            "rtt min/avg/max {:.1}/{:.1}/{:.1} us",
            rtt.min, rtt.avg, rtt.max
        );
    }
    Ok(())
}
