//! The library's layers hold: no module imports one from a layer above it, and no two
//! top-level modules import each other (directly or around a cycle).
//!
//! The order is the one `src/lib.rs` documents, bottom first (see [`LAYERS`]). The test reads
//! every `crate::…` path in `src/` outside comments and string literals (grouped
//! `use crate::{a::X, b::Y}` included) and checks each against the order. Test code is not
//! part of the library's graph and may use any module (the lab's throw-away namespaces above
//! all): files named `tests.rs` or `*_tests.rs`, `lab/testing.rs`, and a file's inline
//! `#[cfg(test)] mod … { … }` (last in its file, as clippy's `items_after_test_module` keeps
//! it) are left out.
//!
//! It fails when an upward import is added: `checker_catches_an_upward_import` and
//! `checker_catches_a_cycle` feed the same checker a source line that `wire` could never
//! contain (`use crate::probe::ping::PingRequest;`) and a two-module cycle, and assert that both
//! are reported. Adding that line to any file under `src/wire/` makes `layers_hold` fail with
//! `wire (layer 0) imports probe (layer 8) in src/wire/...`.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// Top-level modules by layer, bottom first. A module may import its own layer's modules
/// (without a cycle) and any layer below.
const LAYERS: &[&[&str]] = &[
    // bytes <-> values, no I/O
    &["wire"],
    // the library's error type and the stop flag
    &["error", "stop"],
    // frames as named fields
    &["dissect"],
    // interface, route, source address, neighbours
    &["net"],
    // moving frames: packet sockets, XDP, classic BPF, capture files
    &["link"],
    // tcpdump's filter language (to classic BPF); the one record stream every run reports
    &["filter", "event"],
    // what every driver opens its run through
    &["session"],
    // frame specs from the command line's fields; the namespace lab
    &["craft", "lab"],
    // the drivers
    &["probe", "blast", "reflect", "capture", "send"],
    // benchmarks that run the drivers (each RFC 2544 trial a blast)
    &["bench"],
];

/// Layers whose modules may not import each other at all: the drivers share what they share
/// through the layers below (the session, events, the wire), never sideways.
const ISOLATED: &[usize] = &[LAYERS.len() - 2];

fn layer_of(module: &str) -> Option<usize> {
    LAYERS.iter().position(|l| l.contains(&module))
}

/// Source with comments and the contents of string and char literals blanked out.
fn code_only(src: &str) -> String {
    let b = src.as_bytes();
    let mut out = String::with_capacity(src.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'/' && b.get(i + 1) == Some(&b'/') {
            while i < b.len() && b[i] != b'\n' {
                i += 1;
            }
        } else if b[i] == b'/' && b.get(i + 1) == Some(&b'*') {
            let mut depth = 0;
            while i < b.len() {
                if b[i] == b'/' && b.get(i + 1) == Some(&b'*') {
                    depth += 1;
                    i += 2;
                } else if b[i] == b'*' && b.get(i + 1) == Some(&b'/') {
                    depth -= 1;
                    i += 2;
                    if depth == 0 {
                        break;
                    }
                } else {
                    i += 1;
                }
            }
        } else if b[i] == b'r' && (b.get(i + 1) == Some(&b'"') || b.get(i + 1) == Some(&b'#')) {
            // raw string r"..." or r#"..."#
            let mut j = i + 1;
            let mut hashes = 0;
            while b.get(j) == Some(&b'#') {
                hashes += 1;
                j += 1;
            }
            if b.get(j) != Some(&b'"') {
                out.push('r');
                i += 1;
                continue;
            }
            j += 1;
            let closing: Vec<u8> = std::iter::once(b'"')
                .chain(std::iter::repeat_n(b'#', hashes))
                .collect();
            while j < b.len() && !b[j..].starts_with(&closing) {
                j += 1;
            }
            i = j + closing.len();
            out.push_str("\"\"");
        } else if b[i] == b'"' {
            i += 1;
            while i < b.len() && b[i] != b'"' {
                if b[i] == b'\\' {
                    i += 1;
                }
                i += 1;
            }
            i += 1;
            out.push_str("\"\"");
        } else if b[i] == b'\'' {
            // a char literal ('x', '\n', '\u{..}') or a lifetime ('a)
            let rest = &src[i + 1..];
            let close = if let Some(escaped) = rest.strip_prefix('\\') {
                escaped.find('\'').map(|p| p + 2)
            } else {
                rest.chars().next().and_then(|c| {
                    let n = c.len_utf8();
                    (rest.as_bytes().get(n) == Some(&b'\'')).then_some(n)
                })
            };
            match close {
                Some(n) => {
                    i += n + 2;
                    out.push_str("' '");
                }
                None => {
                    out.push('\'');
                    i += 1;
                }
            }
        } else {
            let c = src[i..].chars().next().unwrap();
            out.push(c);
            i += c.len_utf8();
        }
    }
    out
}

