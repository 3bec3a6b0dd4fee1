//! IPv4 fragmentation (RFC 791 §3.2) and reassembly (the hole algorithm of RFC 815). Pure: no
//! I/O, the caller passes the time.
//!
//! Fragmenting copies into every fragment only the options whose copied flag (the high bit of
//! the type) is set: source routes go into each fragment, record route and timestamps only into
//! the first. Reassembly keys datagrams by (source, destination, identification, protocol),
//! gives up on one after a timeout, and holds at most a set number of bytes in all.

use std::net::Ipv4Addr;
use std::time::{Duration, Instant};

use super::checksum;

/// Why a datagram could not be fragmented.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FragError {
    /// Not a whole IPv4 datagram.
    #[error("not an IPv4 datagram")]
    Malformed,
    /// Don't Fragment is set and the datagram is over the MTU.
    #[error("{len} bytes with Don't Fragment set do not fit the MTU of {mtu}")]
    DontFragment {
        /// Datagram length.
        len: usize,
        /// The MTU.
        mtu: usize,
    },
    /// The MTU leaves no room for 8 data bytes after a header.
    #[error("an MTU of {mtu} leaves no room for data after a {header}-byte header")]
    MtuTooSmall {
        /// The MTU.
        mtu: usize,
        /// Header bytes of the fragment.
        header: usize,
    },
}

const MF: u16 = 0x2000;
const DF: u16 = 0x4000;

/// The header of every fragment after the first: the 20 fixed bytes and the copied options.
fn later_fragment_header(fixed: &[u8], copied: &[u8]) -> Vec<u8> {
    let mut h = Vec::with_capacity(20 + copied.len());
    h.extend_from_slice(fixed);
    h.extend_from_slice(copied);
    h[0] = 0x40 | (h.len() / 4) as u8;
    h
}

/// One fragment: `header` (its IHL already right), `data` at byte `offset` of the original
/// payload, more fragments after it or not; length, flags and checksum filled in.
fn one_fragment(header: &[u8], data: &[u8], offset: usize, more: bool) -> Vec<u8> {
    let hlen = header.len();
    let mut f = Vec::with_capacity(hlen + data.len());
    f.extend_from_slice(header);
    f.extend_from_slice(data);
    f[2..4].copy_from_slice(&((hlen + data.len()) as u16).to_be_bytes());
    let mut fl = ((offset / 8) as u16) & 0x1fff;
    if more {
        fl |= MF;
    }
    f[6..8].copy_from_slice(&fl.to_be_bytes());
    header_checksum(&mut f[..hlen]);
    f
}

fn header_checksum(h: &mut [u8]) {
    h[10] = 0;
    h[11] = 0;
    let c = checksum(h);
    h[10..12].copy_from_slice(&c.to_be_bytes());
}

/// The options a fragment after the first carries: those with the copied flag, padded with
/// EOL to a 4-byte boundary.
pub fn copied_options(options: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    let mut i = 0;
    while i < options.len() {
        let t = options[i];
        if t == 0 {
            break;
        }
        if t == 1 {
            i += 1;
            continue;
        }
        let len = usize::from(*options.get(i + 1).unwrap_or(&0));
        if len < 2 || i + len > options.len() {
            break;
        }
        if t & 0x80 != 0 {
            out.extend_from_slice(&options[i..i + len]);
        }
        i += len;
    }
    while out.len() % 4 != 0 {
        out.push(0);
    }
    out
}

/// Split `datagram` into fragments of at most `mtu` bytes each (the datagram itself when it
/// fits). Each fragment's data is a multiple of 8 bytes but the last.
pub fn fragment(datagram: &[u8], mtu: usize) -> Result<Vec<Vec<u8>>, FragError> {
    if datagram.len() < 20 || datagram[0] >> 4 != 4 {
        return Err(FragError::Malformed);
    }
    let ihl = usize::from(datagram[0] & 0x0f) * 4;
    let total = usize::from(u16::from_be_bytes([datagram[2], datagram[3]]));
    if ihl < 20 || total < ihl || total > datagram.len() {
        return Err(FragError::Malformed);
    }
    if total <= mtu {
        return Ok(vec![datagram[..total].to_vec()]);
    }
    let flags = u16::from_be_bytes([datagram[6], datagram[7]]);
    if flags & DF != 0 {
        return Err(FragError::DontFragment { len: total, mtu });
    }
    let base_offset = usize::from(flags & 0x1fff) * 8;
    let more_after = flags & MF != 0;
    let payload = &datagram[ihl..total];
    let later_opts = copied_options(&datagram[20..ihl]);
    let later_header = later_fragment_header(&datagram[..20], &later_opts);
    let mut out = Vec::new();
    let mut off = 0;
    while off < payload.len() {
        let first = off == 0;
        let hlen = if first { ihl } else { 20 + later_opts.len() };
        let room = mtu.saturating_sub(hlen) & !7;
        if room == 0 {
            return Err(FragError::MtuTooSmall { mtu, header: hlen });
        }
        let n = room.min(payload.len() - off);
        let last = off + n == payload.len();
        let header = if first {
            &datagram[..ihl]
        } else {
            &later_header[..]
        };
        let more = !last || more_after;
        out.push(one_fragment(
            header,
            &payload[off..off + n],
            base_offset + off,
            more,
        ));
        off += n;
    }
    Ok(out)
}

