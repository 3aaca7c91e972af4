//! The `command` kind: its environment, exit status, stderr and timeout.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use crate::notify_support::{EVENT_ID, NAME, UUID, event};
use hb::serve::notify::{ChannelKind, Delivery, Event, Policy, deliver_with};
use serde_json::json;

/// Command channels make no connection: the policy does not matter.
fn deliver(c: &ChannelKind, e: &Event, timeout: Duration) -> Delivery {
    deliver_with(c, e, timeout, Policy::GLOBAL_ONLY)
}

fn channel(settings: serde_json::Value) -> ChannelKind {
    ChannelKind::from_json(&settings).unwrap_or_else(|e| panic!("{settings}: {e}"))
}

/// Whether a process is gone (or a zombie nobody reaped yet).
fn is_gone(pid: u32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Err(_) => true,
        Ok(stat) => stat
            .rsplit_once(") ")
            .is_some_and(|(_, rest)| rest.starts_with('Z') || rest.starts_with('X')),
    }
}

#[test]
fn the_alert_is_in_the_environment() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("env");
    let c = channel(json!({
        "kind": "command",
        "argv": ["sh", "-c", "env -0 > \"$1\"", "sh", out.to_str().unwrap()],
    }));
    let d = deliver(&c, &event("down"), Duration::from_secs(10));
    assert!(d.ok, "{d:?}");
    let raw = std::fs::read_to_string(&out).unwrap();
    let env: HashMap<&str, &str> = raw
        .split('\0')
        .filter_map(|kv| kv.split_once('='))
        .collect();
    assert_eq!(env["HB_EVENT"], "down");
    assert_eq!(env["HB_EVENT_ID"], EVENT_ID);
    assert_eq!(env["HB_CHECK_NAME"], NAME);
    assert_eq!(env["HB_CHECK_UUID"], UUID);
    assert_eq!(env["HB_CHECK_SLUG"], "backup-prod-db-co");
    assert_eq!(env["HB_STATUS"], "down");
    assert_eq!(env["HB_REASON"], "exit code 3");
    assert_eq!(env["HB_BODY"], event("down").body.unwrap());
    assert_eq!(env["HB_AT"], "2025-01-31T03:00:00Z");
    assert_eq!(env["HB_REPEAT"], "0");
    let json: serde_json::Value = serde_json::from_str(env["HB_JSON"]).unwrap();
    assert_eq!(json["check"]["uuid"], UUID);
    // The rest of the environment is inherited.
    assert!(env.contains_key("PATH"));
}

/// The command's stdin is empty even when hb serve's own stdin has data waiting: it
/// must not inherit it (a real `hb serve` with a pipe for stdin that holds text).
#[test]
fn stdin_is_empty() {
    use std::io::{BufRead, BufReader, Write};
    use std::process::{Command, Stdio};
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("stdin");
    let config = dir.path().join("config.toml");
    std::fs::write(
        &config,
        format!(
            "[[channel]]\nname = \"local\"\nkind = \"command\"\nargv = [\"sh\", \"-c\", \"cat > {}\"]\n",
            out.display()
        ),
    )
    .unwrap();
    /// Ends the server whatever happens to the test.
    struct Server(std::process::Child);
    impl Drop for Server {
        fn drop(&mut self) {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }
    let mut server = Command::new(crate::serve_support::HB)
        .args(["serve", "--listen", "127.0.0.1:0", "--db"])
        .arg(dir.path().join("hb.db"))
        .arg("--config")
        .arg(&config)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .map(Server)
        .unwrap();
    let mut stdin = server.0.stdin.take().unwrap();
    stdin.write_all(b"not for the command\n").unwrap();
    stdin.flush().unwrap();
    let mut line = String::new();
    BufReader::new(server.0.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let base = line
        .trim()
        .strip_prefix("listening on ")
        .unwrap()
        .to_string();
    let started = Instant::now();
    let answer = crate::serve_support::call(
        "POST",
        &format!("{base}/api/v1/channels/local/test"),
        None,
        &[],
    );
    assert_eq!(answer.status, 200, "{}", answer.body);
    assert_eq!(answer.json()["ok"], true, "{}", answer.body);
    assert!(started.elapsed() < Duration::from_secs(5));
    assert_eq!(std::fs::read(&out).unwrap(), b"");
    drop(server);
    drop(stdin);
}

#[test]
fn a_failing_command_reports_its_exit_status_and_stderr() {
    let c = channel(
        json!({"kind": "command", "argv": ["sh", "-c", "echo starting; echo 'smtp relay\nrefused us' >&2; exit 3"]}),
    );
    let d = deliver(&c, &event("down"), Duration::from_secs(10));
    assert!(!d.ok && !d.permanent, "{d:?}");
    assert_eq!(d.status_code, None);
    assert_eq!(
        d.error.as_deref(),
        Some("the command \"sh\" exited with code 3: smtp relay refused us")
    );

    let c = channel(json!({"kind": "command", "argv": ["sh", "-c", "kill -9 $$"]}));
    let d = deliver(&c, &event("down"), Duration::from_secs(10));
    assert_eq!(
        d.error.as_deref(),
        Some("the command \"sh\" was killed by signal 9")
    );

    let c = channel(json!({"kind": "command", "argv": ["true"]}));
    assert!(deliver(&c, &event("test"), Duration::from_secs(10)).ok);
}

#[test]
fn a_missing_program_is_permanent() {
    let c = channel(json!({"kind": "command", "argv": ["/nonexistent/hb-alert"]}));
    let d = deliver(&c, &event("down"), Duration::from_secs(10));
    assert!(!d.ok && d.permanent, "{d:?}");
    assert!(d.error.unwrap().contains("was not found"));
}

#[test]
fn a_command_over_its_timeout_is_killed_with_its_group() {
    let dir = tempfile::tempdir().unwrap();
    let pids = dir.path().join("pids");
    // A child in the background and one in the foreground: both must go.
    let c = channel(json!({
        "kind": "command",
        "argv": ["sh", "-c", "sleep 60 & echo $! > \"$1\"; sleep 60", "sh", pids.to_str().unwrap()],
        "timeout": "1s",
    }));
    let started = Instant::now();
    // The channel's own timeout wins over the delivery timeout.
    let d = deliver(&c, &event("down"), Duration::from_secs(30));
    let took = started.elapsed();
    assert!(
        took >= Duration::from_secs(1) && took < Duration::from_secs(5),
        "took {took:?}"
    );
    assert!(!d.ok && !d.permanent, "{d:?}");
    assert_eq!(
        d.error.as_deref(),
        Some("the command \"sh\" did not finish within 1s and was killed")
    );
    let background: u32 = std::fs::read_to_string(&pids)
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(5);
    while !is_gone(background) && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    assert!(
        is_gone(background),
        "the background sleep {background} survived"
    );
}

#[test]
fn without_its_own_timeout_the_delivery_timeout_bounds_it() {
    let c = channel(json!({"kind": "command", "argv": ["sleep", "60"]}));
    let started = Instant::now();
    let d = deliver(&c, &event("down"), Duration::from_secs(1));
    assert!(started.elapsed() < Duration::from_secs(5));
    assert_eq!(
        d.error.as_deref(),
        Some("the command \"sleep\" did not finish within 1s and was killed")
    );
}
