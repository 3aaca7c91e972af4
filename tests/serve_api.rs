//! `hb serve` as a real process: the first-use flow, ping answers as healthchecks
//! gives them, runitor's requests, the management API, bad input, auth, config as
//! code, signals and durability.

use crate::serve_support::*;
use serde_json::{Value, json};
use std::time::Duration;

const RID: &str = "5b0b3b5e-4c1a-4d7e-9f2a-0c6a1d2e3f40";

fn server() -> (tempfile::TempDir, ServeProcess) {
    let dir = tempfile::tempdir().unwrap();
    let server = ServeProcess::start(&dir.path().join("hb.db"), &[], &[]);
    (dir, server)
}

fn create(server: &ServeProcess, body: Value) -> Value {
    let answer = post(&server.url("/api/v1/heartbeats"), &body.to_string());
    assert_eq!(answer.status, 201, "{}", answer.body);
    answer.json()
}

fn check(server: &ServeProcess, uuid: &str) -> Value {
    let answer = get(&server.url(&format!("/api/v1/heartbeats/{uuid}")));
    assert_eq!(answer.status, 200, "{}", answer.body);
    answer.json()
}

#[test]
fn the_first_use_flow_works() {
    let (_dir, server) = server();
    let created = create(
        &server,
        json!({"name": "Backup PostgreSQL", "interval": "24h", "grace_period": "1h"}),
    );
    let uuid = created["uuid"].as_str().unwrap().to_string();
    assert_eq!(created["slug"], "backup-postgresql");
    assert_eq!(created["status"], "new");
    assert_eq!(created["grace_period"], "1h");
    assert_eq!(
        created["ping_url"],
        server.url(&format!("/api/v1/ping/{uuid}"))
    );

    assert_eq!(
        get(&server.url(&format!("/api/v1/ping/{uuid}/start"))).status,
        200
    );
    assert_eq!(check(&server, &uuid)["status"], "running");
    let end = call(
        "POST",
        &server.url(&format!("/api/v1/ping/{uuid}/0")),
        Some("dump ok"),
        &[],
    );
    assert_eq!((end.status, end.body.as_str()), (200, "OK"));

    let c = check(&server, &uuid);
    assert_eq!(c["status"], "up");
    assert!(c["last_ping"].as_str().unwrap().ends_with('Z'));
    assert!(c["next_due"].is_string() && c["alert_at"].is_string());
    assert!(c["last_duration"].as_f64().unwrap() >= 0.0);

    let pings = get(&server.url(&format!("/api/v1/heartbeats/{uuid}/pings"))).json();
    let pings = pings["pings"].as_array().unwrap();
    assert_eq!(pings.len(), 2);
    assert_eq!(pings[0]["kind"], "success", "newest first");
    assert_eq!(pings[0]["exit_code"], 0);
    assert_eq!(pings[0]["body"], "dump ok");
    assert_eq!(pings[0]["method"], "POST");
    assert_eq!(pings[0]["remote_addr"], "127.0.0.1");
    assert!(pings[0]["duration"].is_f64());
    assert_eq!(pings[1]["kind"], "start");
    for key in [
        "n",
        "at",
        "kind",
        "exit_code",
        "rid",
        "remote_addr",
        "user_agent",
        "method",
        "body",
        "duration",
    ] {
        assert!(pings[0].get(key).is_some(), "ping field {key}");
    }
    let flips = get(&server.url(&format!("/api/v1/heartbeats/{uuid}/flips"))).json();
    assert_eq!(flips["flips"][0]["from"], "new");
    assert_eq!(flips["flips"][0]["to"], "up");

    let list = get(&server.url("/api/v1/heartbeats")).json();
    assert_eq!(list["heartbeats"].as_array().unwrap().len(), 1);
    assert_eq!(
        get(&server.url("/api/v1/heartbeats?status=up")).json()["heartbeats"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
    assert_eq!(
        get(&server.url("/api/v1/heartbeats?status=down")).json()["heartbeats"]
            .as_array()
            .unwrap()
            .len(),
        0
    );
}

#[test]
fn ping_answers_match_healthchecks() {
    let (_dir, server) = server();
    let uuid = create(&server, json!({"name": "a", "interval": "1h"}))["uuid"]
        .as_str()
        .unwrap()
        .to_string();
    let ok = |method: &str, path: &str| {
        let answer = call(
            method,
            &server.url(path),
            if method == "POST" {
                Some("body text")
            } else {
                None
            },
            &[],
        );
        assert_eq!(answer.status, 200, "{method} {path}");
        if method != "HEAD" {
            assert_eq!(answer.body, "OK", "{method} {path}");
        }
    };
    for prefix in ["/ping", "/api/v1/ping"] {
        ok("GET", &format!("{prefix}/{uuid}"));
        ok("HEAD", &format!("{prefix}/{uuid}"));
        ok("POST", &format!("{prefix}/{uuid}"));
        ok("GET", &format!("{prefix}/{uuid}/start?rid={RID}"));
        ok("POST", &format!("{prefix}/{uuid}/0?rid={RID}"));
        ok("GET", &format!("{prefix}/{uuid}/3"));
        ok("GET", &format!("{prefix}/{uuid}/255"));
        ok("GET", &format!("{prefix}/{uuid}/fail"));
        ok("GET", &format!("{prefix}/{uuid}/log"));
        let bad_code = get(&server.url(&format!("{prefix}/{uuid}/256")));
        assert_eq!(
            (bad_code.status, bad_code.body.as_str()),
            (400, "invalid url format")
        );
        let bogus = get(&server.url(&format!("{prefix}/{uuid}/bogus")));
        assert_eq!((bogus.status, bogus.body.as_str()), (404, "not found"));
        let bad_rid = get(&server.url(&format!("{prefix}/{uuid}?rid=not-a-uuid")));
        assert_eq!(
            (bad_rid.status, bad_rid.body.as_str()),
            (400, "invalid uuid format")
        );
        let unknown = get(&server.url(&format!("{prefix}/00000000-0000-4000-8000-000000000000")));
        assert_eq!((unknown.status, unknown.body.as_str()), (404, "not found"));
        assert_eq!(
            get(&server.url(&format!("{prefix}/not-a-uuid"))).status,
            404
        );
    }
    let head = call("HEAD", &server.url(&format!("/ping/{uuid}")), None, &[]);
    assert_eq!(head.body, "");
}

#[test]
fn runitor_requests_all_work() {
    let peers = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/data/runitor-requests.json"
    ))
    .unwrap();
    let cases: Vec<Value> = serde_json::from_str(&peers).unwrap();
    let (_dir, server) = server();
    for case in &cases {
        let name = case["case"].as_str().unwrap();
        let created = create(&server, json!({"name": name, "interval": "1h"}));
        let uuid = created["uuid"].as_str().unwrap();
        let rid = uuid::Uuid::new_v4().to_string();
        for request in case["requests"].as_array().unwrap() {
            let path = request["path"]
                .as_str()
                .unwrap()
                .replace("<uuid>", uuid)
                .replace("<rid>", &rid);
            let headers: Vec<(String, String)> = request["headers"]
                .as_object()
                .unwrap()
                .iter()
                .filter(|(k, _)| *k != "Content-Length")
                .map(|(k, v)| (k.clone(), v.as_str().unwrap().to_string()))
                .collect();
            let headers: Vec<(&str, &str)> = headers
                .iter()
                .map(|(k, v)| (k.as_str(), v.as_str()))
                .collect();
            let answer = call(
                request["method"].as_str().unwrap(),
                &server.url(&path),
                Some(request["body"].as_str().unwrap()),
                &headers,
            );
            assert_eq!(
                (answer.status, answer.body.as_str()),
                (200, "OK"),
                "{name}: {path}"
            );
        }
        let c = check(&server, uuid);
        let expected = if case["exit"] == 0 { "up" } else { "down" };
        assert_eq!(c["status"], expected, "{name}");
        let pings = get(&server.url(&format!("/api/v1/heartbeats/{uuid}/pings"))).json();
        let last = &pings["pings"][0];
        assert!(last["user_agent"].as_str().unwrap().starts_with("runitor/"));
        assert_eq!(last["rid"], rid.as_str());
        if case["requests"].as_array().unwrap().len() == 2 {
            assert!(
                last["duration"].is_f64(),
                "{name}: start and end paired by rid"
            );
        }
    }
}

