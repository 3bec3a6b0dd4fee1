//! The capture filter front end: any text (of any length or nesting) compiles or is refused
//! with an error, never a stack overflow; a compiled program is valid classic BPF, its
//! expression prints back to itself, and on a frame it decides what a direct evaluation of
//! the expression (with the kernel's rule that a load past the end drops) decides.
//!
//! Input: filter text, then optionally a NUL byte and a frame to run it on. Text starting
//! with `*` is also compiled repeated to 4,096 bytes, to reach deep nesting from short input.
#![no_main]
use pktforge::filter::{parse, Expr, Filter};
use pktforge::link::bpf::{self, MAX_INSNS, RET_K};

/// The expression evaluated on the frame's bytes as the compiler documents it, loads in the
/// order the program makes them; `None` when a load falls outside the frame (dropped).
fn eval(e: &Expr, f: &[u8]) -> Option<bool> {
    let h = |at: usize| f.get(at..at + 2).map(|b| u16::from_be_bytes([b[0], b[1]]));
    let w = |at: usize| {
        f.get(at..at + 4)
            .map(|b| u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
    };
    let addr = |a: std::net::Ipv4Addr, ip: &[usize], arp: &[usize]| -> Option<bool> {
        let et = h(12)?;
        let at = match et {
            0x0800 => ip,
            0x0806 => arp,
            _ => return Some(false),
        };
        for &o in at {
            if w(o)? == u32::from(a) {
                return Some(true);
            }
        }
        Some(false)
    };
    Some(match e {
        Expr::Or(a, b) => eval(a, f)? || eval(b, f)?,
        Expr::And(a, b) => eval(a, f)? && eval(b, f)?,
        Expr::Not(a) => !eval(a, f)?,
        Expr::Ip => h(12)? == 0x0800,
        Expr::Arp => h(12)? == 0x0806,
        Expr::Icmp => h(12)? == 0x0800 && *f.get(23)? == 1,
        Expr::IcmpType(t) => {
            if h(12)? != 0x0800 || *f.get(23)? != 1 || h(20)? & 0x1fff != 0 {
                false
            } else {
                let ihl = usize::from(*f.get(14)? & 0x0f) * 4;
                *f.get(14 + ihl)? == *t
            }
        }
        Expr::Host(a) => addr(*a, &[26, 30], &[28, 38])?,
        Expr::Src(a) => addr(*a, &[26], &[28])?,
        Expr::Dst(a) => addr(*a, &[30], &[38])?,
    })
}

fn check(text: &str, frame: &[u8]) {
    let Ok(filter) = Filter::compile(text) else {
        return;
    };
    let p = &filter.program;
    assert!(!p.is_empty() && p.len() <= MAX_INSNS);
    assert_eq!(
        p.last().map(|i| i.code),
        Some(RET_K),
        "program does not end in a return"
    );
    for (i, insn) in p.iter().enumerate().filter(|(_, x)| x.code != RET_K) {
        let reach = i + 1 + usize::from(insn.jt.max(insn.jf));
        assert!(reach < p.len(), "insn {i} jumps past the end: {text:?}");
    }
    let verdict = bpf::run(p, frame).expect("a compiled program runs") > 0;
    assert_eq!(verdict, filter.matches(frame));
    let Some(e) = &filter.expr else {
        assert!(verdict, "the empty filter accepts everything");
        return;
    };
    let shown = e.to_string();
    assert_eq!(
        parse(&shown).expect("a printed expression parses").as_ref(),
        Some(e),
        "{text:?} printed as {shown:?} parses differently"
    );
    assert_eq!(
        verdict,
        eval(e, frame).unwrap_or(false),
        "BPF and the expression disagree on {}: {shown}",
        pktforge_fuzz::hex(frame)
    );
}

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let (text, frame) = match data.iter().position(|&b| b == 0) {
        Some(i) => (&data[..i], &data[i + 1..]),
        None => (data, &[][..]),
    };
    let text = String::from_utf8_lossy(text);
    check(&text, frame);
    if let Some(rest) = text.strip_prefix('*') {
        if !rest.is_empty() {
            let long = rest.repeat(4096 / rest.len() + 1);
            let _ = Filter::compile(&long);
        }
    }
});
