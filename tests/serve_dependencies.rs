//! Dependencies (PRODUCT §6, `depends_on`): a check that goes down while a check it
//! depends on is down sends no alert; the held alert goes when the dependency recovers,
//! is paused or is deleted, if the check is still down then. A cycle is 400.

use crate::serve_support::*;
use hb::clock::FakeClock;
use serde_json::{Value, json};
use std::sync::Arc;
use std::time::Duration;

const WAIT: Duration = Duration::from_secs(10);

fn setup(dir: &std::path::Path, receiver: &Receiver) -> InProcess {
    let hb = InProcess::start(
        &dir.join("hb.db"),
        Arc::new(FakeClock::at("2026-03-01T12:00:00Z")),
    );
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

/// `db`, and `app` depending on it; `db` down, then `app` down: only `db` alerts.
fn db_down_then_app(hb: &InProcess, receiver: &Receiver) -> (String, String) {
    let db = create(hb, json!({"name": "db", "interval": "1h"}));
    let app = create(
        hb,
        json!({"name": "app", "interval": "1h", "depends_on": ["db"]}),
    );
    assert_eq!(
        get(&hb.url(&format!("/api/v1/heartbeats/{app}"))).json()["depends_on"],
        json!(["db"])
    );
    get(&hb.url(&format!("/ping/{db}/fail")));
    assert_eq!(receiver.expect(1, WAIT)[0].json()["check"]["name"], "db");
    get(&hb.url(&format!("/ping/{app}/1")));
    hb.settle();
    assert_eq!(receiver.count(), 1, "app's alert is held");
    let check = get(&hb.url(&format!("/api/v1/heartbeats/{app}"))).json();
    assert_eq!(check["status"], "down");
    let page = get(&hb.url(&format!("/checks/{app}"))).body;
    assert!(
        page.contains("Depends on") && page.contains("<code>db</code>"),
        "{page}"
    );
    let flips = get(&hb.url(&format!("/api/v1/heartbeats/{app}/flips"))).json();
    assert_eq!(
        flips["flips"][0]["reason"],
        "exit code 1 (dependency db down)"
    );
    let notes = get(&hb.url(&format!("/api/v1/heartbeats/{app}/notifications"))).json();
    let notes = notes["notifications"].as_array().unwrap();
    assert_eq!(notes.len(), 1, "{notes:?}");
    assert_eq!(notes[0]["suppressed"], "dependency db down");
    assert_eq!(notes[0]["event"], "down");
    assert_eq!(notes[0]["channel"], "hook");
    (db, app)
}

#[test]
fn the_held_alert_goes_when_the_dependency_recovers() {
    let dir = tempfile::tempdir().unwrap();
    let receiver = Receiver::start();
    let hb = setup(dir.path(), &receiver);
    let (db, app) = db_down_then_app(&hb, &receiver);
    get(&hb.url(&format!("/ping/{db}")));
    let got = receiver.expect(3, WAIT);
    let events: Vec<(String, String)> = got
        .iter()
        .map(|r| {
            let v = r.json();
            (
                v["check"]["name"].as_str().unwrap().to_string(),
                v["event"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    assert!(events.contains(&("db".into(), "up".into())), "{events:?}");
    let app_down = got
        .iter()
        .map(|r| r.json())
        .find(|v| v["check"]["name"] == "app")
        .unwrap();
    assert_eq!(app_down["event"], "down");
    assert_eq!(app_down["reason"], "exit code 1");
    let notes = get(&hb.url(&format!("/api/v1/heartbeats/{app}/notifications"))).json();
    assert_eq!(notes["notifications"][0]["suppressed"], Value::Null);
    hb.settle();
    assert_eq!(receiver.count(), 3);
    hb.stop();
}

#[test]
fn the_held_alert_goes_when_the_dependency_is_paused_or_deleted() {
    for how in ["pause", "delete"] {
        let dir = tempfile::tempdir().unwrap();
        let receiver = Receiver::start();
        let hb = setup(dir.path(), &receiver);
        let (db, app) = db_down_then_app(&hb, &receiver);
        let answer = if how == "pause" {
            call(
                "POST",
                &hb.url(&format!("/api/v1/heartbeats/{db}/pause")),
                None,
                &[],
            )
        } else {
            call(
                "DELETE",
                &hb.url(&format!("/api/v1/heartbeats/{db}")),
                None,
                &[],
            )
        };
        assert!(answer.status < 300, "{how}: {}", answer.body);
        let got = receiver.expect(2, WAIT);
        assert_eq!(got[1].json()["check"]["name"], "app", "{how}");
        assert_eq!(got[1].json()["event"], "down", "{how}");
        if how == "delete" {
            let check = get(&hb.url(&format!("/api/v1/heartbeats/{app}"))).json();
            assert_eq!(check["depends_on"], json!([]), "the name is taken out");
        }
        hb.stop();
    }
}

#[test]
fn a_check_that_recovers_first_never_alerts() {
    let dir = tempfile::tempdir().unwrap();
    let receiver = Receiver::start();
    let hb = setup(dir.path(), &receiver);
    let (db, app) = db_down_then_app(&hb, &receiver);
    get(&hb.url(&format!("/ping/{app}")));
    get(&hb.url(&format!("/ping/{db}")));
    let got = receiver.expect(2, WAIT);
    hb.settle();
    assert_eq!(receiver.count(), 2, "db down and up, nothing for app");
    assert_eq!(got[1].json()["check"]["name"], "db");
    hb.stop();
}

#[test]
fn the_held_alert_survives_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let receiver = Receiver::start();
    let hb = setup(dir.path(), &receiver);
    let (db, _app) = db_down_then_app(&hb, &receiver);
    hb.stop();
    let hb = InProcess::start(
        &dir.path().join("hb.db"),
        Arc::new(FakeClock::at("2026-03-01T12:01:00Z")),
    );
    get(&hb.url(&format!("/ping/{db}")));
    let got = receiver.expect(3, WAIT);
    assert!(
        got.iter()
            .any(|r| r.json()["check"]["name"] == "app" && r.json()["event"] == "down")
    );
    hb.stop();
}

#[test]
fn unknown_dependencies_and_cycles_are_400() {
    let dir = tempfile::tempdir().unwrap();
    let receiver = Receiver::start();
    let hb = setup(dir.path(), &receiver);
    let url = hb.url("/api/v1/heartbeats");
    let a = create(&hb, json!({"name": "a", "interval": "1h"}));
    create(
        &hb,
        json!({"name": "b", "interval": "1h", "depends_on": ["a"]}),
    );
    create(
        &hb,
        json!({"name": "c", "interval": "1h", "depends_on": ["b"]}),
    );
    let answer = post(
        &url,
        &json!({"name": "d", "interval": "1h", "depends_on": ["ghost"]}).to_string(),
    );
    assert_eq!(answer.status, 400);
    assert!(
        answer.json()["error"]
            .as_str()
            .unwrap()
            .contains("no check named \"ghost\""),
        "{}",
        answer.body
    );
    let answer = post(
        &url,
        &json!({"name": "e", "interval": "1h", "depends_on": ["e"]}).to_string(),
    );
    assert_eq!(answer.status, 400, "{}", answer.body);
    let patch = |body: Value| {
        call(
            "PATCH",
            &hb.url(&format!("/api/v1/heartbeats/{a}")),
            Some(&body.to_string()),
            &[("Content-Type", "application/json")],
        )
    };
    let answer = patch(json!({"depends_on": ["c"]}));
    assert_eq!(answer.status, 400, "{}", answer.body);
    let error = answer.json()["error"].as_str().unwrap().to_string();
    assert!(
        error.contains("a → c → b → a") && error.contains("cycle"),
        "{error}"
    );
    assert_eq!(
        get(&hb.url(&format!("/api/v1/heartbeats/{a}"))).json()["depends_on"],
        json!([]),
        "nothing changed"
    );
    // A check others depend on keeps its name.
    let answer = patch(json!({"name": "renamed"}));
    assert_eq!(answer.status, 409, "{}", answer.body);
    hb.stop();
}
