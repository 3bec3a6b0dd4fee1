//! `pktforge craft`: one frame from flags, shown as a hex dump with its dissection beside it, as
//! hex, as JSON, or written to a pcap.

use std::path::PathBuf;
use std::time::SystemTime;

use clap::Args;

use super::frame::FrameArgs;
use super::path_request;
use super::render::Render;
use pktforge::dissect::{dissect_frame, hexdump_beside, render_text, summary};
use pktforge::event::{self, Command, Event, Frame, FrameTotals, Start, Summary, Totals};
use pktforge::link::capfile::PcapWriter;
use pktforge::send::resolve_endpoints;
use pktforge::Result;

/// `pktforge craft` flags.
#[derive(Debug, Args)]
pub struct CraftArgs {
    /// The frame.
    #[command(flatten)]
    pub frame: FrameArgs,
    /// Print the frame as one line of plain hex.
    #[arg(long, conflicts_with = "json")]
    pub hex: bool,
    /// Print the dissection as JSON.
    #[arg(long)]
    pub json: bool,
    /// Also write the frame to FILE (pcap; pcapng when FILE ends in .pcapng or with --pcapng).
    #[arg(long, value_name = "FILE")]
    pub pcap: Option<PathBuf>,
    /// Write the --pcap file as pcapng.
    #[arg(long = "pcapng", requires = "pcap")]
    pub pcapng: bool,
    /// Build the frame's IP datagram as fragments of SIZE data bytes (a multiple of 8).
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
    /// With --fragment: the fragments last first.
    #[arg(long = "fragment-reverse", requires = "fragment")]
    pub fragment_reverse: bool,
}

/// Run `craft`: exit 0.
pub fn run(a: CraftArgs) -> Result<i32> {
    if a.frame.is_v6() {
        return run6(a);
    }
    let spec = a.frame.spec()?;
    let ep = if a.frame.link.iface.is_some() {
        resolve_endpoints(&spec, &path_request(&a.frame.link)?, a.frame.link.backend)?
    } else {
        a.frame.offline_endpoints()?
    };
    let frame = spec.build(&ep)?;
    output(&a, frame)
}

/// `craft -6`: built offline from the addresses given (the session resolves IPv4 paths only).
fn run6(a: CraftArgs) -> Result<i32> {
    let spec = a.frame.spec6()?;
    let ep = a.frame.endpoints6(&spec)?;
    let frame = spec.build(&ep)?;
    let frames = match a.fragment {
        Some(size) => super::frame::split6(
            &frame,
            pktforge::send::FragmentPlan {
                size,
                overlap: a.fragment_overlap,
                reverse: a.fragment_reverse,
            },
        )?,
        None => vec![frame],
    };
    write_and_print(&a, &frames)
}

/// Fragment as asked, write the pcap, print.
fn output(a: &CraftArgs, frame: Vec<u8>) -> Result<i32> {
    let frames = match a.fragment {
        Some(size) => pktforge::send::split(
            &frame,
            pktforge::send::FragmentPlan {
                size,
                overlap: a.fragment_overlap,
                reverse: a.fragment_reverse,
            },
        )?,
        None => vec![frame],
    };
    write_and_print(a, &frames)
}

/// Write the pcap (if asked) and print the frames.
fn write_and_print(a: &CraftArgs, frames: &[Vec<u8>]) -> Result<i32> {
    if let Some(p) = &a.pcap {
        let mut w = PcapWriter::create_as(
            p,
            super::pcap_format(a.pcapng),
            pktforge::link::capfile::LINKTYPE_ETHERNET,
            None,
        )?;
        for f in frames {
            w.write(SystemTime::now(), f)?;
        }
        w.flush()?;
    }
    print_frames(frames, a.hex, a.json);
    Ok(0)
}

/// Print frames as plain hex (one line each), JSON frame records, or hex dumps with the
/// dissection beside them.
fn print_frames(frames: &[Vec<u8>], hex: bool, json: bool) {
    let hex_text = |frame: &[u8]| frame.iter().map(|b| format!("{b:02x}")).collect::<String>();
    if hex {
        for f in frames {
            println!("{}", hex_text(f));
        }
    } else if json {
        let started = std::time::Instant::now();
        let mut out = Render::new(true);
        out.event(&Event::Start(Start::new(Command::Craft)));
        for (i, frame) in frames.iter().enumerate() {
            out.event(&Event::Frame(Frame {
                index: i as u64 + 1,
                time_us: None,
                direction: None,
                bytes: frame.len(),
                truncated: false,
                captured: None,
                summary: summary(frame),
                hex: Some(hex_text(frame)),
                dissection: Some(dissect_frame(frame)),
            }));
        }
        out.event(&Event::Summary(Summary {
            command: Command::Craft,
            elapsed_us: event::us(started.elapsed()),
            interrupted: false,
            totals: Totals::Frames(FrameTotals {
                received: frames.len() as u64,
                ..FrameTotals::default()
            }),
        }));
    } else {
        for (i, frame) in frames.iter().enumerate() {
            if i > 0 {
                println!();
            }
            let d = dissect_frame(frame);
            print!("{}", hexdump_beside(frame, &render_text(&d)));
        }
    }
}
