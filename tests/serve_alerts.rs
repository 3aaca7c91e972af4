//! The alert path on an injected clock: deadlines, flips and webhook deliveries
//! through the durable outbox, across restarts. A real server and a real receiver;
//! only time is simulated.

use crate::serve_support::*;
use hb::clock::FakeClock;
use serde_json::{Value, json};
use std::sync::Arc;
use std::time::Duration;

const WAIT: Duration = Duration::from_secs(10);

fn clock() -> Arc<FakeClock> {
    Arc::new(FakeClock::at("2026-03-01T12:00:00Z"))
}

fn setup(db: &std::path::Path, clock: Arc<FakeClock>, receiver: &Receiver) -> InProcess {
    let hb = InProcess::start(db, clock);
    let answer = post(
        &hb.url("/api/v1/channels"),
        &json!({"name": "hook", "kind": "webhook", "url": format!("{}/hb", receiver.url(""))})
            .to_string(),
    );
    assert_eq!(answer.status, 201, "{}", answer.body);
    hb
}

fn create(hb: &InProcess, body: Value) -> String {
    let answer = post(&hb.url("/api/v1/heartbeats"), &body.to_string());
    assert_eq!(answer.status, 201, "{}", answer.body);
    answer.json()["uuid"].as_str().unwrap().to_string()
}

fn status(hb: &InProcess, uuid: &str) -> Value {
    get(&hb.url(&format!("/api/v1/heartbeats/{uuid}"))).json()["status"].clone()
}

#[test]
fn up_late_down_alerts_once_then_recovers() {
    let dir = tempfile::tempdir().unwrap();
    let receiver = Receiver::start();
    let hb = setup(&dir.path().join("hb.db"), clock(), &receiver);
    let uuid = create(
        &hb,
        json!({"name": "Backup", "interval": "1h", "grace_period": "10m"}),
    );
    assert_eq!(get(&hb.url(&format!("/ping/{uuid}"))).status, 200);
    assert_eq!(status(&hb, &uuid), "up");

    hb.advance(Duration::from_secs(3600));
    assert_eq!(status(&hb, &uuid), "late");
    hb.advance(Duration::from_secs(599));
    assert_eq!(status(&hb, &uuid), "late");
    assert_eq!(receiver.count(), 0, "late alerts nobody");

    hb.advance(Duration::from_secs(1));
    let got = receiver.expect(1, WAIT);
    assert_eq!(status(&hb, &uuid), "down");
    let alert = got[0].json();
    assert_eq!(got[0].method, "POST");
    assert_eq!(got[0].path(), "/hb");
    assert_eq!(alert["event"], "down");
    assert_eq!(alert["reason"], "missed");
    assert_eq!(alert["repeat"], 0);
    assert_eq!(alert["check"]["uuid"], uuid.as_str());
    assert_eq!(alert["check"]["name"], "Backup");
    assert_eq!(alert["at"], "2026-03-01T13:10:00Z");
    assert!(uuid::Uuid::parse_str(alert["event_id"].as_str().unwrap()).is_ok());

    let flips = get(&hb.url(&format!("/api/v1/heartbeats/{uuid}/flips"))).json();
    assert_eq!(flips["flips"][0]["to"], "down");
    assert_eq!(flips["flips"][0]["reason"], "missed");
    assert!(wait_until(WAIT, || {
        get(&hb.url(&format!("/api/v1/heartbeats/{uuid}/notifications"))).json()["notifications"][0]
            ["ok"]
            == true
    }));
    let notes = get(&hb.url(&format!("/api/v1/heartbeats/{uuid}/notifications"))).json();
    let note = &notes["notifications"][0];
    assert_eq!(note["event_id"], alert["event_id"]);
    assert_eq!(note["channel"], "hook");
    assert_eq!(note["attempts"], 1);
    assert_eq!(note["status_code"], 200);

    hb.advance(Duration::from_secs(7200));
    hb.settle();
    assert_eq!(receiver.count(), 1, "no repeat without realert");

    get(&hb.url(&format!("/ping/{uuid}")));
    let got = receiver.expect(2, WAIT);
    assert_eq!(got[1].json()["event"], "up");
    assert_eq!(status(&hb, &uuid), "up");
    hb.stop();
}

