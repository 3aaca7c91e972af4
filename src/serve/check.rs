//! A check's settings: the input form (`CheckSpec`, shared by the API and the config
//! file), validation into `Settings`, the slug rule, and the JSON the API shows.

use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};
use std::time::Duration;
use uuid::Uuid;

use super::schedule::{Schedule, default_grace};
use super::status::State;
use crate::duration;

/// A duration as JSON or TOML gives it: `"1h30m"`, or a number of seconds.
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
#[serde(untagged)]
pub enum DurationInput {
    Text(String),
    Seconds(u64),
}

impl DurationInput {
    fn parse(&self, field: &str) -> Result<Duration, String> {
        let d = match self {
            DurationInput::Text(text) => {
                duration::parse(text).map_err(|e| format!("{field}: {e}"))?
            }
            DurationInput::Seconds(s) => Duration::from_secs(*s),
        };
        if d < Duration::from_secs(1) {
            return Err(format!(
                "{field}: {} is too short; it must be at least 1s",
                duration::format(d)
            ));
        }
        Ok(d)
    }
}

#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct EscalationSpec {
    pub after: DurationInput,
    pub channels: Vec<String>,
}

/// The input form of a check, as POST/PATCH bodies and `[[check]]` tables give it.
#[derive(Debug, Clone, Default, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct CheckSpec {
    pub uuid: Option<String>,
    pub name: Option<String>,
    pub description: Option<String>,
    pub owner: Option<String>,
    pub tags: Option<Vec<String>>,
    pub interval: Option<DurationInput>,
    pub cron: Option<String>,
    pub tz: Option<String>,
    pub grace_period: Option<DurationInput>,
    pub max_runtime: Option<DurationInput>,
    pub channels: Option<Vec<String>>,
    pub realert: Option<DurationInput>,
    pub escalation: Option<Vec<EscalationSpec>>,
    pub alert_after_failures: Option<u32>,
    pub slow_factor: Option<f64>,
    pub slow: Option<bool>,
    pub min_duration: Option<DurationInput>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Escalation {
    pub after: Duration,
    pub channels: Vec<String>,
}

/// A validated check configuration.
#[derive(Debug, Clone)]
pub struct Settings {
    pub uuid: Uuid,
    pub name: String,
    pub slug: String,
    pub description: String,
    pub owner: String,
    pub tags: Vec<String>,
    pub schedule: Schedule,
    /// As given; `None` means the default for the schedule's period.
    pub grace_period: Option<Duration>,
    /// The default grace, computed when the settings were made.
    pub default_grace: Duration,
    pub max_runtime: Option<Duration>,
    /// `None`: every channel; `Some([])`: none.
    pub channels: Option<Vec<String>>,
    pub realert: Option<Duration>,
    pub escalation: Vec<Escalation>,
    pub alert_after_failures: Option<u32>,
    pub slow_factor: f64,
    pub slow: bool,
    pub min_duration: Option<Duration>,
    /// Declared in the config file.
    pub managed: bool,
}

impl Settings {
    pub fn grace(&self) -> Duration {
        self.grace_period.unwrap_or(self.default_grace)
    }

    pub fn max_runtime(&self) -> Duration {
        self.max_runtime.unwrap_or_else(|| self.grace())
    }

