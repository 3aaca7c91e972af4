//! `hb checks [list|show|add|edit|pause|resume|rm]`.

use jiff::Timestamp;
use serde_json::{Map, Value, json};

use super::table::{Cell, Style, Table, list_text, schedule_text, time_field};
use super::{Body, Client, colour, encode, print, print_json};
use crate::cli::{CheckSettingsArgs, ChecksArgs, ChecksCommand, ChecksListArgs};
use crate::config::ConfigSource;
use crate::error::{Error, Result};

pub fn cmd_checks(args: ChecksArgs, source: &ConfigSource) -> Result<i32> {
    // Usage errors first: nothing is sent for a command that cannot be right.
    let body = match &args.command {
        Some(ChecksCommand::Add(add)) => {
            let mut body = settings_body(&add.settings)?;
            body.insert("name".into(), json!(add.name));
            Some(body)
        }
        Some(ChecksCommand::Edit(edit)) => {
            let mut body = settings_body(&edit.settings)?;
            if let Some(name) = &edit.name {
                body.insert("name".into(), json!(name));
            }
            if body.is_empty() {
                return Err(Error::Invalid(
                    "nothing to change: give at least one setting, e.g. hb checks edit ID --grace 1h (see hb checks edit --help)".into(),
                ));
            }
            Some(body)
        }
        _ => None,
    };
    let client = Client::new(&args.client, source)?;
    let now = Timestamp::now();
    match args.command {
        None => list(&client, &args.list, now),
        Some(ChecksCommand::List(list_args)) => list(&client, &list_args, now),
        Some(ChecksCommand::Show { id, json }) => {
            let check = find(&client, &id)?;
            if json {
                print_json(&check)?;
            } else {
                print(&show_text(&check, now, colour()))?;
            }
            Ok(0)
        }
        Some(ChecksCommand::Add(_)) => {
            let body = Value::Object(body.unwrap_or_default());
            let check = client.json("POST", "/api/v1/heartbeats", Some(Body::Json(&body)))?;
            print(&format!("{}\n", check["uuid"].as_str().unwrap_or_default()))?;
            Ok(0)
        }
        Some(ChecksCommand::Edit(edit)) => {
            let check = find(&client, &edit.id)?;
            let body = Value::Object(body.unwrap_or_default());
            let path = check_path(&check, "");
            let changed = client.json("PATCH", &path, Some(Body::Json(&body)))?;
            print(&format!("changed {}\n", label(&changed)))?;
            Ok(0)
        }
        Some(ChecksCommand::Pause { id }) => {
            let check = find(&client, &id)?;
            let paused = client.json("POST", &check_path(&check, "/pause"), None)?;
            print(&format!("paused {}\n", label(&paused)))?;
            Ok(0)
        }
        Some(ChecksCommand::Resume { id }) => {
            let check = find(&client, &id)?;
            let resumed = client.json("POST", &check_path(&check, "/resume"), None)?;
            print(&format!("resumed {}\n", label(&resumed)))?;
            Ok(0)
        }
        Some(ChecksCommand::Rm { id }) => {
            let check = find(&client, &id)?;
            client.call("DELETE", &check_path(&check, ""), None)?;
            print(&format!("deleted {}\n", label(&check)))?;
            Ok(0)
        }
    }
}

fn check_path(check: &Value, tail: &str) -> String {
    format!(
        "/api/v1/heartbeats/{}{tail}",
        encode(check["uuid"].as_str().unwrap_or_default())
    )
}

/// `check "Backup" (uuid)`.
fn label(check: &Value) -> String {
    format!(
        "check {:?} ({})",
        check["name"].as_str().unwrap_or_default(),
        check["uuid"].as_str().unwrap_or_default()
    )
}

