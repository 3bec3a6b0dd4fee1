//! Capture filters: a small tcpdump-like language compiled to a classic BPF program that the
//! kernel runs on every frame, so frames the user did not ask for never reach user space.
//! No I/O here.
//!
//! ```text
//! expr   := term ('or' term)*
//! term   := factor ('and' factor)*
//! factor := 'not' factor | '(' expr ')' | 'icmp' | 'arp' | 'ip'
//!         | 'host' ADDR | 'src' ADDR | 'dst' ADDR | 'icmp-type' N
//! ```
//! `host`/`src`/`dst` match IPv4 source/destination and ARP sender/target addresses.
//! `icmp-type` finds the ICMP header after any IP options (`ldx 4*([14]&0xf)`) and never
//! matches a non-first fragment. `&&`, `||` and `!` are accepted for `and`, `or`, `not`.
//! Untagged Ethernet frames only (Linux strips VLAN tags into metadata before the filter).

use std::fmt;
use std::net::Ipv4Addr;

use crate::link::bpf::{
    BpfInsn, JEQ_K, JSET_K, LDX_B_MSH, LD_B_ABS, LD_B_IND, LD_H_ABS, LD_W_ABS, MAX_INSNS, RET_K,
};
use crate::wire::{field, names, ETHERTYPE_ARP, ETHERTYPE_IPV4, IP_PROTO_ICMP, MAX_FRAG_OFFSET};
use crate::{Error, Result};

/// The grammar, shown with every parse error.
pub const GRAMMAR: &str = "filter grammar:
  expr   := term ('or' term)*
  term   := factor ('and' factor)*
  factor := 'not' factor | '(' expr ')' | 'icmp' | 'arp' | 'ip'
          | 'host' ADDR | 'src' ADDR | 'dst' ADDR | 'icmp-type' N
  N: 0..=255 or echo-reply, unreach, source-quench, redirect, echo-request, router-advert,
     router-solicit, time-exceeded, param-problem, timestamp, timestamp-reply, info-request,
     info-reply, mask-request, mask-reply
  e.g.  icmp and not host 192.0.2.1      arp or icmp-type echo-reply";

/// Bytes a matching frame keeps (all of it, up to 256 KiB).
const ACCEPT_LEN: u32 = 0x0004_0000;

/// Deepest expression accepted: each `not`, `(` and `and`/`or` adds one level. The parser,
/// the code generator, `Display` and `Drop` recurse once per level, so this bounds their stack
/// (a few KiB a level in a debug build); it is far beyond what a filter anyone writes needs
/// (a few dozen `host` tests in one chain already need jumps longer than classic BPF allows).
pub const MAX_DEPTH: usize = 64;

/// A parsed filter expression.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Expr {
    /// Either side.
    Or(Box<Expr>, Box<Expr>),
    /// Both sides.
    And(Box<Expr>, Box<Expr>),
    /// Not the inner expression.
    Not(Box<Expr>),
    /// IPv4 with protocol 1.
    Icmp,
    /// EtherType ARP.
    Arp,
    /// EtherType IPv4.
    Ip,
    /// IPv4 source or destination, or ARP sender or target.
    Host(Ipv4Addr),
    /// IPv4 source or ARP sender.
    Src(Ipv4Addr),
    /// IPv4 destination or ARP target.
    Dst(Ipv4Addr),
    /// ICMP (first fragment) of this type.
    IcmpType(u8),
}

impl fmt::Display for Expr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Expr::Or(a, b) => write!(f, "({a} or {b})"),
            Expr::And(a, b) => write!(f, "({a} and {b})"),
            Expr::Not(a) => write!(f, "not {a}"),
            Expr::Icmp => write!(f, "icmp"),
            Expr::Arp => write!(f, "arp"),
            Expr::Ip => write!(f, "ip"),
            Expr::Host(a) => write!(f, "host {a}"),
            Expr::Src(a) => write!(f, "src {a}"),
            Expr::Dst(a) => write!(f, "dst {a}"),
            Expr::IcmpType(t) => write!(f, "icmp-type {t}"),
        }
    }
}

/// A compiled filter: the expression (None = everything) and its BPF program.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Filter {
    /// What was parsed.
    pub expr: Option<Expr>,
    /// The program to attach.
    pub program: Vec<BpfInsn>,
}

