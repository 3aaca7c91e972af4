//! Honest changes and a trustworthy alert path: a write answered with an error
//! leaves no trace, alerts of one check reach a channel in the order they happened,
//! a hanging receiver delays only its own channel, a stop lets deliveries in flight
//! be recorded, a dead background task is noticed, and a clock jump pages nobody.

use crate::serve_support::*;
use hb::clock::{Clock, FakeClock};
use serde_json::{Value, json};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

const WAIT: Duration = Duration::from_secs(10);

fn clock() -> Arc<FakeClock> {
    Arc::new(FakeClock::at("2026-03-01T12:00:00Z"))
}

fn create(hb: &InProcess, body: Value) -> String {
    let answer = post(&hb.url("/api/v1/heartbeats"), &body.to_string());
    assert_eq!(answer.status, 201, "{}", answer.body);
    answer.json()["uuid"].as_str().unwrap().to_string()
}

fn check(hb: &InProcess, uuid: &str) -> Value {
    get(&hb.url(&format!("/api/v1/heartbeats/{uuid}"))).json()
}

fn channel(hb: &InProcess, name: &str, receiver: &Receiver) {
    let answer = post(
        &hb.url("/api/v1/channels"),
        &json!({"name": name, "kind": "webhook", "url": receiver.url("/hb")}).to_string(),
    );
    assert_eq!(answer.status, 201, "{}", answer.body);
}

#[test]
fn a_write_answered_503_leaves_no_trace() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("hb.db");
    let fail = Arc::new(AtomicBool::new(false));
    let hb = InProcess::start_faulty(&db, clock(), Default::default(), fail.clone());
    let uuid = create(&hb, json!({"name": "job", "interval": "1h"}));

    fail.store(true, Ordering::SeqCst);
    for _ in 0..20 {
        let answer = get(&hb.url(&format!("/ping/{uuid}")));
        assert_eq!(answer.status, 503, "{}", answer.body);
    }
    let answer = post(
        &hb.url("/api/v1/heartbeats"),
        &json!({"name": "ghost", "interval": "1h"}).to_string(),
    );
    assert_eq!(answer.status, 503, "{}", answer.body);
    let c = check(&hb, &uuid);
    assert_eq!(c["n_pings"], 0, "{c}");
    assert_eq!(c["status"], "new", "{c}");
    let list = get(&hb.url("/api/v1/heartbeats")).json();
    assert_eq!(list["heartbeats"].as_array().unwrap().len(), 1, "{list}");
    assert_eq!(get(&hb.url("/healthz")).status, 503, "a failing store");

    fail.store(false, Ordering::SeqCst);
    // The retry of the refused create is a create, not a conflict.
    create(&hb, json!({"name": "ghost", "interval": "1h"}));
    assert_eq!(get(&hb.url(&format!("/ping/{uuid}"))).status, 200);
    assert_eq!(check(&hb, &uuid)["n_pings"], 1);
    assert_eq!(get(&hb.url("/healthz")).status, 200);
    hb.stop();

    // What the API showed is what was stored.
    let hb = InProcess::start(&db, clock());
    assert_eq!(check(&hb, &uuid)["n_pings"], 1);
    let list = get(&hb.url("/api/v1/heartbeats")).json();
    assert_eq!(list["heartbeats"].as_array().unwrap().len(), 2, "{list}");
    hb.stop();
}

#[test]
fn a_failed_run_retried_after_503s_counts_once() {
    let dir = tempfile::tempdir().unwrap();
    let fail = Arc::new(AtomicBool::new(false));
    let hb = InProcess::start_faulty(
        &dir.path().join("hb.db"),
        clock(),
        Default::default(),
        fail.clone(),
    );
    let uuid = create(
        &hb,
        json!({"name": "job", "interval": "1h", "alert_after_failures": 3}),
    );
    assert_eq!(get(&hb.url(&format!("/ping/{uuid}"))).status, 200);
    fail.store(true, Ordering::SeqCst);
    // `hb run` tries an end ping six times when the monitor answers 503.
    for _ in 0..6 {
        assert_eq!(get(&hb.url(&format!("/ping/{uuid}/1"))).status, 503);
    }
    fail.store(false, Ordering::SeqCst);
    assert_eq!(get(&hb.url(&format!("/ping/{uuid}/1"))).status, 200);
    let c = check(&hb, &uuid);
    assert_eq!(c["failures"], 1, "{c}");
    assert_eq!(c["status"], "up", "{c}");
    hb.stop();
}