#[test]
fn slug_pings_need_the_ping_key() {
    let dir = tempfile::tempdir().unwrap();
    let server = ServeProcess::start(&dir.path().join("hb.db"), &["--ping-key", "k3y"], &[]);
    let uuid = create(&server, json!({"name": "Nightly Backup", "interval": "1d"}))["uuid"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(
        get(&server.url("/api/v1/ping/k3y/nightly-backup/start")).status,
        200
    );
    assert_eq!(get(&server.url("/ping/k3y/nightly-backup/0")).status, 200);
    assert_eq!(
        get(&server.url("/api/v1/ping/k3y/nightly-backup")).status,
        200
    );
    assert_eq!(
        get(&server.url("/api/v1/ping/wrong/nightly-backup")).status,
        404
    );
    assert_eq!(
        get(&server.url("/api/v1/ping/k3y/no-such-check")).status,
        404
    );
    assert_eq!(
        get(&server.url("/api/v1/ping/k3y/nightly-backup/bogus")).status,
        404
    );
    assert_eq!(check(&server, &uuid)["n_pings"], 3);
}

#[test]
fn bad_input_is_refused_and_changes_nothing() {
    let (_dir, server) = server();
    let url = server.url("/api/v1/heartbeats");
    let big = format!(
        "{{\"name\": \"x\", \"interval\": \"1h\", \"description\": \"{}\"}}",
        "a".repeat(1024 * 1024 + 10)
    );
    let cases: Vec<(String, &str)> = vec![
        ("{not json".into(), "JSON"),
        (
            json!({"name": "x", "interval": "1h", "colour": "red"}).to_string(),
            "colour",
        ),
        (json!({"name": "x"}).to_string(), "schedule"),
        (
            json!({"name": "x", "interval": "1h", "cron": "0 3 * * *"}).to_string(),
            "interval, cron",
        ),
        (
            json!({"name": "x", "interval": "abc"}).to_string(),
            "interval",
        ),
        (
            json!({"name": "x", "cron": "61 * * * *"}).to_string(),
            "cron",
        ),
        (
            json!({"name": "x", "cron": "0 3 * * *", "tz": "Mars/Base"}).to_string(),
            "tz",
        ),
        (
            json!({"name": "x", "interval": "1h", "grace_period": "500ms"}).to_string(),
            "grace_period",
        ),
        (
            json!({"name": "x", "interval": "0s"}).to_string(),
            "interval",
        ),
        (big, "1 MiB"),
    ];
    for (body, needle) in cases {
        let answer = post(&url, &body);
        assert_eq!(
            answer.status,
            400,
            "{}: {}",
            &body[..body.len().min(80)],
            answer.body
        );
        let error = answer.json()["error"].as_str().unwrap().to_string();
        assert!(error.contains(needle), "{needle}: {error}");
    }
    assert_eq!(
        get(&url).json()["heartbeats"],
        json!([]),
        "nothing was created"
    );

    create(&server, json!({"name": "taken", "interval": "1h"}));
    assert_eq!(
        post(
            &url,
            &json!({"name": "taken", "interval": "2h"}).to_string()
        )
        .status,
        409
    );
    assert_eq!(
        post(
            &url,
            &json!({"name": "Taken!", "interval": "2h"}).to_string()
        )
        .status,
        409,
        "same slug"
    );
    let missing = "/api/v1/heartbeats/00000000-0000-4000-8000-000000000000";
    assert_eq!(get(&server.url(missing)).status, 404);
    assert_eq!(call("DELETE", &server.url(missing), None, &[]).status, 404);
    assert_eq!(get(&server.url("/api/v1/heartbeats/nope")).status, 404);
}

#[test]
fn patch_replaces_what_it_names() {
    let (_dir, server) = server();
    let created = create(
        &server,
        json!({"name": "job", "interval": "90m", "tags": ["db"]}),
    );
    assert_eq!(created["interval"], "1h30m", "canonical form");
    let uuid = created["uuid"].as_str().unwrap();
    let url = server.url(&format!("/api/v1/heartbeats/{uuid}"));
    let patched = call(
        "PATCH",
        &url,
        Some(&json!({"cron": "0 3 * * *", "tz": "Europe/Paris"}).to_string()),
        &[],
    );
    assert_eq!(patched.status, 200, "{}", patched.body);
    let patched = patched.json();
    assert_eq!(patched["cron"], "0 3 * * *");
    assert_eq!(patched["interval"], Value::Null);
    assert_eq!(patched["tz"], "Europe/Paris");
    assert_eq!(patched["tags"], json!(["db"]), "untouched fields stay");
    let both = call(
        "PATCH",
        &url,
        Some(&json!({"cron": "0 3 * * *", "interval": "1h"}).to_string()),
        &[],
    );
    assert_eq!(both.status, 400);
    let renamed = call(
        "PATCH",
        &url,
        Some(&json!({"name": "Renamed Job"}).to_string()),
        &[],
    )
    .json();
    assert_eq!(renamed["slug"], "renamed-job");
    assert_eq!(
        get(&server.url("/api/v1/heartbeats?tag=db")).json()["heartbeats"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
    assert_eq!(
        get(&server.url("/api/v1/heartbeats?tag=web")).json()["heartbeats"]
            .as_array()
            .unwrap()
            .len(),
        0
    );
    assert_eq!(call("DELETE", &url, None, &[]).status, 204);
    assert_eq!(get(&url).status, 404);
}

#[test]
fn pause_and_resume() {
    let (_dir, server) = server();
    let uuid = create(&server, json!({"name": "job", "interval": "1h"}))["uuid"]
        .as_str()
        .unwrap()
        .to_string();
    get(&server.url(&format!("/ping/{uuid}")));
    let paused = post(&server.url(&format!("/api/v1/heartbeats/{uuid}/pause")), "");
    assert_eq!(paused.status, 200);
    assert_eq!(paused.json()["status"], "paused");
    assert_eq!(paused.json()["next_due"], Value::Null);
    get(&server.url(&format!("/ping/{uuid}/start")));
    assert_eq!(
        check(&server, &uuid)["status"],
        "paused",
        "a start changes nothing"
    );
    let resumed = post(
        &server.url(&format!("/api/v1/heartbeats/{uuid}/resume")),
        "",
    )
    .json();
    assert_eq!(resumed["status"], "new");
    post(&server.url(&format!("/api/v1/heartbeats/{uuid}/pause")), "");
    get(&server.url(&format!("/ping/{uuid}")));
    assert_eq!(check(&server, &uuid)["status"], "up", "a success un-pauses");
}

#[test]
fn ping_bodies_are_truncated_never_refused() {
    let (_dir, server) = server();
    let uuid = create(&server, json!({"name": "job", "interval": "1h"}))["uuid"]
        .as_str()
        .unwrap()
        .to_string();
    let body = "x".repeat(300 * 1024);
    let answer = call(
        "POST",
        &server.url(&format!("/ping/{uuid}")),
        Some(&body),
        &[],
    );
    assert_eq!(answer.status, 200);
    let pings = get(&server.url(&format!("/api/v1/heartbeats/{uuid}/pings"))).json();
    assert_eq!(
        pings["pings"][0]["body"].as_str().unwrap().len(),
        100 * 1024
    );
}

#[test]
fn api_keys_guard_management_but_not_pings() {
    let dir = tempfile::tempdir().unwrap();
    let server = ServeProcess::start(&dir.path().join("hb.db"), &[], &[("HB_API_KEY", "s3cret")]);
    let url = server.url("/api/v1/heartbeats");
    let body = json!({"name": "job", "interval": "1h"}).to_string();
    assert_eq!(post(&url, &body).status, 401);
    assert_eq!(
        call("GET", &url, None, &[("Authorization", "Bearer wrong")]).status,
        401
    );
    let auth = [
        ("Authorization", "Bearer s3cret"),
        ("Content-Type", "application/json"),
    ];
    let created = call("POST", &url, Some(&body), &auth);
    assert_eq!(created.status, 201);
    let uuid = created.json()["uuid"].as_str().unwrap().to_string();
    assert_eq!(get(&server.url(&format!("/ping/{uuid}"))).status, 200);
    assert_eq!(get(&server.url("/healthz")).status, 200);
}

#[test]
fn refuses_an_open_address_without_a_key() {
    let dir = tempfile::tempdir().unwrap();
    let output = std::process::Command::new(HB)
        .args(["serve", "--listen", "0.0.0.0:0", "--db"])
        .arg(dir.path().join("hb.db"))
        .env_remove("HB_API_KEY")
        .env("XDG_CONFIG_HOME", dir.path())
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("--insecure") && stderr.contains("API key"),
        "{stderr}"
    );
}

#[test]
fn config_errors_exit_2_naming_file_and_line() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("hb.toml");
    std::fs::write(
        &config,
        "listen = \"127.0.0.1:0\"\n\n[[check]]\nname = \"a\"\ncron = \"61 * * * *\"\n",
    )
    .unwrap();
    let output = std::process::Command::new(HB)
        .args(["serve", "--config"])
        .arg(&config)
        .arg("--db")
        .arg(dir.path().join("hb.db"))
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("hb.toml line 5") && stderr.contains("61"),
        "{stderr}"
    );

    let output = std::process::Command::new(HB)
        .args(["serve", "--config"])
        .arg(dir.path().join("missing.toml"))
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("missing.toml"));
}

