//! `hb ping ID [SIGNAL]`: URLs, bodies and exit codes (0 delivered, 1 not, 2 usage).

use std::io::Write;
use std::process::Stdio;
use std::time::{Duration, Instant};

use crate::support::ping_server::{PingServer, Reply, refused_url};
use crate::support::{FAST, UUID, hb, run};

const LIMIT: Duration = Duration::from_secs(20);

#[test]
fn each_signal_goes_to_its_url() {
    let server = PingServer::start();
    for signal in [
        None,
        Some("success"),
        Some("start"),
        Some("fail"),
        Some("log"),
        Some("0"),
        Some("255"),
    ] {
        let mut cmd = hb();
        cmd.args(["ping", &server.url("/ping/u")]).args(signal);
        let out = run(cmd, LIMIT);
        assert_eq!(out.code, Some(0), "{signal:?}: {}", out.stderr);
        assert_eq!(out.stderr, "");
    }
    let paths: Vec<String> = server
        .wait_for(7, LIMIT)
        .iter()
        .map(|r| r.target.clone())
        .collect();
    assert_eq!(
        paths,
        [
            "/ping/u",
            "/ping/u",
            "/ping/u/start",
            "/ping/u/fail",
            "/ping/u/log",
            "/ping/u/0",
            "/ping/u/255"
        ]
    );
}

#[test]
fn a_uuid_goes_to_the_server() {
    let server = PingServer::start();
    let mut cmd = hb();
    cmd.args(["ping", "--server", &server.url("/"), UUID, "fail"]);
    assert_eq!(run(cmd, LIMIT).code, Some(0));
    assert_eq!(
        server.wait_for(1, LIMIT)[0].target,
        format!("/api/v1/ping/{UUID}/fail")
    );
}

#[test]
fn bad_signals_are_usage_errors() {
    for bad in ["300", "bogus", "-1"] {
        let mut cmd = hb();
        cmd.args(["ping", "http://127.0.0.1:9/p", "--", bad]);
        let out = run(cmd, LIMIT);
        assert_eq!(out.code, Some(2), "{bad}: {}", out.stderr);
        assert!(
            out.stderr.contains(&format!("`{bad}` is not a signal")),
            "{}",
            out.stderr
        );
    }
}

#[test]
fn data_comes_from_text_a_file_or_stdin() {
    let server = PingServer::start();
    let url = server.url("/p");
    let mut cmd = hb();
    cmd.args(["ping", &url, "log", "--data", "plain text"]);
    assert_eq!(run(cmd, LIMIT).code, Some(0));

    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("body.txt");
    std::fs::write(&file, "from a file\n").unwrap();
    let mut cmd = hb();
    cmd.args(["ping", &url, "log", "--data"])
        .arg(format!("@{}", file.display()));
    assert_eq!(run(cmd, LIMIT).code, Some(0));

    let mut cmd = hb();
    cmd.args(["ping", &url, "log", "--data", "-"]);
    cmd.stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let begin = Instant::now();
    let mut child = cmd.spawn().unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(b"from stdin")
        .unwrap();
    assert_eq!(crate::support::finish(child, begin, LIMIT).code, Some(0));

    let bodies: Vec<String> = server
        .wait_for(3, LIMIT)
        .iter()
        .map(|r| r.body_text())
        .collect();
    assert_eq!(bodies, ["plain text", "from a file\n", "from stdin"]);

    let mut cmd = hb();
    cmd.args(["ping", &url, "--data", "@/no/such/file"]);
    let out = run(cmd, LIMIT);
    assert_eq!(out.code, Some(2));
    assert!(out.stderr.contains("/no/such/file"), "{}", out.stderr);
}

