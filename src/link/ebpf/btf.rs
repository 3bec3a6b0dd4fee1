//! Finding a kernel function's BTF id in `/sys/kernel/btf/vmlinux`, so an eBPF program can
//! call it (a kfunc call names its target by that id). Only the type section's layout is read:
//! each type's fixed header and the size of what follows it, per kind.

/// `BTF_KIND_FUNC`.
const KIND_FUNC: u32 = 12;

/// The BTF id of the function `name` in the running kernel's BTF; None when the kernel has no
/// BTF or no such function.
pub(crate) fn vmlinux_func_id(name: &str) -> Option<u32> {
    let btf = std::fs::read("/sys/kernel/btf/vmlinux").ok()?;
    func_id(&btf, name)
}

fn u32_at(b: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_ne_bytes(b.get(at..at + 4)?.try_into().ok()?))
}

/// The id of FUNC `name` in the BTF blob `btf` (native byte order).
fn func_id(btf: &[u8], name: &str) -> Option<u32> {
    if btf.get(0..2)? != 0xeb9fu16.to_ne_bytes() {
        return None;
    }
    let hdr_len = u32_at(btf, 4)? as usize;
    let type_off = u32_at(btf, 8)? as usize;
    let type_len = u32_at(btf, 12)? as usize;
    let str_off = u32_at(btf, 16)? as usize;
    let str_len = u32_at(btf, 20)? as usize;
    let types = btf.get(hdr_len + type_off..hdr_len + type_off + type_len)?;
    let strings = btf.get(hdr_len + str_off..hdr_len + str_off + str_len)?;
    let name_at = |off: usize| -> Option<&[u8]> {
        let s = strings.get(off..)?;
        Some(&s[..s.iter().position(|&c| c == 0)?])
    };
    let (mut at, mut id) = (0usize, 1u32);
    while at + 12 <= types.len() {
        let name_off = u32_at(types, at)? as usize;
        let info = u32_at(types, at + 4)?;
        let kind = (info >> 24) & 0x1f;
        let vlen = (info & 0xffff) as usize;
        if kind == KIND_FUNC && name_at(name_off)? == name.as_bytes() {
            return Some(id);
        }
        // What follows the 12-byte header, per kind (linux/btf.h).
        let extra = match kind {
            1 | 14 | 17 => 4,              // INT, VAR, DECL_TAG
            3 => 12,                       // ARRAY
            4 | 5 | 15 | 19 => 12 * vlen,  // STRUCT, UNION, DATASEC, ENUM64
            6 | 13 => 8 * vlen,            // ENUM, FUNC_PROTO
            0 | 2 | 7..=12 | 16 | 18 => 0, // PTR, FWD, TYPEDEF, qualifiers, FUNC, FLOAT, TYPE_TAG
            _ => return None,
        };
        at += 12 + extra;
        id += 1;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A BTF blob with the given (kind, vlen, name) types.
    fn blob(types: &[(u32, u32, &str)]) -> Vec<u8> {
        let mut strings = vec![0u8];
        let mut t = Vec::new();
        for &(kind, vlen, name) in types {
            let off = strings.len() as u32;
            strings.extend(name.bytes());
            strings.push(0);
            t.extend(off.to_ne_bytes());
            t.extend((kind << 24 | vlen).to_ne_bytes());
            t.extend(0u32.to_ne_bytes());
            let extra = match kind {
                1 => 4,
                4 => 12 * vlen,
                13 => 8 * vlen,
                _ => 0,
            };
            t.extend(vec![0u8; extra as usize]);
        }
        let mut b = Vec::new();
        b.extend(0xeb9fu16.to_ne_bytes());
        b.extend([1, 0]);
        b.extend(24u32.to_ne_bytes());
        b.extend(0u32.to_ne_bytes());
        b.extend((t.len() as u32).to_ne_bytes());
        b.extend((t.len() as u32).to_ne_bytes());
        b.extend((strings.len() as u32).to_ne_bytes());
        b.extend(t);
        b.extend(strings);
        b
    }

    #[test]
    fn finds_a_function_past_types_of_every_size() {
        let b = blob(&[
            (1, 0, "int"),
            (4, 3, "xdp_md"),
            (13, 3, ""),
            (12, 0, "other"),
            (12, 0, "bpf_xdp_metadata_rx_vlan_tag"),
        ]);
        assert_eq!(func_id(&b, "bpf_xdp_metadata_rx_vlan_tag"), Some(5));
        assert_eq!(func_id(&b, "other"), Some(4));
        assert_eq!(func_id(&b, "int"), None, "not a FUNC");
        assert_eq!(func_id(&b, "missing"), None);
        for n in 0..b.len() {
            let _ = func_id(&b[..n], "other");
        }
        assert_eq!(func_id(&[0u8; 24], "other"), None);
    }

    #[test]
    fn the_running_kernel_has_the_vlan_tag_kfunc() {
        // Informational where /sys/kernel/btf is missing; on this project's kernels (6.18)
        // the id must be found.
        if std::path::Path::new("/sys/kernel/btf/vmlinux").exists() {
            assert!(vmlinux_func_id("bpf_xdp_metadata_rx_vlan_tag").is_some());
            assert!(vmlinux_func_id("no_such_function_here").is_none());
        }
    }
}
