//! The IP options a probe asks for, turned into wire options that fit the 40-byte limit.

use std::net::Ipv4Addr;

use crate::wire::{emit_options, IpOption};
use crate::{Error, Field, Result};

/// Largest number of addresses a source-route option holds (3 + 4 × 9 = 39 bytes).
pub const MAX_ROUTE_HOPS: usize = 9;
/// Bytes of options an IPv4 header holds (IHL 15).
pub const MAX_OPTION_BYTES: usize = 40;

/// A loose or strict source route: the hops to visit before the destination, in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SourceRoute {
    /// LSRR (type 131): hops may be any distance apart.
    Loose(Vec<Ipv4Addr>),
    /// SSRR (type 137): each hop must be directly connected to the previous one.
    Strict(Vec<Ipv4Addr>),
}

impl SourceRoute {
    /// The hops as given.
    pub fn hops(&self) -> &[Ipv4Addr] {
        match self {
            SourceRoute::Loose(h) | SourceRoute::Strict(h) => h,
        }
    }
    /// The request field it is.
    pub fn field(&self) -> Field {
        match self {
            SourceRoute::Loose(_) => Field::LooseSourceRoute,
            SourceRoute::Strict(_) => Field::StrictSourceRoute,
        }
    }
}

/// Which timestamp option to carry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TimestampMode {
    /// Flag 0: every router adds a timestamp (up to 9).
    TsOnly,
    /// Flag 1: every router adds its address and a timestamp (up to 4 pairs).
    TsAndAddr,
    /// Flag 3: only the listed routers add a timestamp (up to 4).
    Prespecified(Vec<Ipv4Addr>),
}

/// Every IP option flag a probe accepts.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OptionsRequest {
    /// Record route, with as many slots as fit (9 alone).
    pub record_route: bool,
    /// A loose or strict source route.
    pub source_route: Option<SourceRoute>,
    /// The timestamp option.
    pub timestamp: Option<TimestampMode>,
    /// Raw option bytes, emitted verbatim.
    pub raw: Vec<Vec<u8>>,
}

impl OptionsRequest {
    /// The IP destination on the wire: the first hop of a source route, else `dest`.
    pub fn wire_destination(&self, dest: Ipv4Addr) -> Ipv4Addr {
        match &self.source_route {
            Some(sr) => sr.hops().first().copied().unwrap_or(dest),
            None => dest,
        }
    }

    /// True when no option is asked for.
    pub fn is_empty(&self) -> bool {
        self.source_route.is_none()
            && self.timestamp.is_none()
            && !self.record_route
            && self.raw.is_empty()
    }

