//! Schedules: an interval, a cron expression or systemd calendar events in a time zone
//! → due times. Pure: every function takes the time it needs; only [`cmd_schedule`]
//! reads the clock.

mod cron;
mod grace;
pub mod oncalendar;

pub use cron::CronSchedule;
pub use grace::default_grace;
pub use oncalendar::{CalendarInput, OnCalendarSchedule};

use super::check::MAX_DURATION;
use crate::cli::ScheduleArgs;
use crate::duration;
use jiff::fmt::temporal::DateTimePrinter;
use jiff::tz::{Offset, TimeZone};
use jiff::{SignedDuration, Timestamp};
use std::fmt;
use std::io::{self, Write};
use std::time::Duration;

/// Why a schedule was refused. `field` names the input it is about: `"interval"`,
/// `"cron"`, `"oncalendar"` or `"tz"`; `message` is one sentence naming the value, what is wrong and
/// what is accepted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScheduleError {
    pub field: &'static str,
    pub message: String,
}

impl fmt::Display for ScheduleError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for ScheduleError {}

impl ScheduleError {
    fn new(field: &'static str, message: String) -> ScheduleError {
        ScheduleError { field, message }
    }
}

/// When a check is due: every so often, on a cron schedule or on systemd calendar
/// events in a time zone.
#[derive(Debug, Clone)]
pub enum Schedule {
    Interval(Duration),
    Cron(CronSchedule),
    OnCalendar(OnCalendarSchedule),
}

const INTERVAL_HINT: &str =
    "write a number and a unit from 1s to 3650d, e.g. 90s, 15m, 1h30m, 24h or 7d";

/// A value quoted for a message, cut to its first 40 characters: an error about a
/// megabyte of text need not send it back.
pub fn quote(text: &str) -> String {
    const SHOWN: usize = 40;
    if text.chars().count() <= SHOWN {
        format!("{text:?}")
    } else {
        let head: String = text.chars().take(SHOWN).collect();
        format!("{head:?}… ({} characters)", text.chars().count())
    }
}

impl Schedule {
    /// An interval schedule; from 1s to [`MAX_DURATION`] (3650d).
    pub fn interval(d: Duration) -> Result<Schedule, ScheduleError> {
        let shown = if d > MAX_DURATION {
            format!("\"{}s\"", d.as_secs())
        } else {
            quote(&duration::format(d))
        };
        Schedule::bounded(d, &shown)
    }

    fn bounded(d: Duration, shown: &str) -> Result<Schedule, ScheduleError> {
        let why = if d < Duration::from_secs(1) {
            "is shorter than 1s"
        } else if d > MAX_DURATION {
            "is longer than 3650d"
        } else {
            return Ok(Schedule::Interval(d));
        };
        Err(ScheduleError::new(
            "interval",
            format!("interval {shown} {why}; {INTERVAL_HINT}"),
        ))
    }

    /// An interval schedule from text like `"24h"`.
    pub fn parse_interval(text: &str) -> Result<Schedule, ScheduleError> {
        match duration::parse_any(text) {
            Ok(d) => Schedule::bounded(d, &quote(text)),
            Err(_) => Err(ScheduleError::new(
                "interval",
                format!(
                    "interval {} is not a duration; {INTERVAL_HINT}",
                    quote(text)
                ),
            )),
        }
    }

    /// A cron schedule: 5 fields or a nickname (`@daily`), read in the IANA zone `tz`.
    pub fn cron(expr: &str, tz: &str) -> Result<Schedule, ScheduleError> {
        CronSchedule::parse(expr, tz)
            .map(Schedule::Cron)
            .map_err(|(field, message)| ScheduleError::new(field, message))
    }

    /// systemd calendar events (`OnCalendar=`), any of them, read in the IANA zone `tz`
    /// unless an expression names its own zone.
    pub fn oncalendar(input: &CalendarInput, tz: &str) -> Result<Schedule, ScheduleError> {
        OnCalendarSchedule::parse(input, tz)
            .map(Schedule::OnCalendar)
            .map_err(|(field, message)| ScheduleError::new(field, message))
    }

    /// The command-line form: an interval if it reads as a duration, else a cron
    /// expression. A single word that is neither (`"abc"`) is reported as a bad
    /// interval (field `"interval"`), since a cron expression has 5 fields.
    pub fn parse_cli(text: &str, tz: &str) -> Result<Schedule, ScheduleError> {
        let trimmed = text.trim();
        if duration::parse_any(trimmed).is_ok() {
            return Schedule::parse_interval(trimmed);
        }
        if !trimmed.starts_with('@') && trimmed.split_whitespace().count() == 1 {
            return Err(ScheduleError::new(
                "interval",
                format!(
                    "{trimmed:?} is neither an interval nor a cron expression; write an interval like 90s, 15m or 24h, or 5 cron fields like \"0 3 * * *\", or a nickname like @daily"
                ),
            ));
        }
        Schedule::cron(trimmed, tz)
    }

