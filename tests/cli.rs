//! The operator's command line (PRODUCT.md §7) against a real `hb serve`: every
//! command's happy path, `--json`, the exit codes (1 refused, 2 usage, 3 unreachable),
//! the export round trip, a plan that changes nothing, auto-provisioning both ways,
//! `manual_resume`, and the monitor's log lines.

use crate::serve_support::*;
use serde_json::{Value, json};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

const PING_KEY: &str = "k3y";

struct Run {
    code: Option<i32>,
    stdout: String,
    stderr: String,
}

impl Run {
    fn json(&self) -> Value {
        serde_json::from_str(&self.stdout)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.stdout))
    }
}

/// `hb ARGS` talking to `server`, with no other HB_* setting and no config file.
fn hb_with(server: &str, args: &[&str], env: &[(&str, &str)]) -> Run {
    let mut command = Command::new(HB);
    for var in [
        "HB_SERVER",
        "HB_API_KEY",
        "HB_CONFIG",
        "HB_PING_KEY",
        "NO_COLOR",
        "HTTP_PROXY",
        "http_proxy",
        "HTTPS_PROXY",
        "https_proxy",
        "ALL_PROXY",
        "all_proxy",
    ] {
        command.env_remove(var);
    }
    command
        .env(
            "XDG_CONFIG_HOME",
            std::env::temp_dir().join("hb-tests-no-config-here"),
        )
        .env("HB_SERVER", server)
        .args(args)
        .stdin(Stdio::null());
    for (k, v) in env {
        command.env(k, v);
    }
    let output = command.output().unwrap();
    Run {
        code: output.status.code(),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    }
}

fn hb(server: &ServeProcess, args: &[&str]) -> Run {
    hb_with(&server.base, args, &[])
}

/// Asserts the exit code, showing everything when it differs.
fn expect(run: &Run, code: i32) {
    assert_eq!(
        run.code,
        Some(code),
        "stdout: {}\nstderr: {}",
        run.stdout,
        run.stderr
    );
}

/// `hb serve` with this config file (loopback targets allowed, the ping key set).
fn monitor(dir: &Path, name: &str, config: &str) -> ServeProcess {
    let path = dir.join(format!("{name}.toml"));
    std::fs::write(
        &path,
        format!("allow_private_targets = true\nping_key = \"{PING_KEY}\"\n{config}"),
    )
    .unwrap();
    ServeProcess::start(
        &dir.join(format!("{name}.db")),
        &["--config", path.to_str().unwrap()],
        &[],
    )
}

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path
}

fn checks(server: &ServeProcess) -> Vec<Value> {
    let answer = get(&server.url("/api/v1/heartbeats"));
    assert_eq!(answer.status, 200, "{}", answer.body);
    answer.json()["heartbeats"].as_array().unwrap().clone()
}

fn check_named(server: &ServeProcess, name: &str) -> Option<Value> {
    checks(server).into_iter().find(|c| c["name"] == name)
}