/// The JSON of the settings given as flags; a malformed value is a usage error.
pub fn settings_body(settings: &CheckSettingsArgs) -> Result<Map<String, Value>> {
    let mut body = Map::new();
    let text = |d: std::time::Duration| json!(crate::duration::format(d));
    if let Some(d) = settings.interval {
        body.insert("interval".into(), text(d));
    }
    if let Some(cron) = &settings.cron {
        // The monitor's own reading of cron lines, so a typo is found before sending.
        let tz = settings.tz.as_deref().unwrap_or("UTC");
        crate::serve::schedule::Schedule::cron(cron, tz).map_err(|e| {
            Error::Invalid(if e.message.starts_with(e.field) {
                format!("--{}", e.message)
            } else {
                format!("--{}: {}", e.field, e.message)
            })
        })?;
        body.insert("cron".into(), json!(cron));
    }
    if let Some(expr) = &settings.oncalendar {
        if expr.trim().is_empty() {
            return Err(Error::Invalid(
                "--oncalendar: empty; give a systemd OnCalendar= expression, e.g. \"Mon..Fri *-*-* 02:00:00\"".into(),
            ));
        }
        body.insert("oncalendar".into(), json!(expr));
    }
    if let Some(tz) = &settings.tz {
        crate::serve::schedule::parse_tz(tz)
            .map_err(|e| Error::Invalid(format!("--tz: {}", e.message)))?;
        body.insert("tz".into(), json!(tz));
    }
    if let Some(d) = settings.grace {
        body.insert("grace_period".into(), text(d));
    }
    if let Some(d) = settings.max_runtime {
        body.insert("max_runtime".into(), text(d));
    }
    if !settings.tags.is_empty() {
        body.insert("tags".into(), json!(settings.tags));
    }
    if !settings.channels.is_empty() {
        body.insert("channels".into(), json!(settings.channels));
    }
    if let Some(description) = &settings.description {
        body.insert("description".into(), json!(description));
    }
    if let Some(owner) = &settings.owner {
        body.insert("owner".into(), json!(owner));
    }
    Ok(body)
}

fn list(client: &Client, args: &ChecksListArgs, now: Timestamp) -> Result<i32> {
    let mut query = Vec::new();
    if let Some(status) = args.status {
        query.push(format!("status={}", status.as_str()));
    }
    if let Some(tag) = &args.tag {
        query.push(format!("tag={}", encode(tag)));
    }
    let path = if query.is_empty() {
        "/api/v1/heartbeats".to_string()
    } else {
        format!("/api/v1/heartbeats?{}", query.join("&"))
    };
    let answer = client.get(&path)?;
    if args.json {
        print_json(&answer)?;
        return Ok(0);
    }
    let checks = answer["heartbeats"].as_array().cloned().unwrap_or_default();
    if checks.is_empty() {
        let filtered = args.status.is_some() || args.tag.is_some();
        print(if filtered {
            "no check matches\n"
        } else {
            "no checks yet; add one with: hb checks add NAME --interval 1d\n"
        })?;
        return Ok(0);
    }
    print(&list_table(&checks, now).render(colour()))?;
    Ok(0)
}

/// The table of `hb checks`.
pub fn list_table(checks: &[Value], now: Timestamp) -> Table {
    let mut table = Table::new(&[
        "NAME",
        "STATUS",
        "SCHEDULE",
        "LAST PING",
        "NEXT DUE",
        "TAGS",
    ]);
    for check in checks {
        let status = check["status"].as_str().unwrap_or("?");
        table.push(vec![
            Cell::new(check["name"].as_str().unwrap_or_default()),
            Cell::styled(status, Style::of_status(status)),
            Cell::new(schedule_text(check)),
            Cell::new(time_field(&check["last_ping"], now)),
            Cell::new(time_field(&check["next_due"], now)),
            Cell::new(list_text(&check["tags"], "")),
        ]);
    }
    table
}

