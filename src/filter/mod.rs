//! Capture filters in tcpdump's language (`pcap-filter(7)`), compiled by libpcap to a classic
//! BPF program that the kernel runs on every frame, so frames the user did not ask for never
//! reach user space. The same program runs in user space ([`Filter::matches`]) where the
//! kernel cannot see what the filter needs (VLAN tags the kernel moved into metadata).
//!
//! Programs are compiled for Ethernet (`DLT_EN10MB`) frames, as every link here delivers them.
//! libpcap's parser keeps its own heap stack (it refuses too-deep input with "memory
//! exhausted"), and its code generator is superlinear in the expression's size, so input is
//! bounded before it gets there ([`MAX_FILTER_LEN`], [`MAX_NESTING`]).
//!
//! The compiler (`Filter::compile`, `Filter::compile_for`, `Filter::or`) needs the
//! `pcap-filter` cargo feature (on with the default `cli` feature), which links libpcap.
//! Without it, [`Filter`] is still the type captures take: [`Filter::everything`], or a
//! program of your own ([`BpfInsn`]s) in its public fields.

use std::fmt::Write as _;

#[cfg(feature = "pcap-filter")]
use crate::link::bpf::MAX_INSNS;
use crate::link::bpf::{self, RET_K};
pub use crate::link::bpf::{BpfInsn, ACCEPT_LEN};
use crate::Error;
#[cfg(feature = "pcap-filter")]
use crate::Result;

/// Longest filter expression compiled, in bytes (a 4,096-byte expression compiles in seconds;
/// the time grows faster than the length).
pub const MAX_FILTER_LEN: usize = 4096;

/// Deepest nesting of parentheses and negations compiled.
pub const MAX_NESTING: usize = 256;

/// The snapshot length libpcap's dead handles compile with (`ret #65535`); rewritten to
/// [`ACCEPT_LEN`].
#[cfg(feature = "pcap-filter")]
const DEAD_SNAPLEN: u32 = 65535;

/// A compiled filter: the expression as typed (None = everything) and its BPF program.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Filter {
    /// The expression, as typed.
    pub text: Option<String>,
    /// The program to attach.
    pub program: Vec<BpfInsn>,
}

impl Filter {
    #[cfg(feature = "pcap-filter")]
    /// Compile `text` (tcpdump syntax; empty or blank: accept every frame). A bad expression
    /// is an error carrying libpcap's message.
    pub fn compile(text: &str) -> Result<Filter> {
        Filter::compile_for(text, crate::link::capfile::LINKTYPE_ETHERNET)
    }

    #[cfg(feature = "pcap-filter")]
    /// Compile `text` for frames of `linktype` (a capture file's: 1 Ethernet, 113 Linux SLL,
    /// 276 SLL2…). A filter that needs what that link type lacks (`ether host` on SLL) is an
    /// error with libpcap's message.
    pub fn compile_for(text: &str, linktype: u32) -> Result<Filter> {
        if text.trim().is_empty() {
            return Ok(Filter::everything());
        }
        check_bounds(text)?;
        let program = compile_pcap(text, linktype)?;
        Ok(Filter {
            text: Some(text.to_string()),
            program,
        })
    }

    /// The filter that accepts every frame.
    pub fn everything() -> Filter {
        Filter {
            text: None,
            program: vec![BpfInsn::new(RET_K, 0, 0, ACCEPT_LEN)],
        }
    }

    /// Whether this filter accepts every frame.
    pub fn is_everything(&self) -> bool {
        self.text.is_none()
    }

    #[cfg(feature = "pcap-filter")]
    /// This filter or'ed with `other` (tcpdump syntax), e.g. to let ARP through as well.
    pub fn or(&self, other: &str) -> Result<Filter> {
        match &self.text {
            None => Ok(self.clone()),
            Some(t) => {
                let mut f = Filter::compile(&format!("({t}) or ({other})"))?;
                f.text = Some(t.clone());
                Ok(f)
            }
        }
    }

    /// Whether the program accepts `frame` (run in user space as the kernel would).
    pub fn matches(&self, frame: &[u8]) -> bool {
        bpf::run(&self.program, frame).unwrap_or(0) > 0
    }

    /// Whether the program accepts a record of which `frame` was kept of `wire_len` bytes
    /// (`len`, `greater` and `less` see the original length, as in libpcap).
    pub fn matches_record(&self, frame: &[u8], wire_len: usize) -> bool {
        bpf::run_len(&self.program, frame, wire_len).unwrap_or(0) > 0
    }

