//! `hb run` against a recording ping server: what is sent, when, and that nothing
//! the monitor does changes the job's run or exit code.

use std::time::{Duration, Instant};

use crate::support::ping_server::{PingServer, Reply, refused_url};
use crate::support::{FAST, UUID, hb, run, wait_until};

const LIMIT: Duration = Duration::from_secs(20);

#[test]
fn start_then_end_with_the_same_rid_and_the_output() {
    let server = PingServer::start();
    let mut cmd = hb();
    cmd.args(["run", &server.url("/ping/abc"), "--"]).args([
        "sh",
        "-c",
        "echo out; echo err >&2; exit 3",
    ]);
    let out = run(cmd, LIMIT);
    assert_eq!(out.code, Some(3), "{}", out.stderr);
    let requests = server.wait_for(2, LIMIT);
    assert_eq!(requests.len(), 2);
    let (start, end) = (&requests[0], &requests[1]);
    assert_eq!(start.method, "POST");
    assert_eq!(start.path(), "/ping/abc/start");
    assert_eq!(end.path(), "/ping/abc/3");
    let rid = start.rid().expect("a rid on the start ping");
    assert!(uuid_like(rid), "{rid}");
    assert_eq!(end.rid(), Some(rid));
    assert_eq!(end.body_text(), "out\nerr\n");
    assert!(start.body.is_empty());
    assert!(end.header("user-agent").unwrap().starts_with("hb/"));
    assert!(
        end.header("content-type")
            .unwrap()
            .starts_with("text/plain")
    );
    assert!(out.hb_lines().is_empty(), "{}", out.stderr);
}

fn uuid_like(text: &str) -> bool {
    text.len() == 36 && text.chars().filter(|c| *c == '-').count() == 4
}

#[test]
fn success_is_reported_as_zero_and_no_start_skips_the_start() {
    let server = PingServer::start();
    let mut cmd = hb();
    cmd.args(["run", "--no-start", &server.url("/p/x/"), "--", "true"]);
    let out = run(cmd, LIMIT);
    assert_eq!(out.code, Some(0));
    let requests = server.wait_for(1, LIMIT);
    assert_eq!(requests.len(), 1);
    assert_eq!(requests[0].path(), "/p/x/0");
    assert!(requests[0].rid().is_some());
}

#[test]
fn streams_pass_through_unmerged() {
    let server = PingServer::start();
    let mut cmd = hb();
    cmd.args(["run", &server.url("/p"), "--"])
        .args(["sh", "-c", "echo to-out; echo to-err >&2"]);
    let out = run(cmd, LIMIT);
    assert_eq!(out.stdout, "to-out\n");
    assert_eq!(out.stderr, "to-err\n");
}

#[test]
fn stdin_is_the_jobs() {
    let server = PingServer::start();
    let mut cmd = hb();
    cmd.args(["run", &server.url("/p"), "--", "cat"]);
    cmd.stdin(std::process::Stdio::piped());
    cmd.stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped());
    let begin = Instant::now();
    let mut child = cmd.spawn().unwrap();
    use std::io::Write;
    child.stdin.take().unwrap().write_all(b"hello\n").unwrap();
    let out = crate::support::finish(child, begin, LIMIT);
    assert_eq!(out.stdout, "hello\n");
    let requests = server.wait_for(2, LIMIT);
    assert_eq!(requests[1].body_text(), "hello\n");
}

#[test]
fn the_body_keeps_the_tail_and_notes_the_cut_outside_the_limit() {
    let server = PingServer::start();
    let mut cmd = hb();
    cmd.args(["run", "--body-limit", "100", &server.url("/p"), "--"])
        .args([
            "sh",
            "-c",
            "i=0; while [ $i -lt 100 ]; do echo line-$i; i=$((i+1)); done",
        ]);
    let out = run(cmd, LIMIT);
    assert_eq!(out.code, Some(0));
    let full: String = (0..100).map(|i| format!("line-{i}\n")).collect();
    assert_eq!(out.stdout, full);
    let body = server.wait_for(2, LIMIT)[1].body_text();
    let (note, kept) = body.split_once('\n').unwrap();
    assert_eq!(
        note,
        format!("[hb] {} earlier bytes of output not kept", full.len() - 100)
    );
    assert_eq!(kept, &full[full.len() - 100..]);
}

