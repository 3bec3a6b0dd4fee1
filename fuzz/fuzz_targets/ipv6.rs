//! An IPv6 packet through the extension-header walker, every header's `Repr`, the ICMPv6
//! parser and the IPv6 fragmenter and reassembler (see `pktforge_fuzz::check_ipv6`).
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    pktforge_fuzz::check_ipv6(data);
});
