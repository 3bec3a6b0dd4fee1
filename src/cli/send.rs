//! `pktforge send`: put crafted frames (or frames given as hex or in a pcap) on the wire on one
//! interface, paced by `--interval` or `--rate` with absolute deadlines, and with `--wait`
//! show what answers, decoded.

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant, SystemTime};

use clap::Args;

use super::craft::FrameArgs;
use super::{capture::print_rx, capture::time_of_day, path_request, seconds};
use pktforge::craft::{Endpoints, FrameSpec};
use pktforge::dissect::{dissect_frame, render_text, summary};
use pktforge::filter::Filter;
use pktforge::link::pcap::{PcapReader, PcapWriter};
use pktforge::link::{self, Link, LinkConfig, RxFilter};
use pktforge::net::loopback::LoopbackGuard;
use pktforge::net::resolve::{self, PathRequest};
use pktforge::net::{iface, Interface};
use pktforge::probe::options::parse_hex;
use pktforge::{Error, Result};

/// `pktforge send` flags: every `craft` flag, plus where and how often.
#[derive(Debug, Args)]
pub struct SendArgs {
    /// The frame (as `craft`).
    #[command(flatten)]
    pub frame: FrameArgs,
    /// Frames to send.
    #[arg(short = 'c', long = "count", value_name = "COUNT", default_value_t = 1)]
    pub count: u64,
    /// Seconds between frames (default 1; 0 = as fast as possible).
    #[arg(long, value_name = "SECS", conflicts_with = "rate")]
    pub interval: Option<f64>,
    /// Frames per second, paced with absolute deadlines (no drift).
    #[arg(long, value_name = "PPS")]
    pub rate: Option<f64>,
    /// Send this frame (hex) as it is; repeatable; needs -I.
    #[arg(long = "from-hex", value_name = "HEX", conflicts_with = "from_pcap")]
    pub from_hex: Vec<String>,
    /// Send every frame of this pcap as it is; needs -I.
    #[arg(long = "from-pcap", value_name = "FILE")]
    pub from_pcap: Option<PathBuf>,
    /// After sending, capture for SECS and decode what arrives (also while sending).
    #[arg(long, value_name = "SECS")]
    pub wait: Option<f64>,
    /// What --wait shows (capture filter grammar; default `icmp`).
    #[arg(long, value_name = "EXPR", default_value = "icmp")]
    pub filter: String,
    /// Send frames larger than the interface MTU anyway.
    #[arg(long)]
    pub force: bool,
    /// Write every frame sent and received to FILE (pcap).
    #[arg(long, value_name = "FILE")]
    pub pcap: Option<PathBuf>,
    /// Print the full dissection of each frame sent.
    #[arg(short = 'v', long)]
    pub verbose: bool,
    /// Only the summary lines: no per-frame output for sent frames, one line per answer.
    #[arg(short = 'q', long)]
    pub quiet: bool,
}

/// An open link on the interface the frame goes out of, with what the path supplied.
pub struct Opened {
    /// The interface.
    pub iface: Interface,
    /// The link (with the receive filter attached).
    pub link: Box<dyn Link>,
    /// Restores lo's sysctls when dropped.
    pub _lo: Option<LoopbackGuard>,
}

fn open(iface: Interface, filter: RxFilter, backend: link::Backend) -> Result<Opened> {
    let link = link::open_backend(
        backend,
        &iface,
        &LinkConfig {
            filter,
            promiscuous: false,
            buffer_size: 4 << 20,
        },
    )?;
    let lo = if iface.is_loopback {
        Some(LoopbackGuard::enable()?)
    } else {
        None
    };
    Ok(Opened {
        iface,
        link,
        _lo: lo,
    })
}

/// Resolve the path to the frame's IP destination as `ping` does (route, interface, source,
/// next-hop MAC from the neighbour cache or ARP); flags override each part.
pub fn resolve_endpoints(a: &FrameArgs, spec: &FrameSpec) -> Result<(Endpoints, Opened)> {
    resolve_with(a, spec, RxFilter::ArpAndIcmp)
}

