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
use pktforge::link::pcap::PcapWriter;
use pktforge::probe::send::resolve_endpoints;
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
    /// Also write the frame to FILE (pcap).
    #[arg(long, value_name = "FILE")]
    pub pcap: Option<PathBuf>,
}

/// Run `craft`: exit 0.
pub fn run(a: CraftArgs) -> Result<i32> {
    let spec = a.frame.spec()?;
    let ep = if a.frame.link.iface.is_some() {
        resolve_endpoints(&spec, &path_request(&a.frame.link)?, a.frame.link.backend)?
    } else {
        a.frame.offline_endpoints()?
    };
    let frame = spec.build(&ep)?;
    if let Some(p) = &a.pcap {
        let mut w = PcapWriter::create(p)?;
        w.write(SystemTime::now(), &frame)?;
        w.flush()?;
    }
    print_frame(&frame, a.hex, a.json);
    Ok(0)
}

/// Print one frame as plain hex, a JSON frame record, or a hex dump with the dissection beside
/// it.
fn print_frame(frame: &[u8], hex: bool, json: bool) {
    let hex_text = || frame.iter().map(|b| format!("{b:02x}")).collect::<String>();
    if hex {
        println!("{}", hex_text());
    } else if json {
        let started = std::time::Instant::now();
        let mut out = Render::new(true);
        out.event(&Event::Start(Start::new(Command::Craft)));
        out.event(&Event::Frame(Frame {
            index: 1,
            time_us: None,
            direction: None,
            bytes: frame.len(),
            summary: summary(frame),
            hex: Some(hex_text()),
            dissection: Some(dissect_frame(frame)),
        }));
        out.event(&Event::Summary(Summary {
            command: Command::Craft,
            elapsed_us: event::us(started.elapsed()),
            interrupted: false,
            totals: Totals::Frames(FrameTotals {
                received: 1,
                ..FrameTotals::default()
            }),
        }));
    } else {
        let d = dissect_frame(frame);
        print!("{}", hexdump_beside(frame, &render_text(&d)));
    }
}