fn ident_at(s: &str) -> &str {
    let end = s
        .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .unwrap_or(s.len());
    &s[..end]
}

/// The top-level modules a piece of code names through `crate::`.
fn crate_imports(code: &str) -> BTreeSet<String> {
    let mut found = BTreeSet::new();
    for (at, _) in code.match_indices("crate::") {
        // `$crate::` in macros and `pktforge_crate::` are not ours
        let before = code[..at].chars().next_back();
        if before.is_some_and(|c| c.is_ascii_alphanumeric() || c == '_' || c == '$') {
            continue;
        }
        let rest = code[at + "crate::".len()..].trim_start();
        if let Some(group) = rest.strip_prefix('{') {
            // use crate::{a::X, b::{Y, Z}, c};
            let mut depth = 0usize;
            let mut start = true;
            for (i, c) in group.char_indices() {
                match c {
                    '{' => depth += 1,
                    '}' if depth == 0 => break,
                    '}' => depth -= 1,
                    ',' if depth == 0 => start = true,
                    c if start && !c.is_whitespace() => {
                        start = false;
                        let id = ident_at(&group[i..]);
                        if !id.is_empty() {
                            found.insert(id.to_string());
                        }
                    }
                    _ => {}
                }
            }
        } else {
            let id = ident_at(rest);
            if !id.is_empty() {
                found.insert(id.to_string());
            }
        }
    }
    found
}

/// The top-level module a file under `src/` belongs to (`None` for `lib.rs` and `main.rs`).
fn module_of(src_root: &Path, file: &Path) -> Option<String> {
    let rel = file.strip_prefix(src_root).ok()?;
    let first = rel.components().next()?.as_os_str().to_str()?;
    let name = first.strip_suffix(".rs").unwrap_or(first);
    (name != "lib" && name != "main").then(|| name.to_string())
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let mut entries: Vec<_> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .collect();
    entries.sort();
    for p in entries {
        if p.is_dir() {
            rust_files(&p, out);
        } else if p.extension().is_some_and(|e| e == "rs") {
            out.push(p);
        }
    }
}

/// Every import that breaks the layers, as a sentence; `files` maps module → (file, code).
fn violations(files: &[(String, String, String)]) -> Vec<String> {
    let mut bad = Vec::new();
    let mut edges: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for (module, file, code) in files {
        let Some(from) = layer_of(module) else {
            bad.push(format!(
                "{file}: module `{module}` is in no layer: add it to LAYERS (and to lib.rs's table)"
            ));
            continue;
        };
        for target in crate_imports(&code_only(code)) {
            if &target == module || target == "self" {
                continue;
            }
            // crate::Error, crate::Result etc.: the root's re-exports
            let Some(to) = layer_of(&target) else {
                if target.starts_with(|c: char| c.is_ascii_lowercase()) {
                    bad.push(format!(
                        "{file}: imports crate::{target}, a module in no layer"
                    ));
                }
                continue;
            };
            if to > from {
                bad.push(format!(
                    "{module} (layer {from}) imports {target} (layer {to}) in {file}"
                ));
            } else if to == from && ISOLATED.contains(&from) {
                bad.push(format!(
                    "{module} imports {target} sideways in {file}: drivers share through the \
                     layers below"
                ));
            }
            edges
                .entry(module.clone())
                .or_default()
                .insert(target.clone());
        }
    }
    // cycles between top-level modules (within one layer)
    for (a, targets) in &edges {
        for b in targets {
            if a < b && edges.get(b).is_some_and(|t| t.contains(a)) {
                bad.push(format!("{a} and {b} import each other"));
            }
        }
    }
    let nodes: Vec<&String> = edges.keys().collect();
    for start in &nodes {
        // a longer cycle: start reaches itself through at least two others
        let mut seen = BTreeSet::new();
        let mut stack: Vec<&String> = edges[*start].iter().collect();
        while let Some(n) = stack.pop() {
            if n == *start {
                if !bad.iter().any(|b| b.contains("cycle through")) {
                    bad.push(format!("a cycle through {start}"));
                }
                break;
            }
            if seen.insert(n) {
                if let Some(next) = edges.get(n) {
                    stack.extend(next.iter());
                }
            }
        }
    }
    bad
}

