//! `hb config export | check | plan`: config as code, both ways.

use serde_json::Value;
use std::collections::BTreeSet;
use std::path::Path;

use super::{Body, Client, print, print_json};
use crate::cli::{ConfigArgs, ConfigCommand};
use crate::config::ConfigSource;
use crate::error::{Error, Result};
use crate::serve::config_file::{self, KeyLines, ServeFile};

pub fn cmd_config(args: ConfigArgs, source: &ConfigSource) -> Result<i32> {
    match args.command {
        ConfigCommand::Export { with_secrets } => {
            let client = Client::new(&args.client, source)?;
            let path = if with_secrets {
                "/api/v1/config?secrets=1"
            } else {
                "/api/v1/config"
            };
            print(&client.call("GET", path, None)?)?;
            Ok(0)
        }
        ConfigCommand::Check { file } => check(&file, &args.client, source),
        ConfigCommand::Plan { file, json } => {
            let (text, _) = match read_valid(&file) {
                Ok(read) => read,
                Err(problem) => return Ok(usage(&problem)),
            };
            let client = Client::new(&args.client, source)?;
            let plan = client.json("POST", "/api/v1/config/plan", Some(Body::Toml(&text)))?;
            if json {
                print_json(&plan)?;
            } else {
                print(&plan_text(&plan))?;
            }
            let problems = plan["problems"].as_array().map_or(0, Vec::len);
            if problems > 0 {
                return Err(Error::Failed(anyhow::anyhow!(
                    "the monitor at {} would refuse {} of {}; fix the file",
                    client.base(),
                    if problems == 1 {
                        "one entry".to_string()
                    } else {
                        format!("{problems} entries")
                    },
                    file.display()
                )));
            }
            Ok(0)
        }
    }
}

/// The file's text, read and validated as `hb serve` would; `Err` is the problem as
/// `file:line: problem`.
fn read_valid(path: &Path) -> std::result::Result<(String, ServeFile), String> {
    let shown = path.display().to_string();
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("{shown}: cannot read it ({e}); check the path"))?;
    let file =
        config_file::parse(&text, jiff::Timestamp::now()).map_err(|p| p.compiler_style(&shown))?;
    Ok((text, file))
}

/// Says a problem of the file as compilers do (`file:line: problem`, which editors
/// jump to); exit 2.
fn usage(problem: &str) -> i32 {
    eprintln!("{problem}");
    crate::exit::USAGE
}

/// A channel name a check uses that the file does not declare: the check's name, the
/// line, and the channel.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unknown {
    pub check: String,
    pub line: Option<usize>,
    pub channel: String,
}

/// The channel names the file's checks use but the file does not declare.
pub fn undeclared_channels(text: &str, file: &ServeFile) -> Vec<Unknown> {
    let declared: BTreeSet<&str> = file.channels.iter().map(|(n, _)| n.as_str()).collect();
    let lines = KeyLines::new(text);
    let mut unknown = Vec::new();
    for (index, spec) in file.checks.iter().enumerate() {
        let check = spec.name.clone().unwrap_or_default();
        let mut named: Vec<(String, &String)> = spec
            .channels
            .iter()
            .flatten()
            .enumerate()
            .map(|(i, c)| (format!("channels[{i}]"), c))
            .collect();
        for (i, step) in spec.escalation.iter().flatten().enumerate() {
            named.extend(
                step.channels
                    .iter()
                    .map(|c| (format!("escalation[{i}]"), c)),
            );
        }
        for (key, channel) in named {
            if !declared.contains(channel.as_str()) {
                unknown.push(Unknown {
                    check: check.clone(),
                    line: lines.line("check", index, &key),
                    channel: channel.clone(),
                });
            }
        }
    }
    unknown
}

/// Scalar keys under `[checks]` (the wrapper's aliases) that are top-level keys: most
/// likely written below the `[checks]` header by mistake.
pub fn misplaced_keys(text: &str) -> Vec<(usize, String)> {
    const TOP: [&str; 6] = ["server", "ping_key", "api_key", "listen", "db", "base_url"];
    let mut found = Vec::new();
    let mut in_checks = false;
    for (i, line) in text.lines().enumerate() {
        let code = line.trim();
        if code.starts_with('[') {
            in_checks = code == "[checks]";
            continue;
        }
        if !in_checks {
            continue;
        }
        if let Some((key, _)) = code.split_once('=') {
            let key = key.trim();
            if TOP.contains(&key) {
                found.push((
                    i + 1,
                    format!(
                        "warning: `{key}` is under [checks], where it is an alias named {key:?}; if it is hb's {key} setting, move it above the first [table]"
                    ),
                ));
            }
        }
    }
    found
}