    /// The program as `tcpdump -d` prints it, one instruction a line.
    pub fn dump(&self) -> String {
        let mut s = String::new();
        for (i, insn) in self.program.iter().enumerate() {
            let _ = writeln!(s, "{}", bpf::image(insn, i));
        }
        s
    }
}

/// Refuse expressions too long or too deeply nested to compile in bounded time and stack
/// (the error shows the expression's start only).
#[cfg(feature = "pcap-filter")]
fn check_bounds(text: &str) -> Result<()> {
    let start = || match text.char_indices().nth(40) {
        Some((i, _)) => format!("{}…", &text[..i]),
        None => text.to_string(),
    };
    if text.len() > MAX_FILTER_LEN {
        return Err(Error::Filter {
            expression: start(),
            reason: format!(
                "{} bytes long, at most {MAX_FILTER_LEN} are compiled",
                text.len()
            ),
        });
    }
    // Nesting: open parentheses plus the negations in a row before a primitive.
    let (mut depth, mut deepest, mut nots) = (0usize, 0usize, 0usize);
    let mut chars = text.chars().peekable();
    let mut word = String::new();
    let flush = |word: &mut String, nots: &mut usize| {
        if word == "not" {
            *nots += 1;
        } else if !word.is_empty() {
            *nots = 0;
        }
        word.clear();
    };
    while let Some(c) = chars.next() {
        match c {
            '(' => {
                flush(&mut word, &mut nots);
                depth += 1;
            }
            ')' => {
                flush(&mut word, &mut nots);
                depth = depth.saturating_sub(1);
            }
            '!' if chars.peek() != Some(&'=') => {
                flush(&mut word, &mut nots);
                nots += 1;
            }
            c if c.is_whitespace() => flush(&mut word, &mut nots),
            c => word.push(c),
        }
        deepest = deepest.max(depth + nots);
    }
    flush(&mut word, &mut nots);
    if deepest > MAX_NESTING {
        return Err(Error::Filter {
            expression: start(),
            reason: format!(
                "nested {deepest} deep (parentheses and negations), at most {MAX_NESTING}"
            ),
        });
    }
    Ok(())
}

#[cfg(feature = "pcap-filter")]
/// libpcap's compiler on a dead handle of `linktype`, optimised like tcpdump's default.
fn compile_pcap(text: &str, linktype: u32) -> Result<Vec<BpfInsn>> {
    let bad = |reason: String| Error::Filter {
        expression: text.to_string(),
        reason,
    };
    let lt = i32::try_from(linktype).map_err(|_| bad(format!("link type {linktype}")))?;
    let dead = pcap::Capture::dead(pcap::Linktype(lt)).map_err(|e| bad(format!("libpcap: {e}")))?;
    let prog = dead.compile(text, true).map_err(|e| {
        bad(match e {
            pcap::Error::PcapError(m) => m,
            pcap::Error::MalformedError(_) => "contains a NUL byte".to_string(),
            e => e.to_string(),
        })
    })?;
    let program: Vec<BpfInsn> = prog
        .get_instructions()
        .iter()
        .map(|i| parse_insn(&i.to_string()))
        .collect::<Option<_>>()
        .ok_or_else(|| bad("libpcap returned an unreadable program".into()))?;
    if program.len() > MAX_INSNS {
        return Err(bad(format!(
            "the program needs {} instructions, the kernel takes at most {MAX_INSNS}",
            program.len()
        )));
    }
    Ok(program
        .into_iter()
        .map(|mut i| {
            if i.code == RET_K && i.k == DEAD_SNAPLEN {
                i.k = ACCEPT_LEN;
            }
            i
        })
        .collect())
}

#[cfg(feature = "pcap-filter")]
/// One instruction from the pcap crate's `code jt jf k` rendering (its fields are private).
fn parse_insn(s: &str) -> Option<BpfInsn> {
    let mut it = s.split_whitespace();
    let code = it.next()?.parse().ok()?;
    let jt = it.next()?.parse().ok()?;
    let jf = it.next()?.parse().ok()?;
    let k = it.next()?.parse().ok()?;
    it.next().is_none().then(|| BpfInsn::new(code, jt, jf, k))
}

/// The error for a filter expression in a build without the `pcap-filter` feature.
#[cfg(not(feature = "pcap-filter"))]
pub(crate) fn no_compiler(text: &str) -> Error {
    Error::Filter {
        expression: text.to_string(),
        reason: "filter expressions are compiled by libpcap, and this build of pktforge has \
                 no `pcap-filter` feature"
            .into(),
    }
}

#[cfg(all(test, feature = "pcap-filter"))]
mod tests;
