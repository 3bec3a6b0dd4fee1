//! A short blast — 2000 echo requests at 10,000 per second — and its summary read as a struct.
//! Run it inside the namespace lab:
//!
//! ```sh
//! sudo target/release/pktforge lab up --prefix pf
//! cargo build --release --example blast_summary
//! sudo ip netns exec pf-a target/release/examples/blast_summary 203.0.113.2
//! sudo target/release/pktforge lab down --prefix pf
//! ```

use pktforge::blast::{self, BlastRequest, Rate};
use pktforge::{Event, Stop};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let dest = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "203.0.113.2".into())
        .parse()?;
    let mut req = BlastRequest::new(dest);
    req.rate = Rate::Pps(10_000.0);
    req.count = Some(2000);
    let out = blast::run(&req, &Stop::new(), &mut |ev| {
        if let Event::Notice(n) = ev {
            eprintln!("{}", n.message);
        }
    })?;
    let s = &out.summary;
    println!(
        "sent {} received {} lost {} ({:.2}%), {:.0} frames/s",
        s.sent, s.received, s.lost, s.loss_percent, s.achieved_rate
    );
    if let Some(r) = &s.rtt_us {
        println!("rtt us: min {:.1} avg {:.1} max {:.1}", r.min, r.avg, r.max);
        if let Some(p) = &r.percentiles {
            println!(
                "        p50 {:.1} p99 {:.1} p99.9 {:.1}",
                p.p50, p.p99, p.p999
            );
        }
    }
    if let Some(e) = out.error {
        return Err(e.into());
    }
    Ok(())
}
