//! Who may do what (PRODUCT.md §4), against the real binary: no command execution
//! from a web page or another local user, keys and their scope, secrets that never
//! come back, no delivery to private addresses, refusals that name the fix.

use crate::serve_support::*;
use serde_json::{Value, json};
use std::time::Duration;

const WAIT: Duration = Duration::from_secs(10);

/// A server with this config file (no `allow_private_targets` unless it says so).
fn with_config(dir: &tempfile::TempDir, config: &str) -> ServeProcess {
    let path = dir.path().join("config.toml");
    std::fs::write(&path, config).unwrap();
    ServeProcess::start(
        &dir.path().join("hb.db"),
        &["--config", path.to_str().unwrap()],
        &[],
    )
}

/// `hb serve` that must refuse to start: its exit code and stderr.
fn refused_start(dir: &tempfile::TempDir, config: &str, extra: &[&str]) -> (Option<i32>, String) {
    let path = dir.path().join("config.toml");
    std::fs::write(&path, config).unwrap();
    let out = std::process::Command::new(HB)
        .args(["serve", "--listen", "127.0.0.1:0", "--db"])
        .arg(dir.path().join("hb.db"))
        .arg("--config")
        .arg(&path)
        .args(extra)
        .env_remove("HB_API_KEY")
        .env_remove("HB_PING_KEY")
        .output()
        .unwrap();
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn json_call(method: &str, url: &str, body: &Value, headers: &[(&str, &str)]) -> Answer {
    let mut all = vec![("Content-Type", "application/json")];
    all.extend_from_slice(headers);
    call(method, url, Some(&body.to_string()), &all)
}

#[test]
fn no_command_runs_from_a_cross_site_request_or_the_api() {
    let dir = tempfile::tempdir().unwrap();
    let marker = dir.path().join("ran");
    let server = with_config(&dir, "");
    let command = json!({"name": "pwn", "kind": "command",
        "argv": ["sh", "-c", format!("id > {}", marker.display())]});
    // A cross-site form can send text/plain without asking the browser first.
    let answer = call(
        "POST",
        &server.url("/api/v1/channels"),
        Some(&command.to_string()),
        &[("Content-Type", "text/plain")],
    );
    assert_eq!(answer.status, 415, "{}", answer.body);
    // A page on another site (or a rebound name) is refused before anything else.
    let answer = json_call(
        "POST",
        &server.url("/api/v1/channels"),
        &command,
        &[("Origin", "http://evil.example")],
    );
    assert_eq!(answer.status, 403, "{}", answer.body);
    let answer = json_call(
        "POST",
        &server.url("/api/v1/channels"),
        &command,
        &[("Host", "rebind.evil.example:8080")],
    );
    assert_eq!(answer.status, 421, "{}", answer.body);
    // Even from the host itself, a command channel comes from the file only.
    let answer = json_call("POST", &server.url("/api/v1/channels"), &command, &[]);
    assert_eq!(answer.status, 403, "{}", answer.body);
    assert!(
        answer.json()["error"]
            .as_str()
            .unwrap()
            .contains("config file")
    );
    assert_eq!(
        get(&server.url("/api/v1/channels")).json()["channels"],
        json!([])
    );
    assert!(!marker.exists());
    // Errors are JSON on every management route, 405 included; pings stay plain.
    let answer = call("PUT", &server.url("/api/v1/heartbeats"), None, &[]);
    assert_eq!(answer.status, 405);
    assert!(answer.json()["error"].is_string(), "{}", answer.body);
    let answer = get(&server.url("/api/v1/nothing"));
    assert_eq!(answer.status, 404);
    assert!(answer.json()["error"].is_string());
    for path in ["/ping/", "/api/v1/ping/"] {
        let answer = get(&server.url(path));
        assert_eq!(answer.status, 404, "{path}");
        assert_eq!(answer.body, "not found", "{path}");
    }
    let answer = get(&server.url("/api/v1/heartbeats/%FF"));
    assert_eq!(answer.status, 404);
    assert!(answer.json()["error"].is_string(), "{}", answer.body);
    let answer = call(
        "DELETE",
        &server.url("/ping/0b0b3b5e-4c1a-4d7e-9f2a-0c6a1d2e3f40"),
        None,
        &[],
    );
    assert_eq!(answer.status, 405);
    assert!(
        serde_json::from_str::<Value>(&answer.body).is_err(),
        "{}",
        answer.body
    );
}

#[test]
fn a_file_command_channel_is_tested_but_not_changed_through_the_api() {
    let dir = tempfile::tempdir().unwrap();
    let marker = dir.path().join("ran");
    let server = with_config(
        &dir,
        &format!(
            "[[channel]]\nname = \"local\"\nkind = \"command\"\nargv = [\"sh\", \"-c\", \"echo $HB_EVENT > {}\"]\n",
            marker.display()
        ),
    );
    let url = server.url("/api/v1/channels/local");
    let answer = json_call("PATCH", &url, &json!({"argv": ["sh", "-c", "id"]}), &[]);
    assert_eq!(answer.status, 403, "{}", answer.body);
    let answer = call(
        "POST",
        &server.url("/api/v1/channels/local/test"),
        None,
        &[],
    );
    assert_eq!(answer.status, 200, "{}", answer.body);
    assert_eq!(answer.json()["ok"], true, "{}", answer.body);
    assert_eq!(std::fs::read_to_string(&marker).unwrap().trim(), "test");
}

#[test]
fn read_keys_read_and_change_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let server = with_config(
        &dir,
        "api_keys = [\"full-key-1\"]\nread_keys = [\"read-key-1\"]\nping_key = \"pk\"\n",
    );
    let full = [("Authorization", "bearer full-key-1")];
    let read = [("Authorization", "Bearer read-key-1")];
    let created = json_call(
        "POST",
        &server.url("/api/v1/heartbeats"),
        &json!({"name": "job", "interval": "1h"}),
        &full,
    );
    assert_eq!(created.status, 201, "{}", created.body);
    let uuid = created.json()["uuid"].as_str().unwrap().to_string();
    assert!(created.json()["ping_url"].is_string());

    let list = call("GET", &server.url("/api/v1/heartbeats"), None, &read);
    assert_eq!(list.status, 200);
    let first = &list.json()["heartbeats"][0];
    assert_eq!(first["uuid"], uuid.as_str());
    assert!(first.get("ping_url").is_none(), "{first}");
    let one = call(
        "GET",
        &server.url(&format!("/api/v1/heartbeats/{uuid}")),
        None,
        &read,
    );
    assert!(one.json().get("ping_url").is_none());
    assert_eq!(
        call("GET", &server.url("/metrics"), None, &read).status,
        200
    );
    assert_eq!(get(&server.url("/metrics")).status, 401);
    let refused = call(
        "POST",
        &server.url(&format!("/api/v1/heartbeats/{uuid}/pause")),
        None,
        &read,
    );
    assert_eq!(refused.status, 403);
    assert!(refused.json()["error"].is_string());
    assert_eq!(
        get(&server.url(&format!("/api/v1/heartbeats/{uuid}"))).status,
        401
    );
    // Open without a key: pings and health.
    assert_eq!(get(&server.url("/ping/pk/job")).status, 200);
    assert_eq!(get(&server.url("/healthz")).status, 200);
}