impl Filter {
    /// Parse and compile `text` (empty: accept every frame).
    pub fn compile(text: &str) -> Result<Filter> {
        let expr = parse(text)?;
        match expr {
            Some(e) => Ok(Filter {
                program: compile(&e)?,
                expr: Some(e),
            }),
            None => Ok(Filter::everything()),
        }
    }

    /// The filter that accepts every frame.
    pub fn everything() -> Filter {
        Filter {
            expr: None,
            program: vec![BpfInsn::new(RET_K, 0, 0, ACCEPT_LEN)],
        }
    }

    /// Whether the program accepts `frame` (run in user space as the kernel would).
    pub fn matches(&self, frame: &[u8]) -> bool {
        crate::link::bpf::run(&self.program, frame).unwrap_or(0) > 0
    }
}

fn err(msg: String) -> Error {
    Error::Invalid(format!("filter: {msg}\n{GRAMMAR}"))
}

fn tokenize(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    for c in text.chars() {
        if c == '(' || c == ')' || c.is_whitespace() {
            if !cur.is_empty() {
                out.push(std::mem::take(&mut cur));
            }
            if !c.is_whitespace() {
                out.push(c.to_string());
            }
        } else if c == '!' && cur.is_empty() {
            out.push("not".into());
        } else {
            cur.push(c);
        }
    }
    if !cur.is_empty() {
        out.push(cur);
    }
    out.into_iter()
        .map(|t| match t.as_str() {
            "&&" => "and".into(),
            "||" => "or".into(),
            _ => t.to_ascii_lowercase(),
        })
        .collect()
}

/// Parse a filter expression; `None` for an empty one. Errors name the offending word and
/// show the grammar.
pub fn parse(text: &str) -> Result<Option<Expr>> {
    let toks = tokenize(text);
    if toks.is_empty() {
        return Ok(None);
    }
    let mut p = Parser {
        toks,
        at: 0,
        nest: 0,
    };
    let (e, _) = p.expr()?;
    if let Some(t) = p.toks.get(p.at) {
        return Err(err(format!("unexpected {t:?} after a complete expression")));
    }
    Ok(Some(e))
}

struct Parser {
    toks: Vec<String>,
    at: usize,
    /// `not`s and `(`s open around the current word.
    nest: usize,
}

fn too_deep() -> Error {
    err(format!(
        "expression nested deeper than {MAX_DEPTH} levels (each `not`, `(`, `and`, `or` adds \
         one)"
    ))
}

/// `op(a, b)` whose height is one more than its deeper side; refused over [`MAX_DEPTH`].
fn join(
    (a, ha): (Expr, usize),
    (b, hb): (Expr, usize),
    op: fn(Box<Expr>, Box<Expr>) -> Expr,
) -> Result<(Expr, usize)> {
    let h = ha.max(hb) + 1;
    if h > MAX_DEPTH {
        return Err(too_deep());
    }
    Ok((op(Box::new(a), Box::new(b)), h))
}

impl Parser {
    fn peek(&self) -> Option<&str> {
        self.toks.get(self.at).map(String::as_str)
    }

    fn next(&mut self, what: &str) -> Result<String> {
        let t = self
            .toks
            .get(self.at)
            .cloned()
            .ok_or_else(|| err(format!("expected {what} at the end")))?;
        self.at += 1;
        Ok(t)
    }

    // Each parsing function returns the expression and its height (a leaf is 1).

    fn expr(&mut self) -> Result<(Expr, usize)> {
        let mut e = self.term()?;
        while self.peek() == Some("or") {
            self.at += 1;
            e = join(e, self.term()?, Expr::Or)?;
        }
        Ok(e)
    }

    fn term(&mut self) -> Result<(Expr, usize)> {
        let mut e = self.factor()?;
        while self.peek() == Some("and") {
            self.at += 1;
            e = join(e, self.factor()?, Expr::And)?;
        }
        Ok(e)
    }

    /// Parse what follows a `not` or `(`, refusing to recurse past [`MAX_DEPTH`].
    fn nested<T>(&mut self, f: impl FnOnce(&mut Self) -> Result<T>) -> Result<T> {
        if self.nest >= MAX_DEPTH {
            return Err(too_deep());
        }
        self.nest += 1;
        let r = f(self);
        self.nest -= 1;
        r
    }

    fn addr(&mut self, word: &str) -> Result<Ipv4Addr> {
        let t = self.next(&format!("an IPv4 address after {word:?}"))?;
        t.parse()
            .map_err(|_| err(format!("{word:?} needs an IPv4 address, got {t:?}")))
    }