    /// Validates a spec; `now` fixes the default grace of a cron schedule.
    pub fn from_spec(spec: &CheckSpec, now: Timestamp, managed: bool) -> Result<Settings, String> {
        let name = spec
            .name
            .as_deref()
            .map(str::trim)
            .filter(|n| !n.is_empty())
            .ok_or("name: required; give the check a name, e.g. \"Backup PostgreSQL\"")?
            .to_string();
        let slug = slugify(&name);
        if slug.is_empty() {
            return Err(format!(
                "name: {name:?} has no ASCII letter or digit to make a slug from; add one"
            ));
        }
        let uuid = match &spec.uuid {
            None => Uuid::new_v4(),
            Some(text) => Uuid::parse_str(text).map_err(|_| {
                format!("uuid: {text:?} is not a UUID; leave it out to get a random one")
            })?,
        };
        let schedule = match (&spec.interval, &spec.cron) {
            (Some(_), Some(_)) => {
                return Err("interval, cron: give one schedule, not both".into());
            }
            (None, None) => {
                return Err("interval, cron: a schedule is required: \"interval\": \"24h\" or \"cron\": \"0 3 * * *\"".into());
            }
            (Some(interval), None) => {
                if spec.tz.is_some() {
                    return Err(
                        "tz: applies to cron schedules only; remove it or give a cron".into(),
                    );
                }
                match interval {
                    DurationInput::Text(text) => Schedule::parse_interval(text)
                        .map_err(|e| format!("interval: {}", e.message))?,
                    DurationInput::Seconds(_) => Schedule::interval(interval.parse("interval")?)
                        .map_err(|e| format!("interval: {}", e.message))?,
                }
            }
            (None, Some(cron)) => Schedule::cron(cron, spec.tz.as_deref().unwrap_or("UTC"))
                .map_err(|e| {
                    if e.message.starts_with(e.field) {
                        e.message
                    } else {
                        format!("{}: {}", e.field, e.message)
                    }
                })?,
        };
        let grace_period = opt_duration(&spec.grace_period, "grace_period")?;
        let max_runtime = opt_duration(&spec.max_runtime, "max_runtime")?;
        let realert = opt_duration(&spec.realert, "realert")?;
        let min_duration = opt_duration(&spec.min_duration, "min_duration")?;
        let escalation = spec
            .escalation
            .iter()
            .flatten()
            .enumerate()
            .map(|(i, step)| {
                Ok(Escalation {
                    after: step.after.parse(&format!("escalation[{i}].after"))?,
                    channels: step.channels.clone(),
                })
            })
            .collect::<Result<Vec<_>, String>>()?;
        if escalation.windows(2).any(|w| w[1].after < w[0].after) {
            return Err("escalation: steps must be in order of their after times".into());
        }
        if spec.alert_after_failures == Some(0) {
            return Err("alert_after_failures: must be at least 1".into());
        }
        let slow_factor = spec.slow_factor.unwrap_or(3.0);
        if !(slow_factor.is_finite() && slow_factor > 1.0) {
            return Err(format!(
                "slow_factor: {slow_factor} is not accepted; use a number above 1, e.g. 3"
            ));
        }
        let tags = spec.tags.clone().unwrap_or_default();
        if let Some(bad) = tags.iter().find(|t| t.trim().is_empty()) {
            return Err(format!(
                "tags: {bad:?} is empty; tags must be non-empty strings"
            ));
        }
        let default_grace = default_grace(schedule.period(now));
        Ok(Settings {
            uuid,
            name,
            slug,
            description: spec.description.clone().unwrap_or_default(),
            owner: spec.owner.clone().unwrap_or_default(),
            tags,
            schedule,
            grace_period,
            default_grace,
            max_runtime,
            channels: spec.channels.clone(),
            realert,
            escalation,
            alert_after_failures: spec.alert_after_failures,
            slow_factor,
            slow: spec.slow.unwrap_or(true),
            min_duration,
            managed,
        })
    }

    /// The settings back in input form (a defaulted grace stays unset).
    pub fn to_spec(&self) -> CheckSpec {
        let text = |d: Duration| DurationInput::Text(duration::format(d));
        CheckSpec {
            uuid: Some(self.uuid.to_string()),
            name: Some(self.name.clone()),
            description: Some(self.description.clone()),
            owner: Some(self.owner.clone()),
            tags: Some(self.tags.clone()),
            interval: match self.schedule {
                Schedule::Interval(d) => Some(text(d)),
                Schedule::Cron(_) => None,
            },
            cron: self.schedule.cron_expr().map(str::to_string),
            tz: self.schedule.tz_name().map(str::to_string),
            grace_period: self.grace_period.map(text),
            max_runtime: self.max_runtime.map(text),
            channels: self.channels.clone(),
            realert: self.realert.map(text),
            escalation: Some(
                self.escalation
                    .iter()
                    .map(|e| EscalationSpec {
                        after: text(e.after),
                        channels: e.channels.clone(),
                    })
                    .collect(),
            ),
            alert_after_failures: self.alert_after_failures,
            slow_factor: Some(self.slow_factor),
            slow: Some(self.slow),
            min_duration: self.min_duration.map(text),
        }
    }

