//! `completions/` and `man/` are generated from the clap definitions and committed.
//! This test fails when they are stale; `HB_UPDATE_DOCS=1 cargo test --test
//! generated_docs` rewrites them.

use std::path::Path;
use std::process::Command;

const HB: &str = env!("CARGO_BIN_EXE_hb");

const SHELLS: [(&str, &str); 5] = [
    ("bash", "hb.bash"),
    ("zsh", "_hb"),
    ("fish", "hb.fish"),
    ("elvish", "hb.elv"),
    ("powershell", "_hb.ps1"),
];

fn check_or_update(path: &Path, fresh: &[u8], stale: &mut Vec<String>) {
    if std::env::var_os("HB_UPDATE_DOCS").is_some() {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, fresh).unwrap();
        return;
    }
    match std::fs::read(path) {
        Ok(committed) if committed == fresh => {}
        _ => stale.push(path.display().to_string()),
    }
}

#[test]
fn completions_and_man_pages_are_up_to_date() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut stale = Vec::new();
    for (shell, file) in SHELLS {
        let output = Command::new(HB)
            .args(["completions", shell])
            .output()
            .unwrap();
        assert!(output.status.success(), "hb completions {shell}");
        assert!(!output.stdout.is_empty());
        check_or_update(
            &root.join("completions").join(file),
            &output.stdout,
            &mut stale,
        );
    }
    let dir = tempfile::tempdir().unwrap();
    let status = Command::new(HB)
        .arg("man")
        .arg(dir.path())
        .status()
        .unwrap();
    assert!(status.success());
    let mut pages: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    pages.sort();
    for sub in [
        "hb.1",
        "hb-run.1",
        "hb-ping.1",
        "hb-schedule.1",
        "hb-serve.1",
    ] {
        assert!(pages.iter().any(|p| p == sub), "{sub} generated: {pages:?}");
    }
    for page in &pages {
        let fresh = std::fs::read(dir.path().join(page)).unwrap();
        check_or_update(&root.join("man").join(page), &fresh, &mut stale);
    }
    let committed: Vec<_> = std::fs::read_dir(root.join("man"))
        .map(|d| {
            d.map(|e| e.unwrap().file_name().into_string().unwrap())
                .collect()
        })
        .unwrap_or_default();
    for page in committed {
        if !pages.contains(&page) {
            stale.push(format!("man/{page} (no longer generated)"));
        }
    }
    assert!(
        stale.is_empty(),
        "stale generated files: {stale:?}; run HB_UPDATE_DOCS=1 cargo test --test generated_docs and commit"
    );
    let stdout = Command::new(HB).arg("man").output().unwrap().stdout;
    assert!(String::from_utf8_lossy(&stdout).contains(".TH hb 1"));
}
