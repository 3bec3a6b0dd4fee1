//! ICMP (being written)
