//! Cron expressions: parsing (5 fields, Vixie syntax, nicknames, `L`, `LW`, `#`) and
//! evaluation in an IANA time zone.
//!
//! The evaluation follows cronsim (the engine behind healthchecks.io) step by step, so
//! that hb and healthchecks agree on every due time, DST changes included:
//!
//! - A *fixed-time* job (neither the minute nor the hour field starts with `*`, as Debian
//!   cron decides it) is computed in local wall-clock time. A wall time skipped by the
//!   spring change is moved forward minute by minute until it exists, i.e. to the instant
//!   of the change; a wall time repeated by the autumn change is due at its first
//!   occurrence only.
//! - Any other job (`*/15 * * * *`, `0 * * * *`, `* 2 * * *`) is computed in real time:
//!   it keeps its rhythm across both changes and fires in both copies of a repeated hour.
//!
//! On top of cronsim, [`CronSchedule::next_after`] never returns a time at or before the
//! time it is given (cronsim can, for a fixed-time job asked from inside the second copy
//! of a repeated hour).

use jiff::civil::{Date, DateTime};
use jiff::tz::{AmbiguousOffset, TimeZone};
use jiff::{SignedDuration, Timestamp, ToSpan};

use super::quote;

/// A parsed cron expression bound to a time zone.
#[derive(Debug, Clone)]
pub struct CronSchedule {
    expr: String,
    tz_name: String,
    tz: TimeZone,
    spec: Spec,
}

/// What a cron expression allows, field by field (the seconds field is always 0).
#[derive(Debug, Clone, PartialEq, Eq)]
struct Spec {
    /// Bit m set: minute m (0-59).
    minutes: u64,
    /// Bit h set: hour h (0-23).
    hours: u32,
    /// Bit d set: day of month d (1-31).
    days: u32,
    /// `L` in day-of-month: the last day of the month.
    last_day: bool,
    /// `LW` in day-of-month: the last weekday (Monday to Friday) of the month.
    last_weekday: bool,
    /// Bit m set: month m (1-12).
    months: u16,
    /// Bit w set: weekday w (0 = Sunday … 6 = Saturday; 7 is folded into 0).
    weekdays: u8,
    /// `wL`: bit w set when the last weekday w of the month is wanted.
    last_weekdays: u8,
    /// `w#n`: bit (n - 1) of `nth[w]` set when the n-th weekday w of the month is wanted.
    nth: [u8; 7],
    /// Day-of-month and day-of-week both have to match (one of them starts with `*`);
    /// otherwise either may match (Vixie's OR).
    day_and: bool,
    /// A fixed-time job, computed in wall-clock time (see the module documentation).
    wall_clock: bool,
}

/// The nicknames Vixie cron accepts, and the expressions they stand for.
const NICKNAMES: [(&str, &str); 7] = [
    ("@yearly", "0 0 1 1 *"),
    ("@annually", "0 0 1 1 *"),
    ("@monthly", "0 0 1 * *"),
    ("@weekly", "0 0 * * 0"),
    ("@daily", "0 0 * * *"),
    ("@midnight", "0 0 * * *"),
    ("@hourly", "0 * * * *"),
];

const FIELDS_HINT: &str = "write 5 fields (minute hour day-of-month month day-of-week) like \"0 3 * * *\", or a nickname like @daily";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Field {
    Minute,
    Hour,
    Day,
    Month,
    Weekday,
}