fn check(path: &Path, options: &crate::cli::ClientOptions, source: &ConfigSource) -> Result<i32> {
    let shown = path.display().to_string();
    let (text, file) = match read_valid(path) {
        Ok(read) => read,
        Err(problem) => return Ok(usage(&problem)),
    };
    for (line, warning) in misplaced_keys(&text) {
        eprintln!("{shown}:{line}: {warning}");
    }
    let mut unknown = undeclared_channels(&text, &file);
    let mut note = String::new();
    if !unknown.is_empty() {
        // Channels made through the API are fine too: ask the monitor, when it answers.
        let asked = Client::new(options, source).and_then(|client| {
            let answer = client.get("/api/v1/channels")?;
            Ok((client.base().to_string(), answer))
        });
        match asked {
            Ok((base, answer)) => {
                let known: BTreeSet<String> = answer["channels"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(|c| c["name"].as_str().map(str::to_string))
                    .collect();
                unknown.retain(|u| !known.contains(&u.channel));
                note =
                    format!("neither declared in this file nor a channel of the monitor at {base}");
            }
            Err(e) => {
                note = format!(
                    "not declared in this file (the monitor's channels were not checked: {e})"
                );
            }
        }
    }
    for u in &unknown {
        let line = u.line.map(|n| format!(":{n}")).unwrap_or_default();
        eprintln!(
            "{shown}{line}: [[check]] {:?}: channel {:?} is {note}",
            u.check, u.channel
        );
    }
    if !unknown.is_empty() {
        return Ok(crate::exit::USAGE);
    }
    print(&format!(
        "{shown}: ok ({}, {})\n",
        crate::serve::plural(file.checks.len(), "check"),
        crate::serve::plural(file.channels.len(), "channel")
    ))?;
    Ok(0)
}

/// A plan for people: one line per check or channel.
pub fn plan_text(plan: &Value) -> String {
    let mut out = String::new();
    let entries = |key: &str| plan[key].as_array().cloned().unwrap_or_default();
    let value_text = |v: &Value| match v {
        Value::Null => "(unset)".to_string(),
        Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    for (key, verb) in [
        ("create", "create"),
        ("change", "change"),
        ("unmanage", "unmanage"),
    ] {
        for entry in entries(key) {
            let mut line = format!(
                "{verb:<9}{:<8} {}",
                entry["type"].as_str().unwrap_or_default(),
                entry["name"].as_str().unwrap_or_default()
            );
            if let Some(changes) = entry["changes"].as_object() {
                let parts: Vec<String> = changes
                    .iter()
                    .map(|(k, c)| {
                        format!("{k} {} → {}", value_text(&c["from"]), value_text(&c["to"]))
                    })
                    .collect();
                line.push_str(": ");
                line.push_str(&parts.join("; "));
            }
            out.push_str(&line);
            out.push('\n');
        }
    }
    for problem in entries("problems") {
        out.push_str(&format!(
            "refused  {}\n",
            problem.as_str().unwrap_or_default()
        ));
    }
    if out.is_empty() {
        out.push_str("nothing to do: the monitor already has what the file declares\n");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn undeclared_channels_are_found_with_their_lines() {
        let text = "[[channel]]\nname = \"ops\"\nkind = \"webhook\"\nurl = \"https://h.example/x\"\n\n\
                    [[check]]\nname = \"a\"\ninterval = \"1h\"\nchannels = [\"ops\", \"pager\"]\n\n\
                    [[check]]\nname = \"b\"\ninterval = \"1h\"\nescalation = [\n  {after = \"1h\", channels = [\"boss\"]},\n]\n";
        let file = config_file::parse(text, jiff::Timestamp::now()).unwrap();
        assert_eq!(
            undeclared_channels(text, &file),
            vec![
                Unknown {
                    check: "a".into(),
                    line: Some(9),
                    channel: "pager".into()
                },
                Unknown {
                    check: "b".into(),
                    line: Some(15),
                    channel: "boss".into()
                },
            ]
        );
    }

    #[test]
    fn a_top_level_key_under_checks_is_flagged() {
        let text = "ping_key = \"k\"\n[checks]\nbackup = \"uuid\"\nserver = \"http://x\"\n";
        let found = misplaced_keys(text);
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].0, 4);
        assert!(found[0].1.contains("server"), "{found:?}");
    }

    #[test]
    fn a_plan_reads_one_line_per_thing() {
        let plan = json!({
            "create": [{"type": "check", "name": "fresh"}],
            "change": [{"type": "check", "name": "edited", "uuid": "u",
                        "changes": {"grace_period": {"from": null, "to": "5m"},
                                    "interval": {"from": "1h", "to": "2h"}}}],
            "unmanage": [{"type": "channel", "name": "old", "kind": "slack"}],
            "problems": ["[[check]] \"x\": channels: there is no channel named \"nope\""],
        });
        assert_eq!(
            plan_text(&plan),
            "create   check    fresh\n\
             change   check    edited: grace_period (unset) → 5m; interval 1h → 2h\n\
             unmanage channel  old\n\
             refused  [[check]] \"x\": channels: there is no channel named \"nope\"\n"
        );
        let empty = json!({"create": [], "change": [], "unmanage": [], "problems": []});
        assert!(plan_text(&empty).starts_with("nothing to do"));
    }
}
