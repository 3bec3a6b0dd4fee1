//! Turning the library's event stream into what the user reads: the text iputils, traceroute
//! and tcpdump users know, or one JSON object per event (`--json`).

use std::io::Write;
use std::net::Ipv4Addr;
use std::time::Duration;

use pktforge::dissect::render_text;
use pktforge::event::{
    Answer, Command, Direction, Event, Frame, Hop, IcmpError, PortResult, ProbeTotals, Progress,
    Reply, Start, Summary, Totals,
};
use pktforge::wire::{IpOption, TimestampFlag};

use super::names::Names;

/// How the stream is shown.
#[derive(Default)]
pub struct Render {
    /// One JSON object per event instead of text.
    pub json: bool,
    /// Only the header and the summary (probes); only summaries for frames (send).
    pub quiet: bool,
    /// Full dissection under each frame line.
    pub verbose: bool,
    /// Under each trace hop, the route recorded so far.
    pub show_rr: bool,
    /// Reverse names for trace hops.
    pub names: Option<Names>,
    /// The interface and wait, for the note when no router advertised (rsol).
    pub wait: Option<Duration>,
    /// Show progress records as a line rewritten in place on standard error (a terminal).
    pub progress: bool,
    progress_shown: bool,
    /// iputils `-D`: each answer line starts with `[seconds.micros]`.
    pub timestamps: bool,
    /// Pinging a broadcast address (`-b`): answers from other hosts are expected.
    pub broadcast: bool,
    /// iputils `-a`: a bell with each reply.
    pub audible: bool,
    /// iputils `-O`: say when a request got no answer before the next one left.
    pub outstanding: bool,
    /// iputils `-f`: a dot per request, a backspace per reply, nothing else until the summary.
    pub flood: bool,
    command: Option<Command>,
    dest: Option<Ipv4Addr>,
    last_request: Option<(u16, bool)>,
    /// `-O`: (request, departure of the next one in µs) not yet known to be answered in time.
    unanswered: Vec<(u16, u64)>,
    /// `-O`: when the last request left (µs).
    last_request_us: u64,
    ratelimit_hinted: bool,
    iface: Option<String>,
    last_route: Option<Vec<Ipv4Addr>>,
}

impl Render {
    /// A renderer for JSON lines or text.
    pub fn new(json: bool) -> Self {
        Render {
            json,
            ..Render::default()
        }
    }

    /// Show one event.
    pub fn event(&mut self, ev: &Event) {
        if let Event::Notice(n) = ev {
            // For the person watching, also when standard output is JSON.
            eprintln!("pktforge: {}", n.message);
        }
        if self.json {
            let mut out = std::io::stdout().lock();
            let _ = writeln!(out, "{}", serde_json::to_string(ev).unwrap_or_default());
            let _ = out.flush();
            return;
        }
        if self.flood && !matches!(ev, Event::Start(_) | Event::Summary(_)) {
            let mark = match ev {
                Event::Request(_) => ".",
                Event::Reply(r) if !r.duplicate && !r.bad_checksum => "\x08 \x08",
                Event::IcmpError(_) => "\x08E",
                _ => return,
            };
            let mut out = std::io::stdout().lock();
            let _ = out.write_all(mark.as_bytes());
            let _ = out.flush();
            return;
        }
        let answered = match ev {
            Event::Reply(r) if !r.bad_checksum => Some((r.seq, r.time_us)),
            Event::IcmpError(e) => Some((e.seq, e.time_us)),
            _ => None,
        };
        if self.outstanding && !self.quiet {
            self.no_answer_lines(ev, answered);
        }
        if let Event::Request(r) = ev {
            self.last_request = Some((r.seq, false));
        }
        if let (Some((seq, _)), Some((last, done))) = (answered, self.last_request.as_mut()) {
            if seq == *last {
                *done = true;
            }
        }
        let text = match ev {
            Event::Start(s) => self.start(s),
            Event::Notice(_) => return,
            Event::Progress(p) if p.loss_percent.is_some() => {
                // Interim totals asked for (SIGQUIT): iputils' line, on standard error, also
                // when quiet.
                eprintln!("{}", progress_text(p));
                return;
            }
            Event::Progress(p) => {
                self.progress_line(p);
                return;
            }
            _ if self.quiet && !matches!(ev, Event::Summary(_) | Event::Frame(_)) => return,
            Event::Request(_) | Event::Timeout(_) => return,
            // A port probe's answer is shown in its verdict line.
            Event::Reply(_) | Event::IcmpError(_) if self.command == Some(Command::Probe) => return,
            Event::Reply(r) => self.reply(r),
            Event::IcmpError(e) => self.icmp_error(e),
            Event::Malformed(m) => format!(
                "From {}: {} (malformed: {})\n",
                m.from, m.description, m.problem
            ),
            Event::Hop(h) => self.hop(h),
            Event::Port(p) => self.port(p),
            Event::Frame(f) => self.frame(f),
            Event::Summary(s) => self.summary(s),
            _ => return,
        };
        let mut text = text;
        if let (true, Some((_, t))) = (self.timestamps, answered) {
            text = format!("[{}.{:06}] {text}", t / 1_000_000, t % 1_000_000);
        }
        if self.audible && matches!(ev, Event::Reply(r) if !r.duplicate && !r.bad_checksum) {
            text.insert(0, '\x07');
        }
        let mut out = std::io::stdout().lock();
        let _ = out.write_all(text.as_bytes());
        let _ = out.flush();
    }

