//! Several `hb serve` processes on one PostgreSQL database (PRODUCT §8): real
//! processes, a real database, a real receiver that records every `event_id`, and
//! real signals (kill -9, SIGSTOP/SIGCONT) to the nodes.

use crate::serve_support::*;
use crate::support::pg;
use serde_json::{Value, json};
use std::collections::{BTreeMap, BTreeSet};
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const HB: &str = env!("CARGO_BIN_EXE_hb");

/// One node: `hb serve` on the shared database; killed on drop.
struct Node {
    child: Child,
    base: String,
    stderr: std::path::PathBuf,
}

impl Node {
    fn start(url: &str, dir: &Path, name: &str) -> Node {
        let config = dir.join("hb.toml");
        if !config.exists() {
            std::fs::write(&config, "allow_private_targets = true\n").unwrap();
        }
        let stderr = dir.join(format!("{name}.stderr"));
        let mut child = Command::new(HB)
            .args(["serve", "--listen", "127.0.0.1:0", "--db", url, "--config"])
            .arg(&config)
            .env_remove("HB_CONFIG")
            .env_remove("HB_API_KEY")
            .env_remove("HB_PING_KEY")
            .env_remove("HB_BASE_URL")
            .env_remove("HB_DB")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(std::fs::File::create(&stderr).unwrap())
            .spawn()
            .unwrap();
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let addr = line
            .trim()
            .strip_prefix("listening on ")
            .unwrap_or_else(|| {
                panic!(
                    "node {name} did not start: {line:?} {}",
                    std::fs::read_to_string(&stderr).unwrap_or_default()
                )
            })
            .to_string();
        Node {
            child,
            base: addr,
            stderr,
        }
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    fn signal(&self, signal: i32) {
        // SAFETY: a signal to the child this test started, by its PID.
        unsafe {
            libc::kill(self.child.id() as i32, signal);
        }
    }

    fn kill_9(&mut self) {
        self.signal(libc::SIGKILL);
        let _ = self.child.wait();
    }

    fn metric(&self, name: &str) -> Option<f64> {
        let text = try_call("GET", &self.url("/metrics"), None)?.1;
        text.lines()
            .find(|l| l.starts_with(name) && !l.starts_with('#'))
            .and_then(|l| l.rsplit(' ').next())
            .and_then(|v| v.parse().ok())
    }
}

impl Drop for Node {
    fn drop(&mut self) {
        if self.child.try_wait().ok().flatten().is_none() {
            self.signal(libc::SIGCONT);
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
        if std::thread::panicking() {
            eprintln!(
                "--- {} stderr ---\n{}",
                self.base,
                std::fs::read_to_string(&self.stderr).unwrap_or_default()
            );
        }
    }
}

/// A request that may fail (the node may be dead): (status, body).
fn try_call(method: &str, url: &str, body: Option<&Value>) -> Option<(u16, String)> {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(5)))
        .build()
        .into();
    let request = ureq::http::Request::builder().method(method).uri(url);
    let response = match body {
        Some(b) => agent.run(
            request
                .header("Content-Type", "application/json")
                .body(b.to_string().into_bytes())
                .ok()?,
        ),
        None => agent.run(request.body(()).ok()?),
    }
    .ok()?;
    let status = response.status().as_u16();
    Some((
        status,
        response.into_body().read_to_string().unwrap_or_default(),
    ))
}

/// A POST with a plain-text body (a ping with output).
fn try_call_body(url: &str, body: &str) -> Option<(u16, String)> {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(5)))
        .build()
        .into();
    let response = agent.post(url).send(body).ok()?;
    let status = response.status().as_u16();
    Some((
        status,
        response.into_body().read_to_string().unwrap_or_default(),
    ))
}

fn ok_json(method: &str, url: &str, body: Option<&Value>, want: u16) -> Value {
    let (status, text) = try_call(method, url, body).unwrap_or_else(|| panic!("{method} {url}"));
    assert_eq!(status, want, "{method} {url}: {text}");
    serde_json::from_str(&text).unwrap_or(Value::Null)
}

struct Cluster {
    nodes: Vec<Node>,
    url: String,
    _dir: tempfile::TempDir,
}

fn cluster(n: usize) -> Cluster {
    let url = pg::fresh_db();
    let dir = tempfile::tempdir().unwrap();
    let nodes = (0..n)
        .map(|i| Node::start(&url, dir.path(), &format!("n{i}")))
        .collect();
    Cluster {
        nodes,
        url,
        _dir: dir,
    }
}