    /// The first due time strictly after `t` (interval: `t + interval`). `None` if the
    /// expression never fires again (within 50 years) or the time is out of range.
    pub fn next_after(&self, t: Timestamp) -> Option<Timestamp> {
        match self {
            Schedule::Interval(d) => t.checked_add(SignedDuration::try_from(*d).ok()?).ok(),
            Schedule::Cron(cron) => cron.next_after(t),
            Schedule::OnCalendar(calendar) => calendar.next_after(t),
        }
    }

    /// The period used for the default grace: the interval, or the gap between the next
    /// two due times after `now` (one day when there are not two).
    pub fn period(&self, now: Timestamp) -> Duration {
        match self {
            Schedule::Interval(d) => *d,
            Schedule::Cron(_) | Schedule::OnCalendar(_) => self
                .next_after(now)
                .and_then(|first| Some((first, self.next_after(first)?)))
                .and_then(|(first, second)| Duration::try_from(second.duration_since(first)).ok())
                .unwrap_or(Duration::from_secs(86_400)),
        }
    }

    /// The cron expression as given (trimmed); `None` for another schedule.
    pub fn cron_expr(&self) -> Option<&str> {
        match self {
            Schedule::Cron(cron) => Some(cron.expr()),
            _ => None,
        }
    }

    /// The calendar events as given; `None` for another schedule.
    pub fn calendar_input(&self) -> Option<&CalendarInput> {
        match self {
            Schedule::OnCalendar(calendar) => Some(calendar.input()),
            _ => None,
        }
    }

    /// The time zone's IANA name; `None` for an interval.
    pub fn tz_name(&self) -> Option<&str> {
        match self {
            Schedule::Interval(_) => None,
            Schedule::Cron(cron) => Some(cron.tz_name()),
            Schedule::OnCalendar(calendar) => Some(calendar.tz_name()),
        }
    }
}

/// An IANA time zone by name, with the same message as [`Schedule::cron`] gives.
pub fn parse_tz(name: &str) -> Result<TimeZone, ScheduleError> {
    TimeZone::get(name).map_err(|_| {
        ScheduleError::new(
            "tz",
            format!(
                "tz {} is not a known IANA time zone; use a name like \"Europe/Paris\" or \"UTC\"",
                quote(name)
            ),
        )
    })
}

/// RFC 3339 to the second, in the zone's offset at that instant; `Z` for a zone that
/// is always UTC.
pub fn format_in_zone(t: Timestamp, tz: &TimeZone) -> String {
    let printer = DateTimePrinter::new().precision(Some(0));
    let always_utc = tz.to_fixed_offset().is_ok_and(|o| o == Offset::UTC)
        || tz.iana_name().is_some_and(|name| {
            [
                "UTC",
                "Etc/UTC",
                "Etc/UCT",
                "UCT",
                "Universal",
                "Etc/Universal",
                "Zulu",
                "Etc/Zulu",
            ]
            .iter()
            .any(|utc| utc.eq_ignore_ascii_case(name))
        });
    if always_utc {
        printer.timestamp_to_string(&t)
    } else {
        printer.timestamp_with_offset_to_string(&t, tz.to_offset(t))
    }
}

/// `hb schedule`: prints the next `--count` due times after `--after` (default now).
pub fn cmd_schedule(args: &ScheduleArgs) -> i32 {
    match schedule_lines(args) {
        Ok(lines) => {
            let stdout = io::stdout();
            let mut out = io::BufWriter::new(stdout.lock());
            for line in lines {
                if let Err(e) = writeln!(out, "{line}") {
                    return write_failure(&e);
                }
            }
            match out.flush() {
                Ok(()) => 0,
                Err(e) => write_failure(&e),
            }
        }
        Err(message) => {
            eprintln!("hb: {message}");
            crate::exit::USAGE
        }
    }
}

/// A closed pipe (`hb schedule … | head -1`) is not an error.
fn write_failure(e: &io::Error) -> i32 {
    if e.kind() == io::ErrorKind::BrokenPipe {
        0
    } else {
        eprintln!("hb: cannot write the due times: {e}");
        crate::exit::FAILURE
    }
}

/// Validates the arguments and lazily yields the formatted due times.
fn schedule_lines(args: &ScheduleArgs) -> Result<impl Iterator<Item = String>, String> {
    let schedule = match (&args.schedule, args.oncalendar.as_slice()) {
        (Some(text), []) => Schedule::parse_cli(text, &args.tz),
        (None, [_, ..]) => {
            Schedule::oncalendar(&CalendarInput::Many(args.oncalendar.clone()), &args.tz)
        }
        _ => {
            return Err(
                "give a cron expression or an interval, or --oncalendar EXPR, not both".into(),
            );
        }
    }
    .map_err(|e| e.message)?;
    let tz = parse_tz(&args.tz).map_err(|e| e.message)?;
    let after = match &args.after {
        Some(text) => parse_after(text)?,
        None => Timestamp::now(),
    };
    Ok(due_times(schedule, after)
        .take(args.count)
        .map(move |t| format_in_zone(t, &tz)))
}

