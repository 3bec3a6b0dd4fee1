//! The ICMP request/reply kinds as engine modules: echo (8/0), timestamp (13/14), address mask
//! (17/18), information (15/16) and router solicitation (10) / advertisement (9).

use std::net::Ipv4Addr;
use std::time::{SystemTime, UNIX_EPOCH};

use crate::event::{AdvertisedRouter, Answer};
use crate::probe::engine::ProbeKind;
use crate::wire::hop::ms_since_midnight_ut;
use crate::wire::IcmpMessage;

/// ICMP echo with iputils' data: a timeval in the first 16 bytes, then the pattern.
#[derive(Debug, Clone)]
pub struct Echo {
    /// Identifier.
    pub id: u16,
    data: Vec<u8>,
}

impl Echo {
    /// Echo requests with `size` data bytes filled with `pattern` (empty: 0x08, 0x09, ...).
    pub fn new(id: u16, size: usize, pattern: &[u8]) -> Self {
        Echo {
            id,
            data: crate::wire::echo_data(size, pattern, 0),
        }
    }

    /// ICMP bytes of each request.
    pub fn icmp_len(&self) -> usize {
        8 + self.data.len()
    }
}

impl ProbeKind for Echo {
    fn request_type(&self) -> u8 {
        8
    }
    fn id(&self) -> Option<u16> {
        Some(self.id)
    }
    fn request(&mut self, seq: u16, at: SystemTime) -> IcmpMessage {
        if self.data.len() >= 16 {
            let d = at.duration_since(UNIX_EPOCH).unwrap_or_default();
            self.data[..8].copy_from_slice(&d.as_secs().to_le_bytes());
            self.data[8..16].copy_from_slice(&u64::from(d.subsec_micros()).to_le_bytes());
        }
        IcmpMessage::EchoRequest {
            id: self.id,
            seq,
            data: self.data.clone(),
        }
    }
    fn answer(&self, msg: &IcmpMessage, _at: SystemTime) -> Option<(u16, Answer)> {
        match msg {
            IcmpMessage::EchoReply { id, seq, data } if *id == self.id => {
                let skip = 16.min(self.data.len());
                let data_mismatch = data.get(skip..) != self.data.get(skip..);
                Some((*seq, Answer::Echo { data_mismatch }))
            }
            _ => None,
        }
    }
}

/// ICMP timestamp request (13): originate = our clock in ms since midnight UT.
#[derive(Debug, Clone)]
pub struct Timestamp {
    /// Identifier.
    pub id: u16,
}

impl ProbeKind for Timestamp {
    fn request_type(&self) -> u8 {
        13
    }
    fn id(&self) -> Option<u16> {
        Some(self.id)
    }
    fn request(&mut self, seq: u16, at: SystemTime) -> IcmpMessage {
        IcmpMessage::TimestampRequest {
            id: self.id,
            seq,
            originate: ms_since_midnight_ut(at),
            receive: 0,
            transmit: 0,
        }
    }
    fn answer(&self, msg: &IcmpMessage, at: SystemTime) -> Option<(u16, Answer)> {
        let IcmpMessage::TimestampReply {
            id,
            seq,
            originate,
            receive,
            transmit,
        } = *msg
        else {
            return None;
        };
        if id != self.id {
            return None;
        }
        let returned = ms_since_midnight_ut(at);
        Some((
            seq,
            timestamp_answer(originate, receive, transmit, returned),
        ))
    }
}

/// Signed difference of two ms-since-midnight times, wrapped to ±12 h.
fn day_diff(a: u32, b: u32) -> i64 {
    const DAY: i64 = 86_400_000;
    let d = (i64::from(a) - i64::from(b)).rem_euclid(DAY);
    if d > DAY / 2 {
        d - DAY
    } else {
        d
    }
}

/// The clockdiff arithmetic on the four times of a timestamp exchange.
pub fn timestamp_answer(originate: u32, receive: u32, transmit: u32, returned: u32) -> Answer {
    let hi = 0x8000_0000;
    let nonstandard = (receive | transmit) & hi != 0;
    let (r, t) = (receive & !hi, transmit & !hi);
    Answer::Timestamp {
        originate_ms: originate,
        receive_ms: receive,
        transmit_ms: transmit,
        arrival_ms: returned,
        offset_us: (day_diff(r, originate) + day_diff(t, returned)) as f64 * 1e3 / 2.0,
        rtt_from_stamps_ms: day_diff(returned, originate) - day_diff(t, r),
        nonstandard,
    }
}

/// ICMP address mask request (17).
#[derive(Debug, Clone)]
pub struct Mask {
    /// Identifier.
    pub id: u16,
}