#[test]
fn not_delivered_is_exit_1_with_the_reason() {
    let server = PingServer::start();
    server.reply(Reply::Status(404));
    let mut cmd = hb();
    cmd.args(["ping", &server.url("/p")]);
    let out = run(cmd, LIMIT);
    assert_eq!(out.code, Some(1));
    assert_eq!(server.requests().len(), 1);
    assert_eq!(out.hb_lines().len(), 1, "{}", out.stderr);
    assert!(out.stderr.contains("HTTP 404 Not Found"), "{}", out.stderr);

    let mut cmd = hb();
    cmd.args(["ping"]).args(FAST).arg(refused_url("/p"));
    let out = run(cmd, LIMIT);
    assert_eq!(out.code, Some(1));
    assert!(out.stderr.contains("connection refused"), "{}", out.stderr);
    assert!(out.stderr.contains("after 3 tries"), "{}", out.stderr);

    let mut cmd = hb();
    cmd.args(["ping", "--quiet"])
        .args(FAST)
        .arg(refused_url("/p"));
    let out = run(cmd, LIMIT);
    assert_eq!(out.code, Some(1));
    assert_eq!(out.stderr, "");

    let mut cmd = hb();
    cmd.args(["ping", "a-slug"]);
    let out = run(cmd, LIMIT);
    assert_eq!(out.code, Some(1));
    assert!(out.stderr.contains("ping key"), "{}", out.stderr);
}

#[test]
fn retries_then_delivers() {
    let server = PingServer::start();
    server
        .reply_times(1, Reply::Status(502))
        .reply_times(1, Reply::Close);
    let mut cmd = hb();
    cmd.args(["ping", &server.url("/p")]);
    let out = run(cmd, LIMIT);
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    assert_eq!(server.requests().len(), 3);
}

#[test]
fn the_budget_bounds_a_hanging_monitor() {
    let server = PingServer::start();
    server.reply(Reply::Hang);
    // One try may take the default 10 s; the budget of 700ms stops it first.
    let mut cmd = hb();
    cmd.args(["ping", "--ping-budget", "700ms", &server.url("/p")]);
    let out = run(cmd, LIMIT);
    assert_eq!(out.code, Some(1));
    assert!(
        out.elapsed >= Duration::from_millis(700),
        "{:?}",
        out.elapsed
    );
    assert!(out.elapsed < Duration::from_secs(5), "{:?}", out.elapsed);
    assert!(out.stderr.contains("no answer within"), "{}", out.stderr);
    assert_eq!(server.requests().len(), 1);
}

#[test]
fn a_redirect_is_not_delivered_and_not_retried() {
    // Following it would turn the POST into a GET without the body (301, 302, 303),
    // or fail (307, 308): hb reports the redirect instead.
    for status in [301, 302, 303, 307, 308] {
        let server = PingServer::start();
        server.reply(Reply::Redirect(status, server.url("/elsewhere")));
        let mut cmd = hb();
        cmd.args(["ping", &server.url("/p")]);
        let out = run(cmd, LIMIT);
        assert_eq!(out.code, Some(1), "{status}: {}", out.stderr);
        let paths: Vec<String> = server
            .requests()
            .iter()
            .map(|r| r.path().to_string())
            .collect();
        assert_eq!(paths, ["/p"], "{status}");
        let lines = out.hb_lines();
        assert_eq!(lines.len(), 1, "{}", out.stderr);
        assert!(lines[0].contains(&format!("HTTP {status}")), "{}", lines[0]);
        assert!(
            lines[0].contains("a redirect hb does not follow; give hb the URL it redirects to"),
            "{}",
            lines[0]
        );
    }
}

#[test]
fn ping_timeout_is_at_least_100ms() {
    let server = PingServer::start();
    let mut cmd = hb();
    cmd.args(["ping", "--ping-timeout", "50ms", &server.url("/p")]);
    let out = run(cmd, LIMIT);
    assert_eq!(out.code, Some(2), "{}", out.stderr);
    assert!(
        out.stderr
            .contains("'--ping-timeout <DURATION>': 50ms is too short; it must be at least 100ms"),
        "{}",
        out.stderr
    );
    assert!(server.requests().is_empty());

    let mut cmd = hb();
    cmd.args(["ping", "--ping-timeout", "100ms", &server.url("/p")]);
    assert_eq!(run(cmd, LIMIT).code, Some(0));
    assert_eq!(server.requests().len(), 1);
}