    fn start(&mut self, s: &Start) -> String {
        self.command = Some(s.command);
        self.dest = s.dest;
        self.iface.clone_from(&s.iface);
        let dest = s.dest.map(|d| d.to_string()).unwrap_or_default();
        let src = s.src.map(|d| d.to_string()).unwrap_or_default();
        let mut iface = s.iface.clone().unwrap_or_default();
        if let Some(v) = s.vlans.filter(|v| !v.is_empty()) {
            iface.push_str(&format!(" vlan {v}"));
        }
        match s.command {
            Command::Ping => format!(
                "PING {dest} ({dest}) from {src} {iface}: {}({}) bytes of data.\n",
                s.data_bytes.unwrap_or(0),
                s.ip_bytes.unwrap_or(0)
            ),
            Command::Probe => format!(
                "PROBE {dest} ({}) from {src} {iface}: {} bytes per probe.\n",
                s.wire_dst.map(|d| d.to_string()).unwrap_or_default(),
                s.ip_bytes.unwrap_or(0)
            ),
            Command::Trace => format!(
                "traceroute to {dest} ({dest}), {} hops max, {} byte packets\n",
                s.max_hops.unwrap_or(0),
                s.ip_bytes.unwrap_or(0)
            ),
            c @ (Command::Timestamp | Command::Mask | Command::Info | Command::Rsol) => {
                let name = query_name(c);
                format!(
                    "{} {dest} ({}) from {src} {iface}: ICMP {name} request.\n",
                    name.to_uppercase(),
                    s.wire_dst.map(|d| d.to_string()).unwrap_or_default(),
                )
            }
            _ => String::new(),
        }
    }

    fn reply(&mut self, r: &Reply) -> String {
        let mut s = match (&r.answer, self.command) {
            (Answer::Echo { data_mismatch }, _) => format!(
                "{} bytes from {}: icmp_seq={} ttl={} time={}{}{}{}\n",
                r.bytes,
                r.from,
                r.seq,
                r.ttl,
                format_ms(r.rtt_us / 1e3),
                if r.duplicate { " (DUP!)" } else { "" },
                // iputils: an answer from another host than the one pinged (not for -b,
                // where every answer is from another host).
                if self
                    .dest
                    .is_some_and(|d| d != r.from && !d.is_broadcast() && !self.broadcast)
                {
                    " (DIFFERENT ADDRESS!)"
                } else {
                    ""
                },
                if r.bad_checksum {
                    " (BAD CHECKSUM!)"
                } else if *data_mismatch {
                    " (BAD DATA)"
                } else {
                    ""
                }
            ),
            (answer, _) => format!(
                "{} bytes from {}: icmp_seq={} ttl={} time={:.3} ms {}{}\n",
                r.bytes,
                r.from,
                r.seq,
                r.ttl,
                r.rtt_us / 1e3,
                answer_text(answer),
                if r.duplicate { " (DUP!)" } else { "" }
            ),
        };
        if self.command == Some(Command::Ping) {
            // iputils: the reply line, then each option: `\t(same route)` on the line itself
            // for a route equal to the last one, else the option's block from the next line
            // on; the line is then ended, so that a block is followed by a blank line.
            s.pop();
            for opt in &r.options {
                let text = self.option_lines(opt);
                match text.strip_prefix("RR: ") {
                    Some(same @ "\t(same route)\n") => s.push_str(same.trim_end()),
                    _ if text.is_empty() => {}
                    _ => {
                        s.push('\n');
                        s.push_str(&text);
                    }
                }
            }
            s.push('\n');
            return s;
        }
        for opt in &r.options {
            s.push_str(&self.option_lines(opt));
        }
        s
    }

