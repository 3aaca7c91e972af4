//! Schedules: an interval or a cron expression in a time zone → due times. Pure.
//! (Interval-only placeholder; the cron engine lands separately.)

use crate::cli::ScheduleArgs;
use jiff::{SignedDuration, Timestamp};
use std::time::Duration;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScheduleError {
    pub field: &'static str,
    pub message: String,
}

impl std::fmt::Display for ScheduleError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

#[derive(Debug, Clone)]
pub enum Schedule {
    Interval(Duration),
    Cron(CronSchedule),
}

#[derive(Debug, Clone)]
pub struct CronSchedule {
    expr: String,
    tz: String,
}

impl Schedule {
    pub fn interval(d: Duration) -> Result<Schedule, ScheduleError> {
        if d < Duration::from_secs(1) {
            return Err(ScheduleError {
                field: "interval",
                message: "interval must be at least 1s".into(),
            });
        }
        Ok(Schedule::Interval(d))
    }
    pub fn parse_interval(text: &str) -> Result<Schedule, ScheduleError> {
        let d = crate::duration::parse(text).map_err(|e| ScheduleError {
            field: "interval",
            message: e.to_string(),
        })?;
        Schedule::interval(d)
    }
    pub fn cron(expr: &str, tz: &str) -> Result<Schedule, ScheduleError> {
        let _ = CronSchedule {
            expr: expr.into(),
            tz: tz.into(),
        };
        Err(ScheduleError {
            field: "cron",
            message: "cron schedules are not supported yet".into(),
        })
    }
    pub fn parse_cli(text: &str, tz: &str) -> Result<Schedule, ScheduleError> {
        Schedule::parse_interval(text).or_else(|_| Schedule::cron(text, tz))
    }
    pub fn next_after(&self, t: Timestamp) -> Option<Timestamp> {
        match self {
            Schedule::Interval(d) => t.checked_add(SignedDuration::try_from(*d).ok()?).ok(),
            Schedule::Cron(_) => None,
        }
    }
    pub fn period(&self, _now: Timestamp) -> Duration {
        match self {
            Schedule::Interval(d) => *d,
            Schedule::Cron(_) => Duration::from_secs(86400),
        }
    }
    pub fn cron_expr(&self) -> Option<&str> {
        match self {
            Schedule::Interval(_) => None,
            Schedule::Cron(c) => Some(&c.expr),
        }
    }
    pub fn tz_name(&self) -> Option<&str> {
        match self {
            Schedule::Interval(_) => None,
            Schedule::Cron(c) => Some(&c.tz),
        }
    }
}

pub fn default_grace(period: Duration) -> Duration {
    let secs = 6.15 * period.as_secs_f64().powf(0.56);
    Duration::from_secs((secs.round() as u64).max(1))
}

pub fn cmd_schedule(args: &ScheduleArgs) -> i32 {
    let _ = args;
    2
}
