//! Maintenance windows (`[[maintenance]]`, `/api/v1/maintenance`) and the dependency
//! graph of checks (`depends_on`). Pure: times are passed in.
//!
//! A window applies to the checks it names and to those with one of its tags. It is
//! one-off (`start` + `end`, RFC 3339) or recurring (`cron` or `oncalendar`, with a
//! `duration` and a `tz`). Inside a window no run is expected: a deadline that falls
//! inside moves to the window's end plus the check's grace, and a `down` alert is held
//! until the window ends (see `status.rs` and `registry.rs`).

use jiff::{SignedDuration, Timestamp};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::time::Duration;

use super::check::{DurationInput, Settings, parse_duration, rfc3339};
use super::schedule::{CalendarInput, Schedule, quote};
use crate::duration;

/// Most checks or tags a window may name.
pub const NAMES_MAX: usize = 1000;
/// Occurrences of a recurring window looked at to find the one covering an instant.
const SCAN_MAX: usize = 1000;

/// The input form of a window, as POST/PATCH bodies and `[[maintenance]]` tables give it.
#[derive(Debug, Clone, Default, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct WindowSpec {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub checks: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tags: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub end: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cron: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub oncalendar: Option<CalendarInput>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub duration: Option<DurationInput>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tz: Option<String>,
}

/// When a window is open.
#[derive(Debug, Clone)]
pub enum When {
    Once {
        start: Timestamp,
        end: Timestamp,
    },
    Every {
        schedule: Schedule,
        duration: Duration,
    },
}

/// A validated window.
#[derive(Debug, Clone)]
pub struct Window {
    pub name: String,
    pub checks: Vec<String>,
    pub tags: Vec<String>,
    pub when: When,
}

pub fn plus(t: Timestamp, d: Duration) -> Timestamp {
    SignedDuration::try_from(d)
        .ok()
        .and_then(|d| t.checked_add(d).ok())
        .unwrap_or(Timestamp::MAX)
}

/// Whether a name is usable as a window name (it appears in URLs).
pub fn valid_name(name: &str) -> bool {
    super::registry::valid_channel_name(name)
}

fn parse_time(field: &str, text: &str) -> Result<Timestamp, String> {
    text.trim().parse::<Timestamp>().map_err(|_| {
        format!(
            "{field}: {} is not an RFC 3339 time; write e.g. \"2026-03-01T02:00:00Z\"",
            quote(text)
        )
    })
}

fn names(field: &str, list: &Option<Vec<String>>) -> Result<Vec<String>, String> {
    let list = list.clone().unwrap_or_default();
    if list.len() > NAMES_MAX {
        return Err(format!(
            "{field}: {} names given; at most {NAMES_MAX} are accepted",
            list.len()
        ));
    }
    if let Some(bad) = list
        .iter()
        .find(|n| n.trim().is_empty() || n.chars().count() > 200)
    {
        return Err(format!(
            "{field}: {} is not accepted; give names of 1 to 200 characters",
            quote(bad)
        ));
    }
    Ok(list)
}