#[test]
fn a_ping_body_limit_header_lowers_the_limit() {
    let server = PingServer::start();
    server.reply_to("/start", Reply::BodyLimit(300));
    let mut cmd = hb();
    cmd.args(["run", &server.url("/p"), "--"]).args([
        "sh",
        "-c",
        "i=0; while [ $i -lt 500 ]; do echo line-$i; i=$((i+1)); done",
    ]);
    let out = run(cmd, LIMIT);
    assert_eq!(out.code, Some(0));
    let body = server.wait_for(2, LIMIT)[1].body_text();
    assert!(body.len() <= 300, "{} bytes", body.len());
    assert!(body.starts_with("[hb] "), "{body}");
    assert!(body.ends_with("line-499\n"), "{body}");
}

#[test]
fn exit_codes_pass_through_and_a_signal_is_128_plus_n() {
    let server = PingServer::start();
    let mut cmd = hb();
    cmd.args(["run", &server.url("/p"), "--", "sh", "-c", "exit 42"]);
    assert_eq!(run(cmd, LIMIT).code, Some(42));
    let mut cmd = hb();
    cmd.args(["run", &server.url("/q"), "--", "sh", "-c", "kill -TERM $$"]);
    assert_eq!(run(cmd, LIMIT).code, Some(143));
    let requests = server.wait_for(4, LIMIT);
    let end = requests
        .iter()
        .find(|r| r.path() == "/q/143")
        .expect("an end ping /143");
    assert!(
        end.body_text().contains("killed by SIGTERM"),
        "{}",
        end.body_text()
    );
    assert!(requests.iter().any(|r| r.path() == "/p/42"));
}

#[test]
fn a_missing_command_is_127_and_reported() {
    let server = PingServer::start();
    let mut cmd = hb();
    cmd.args(["run", &server.url("/p"), "--", "/nonexistent/cmd", "arg"]);
    let out = run(cmd, LIMIT);
    assert_eq!(out.code, Some(127));
    assert_eq!(out.hb_lines().len(), 1, "{}", out.stderr);
    assert!(out.stderr.contains("/nonexistent/cmd"), "{}", out.stderr);
    let requests = server.wait_for(2, LIMIT);
    assert_eq!(requests[0].path(), "/p/start");
    assert_eq!(requests[1].path(), "/p/127");
    assert!(
        requests[1].body_text().contains("not found"),
        "{}",
        requests[1].body_text()
    );
}

#[test]
fn a_command_that_cannot_be_executed_is_126_and_reported() {
    let server = PingServer::start();
    let dir = tempfile::tempdir().unwrap();
    let script = dir.path().join("not-executable.sh");
    std::fs::write(&script, "#!/bin/sh\necho hi\n").unwrap();
    let mut cmd = hb();
    cmd.args(["run", &server.url("/p"), "--"]).arg(&script);
    let out = run(cmd, LIMIT);
    assert_eq!(out.code, Some(126), "{}", out.stderr);
    let requests = server.wait_for(2, LIMIT);
    assert_eq!(requests[1].path(), "/p/126");
    assert!(requests[1].body_text().contains("not-executable.sh"));
}

#[test]
fn server_errors_are_retried() {
    let server = PingServer::start();
    server.reply_times(2, Reply::Status(503));
    let mut cmd = hb();
    cmd.args([
        "run",
        "--no-start",
        &server.url("/p"),
        "--",
        "sh",
        "-c",
        "exit 4",
    ]);
    let out = run(cmd, LIMIT);
    assert_eq!(out.code, Some(4));
    let requests = server.wait_for(3, LIMIT);
    assert_eq!(requests.len(), 3);
    assert!(requests.iter().all(|r| r.path() == "/p/4"));
    assert_eq!(requests[0].body, requests[2].body);
    assert!(out.hb_lines().is_empty(), "{}", out.stderr);
}

