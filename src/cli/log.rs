//! `--log FILE`: one timestamped line per request sent and per reply, error or frame received,
//! as a person reads them afterwards. A second renderer of the same event stream the terminal
//! shows (never a separate code path).
//!
//! One file, not one for requests and one for replies: the lines stay in the order things
//! happened, so a reply sits under its request and a gap is visible where no answer came;
//! `grep ' request '` or `grep -v` splits them when wanted.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::Path;

use pktforge::event::{Direction, Event};
use pktforge::{Error, Result};

/// The open log (or none).
#[derive(Default)]
pub struct Log {
    out: Option<BufWriter<File>>,
}

/// Refuse an output path that cannot be written, before anything is sent: the file is created
/// (emptied) here; the run writes it later.
pub fn check_writable(flag: &str, path: Option<&Path>) -> Result<()> {
    if let Some(p) = path {
        File::create(p).map_err(|e| Error::io(format!("{flag} {}", p.display()), e))?;
    }
    Ok(())
}

impl Log {
    /// Open `path` for writing (None: a log that writes nothing).
    pub fn open(path: Option<&Path>) -> Result<Log> {
        let out = match path {
            Some(p) => {
                Some(BufWriter::new(File::create(p).map_err(|e| {
                    Error::io(format!("--log {}", p.display()), e)
                })?))
            }
            None => None,
        };
        Ok(Log { out })
    }

    /// Write the line for `ev`, if it has one; each line is flushed, so a killed run leaves
    /// whole lines.
    pub fn event(&mut self, ev: &Event) {
        let Some(out) = self.out.as_mut() else {
            return;
        };
        let line = match ev {
            Event::Start(s) => format!(
                "{} start {} to {} from {} on {}",
                stamp(s.time_us),
                s.command.name(),
                opt(s.dest),
                opt(s.src),
                s.iface.as_deref().unwrap_or("-")
            ),
            Event::Request(r) => format!(
                "{} request seq={} to {} ttl={} {} bytes",
                stamp(r.time_us),
                r.seq,
                r.dest,
                r.ttl,
                r.ip_bytes
            ),
            Event::Reply(r) => format!(
                "{} reply seq={} from {} ttl={} {} bytes rtt={:.3} ms{}{}",
                stamp(r.time_us),
                r.seq,
                r.from,
                r.ttl,
                r.bytes,
                r.rtt_us / 1e3,
                if r.duplicate { " duplicate" } else { "" },
                if r.bad_checksum { " bad-checksum" } else { "" }
            ),
            Event::IcmpError(e) => format!(
                "{} error seq={} from {} type={} code={} {}{}",
                stamp(e.time_us),
                e.seq,
                e.from,
                e.icmp_type,
                e.icmp_code,
                e.description,
                e.detail
                    .as_deref()
                    .map(|d| format!(" ({d})"))
                    .unwrap_or_default()
            ),
            Event::Malformed(m) => format!(
                "{} malformed from {} {} ({})",
                stamp(m.time_us),
                m.from,
                m.description,
                m.problem
            ),
            Event::Frame(f) => format!(
                "{} {} {}",
                f.time_us.map(stamp).unwrap_or_else(|| "-".into()),
                match f.direction {
                    Some(Direction::Out) => "request",
                    _ => "received",
                },
                f.summary
            ),
            Event::Hop(h) => {
                // A trace reports its answers per hop, once the hop is settled: one line per
                // probe, stamped when the hop was reported.
                let now = stamp(pktforge::event::time_us(std::time::SystemTime::now()));
                let lines: Vec<String> = h
                    .probes
                    .iter()
                    .enumerate()
                    .map(|(i, p)| match (p.from, p.rtt_us) {
                        (Some(from), Some(rtt)) => format!(
                            "{now} hop ttl={} probe={} from {from} rtt={:.3} ms{}",
                            h.ttl,
                            i + 1,
                            rtt / 1e3,
                            p.marker
                                .as_deref()
                                .map(|m| format!(" {m}"))
                                .unwrap_or_default()
                        ),
                        _ => format!("{now} hop ttl={} probe={} no answer", h.ttl, i + 1),
                    })
                    .collect();
                lines.join("\n")
            }
            Event::Summary(s) => format!(
                "{} end {} after {:.3} s{}",
                stamp(pktforge::event::time_us(std::time::SystemTime::now())),
                s.command.name(),
                s.elapsed_us / 1e6,
                if s.interrupted { " (interrupted)" } else { "" }
            ),
            _ => return,
        };
        let _ = writeln!(out, "{line}").and_then(|()| out.flush());
    }
}

fn opt(a: Option<std::net::Ipv4Addr>) -> String {
    a.map_or_else(|| "-".into(), |a| a.to_string())
}

/// `YYYY-MM-DDTHH:MM:SS.uuuuuuZ` (UTC) of µs since the epoch.
pub fn stamp(time_us: u64) -> String {
    let secs = time_us / 1_000_000;
    let (days, rem) = (secs / 86_400, secs % 86_400);
    // Civil date from days since 1970-01-01 (proleptic Gregorian).
    let z = days as i64 + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}.{:06}Z",
        rem / 3600,
        (rem / 60) % 60,
        rem % 60,
        time_us % 1_000_000
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stamps_are_utc_calendar_times() {
        assert_eq!(stamp(0), "1970-01-01T00:00:00.000000Z");
        // 2000-02-29 12:34:56.789012 UTC = 951827696 s.
        assert_eq!(stamp(951_827_696_789_012), "2000-02-29T12:34:56.789012Z");
        assert_eq!(stamp(1_798_761_600_000_000), "2027-01-01T00:00:00.000000Z");
    }
}