/// `hb checks show`: one setting a line.
pub fn show_text(check: &Value, now: Timestamp, colour: bool) -> String {
    let text = |key: &str| match &check[key] {
        Value::String(s) if !s.is_empty() => s.clone(),
        Value::Number(n) => n.to_string(),
        Value::Bool(b) => if *b { "yes" } else { "no" }.into(),
        _ => "-".into(),
    };
    let time = |key: &str| match check[key].as_str() {
        Some(t) => format!("{t} ({})", time_field(&check[key], now)),
        None => "-".into(),
    };
    let status = text("status");
    let mut rows: Vec<(&str, Cell)> = vec![
        ("name", Cell::new(text("name"))),
        ("uuid", Cell::new(text("uuid"))),
        ("slug", Cell::new(text("slug"))),
        (
            "status",
            Cell::styled(status.clone(), Style::of_status(&status)),
        ),
        ("schedule", Cell::new(schedule_text(check))),
        ("grace period", Cell::new(text("grace_period"))),
        ("max runtime", Cell::new(text("max_runtime"))),
        ("last ping", Cell::new(time("last_ping"))),
        ("next due", Cell::new(time("next_due"))),
        ("alert at", Cell::new(time("alert_at"))),
        (
            "last duration",
            Cell::new(
                check["last_duration"]
                    .as_f64()
                    .map(|s| format!("{s:.3}s"))
                    .unwrap_or_else(|| "-".into()),
            ),
        ),
        ("tags", Cell::new(list_text(&check["tags"], "-"))),
        (
            "channels",
            Cell::new(if check["channels"].is_null() {
                "(every channel)".to_string()
            } else {
                list_text(&check["channels"], "(none)")
            }),
        ),
        ("description", Cell::new(text("description"))),
        ("owner", Cell::new(text("owner"))),
    ];
    if check.get("ping_url").is_some() {
        rows.push(("ping url", Cell::new(text("ping_url"))));
    }
    rows.push(("managed", Cell::new(text("managed"))));
    if check["manual_resume"] == true {
        rows.push(("manual resume", Cell::new("yes")));
    }
    let mut table = Table::new(&[]);
    for (key, value) in rows {
        table.push(vec![Cell::styled(key, Style::Dim), value]);
    }
    table.render(colour)
}

/// The check an ID names: a uuid, else a slug, else a name (exact, then in any case).
pub fn resolve<'a>(checks: &'a [Value], id: &str) -> std::result::Result<&'a Value, String> {
    let field = |c: &Value, key: &str| c[key].as_str().map(str::to_string).unwrap_or_default();
    let id = id.trim();
    let by = |pred: &dyn Fn(&Value) -> bool| checks.iter().filter(|c| pred(c)).collect::<Vec<_>>();
    for found in [
        by(&|c| field(c, "uuid").eq_ignore_ascii_case(id)),
        by(&|c| field(c, "slug") == id),
        by(&|c| field(c, "name") == id),
        by(&|c| field(c, "name").eq_ignore_ascii_case(id)),
    ] {
        match found.as_slice() {
            [one] => return Ok(one),
            [] => continue,
            many => {
                let names: Vec<String> = many.iter().map(|c| field(c, "name")).collect();
                return Err(format!(
                    "{id:?} names several checks ({}); give the uuid or the slug",
                    names.join(", ")
                ));
            }
        }
    }
    Err(format!(
        "no check has the uuid, slug or name {id:?}; `hb checks` lists them"
    ))
}

