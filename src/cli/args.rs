//! The argument groups several subcommands share (clap derive), and the parsers of flag values.
//! Values are checked here only for their form; the library checks what they mean.

use std::net::Ipv4Addr;
use std::path::PathBuf;

use clap::Args;

use pktforge::craft::options::TimestampMode;
use pktforge::wire::VlanStack;
use pktforge::Error;

/// The flags every probe shares: IP options, interface and addresses, VLAN tags, output.
#[derive(Debug, Args, Clone)]
pub struct ProbeArgs {
    /// IP options.
    #[command(flatten)]
    pub ip_options: IpOptionArgs,
    /// Interface and addresses.
    #[command(flatten)]
    pub link: LinkArgs,
    /// VLAN tags.
    #[command(flatten)]
    pub vlan: VlanArgs,
    /// Output.
    #[command(flatten)]
    pub output: OutputArgs,
}

/// IP option flags shared by every probe.
#[derive(Debug, Args, Clone)]
pub struct IpOptionArgs {
    /// Record route (RR, as many slots as fit: 9 alone); the route is shown as RR: lines.
    #[arg(short = 'R', long = "record-route")]
    pub record_route: bool,
    /// Loose source route through HOP[,HOP...] (at most 9): IP destination = first hop.
    #[arg(long = "lsrr", value_name = "HOP[,HOP...]", conflicts_with = "ssrr")]
    pub lsrr: Option<String>,
    /// Strict source route through HOP[,HOP...] (at most 9): each hop adjacent to the last.
    #[arg(long = "ssrr", value_name = "HOP[,HOP...]")]
    pub ssrr: Option<String>,
    /// Timestamp option: tsonly | tsandaddr | tsprespec=ADDR[,ADDR...].
    #[arg(long = "timestamp", value_name = "MODE")]
    pub timestamp: Option<String>,
    /// Raw option bytes in hex (type, length, data), emitted verbatim; repeatable.
    #[arg(long = "ip-option", value_name = "HEX")]
    pub ip_option: Vec<String>,
}

/// Interface and address overrides shared by every probe.
#[derive(Debug, Args, Clone)]
pub struct LinkArgs {
    /// Send on this interface (default: the one the kernel routes DEST through).
    #[arg(short = 'I', long = "interface", value_name = "IFACE")]
    pub iface: Option<String>,
    /// Source address (default: the interface's; any address may be given; IPv6 for
    /// `craft -6`/`send -6`).
    #[arg(long = "src", value_name = "ADDR")]
    pub src: Option<std::net::IpAddr>,
    /// Ethernet source address (default: the interface's).
    #[arg(long = "src-mac", value_name = "MAC")]
    pub src_mac: Option<String>,
    /// Ethernet destination (default: the next hop's, from the neighbour cache or ARP).
    #[arg(long = "dst-mac", value_name = "MAC")]
    pub dst_mac: Option<String>,
    /// Seconds to wait for an ARP reply from the next hop.
    #[arg(long = "arp-timeout", value_name = "SECS", default_value_t = 2.0)]
    pub arp_timeout: f64,
    /// Link implementation: fast (Linux TX/RX rings, the default on Linux) or pnet (portable,
    /// one syscall per frame).
    #[arg(long = "backend", value_name = "pnet|fast", default_value_t = pktforge::link::Backend::default())]
    pub backend: pktforge::link::Backend,
}

/// The VLAN tag stack flag shared by `craft`, `send` and every probe.
#[derive(Debug, Args, Clone, Default)]
pub struct VlanArgs {
    /// Ethernet: add a VLAN tag ID[:PCP[:DEI]][@TPID]; repeat for a stack, outermost first
    /// (QinQ: --vlan 200 --vlan 20). ID 0..=4095 (4095 is reserved: built, with a warning),
    /// PCP 0..=7 (default 0), DEI 0|1 (default 0);
    /// TPID q or 802.1q (0x8100), ad or 802.1ad (0x88a8), or any hex value (0x9100). Without
    /// @TPID a single or the innermost tag is 802.1Q and every outer one 802.1ad. At most 8
    /// tags. Probes, send --wait and ARP then take only frames carrying this same stack (TPID
    /// and ID per tag; priorities may differ); without --vlan only untagged frames.
    #[arg(long = "vlan", value_name = "ID[:PCP[:DEI]][@TPID]")]
    pub vlan: Vec<String>,
}