fn resolve_with(a: &FrameArgs, spec: &FrameSpec, filter: RxFilter) -> Result<(Endpoints, Opened)> {
    let req = PathRequest {
        dst: Some(spec.wire_dst()),
        ..path_request(&a.link)?
    };
    let plan = resolve::plan(&req)?;
    let mut opened = open(plan.iface.clone(), filter, a.link.backend)?;
    let path = resolve::complete(plan, &req, opened.link.as_mut())?;
    let ep = Endpoints {
        src_mac: path.src_mac,
        dst_mac: path.dst_mac,
        src_ip: path.plan.src_ip,
    };
    Ok((ep, opened))
}

fn check_mtu(frame: &[u8], iface: &Interface, force: bool) -> Result<()> {
    let eh = if frame.len() >= 14 && frame[12..14] == [0x81, 0x00] {
        18
    } else {
        14
    };
    let l3 = frame.len().saturating_sub(eh);
    if l3 > iface.mtu as usize && !force {
        return Err(Error::Invalid(format!(
            "the frame is {} bytes: {l3} after the Ethernet header, over the MTU {} of {}; \
             --force sends it anyway",
            frame.len(),
            iface.mtu,
            iface.name
        )));
    }
    Ok(())
}

/// Run `send`. Exit 0; with `--wait`, 0 when something matching the filter arrived, else 1.
pub fn run(a: SendArgs, stop: &AtomicBool) -> Result<i32> {
    if a.count == 0 {
        return Err(Error::Invalid("-c COUNT must be at least 1".into()));
    }
    let wait = a.wait.map(|w| seconds("--wait", w)).transpose()?;
    let period = match (a.rate, a.interval) {
        (Some(r), _) if !(r > 0.0 && r.is_finite()) => {
            return Err(Error::Invalid(format!(
                "--rate {r}: expected a positive number of frames per second"
            )))
        }
        (Some(r), _) => Duration::from_secs_f64(1.0 / r),
        (None, Some(i)) => seconds("--interval", i)?,
        (None, None) => Duration::from_secs(1),
    };
    let show = Filter::compile(&a.filter)?;
    // The kernel passes what --wait shows, and ARP (for resolving the next hop).
    let kernel = match &show.expr {
        Some(e) => Filter::compile(&format!("({e}) or arp"))?,
        None => show.clone(),
    };
    let rx_filter = RxFilter::Bpf(kernel.program.clone());

    let replay = !a.from_hex.is_empty() || a.from_pcap.is_some();
    // Crafted frames: frame i carries --icmp-seq + i (as nping does), so answers can be told
    // apart; replayed frames go out as they are, in turn.
    let mut crafted: Option<(FrameSpec, Endpoints)> = None;
    let (frames, mut opened) = if replay {
        let name = a.frame.link.iface.as_deref().ok_or_else(|| {
            Error::Invalid("--from-hex and --from-pcap need -I IFACE (nothing to route)".into())
        })?;
        let frames: Vec<Vec<u8>> = if let Some(p) = &a.from_pcap {
            PcapReader::open(p)?
                .map(|r| r.map(|(_, b)| b))
                .collect::<Result<_>>()?
        } else {
            a.from_hex
                .iter()
                .map(|h| parse_hex("--from-hex", h))
                .collect::<Result<_>>()?
        };
        if frames.is_empty() {
            return Err(Error::Invalid("no frames to send".into()));
        }
        (
            frames,
            open(iface::by_name(name)?, rx_filter, a.frame.link.backend)?,
        )
    } else {
        let spec = a.frame.spec()?;
        // Refuse what cannot be built before touching the network.
        spec.build(&a.frame.offline_endpoints()?)?;
        let (ep, opened) = resolve_with(&a.frame, &spec, rx_filter)?;
        let first = spec.build(&ep)?;
        crafted = Some((spec, ep));
        (vec![first], opened)
    };
    for f in &frames {
        check_mtu(f, &opened.iface, a.force)?;
    }
    let mut pcap = a.pcap.as_ref().map(PcapWriter::create).transpose()?;
    println!(
        "SEND {}: {} frame{} ({}), {}",
        opened.iface.name,
        a.count,
        if a.count == 1 { "" } else { "s" },
        if frames.len() == 1 {
            format!("{} bytes", frames[0].len())
        } else {
            format!("cycling through {} frames", frames.len())
        },
        summary(&frames[0])
    );

    let link = opened.link.as_mut();
    let start = Instant::now();
    let mut answers = 0u64;
    let mut sent = 0u64;
    let mut on_rx = |data: &[u8], ts: SystemTime, pcap: &mut Option<PcapWriter>| -> Result<()> {
        if !show.matches(data) {
            return Ok(());
        }
        answers += 1;
        if let Some(w) = pcap.as_mut() {
            w.write(ts, data)?;
        }
        let t = ts
            .duration_since(SystemTime::UNIX_EPOCH)
            .unwrap_or_default();
        print!("< ");
        print_rx(data, t, !a.quiet, false);
        Ok(())
    };
    while sent < a.count && !stop.load(Ordering::SeqCst) {
        // Absolute deadline for frame `sent`: no drift however long each send takes.
        let due = start + period.mul_f64(sent as f64);
        loop {
            let now = Instant::now();
            if now >= due {
                break;
            }
            if wait.is_some() {
                if let Some(rx) = link.recv(due)? {
                    let (d, ts) = (rx.data.to_vec(), rx.timestamp);
                    on_rx(&d, ts, &mut pcap)?;
                }
            } else {
                std::thread::sleep(due - now);
            }
        }
        let next;
        let f = match &mut crafted {
            Some((spec, ep)) if sent > 0 => {
                spec.icmp.seq = spec.icmp.seq.wrapping_add(1);
                next = spec.build(ep)?;
                &next
            }
            _ => &frames[(sent % frames.len() as u64) as usize],
        };
        link.send(f)?;
        sent += 1;
        if let Some(w) = pcap.as_mut() {
            w.write(SystemTime::now(), f)?;
        }
        if !a.quiet {
            let t = SystemTime::now()
                .duration_since(SystemTime::UNIX_EPOCH)
                .unwrap_or_default();
            println!("> {} {}", time_of_day(t), summary(f));
            if a.verbose {
                for l in render_text(&dissect_frame(f)) {
                    println!("    {l}");
                }
            }
        }
    }
    let elapsed = start.elapsed();
    if let Some(w) = wait {
        let end = Instant::now() + w;
        while !stop.load(Ordering::SeqCst) {
            let deadline = end.min(Instant::now() + Duration::from_millis(200));
            match link.recv(deadline)? {
                Some(rx) => {
                    let (d, ts) = (rx.data.to_vec(), rx.timestamp);
                    on_rx(&d, ts, &mut pcap)?;
                }
                None if Instant::now() >= end => break,
                None => {}
            }
        }
    }
    if let Some(w) = pcap.as_mut() {
        w.flush()?;
    }
    let st = link.stats();
    let secs = elapsed.as_secs_f64();
    let mut line = format!("--- {sent} sent");
    if sent > 1 && secs > 0.0 {
        // From the first send to the last: the rate the pacing held.
        line.push_str(&format!(
            " in {secs:.3} s ({:.0} frames/s)",
            (sent - 1) as f64 / secs
        ));
    }
    if wait.is_some() {
        line.push_str(&format!(
            ", {answers} received, {} dropped by kernel",
            st.kernel_drops
        ));
    }
    println!("{line}");
    Ok(if wait.is_some() && answers == 0 { 1 } else { 0 })
}
