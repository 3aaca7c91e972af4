//! Maintenance windows (PRODUCT §6) on an injected clock: deadlines that fall inside
//! move to the window's end plus grace, no `down` alert inside, one at the end if the
//! check is still down; the API's CRUD and its refusals; the config file's windows.

use crate::serve_support::*;
use hb::clock::FakeClock;
use serde_json::{Value, json};
use std::sync::Arc;
use std::time::Duration;

const WAIT: Duration = Duration::from_secs(10);

fn clock() -> Arc<FakeClock> {
    Arc::new(FakeClock::at("2026-03-01T12:00:00Z"))
}

fn setup(db: &std::path::Path, receiver: &Receiver) -> InProcess {
    let hb = InProcess::start(db, clock());
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

fn window(hb: &InProcess, body: Value) -> Value {
    let answer = post(&hb.url("/api/v1/maintenance"), &body.to_string());
    assert_eq!(answer.status, 201, "{}", answer.body);
    answer.json()
}

fn check(hb: &InProcess, uuid: &str) -> Value {
    get(&hb.url(&format!("/api/v1/heartbeats/{uuid}"))).json()
}

fn notifications(hb: &InProcess, uuid: &str) -> Vec<Value> {
    get(&hb.url(&format!("/api/v1/heartbeats/{uuid}/notifications"))).json()["notifications"]
        .as_array()
        .unwrap()
        .clone()
}

#[test]
fn a_deadline_inside_a_window_moves_to_its_end_plus_grace() {
    let dir = tempfile::tempdir().unwrap();
    let receiver = Receiver::start();
    let hb = setup(&dir.path().join("hb.db"), &receiver);
    let uuid = create(
        &hb,
        json!({"name": "Backup", "interval": "1h", "grace_period": "10m"}),
    );
    assert_eq!(get(&hb.url(&format!("/ping/{uuid}"))).status, 200);
    assert_eq!(check(&hb, &uuid)["alert_at"], "2026-03-01T13:10:00Z");
    let shown = window(
        &hb,
        json!({"name": "upgrade", "checks": ["Backup"],
               "start": "2026-03-01T13:00:00Z", "end": "2026-03-01T14:00:00Z"}),
    );
    assert_eq!(shown["managed"], false);
    assert_eq!(shown["until"], Value::Null);
    let now = check(&hb, &uuid);
    assert_eq!(now["alert_at"], "2026-03-01T14:10:00Z");
    assert_eq!(now["maintenance"], Value::Null);

    hb.advance(Duration::from_secs(3900)); // 13:05
    let inside = check(&hb, &uuid);
    assert_eq!(
        inside["maintenance"],
        json!({"name": "upgrade", "until": "2026-03-01T14:00:00Z"})
    );
    assert_eq!(
        get(&hb.url("/api/v1/maintenance/upgrade")).json()["until"],
        "2026-03-01T14:00:00Z"
    );
    let page = get(&hb.url(&format!("/checks/{uuid}"))).body;
    assert!(
        page.contains("In window <code>upgrade</code>") && page.contains("2026-03-01T14:00:00Z"),
        "{page}"
    );
    hb.advance(Duration::from_secs(3899)); // 14:09:59
    hb.settle();
    assert_eq!(
        receiver.count(),
        0,
        "no down alert inside the window or its grace"
    );
    assert_eq!(check(&hb, &uuid)["maintenance"], Value::Null);

    hb.advance(Duration::from_secs(1)); // 14:10
    let got = receiver.expect(1, WAIT);
    assert_eq!(got[0].json()["event"], "down");
    assert_eq!(got[0].json()["reason"], "missed");
    assert_eq!(check(&hb, &uuid)["status"], "down");
    hb.stop();
}

#[test]
fn a_failure_inside_is_recorded_and_alerts_once_at_the_end_if_still_down() {
    let dir = tempfile::tempdir().unwrap();
    let receiver = Receiver::start();
    let hb = setup(&dir.path().join("hb.db"), &receiver);
    let uuid = create(
        &hb,
        json!({"name": "job", "interval": "1d", "realert": "10m"}),
    );
    let other = create(&hb, json!({"name": "other", "interval": "1d"}));
    window(
        &hb,
        json!({"name": "upgrade", "checks": ["job", "other"],
               "start": "2026-03-01T12:00:00Z", "end": "2026-03-01T13:00:00Z"}),
    );
    hb.advance(Duration::from_secs(600));
    let answer = call(
        "POST",
        &hb.url(&format!("/api/v1/ping/{uuid}/fail")),
        Some("broken"),
        &[],
    );
    assert_eq!(answer.status, 200);
    // Recorded and shown: the run inside the window is kept, the check is down.
    let pings = get(&hb.url(&format!("/api/v1/heartbeats/{uuid}/pings"))).json();
    assert_eq!(pings["pings"][0]["kind"], "fail");
    assert_eq!(check(&hb, &uuid)["status"], "down");
    let flips = get(&hb.url(&format!("/api/v1/heartbeats/{uuid}/flips"))).json();
    assert_eq!(flips["flips"][0]["to"], "down");
    let held = notifications(&hb, &uuid);
    assert_eq!(held.len(), 1, "{held:?}");
    assert_eq!(held[0]["suppressed"], "maintenance upgrade");
    assert_eq!(held[0]["event"], "down");
    // The other check fails and recovers inside: nothing at the end.
    get(&hb.url(&format!("/ping/{other}/fail")));
    get(&hb.url(&format!("/ping/{other}")));
    hb.advance(Duration::from_secs(2399)); // 12:49:59, repeats wait too
    hb.settle();
    assert_eq!(receiver.count(), 0);

    hb.advance(Duration::from_secs(601)); // 13:00
    let got = receiver.expect(1, WAIT);
    let alert = got[0].json();
    assert_eq!(alert["event"], "down");
    assert_eq!(alert["reason"], "failed");
    assert_eq!(alert["repeat"], 0);
    assert_eq!(alert["check"]["uuid"], uuid.as_str());
    hb.settle();
    assert_eq!(receiver.count(), 1, "one alert, for the check still down");
    // Repeats go on from there.
    hb.advance(Duration::from_secs(600));
    let got = receiver.expect(2, WAIT);
    assert_eq!(got[1].json()["repeat"], 1);
    hb.stop();
}

#[test]
fn a_recurring_window_applies_by_tag() {
    let dir = tempfile::tempdir().unwrap();
    let receiver = Receiver::start();
    let hb = setup(&dir.path().join("hb.db"), &receiver);
    let uuid = create(
        &hb,
        json!({"name": "db-dump", "tags": ["db"], "interval": "30m", "grace_period": "5m"}),
    );
    window(
        &hb,
        json!({"name": "nightly", "tags": ["db"], "cron": "0 13 * * *", "duration": "1h"}),
    );
    hb.advance(Duration::from_secs(2400)); // 12:40
    get(&hb.url(&format!("/ping/{uuid}")));
    // Due 13:10, alert at 13:15: inside 13:00–14:00, so 14:00 + 5m.
    assert_eq!(check(&hb, &uuid)["alert_at"], "2026-03-01T14:05:00Z");
    hb.advance(Duration::from_secs(1800)); // 13:10
    assert_eq!(
        check(&hb, &uuid)["maintenance"],
        json!({"name": "nightly", "until": "2026-03-01T14:00:00Z"})
    );
    hb.advance(Duration::from_secs(3299)); // 14:04:59
    hb.settle();
    assert_eq!(receiver.count(), 0);
    hb.advance(Duration::from_secs(1));
    assert_eq!(receiver.expect(1, WAIT)[0].json()["event"], "down");
    // The next day's window is there too.
    let list = get(&hb.url("/api/v1/maintenance")).json();
    assert_eq!(list["maintenance"][0]["cron"], "0 13 * * *");
    assert_eq!(list["maintenance"][0]["duration"], "1h");
    hb.stop();
}

#[test]
fn windows_are_managed_like_channels_and_bad_input_is_400() {
    let dir = tempfile::tempdir().unwrap();
    let hb = InProcess::start(&dir.path().join("hb.db"), clock());
    create(
        &hb,
        json!({"name": "job", "interval": "1h", "tags": ["db"]}),
    );
    let url = hb.url("/api/v1/maintenance");
    let bad = [
        (
            json!({"name": "w", "checks": ["job"], "start": "2026-03-02T02:00:00Z", "end": "2026-03-02T01:00:00Z"}),
            "end",
        ),
        (
            json!({"name": "w", "checks": ["nope"], "start": "2026-03-02T00:00:00Z", "end": "2026-03-02T01:00:00Z"}),
            "no check named \"nope\"",
        ),
        (
            json!({"name": "w", "tags": ["nope"], "cron": "0 2 * * *", "duration": "1h"}),
            "no check has the tag \"nope\"",
        ),
        (
            json!({"name": "w", "tags": ["db"], "cron": "0 2 * * *"}),
            "duration",
        ),
        (json!({"name": "w", "tags": ["db"]}), "start and end"),
        (
            json!({"name": "w", "tags": ["db"], "cron": "0 2 * * *", "duration": "1h", "colour": 1}),
            "colour",
        ),
    ];
    for (body, says) in bad {
        let answer = post(&url, &body.to_string());
        assert_eq!(answer.status, 400, "{body}: {}", answer.body);
        let error = answer.json()["error"].as_str().unwrap().to_string();
        assert!(error.contains(says), "{body}: {error}");
    }
    assert_eq!(get(&url).json()["maintenance"], json!([]));
    let body =
        json!({"name": "w", "tags": ["db"], "cron": "0 2 * * *", "duration": "1h"}).to_string();
    assert_eq!(post(&url, &body).status, 201);
    assert_eq!(post(&url, &body).status, 409);
    let changed = call(
        "PATCH",
        &hb.url("/api/v1/maintenance/w"),
        Some(&json!({"start": "2026-03-02T00:00:00Z", "end": "2026-03-02T01:00:00Z"}).to_string()),
        &[("Content-Type", "application/json")],
    );
    assert_eq!(changed.status, 200, "{}", changed.body);
    assert_eq!(changed.json()["cron"], Value::Null);
    assert_eq!(changed.json()["start"], "2026-03-02T00:00:00Z");
    let bad_patch = call(
        "PATCH",
        &hb.url("/api/v1/maintenance/w"),
        Some(&json!({"end": "2026-03-01T00:00:00Z"}).to_string()),
        &[("Content-Type", "application/json")],
    );
    assert_eq!(bad_patch.status, 400, "{}", bad_patch.body);
    assert_eq!(
        get(&hb.url("/api/v1/maintenance/w")).json()["end"],
        "2026-03-02T01:00:00Z",
        "a refused change changes nothing"
    );
    assert_eq!(
        call("DELETE", &hb.url("/api/v1/maintenance/w"), None, &[]).status,
        204
    );
    assert_eq!(get(&hb.url("/api/v1/maintenance/w")).status, 404);
    hb.stop();
}

#[test]
fn the_files_windows_survive_a_restart_and_export_round_trips() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("hb.db");
    let text = "[[check]]\nname = \"app\"\ninterval = \"1h\"\ntags = [\"web\"]\ndepends_on = [\"db\"]\n\n\
                [[check]]\nname = \"db\"\ninterval = \"1h\"\n\n\
                [[maintenance]]\nname = \"nightly\"\ntags = [\"web\"]\ncron = \"0 2 * * *\"\nduration = \"1h\"\ntz = \"Europe/Paris\"\n";
    let file =
        hb::serve::config_file::parse(text, "2026-03-01T12:00:00Z".parse().unwrap()).unwrap();
    let hb = InProcess::start_with(&db, clock(), file);
    let windows = get(&hb.url("/api/v1/maintenance")).json();
    assert_eq!(windows["maintenance"][0]["managed"], true);
    assert_eq!(windows["maintenance"][0]["tz"], "Europe/Paris");
    let export = get(&hb.url("/api/v1/config")).body;
    assert!(export.contains("[[maintenance]]\nname = \"nightly\"\ntags = [\"web\"]\ncron = \"0 2 * * *\"\nduration = \"1h\"\ntz = \"Europe/Paris\"\n"), "{export}");
    assert!(export.contains("depends_on = [\"db\"]"), "{export}");
    hb.stop();
    // Started on its own export, the monitor exports the same text.
    let again_db = dir.path().join("again.db");
    let file =
        hb::serve::config_file::parse(&export, "2026-03-01T12:00:00Z".parse().unwrap()).unwrap();
    let again = InProcess::start_with(&again_db, clock(), file);
    assert_eq!(get(&again.url("/api/v1/config")).body, export);
    again.stop();
    // And the first one kept its window across the restart.
    let hb = InProcess::start(&db, clock());
    assert_eq!(
        get(&hb.url("/api/v1/maintenance/nightly")).json()["cron"],
        "0 2 * * *"
    );
    hb.stop();
}