    /// One line per port probe, hping3-like, with the answer's RR lines.
    fn port(&mut self, p: &PortResult) -> String {
        let mut s = format!("{}/{} {}", p.protocol, p.port, p.verdict);
        match (p.from, p.rtt_us) {
            (Some(from), Some(rtt)) => {
                s.push_str(&format!(" ({}) from {from}: seq={}", p.reason, p.seq));
                if let Some(f) = &p.flags {
                    s.push_str(&format!(" flags={f}"));
                }
                if let Some(t) = p.ttl {
                    s.push_str(&format!(" ttl={t}"));
                }
                if let (Some(t), Some(c)) = (p.icmp_type, p.icmp_code) {
                    s.push_str(&format!(" icmp={t}/{c}"));
                }
                s.push_str(&format!(" time={}\n", format_ms(rtt / 1e3)));
            }
            _ => s.push_str(&format!(" ({}): seq={}\n", p.reason, p.seq)),
        }
        for opt in &p.options {
            s.push_str(&self.option_lines(opt));
        }
        s
    }

    fn icmp_error(&self, e: &IcmpError) -> String {
        let mut s = format!("From {} icmp_seq={} {}", e.from, e.seq, e.description);
        if self.command != Some(Command::Ping) {
            s.push('\n');
            return s;
        }
        if let Some(d) = &e.detail {
            s.push_str(&format!(" ({d})"));
        }
        s.push('\n');
        for opt in &e.quoted_options {
            s.push_str(&format!("    quoted: {opt}\n"));
        }
        s
    }

    fn hop(&mut self, hop: &Hop) -> String {
        let mut line = format!("{:>2} ", hop.ttl);
        let mut last = None;
        for p in &hop.probes {
            match (p.from, p.rtt_us) {
                (Some(from), Some(rtt)) => {
                    if last != Some(from) {
                        let name = self
                            .names
                            .as_ref()
                            .and_then(|n| n.get(from, Duration::from_secs(2)));
                        let label = match name {
                            Some(name) => format!("{name} ({from})"),
                            None => from.to_string(),
                        };
                        line.push_str(&format!(" {label}"));
                        last = Some(from);
                    }
                    line.push_str(&format!("  {:.3} ms", rtt / 1e3));
                    if let Some(m) = &p.marker {
                        line.push_str(&format!(" {m}"));
                    }
                }
                _ => line.push_str(" *"),
            }
        }
        line.push('\n');
        if !self.ratelimit_hinted && hop.probes.iter().any(|p| p.from.is_none()) {
            // Once per trace: the usual reason for a `*` that is not a lost packet.
            self.ratelimit_hinted = true;
            line.push_str(
                "    (* = no answer in time; routers rate-limit the ICMP errors they send, \
                 net.ipv4.icmp_ratelimit on Linux, so a * is not always a loss)\n",
            );
        }
        if self.show_rr {
            if let Some(rr) = &hop.recorded_route {
                let list: Vec<String> = rr.iter().map(|a| a.to_string()).collect();
                line.push_str(&format!("     RR: {}\n", list.join(" ")));
            }
        }
        line
    }

    fn frame(&self, f: &Frame) -> String {
        let when = f
            .time_us
            .map(|t| time_of_day(Duration::from_micros(t)))
            .unwrap_or_default();
        // A frame the capture cut says so, as tcpdump's `[|proto]` does.
        let line = match f.captured {
            Some(kept) if f.truncated => format!(
                "{} [|truncated: {kept} of {} bytes captured]",
                f.summary, f.bytes
            ),
            _ => f.summary.clone(),
        };
        let mut s = match (self.command, f.direction) {
            (Some(Command::Send), Some(Direction::Out)) if self.quiet => return String::new(),
            (Some(Command::Send), Some(Direction::Out)) => format!("> {when} {line}\n"),
            (Some(Command::Send), _) => format!("< {when} {line}\n"),
            _ => format!("{when} {line}\n"),
        };
        let tree = match (self.command, f.direction) {
            (Some(Command::Send), Some(Direction::In)) => !self.quiet,
            _ => self.verbose,
        };
        if tree {
            if let Some(d) = &f.dissection {
                for l in render_text(d) {
                    s.push_str(&format!("    {l}\n"));
                }
            }
        }
        s
    }