#[test]
fn config_as_code_creates_updates_and_keeps_removed_checks() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("hb.toml");
    let fixed = "0b9e5a2c-1111-4222-8333-444455556666";
    std::fs::write(
        &config,
        format!(
            "ping_key = \"k3y\"\n[[channel]]\nname = \"ops\"\nkind = \"webhook\"\nurl = \"http://127.0.0.1:9/hb\"\n\n\
             [[check]]\nname = \"nightly-backup\"\nuuid = \"{fixed}\"\ncron = \"0 3 * * *\"\ntz = \"Europe/Paris\"\n\
             grace_period = \"1h\"\nchannels = [\"ops\"]\n"
        ),
    )
    .unwrap();
    let config_arg = config.to_str().unwrap();
    let mut server = ServeProcess::start(&dir.path().join("hb.db"), &["--config", config_arg], &[]);
    let c = check(&server, fixed);
    assert_eq!(c["managed"], true);
    assert_eq!(c["cron"], "0 3 * * *");
    assert_eq!(c["tz"], "Europe/Paris");
    assert_eq!(
        get(&server.url("/api/v1/ping/k3y/nightly-backup")).status,
        200
    );
    let channels = get(&server.url("/api/v1/channels")).json();
    assert_eq!(channels["channels"][0]["name"], "ops");

    // A broken file on SIGHUP is reported and the old one kept.
    std::fs::write(&config, "ping_key = \n").unwrap();
    server.signal(libc::SIGHUP);
    assert!(wait_until(Duration::from_secs(5), || server
        .stderr()
        .contains("keeping the previous")));
    assert_eq!(
        get(&server.url("/api/v1/ping/k3y/nightly-backup")).status,
        200
    );

    // The check leaves the file: it stays, unmanaged; a new one appears.
    std::fs::write(
        &config,
        "ping_key = \"k3y\"\n[[check]]\nname = \"hourly\"\ninterval = \"1h\"\n",
    )
    .unwrap();
    server.signal(libc::SIGHUP);
    assert!(wait_until(Duration::from_secs(5), || check(&server, fixed)
        ["managed"]
        == false));
    let list = get(&server.url("/api/v1/heartbeats")).json();
    assert_eq!(list["heartbeats"].as_array().unwrap().len(), 2);

    server.signal(libc::SIGTERM);
    assert_eq!(server.wait(Duration::from_secs(10)), Some(0));
}

