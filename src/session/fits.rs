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
