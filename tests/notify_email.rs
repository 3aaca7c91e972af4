//! The `email` kind through a real SMTP server (aiosmtpd, started by each test on a
//! loopback port): plain, STARTTLS with a private CA and a login, implicit TLS, refusals.

use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use crate::notify_support::{EVENT_ID, NAME, event};
use hb::serve::notify::{ChannelKind, Delivery, Event, Policy, deliver_with};
use serde_json::{Value, json};

const TIMEOUT: Duration = Duration::from_secs(10);

fn support() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/notify_support")
}

fn ca() -> String {
    support().join("tls/ca.pem").to_str().unwrap().to_string()
}

/// The SMTP server process; killed and reaped when dropped.
struct Sink {
    child: Child,
    dir: tempfile::TempDir,
    port: u16,
}

impl Sink {
    fn start(flags: &[&str]) -> Sink {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let dir = tempfile::tempdir().unwrap();
        let spawned = Command::new("python3")
            .arg(support().join("smtp_sink.py"))
            .arg(port.to_string())
            .arg(dir.path())
            .args(flags)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn();
        let mut child = match spawned {
            Ok(child) => child,
            Err(e) => panic!(
                "the email tests need python3 with aiosmtpd, and python3 could not be started ({e}); run .ci/test, which installs what the tests need"
            ),
        };
        let stdout = child.stdout.take().unwrap();
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            let mut line = String::new();
            let _ = BufReader::new(stdout).read_line(&mut line);
            let _ = tx.send(line);
        });
        let line = rx.recv_timeout(Duration::from_secs(30)).unwrap_or_default();
        if line.trim() != "ready" {
            let _ = child.kill();
            let _ = child.wait();
            let mut stderr = String::new();
            if let Some(mut e) = child.stderr.take() {
                let _ = e.read_to_string(&mut stderr);
            }
            panic!(
                "the SMTP test server did not start: {}{}\nthe email tests need python3 with aiosmtpd: run .ci/test, which installs it",
                line.trim(),
                stderr.trim()
            );
        }
        Sink { child, dir, port }
    }

    /// The messages received so far, waiting up to 10 s for at least `n`.
    fn messages(&self, n: usize) -> Vec<Value> {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let mut found: Vec<(u32, Value)> = std::fs::read_dir(self.dir.path())
                .unwrap()
                .filter_map(|e| e.ok())
                .filter_map(|e| {
                    let name = e.file_name().into_string().ok()?;
                    let n: u32 = name.strip_suffix(".json")?.parse().ok()?;
                    let text = std::fs::read_to_string(e.path()).ok()?;
                    Some((n, serde_json::from_str(&text).ok()?))
                })
                .collect();
            if found.len() >= n || Instant::now() > deadline {
                found.sort_by_key(|(n, _)| *n);
                return found.into_iter().map(|(_, v)| v).collect();
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Sink {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The sink is on loopback: these deliveries allow private targets.
fn deliver(c: &ChannelKind, e: &Event, timeout: Duration) -> Delivery {
    deliver_with(c, e, timeout, Policy::ALLOW_PRIVATE)
}

fn send(settings: Value, kind: &str) -> Delivery {
    let channel = ChannelKind::from_json(&settings).unwrap_or_else(|e| panic!("{settings}: {e}"));
    deliver(&channel, &event(kind), TIMEOUT)
}

#[test]
fn a_plain_relay_gets_a_multipart_message() {
    let sink = Sink::start(&[]);
    let d = send(
        json!({
            "kind": "email",
            "smtp": format!("smtp://127.0.0.1:{}", sink.port),
            "from": "hb <hb@example.com>",
            "to": ["ops@example.com", "Oncall <oncall@example.org>"],
        }),
        "down",
    );
    assert!(d.ok, "{d:?}");
    assert_eq!(d.status_code, Some(250));
    let messages = sink.messages(1);
    assert_eq!(messages.len(), 1, "{messages:#?}");
    let m = &messages[0];
    assert_eq!(m["mail_from"], "hb@example.com");
    assert_eq!(
        m["rcpt_tos"],
        json!(["ops@example.com", "oncall@example.org"])
    );
    assert_eq!(m["subject"], format!("[hb] DOWN: {NAME} (exit code 3)"));
    assert_eq!(m["from"], "hb <hb@example.com>");
    assert_eq!(m["to"], "ops@example.com, Oncall <oncall@example.org>");
    assert_eq!(m["message_id"], format!("<hb.{EVENT_ID}@example.com>"));
    assert_eq!(m["event_id"], EVENT_ID);
    assert_eq!(m["content_type"], "multipart/alternative");
    assert_eq!(m["tls"], false);
    let parts = m["parts"].as_array().unwrap();
    assert_eq!(parts.len(), 2, "{parts:#?}");
    assert_eq!(parts[0]["content_type"], "text/plain");
    let plain = parts[0]["content"].as_str().unwrap();
    assert!(
        plain.starts_with(&format!("{NAME} is down: it exited with code 3.")),
        "{plain}"
    );
    assert!(plain.contains("<script>alert(1)</script>"), "{plain}");
    assert!(plain.contains(&event("down").check_url));
    assert_eq!(parts[1]["content_type"], "text/html");
    let html = parts[1]["content"].as_str().unwrap();
    assert!(
        html.contains("Backup &quot;prod&quot; &lt;db&gt; &amp; co"),
        "{html}"
    );
    assert!(html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
    assert!(!html.contains("<script>"));

    // A name beyond ASCII survives the subject's encoding.
    let mut e = event("up");
    e.check["name"] = json!("Sauvegarde nocturne — été");
    let channel = ChannelKind::from_json(&json!({
        "kind": "email",
        "smtp": format!("smtp://127.0.0.1:{}", sink.port),
        "from": "hb@example.com",
        "to": "ops@example.com",
    }))
    .unwrap();
    assert!(deliver(&channel, &e, TIMEOUT).ok);
    let messages = sink.messages(2);
    assert_eq!(messages[1]["subject"], "[hb] UP: Sauvegarde nocturne — été");
}

#[test]
fn starttls_with_a_private_ca_and_a_login() {
    let sink = Sink::start(&["--starttls", "--auth", "hb@ops:p@ss:w rd"]);
    let smtp = format!(
        "smtp://hb%40ops:p%40ss%3Aw%20rd@127.0.0.1:{}?tls=required&ca={}",
        sink.port,
        ca()
    );
    let d = send(
        json!({"kind": "email", "smtp": smtp, "from": "hb@example.com", "to": ["ops@example.com"]}),
        "test",
    );
    assert!(d.ok, "{d:?}");
    let m = &sink.messages(1)[0];
    assert_eq!(m["tls"], true);
    assert_eq!(m["auth"], "hb@ops");
    assert!(m["subject"].as_str().unwrap().starts_with("[hb] TEST: "));

    // A wrong password is the server's permanent refusal.
    let smtp = format!(
        "smtp://hb%40ops:wrong@127.0.0.1:{}?tls=required&ca={}",
        sink.port,
        ca()
    );
    let d = send(
        json!({"kind": "email", "smtp": smtp, "from": "hb@example.com", "to": ["ops@example.com"]}),
        "test",
    );
    assert!(!d.ok && d.permanent, "{d:?}");
    assert_eq!(d.status_code, Some(535));
    assert_eq!(
        d.error.as_deref(),
        Some(
            format!(
                "the SMTP server 127.0.0.1:{} refused the login (535 authentication failed); check the user and password in the smtp setting",
                sink.port
            )
            .as_str()
        )
    );

    // Without the CA the server's certificate is not trusted.
    let smtp = format!("smtp://127.0.0.1:{}?tls=required", sink.port);
    let d = send(
        json!({"kind": "email", "smtp": smtp, "from": "hb@example.com", "to": ["ops@example.com"]}),
        "test",
    );
    assert!(!d.ok, "{d:?}");
    assert!(d.error.unwrap().contains("certificate"));
    assert_eq!(sink.messages(1).len(), 1);
}

#[test]
fn implicit_tls() {
    let sink = Sink::start(&["--implicit-tls"]);
    let smtp = format!("smtps://127.0.0.1:{}?ca={}", sink.port, ca());
    let d = send(
        json!({"kind": "email", "smtp": smtp, "from": "hb@example.com", "to": ["ops@example.com"]}),
        "slow",
    );
    assert!(d.ok, "{d:?}");
    let m = &sink.messages(1)[0];
    assert_eq!(m["tls"], true);
    assert!(m["subject"].as_str().unwrap().starts_with("[hb] SLOW: "));
}

#[test]
fn refusals_and_unreachable_servers() {
    let sink = Sink::start(&[]);
    let d = send(
        json!({
            "kind": "email",
            "smtp": format!("smtp://127.0.0.1:{}", sink.port),
            "from": "hb@example.com",
            "to": ["nobody@rejected.example"],
        }),
        "down",
    );
    assert!(!d.ok && d.permanent, "{d:?}");
    assert_eq!(d.status_code, Some(550));
    // The reply code and its standard meaning, never the server's own words.
    assert_eq!(
        d.error.as_deref(),
        Some(
            format!(
                "the SMTP server 127.0.0.1:{} refused the message (550 mailbox unavailable)",
                sink.port
            )
            .as_str()
        )
    );
    drop(sink);

    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let d = send(
        json!({"kind": "email", "smtp": format!("smtp://127.0.0.1:{port}"), "from": "hb@example.com", "to": ["ops@example.com"]}),
        "down",
    );
    assert!(!d.ok && !d.permanent, "{d:?}");
    assert_eq!(d.status_code, None);
    assert!(d.error.unwrap().contains(&format!("127.0.0.1:{port}")));
}

#[test]
fn a_server_that_never_greets_is_bounded_by_the_timeout() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        let held: Vec<_> = listener.incoming().take(1).collect();
        std::thread::sleep(Duration::from_secs(30));
        drop(held);
    });
    let channel = ChannelKind::from_json(&json!({
        "kind": "email",
        "smtp": format!("smtp://127.0.0.1:{port}"),
        "from": "hb@example.com",
        "to": ["ops@example.com"],
    }))
    .unwrap();
    let started = Instant::now();
    let d = deliver(&channel, &event("down"), Duration::from_secs(1));
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "took {:?}",
        started.elapsed()
    );
    assert!(!d.ok && !d.permanent, "{d:?}");
    assert_eq!(
        d.error.as_deref(),
        Some(format!("the SMTP server 127.0.0.1:{port} did not answer within 1s").as_str())
    );
}