    fn factor(&mut self) -> Result<(Expr, usize)> {
        let t = self.next("a filter word")?;
        let leaf =
            match t.as_str() {
                "not" => {
                    let (e, h) = self.nested(Self::factor)?;
                    if h >= MAX_DEPTH {
                        return Err(too_deep());
                    }
                    return Ok((Expr::Not(Box::new(e)), h + 1));
                }
                "(" => {
                    let e = self.nested(Self::expr)?;
                    return match self.next("')'")?.as_str() {
                        ")" => Ok(e),
                        other => Err(err(format!("expected ')', got {other:?}"))),
                    };
                }
                "icmp" => Expr::Icmp,
                "arp" => Expr::Arp,
                "ip" => Expr::Ip,
                "host" => Expr::Host(self.addr("host")?),
                "src" => Expr::Src(self.addr("src")?),
                "dst" => Expr::Dst(self.addr("dst")?),
                "icmp-type" => {
                    let n = self.next("a type after \"icmp-type\"")?;
                    Expr::IcmpType(icmp_type(&n).ok_or_else(|| {
                        err(format!("icmp-type {n:?} is not 0..=255 or a type name"))
                    })?)
                }
                other => return Err(err(format!("unknown word {other:?}"))),
            };
        Ok((leaf, 1))
    }
}

fn icmp_type(s: &str) -> Option<u8> {
    names::icmp_type_by_keyword(s)
}

/// Absolute offsets in an untagged frame (the kernel strips VLAN tags before the filter runs),
/// from the views' field constants.
mod off {
    use crate::wire::field;
    use crate::wire::ETHERNET_HEADER_LEN;
    const L3: usize = ETHERNET_HEADER_LEN;
    pub const ETHERTYPE: u32 = field::ether::ETHERTYPE.start as u32;
    pub const IP: u32 = L3 as u32;
    pub const IP_PROTOCOL: u32 = (L3 + field::ipv4::PROTOCOL) as u32;
    pub const IP_FLG_OFF: u32 = (L3 + field::ipv4::FLG_OFF.start) as u32;
    pub const IP_SRC: u32 = (L3 + field::ipv4::SRC.start) as u32;
    pub const IP_DST: u32 = (L3 + field::ipv4::DST.start) as u32;
    pub const ARP_SPA: u32 = (L3 + field::arp::SPA.start) as u32;
    pub const ARP_TPA: u32 = (L3 + field::arp::TPA.start) as u32;
}

const IPV4: u32 = ETHERTYPE_IPV4 as u32;
const ARP: u32 = ETHERTYPE_ARP as u32;
const ICMP: u32 = IP_PROTO_ICMP as u32;

/// An instruction whose jump targets are labels, resolved when the program is laid out.
struct Pending {
    code: u16,
    k: u32,
    jt: Option<usize>,
    jf: Option<usize>,
}

#[derive(Default)]
struct Gen {
    code: Vec<Pending>,
    labels: Vec<Option<usize>>,
    /// Set when the expression is deeper than [`MAX_DEPTH`] (built by hand, not parsed).
    too_deep: bool,
}

impl Gen {
    fn label(&mut self) -> usize {
        self.labels.push(None);
        self.labels.len() - 1
    }

    fn place(&mut self, l: usize) {
        self.labels[l] = Some(self.code.len());
    }

    fn op(&mut self, code: u16, k: u32) {
        self.code.push(Pending {
            code,
            k,
            jt: None,
            jf: None,
        });
    }

    fn jmp(&mut self, code: u16, k: u32, jt: Option<usize>, jf: Option<usize>) {
        self.code.push(Pending { code, k, jt, jf });
    }

