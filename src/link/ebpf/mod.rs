//! eBPF: an assembler for the programs written in Rust ([`asm`]) and, on Linux, the loader
//! (`bpf(2)`: programs, maps, verifier log) and BTF lookups of kernel functions.

pub mod asm;
#[cfg(target_os = "linux")]
pub(crate) mod btf;
#[cfg(target_os = "linux")]
pub(crate) mod loader;