#[test]
fn keys_that_would_open_the_monitor_are_config_errors() {
    for (config, extra, says) in [
        ("api_keys = [\"\"]\n", &[][..], "api_keys"),
        (
            "api_keys = [\"k\"]\nread_keys = [\" \"]\n",
            &[][..],
            "read_keys",
        ),
        (
            "read_keys = [\"r\"]\n",
            &[][..],
            "read_keys without api_keys",
        ),
        ("ping_key = \"\"\n", &[][..], "ping_key"),
        ("", &["--ping-key", ""][..], "ping_key"),
    ] {
        let dir = tempfile::tempdir().unwrap();
        let (code, stderr) = refused_start(&dir, config, extra);
        assert_eq!(code, Some(2), "{config:?}: {stderr}");
        assert!(stderr.contains(says), "{config:?}: {stderr}");
    }
}

#[test]
fn secrets_come_back_masked_and_are_kept() {
    let dir = tempfile::tempdir().unwrap();
    let receiver = Receiver::start();
    let server = with_config(&dir, "allow_private_targets = true\n");
    let hook = json!({"name": "hook", "kind": "webhook",
        "url": receiver.url("/hb?token=s3cret-query"),
        "headers": {"Authorization": "Bearer s3cret-header"}});
    let answer = json_call("POST", &server.url("/api/v1/channels"), &hook, &[]);
    assert_eq!(answer.status, 201, "{}", answer.body);
    let shown = get(&server.url("/api/v1/channels/hook")).body;
    assert!(!shown.contains("s3cret"), "{shown}");
    assert!(shown.contains("••••"), "{shown}");
    // A PATCH that leaves the secrets out (or masked) keeps them.
    let patched = json_call(
        "PATCH",
        &server.url("/api/v1/channels/hook"),
        &json!({"method": "PUT", "headers": {"Authorization": "••••"}}),
        &[],
    );
    assert_eq!(patched.status, 200, "{}", patched.body);
    let answer = call("POST", &server.url("/api/v1/channels/hook/test"), None, &[]);
    assert_eq!(answer.json()["ok"], true, "{}", answer.body);
    let got = receiver.expect(1, WAIT);
    assert_eq!(got[0].header("authorization"), Some("Bearer s3cret-header"));
    assert!(got[0].target.contains("token=s3cret-query"));
    // Sending them somewhere else needs them again.
    let moved = json_call(
        "PATCH",
        &server.url("/api/v1/channels/hook"),
        &json!({"url": "http://127.0.0.2:9/hb?token=••••"}),
        &[],
    );
    assert_eq!(moved.status, 400, "{}", moved.body);
}

