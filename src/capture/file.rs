//! Capture from a file, as `tcpdump -r`: the records of a pcap or pcapng file that a tcpdump
//! filter accepts, each reported as a [`Frame`](crate::event::Frame) record like a live
//! capture's, optionally written to another file with their timestamps, original lengths and
//! link type.
//!
//! The filter is compiled by libpcap for the file's own link type (a Linux cooked capture gets
//! an SLL program, so `ether host` is refused there as libpcap refuses it) and run in user
//! space on the bytes as stored, with the record's original length as `len`
//! (`pcap_offline_filter`'s semantics). A pcapng file whose interfaces differ in link type gets
//! one program per link type. Compiling needs the `pcap-filter` feature; without it a filter
//! expression is refused before the file is read.

use std::path::PathBuf;
use std::time::Instant;

use super::frame_record;
use crate::dissect::OneLine;
use crate::event::{self, Command, Event, FrameTotals, Notice, Start, Summary, Totals};
use crate::filter::Filter;
use crate::link::bpf::SKF_AD_OFF;
use crate::link::capfile::{CaptureFile, Packet, PcapFormat, PcapWriter, Record};
use crate::{Error, Field, Result, Stop};

/// Which file to read, what to keep and where it goes.
#[derive(Debug, Clone)]
pub struct ReadRequest {
    /// The capture file (pcap or pcapng).
    pub path: PathBuf,
    /// A tcpdump filter expression (None or blank: every record; an expression needs the
    /// `pcap-filter` feature).
    pub filter: Option<String>,
    /// Stop after this many matching records.
    pub count: Option<u64>,
    /// Write the matching records here.
    pub write: Option<PathBuf>,
    /// The format of that file (by default: pcapng when its name ends in `.pcapng`).
    pub write_format: PcapFormat,
    /// Report each matching record as a [`crate::event::Frame`] (off when only the file is
    /// wanted: then no text is formatted per frame).
    pub report_frames: bool,
    /// Put the full dissection into each frame record.
    pub dissect: bool,
    /// Summaries start with the link level (MACs, EtherType, VLAN tags), as `tcpdump -e`.
    pub link_level: bool,
    /// Summaries show the IP header's fields in parentheses, as `tcpdump -v`.
    pub ip_detail: bool,
}

impl ReadRequest {
    /// Read every record of `path` and report it.
    pub fn new(path: impl Into<PathBuf>) -> Self {
        ReadRequest {
            path: path.into(),
            filter: None,
            count: None,
            write: None,
            write_format: PcapFormat::ByName,
            report_frames: true,
            dissect: false,
            link_level: false,
            ip_detail: false,
        }
    }

    /// The filter compiled for the file's link type (that of its first record; for a file
    /// without records, the one its header declares), as `tcpdump -d -r FILE` prints it.
    pub fn compiled_filter(&self) -> Result<Filter> {
        let mut file = CaptureFile::open(&self.path)?;
        let first = file.next_raw()?;
        let linktype = first.as_ref().map_or(file.linktype(), |r| r.linktype);
        Programs::default()
            .get(self, &file, linktype, false)
            .cloned()
    }

    /// Read to the end, the count or `stop`, reporting the start, a notice naming the file and
    /// its link type, every matching record, then the summary (`received`: records matched).
    pub fn run_with(&self, stop: &Stop, on_event: &mut dyn FnMut(&Event)) -> Result<Summary> {
        if self.count == Some(0) {
            return Err(Error::invalid(Field::Count, "must be at least 1"));
        }
        let mut file = CaptureFile::open(&self.path)?;
        // The first record tells a pcapng file's link type (its interfaces come with it).
        let mut pending = file.next_raw()?;
        let linktype = pending.as_ref().map_or(file.linktype(), |r| r.linktype);
        let mut programs = Programs::default();
        let filter_text = programs.get(self, &file, linktype, false)?.text.clone();
        let mut out = match &self.write {
            Some(p) => Some(PcapWriter::create_as(p, self.write_format, linktype, None)?),
            None => None,
        };
        on_event(&Event::Start(Start::new(Command::Capture)));
        let what = match &filter_text {
            Some(e) => format!(", filter {e:?}"),
            None => String::new(),
        };
        on_event(&Event::Notice(Notice {
            message: format!(
                "reading from file {}, link-type {}{what}",
                file.name(),
                linktype_name(linktype)
            ),
        }));
        let start = Instant::now();
        let mut n = 0u64;
        let mut line = OneLine::new(self.ip_detail, self.link_level);
        let result = (|| -> Result<()> {
            while !stop.is_stopped() && self.count.is_none_or(|c| n < c) {
                let rec = match pending.take() {
                    Some(r) => r,
                    None => match file.next_raw()? {
                        Some(r) => r,
                        None => break,
                    },
                };
                let program = programs.get(self, &file, rec.linktype, true)?;
                if !program.matches_record(&rec.data, rec.wire_len) {
                    continue;
                }
                n += 1;
                if let Some(w) = out.as_mut() {
                    w.write_packet(&Packet {
                        timestamp: rec.timestamp,
                        data: &rec.data,
                        wire_len: rec.wire_len,
                        linktype: rec.linktype,
                        outgoing: None,
                    })
                    .map_err(|e| file.record_error(&e.to_string()))?;
                }
                if self.report_frames {
                    on_event(&Event::Frame(self.frame(&file, n, &rec, &mut line)?));
                }
            }
            Ok(())
        })();
        let flushed = out.as_mut().map_or(Ok(()), PcapWriter::flush);
        let summary = Summary {
            command: Command::Capture,
            elapsed_us: event::us(start.elapsed()),
            interrupted: stop.is_stopped(),
            totals: Totals::Frames(FrameTotals {
                received: n,
                ..FrameTotals::default()
            }),
        };
        on_event(&Event::Summary(summary.clone()));
        result.and(flushed).map(|()| summary)
    }

