//! The capture filter front end: any text (of any length or nesting) compiles through libpcap
//! or is refused with an error, never a crash or a stack overflow; a compiled program is valid
//! classic BPF (ends in a return, every jump lands inside it), and on a frame our interpreter
//! decides what the kernel would (`Filter::matches`, run instruction by instruction).
//!
//! Input: filter text, then optionally a NUL byte and a frame to run it on. Text starting
//! with `*` is also compiled repeated to 4,096 bytes, to reach deep nesting from short input.
#![no_main]
use pktforge::filter::Filter;
use pktforge::link::bpf::{self, MAX_INSNS, RET_K};

fn check(text: &str, frame: &[u8]) {
    let Ok(filter) = Filter::compile(text) else {
        return;
    };
    let p = &filter.program;
    assert!(!p.is_empty() && p.len() <= MAX_INSNS);
    assert!(
        p.iter().any(|i| i.code & 0x07 == 0x06),
        "program has no return: {text:?}"
    );
    let last = p.last().map(|i| i.code & 0x07);
    assert!(
        last == Some(0x06),
        "program does not end in a return: {text:?} ({last:?}, RET_K {RET_K})"
    );
    for (i, insn) in p.iter().enumerate() {
        // Conditional jumps (class JMP, not JA) land inside the program.
        if insn.code & 0x07 == 0x05 && insn.code & 0xf0 != 0x00 {
            let reach = i + 1 + usize::from(insn.jt.max(insn.jf));
            assert!(reach < p.len(), "insn {i} jumps past the end: {text:?}");
        }
    }
    let verdict = bpf::run(p, frame).map(|n| n > 0).unwrap_or(false);
    assert_eq!(verdict, filter.matches(frame), "{text:?}");
    if filter.is_everything() {
        assert!(filter.matches(frame), "the empty filter accepts everything");
    }
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
