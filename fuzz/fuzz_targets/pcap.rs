//! The pcap reader: no panic, records never longer than the bytes that were there, and no
//! allocation much larger than the input (a length field is not trusted).
#![no_main]
use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};

use pktforge::link::pcap::PcapReader;

/// Largest single allocation since the last reset.
static LARGEST: AtomicUsize = AtomicUsize::new(0);

struct Watch;

// SAFETY: forwards to the system allocator, only recording sizes.
unsafe impl GlobalAlloc for Watch {
    unsafe fn alloc(&self, l: Layout) -> *mut u8 {
        LARGEST.fetch_max(l.size(), Ordering::Relaxed);
        System.alloc(l)
    }
    unsafe fn dealloc(&self, p: *mut u8, l: Layout) {
        System.dealloc(p, l)
    }
    unsafe fn realloc(&self, p: *mut u8, l: Layout, new: usize) -> *mut u8 {
        LARGEST.fetch_max(new, Ordering::Relaxed);
        System.realloc(p, l, new)
    }
}

#[global_allocator]
static A: Watch = Watch;

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    LARGEST.store(0, Ordering::Relaxed);
    let Ok(r) = PcapReader::new(data, "fuzz") else {
        return;
    };
    let _ = (r.linktype(), r.nanosecond(), r.snaplen());
    let (mut records, mut bytes, mut errors) = (0usize, 0usize, 0usize);
    for rec in r {
        match rec {
            Ok((_, f)) => {
                records += 1;
                bytes += f.len();
            }
            Err(e) => {
                let _ = e.to_string();
                errors += 1;
            }
        }
    }
    assert!(errors <= 1, "the reader goes on after an error");
    assert!(
        24 + 16 * records + bytes <= data.len(),
        "records longer than the file"
    );
    // The reader reserves up to 16 KiB for a record, then grows as the data arrives.
    let largest = LARGEST.load(Ordering::Relaxed);
    assert!(
        largest <= 64 * 1024 + 4 * data.len(),
        "allocated {largest} bytes reading a {}-byte file",
        data.len()
    );
});
