//! The status machine of one check: pings and the passing of time move it; it says
//! which flips to record and which alerts to send. Pure: the time is passed in.
//!
//! Stored health is one of `new`, `up`, `down`, `paused`; `running` and `late` are
//! derived for display (an open run; a due time passed within the grace period).

use jiff::{SignedDuration, Timestamp};
use serde::{Deserialize, Serialize};
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
}

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
}

fn plus(t: Timestamp, d: Duration) -> Timestamp {
    SignedDuration::try_from(d)
        .ok()
        .and_then(|d| t.checked_add(d).ok())
        .unwrap_or(Timestamp::MAX)
}

fn seconds_between(from: Timestamp, to: Timestamp) -> f64 {
    (to.as_millisecond() - from.as_millisecond()) as f64 / 1000.0
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

    /// Seconds after which a run is slow, when slow detection applies.
    pub fn slow_threshold(&self, s: &Settings) -> Option<f64> {
        if !s.slow || self.durations.len() < SLOW_MIN_RUNS {
            return None;
        }
        self.median_duration().map(|m| m * s.slow_factor)
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
            let alert_at = self.held(plus(run.start, s.max_runtime()));
            return (Status::Running, self.next_due(s), Some(alert_at));
        }
        match self.health {
            Health::New => (Status::New, None, None),
            Health::Down | Health::Paused => (Status::Down, None, None),
            Health::Up => {
                let Some(next_due) = self.next_due(s) else {
                    return (Status::Up, None, None);
                };
                let alert_at = self.held(plus(next_due, s.grace()));
                let status = if now >= alert_at {
                    Status::Down
                } else if now >= next_due {
                    Status::Late
                } else {
                    Status::Up
                };
                (status, Some(next_due), Some(alert_at))
            }
        }
    }

    fn held(&self, t: Timestamp) -> Timestamp {
        match self.hold_until {
            Some(hold) if hold > t => hold,
            _ => t,
        }
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
            consider(self.held(plus(run.start, s.max_runtime())));
            if let (false, Some(threshold)) = (run.slow_alerted, self.slow_threshold(s)) {
                consider(plus(run.start, Duration::from_secs_f64(threshold.max(0.0))));
            }
        } else if let (Health::Up, Some(next_due)) = (self.health, self.next_due(s)) {
            consider(self.held(plus(next_due, s.grace())));
        }
        if let (Health::Down, Some(down)) = (self.health, &self.down) {
            if let Some(realert) = s.realert {
                consider(plus(down.last_alert, realert));
            }
            if let Some(step) = s.escalation.get(down.escalated) {
                consider(plus(down.since, step.after));
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
        if self.health == Health::Down {
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
    pub fn apply_ping(&mut self, s: &Settings, ping: &Ping) -> Outcome {
        let mut out = Outcome::default();
        self.n_pings += 1;
        let kind = ping.effective_kind();
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
                if pairs {
                    let run = self.run.take().expect("paired run exists");
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
                    self.failures += 1;
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
            && let Some(threshold) = self.slow_threshold(s)
            && duration > threshold
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

    fn slow_reason(&self, s: &Settings, seconds: f64) -> String {
        format!(
            "the run has taken {}, over {}× the median of {}",
            seconds_text(seconds),
            s.slow_factor,
            seconds_text(self.median_duration().unwrap_or_default())
        )
    }

    /// Does whatever is due at `now`: missed, stuck, slow, repeats and escalations.
    pub fn tick(&mut self, s: &Settings, now: Timestamp) -> Outcome {
        let mut out = Outcome::default();
        if self.health == Health::Paused {
            return out;
        }
        if let Some(run) = self.open_run().cloned() {
            if !run.slow_alerted
                && let Some(threshold) = self.slow_threshold(s)
                && now >= plus(run.start, Duration::from_secs_f64(threshold.max(0.0)))
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
            if now >= self.held(plus(run.start, s.max_runtime())) {
                if let Some(r) = self.run.as_mut() {
                    r.stuck = true;
                }
                self.go_down(now, "stuck".into(), &mut out);
            }
        } else if let (Health::Up, Some(next_due)) = (self.health, self.next_due(s))
            && now >= self.held(plus(next_due, s.grace()))
        {
            self.go_down(now, "missed".into(), &mut out);
        }
        if self.health == Health::Down
            && let Some(down) = self.down.as_mut()
        {
            if let Some(realert) = s.realert
                && now >= plus(down.last_alert, realert)
            {
                down.repeats += 1;
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

fn seconds_text(seconds: f64) -> String {
    if seconds >= 1.0 {
        crate::duration::format(Duration::from_secs(seconds.round() as u64))
    } else {
        format!("{}ms", (seconds * 1000.0).round() as u64)
    }
}