impl VlanArgs {
    /// The tags as a stack; a bad tag is refused naming the flag, the tag and the limit.
    pub fn stack(&self) -> pktforge::Result<VlanStack> {
        VlanStack::parse_specs(&self.vlan).map_err(|e| {
            match self
                .vlan
                .iter()
                .find(|v| VlanStack::parse_specs(&[v]).is_err())
            {
                Some(v) => Error::Invalid(format!("--vlan {v}: {e}")),
                None => Error::Invalid(format!("--vlan: {e}")),
            }
        })
    }
}

/// Output flags shared by every probe.
#[derive(Debug, Args, Clone)]
pub struct OutputArgs {
    /// Write every frame sent and received to FILE (pcap, nanosecond timestamps; pcapng when
    /// FILE ends in .pcapng or with --pcapng).
    #[arg(long = "pcap", value_name = "FILE")]
    pub pcap: Option<PathBuf>,
    /// Write the --pcap file as pcapng.
    #[arg(long = "pcapng", requires = "pcap")]
    pub pcapng: bool,
    /// One JSON object per line for each event and the summary, instead of text.
    #[arg(long = "json")]
    pub json: bool,
    /// Also write one timestamped line per request sent and per reply or error received to
    /// FILE (text, for reading afterwards).
    #[arg(long = "log", value_name = "FILE")]
    pub log: Option<PathBuf>,
}

/// A 16-bit number given in decimal or `0x` hex.
pub fn parse_u16_any(s: &str) -> Result<u16, String> {
    let v = match s.strip_prefix("0x").or_else(|| s.strip_prefix("0X")) {
        Some(hex) => u32::from_str_radix(hex, 16),
        None => s.parse::<u32>(),
    }
    .map_err(|_| format!("{s:?} is not a number (decimal or 0x hex)"))?;
    u16::try_from(v).map_err(|_| format!("{v} is out of range 0..=65535"))
}

/// A 64-bit count given in decimal or `0x` hex.
pub fn parse_u64_any(s: &str) -> Result<u64, String> {
    match s.strip_prefix("0x").or_else(|| s.strip_prefix("0X")) {
        Some(hex) => u64::from_str_radix(hex, 16),
        None => s.parse::<u64>(),
    }
    .map_err(|_| format!("{s:?} is not a number (decimal or 0x hex)"))
}

/// A size given in decimal or `0x` hex.
pub fn parse_usize_any(s: &str) -> Result<usize, String> {
    parse_u64_any(s).and_then(|v| usize::try_from(v).map_err(|_| format!("{v} is too large")))
}

/// A 32-bit number given in decimal or `0x` hex.
pub fn parse_u32_any(s: &str) -> Result<u32, String> {
    match s.strip_prefix("0x").or_else(|| s.strip_prefix("0X")) {
        Some(hex) => u32::from_str_radix(hex, 16),
        None => s.parse::<u32>(),
    }
    .map_err(|_| format!("{s:?} is not a number (decimal or 0x hex)"))
}

/// A UDP/TCP port: 1..=65535 (0 is reserved and unreachable).
pub fn parse_port(s: &str) -> Result<u16, String> {
    match s.trim().parse::<u64>() {
        Ok(p @ 1..=65535) => Ok(p as u16),
        Ok(p) => Err(format!("port {p} is out of range 1..=65535")),
        Err(_) => Err(format!("{s:?} is not a port number (1..=65535)")),
    }
}

/// A port field as crafted: 0..=65535 (0 is reserved, built with a warning).
pub fn parse_port_field(s: &str) -> Result<u16, String> {
    match s.trim().parse::<u64>() {
        Ok(p @ 0..=65535) => Ok(p as u16),
        Ok(p) => Err(format!(
            "port {p} does not fit its 16-bit field (0..=65535)"
        )),
        Err(_) => Err(format!("{s:?} is not a port number (0..=65535)")),
    }
}