#[test]
fn alerts_of_a_check_reach_a_channel_in_the_order_they_happened() {
    let dir = tempfile::tempdir().unwrap();
    let receiver = Receiver::start();
    // The `down` gets one 5xx and waits ~5 s for its retry.
    receiver.reply_times(1, Reply::Status(503));
    let hb = InProcess::start(&dir.path().join("hb.db"), clock());
    channel(&hb, "hook", &receiver);
    let uuid = create(&hb, json!({"name": "job", "interval": "1h"}));
    assert_eq!(get(&hb.url(&format!("/ping/{uuid}/fail"))).status, 200);
    receiver.expect(1, WAIT);
    // Recovery while the `down` waits for its retry.
    assert_eq!(get(&hb.url(&format!("/ping/{uuid}"))).status, 200);
    hb.settle();
    assert_eq!(receiver.count(), 1, "the `up` waits for the `down`");
    hb.advance(Duration::from_secs(10));
    let got = receiver.expect(3, WAIT);
    let events: Vec<Value> = got.iter().map(|r| r.json()["event"].clone()).collect();
    assert_eq!(events, vec!["down", "down", "up"]);
    hb.settle();
    assert_eq!(receiver.count(), 3);
    hb.stop();
}

#[test]
fn a_hanging_receiver_delays_only_its_own_channel() {
    let dir = tempfile::tempdir().unwrap();
    let hanging = Receiver::start();
    hanging.reply(Reply::Hang);
    let healthy = Receiver::start();
    let hb = InProcess::start(&dir.path().join("hb.db"), clock());
    channel(&hb, "stuck", &hanging);
    channel(&hb, "fine", &healthy);
    let uuids: Vec<String> = (0..60)
        .map(|i| create(&hb, json!({"name": format!("job-{i}"), "interval": "1h"})))
        .collect();
    let begin = Instant::now();
    for uuid in &uuids {
        assert_eq!(get(&hb.url(&format!("/ping/{uuid}/fail"))).status, 200);
    }
    // With shared slots, 60 hanging attempts (10 s each) hold up the healthy channel
    // for tens of seconds.
    let got = healthy.expect(60, Duration::from_secs(8));
    assert_eq!(got.len(), 60);
    assert!(begin.elapsed() < Duration::from_secs(8));
    drop(hanging);
    hb.stop();
}

#[test]
fn a_stop_lets_a_delivery_in_flight_be_answered_and_recorded() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("hb.db");
    let receiver = Receiver::start();
    receiver.reply_times(1, Reply::Delay(Duration::from_millis(1500), 200));
    let hb = InProcess::start(&db, clock());
    channel(&hb, "hook", &receiver);
    let uuid = create(&hb, json!({"name": "job", "interval": "1h"}));
    assert_eq!(get(&hb.url(&format!("/ping/{uuid}/fail"))).status, 200);
    receiver.expect(1, WAIT);
    // The receiver is still answering: stop now.
    let begin = Instant::now();
    hb.stop();
    assert!(begin.elapsed() < Duration::from_secs(10));

    let hb = InProcess::start(&db, clock());
    hb.settle();
    assert_eq!(
        receiver.count(),
        1,
        "recorded before the stop: not sent again"
    );
    let notes = get(&hb.url(&format!("/api/v1/heartbeats/{uuid}/notifications"))).json();
    assert_eq!(notes["notifications"][0]["ok"], true, "{notes}");
    hb.stop();
}

/// A clock whose monotonic side panics when told to: the deadline engine reads it.
struct BreakableClock {
    inner: FakeClock,
    broken: AtomicBool,
}

impl Clock for BreakableClock {
    fn now(&self) -> jiff::Timestamp {
        self.inner.now()
    }

    fn monotonic(&self) -> Duration {
        if self.broken.load(Ordering::SeqCst) {
            panic!("injected failure");
        }
        self.inner.monotonic()
    }
}

#[test]
fn a_dead_engine_fails_healthz_and_stops_the_monitor() {
    let dir = tempfile::tempdir().unwrap();
    let clock = Arc::new(BreakableClock {
        inner: FakeClock::at("2026-03-01T12:00:00Z"),
        broken: AtomicBool::new(false),
    });
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let settings = hb::serve::ServeSettings {
        listen: "127.0.0.1:0".into(),
        db: dir.path().join("hb.db"),
        node: "test-node".into(),
        synchronous: "FULL".into(),
        max_connections: 10_000,
        options: Default::default(),
        declared: Default::default(),
    };
    let mut server = runtime
        .block_on(hb::serve::Server::start(settings, clock.clone()))
        .unwrap();
    let base = format!("http://{}", server.addr);
    assert_eq!(get(&format!("{base}/healthz")).status, 200);
    clock.broken.store(true, Ordering::SeqCst);
    server.app.engine_wake.notify_one();
    let why = runtime
        .block_on(async { tokio::time::timeout(WAIT, server.failed()).await })
        .expect("the monitor is told that its engine died");
    assert!(
        why.contains("deadline engine") && why.contains("injected failure"),
        "{why}"
    );
    let health = get(&format!("{base}/healthz"));
    assert_eq!(health.status, 503);
    assert!(health.body.contains("engine"), "{}", health.body);
    runtime.block_on(server.stop());
}