const DAY_NAMES: [&str; 7] = ["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"];
const MONTH_NAMES: [&str; 12] = [
    "JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC",
];
/// The longest each month can be (February in a leap year).
const MAX_DAYS_IN_MONTH: [u32; 12] = [31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

impl Field {
    fn name(self) -> &'static str {
        match self {
            Field::Minute => "minute",
            Field::Hour => "hour",
            Field::Day => "day-of-month",
            Field::Month => "month",
            Field::Weekday => "day-of-week",
        }
    }

    fn range(self) -> (u32, u32) {
        match self {
            Field::Minute => (0, 59),
            Field::Hour => (0, 23),
            Field::Day => (1, 31),
            Field::Month => (1, 12),
            Field::Weekday => (0, 7),
        }
    }

    fn accepted(self) -> &'static str {
        match self {
            Field::Minute => "0-59",
            Field::Hour => "0-23",
            Field::Day => "1-31, L or LW",
            Field::Month => "1-12 or JAN-DEC",
            Field::Weekday => "0-7 (0 and 7 are Sunday) or SUN-SAT, with 5L or 5#2",
        }
    }

    /// A plain number or (month, weekday) a name.
    fn value(self, text: &str) -> Result<u32, String> {
        let names: &[&str] = match self {
            Field::Month => &MONTH_NAMES,
            Field::Weekday => &DAY_NAMES,
            _ => &[],
        };
        if let Some(i) = names.iter().position(|n| *n == text) {
            let first = if self == Field::Month { 1 } else { 0 };
            return Ok(first + i as u32);
        }
        if text.is_empty() {
            return Err(format!(
                "{} has an empty value; {} accepts {}",
                self.name(),
                self.name(),
                self.accepted()
            ));
        }
        let number = digits(text).ok_or_else(|| {
            let what = if names.is_empty() {
                "a number"
            } else {
                "a number or a name"
            };
            format!(
                "{} {:?} is not {what}; {} accepts {}",
                self.name(),
                text,
                self.name(),
                self.accepted()
            )
        })?;
        let (low, high) = self.range();
        match number {
            Some(n) if (low..=high).contains(&n) => Ok(n),
            _ => Err(format!(
                "{} {} is out of range {}-{}",
                self.name(),
                number.map_or_else(|| text.to_string(), |n| n.to_string()),
                low,
                high
            )),
        }
    }
}

/// `Some(Some(n))` for a run of ASCII digits, `Some(None)` when too large for u32,
/// `None` when not digits at all.
fn digits(text: &str) -> Option<Option<u32>> {
    if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    Some(text.parse().ok())
}

/// One term's values: plain numbers plus the special day forms.
#[derive(Debug, Default)]
struct Items {
    values: Vec<u32>,
    last_day: bool,
    last_weekday: bool,
    /// (weekday, n) for `w#n`, and (weekday, 0) for `wL`.
    special: Vec<(u32, u32)>,
}

impl Items {
    fn of(values: Vec<u32>) -> Items {
        Items {
            values,
            ..Items::default()
        }
    }

    fn only_last(&self) -> bool {
        self.values.is_empty() && self.special.is_empty() && (self.last_day != self.last_weekday)
    }
}

/// Parses one field the way cronsim does (the same forms accepted, the same refused).
fn parse_field(field: Field, text: &str) -> Result<Items, String> {
    let (low, high) = field.range();
    if text == "*" {
        return Ok(Items::of((low..=high).collect()));
    }
    if text.contains(',') {
        let mut all = Items::default();
        for term in text.split(',') {
            let items = parse_field(field, term)?;
            all.values.extend(items.values);
            all.special.extend(items.special);
            all.last_day |= items.last_day;
            all.last_weekday |= items.last_weekday;
        }
        return Ok(all);
    }
    if field == Field::Weekday && text.contains('L') {
        let value = text.strip_suffix('L').unwrap_or("");
        if digits(value).is_none() {
            return Err(format!(
                "day-of-week {text:?} is not valid; L follows a weekday number, as in 5L for the last Friday"
            ));
        }
        return Ok(Items {
            special: vec![(field.value(value)? % 7, 0)],
            ..Items::default()
        });
    }
    if field == Field::Weekday && text.contains('#') {
        let (term, nth) = text.split_once('#').unwrap_or((text, ""));
        let n = match digits(nth) {
            Some(Some(n)) if (1..=5).contains(&n) => n,
            _ => {
                return Err(format!(
                    "day-of-week {text:?} is not valid; # is followed by 1-5, as in 5#2 for the second Friday"
                ));
            }
        };
        return Ok(Items {
            special: vec![(field.value(term)? % 7, n)],
            ..Items::default()
        });
    }
    if let Some((term, step)) = text.split_once('/') {
        let step = match digits(step) {
            Some(Some(n)) if n > 0 => n as usize,
            Some(None) => usize::MAX,
            _ => {
                return Err(format!(
                    "{} {text:?} has a bad step; a step is a whole number of at least 1, as in */15",
                    field.name()
                ));
            }
        };
        let items = parse_field(field, term)?;
        if items.only_last() {
            return Ok(items);
        }
        if !items.special.is_empty() || items.last_day || items.last_weekday {
            return Err(format!(
                "{} {text:?} is not valid; a step applies to *, a number or a range, as in */15 or 1-5/2",
                field.name()
            ));
        }
        let mut values = items.values;
        values.sort_unstable();
        values.dedup();
        if values.len() == 1 {
            return Ok(Items::of((values[0]..=high).step_by(step).collect()));
        }
        return Ok(Items::of(values.into_iter().step_by(step).collect()));
    }
    if let Some((start, end)) = text.split_once('-') {
        let start_value = field.value(start)?;
        let end_value = field.value(end)?;
        if end_value < start_value {
            return Err(format!(
                "{} range {text} runs backwards; write the smaller value first, as in 1-5",
                field.name()
            ));
        }
        return Ok(Items::of((start_value..=end_value).collect()));
    }
    if field == Field::Day && text == "LW" {
        return Ok(Items {
            last_weekday: true,
            ..Items::default()
        });
    }
    if field == Field::Day && text == "L" {
        return Ok(Items {
            last_day: true,
            ..Items::default()
        });
    }
    Ok(Items::of(vec![field.value(text)?]))
}

