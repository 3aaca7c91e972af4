//! The status machine of one check: pings and the passing of time move it; it says
//! which flips to record and which alerts to send. Pure: the time is passed in.
//!
//! Stored health is one of `new`, `up`, `down`, `paused`; `running` and `late` are
//! derived for display (an open run; a due time passed within the grace period).

use jiff::{SignedDuration, Timestamp};
use serde::{Deserialize, Serialize};
use std::collections::VecDeque;
use std::time::Duration;

use super::check::Settings;

/// How many successful run durations the slow threshold looks at.
pub const DURATION_HISTORY: usize = 20;
/// Successful runs needed before a run can be called slow.
pub const SLOW_MIN_RUNS: usize = 5;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum Health {
    #[default]
    New,
    Up,
    Down,
    Paused,
}

impl Health {
    pub fn as_str(self) -> &'static str {
        match self {
            Health::New => "new",
            Health::Up => "up",
            Health::Down => "down",
            Health::Paused => "paused",
        }
    }
}

/// What the API shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    New,
    Up,
    Late,
    Down,
    Running,
    Paused,
}

impl Status {
    pub const ALL: [Status; 6] = [
        Status::New,
        Status::Up,
        Status::Late,
        Status::Down,
        Status::Running,
        Status::Paused,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Status::New => "new",
            Status::Up => "up",
            Status::Late => "late",
            Status::Down => "down",
            Status::Running => "running",
            Status::Paused => "paused",
        }
    }
}

/// A started run with no end yet.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Run {
    pub start: Timestamp,
    pub rid: Option<String>,
    #[serde(default)]
    pub slow_alerted: bool,
    /// Ran past `max_runtime`: alerted (or the check was already down) and no longer "running".
    #[serde(default)]
    pub stuck: bool,
}

/// The current down period.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DownPeriod {
    pub since: Timestamp,
    pub reason: String,
    /// Repeats sent so far (`realert`).
    pub repeats: u32,
    /// When the last `down` alert of this period went out (first or repeat).
    pub last_alert: Timestamp,
    /// Escalation steps already taken.
    pub escalated: usize,
    /// Channels named by escalation steps taken; they hear the recovery too.
    pub extra_channels: Vec<String>,
    /// The first `down` alert of this period, held back: by a maintenance window (it
    /// goes when the window ends) or by a dependency that is down (it goes when the
    /// dependency recovers, is paused or is deleted). Repeats wait too.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub held: Option<Held>,
}

/// Why a `down` alert is held, and since when.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Held {
    /// `dependency <name> down` or `maintenance <name>`.
    pub reason: String,
    pub at: Timestamp,
    /// The dependency's name (else a maintenance window holds it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dependency: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct State {
    pub health: Health,
    pub last_ping: Option<Timestamp>,
    pub run: Option<Run>,
    /// Consecutive failures.
    pub failures: u32,
    pub last_duration: Option<f64>,
    /// The last successful run durations in seconds, oldest first.
    pub durations: Vec<f64>,
    pub down: Option<DownPeriod>,
    /// After a restart: no alert before this time (pings may have been refused meanwhile).
    pub hold_until: Option<Timestamp>,
    pub n_pings: u64,
    /// Bumped each time the state is stored, so the newest stored copy can be told.
    #[serde(default)]
    pub seq: u64,
    /// The `rid`s of the last runs ended, newest last: an end ping retried after an
    /// unknown outcome (a timeout, a 503) is answered and changes nothing.
    #[serde(default, skip_serializing_if = "VecDeque::is_empty")]
    pub ended_rids: VecDeque<String>,
    /// The slot ledger (§6): which slots are judged so far.
    #[serde(default, skip_serializing_if = "super::slots::Ledger::is_empty")]
    pub slots: super::slots::Ledger,
}

/// Ended `rid`s remembered per check.
const ENDED_RIDS: usize = 16;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PingKind {
    Start,
    Success,
    Fail,
    Log,
}

impl PingKind {
    pub fn as_str(self) -> &'static str {
        match self {
            PingKind::Start => "start",
            PingKind::Success => "success",
            PingKind::Fail => "fail",
            PingKind::Log => "log",
        }
    }
}

/// A ping as the status machine sees it.
#[derive(Debug, Clone, PartialEq)]
pub struct Ping {
    /// `Success` and `Fail` here are the URL's word; an exit code decides for itself.
    pub kind: PingKind,
    pub exit_code: Option<u8>,
    pub rid: Option<String>,
    pub at: Timestamp,
}