#[test]
fn a_failing_exit_code_alerts_at_once() {
    let dir = tempfile::tempdir().unwrap();
    let receiver = Receiver::start();
    let hb = setup(&dir.path().join("hb.db"), clock(), &receiver);
    let uuid = create(&hb, json!({"name": "job", "interval": "1d"}));
    let answer = call(
        "POST",
        &hb.url(&format!("/api/v1/ping/{uuid}/3")),
        Some("disk full\n"),
        &[],
    );
    assert_eq!(answer.status, 200);
    let alert = receiver.expect(1, WAIT)[0].json();
    assert_eq!(alert["event"], "down");
    assert_eq!(alert["reason"], "exit code 3");
    assert_eq!(alert["check"]["status"], "down");
    hb.stop();
}

#[test]
fn a_stuck_run_alerts_after_max_runtime() {
    let dir = tempfile::tempdir().unwrap();
    let receiver = Receiver::start();
    let hb = setup(&dir.path().join("hb.db"), clock(), &receiver);
    let uuid = create(
        &hb,
        json!({"name": "job", "interval": "1d", "max_runtime": "30m"}),
    );
    get(&hb.url(&format!("/ping/{uuid}/start")));
    assert_eq!(status(&hb, &uuid), "running");
    hb.advance(Duration::from_secs(29 * 60));
    assert_eq!(receiver.count(), 0);
    hb.advance(Duration::from_secs(60));
    let alert = receiver.expect(1, WAIT)[0].json();
    assert_eq!(
        (alert["event"].as_str(), alert["reason"].as_str()),
        (Some("down"), Some("stuck"))
    );
    hb.stop();
}

#[test]
fn channels_select_who_hears_and_realert_repeats() {
    let dir = tempfile::tempdir().unwrap();
    let receiver = Receiver::start();
    let other = Receiver::start();
    let hb = setup(&dir.path().join("hb.db"), clock(), &receiver);
    post(
        &hb.url("/api/v1/channels"),
        &json!({"name": "other", "kind": "webhook", "url": other.url("")}).to_string(),
    );
    let quiet = create(
        &hb,
        json!({"name": "quiet", "interval": "1d", "channels": []}),
    );
    let only_other = create(
        &hb,
        json!({"name": "only other", "interval": "1d", "channels": ["other"], "realert": "1h"}),
    );
    get(&hb.url(&format!("/ping/{quiet}/fail")));
    get(&hb.url(&format!("/ping/{only_other}/fail")));
    other.expect(1, WAIT);
    hb.advance(Duration::from_secs(3600));
    let got = other.expect(2, WAIT);
    assert_eq!(got[1].json()["repeat"], 1);
    assert_ne!(
        got[0].json()["event_id"],
        got[1].json()["event_id"],
        "a repeat is a new event"
    );
    hb.settle();
    assert_eq!(receiver.count(), 0, "channels = [] means none");
    hb.stop();
}

#[test]
fn failed_deliveries_are_retried_with_the_same_event_id() {
    let dir = tempfile::tempdir().unwrap();
    let receiver = Receiver::start();
    receiver.reply_times(1, Reply::Status(503));
    let hb = setup(&dir.path().join("hb.db"), clock(), &receiver);
    let uuid = create(&hb, json!({"name": "job", "interval": "1d"}));
    get(&hb.url(&format!("/ping/{uuid}/fail")));
    receiver.expect(1, WAIT);
    assert!(wait_until(WAIT, || {
        get(&hb.url(&format!("/api/v1/heartbeats/{uuid}/notifications"))).json()["notifications"][0]
            ["status_code"]
            == 503
    }));
    let note =
        get(&hb.url(&format!("/api/v1/heartbeats/{uuid}/notifications"))).json()["notifications"]
            [0]
        .clone();
    assert_eq!(note["ok"], Value::Null, "still being retried");
    hb.advance(Duration::from_secs(10));
    let got = receiver.expect(2, WAIT);
    assert_eq!(got[0].json()["event_id"], got[1].json()["event_id"]);
    assert!(wait_until(WAIT, || {
        get(&hb.url(&format!("/api/v1/heartbeats/{uuid}/notifications"))).json()["notifications"][0]
            ["ok"]
            == true
    }));
    hb.advance(Duration::from_secs(3600));
    hb.settle();
    assert_eq!(
        receiver.count(),
        2,
        "a delivery recorded as done is never repeated"
    );
    hb.stop();
}

