//! What fits: the size checks every driver makes before anything is sent.

use crate::error::Field;
use crate::net::Interface;
use crate::{Error, Result};

/// Largest IPv4 datagram.
pub const MAX_IP_LEN: usize = 65535;

/// Check that a datagram of `data` bytes after a `header_bytes` transport header, with
/// `option_bytes` of IP options, fits `iface`'s MTU and IPv4; returns its IP length.
pub fn check_fits(
    iface: &Interface,
    option_bytes: usize,
    header_bytes: usize,
    data: usize,
) -> Result<usize> {
    check_fits_tagged(iface, 0, option_bytes, header_bytes, data)
}

/// Like [`check_fits`] for frames whose VLAN tags take `tag_bytes` of the MTU
/// ([`crate::link::vlan_mtu_overhead`]).
pub fn check_fits_tagged(
    iface: &Interface,
    tag_bytes: usize,
    option_bytes: usize,
    header_bytes: usize,
    data: usize,
) -> Result<usize> {
    let ip_bytes = 20 + option_bytes + header_bytes + data;
    let limit = (iface.mtu as usize)
        .saturating_sub(tag_bytes)
        .min(MAX_IP_LEN);
    if ip_bytes <= limit {
        return Ok(ip_bytes);
    }
    Err(Error::TooLarge {
        field: Field::DataSize,
        value: data,
        ip_bytes,
        option_bytes,
        header_bytes,
        limit,
        limited_by: if limit == MAX_IP_LEN {
            "IPv4".to_string()
        } else if tag_bytes > 0 {
            format!(
                "the MTU of {} less {tag_bytes} bytes of VLAN tags",
                iface.name
            )
        } else {
            format!("the MTU of {}", iface.name)
        },
        largest: limit.saturating_sub(20 + option_bytes + header_bytes),
    })
}

/// Largest IPv6 packet without a Jumbo Payload option: the 40-byte header and a payload of
/// 65,535 bytes.
pub const MAX_IPV6_LEN: usize = 40 + 65535;

/// Check that an IPv6 packet of `data` bytes after a `header_bytes` upper-layer header, behind
/// `ext_bytes` of extension headers, fits `iface`'s MTU less `tag_bytes` of VLAN tags and
/// IPv6's payload length; returns its length. (Fragments built at L2 are checked per fragment.)
pub fn check_fits6(
    iface: &Interface,
    tag_bytes: usize,
    ext_bytes: usize,
    header_bytes: usize,
    data: usize,
) -> Result<usize> {
    let ip_bytes = 40 + ext_bytes + header_bytes + data;
    let limit = (iface.mtu as usize)
        .saturating_sub(tag_bytes)
        .min(MAX_IPV6_LEN);
    if ip_bytes <= limit {
        return Ok(ip_bytes);
    }
    let limited_by = if limit == MAX_IPV6_LEN {
        "IPv6's 16-bit payload length".to_string()
    } else if tag_bytes > 0 {
        format!(
            "the MTU of {} less {tag_bytes} bytes of VLAN tags",
            iface.name
        )
    } else {
        format!("the MTU of {}", iface.name)
    };
    Err(Error::invalid(
        Field::DataSize,
        format!(
            "{data} makes a {ip_bytes}-byte IPv6 packet (40 header + {ext_bytes} extension \
             headers + {header_bytes} header + {data} data) but {limited_by} allows {limit}: \
             the largest here is {}",
            limit.saturating_sub(40 + ext_bytes + header_bytes)
        ),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn iface(mtu: u32) -> Interface {
        Interface {
            name: "a-r1".into(),
            index: 2,
            mac: None,
            ipv4: Vec::new(),
            ipv6: Vec::new(),
            mtu,
            is_up: true,
            is_loopback: false,
        }
    }

    #[test]
    fn ipv6_fits_the_mtu_and_the_payload_length() {
        assert_eq!(check_fits6(&iface(1500), 0, 0, 8, 1452).unwrap(), 1500);
        let e = check_fits6(&iface(1500), 0, 8, 8, 1452)
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("1508-byte IPv6 packet") && e.contains("the MTU of a-r1 allows 1500"),
            "{e}"
        );
        assert!(e.contains("the largest here is 1444"), "{e}");
        let e = check_fits6(&iface(1500), 8, 0, 8, 1452)
            .unwrap_err()
            .to_string();
        assert!(e.contains("less 8 bytes of VLAN tags"), "{e}");
        let e = check_fits6(&iface(65536 * 2), 0, 0, 8, 65528)
            .unwrap_err()
            .to_string();
        assert!(e.contains("payload length allows 65575"), "{e}");
        assert_eq!(
            check_fits6(&iface(65536 * 2), 0, 0, 8, 65527).unwrap(),
            65575
        );
    }
}