#[test]
fn checks_from_add_to_rm() {
    let dir = tempfile::tempdir().unwrap();
    let server = monitor(dir.path(), "hb", "");

    let add = hb(
        &server,
        &[
            "checks",
            "add",
            "Backup DB",
            "--interval",
            "24h",
            "--grace",
            "1h",
            "--tag",
            "db",
            "--tag",
            "nightly",
            "--description",
            "pg_dump",
            "--owner",
            "ops",
        ],
    );
    expect(&add, 0);
    let uuid = add.stdout.trim().to_string();
    assert!(uuid::Uuid::parse_str(&uuid).is_ok(), "{}", add.stdout);
    let cron = hb(
        &server,
        &[
            "checks",
            "add",
            "Weekly",
            "--cron",
            "0 3 * * 1",
            "--tz",
            "Europe/Paris",
            "--max-runtime",
            "2h",
        ],
    );
    expect(&cron, 0);

    let list = hb(&server, &["checks"]);
    expect(&list, 0);
    let lines: Vec<&str> = list.stdout.lines().collect();
    assert!(
        lines[0].starts_with("NAME") && lines[0].contains("STATUS"),
        "{}",
        list.stdout
    );
    assert!(lines[1].starts_with("Backup DB  new"), "{}", list.stdout);
    assert!(list.stdout.contains("every 1d") && list.stdout.contains("db, nightly"));
    assert!(
        list.stdout.contains("0 3 * * 1 (Europe/Paris)"),
        "{}",
        list.stdout
    );
    assert!(!list.stdout.contains('\x1b'), "no colour into a pipe");
    // Columns line up: STATUS starts at the same place on every line.
    let at = lines[0].find("STATUS").unwrap();
    assert!(
        lines[1..].iter().all(|l| l[at..].starts_with("new")),
        "{}",
        list.stdout
    );

    let by_tag = hb(&server, &["checks", "list", "--tag", "db", "--json"]);
    expect(&by_tag, 0);
    let json = by_tag.json();
    assert_eq!(json["heartbeats"].as_array().unwrap().len(), 1);
    assert_eq!(json["heartbeats"][0]["uuid"], uuid.as_str());
    let down = hb(&server, &["checks", "--status", "down"]);
    expect(&down, 0);
    assert_eq!(down.stdout, "no check matches\n");

    for id in [uuid.as_str(), "backup-db", "Backup DB"] {
        let show = hb(&server, &["checks", "show", id]);
        expect(&show, 0);
        assert!(
            show.stdout.contains(&format!("uuid           {uuid}\n")),
            "{}",
            show.stdout
        );
        assert!(
            show.stdout.contains("grace period   1h\n"),
            "{}",
            show.stdout
        );
    }
    let shown = hb(&server, &["checks", "show", "backup-db", "--json"]);
    expect(&shown, 0);
    assert_eq!(shown.json()["owner"], "ops");

    let edit = hb(
        &server,
        &[
            "checks",
            "edit",
            "backup-db",
            "--grace",
            "2h",
            "--channel-free-text-is-no-flag",
        ],
    );
    expect(&edit, 2);
    let edit = hb(
        &server,
        &[
            "checks",
            "edit",
            "backup-db",
            "--grace",
            "2h",
            "--description",
            "dump",
        ],
    );
    expect(&edit, 0);
    assert!(edit.stdout.contains(&uuid), "{}", edit.stdout);
    let c = check_named(&server, "Backup DB").unwrap();
    assert_eq!(
        (c["grace_period"].as_str(), c["description"].as_str()),
        (Some("2h"), Some("dump"))
    );
    assert_eq!(c["interval"], "1d", "what was not named stays");
    let rename = hb(
        &server,
        &[
            "checks",
            "edit",
            &uuid,
            "--name",
            "Backup PG",
            "--cron",
            "0 4 * * *",
        ],
    );
    expect(&rename, 0);
    let c = check_named(&server, "Backup PG").unwrap();
    assert_eq!(
        (c["cron"].as_str(), c["interval"].as_str()),
        (Some("0 4 * * *"), None)
    );

    expect(&hb(&server, &["checks", "pause", "backup-pg"]), 0);
    assert_eq!(
        check_named(&server, "Backup PG").unwrap()["status"],
        "paused"
    );
    expect(&hb(&server, &["checks", "resume", "Backup PG"]), 0);
    assert_eq!(check_named(&server, "Backup PG").unwrap()["status"], "new");
    let rm = hb(&server, &["checks", "rm", &uuid]);
    expect(&rm, 0);
    assert!(
        rm.stdout.starts_with("deleted check \"Backup PG\""),
        "{}",
        rm.stdout
    );
    assert!(check_named(&server, "Backup PG").is_none());
    let gone = hb(&server, &["checks", "show", &uuid]);
    expect(&gone, 1);
    assert!(
        gone.stderr.contains("no check has the uuid, slug or name"),
        "{}",
        gone.stderr
    );
}

/// A usage error is found before any request: the "monitor" here records everything.
#[test]
fn usage_errors_exit_2_and_send_nothing() {
    let recorder = Receiver::start();
    let base = recorder.url("");
    let base = base.trim_end_matches('/');
    for args in [
        vec![
            "checks",
            "add",
            "x",
            "--interval",
            "1h",
            "--cron",
            "0 3 * * *",
        ],
        vec![
            "checks",
            "add",
            "x",
            "--cron",
            "0 3 * * *",
            "--oncalendar",
            "daily",
        ],
        vec!["checks", "add", "x", "--interval", "1x"],
        vec!["checks", "add", "x", "--interval", "500ms"],
        vec!["checks", "add", "x", "--interval", "1h", "--grace", "soon"],
        vec!["checks", "add", "x", "--cron", "61 * * * *"],
        vec![
            "checks",
            "add",
            "x",
            "--cron",
            "0 3 * * *",
            "--tz",
            "Mars/Base",
        ],
        vec!["checks", "edit", "x"],
        vec!["checks", "--status", "sleepy"],
        vec!["checks", "frobnicate"],
        vec!["channels", "test"],
        vec!["config", "check"],
    ] {
        let run = hb_with(base, &args, &[]);
        assert_eq!(run.code, Some(2), "{args:?}: {}", run.stderr);
        assert!(!run.stderr.is_empty(), "{args:?} says why");
    }
    assert_eq!(recorder.count(), 0, "{:?}", recorder.requests());
}