#[test]
fn a_permanent_error_is_not_retried() {
    let dir = tempfile::tempdir().unwrap();
    let receiver = Receiver::start();
    receiver.reply(Reply::Status(404));
    let hb = setup(&dir.path().join("hb.db"), clock(), &receiver);
    let uuid = create(&hb, json!({"name": "job", "interval": "1d"}));
    get(&hb.url(&format!("/ping/{uuid}/fail")));
    receiver.expect(1, WAIT);
    assert!(wait_until(WAIT, || {
        get(&hb.url(&format!("/api/v1/heartbeats/{uuid}/notifications"))).json()["notifications"][0]
            ["ok"]
            == false
    }));
    hb.advance(Duration::from_secs(3600));
    hb.settle();
    assert_eq!(receiver.count(), 1);
    hb.stop();
}

#[test]
fn the_outbox_survives_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("hb.db");
    let clock = clock();
    let receiver = Receiver::start();
    // The channel points at a port where nothing listens yet.
    let port = closed_port();
    let hb = InProcess::start(&db, clock.clone());
    post(
        &hb.url("/api/v1/channels"),
        &json!({"name": "hook", "kind": "webhook", "url": format!("http://127.0.0.1:{port}/")})
            .to_string(),
    );
    let uuid = create(&hb, json!({"name": "job", "interval": "1d"}));
    get(&hb.url(&format!("/ping/{uuid}/fail")));
    assert!(wait_until(WAIT, || {
        get(&hb.url(&format!("/api/v1/heartbeats/{uuid}/notifications"))).json()["notifications"][0]
            ["attempts"]
            == 1
    }));
    let event_id =
        get(&hb.url(&format!("/api/v1/heartbeats/{uuid}/notifications"))).json()["notifications"]
            [0]["event_id"]
            .clone();
    hb.stop();

    // The receiver comes back (the channel now points at it), the monitor restarts.
    let hb = InProcess::start(&db, clock.clone());
    let patched = call(
        "PATCH",
        &hb.url("/api/v1/channels/hook"),
        Some(&json!({"url": format!("{}/", receiver.url(""))}).to_string()),
        &[],
    );
    assert_eq!(patched.status, 200, "{}", patched.body);
    hb.advance(Duration::from_secs(60));
    let got = receiver.expect(1, WAIT);
    assert_eq!(got[0].json()["event_id"], event_id);
    hb.advance(Duration::from_secs(3600));
    hb.settle();
    assert_eq!(receiver.count(), 1);
    hb.stop();
}

#[test]
fn a_deadline_passed_while_stopped_gets_one_grace_period() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("hb.db");
    let clock = clock();
    let receiver = Receiver::start();
    let hb = setup(&db, clock.clone(), &receiver);
    let uuid = create(
        &hb,
        json!({"name": "job", "interval": "1h", "grace_period": "10m"}),
    );
    get(&hb.url(&format!("/ping/{uuid}")));
    hb.stop();

    clock.advance(Duration::from_secs(5 * 3600));
    let hb = InProcess::start(&db, clock.clone());
    hb.advance(Duration::from_secs(1));
    hb.settle();
    assert_eq!(
        receiver.count(),
        0,
        "pings refused during the outage page nobody"
    );
    assert_eq!(status(&hb, &uuid), "late");
    hb.advance(Duration::from_secs(600));
    let alert = receiver.expect(1, WAIT)[0].json();
    assert_eq!(alert["reason"], "missed");
    hb.stop();
}

#[test]
fn a_channel_test_reports_the_delivery() {
    let dir = tempfile::tempdir().unwrap();
    let receiver = Receiver::start();
    let hb = setup(&dir.path().join("hb.db"), clock(), &receiver);
    let result = post(&hb.url("/api/v1/channels/hook/test"), "");
    assert_eq!(result.status, 200, "{}", result.body);
    let result = result.json();
    assert_eq!(result["ok"], true);
    assert_eq!(result["status_code"], 200);
    let got = receiver.expect(1, WAIT);
    assert_eq!(got[0].json()["event"], "test");
    assert_eq!(post(&hb.url("/api/v1/channels/nope/test"), "").status, 404);
    hb.stop();
}

