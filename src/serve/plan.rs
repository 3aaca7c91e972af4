//! `POST /api/v1/config/plan` (`hb config plan`): what loading a config file would
//! create, change and unmanage, worked out by running the very same
//! [`Registry::apply_config`] on a copy of the checks and channels, and comparing. The
//! running monitor is not touched.

use serde_json::{Map, Value, json};
use std::collections::BTreeSet;

use super::config_file::ServeFile;
use super::registry::Registry;

/// What loading a file would do.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct Plan {
    pub create: Vec<Value>,
    pub change: Vec<Value>,
    pub unmanage: Vec<Value>,
    /// Entries the monitor would refuse (e.g. a check naming an unknown channel).
    pub problems: Vec<String>,
}

impl Plan {
    pub fn to_json(&self) -> Value {
        json!({
            "create": self.create,
            "change": self.change,
            "unmanage": self.unmanage,
            "problems": self.problems,
        })
    }
}

/// The plan of loading `file` into `reg` at `now`.
pub fn plan(reg: &Registry, file: &ServeFile, now: jiff::Timestamp) -> Plan {
    let mut after = reg.scratch_copy();
    let mut ops = Vec::new();
    after.begin_change(0);
    let mut problems =
        after.apply_config(file.channels.clone(), file.checks.clone(), now, &mut ops);
    problems.extend(after.apply_windows(file.windows.clone(), now, &mut ops));
    after.end_change();
    let mut plan = Plan {
        problems,
        ..Plan::default()
    };

    for (name, new) in &after.channels {
        let entry = |changes: Option<Map<String, Value>>| {
            let mut e = json!({"type": "channel", "name": name, "kind": new.kind.kind_name()});
            if let Some(changes) = changes {
                e["changes"] = Value::Object(changes);
            }
            e
        };
        match reg.channels.get(name) {
            None => plan.create.push(entry(None)),
            Some(old) if old.managed && !new.managed => plan.unmanage.push(entry(None)),
            Some(old) => {
                let mut changes = if old.kind == new.kind {
                    Map::new()
                } else {
                    differences(
                        &old.kind.to_json(),
                        &new.kind.to_json(),
                        &old.kind.masked_json(),
                        &new.kind.masked_json(),
                    )
                };
                if !old.managed && new.managed {
                    changes.insert("managed".into(), json!({"from": false, "to": true}));
                }
                if !changes.is_empty() {
                    plan.change.push(entry(Some(changes)));
                }
            }
        }
    }

    let fixed: BTreeSet<&str> = file
        .checks
        .iter()
        .filter(|s| s.uuid.is_some())
        .filter_map(|s| s.name.as_deref())
        .collect();
    let mut checks: Vec<_> = after.checks.values().collect();
    checks.sort_by(|a, b| a.settings.name.cmp(&b.settings.name));
    for new in checks {
        let s = &new.settings;
        let uuid = s.uuid.to_string();
        match reg.checks.get(&s.uuid) {
            None => {
                let mut e = json!({"type": "check", "name": s.name});
                // A uuid the file does not fix is drawn when the check is made.
                if fixed.contains(s.name.as_str()) {
                    e["uuid"] = json!(uuid);
                }
                plan.create.push(e);
            }
            Some(old) if old.settings.managed && !s.managed => {
                plan.unmanage
                    .push(json!({"type": "check", "name": s.name, "uuid": uuid}));
            }
            Some(old) => {
                let before = spec_json(&old.settings);
                let now_spec = spec_json(s);
                let mut changes = differences(&before, &now_spec, &before, &now_spec);
                if !old.settings.managed && s.managed {
                    changes.insert("managed".into(), json!({"from": false, "to": true}));
                }
                if !changes.is_empty() {
                    plan.change.push(json!({
                        "type": "check", "name": s.name, "uuid": uuid, "changes": changes,
                    }));
                }
            }
        }
    }
    for (name, new) in &after.windows {
        let spec = |w: &super::maintenance::Window| {
            serde_json::to_value(w.to_spec()).unwrap_or(Value::Null)
        };
        let entry = |changes: Option<Map<String, Value>>| {
            let mut e = json!({"type": "window", "name": name});
            if let Some(changes) = changes {
                e["changes"] = Value::Object(changes);
            }
            e
        };
        match reg.windows.get(name) {
            None => plan.create.push(entry(None)),
            Some(old) if old.managed && !new.managed => plan.unmanage.push(entry(None)),
            Some(old) => {
                let (before, now_spec) = (spec(&old.window), spec(&new.window));
                let mut changes = differences(&before, &now_spec, &before, &now_spec);
                if !old.managed && new.managed {
                    changes.insert("managed".into(), json!({"from": false, "to": true}));
                }
                if !changes.is_empty() {
                    plan.change.push(entry(Some(changes)));
                }
            }
        }
    }
    let order = |e: &Value| {
        (
            e["type"].as_str().unwrap_or("").to_string(),
            e["name"].as_str().unwrap_or("").to_string(),
        )
    };
    for list in [&mut plan.create, &mut plan.change, &mut plan.unmanage] {
        list.sort_by_key(order);
    }
    plan
}

fn spec_json(settings: &super::check::Settings) -> Value {
    serde_json::to_value(settings.to_spec()).unwrap_or(Value::Null)
}

