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
use pktforge::link::capfile::CaptureFile;
use pktforge::{Error, Result};

/// `pktforge decode` flags.
#[derive(Debug, Args)]
pub struct DecodeArgs {
    /// The frame in hex (spaces, ':' and '-' ignored). Without it and without --pcap, standard
    /// input is read: frames in hex separated by blank lines.
    pub hex: Vec<String>,
    /// Read the frames from a capture file: pcap or pcapng, Ethernet or Linux cooked
    /// (SLL, SLL2) frames, streamed; `-` is standard input.
    #[arg(
        short = 'r',
        long,
        visible_alias = "read",
        value_name = "FILE",
        conflicts_with = "hex"
    )]
    pub pcap: Option<PathBuf>,
    /// One JSON object per frame (the same tree: key, name, value, offset, len, status).
    #[arg(long)]
    pub json: bool,
}

/// One frame to decode: its time (from a file), its bytes, its length on the wire.
type Input = (Option<SystemTime>, Vec<u8>, usize);

/// Run `decode`.
pub fn run(a: DecodeArgs) -> Result<i32> {
    // A file is streamed record by record (memory constant in its length).
    let mut file = a.pcap.as_ref().map(CaptureFile::open).transpose()?;
    let frames: Vec<Input> = if file.is_some() {
        Vec::new()
    } else if !a.hex.is_empty() {
        let b = parse_hex("HEX", &a.hex.join(""))?;
        let n = b.len();
        vec![(None, b, n)]
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
                let b = parse_hex(&format!("standard input frame {}", i + 1), b)?;
                let n = b.len();
                Ok((None, b, n))
            })
            .collect::<Result<_>>()?
    };
    let mut out = Render::new(a.json);
    if a.json {
        out.event(&Event::Start(Start::new(Command::Decode)));
    }
    let started = Instant::now();
    let mut totals = FrameTotals::default();
    let mut listed = frames.into_iter();
    let mut next = || -> Result<Option<Input>> {
        match file.as_mut() {
            Some(f) => Ok(f
                .next_record()?
                .map(|r| (Some(r.timestamp), r.data, r.wire_len))),
            None => Ok(listed.next()),
        }
    };
    let mut i = 0usize;
    while let Some((t, bytes, wire_len)) = next()? {
        let cut = bytes.len() < wire_len;
        let bytes = &bytes;
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
                bytes: wire_len.max(bytes.len()),
                truncated: cut,
                captured: cut.then_some(bytes.len()),
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
            let kept = if cut {
                format!(
                    "{wire_len} bytes on the wire, {} captured [truncated]",
                    bytes.len()
                )
            } else {
                format!("{} bytes", bytes.len())
            };
            println!("Frame {}: {kept}{when}", i + 1);
            for l in render_text(&d) {
                println!("    {l}");
            }
        }
        i += 1;
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
