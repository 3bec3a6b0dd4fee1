//! `IcmpRepr::parse`, and the datagrams errors quote (nested): parse → emit → parse gives
//! the same value; canonical input is rebuilt byte for byte.
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let _ = pktforge_fuzz::check_icmp(data);
});