#[test]
fn not_found_is_not_retried() {
    let server = PingServer::start();
    server.reply(Reply::Status(404));
    let mut cmd = hb();
    cmd.args(["run", "--no-start", &server.url("/p"), "--", "true"]);
    let out = run(cmd, LIMIT);
    assert_eq!(out.code, Some(0));
    std::thread::sleep(Duration::from_millis(200));
    assert_eq!(server.requests().len(), 1);
    let lines = out.hb_lines();
    assert_eq!(lines.len(), 1, "{}", out.stderr);
    assert!(lines[0].contains("404"), "{}", lines[0]);
}

#[test]
fn no_sleep_after_the_last_try() {
    let server = PingServer::start();
    server.reply(Reply::Status(500));
    // Four tries with waits of 0.25–0.5 s, 0.5–1 s and 1–2 s between them; a wait
    // after the fourth would be at least 2 s.
    let mut cmd = hb();
    cmd.args([
        "run",
        "--no-start",
        "--retries",
        "3",
        &server.url("/p"),
        "--",
        "true",
    ]);
    let out = run(cmd, LIMIT);
    let exited = Instant::now();
    assert_eq!(out.code, Some(0));
    let requests = server.requests();
    assert_eq!(requests.len(), 4, "{requests:?}");
    let last_try_to_exit = exited.duration_since(requests[3].at);
    assert!(
        last_try_to_exit < Duration::from_secs(2),
        "hb exited {last_try_to_exit:?} after its last try"
    );
    // And the waits between tries were taken.
    let first_to_last = requests[3].at.duration_since(requests[0].at);
    assert!(
        first_to_last >= Duration::from_millis(1750),
        "{first_to_last:?}"
    );
}

#[test]
fn a_hanging_monitor_neither_delays_the_job_nor_holds_hb_past_the_budget() {
    let server = PingServer::start();
    server.reply(Reply::Hang);
    let dir = tempfile::tempdir().unwrap();
    let marker = dir.path().join("started");
    // One try could hang for 60 s and the budget is 3 s: a job that waited for the
    // start ping would start 3 s late at best, and hb held by a try would take 60 s.
    let mut cmd = hb();
    cmd.args([
        "run",
        "--ping-budget",
        "3s",
        "--ping-timeout",
        "60s",
        &server.url("/p"),
        "--",
    ])
    .args(["sh", "-c", "touch \"$0\"; exit 7"])
    .arg(&marker);
    cmd.stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped());
    let begin = Instant::now();
    let child = cmd.spawn().unwrap();
    assert!(wait_until(LIMIT, || marker.exists()));
    let job_started = begin.elapsed();
    let out = crate::support::finish(child, begin, LIMIT);
    assert!(
        job_started < Duration::from_millis(2500),
        "the job started after {job_started:?}"
    );
    assert_eq!(out.code, Some(7));
    // The start ping in flight is waited for until the budget ends, and no longer.
    assert!(
        out.elapsed >= Duration::from_millis(2900),
        "hb took only {:?}",
        out.elapsed
    );
    assert!(
        out.elapsed < Duration::from_secs(8),
        "hb took {:?}",
        out.elapsed
    );
    assert!(!out.hb_lines().is_empty());
}

#[test]
fn a_refused_port_changes_nothing_but_a_line_on_stderr() {
    let url = refused_url("/p");
    let mut cmd = hb();
    cmd.args(["run"])
        .args(FAST)
        .args([&url, "--", "sh", "-c", "echo work; exit 5"]);
    let out = run(cmd, LIMIT);
    assert_eq!(out.code, Some(5));
    assert_eq!(out.stdout, "work\n");
    let lines = out.hb_lines();
    assert!(!lines.is_empty() && lines.len() <= 2, "{}", out.stderr);
    assert!(
        lines.iter().all(|l| l.contains("connection refused")),
        "{}",
        out.stderr
    );
    assert!(out.elapsed < Duration::from_secs(3), "{:?}", out.elapsed);

    let mut cmd = hb();
    cmd.args(["run", "--quiet"])
        .args(FAST)
        .args([&url, "--", "sh", "-c", "exit 5"]);
    let out = run(cmd, LIMIT);
    assert_eq!(out.code, Some(5));
    assert_eq!(out.stderr, "");
}