/// The check an ID names, as the monitor shows it now.
pub fn find(client: &Client, id: &str) -> Result<Value> {
    if uuid::Uuid::parse_str(id.trim()).is_ok() {
        let path = format!("/api/v1/heartbeats/{}", encode(id.trim()));
        let (status, text) = client.request("GET", &path, None)?;
        if status == 200 {
            return serde_json::from_str(&text).map_err(|e| {
                Error::Failed(anyhow::anyhow!("the monitor's answer is not JSON ({e})"))
            });
        }
        if status != 404 {
            return Err(client.refused(status, &text));
        }
        // Not a uuid of a check: it may still be a name.
    }
    let list = client.get("/api/v1/heartbeats")?;
    let checks = list["heartbeats"].as_array().cloned().unwrap_or_default();
    resolve(&checks, id)
        .cloned()
        .map_err(|e| Error::Failed(anyhow::Error::msg(e)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn checks() -> Vec<Value> {
        vec![
            json!({"uuid": "5b0b3b5e-4c1a-4d7e-9f2a-0c6a1d2e3f40", "name": "Backup DB", "slug": "backup-db"}),
            json!({"uuid": "0b9e5a2c-1111-4222-8333-444455556666", "name": "backup-db-2", "slug": "backup-db-2"}),
            json!({"uuid": "1b9e5a2c-1111-4222-8333-444455556666", "name": "nightly", "slug": "nightly"}),
        ]
    }

    #[test]
    fn an_id_is_a_uuid_a_slug_or_a_name() {
        let checks = checks();
        let name = |id: &str| resolve(&checks, id).map(|c| c["name"].as_str().unwrap().to_string());
        assert_eq!(
            name("5B0B3B5E-4C1A-4D7E-9F2A-0C6A1D2E3F40").unwrap(),
            "Backup DB"
        );
        assert_eq!(name("backup-db").unwrap(), "Backup DB");
        assert_eq!(name("Backup DB").unwrap(), "Backup DB");
        assert_eq!(name("backup db").unwrap(), "Backup DB");
        assert_eq!(name("backup-db-2").unwrap(), "backup-db-2");
        assert_eq!(name(" nightly ").unwrap(), "nightly");
        let err = name("weekly").unwrap_err();
        assert!(
            err.contains("\"weekly\"") && err.contains("hb checks"),
            "{err}"
        );
        let twins = vec![
            json!({"uuid": "a", "name": "Job", "slug": "job"}),
            json!({"uuid": "b", "name": "JOB!", "slug": "job-x"}),
            json!({"uuid": "c", "name": "job!", "slug": "job-y"}),
        ];
        assert!(resolve(&twins, "Job!").unwrap_err().contains("several"));
    }

    #[test]
    fn flags_make_the_body_and_bad_values_are_usage_errors() {
        let settings = CheckSettingsArgs {
            cron: Some("0 3 * * *".into()),
            tz: Some("Europe/Paris".into()),
            grace: Some(std::time::Duration::from_secs(5400)),
            tags: vec!["db".into()],
            channels: vec!["ops".into()],
            ..Default::default()
        };
        assert_eq!(
            Value::Object(settings_body(&settings).unwrap()),
            json!({"cron": "0 3 * * *", "tz": "Europe/Paris", "grace_period": "1h30m",
                   "tags": ["db"], "channels": ["ops"]})
        );
        let bad_cron = CheckSettingsArgs {
            cron: Some("61 * * * *".into()),
            ..Default::default()
        };
        assert!(matches!(settings_body(&bad_cron), Err(Error::Invalid(m)) if m.contains("61")));
        let bad_tz = CheckSettingsArgs {
            interval: Some(std::time::Duration::from_secs(60)),
            tz: Some("Mars/Base".into()),
            ..Default::default()
        };
        assert!(matches!(settings_body(&bad_tz), Err(Error::Invalid(m)) if m.starts_with("--tz")));
    }

    #[test]
    fn the_list_and_the_details_read_well() {
        let now: Timestamp = "2026-01-01T12:00:00Z".parse().unwrap();
        let check = json!({
            "uuid": "5b0b3b5e-4c1a-4d7e-9f2a-0c6a1d2e3f40", "name": "Backup", "slug": "backup",
            "status": "up", "interval": "1d", "cron": null, "tz": null,
            "last_ping": "2026-01-01T11:00:00Z", "next_due": "2026-01-02T11:00:00Z",
            "alert_at": null, "tags": ["db"], "channels": null, "grace_period": "1h",
            "max_runtime": "1h", "description": "", "owner": "ops", "last_duration": 1.5,
            "ping_url": "http://h/api/v1/ping/5b0b3b5e-4c1a-4d7e-9f2a-0c6a1d2e3f40",
            "managed": false,
        });
        assert_eq!(
            list_table(std::slice::from_ref(&check), now).render(false),
            "NAME    STATUS  SCHEDULE  LAST PING  NEXT DUE  TAGS\n\
             Backup  up      every 1d  1h ago     in 23h    db\n"
        );
        let shown = show_text(&check, now, false);
        assert!(shown.contains("\nschedule       every 1d\n"), "{shown}");
        assert!(
            shown.contains("\nlast ping      2026-01-01T11:00:00Z (1h ago)\n"),
            "{shown}"
        );
        assert!(
            shown.contains("\nchannels       (every channel)\n"),
            "{shown}"
        );
        assert!(shown.contains("\ndescription    -\n"), "{shown}");
        assert!(shown.contains("\nlast duration  1.500s\n"), "{shown}");
    }
}