fn parse_after(text: &str) -> Result<Timestamp, String> {
    text.trim().parse::<Timestamp>().map_err(|_| {
        format!(
            "--after {text:?} is not an RFC 3339 time; write a date, a time and an offset, e.g. 2026-03-29T01:00:00Z or 2026-03-29T03:00:00+02:00"
        )
    })
}

/// The due times strictly after `after`, in order: `after + k·interval` for an
/// interval, each the next after the one before for cron.
pub fn due_times(schedule: Schedule, after: Timestamp) -> impl Iterator<Item = Timestamp> {
    let mut current = after;
    let mut k: u32 = 0;
    std::iter::from_fn(move || {
        let next = match &schedule {
            Schedule::Interval(d) => {
                k = k.checked_add(1)?;
                let step = SignedDuration::try_from(d.checked_mul(k)?).ok()?;
                after.checked_add(step).ok()?
            }
            Schedule::Cron(cron) => cron.next_after(current)?,
            Schedule::OnCalendar(calendar) => calendar.next_after(current)?,
        };
        current = next;
        Some(next)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ts(text: &str) -> Timestamp {
        text.parse().unwrap()
    }

    /// The next `n` due times after `after`, formatted as `hb schedule` prints them.
    fn due(expr: &str, tz: &str, after: &str, n: usize) -> Vec<String> {
        let schedule = Schedule::cron(expr, tz).unwrap_or_else(|e| panic!("{expr}: {e}"));
        let zone = parse_tz(tz).unwrap();
        due_times(schedule, ts(after))
            .take(n)
            .map(|t| format_in_zone(t, &zone))
            .collect()
    }

    type Case = (
        &'static str,
        &'static str,
        &'static str,
        &'static [&'static str],
    );

    fn check(table: &[Case]) {
        for (expr, tz, after, expected) in table {
            assert_eq!(
                due(expr, tz, after, expected.len()),
                *expected,
                "{expr:?} in {tz} after {after}"
            );
        }
    }

    // Every expected value below was computed with cronsim 2.8 (the engine behind
    // healthchecks.io), each due time the first one strictly after the one before.

    #[test]
    fn each_syntax_form_and_month_ends() {
        check(&[
            (
                "*/15 * * * *",
                "UTC",
                "2026-01-01T00:00:00Z",
                &[
                    "2026-01-01T00:15:00Z",
                    "2026-01-01T00:30:00Z",
                    "2026-01-01T00:45:00Z",
                ],
            ),
            (
                "0 3 * * *",
                "UTC",
                "2026-01-01T00:00:00Z",
                &["2026-01-01T03:00:00Z", "2026-01-02T03:00:00Z"],
            ),
            (
                "0 9 * * mon-fri",
                "UTC",
                "2026-01-02T00:00:00Z",
                &[
                    "2026-01-02T09:00:00Z",
                    "2026-01-05T09:00:00Z",
                    "2026-01-06T09:00:00Z",
                ],
            ),
            (
                "0 0 1,15 * *",
                "UTC",
                "2026-01-01T00:00:00Z",
                &[
                    "2026-01-15T00:00:00Z",
                    "2026-02-01T00:00:00Z",
                    "2026-02-15T00:00:00Z",
                ],
            ),
            (
                "0 12 * jan,jul *",
                "UTC",
                "2026-01-31T00:00:00Z",
                &["2026-01-31T12:00:00Z", "2026-07-01T12:00:00Z"],
            ),
            (
                "30 4 1-7/2 * *",
                "UTC",
                "2026-01-01T00:00:00Z",
                &[
                    "2026-01-01T04:30:00Z",
                    "2026-01-03T04:30:00Z",
                    "2026-01-05T04:30:00Z",
                    "2026-01-07T04:30:00Z",
                ],
            ),
            (
                "5 4 * * sun",
                "UTC",
                "2026-01-01T00:00:00Z",
                &["2026-01-04T04:05:00Z", "2026-01-11T04:05:00Z"],
            ),
            (
                "0 0 * * 7",
                "UTC",
                "2026-01-01T00:00:00Z",
                &["2026-01-04T00:00:00Z", "2026-01-11T00:00:00Z"],
            ),
            (
                "0 8-18/5 * * *",
                "UTC",
                "2026-01-01T00:00:00Z",
                &[
                    "2026-01-01T08:00:00Z",
                    "2026-01-01T13:00:00Z",
                    "2026-01-01T18:00:00Z",
                    "2026-01-02T08:00:00Z",
                ],
            ),
            (
                "0,20-25,50 * * * *",
                "UTC",
                "2026-01-01T00:00:00Z",
                &[
                    "2026-01-01T00:20:00Z",
                    "2026-01-01T00:21:00Z",
                    "2026-01-01T00:22:00Z",
                    "2026-01-01T00:23:00Z",
                    "2026-01-01T00:24:00Z",
                ],
            ),
            (
                "@yearly",
                "UTC",
                "2026-01-01T00:00:00Z",
                &["2027-01-01T00:00:00Z", "2028-01-01T00:00:00Z"],
            ),
            (
                "@annually",
                "UTC",
                "2026-01-01T00:00:00Z",
                &["2027-01-01T00:00:00Z"],
            ),
            (
                "@monthly",
                "UTC",
                "2026-01-01T00:00:00Z",
                &["2026-02-01T00:00:00Z", "2026-03-01T00:00:00Z"],
            ),
            (
                "@weekly",
                "UTC",
                "2026-01-01T00:00:00Z",
                &["2026-01-04T00:00:00Z", "2026-01-11T00:00:00Z"],
            ),
            (
                "@daily",
                "UTC",
                "2026-01-01T00:00:00Z",
                &["2026-01-02T00:00:00Z", "2026-01-03T00:00:00Z"],
            ),
            (
                "@midnight",
                "UTC",
                "2026-01-01T00:00:00Z",
                &["2026-01-02T00:00:00Z"],
            ),
            (
                "@hourly",
                "UTC",
                "2026-01-01T00:00:00Z",
                &["2026-01-01T01:00:00Z", "2026-01-01T02:00:00Z"],
            ),
            (
                "0 0 L * *",
                "UTC",
                "2026-01-01T00:00:00Z",
                &[
                    "2026-01-31T00:00:00Z",
                    "2026-02-28T00:00:00Z",
                    "2026-03-31T00:00:00Z",
                ],
            ),
            (
                "0 12 LW * *",
                "UTC",
                "2026-01-01T00:00:00Z",
                &[
                    "2026-01-30T12:00:00Z",
                    "2026-02-27T12:00:00Z",
                    "2026-03-31T12:00:00Z",
                    "2026-04-30T12:00:00Z",
                ],
            ),
            (
                "0 9 * * 5L",
                "UTC",
                "2026-01-01T00:00:00Z",
                &[
                    "2026-01-30T09:00:00Z",
                    "2026-02-27T09:00:00Z",
                    "2026-03-27T09:00:00Z",
                ],
            ),
            (
                "0 9 * * fri#2",
                "UTC",
                "2026-01-01T00:00:00Z",
                &[
                    "2026-01-09T09:00:00Z",
                    "2026-02-13T09:00:00Z",
                    "2026-03-13T09:00:00Z",
                ],
            ),
            (
                "0 9 * * 1#5",
                "UTC",
                "2026-01-01T00:00:00Z",
                &[
                    "2026-03-30T09:00:00Z",
                    "2026-06-29T09:00:00Z",
                    "2026-08-31T09:00:00Z",
                ],
            ),
            (
                "0 9 13 * 5",
                "UTC",
                "2026-02-01T00:00:00Z",
                &[
                    "2026-02-06T09:00:00Z",
                    "2026-02-13T09:00:00Z",
                    "2026-02-20T09:00:00Z",
                    "2026-02-27T09:00:00Z",
                ],
            ),
            (
                "0 0 */2 * 1",
                "UTC",
                "2026-01-01T00:00:00Z",
                &[
                    "2026-01-05T00:00:00Z",
                    "2026-01-19T00:00:00Z",
                    "2026-02-09T00:00:00Z",
                ],
            ),
            (
                "0 0 1-7 * 1",
                "UTC",
                "2026-01-01T00:00:00Z",
                &[
                    "2026-01-02T00:00:00Z",
                    "2026-01-03T00:00:00Z",
                    "2026-01-04T00:00:00Z",
                ],
            ),
            (
                "0 0 31 * *",
                "UTC",
                "2026-01-01T00:00:00Z",
                &[
                    "2026-01-31T00:00:00Z",
                    "2026-03-31T00:00:00Z",
                    "2026-05-31T00:00:00Z",
                    "2026-07-31T00:00:00Z",
                ],
            ),
            (
                "0 0 30 * *",
                "UTC",
                "2026-01-01T00:00:00Z",
                &[
                    "2026-01-30T00:00:00Z",
                    "2026-03-30T00:00:00Z",
                    "2026-04-30T00:00:00Z",
                ],
            ),
            (
                "0 0 29 2 *",
                "UTC",
                "2025-01-01T00:00:00Z",
                &["2028-02-29T00:00:00Z", "2032-02-29T00:00:00Z"],
            ),
            (
                "0 0 L 2 *",
                "UTC",
                "2026-01-01T00:00:00Z",
                &[
                    "2026-02-28T00:00:00Z",
                    "2027-02-28T00:00:00Z",
                    "2028-02-29T00:00:00Z",
                ],
            ),
            (
                "0 0 28-31 2 *",
                "UTC",
                "2027-01-01T00:00:00Z",
                &["2027-02-28T00:00:00Z", "2028-02-28T00:00:00Z"],
            ),
            (
                "0 3 * * *",
                "Europe/Paris",
                "2026-07-01T00:00:00Z",
                &["2026-07-01T03:00:00+02:00", "2026-07-02T03:00:00+02:00"],
            ),
        ]);
    }

    #[test]
    fn dst_changes_as_cronsim() {
        check(&[
            (
                "30 2 * * *",
                "Europe/Paris",
                "2026-03-27T12:00:00Z",
                &[
                    "2026-03-28T02:30:00+01:00",
                    "2026-03-29T03:00:00+02:00",
                    "2026-03-30T02:30:00+02:00",
                ],
            ),
            (
                "0 2 * * *",
                "Europe/Paris",
                "2026-03-28T12:00:00Z",
                &["2026-03-29T03:00:00+02:00", "2026-03-30T02:00:00+02:00"],
            ),
            (
                "0,30 2 * * *",
                "Europe/Paris",
                "2026-03-28T12:00:00Z",
                &[
                    "2026-03-29T03:00:00+02:00",
                    "2026-03-30T02:00:00+02:00",
                    "2026-03-30T02:30:00+02:00",
                ],
            ),
            (
                "*/15 2 * * *",
                "Europe/Paris",
                "2026-03-28T12:00:00Z",
                &["2026-03-30T02:00:00+02:00", "2026-03-30T02:15:00+02:00"],
            ),
            (
                "*/30 * * * *",
                "Europe/Paris",
                "2026-03-29T00:00:00Z",
                &[
                    "2026-03-29T01:30:00+01:00",
                    "2026-03-29T03:00:00+02:00",
                    "2026-03-29T03:30:00+02:00",
                    "2026-03-29T04:00:00+02:00",
                ],
            ),
            (
                "0 1-3 * * *",
                "Europe/Paris",
                "2026-03-28T23:00:00Z",
                &[
                    "2026-03-29T01:00:00+01:00",
                    "2026-03-29T03:00:00+02:00",
                    "2026-03-30T01:00:00+02:00",
                    "2026-03-30T02:00:00+02:00",
                ],
            ),
            (
                "30 2 * * *",
                "Europe/Paris",
                "2026-10-24T12:00:00Z",
                &["2026-10-25T02:30:00+02:00", "2026-10-26T02:30:00+01:00"],
            ),
            (
                "0 1-3 * * *",
                "Europe/Paris",
                "2026-10-24T22:30:00Z",
                &[
                    "2026-10-25T01:00:00+02:00",
                    "2026-10-25T02:00:00+02:00",
                    "2026-10-25T03:00:00+01:00",
                    "2026-10-26T01:00:00+01:00",
                ],
            ),
            (
                "*/30 * * * *",
                "Europe/Paris",
                "2026-10-24T23:15:00Z",
                &[
                    "2026-10-25T01:30:00+02:00",
                    "2026-10-25T02:00:00+02:00",
                    "2026-10-25T02:30:00+02:00",
                    "2026-10-25T02:00:00+01:00",
                    "2026-10-25T02:30:00+01:00",
                    "2026-10-25T03:00:00+01:00",
                ],
            ),
            (
                "0 * * * *",
                "Europe/Paris",
                "2026-10-24T23:30:00Z",
                &[
                    "2026-10-25T02:00:00+02:00",
                    "2026-10-25T02:00:00+01:00",
                    "2026-10-25T03:00:00+01:00",
                    "2026-10-25T04:00:00+01:00",
                ],
            ),
            (
                "30 2 * * *",
                "America/New_York",
                "2026-03-07T12:00:00Z",
                &[
                    "2026-03-08T03:00:00-04:00",
                    "2026-03-09T02:30:00-04:00",
                    "2026-03-10T02:30:00-04:00",
                ],
            ),
            (
                "*/20 * * * *",
                "America/New_York",
                "2026-03-08T06:30:00Z",
                &[
                    "2026-03-08T01:40:00-05:00",
                    "2026-03-08T03:00:00-04:00",
                    "2026-03-08T03:20:00-04:00",
                    "2026-03-08T03:40:00-04:00",
                ],
            ),
            (
                "30 1 * * *",
                "America/New_York",
                "2026-10-31T12:00:00Z",
                &["2026-11-01T01:30:00-04:00", "2026-11-02T01:30:00-05:00"],
            ),
            (
                "0 1-3 * * *",
                "America/New_York",
                "2026-11-01T04:30:00Z",
                &[
                    "2026-11-01T01:00:00-04:00",
                    "2026-11-01T02:00:00-05:00",
                    "2026-11-01T03:00:00-05:00",
                    "2026-11-02T01:00:00-05:00",
                ],
            ),
            (
                "*/20 * * * *",
                "America/New_York",
                "2026-11-01T05:30:00Z",
                &[
                    "2026-11-01T01:40:00-04:00",
                    "2026-11-01T01:00:00-05:00",
                    "2026-11-01T01:20:00-05:00",
                    "2026-11-01T01:40:00-05:00",
                    "2026-11-01T02:00:00-05:00",
                    "2026-11-01T02:20:00-05:00",
                ],
            ),
            (
                "15 2 * * *",
                "Australia/Lord_Howe",
                "2026-10-03T00:00:00Z",
                &[
                    "2026-10-04T02:30:00+11:00",
                    "2026-10-05T02:15:00+11:00",
                    "2026-10-06T02:15:00+11:00",
                ],
            ),
            (
                "*/15 * * * *",
                "Australia/Lord_Howe",
                "2026-10-03T15:10:00Z",
                &[
                    "2026-10-04T01:45:00+10:30",
                    "2026-10-04T02:30:00+11:00",
                    "2026-10-04T02:45:00+11:00",
                    "2026-10-04T03:00:00+11:00",
                ],
            ),
            (
                "0 * * * *",
                "Australia/Lord_Howe",
                "2026-10-03T14:00:00Z",
                &[
                    "2026-10-04T01:00:00+10:30",
                    "2026-10-04T03:00:00+11:00",
                    "2026-10-04T04:00:00+11:00",
                ],
            ),
            (
                "45 1 * * *",
                "Australia/Lord_Howe",
                "2026-04-04T00:00:00Z",
                &["2026-04-05T01:45:00+11:00", "2026-04-06T01:45:00+10:30"],
            ),
            (
                "*/15 * * * *",
                "Australia/Lord_Howe",
                "2026-04-04T14:10:00Z",
                &[
                    "2026-04-05T01:15:00+11:00",
                    "2026-04-05T01:30:00+11:00",
                    "2026-04-05T01:45:00+11:00",
                    "2026-04-05T01:30:00+10:30",
                    "2026-04-05T01:45:00+10:30",
                    "2026-04-05T02:00:00+10:30",
                ],
            ),
            (
                "0 2 * * *",
                "Australia/Lord_Howe",
                "2026-04-04T00:00:00Z",
                &["2026-04-05T02:00:00+10:30", "2026-04-06T02:00:00+10:30"],
            ),
        ]);
    }

    #[test]
    fn never_goes_backwards_from_the_second_copy_of_a_repeated_hour() {
        // cronsim answers 02:30+02:00 (00:30Z) here, 45 minutes in the past: the job
        // already ran at the first 02:30 of the day, so the next one is tomorrow.
        let s = Schedule::cron("30 2 * * *", "Europe/Paris").unwrap();
        let t = ts("2026-10-25T01:15:00Z"); // 02:15+01:00, the second copy
        assert_eq!(s.next_after(t), Some(ts("2026-10-26T01:30:00Z")));
        let s = Schedule::cron("30 1 * * *", "America/New_York").unwrap();
        let t = ts("2026-11-01T06:15:00Z"); // 01:15-05:00, the second copy
        assert_eq!(s.next_after(t), Some(ts("2026-11-02T06:30:00Z")));
    }

    #[test]
    fn due_times_strictly_increase_across_every_change() {
        let exprs = [
            "30 2 * * *",
            "0 1-3 * * *",
            "0,30 1,2 * * *",
            "*/15 * * * *",
            "*/7 * * * *",
            "0 * * * *",
            "30 * * * *",
            "* 2 * * *",
            "*/15 2 * * *",
            "0 */2 * * *",
            "45 1 * * *",
        ];
        let around = [
            ("Europe/Paris", "2026-03-28T22:00:00Z"),
            ("Europe/Paris", "2026-10-24T22:00:00Z"),
            ("America/New_York", "2026-03-08T04:00:00Z"),
            ("America/New_York", "2026-11-01T03:00:00Z"),
            ("Australia/Lord_Howe", "2026-04-04T12:00:00Z"),
            ("Australia/Lord_Howe", "2026-10-03T13:00:00Z"),
        ];
        for expr in exprs {
            for (tz, start) in around {
                let s = Schedule::cron(expr, tz).unwrap();
                // From every minute of a 5-hour window around the change…
                for minute in 0..300 {
                    let t = ts(start) + SignedDuration::from_mins(minute);
                    let next = s.next_after(t).unwrap();
                    assert!(next > t, "{expr} in {tz}: {next} after {t}");
                    // …nothing is due in between.
                    let again = s.next_after(t + SignedDuration::from_secs(1));
                    if next > t + SignedDuration::from_secs(1) {
                        assert_eq!(again, Some(next), "{expr} in {tz} after {t}");
                    }
                }
                let mut previous = ts(start);
                for t in due_times(s, ts(start)).take(100) {
                    assert!(t > previous, "{expr} in {tz}: {t} after {previous}");
                    previous = t;
                }
            }
        }
    }

    #[test]
    fn subsecond_times_and_exact_due_times() {
        let s = Schedule::cron("0 3 * * *", "UTC").unwrap();
        // Strictly after: a due time is not its own next one.
        assert_eq!(
            s.next_after(ts("2026-01-01T03:00:00Z")),
            Some(ts("2026-01-02T03:00:00Z"))
        );
        assert_eq!(
            s.next_after(ts("2026-01-01T02:59:59.999Z")),
            Some(ts("2026-01-01T03:00:00Z"))
        );
        assert_eq!(
            s.next_after(ts("2026-01-01T03:00:00.5Z")),
            Some(ts("2026-01-02T03:00:00Z"))
        );
    }

    #[test]
    fn an_expression_that_never_fires_again_gives_none() {
        // A fifth Monday in February is rare (2044, 2072, then 2112 as 2100 is not a
        // leap year); near the end of the calendar there is no next one at all.
        let s = Schedule::cron("0 0 * 2 mon#5", "UTC").unwrap();
        assert_eq!(
            s.next_after(ts("2026-01-01T00:00:00Z")),
            Some(ts("2044-02-29T00:00:00Z"))
        );
        assert_eq!(
            s.next_after(ts("2072-03-01T00:00:00Z")),
            Some(ts("2112-02-29T00:00:00Z"))
        );
        let s = Schedule::cron("0 0 * * *", "UTC").unwrap();
        assert_eq!(s.next_after(ts("9999-12-30T12:00:00Z")), None);
        assert_eq!(
            s.period(ts("9999-12-30T12:00:00Z")),
            Duration::from_secs(86_400)
        );
    }

    #[test]
    fn intervals() {
        let s = Schedule::parse_interval("24h").unwrap();
        assert!(matches!(s, Schedule::Interval(d) if d == Duration::from_secs(86_400)));
        assert_eq!(
            s.next_after(ts("2026-01-01T10:00:00Z")),
            Some(ts("2026-01-02T10:00:00Z"))
        );
        assert_eq!(s.cron_expr(), None);
        assert_eq!(s.tz_name(), None);
        assert!(Schedule::interval(Duration::from_secs(1)).is_ok());
        let err = Schedule::interval(Duration::from_millis(999)).unwrap_err();
        assert_eq!(err.field, "interval");
        // At most 3650d: a longer one could not be represented as a due time for long.
        assert!(Schedule::parse_interval("3650d").is_ok());
        let err = Schedule::parse_interval("3651d").unwrap_err();
        assert!(err.message.contains("longer than 3650d"), "{err}");
        let err = Schedule::interval(Duration::MAX).unwrap_err();
        assert!(err.message.contains("longer than 3650d"), "{err}");
        let err = Schedule::parse_interval(&"9".repeat(100_000)).unwrap_err();
        assert!(err.message.len() < 200, "a huge value is not echoed whole");
        let times: Vec<_> = due_times(
            Schedule::parse_interval("1h30m").unwrap(),
            ts("2026-03-29T00:00:00Z"),
        )
        .take(3)
        .map(|t| t.to_string())
        .collect();
        assert_eq!(
            times,
            [
                "2026-03-29T01:30:00Z",
                "2026-03-29T03:00:00Z",
                "2026-03-29T04:30:00Z"
            ]
        );
    }

    #[test]
    fn accessors_for_the_api() {
        let s = Schedule::cron(" 0 3 * * * ", "europe/paris").unwrap();
        assert_eq!(s.cron_expr(), Some("0 3 * * *"));
        assert_eq!(s.tz_name(), Some("Europe/Paris"));
        let s = Schedule::cron("@daily", "UTC").unwrap();
        assert_eq!(s.cron_expr(), Some("@daily"));
        assert_eq!(s.tz_name(), Some("UTC"));
    }

    #[test]
    fn period_and_default_grace() {
        let now = ts("2026-01-05T12:00:00Z");
        let period = |expr: &str| Schedule::cron(expr, "UTC").unwrap().period(now).as_secs();
        assert_eq!(period("*/5 * * * *"), 300);
        assert_eq!(period("@hourly"), 3600);
        assert_eq!(period("0 3 * * *"), 86_400);
        assert_eq!(period("0 3 * * mon"), 7 * 86_400);
        assert_eq!(period("0 9,17 * * *"), 16 * 3600); // 17:00, then 09:00
        let interval = Schedule::parse_interval("7d").unwrap();
        assert_eq!(interval.period(now), Duration::from_secs(7 * 86_400));
        // The night the clocks go forward a daily 02:00 job is 23 hours apart.
        let paris = Schedule::cron("0 2 * * *", "Europe/Paris").unwrap();
        assert_eq!(
            paris.period(ts("2026-03-28T12:00:00Z")).as_secs(),
            23 * 3600
        );
        // Cron periods get the same grace as intervals of that length.
        let grace = |expr: &str| default_grace(Schedule::cron(expr, "UTC").unwrap().period(now));
        assert_eq!(grace("*/5 * * * *"), Duration::from_secs(150));
        assert_eq!(grace("0 * * * *"), Duration::from_secs(603));
        assert_eq!(grace("0 3 * * *"), Duration::from_secs(3575));
        assert_eq!(grace("0 3 * * 1"), Duration::from_secs(10_631));
    }

    fn error(result: Result<Schedule, ScheduleError>) -> ScheduleError {
        result.expect_err("an error")
    }

    #[test]
    fn errors_name_the_value_the_problem_and_what_is_accepted() {
        let e = error(Schedule::cron("61 * * * *", "UTC"));
        assert_eq!(e.field, "cron");
        assert_eq!(
            e.message,
            "cron \"61 * * * *\": minute 61 is out of range 0-59"
        );
        assert_eq!(e.to_string(), e.message);

        let e = error(Schedule::cron("* * * *", "UTC"));
        assert_eq!(e.field, "cron");
        assert!(
            e.message
                .starts_with("cron \"* * * *\": expected 5 fields, found 4; write 5 fields"),
            "{e}"
        );

        let e = error(Schedule::cron("0 3 * * *", "Mars/Base"));
        assert_eq!(e.field, "tz");
        assert_eq!(
            e.message,
            "tz \"Mars/Base\" is not a known IANA time zone; use a name like \"Europe/Paris\" or \"UTC\""
        );

        let e = error(Schedule::parse_interval("abc"));
        assert_eq!(e.field, "interval");
        assert!(
            e.message
                .starts_with("interval \"abc\" is not a duration; write a number and a unit"),
            "{e}"
        );

        let e = error(Schedule::parse_interval("500ms"));
        assert_eq!(e.field, "interval");
        assert!(
            e.message
                .starts_with("interval \"500ms\" is shorter than 1s;"),
            "{e}"
        );
    }

    #[test]
    fn refuses_what_cronsim_refuses() {
        let cases = [
            (
                "0 0 * * * *",
                "6 fields given, but fields for seconds or years are not supported",
            ),
            ("0 0 0 * * * 2026", "7 fields given"),
            ("", "the expression is empty"),
            ("@reboot", "@reboot has no due time"),
            ("@often", "not a known nickname"),
            ("* 24 * * *", "hour 24 is out of range 0-23"),
            ("* * 0 * *", "day-of-month 0 is out of range 1-31"),
            ("* * 32 * *", "day-of-month 32 is out of range 1-31"),
            ("* * * 13 *", "month 13 is out of range 1-12"),
            ("* * * * 8", "day-of-week 8 is out of range 0-7"),
            ("* * * foo *", "month \"FOO\" is not a number or a name"),
            ("*/0 * * * *", "has a bad step"),
            ("30-10 * * * *", "minute range 30-10 runs backwards"),
            ("1,,2 * * * *", "minute has an empty value"),
            ("* * * * 5#6", "# is followed by 1-5"),
            ("* * * * L", "L follows a weekday number"),
            ("* * 15W * *", "day-of-month \"15W\" is not a number"),
            ("* * ? * *", "day-of-month \"?\" is not a number"),
            (
                "0 0 30 2 *",
                "day-of-month 30 never occurs in the months given",
            ),
            ("0 0 31 4,6 *", "day-of-month 31 never occurs"),
        ];
        for (expr, why) in cases {
            let e = error(Schedule::cron(expr, "UTC"));
            assert_eq!(e.field, "cron", "{expr}");
            assert!(e.message.contains(why), "{expr}: {e}");
            assert!(!e.message.contains('\n'), "{expr}: {e}");
        }
        // OR with a restricted day-of-week: there is always a Monday.
        assert!(Schedule::cron("0 0 30 2 1", "UTC").is_ok());
        assert!(Schedule::cron("0 0 L 2 *", "UTC").is_ok());
    }

    #[test]
    fn command_line_form_is_an_interval_or_a_cron_expression() {
        let s = Schedule::parse_cli("15m", "UTC").unwrap();
        assert!(matches!(s, Schedule::Interval(d) if d == Duration::from_secs(900)));
        let s = Schedule::parse_cli("1h 30m", "UTC").unwrap();
        assert!(matches!(s, Schedule::Interval(d) if d == Duration::from_secs(5400)));
        let s = Schedule::parse_cli("0 3 * * *", "Europe/Paris").unwrap();
        assert_eq!(s.cron_expr(), Some("0 3 * * *"));
        assert_eq!(s.tz_name(), Some("Europe/Paris"));
        assert!(Schedule::parse_cli("@daily", "UTC").is_ok());
        assert_eq!(error(Schedule::parse_cli("abc", "UTC")).field, "interval");
        assert_eq!(error(Schedule::parse_cli("500ms", "UTC")).field, "interval");
        assert_eq!(error(Schedule::parse_cli("* * * *", "UTC")).field, "cron");
        assert_eq!(
            error(Schedule::parse_cli("0 3 * * *", "Mars/Base")).field,
            "tz"
        );
    }

    #[test]
    fn formats_in_the_zone_offset_and_z_for_utc() {
        let t = ts("2026-03-29T01:00:00.75Z");
        let zone = |name: &str| parse_tz(name).unwrap();
        assert_eq!(format_in_zone(t, &zone("UTC")), "2026-03-29T01:00:00Z");
        assert_eq!(format_in_zone(t, &zone("Etc/UTC")), "2026-03-29T01:00:00Z");
        assert_eq!(
            format_in_zone(t, &zone("Europe/Paris")),
            "2026-03-29T03:00:00+02:00"
        );
        assert_eq!(
            format_in_zone(t, &zone("Europe/London")),
            "2026-03-29T02:00:00+01:00"
        );
        assert_eq!(
            format_in_zone(t, &zone("Asia/Kolkata")),
            "2026-03-29T06:30:00+05:30"
        );
        let winter = ts("2026-01-15T12:00:00Z");
        assert_eq!(
            format_in_zone(winter, &zone("Europe/London")),
            "2026-01-15T12:00:00+00:00"
        );
        assert_eq!(
            format_in_zone(winter, &zone("America/New_York")),
            "2026-01-15T07:00:00-05:00"
        );
    }
}