/// `{key: {"from", "to"}}` for each key whose value differs between `old` and `new`,
/// shown as `old_shown` and `new_shown` have them (secrets masked).
fn differences(
    old: &Value,
    new: &Value,
    old_shown: &Value,
    new_shown: &Value,
) -> Map<String, Value> {
    let empty = Map::new();
    let (old, new) = (
        old.as_object().unwrap_or(&empty),
        new.as_object().unwrap_or(&empty),
    );
    let keys: BTreeSet<&String> = old.keys().chain(new.keys()).collect();
    let mut changes = Map::new();
    for key in keys {
        let (a, b) = (
            old.get(key).unwrap_or(&Value::Null),
            new.get(key).unwrap_or(&Value::Null),
        );
        if a != b {
            changes.insert(
                key.clone(),
                json!({
                    "from": old_shown.get(key).cloned().unwrap_or(Value::Null),
                    "to": new_shown.get(key).cloned().unwrap_or(Value::Null),
                }),
            );
        }
    }
    changes
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::serve::check::parse_spec;

    fn now() -> jiff::Timestamp {
        "2026-01-01T00:00:00Z".parse().unwrap()
    }

    fn file(text: &str) -> ServeFile {
        crate::serve::config_file::parse(text, now()).unwrap()
    }

    #[test]
    fn a_plan_says_what_would_change_and_changes_nothing() {
        let mut reg = Registry::default();
        let mut ops = Vec::new();
        reg.begin_change(1);
        reg.apply_config(
            file("[[channel]]\nname = \"ops\"\nkind = \"webhook\"\nurl = \"https://h.example/a?token=s3cret\"\n[[channel]]\nname = \"old\"\nkind = \"slack\"\nurl = \"https://hooks.slack.com/x\"\n\n[[check]]\nname = \"kept\"\ninterval = \"1h\"\n[[check]]\nname = \"edited\"\ninterval = \"1h\"\n[[check]]\nname = \"dropped\"\ninterval = \"1h\"\n").channels,
            file("[[check]]\nname = \"kept\"\ninterval = \"1h\"\n[[check]]\nname = \"edited\"\ninterval = \"1h\"\n[[check]]\nname = \"dropped\"\ninterval = \"1h\"\n").checks,
            now(),
            &mut ops,
        );
        let by_api = parse_spec(json!({"name": "adopted", "interval": "1d"})).unwrap();
        reg.create(&by_api, now(), false, &mut ops).unwrap();
        reg.end_change();
        let before: Vec<Value> = reg.list(now(), "http://h", None, None);

        let new = file(
            "[[channel]]\nname = \"ops\"\nkind = \"webhook\"\nurl = \"https://h.example/a?token=n3w\"\n\
             [[check]]\nname = \"kept\"\ninterval = \"1h\"\n\
             [[check]]\nname = \"edited\"\ninterval = \"2h\"\ngrace_period = \"5m\"\n\
             [[check]]\nname = \"adopted\"\ninterval = \"1d\"\n\
             [[check]]\nname = \"fresh\"\nuuid = \"5b0b3b5e-4c1a-4d7e-9f2a-0c6a1d2e3f40\"\ninterval = \"1h\"\n\
             [[check]]\nname = \"fresh2\"\ninterval = \"1h\"\n",
        );
        let plan = plan(&reg, &new, now());
        assert_eq!(
            plan.create,
            vec![
                json!({"type": "check", "name": "fresh", "uuid": "5b0b3b5e-4c1a-4d7e-9f2a-0c6a1d2e3f40"}),
                json!({"type": "check", "name": "fresh2"}),
            ]
        );
        let names = |list: &[Value]| {
            list.iter()
                .map(|e| {
                    format!(
                        "{} {}",
                        e["type"].as_str().unwrap(),
                        e["name"].as_str().unwrap()
                    )
                })
                .collect::<Vec<_>>()
        };
        assert_eq!(
            names(&plan.change),
            ["channel ops", "check adopted", "check edited"]
        );
        assert_eq!(names(&plan.unmanage), ["channel old", "check dropped"]);
        let edited = &plan.change[2]["changes"];
        assert_eq!(edited["interval"], json!({"from": "1h", "to": "2h"}));
        assert_eq!(edited["grace_period"], json!({"from": null, "to": "5m"}));
        assert_eq!(
            plan.change[1]["changes"]["managed"],
            json!({"from": false, "to": true})
        );
        let shown = plan.change[0].to_string();
        assert!(
            !shown.contains("s3cret") && !shown.contains("n3w"),
            "{shown}"
        );
        assert!(plan.problems.is_empty(), "{:?}", plan.problems);

        // Nothing changed.
        assert_eq!(reg.list(now(), "http://h", None, None), before);
        assert!(reg.channels["old"].managed);
        assert!(reg.find_by_slug("fresh").is_none());

        // Refusals are the monitor's own.
        let bad = file("[[check]]\nname = \"x\"\ninterval = \"1h\"\nchannels = [\"nope\"]\n");
        let plan = super::plan(&reg, &bad, now());
        assert!(plan.problems[0].contains("nope"), "{:?}", plan.problems);
        assert!(plan.create.is_empty());
    }
}
