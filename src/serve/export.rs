//! `GET /api/v1/config` (`hb config export`): every check and channel as the TOML of a
//! config file that, used as `hb serve`'s config, makes them again — with their uuids,
//! and the same export again, byte for byte.
//!
//! Only what differs from the defaults is written (a check without `channels` stays
//! without them: every channel); checks come sorted by name and channels by name, so
//! the text does not depend on the order things were made in. Secrets are `"••••"`
//! (which, in a config file, keeps the stored value) unless asked for.

use serde_json::{Map, Value};

use super::check::{DEFAULT_SLOW_FACTOR, Settings};
use super::notify::{ChannelKind, MASK};
use super::registry::Registry;

/// The keys of a `[[check]]` table in the order they are written; any other key the
/// settings have comes after them, alphabetically.
const CHECK_KEYS: [&str; 21] = [
    "name",
    "uuid",
    "description",
    "owner",
    "tags",
    "interval",
    "cron",
    "oncalendar",
    "tz",
    "grace_period",
    "max_runtime",
    "channels",
    "depends_on",
    "realert",
    "escalation",
    "alert_after_failures",
    "slow_factor",
    "slow",
    "slow_min",
    "min_duration",
    "manual_resume",
];

/// The export of what `reg` holds.
pub fn render(reg: &Registry, with_secrets: bool) -> String {
    let checks: Vec<&Settings> = reg.checks.values().map(|e| &e.settings).collect();
    let channels: Vec<(&str, &ChannelKind)> = reg
        .channels
        .iter()
        .map(|(n, e)| (n.as_str(), &e.kind))
        .collect();
    let mut out = render_parts(&checks, &channels, with_secrets);
    for entry in reg.windows.values() {
        out.push_str("\n[[maintenance]]\n");
        write_table(&mut out, &window_table(&entry.window));
    }
    out
}

/// The keys of a `[[maintenance]]` table in the order they are written.
const WINDOW_KEYS: [&str; 9] = [
    "name",
    "checks",
    "tags",
    "start",
    "end",
    "cron",
    "oncalendar",
    "duration",
    "tz",
];

/// A maintenance window as a `[[maintenance]]` table.
pub fn window_table(window: &super::maintenance::Window) -> Vec<(String, Value)> {
    let Ok(Value::Object(mut map)) = serde_json::to_value(window.to_spec()) else {
        return Vec::new();
    };
    let mut table = Vec::new();
    for key in WINDOW_KEYS {
        if let Some(value) = map.remove(key).filter(|v| !v.is_null()) {
            table.push((key.to_string(), value));
        }
    }
    table.extend(map);
    table
}

/// The export of these checks and channels.
pub fn render_parts(
    checks: &[&Settings],
    channels: &[(&str, &ChannelKind)],
    with_secrets: bool,
) -> String {
    let mut checks: Vec<Vec<(String, Value)>> = checks.iter().map(|s| check_table(s)).collect();
    checks.sort_by(|a, b| a[0].1.as_str().cmp(&b[0].1.as_str()));
    let mut channels: Vec<Vec<(String, Value)>> = channels
        .iter()
        .map(|(name, kind)| channel_table(name, kind, with_secrets))
        .collect();
    channels.sort_by(|a, b| a[0].1.as_str().cmp(&b[0].1.as_str()));
    let masked = channels
        .iter()
        .flatten()
        .any(|(_, v)| v.to_string().contains(MASK));

    let mut out = format!(
        "# hb config export: {} and {}.\n# Use it as hb serve's config file (--config FILE): it makes them again, uuids included.\n",
        super::plural(checks.len(), "check"),
        super::plural(channels.len(), "channel"),
    );
    if masked {
        out.push_str(&format!(
            "# \"{MASK}\" stands for a stored secret and keeps the monitor's value; `hb config export --with-secrets` writes them.\n"
        ));
    }
    for table in &channels {
        out.push_str("\n[[channel]]\n");
        write_table(&mut out, table);
    }
    for table in &checks {
        out.push_str("\n[[check]]\n");
        write_table(&mut out, table);
    }
    out
}

fn write_table(out: &mut String, table: &[(String, Value)]) {
    for (key, value) in table {
        out.push_str(&toml_key(key));
        out.push_str(" = ");
        out.push_str(&toml_value(value));
        out.push('\n');
    }
}