#[test]
fn sigterm_shuts_down_cleanly_and_data_survives() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("hb.db");
    let mut server = ServeProcess::start(&db, &[], &[]);
    let uuid = create(&server, json!({"name": "job", "interval": "1h"}))["uuid"]
        .as_str()
        .unwrap()
        .to_string();
    get(&server.url(&format!("/ping/{uuid}")));
    server.signal(libc::SIGTERM);
    assert_eq!(server.wait(Duration::from_secs(10)), Some(0));
    let server = ServeProcess::start(&db, &[], &[]);
    let c = check(&server, &uuid);
    assert_eq!(c["status"], "up");
    assert_eq!(c["n_pings"], 1);
}

#[test]
fn kill_9_under_load_loses_no_answered_ping() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("hb.db");
    let server = ServeProcess::start(&db, &[], &[]);
    let uuids: Vec<String> = (0..4)
        .map(|i| {
            create(
                &server,
                json!({"name": format!("job {i}"), "interval": "1h"}),
            )["uuid"]
                .as_str()
                .unwrap()
                .to_string()
        })
        .collect();
    let answered = std::sync::Arc::new(std::sync::atomic::AtomicU64::new(0));
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let workers: Vec<_> = uuids
        .iter()
        .map(|uuid| {
            let url = server.url(&format!("/ping/{uuid}"));
            let (answered, stop) = (answered.clone(), stop.clone());
            std::thread::spawn(move || {
                let agent: ureq::Agent = ureq::Agent::config_builder()
                    .timeout_global(Some(Duration::from_secs(2)))
                    .build()
                    .into();
                let mut mine = 0u64;
                for _ in 0..5000 {
                    if stop.load(std::sync::atomic::Ordering::Relaxed) {
                        break;
                    }
                    match agent.get(&url).call() {
                        Ok(r) if r.status() == 200 => {
                            mine += 1;
                            answered.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                        }
                        _ => break,
                    }
                }
                mine
            })
        })
        .collect();
    assert!(wait_until(Duration::from_secs(20), || answered
        .load(std::sync::atomic::Ordering::Relaxed)
        >= 200));
    server.signal(libc::SIGKILL);
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let per_check: Vec<u64> = workers.into_iter().map(|w| w.join().unwrap()).collect();
    drop(server);
    let server = ServeProcess::start(&db, &[], &[]);
    for (uuid, answered) in uuids.iter().zip(per_check) {
        let stored = check(&server, uuid)["n_pings"].as_u64().unwrap();
        assert!(
            stored >= answered,
            "check {uuid}: {answered} pings answered, {stored} stored"
        );
    }
}

