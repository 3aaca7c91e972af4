//! `hb run` supervising real processes: signals forwarded to the job's group,
//! `--timeout` leaving no survivor, PID 1 duties, and `--every`.

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::support::ping_server::PingServer;
use crate::support::{finish, hb, pid_gone, read_pids, run, send_signal, wait_until};

const LIMIT: Duration = Duration::from_secs(20);

fn spawn(mut command: Command) -> (std::process::Child, Instant) {
    command.stdout(Stdio::piped()).stderr(Stdio::piped());
    let begin = Instant::now();
    (command.spawn().expect("spawn"), begin)
}

#[test]
fn stop_signals_go_to_the_whole_group_and_are_named_in_the_body() {
    let server = PingServer::start();
    let dir = tempfile::tempdir().unwrap();
    let pids = dir.path().join("pids");
    let mut cmd = hb();
    cmd.args(["run", &server.url("/p"), "--", "sh", "-c"])
        .arg("sleep 60 & echo $$ $! > \"$0\"; wait")
        .arg(&pids);
    let (child, begin) = spawn(cmd);
    let job = read_pids(&pids);
    send_signal(child.id(), libc::SIGTERM);
    let out = finish(child, begin, LIMIT);
    assert_eq!(out.code, Some(143), "{}", out.stderr);
    for pid in job {
        assert!(
            wait_until(Duration::from_secs(5), || pid_gone(pid)),
            "pid {pid} survived"
        );
    }
    let requests = server.wait_for(2, LIMIT);
    assert_eq!(requests[1].path(), "/p/143");
    let body = requests[1].body_text();
    assert!(body.contains("hb received SIGTERM"), "{body}");
}

#[test]
fn other_signals_reach_the_job_too() {
    let server = PingServer::start();
    let dir = tempfile::tempdir().unwrap();
    let ready = dir.path().join("ready");
    let mut cmd = hb();
    cmd.args(["run", &server.url("/p"), "--", "sh", "-c"])
        .arg("trap 'echo got-usr1; exit 9' USR1; echo $$ > \"$0\"; while :; do sleep 0.02; done")
        .arg(&ready);
    let (child, begin) = spawn(cmd);
    read_pids(&ready);
    send_signal(child.id(), libc::SIGUSR1);
    let out = finish(child, begin, LIMIT);
    assert_eq!(out.code, Some(9), "{}", out.stderr);
    assert_eq!(out.stdout, "got-usr1\n");
    let body = server.wait_for(2, LIMIT)[1].body_text();
    assert!(!body.contains("hb received"), "{body}");
}

#[test]
fn a_timeout_kills_the_whole_group_and_counts_as_124() {
    let server = PingServer::start();
    let dir = tempfile::tempdir().unwrap();
    let pids = dir.path().join("pids");
    let mut cmd = hb();
    cmd.args([
        "run",
        "--quiet",
        "--timeout",
        "1100ms",
        "--kill-after",
        "30s",
        &server.url("/p"),
        "--",
    ])
    .args(["sh", "-c", "sleep 60 & echo $$ $! > \"$0\"; sleep 60"])
    .arg(&pids);
    let (child, begin) = spawn(cmd);
    let job = read_pids(&pids);
    let out = finish(child, begin, LIMIT);
    assert_eq!(out.code, Some(124), "{}", out.stderr);
    assert!(
        out.elapsed >= Duration::from_millis(1100),
        "{:?}",
        out.elapsed
    );
    // SIGTERM did it: SIGKILL would have come 30 s later.
    assert!(out.elapsed < Duration::from_secs(10), "{:?}", out.elapsed);
    for pid in job {
        assert!(
            wait_until(Duration::from_secs(5), || pid_gone(pid)),
            "pid {pid} survived"
        );
    }
    let requests = server.wait_for(2, LIMIT);
    assert_eq!(requests[1].path(), "/p/124");
    let body = requests[1].body_text();
    assert!(body.contains("timed out after 1s100ms"), "{body}");
    assert!(!body.contains("SIGKILL"), "{body}");
    // --quiet: the timeout is in the body, not on stderr.
    assert_eq!(out.stderr, "");
}

#[test]
fn a_timeout_kills_members_that_ignore_sigterm_after_the_leader_is_gone() {
    let server = PingServer::start();
    let dir = tempfile::tempdir().unwrap();
    let pids = dir.path().join("pids");
    // The member ignores SIGTERM and outlives the leader; SIGKILL must still come.
    let script = "(trap '' TERM; exec sleep 60) & echo $! > \"$0\"; sleep 60";
    let mut cmd = hb();
    cmd.args([
        "run",
        "--timeout",
        "1s",
        "--kill-after",
        "500ms",
        &server.url("/p"),
        "--",
    ])
    .args(["sh", "-c", script])
    .arg(&pids);
    let (child, begin) = spawn(cmd);
    let member = read_pids(&pids)[0];
    let out = finish(child, begin, LIMIT);
    assert_eq!(out.code, Some(124), "{}", out.stderr);
    assert!(
        out.elapsed >= Duration::from_millis(1500),
        "{:?}",
        out.elapsed
    );
    assert!(
        wait_until(Duration::from_secs(5), || pid_gone(member)),
        "pid {member} survived"
    );
    let body = server.wait_for(2, LIMIT)[1].body_text();
    assert!(body.contains("SIGKILL"), "{body}");
    // Both steps are told on stderr.
    assert_eq!(
        out.hb_lines(),
        [
            "hb: sh timed out after 1s; sent SIGTERM to its process group (SIGKILL follows in 500ms if any of it is left)",
            "hb: sh (or a process it started) still running 500ms after SIGTERM; sent SIGKILL to its process group",
        ],
        "{}",
        out.stderr
    );
}

