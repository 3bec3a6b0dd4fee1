//! Printing probe events: iputils-style text or one JSON object per line.

use std::io::Write;

use pktforge::probe::ping::{PingEvent, PingSummary};
use pktforge::wire::{IpOption, TimestampFlag};

/// Prints ping events as they happen and the summary at the end.
pub struct PingReporter {
    json: bool,
    quiet: bool,
    last_route: Option<Vec<std::net::Ipv4Addr>>,
}

impl PingReporter {
    /// A reporter for text (iputils format) or JSON lines.
    pub fn new(json: bool, quiet: bool) -> Self {
        PingReporter {
            json,
            quiet,
            last_route: None,
        }
    }

    /// Print one event.
    pub fn event(&mut self, ev: &PingEvent) {
        let mut out = std::io::stdout().lock();
        if self.json {
            let _ = writeln!(out, "{}", serde_json::to_string(ev).unwrap_or_default());
            return;
        }
        let text = match ev {
            PingEvent::Start {
                dest,
                src,
                iface,
                data_bytes,
                ip_bytes,
                ..
            } => format!("PING {dest} ({dest}) from {src} {iface}: {data_bytes}({ip_bytes}) bytes of data.\n"),
            _ if self.quiet => return,
            PingEvent::Reply(r) => {
                let mut s = format!(
                    "{} bytes from {}: icmp_seq={} ttl={} time={}{}{}\n",
                    r.bytes,
                    r.from,
                    r.seq,
                    r.ttl,
                    format_ms(r.rtt_ms),
                    if r.duplicate { " (DUP!)" } else { "" },
                    if r.data_mismatch { " (BAD DATA)" } else { "" }
                );
                for opt in &r.options {
                    s.push_str(&self.option_lines(opt));
                }
                s
            }
            PingEvent::Malformed {
                from,
                description,
                problem,
            } => format!("From {from}: {description} (malformed: {problem})\n"),
            PingEvent::IcmpError(e) => {
                let mut s = format!("From {} icmp_seq={} {}", e.from, e.seq, e.description);
                if let Some(d) = &e.detail {
                    s.push_str(&format!(" ({d})"));
                }
                s.push('\n');
                for opt in &e.quoted_options {
                    s.push_str(&format!("    quoted: {opt}\n"));
                }
                s
            }
        };
        let _ = out.write_all(text.as_bytes());
        let _ = out.flush();
    }

    /// iputils' multi-line rendering of a reply's options.
    pub fn option_lines(&mut self, opt: &IpOption) -> String {
        match opt {
            IpOption::RecordRoute { .. } => {
                let route = opt.recorded();
                if self.last_route.as_ref() == Some(&route) {
                    return "RR: \t(same route)\n".into();
                }
                let s = addr_lines("RR", &route);
                self.last_route = Some(route);
                s
            }
            IpOption::LooseSourceRoute { route, .. } => addr_lines("LSRR", route),
            IpOption::StrictSourceRoute { route, .. } => addr_lines("SSRR", route),
            IpOption::Timestamp {
                flag,
                entries,
                overflow,
                pointer,
            } => {
                let filled = (usize::from(*pointer).saturating_sub(5))
                    / if matches!(flag, TimestampFlag::TsOnly) {
                        4
                    } else {
                        8
                    };
                let mut s = String::new();
                let mut prev: Option<u32> = None;
                for (i, e) in entries.iter().take(filled).enumerate() {
                    s.push_str(if i == 0 { "TS: \t" } else { "\t" });
                    if let Some(a) = e.addr {
                        s.push_str(&format!("{a}\t"));
                    }
                    match prev {
                        None => s.push_str(&format!("{} absolute\n", e.timestamp)),
                        Some(p) => {
                            s.push_str(&format!("{}\n", i64::from(e.timestamp) - i64::from(p)))
                        }
                    }
                    prev = Some(e.timestamp);
                }
                if filled == 0 {
                    s.push_str("TS: \t(no stamps)\n");
                }
                if *overflow > 0 {
                    s.push_str(&format!("Unrecorded hops: {overflow}\n"));
                }
                s
            }
            IpOption::EndOfList | IpOption::Nop => String::new(),
            other => format!("{other}\n"),
        }
    }

    /// Print the closing statistics.
    pub fn summary(&mut self, s: &PingSummary) {
        let mut out = std::io::stdout().lock();
        if self.json {
            let mut v = serde_json::to_value(s).unwrap_or_default();
            if let Some(o) = v.as_object_mut() {
                o.insert("type".into(), "summary".into());
            }
            let _ = writeln!(out, "{v}");
            return;
        }
        let line = summary_text(s, "ping");
        let _ = out.write_all(line.as_bytes());
        let _ = out.flush();
    }
}

/// iputils' closing statistics for any request/reply probe (`what`: "ping", "timestamp", ...).
pub fn summary_text(s: &PingSummary, what: &str) -> String {
    let dest = s.dest.map(|d| d.to_string()).unwrap_or_default();
    let mut line = format!(
        "\n--- {dest} {what} statistics ---\n{} packets transmitted, {} received",
        s.transmitted, s.received
    );
    if s.duplicates > 0 {
        line.push_str(&format!(", +{} duplicates", s.duplicates));
    }
    if s.errors > 0 {
        line.push_str(&format!(", +{} errors", s.errors));
    }
    line.push_str(&format!(
        ", {}% packet loss, time {}ms\n",
        format_g(s.loss_percent),
        s.time_ms
    ));
    if let Some(r) = s.rtt {
        line.push_str(&format!(
            "rtt min/avg/max/mdev = {:.3}/{:.3}/{:.3}/{:.3} ms\n",
            r.min, r.avg, r.max, r.mdev
        ));
    }
    line
}

fn addr_lines(tag: &str, addrs: &[std::net::Ipv4Addr]) -> String {
    let mut s = String::new();
    for (i, a) in addrs.iter().enumerate() {
        s.push_str(&if i == 0 {
            format!("{tag}: \t{a}\n")
        } else {
            format!("\t{a}\n")
        });
    }
    if addrs.is_empty() {
        s.push_str(&format!("{tag}: \t(empty)\n"));
    }
    s
}

/// iputils' RTT precision: 3 decimals under 1 ms, 2 under 10, 1 under 100, else whole.
fn format_ms(ms: f64) -> String {
    if ms < 1.0 {
        format!("{ms:.3} ms")
    } else if ms < 10.0 {
        format!("{ms:.2} ms")
    } else if ms < 100.0 {
        format!("{ms:.1} ms")
    } else {
        format!("{ms:.0} ms")
    }
}

/// printf's %g for a percentage: whole numbers plain, else up to 6 significant digits.
fn format_g(v: f64) -> String {
    if v.fract() == 0.0 {
        format!("{v:.0}")
    } else {
        let s = format!(
            "{v:.*}",
            5usize.saturating_sub(v.abs().log10().floor().max(0.0) as usize)
        );
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentages_print_like_printf_g() {
        assert_eq!(format_g(0.0), "0");
        assert_eq!(format_g(100.0), "100");
        assert_eq!(format_g(100.0 / 3.0), "33.3333");
        assert_eq!(format_g(2.0 / 3.0 * 100.0), "66.6667");
    }

    #[test]
    fn rtt_precision_follows_iputils() {
        assert_eq!(format_ms(0.12345), "0.123 ms");
        assert_eq!(format_ms(1.2345), "1.23 ms");
        assert_eq!(format_ms(12.345), "12.3 ms");
        assert_eq!(format_ms(123.45), "123 ms");
    }
}