    /// The check as the API shows it.
    pub fn to_json(&self, state: &State, now: Timestamp, ping_base: &str) -> Value {
        let (status, next_due, alert_at) = state.view(self, now);
        let fmt = |d: Duration| Value::String(duration::format(d));
        let opt = |d: Option<Duration>| d.map(fmt).unwrap_or(Value::Null);
        let time =
            |t: Option<Timestamp>| t.map(|t| Value::String(rfc3339(t))).unwrap_or(Value::Null);
        let (interval, cron, tz) = match &self.schedule {
            Schedule::Interval(d) => (fmt(*d), Value::Null, Value::Null),
            Schedule::Cron(_) => (
                Value::Null,
                json!(self.schedule.cron_expr()),
                json!(self.schedule.tz_name()),
            ),
        };
        json!({
            "uuid": self.uuid.to_string(),
            "name": self.name,
            "slug": self.slug,
            "description": self.description,
            "owner": self.owner,
            "tags": self.tags,
            "interval": interval,
            "cron": cron,
            "tz": tz,
            "grace_period": fmt(self.grace()),
            "max_runtime": fmt(self.max_runtime()),
            "channels": self.channels,
            "realert": opt(self.realert),
            "escalation": self.escalation.iter().map(|e| json!({
                "after": duration::format(e.after),
                "channels": e.channels,
            })).collect::<Vec<_>>(),
            "alert_after_failures": self.alert_after_failures,
            "slow_factor": self.slow_factor,
            "slow": self.slow,
            "min_duration": opt(self.min_duration),
            "status": status.as_str(),
            "last_ping": time(state.last_ping),
            "last_start": time(state.run.as_ref().map(|r| r.start)),
            "next_due": time(next_due),
            "alert_at": time(alert_at),
            "last_duration": state.last_duration,
            "median_duration": state.median_duration(),
            "slow_threshold": state.slow_threshold(self),
            "failures": state.failures,
            "n_pings": state.n_pings,
            "ping_url": format!("{ping_base}/api/v1/ping/{}", self.uuid),
            "managed": self.managed,
        })
    }
}

fn opt_duration(input: &Option<DurationInput>, field: &str) -> Result<Option<Duration>, String> {
    input.as_ref().map(|d| d.parse(field)).transpose()
}

/// RFC 3339 in UTC to the millisecond (`2026-01-01T03:00:00Z`, `…:00.250Z`).
pub fn rfc3339(t: Timestamp) -> String {
    let ms = t.as_millisecond();
    let t = Timestamp::from_millisecond(ms).unwrap_or(t);
    if ms % 1000 == 0 {
        t.strftime("%Y-%m-%dT%H:%M:%SZ").to_string()
    } else {
        t.strftime("%Y-%m-%dT%H:%M:%S%.3fZ").to_string()
    }
}

/// ASCII letters lower-cased and digits kept; every run of other characters one `-`;
/// no `-` at either end.
pub fn slugify(name: &str) -> String {
    let mut slug = String::with_capacity(name.len());
    let mut dash = false;
    for c in name.chars() {
        if c.is_ascii_alphanumeric() {
            if dash && !slug.is_empty() {
                slug.push('-');
            }
            dash = false;
            slug.push(c.to_ascii_lowercase());
        } else {
            dash = true;
        }
    }
    slug
}

/// Applies a PATCH body to a check's current spec: named keys replace, `null` unsets,
/// a `cron` replaces an `interval` and the other way round.
pub fn merge_patch(current: &CheckSpec, patch: &Map<String, Value>) -> Result<CheckSpec, String> {
    if patch.contains_key("interval") && patch.contains_key("cron") {
        return Err("interval, cron: give one schedule, not both".into());
    }
    let Value::Object(mut base) = serde_json::to_value(current).expect("a spec serializes") else {
        unreachable!("a spec is an object")
    };
    if patch.get("cron").is_some_and(|v| !v.is_null()) {
        base.remove("interval");
    }
    if patch.get("interval").is_some_and(|v| !v.is_null()) {
        base.remove("cron");
        base.remove("tz");
    }
    for (key, value) in patch {
        base.insert(key.clone(), value.clone());
    }
    parse_spec(Value::Object(base))
}

