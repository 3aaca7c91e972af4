//! `hb serve`'s log: one line per event on stderr — a status change, an alert
//! delivered or failed, a config reload, the start-up summary, a problem — as text
//! (`hb: …`, the default) or as one JSON object a line (`--log-format json`).
//!
//! Lines are built from names, uuids, statuses, counts and error sentences that are
//! already free of secrets (delivery errors name hosts, never a URL's path or query);
//! no caller passes a key, a token or a ping body.

use serde_json::Value;
use std::sync::atomic::{AtomicBool, Ordering};

/// Whether lines are JSON (set once at start; text until then).
static JSON: AtomicBool = AtomicBool::new(false);

/// How lines are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Format {
    #[default]
    Text,
    Json,
}

pub fn set_format(format: Format) {
    JSON.store(format == Format::Json, Ordering::Relaxed);
}

fn format() -> Format {
    if JSON.load(Ordering::Relaxed) {
        Format::Json
    } else {
        Format::Text
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Level {
    Info,
    Warn,
    Error,
}

impl Level {
    fn as_str(self) -> &'static str {
        match self {
            Level::Info => "info",
            Level::Warn => "warn",
            Level::Error => "error",
        }
    }
}

/// One line: what happened (`event`, a short fixed word), the sentence for people,
/// and fields for machines.
#[derive(Debug, Clone)]
pub struct Line {
    pub level: Level,
    pub event: &'static str,
    pub message: String,
    pub fields: Vec<(&'static str, Value)>,
}

impl Line {
    pub fn new(level: Level, event: &'static str, message: impl Into<String>) -> Line {
        Line {
            level,
            event,
            message: message.into(),
            fields: Vec::new(),
        }
    }

    pub fn field(mut self, key: &'static str, value: impl Into<Value>) -> Line {
        self.fields.push((key, value.into()));
        self
    }

    /// The line as written in `format`, without its newline; `time` is RFC 3339.
    pub fn render(&self, format: Format, time: &str) -> String {
        match format {
            Format::Text => format!("hb: {}", self.message),
            Format::Json => {
                // Written by hand so the line's own keys come first, then the fields in
                // the order they were given (a key given twice counts once).
                let own: [(&str, Value); 4] = [
                    ("time", Value::from(time)),
                    ("level", Value::from(self.level.as_str())),
                    ("event", Value::from(self.event)),
                    ("message", Value::from(self.message.as_str())),
                ];
                let mut seen = std::collections::HashSet::new();
                let mut parts = Vec::new();
                for (key, value) in own
                    .iter()
                    .map(|(k, v)| (*k, v))
                    .chain(self.fields.iter().map(|(k, v)| (*k, v)))
                {
                    if seen.insert(key) {
                        parts.push(format!("{}:{value}", Value::from(key)));
                    }
                }
                format!("{{{}}}", parts.join(","))
            }
        }
    }

    /// Writes the line to stderr, whole (`eprint!` holds stderr's lock for the line,
    /// and tests capture it).
    pub fn emit(self) {
        let time = crate::serve::check::rfc3339(jiff::Timestamp::now());
        let mut text = self.render(format(), &time);
        text.push('\n');
        eprint!("{text}");
    }
}

pub fn info(event: &'static str, message: impl Into<String>) -> Line {
    Line::new(Level::Info, event, message)
}

pub fn warn(event: &'static str, message: impl Into<String>) -> Line {
    Line::new(Level::Warn, event, message)
}

pub fn error(event: &'static str, message: impl Into<String>) -> Line {
    Line::new(Level::Error, event, message)
}

/// A store location fit for a log line: the user and password of a URL (a
/// `postgres://user:pass@host/db`) are left out.
pub fn store_text(location: &str) -> String {
    match location.split_once("://") {
        Some((scheme, rest)) => {
            let (authority, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
            let host = authority.rsplit('@').next().unwrap_or(authority);
            format!("{scheme}://{host}{path}")
        }
        None => location.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn text_and_json_lines() {
        let line = info("status", "check \"backup\" went up → down (missed)")
            .field("check", "backup")
            .field("to", "down");
        assert_eq!(
            line.render(Format::Text, "2026-01-01T00:00:00Z"),
            "hb: check \"backup\" went up → down (missed)"
        );
        let json: Value =
            serde_json::from_str(&line.render(Format::Json, "2026-01-01T00:00:00Z")).unwrap();
        assert_eq!(
            json,
            json!({"time": "2026-01-01T00:00:00Z", "level": "info", "event": "status",
                   "message": "check \"backup\" went up → down (missed)",
                   "check": "backup", "to": "down"})
        );
        let text = line.render(Format::Json, "2026-01-01T00:00:00Z");
        assert!(
            text.starts_with("{\"time\":\"2026-01-01T00:00:00Z\",\"level\":\"info\",\"event\":\"status\",\"message\":"),
            "{text}"
        );
        // A field never overwrites the line's own keys.
        let line = warn("x", "m").field("level", "debug");
        let json: Value = serde_json::from_str(&line.render(Format::Json, "t")).unwrap();
        assert_eq!(json["level"], "warn");
    }

    #[test]
    fn store_urls_lose_their_credentials() {
        assert_eq!(store_text("/var/lib/hb/hb.db"), "/var/lib/hb/hb.db");
        assert_eq!(
            store_text("postgres://hb:s3cret@db.example/hb"),
            "postgres://db.example/hb"
        );
        assert_eq!(store_text("postgres://db.example"), "postgres://db.example");
    }
}
