//! `pktforge send`: put crafted frames (or frames given as hex or in a pcap) on the wire on one
//! interface, paced by `--interval` or `--rate` with absolute deadlines, and with `--wait`
//! show what answers, decoded.

use std::path::PathBuf;
use std::time::Duration;

use clap::Args;

use super::args::parse_hex;
use super::frame::FrameArgs;
use super::render::Render;
use super::{path_request, seconds};
use pktforge::dissect::summary;
use pktforge::event::Totals;
use pktforge::filter::Filter;
use pktforge::link::capfile::CaptureFile;
use pktforge::send::{FrameSource, SendRequest};
use pktforge::{Error, Result, Stop};

/// `pktforge send` flags: every `craft` flag, plus where and how often.
#[derive(Debug, Args)]
pub struct SendArgs {
    /// The frame (as `craft`).
    #[command(flatten)]
    pub frame: FrameArgs,
    /// Frames to send (default 1; with --from-hex or --from-pcap, each frame given once;
    /// more cycles through them).
    #[arg(short = 'c', long = "count", value_name = "COUNT", value_parser = super::args::parse_u64_any)]
    pub count: Option<u64>,
    /// Seconds between frames (default 1; 0 = as fast as possible).
    #[arg(long, value_name = "SECS", conflicts_with = "rate")]
    pub interval: Option<f64>,
    /// Frames per second, paced with absolute deadlines (no drift).
    #[arg(long, value_name = "PPS")]
    pub rate: Option<f64>,
    /// Send this frame (hex) as it is; repeatable; needs -I.
    #[arg(long = "from-hex", value_name = "HEX", conflicts_with = "from_pcap")]
    pub from_hex: Vec<String>,
    /// Send every frame of this capture file (pcap or pcapng, Ethernet) as it is; needs -I.
    #[arg(long = "from-pcap", value_name = "FILE")]
    pub from_pcap: Option<PathBuf>,
    /// After sending, capture for SECS and decode what arrives (also while sending).
    #[arg(long, value_name = "SECS")]
    pub wait: Option<f64>,
    /// What --wait shows (a tcpdump filter expression; default `icmp`, `icmp6` with -6).
    #[arg(long, value_name = "EXPR", default_value = "icmp")]
    pub filter: String,
    /// Send frames larger than the interface MTU anyway.
    #[arg(long)]
    pub force: bool,
    /// Write every frame sent and received to FILE (pcap; pcapng when FILE ends in .pcapng
    /// or with --pcapng).
    #[arg(long, value_name = "FILE")]
    pub pcap: Option<PathBuf>,
    /// Write the --pcap file as pcapng.
    #[arg(long = "pcapng", requires = "pcap")]
    pub pcapng: bool,
    /// Print the full dissection of each frame sent.
    #[arg(short = 'v', long)]
    pub verbose: bool,
    /// Only the summary lines: no per-frame output for sent frames, one line per answer.
    #[arg(short = 'q', long)]
    pub quiet: bool,
    /// One JSON object per line for each frame sent and received, and the summary.
    #[arg(long)]
    pub json: bool,
    /// Send each frame's IP datagram as fragments of SIZE data bytes (a multiple of 8).
    #[arg(long = "fragment", value_name = "SIZE", value_parser = super::args::parse_usize_any)]
    pub fragment: Option<usize>,
    /// With --fragment: each fragment repeats the last BYTES of the one before (multiple of 8).
    #[arg(
        long = "fragment-overlap",
        value_name = "BYTES",
        default_value_t = 0,
        requires = "fragment"
    )]
    pub fragment_overlap: usize,
    /// With --fragment: send the fragments last first.
    #[arg(long = "fragment-reverse", requires = "fragment")]
    pub fragment_reverse: bool,
    /// Also write one timestamped line per frame sent and received to FILE (text).
    #[arg(long = "log", value_name = "FILE")]
    pub log: Option<PathBuf>,
}

