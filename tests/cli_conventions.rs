//! Shell completions and manual pages come from the clap definitions, and no help text points
//! at a file the repository does not have.

use std::process::Command;

fn pktforge(args: &[&str]) -> (i32, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_pktforge"))
        .args(args)
        .output()
        .expect("running pktforge");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
    )
}

#[test]
fn completions_for_every_shell_name_every_subcommand() {
    for shell in ["bash", "zsh", "fish", "elvish", "powershell"] {
        let (code, text) = pktforge(&["completions", shell]);
        assert_eq!(code, 0, "{shell}");
        for sub in ["ping", "trace", "capture", "blast", "reflect"] {
            assert!(text.contains(sub), "{shell} completion lacks {sub}");
        }
    }
    let (_, bash) = pktforge(&["completions", "bash"]);
    assert!(bash.contains("--record-route"), "flags complete too");
}

#[test]
fn man_pages_are_generated_for_the_tool_and_each_subcommand() {
    let (code, page) = pktforge(&["man"]);
    assert_eq!(code, 0);
    assert!(
        page.starts_with(".ie") || page.contains(".TH pktforge"),
        "{}",
        &page[..80.min(page.len())]
    );
    let dir = std::env::temp_dir().join(format!("pktforge-man-{}", std::process::id()));
    let (code, _) = pktforge(&["man", "--out-dir", dir.to_str().unwrap()]);
    assert_eq!(code, 0);
    for f in [
        "pktforge.1",
        "pktforge-ping.1",
        "pktforge-trace.1",
        "pktforge-blast.1",
    ] {
        let text = std::fs::read_to_string(dir.join(f)).unwrap_or_else(|e| panic!("{f}: {e}"));
        assert!(text.contains(".TH"), "{f}");
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn help_texts_cite_no_file_outside_the_repository() {
    let (_, top) = pktforge(&["--help"]);
    let subs: Vec<String> = top
        .lines()
        .skip_while(|l| !l.starts_with("Commands:"))
        .skip(1)
        .take_while(|l| l.starts_with("  "))
        .filter_map(|l| l.split_whitespace().next().map(str::to_string))
        .collect();
    assert!(subs.len() >= 12, "{subs:?}");
    for sub in subs.iter().chain(["lab up".to_string()].iter()) {
        let mut args: Vec<&str> = sub.split(' ').collect();
        args.push("--help");
        let (_, help) = pktforge(&args);
        for word in help.split_whitespace() {
            let w = word.trim_matches(|c: char| !c.is_alphanumeric() && c != '.' && c != '/');
            if w.ends_with(".md") || w.ends_with(".rs") {
                let exists = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
                    .join(w)
                    .exists();
                assert!(
                    exists,
                    "`pktforge {sub} --help` cites {w}, which is not in the repository"
                );
            }
        }
    }
}
