//! A check's settings: the input form (`CheckSpec`, shared by the API and the config
//! file), validation into `Settings`, the slug rule, and the JSON the API shows.
//!
//! Every number a check takes is bounded here ([`MAX_DURATION`], [`SLOW_FACTOR_MAX`],
//! …). Input past a bound, from the API or the config file, is refused by
//! [`Settings::from_spec`] with a message naming the field, what is wrong and what is
//! accepted. A check stored by an older version that accepted more is loaded by
//! [`Settings::from_stored`] with its values clamped into the bounds, so it keeps running.

use jiff::Timestamp;
use serde::de::{self, Deserializer, Visitor};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};
use std::fmt;
use std::time::Duration;
use uuid::Uuid;

use super::schedule::{CalendarInput, Schedule, default_grace, quote};
use super::status::State;
use crate::duration;

/// The longest duration any setting takes: 3650 days (about ten years).
pub const MAX_DURATION: Duration = Duration::from_secs(3650 * 86_400);
/// The default and the largest `slow_factor`; it must also be above 1.
pub const DEFAULT_SLOW_FACTOR: f64 = 3.0;
pub const SLOW_FACTOR_MAX: f64 = 1000.0;
/// A run is `slow` only when it is also longer than this (`slow_min`, default 1s).
pub const DEFAULT_SLOW_MIN: Duration = Duration::from_secs(1);
pub const ALERT_AFTER_FAILURES_MAX: u32 = 1000;
/// Lengths in characters, and counts.
pub const NAME_MAX: usize = 200;
pub const DESCRIPTION_MAX: usize = 10_000;
pub const OWNER_MAX: usize = 200;
pub const TAGS_MAX: usize = 50;
pub const TAG_MAX: usize = 100;
pub const CHANNELS_MAX: usize = 100;
pub const CHANNEL_NAME_MAX: usize = 200;
pub const ESCALATION_MAX: usize = 20;
pub const CRON_MAX: usize = 1000;
/// A duration's text (`"1d2h3m4s5ms"` is 11 characters).
pub const DURATION_TEXT_MAX: usize = 100;

const ONE_SECOND: Duration = Duration::from_secs(1);

/// A duration as JSON or TOML gives it: `"1h30m"`, or a whole number of seconds.
#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(untagged)]
pub enum DurationInput {
    Text(String),
    Seconds(u64),
}

/// Reads a string or a whole, non-negative number of seconds, with a message saying
/// which of them is wrong (an untagged enum would only say "did not match").
impl<'de> Deserialize<'de> for DurationInput {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct DurationVisitor;

        const HINT: &str = "give a duration like \"90s\", \"15m\", \"1h30m\" or \"24h\"";

        impl Visitor<'_> for DurationVisitor {
            type Value = DurationInput;

            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                write!(
                    f,
                    "a duration like \"90s\", \"1h30m\" or \"24h\", or a whole number of seconds"
                )
            }

            fn visit_str<E: de::Error>(self, v: &str) -> Result<DurationInput, E> {
                Ok(DurationInput::Text(v.to_string()))
            }

            fn visit_string<E: de::Error>(self, v: String) -> Result<DurationInput, E> {
                Ok(DurationInput::Text(v))
            }

            fn visit_u64<E: de::Error>(self, v: u64) -> Result<DurationInput, E> {
                Ok(DurationInput::Seconds(v))
            }

            fn visit_i64<E: de::Error>(self, v: i64) -> Result<DurationInput, E> {
                u64::try_from(v)
                    .map(DurationInput::Seconds)
                    .map_err(|_| E::custom(format!("{v} is negative; {HINT}")))
            }

            fn visit_f64<E: de::Error>(self, v: f64) -> Result<DurationInput, E> {
                if !v.is_finite() || v < 0.0 {
                    Err(E::custom(format!(
                        "{v:?} is negative or not a number; {HINT}"
                    )))
                } else if v.fract() != 0.0 {
                    Err(E::custom(format!(
                        "{v:?} is not a whole number of seconds; {HINT}, or \"1s500ms\""
                    )))
                } else if v > MAX_DURATION.as_secs_f64() {
                    Err(E::custom(format!(
                        "{v:?} seconds is too long; it must be at most 3650d"
                    )))
                } else {
                    // Whole and within the bound, so exact.
                    Ok(DurationInput::Seconds(v as u64))
                }
            }
        }

        deserializer.deserialize_any(DurationVisitor)
    }
}