#[test]
fn a_broken_or_missing_config_file_does_not_stop_the_job() {
    let dir = tempfile::tempdir().unwrap();
    let broken = dir.path().join("config.toml");
    std::fs::write(&broken, "server = \"http://x\"\nping_key = \n").unwrap();
    let mut cmd = hb();
    cmd.args(["run", "--config"])
        .arg(&broken)
        .args(["nightly", "--", "sh", "-c", "exit 6"]);
    let out = run(cmd, LIMIT);
    assert_eq!(out.code, Some(6));
    let lines = out.hb_lines();
    assert!(
        lines.iter().any(|l| l.contains("config.toml line 2")),
        "{}",
        out.stderr
    );

    let mut cmd = hb();
    cmd.env("HB_CONFIG", dir.path().join("missing.toml"));
    cmd.args(["run", UUID, "--server"]).arg(refused_url(""));
    cmd.args(FAST).args(["--", "sh", "-c", "exit 6"]);
    let out = run(cmd, LIMIT);
    assert_eq!(out.code, Some(6));
    assert!(out.stderr.contains("missing.toml"), "{}", out.stderr);
}

#[test]
fn an_unresolvable_id_runs_the_job_without_pings() {
    let mut cmd = hb();
    cmd.args(["run", "some-slug", "--", "sh", "-c", "echo ran; exit 3"]);
    let out = run(cmd, LIMIT);
    assert_eq!(out.code, Some(3));
    assert_eq!(out.stdout, "ran\n");
    let lines = out.hb_lines();
    assert_eq!(lines.len(), 1, "{}", out.stderr);
    assert!(lines[0].contains("ping key"), "{}", lines[0]);
}

#[test]
fn ids_resolve_through_server_ping_key_and_aliases() {
    let server = PingServer::start();
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("config.toml");
    std::fs::write(
        &config,
        format!(
            "server = \"{}/\"\nping_key = \"k3y\"\n[checks]\nbackup = \"db\"\ndb = \"{UUID}\"\n",
            server.url("")
        ),
    )
    .unwrap();
    let mut cmd = hb();
    cmd.args(["run", "--config"])
        .arg(&config)
        .args(["backup", "--", "true"]);
    assert_eq!(run(cmd, LIMIT).code, Some(0));
    let mut cmd = hb();
    cmd.env("HB_CONFIG", &config);
    cmd.args(["run", "nightly-backup", "--", "true"]);
    assert_eq!(run(cmd, LIMIT).code, Some(0));
    let mut cmd = hb();
    cmd.env("HB_SERVER", server.url(""))
        .env("HB_PING_KEY", "envkey");
    cmd.args(["run", "--no-start", "job", "--", "true"]);
    assert_eq!(run(cmd, LIMIT).code, Some(0));
    let paths: Vec<String> = server
        .wait_for(5, LIMIT)
        .iter()
        .map(|r| r.path().to_string())
        .collect();
    assert_eq!(
        paths,
        [
            format!("/api/v1/ping/{UUID}/start"),
            format!("/api/v1/ping/{UUID}/0"),
            "/api/v1/ping/k3y/nightly-backup/start".into(),
            "/api/v1/ping/k3y/nightly-backup/0".into(),
            "/api/v1/ping/envkey/job/0".into(),
        ]
    );
}

#[test]
fn extra_headers_are_sent_and_malformed_ones_are_usage_errors() {
    let server = PingServer::start();
    let mut cmd = hb();
    cmd.args([
        "run",
        "--header",
        "X-Token: abc",
        "-H",
        "X-Other:1",
        &server.url("/p"),
        "--",
        "true",
    ]);
    assert_eq!(run(cmd, LIMIT).code, Some(0));
    let requests = server.wait_for(2, LIMIT);
    assert!(
        requests
            .iter()
            .all(|r| r.header("x-token") == Some("abc") && r.header("x-other") == Some("1"))
    );

    let dir = tempfile::tempdir().unwrap();
    let marker = dir.path().join("ran");
    let mut cmd = hb();
    cmd.args([
        "run",
        "--header",
        "no colon",
        &server.url("/p"),
        "--",
        "touch",
    ])
    .arg(&marker);
    let out = run(cmd, LIMIT);
    assert_eq!(out.code, Some(2));
    assert!(out.stderr.contains("--header"), "{}", out.stderr);
    assert!(!marker.exists(), "the job must not run on a usage error");
}