#[test]
fn a_job_that_ends_in_time_is_not_stopped() {
    let server = PingServer::start();
    let mut cmd = hb();
    cmd.args(["run", "--timeout", "30s", &server.url("/p"), "--"])
        .args(["sh", "-c", "exit 4"]);
    let out = run(cmd, LIMIT);
    assert_eq!(out.code, Some(4), "{}", out.stderr);
    assert!(out.hb_lines().is_empty(), "{}", out.stderr);
    assert_eq!(server.wait_for(2, LIMIT)[1].path(), "/p/4");
}

/// `hb run` as PID 1 of a new PID namespace. Needs root (or user namespaces), so
/// the tests that use it are ignored by default and run by `.ci/test`, as root.
fn as_pid_1(args: &[&str]) -> Command {
    let probe = Command::new("unshare")
        .args(["-pf", "--mount-proc", "true"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status();
    assert!(
        probe.is_ok_and(|s| s.success()),
        "`unshare -pf --mount-proc true` failed: run this test as root, with util-linux installed"
    );
    let hb = hb();
    let mut command = Command::new("unshare");
    command
        .args(["-pf", "--mount-proc"])
        .arg(hb.get_program())
        .args(args);
    for (key, value) in hb.get_envs() {
        match value {
            Some(value) => command.env(key, value),
            None => command.env_remove(key),
        };
    }
    command.stdin(Stdio::null());
    command
}

#[test]
#[ignore = "needs root for a PID namespace; .ci/test runs it"]
fn as_pid_1_orphans_are_reaped() {
    let server = PingServer::start();
    let url = server.url("/p");
    // The subshell exits at once, so its sleep is re-parented to PID 1 (hb) and
    // must not stay a zombie once it has ended.
    let script = "(sleep 0.1 &); sleep 0.8; \
        for s in /proc/[0-9]*/stat; do read -r line < $s 2>/dev/null && echo \"$line\"; done";
    let cmd = as_pid_1(&["run", &url, "--", "sh", "-c", script]);
    let out = run(cmd, LIMIT);
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    assert!(out.stdout.contains("(hb) "), "{}", out.stdout);
    let zombies: Vec<&str> = out.stdout.lines().filter(|l| l.contains(") Z ")).collect();
    assert!(zombies.is_empty(), "zombies: {zombies:?}");
    assert_eq!(server.wait_for(2, LIMIT)[1].path(), "/p/0");
}

#[test]
#[ignore = "needs root for a PID namespace; .ci/test runs it"]
fn as_pid_1_sigterm_ends_the_job_and_is_reported() {
    let server = PingServer::start();
    let url = server.url("/p");
    let dir = tempfile::tempdir().unwrap();
    let ready = dir.path().join("ready");
    let ready_arg = ready.display().to_string();
    let script = "echo $$ > \"$0\"; echo ready; exec sleep 60";
    let cmd = as_pid_1(&["run", &url, "--", "sh", "-c", script, &ready_arg]);
    let (child, begin) = spawn(cmd);
    // hb is the only child of unshare.
    let children = format!("/proc/{0}/task/{0}/children", child.id());
    let mut hb_pid = 0;
    assert!(wait_until(Duration::from_secs(5), || {
        hb_pid = std::fs::read_to_string(&children)
            .ok()
            .and_then(|t| t.split_whitespace().next().and_then(|p| p.parse().ok()))
            .unwrap_or(0);
        hb_pid > 0
    }));
    read_pids(&ready);
    send_signal(hb_pid, libc::SIGTERM);
    let out = finish(child, begin, LIMIT);
    assert_eq!(out.code, Some(143), "{}", out.stderr);
    assert_eq!(out.stdout, "ready\n");
    let requests = server.wait_for(2, LIMIT);
    assert_eq!(requests[1].path(), "/p/143");
    assert!(requests[1].body_text().contains("hb received SIGTERM"));
}

#[test]
fn every_repeats_start_to_start_and_sigterm_stops_between_runs() {
    let server = PingServer::start();
    let dir = tempfile::tempdir().unwrap();
    let runs = dir.path().join("runs");
    let mut cmd = hb();
    cmd.args(["run", "--every", "1s", &server.url("/p"), "--", "sh", "-c"])
        .arg("echo run >> \"$0\"; sleep 0.5; exit 3")
        .arg(&runs);
    let (child, begin) = spawn(cmd);
    // Three runs: start, end, start, end, start, end.
    let requests = server.expect(6, LIMIT);
    // hb is now between runs, waiting about half a second for the next start.
    send_signal(child.id(), libc::SIGTERM);
    let out = finish(child, begin, LIMIT);
    assert_eq!(out.code, Some(3), "{}", out.stderr);

    let paths: Vec<&str> = requests.iter().map(|r| r.path()).collect();
    assert_eq!(
        paths,
        ["/p/start", "/p/3", "/p/start", "/p/3", "/p/start", "/p/3"]
    );
    for pair in requests.chunks(2) {
        assert_eq!(pair[0].rid(), pair[1].rid());
    }
    assert_ne!(requests[0].rid(), requests[2].rid());
    // Start to start, 1 s apart: two periods take 2 s. Waiting 1 s from each end
    // instead would take at least 3 s, and not waiting at all well under 1.5 s.
    let two_periods = requests[4].at.duration_since(requests[0].at);
    assert!(
        two_periods >= Duration::from_millis(1500) && two_periods < Duration::from_millis(2800),
        "{two_periods:?}"
    );
    // No run started after SIGTERM.
    assert_eq!(server.requests().len(), 6, "{:?}", server.requests());
    let ran = std::fs::read_to_string(&runs).unwrap().lines().count();
    assert_eq!(ran, 3);
}

#[test]
fn every_follows_an_overrun_at_once_and_sigterm_ends_the_current_run() {
    let server = PingServer::start();
    let dir = tempfile::tempdir().unwrap();
    let runs = dir.path().join("runs");
    let mut cmd = hb();
    cmd.args(["run", "--every", "1s", &server.url("/p"), "--", "sh", "-c"])
        .arg("echo run >> \"$0\"; sleep 1.2")
        .arg(&runs);
    let (child, begin) = spawn(cmd);
    let requests = server.expect(3, LIMIT);
    let paths: Vec<&str> = requests.iter().take(3).map(|r| r.path()).collect();
    assert_eq!(paths, ["/p/start", "/p/0", "/p/start"]);
    // The run took 1.2 s of a 1 s period: the next starts at once, not 0.8 s later
    // at the next period's start, nor 1 s after the end.
    let end_to_start = requests[2].at.duration_since(requests[1].at);
    assert!(
        end_to_start < Duration::from_millis(600),
        "{end_to_start:?}"
    );

    // Now stop during that second run: it gets SIGTERM, and no run follows.
    let count = || {
        std::fs::read_to_string(&runs)
            .map(|t| t.lines().count())
            .unwrap_or(0)
    };
    assert!(wait_until(LIMIT, || count() == 2));
    send_signal(child.id(), libc::SIGTERM);
    let out = finish(child, begin, LIMIT);
    assert_eq!(out.code, Some(143), "{}", out.stderr);
    let requests = server.requests();
    let paths: Vec<&str> = requests.iter().map(|r| r.path()).collect();
    assert_eq!(paths, ["/p/start", "/p/0", "/p/start", "/p/143"]);
    assert!(requests[3].body_text().contains("hb received SIGTERM"));
    assert_eq!(count(), 2);
}

#[test]
fn on_a_terminal_the_job_gets_the_foreground_and_hb_takes_it_back() {
    let script_ok = Command::new("script")
        .args(["-qec", "true", "/dev/null"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    assert!(
        script_ok,
        "`script -qec true /dev/null` failed: this test needs `script` (bsdutils) and a pseudo-terminal"
    );
    let server = PingServer::start();
    let dir = tempfile::tempdir().unwrap();
    let inner = dir.path().join("inner.sh");
    // Prints "job PGID TPGID" inside hb, then "shell PGID TPGID" after it.
    std::fs::write(
        &inner,
        format!(
            "'{}' run '{}' -- sh -c 'echo job $(ps -o pgid=,tpgid= -p $$)'\n\
             echo shell $(ps -o pgid=,tpgid= -p $$)\n",
            env!("CARGO_BIN_EXE_hb"),
            server.url("/p")
        ),
    )
    .unwrap();
    let mut cmd = hb();
    let mut terminal = Command::new("script");
    terminal
        .args(["-qec"])
        .arg(format!("sh '{}'", inner.display()))
        .arg("/dev/null");
    for (key, value) in cmd.get_envs() {
        match value {
            Some(value) => terminal.env(key, value),
            None => terminal.env_remove(key),
        };
    }
    cmd = terminal;
    let out = run(cmd, LIMIT);
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    for who in ["job", "shell"] {
        let line = out
            .stdout
            .lines()
            .find(|l| l.starts_with(who))
            .unwrap_or_else(|| panic!("{}", out.stdout));
        let ids: Vec<&str> = line.split_whitespace().skip(1).collect();
        assert_eq!(ids.len(), 2, "{line}");
        assert_eq!(ids[0], ids[1], "{who} is not in the foreground: {line}");
    }
}