impl Ping {
    /// The kind recorded: an exit code turns into success (0) or fail.
    pub fn effective_kind(&self) -> PingKind {
        match (self.kind, self.exit_code) {
            (PingKind::Success | PingKind::Fail, Some(0)) => PingKind::Success,
            (PingKind::Success | PingKind::Fail, Some(_)) => PingKind::Fail,
            (kind, _) => kind,
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Flip {
    pub at: Timestamp,
    pub from: Health,
    pub to: Health,
    pub reason: String,
}

/// Which channels an alert goes to.
#[derive(Debug, Clone, PartialEq)]
pub enum Targets {
    /// The check's channels (all channels when it names none).
    Check,
    /// The check's channels and these (recovery and repeats after an escalation).
    CheckAnd(Vec<String>),
    /// Only these (an escalation step).
    Only(Vec<String>),
}

#[derive(Debug, Clone, PartialEq)]
pub struct Alert {
    /// `down`, `up`, `slow` or `too_fast`.
    pub event: &'static str,
    pub reason: Option<String>,
    pub repeat: u32,
    pub at: Timestamp,
    pub targets: Targets,
}

/// What a ping or the passing of time did.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Outcome {
    pub flips: Vec<Flip>,
    pub alerts: Vec<Alert>,
    /// The finished run's duration in seconds, when this ping ended a known run.
    pub duration: Option<f64>,
    /// Alerts held back (not sent), each with why: the notification list shows them.
    pub held: Vec<(Alert, String)>,
}

fn plus(t: Timestamp, d: Duration) -> Timestamp {
    SignedDuration::try_from(d)
        .ok()
        .and_then(|d| t.checked_add(d).ok())
        .unwrap_or(Timestamp::MAX)
}

fn seconds_between(from: Timestamp, to: Timestamp) -> f64 {
    // Both within ±10^15 ms, so the difference fits.
    (to.as_millisecond() - from.as_millisecond()) as f64 / 1000.0
}

/// Seconds to whole milliseconds, saturating: NaN and negatives are 0, anything past
/// `u64::MAX` ms is `u64::MAX` ms (`as` saturates; `Duration::from_secs_f64` panics).
fn whole_ms(seconds: f64) -> u64 {
    (seconds * 1000.0).round() as u64
}

pub fn median(values: &[f64]) -> Option<f64> {
    if values.is_empty() {
        return None;
    }
    let mut sorted = values.to_vec();
    sorted.sort_by(|a, b| a.total_cmp(b));
    let mid = sorted.len() / 2;
    Some(if sorted.len() % 2 == 1 {
        sorted[mid]
    } else {
        (sorted[mid - 1] + sorted[mid]) / 2.0
    })
}

impl State {
    pub fn median_duration(&self) -> Option<f64> {
        median(&self.durations)
    }

    /// How long a run may take before it is slow, when slow detection applies: over
    /// `slow_factor` × the median and over `slow_min`, to the millisecond.
    pub fn slow_after(&self, s: &Settings) -> Option<Duration> {
        if !s.slow || self.durations.len() < SLOW_MIN_RUNS {
            return None;
        }
        let by_median = Duration::from_millis(whole_ms(self.median_duration()? * s.slow_factor));
        Some(by_median.max(s.slow_min()))
    }

    /// [`State::slow_after`] in seconds, as the API shows it (`0.009`, not
    /// `0.009000000000000001`).
    pub fn slow_threshold(&self, s: &Settings) -> Option<f64> {
        self.slow_after(s).map(|d| d.as_millis() as f64 / 1000.0)
    }

    fn open_run(&self) -> Option<&Run> {
        self.run.as_ref().filter(|r| !r.stuck)
    }

    /// When the next success is due, from the last success or failure ping.
    pub fn next_due(&self, s: &Settings) -> Option<Timestamp> {
        if self.health != Health::Up {
            return None;
        }
        s.schedule.next_after(self.last_ping?)
    }

    /// What the API shows: status, `next_due`, `alert_at`.
    pub fn view(
        &self,
        s: &Settings,
        now: Timestamp,
    ) -> (Status, Option<Timestamp>, Option<Timestamp>) {
        if self.health == Health::Paused {
            return (Status::Paused, None, None);
        }
        if let Some(run) = self.open_run() {
            let alert_at = self.held(s, plus(run.start, s.max_runtime()));
            return (Status::Running, self.next_due(s), Some(alert_at));
        }
        match self.health {
            Health::New => (Status::New, None, None),
            Health::Down | Health::Paused => (Status::Down, None, None),
            Health::Up => {
                let Some(next_due) = self.next_due(s) else {
                    return (Status::Up, None, None);
                };
                let alert_at = self.held(s, plus(next_due, s.grace()));
                if now >= alert_at {
                    // Missed, and the engine has not ticked yet: down shows no times.
                    return (Status::Down, None, None);
                }
                let status = if now >= next_due {
                    Status::Late
                } else {
                    Status::Up
                };
                (status, Some(next_due), Some(alert_at))
            }
        }
    }

    /// When a deadline at `t` may alert: not before `hold_until` (after a restart), and,
    /// when it falls inside a maintenance window, at the window's end plus the grace.
    fn held(&self, s: &Settings, t: Timestamp) -> Timestamp {
        let t = match self.hold_until {
            Some(hold) if hold > t => hold,
            _ => t,
        };
        s.after_maintenance(t, s.grace())
    }

    /// When a held `down` alert may go (a maintenance hold: the window's end; a
    /// dependency's hold: never by time).
    fn held_until(&self, s: &Settings) -> Option<Timestamp> {
        let held = self.down.as_ref()?.held.as_ref()?;
        if held.dependency.is_some() {
            return None;
        }
        Some(s.maintenance_at(held.at).map_or(held.at, |(_, end)| end))
    }

    /// Holds the first `down` alert of the current down period (the registry decides).
    pub fn hold(&mut self, reason: String, dependency: Option<String>, at: Timestamp) {
        if let Some(down) = self.down.as_mut() {
            down.held = Some(Held {
                reason,
                at,
                dependency,
            });
        }
    }

    /// Sends the held `down` alert now, if the check is still down.
    pub fn release(&mut self, now: Timestamp) -> Outcome {
        let mut out = Outcome::default();
        if self.health != Health::Down {
            return out;
        }
        if let Some(down) = self.down.as_mut()
            && down.held.take().is_some()
        {
            down.last_alert = now;
            out.alerts.push(Alert {
                event: "down",
                reason: Some(down.reason.clone()),
                repeat: 0,
                at: now,
                targets: Targets::Check,
            });
        }
        out
    }

    /// The earliest instant at which `tick` has something to do.
    pub fn next_deadline(&self, s: &Settings) -> Option<Timestamp> {
        let mut earliest: Option<Timestamp> = None;
        let mut consider = |t: Timestamp| {
            if earliest.is_none_or(|e| t < e) {
                earliest = Some(t);
            }
        };
        if self.health == Health::Paused {
            return None;
        }
        if let Some(run) = self.open_run() {
            consider(self.held(s, plus(run.start, s.max_runtime())));
            if let (false, Some(threshold)) = (run.slow_alerted, self.slow_after(s)) {
                consider(plus(run.start, threshold));
            }
        } else if let (Health::Up, Some(next_due)) = (self.health, self.next_due(s)) {
            consider(self.held(s, plus(next_due, s.grace())));
        }
        if let (Health::Down, Some(down)) = (self.health, &self.down) {
            if down.held.is_some() {
                if let Some(until) = self.held_until(s) {
                    consider(until);
                }
            } else {
                // Repeats and escalations wait for the end of a maintenance window.
                if let Some(realert) = s.realert {
                    consider(s.after_maintenance(plus(down.last_alert, realert), Duration::ZERO));
                }
                if let Some(step) = s.escalation.get(down.escalated) {
                    consider(s.after_maintenance(plus(down.since, step.after), Duration::ZERO));
                }
            }
        }
        earliest
    }

    fn go_down(&mut self, at: Timestamp, reason: String, out: &mut Outcome) {
        if self.health == Health::Down {
            return;
        }
        out.flips.push(Flip {
            at,
            from: self.health,
            to: Health::Down,
            reason: reason.clone(),
        });
        out.alerts.push(Alert {
            event: "down",
            reason: Some(reason.clone()),
            repeat: 0,
            at,
            targets: Targets::Check,
        });
        self.health = Health::Down;
        self.down = Some(DownPeriod {
            since: at,
            reason,
            repeats: 0,
            last_alert: at,
            escalated: 0,
            extra_channels: Vec::new(),
            held: None,
        });
    }

    fn go_up(&mut self, at: Timestamp, out: &mut Outcome) {
        if self.health == Health::Up {
            return;
        }
        out.flips.push(Flip {
            at,
            from: self.health,
            to: Health::Up,
            reason: "success".into(),
        });
        // A recovery is news only to those who heard of the failure: not after a held
        // `down` alert.
        let held = self.down.as_ref().is_some_and(|d| d.held.is_some());
        if self.health == Health::Down && !held {
            let extra = self
                .down
                .take()
                .map(|d| d.extra_channels)
                .unwrap_or_default();
            out.alerts.push(Alert {
                event: "up",
                reason: None,
                repeat: 0,
                at,
                targets: if extra.is_empty() {
                    Targets::Check
                } else {
                    Targets::CheckAnd(extra)
                },
            });
        }
        self.health = Health::Up;
        self.down = None;
    }

    /// Applies one ping.
    /// Whether this is an end ping of a run that has already ended (the same `rid`).
    pub fn is_repeated_end(&self, ping: &Ping) -> bool {
        matches!(ping.effective_kind(), PingKind::Success | PingKind::Fail)
            && ping
                .rid
                .as_ref()
                .is_some_and(|rid| self.ended_rids.iter().any(|e| e == rid))
    }

    pub fn apply_ping(&mut self, s: &Settings, ping: &Ping) -> Outcome {
        let mut out = Outcome::default();
        self.n_pings = self.n_pings.saturating_add(1);
        let kind = ping.effective_kind();
        if matches!(kind, PingKind::Success | PingKind::Fail)
            && let Some(rid) = &ping.rid
        {
            self.ended_rids.push_back(rid.clone());
            while self.ended_rids.len() > ENDED_RIDS {
                self.ended_rids.pop_front();
            }
        }
        if self.health == Health::Paused && s.manual_resume {
            // Recorded (the caller keeps the ping), and nothing more: only `resume` ends
            // this pause.
            return out;
        }
        match kind {
            PingKind::Log => {}
            PingKind::Start => {
                if self.health != Health::Paused {
                    self.run = Some(Run {
                        start: ping.at,
                        rid: ping.rid.clone(),
                        slow_alerted: false,
                        stuck: false,
                    });
                    self.hold_until = None;
                }
            }
            PingKind::Success | PingKind::Fail => {
                self.hold_until = None;
                let mut slow_alerted = false;
                let pairs = match (&self.run, &ping.rid) {
                    (Some(run), Some(rid)) => run.rid.as_deref() == Some(rid.as_str()),
                    (Some(_), None) => true,
                    (None, _) => false,
                };
                if pairs && let Some(run) = self.run.take() {
                    slow_alerted = run.slow_alerted;
                    out.duration = Some(seconds_between(run.start, ping.at).max(0.0));
                }
                if out.duration.is_some() {
                    self.last_duration = out.duration;
                }
                self.last_ping = Some(ping.at);
                let reason = match ping.exit_code {
                    Some(code) if code != 0 => format!("exit code {code}"),
                    _ => "failed".to_string(),
                };
                if kind == PingKind::Fail {
                    self.failures = self.failures.saturating_add(1);
                    let tolerated = s.alert_after_failures.is_some_and(|n| self.failures < n);
                    if tolerated {
                        if self.health != Health::Down {
                            self.go_up(ping.at, &mut out);
                        }
                    } else {
                        self.go_down(ping.at, reason, &mut out);
                    }
                } else {
                    self.failures = 0;
                    if let Some(duration) = out.duration {
                        self.check_run_length(s, duration, slow_alerted, ping.at, &mut out);
                        self.durations.push(duration);
                        if self.durations.len() > DURATION_HISTORY {
                            let excess = self.durations.len() - DURATION_HISTORY;
                            self.durations.drain(..excess);
                        }
                    }
                    self.go_up(ping.at, &mut out);
                }
            }
        }
        out
    }

    fn check_run_length(
        &self,
        s: &Settings,
        duration: f64,
        slow_alerted: bool,
        at: Timestamp,
        out: &mut Outcome,
    ) {
        if let Some(min) = s.min_duration
            && duration < min.as_secs_f64()
        {
            out.alerts.push(Alert {
                event: "too_fast",
                reason: Some(format!(
                    "the run took {}, less than min_duration {}",
                    seconds_text(duration),
                    crate::duration::format(min)
                )),
                repeat: 0,
                at,
                targets: Targets::Check,
            });
        }
        if !slow_alerted
            && let Some(threshold) = self.slow_after(s)
            && Duration::from_millis(whole_ms(duration)) > threshold
        {
            out.alerts.push(Alert {
                event: "slow",
                reason: Some(self.slow_reason(s, duration)),
                repeat: 0,
                at,
                targets: Targets::Check,
            });
        }
    }

    /// `the run has taken 2s500ms, over 3 × the median of 800ms (2s400ms)`, or, when
    /// the floor is what it is over, `…, over slow_min 1s (3 × the median of 3ms is 9ms)`;
    /// every time to the millisecond.
    fn slow_reason(&self, s: &Settings, seconds: f64) -> String {
        let median = self.median_duration().unwrap_or_default();
        let by_median = seconds_text(median * s.slow_factor);
        let taken = seconds_text(seconds);
        let median = seconds_text(median);
        let factor = s.slow_factor;
        if self.slow_after(s).is_some_and(|t| t > s.slow_min()) {
            format!(
                "the run has taken {taken}, over {factor} × the median of {median} ({by_median})"
            )
        } else {
            format!(
                "the run has taken {taken}, over slow_min {} ({factor} × the median of {median} is {by_median})",
                seconds_text(s.slow_min().as_secs_f64())
            )
        }
    }

    /// Does whatever is due at `now`: missed, stuck, slow, repeats and escalations.
    pub fn tick(&mut self, s: &Settings, now: Timestamp) -> Outcome {
        let mut out = Outcome::default();
        if self.health == Health::Paused {
            return out;
        }
        if let Some(run) = self.open_run().cloned() {
            if !run.slow_alerted
                && let Some(threshold) = self.slow_after(s)
                && now >= plus(run.start, threshold)
            {
                out.alerts.push(Alert {
                    event: "slow",
                    reason: Some(self.slow_reason(s, seconds_between(run.start, now))),
                    repeat: 0,
                    at: now,
                    targets: Targets::Check,
                });
                if let Some(r) = self.run.as_mut() {
                    r.slow_alerted = true;
                }
            }
            if now >= self.held(s, plus(run.start, s.max_runtime())) {
                if let Some(r) = self.run.as_mut() {
                    r.stuck = true;
                }
                self.go_down(now, "stuck".into(), &mut out);
            }
        } else if let (Health::Up, Some(next_due)) = (self.health, self.next_due(s))
            && now >= self.held(s, plus(next_due, s.grace()))
        {
            self.go_down(now, "missed".into(), &mut out);
        }
        if self.health == Health::Down && self.down.as_ref().is_some_and(|d| d.held.is_some()) {
            // A maintenance hold ends with its window (unless another follows).
            if let Some(until) = self.held_until(s)
                && now >= until
            {
                if s.maintenance_at(now).is_some() {
                    if let Some(held) = self.down.as_mut().and_then(|d| d.held.as_mut()) {
                        held.at = now;
                    }
                } else {
                    let released = self.release(now);
                    out.alerts.extend(released.alerts);
                }
            }
        } else if self.health == Health::Down
            && s.maintenance_at(now).is_none()
            && let Some(down) = self.down.as_mut()
        {
            if let Some(realert) = s.realert
                && now >= plus(down.last_alert, realert)
            {
                down.repeats = down.repeats.saturating_add(1);
                down.last_alert = now;
                out.alerts.push(Alert {
                    event: "down",
                    reason: Some(down.reason.clone()),
                    repeat: down.repeats,
                    at: now,
                    targets: if down.extra_channels.is_empty() {
                        Targets::Check
                    } else {
                        Targets::CheckAnd(down.extra_channels.clone())
                    },
                });
            }
            while let Some(step) = s.escalation.get(down.escalated) {
                if now < plus(down.since, step.after) {
                    break;
                }
                down.escalated += 1;
                for channel in &step.channels {
                    if !down.extra_channels.contains(channel) {
                        down.extra_channels.push(channel.clone());
                    }
                }
                out.alerts.push(Alert {
                    event: "down",
                    reason: Some(down.reason.clone()),
                    repeat: down.repeats,
                    at: now,
                    targets: Targets::Only(step.channels.clone()),
                });
            }
        }
        out
    }

    /// After a restart: a deadline that passed while the monitor was down gets one
    /// grace period from `now` before it alerts.
    pub fn on_startup(&mut self, s: &Settings, now: Timestamp) {
        let deadline = if let Some(run) = self.open_run() {
            Some(plus(run.start, s.max_runtime()))
        } else if self.health == Health::Up {
            self.next_due(s).map(|due| plus(due, s.grace()))
        } else {
            None
        };
        if deadline.is_some_and(|d| d <= now) {
            self.hold_until = Some(plus(now, s.grace()));
        }
    }

    pub fn pause(&mut self, at: Timestamp) -> Outcome {
        let mut out = Outcome::default();
        if self.health != Health::Paused {
            out.flips.push(Flip {
                at,
                from: self.health,
                to: Health::Paused,
                reason: "paused".into(),
            });
        }
        self.health = Health::Paused;
        self.run = None;
        self.down = None;
        self.hold_until = None;
        out
    }

    pub fn resume(&mut self, at: Timestamp) -> Outcome {
        let mut out = Outcome::default();
        if self.health == Health::Paused {
            out.flips.push(Flip {
                at,
                from: Health::Paused,
                to: Health::New,
                reason: "resumed".into(),
            });
            self.health = Health::New;
            self.failures = 0;
        }
        out
    }
}

/// A run's length in the canonical form, to the millisecond: `2s500ms`, `9ms`, `1h2m`.
fn seconds_text(seconds: f64) -> String {
    crate::duration::format(Duration::from_millis(whole_ms(seconds)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::serve::check::{Settings, parse_spec};
    use serde_json::json;

    fn t(s: &str) -> Timestamp {
        s.parse().unwrap()
    }

    fn settings(extra: serde_json::Value) -> Settings {
        let mut spec = json!({"name": "job", "interval": "1h", "grace_period": "10m"});
        for (k, v) in extra.as_object().unwrap() {
            spec[k] = v.clone();
        }
        Settings::from_spec(&parse_spec(spec).unwrap(), t("2026-01-01T00:00:00Z"), false).unwrap()
    }

    fn ping(kind: PingKind, code: Option<u8>, at: &str) -> Ping {
        Ping {
            kind,
            exit_code: code,
            rid: None,
            at: t(at),
        }
    }

    fn events(out: &Outcome) -> Vec<(&'static str, Option<String>, u32)> {
        out.alerts
            .iter()
            .map(|a| (a.event, a.reason.clone(), a.repeat))
            .collect()
    }

    #[test]
    fn new_check_never_alerts() {
        let s = settings(json!({}));
        let mut st = State::default();
        assert_eq!(
            st.view(&s, t("2030-01-01T00:00:00Z")),
            (Status::New, None, None)
        );
        assert_eq!(st.next_deadline(&s), None);
        assert_eq!(st.tick(&s, t("2030-01-01T00:00:00Z")), Outcome::default());
    }

    #[test]
    fn up_late_down_then_recovery() {
        let s = settings(json!({}));
        let mut st = State::default();
        let out = st.apply_ping(&s, &ping(PingKind::Success, None, "2026-01-01T00:00:00Z"));
        assert_eq!(out.flips.len(), 1, "new → up is a flip");
        assert!(out.alerts.is_empty(), "new → up alerts nobody");
        let due = t("2026-01-01T01:00:00Z");
        let alert_at = t("2026-01-01T01:10:00Z");
        assert_eq!(
            st.view(&s, t("2026-01-01T00:30:00Z")),
            (Status::Up, Some(due), Some(alert_at))
        );
        assert_eq!(st.view(&s, due), (Status::Late, Some(due), Some(alert_at)));
        assert_eq!(st.next_deadline(&s), Some(alert_at));
        assert!(
            st.tick(&s, t("2026-01-01T01:09:59Z")).alerts.is_empty(),
            "late alerts nobody"
        );
        assert_eq!(
            st.view(&s, alert_at),
            (Status::Down, None, None),
            "down shows no times, also before the engine ticks"
        );
        let out = st.tick(&s, alert_at);
        assert_eq!(events(&out), vec![("down", Some("missed".into()), 0)]);
        assert_eq!(st.view(&s, alert_at), (Status::Down, None, None));
        let out = st.apply_ping(&s, &ping(PingKind::Success, None, "2026-01-01T02:00:00Z"));
        assert_eq!(events(&out), vec![("up", None, 0)]);
        assert_eq!(st.health, Health::Up);
    }

    #[test]
    fn failures_go_down_at_once_with_the_reason() {
        let s = settings(json!({}));
        let mut st = State::default();
        let out = st.apply_ping(
            &s,
            &ping(PingKind::Success, Some(3), "2026-01-01T00:00:00Z"),
        );
        assert_eq!(events(&out), vec![("down", Some("exit code 3".into()), 0)]);
        let out = st.apply_ping(&s, &ping(PingKind::Fail, None, "2026-01-01T00:01:00Z"));
        assert!(out.alerts.is_empty(), "already down: no second alert");
        let mut st = State::default();
        let out = st.apply_ping(&s, &ping(PingKind::Fail, None, "2026-01-01T00:00:00Z"));
        assert_eq!(events(&out), vec![("down", Some("failed".into()), 0)]);
        assert_eq!(st.last_ping, Some(t("2026-01-01T00:00:00Z")));
    }

    #[test]
    fn alert_after_failures_tolerates_the_first_ones() {
        let s = settings(json!({"alert_after_failures": 3}));
        let mut st = State::default();
        for (i, at) in ["2026-01-01T00:00:00Z", "2026-01-01T01:00:00Z"]
            .iter()
            .enumerate()
        {
            let out = st.apply_ping(&s, &ping(PingKind::Fail, None, at));
            assert!(out.alerts.is_empty(), "failure {} is tolerated", i + 1);
            assert_eq!(st.health, Health::Up);
            assert_eq!(st.failures, i as u32 + 1);
        }
        assert_eq!(
            st.next_due(&s),
            Some(t("2026-01-01T02:00:00Z")),
            "a tolerated failure moves the deadline"
        );
        let out = st.apply_ping(&s, &ping(PingKind::Fail, None, "2026-01-01T02:00:00Z"));
        assert_eq!(events(&out), vec![("down", Some("failed".into()), 0)]);
        st.apply_ping(&s, &ping(PingKind::Success, None, "2026-01-01T03:00:00Z"));
        assert_eq!(st.failures, 0);
    }

    #[test]
    fn a_run_that_never_ends_is_stuck() {
        let s = settings(json!({"max_runtime": "30m"}));
        let mut st = State::default();
        st.apply_ping(&s, &ping(PingKind::Success, None, "2026-01-01T00:00:00Z"));
        st.apply_ping(&s, &ping(PingKind::Start, None, "2026-01-01T01:00:00Z"));
        let (status, next_due, alert_at) = st.view(&s, t("2026-01-01T01:05:00Z"));
        assert_eq!(status, Status::Running);
        assert_eq!(
            next_due,
            Some(t("2026-01-01T01:00:00Z")),
            "next_due as before the start"
        );
        assert_eq!(alert_at, Some(t("2026-01-01T01:30:00Z")));
        assert!(
            st.tick(&s, t("2026-01-01T01:15:00Z")).alerts.is_empty(),
            "running suspends the missed deadline"
        );
        let out = st.tick(&s, t("2026-01-01T01:30:00Z"));
        assert_eq!(events(&out), vec![("down", Some("stuck".into()), 0)]);
        assert_eq!(st.view(&s, t("2026-01-01T01:31:00Z")).0, Status::Down);
        let out = st.apply_ping(&s, &ping(PingKind::Success, None, "2026-01-01T01:40:00Z"));
        assert_eq!(events(&out), vec![("up", None, 0)]);
        assert_eq!(out.duration, Some(2400.0));
    }

    #[test]
    fn a_down_check_that_starts_runs_without_alert_and_recovers_at_the_end() {
        let s = settings(json!({}));
        let mut st = State::default();
        st.apply_ping(&s, &ping(PingKind::Fail, None, "2026-01-01T00:00:00Z"));
        let out = st.apply_ping(&s, &ping(PingKind::Start, None, "2026-01-01T00:10:00Z"));
        assert!(out.alerts.is_empty() && out.flips.is_empty());
        assert_eq!(st.view(&s, t("2026-01-01T00:11:00Z")).0, Status::Running);
        let out = st.apply_ping(&s, &ping(PingKind::Success, None, "2026-01-01T00:12:00Z"));
        assert_eq!(events(&out), vec![("up", None, 0)]);
    }

    #[test]
    fn rid_pairs_a_start_with_its_end() {
        let s = settings(json!({}));
        let mut st = State::default();
        let mut start = ping(PingKind::Start, None, "2026-01-01T00:00:00Z");
        start.rid = Some("a".into());
        st.apply_ping(&s, &start);
        let mut other = ping(PingKind::Success, None, "2026-01-01T00:00:05Z");
        other.rid = Some("b".into());
        assert_eq!(
            st.apply_ping(&s, &other).duration,
            None,
            "another run's end"
        );
        assert!(st.run.is_some(), "the run stays open");
        let mut end = ping(PingKind::Success, None, "2026-01-01T00:00:10Z");
        end.rid = Some("a".into());
        assert_eq!(st.apply_ping(&s, &end).duration, Some(10.0));
        assert_eq!(st.last_duration, Some(10.0));
    }

    #[test]
    fn log_and_start_change_no_deadline() {
        let s = settings(json!({}));
        let mut st = State::default();
        st.apply_ping(&s, &ping(PingKind::Success, None, "2026-01-01T00:00:00Z"));
        let before = st.next_due(&s);
        st.apply_ping(&s, &ping(PingKind::Log, None, "2026-01-01T00:30:00Z"));
        assert_eq!(st.next_due(&s), before);
        assert_eq!(st.last_ping, Some(t("2026-01-01T00:00:00Z")));
        assert_eq!(st.n_pings, 2);
    }

    #[test]
    fn pause_silences_and_a_ping_unpauses() {
        let s = settings(json!({}));
        let mut st = State::default();
        st.apply_ping(&s, &ping(PingKind::Success, None, "2026-01-01T00:00:00Z"));
        let out = st.pause(t("2026-01-01T00:01:00Z"));
        assert_eq!(out.flips[0].to, Health::Paused);
        assert_eq!(
            st.view(&s, t("2026-01-02T00:00:00Z")),
            (Status::Paused, None, None)
        );
        assert_eq!(st.next_deadline(&s), None);
        st.apply_ping(&s, &ping(PingKind::Start, None, "2026-01-01T00:02:00Z"));
        st.apply_ping(&s, &ping(PingKind::Log, None, "2026-01-01T00:03:00Z"));
        assert_eq!(st.health, Health::Paused, "start and log change nothing");
        let out = st.apply_ping(&s, &ping(PingKind::Success, None, "2026-01-01T00:04:00Z"));
        assert!(out.alerts.is_empty());
        assert_eq!(st.health, Health::Up);
        st.pause(t("2026-01-01T00:05:00Z"));
        let out = st.resume(t("2026-01-01T00:06:00Z"));
        assert_eq!(out.flips[0].to, Health::New);
        assert_eq!(st.view(&s, t("2026-01-01T00:07:00Z")).0, Status::New);
        st.pause(t("2026-01-01T00:08:00Z"));
        let out = st.apply_ping(&s, &ping(PingKind::Fail, None, "2026-01-01T00:09:00Z"));
        assert_eq!(
            events(&out),
            vec![("down", Some("failed".into()), 0)],
            "a failure un-pauses"
        );
    }

    #[test]
    fn manual_resume_keeps_a_paused_check_paused() {
        let s = settings(json!({"manual_resume": true}));
        let mut st = State::default();
        st.apply_ping(&s, &ping(PingKind::Success, None, "2026-01-01T00:00:00Z"));
        st.pause(t("2026-01-01T00:01:00Z"));
        for kind in [
            PingKind::Success,
            PingKind::Fail,
            PingKind::Start,
            PingKind::Log,
        ] {
            let out = st.apply_ping(&s, &ping(kind, None, "2026-01-01T00:02:00Z"));
            assert_eq!(out, Outcome::default(), "{kind:?}");
            assert_eq!(st.health, Health::Paused, "{kind:?}");
        }
        assert_eq!(st.n_pings, 5, "the pings are still counted");
        assert_eq!(st.last_ping, Some(t("2026-01-01T00:00:00Z")));
        let out = st.resume(t("2026-01-01T00:03:00Z"));
        assert_eq!(out.flips[0].to, Health::New);
        st.apply_ping(&s, &ping(PingKind::Success, None, "2026-01-01T00:04:00Z"));
        assert_eq!(st.health, Health::Up);
    }

    #[test]
    fn realert_repeats_while_down() {
        let s = settings(json!({"realert": "1h"}));
        let mut st = State::default();
        st.apply_ping(&s, &ping(PingKind::Fail, None, "2026-01-01T00:00:00Z"));
        let mut repeats = Vec::new();
        // Three hours, ticking each minute as the engine would at each deadline.
        let mut now = t("2026-01-01T00:00:00Z");
        let end = t("2026-01-01T03:00:00Z");
        while now <= end {
            if st.next_deadline(&s).is_some_and(|d| d <= now) {
                for (event, _, repeat) in events(&st.tick(&s, now)) {
                    repeats.push((event, repeat));
                }
            }
            now = now.checked_add(SignedDuration::from_secs(60)).unwrap();
        }
        assert_eq!(repeats, vec![("down", 1), ("down", 2), ("down", 3)]);
    }

    #[test]
    fn escalation_adds_channels_and_they_hear_the_recovery() {
        let s = settings(json!({"escalation": [{"after": "30m", "channels": ["pager"]}]}));
        let mut st = State::default();
        st.apply_ping(&s, &ping(PingKind::Fail, None, "2026-01-01T00:00:00Z"));
        assert_eq!(st.next_deadline(&s), Some(t("2026-01-01T00:30:00Z")));
        assert!(st.tick(&s, t("2026-01-01T00:29:00Z")).alerts.is_empty());
        let out = st.tick(&s, t("2026-01-01T00:30:00Z"));
        assert_eq!(out.alerts.len(), 1);
        assert_eq!(out.alerts[0].targets, Targets::Only(vec!["pager".into()]));
        assert!(
            st.tick(&s, t("2026-01-01T02:00:00Z")).alerts.is_empty(),
            "each step once"
        );
        let out = st.apply_ping(&s, &ping(PingKind::Success, None, "2026-01-01T03:00:00Z"));
        assert_eq!(
            out.alerts[0].targets,
            Targets::CheckAnd(vec!["pager".into()])
        );
    }

    fn run(st: &mut State, s: &Settings, start: &str, end: &str) -> Outcome {
        st.apply_ping(s, &ping(PingKind::Start, None, start));
        st.apply_ping(s, &ping(PingKind::Success, None, end))
    }

    #[test]
    fn slow_runs_alert_while_running_once_there_is_a_history() {
        let s = settings(json!({}));
        let mut st = State::default();
        for hour in 0..5 {
            let out = run(
                &mut st,
                &s,
                &format!("2026-01-01T0{hour}:00:00Z"),
                &format!("2026-01-01T0{hour}:00:10Z"),
            );
            assert!(out.alerts.is_empty());
        }
        assert_eq!(st.median_duration(), Some(10.0));
        assert_eq!(st.slow_threshold(&s), Some(30.0));
        st.apply_ping(&s, &ping(PingKind::Start, None, "2026-01-01T06:00:00Z"));
        assert_eq!(st.next_deadline(&s), Some(t("2026-01-01T06:00:30Z")));
        let out = st.tick(&s, t("2026-01-01T06:00:30Z"));
        assert_eq!(out.alerts.len(), 1);
        assert_eq!(out.alerts[0].event, "slow");
        assert_eq!(
            st.view(&s, t("2026-01-01T06:00:31Z")).0,
            Status::Running,
            "the check stays up"
        );
        let out = st.apply_ping(&s, &ping(PingKind::Success, None, "2026-01-01T06:01:00Z"));
        assert!(out.alerts.is_empty(), "one slow alert per run");
        let off = settings(json!({"slow": false}));
        assert_eq!(st.slow_threshold(&off), None);
    }

    #[test]
    fn too_fast_runs_alert() {
        let s = settings(json!({"min_duration": "1m"}));
        let mut st = State::default();
        let out = run(&mut st, &s, "2026-01-01T00:00:00Z", "2026-01-01T00:00:05Z");
        assert_eq!(events(&out)[0].0, "too_fast");
        let out = run(&mut st, &s, "2026-01-01T01:00:00Z", "2026-01-01T01:02:00Z");
        assert!(out.alerts.is_empty());
    }

    #[test]
    fn durations_keep_the_last_twenty() {
        let s = settings(json!({}));
        let mut st = State::default();
        for i in 0..25u32 {
            let start = t("2026-01-01T00:00:00Z")
                .checked_add(SignedDuration::from_hours(i as i64))
                .unwrap();
            st.apply_ping(
                &s,
                &Ping {
                    kind: PingKind::Start,
                    exit_code: None,
                    rid: None,
                    at: start,
                },
            );
            let end = start
                .checked_add(SignedDuration::from_secs(i as i64 + 1))
                .unwrap();
            st.apply_ping(
                &s,
                &Ping {
                    kind: PingKind::Success,
                    exit_code: None,
                    rid: None,
                    at: end,
                },
            );
        }
        assert_eq!(st.durations.len(), DURATION_HISTORY);
        assert_eq!(st.durations[0], 6.0);
    }

    #[test]
    fn after_a_restart_a_passed_deadline_gets_one_grace_period() {
        let s = settings(json!({}));
        let mut st = State::default();
        st.apply_ping(&s, &ping(PingKind::Success, None, "2026-01-01T00:00:00Z"));
        let restart = t("2026-01-01T05:00:00Z");
        st.on_startup(&s, restart);
        assert!(st.tick(&s, restart).alerts.is_empty());
        assert_eq!(st.next_deadline(&s), Some(t("2026-01-01T05:10:00Z")));
        let out = st.tick(&s, t("2026-01-01T05:10:00Z"));
        assert_eq!(events(&out), vec![("down", Some("missed".into()), 0)]);
        // A deadline still ahead is left alone.
        let mut st = State::default();
        st.apply_ping(&s, &ping(PingKind::Success, None, "2026-01-01T00:00:00Z"));
        st.on_startup(&s, t("2026-01-01T00:30:00Z"));
        assert_eq!(st.hold_until, None);
    }

    /// The issue: `slow_factor` 1e300 was accepted and, once there were five runs, the
    /// next `/start` panicked in `Duration::from_secs_f64`. Validation refuses it now,
    /// but a check stored before keeps whatever it has, so the math must not panic.
    #[test]
    fn a_wild_slow_factor_never_panics() {
        for factor in [1e300, f64::MAX, f64::INFINITY, f64::NAN, -1.0] {
            let mut s = settings(json!({}));
            s.slow_factor = factor;
            let mut st = State::default();
            for hour in 0..5 {
                run(
                    &mut st,
                    &s,
                    &format!("2026-01-01T0{hour}:00:00Z"),
                    &format!("2026-01-01T0{hour}:00:10Z"),
                );
            }
            st.apply_ping(&s, &ping(PingKind::Start, None, "2026-01-01T06:00:00Z"));
            let deadline = st.next_deadline(&s).expect("max_runtime at least");
            st.tick(&s, deadline);
            st.view(&s, deadline);
            s.to_json(&st, deadline, "http://h");
            st.apply_ping(&s, &ping(PingKind::Success, None, "2026-01-01T06:00:20Z"));
        }
    }

    #[test]
    fn wild_stored_durations_and_counters_never_panic() {
        let mut s = settings(json!({"realert": "1h"}));
        s.grace_period = Some(Duration::MAX);
        s.max_runtime = Some(Duration::MAX);
        s.realert = Some(Duration::MAX);
        s.min_duration = Some(Duration::MAX);
        s.default_grace = Duration::MAX;
        let mut st = State {
            durations: vec![f64::MAX; 5],
            failures: u32::MAX,
            n_pings: u64::MAX,
            ..State::default()
        };
        st.apply_ping(&s, &ping(PingKind::Fail, None, "2026-01-01T00:00:00Z"));
        st.apply_ping(&s, &ping(PingKind::Start, None, "2026-01-01T00:00:01Z"));
        let far = Timestamp::MAX;
        st.next_deadline(&s);
        st.tick(&s, far);
        st.on_startup(&s, far);
        if let Some(down) = st.down.as_mut() {
            down.repeats = u32::MAX;
        }
        s.realert = Some(Duration::from_secs(1));
        st.tick(&s, far);
        s.to_json(&st, far, "http://h");
        st.apply_ping(&s, &ping(PingKind::Success, None, "2026-01-01T00:00:02Z"));
    }

    #[test]
    fn slow_needs_the_floor_too_and_thresholds_are_rounded_to_the_millisecond() {
        let s = settings(json!({}));
        let mut st = State::default();
        // Runs of 3ms: 3 × the median is 9ms, under the 1s floor.
        for hour in 0..5 {
            run(
                &mut st,
                &s,
                &format!("2026-01-01T0{hour}:00:00Z"),
                &format!("2026-01-01T0{hour}:00:00.003Z"),
            );
        }
        assert_eq!(st.slow_threshold(&s), Some(1.0), "the slow_min floor");
        let out = run(
            &mut st,
            &s,
            "2026-01-01T06:00:00Z",
            "2026-01-01T06:00:00.500Z",
        );
        assert!(out.alerts.is_empty(), "500ms is over 9ms but under 1s");
        let out = run(
            &mut st,
            &s,
            "2026-01-01T07:00:00Z",
            "2026-01-01T07:00:01.200Z",
        );
        assert_eq!(
            events(&out),
            vec![(
                "slow",
                Some(
                    "the run has taken 1s200ms, over slow_min 1s (3 × the median of 3ms is 9ms)"
                        .into()
                ),
                0
            )]
        );
        // Without the floor the threshold is 3 × 3ms, shown as 0.009, not 0.009000000000000001.
        let s = settings(json!({"slow_min": "0s"}));
        let mut st = State::default();
        for hour in 0..5 {
            run(
                &mut st,
                &s,
                &format!("2026-01-01T0{hour}:00:00Z"),
                &format!("2026-01-01T0{hour}:00:00.003Z"),
            );
        }
        let threshold = st.slow_threshold(&s).unwrap();
        assert_eq!(threshold.to_string(), "0.009");
        assert_eq!(
            s.to_json(&st, t("2026-01-01T08:00:00Z"), "http://h")["slow_threshold"].to_string(),
            "0.009"
        );
        // A factor that does not divide evenly: 1.1 × 0.8s is 0.88s, not 0.8800000000000001.
        let s = settings(json!({"slow_factor": 1.1, "slow_min": "0s"}));
        let mut st = State::default();
        for hour in 0..5 {
            run(
                &mut st,
                &s,
                &format!("2026-01-01T0{hour}:00:00Z"),
                &format!("2026-01-01T0{hour}:00:00.800Z"),
            );
        }
        assert_eq!(st.slow_threshold(&s).unwrap().to_string(), "0.88");
        let out = run(
            &mut st,
            &s,
            "2026-01-01T06:00:00Z",
            "2026-01-01T06:00:02.5Z",
        );
        assert_eq!(
            events(&out)[0].1.as_deref(),
            Some("the run has taken 2s500ms, over 1.1 × the median of 800ms (880ms)")
        );
    }

    fn with_window(mut s: Settings, window: serde_json::Value) -> Settings {
        let spec = crate::serve::maintenance::parse_spec(window).unwrap();
        let w =
            crate::serve::maintenance::Window::from_spec(&spec, t("2026-01-01T00:00:00Z")).unwrap();
        s.windows.push(std::sync::Arc::new(w));
        s
    }

    #[test]
    fn a_deadline_inside_a_window_moves_to_its_end_plus_grace() {
        let s = with_window(
            settings(json!({})),
            json!({"name": "w", "checks": ["job"], "start": "2026-01-01T01:00:00Z", "end": "2026-01-01T02:00:00Z"}),
        );
        let mut st = State::default();
        st.apply_ping(&s, &ping(PingKind::Success, None, "2026-01-01T00:00:00Z"));
        // Due 01:00, alert at 01:10: inside, so 02:00 + 10m.
        assert_eq!(st.next_deadline(&s), Some(t("2026-01-01T02:10:00Z")));
        let (status, next_due, alert_at) = st.view(&s, t("2026-01-01T01:30:00Z"));
        assert_eq!(status, Status::Late);
        assert_eq!(next_due, Some(t("2026-01-01T01:00:00Z")));
        assert_eq!(alert_at, Some(t("2026-01-01T02:10:00Z")));
        assert!(st.tick(&s, t("2026-01-01T01:10:00Z")).alerts.is_empty());
        let out = st.tick(&s, t("2026-01-01T02:10:00Z"));
        assert_eq!(events(&out), vec![("down", Some("missed".into()), 0)]);
        assert!(crate::serve::maintenance::in_maintenance(
            &s,
            t("2026-01-01T01:00:00Z")
        ));
        assert!(!crate::serve::maintenance::in_maintenance(
            &s,
            t("2026-01-01T02:00:00Z")
        ));
    }

    #[test]
    fn a_held_alert_goes_at_the_windows_end_and_repeats_wait() {
        let s = with_window(
            settings(json!({"realert": "10m"})),
            json!({"name": "w", "checks": ["job"], "start": "2026-01-01T00:00:00Z", "end": "2026-01-01T01:00:00Z"}),
        );
        let mut st = State::default();
        let out = st.apply_ping(&s, &ping(PingKind::Fail, None, "2026-01-01T00:10:00Z"));
        assert_eq!(events(&out), vec![("down", Some("failed".into()), 0)]);
        // The registry decides to hold it (the window is open).
        st.hold("maintenance w".into(), None, t("2026-01-01T00:10:00Z"));
        assert_eq!(st.next_deadline(&s), Some(t("2026-01-01T01:00:00Z")));
        assert!(st.tick(&s, t("2026-01-01T00:30:00Z")).alerts.is_empty());
        let out = st.tick(&s, t("2026-01-01T01:00:00Z"));
        assert_eq!(events(&out), vec![("down", Some("failed".into()), 0)]);
        assert_eq!(st.next_deadline(&s), Some(t("2026-01-01T01:10:00Z")));
        // A check that recovers while its alert is held alerts nobody.
        let mut st = State::default();
        st.apply_ping(&s, &ping(PingKind::Fail, None, "2026-01-01T00:10:00Z"));
        st.hold(
            "dependency db down".into(),
            Some("db".into()),
            t("2026-01-01T00:10:00Z"),
        );
        assert_eq!(
            st.next_deadline(&s),
            None,
            "a dependency's hold waits for it"
        );
        let out = st.apply_ping(&s, &ping(PingKind::Success, None, "2026-01-01T00:20:00Z"));
        assert!(out.alerts.is_empty());
        assert_eq!(st.health, Health::Up);
        assert_eq!(st.release(t("2026-01-01T00:30:00Z")), Outcome::default());
    }

    #[test]
    fn median_of_even_and_odd_counts() {
        assert_eq!(median(&[]), None);
        assert_eq!(median(&[3.0, 1.0, 2.0]), Some(2.0));
        assert_eq!(median(&[4.0, 1.0, 2.0, 3.0]), Some(2.5));
    }
}