#[test]
fn a_private_smtp_server_is_refused_unless_allowed() {
    let sink = Sink::start(&[]);
    for host in ["127.0.0.1", "localhost", "[::ffff:127.0.0.1]"] {
        let settings = json!({
            "kind": "email",
            "smtp": format!("smtp://u:p@{host}:{}", sink.port),
            "from": "hb@example.com",
            "to": ["ops@example.com"],
        });
        let c = ChannelKind::from_json(&settings).unwrap();
        let d = deliver_with(&c, &event("down"), TIMEOUT, Policy::GLOBAL_ONLY);
        assert!(
            !d.ok && d.permanent && d.status_code.is_none(),
            "{host}: {d:?}"
        );
        let error = d.error.unwrap();
        assert!(error.starts_with("refused to connect to "), "{error}");
        assert!(
            error.ends_with("a loopback address); set allow_private_targets = true to allow it"),
            "{error}"
        );
    }
    let c = ChannelKind::from_json(&json!({
        "kind": "email",
        "smtp": format!("smtp://127.0.0.1:{}", sink.port),
        "from": "hb@example.com",
        "to": ["ops@example.com"],
    }))
    .unwrap();
    assert_eq!(
        deliver_with(&c, &event("down"), TIMEOUT, Policy::GLOBAL_ONLY)
            .error
            .as_deref(),
        Some(
            "refused to connect to 127.0.0.1 (a loopback address); set allow_private_targets = true to allow it"
        )
    );
    // Nothing reached the server; allowed, the message goes through.
    assert!(deliver(&c, &event("down"), TIMEOUT).ok);
    assert_eq!(sink.messages(1).len(), 1);
}

#[test]
fn a_name_is_connected_to_by_its_checked_addresses_with_tls_for_the_name() {
    // `localhost` is resolved by hb, checked, and each address tried (the sink listens on
    // 127.0.0.1 only, so a ::1 first is refused and the next one used); TLS checks the
    // certificate against the name written in smtp (the test certificate names it).
    let sink = Sink::start(&["--implicit-tls"]);
    let smtp = format!("smtps://localhost:{}?ca={}", sink.port, ca());
    let d = send(
        json!({"kind": "email", "smtp": smtp, "from": "hb@example.com", "to": ["ops@example.com"]}),
        "down",
    );
    assert!(d.ok, "{d:?}");
    assert_eq!(sink.messages(1)[0]["tls"], true);
}