/// Split `datagram` by hand, for experiments: `size` data bytes per fragment (a multiple of 8),
/// each fragment after the first starting `overlap` bytes (a multiple of 8, less than `size`)
/// before the end of the previous one, in send order or reversed. The MTU is not consulted.
pub fn fragment_by(
    datagram: &[u8],
    size: usize,
    overlap: usize,
    reverse: bool,
) -> Result<Vec<Vec<u8>>, FragError> {
    if datagram.len() < 20 || datagram[0] >> 4 != 4 {
        return Err(FragError::Malformed);
    }
    let ihl = usize::from(datagram[0] & 0x0f) * 4;
    let total = usize::from(u16::from_be_bytes([datagram[2], datagram[3]]));
    if ihl < 20 || total < ihl || total > datagram.len() || size == 0 || !size.is_multiple_of(8) {
        return Err(FragError::Malformed);
    }
    if !overlap.is_multiple_of(8) || overlap >= size {
        return Err(FragError::Malformed);
    }
    let flags = u16::from_be_bytes([datagram[6], datagram[7]]);
    let base_offset = usize::from(flags & 0x1fff) * 8;
    let more_after = flags & MF != 0;
    let payload = &datagram[ihl..total];
    let later_opts = copied_options(&datagram[20..ihl]);
    let later_header = later_fragment_header(&datagram[..20], &later_opts);
    let mut out = Vec::new();
    let mut off = 0;
    loop {
        let n = size.min(payload.len() - off);
        let last = off + n == payload.len();
        let header = if off == 0 {
            &datagram[..ihl]
        } else {
            &later_header[..]
        };
        let more = !last || more_after;
        out.push(one_fragment(
            header,
            &payload[off..off + n],
            base_offset + off,
            more,
        ));
        if last {
            break;
        }
        off += n - overlap;
    }
    if reverse {
        out.reverse();
    }
    Ok(out)
}

/// Who a fragment belongs to (RFC 791): source, destination, identification, protocol.
pub type FragKey = (Ipv4Addr, Ipv4Addr, u16, u8);

#[derive(Debug)]
struct Pending {
    key: FragKey,
    started: Instant,
    /// The first fragment's header (offset 0), once it came.
    header: Option<Vec<u8>>,
    data: Vec<u8>,
    /// Missing byte ranges, first..=last (RFC 815); `usize::MAX` until the last fragment.
    holes: Vec<(usize, usize)>,
}

/// Reassembles fragmented datagrams, with a timeout per datagram and a bound on the bytes held.
#[derive(Debug)]
pub struct Reassembler {
    pending: Vec<Pending>,
    timeout: Duration,
    max_bytes: usize,
    /// Datagrams given up (timed out or evicted for room).
    pub dropped: u64,
}

impl Default for Reassembler {
    /// 30 s per datagram (Linux's ipfrag_time), 4 MiB in all (its ipfrag_high_thresh).
    fn default() -> Self {
        Reassembler::new(Duration::from_secs(30), 4 << 20)
    }
}

impl Reassembler {
    /// A reassembler giving up on a datagram after `timeout`, holding at most `max_bytes`.
    pub fn new(timeout: Duration, max_bytes: usize) -> Self {
        Reassembler {
            pending: Vec::new(),
            timeout,
            max_bytes,
            dropped: 0,
        }
    }

    fn held(&self) -> usize {
        self.pending.iter().map(|p| p.data.len()).sum()
    }

    /// Datagrams being reassembled.
    pub fn in_progress(&self) -> usize {
        self.pending.len()
    }

