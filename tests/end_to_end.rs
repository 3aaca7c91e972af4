//! Both halves together: `hb run` reporting to a real `hb serve`.

use crate::serve_support::*;
use serde_json::json;
use std::process::Command;
use std::time::Duration;

fn hb_run(
    server: &ServeProcess,
    config: Option<&std::path::Path>,
    args: &[&str],
) -> std::process::Output {
    let mut command = Command::new(HB);
    command.arg("run");
    if let Some(config) = config {
        command.arg("--config").arg(config);
    }
    command.args(args);
    command
        .env("HB_SERVER", &server.base)
        .env_remove("HB_PING_KEY")
        .env_remove("HB_CONFIG")
        .env("XDG_CONFIG_HOME", "/nonexistent");
    command.output().unwrap()
}

#[test]
fn hb_run_reports_start_exit_code_duration_and_output() {
    let dir = tempfile::tempdir().unwrap();
    let server = ServeProcess::start(&dir.path().join("hb.db"), &[], &[]);
    let created = post(
        &server.url("/api/v1/heartbeats"),
        &json!({"name": "Backup PostgreSQL", "interval": "1d"}).to_string(),
    )
    .json();
    let uuid = created["uuid"].as_str().unwrap();

    let output = hb_run(
        &server,
        None,
        &[
            uuid,
            "--",
            "sh",
            "-c",
            "echo dumped; echo warning >&2; sleep 0.2; exit 3",
        ],
    );
    assert_eq!(output.status.code(), Some(3), "the job's exit code stands");
    assert_eq!(String::from_utf8_lossy(&output.stdout), "dumped\n");
    assert_eq!(String::from_utf8_lossy(&output.stderr), "warning\n");

    let check = get(&server.url(&format!("/api/v1/heartbeats/{uuid}"))).json();
    assert_eq!(check["status"], "down");
    assert!(check["last_duration"].as_f64().unwrap() >= 0.2);
    let pings = get(&server.url(&format!("/api/v1/heartbeats/{uuid}/pings"))).json();
    let end = &pings["pings"][0];
    assert_eq!(end["kind"], "fail");
    assert_eq!(end["exit_code"], 3);
    let body = end["body"].as_str().unwrap();
    assert!(
        body.contains("dumped") && body.contains("warning"),
        "{body}"
    );
    assert!(end["user_agent"].as_str().unwrap().starts_with("hb/"));
    assert_eq!(pings["pings"][1]["kind"], "start");
    assert_eq!(
        pings["pings"][1]["rid"], end["rid"],
        "start and end share a rid"
    );

    let output = hb_run(&server, None, &[uuid, "--", "true"]);
    assert_eq!(output.status.code(), Some(0));
    assert_eq!(
        get(&server.url(&format!("/api/v1/heartbeats/{uuid}"))).json()["status"],
        "up"
    );
}

#[test]
fn a_slug_from_the_config_file_reaches_its_check() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("config.toml");
    std::fs::write(
        &config,
        "ping_key = \"k3y\"\n[[check]]\nname = \"nightly-backup\"\ninterval = \"1d\"\n",
    )
    .unwrap();
    let config_arg = config.to_str().unwrap();
    let server = ServeProcess::start(&dir.path().join("hb.db"), &["--config", config_arg], &[]);
    let output = hb_run(&server, Some(&config), &["nightly-backup", "--", "true"]);
    assert_eq!(
        output.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let list = get(&server.url("/api/v1/heartbeats")).json();
    let check = &list["heartbeats"][0];
    assert_eq!(check["status"], "up");
    assert_eq!(check["n_pings"], 2);
    assert_eq!(check["managed"], true);
}

#[test]
fn a_monitor_that_is_down_never_fails_the_job() {
    let dir = tempfile::tempdir().unwrap();
    let mut server = ServeProcess::start(&dir.path().join("hb.db"), &[], &[]);
    server.signal(libc::SIGTERM);
    assert_eq!(server.wait(Duration::from_secs(10)), Some(0));
    let output = hb_run(
        &server,
        None,
        &[
            "--ping-budget",
            "1s",
            "0b9e5a2c-1111-4222-8333-444455556666",
            "--",
            "sh",
            "-c",
            "exit 7",
        ],
    );
    assert_eq!(output.status.code(), Some(7));
    // Each ping that did not get through is one `hb:` line naming the reason.
    let stderr = String::from_utf8_lossy(&output.stderr);
    let lines: Vec<&str> = stderr.lines().collect();
    assert!(!lines.is_empty() && lines.len() <= 2, "{stderr}");
    assert!(
        lines
            .iter()
            .all(|l| l.starts_with("hb: ") && l.contains("not delivered")),
        "{stderr}"
    );
    assert!(lines.iter().any(|l| l.contains("end ping")), "{stderr}");
}