/// A spec from JSON, with errors that name the field.
pub fn parse_spec(value: Value) -> Result<CheckSpec, String> {
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

#[cfg(test)]
mod tests {
    use super::*;

    fn now() -> Timestamp {
        "2026-01-01T00:00:00Z".parse().unwrap()
    }

    fn spec(value: Value) -> CheckSpec {
        parse_spec(value).unwrap()
    }

    #[test]
    fn slugs_follow_the_rule() {
        assert_eq!(slugify("Backup PostgreSQL"), "backup-postgresql");
        assert_eq!(slugify("  --Nightly__backup (v2)!! "), "nightly-backup-v2");
        assert_eq!(slugify("Ünïcode job"), "n-code-job");
        assert_eq!(slugify("!!!"), "");
    }

    #[test]
    fn a_minimal_spec_gets_defaults() {
        let s = Settings::from_spec(
            &spec(json!({"name": "Backup", "interval": "24h"})),
            now(),
            false,
        )
        .unwrap();
        assert_eq!(s.slug, "backup");
        assert!(
            s.grace() >= Duration::from_secs(30 * 60) && s.grace() <= Duration::from_secs(3600)
        );
        assert_eq!(s.max_runtime(), s.grace());
        assert_eq!(s.slow_factor, 3.0);
        assert!(s.slow);
        assert_eq!(s.channels, None);
    }

    #[test]
    fn bad_input_names_the_field() {
        let cases = [
            (json!({"interval": "1h"}), "name"),
            (json!({"name": "x"}), "schedule is required"),
            (
                json!({"name": "x", "interval": "1h", "cron": "* * * * *"}),
                "not both",
            ),
            (json!({"name": "x", "interval": "abc"}), "interval"),
            (json!({"name": "x", "interval": "500ms"}), "interval"),
            (
                json!({"name": "x", "interval": "1h", "grace_period": "0s"}),
                "grace_period",
            ),
            (json!({"name": "x", "interval": "1h", "tz": "UTC"}), "tz"),
            (
                json!({"name": "x", "interval": "1h", "slow_factor": 0.5}),
                "slow_factor",
            ),
            (
                json!({"name": "x", "interval": "1h", "uuid": "nope"}),
                "uuid",
            ),
            (json!({"name": "!!", "interval": "1h"}), "name"),
        ];
        for (input, needle) in cases {
            let err = Settings::from_spec(&spec(input.clone()), now(), false).unwrap_err();
            assert!(err.contains(needle), "{input}: {err}");
        }
        let err = parse_spec(json!({"name": "x", "interval": "1h", "colour": "red"})).unwrap_err();
        assert!(err.contains("unknown field `colour`"), "{err}");
        let err = parse_spec(json!({"name": "x", "interval": true})).unwrap_err();
        assert!(err.starts_with("interval:"), "{err}");
    }

    #[test]
    fn patch_replaces_what_it_names() {
        let s = Settings::from_spec(
            &spec(json!({"name": "a", "interval": "90m", "grace_period": "5m"})),
            now(),
            false,
        )
        .unwrap();
        let patch = json!({"grace_period": null, "description": "d"});
        let merged = merge_patch(&s.to_spec(), patch.as_object().unwrap()).unwrap();
        assert_eq!(merged.grace_period, None);
        assert_eq!(merged.description.as_deref(), Some("d"));
        assert_eq!(merged.interval, Some(DurationInput::Text("1h30m".into())));
        let both = json!({"interval": "1h", "cron": "0 * * * *"});
        assert!(merge_patch(&s.to_spec(), both.as_object().unwrap()).is_err());
    }

    #[test]
    fn json_shows_canonical_durations_and_nulls() {
        let s = Settings::from_spec(&spec(json!({"name": "a", "interval": "90m"})), now(), false)
            .unwrap();
        let v = s.to_json(&State::default(), now(), "http://h");
        assert_eq!(v["interval"], "1h30m");
        assert_eq!(v["status"], "new");
        assert_eq!(v["next_due"], Value::Null);
        assert_eq!(v["last_duration"], Value::Null);
        assert_eq!(v["ping_url"], format!("http://h/api/v1/ping/{}", s.uuid));
    }

    #[test]
    fn times_print_to_the_millisecond_in_utc() {
        assert_eq!(
            rfc3339("2026-01-01T03:00:00Z".parse().unwrap()),
            "2026-01-01T03:00:00Z"
        );
        assert_eq!(
            rfc3339("2026-01-01T03:00:00.250999Z".parse().unwrap()),
            "2026-01-01T03:00:00.250Z"
        );
    }
}