#[test]
fn usage_errors_exit_2_before_the_job() {
    let dir = tempfile::tempdir().unwrap();
    let marker = dir.path().join("ran");
    let marker = marker.to_str().unwrap();
    for (flags, says) in [
        (vec![], "required"),
        (vec!["--timeout", "soon"], "invalid duration"),
        (vec!["--bogus"], "--bogus"),
        (
            vec!["--every", "999ms"],
            "--every <DURATION>': 999ms is too short; it must be at least 1s",
        ),
        (vec!["--every", "0s"], "at least 1s"),
        (
            vec!["--timeout", "500ms"],
            "--timeout <DURATION>': 500ms is too short; it must be at least 1s",
        ),
        (
            vec!["--ping-timeout", "99ms"],
            "--ping-timeout <DURATION>': 99ms is too short; it must be at least 100ms",
        ),
        (vec!["--kill-after", "1x"], "--kill-after"),
        (vec!["--timeout", "3651d"], "longer than the limit of 3650d"),
        (vec!["--every", "10000d"], "longer than the limit of 3650d"),
    ] {
        let mut cmd = hb();
        cmd.arg("run").args(&flags).arg("http://127.0.0.1:9/p");
        if says != "required" {
            cmd.args(["--", "touch", marker]);
        }
        let out = run(cmd, LIMIT);
        assert_eq!(out.code, Some(2), "{flags:?}: {}", out.stderr);
        assert!(
            out.stderr.starts_with("error: "),
            "{flags:?}: {}",
            out.stderr
        );
        assert!(out.stderr.contains(says), "{flags:?}: {}", out.stderr);
        assert!(
            !std::path::Path::new(marker).exists(),
            "{flags:?}: the job ran"
        );
    }
}

#[test]
fn the_least_durations_each_flag_takes_are_accepted() {
    let server = PingServer::start();
    let mut cmd = hb();
    cmd.args([
        "run",
        "--timeout",
        "1s",
        "--kill-after",
        "0s",
        "--ping-timeout",
        "100ms",
        "--ping-budget",
        "1s500ms",
        &server.url("/p"),
        "--",
        "sh",
        "-c",
        "exit 5",
    ]);
    let out = run(cmd, LIMIT);
    // The job ran (a usage error would be 2, before it), and pinged.
    assert_eq!(out.code, Some(5), "{}", out.stderr);
    assert!(!out.stderr.contains("error:"), "{}", out.stderr);
    let requests = server.expect(2, LIMIT);
    assert!(requests.iter().any(|r| r.path() == "/p/5"), "{requests:?}");
}

#[test]
fn proxies_from_the_environment_are_used_and_no_proxy_bypasses_them() {
    let proxy = PingServer::start();
    let mut cmd = hb();
    cmd.env("HTTP_PROXY", proxy.url(""));
    cmd.args(["run", "--no-start"]).args(FAST);
    cmd.args(["http://monitor.invalid/ping/x", "--", "true"]);
    let out = run(cmd, LIMIT);
    assert_eq!(out.code, Some(0));
    let requests = proxy.wait_for(1, LIMIT);
    assert!(
        requests
            .iter()
            .any(|r| r.target.contains("monitor.invalid")),
        "{requests:?}"
    );
    assert!(out.hb_lines().is_empty(), "{}", out.stderr);

    let direct = PingServer::start();
    let proxy = PingServer::start();
    let mut cmd = hb();
    cmd.env("HTTP_PROXY", proxy.url(""))
        .env("NO_PROXY", "127.0.0.1");
    cmd.args(["run", "--no-start", &direct.url("/d"), "--", "true"]);
    assert_eq!(run(cmd, LIMIT).code, Some(0));
    assert_eq!(direct.wait_for(1, LIMIT).len(), 1);
    assert!(proxy.requests().is_empty());
}