impl DurationInput {
    /// The value, not yet bounded; `Err` when it is no duration at all.
    fn read(&self, field: &str) -> Result<Duration, String> {
        match self {
            DurationInput::Text(text) if text.chars().count() > DURATION_TEXT_MAX => Err(format!(
                "{field}: {} is not a duration; write a number and a unit, e.g. 90s, 15m, 1h30m, 24h or 7d",
                quote(text)
            )),
            DurationInput::Text(text) => {
                duration::parse_any(text).map_err(|e| format!("{field}: {e}"))
            }
            DurationInput::Seconds(s) => Ok(Duration::from_secs(*s)),
        }
    }

    /// The value as given, for messages.
    fn shown(&self) -> String {
        match self {
            DurationInput::Text(text) => quote(text.trim()),
            DurationInput::Seconds(s) => format!("{s} seconds"),
        }
    }

    /// The value, which must be in `min..=MAX_DURATION` (strict) or is clamped into it.
    fn parse(&self, field: &str, min: Duration, mode: Mode) -> Result<Duration, String> {
        let d = self.read(field)?;
        if mode == Mode::Stored {
            return Ok(d.clamp(min, MAX_DURATION));
        }
        if d < min {
            return Err(format!(
                "{field}: {} is too short; it must be at least {}",
                self.shown(),
                duration::format(min)
            ));
        }
        if d > MAX_DURATION {
            return Err(format!(
                "{field}: {} is too long; it must be at most 3650d",
                self.shown()
            ));
        }
        Ok(d)
    }
}

/// How [`Settings`] treat a value past a bound.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    /// Input (API, config file): refused.
    Strict,
    /// Stored by a version that accepted more: clamped into the bound.
    Stored,
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
    /// systemd calendar events: a string (one a line) or a list. Left out when unset,
    /// so a stored spec stays readable by versions without it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub oncalendar: Option<CalendarInput>,
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
    /// Left out when unset, so a stored spec stays readable by versions without it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub slow_min: Option<DurationInput>,
    /// A paused check stays paused whatever pings arrive (only `resume` ends the pause).
    /// Left out when unset, as `slow_min`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub manual_resume: Option<bool>,
    /// Checks (by name) this one depends on: while one of them is down, this check's
    /// `down` alert is held. Left out when unset, as `slow_min`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub depends_on: Option<Vec<String>>,
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
    /// As given; `None` means [`DEFAULT_SLOW_MIN`].
    pub slow_min: Option<Duration>,
    /// A paused check stays paused whatever pings arrive.
    pub manual_resume: bool,
    /// Declared in the config file.
    pub managed: bool,
    /// Checks (by name) this one depends on.
    pub depends_on: Vec<String>,
    /// The maintenance windows that apply to this check (filled in by the registry).
    pub windows: Vec<std::sync::Arc<super::maintenance::Window>>,
}

/// Most dependencies a check may name.
pub const DEPENDS_ON_MAX: usize = 50;

/// A duration given as input, from `min` to [`MAX_DURATION`].
pub fn parse_duration(
    input: &DurationInput,
    field: &str,
    min: Duration,
) -> Result<Duration, String> {
    input.parse(field, min, Mode::Strict)
}

/// `field: N characters given; at most MAX are accepted` when `text` is too long.
fn check_length(field: &str, text: &str, max: usize) -> Result<(), String> {
    let n = text.chars().count();
    if n > max {
        return Err(format!(
            "{field}: {} is {n} characters long; at most {max} are accepted",
            quote(text)
        ));
    }
    Ok(())
}

fn check_count(field: &str, what: &str, n: usize, max: usize) -> Result<(), String> {
    if n > max {
        return Err(format!(
            "{field}: {n} {what} given; at most {max} are accepted"
        ));
    }
    Ok(())
}

/// A list of channel names: at most [`CHANNELS_MAX`], each at most [`CHANNEL_NAME_MAX`]
/// characters. Whether each names a channel is the registry's to say.
fn check_channel_names(field: &str, names: &[String]) -> Result<(), String> {
    check_count(field, "channel names", names.len(), CHANNELS_MAX)?;
    names
        .iter()
        .try_for_each(|name| check_length(field, name, CHANNEL_NAME_MAX))
}

