//! The slot ledger of §6 through the real server on an injected clock:
//! `GET /api/v1/heartbeats/{uuid}/slots`, `missed_slots` in `down` alerts, and slot
//! outcomes that outlive the ping history.

use crate::serve_support::*;
use hb::clock::FakeClock;
use serde_json::{Value, json};
use std::sync::Arc;
use std::time::Duration;

const WAIT: Duration = Duration::from_secs(10);
const MINUTE: Duration = Duration::from_secs(60);

fn clock() -> Arc<FakeClock> {
    Arc::new(FakeClock::at("2026-03-01T12:00:00Z"))
}

fn create(hb: &InProcess, body: Value) -> String {
    let answer = post(&hb.url("/api/v1/heartbeats"), &body.to_string());
    assert_eq!(answer.status, 201, "{}", answer.body);
    answer.json()["uuid"].as_str().unwrap().to_string()
}

fn ping(hb: &InProcess, uuid: &str, suffix: &str) {
    let answer = get(&hb.url(&format!("/ping/{uuid}{suffix}")));
    assert_eq!(answer.status, 200, "{}", answer.body);
}

/// `(due, status, ping)` of each slot the API lists for this query.
fn slots(hb: &InProcess, uuid: &str, query: &str) -> Vec<(String, String, Value)> {
    let answer = get(&hb.url(&format!("/api/v1/heartbeats/{uuid}/slots{query}")));
    assert_eq!(answer.status, 200, "{}", answer.body);
    answer.json()["slots"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            (
                s["due"].as_str().unwrap().to_string(),
                s["status"].as_str().unwrap().to_string(),
                s["ping"].clone(),
            )
        })
        .collect()
}

fn slot(due: &str, status: &str, ping: Value) -> (String, String, Value) {
    (due.to_string(), status.to_string(), ping)
}

#[test]
fn a_cron_check_lists_ok_missed_failed_running_and_pending_slots() {
    let dir = tempfile::tempdir().unwrap();
    let hb = InProcess::start(&dir.path().join("hb.db"), clock());
    let uuid = create(
        &hb,
        json!({"name": "hourly", "cron": "0 * * * *", "grace_period": "10m"}),
    );
    assert!(slots(&hb, &uuid, "").is_empty(), "no slot is due yet");
    // 13:00: a run; 14:00: nothing; 15:00: a failure; 16:00: a run still going.
    hb.advance(Duration::from_secs(3605));
    ping(&hb, &uuid, "/start");
    hb.advance(Duration::from_secs(25));
    ping(&hb, &uuid, "");
    hb.advance(Duration::from_secs(2 * 3600 - 30 + 120));
    ping(&hb, &uuid, "/fail");
    hb.advance(Duration::from_secs(3600 - 120 + 10));
    ping(&hb, &uuid, "/start");
    hb.advance(5 * MINUTE);
    assert_eq!(
        slots(&hb, &uuid, ""),
        vec![
            slot("2026-03-01T13:00:00Z", "ok", json!(2)),
            slot("2026-03-01T14:00:00Z", "missed", Value::Null),
            slot("2026-03-01T15:00:00Z", "failed", json!(3)),
            slot("2026-03-01T16:00:00Z", "running", Value::Null),
        ]
    );
    // The run ends; the next slot is pending within its grace, and a range picks.
    ping(&hb, &uuid, "/0");
    hb.advance(Duration::from_secs(3600));
    let all = slots(&hb, &uuid, "");
    assert_eq!(all[3], slot("2026-03-01T16:00:00Z", "ok", json!(5)));
    assert_eq!(all[4], slot("2026-03-01T17:00:00Z", "pending", Value::Null));
    assert_eq!(
        slots(
            &hb,
            &uuid,
            "?from=2026-03-01T14:00:00Z&to=2026-03-01T15:30:00Z"
        ),
        vec![
            slot("2026-03-01T14:00:00Z", "missed", Value::Null),
            slot("2026-03-01T15:00:00Z", "failed", json!(3)),
        ]
    );
}

#[test]
fn an_interval_check_counts_from_its_first_ping_and_each_ping_replaces_the_next_slot() {
    let dir = tempfile::tempdir().unwrap();
    let hb = InProcess::start(&dir.path().join("hb.db"), clock());
    let uuid = create(
        &hb,
        json!({"name": "every hour", "interval": "1h", "grace_period": "10m"}),
    );
    ping(&hb, &uuid, ""); // 12:00: the first slot is 13:00
    hb.advance(65 * MINUTE);
    ping(&hb, &uuid, ""); // 13:05 fills 13:00; the next slot is 14:05
    hb.advance(25 * MINUTE);
    ping(&hb, &uuid, ""); // 13:30 replaces 14:05 with 14:30
    hb.advance(75 * MINUTE); // 14:45: 14:30 is missed
    assert_eq!(
        slots(&hb, &uuid, ""),
        vec![
            slot("2026-03-01T13:00:00Z", "ok", json!(2)),
            slot("2026-03-01T14:30:00Z", "missed", Value::Null),
        ]
    );
}