impl Spec {
    /// Parses the 5 fields (upper-cased already).
    fn parse(parts: &[&str]) -> Result<Spec, String> {
        let minute = parse_field(Field::Minute, parts[0])?;
        let hour = parse_field(Field::Hour, parts[1])?;
        let day = parse_field(Field::Day, parts[2])?;
        let month = parse_field(Field::Month, parts[3])?;
        let weekday = parse_field(Field::Weekday, parts[4])?;
        let mut spec = Spec {
            minutes: minute.values.iter().fold(0, |m, v| m | 1 << v),
            hours: hour.values.iter().fold(0, |m, v| m | 1 << v),
            days: day.values.iter().fold(0, |m, v| m | 1 << v),
            last_day: day.last_day,
            last_weekday: day.last_weekday,
            months: month.values.iter().fold(0, |m, v| m | 1 << v),
            weekdays: weekday.values.iter().fold(0, |m, v| m | 1 << (v % 7)),
            last_weekdays: 0,
            nth: [0; 7],
            day_and: parts[2].starts_with('*') || parts[4].starts_with('*'),
            wall_clock: !parts[0].starts_with('*') && !parts[1].starts_with('*'),
        };
        for (w, n) in weekday.special {
            if n == 0 {
                spec.last_weekdays |= 1 << w;
            } else {
                spec.nth[w as usize] |= 1 << (n - 1);
            }
        }
        // Refuse a day that no chosen month has (cronsim: "0 0 30 2 *").
        let smallest_day = (1..=31).find(|d| spec.days & (1 << d) != 0);
        if spec.day_and
            && !spec.last_day
            && !spec.last_weekday
            && let Some(smallest) = smallest_day.filter(|d| *d > 29)
        {
            let longest = (1..=12)
                .filter(|m| spec.months & (1 << m) != 0)
                .map(|m| MAX_DAYS_IN_MONTH[m - 1])
                .max()
                .unwrap_or(31);
            if smallest > longest {
                return Err(format!(
                    "day-of-month {smallest} never occurs in the months given, so it would never be due"
                ));
            }
        }
        Ok(spec)
    }

    fn match_dom(&self, d: Date) -> bool {
        let day = d.day() as u32;
        if self.days & (1 << day) != 0 {
            return true;
        }
        let last = d.days_in_month() as u32;
        if self.last_day && day == last {
            return true;
        }
        if self.last_weekday {
            let last_date = d.last_of_month();
            let target = match last_date.weekday().to_sunday_zero_offset() {
                0 => last - 2,
                6 => last - 1,
                _ => last,
            };
            if day == target {
                return true;
            }
        }
        false
    }

    fn match_dow(&self, d: Date) -> bool {
        let w = d.weekday().to_sunday_zero_offset() as usize;
        if self.weekdays & (1 << w) != 0 {
            return true;
        }
        let day = d.day() as i32;
        if self.last_weekdays & (1 << w) != 0 && day + 7 > d.days_in_month() as i32 {
            return true;
        }
        let nth = (day + 6) / 7;
        self.nth[w] & (1 << (nth - 1)) != 0
    }

    fn match_day(&self, d: Date) -> bool {
        if self.day_and {
            self.match_dom(d) && self.match_dow(d)
        } else {
            self.match_dom(d) || self.match_dow(d)
        }
    }
}