#[test]
fn metrics_count_checks_pings_and_alerts() {
    let (_dir, server) = server();
    let uuid = create(&server, json!({"name": "job", "interval": "1h"}))["uuid"]
        .as_str()
        .unwrap()
        .to_string();
    get(&server.url(&format!("/ping/{uuid}/start")));
    get(&server.url(&format!("/ping/{uuid}")));
    get(&server.url(&format!("/ping/{uuid}/1")));
    let text = get(&server.url("/metrics")).body;
    for line in [
        "hb_checks{status=\"down\"} 1",
        "hb_pings_total{kind=\"start\"} 1",
        "hb_pings_total{kind=\"success\"} 1",
        "hb_pings_total{kind=\"fail\"} 1",
        "hb_alerts_total{result=\"ok\"} 0",
    ] {
        assert!(text.lines().any(|l| l == line), "{line} in\n{text}");
    }
}

#[test]
fn an_alert_pending_at_kill_9_is_delivered_once_after_restart() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("hb.db");
    let port = closed_port();
    let server = ServeProcess::start(&db, &[], &[]);
    let channel =
        json!({"name": "hook", "kind": "webhook", "url": format!("http://127.0.0.1:{port}/hb")});
    assert_eq!(
        post(&server.url("/api/v1/channels"), &channel.to_string()).status,
        201
    );
    let uuid = create(&server, json!({"name": "job", "interval": "1h"}))["uuid"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(get(&server.url(&format!("/ping/{uuid}/1"))).status, 200);
    let notifications = server.url(&format!("/api/v1/heartbeats/{uuid}/notifications"));
    assert!(wait_until(Duration::from_secs(10), || get(&notifications)
        .json()["notifications"][0]["attempts"]
        == 1));
    let event_id = get(&notifications).json()["notifications"][0]["event_id"].clone();
    server.signal(libc::SIGKILL);
    drop(server);

    let receiver = Receiver::start_on(port);
    let server = ServeProcess::start(&db, &[], &[]);
    let notifications = server.url(&format!("/api/v1/heartbeats/{uuid}/notifications"));
    let got = receiver.expect(1, Duration::from_secs(10));
    assert_eq!(got[0].json()["event_id"], event_id);
    assert_eq!(got[0].json()["reason"], "exit code 1");
    assert!(wait_until(Duration::from_secs(10), || get(&notifications)
        .json()["notifications"][0]["ok"]
        == true));
    drop(server);
    // Once recorded as delivered, a restart sends nothing again: a new alert after
    // the restart is the next thing the receiver gets (pending deliveries go first).
    let server = ServeProcess::start(&db, &[], &[]);
    let other = create(&server, json!({"name": "other", "interval": "1h"}))["uuid"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(get(&server.url(&format!("/ping/{other}/2"))).status, 200);
    let got = receiver.expect(2, Duration::from_secs(10));
    assert_eq!(got[1].json()["check"]["uuid"], other.as_str());
    assert_eq!(got[1].json()["reason"], "exit code 2");
    assert_eq!(got.len(), 2);
}

#[test]
fn the_newest_state_survives_restarts_whichever_change_made_it() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("hb.db");
    let restart = |server: ServeProcess| {
        drop(server);
        ServeProcess::start(&db, &[], &[])
    };
    let server = ServeProcess::start(&db, &[], &[]);
    let uuid = create(&server, json!({"name": "job", "interval": "1h"}))["uuid"]
        .as_str()
        .unwrap()
        .to_string();
    for _ in 0..3 {
        get(&server.url(&format!("/ping/{uuid}")));
    }
    post(&server.url(&format!("/api/v1/heartbeats/{uuid}/pause")), "");
    let server = restart(server);
    let c = check(&server, &uuid);
    assert_eq!(
        (c["status"].as_str(), c["n_pings"].as_u64()),
        (Some("paused"), Some(3)),
        "a pause after pings"
    );
    get(&server.url(&format!("/ping/{uuid}/1")));
    let server = restart(server);
    let c = check(&server, &uuid);
    assert_eq!(
        (c["status"].as_str(), c["n_pings"].as_u64()),
        (Some("down"), Some(4)),
        "a ping after a pause"
    );
    call(
        "PATCH",
        &server.url(&format!("/api/v1/heartbeats/{uuid}")),
        Some(&json!({"description": "nightly"}).to_string()),
        &[],
    );
    get(&server.url(&format!("/ping/{uuid}")));
    let server = restart(server);
    let c = check(&server, &uuid);
    assert_eq!(
        (c["status"].as_str(), c["n_pings"].as_u64()),
        (Some("up"), Some(5))
    );
    assert_eq!(c["description"], "nightly");
}

