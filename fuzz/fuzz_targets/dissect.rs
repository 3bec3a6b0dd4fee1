//! The dissector: every field lies inside the frame, and the text and JSON output (and the
//! one-line summary) are bounded by a constant times the frame size.
#![no_main]
use pktforge::dissect::{dissect_frame, hexdump_beside, render_text, summary, OneLine};

/// Output bytes allowed per frame byte, plus a fixed allowance (an empty frame still says
/// why). The densest input measured (one-byte NOP options, nested quotes at the depth limit)
/// is well under this.
const PER_BYTE: usize = 200;
const FIXED: usize = 4096;

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let d = dissect_frame(data);
    assert_eq!(d.len, data.len());
    for n in d.nodes() {
        let end = n.offset.checked_add(n.len);
        assert!(
            end.is_some_and(|e| e <= data.len()),
            "field {} at {}+{} is outside the {}-byte frame {}",
            n.key,
            n.offset,
            n.len,
            data.len(),
            pktforge_fuzz::hex(data)
        );
    }
    let bound = FIXED + PER_BYTE * data.len();
    let lines = render_text(&d);
    let text: usize = lines.iter().map(|l| l.len() + 1).sum();
    let json = serde_json::to_string(&d)
        .expect("a dissection serialises")
        .len();
    let one = summary(data).len();
    assert!(
        text <= bound && json <= bound && one <= bound,
        "output not linear: {text} text / {json} JSON / {one} summary bytes for a {}-byte frame",
        data.len()
    );
    let _ = hexdump_beside(data, &lines);
    // The tcpdump-style line (IPv6 extension headers, ICMPv6 quotes, NDP options), all forms.
    for (v, e) in [(false, false), (true, false), (true, true)] {
        let line = OneLine::new(v, e).ethernet(data, data.len());
        assert!(
            line.len() <= bound,
            "one-liner not linear: {} bytes",
            line.len()
        );
    }
});