/// Run `send`. Exit 0; with `--wait`, 0 when something matching the filter arrived, else 1.
pub fn run(a: SendArgs, stop: &Stop) -> Result<i32> {
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
    let replay = !a.from_hex.is_empty() || a.from_pcap.is_some();
    let v6 = !replay && a.frame.is_v6();
    let mut replayed = 1;
    // Frames per packet (IPv6 fragments).
    let mut per_packet = 1;
    let source = if replay {
        if !a.frame.vlan.vlan.is_empty() {
            return Err(Error::Invalid(
                "--vlan tags crafted frames: --from-hex and --from-pcap frames are sent as they \
                 are (put the tags in their bytes)"
                    .into(),
            ));
        }
        let iface = a.frame.link.iface.clone().ok_or_else(|| {
            Error::Invalid("--from-hex and --from-pcap need -I IFACE (nothing to route)".into())
        })?;
        let frames: Vec<Vec<u8>> = if let Some(p) = &a.from_pcap {
            CaptureFile::open(p)?
                .map(|r| {
                    let r = r?;
                    if r.linktype != 1 {
                        return Err(Error::Invalid(format!(
                            "{}: holds Linux cooked frames (link type {}) without their \
                             destination MAC: only Ethernet (1) captures can be replayed",
                            p.display(),
                            r.linktype
                        )));
                    }
                    Ok(r.data)
                })
                .collect::<Result<_>>()?
        } else {
            a.from_hex
                .iter()
                .map(|h| parse_hex("--from-hex", h))
                .collect::<Result<_>>()?
        };
        replayed = frames.len() as u64;
        FrameSource::Raw { iface, frames }
    } else if v6 {
        // Built here from the addresses given; the session resolves IPv4 paths only.
        let spec = a.frame.spec6()?;
        let iface = a.frame.link.iface.clone().ok_or_else(|| {
            Error::Invalid(
                "send -6 needs -I IFACE and --dst-mac MAC (IPv6 paths are not resolved yet)".into(),
            )
        })?;
        if a.frame.link.dst_mac.is_none() && !spec.wire_dst().is_multicast() {
            return Err(Error::Invalid(
                "send -6 needs --dst-mac MAC for a unicast destination (IPv6 next hops are \
                 not resolved yet)"
                    .into(),
            ));
        }
        let ep = a.frame.endpoints6(&spec)?;
        let frame = spec.build(&ep)?;
        if a.fragment.is_none() {
            check_mtu6(&spec, &frame, &iface, a.force)?;
        }
        // Frame i carries --icmp-seq + i, as for IPv4 (the 16-bit sequence repeats after
        // 65536 frames, so at most that many are built and cycled through).
        let mut frames = vec![frame];
        let n = a.count.unwrap_or(1).min(65536);
        if matches!(spec.transport, pktforge::craft::Transport::Icmp) && n > 1 {
            let mut s = spec.clone();
            for _ in 1..n {
                s.icmp.seq = s.icmp.seq.wrapping_add(1);
                frames.push(s.build(&ep)?);
            }
        }
        // --fragment: each packet as its fragments, all of them sent per count.
        if let Some(size) = a.fragment {
            let plan = pktforge::send::FragmentPlan {
                size,
                overlap: a.fragment_overlap,
                reverse: a.fragment_reverse,
            };
            let mut pieces = Vec::new();
            for f in &frames {
                for p in super::frame::split6(f, plan)? {
                    check_mtu6(&spec, &p, &iface, a.force)?;
                    pieces.push(p);
                }
            }
            per_packet = (pieces.len() / frames.len()) as u64;
            frames = pieces;
        }
        FrameSource::Raw { iface, frames }
    } else {
        FrameSource::Crafted {
            spec: Box::new(a.frame.spec()?),
            path: path_request(&a.frame.link)?,
        }
    };
    // Unwritable outputs are refused before anything (ARP included) is sent.
    super::log::check_writable("--pcap", a.pcap.as_deref())?;
    let mut log = super::log::Log::open(a.log.as_deref())?;
    let count = a.count.unwrap_or(replayed) * per_packet;
    let req = SendRequest {
        source,
        count,
        period,
        wait,
        show: Filter::compile(if a.frame.is_v6() && a.filter == "icmp" {
            "icmp6"
        } else {
            &a.filter
        })?,
        force: a.force,
        pcap: a.pcap.clone(),
        pcap_format: super::pcap_format(a.pcapng),
        // IPv6 fragments are made above.
        fragment: a
            .fragment
            .filter(|_| !v6)
            .map(|size| pktforge::send::FragmentPlan {
                size,
                overlap: a.fragment_overlap,
                reverse: a.fragment_reverse,
            }),
        dissect: a.verbose || (wait.is_some() && !a.quiet) || a.json,
        backend: a.frame.link.backend,
    };
    let prepared = req.prepare()?;
    let frames = prepared.frames();
    let mut out = Render::new(a.json);
    out.quiet = a.quiet;
    out.verbose = a.verbose;
    if !a.json {
        println!(
            "SEND {}: {} frame{} ({}), {}",
            prepared.iface().name,
            count,
            if count == 1 { "" } else { "s" },
            if frames.len() == 1 {
                format!("{} bytes", frames[0].len())
            } else {
                format!("cycling through {} frames", frames.len())
            },
            summary(&frames[0])
        );
    }
    let s = prepared.run_with(stop, &mut |ev| {
        out.event(ev);
        log.event(ev);
    })?;
    let Totals::Frames(t) = &s.totals else {
        return Ok(0);
    };
    if !a.json {
        let secs = s.elapsed_us / 1e6;
        let mut line = format!("--- {} sent", t.sent);
        if t.sent > 1 && secs > 0.0 {
            // From the first send to the last: the rate the pacing held.
            line.push_str(&format!(
                " in {secs:.3} s ({:.0} frames/s)",
                (t.sent - 1) as f64 / secs
            ));
        }
        if wait.is_some() {
            line.push_str(&format!(
                ", {} received, {} dropped by kernel",
                t.received, t.dropped_by_kernel
            ));
        }
        println!("{line}");
    }
    Ok(if wait.is_some() && t.received == 0 {
        1
    } else {
        0
    })
}

/// Refuse an IPv6 frame over the interface MTU before anything is sent, naming what its
/// extension headers take (no router fragments IPv6: the packet would be dropped).
fn check_mtu6(
    spec: &pktforge::craft::v6::Frame6Spec,
    frame: &[u8],
    iface: &str,
    force: bool,
) -> Result<()> {
    let Some(ifc) = pktforge::net::iface::list()?
        .into_iter()
        .find(|i| i.name == iface)
    else {
        return Err(Error::Invalid(format!("-I {iface}: no such interface")));
    };
    let l3 = frame.len() - 14 - 4 * spec.vlans.len();
    let ext = spec
        .exts
        .iter()
        .map(|e| e.buffer_len().unwrap_or(0))
        .sum::<usize>();
    if l3 > ifc.mtu as usize && !force {
        return Err(Error::Invalid(format!(
            "the IPv6 packet is {l3} bytes ({ext} of them extension headers), over the MTU {} \
             of {iface}: IPv6 routers never fragment, so it would be dropped (shrink it, split \
             it with --frag headers, or --force)",
            ifc.mtu
        )));
    }
    Ok(())
}