impl ProbeKind for Mask {
    fn request_type(&self) -> u8 {
        17
    }
    fn id(&self) -> Option<u16> {
        Some(self.id)
    }
    fn request(&mut self, seq: u16, _at: SystemTime) -> IcmpMessage {
        IcmpMessage::AddressMaskRequest {
            id: self.id,
            seq,
            mask: Ipv4Addr::UNSPECIFIED,
        }
    }
    fn answer(&self, msg: &IcmpMessage, _at: SystemTime) -> Option<(u16, Answer)> {
        match *msg {
            IcmpMessage::AddressMaskReply { id, seq, mask } if id == self.id => Some((
                seq,
                Answer::Mask {
                    mask,
                    prefix_len: crate::wire::mask_prefix(mask),
                },
            )),
            _ => None,
        }
    }
}

/// ICMP information request (15), obsoleted by RFC 1122 and unanswered by modern stacks.
#[derive(Debug, Clone)]
pub struct Info {
    /// Identifier.
    pub id: u16,
}

impl ProbeKind for Info {
    fn request_type(&self) -> u8 {
        15
    }
    fn id(&self) -> Option<u16> {
        Some(self.id)
    }
    fn request(&mut self, seq: u16, _at: SystemTime) -> IcmpMessage {
        IcmpMessage::InfoRequest { id: self.id, seq }
    }
    fn answer(&self, msg: &IcmpMessage, _at: SystemTime) -> Option<(u16, Answer)> {
        match *msg {
            IcmpMessage::InfoReply { id, seq } if id == self.id => Some((seq, Answer::Info)),
            _ => None,
        }
    }
}

/// ICMP router solicitation (10, RFC 1256); every advertisement (9) heard answers it.
#[derive(Debug, Clone, Default)]
pub struct RouterSolicit;

impl ProbeKind for RouterSolicit {
    fn request_type(&self) -> u8 {
        10
    }
    fn id(&self) -> Option<u16> {
        None
    }
    fn request(&mut self, _seq: u16, _at: SystemTime) -> IcmpMessage {
        IcmpMessage::RouterSolicitation
    }
    fn answer(&self, msg: &IcmpMessage, _at: SystemTime) -> Option<(u16, Answer)> {
        match msg {
            // Advertisements carry no sequence number: each answers the solicitation(s) sent
            // so far; the engine attributes them to the first.
            IcmpMessage::RouterAdvertisement {
                lifetime, routers, ..
            } => Some((
                1,
                Answer::RouterAdvertisement {
                    lifetime_s: *lifetime,
                    routers: routers
                        .iter()
                        .map(|&(address, preference)| AdvertisedRouter {
                            address,
                            preference,
                        })
                        .collect(),
                },
            )),
            _ => None,
        }
    }
    fn accepts_dst(&self, dst: Ipv4Addr, src: Ipv4Addr) -> bool {
        // Unicast to us, or the all-hosts group / broadcast (RFC 1256 §3.1).
        dst == src || dst.is_multicast() || dst.is_broadcast()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::mask_prefix;

    #[test]
    fn mask_prefix_rejects_holes() {
        assert_eq!(mask_prefix("255.255.255.0".parse().unwrap()), Some(24));
        assert_eq!(mask_prefix("0.0.0.0".parse().unwrap()), Some(0));
        assert_eq!(mask_prefix("255.255.255.255".parse().unwrap()), Some(32));
        assert_eq!(mask_prefix("255.0.255.0".parse().unwrap()), None);
    }

    #[test]
    fn clockdiff_arithmetic() {
        // Remote clock 100 ms ahead, 10 ms each way, 2 ms holding time.
        let fields = |a| match a {
            Answer::Timestamp {
                offset_us,
                rtt_from_stamps_ms,
                ..
            } => (offset_us / 1e3, rtt_from_stamps_ms),
            other => panic!("{other:?}"),
        };
        let (offset_ms, rtt_ms) = fields(timestamp_answer(1_000, 1_110, 1_112, 1_022));
        assert_eq!(offset_ms, 100.0);
        assert_eq!(rtt_ms, 20);
        // Across midnight.
        let (offset_ms, _) = fields(timestamp_answer(86_399_990, 5, 6, 86_399_999 - 2));
        assert!(offset_ms.abs() < 20.0, "{offset_ms}");
    }

    #[test]
    fn echo_answers_only_its_own_id() {
        let mut e = Echo::new(7, 20, &[]);
        let req = e.request(3, SystemTime::now());
        let IcmpMessage::EchoRequest { data, .. } = req else {
            panic!()
        };
        let reply = IcmpMessage::EchoReply {
            id: 7,
            seq: 3,
            data: data.clone(),
        };
        assert!(matches!(
            e.answer(&reply, SystemTime::now()).unwrap().1,
            Answer::Echo {
                data_mismatch: false
            }
        ));
        let other = IcmpMessage::EchoReply {
            id: 8,
            seq: 3,
            data,
        };
        assert!(e.answer(&other, SystemTime::now()).is_none());
    }
}
