//! The capture-file reader (pcap and pcapng): no panic, records never longer than the bytes
//! that were there, iteration ends after an error, and no allocation beyond the reader's
//! fixed read chunk plus a multiple of the input (a length field is not trusted).
#![no_main]
use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};

use pktforge::link::capfile::{CaptureFile, CHUNK};

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
    let Ok(r) = CaptureFile::new(data, "fuzz") else {
        return;
    };
    let _ = (r.linktype(), r.name());
    let (mut records, mut bytes, mut errors) = (0usize, 0usize, 0usize);
    for rec in r {
        match rec {
            Ok(rec) => {
                records += 1;
                bytes += rec.data.len();
            }
            Err(e) => {
                let _ = e.to_string();
                errors += 1;
            }
        }
    }
    assert!(errors <= 1, "the reader goes on after an error");
    // Every record takes at least a 16-byte header (pcap) or 16-byte block (pcapng) after a
    // file header of 24 or more; cooked headers only shrink when made Ethernet.
    assert!(
        24 + 16 * records + bytes <= data.len(),
        "records longer than the file"
    );
    // The reader reads the input a chunk at a time into one buffer.
    let largest = LARGEST.load(Ordering::Relaxed);
    assert!(
        largest <= 2 * CHUNK + 4 * data.len(),
        "allocated {largest} bytes reading a {}-byte file",
        data.len()
    );
});
