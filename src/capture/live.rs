//! A live capture: frames received on one interface, filtered in the kernel, each reported as
//! a [`Frame`](crate::event::Frame) record (one-line summary, and the full dissection when
//! asked), optionally written to a capture file.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use super::{frame_record, WHOLE_FRAME};
use crate::dissect::OneLine;
use crate::event::{self, Command, Event, FrameTotals, Notice, Start, Summary, Totals};
use crate::filter::Filter;
use crate::link::capfile::{PcapFormat, LINKTYPE_ETHERNET};
use crate::link::{self, LinkConfig, RxFilter};
use crate::session::{self, Recording, Session, SessionRequest};
use crate::{Error, Field, Result, Stop};

/// What to capture and where it goes.
#[derive(Debug, Clone)]
pub struct CaptureRequest {
    /// Interface to capture on.
    pub iface: String,
    /// The filter (compiled to classic BPF and run in the kernel).
    pub filter: Filter,
    /// Stop after this many frames.
    pub count: Option<u64>,
    /// Stop after this long.
    pub duration: Option<Duration>,
    /// Put the interface in promiscuous mode.
    pub promiscuous: bool,
    /// Which link implementation receives.
    pub backend: link::Backend,
    /// Also write the frames here (nanosecond kernel timestamps).
    pub pcap: Option<PathBuf>,
    /// The format of that file (by default: pcapng when its name ends in `.pcapng`).
    pub pcap_format: PcapFormat,
    /// Put the full dissection into each frame record.
    pub dissect: bool,
    /// Which frames: received, sent by this host, or both (default, as tcpdump).
    pub direction: link::Direction,
    /// Report each frame as a [`Frame`](crate::event::Frame) record (summary formatted). Off when only the file
    /// is wanted: then no text is formatted per frame.
    pub report_frames: bool,
    /// Summaries start with the link level (MACs, EtherType, VLAN tags), as `tcpdump -e`.
    pub link_level: bool,
    /// Summaries show the IP header's fields in parentheses, as `tcpdump -v`.
    pub ip_detail: bool,
}

impl CaptureRequest {
    /// Capture everything on `iface`, in promiscuous mode, until stopped.
    pub fn new(iface: impl Into<String>) -> Self {
        CaptureRequest {
            iface: iface.into(),
            filter: Filter::everything(),
            count: None,
            duration: None,
            promiscuous: true,
            backend: link::Backend::default(),
            pcap: None,
            pcap_format: PcapFormat::ByName,
            dissect: false,
            direction: link::Direction::InOut,
            report_frames: true,
            link_level: false,
            ip_detail: false,
        }
    }

    /// Capture until the count, the duration or `stop`, reporting the start, a notice saying
    /// what runs in the kernel, every frame, then the summary.
    pub fn run_with(&self, stop: &Stop, on_event: &mut dyn FnMut(&Event)) -> Result<Summary> {
        if self.count == Some(0) {
            return Err(Error::invalid(Field::Count, "must be at least 1"));
        }
        let request = SessionRequest::on_interface(self.iface.clone());
        let (ifc, _) = session::plan(&request)?;
        let mut session = Session::open_planned(
            &SessionRequest {
                backend: self.backend,
                link: LinkConfig {
                    filter: RxFilter::Bpf(self.filter.program.clone()),
                    promiscuous: self.promiscuous,
                    buffer_size: 4 << 20,
                    direction: self.direction,
                    rx_max_frame: Some(WHOLE_FRAME.max(ifc.mtu as usize + 14 + 8)),
                    ..LinkConfig::default()
                },
                recording: self.pcap.clone().map(|path| Recording {
                    path,
                    format: self.pcap_format,
                }),
                ..request
            },
            ifc.clone(),
            None,
        )?;
        on_event(&Event::Start(Start {
            iface: Some(ifc.name.clone()),
            ..Start::new(Command::Capture)
        }));
        let what = match &self.filter.text {
            Some(e) => format!(" filter {e:?}"),
            None => String::new(),
        };
        on_event(&Event::Notice(Notice {
            message: format!(
                "capturing on {}{what} ({} BPF instructions in the kernel)",
                ifc.name,
                self.filter.program.len()
            ),
        }));
        let start = Instant::now();
        let end = self.duration.map(|d| start + d);
        let mut n = 0u64;
        let mut line = OneLine::new(self.ip_detail, self.link_level);
        let result = (|| -> Result<()> {
            while !stop.is_stopped() && self.count.is_none_or(|c| n < c) {
                // Wake at least every 200 ms to notice a stop.
                let mut deadline = Instant::now() + Duration::from_millis(200);
                if let Some(e) = end {
                    if Instant::now() >= e {
                        break;
                    }
                    deadline = deadline.min(e);
                }
                // Recorded (with its direction) as it is received.
                let Some(rx) = session.recv(deadline)? else {
                    continue;
                };
                n += 1;
                if !self.report_frames {
                    continue;
                }
                let dir = if rx.outgoing {
                    event::Direction::Out
                } else {
                    event::Direction::In
                };
                on_event(&Event::Frame(frame_record(
                    n,
                    rx.timestamp,
                    Some(dir),
                    (rx.data, rx.wire_len),
                    LINKTYPE_ETHERNET,
                    &mut line,
                    self.dissect.then_some(rx.data),
                )));
            }
            Ok(())
        })();
        let flushed = session.flush();
        let summary = Summary {
            command: Command::Capture,
            elapsed_us: event::us(start.elapsed()),
            interrupted: stop.is_stopped(),
            totals: Totals::Frames(FrameTotals {
                received: n,
                dropped_by_kernel: session.link().stats().kernel_drops,
                ..FrameTotals::default()
            }),
        };
        on_event(&Event::Summary(summary.clone()));
        result.and(flushed).map(|()| summary)
    }
}