fn serve_exit(dir: &std::path::Path, text: &str) -> (Option<i32>, String) {
    let config = dir.join("hb.toml");
    std::fs::write(&config, format!("listen = \"127.0.0.1:0\"\n{text}")).unwrap();
    let output = std::process::Command::new(HB)
        .args(["serve", "--config"])
        .arg(&config)
        .arg("--db")
        .arg(dir.join("hb.db"))
        .output()
        .unwrap();
    (
        output.status.code(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

#[test]
fn bad_windows_and_dependencies_in_the_file_are_config_errors() {
    let cases = [
        (
            "[[check]]\nname = \"a\"\ninterval = \"1h\"\n\n[[maintenance]]\nname = \"w\"\nchecks = [\"a\"]\nstart = \"2026-03-02T02:00:00Z\"\nend = \"2026-03-02T01:00:00Z\"\n",
            "line 10",
        ),
        (
            "[[check]]\nname = \"a\"\ninterval = \"1h\"\n\n[[maintenance]]\nname = \"w\"\nchecks = [\"nope\"]\nstart = \"2026-03-02T00:00:00Z\"\nend = \"2026-03-02T01:00:00Z\"\n",
            "no check named \"nope\"",
        ),
        (
            "[[check]]\nname = \"a\"\ninterval = \"1h\"\ndepends_on = [\"b\"]\n\n[[check]]\nname = \"b\"\ninterval = \"1h\"\ndepends_on = [\"a\"]\n",
            "cycle",
        ),
        (
            "[[check]]\nname = \"a\"\ninterval = \"1h\"\ndepends_on = [\"ghost\"]\n",
            "no check named \"ghost\"",
        ),
    ];
    for (text, says) in cases {
        let dir = tempfile::tempdir().unwrap();
        let (code, stderr) = serve_exit(dir.path(), text);
        assert_eq!(code, Some(2), "{text}: {stderr}");
        assert!(stderr.contains(says), "{text}: {stderr}");
    }
}