#[test]
fn channels_may_not_reach_private_addresses_through_the_api() {
    let dir = tempfile::tempdir().unwrap();
    let receiver = Receiver::start();
    receiver.reply(Reply::Answer(500, "internal secret page".into()));
    let server = with_config(&dir, "");
    let answer = json_call(
        "POST",
        &server.url("/api/v1/channels"),
        &json!({"name": "inner", "kind": "webhook", "url": receiver.url("/admin")}),
        &[],
    );
    assert_eq!(answer.status, 400, "{}", answer.body);
    assert!(
        answer.body.contains("allow_private_targets"),
        "{}",
        answer.body
    );
    // A name that resolves to loopback is checked when delivering.
    let by_name = receiver.url("/admin").replace("127.0.0.1", "localhost");
    let answer = json_call(
        "POST",
        &server.url("/api/v1/channels"),
        &json!({"name": "named", "kind": "webhook", "url": by_name}),
        &[],
    );
    assert_eq!(answer.status, 400, "{}", answer.body);
    assert_eq!(receiver.count(), 0);
}

#[test]
fn a_test_delivery_never_echoes_the_receivers_body() {
    let dir = tempfile::tempdir().unwrap();
    let receiver = Receiver::start();
    receiver.reply(Reply::Answer(500, "internal secret page".into()));
    let server = with_config(&dir, "allow_private_targets = true\n");
    json_call(
        "POST",
        &server.url("/api/v1/channels"),
        &json!({"name": "inner", "kind": "webhook", "url": receiver.url("/admin")}),
        &[],
    );
    let answer = call(
        "POST",
        &server.url("/api/v1/channels/inner/test"),
        None,
        &[],
    );
    assert_eq!(answer.status, 200);
    assert_eq!(answer.json()["ok"], false);
    assert_eq!(answer.json()["status_code"], 500);
    assert!(!answer.body.contains("secret"), "{}", answer.body);
}

#[test]
fn an_alert_to_an_unknown_channel_is_refused_up_front() {
    let dir = tempfile::tempdir().unwrap();
    let server = with_config(&dir, "");
    let answer = json_call(
        "POST",
        &server.url("/api/v1/heartbeats"),
        &json!({"name": "job", "interval": "1h", "channels": ["nope"]}),
        &[],
    );
    assert_eq!(answer.status, 400, "{}", answer.body);
    assert!(answer.body.contains("nope"), "{}", answer.body);
    drop(server);

    let dir = tempfile::tempdir().unwrap();
    let (code, stderr) = refused_start(
        &dir,
        "[[check]]\nname = \"job\"\ninterval = \"1h\"\nchannels = [\"nope\"]\n",
        &[],
    );
    assert_eq!(code, Some(2), "{stderr}");
    assert!(stderr.contains("nope"), "{stderr}");
}

#[test]
fn slow_clients_never_hold_up_sigterm() {
    use std::io::Write;
    let dir = tempfile::tempdir().unwrap();
    let mut server = with_config(&dir, "");
    let addr = server.base.trim_start_matches("http://").to_string();
    let mut slow: Vec<std::net::TcpStream> = (0..20)
        .map(|_| {
            let mut s = std::net::TcpStream::connect(&addr).unwrap();
            s.write_all(b"GET /healthz HTTP/1.1\r\nHost: localhost\r\n")
                .unwrap();
            s
        })
        .collect();
    // A normal request still gets in.
    assert_eq!(get(&server.url("/healthz")).status, 200);
    let begin = std::time::Instant::now();
    server.signal(libc::SIGTERM);
    assert_eq!(server.wait(Duration::from_secs(12)), Some(0));
    assert!(
        begin.elapsed() < Duration::from_secs(10),
        "{:?}",
        begin.elapsed()
    );
    slow.clear();
}