#[test]
fn the_end_ping_waits_for_a_start_ping_in_flight() {
    let server = PingServer::start();
    server.reply_to("/start", Reply::Delay(Duration::from_millis(400), 200));
    let mut cmd = hb();
    cmd.args(["run", &server.url("/p"), "--", "true"]);
    let out = run(cmd, LIMIT);
    assert_eq!(out.code, Some(0));
    let requests = server.wait_for(2, LIMIT);
    assert_eq!(requests[0].path(), "/p/start");
    assert_eq!(requests[1].path(), "/p/0");
    let gap = requests[1].at.duration_since(requests[0].at);
    assert!(gap >= Duration::from_millis(400), "{gap:?}");
    assert!(out.hb_lines().is_empty(), "{}", out.stderr);
}

#[test]
fn after_sigterm_at_most_five_seconds_of_the_budget_remain() {
    let server = PingServer::start();
    // The start ping goes through; the end ping hangs, and so would use the whole
    // 60 s budget without the 5 s rule.
    server.reply_to("/start", Reply::Status(200));
    server.reply(Reply::Hang);
    let dir = tempfile::tempdir().unwrap();
    let ready = dir.path().join("ready");
    let mut cmd = hb();
    cmd.args([
        "run",
        "--ping-budget",
        "60s",
        "--ping-timeout",
        "60s",
        &server.url("/p"),
        "--",
    ])
    .args(["sh", "-c", "echo $$ > \"$0\"; exec sleep 60"])
    .arg(&ready);
    cmd.stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped());
    let begin = Instant::now();
    let child = cmd.spawn().unwrap();
    crate::support::read_pids(&ready);
    server.expect(1, LIMIT);
    let signalled = Instant::now();
    crate::support::send_signal(child.id(), libc::SIGTERM);
    let out = crate::support::finish(child, begin, LIMIT);
    let after = signalled.elapsed();
    assert_eq!(out.code, Some(143), "{}", out.stderr);
    // The end ping was tried, and given the five seconds, then hb gave up on it.
    let requests = server.requests();
    let paths: Vec<&str> = requests.iter().map(|r| r.path()).collect();
    assert_eq!(paths, ["/p/start", "/p/143"], "{requests:?}");
    assert!(
        requests[1].body_text().contains("hb received SIGTERM"),
        "{}",
        requests[1].body_text()
    );
    assert!(
        after >= Duration::from_millis(4500),
        "hb gave up {after:?} after SIGTERM"
    );
    assert!(
        after < Duration::from_secs(8),
        "hb took {after:?} after SIGTERM"
    );
    let lines = out.hb_lines();
    assert_eq!(lines.len(), 1, "{}", out.stderr);
    assert!(lines[0].contains("end ping"), "{}", lines[0]);
}

#[test]
fn after_sigterm_a_refusing_monitor_is_retried_for_five_seconds_at_most() {
    let server = PingServer::start();
    server.reply_to("/start", Reply::Status(200));
    server.reply(Reply::Status(503));
    let dir = tempfile::tempdir().unwrap();
    let ready = dir.path().join("ready");
    let mut cmd = hb();
    cmd.args([
        "run",
        "--ping-budget",
        "60s",
        "--retries",
        "100",
        &server.url("/p"),
        "--",
    ])
    .args(["sh", "-c", "echo $$ > \"$0\"; exec sleep 60"])
    .arg(&ready);
    cmd.stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped());
    let begin = Instant::now();
    let child = cmd.spawn().unwrap();
    crate::support::read_pids(&ready);
    server.expect(1, LIMIT);
    let signalled = Instant::now();
    crate::support::send_signal(child.id(), libc::SIGTERM);
    let out = crate::support::finish(child, begin, LIMIT);
    let after = signalled.elapsed();
    assert_eq!(out.code, Some(143), "{}", out.stderr);
    // Waits of 0.25–0.5 s, 0.5–1 s and 1–2 s fit in 5 s: at least 3 end tries.
    let ends = server
        .requests()
        .iter()
        .filter(|r| r.path() == "/p/143")
        .count();
    assert!(ends >= 3, "{ends} end tries");
    assert!(
        after < Duration::from_secs(8),
        "hb took {after:?} after SIGTERM"
    );
    assert!(out.stderr.contains("HTTP 503"), "{}", out.stderr);
}