impl Settings {
    pub fn grace(&self) -> Duration {
        self.grace_period.unwrap_or(self.default_grace)
    }

    pub fn max_runtime(&self) -> Duration {
        self.max_runtime.unwrap_or_else(|| self.grace())
    }

    /// The floor under the slow threshold.
    pub fn slow_min(&self) -> Duration {
        self.slow_min.unwrap_or(DEFAULT_SLOW_MIN)
    }

    /// Validates input (the API, the config file); `now` fixes the default grace of a
    /// cron schedule and is the time from which a cron must be due again.
    pub fn from_spec(spec: &CheckSpec, now: Timestamp, managed: bool) -> Result<Settings, String> {
        Settings::build(spec, now, managed, Mode::Strict)
    }

    /// A spec as stored: what an older version accepted past today's bounds is clamped
    /// into them (`slow_factor` 1e300 is 1000, an interval of 20 years is 3650d), so the
    /// check loads and runs; what no version accepted is still an error.
    pub fn from_stored(
        spec: &CheckSpec,
        now: Timestamp,
        managed: bool,
    ) -> Result<Settings, String> {
        Settings::build(spec, now, managed, Mode::Stored)
    }

    fn build(
        spec: &CheckSpec,
        now: Timestamp,
        managed: bool,
        mode: Mode,
    ) -> Result<Settings, String> {
        let strict = mode == Mode::Strict;
        let name = spec
            .name
            .as_deref()
            .map(str::trim)
            .filter(|n| !n.is_empty())
            .ok_or("name: required; give the check a name, e.g. \"Backup PostgreSQL\"")?
            .to_string();
        if strict {
            check_length("name", &name, NAME_MAX)?;
        }
        let slug = slugify(&name);
        if slug.is_empty() {
            return Err(format!(
                "name: {} has no ASCII letter or digit to make a slug from; add one",
                quote(&name)
            ));
        }
        let uuid = match &spec.uuid {
            None => Uuid::new_v4(),
            Some(text) => Uuid::parse_str(text).map_err(|_| {
                format!(
                    "uuid: {} is not a UUID; leave it out to get a random one",
                    quote(text)
                )
            })?,
        };
        let description = spec.description.clone().unwrap_or_default();
        let owner = spec.owner.clone().unwrap_or_default();
        let tags = spec.tags.clone().unwrap_or_default();
        if strict {
            check_length("description", &description, DESCRIPTION_MAX)?;
            check_length("owner", &owner, OWNER_MAX)?;
            check_count("tags", "tags", tags.len(), TAGS_MAX)?;
            for tag in &tags {
                check_length("tags", tag, TAG_MAX)?;
            }
            if let Some(channels) = &spec.channels {
                check_channel_names("channels", channels)?;
            }
        }
        if let Some(bad) = tags.iter().find(|t| t.trim().is_empty()) {
            return Err(format!(
                "tags: {} is empty; tags must be non-empty strings",
                quote(bad)
            ));
        }
        let given: Vec<&str> = [
            ("interval", spec.interval.is_some()),
            ("cron", spec.cron.is_some()),
            ("oncalendar", spec.oncalendar.is_some()),
        ]
        .into_iter()
        .filter_map(|(key, set)| set.then_some(key))
        .collect();
        if given.len() > 1 {
            return Err(format!("{}: give one schedule, not both", given.join(", ")));
        }
        let schedule_error = |e: super::schedule::ScheduleError| {
            if e.message.starts_with(e.field) {
                e.message
            } else {
                format!("{}: {}", e.field, e.message)
            }
        };
        let schedule = if let Some(interval) = &spec.interval {
            if spec.tz.is_some() {
                return Err(
                    "tz: applies to cron and oncalendar schedules only; remove it or give a cron or an oncalendar".into(),
                );
            }
            match (interval, mode) {
                (DurationInput::Text(text), Mode::Strict)
                    if text.chars().count() <= DURATION_TEXT_MAX =>
                {
                    Schedule::parse_interval(text)
                        .map_err(|e| format!("interval: {}", e.message))?
                }
                _ => Schedule::interval(interval.parse("interval", ONE_SECOND, mode)?)
                    .map_err(|e| format!("interval: {}", e.message))?,
            }
        } else if let Some(cron) = &spec.cron {
            if strict {
                check_length("cron", cron, CRON_MAX)?;
            }
            let schedule = Schedule::cron(cron, spec.tz.as_deref().unwrap_or("UTC"))
                .map_err(schedule_error)?;
            if strict && schedule.next_after(now).is_none() {
                return Err(format!(
                    "cron {}: it is never due in the next 50 years; check that its day-of-month, month and day-of-week fields can meet",
                    quote(cron.trim())
                ));
            }
            schedule
        } else if let Some(calendar) = &spec.oncalendar {
            let schedule = Schedule::oncalendar(calendar, spec.tz.as_deref().unwrap_or("UTC"))
                .map_err(schedule_error)?;
            if strict && schedule.next_after(now).is_none() {
                return Err(format!(
                    "oncalendar {}: it never elapses again (systemd's calendar ends in 2199); check that its date can occur",
                    quote(&calendar.expressions().join("\n"))
                ));
            }
            schedule
        } else {
            return Err("interval, cron, oncalendar: a schedule is required: \"interval\": \"24h\", \"cron\": \"0 3 * * *\" or \"oncalendar\": \"Mon..Fri *-*-* 02:00\"".into());
        };
        let duration = |input: &Option<DurationInput>, field: &str, min: Duration| {
            input
                .as_ref()
                .map(|d| d.parse(field, min, mode))
                .transpose()
        };
        let grace_period = duration(&spec.grace_period, "grace_period", ONE_SECOND)?;
        let max_runtime = duration(&spec.max_runtime, "max_runtime", ONE_SECOND)?;
        let realert = duration(&spec.realert, "realert", ONE_SECOND)?;
        let min_duration = duration(&spec.min_duration, "min_duration", ONE_SECOND)?;
        let slow_min = duration(&spec.slow_min, "slow_min", Duration::ZERO)?;
        let steps = spec.escalation.as_deref().unwrap_or_default();
        if strict {
            check_count("escalation", "steps", steps.len(), ESCALATION_MAX)?;
        }
        let escalation = steps
            .iter()
            .enumerate()
            .map(|(i, step)| {
                if strict {
                    check_channel_names(&format!("escalation[{i}].channels"), &step.channels)?;
                }
                Ok(Escalation {
                    after: step
                        .after
                        .parse(&format!("escalation[{i}].after"), ONE_SECOND, mode)?,
                    channels: step.channels.clone(),
                })
            })
            .collect::<Result<Vec<_>, String>>()?;
        if escalation.windows(2).any(|w| w[1].after < w[0].after) {
            return Err("escalation: steps must be in order of their after times".into());
        }
        let alert_after_failures = match spec.alert_after_failures {
            Some(0) => {
                return Err(format!(
                    "alert_after_failures: 0 is not accepted; give a number from 1 to {ALERT_AFTER_FAILURES_MAX}"
                ));
            }
            Some(n) if n > ALERT_AFTER_FAILURES_MAX && strict => {
                return Err(format!(
                    "alert_after_failures: {n} is too large; give a number from 1 to {ALERT_AFTER_FAILURES_MAX}"
                ));
            }
            n => n.map(|n| n.min(ALERT_AFTER_FAILURES_MAX)),
        };
        let slow_factor = spec.slow_factor.unwrap_or(DEFAULT_SLOW_FACTOR);
        let slow_factor = if slow_factor.is_finite()
            && slow_factor > 1.0
            && slow_factor <= SLOW_FACTOR_MAX
        {
            slow_factor
        } else if !strict && slow_factor > SLOW_FACTOR_MAX {
            SLOW_FACTOR_MAX
        } else {
            return Err(format!(
                "slow_factor: {slow_factor:?} is not accepted; give a number above 1 and at most 1000, e.g. 3"
            ));
        };
        let depends_on = spec.depends_on.clone().unwrap_or_default();
        if strict {
            check_count("depends_on", "checks", depends_on.len(), DEPENDS_ON_MAX)?;
            for dep in &depends_on {
                check_length("depends_on", dep, NAME_MAX)?;
            }
        }
        if depends_on.iter().any(|d| d.trim() == name) {
            return Err(format!(
                "depends_on: {} names the check itself; a check cannot depend on itself, remove it",
                quote(&name)
            ));
        }
        let default_grace = default_grace(schedule.period(now));
        Ok(Settings {
            uuid,
            name,
            slug,
            description,
            owner,
            tags,
            schedule,
            grace_period,
            default_grace,
            max_runtime,
            channels: spec.channels.clone(),
            realert,
            escalation,
            alert_after_failures,
            slow_factor,
            slow: spec.slow.unwrap_or(true),
            min_duration,
            slow_min,
            manual_resume: spec.manual_resume.unwrap_or(false),
            managed,
            depends_on,
            windows: Vec::new(),
        })
    }