/// Whether a file holds only test code.
fn test_only(p: &Path) -> bool {
    let name = p.file_name().and_then(|n| n.to_str()).unwrap_or("");
    name == "tests.rs" || name.ends_with("_tests.rs") || p.ends_with("lab/testing.rs")
}

/// A file's code without its inline test module (the last item of the file).
fn without_test_module(code: &str) -> &str {
    let mut at = code.len();
    for marker in ["#[cfg(test)]\nmod ", "#[cfg(test)]\npub(crate) mod "] {
        if let Some(i) = code.find(marker) {
            let after = &code[i + marker.len()..];
            let ident = ident_at(after);
            if after[ident.len()..].trim_start().starts_with('{') {
                at = at.min(i);
            }
        }
    }
    &code[..at]
}

fn read_tree() -> Vec<(String, String, String)> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut paths = Vec::new();
    rust_files(&root, &mut paths);
    paths
        .iter()
        .filter(|p| !p.starts_with(root.join("cli")) && !test_only(p))
        .filter_map(|p| {
            let module = module_of(&root, p)?;
            let code = std::fs::read_to_string(p).unwrap();
            let code = without_test_module(&code).to_string();
            Some((module, p.display().to_string(), code))
        })
        .collect()
}

#[test]
fn layers_hold() {
    let files = read_tree();
    assert!(files.len() > 50, "read only {} files", files.len());
    let bad = violations(&files);
    assert!(
        bad.is_empty(),
        "the layers do not hold:\n{}",
        bad.join("\n")
    );
}

#[test]
fn checker_catches_an_upward_import() {
    let files = vec![
        (
            "wire".to_string(),
            "src/wire/x.rs".to_string(),
            "use crate::probe::ping::PingRequest;\n// crate::blast in a comment\nfn f() { let s = \"crate::reflect\"; }".to_string(),
        ),
        (
            "probe".to_string(),
            "src/probe/x.rs".to_string(),
            "use crate::{wire::{A, B}, link::C};".to_string(),
        ),
    ];
    let bad = violations(&files);
    let upward: Vec<_> = bad.iter().filter(|b| b.contains(" imports ")).collect();
    // the comment and the string literal are not imports; the grouped ones go down
    assert_eq!(upward.len(), 1, "{bad:?}");
    assert!(
        upward[0].contains("wire (layer 0) imports probe"),
        "{bad:?}"
    );
}

#[test]
fn checker_catches_a_cycle() {
    let files = vec![
        (
            "probe".to_string(),
            "src/probe/a.rs".to_string(),
            "use crate::blast::X;".to_string(),
        ),
        (
            "blast".to_string(),
            "src/blast/b.rs".to_string(),
            "fn f() { crate::probe::run(); }".to_string(),
        ),
    ];
    let bad = violations(&files);
    assert!(
        bad.iter()
            .any(|b| b.contains("blast and probe import each other")),
        "{bad:?}"
    );
}

#[test]
fn checker_catches_a_driver_reaching_sideways() {
    let files = vec![(
        "blast".to_string(),
        "src/blast/mod.rs".to_string(),
        "use crate::probe::engine::check_fits;".to_string(),
    )];
    let bad = violations(&files);
    assert!(
        bad.iter()
            .any(|b| b.contains("blast imports probe sideways")),
        "{bad:?}"
    );
}

#[test]
fn test_modules_are_left_out() {
    let code = "use crate::wire::X;\n#[cfg(test)]\nmod tests {\n    use crate::lab::testing;\n}\n";
    assert_eq!(without_test_module(code), "use crate::wire::X;\n");
    // a cfg(test) item that is not a module body stays
    let code = "#[cfg(test)]\nmod tests;\nuse crate::net::Y;\n";
    assert_eq!(without_test_module(code), code);
    assert!(test_only(Path::new("src/link/fast_tests.rs")));
    assert!(!test_only(Path::new("src/link/fast/mod.rs")));
}

#[test]
fn grouped_and_nested_imports_are_read() {
    let got = crate_imports(
        "use crate::{wire::{A, B}, link::C, self};\nlet x = crate::net::route::get();",
    );
    let want: BTreeSet<String> = ["wire", "link", "self", "net"]
        .iter()
        .map(|s| s.to_string())
        .collect();
    assert_eq!(got, want);
}
