//! `wire::parse_frame` and `EthernetRepr::parse`: parse → emit → parse gives the same value,
//! and canonical input is rebuilt byte for byte.
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| pktforge_fuzz::check_frame(data));