/// TCP flags: letters, names or a number ([`pktforge::wire::tcp::parse_tcp_flags`]).
pub fn parse_tcp_flags_arg(s: &str) -> Result<u16, String> {
    pktforge::wire::tcp::parse_tcp_flags(s).map_err(|e| e.to_string())
}

/// A byte given in decimal or `0x` hex.
pub fn parse_u8_any(s: &str) -> Result<u8, String> {
    let v = match s.strip_prefix("0x").or_else(|| s.strip_prefix("0X")) {
        Some(hex) => u32::from_str_radix(hex, 16),
        None => s.parse::<u32>(),
    }
    .map_err(|_| format!("{s:?} is not a number (decimal or 0x hex)"))?;
    u8::try_from(v).map_err(|_| format!("{v} is out of range 0..=255"))
}

/// Parse a dotted-quad list `A,B,C` as given to `--lsrr`, `--ssrr` and `tsprespec=`.
pub fn parse_addr_list(flag: &str, s: &str) -> pktforge::Result<Vec<Ipv4Addr>> {
    s.split(',')
        .map(|part| {
            part.trim().parse::<Ipv4Addr>().map_err(|_| {
                Error::Invalid(format!(
                    "{flag}: {part:?} is not an IPv4 address (expected A.B.C.D[,A.B.C.D...])"
                ))
            })
        })
        .collect()
}

/// Parse a `--timestamp` value: `tsonly`, `tsandaddr` or `tsprespec=ADDR[,ADDR...]`.
pub fn parse_timestamp_mode(s: &str) -> pktforge::Result<TimestampMode> {
    match s {
        "tsonly" => Ok(TimestampMode::TsOnly),
        "tsandaddr" => Ok(TimestampMode::TsAndAddr),
        _ => match s.strip_prefix("tsprespec=") {
            Some(list) => Ok(TimestampMode::Prespecified(parse_addr_list(
                "--timestamp tsprespec",
                list,
            )?)),
            None => Err(Error::Invalid(format!(
                "--timestamp {s:?}: expected tsonly, tsandaddr or tsprespec=ADDR[,ADDR...]"
            ))),
        },
    }
}

/// Parse hex bytes (`0x` prefix, spaces, `:` and `-` separators allowed).
pub fn parse_hex(flag: &str, s: &str) -> pktforge::Result<Vec<u8>> {
    let digits: String = s
        .trim()
        .trim_start_matches("0x")
        .chars()
        .filter(|c| !matches!(c, ' ' | ':' | '-' | '_'))
        .collect();
    if digits.is_empty() {
        return Err(Error::Invalid(format!("{flag}: empty hex string")));
    }
    if !digits.len().is_multiple_of(2) {
        return Err(Error::Invalid(format!(
            "{flag}: hex string {s:?} has an odd number of digits ({})",
            digits.len()
        )));
    }
    (0..digits.len())
        .step_by(2)
        .map(|i| {
            u8::from_str_radix(&digits[i..i + 2], 16).map_err(|_| {
                Error::Invalid(format!(
                    "{flag}: {:?} in {s:?} is not a hex byte",
                    &digits[i..i + 2]
                ))
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use pktforge::craft::options::OptionsRequest;

    #[test]
    fn hex_and_timestamp_parsing() {
        assert_eq!(
            parse_hex("x", "0x94 04 00 00").unwrap(),
            vec![0x94, 4, 0, 0]
        );
        assert!(parse_hex("x", "abc")
            .unwrap_err()
            .to_string()
            .contains("odd"));
        assert!(parse_hex("x", "zz").is_err());
        assert_eq!(
            parse_timestamp_mode("tsonly").unwrap(),
            TimestampMode::TsOnly
        );
        let five = OptionsRequest {
            timestamp: Some(
                parse_timestamp_mode("tsprespec=1.2.3.4,1.2.3.5,1.2.3.6,1.2.3.7,1.2.3.8").unwrap(),
            ),
            ..Default::default()
        };
        assert!(five
            .build("203.0.113.2".parse().unwrap())
            .unwrap_err()
            .to_string()
            .contains("at most 4"));
        assert!(parse_timestamp_mode("bogus").is_err());
        assert!(parse_addr_list("--lsrr", "1.2.3.4,300.1.1.1").is_err());
    }
}
