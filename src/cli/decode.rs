//! `pktforge decode`: dissect frames given as hex (arguments or standard input) or read from a
//! pcap file: one block per layer, every field named. Exit 1 when some bytes could not be
//! decoded (what could be decoded is still printed).

use std::io::Read;
use std::path::PathBuf;
use std::time::{Duration, Instant, SystemTime};

use clap::Args;

use super::args::parse_hex;
use super::render::{time_of_day, Render};
use pktforge::dissect::{dissect_frame, render_text, summary};
use pktforge::event::{self, Command, Event, Frame, FrameTotals, Start, Summary, Totals};
use pktforge::link::pcap::PcapReader;
use pktforge::{Error, Result};

/// `pktforge decode` flags.
#[derive(Debug, Args)]
pub struct DecodeArgs {
    /// The frame in hex (spaces, ':' and '-' ignored). Without it and without --pcap, standard
    /// input is read: frames in hex separated by blank lines.
    pub hex: Vec<String>,
    /// Read the frames from a pcap file (Ethernet link type).
    #[arg(long, value_name = "FILE", conflicts_with = "hex")]
    pub pcap: Option<PathBuf>,
    /// One JSON object per frame (the same tree: key, name, value, offset, len, status).
    #[arg(long)]
    pub json: bool,
}

/// Run `decode`.
pub fn run(a: DecodeArgs) -> Result<i32> {
    let frames: Vec<(Option<SystemTime>, Vec<u8>)> = if let Some(p) = &a.pcap {
        let r = PcapReader::open(p)?;
        if r.linktype() != pktforge::link::pcap::LINKTYPE_ETHERNET {
            return Err(Error::Invalid(format!(
                "{}: link type {} is not Ethernet (1)",
                p.display(),
                r.linktype()
            )));
        }
        r.map(|x| x.map(|(t, b)| (Some(t), b)))
            .collect::<Result<_>>()?
    } else if !a.hex.is_empty() {
        vec![(None, parse_hex("HEX", &a.hex.join(""))?)]
    } else {
        let mut s = String::new();
        std::io::stdin()
            .read_to_string(&mut s)
            .map_err(|e| Error::io("reading standard input", e))?;
        let blocks: Vec<String> = s
            .split("\n\n")
            .map(|b| b.split_whitespace().collect::<String>())
            .filter(|b| !b.is_empty())
            .collect();
        if blocks.is_empty() {
            return Err(Error::Invalid(
                "no frame given: pass HEX, --pcap FILE, or hex on standard input".into(),
            ));
        }
        blocks
            .iter()
            .enumerate()
            .map(|(i, b)| {
                Ok((
                    None,
                    parse_hex(&format!("standard input frame {}", i + 1), b)?,
                ))
            })
            .collect::<Result<_>>()?
    };
    let mut out = Render::new(a.json);
    if a.json {
        out.event(&Event::Start(Start::new(Command::Decode)));
    }
    let started = Instant::now();
    let mut totals = FrameTotals::default();
    for (i, (t, bytes)) in frames.iter().enumerate() {
        let d = dissect_frame(bytes);
        totals.received += 1;
        if !d.complete {
            totals.incomplete += 1;
        }
        let time_us = t.map(event::time_us);
        if a.json {
            out.event(&Event::Frame(Frame {
                index: i as u64 + 1,
                time_us,
                direction: None,
                bytes: bytes.len(),
                summary: summary(bytes),
                hex: None,
                dissection: Some(d),
            }));
        } else {
            if i > 0 {
                println!();
            }
            let when = time_us
                .map(|t| format!(", at {}", time_of_day(Duration::from_micros(t))))
                .unwrap_or_default();
            println!("Frame {}: {} bytes{when}", i + 1, bytes.len());
            for l in render_text(&d) {
                println!("    {l}");
            }
        }
    }
    if a.json {
        out.event(&Event::Summary(Summary {
            command: Command::Decode,
            elapsed_us: event::us(started.elapsed()),
            interrupted: false,
            totals: Totals::Frames(totals.clone()),
        }));
    }
    Ok(if totals.incomplete == 0 { 0 } else { 1 })
}