    /// Emit code for `e`, `depth` levels down, that jumps to `t` when it matches and to `f`
    /// when not.
    fn expr(&mut self, e: &Expr, depth: usize, t: usize, f: usize) {
        if depth > MAX_DEPTH {
            self.too_deep = true;
            return;
        }
        let d = depth + 1;
        match e {
            Expr::Or(a, b) => {
                let l = self.label();
                self.expr(a, d, t, l);
                self.place(l);
                self.expr(b, d, t, f);
            }
            Expr::And(a, b) => {
                let l = self.label();
                self.expr(a, d, l, f);
                self.place(l);
                self.expr(b, d, t, f);
            }
            Expr::Not(a) => self.expr(a, d, f, t),
            Expr::Ip => {
                self.op(LD_H_ABS, off::ETHERTYPE);
                self.jmp(JEQ_K, IPV4, Some(t), Some(f));
            }
            Expr::Arp => {
                self.op(LD_H_ABS, off::ETHERTYPE);
                self.jmp(JEQ_K, ARP, Some(t), Some(f));
            }
            Expr::Icmp => {
                self.op(LD_H_ABS, off::ETHERTYPE);
                self.jmp(JEQ_K, IPV4, None, Some(f));
                self.op(LD_B_ABS, off::IP_PROTOCOL);
                self.jmp(JEQ_K, ICMP, Some(t), Some(f));
            }
            Expr::IcmpType(n) => {
                self.op(LD_H_ABS, off::ETHERTYPE);
                self.jmp(JEQ_K, IPV4, None, Some(f));
                self.op(LD_B_ABS, off::IP_PROTOCOL);
                self.jmp(JEQ_K, ICMP, None, Some(f));
                self.op(LD_H_ABS, off::IP_FLG_OFF);
                self.jmp(JSET_K, u32::from(MAX_FRAG_OFFSET), Some(f), None);
                // X = 4 × IHL, read at the IPv4 header's first byte; the type is X bytes on.
                self.op(LDX_B_MSH, off::IP);
                self.op(LD_B_IND, off::IP + field::icmp::TYPE as u32);
                self.jmp(JEQ_K, u32::from(*n), Some(t), Some(f));
            }
            Expr::Host(a) => self.addr(
                *a,
                &[off::IP_SRC, off::IP_DST],
                &[off::ARP_SPA, off::ARP_TPA],
                t,
                f,
            ),
            Expr::Src(a) => self.addr(*a, &[off::IP_SRC], &[off::ARP_SPA], t, f),
            Expr::Dst(a) => self.addr(*a, &[off::IP_DST], &[off::ARP_TPA], t, f),
        }
    }

    /// Match `a` at any of `ip_at` in IPv4 frames or `arp_at` in ARP frames.
    fn addr(&mut self, a: Ipv4Addr, ip_at: &[u32], arp_at: &[u32], t: usize, f: usize) {
        let k = u32::from(a);
        let arp = self.label();
        self.op(LD_H_ABS, off::ETHERTYPE);
        self.jmp(JEQ_K, IPV4, None, Some(arp));
        for (i, &at) in ip_at.iter().enumerate() {
            self.op(LD_W_ABS, at);
            let last = i + 1 == ip_at.len();
            self.jmp(JEQ_K, k, Some(t), if last { Some(f) } else { None });
        }
        self.place(arp);
        // A still holds the EtherType here.
        self.jmp(JEQ_K, ARP, None, Some(f));
        for (i, &at) in arp_at.iter().enumerate() {
            self.op(LD_W_ABS, at);
            let last = i + 1 == arp_at.len();
            self.jmp(JEQ_K, k, Some(t), if last { Some(f) } else { None });
        }
    }
}

/// Compile an expression to a classic BPF program: accept (256 KiB) or drop.
pub fn compile(e: &Expr) -> Result<Vec<BpfInsn>> {
    let mut g = Gen::default();
    let (t, f) = (g.label(), g.label());
    g.expr(e, 1, t, f);
    if g.too_deep {
        return Err(too_deep());
    }
    g.place(t);
    g.op(RET_K, ACCEPT_LEN);
    g.place(f);
    g.op(RET_K, 0);
    if g.code.len() > MAX_INSNS {
        return Err(err(format!(
            "the program needs {} instructions, the kernel takes at most {MAX_INSNS}",
            g.code.len()
        )));
    }
    let labels = g.labels;
    g.code
        .iter()
        .enumerate()
        .map(|(i, p)| {
            let off = |l: Option<usize>| -> Result<u8> {
                let Some(l) = l else { return Ok(0) };
                let to = labels[l].expect("every label is placed");
                let d = to - (i + 1);
                u8::try_from(d).map_err(|_| {
                    err(format!(
                        "too complex: a jump over {d} instructions exceeds the 255 classic BPF allows"
                    ))
                })
            };
            Ok(BpfInsn::new(p.code, off(p.jt)?, off(p.jf)?, p.k))
        })
        .collect()
}

#[cfg(test)]
mod tests;