#[test]
fn an_unreachable_monitor_is_3_and_a_refusal_is_1_with_the_reason() {
    let nowhere = format!("http://127.0.0.1:{}", closed_port());
    for args in [
        vec!["checks"],
        vec!["checks", "show", "x"],
        vec!["status"],
        vec!["channels"],
        vec!["config", "export"],
    ] {
        let run = hb_with(&nowhere, &args, &[]);
        assert_eq!(run.code, Some(3), "{args:?}: {}", run.stderr);
        assert!(
            run.stderr.contains("cannot reach the monitor at") && run.stderr.contains("HB_SERVER"),
            "{}",
            run.stderr
        );
    }

    let dir = tempfile::tempdir().unwrap();
    let server = monitor(
        dir.path(),
        "keyed",
        "api_keys = [\"full-key\"]\nread_keys = [\"read-key\"]\n",
    );
    let none = hb(&server, &["checks"]);
    expect(&none, 1);
    assert!(
        none.stderr.contains("needs an API key") && none.stderr.contains("HB_API_KEY"),
        "{}",
        none.stderr
    );
    let wrong = hb_with(&server.base, &["checks"], &[("HB_API_KEY", "nope")]);
    expect(&wrong, 1);
    assert!(
        wrong.stderr.contains("does not know the API key"),
        "{}",
        wrong.stderr
    );
    let read = hb_with(
        &server.base,
        &["checks", "add", "x", "--interval", "1h"],
        &[("HB_API_KEY", "read-key")],
    );
    expect(&read, 1);
    assert!(read.stderr.contains("read key"), "{}", read.stderr);
    // The key from the flag, and from the config file.
    let ok = hb_with(
        &server.base,
        &[
            "checks",
            "add",
            "x",
            "--interval",
            "1h",
            "--api-key",
            "full-key",
        ],
        &[],
    );
    expect(&ok, 0);
    let config = write(dir.path(), "client.toml", "api_key = \"read-key\"\n");
    let from_file = hb_with(
        &server.base,
        &["checks", "--config", config.to_str().unwrap()],
        &[],
    );
    expect(&from_file, 0);
    assert!(from_file.stdout.contains('x'), "{}", from_file.stdout);
    // The server from the config file too.
    let config = write(
        dir.path(),
        "client2.toml",
        &format!("server = \"{}\"\napi_key = \"full-key\"\n", server.base),
    );
    let mut command = Command::new(HB);
    let run = command
        .args(["status", "--config", config.to_str().unwrap()])
        .env_remove("HB_SERVER")
        .env_remove("HB_API_KEY")
        .output()
        .unwrap();
    assert_eq!(
        run.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );

    let taken = hb_with(
        &server.base,
        &["checks", "add", "x", "--interval", "1h"],
        &[("HB_API_KEY", "full-key")],
    );
    expect(&taken, 1);
    assert!(
        taken.stderr.contains("refused (409)") && taken.stderr.contains("exists already"),
        "{}",
        taken.stderr
    );
    let bad_channel = hb_with(
        &server.base,
        &[
            "checks",
            "add",
            "y",
            "--interval",
            "1h",
            "--channel",
            "nope",
        ],
        &[("HB_API_KEY", "full-key")],
    );
    expect(&bad_channel, 1);
    assert!(
        bad_channel.stderr.contains("no channel named \"nope\""),
        "{}",
        bad_channel.stderr
    );
}

#[test]
fn channels_are_listed_and_tested() {
    let receiver = Receiver::start();
    let dir = tempfile::tempdir().unwrap();
    let dead = format!("http://127.0.0.1:{}/hb", closed_port());
    let server = monitor(
        dir.path(),
        "hb",
        &format!(
            "[[channel]]\nname = \"ops\"\nkind = \"webhook\"\nurl = \"{}\"\n\n[[channel]]\nname = \"dead\"\nkind = \"webhook\"\nurl = \"{dead}\"\n",
            receiver.url("/hook?token=s3cret")
        ),
    );
    let list = hb(&server, &["channels"]);
    expect(&list, 0);
    assert!(
        list.stdout.starts_with("NAME  KIND     MANAGED  TARGET\n"),
        "{}",
        list.stdout
    );
    assert!(
        list.stdout.contains("ops   webhook  file"),
        "{}",
        list.stdout
    );
    assert!(!list.stdout.contains("s3cret"), "{}", list.stdout);
    let json = hb(&server, &["channels", "list", "--json"]);
    expect(&json, 0);
    assert_eq!(json.json()["channels"].as_array().unwrap().len(), 2);

    let test = hb(&server, &["channels", "test", "ops"]);
    expect(&test, 0);
    assert!(
        test.stdout.contains("delivered to channel \"ops\" (200)"),
        "{}",
        test.stdout
    );
    let got = receiver.expect(1, Duration::from_secs(5));
    assert_eq!(got[0].json()["event"], "test");
    let failed = hb(&server, &["channels", "test", "dead"]);
    expect(&failed, 1);
    assert!(
        failed.stderr.contains("was not delivered"),
        "{}",
        failed.stderr
    );
    let unknown = hb(&server, &["channels", "test", "nope"]);
    expect(&unknown, 1);
    assert!(
        unknown.stderr.contains("no channel named"),
        "{}",
        unknown.stderr
    );
}

#[test]
fn status_is_one_screen_and_exits_1_while_something_is_down() {
    let dir = tempfile::tempdir().unwrap();
    let server = monitor(dir.path(), "hb", "");
    let empty = hb(&server, &["status"]);
    expect(&empty, 0);
    assert!(
        empty.stdout.starts_with("no checks yet"),
        "{}",
        empty.stdout
    );
    let mut uuids = Vec::new();
    for name in ["alpha", "beta", "gamma"] {
        let created = post(
            &server.url("/api/v1/heartbeats"),
            &json!({"name": name, "interval": "1h", "channels": []}).to_string(),
        );
        assert_eq!(created.status, 201, "{}", created.body);
        uuids.push(created.json()["uuid"].as_str().unwrap().to_string());
    }
    assert_eq!(
        get(&server.url(&format!("/api/v1/ping/{}", uuids[0]))).status,
        200
    );
    let fine = hb(&server, &["status"]);
    expect(&fine, 0);
    assert!(
        fine.stdout.starts_with("3 checks: 2 new, 1 up\n\n"),
        "{}",
        fine.stdout
    );
    assert!(
        fine.stdout.contains("new  beta   never pinged"),
        "{}",
        fine.stdout
    );
    assert!(
        !fine.stdout.contains("alpha"),
        "up checks are not listed: {}",
        fine.stdout
    );

    assert_eq!(
        get(&server.url(&format!("/api/v1/ping/{}/fail", uuids[1]))).status,
        200
    );
    let down = hb(&server, &["status"]);
    expect(&down, 1);
    assert!(
        down.stdout.starts_with("3 checks: 1 down, 1 new, 1 up\n"),
        "{}",
        down.stdout
    );
    let lines: Vec<&str> = down.stdout.lines().collect();
    assert!(
        lines[2].starts_with("down  beta   last ping"),
        "{}",
        down.stdout
    );
    let json = hb(&server, &["status", "--json"]);
    expect(&json, 1);
    let json = json.json();
    assert_eq!(json["counts"]["down"], 1);
    assert_eq!(json["total"], 3);
    assert_eq!(json["heartbeats"][0]["name"], "beta");
}