    /// The settings back in input form (a defaulted grace or slow_min stays unset).
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
                _ => None,
            },
            cron: self.schedule.cron_expr().map(str::to_string),
            oncalendar: self.schedule.calendar_input().cloned(),
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
            slow_min: self.slow_min.map(text),
            manual_resume: self.manual_resume.then_some(true),
            depends_on: (!self.depends_on.is_empty()).then(|| self.depends_on.clone()),
        }
    }

    /// The maintenance window active at `t` for this check: its name and when the
    /// maintenance ends (windows that follow on without a gap count as one).
    pub fn maintenance_at(&self, t: Timestamp) -> Option<(String, Timestamp)> {
        super::maintenance::active(&self.windows, t)
    }

    /// `t`, or, when it falls inside maintenance, the maintenance's end plus `extra`
    /// (again, if that falls inside another window).
    pub fn after_maintenance(&self, t: Timestamp, extra: Duration) -> Timestamp {
        let mut t = t;
        for _ in 0..16 {
            match self.maintenance_at(t) {
                Some((_, end)) => t = super::maintenance::plus(end, extra),
                None => break,
            }
        }
        t
    }

    /// The check as the API shows it.
    pub fn to_json(&self, state: &State, now: Timestamp, ping_base: &str) -> Value {
        let (status, next_due, alert_at) = state.view(self, now);
        let fmt = |d: Duration| Value::String(duration::format(d));
        let opt = |d: Option<Duration>| d.map(fmt).unwrap_or(Value::Null);
        let time =
            |t: Option<Timestamp>| t.map(|t| Value::String(rfc3339(t))).unwrap_or(Value::Null);
        let interval = match &self.schedule {
            Schedule::Interval(d) => fmt(*d),
            _ => Value::Null,
        };
        let cron = json!(self.schedule.cron_expr());
        let oncalendar = json!(self.schedule.calendar_input());
        let tz = json!(self.schedule.tz_name());
        json!({
            "uuid": self.uuid.to_string(),
            "name": self.name,
            "slug": self.slug,
            "description": self.description,
            "owner": self.owner,
            "tags": self.tags,
            "interval": interval,
            "cron": cron,
            "oncalendar": oncalendar,
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
            "slow_min": fmt(self.slow_min()),
            "min_duration": opt(self.min_duration),
            "manual_resume": self.manual_resume,
            "depends_on": self.depends_on,
            "maintenance": self.maintenance_at(now).map(|(name, until)| json!({
                "name": name,
                "until": rfc3339(until),
            })),
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
            // Filled in by the registry, which holds the secret badge tokens come from.
            "badge_url": Value::Null,
            "managed": self.managed,
        })
    }
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
/// a schedule (`interval`, `cron`, `oncalendar`) replaces the one before.
pub fn merge_patch(current: &CheckSpec, patch: &Map<String, Value>) -> Result<CheckSpec, String> {
    const SCHEDULES: [&str; 3] = ["interval", "cron", "oncalendar"];
    let named: Vec<&str> = SCHEDULES
        .into_iter()
        .filter(|key| patch.contains_key(*key))
        .collect();
    if named.len() > 1 {
        return Err(format!("{}: give one schedule, not both", named.join(", ")));
    }
    let Ok(Value::Object(mut base)) = serde_json::to_value(current) else {
        return Err("the check's current settings cannot be read back; send them all".into());
    };
    if let Some(key) = named.first()
        && patch.get(*key).is_some_and(|v| !v.is_null())
    {
        for other in SCHEDULES.into_iter().filter(|other| other != key) {
            base.remove(other);
        }
        if *key == "interval" {
            base.remove("tz");
        }
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
        let inner = shorten(e.into_inner().to_string());
        if path == "." || inner.starts_with("unknown field") {
            inner
        } else {
            format!("{path}: {inner}")
        }
    })
}