impl Window {
    /// Validates input (the API, the config file); `now` is when a recurring window must
    /// still be ahead.
    pub fn from_spec(spec: &WindowSpec, now: Timestamp) -> Result<Window, String> {
        let name = match spec.name.as_deref() {
            Some(n) if valid_name(n) => n.to_string(),
            Some(n) => {
                return Err(format!(
                    "name: {} is not accepted; use letters, digits, '-' and '_' (at most 64)",
                    quote(n)
                ));
            }
            None => {
                return Err(
                    "name: required; give the window a name, e.g. \"nightly-upgrade\"".into(),
                );
            }
        };
        let checks = names("checks", &spec.checks)?;
        let tags = names("tags", &spec.tags)?;
        if checks.is_empty() && tags.is_empty() {
            return Err(
                "checks, tags: a window applies to named checks, tagged checks or both; give e.g. \"checks\": [\"nightly-backup\"] or \"tags\": [\"db\"]".into(),
            );
        }
        let one_off = spec.start.is_some() || spec.end.is_some();
        let recurring = spec.cron.is_some() || spec.oncalendar.is_some();
        let when = if one_off {
            if recurring || spec.duration.is_some() || spec.tz.is_some() {
                return Err("start, end: a one-off window takes start and end only; remove cron, oncalendar, duration and tz, or remove start and end".into());
            }
            let (Some(start), Some(end)) = (&spec.start, &spec.end) else {
                return Err("start, end: a one-off window needs both start and end (RFC 3339), e.g. \"2026-03-01T02:00:00Z\"".into());
            };
            let start = parse_time("start", start)?;
            let end = parse_time("end", end)?;
            if end <= start {
                return Err(format!(
                    "end: {} is not after start {}; give an end later than the start",
                    rfc3339(end),
                    rfc3339(start)
                ));
            }
            When::Once { start, end }
        } else if recurring {
            if spec.cron.is_some() && spec.oncalendar.is_some() {
                return Err("cron, oncalendar: give one schedule, not both".into());
            }
            let Some(given) = &spec.duration else {
                return Err("duration: required with cron or oncalendar; give how long each window lasts, e.g. \"2h\"".into());
            };
            let duration = parse_duration(given, "duration", Duration::from_secs(1))?;
            let tz = spec.tz.as_deref().unwrap_or("UTC");
            let schedule = match (&spec.cron, &spec.oncalendar) {
                (Some(cron), _) => {
                    if cron.chars().count() > super::check::CRON_MAX {
                        return Err(format!("cron: {} is too long", quote(cron)));
                    }
                    Schedule::cron(cron, tz)
                }
                (_, Some(calendar)) => Schedule::oncalendar(calendar, tz),
                _ => unreachable!("recurring has one"),
            }
            .map_err(|e| {
                if e.message.starts_with(e.field) {
                    e.message
                } else {
                    format!("{}: {}", e.field, e.message)
                }
            })?;
            if schedule.next_after(now).is_none() {
                return Err("cron, oncalendar: the window never starts again; check that its date can occur".into());
            }
            let period = schedule.period(now);
            if duration > period {
                return Err(format!(
                    "duration: {} is longer than the time between the window's starts ({}); shorten it, or use start and end for one long window",
                    duration::format(duration),
                    duration::format(period)
                ));
            }
            When::Every { schedule, duration }
        } else {
            if spec.duration.is_some() || spec.tz.is_some() {
                return Err("cron, oncalendar: duration and tz go with a cron or an oncalendar; give one, or use start and end".into());
            }
            return Err("start, end, cron, oncalendar: a window needs start and end (RFC 3339), or a cron or an oncalendar with a duration".into());
        };
        Ok(Window {
            name,
            checks,
            tags,
            when,
        })
    }

    /// A window as stored: one that no longer starts again is kept (it is never active).
    pub fn from_stored(spec: &WindowSpec) -> Result<Window, String> {
        Window::from_spec(spec, Timestamp::UNIX_EPOCH)
    }

    /// The window back in input form.
    pub fn to_spec(&self) -> WindowSpec {
        let list = |l: &Vec<String>| (!l.is_empty()).then(|| l.clone());
        let mut spec = WindowSpec {
            name: Some(self.name.clone()),
            checks: list(&self.checks),
            tags: list(&self.tags),
            ..WindowSpec::default()
        };
        match &self.when {
            When::Once { start, end } => {
                spec.start = Some(rfc3339(*start));
                spec.end = Some(rfc3339(*end));
            }
            When::Every { schedule, duration } => {
                spec.cron = schedule.cron_expr().map(str::to_string);
                spec.oncalendar = schedule.calendar_input().cloned();
                spec.duration = Some(DurationInput::Text(duration::format(*duration)));
                spec.tz = schedule.tz_name().map(str::to_string);
            }
        }
        spec
    }

    /// Whether the window applies to a check with this name and these tags.
    pub fn applies_to(&self, name: &str, tags: &[String]) -> bool {
        self.checks.iter().any(|c| c == name) || self.tags.iter().any(|t| tags.contains(t))
    }