#[test]
fn export_start_export_is_identical() {
    let receiver = Receiver::start();
    let dir = tempfile::tempdir().unwrap();
    let hook = receiver.url("/hook?token=s3cret");
    let first = monitor(
        dir.path(),
        "first",
        &format!(
            "[[channel]]\nname = \"ops\"\nkind = \"webhook\"\nurl = \"{hook}\"\nheaders = {{Authorization = \"Bearer t0ken\"}}\nbody = \"$NAME is $STATUS\\n\"\n\n\
             [[channel]]\nname = \"pager\"\nkind = \"ntfy\"\nserver = \"{}\"\ntopic = \"hb\"\ntoken = \"tk_secret\"\n\n\
             [[check]]\nname = \"from-file\"\nuuid = \"5b0b3b5e-4c1a-4d7e-9f2a-0c6a1d2e3f40\"\ncron = \"0 3 * * *\"\ntz = \"Europe/Paris\"\ngrace_period = \"1h\"\nchannels = [\"ops\"]\n",
            receiver.url("")
        ),
    );
    for body in [
        json!({"name": "Every channel", "interval": "90m"}),
        json!({"name": "No channel", "interval": "1d", "channels": [], "tags": ["x", "y"],
               "description": "a \"quoted\" line\nand another", "owner": "ops"}),
        json!({"name": "Escalating", "interval": "1h", "channels": ["ops"], "realert": "2h",
               "escalation": [{"after": "30m", "channels": ["pager"]}],
               "alert_after_failures": 2, "slow_factor": 2.5, "slow_min": "0s",
               "min_duration": "1s", "max_runtime": "10m", "manual_resume": true}),
    ] {
        let created = post(&first.url("/api/v1/heartbeats"), &body.to_string());
        assert_eq!(created.status, 201, "{}", created.body);
    }

    let masked = hb(&first, &["config", "export"]);
    expect(&masked, 0);
    for secret in ["s3cret", "t0ken", "tk_secret"] {
        assert!(
            !masked.stdout.contains(secret),
            "{secret}: {}",
            masked.stdout
        );
    }
    assert!(masked.stdout.contains("••••"), "{}", masked.stdout);
    let exported = hb(&first, &["config", "export", "--with-secrets"]);
    expect(&exported, 0);
    let text = exported.stdout.clone();
    assert!(
        text.contains("t0ken") && text.contains("tk_secret"),
        "{text}"
    );
    assert!(
        text.contains("uuid = \"5b0b3b5e-4c1a-4d7e-9f2a-0c6a1d2e3f40\""),
        "{text}"
    );
    // A check without channels is exported without them; one with [] keeps it.
    let every = text
        .split("[[check]]")
        .find(|t| t.contains("Every channel"))
        .unwrap();
    assert!(!every.contains("channels"), "{every}");
    let none = text
        .split("[[check]]")
        .find(|t| t.contains("No channel"))
        .unwrap();
    assert!(none.contains("channels = []"), "{none}");
    assert_eq!(
        get(&first.url("/api/v1/config")).body,
        masked.stdout,
        "the API's text"
    );

    // Start a new monitor on the export alone: the export it gives is the same, uuids too.
    let file = write(dir.path(), "exported.toml", &text);
    let second = ServeProcess::start(
        &dir.path().join("second.db"),
        &["--config", file.to_str().unwrap()],
        &[],
    );
    let again = hb(&second, &["config", "export", "--with-secrets"]);
    expect(&again, 0);
    assert_eq!(again.stdout, text);
    let uuids = |server: &ServeProcess| {
        let mut u: Vec<String> = checks(server)
            .iter()
            .map(|c| format!("{} {}", c["name"], c["uuid"]))
            .collect();
        u.sort();
        u
    };
    assert_eq!(uuids(&first), uuids(&second));
    assert_eq!(hb(&second, &["config", "export"]).stdout, masked.stdout);

    // The masked export works as the config of the monitor that has the secrets.
    drop(first);
    let masked_file = write(dir.path(), "masked.toml", &masked.stdout);
    let restarted = ServeProcess::start(
        &dir.path().join("first.db"),
        &["--config", masked_file.to_str().unwrap()],
        &[],
    );
    assert_eq!(
        hb(&restarted, &["config", "export", "--with-secrets"]).stdout,
        text
    );
}