    fn progress_line(&mut self, p: &Progress) {
        if !self.progress {
            return;
        }
        let loss = if p.sent > 0 {
            100.0 * p.sent.saturating_sub(p.received) as f64 / p.sent as f64
        } else {
            0.0
        };
        eprint!(
            "\r{:>7.1}s  tx {:>10.0}/s  rx {:>10.0}/s  sent {}  received {}  loss so far {loss:.2}%   ",
            p.elapsed_us / 1e6,
            p.tx_rate,
            p.rx_rate,
            p.sent,
            p.received
        );
        let _ = std::io::stderr().flush();
        self.progress_shown = true;
    }

    fn summary(&mut self, s: &Summary) -> String {
        if std::mem::take(&mut self.progress_shown) {
            eprintln!();
        }
        match (&s.totals, s.command) {
            (Totals::Probe(p), Command::Ping) => {
                let flood = self.flood.then(|| ipg_ewma(p, s.elapsed_us)).flatten();
                summary_text(p, s.elapsed_us, "ping", flood)
            }
            (Totals::Probe(p), Command::Rsol) => {
                let mut t = format!(
                    "\n--- {} router solicitation ---\n{} solicitations sent, {} advertisement(s) \
                     from {} router(s)\n",
                    p.dest,
                    p.sent,
                    p.received + p.duplicates,
                    p.routers.as_ref().map_or(0, Vec::len)
                );
                if p.received == 0 {
                    t.push_str(&no_answer_note(
                        Command::Rsol,
                        self.iface.as_deref().unwrap_or(""),
                        self.wait.unwrap_or_default(),
                    ));
                }
                t
            }
            (Totals::Probe(p), c) => {
                let mut t = summary_text(p, s.elapsed_us, &query_name(c).replace(' ', "-"), None);
                if p.received == 0 {
                    t.push_str(&no_answer_note(c, "", Duration::ZERO));
                }
                t
            }
            (Totals::Blast(b), _) => b.to_text(),
            (Totals::Reflect(c), _) => reflect_counters(c),
            // A file read (no interface): nothing, as tcpdump -r.
            (Totals::Frames(_), Command::Capture) if self.iface.is_none() => String::new(),
            (Totals::Frames(f), Command::Capture) => {
                eprintln!(
                    "{} frames captured, {} dropped by kernel",
                    f.received, f.dropped_by_kernel
                );
                String::new()
            }
            _ => String::new(),
        }
    }