    /// When the occurrence covering `t` ends (`start ≤ t < end`), if one does.
    pub fn active_until(&self, t: Timestamp) -> Option<Timestamp> {
        match &self.when {
            When::Once { start, end } => (*start <= t && t < *end).then_some(*end),
            When::Every { schedule, duration } => {
                let span = SignedDuration::try_from(*duration).ok()?;
                // The first start after t - duration is the earliest that still covers t.
                let mut last = schedule.next_after(t.checked_sub(span).ok()?)?;
                if last > t {
                    return None;
                }
                for _ in 0..SCAN_MAX {
                    match schedule.next_after(last) {
                        Some(next) if next <= t => last = next,
                        _ => break,
                    }
                }
                Some(plus(last, *duration))
            }
        }
    }

    /// The window as the API shows it, with `until` while it is active at `now`.
    pub fn to_json(&self, managed: bool, now: Timestamp) -> Value {
        let (start, end, duration) = match &self.when {
            When::Once { start, end } => (Some(rfc3339(*start)), Some(rfc3339(*end)), None),
            When::Every { duration, .. } => (None, None, Some(duration::format(*duration))),
        };
        let schedule = match &self.when {
            When::Every { schedule, .. } => Some(schedule),
            When::Once { .. } => None,
        };
        json!({
            "name": self.name,
            "checks": self.checks,
            "tags": self.tags,
            "start": start,
            "end": end,
            "cron": schedule.and_then(|s| s.cron_expr()),
            "oncalendar": schedule.and_then(|s| s.calendar_input()),
            "duration": duration,
            "tz": schedule.and_then(|s| s.tz_name()),
            "until": self.active_until(now).map(rfc3339),
            "managed": managed,
        })
    }
}

/// The maintenance active at `t` among `windows`: the name of a window covering `t`
/// and when maintenance ends (windows that follow on without a gap count as one).
pub fn active(windows: &[Arc<Window>], t: Timestamp) -> Option<(String, Timestamp)> {
    let mut found: Option<(String, Timestamp)> = None;
    let mut at = t;
    for _ in 0..64 {
        let best = windows
            .iter()
            .filter_map(|w| w.active_until(at).map(|end| (w, end)))
            .max_by_key(|(_, end)| *end);
        match (best, &mut found) {
            (Some((w, end)), None) => {
                found = Some((w.name.clone(), end));
                at = end;
            }
            (Some((_, end)), Some((_, until))) if end > *until => {
                *until = end;
                at = end;
            }
            _ => break,
        }
    }
    found
}

/// Whether `t` falls inside a maintenance window of the check: no run is expected then.
pub fn in_maintenance(check: &Settings, t: Timestamp) -> bool {
    active(&check.windows, t).is_some()
}

/// A PATCH body applied to a window's current spec: named keys replace, `null` unsets;
/// `start`/`end` replace a recurring schedule and `cron`/`oncalendar` a one-off time.
pub fn merge_patch(
    current: &WindowSpec,
    patch: &serde_json::Map<String, Value>,
) -> Result<WindowSpec, String> {
    let Ok(Value::Object(mut base)) = serde_json::to_value(current) else {
        return Err("the window's current settings cannot be read back; send them all".into());
    };
    let named = |keys: &[&str]| {
        keys.iter()
            .any(|k| patch.get(*k).is_some_and(|v| !v.is_null()))
    };
    if named(&["start", "end"]) {
        for key in ["cron", "oncalendar", "duration", "tz"] {
            base.remove(key);
        }
    }
    if named(&["cron", "oncalendar"]) {
        for key in ["start", "end", "cron", "oncalendar"] {
            base.remove(key);
        }
    }
    for (key, value) in patch {
        if value.is_null() {
            base.remove(key);
        } else {
            base.insert(key.clone(), value.clone());
        }
    }
    parse_spec(Value::Object(base))
}

/// A window spec from JSON, with errors that name the field.
pub fn parse_spec(value: Value) -> Result<WindowSpec, String> {
    serde_path_to_error::deserialize(value).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner().to_string();
        if path == "." || inner.starts_with("unknown field") {
            inner
        } else {
            format!("{path}: {inner}")
        }
    })
}