impl CronSchedule {
    /// Parses `expr` (5 fields or a nickname) to be read in the IANA zone `tz`.
    /// Errors are `(field, message)` with field `"cron"` or `"tz"`.
    pub(super) fn parse(expr: &str, tz: &str) -> Result<CronSchedule, (&'static str, String)> {
        let refuse = |why: String| ("cron", format!("cron {}: {why}", quote(expr)));
        let trimmed = expr.trim();
        let upper = trimmed.to_ascii_uppercase();
        let expanded = if trimmed.starts_with('@') {
            let lower = trimmed.to_ascii_lowercase();
            match NICKNAMES.iter().find(|(name, _)| *name == lower) {
                Some((_, expansion)) => expansion.to_string(),
                None if lower == "@reboot" => {
                    return Err(refuse(
                        "@reboot has no due time, so it cannot be monitored; give the schedule the job really runs on, like \"0 3 * * *\" or @daily".into(),
                    ));
                }
                None => {
                    return Err(refuse(format!(
                        "{trimmed} is not a known nickname; use @yearly, @annually, @monthly, @weekly, @daily, @midnight or @hourly"
                    )));
                }
            }
        } else {
            upper
        };
        let parts: Vec<&str> = expanded.split_whitespace().collect();
        match parts.len() {
            5 => {}
            0 => return Err(refuse(format!("the expression is empty; {FIELDS_HINT}"))),
            6 | 7 => {
                return Err(refuse(format!(
                    "{} fields given, but fields for seconds or years are not supported; {FIELDS_HINT}",
                    parts.len()
                )));
            }
            n => {
                return Err(refuse(format!(
                    "expected 5 fields, found {n}; {FIELDS_HINT}"
                )));
            }
        }
        let spec = Spec::parse(&parts).map_err(refuse)?;
        let zone = TimeZone::get(tz).map_err(|_| {
            (
                "tz",
                format!(
                    "tz {} is not a known IANA time zone; use a name like \"Europe/Paris\" or \"UTC\"",
                    quote(tz)
                ),
            )
        })?;
        Ok(CronSchedule {
            expr: trimmed.to_string(),
            tz_name: zone.iana_name().unwrap_or(tz).to_string(),
            tz: zone,
            spec,
        })
    }

    /// The expression as given (trimmed).
    pub fn expr(&self) -> &str {
        &self.expr
    }

    /// The time zone's IANA name.
    pub fn tz_name(&self) -> &str {
        &self.tz_name
    }

    /// The time zone the expression is read in.
    pub fn tz(&self) -> &TimeZone {
        &self.tz
    }

    /// The first due time strictly after `t`; `None` if there is none within 50 years.
    pub fn next_after(&self, t: Timestamp) -> Option<Timestamp> {
        // Whole seconds, rounded down, as cronsim drops microseconds.
        let mut second = t.as_second();
        if t.subsec_nanosecond() < 0 {
            second -= 1;
        }
        let start = Timestamp::from_second(second).ok()?;
        let mut cursor = Cursor::new(self, start);
        // Normally the first answer is after `t`; the loop only skips a wall-clock answer
        // that falls inside the first copy of a repeated hour when asked from the second.
        for _ in 0..1000 {
            let due = cursor.next()?;
            if due > t {
                return Some(due);
            }
        }
        None
    }
}

/// cronsim's iterator state: a wall-clock time (with Python's `fold` to tell the copies
/// of a repeated hour apart) that is either tied to the zone (real-time jobs) or naive
/// (wall-clock jobs).
struct Cursor<'a> {
    schedule: &'a CronSchedule,
    dt: DateTime,
    /// The second copy of a repeated wall time (only for real-time jobs).
    fold: bool,
}