#[test]
fn a_missed_down_alert_says_how_many_slots_are_missed_in_a_row() {
    let dir = tempfile::tempdir().unwrap();
    let receiver = Receiver::start();
    let hb = InProcess::start(&dir.path().join("hb.db"), clock());
    let answer = post(
        &hb.url("/api/v1/channels"),
        &json!({"name": "hook", "kind": "webhook", "url": format!("{}/hb", receiver.url(""))})
            .to_string(),
    );
    assert_eq!(answer.status, 201, "{}", answer.body);
    let uuid = create(
        &hb,
        json!({"name": "backup", "interval": "1h", "grace_period": "10m", "realert": "1h"}),
    );
    ping(&hb, &uuid, "");
    hb.advance(70 * MINUTE);
    let got = receiver.expect(1, WAIT);
    let alert = got[0].json();
    assert_eq!(alert["event"], "down");
    assert_eq!(alert["reason"], "missed");
    assert_eq!(alert["missed_slots"], 1);
    hb.advance(60 * MINUTE);
    let got = receiver.expect(2, WAIT);
    let repeat = got[1].json();
    assert_eq!(repeat["repeat"], 1);
    assert_eq!(repeat["missed_slots"], 2, "13:00 and 14:00");
    // A failure is no missed slot: its alert carries none.
    ping(&hb, &uuid, "");
    ping(&hb, &uuid, "/fail");
    let got = receiver.expect(4, WAIT);
    let failed = got[3].json();
    assert_eq!(failed["reason"], "failed");
    assert!(failed.get("missed_slots").is_none(), "{failed}");
}

#[test]
fn old_slots_stay_true_when_their_pings_are_trimmed() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("hb.db");
    let hb = InProcess::start(&db, clock());
    let uuid = create(
        &hb,
        json!({"name": "hourly", "cron": "0 * * * *", "grace_period": "10m"}),
    );
    hb.advance(Duration::from_secs(3605));
    ping(&hb, &uuid, ""); // 13:00 ok
    hb.advance(Duration::from_secs(7200));
    ping(&hb, &uuid, "/7"); // 14:00 missed, 15:00 failed
    let range = "?from=2026-03-01T12:00:00Z&to=2026-03-01T15:30:00Z";
    let before = slots(&hb, &uuid, range);
    assert_eq!(
        before,
        vec![
            slot("2026-03-01T13:00:00Z", "ok", json!(1)),
            slot("2026-03-01T14:00:00Z", "missed", Value::Null),
            slot("2026-03-01T15:00:00Z", "failed", json!(2)),
        ]
    );
    // 1,100 log pings: the ping history keeps the last 1,000, so the runs are gone.
    for _ in 0..1100 {
        ping(&hb, &uuid, "/log");
    }
    // Asked through the API, so the test holds on either store.
    let pings = get(&hb.url(&format!("/api/v1/heartbeats/{uuid}/pings"))).json();
    let kept: Vec<i64> = pings["pings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["n"].as_i64().unwrap())
        .collect();
    assert!(!kept.is_empty());
    assert!(
        kept.iter().all(|n| *n > 2),
        "the runs' pings are trimmed: {:?}",
        kept.iter().min()
    );
    assert_eq!(slots(&hb, &uuid, range), before);
    // And after a restart.
    let clock = hb.clock.clone();
    hb.stop();
    let hb = InProcess::start(&db, clock);
    assert_eq!(slots(&hb, &uuid, range), before);
}

#[test]
fn bad_ranges_are_400_too_many_slots_are_400_and_unknown_checks_404() {
    let dir = tempfile::tempdir().unwrap();
    let hb = InProcess::start(&dir.path().join("hb.db"), clock());
    let uuid = create(&hb, json!({"name": "minutely", "cron": "* * * * *"}));
    hb.advance(Duration::from_secs(8 * 86_400));
    let path = |query: &str| hb.url(&format!("/api/v1/heartbeats/{uuid}/slots{query}"));

    let bad = get(&path("?from=yesterday"));
    assert_eq!(bad.status, 400);
    assert_eq!(
        bad.json()["error"],
        "from: \"yesterday\" is not an RFC 3339 time; write it like 2026-01-01T00:00:00Z"
    );
    let backwards = get(&path("?from=2026-03-05T00:00:00Z&to=2026-03-04T00:00:00Z"));
    assert_eq!(backwards.status, 400);
    assert!(
        backwards.json()["error"]
            .as_str()
            .unwrap()
            .starts_with("to: 2026-03-04T00:00:00Z is before from"),
        "{}",
        backwards.body
    );
    // 8 days of a check due every minute: over 10,000 slots, by default too.
    let wide = get(&path("?from=2026-02-01T00:00:00Z&to=2026-03-09T00:00:00Z"));
    assert_eq!(wide.status, 400);
    assert!(
        wide.json()["error"].as_str().unwrap().contains("narrow it"),
        "{}",
        wide.body
    );
    assert_eq!(get(&path("")).status, 400);
    // 6 days, both ends in: 8,641 slots, missed (the check never ran) but for the
    // newest, still within their grace.
    let six = get(&path("?from=2026-03-03T12:00:00Z&to=2026-03-09T12:00:00Z"));
    assert_eq!(six.status, 200, "{}", six.body);
    let listed = six.json()["slots"].as_array().unwrap().clone();
    assert_eq!(listed.len(), 6 * 1440 + 1);
    assert_eq!(listed[0]["due"], "2026-03-03T12:00:00Z");
    assert_eq!(listed[0]["status"], "missed");
    assert_eq!(listed[8640]["status"], "pending");
    assert_eq!(listed[8640]["ping"], Value::Null);

    let unknown = get(&hb.url("/api/v1/heartbeats/00000000-0000-4000-8000-000000000000/slots"));
    assert_eq!(unknown.status, 404);
    assert!(unknown.json()["error"].is_string());
    assert_eq!(
        get(&hb.url("/api/v1/heartbeats/not-a-uuid/slots")).status,
        404
    );
}