#[test]
fn healthchecks_recorded_answers_replay() {
    let peers = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/data/healthchecks-ping-answers.json"
    ))
    .unwrap();
    let answers: Vec<Value> = serde_json::from_str(&peers).unwrap();
    let (_dir, server) = server();
    let uuid = create(&server, json!({"name": "bench", "interval": "1h"}))["uuid"]
        .as_str()
        .unwrap()
        .to_string();
    let mut replayed = 0;
    for answer in &answers {
        let request = answer["request"].as_str().unwrap();
        let mut words = request.split_whitespace();
        let (method, path) = (words.next().unwrap(), words.next().unwrap());
        if !path.starts_with("/ping/") {
            continue; // healthchecks' own management API
        }
        let body = request.contains("(body").then_some("some output\n");
        let got = call(
            method,
            &server.url(&path.replace("<uuid>", &uuid)),
            body,
            &[],
        );
        assert_eq!(got.status, answer["status"], "{request}");
        let expected = answer["body"].as_str().unwrap();
        if [
            "OK",
            "not found",
            "invalid url format",
            "invalid uuid format",
            "",
        ]
        .contains(&expected)
        {
            assert_eq!(got.body, expected, "{request}");
        }
        replayed += 1;
    }
    assert!(replayed >= 14, "{replayed} requests replayed");
}