#[test]
fn secrets_need_a_full_key() {
    let dir = tempfile::tempdir().unwrap();
    let server = monitor(
        dir.path(),
        "hb",
        "api_keys = [\"full-key\"]\nread_keys = [\"read-key\"]\n[[channel]]\nname = \"n\"\nkind = \"ntfy\"\ntopic = \"t\"\ntoken = \"tk_secret\"\n",
    );
    let read = [("HB_API_KEY", "read-key")];
    let masked = hb_with(&server.base, &["config", "export"], &read);
    expect(&masked, 0);
    assert!(!masked.stdout.contains("tk_secret"));
    let refused = hb_with(&server.base, &["config", "export", "--with-secrets"], &read);
    expect(&refused, 1);
    assert!(
        refused.stderr.contains("(403)") || refused.stderr.contains("full key"),
        "{}",
        refused.stderr
    );
    let full = hb_with(
        &server.base,
        &["config", "export", "--with-secrets"],
        &[("HB_API_KEY", "full-key")],
    );
    expect(&full, 0);
    assert!(full.stdout.contains("tk_secret"));
}

#[test]
fn a_plan_says_what_loading_a_file_would_do_and_changes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let server = monitor(
        dir.path(),
        "hb",
        "[[channel]]\nname = \"ops\"\nkind = \"ntfy\"\ntopic = \"a\"\n\n\
         [[check]]\nname = \"kept\"\ninterval = \"1h\"\n\n\
         [[check]]\nname = \"edited\"\ninterval = \"1h\"\n\n\
         [[check]]\nname = \"dropped\"\ninterval = \"1h\"\n",
    );
    let created = post(
        &server.url("/api/v1/heartbeats"),
        &json!({"name": "adopted", "interval": "1d"}).to_string(),
    );
    assert_eq!(created.status, 201);
    let before = (
        get(&server.url("/api/v1/heartbeats")).body,
        get(&server.url("/api/v1/channels")).body,
    );

    let file = write(
        dir.path(),
        "next.toml",
        "[[channel]]\nname = \"ops\"\nkind = \"ntfy\"\ntopic = \"b\"\n\n\
         [[check]]\nname = \"kept\"\ninterval = \"1h\"\n\n\
         [[check]]\nname = \"edited\"\ninterval = \"2h\"\n\n\
         [[check]]\nname = \"adopted\"\ninterval = \"1d\"\n\n\
         [[check]]\nname = \"fresh\"\ncron = \"0 3 * * *\"\n",
    );
    let plan = hb(&server, &["config", "plan", file.to_str().unwrap()]);
    expect(&plan, 0);
    assert_eq!(
        plan.stdout,
        "create   check    fresh\n\
         change   channel  ops: topic a → b\n\
         change   check    adopted: managed false → true\n\
         change   check    edited: interval 1h → 2h\n\
         unmanage check    dropped\n"
    );
    let json = hb(
        &server,
        &["config", "plan", file.to_str().unwrap(), "--json"],
    );
    expect(&json, 0);
    let json = json.json();
    assert_eq!(json["create"], json!([{"type": "check", "name": "fresh"}]));
    assert_eq!(
        json["unmanage"][0]["uuid"],
        check_named(&server, "dropped").unwrap()["uuid"]
    );
    assert_eq!(json["problems"], json!([]));

    let after = (
        get(&server.url("/api/v1/heartbeats")).body,
        get(&server.url("/api/v1/channels")).body,
    );
    assert_eq!(before, after, "a plan changes nothing");

    // Refusals: the monitor's, exit 1; a broken file, exit 2 before any request.
    let refused = write(
        dir.path(),
        "refused.toml",
        "[[check]]\nname = \"x\"\ninterval = \"1h\"\nchannels = [\"nope\"]\n",
    );
    let run = hb(&server, &["config", "plan", refused.to_str().unwrap()]);
    expect(&run, 1);
    assert!(
        run.stdout.contains("refused  [[check]] \"x\""),
        "{}",
        run.stdout
    );
    let broken = write(
        dir.path(),
        "broken.toml",
        "[[check]]\nname = \"x\"\ninterval = \"soon\"\n",
    );
    let run = hb(&server, &["config", "plan", broken.to_str().unwrap()]);
    expect(&run, 2);
    assert!(
        run.stderr.starts_with(&format!("{}:3: ", broken.display())),
        "{}",
        run.stderr
    );

    // The API: TOML in, and only there.
    let toml = "[[check]]\nname = \"kept\"\ninterval = \"1h\"\n";
    let answer = call(
        "POST",
        &server.url("/api/v1/config/plan"),
        Some(toml),
        &[("Content-Type", "application/toml")],
    );
    assert_eq!(answer.status, 200, "{}", answer.body);
    let answer = call(
        "POST",
        &server.url("/api/v1/config/plan"),
        Some(toml),
        &[("Content-Type", "text/plain")],
    );
    assert_eq!(answer.status, 415, "{}", answer.body);
    let answer = call(
        "POST",
        &server.url("/api/v1/config/plan"),
        Some("[[check]]\nname = 1\n"),
        &[("Content-Type", "application/toml")],
    );
    assert_eq!(answer.status, 400, "{}", answer.body);
    assert!(
        answer.json()["error"].as_str().unwrap().contains("line 2"),
        "{}",
        answer.body
    );
    assert_eq!(before.0, get(&server.url("/api/v1/heartbeats")).body);
}