fn add_hook(node: &Node, receiver: &Receiver) {
    ok_json(
        "POST",
        &node.url("/api/v1/channels"),
        Some(&json!({"name": "hook", "kind": "webhook", "url": receiver.url("/hook")})),
        201,
    );
}

/// `down` events received, by check uuid: the event ids (one per delivery).
fn downs(receiver: &Receiver) -> BTreeMap<String, Vec<String>> {
    let mut by_check: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for request in receiver.requests() {
        let event = request.json();
        if event["event"] == "down" {
            by_check
                .entry(event["check"]["uuid"].as_str().unwrap().to_string())
                .or_default()
                .push(event["event_id"].as_str().unwrap().to_string());
        }
    }
    by_check
}

fn wait_for(timeout: Duration, mut cond: impl FnMut() -> bool) -> bool {
    let until = Instant::now() + timeout;
    while Instant::now() < until {
        if cond() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    cond()
}

/// Waits until no node has a delivery left to do.
fn drained(nodes: &[&Node]) -> bool {
    wait_for(Duration::from_secs(30), || {
        nodes
            .iter()
            .all(|n| n.metric("hb_outbox_backlog") == Some(0.0))
    })
}

#[test]
fn a_change_on_one_node_is_seen_by_the_others_at_once() {
    let c = cluster(3);
    let [a, b, d] = [&c.nodes[0], &c.nodes[1], &c.nodes[2]];
    let check = ok_json(
        "POST",
        &a.url("/api/v1/heartbeats"),
        Some(&json!({"name": "backup", "interval": "1h"})),
        201,
    );
    let uuid = check["uuid"].as_str().unwrap();
    for node in [b, d] {
        let got = ok_json(
            "GET",
            &node.url(&format!("/api/v1/heartbeats/{uuid}")),
            None,
            200,
        );
        assert_eq!(got["name"], "backup");
    }
    assert_eq!(
        try_call("GET", &b.url(&format!("/ping/{uuid}")), None)
            .unwrap()
            .0,
        200
    );
    let got = ok_json(
        "GET",
        &d.url(&format!("/api/v1/heartbeats/{uuid}")),
        None,
        200,
    );
    assert_eq!(got["n_pings"], 1);
    assert_eq!(got["status"], "up");
    ok_json(
        "PATCH",
        &d.url(&format!("/api/v1/heartbeats/{uuid}")),
        Some(&json!({"name": "nightly backup"})),
        200,
    );
    let got = ok_json(
        "GET",
        &a.url(&format!("/api/v1/heartbeats/{uuid}")),
        None,
        200,
    );
    assert_eq!(got["name"], "nightly backup");
    // A name taken on one node is taken on all.
    let (status, _) = try_call(
        "POST",
        &b.url("/api/v1/heartbeats"),
        Some(&json!({"name": "nightly backup", "interval": "1h"})),
    )
    .unwrap();
    assert_eq!(status, 409);
    assert_eq!(
        try_call(
            "DELETE",
            &a.url(&format!("/api/v1/heartbeats/{uuid}")),
            None
        )
        .unwrap()
        .0,
        204
    );
    assert_eq!(
        try_call("GET", &d.url(&format!("/api/v1/heartbeats/{uuid}")), None)
            .unwrap()
            .0,
        404
    );
    for node in [a, b, d] {
        assert_eq!(try_call("GET", &node.url("/healthz"), None).unwrap().0, 200);
    }
    assert!(c.url.starts_with("postgres://"));
    // Text travels as it was written, whatever quotes it holds.
    let odd = "it's $1 \\ \"q\" é ✓";
    let check = ok_json(
        "POST",
        &a.url("/api/v1/heartbeats"),
        Some(&json!({"name": odd, "interval": "1h"})),
        201,
    );
    let uuid = check["uuid"].as_str().unwrap();
    let body = "'); DROP TABLE checks; -- $$ \\x00";
    let (status, _) = try_call_body(&b.url(&format!("/ping/{uuid}/fail")), body).unwrap();
    assert_eq!(status, 200);
    let got = ok_json(
        "GET",
        &d.url(&format!("/api/v1/heartbeats/{uuid}")),
        None,
        200,
    );
    assert_eq!(got["name"], odd);
    assert_eq!(got["status"], "down");
    let pings = ok_json(
        "GET",
        &d.url(&format!("/api/v1/heartbeats/{uuid}/pings")),
        None,
        200,
    );
    assert_eq!(pings["pings"][0]["body"], body);
}

/// Makes `n` checks (1 s interval and grace), pinged once each, spread over the nodes;
/// returns their uuids.
fn due_checks(nodes: &[&Node], n: usize, prefix: &str) -> Vec<String> {
    let mut uuids = Vec::new();
    for i in 0..n {
        let node = nodes[i % nodes.len()];
        let check = ok_json(
            "POST",
            &node.url("/api/v1/heartbeats"),
            Some(&json!({"name": format!("{prefix}-{i}"), "interval": "1s", "grace_period": "1s"})),
            201,
        );
        uuids.push(check["uuid"].as_str().unwrap().to_string());
    }
    for (i, uuid) in uuids.iter().enumerate() {
        let node = nodes[(i + 1) % nodes.len()];
        assert_eq!(
            try_call("GET", &node.url(&format!("/ping/{uuid}")), None)
                .unwrap()
                .0,
            200
        );
    }
    uuids
}

fn assert_one_event_each(receiver: &Receiver, uuids: &[String]) {
    let got = downs(receiver);
    for uuid in uuids {
        let events = got.get(uuid).cloned().unwrap_or_default();
        let distinct: BTreeSet<&String> = events.iter().collect();
        assert_eq!(
            distinct.len(),
            1,
            "check {uuid}: one down event, got {events:?}"
        );
    }
}

#[test]
fn hundreds_of_checks_falling_due_at_once_alert_exactly_once_each() {
    let c = cluster(3);
    let nodes: Vec<&Node> = c.nodes.iter().collect();
    let receiver = Receiver::start();
    add_hook(nodes[0], &receiver);
    let uuids = due_checks(&nodes, 300, "burst");
    assert!(
        wait_for(Duration::from_secs(30), || downs(&receiver).len()
            == uuids.len()),
        "every check alerted: {} of {}",
        downs(&receiver).len(),
        uuids.len()
    );
    assert!(drained(&nodes));
    assert_one_event_each(&receiver, &uuids);
    let total: usize = downs(&receiver).values().map(Vec::len).sum();
    assert_eq!(total, uuids.len(), "no delivery was repeated");
}

#[test]
fn a_node_killed_during_a_burst_and_ping_load_loses_nothing() {
    let mut c = cluster(3);
    let receiver = Receiver::start();
    receiver.reply(Reply::Delay(Duration::from_millis(200), 200));
    let uuids = {
        let nodes: Vec<&Node> = c.nodes.iter().collect();
        add_hook(nodes[0], &receiver);
        due_checks(&nodes, 150, "kill")
    };
    // Steady pings at other checks through every node while one dies.
    let pinged = {
        let nodes: Vec<&Node> = c.nodes.iter().collect();
        let check = ok_json(
            "POST",
            &nodes[0].url("/api/v1/heartbeats"),
            Some(&json!({"name": "steady", "interval": "1h"})),
            201,
        );
        check["uuid"].as_str().unwrap().to_string()
    };
    let bases: Vec<String> = c.nodes.iter().map(|n| n.base.clone()).collect();
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let load = {
        let (stop, pinged) = (stop.clone(), pinged.clone());
        std::thread::spawn(move || {
            let mut acked = 0u64;
            let mut i = 0;
            while !stop.load(std::sync::atomic::Ordering::SeqCst) {
                let base = &bases[i % bases.len()];
                i += 1;
                if let Some((200, _)) = try_call("POST", &format!("{base}/ping/{pinged}"), None) {
                    acked += 1;
                }
            }
            acked
        })
    };
    // Kill a node while the alerts of the burst are being delivered.
    assert!(wait_for(Duration::from_secs(20), || !downs(&receiver).is_empty()));
    let killed_at = Instant::now();
    c.nodes[0].kill_9();
    let survivors: Vec<&Node> = c.nodes[1..].iter().collect();
    assert!(
        wait_for(Duration::from_secs(15), || downs(&receiver).len()
            == uuids.len()),
        "every check alerted after the kill: {} of {}",
        downs(&receiver).len(),
        uuids.len()
    );
    let takeover = killed_at.elapsed();
    stop.store(true, std::sync::atomic::Ordering::SeqCst);
    let acked = load.join().unwrap();
    assert!(drained(&survivors));
    assert_one_event_each(&receiver, &uuids);
    assert!(
        takeover < Duration::from_secs(10),
        "takeover took {takeover:?}"
    );
    let got = ok_json(
        "GET",
        &survivors[0].url(&format!("/api/v1/heartbeats/{pinged}")),
        None,
        200,
    );
    assert!(acked > 0);
    assert!(
        got["n_pings"].as_u64().unwrap() >= acked,
        "every acknowledged ping is stored: {} stored, {acked} acknowledged",
        got["n_pings"]
    );
}

#[test]
fn a_frozen_node_past_its_lease_sends_nothing_twice() {
    let c = cluster(3);
    let receiver = Receiver::start();
    // Until the channel is moved to /ok, every attempt is refused: deliveries wait for
    // their retries in the shared outbox, leased and given back over and over.
    receiver.reply_to("/refuse", Reply::Status(503));
    let nodes: Vec<&Node> = c.nodes.iter().collect();
    ok_json(
        "POST",
        &nodes[0].url("/api/v1/channels"),
        Some(&json!({"name": "hook", "kind": "webhook", "url": receiver.url("/refuse")})),
        201,
    );
    let uuids = due_checks(&nodes, 40, "frozen");
    assert!(wait_for(Duration::from_secs(30), || downs(&receiver).len() == 40));
    c.nodes[1].signal(libc::SIGSTOP);
    ok_json(
        "PATCH",
        &nodes[0].url("/api/v1/channels/hook"),
        Some(&json!({"url": receiver.url("/ok")})),
        200,
    );
    std::thread::sleep(LEASE_AND_MORE);
    c.nodes[1].signal(libc::SIGCONT);
    let accepted = |uuid: &str| {
        receiver
            .requests()
            .iter()
            .filter(|r| r.path() == "/ok" && r.json()["check"]["uuid"] == uuid)
            .count()
    };
    assert!(
        wait_for(Duration::from_secs(40), || uuids
            .iter()
            .all(|u| accepted(u) >= 1)),
        "every alert was delivered once the receiver accepted them"
    );
    assert!(drained(&nodes));
    assert_one_event_each(&receiver, &uuids);
    for uuid in &uuids {
        assert_eq!(accepted(uuid), 1, "{uuid}: delivered once, never twice");
    }
}

/// Longer than a delivery lease, so the others take over a frozen node's work.
const LEASE_AND_MORE: Duration = Duration::from_secs(8);

#[test]
fn nodes_reconnect_after_every_database_connection_is_cut() {
    let c = cluster(3);
    let check = ok_json(
        "POST",
        &c.nodes[0].url("/api/v1/heartbeats"),
        Some(&json!({"name": "cut", "interval": "1h"})),
        201,
    );
    let uuid = check["uuid"].as_str().unwrap().to_string();
    pg::terminate_connections(&c.url);
    for node in &c.nodes {
        assert!(
            wait_for(Duration::from_secs(10), || {
                try_call("GET", &node.url(&format!("/ping/{uuid}")), None)
                    .is_some_and(|(s, _)| s == 200)
            }),
            "node {} pings again after the cut",
            node.base
        );
        assert!(wait_for(Duration::from_secs(10), || {
            try_call("GET", &node.url("/healthz"), None).is_some_and(|(s, _)| s == 200)
        }));
    }
    let got = ok_json(
        "GET",
        &c.nodes[2].url(&format!("/api/v1/heartbeats/{uuid}")),
        None,
        200,
    );
    assert!(got["n_pings"].as_u64().unwrap() >= 3);
}

#[test]
fn a_receiver_refusing_for_a_while_gets_each_alert_once() {
    let c = cluster(3);
    let receiver = Receiver::start();
    receiver.reply_times(6, Reply::Status(503));
    let nodes: Vec<&Node> = c.nodes.iter().collect();
    add_hook(nodes[0], &receiver);
    let uuids = due_checks(&nodes, 3, "refused");
    assert!(
        wait_for(Duration::from_secs(60), || {
            receiver
                .requests()
                .iter()
                .filter(|r| r.json()["event"] == "down")
                .count()
                >= 9
        }),
        "retried until accepted"
    );
    assert!(drained(&nodes));
    let got = downs(&receiver);
    for uuid in &uuids {
        let distinct: BTreeSet<&String> = got[uuid].iter().collect();
        assert_eq!(distinct.len(), 1);
    }
    assert_eq!(
        receiver.count(),
        9,
        "6 refused attempts, then each of the 3 alerts accepted once"
    );
}
