//! `hb status`: one screen — how many checks are in each status, then a line for each
//! check that is not up. Exit 0 when none is down, 1 when some are.

use jiff::Timestamp;
use serde_json::{Map, Value, json};

use super::table::{Cell, Style, Table, relative, time_field};
use super::{Client, colour, print, print_json};
use crate::cli::StatusArgs;
use crate::config::ConfigSource;
use crate::error::Result;

/// Worst first.
const ORDER: [&str; 6] = ["down", "late", "running", "new", "paused", "up"];

pub fn cmd_status(args: StatusArgs, source: &ConfigSource) -> Result<i32> {
    let client = Client::new(&args.client, source)?;
    let answer = client.get("/api/v1/heartbeats")?;
    let checks = answer["heartbeats"].as_array().cloned().unwrap_or_default();
    let summary = Summary::of(&checks);
    if args.json {
        print_json(&summary.to_json())?;
    } else {
        print(&summary.render(Timestamp::now(), colour()))?;
    }
    Ok(if summary.down() > 0 { 1 } else { 0 })
}

/// The counts and the checks not up, worst first.
#[derive(Debug, Default)]
pub struct Summary {
    pub counts: Vec<(String, usize)>,
    pub not_up: Vec<Value>,
    pub total: usize,
}

fn rank(status: &str) -> usize {
    ORDER
        .iter()
        .position(|s| *s == status)
        .unwrap_or(ORDER.len())
}

impl Summary {
    pub fn of(checks: &[Value]) -> Summary {
        let status = |c: &Value| c["status"].as_str().unwrap_or("?").to_string();
        let mut counts: Vec<(String, usize)> = Vec::new();
        for check in checks {
            let s = status(check);
            match counts.iter_mut().find(|(name, _)| *name == s) {
                Some((_, n)) => *n += 1,
                None => counts.push((s, 1)),
            }
        }
        counts.sort_by_key(|(s, _)| rank(s));
        let mut not_up: Vec<Value> = checks
            .iter()
            .filter(|c| status(c) != "up")
            .cloned()
            .collect();
        not_up.sort_by(|a, b| {
            (rank(&status(a)), a["name"].as_str()).cmp(&(rank(&status(b)), b["name"].as_str()))
        });
        Summary {
            counts,
            not_up,
            total: checks.len(),
        }
    }

    pub fn down(&self) -> usize {
        self.counts
            .iter()
            .find(|(s, _)| s == "down")
            .map_or(0, |(_, n)| *n)
    }

    pub fn to_json(&self) -> Value {
        let mut counts = Map::new();
        for status in ORDER {
            let n = self
                .counts
                .iter()
                .find(|(s, _)| s == status)
                .map_or(0, |(_, n)| *n);
            counts.insert(status.into(), json!(n));
        }
        json!({"total": self.total, "counts": counts, "heartbeats": self.not_up})
    }

    pub fn render(&self, now: Timestamp, colour: bool) -> String {
        if self.total == 0 {
            return "no checks yet; add one with: hb checks add NAME --interval 1d\n".into();
        }
        let counts: Vec<String> = self
            .counts
            .iter()
            .map(|(s, n)| {
                let text = format!("{n} {s}");
                match (colour, s.as_str()) {
                    (true, "down") => format!("\x1b[1;31m{text}\x1b[0m"),
                    (true, "late") => format!("\x1b[33m{text}\x1b[0m"),
                    _ => text,
                }
            })
            .collect();
        let mut out = format!(
            "{}: {}\n",
            crate::serve::plural(self.total, "check"),
            counts.join(", ")
        );
        if self.not_up.is_empty() {
            return out;
        }
        out.push('\n');
        let mut table = Table::new(&[]);
        for check in &self.not_up {
            let status = check["status"].as_str().unwrap_or("?");
            table.push(vec![
                Cell::styled(status, Style::of_status(status)),
                Cell::new(check["name"].as_str().unwrap_or_default()),
                Cell::new(detail(check, status, now)),
            ]);
        }
        out.push_str(&table.render(colour));
        out
    }
}

/// Why the check is where it is, in a few words.
fn detail(check: &Value, status: &str, now: Timestamp) -> String {
    let last = match check["last_ping"].as_str() {
        Some(_) => format!("last ping {}", time_field(&check["last_ping"], now)),
        None => "never pinged".into(),
    };
    match status {
        "late" => format!(
            "was due {}, goes down {}; {last}",
            time_field(&check["next_due"], now),
            time_field(&check["alert_at"], now)
        ),
        "running" => match check["last_start"].as_str().and_then(|t| t.parse().ok()) {
            Some(start) => format!("started {}", relative(start, now)),
            None => last,
        },
        _ => last,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_then_the_checks_not_up_worst_first() {
        let now: Timestamp = "2026-01-01T12:00:00Z".parse().unwrap();
        let checks = [
            json!({"name": "a", "status": "up", "last_ping": "2026-01-01T11:00:00Z"}),
            json!({"name": "z", "status": "down", "last_ping": "2026-01-01T09:00:00Z"}),
            json!({"name": "n", "status": "new", "last_ping": null}),
            json!({"name": "l", "status": "late", "last_ping": "2026-01-01T10:00:00Z",
                   "next_due": "2026-01-01T11:58:00Z", "alert_at": "2026-01-01T12:10:00Z"}),
            json!({"name": "b", "status": "down", "last_ping": null}),
        ];
        let summary = Summary::of(&checks);
        assert_eq!(summary.down(), 2);
        assert_eq!(
            summary.render(now, false),
            "5 checks: 2 down, 1 late, 1 new, 1 up\n\
             \n\
             down  b  never pinged\n\
             down  z  last ping 3h ago\n\
             late  l  was due 2m ago, goes down in 10m; last ping 2h ago\n\
             new   n  never pinged\n"
        );
        let json = summary.to_json();
        assert_eq!(json["counts"]["down"], 2);
        assert_eq!(json["counts"]["paused"], 0);
        assert_eq!(json["heartbeats"].as_array().unwrap().len(), 4);
        let fine = Summary::of(&checks[..1]);
        assert_eq!(fine.down(), 0);
        assert_eq!(fine.render(now, false), "1 check: 1 up\n");
    }
}
