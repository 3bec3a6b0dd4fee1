//! What an IP module does to a datagram's options when it handles the datagram as one of its
//! addresses: record route records, timestamps stamp. Used where pktforge *is* the IP module:
//! at origin (RFC 791: the originating host records itself, as Linux does), on receipt (Linux
//! records the receiving address on input, which is why `ping -R` shows 8 hops), and by a
//! responder. Source routes are not touched: they change only at the hop they name.

use std::net::Ipv4Addr;
use std::time::{SystemTime, UNIX_EPOCH};

use crate::wire::{IpOption, TimestampFlag};

/// Largest overflow count the 4-bit field holds.
const MAX_OVERFLOW: u8 = 15;

/// The RFC 791 timestamp of `t`: milliseconds since midnight UT.
pub fn ms_since_midnight_ut(t: SystemTime) -> u32 {
    let ms = t.duration_since(UNIX_EPOCH).unwrap_or_default().as_millis();
    (ms % 86_400_000) as u32
}

/// Record `addr` (and stamp `now_ms`) into every option that asks a hop to, as the IP module of
/// the host owning `addr` does. Returns how many options changed.
pub fn record_hop(opts: &mut [IpOption], addr: Ipv4Addr, now_ms: u32) -> usize {
    let mut changed = 0;
    for o in opts.iter_mut() {
        if record_one(o, addr, now_ms) {
            changed += 1;
        }
    }
    changed
}

fn record_one(opt: &mut IpOption, addr: Ipv4Addr, now_ms: u32) -> bool {
    match opt {
        IpOption::RecordRoute { pointer, slots } => {
            let idx = usize::from(*pointer).saturating_sub(4) / 4;
            if *pointer < 4 || (*pointer - 4) % 4 != 0 || idx >= slots.len() {
                return false; // full (or a pointer we do not trust): nothing recorded
            }
            slots[idx] = addr;
            *pointer += 4;
            true
        }
        IpOption::Timestamp {
            pointer,
            overflow,
            flag,
            entries,
        } => {
            let size = if flag.has_addr() { 8 } else { 4 };
            let start = usize::from(*pointer);
            let idx = start.saturating_sub(5) / size;
            if start < 5 || (start - 5) % size != 0 || idx >= entries.len() {
                // No room left: count the hop that could not stamp (RFC 791). A host is asked
                // to stamp a prespecified list only where it is named, so nobody overflows it
                // (Linux counts nothing there either).
                if start >= 5
                    && idx >= entries.len()
                    && *overflow < MAX_OVERFLOW
                    && !matches!(flag, TimestampFlag::Prespecified)
                {
                    *overflow += 1;
                    return true;
                }
                return false;
            }
            let e = &mut entries[idx];
            match flag {
                TimestampFlag::TsOnly => e.timestamp = now_ms,
                TimestampFlag::TsAndAddr => {
                    e.addr = Some(addr);
                    e.timestamp = now_ms;
                }
                TimestampFlag::Prespecified => {
                    if e.addr != Some(addr) {
                        return false; // not our turn
                    }
                    e.timestamp = now_ms;
                }
                TimestampFlag::Other(_) => return false,
            }
            *pointer += size as u8;
            true
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn a(s: &str) -> Ipv4Addr {
        s.parse().unwrap()
    }

    #[test]
    fn record_route_fills_slots_in_order_until_full() {
        let mut opts = vec![IpOption::record_route(2).unwrap()];
        assert_eq!(record_hop(&mut opts, a("192.0.2.2"), 0), 1);
        assert_eq!(record_hop(&mut opts, a("192.0.2.1"), 0), 1);
        assert_eq!(
            record_hop(&mut opts, a("198.51.100.1"), 0),
            0,
            "full: nothing more"
        );
        assert_eq!(opts[0].recorded(), vec![a("192.0.2.2"), a("192.0.2.1")]);
    }

    #[test]
    fn a_full_prespecified_list_counts_no_overflow() {
        let mut opts = vec![IpOption::Timestamp {
            pointer: 21,
            overflow: 0,
            flag: TimestampFlag::Prespecified,
            entries: vec![
                crate::wire::TimestampEntry {
                    addr: Some([198, 51, 100, 1].into()),
                    timestamp: 5,
                },
                crate::wire::TimestampEntry {
                    addr: Some([203, 0, 113, 2].into()),
                    timestamp: 6,
                },
            ],
        }];
        assert_eq!(record_hop(&mut opts, [192, 0, 2, 2].into(), 7), 0);
        assert!(matches!(opts[0], IpOption::Timestamp { overflow: 0, .. }));
    }

    #[test]
    fn timestamps_stamp_then_count_overflow() {
        let mut opts = vec![IpOption::timestamp_and_address(1).unwrap()];
        record_hop(&mut opts, a("192.0.2.2"), 1234);
        record_hop(&mut opts, a("192.0.2.1"), 1235);
        let IpOption::Timestamp {
            overflow, entries, ..
        } = &opts[0]
        else {
            panic!()
        };
        assert_eq!(entries[0].addr, Some(a("192.0.2.2")));
        assert_eq!(entries[0].timestamp, 1234);
        assert_eq!(*overflow, 1);
    }

    #[test]
    fn prespecified_stamps_only_the_named_address() {
        let mut opts =
            vec![
                IpOption::timestamp_prespecified(vec![a("192.0.2.1"), a("198.51.100.2")]).unwrap(),
            ];
        assert_eq!(
            record_hop(&mut opts, a("192.0.2.2"), 5),
            0,
            "not listed first"
        );
        assert_eq!(record_hop(&mut opts, a("192.0.2.1"), 6), 1);
        assert_eq!(opts[0].stamped().len(), 1);
    }

    #[test]
    fn source_routes_are_left_alone() {
        let mut opts = vec![IpOption::loose_source_route(vec![a("198.51.100.2")]).unwrap()];
        let before = opts.clone();
        assert_eq!(record_hop(&mut opts, a("192.0.2.2"), 0), 0);
        assert_eq!(opts, before);
    }

    #[test]
    fn midnight_wraps() {
        let t = UNIX_EPOCH + std::time::Duration::from_millis(86_400_000 * 3 + 42);
        assert_eq!(ms_since_midnight_ut(t), 42);
    }
}