    fn frame(
        &self,
        file: &CaptureFile,
        n: u64,
        rec: &Record,
        line: &mut OneLine,
    ) -> Result<event::Frame> {
        // The line shows the record as stored (a Linux cooked header as such); the
        // dissection reads it as Ethernet.
        let eth = if self.dissect {
            Some(rec.ethernet().map_err(|m| file.record_error(&m))?.0)
        } else {
            None
        };
        Ok(frame_record(
            n,
            rec.timestamp,
            None,
            (&rec.data, rec.wire_len),
            rec.linktype,
            line,
            eth.as_deref(),
        ))
    }
}

/// The filter compiled once per link type met in the file.
#[derive(Default)]
struct Programs(Vec<(u32, Filter)>);

impl Programs {
    /// The program for `linktype`; `mid_file`: first met at the last record read (an error
    /// then names its offset).
    fn get(
        &mut self,
        req: &ReadRequest,
        file: &CaptureFile,
        linktype: u32,
        mid_file: bool,
    ) -> Result<&Filter> {
        if let Some(i) = self.0.iter().position(|(l, _)| *l == linktype) {
            return Ok(&self.0[i].1);
        }
        let text = req.filter.as_deref().unwrap_or("");
        #[cfg(feature = "pcap-filter")]
        let compiled = Filter::compile_for(text, linktype);
        #[cfg(not(feature = "pcap-filter"))]
        let compiled = if text.trim().is_empty() {
            Ok(Filter::everything())
        } else {
            Err(crate::filter::no_compiler(text))
        };
        let f = compiled.map_err(|e| {
            // Named with the file: the same expression may compile for another link type.
            let what = format!("{e} (compiled for link type {})", linktype_name(linktype));
            if mid_file {
                file.record_error(&what)
            } else {
                Error::CaptureFile {
                    file: file.name().to_string(),
                    offset: None,
                    what,
                }
            }
        })?;
        if needs_metadata(&f) {
            let what = format!(
                "filter {text:?} needs what only a live capture knows (inbound, outbound, \
                 ifindex…), which link type {} does not record in a file",
                linktype_name(linktype)
            );
            return Err(if mid_file {
                file.record_error(&what)
            } else {
                Error::CaptureFile {
                    file: file.name().to_string(),
                    offset: None,
                    what,
                }
            });
        }
        self.0.push((linktype, f));
        Ok(&self.0[self.0.len() - 1].1)
    }
}

/// Whether the program loads the kernel's ancillary data (packet type, interface index…),
/// which libpcap compiles for a live Linux socket but a file's records do not carry.
fn needs_metadata(f: &Filter) -> bool {
    f.program
        .iter()
        .any(|i| i.code & 0x07 == 0x00 && i.code & 0xe0 == 0x20 && i.k >= SKF_AD_OFF)
}

/// `EN10MB (Ethernet)`, as tcpdump names a link type.
#[cfg(feature = "pcap-filter")]
fn linktype_name(linktype: u32) -> String {
    let lt = pcap::Linktype(i32::try_from(linktype).unwrap_or(-1));
    match (lt.get_name(), lt.get_description()) {
        (Ok(n), Ok(d)) => format!("{n} ({d})"),
        _ => linktype.to_string(),
    }
}

/// `EN10MB (Ethernet)`, as tcpdump names a link type (without libpcap: the common ones).
#[cfg(not(feature = "pcap-filter"))]
fn linktype_name(linktype: u32) -> String {
    match linktype {
        0 => "NULL (BSD loopback)".into(),
        1 => "EN10MB (Ethernet)".into(),
        101 => "RAW (Raw IP)".into(),
        113 => "LINUX_SLL (Linux cooked v1)".into(),
        276 => "LINUX_SLL2 (Linux cooked v2)".into(),
        n => n.to_string(),
    }
}