#[test]
fn config_check_names_the_file_and_line() {
    let dir = tempfile::tempdir().unwrap();
    let server = monitor(
        dir.path(),
        "hb",
        "[[channel]]\nname = \"pager\"\nkind = \"ntfy\"\ntopic = \"p\"\n",
    );
    let good = write(
        dir.path(),
        "good.toml",
        "[[channel]]\nname = \"ops\"\nkind = \"ntfy\"\ntopic = \"o\"\n\n\
         [[check]]\nname = \"a\"\ninterval = \"1h\"\nchannels = [\"ops\"]\n\n\
         [[check]]\nname = \"b\"\ncron = \"0 3 * * *\"\nchannels = [\"pager\"]\n",
    );
    let path = good.to_str().unwrap();
    let ok = hb(&server, &["config", "check", path]);
    expect(&ok, 0);
    assert_eq!(ok.stdout, format!("{path}: ok (2 checks, 1 channel)\n"));

    // "pager" is the monitor's; without the monitor, it is unknown.
    let nowhere = format!("http://127.0.0.1:{}", closed_port());
    let alone = hb_with(&nowhere, &["config", "check", path], &[]);
    expect(&alone, 2);
    assert!(
        alone
            .stderr
            .starts_with(&format!("{path}:14: [[check]] \"b\": channel \"pager\"")),
        "{}",
        alone.stderr
    );
    assert!(alone.stderr.contains("not checked"), "{}", alone.stderr);
    let unknown = write(
        dir.path(),
        "unknown.toml",
        "[[check]]\nname = \"a\"\ninterval = \"1h\"\nchannels = [\"pager\",\n  \"nope\"]\n",
    );
    let run = hb(&server, &["config", "check", unknown.to_str().unwrap()]);
    expect(&run, 2);
    assert_eq!(
        run.stderr,
        format!(
            "{}:5: [[check]] \"a\": channel \"nope\" is neither declared in this file nor a channel of the monitor at {}\n",
            unknown.display(),
            server.base
        )
    );

    for (text, line, says) in [
        ("listen = \"x\"\nlisen = 1\n", 2, "lisen"),
        (
            "[[check]]\nname = \"a\"\n\ninterval = \"1h\"\ngrace_period = \"0s\"\n",
            5,
            "grace_period",
        ),
        (
            "[[check]]\nname = \"a\"\ncron = \"0 3 * * *\"\ntz = \"Mars/Base\"\n",
            4,
            "Mars/Base",
        ),
        (
            "[[channel]]\nname = \"x\"\nkind = \"webhook\"\nurl = \"ftp://h\"\n",
            4,
            "url",
        ),
        ("server = \n", 1, ""),
    ] {
        let file = write(dir.path(), "bad.toml", text);
        let run = hb(&server, &["config", "check", file.to_str().unwrap()]);
        expect(&run, 2);
        let prefix = format!("{}:{line}: ", file.display());
        assert!(run.stderr.starts_with(&prefix), "{text:?}: {}", run.stderr);
        assert!(run.stderr.contains(says), "{text:?}: {}", run.stderr);
    }
    let missing = hb(&server, &["config", "check", "/no/such/file.toml"]);
    expect(&missing, 2);
    // A top-level key under [checks] is a warning, not an error.
    let aliases = write(
        dir.path(),
        "aliases.toml",
        "ping_key = \"k\"\n[checks]\nbackup = \"0b9e5a2c-1111-4222-8333-444455556666\"\nserver = \"http://x\"\n",
    );
    let run = hb(&server, &["config", "check", aliases.to_str().unwrap()]);
    expect(&run, 0);
    assert!(
        run.stderr
            .contains(":4: warning: `server` is under [checks]"),
        "{}",
        run.stderr
    );
}

#[test]
fn a_ping_with_create_makes_an_unknown_check_and_changes_no_known_one() {
    let dir = tempfile::tempdir().unwrap();
    let server = monitor(dir.path(), "hb", "");
    let ping = |path: &str| call("GET", &server.url(path), None, &[]);

    let made = ping("/api/v1/ping/k3y/nightly-db?create=1&interval=2h&grace=10m");
    assert_eq!((made.status, made.body.as_str()), (201, "Created"));
    let c = check_named(&server, "nightly-db").unwrap();
    assert_eq!(
        (c["slug"].as_str(), c["interval"].as_str()),
        (Some("nightly-db"), Some("2h"))
    );
    assert_eq!(
        (c["grace_period"].as_str(), c["status"].as_str()),
        (Some("10m"), Some("up"))
    );
    // Known now: an ordinary ping, whatever the query asks.
    let again = ping("/api/v1/ping/k3y/nightly-db/fail?create=1&interval=5m");
    assert_eq!((again.status, again.body.as_str()), (200, "OK"));
    let c = check_named(&server, "nightly-db").unwrap();
    assert_eq!(
        (c["interval"].as_str(), c["status"].as_str()),
        (Some("2h"), Some("down"))
    );

    let started = ping("/ping/k3y/weekly/start?create=1&cron=0+3+*+*+1&tz=Europe%2FParis");
    assert_eq!(started.status, 201, "{}", started.body);
    let c = check_named(&server, "weekly").unwrap();
    assert_eq!(
        (c["cron"].as_str(), c["tz"].as_str()),
        (Some("0 3 * * 1"), Some("Europe/Paris"))
    );
    assert_eq!(c["status"], "running");
    let daily = ping("/api/v1/ping/k3y/daily-default/0?create=1");
    assert_eq!(daily.status, 201);
    assert_eq!(
        check_named(&server, "daily-default").unwrap()["interval"],
        "1d"
    );

    let before = checks(&server).len();
    for (path, status) in [
        ("/api/v1/ping/k3y/Not_A_Slug?create=1", 400),
        ("/api/v1/ping/k3y/a--b?create=1", 400),
        ("/api/v1/ping/k3y/bad-interval?create=1&interval=soon", 400),
        ("/api/v1/ping/k3y/bad-cron?create=1&cron=61+*+*+*+*", 400),
        (
            "/api/v1/ping/k3y/two?create=1&interval=1h&cron=0+3+*+*+*",
            400,
        ),
        ("/api/v1/ping/k3y/unknown", 404),
        ("/api/v1/ping/k3y/unknown?create=0", 404),
        ("/api/v1/ping/wrong-key/other?create=1", 404),
    ] {
        let answer = ping(path);
        assert_eq!(answer.status, status, "{path}: {}", answer.body);
    }
    let bad = ping("/api/v1/ping/k3y/bad-interval?create=1&interval=soon");
    assert!(bad.body.contains("interval"), "{}", bad.body);
    assert_eq!(checks(&server).len(), before, "refused pings make nothing");

    // auto_provision = false: an unknown slug is 404, as without ?create=1.
    let off = monitor(dir.path(), "off", "auto_provision = false\n");
    let answer = call(
        "GET",
        &off.url("/api/v1/ping/k3y/new-job?create=1"),
        None,
        &[],
    );
    assert_eq!(answer.status, 404, "{}", answer.body);
    assert!(checks(&off).is_empty());
}