/// serde's messages quote the value they refuse (`invalid type: string "…", expected
/// f64`); a huge value is cut in the middle, keeping what is expected.
fn shorten(message: String) -> String {
    const KEEP: usize = 300;
    if message.len() <= KEEP {
        return message;
    }
    let head = |text: &str, n: usize| text.chars().take(n).collect::<String>();
    match message.rfind(", expected ") {
        Some(i) if message.len() - i <= 1000 => {
            format!("{}…{}", head(&message[..i], 100), &message[i..])
        }
        _ => format!("{}…", head(&message, KEEP)),
    }
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
    fn an_oncalendar_schedule_is_a_string_or_a_list_with_a_tz() {
        let s = Settings::from_spec(
            &spec(json!({"name": "a", "oncalendar": "Mon..Fri *-*-* 02:00", "tz": "Europe/Paris"})),
            now(),
            false,
        )
        .unwrap();
        let v = s.to_json(&State::default(), now(), "http://h");
        assert_eq!(v["oncalendar"], "Mon..Fri *-*-* 02:00");
        assert_eq!(v["tz"], "Europe/Paris");
        assert_eq!(v["interval"], Value::Null);
        assert_eq!(v["cron"], Value::Null);
        // Weekdays at 02:00: the next two are a day apart (2026-01-01 is a Thursday).
        assert_eq!(s.default_grace, default_grace(Duration::from_secs(86_400)));
        let again = Settings::from_spec(&s.to_spec(), now(), false).unwrap();
        assert_eq!(
            again.to_json(&State::default(), now(), "http://h")["oncalendar"],
            v["oncalendar"]
        );

        let list = Settings::from_spec(
            &spec(json!({"name": "b", "oncalendar": ["Mon 09:00", "Fri 17:00"]})),
            now(),
            false,
        )
        .unwrap();
        let v = list.to_json(&State::default(), now(), "http://h");
        assert_eq!(v["oncalendar"], json!(["Mon 09:00", "Fri 17:00"]));
        assert_eq!(v["tz"], "UTC");
        // Other schedules show it as null, and a stored spec leaves it out.
        let interval =
            Settings::from_spec(&spec(json!({"name": "c", "interval": "1h"})), now(), false)
                .unwrap();
        assert_eq!(
            interval.to_json(&State::default(), now(), "http://h")["oncalendar"],
            Value::Null
        );
        assert!(
            serde_json::to_value(interval.to_spec())
                .unwrap()
                .get("oncalendar")
                .is_none()
        );

        let cases = [
            (
                json!({"name": "x", "oncalendar": "*-*-* 25:00"}),
                "oncalendar",
                "hour 25 is out of range",
            ),
            (
                json!({"name": "x", "oncalendar": "*-02-30"}),
                "oncalendar",
                "never elapses",
            ),
            (
                json!({"name": "x", "oncalendar": "daily", "tz": "Mars/Base"}),
                "tz",
                "Mars/Base",
            ),
            (
                json!({"name": "x", "oncalendar": "daily", "cron": "0 3 * * *"}),
                "cron, oncalendar",
                "one schedule",
            ),
            (
                json!({"name": "x", "oncalendar": "daily", "interval": "1h"}),
                "interval, oncalendar",
                "one schedule",
            ),
            (
                json!({"name": "x", "oncalendar": []}),
                "oncalendar",
                "empty",
            ),
        ];
        for (input, field, why) in cases {
            let err = Settings::from_spec(&spec(input.clone()), now(), false).unwrap_err();
            assert!(err.starts_with(field), "{input}: {err}");
            assert!(err.contains(why), "{input}: {err}");
        }
        let err = parse_spec(json!({"name": "x", "oncalendar": 5})).unwrap_err();
        assert!(err.starts_with("oncalendar:"), "{err}");
        // A PATCH with an oncalendar replaces an interval; two schedules are refused.
        let patch = json!({"oncalendar": "daily", "tz": "Europe/Paris"});
        let merged = merge_patch(&interval.to_spec(), patch.as_object().unwrap()).unwrap();
        assert!(merged.interval.is_none());
        Settings::from_spec(&merged, now(), false).unwrap();
        let both = json!({"oncalendar": "daily", "cron": "0 3 * * *"});
        assert!(merge_patch(&interval.to_spec(), both.as_object().unwrap()).is_err());
        let back = json!({"interval": "1h"});
        let merged = merge_patch(&s.to_spec(), back.as_object().unwrap()).unwrap();
        assert!(merged.oncalendar.is_none() && merged.tz.is_none());
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

    /// Every number is bounded: each refusal names the field, what is wrong and what
    /// is accepted.
    #[test]
    fn numbers_out_of_bounds_are_refused_with_the_field_and_the_bound() {
        let base = json!({"name": "x", "interval": "1h"});
        let with = |key: &str, value: Value| {
            let mut v = base.clone();
            v[key] = value;
            v
        };
        let long_name = "n".repeat(201);
        let cases = [
            (with("slow_factor", json!(1e300)), "slow_factor", "1000"),
            (with("slow_factor", json!(1000.5)), "slow_factor", "1000"),
            (with("slow_factor", json!(1.0)), "slow_factor", "above 1"),
            (
                json!({"name": "x", "interval": 18446744073709551615u64}),
                "interval",
                "3650d",
            ),
            (
                json!({"name": "x", "interval": "3651d"}),
                "interval",
                "3650d",
            ),
            (json!({"name": "x", "interval": -5}), "interval", "negative"),
            (json!({"name": "x", "interval": 1.5}), "interval", "whole"),
            (json!({"name": "x", "interval": 1e300}), "interval", "3650d"),
            (
                with("grace_period", json!("3651d")),
                "grace_period",
                "3650d",
            ),
            (
                with("max_runtime", json!(315_360_001)),
                "max_runtime",
                "3650d",
            ),
            (with("realert", json!("522w")), "realert", "3650d"),
            (
                with("min_duration", json!("9999d")),
                "min_duration",
                "3650d",
            ),
            (with("slow_min", json!("3651d")), "slow_min", "3650d"),
            (
                with("escalation", json!([{"after": "3651d", "channels": []}])),
                "escalation[0].after",
                "3650d",
            ),
            (
                with("alert_after_failures", json!(1001)),
                "alert_after_failures",
                "1000",
            ),
            (
                with("alert_after_failures", json!(0)),
                "alert_after_failures",
                "1",
            ),
            (json!({"name": long_name, "interval": "1h"}), "name", "200"),
            (json!({"name": "   ", "interval": "1h"}), "name", "required"),
            (
                with("description", json!("d".repeat(10_001))),
                "description",
                "10000",
            ),
            (with("owner", json!("o".repeat(201))), "owner", "200"),
            (with("tags", json!(vec!["t"; 51])), "tags", "50"),
            (with("tags", json!(["t".repeat(101)])), "tags", "100"),
            (with("channels", json!(vec!["c"; 101])), "channels", "100"),
            (
                json!({"name": "x", "cron": "0 0 */31 * 1#2"}),
                "cron",
                "never",
            ),
            (
                json!({"name": "x", "cron": "* ".repeat(600)}),
                "cron",
                "1000",
            ),
        ];
        for (input, field, bound) in cases {
            let err = parse_spec(input.clone())
                .and_then(|spec| Settings::from_spec(&spec, now(), false).map(|_| ()))
                .expect_err(&format!("{input} is refused"));
            assert!(err.starts_with(field), "{field}: {err}");
            assert!(err.contains(bound), "{field} names {bound}: {err}");
            assert!(err.len() < 400, "a short message: {err}");
        }
        // The bounds themselves are fine.
        let at_bounds = json!({
            "name": "n".repeat(200), "interval": "3650d", "grace_period": 315_360_000,
            "slow_factor": 1000, "alert_after_failures": 1000, "slow_min": "0s",
            "escalation": [{"after": "3650d", "channels": []}],
        });
        Settings::from_spec(&spec(at_bounds), now(), false).unwrap();
    }

    #[test]
    fn a_stored_check_with_a_wild_value_still_loads_clamped() {
        let stored = spec(json!({
            "name": "x", "interval": 18446744073709551615u64, "slow_factor": 1e300,
            "grace_period": "9999d", "alert_after_failures": 4_000_000_000u32,
        }));
        assert!(Settings::from_spec(&stored, now(), false).is_err());
        let s = Settings::from_stored(&stored, now(), false).unwrap();
        assert_eq!(s.slow_factor, SLOW_FACTOR_MAX);
        assert_eq!(s.grace(), MAX_DURATION);
        assert!(matches!(s.schedule, Schedule::Interval(d) if d == MAX_DURATION));
        assert_eq!(s.alert_after_failures, Some(ALERT_AFTER_FAILURES_MAX));
    }

    #[test]
    fn slow_min_defaults_to_one_second_and_round_trips() {
        let s = Settings::from_spec(&spec(json!({"name": "a", "interval": "1h"})), now(), false)
            .unwrap();
        assert_eq!(s.slow_min(), Duration::from_secs(1));
        let v = s.to_json(&State::default(), now(), "http://h");
        assert_eq!(v["slow_min"], "1s");
        assert_eq!(s.to_spec().slow_min, None, "a default stays unset");
        let stored = serde_json::to_value(s.to_spec()).unwrap();
        assert!(
            stored.get("slow_min").is_none(),
            "older versions can read it"
        );
        let patch = json!({"slow_min": "2s500ms"});
        let merged = merge_patch(&s.to_spec(), patch.as_object().unwrap()).unwrap();
        let s = Settings::from_spec(&merged, now(), false).unwrap();
        assert_eq!(s.slow_min(), Duration::from_millis(2500));
        assert_eq!(
            s.to_json(&State::default(), now(), "http://h")["slow_min"],
            "2s500ms"
        );
        let again = Settings::from_spec(&s.to_spec(), now(), false).unwrap();
        assert_eq!(again.slow_min(), Duration::from_millis(2500));
        let patch = json!({"slow_min": null});
        let merged = merge_patch(&s.to_spec(), patch.as_object().unwrap()).unwrap();
        let s = Settings::from_spec(&merged, now(), false).unwrap();
        assert_eq!(s.slow_min(), Duration::from_secs(1));
    }

    /// Config as code goes the same way: a `[[check]]` table as the config file reads it.
    #[test]
    fn a_config_file_check_takes_slow_min_and_is_bounded_too() {
        let table = |text: &str| {
            let table: toml::Table = toml::from_str(text).unwrap();
            parse_spec(serde_json::to_value(table).unwrap())
        };
        let spec = table("name = \"job\"\ninterval = \"1h\"\nslow_min = \"2s\"\n").unwrap();
        let s = Settings::from_spec(&spec, now(), true).unwrap();
        assert_eq!(s.slow_min(), Duration::from_secs(2));
        let spec = table("name = \"job\"\ninterval = \"1h\"\nslow_factor = 1e300\n").unwrap();
        let err = Settings::from_spec(&spec, now(), true).unwrap_err();
        assert!(
            err.starts_with("slow_factor: 1e300 is not accepted"),
            "{err}"
        );
        let spec = table("name = \"job\"\ninterval = 9223372036854775807\n").unwrap();
        let err = Settings::from_spec(&spec, now(), true).unwrap_err();
        assert!(err.contains("at most 3650d"), "{err}");
        let err = table("name = \"job\"\ninterval = -1\n").unwrap_err();
        assert!(err.starts_with("interval: -1 is negative"), "{err}");
    }

    #[test]
    fn errors_echo_at_most_a_short_piece_of_a_huge_value() {
        let huge = "x".repeat(100_000);
        for input in [
            json!({"name": "x", "interval": huge}),
            json!({"name": "x", "interval": "1h", "uuid": huge}),
            json!({"name": "x", "interval": "1h", "slow_factor": huge}),
            json!({"name": "x", "cron": "0 3 * * *", "tz": huge}),
            json!({"name": "x", "interval": "1h", "grace_period": huge}),
        ] {
            let err = parse_spec(input)
                .and_then(|spec| Settings::from_spec(&spec, now(), false).map(|_| ()))
                .unwrap_err();
            assert!(err.len() < 400, "{}", &err[..400]);
        }
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
