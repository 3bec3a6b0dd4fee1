//! `Ipv4Repr::parse` (and the options inside): parse → emit → parse gives the same value.
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let _ = pktforge_fuzz::check_ipv4(data);
});