/// The first cycle through `start` in the graph `edges` (a check's name → the names it
/// depends on), as `a → b → a`.
pub fn cycle_through(start: &str, edges: &BTreeMap<String, Vec<String>>) -> Option<String> {
    // Depth-first, with the path kept; each name expanded once.
    let mut seen = BTreeSet::new();
    let mut stack: Vec<(String, usize)> = vec![(start.to_string(), 0)];
    while let Some((node, i)) = stack.last().cloned() {
        let next = edges.get(&node).and_then(|deps| deps.get(i)).cloned();
        match next {
            None => {
                stack.pop();
            }
            Some(dep) => {
                if let Some(top) = stack.last_mut() {
                    top.1 += 1;
                }
                if dep == start {
                    let mut path: Vec<&str> = stack.iter().map(|(n, _)| n.as_str()).collect();
                    path.push(start);
                    return Some(path.join(" → "));
                }
                if seen.insert(dep.clone()) {
                    stack.push((dep, 0));
                }
            }
        }
    }
    None
}

/// The message for a cycle.
pub fn cycle_error(path: &str) -> String {
    format!("depends_on: {path} is a cycle; remove one of these dependencies")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(s: &str) -> Timestamp {
        s.parse().unwrap()
    }

    fn window(v: Value) -> Result<Window, String> {
        Window::from_spec(&parse_spec(v)?, t("2026-01-01T00:00:00Z"))
    }

    #[test]
    fn a_one_off_window_covers_start_to_end() {
        let w = window(json!({"name": "w", "checks": ["a"], "start": "2026-01-02T00:00:00Z", "end": "2026-01-02T02:00:00+00:00"})).unwrap();
        assert_eq!(w.active_until(t("2026-01-01T23:59:59Z")), None);
        assert_eq!(
            w.active_until(t("2026-01-02T00:00:00Z")),
            Some(t("2026-01-02T02:00:00Z"))
        );
        assert_eq!(
            w.active_until(t("2026-01-02T01:59:59Z")),
            Some(t("2026-01-02T02:00:00Z"))
        );
        assert_eq!(w.active_until(t("2026-01-02T02:00:00Z")), None);
        assert!(w.applies_to("a", &[]));
        assert!(!w.applies_to("b", &["x".into()]));
    }

    #[test]
    fn a_recurring_window_covers_each_occurrence() {
        let w = window(json!({"name": "w", "tags": ["db"], "cron": "0 2 * * *", "duration": "1h", "tz": "Europe/Paris"})).unwrap();
        // 02:00 in Paris is 01:00Z in January.
        assert_eq!(w.active_until(t("2026-01-05T00:59:59Z")), None);
        assert_eq!(
            w.active_until(t("2026-01-05T01:00:00Z")),
            Some(t("2026-01-05T02:00:00Z"))
        );
        assert_eq!(
            w.active_until(t("2026-01-05T01:30:00Z")),
            Some(t("2026-01-05T02:00:00Z"))
        );
        assert_eq!(w.active_until(t("2026-01-05T02:00:00Z")), None);
        assert!(w.applies_to("any", &["db".into()]));
        let cal = window(json!({"name": "w", "checks": ["a"], "oncalendar": "Sun *-*-* 03:00", "duration": "2h"})).unwrap();
        // 2026-01-04 is a Sunday.
        assert_eq!(
            cal.active_until(t("2026-01-04T04:00:00Z")),
            Some(t("2026-01-04T05:00:00Z"))
        );
        assert_eq!(cal.active_until(t("2026-01-05T04:00:00Z")), None);
    }

    #[test]
    fn windows_that_follow_on_count_as_one() {
        let a = Arc::new(window(json!({"name": "a", "checks": ["x"], "start": "2026-01-02T00:00:00Z", "end": "2026-01-02T01:00:00Z"})).unwrap());
        let b = Arc::new(window(json!({"name": "b", "checks": ["x"], "start": "2026-01-02T01:00:00Z", "end": "2026-01-02T03:00:00Z"})).unwrap());
        let both = [a, b];
        assert_eq!(
            active(&both, t("2026-01-02T00:30:00Z")),
            Some(("a".to_string(), t("2026-01-02T03:00:00Z")))
        );
        assert_eq!(active(&both, t("2026-01-02T03:00:00Z")), None);
    }

    #[test]
    fn bad_windows_are_refused_with_the_field_and_the_fix() {
        let cases = [
            (
                json!({"checks": ["a"], "start": "2026-01-02T00:00:00Z", "end": "2026-01-02T01:00:00Z"}),
                "name: required",
            ),
            (
                json!({"name": "w", "start": "2026-01-02T00:00:00Z", "end": "2026-01-02T01:00:00Z"}),
                "checks, tags",
            ),
            (
                json!({"name": "w", "checks": ["a"], "start": "2026-01-02T02:00:00Z", "end": "2026-01-02T01:00:00Z"}),
                "end: 2026-01-02T01:00:00Z is not after start",
            ),
            (
                json!({"name": "w", "checks": ["a"], "start": "tomorrow", "end": "2026-01-02T01:00:00Z"}),
                "start: \"tomorrow\" is not an RFC 3339 time",
            ),
            (
                json!({"name": "w", "checks": ["a"], "start": "2026-01-02T00:00:00Z"}),
                "needs both start and end",
            ),
            (
                json!({"name": "w", "checks": ["a"], "cron": "0 2 * * *"}),
                "duration: required",
            ),
            (
                json!({"name": "w", "checks": ["a"], "cron": "0 2 * * *", "duration": "2d"}),
                "longer than the time between",
            ),
            (
                json!({"name": "w", "checks": ["a"], "cron": "61 2 * * *", "duration": "1h"}),
                "cron",
            ),
            (
                json!({"name": "w", "checks": ["a"], "cron": "0 2 * * *", "duration": "1h", "tz": "Mars/Base"}),
                "Mars/Base",
            ),
            (
                json!({"name": "w", "checks": ["a"]}),
                "a window needs start and end",
            ),
            (json!({"name": "w w", "checks": ["a"]}), "name: \"w w\""),
            (
                json!({"name": "w", "checks": ["a"], "colour": 1}),
                "unknown field `colour`",
            ),
        ];
        for (input, says) in cases {
            let err = window(input.clone()).unwrap_err();
            assert!(err.contains(says), "{input}: {err}");
        }
    }

    #[test]
    fn a_window_reads_back_as_it_was_given() {
        for input in [
            json!({"name": "w", "checks": ["a"], "start": "2026-01-02T00:00:00Z", "end": "2026-01-02T01:00:00Z"}),
            json!({"name": "w", "tags": ["db"], "cron": "0 2 * * *", "duration": "1h30m", "tz": "Europe/Paris"}),
            json!({"name": "w", "checks": ["a"], "tags": ["db"], "oncalendar": "Sun *-*-* 03:00", "duration": "2h", "tz": "UTC"}),
        ] {
            let w = window(input.clone()).unwrap();
            assert_eq!(serde_json::to_value(w.to_spec()).unwrap(), input);
        }
    }

    #[test]
    fn a_patch_replaces_the_kind_of_window() {
        let w = window(json!({"name": "w", "checks": ["a"], "start": "2026-01-02T00:00:00Z", "end": "2026-01-02T01:00:00Z"})).unwrap();
        let patch = json!({"cron": "0 2 * * *", "duration": "1h"});
        let spec = merge_patch(&w.to_spec(), patch.as_object().unwrap()).unwrap();
        let back = Window::from_spec(&spec, t("2026-01-01T00:00:00Z")).unwrap();
        assert!(matches!(back.when, When::Every { .. }));
        let patch = json!({"tags": ["db"], "checks": null});
        let spec = merge_patch(&back.to_spec(), patch.as_object().unwrap()).unwrap();
        assert_eq!(spec.checks, None);
        assert_eq!(spec.tags, Some(vec!["db".to_string()]));
    }

    #[test]
    fn cycles_are_found_with_their_path() {
        let edges: BTreeMap<String, Vec<String>> = [
            ("a", vec!["b"]),
            ("b", vec!["c", "d"]),
            ("c", vec![]),
            ("d", vec!["a"]),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.into_iter().map(String::from).collect()))
        .collect();
        assert_eq!(cycle_through("a", &edges).as_deref(), Some("a → b → d → a"));
        assert_eq!(cycle_through("c", &edges), None);
        let mut no_cycle = edges.clone();
        no_cycle.insert("d".into(), vec!["c".into()]);
        assert_eq!(cycle_through("a", &no_cycle), None);
    }
}