#[test]
fn escalation_reaches_more_channels_which_hear_the_recovery() {
    let dir = tempfile::tempdir().unwrap();
    let receiver = Receiver::start();
    let pager = Receiver::start();
    let hb = setup(&dir.path().join("hb.db"), clock(), &receiver);
    post(
        &hb.url("/api/v1/channels"),
        &json!({"name": "pager", "kind": "webhook", "url": pager.url("")}).to_string(),
    );
    let uuid = create(
        &hb,
        json!({"name": "job", "interval": "1d", "channels": ["hook"],
               "escalation": [{"after": "30m", "channels": ["pager"]}]}),
    );
    get(&hb.url(&format!("/ping/{uuid}/fail")));
    receiver.expect(1, WAIT);
    hb.advance(Duration::from_secs(29 * 60));
    hb.settle();
    assert_eq!(pager.count(), 0, "not before 30 minutes");
    hb.advance(Duration::from_secs(60));
    let escalated = pager.expect(1, WAIT)[0].json();
    assert_eq!(
        (escalated["event"].as_str(), escalated["reason"].as_str()),
        (Some("down"), Some("failed"))
    );
    assert_eq!(receiver.count(), 1, "the first channel is not told twice");
    get(&hb.url(&format!("/ping/{uuid}")));
    assert_eq!(receiver.expect(2, WAIT)[1].json()["event"], "up");
    assert_eq!(pager.expect(2, WAIT)[1].json()["event"], "up");
    hb.stop();
}

#[test]
fn a_slow_run_alerts_while_it_runs_and_the_check_stays_up() {
    let dir = tempfile::tempdir().unwrap();
    let receiver = Receiver::start();
    let hb = setup(&dir.path().join("hb.db"), clock(), &receiver);
    let uuid = create(
        &hb,
        json!({"name": "job", "interval": "1h", "max_runtime": "1h"}),
    );
    for _ in 0..5 {
        get(&hb.url(&format!("/ping/{uuid}/start")));
        hb.advance(Duration::from_secs(10));
        get(&hb.url(&format!("/ping/{uuid}/0")));
    }
    let c = get(&hb.url(&format!("/api/v1/heartbeats/{uuid}"))).json();
    assert_eq!(c["median_duration"], 10.0);
    assert_eq!(c["slow_threshold"], 30.0);
    get(&hb.url(&format!("/ping/{uuid}/start")));
    hb.advance(Duration::from_secs(29));
    hb.settle();
    assert_eq!(receiver.count(), 0);
    hb.advance(Duration::from_secs(1));
    let alert = receiver.expect(1, WAIT)[0].json();
    assert_eq!(alert["event"], "slow");
    assert_eq!(status(&hb, &uuid), "running");
    get(&hb.url(&format!("/ping/{uuid}/0")));
    assert_eq!(status(&hb, &uuid), "up");
    hb.settle();
    assert_eq!(receiver.count(), 1, "one slow alert per run; no up alert");
    hb.stop();
}

#[test]
fn a_too_fast_run_alerts() {
    let dir = tempfile::tempdir().unwrap();
    let receiver = Receiver::start();
    let hb = setup(&dir.path().join("hb.db"), clock(), &receiver);
    let uuid = create(
        &hb,
        json!({"name": "job", "interval": "1h", "min_duration": "1m"}),
    );
    get(&hb.url(&format!("/ping/{uuid}/start")));
    hb.advance(Duration::from_secs(2));
    get(&hb.url(&format!("/ping/{uuid}/0")));
    let alert = receiver.expect(1, WAIT)[0].json();
    assert_eq!(alert["event"], "too_fast");
    assert_eq!(status(&hb, &uuid), "up");
    hb.stop();
}

#[test]
fn n_failures_in_a_row_before_down() {
    let dir = tempfile::tempdir().unwrap();
    let receiver = Receiver::start();
    let hb = setup(&dir.path().join("hb.db"), clock(), &receiver);
    let uuid = create(
        &hb,
        json!({"name": "job", "interval": "1h", "alert_after_failures": 3}),
    );
    for _ in 0..2 {
        get(&hb.url(&format!("/ping/{uuid}/1")));
        assert_eq!(status(&hb, &uuid), "up");
    }
    assert_eq!(
        get(&hb.url(&format!("/api/v1/heartbeats/{uuid}"))).json()["failures"],
        2
    );
    get(&hb.url(&format!("/ping/{uuid}/1")));
    assert_eq!(status(&hb, &uuid), "down");
    assert_eq!(receiver.expect(1, WAIT)[0].json()["reason"], "exit code 1");
    hb.stop();
}