#[test]
fn a_clock_jump_forward_waits_one_grace_period_before_alerting() {
    let dir = tempfile::tempdir().unwrap();
    let receiver = Receiver::start();
    let hb = InProcess::start(&dir.path().join("hb.db"), clock());
    channel(&hb, "hook", &receiver);
    let uuid = create(
        &hb,
        json!({"name": "job", "interval": "1h", "grace_period": "10m"}),
    );
    assert_eq!(get(&hb.url(&format!("/ping/{uuid}"))).status, 200);
    // The machine resumes from a two-hour suspend: the wall clock steps.
    let jumps = || hb.app().metrics.clock_jumps.load(Ordering::SeqCst);
    hb.clock.jump(jiff::SignedDuration::from_hours(2));
    hb.app().engine_wake.notify_one();
    assert!(wait_until(WAIT, || jumps() == 1), "the engine saw the jump");
    hb.settle();
    assert_eq!(receiver.count(), 0, "nobody is paged for the jump itself");
    hb.advance(Duration::from_secs(9 * 60));
    hb.settle();
    assert_eq!(receiver.count(), 0);
    hb.advance(Duration::from_secs(60));
    let got = receiver.expect(1, WAIT);
    assert_eq!(got[0].json()["reason"], "missed");
    hb.stop();
}

#[test]
fn a_database_that_cannot_be_written_at_start_is_exit_1() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("hb.db");
    let mut server = ServeProcess::start(&db, &[], &[]);
    server.signal(libc::SIGTERM);
    assert_eq!(server.wait(WAIT), Some(0));
    // The same file, opened read-only (SQLite's URI form); on PostgreSQL, the same
    // database made read-only.
    let read_only = if crate::support::pg::on_postgres() {
        let url = crate::support::pg::db_for(&db);
        let name = url.rsplit('/').next().unwrap().to_string();
        crate::support::pg::cluster()
            .admin()
            .batch_execute(&format!(
                "ALTER DATABASE {name} SET default_transaction_read_only = on"
            ))
            .unwrap();
        url
    } else {
        "file:hb.db?mode=ro".to_string()
    };
    let out = std::process::Command::new(HB)
        .args(["serve", "--listen", "127.0.0.1:0", "--db", &read_only])
        .current_dir(dir.path())
        .env_remove("HB_CONFIG")
        .env_remove("HB_API_KEY")
        .env("XDG_CONFIG_HOME", dir.path().join("no-config"))
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("cannot write to the database"), "{stderr}");
    assert!(out.stdout.is_empty(), "never said it was listening");
}

#[test]
fn a_patch_never_undoes_a_concurrent_delete() {
    let dir = tempfile::tempdir().unwrap();
    let receiver = Receiver::start();
    let hb = InProcess::start(&dir.path().join("hb.db"), clock());
    let url = hb.url("/api/v1/channels/hook");
    for round in 0..40 {
        channel(&hb, "hook", &receiver);
        let patch_url = url.clone();
        let patcher = std::thread::spawn(move || {
            call(
                "PATCH",
                &patch_url,
                Some(r#"{"method": "PUT"}"#),
                &[("Content-Type", "application/json")],
            )
            .status
        });
        let deleted = call("DELETE", &url, None, &[]).status;
        let patched = patcher.join().unwrap();
        assert_eq!(deleted, 204, "round {round}");
        assert!(patched == 200 || patched == 404, "round {round}: {patched}");
        assert_eq!(
            get(&url).status,
            404,
            "round {round}: a deleted channel came back"
        );
    }
    hb.stop();
}

#[test]
fn an_end_ping_retried_with_the_same_rid_changes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let hb = InProcess::start(&dir.path().join("hb.db"), clock());
    let uuid = create(
        &hb,
        json!({"name": "job", "interval": "1h", "alert_after_failures": 3}),
    );
    let rid = "5b0b3b5e-4c1a-4d7e-9f2a-0c6a1d2e3f40";
    assert_eq!(
        get(&hb.url(&format!("/ping/{uuid}/start?rid={rid}"))).status,
        200
    );
    // The answer to the end ping was lost; the wrapper tries it again.
    for _ in 0..3 {
        assert_eq!(
            get(&hb.url(&format!("/ping/{uuid}/1?rid={rid}"))).status,
            200
        );
    }
    let c = check(&hb, &uuid);
    assert_eq!(c["n_pings"], 2, "{c}");
    assert_eq!(c["failures"], 1, "{c}");
    let pings = get(&hb.url(&format!("/api/v1/heartbeats/{uuid}/pings"))).json();
    assert_eq!(pings["pings"].as_array().unwrap().len(), 2);
    // A new run with a new rid counts.
    let other = "6b0b3b5e-4c1a-4d7e-9f2a-0c6a1d2e3f41";
    assert_eq!(
        get(&hb.url(&format!("/ping/{uuid}/1?rid={other}"))).status,
        200
    );
    assert_eq!(check(&hb, &uuid)["failures"], 2);
    hb.stop();
}
