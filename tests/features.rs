//! A library user's build: a crate of its own that depends on pktforge with
//! `default-features = false` builds the library and every file in `examples/` (each with the
//! dependencies its `//! Dependencies:` line declares), and its dependency tree has no `pcap`
//! crate, so it needs no libpcap.
//!
//! Cargo runs inside the test with a target directory of its own (under this build's
//! `target/tmp`), so it never waits on the lock of the build running the test, and offline:
//! the dependencies are those of this repository's `Cargo.lock`, already fetched.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

const MANIFEST_DIR: &str = env!("CARGO_MANIFEST_DIR");

/// The examples, as (name, path, declared dependencies).
fn examples() -> Vec<(String, PathBuf, Vec<String>)> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(Path::new(MANIFEST_DIR).join("examples")).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().and_then(|e| e.to_str()) != Some("rs") {
            continue;
        }
        let name = path.file_stem().unwrap().to_str().unwrap().to_string();
        let text = std::fs::read_to_string(&path).unwrap();
        let deps = text
            .lines()
            .filter_map(|l| l.strip_prefix("//! Dependencies:"))
            .flat_map(|l| l.split(';').map(|d| d.trim().to_string()))
            .filter(|d| !d.is_empty())
            .collect();
        out.push((name, path, deps));
    }
    out.sort();
    out
}

/// A crate depending on pktforge with `default-features = false`, with every example.
fn user_crate(dir: &Path) {
    let mut deps: Vec<String> = Vec::new();
    let mut targets = String::new();
    for (name, path, d) in examples() {
        for dep in d {
            if !deps.contains(&dep) {
                deps.push(dep);
            }
        }
        targets += &format!("\n[[example]]\nname = {name:?}\npath = {path:?}\n");
    }
    let manifest = format!(
        "[package]\nname = \"pktforge-user\"\nversion = \"0.0.0\"\nedition = \"2021\"\n\
         publish = false\n\n[workspace]\n\n[dependencies]\n\
         pktforge = {{ path = {MANIFEST_DIR:?}, default-features = false }}\n{}\n{targets}",
        deps.join("\n")
    );
    std::fs::create_dir_all(dir.join("src")).unwrap();
    std::fs::write(dir.join("Cargo.toml"), manifest).unwrap();
    std::fs::write(
        dir.join("src/lib.rs"),
        "//! Uses pktforge's library only.\n",
    )
    .unwrap();
    // Resolve offline to the versions this repository already uses.
    std::fs::copy(
        Path::new(MANIFEST_DIR).join("Cargo.lock"),
        dir.join("Cargo.lock"),
    )
    .unwrap();
}

fn cargo(dir: &Path, args: &[&str]) -> String {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let out = Command::new(cargo)
        .args(args)
        .arg("--offline")
        .current_dir(dir)
        .env("CARGO_TARGET_DIR", dir.join("target"))
        .output()
        .expect("cargo runs");
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "cargo {args:?} in {}:\n{text}\n{}",
        dir.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    text
}

#[test]
fn without_default_features_the_library_and_every_example_build_with_no_libpcap() {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("no-default-features-user");
    user_crate(&dir);
    let names: Vec<String> = examples().into_iter().map(|(n, ..)| n).collect();
    assert!(names.len() >= 5, "examples: {names:?}");

    let tree = cargo(&dir, &["tree", "-e", "normal", "--prefix", "none"]);
    assert!(
        tree.lines().any(|l| l.starts_with("pktforge v")),
        "the tree lists pktforge:\n{tree}"
    );
    let pcap: Vec<&str> = tree.lines().filter(|l| l.starts_with("pcap v")).collect();
    assert!(
        pcap.is_empty(),
        "default-features = false pulls in {pcap:?}:\n{tree}"
    );

    // The library and every example, as a user of the library builds them.
    cargo(&dir, &["build", "--lib", "--examples"]);
    for name in &names {
        assert!(
            dir.join("target/debug/examples").join(name).exists(),
            "example {name} was not built"
        );
    }
}

#[cfg(feature = "pcap-filter")]
#[test]
fn the_default_features_keep_the_filter_compiler() {
    // The control for the test above: the command-line build still links libpcap's compiler.
    let f = pktforge::filter::Filter::compile("icmp").expect("compiles with pcap-filter");
    assert!(!f.is_everything() && f.program.len() > 1, "{}", f.dump());
}

/// The README's run line does its own set-up: `.ci/install --run` first, which installs what
/// the build links when it is missing and nothing otherwise.
#[test]
fn the_readme_run_line_installs_what_the_build_links_first() {
    let readme = std::fs::read_to_string(Path::new(MANIFEST_DIR).join("README.md")).unwrap();
    let quick = &readme[readme.find("## Quick start").expect("a Quick start")..];
    let run = quick
        .lines()
        .find(|l| l.contains("cargo run"))
        .expect("a run line");
    assert_eq!(
        run,
        ".ci/install --run && cargo run --release -- ping -c 3 127.0.0.1"
    );
    // Here everything is installed: nothing to do, success, as any user.
    let out = Command::new(Path::new(MANIFEST_DIR).join(".ci/install"))
        .arg("--run")
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");

    // A machine without libpcap's headers (hidden under an empty tmpfs in a mount namespace of
    // its own), as a user who is not root: the script names what it would install and how,
    // and installs nothing.
    if !common::can_run_lab() {
        return;
    }
    let script = std::fs::File::open(Path::new(MANIFEST_DIR).join(".ci/install")).unwrap();
    let out = Command::new("unshare")
        .args([
            "-m",
            "sh",
            "-c",
            "mount --make-rprivate / && mount -t tmpfs none /usr/include/pcap && \
             exec setpriv --reuid=65534 --regid=65534 --clear-groups bash -s -- --run",
        ])
        .stdin(script)
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("missing libpcap-dev"), "{err}");
    assert!(err.contains("sudo apt-get install libpcap-dev"), "{err}");
    assert!(
        !err.contains("iputils-ping") && !err.contains("tshark"),
        "--run asks only for what the build needs: {err}"
    );
}