#[test]
fn hb_run_create_makes_the_check_on_its_first_ping() {
    let dir = tempfile::tempdir().unwrap();
    let server = monitor(dir.path(), "hb", "");
    let run = hb_with(
        &server.base,
        &[
            "run",
            "backup-job",
            "--ping-key",
            PING_KEY,
            "--create",
            "--cron",
            "30 2 * * *",
            "--tz",
            "Europe/Paris",
            "--grace",
            "20m",
            "--",
            "true",
        ],
        &[],
    );
    expect(&run, 0);
    assert!(run.stderr.is_empty(), "{}", run.stderr);
    let c = check_named(&server, "backup-job").unwrap();
    assert_eq!(
        (c["cron"].as_str(), c["tz"].as_str()),
        (Some("30 2 * * *"), Some("Europe/Paris"))
    );
    assert_eq!(
        (c["grace_period"].as_str(), c["status"].as_str()),
        (Some("20m"), Some("up"))
    );
    let pings = get(&server.url(&format!(
        "/api/v1/heartbeats/{}/pings",
        c["uuid"].as_str().unwrap()
    )));
    assert_eq!(
        pings.json()["pings"].as_array().unwrap().len(),
        2,
        "start and end"
    );

    // A malformed value stops hb before the job.
    let marker = dir.path().join("ran");
    for args in [
        vec!["--create", "--cron", "61 * * * *"],
        vec!["--create", "--interval", "1x"],
        vec!["--create", "--interval", "1h", "--cron", "0 3 * * *"],
        vec!["--create", "--tz", "Mars/Base", "--cron", "0 3 * * *"],
        vec!["--interval", "1h"],
    ] {
        let mut all = vec!["run", "other-job", "--ping-key", PING_KEY];
        all.extend(args.iter());
        all.extend(["--", "touch", marker.to_str().unwrap()]);
        let run = hb_with(&server.base, &all, &[]);
        assert_eq!(run.code, Some(2), "{args:?}: {}", run.stderr);
        assert!(!marker.exists(), "{args:?}: the job did not run");
    }
    assert!(check_named(&server, "other-job").is_none());
}