    /// iputils `-O`: `no answer yet for icmp_seq=N` when request N had no answer when N+1
    /// left. Receive rings hand frames over in batches (up to a block retire later), so at
    /// sub-millisecond intervals an answer may be read after the next request left although
    /// it arrived before: whether it did is decided by the times (the answer's arrival against
    /// the next request's departure), and the line printed once that is known: when an
    /// answer that arrived later is read (frames are read in arrival order), at a timeout or
    /// the summary, or when a request leaves long after (a silent host). Requests further apart
    /// than the longest hold-back get the line at once.
    fn no_answer_lines(&mut self, ev: &Event, answered: Option<(u16, u64)>) {
        /// Longer than any receive block is held back: by then an earlier answer was read.
        const SETTLED_US: u64 = 200_000;
        let flush_before = match (ev, answered) {
            (_, Some((seq, t))) => {
                self.unanswered
                    .retain(|&(s, next)| !(s == seq && t <= next));
                t
            }
            (Event::Request(r), _) => {
                let gap = r.time_us.saturating_sub(self.last_request_us);
                self.last_request_us = r.time_us;
                if let Some((seq, false)) = self.last_request {
                    // Requests further apart than any hold-back: an answer that came before
                    // this one was read already, so the line is due now, as in iputils.
                    let next = if gap >= SETTLED_US { 0 } else { r.time_us };
                    self.unanswered.push((seq, next));
                }
                r.time_us.saturating_sub(SETTLED_US)
            }
            (Event::Timeout(_) | Event::Summary(_), _) => u64::MAX,
            _ => return,
        };
        self.unanswered.retain(|&(seq, next)| {
            if next < flush_before {
                println!("no answer yet for icmp_seq={seq}");
                false
            } else {
                true
            }
        });
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
}

/// The query's name in words, as its header and summary say it.
/// A reflector's counters, one a line.
fn reflect_counters(c: &pktforge::event::reflect::Counters) -> String {
    let rows = [
        ("frames seen", c.frames),
        ("ARP replies", c.arp_replies),
        ("echo replies", c.echo_replies),
        ("UDP echo replies", c.udp_echo_replies),
        ("timestamp replies", c.timestamp_replies),
        ("mask replies", c.mask_replies),
        ("router advertisements", c.advertisements),
        ("ignored (broadcast/multicast)", c.ignored_broadcast),
        ("ignored (not answered)", c.ignored_other),
        ("malformed or bad checksum", c.malformed),
        ("source route not exhausted", c.route_not_done),
        ("rate-limited", c.rate_limited),
        ("would amplify (dropped)", c.would_amplify),
        ("martian source (dropped)", c.martian),
        ("not our MAC (dropped)", c.not_our_mac),
        ("other VLAN (dropped)", c.other_vlan),
        ("echo replies in XDP", c.xdp_echo_replies),
        ("XDP replies not transmitted", c.xdp_tx_failed),
    ];
    let mut t = String::new();
    for (name, v) in rows {
        t.push_str(&format!("{name:>30}: {v}\n"));
    }
    t.push_str(&format!("{:>30}: {}\n", "echo answered in", c.mode));
    if let Some(why) = &c.xdp_unavailable {
        t.push_str(&format!("{:>30}: {why}\n", "not in XDP because"));
    }
    t
}

fn query_name(c: Command) -> &'static str {
    match c {
        Command::Timestamp => "timestamp",
        Command::Mask => "address mask",
        Command::Info => "information",
        Command::Rsol => "router solicitation",
        other => other.name(),
    }
}

/// Why nobody answered, in a sentence, for the queries modern stacks ignore.
fn no_answer_note(c: Command, iface: &str, wait: Duration) -> String {
    let s = match c {
        Command::Timestamp => {
            "No host answered the timestamp requests (firewalls often drop them).".into()
        }
        Command::Mask => "No host answered: Linux and most modern stacks do not answer address \
             mask requests (RFC 1122 3.2.2.9 makes it optional); `pktforge reflect --mask` does."
            .into(),
        Command::Info => "No host answered: information request/reply (15/16) is obsolete (RFC \
             1122 3.2.2.7) and modern stacks, Linux included, never answer it."
            .into(),
        Command::Rsol => format!(
            "No router advertised on {iface} within {} s (Linux routers send ICMP router \
             advertisements only when a daemon such as rdisc, or `pktforge reflect --advertise`, \
             runs).",
            wait.as_secs_f64()
        ),
        _ => return String::new(),
    };
    s + "\n"
}

/// A query answer's fields in words.
fn answer_text(a: &Answer) -> String {
    match a {
        Answer::Timestamp {
            originate_ms,
            receive_ms,
            transmit_ms,
            offset_us,
            nonstandard,
            ..
        } => format!(
            "orig={} recv={} xmit={} offset={:+.1} ms{}",
            stamp_of_day(*originate_ms),
            stamp_of_day(*receive_ms),
            stamp_of_day(*transmit_ms),
            offset_us / 1e3,
            if *nonstandard {
                " (non-standard timestamps)"
            } else {
                ""
            }
        ),
        Answer::Mask {
            mask,
            prefix_len: Some(p),
        } => format!("mask {mask} (/{p})"),
        Answer::Mask { mask, .. } => format!("mask {mask} (not contiguous)"),
        Answer::Info => "information reply".into(),
        Answer::RouterAdvertisement {
            lifetime_s,
            routers,
        } => {
            let mut s = format!(
                "router advertisement, lifetime {lifetime_s} s, {} address(es)",
                routers.len()
            );
            for r in routers {
                s.push_str(&format!(
                    "\n    router {}  preference {}",
                    r.address, r.preference
                ));
            }
            s
        }
        Answer::Echo { .. } => String::new(),
        _ => String::new(),
    }
}

