//! `parse_options` / `IpOption`: parse → emit → parse gives the same options, and the bytes
//! up to an EOL are rebuilt exactly (round trip for areas an IPv4 header can have: a multiple
//! of 4 bytes, at most 40; any other length is only parsed).
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let _ = pktforge_fuzz::check_options(data);
});