    /// Build the options for a probe to `dest`, per RFC 791: a source route lists hops 2..n and
    /// then `dest` (hop 1 is the IP destination). Record route and timestamps take the room the
    /// others leave. Fails, naming the limit, when they cannot fit in 40 bytes.
    pub fn build(&self, dest: Ipv4Addr) -> Result<Vec<IpOption>> {
        let mut opts = Vec::new();
        if let Some(sr) = &self.source_route {
            let hops = sr.hops();
            if hops.is_empty() {
                return Err(Error::invalid(sr.field(), "needs at least one hop"));
            }
            if hops.len() > MAX_ROUTE_HOPS {
                return Err(Error::invalid(
                    sr.field(),
                    format!(
                        "takes at most {MAX_ROUTE_HOPS} hops (a source route option holds 9 \
                         addresses: hops 2..n and the destination), got {}",
                        hops.len()
                    ),
                ));
            }
            let mut route: Vec<Ipv4Addr> = hops[1..].to_vec();
            route.push(dest);
            opts.push(match sr {
                SourceRoute::Loose(_) => IpOption::loose_source_route(route)?,
                SourceRoute::Strict(_) => IpOption::strict_source_route(route)?,
            });
        }
        for raw in &self.raw {
            opts.push(IpOption::raw(raw.clone())?);
        }
        let used = |opts: &[IpOption]| opts.iter().map(|o| o.wire_len()).sum::<usize>();
        if let Some(ts) = &self.timestamp {
            let room = MAX_OPTION_BYTES.saturating_sub(used(&opts) + 4);
            let opt = match ts {
                TimestampMode::TsOnly => IpOption::timestamp_only((room / 4).clamp(1, 9))?,
                TimestampMode::TsAndAddr => {
                    IpOption::timestamp_and_address((room / 8).clamp(1, 4))?
                }
                TimestampMode::Prespecified(addrs) if addrs.len() > 4 => {
                    return Err(Error::invalid(
                        Field::Timestamp,
                        format!(
                            "prespecified takes at most 4 addresses (4 address+timestamp pairs \
                             fill the 40 option bytes), got {}",
                            addrs.len()
                        ),
                    ))
                }
                TimestampMode::Prespecified(addrs) => {
                    IpOption::timestamp_prespecified(addrs.clone())?
                }
            };
            opts.push(opt);
        }
        if self.record_route {
            let room = MAX_OPTION_BYTES.saturating_sub(used(&opts) + 3);
            if room < 4 {
                return Err(Error::Invalid(format!(
                    "no room for record route: the other options take {} of the {MAX_OPTION_BYTES} \
                     bytes an IPv4 header holds",
                    used(&opts)
                )));
            }
            opts.push(IpOption::record_route((room / 4).min(9))?);
        }
        // The final word on the 40-byte limit (raw options may be any length).
        emit_options(&opts)?;
        Ok(opts)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn a(s: &str) -> Ipv4Addr {
        s.parse().unwrap()
    }

    #[test]
    fn source_route_puts_first_hop_in_destination_and_dest_last() {
        let req = OptionsRequest {
            source_route: Some(SourceRoute::Strict(vec![a("192.0.2.1"), a("198.51.100.2")])),
            ..Default::default()
        };
        assert_eq!(req.wire_destination(a("203.0.113.2")), a("192.0.2.1"));
        let opts = req.build(a("203.0.113.2")).unwrap();
        assert_eq!(
            opts,
            vec![IpOption::strict_source_route(vec![a("198.51.100.2"), a("203.0.113.2")]).unwrap()]
        );
    }

    #[test]
    fn record_route_alone_gets_nine_slots_and_shrinks_beside_others() {
        let alone = OptionsRequest {
            record_route: true,
            ..Default::default()
        };
        assert_eq!(alone.build(a("203.0.113.2")).unwrap()[0].wire_len(), 39);
        let with_lsrr = OptionsRequest {
            record_route: true,
            source_route: Some(SourceRoute::Loose(vec![a("198.51.100.2")])),
            ..Default::default()
        };
        let opts = with_lsrr.build(a("203.0.113.2")).unwrap();
        // LSRR with one address takes 7 bytes; 40 - 7 - 3 = 30 → 7 RR slots (31 bytes).
        assert_eq!(opts[1].wire_len(), 31);
        assert!(emit_options(&opts).unwrap().len() <= 40);
    }

    #[test]
    fn ten_hops_are_refused_naming_the_limit() {
        let hops: Vec<Ipv4Addr> = (1..=10).map(|i| Ipv4Addr::new(192, 0, 2, i)).collect();
        let req = OptionsRequest {
            source_route: Some(SourceRoute::Loose(hops)),
            ..Default::default()
        };
        let err = req.build(a("203.0.113.2")).unwrap_err().to_string();
        assert!(err.contains("at most 9 hops"), "{err}");
    }

    #[test]
    fn raw_options_over_forty_bytes_are_refused() {
        let req = OptionsRequest {
            raw: vec![vec![1; 20], vec![1; 21]],
            ..Default::default()
        };
        let err = req.build(a("203.0.113.2")).unwrap_err().to_string();
        assert!(err.contains("40"), "{err}");
    }
}
