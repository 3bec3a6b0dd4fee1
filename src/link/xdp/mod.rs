//! XDP, Linux only: the AF_XDP transmit path of the fast link (`afxdp`) and live frames
//! (`live`: an XDP program that rewrites frames already in flight, for blast).

pub(crate) mod afxdp;
pub(crate) mod live;