/// ms since midnight UT as HH:MM:SS.mmm (UTC); the high bit marks a non-standard value.
pub fn stamp_of_day(ms: u32) -> String {
    time_of_day(Duration::from_millis(u64::from(ms & 0x7fff_ffff)))[..12].to_string()
}

/// `HH:MM:SS.uuuuuu` (UTC) of a time since the epoch (or since midnight), as tcpdump prints it.
pub fn time_of_day(d: Duration) -> String {
    let s = d.as_secs() % 86400;
    format!(
        "{:02}:{:02}:{:02}.{:06}",
        s / 3600,
        (s / 60) % 60,
        s % 60,
        d.subsec_micros()
    )
}

/// iputils' `ipg/ewma` for a flood: the mean gap between requests (the run's time over the
/// gaps) and the RTTs' moving average, when something was answered and more than one request
/// left.
fn ipg_ewma(p: &ProbeTotals, elapsed_us: f64) -> Option<String> {
    let ewma = p.ewma_us.filter(|_| p.sent > 1 && p.received > 0)?;
    // Whole microseconds, printed as iputils prints them (truncated, not rounded).
    let ipg = (p.active_us.unwrap_or(elapsed_us) / (p.sent - 1) as f64) as u64;
    let ewma = ewma as u64;
    Some(format!(
        "ipg/ewma {}.{:03}/{}.{:03} ms",
        ipg / 1000,
        ipg % 1000,
        ewma / 1000,
        ewma % 1000
    ))
}

/// iputils' closing statistics for any request/reply probe (`what`: "ping", "timestamp", ...).
fn summary_text(p: &ProbeTotals, elapsed_us: f64, what: &str, flood: Option<String>) -> String {
    let mut line = format!(
        "\n--- {} {what} statistics ---\n{} packets transmitted, {} received",
        p.dest, p.sent, p.received
    );
    if p.duplicates > 0 {
        line.push_str(&format!(", +{} duplicates", p.duplicates));
    }
    if p.errors > 0 {
        line.push_str(&format!(", +{} errors", p.errors));
    }
    line.push_str(&format!(
        ", {}% packet loss, time {}ms\n",
        format_g(p.loss_percent),
        (p.active_us.unwrap_or(elapsed_us) / 1e3) as u64
    ));
    // iputils' last line: the RTTs, then `pipe N` when more than one was in flight.
    let mut last = Vec::new();
    if let Some(r) = p.rtt_us {
        last.push(format!(
            "rtt min/avg/max/mdev = {:.3}/{:.3}/{:.3}/{:.3} ms",
            r.min / 1e3,
            r.avg / 1e3,
            r.max / 1e3,
            r.mdev / 1e3
        ));
    }
    if p.pipe > 1 {
        last.push(format!("pipe {}", p.pipe));
    }
    last.extend(flood);
    if !last.is_empty() {
        line.push_str(&last.join(", "));
        line.push('\n');
    }
    if p.bad_checksums > 0 {
        line.push_str(&format!(
            "{} replies with a bad checksum (not counted as received)\n",
            p.bad_checksums
        ));
    }
    if p.dropped_by_kernel > 0 {
        line.push_str(&format!(
            "{} frames dropped by the kernel before pktforge read them (receive buffer full)\n",
            p.dropped_by_kernel
        ));
    }
    line
}

/// iputils' interim statistics (SIGQUIT): `N/M packets, X% loss, min/avg/ewma/max = ... ms`.
fn progress_text(p: &pktforge::event::Progress) -> String {
    let mut s = format!(
        "{}/{} packets, {}% loss",
        p.received,
        p.sent,
        p.loss_percent.unwrap_or(0.0) as u64
    );
    if let (Some(r), Some(e)) = (p.rtt_us, p.ewma_us) {
        s.push_str(&format!(
            ", min/avg/ewma/max = {:.3}/{:.3}/{:.3}/{:.3} ms",
            r.min / 1e3,
            r.avg / 1e3,
            e / 1e3,
            r.max / 1e3
        ));
    }
    s
}

fn addr_lines(tag: &str, addrs: &[Ipv4Addr]) -> String {
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

    #[test]
    fn times_of_day() {
        assert_eq!(stamp_of_day(0), "00:00:00.000");
        assert_eq!(stamp_of_day(34_262_123), "09:31:02.123");
        assert_eq!(stamp_of_day(0x8000_0000 | 1_000), "00:00:01.000");
    }
}