    /// Take one IPv4 packet. A fragment is kept; the whole datagram comes back when its last
    /// missing piece arrives (header of the first fragment, offset 0, MF clear, length and
    /// checksum rewritten). A packet that is not a fragment, or is malformed, gives None.
    pub fn push(&mut self, ip: &[u8], now: Instant) -> Option<Vec<u8>> {
        let before = self.pending.len();
        self.pending
            .retain(|p| now.saturating_duration_since(p.started) < self.timeout);
        self.dropped += (before - self.pending.len()) as u64;
        if ip.len() < 20 || ip[0] >> 4 != 4 {
            return None;
        }
        let ihl = usize::from(ip[0] & 0x0f) * 4;
        let total = usize::from(u16::from_be_bytes([ip[2], ip[3]]));
        if ihl < 20 || total < ihl || total > ip.len() {
            return None;
        }
        let flags = u16::from_be_bytes([ip[6], ip[7]]);
        let offset = usize::from(flags & 0x1fff) * 8;
        let more = flags & MF != 0;
        if !more && offset == 0 {
            return None; // not a fragment
        }
        let data = &ip[ihl..total];
        let (first, last) = (offset, offset + data.len());
        if last > 65535 || (more && !data.len().is_multiple_of(8)) || data.is_empty() {
            return None; // beyond IPv4, or a middle piece not in 8-byte units
        }
        let last = last - 1;
        let key: FragKey = (
            Ipv4Addr::new(ip[12], ip[13], ip[14], ip[15]),
            Ipv4Addr::new(ip[16], ip[17], ip[18], ip[19]),
            u16::from_be_bytes([ip[4], ip[5]]),
            ip[9],
        );
        let i = match self.pending.iter().position(|p| p.key == key) {
            Some(i) => i,
            None => {
                self.pending.push(Pending {
                    key,
                    started: now,
                    header: None,
                    data: Vec::new(),
                    holes: vec![(0, usize::MAX)],
                });
                self.pending.len() - 1
            }
        };
        // Room: evict the oldest other datagram first, then try again.
        if self.held() + (last + 1).saturating_sub(self.pending[i].data.len()) > self.max_bytes {
            let Some(j) = (0..self.pending.len()).find(|&j| j != i) else {
                self.pending.remove(i);
                self.dropped += 1;
                return None;
            };
            self.pending.remove(j);
            self.dropped += 1;
            return self.push(ip, now);
        }
        let p = &mut self.pending[i];
        // RFC 815: every hole the fragment touches is replaced by what it leaves uncovered.
        let mut holes = Vec::with_capacity(p.holes.len() + 1);
        for &(hf, hl) in &p.holes {
            if first > hl || last < hf {
                holes.push((hf, hl));
                continue;
            }
            if first > hf {
                holes.push((hf, first - 1));
            }
            if last < hl && more {
                holes.push((last + 1, hl));
            }
        }
        if !more {
            // The last fragment: nothing lies beyond it.
            holes.retain(|&(hf, _)| hf <= last);
            for h in holes.iter_mut() {
                h.1 = h.1.min(last);
            }
        }
        p.holes = holes;
        if p.data.len() < last + 1 {
            p.data.resize(last + 1, 0);
        }
        p.data[first..=last].copy_from_slice(data);
        if offset == 0 {
            p.header = Some(ip[..ihl].to_vec());
        }
        if !p.holes.is_empty() || p.header.is_none() {
            return None;
        }
        let p = self.pending.swap_remove(i);
        let mut h = p.header.unwrap_or_default();
        let len = h.len() + p.data.len();
        if len > 65535 {
            self.dropped += 1;
            return None;
        }
        h[2..4].copy_from_slice(&(len as u16).to_be_bytes());
        let keep_df = u16::from_be_bytes([h[6], h[7]]) & DF;
        h[6..8].copy_from_slice(&keep_df.to_be_bytes());
        header_checksum(&mut h);
        h.extend_from_slice(&p.data);
        Some(h)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A datagram with `opts` and `n` payload bytes 0, 1, 2, ...
    fn datagram(opts: &[u8], n: usize) -> Vec<u8> {
        let ihl = 20 + opts.len();
        let mut d = vec![0u8; ihl + n];
        d[0] = 0x40 | (ihl / 4) as u8;
        d[2..4].copy_from_slice(&((ihl + n) as u16).to_be_bytes());
        d[4..6].copy_from_slice(&0x1234u16.to_be_bytes());
        d[8] = 64;
        d[9] = 1;
        d[12..16].copy_from_slice(&[192, 0, 2, 2]);
        d[16..20].copy_from_slice(&[203, 0, 113, 2]);
        d[20..ihl].copy_from_slice(opts);
        for (i, b) in d[ihl..].iter_mut().enumerate() {
            *b = i as u8;
        }
        header_checksum(&mut d[..ihl]);
        d
    }

    #[test]
    fn fragments_fit_the_mtu_and_reassemble_in_any_order() {
        let d = datagram(&[], 3008);
        let frags = fragment(&d, 1400).unwrap();
        assert_eq!(frags.len(), 3);
        for f in &frags {
            assert!(f.len() <= 1400);
            assert_eq!(checksum(&f[..20]), 0, "header checksum right");
        }
        assert_eq!(frags[0].len(), 20 + 1376);
        for order in [[0, 1, 2], [2, 1, 0], [1, 2, 0]] {
            let mut r = Reassembler::default();
            let now = Instant::now();
            let mut out = None;
            for &i in &order {
                assert!(out.is_none());
                out = r.push(&frags[i], now);
            }
            let out = out.expect("whole after the last piece");
            assert_eq!(out[20..], d[20..]);
            assert_eq!(u16::from_be_bytes([out[2], out[3]]) as usize, d.len());
            assert_eq!(checksum(&out[..20]), 0);
            assert_eq!(r.in_progress(), 0);
        }
    }

    #[test]
    fn hand_made_fragments_overlap_and_reverse_and_still_reassemble() {
        let d = datagram(&[], 100);
        let f = fragment_by(&d, 40, 0, false).unwrap();
        assert_eq!(
            f.iter().map(|f| f.len() - 20).collect::<Vec<_>>(),
            [40, 40, 20]
        );
        let o = fragment_by(&d, 40, 8, true).unwrap();
        // Offsets 0, 32, 64 (each 8 bytes back into the one before), sent last first.
        let offs: Vec<u16> = o
            .iter()
            .map(|f| (u16::from_be_bytes([f[6], f[7]]) & 0x1fff) * 8)
            .collect();
        assert_eq!(offs, [64, 32, 0]);
        let mut r = Reassembler::default();
        let now = Instant::now();
        let out = o.iter().fold(None, |_, f| r.push(f, now)).unwrap();
        assert_eq!(out[20..], d[20..]);
        assert!(fragment_by(&d, 7, 0, false).is_err());
        assert!(fragment_by(&d, 16, 16, false).is_err());
    }

    #[test]
    fn only_copied_options_go_into_later_fragments() {
        // RR (7, not copied), LSRR (0x83, copied), NOP, EOL padding.
        let opts = [7, 7, 4, 0, 0, 0, 0, 0x83, 7, 4, 198, 51, 100, 2, 1, 0];
        let d = datagram(&opts, 2000);
        let frags = fragment(&d, 1000).unwrap();
        assert_eq!(usize::from(frags[0][0] & 15) * 4, 36, "first: every option");
        for f in &frags[1..] {
            let ihl = usize::from(f[0] & 15) * 4;
            assert_eq!(ihl, 28);
            assert_eq!(&f[20..28], &[0x83, 7, 4, 198, 51, 100, 2, 0]);
        }
        let mut r = Reassembler::default();
        let now = Instant::now();
        let out = frags.iter().fold(None, |_, f| r.push(f, now)).unwrap();
        assert_eq!(
            &out[20..36],
            &opts,
            "the first fragment's header comes back"
        );
        assert_eq!(out[36..], d[36..]);
    }

    #[test]
    fn overlaps_duplicates_timeouts_and_the_memory_bound() {
        let d = datagram(&[], 64);
        let frags = fragment(&d, 44).unwrap(); // 24-byte pieces
        let now = Instant::now();
        let mut r = Reassembler::default();
        assert!(r.push(&frags[0], now).is_none());
        assert!(
            r.push(&frags[0], now).is_none(),
            "a duplicate changes nothing"
        );
        assert!(r.push(&frags[1], now).is_none());
        assert_eq!(r.push(&frags[2], now).unwrap()[20..], d[20..]);
        // Timed out: the pieces are forgotten.
        let mut r = Reassembler::new(Duration::from_secs(1), 1 << 20);
        r.push(&frags[0], now);
        assert!(r.push(&frags[1], now + Duration::from_secs(2)).is_none());
        assert_eq!(r.dropped, 1);
        // Bounded: a second datagram evicts the first.
        let mut r = Reassembler::new(Duration::from_secs(30), 40);
        r.push(&frags[0], now);
        let mut other = frags[0].clone();
        other[5] ^= 1; // another id
        r.push(&other, now);
        assert_eq!((r.in_progress(), r.dropped), (1, 1));
        // Not fragments, garbage, and a DF datagram too big: no panic, no result.
        assert!(r.push(&d, now).is_none());
        for n in 0..frags[1].len() {
            let _ = r.push(&frags[1][..n], now);
        }
        let mut df = d.clone();
        df[6] = 0x40;
        assert!(matches!(
            fragment(&df, 44),
            Err(FragError::DontFragment { .. })
        ));
        assert!(matches!(
            fragment(&d, 24),
            Err(FragError::MtuTooSmall { .. })
        ));
    }
}