impl<'a> Cursor<'a> {
    fn new(schedule: &'a CronSchedule, start: Timestamp) -> Cursor<'a> {
        let mut cursor = Cursor {
            schedule,
            dt: DateTime::default(),
            fold: false,
        };
        cursor.set_instant(start);
        if schedule.spec.wall_clock {
            cursor.fold = false;
        }
        cursor
    }

    fn spec(&self) -> &Spec {
        &self.schedule.spec
    }

    /// The instant of a wall time: Python's rule, the offset before the change for
    /// fold 0 and after it for fold 1, in a gap as in an overlap.
    fn instant(&self, dt: DateTime, fold: bool) -> Option<Timestamp> {
        let offset = match self.schedule.tz.to_ambiguous_timestamp(dt).offset() {
            AmbiguousOffset::Unambiguous { offset } => offset,
            AmbiguousOffset::Gap { before, after } | AmbiguousOffset::Fold { before, after } => {
                if fold {
                    after
                } else {
                    before
                }
            }
        };
        offset.to_timestamp(dt).ok()
    }

    fn set_instant(&mut self, t: Timestamp) {
        let tz = &self.schedule.tz;
        let offset = tz.to_offset(t);
        self.dt = offset.to_datetime(t);
        self.fold = matches!(
            tz.to_ambiguous_timestamp(self.dt).offset(),
            AmbiguousOffset::Fold { after, .. } if after == offset
        );
    }

    /// Moves forward by `seconds`: in real time for real-time jobs, on the wall clock
    /// for wall-clock jobs.
    fn tick(&mut self, seconds: i64) -> Option<()> {
        if self.spec().wall_clock {
            self.dt = self
                .dt
                .checked_add(SignedDuration::from_secs(seconds))
                .ok()?;
        } else {
            let t = self.instant(self.dt, self.fold)?;
            self.set_instant(t.checked_add(SignedDuration::from_secs(seconds)).ok()?);
        }
        Some(())
    }

    /// The same wall-clock day, another time of day (the fold is kept, as Python does).
    fn replace_time(&mut self, hour: i8, minute: i8, second: i8) {
        self.dt = self.dt.date().at(hour, minute, second, 0);
    }

    /// Midnight of `date` (fold 0).
    fn start_of(&mut self, date: Date) {
        self.dt = date.at(0, 0, 0, 0);
        self.fold = false;
    }

    fn advance_second(&mut self) -> Option<bool> {
        if self.dt.second() == 0 {
            return Some(false);
        }
        let delta = (60 - self.dt.second() as i64) % 60;
        self.tick(delta)?;
        while self.dt.second() != 0 {
            self.tick(1)?;
            if self.dt.second() == 0 {
                break;
            }
        }
        Some(true)
    }

    fn advance_minute(&mut self) -> Option<bool> {
        let minutes = self.spec().minutes;
        let has = |m: i8| minutes & (1 << m) != 0;
        if has(self.dt.minute()) {
            return Some(false);
        }
        self.replace_time(self.dt.hour(), self.dt.minute(), 0);
        if minutes.count_ones() == 1 {
            let target = minutes.trailing_zeros() as i64;
            let delta = (target - self.dt.minute() as i64).rem_euclid(60);
            self.tick(delta * 60)?;
        }
        while !has(self.dt.minute()) {
            self.tick(60)?;
            if self.dt.minute() == 0 {
                break;
            }
        }
        Some(true)
    }

    fn advance_hour(&mut self) -> Option<bool> {
        let hours = self.spec().hours;
        let has = |h: i8| hours & (1 << h) != 0;
        if has(self.dt.hour()) {
            return Some(false);
        }
        self.replace_time(self.dt.hour(), 0, 0);
        while !has(self.dt.hour()) {
            self.tick(3600)?;
            if self.dt.hour() == 0 {
                break;
            }
        }
        Some(true)
    }

    fn advance_day(&mut self) -> Option<bool> {
        let mut needle = self.dt.date();
        if self.spec().match_day(needle) {
            return Some(false);
        }
        while !self.spec().match_day(needle) {
            needle = needle.tomorrow().ok()?;
            if needle.day() == 1 {
                break;
            }
        }
        self.start_of(needle);
        Some(true)
    }

    fn advance_month(&mut self) -> Option<()> {
        let months = self.spec().months;
        let has = |m: i8| months & (1 << m) != 0;
        if has(self.dt.month()) {
            return Some(());
        }
        let mut needle = self.dt.date();
        while !has(needle.month()) {
            needle = needle.first_of_month().checked_add(1.month()).ok()?;
        }
        self.start_of(needle);
        Some(())
    }

    /// cronsim's `__next__`: one second on, then forward until every field matches.
    fn next(&mut self) -> Option<Timestamp> {
        self.tick(1)?;
        let start_year = self.dt.year();
        loop {
            self.advance_month()?;
            if self.dt.year() > start_year + 50 {
                return None;
            }
            if self.advance_day()? || self.advance_hour()? || self.advance_minute()? {
                continue;
            }
            if self.advance_second()? {
                continue;
            }
            break;
        }
        if self.spec().wall_clock {
            // A wall time the spring change skips: on, minute by minute, until it exists.
            let tz = &self.schedule.tz;
            for _ in 0..=2 * 24 * 60 {
                if !matches!(
                    tz.to_ambiguous_timestamp(self.dt).offset(),
                    AmbiguousOffset::Gap { .. }
                ) {
                    break;
                }
                self.dt = self.dt.checked_add(SignedDuration::from_mins(1)).ok()?;
            }
            // A repeated wall time: the first copy (fold 0).
            return self.instant(self.dt, false);
        }
        self.instant(self.dt, self.fold)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(expr: &str) -> Spec {
        CronSchedule::parse(expr, "UTC").unwrap().spec
    }

    fn bits(values: &[u32]) -> u64 {
        values.iter().fold(0, |m, v| m | 1 << v)
    }

    #[test]
    fn lists_ranges_steps_and_names() {
        assert_eq!(spec("*/15 * * * *").minutes, bits(&[0, 15, 30, 45]));
        assert_eq!(spec("5/20 * * * *").minutes, bits(&[5, 25, 45]));
        assert_eq!(spec("10-30/10 * * * *").minutes, bits(&[10, 20, 30]));
        assert_eq!(spec("1,5,7-9 * * * *").minutes, bits(&[1, 5, 7, 8, 9]));
        assert_eq!(
            spec("0 * * * *").hours as u64,
            bits(&(0..24).collect::<Vec<_>>())
        );
        assert_eq!(
            spec("0 0 * jan,Mar-may *").months as u64,
            bits(&[1, 3, 4, 5])
        );
        assert_eq!(
            spec("0 0 * * mon-fri").weekdays as u64,
            bits(&[1, 2, 3, 4, 5])
        );
        // 7 is Sunday, like 0; a step over * counts 0-7 as cronsim does.
        assert_eq!(spec("0 0 * * 7").weekdays, 1);
        assert_eq!(spec("0 0 * * */2").weekdays as u64, bits(&[0, 2, 4, 6]));
        assert_eq!(spec("0 0 * * sun,SAT").weekdays as u64, bits(&[0, 6]));
    }

    #[test]
    fn special_day_forms() {
        let s = spec("0 0 L * *");
        assert!(s.last_day && s.days == 0);
        assert!(spec("0 0 LW * *").last_weekday);
        assert_eq!(spec("0 0 * * 5L").last_weekdays, 1 << 5);
        assert_eq!(spec("0 0 * * 7L").last_weekdays, 1);
        assert_eq!(spec("0 0 * * fri#2").nth[5], 1 << 1);
        assert_eq!(spec("0 0 * * 1#1,1#5").nth[1], 0b10001);
    }

    #[test]
    fn day_of_month_and_week_combine_as_vixie() {
        // Either starts with *: both must match. Otherwise either may.
        assert!(spec("0 0 * * 1").day_and);
        assert!(spec("0 0 13 * *").day_and);
        assert!(spec("0 0 */2 * 1").day_and);
        assert!(!spec("0 0 13 * 5").day_and);
        assert!(!spec("0 0 1-7 * 1").day_and);
    }

    #[test]
    fn fixed_time_jobs_use_the_wall_clock() {
        for expr in [
            "0 3 * * *",
            "30 2 * * 0",
            "0,30 2 * * *",
            "0 1-3 * * *",
            "@daily",
        ] {
            assert!(spec(expr).wall_clock, "{expr}");
        }
        for expr in [
            "*/15 * * * *",
            "0 * * * *",
            "* 2 * * *",
            "*/15 2 * * *",
            "0 */2 * * *",
            "@hourly",
        ] {
            assert!(!spec(expr).wall_clock, "{expr}");
        }
    }

    #[test]
    fn matches_month_ends() {
        let s = spec("0 0 L * *");
        let date = |y, m, d| Date::new(y, m, d).unwrap();
        assert!(s.match_day(date(2028, 2, 29)));
        assert!(!s.match_day(date(2028, 2, 28)));
        assert!(s.match_day(date(2027, 2, 28)));
        assert!(s.match_day(date(2026, 4, 30)));
        // The last weekday of May 2026 is Friday the 29th (the 31st is a Sunday).
        let s = spec("0 0 LW * *");
        assert!(s.match_day(date(2026, 5, 29)));
        assert!(!s.match_day(date(2026, 5, 31)));
        // The last Friday of a month, and the second one.
        assert!(spec("0 0 * * 5L").match_day(date(2026, 1, 30)));
        assert!(!spec("0 0 * * 5L").match_day(date(2026, 1, 23)));
        assert!(spec("0 0 * * 5#2").match_day(date(2026, 1, 9)));
        assert!(!spec("0 0 * * 5#2").match_day(date(2026, 1, 2)));
    }
}
