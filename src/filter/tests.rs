use super::*;
use crate::wire::testutil::{self, hex};
use crate::wire::{build_arp_frame, ArpRepr, MacAddr};

fn ip(s: &str) -> Ipv4Addr {
    s.parse().unwrap()
}

/// Real frames: echo request with 40 option bytes (ICMP at 14 + 60), echo reply, a Source
/// Route Failed error, an ARP request, and the same echo turned into UDP and into a fragment.
fn corpus() -> Vec<(&'static str, Vec<u8>)> {
    let rr_req = hex(testutil::RR_REQUEST);
    let mut udp = rr_req.clone();
    udp[23] = 17;
    let mut frag = hex(testutil::SSRR_REQUEST);
    frag[20] |= 0x01; // fragment offset 256: no ICMP header in this fragment
    let arp = build_arp_frame(
        MacAddr::new(2, 0, 0, 0, 0, 1),
        MacAddr::broadcast(),
        &ArpRepr::request(
            MacAddr::new(2, 0, 0, 0, 0, 1),
            ip("192.0.2.2"),
            ip("192.0.2.1"),
        ),
    );
    let mut ipv6 = rr_req.clone();
    ipv6[12..14].copy_from_slice(&[0x86, 0xdd]);
    vec![
        ("rr_req", rr_req),
        ("rr_reply", hex(testutil::RR_REPLY)),
        ("sr_failed", hex(testutil::SR_FAILED)),
        ("arp", arp),
        ("udp", udp),
        ("frag", frag),
        ("ipv6", ipv6),
        ("runt", vec![0u8; 10]),
    ]
}

fn accepted(f: &str) -> Vec<&'static str> {
    let filt = Filter::compile(f).unwrap();
    corpus()
        .into_iter()
        .filter(|(_, b)| filt.matches(b))
        .map(|(n, _)| n)
        .collect()
}

#[test]
fn primitives_on_real_frames() {
    assert_eq!(
        accepted("icmp"),
        ["rr_req", "rr_reply", "sr_failed", "frag"]
    );
    assert_eq!(accepted("arp"), ["arp"]);
    assert_eq!(
        accepted("ip"),
        ["rr_req", "rr_reply", "sr_failed", "udp", "frag"]
    );
    // The type byte sits after 40 option bytes in rr_req/rr_reply: found through 4*([14]&0xf).
    assert_eq!(accepted("icmp-type 8"), ["rr_req"]);
    assert_eq!(accepted("icmp-type echo-reply"), ["rr_reply"]);
    assert_eq!(accepted("icmp-type 3"), ["sr_failed"]);
    assert_eq!(accepted("host 192.0.2.1"), ["sr_failed", "arp", "frag"]);
    assert_eq!(accepted("src 192.0.2.2"), ["rr_req", "arp", "udp", "frag"]);
    assert_eq!(accepted("dst 192.0.2.2"), ["rr_reply", "sr_failed"]);
    assert_eq!(
        accepted(""),
        corpus().iter().map(|c| c.0).collect::<Vec<_>>()
    );
}

#[test]
fn combinations_and_precedence() {
    assert_eq!(
        accepted("icmp and not icmp-type 8"),
        ["rr_reply", "sr_failed", "frag"]
    );
    assert_eq!(accepted("arp or icmp-type 0"), ["rr_reply", "arp"]);
    // 'and' binds tighter than 'or'.
    assert_eq!(
        accepted("arp or icmp and dst 192.0.2.2"),
        ["rr_reply", "sr_failed", "arp"]
    );
    assert_eq!(
        accepted("(arp or icmp) and dst 192.0.2.2"),
        ["rr_reply", "sr_failed"]
    );
    // A load past the end drops the frame whatever the logic (kernel semantics): the runt is
    // never accepted, not even by a negation.
    assert_eq!(accepted("! ip && ! arp"), ["ipv6"]);
    assert_eq!(accepted("not not arp"), ["arp"]);
    assert_eq!(
        parse("icmp or arp and not ip")
            .unwrap()
            .unwrap()
            .to_string(),
        "(icmp or (arp and not ip))"
    );
}

#[test]
fn errors_show_the_grammar() {
    for (f, needle) in [
        ("tcp", "unknown word \"tcp\""),
        ("icmp and", "expected a filter word at the end"),
        (
            "host 1.2.3",
            "\"host\" needs an IPv4 address, got \"1.2.3\"",
        ),
        ("icmp-type 256", "icmp-type \"256\" is not 0..=255"),
        ("(icmp", "expected ')' at the end"),
        ("icmp arp", "unexpected \"arp\""),
    ] {
        let e = Filter::compile(f).unwrap_err().to_string();
        assert!(e.contains(needle), "{f}: {e}");
        assert!(e.contains("factor := 'not' factor"), "{f}: {e}");
    }
}

#[test]
fn long_expressions_compile_or_are_refused_by_name() {
    let many = vec!["host 192.0.2.1"; 20].join(" or ");
    let f = Filter::compile(&many).unwrap();
    assert!(f.matches(&hex(testutil::SR_FAILED)));
    let huge = vec!["host 192.0.2.1"; 40].join(" and ");
    let e = Filter::compile(&huge).unwrap_err().to_string();
    assert!(e.contains("exceeds the 255 classic BPF allows"), "{e}");
}

/// Regression: 20,000 `!` before `icmp` overflowed the stack (the parser recursed once per
/// `not`); found by the CLI, then by the `filter` fuzz target. Now refused by name, on a thread
/// with a small stack so a recursion that is merely bounded but large would still fail here.
#[test]
fn deep_nesting_is_refused_not_a_stack_overflow() {
    let t = std::thread::Builder::new()
        .stack_size(512 * 1024)
        .spawn(|| {
            for text in [
                format!("{}icmp", "!".repeat(20_000)),
                format!("{}icmp{}", "(".repeat(20_000), ")".repeat(20_000)),
                format!("{}icmp", "not ".repeat(MAX_DEPTH + 1)),
                vec!["ip"; MAX_DEPTH + 1].join(" or "),
                vec!["ip"; 20_000].join(" and "),
            ] {
                let e = Filter::compile(&text).unwrap_err().to_string();
                assert!(
                    e.contains(&format!("nested deeper than {MAX_DEPTH} levels")),
                    "{e}"
                );
            }
            // At the limit it still works: `not` generates no code.
            let f = Filter::compile(&format!("{}icmp", "not ".repeat(MAX_DEPTH - 1))).unwrap();
            assert!(!f.matches(&hex(testutil::RR_REQUEST)), "odd number of nots");
            let many_parens = format!("{}arp{}", "(".repeat(MAX_DEPTH), ")".repeat(MAX_DEPTH));
            assert_eq!(
                parse(&many_parens).unwrap(),
                Some(Expr::Arp),
                "parentheses only"
            );
            // A hand-built expression deeper than the parser allows is refused by compile().
            let mut deep = Expr::Icmp;
            for _ in 0..MAX_DEPTH + 1 {
                deep = Expr::Not(Box::new(deep));
            }
            assert!(compile(&deep)
                .unwrap_err()
                .to_string()
                .contains("nested deeper"));
        })
        .unwrap();
    t.join().unwrap();
}
