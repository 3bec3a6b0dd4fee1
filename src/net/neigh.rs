//! The kernel's neighbour (ARP) cache, read from `/proc/net/arp`.

use std::net::Ipv4Addr;

use pnet_datalink::MacAddr;

/// `ATF_COM`: entry resolved.
const ATF_COM: u32 = 0x02;
/// `ATF_PERM`: permanent (static) entry.
const ATF_PERM: u32 = 0x04;

/// One usable row of `/proc/net/arp`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ArpEntry {
    /// The neighbour's address.
    pub ip: Ipv4Addr,
    /// ATF_* flags.
    pub flags: u32,
    /// Its MAC.
    pub mac: MacAddr,
    /// The interface it is on.
    pub device: String,
}

/// Parse one data line (`IP  HW-type  Flags  HW-address  Mask  Device`). `None` for the
/// header, malformed lines, and entries that are neither complete nor permanent or whose
/// address is all-zero (incomplete).
pub fn parse_line(line: &str) -> Option<ArpEntry> {
    let f: Vec<&str> = line.split_whitespace().collect();
    if f.len() < 6 {
        return None;
    }
    let ip: Ipv4Addr = f[0].parse().ok()?;
    let flags = u32::from_str_radix(f[2].trim_start_matches("0x"), 16).ok()?;
    let mac: MacAddr = f[3].parse().ok()?;
    if flags & (ATF_COM | ATF_PERM) == 0 || mac == MacAddr::zero() {
        return None;
    }
    Some(ArpEntry {
        ip,
        flags,
        mac,
        device: f[5].to_string(),
    })
}

/// Find `ip` on `ifname` in the text of `/proc/net/arp`.
pub fn find_in(text: &str, ifname: &str, ip: Ipv4Addr) -> Option<MacAddr> {
    text.lines()
        .skip(1)
        .filter_map(parse_line)
        .find(|e| e.ip == ip && e.device == ifname)
        .map(|e| e.mac)
}

/// The calling thread's namespace's ARP table. `/proc/net` follows the namespace of the
/// process's main thread, `/proc/thread-self/net` that of this thread.
fn read_table() -> Option<String> {
    std::fs::read_to_string("/proc/thread-self/net/arp")
        .or_else(|_| std::fs::read_to_string("/proc/net/arp"))
        .ok()
}

/// The resolved MAC of `ip` on `ifname` from the kernel's neighbour cache, if any.
pub fn lookup(ifname: &str, ip: Ipv4Addr) -> Option<MacAddr> {
    find_in(&read_table()?, ifname, ip)
}

#[cfg(test)]
mod tests {
    use super::*;

    const TABLE: &str = "\
IP address       HW type     Flags       HW address            Mask     Device
192.0.2.1        0x1         0x2         52:54:00:12:34:56     *        veth1
192.0.2.9        0x1         0x0         00:00:00:00:00:00     *        veth1
192.0.2.7        0x1         0x6         02:00:00:00:00:07     *        veth1
192.0.2.1        0x1         0x2         aa:bb:cc:dd:ee:ff     *        eth9
198.51.100.3     0x1         0x2         00:00:00:00:00:00     *        veth1
garbage line
203.0.113.1      0x1         zz          52:54:00:12:34:56     *        veth1
";

    #[test]
    fn finds_complete_entry_on_device() {
        let m = find_in(TABLE, "veth1", Ipv4Addr::new(192, 0, 2, 1));
        assert_eq!(m, Some(MacAddr::new(0x52, 0x54, 0, 0x12, 0x34, 0x56)));
        let m = find_in(TABLE, "eth9", Ipv4Addr::new(192, 0, 2, 1));
        assert_eq!(m, Some(MacAddr::new(0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff)));
    }

    #[test]
    fn permanent_entry_counts() {
        let m = find_in(TABLE, "veth1", Ipv4Addr::new(192, 0, 2, 7));
        assert_eq!(m, Some(MacAddr::new(2, 0, 0, 0, 0, 7)));
    }

    #[test]
    fn skips_incomplete_zero_other_device_and_garbage() {
        assert_eq!(find_in(TABLE, "veth1", Ipv4Addr::new(192, 0, 2, 9)), None);
        assert_eq!(
            find_in(TABLE, "veth1", Ipv4Addr::new(198, 51, 100, 3)),
            None
        );
        assert_eq!(find_in(TABLE, "veth2", Ipv4Addr::new(192, 0, 2, 1)), None);
        assert_eq!(find_in(TABLE, "veth1", Ipv4Addr::new(203, 0, 113, 1)), None);
        assert_eq!(find_in("", "veth1", Ipv4Addr::new(192, 0, 2, 1)), None);
        assert!(parse_line("IP address HW type Flags HW address Mask Device").is_none());
    }

    #[test]
    fn lookup_reads_this_threads_table() {
        // Nothing should be cached for a TEST-NET address on a nonexistent device.
        assert_eq!(lookup("nosuch0", Ipv4Addr::new(192, 0, 2, 250)), None);
    }
}