/// A check's settings as a `[[check]]` table: what differs from the defaults, in
/// [`CHECK_KEYS`] order.
pub fn check_table(settings: &Settings) -> Vec<(String, Value)> {
    let Ok(Value::Object(mut map)) = serde_json::to_value(settings.to_spec()) else {
        return Vec::new();
    };
    map.retain(|key, value| !is_default(key, value));
    let mut table = Vec::new();
    for key in CHECK_KEYS {
        if let Some(value) = map.remove(key) {
            table.push((key.to_string(), value));
        }
    }
    // Keys this list does not know yet, in a stable order.
    table.extend(map);
    table
}

/// Whether a check's setting is what leaving it out gives.
fn is_default(key: &str, value: &Value) -> bool {
    match (key, value) {
        (_, Value::Null) => true,
        ("description" | "owner", Value::String(s)) => s.is_empty(),
        ("tags" | "escalation" | "depends_on", Value::Array(items)) => items.is_empty(),
        ("slow_factor", Value::Number(n)) => n.as_f64() == Some(DEFAULT_SLOW_FACTOR),
        ("slow", Value::Bool(b)) => *b,
        ("manual_resume", Value::Bool(b)) => !*b,
        _ => false,
    }
}

/// A channel as a `[[channel]]` table: `name`, `kind`, then its settings (secrets
/// masked unless `with_secrets`).
pub fn channel_table(name: &str, kind: &ChannelKind, with_secrets: bool) -> Vec<(String, Value)> {
    let json = if with_secrets {
        kind.to_json()
    } else {
        kind.masked_json()
    };
    let mut table = vec![("name".to_string(), Value::from(name))];
    if let Value::Object(map) = json {
        let mut map: Map<String, Value> = map;
        if let Some(kind) = map.remove("kind") {
            table.push(("kind".into(), kind));
        }
        table.extend(map.into_iter().filter(|(_, v)| !v.is_null()));
    }
    table
}

/// A key as TOML writes it: bare when it can be.
pub fn toml_key(key: &str) -> String {
    let bare = !key.is_empty()
        && key
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
    if bare {
        key.to_string()
    } else {
        toml_string(key)
    }
}