#[test]
fn manual_resume_keeps_a_paused_check_paused() {
    let dir = tempfile::tempdir().unwrap();
    let server = monitor(dir.path(), "hb", "");
    let created = post(
        &server.url("/api/v1/heartbeats"),
        &json!({"name": "careful", "interval": "1h", "manual_resume": true}).to_string(),
    );
    assert_eq!(created.status, 201, "{}", created.body);
    let created = created.json();
    assert_eq!(created["manual_resume"], true);
    let uuid = created["uuid"].as_str().unwrap();
    expect(&hb(&server, &["checks", "pause", "careful"]), 0);
    for signal in ["", "/fail", "/0", "/start"] {
        assert_eq!(
            get(&server.url(&format!("/api/v1/ping/{uuid}{signal}"))).status,
            200
        );
    }
    let c = check_named(&server, "careful").unwrap();
    assert_eq!(c["status"], "paused");
    assert_eq!(c["n_pings"], 4, "the pings are recorded");
    expect(&hb(&server, &["checks", "resume", "careful"]), 0);
    assert_eq!(
        get(&server.url(&format!("/api/v1/ping/{uuid}"))).status,
        200
    );
    assert_eq!(check_named(&server, "careful").unwrap()["status"], "up");
    // Without it, a ping ends a pause (as healthchecks does).
    let patched = call(
        "PATCH",
        &server.url(&format!("/api/v1/heartbeats/{uuid}")),
        Some(r#"{"manual_resume": false}"#),
        &[],
    );
    assert_eq!(patched.status, 200, "{}", patched.body);
    expect(&hb(&server, &["checks", "pause", uuid]), 0);
    assert_eq!(
        get(&server.url(&format!("/api/v1/ping/{uuid}"))).status,
        200
    );
    assert_eq!(check_named(&server, "careful").unwrap()["status"], "up");
}

/// Waits for a line of `server`'s stderr that `matches`.
fn wait_for_line(server: &ServeProcess, matches: impl Fn(&str) -> bool) -> String {
    let mut found = String::new();
    let seen = wait_until(Duration::from_secs(10), || {
        match server.stderr().lines().find(|l| matches(l)) {
            Some(line) => {
                found = line.to_string();
                true
            }
            None => false,
        }
    });
    assert!(seen, "no such line in: {}", server.stderr());
    found
}

#[test]
fn the_monitor_logs_changes_deliveries_and_reloads_without_secrets() {
    let receiver = Receiver::start();
    let dir = tempfile::tempdir().unwrap();
    let dead = format!("http://127.0.0.1:{}/hb?token=d3ad", closed_port());
    let config = write(
        dir.path(),
        "hb.toml",
        &format!(
            "allow_private_targets = true\nping_key = \"k3y-s3cret\"\napi_keys = [\"key-s3cret\"]\n\n\
             [[channel]]\nname = \"ops\"\nkind = \"webhook\"\nurl = \"{}\"\nheaders = {{Authorization = \"Bearer hdr-s3cret\"}}\n\n\
             [[channel]]\nname = \"dead\"\nkind = \"webhook\"\nurl = \"{dead}\"\n\n\
             [[check]]\nname = \"job\"\ninterval = \"1h\"\n",
            receiver.url("/hook?token=url-s3cret")
        ),
    );
    let server = ServeProcess::start(
        &dir.path().join("hb.db"),
        &["--config", config.to_str().unwrap(), "--log-format", "json"],
        &[],
    );
    let parse = |line: &str| -> Value {
        serde_json::from_str(line).unwrap_or_else(|e| panic!("not JSON ({e}): {line}"))
    };
    let start = parse(&wait_for_line(&server, |l| {
        l.contains("\"event\":\"start\"")
    }));
    assert_eq!(start["level"], "info");
    assert_eq!(
        (start["checks"].as_u64(), start["channels"].as_u64()),
        (Some(1), Some(2))
    );
    assert_eq!(start["listen"], server.base.as_str());
    assert!(
        start["store"].as_str().unwrap().contains("hb.db"),
        "{start}"
    );
    assert!(start["time"].as_str().unwrap().ends_with('Z'), "{start}");

    let uuid = checks_with_key(&server)[0]["uuid"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(
        get(&server.url(&format!("/api/v1/ping/{uuid}/1"))).status,
        200
    );
    let flip = parse(&wait_for_line(&server, |l| {
        l.contains("\"event\":\"status\"")
    }));
    assert_eq!(
        (flip["check"].as_str(), flip["to"].as_str()),
        (Some("job"), Some("down"))
    );
    assert_eq!(
        (flip["from"].as_str(), flip["reason"].as_str()),
        (Some("new"), Some("exit code 1"))
    );
    let delivered = parse(&wait_for_line(&server, |l| {
        l.contains("\"event\":\"alert\"") && l.contains("\"ok\":true")
    }));
    assert_eq!(
        (delivered["channel"].as_str(), delivered["alert"].as_str()),
        (Some("ops"), Some("down"))
    );
    assert_eq!(delivered["status_code"], 200);
    let failed = parse(&wait_for_line(&server, |l| {
        l.contains("\"event\":\"alert\"") && l.contains("\"ok\":false")
    }));
    assert_eq!(
        (failed["channel"].as_str(), failed["level"].as_str()),
        (Some("dead"), Some("warn"))
    );
    assert!(
        failed["message"].as_str().unwrap().contains("retried in"),
        "{failed}"
    );

    server.signal(libc::SIGHUP);
    let reload = parse(&wait_for_line(&server, |l| {
        l.contains("\"event\":\"reload\"")
    }));
    assert_eq!(reload["ok"], true);
    let log = server.stderr();
    for secret in ["s3cret", "d3ad"] {
        assert!(!log.contains(secret), "{secret} in the log: {log}");
    }
    assert!(
        log.lines()
            .all(|l| serde_json::from_str::<Value>(l).is_ok()),
        "{log}"
    );

    // Text, the default: one `hb:` line each.
    let text_dir = tempfile::tempdir().unwrap();
    let text = monitor(text_dir.path(), "hb", "");
    wait_for_line(&text, |l| {
        l.starts_with("hb: hb serve ") && l.contains("listening on http://")
    });
    let made = call("GET", &text.url("/ping/k3y/texty?create=1"), None, &[]);
    assert_eq!(made.status, 201);
    wait_for_line(&text, |l| {
        l.starts_with("hb: check \"texty\"") && l.contains("auto-provisioning")
    });
    wait_for_line(&text, |l| {
        l.starts_with("hb: check \"texty\"") && l.contains("new → up")
    });
}

fn checks_with_key(server: &ServeProcess) -> Vec<Value> {
    let answer = call(
        "GET",
        &server.url("/api/v1/heartbeats"),
        None,
        &[("Authorization", "Bearer key-s3cret")],
    );
    assert_eq!(answer.status, 200, "{}", answer.body);
    answer.json()["heartbeats"].as_array().unwrap().clone()
}