/// A TOML basic string.
pub fn toml_string(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('"');
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            c if c.is_control() => out.push_str(&format!("\\u{:04X}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// A JSON value as an inline TOML value (TOML has no null: callers leave those out).
pub fn toml_value(value: &Value) -> String {
    match value {
        Value::Null => "\"\"".into(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => match (n.as_i64(), n.as_u64(), n.as_f64()) {
            (Some(i), _, _) => i.to_string(),
            (None, Some(u), _) => u.to_string(),
            (None, None, Some(f)) => {
                let text = f.to_string();
                if text.contains(['.', 'e', 'E', 'n', 'i']) {
                    text
                } else {
                    format!("{text}.0")
                }
            }
            _ => n.to_string(),
        },
        Value::String(s) => toml_string(s),
        Value::Array(items) => {
            let items: Vec<String> = items
                .iter()
                .filter(|v| !v.is_null())
                .map(toml_value)
                .collect();
            format!("[{}]", items.join(", "))
        }
        Value::Object(map) => {
            let entries: Vec<String> = map
                .iter()
                .filter(|(_, v)| !v.is_null())
                .map(|(k, v)| format!("{} = {}", toml_key(k), toml_value(v)))
                .collect();
            if entries.is_empty() {
                "{}".into()
            } else {
                format!("{{{}}}", entries.join(", "))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::serve::check::parse_spec;
    use serde_json::json;

    fn now() -> jiff::Timestamp {
        "2026-01-01T00:00:00Z".parse().unwrap()
    }

    fn settings(spec: Value) -> Settings {
        Settings::from_spec(&parse_spec(spec).unwrap(), now(), true).unwrap()
    }

    #[test]
    fn values_are_written_as_toml_reads_them() {
        let value = json!({
            "s": "a \"quoted\" \\ line\nnext\u{1}",
            "n": 3, "f": 2.5, "whole": 4.0, "b": false,
            "list": ["x", "y"], "table": {"X-Key": "k", "two words": 1},
            "empty": {}, "none": null,
        });
        let Value::Object(map) = &value else {
            unreachable!()
        };
        let mut text = String::new();
        let table: Vec<(String, Value)> = map.clone().into_iter().collect();
        write_table(&mut text, &table);
        let back: toml::Table = toml::from_str(&text).unwrap_or_else(|e| panic!("{e}: {text}"));
        let back = serde_json::to_value(back).unwrap();
        let mut expected = value.clone();
        expected["none"] = json!("");
        assert_eq!(back, expected, "{text}");
        assert!(text.contains("whole = 4.0\n"), "{text}");
        assert!(text.contains("\"two words\" = 1"), "{text}");
    }

    #[test]
    fn a_check_is_written_with_what_differs_from_the_defaults() {
        let s = settings(json!({
            "name": "nightly-backup", "uuid": "5b0b3b5e-4c1a-4d7e-9f2a-0c6a1d2e3f40",
            "cron": "0 3 * * *", "tz": "Europe/Paris", "grace_period": "1h",
            "channels": ["ops"], "escalation": [{"after": "30m", "channels": ["pager"]}],
            "slow_factor": 2.5, "manual_resume": true,
        }));
        let mut text = String::new();
        write_table(&mut text, &check_table(&s));
        assert_eq!(
            text,
            "name = \"nightly-backup\"\n\
             uuid = \"5b0b3b5e-4c1a-4d7e-9f2a-0c6a1d2e3f40\"\n\
             cron = \"0 3 * * *\"\n\
             tz = \"Europe/Paris\"\n\
             grace_period = \"1h\"\n\
             channels = [\"ops\"]\n\
             escalation = [{after = \"30m\", channels = [\"pager\"]}]\n\
             slow_factor = 2.5\n\
             manual_resume = true\n"
        );
        let plain = settings(json!({"name": "a", "interval": "90m"}));
        let table = check_table(&plain);
        let keys: Vec<&str> = table.iter().map(|(k, _)| k.as_str()).collect();
        assert_eq!(
            keys,
            ["name", "uuid", "interval"],
            "no channels: every channel"
        );
        let none = settings(json!({"name": "b", "interval": "1h", "channels": []}));
        assert!(
            check_table(&none)
                .iter()
                .any(|(k, v)| k == "channels" && v == &json!([]))
        );
    }

    #[test]
    fn an_export_reads_back_as_the_same_settings_and_is_stable() {
        let a = settings(
            json!({"name": "b-job", "interval": "1d", "tags": ["db", "nightly"],
                                "description": "dump\n\"all\"", "owner": "ops", "slow": false}),
        );
        let b = settings(
            json!({"name": "a-job", "cron": "*/5 * * * *", "max_runtime": "2m",
                                "realert": "1h", "alert_after_failures": 3, "slow_min": "0s",
                                "min_duration": "1s"}),
        );
        let hook =
            ChannelKind::from_json(&json!({"kind": "webhook", "url": "https://h.example/x?k=1",
            "headers": {"Authorization": "Bearer t0k"}, "body": "$JSON"}))
            .unwrap();
        let text = render_parts(&[&a, &b], &[("ops", &hook)], true);
        assert!(
            text.find("a-job").unwrap() < text.find("b-job").unwrap(),
            "{text}"
        );
        assert!(text.contains("t0k"), "{text}");
        let file = crate::serve::config_file::parse(&text, now())
            .unwrap_or_else(|e| panic!("{e:?}: {text}"));
        assert_eq!(file.checks.len(), 2);
        let again: Vec<Settings> = file
            .checks
            .iter()
            .map(|spec| Settings::from_spec(spec, now(), true).unwrap())
            .collect();
        let kinds: Vec<ChannelKind> = file
            .channels
            .iter()
            .map(|(_, v)| ChannelKind::from_json(v).unwrap())
            .collect();
        let refs: Vec<&Settings> = again.iter().collect();
        let second = render_parts(&refs, &[("ops", &kinds[0])], true);
        assert_eq!(second, text);
        for (before, after) in [(&b, &again[0]), (&a, &again[1])] {
            assert_eq!(
                serde_json::to_value(before.to_spec()).unwrap(),
                serde_json::to_value(after.to_spec()).unwrap()
            );
        }
        let masked = render_parts(&[], &[("ops", &hook)], false);
        assert!(!masked.contains("t0k"), "{masked}");
        assert!(masked.contains(MASK), "{masked}");
    }
}
