//! systemd calendar events (`OnCalendar=`, systemd.time(7)): parsing and the next elapse,
//! so that an `oncalendar` check is due exactly when `systemd-analyze calendar` says.
//!
//! The parser accepts what systemd's `calendar_spec_from_string` accepts and refuses
//! what it refuses: weekday lists and ranges (`Mon..Fri`, `Sat,Sun`, `Mon-Wed`), dates
//! with `*`, lists, `..` ranges and `/` repetition, `~` for days counted from the end of
//! the month, times with seconds and fractional seconds, the shorthands (`minutely` …
//! `semiannually`), `@EPOCH`, and a time zone at the end (`UTC` or an IANA name such as
//! `Europe/Paris`). Two-digit years are 20xx below 70 and 19xx from 70; years run from
//! 1970 to 2199.
//!
//! One thing systemd takes is refused: an abbreviation of the check's own zone at the
//! end (`… CET` in Europe/Paris). systemd reads it as "standard (or daylight) time
//! only", through glibc's `tzname`, whose value depends on the last time glibc
//! converted, so not even two runs of systemd agree on it; give the IANA name instead.
//!
//! The next elapse follows systemd's `find_next` step by step on a broken-down time,
//! with glibc's `mktime` emulated around it (its guess of the previous offset
//! included), because that is where the daylight-saving behaviour comes from:
//!
//! - A wall time skipped by the spring change does not happen that day (`02:30` on the
//!   night Paris goes from 02:00 to 03:00 is skipped; the next one is the day after).
//! - A wall time repeated by the autumn change happens once, in the first copy, when
//!   the search starts before it; from inside the second copy, it happens there.
//! - A job every N minutes, after the first copy of a repeated hour, continues after
//!   the second copy (systemd steps in wall-clock time).
//!
//! Everything here is pure: the time zone is passed in, no clock is read.

use std::fmt;

use jiff::Timestamp;
use jiff::tz::TimeZone;
use serde::de::{self, Deserializer, SeqAccess, Visitor};
use serde::{Deserialize, Serialize, Serializer};

use super::quote;

const MIN_YEAR: i64 = 1970;
const MAX_YEAR: i64 = 2199;
const USEC_PER_SEC: i64 = 1_000_000;
/// A chain has at most this many comma-separated items (after the first).
const COMPONENTS_MAX: usize = 240;
/// systemd gives up (an error, shown as never) after this many steps.
const MAX_ITERATIONS: usize = 1000;
const ALL_WEEKDAYS: i64 = 127;
const INT_MAX: i64 = i32::MAX as i64;

/// At most this many expressions, each at most [`EXPRESSION_MAX`] characters.
pub const EXPRESSIONS_MAX: usize = 50;
pub const EXPRESSION_MAX: usize = 1000;

const HINT: &str = "write a systemd calendar event like \"Mon..Fri *-*-* 02:00:00\", \"*-*-01 06:00\", \"*:0/15\" or \"daily\"";

/// `oncalendar` as given: one string (one expression a line) or a list of strings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CalendarInput {
    One(String),
    Many(Vec<String>),
}

impl CalendarInput {
    /// The expressions: every non-blank line of every string, trimmed.
    pub fn expressions(&self) -> Vec<String> {
        let texts: Vec<&str> = match self {
            CalendarInput::One(text) => vec![text.as_str()],
            CalendarInput::Many(texts) => texts.iter().map(String::as_str).collect(),
        };
        texts
            .iter()
            .flat_map(|text| text.lines())
            .map(str::trim)
            .filter(|line| !line.is_empty())
            .map(str::to_string)
            .collect()
    }

    /// The number of characters given, for bounds.
    fn longest(&self) -> usize {
        match self {
            CalendarInput::One(text) => text.chars().count(),
            CalendarInput::Many(texts) => {
                texts.iter().map(|t| t.chars().count()).max().unwrap_or(0)
            }
        }
    }

    fn count(&self) -> usize {
        match self {
            CalendarInput::One(_) => 1,
            CalendarInput::Many(texts) => texts.len(),
        }
    }
}

impl Serialize for CalendarInput {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            CalendarInput::One(text) => serializer.serialize_str(text),
            CalendarInput::Many(texts) => texts.serialize(serializer),
        }
    }
}

/// A string or a list of strings, with a message that says so (an untagged enum would
/// only say "did not match").
impl<'de> Deserialize<'de> for CalendarInput {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct InputVisitor;

        impl<'de> Visitor<'de> for InputVisitor {
            type Value = CalendarInput;

            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                write!(
                    f,
                    "a systemd calendar event like \"Mon..Fri *-*-* 02:00:00\", or a list of them"
                )
            }

            fn visit_str<E: de::Error>(self, v: &str) -> Result<CalendarInput, E> {
                Ok(CalendarInput::One(v.to_string()))
            }

            fn visit_string<E: de::Error>(self, v: String) -> Result<CalendarInput, E> {
                Ok(CalendarInput::One(v))
            }

            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<CalendarInput, A::Error> {
                let mut texts = Vec::new();
                while let Some(text) = seq.next_element::<String>()? {
                    texts.push(text);
                }
                Ok(CalendarInput::Many(texts))
            }
        }

        deserializer.deserialize_any(InputVisitor)
    }
}

/// One item of a chain: `start`, `start..stop`, `start/repeat` or `start..stop/repeat`.
/// `stop` is -1 when there is none; `repeat` 0 when there is none. Seconds are kept in
/// microseconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
struct Component {
    start: i64,
    stop: i64,
    repeat: i64,
}

impl Component {
    fn single(value: i64) -> Component {
        Component {
            start: value,
            stop: -1,
            repeat: 0,
        }
    }
}

/// `None` is `*` (any value); seconds always have a chain.
type Chain = Option<Vec<Component>>;

/// One calendar event, normalized as systemd normalizes it.
#[derive(Debug, Clone)]
struct CalendarSpec {
    /// Bit 0 Monday … bit 6 Sunday; -1 for any day.
    weekdays: i64,
    end_of_month: bool,
    utc: bool,
    /// An IANA zone given at the end of the expression.
    zone: Option<(String, TimeZone)>,
    year: Chain,
    month: Chain,
    day: Chain,
    hour: Chain,
    minute: Chain,
    microsecond: Chain,
}

impl CalendarSpec {
    fn new() -> CalendarSpec {
        CalendarSpec {
            weekdays: 0,
            end_of_month: false,
            utc: false,
            zone: None,
            year: None,
            month: None,
            day: None,
            hour: None,
            minute: None,
            microsecond: None,
        }
    }
}

/// A parsed `oncalendar` schedule bound to a time zone: due at any of its expressions.
#[derive(Debug, Clone)]
pub struct OnCalendarSchedule {
    input: CalendarInput,
    tz_name: String,
    tz: TimeZone,
    specs: Vec<CalendarSpec>,
}

impl OnCalendarSchedule {
    /// Parses every expression of `input`, read in the IANA zone `tz` (unless one names
    /// its own zone). The error is `(field, message)`, field `"oncalendar"` or `"tz"`.
    pub fn parse(
        input: &CalendarInput,
        tz: &str,
    ) -> Result<OnCalendarSchedule, (&'static str, String)> {
        let zone = super::parse_tz(tz).map_err(|e| (e.field, e.message))?;
        if input.count() > EXPRESSIONS_MAX {
            return Err((
                "oncalendar",
                format!(
                    "oncalendar: {} expressions given; at most {EXPRESSIONS_MAX} are accepted",
                    input.count()
                ),
            ));
        }
        if input.longest() > EXPRESSION_MAX {
            return Err((
                "oncalendar",
                format!(
                    "oncalendar: an expression of {} characters given; at most {EXPRESSION_MAX} are accepted",
                    input.longest()
                ),
            ));
        }
        let expressions = input.expressions();
        if expressions.is_empty() {
            return Err((
                "oncalendar",
                format!("oncalendar: the expression is empty; {HINT}"),
            ));
        }
        let names = abbreviations(&zone);
        let specs = expressions
            .iter()
            .map(|expr| {
                parse_spec(expr, &names)
                    .map_err(|why| ("oncalendar", format!("oncalendar {}: {why}", quote(expr))))
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(OnCalendarSchedule {
            input: input.clone(),
            tz_name: zone.iana_name().unwrap_or(tz).to_string(),
            tz: zone,
            specs,
        })
    }

    pub fn input(&self) -> &CalendarInput {
        &self.input
    }

    pub fn tz_name(&self) -> &str {
        &self.tz_name
    }

    /// Each expression in systemd's normalized form (`Mon..Fri *-*-* 02:00:00`), as
    /// `systemd-analyze calendar` prints it.
    pub fn normalized(&self) -> Vec<String> {
        self.specs.iter().map(ToString::to_string).collect()
    }

    /// The first due time strictly after `t`; `None` when no expression elapses again
    /// (systemd's calendar ends in 2199).
    pub fn next_after(&self, t: Timestamp) -> Option<Timestamp> {
        let usec = t.as_microsecond().max(-1);
        self.specs
            .iter()
            .filter_map(|spec| next_usec(spec, usec, &self.tz))
            .min()
            .and_then(|next| Timestamp::from_microsecond(next).ok())
    }
}

// ---------------------------------------------------------------------------------
// Parsing

/// The abbreviations `zone` has used lately (`CET`, `CEST`), which systemd could read as
/// glibc's `tzname`.
fn abbreviations(zone: &TimeZone) -> Vec<String> {
    let mut names: Vec<String> = Vec::new();
    // From 1990 to 2060, four times a year.
    for quarter in 0..280 {
        let Ok(t) = Timestamp::from_second(631_152_000 + quarter * 7_889_238) else {
            continue;
        };
        let name = zone.to_offset_info(t).abbreviation().to_string();
        if !names.contains(&name) {
            names.push(name);
        }
    }
    names.retain(|n| n != "UTC");
    names
}

fn ends_with_ignore_case(text: &str, suffix: &str) -> bool {
    text.len() >= suffix.len()
        && text.is_char_boundary(text.len() - suffix.len())
        && text[text.len() - suffix.len()..].eq_ignore_ascii_case(suffix)
}

/// A zone name as systemd's `timezone_is_valid` takes it: letters, digits, `-`, `_`,
/// `+` and single `/` between parts, naming a zone file (exactly, case included).
fn valid_zone(name: &str) -> Option<TimeZone> {
    if name == "UTC" {
        return Some(TimeZone::UTC);
    }
    if name.is_empty() || name.starts_with('/') || name.ends_with('/') || name.contains("//") {
        return None;
    }
    if !name
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'+' | b'/'))
    {
        return None;
    }
    let tz = TimeZone::get(name).ok()?;
    (tz.iana_name() == Some(name)).then_some(tz)
}

fn parse_spec(expr: &str, local: &[String]) -> Result<CalendarSpec, String> {
    let mut spec = CalendarSpec::new();
    let mut p: &str = expr;
    if ends_with_ignore_case(p, " UTC") {
        spec.utc = true;
        p = &p[..p.len() - 4];
    } else {
        let named = local.iter().find(|name| {
            !name.is_empty()
                && p.len() > name.len()
                && ends_with_ignore_case(p, name)
                && p.as_bytes()[p.len() - name.len() - 1] == b' '
        });
        if let Some(name) = named {
            return Err(format!(
                "the zone abbreviation {name:?} at the end is not taken (systemd reads it as standard or daylight time only, differently from run to run); end with an IANA name such as \"Europe/Paris\" or UTC, or set tz"
            ));
        } else if let Some(space) = p.rfind(' ')
            && let Some(tz) = valid_zone(&p[space + 1..])
        {
            spec.zone = Some((p[space + 1..].to_string(), tz));
            p = &p[..space];
        }
    }
    if p.is_empty() {
        return Err(format!(
            "there is no date or time before the time zone; {HINT}"
        ));
    }
    if p.contains("*/") {
        return Err("\"*/N\" is cron's way; systemd repeats from a start value: write 0/N, as in *:0/15 for every quarter hour"
            .to_string());
    }
    let shorthand = |name: &str| p.eq_ignore_ascii_case(name);
    let zero = || Some(vec![Component::single(0)]);
    if shorthand("minutely") {
        spec.microsecond = zero();
    } else if shorthand("hourly") {
        spec.minute = zero();
        spec.microsecond = zero();
    } else if shorthand("daily") {
        spec.hour = zero();
        spec.minute = zero();
        spec.microsecond = zero();
    } else if shorthand("monthly") {
        spec.day = Some(vec![Component::single(1)]);
        spec.hour = zero();
        spec.minute = zero();
        spec.microsecond = zero();
    } else if ["annually", "yearly", "anually"]
        .iter()
        .any(|n| shorthand(n))
    {
        spec.month = Some(vec![Component::single(1)]);
        spec.day = Some(vec![Component::single(1)]);
        spec.hour = zero();
        spec.minute = zero();
        spec.microsecond = zero();
    } else if shorthand("weekly") {
        spec.weekdays = 1;
        spec.hour = zero();
        spec.minute = zero();
        spec.microsecond = zero();
    } else if shorthand("quarterly") {
        spec.month = Some([1, 4, 7, 10].map(Component::single).to_vec());
        spec.day = Some(vec![Component::single(1)]);
        spec.hour = zero();
        spec.minute = zero();
        spec.microsecond = zero();
    } else if ["biannually", "bi-annually", "semiannually", "semi-annually"]
        .iter()
        .any(|n| shorthand(n))
    {
        spec.month = Some([1, 7].map(Component::single).to_vec());
        spec.day = Some(vec![Component::single(1)]);
        spec.hour = zero();
        spec.minute = zero();
        spec.microsecond = zero();
    } else {
        let mut rest = p.as_bytes();
        parse_weekdays(&mut rest, &mut spec)?;
        let timestamp = parse_date(&mut rest, &mut spec)?;
        if !timestamp {
            parse_time(&mut rest, &mut spec)?;
        }
        if !rest.is_empty() {
            return Err(format!(
                "{:?} is not understood; {HINT}",
                String::from_utf8_lossy(rest)
            ));
        }
    }
    normalize(&mut spec);
    validate(&spec)?;
    Ok(spec)
}

fn skip_spaces(p: &mut &[u8]) {
    while p.first() == Some(&b' ') {
        *p = &p[1..];
    }
}

fn starts_with_ignore_case(p: &[u8], name: &str) -> bool {
    p.len() >= name.len() && p[..name.len()].eq_ignore_ascii_case(name.as_bytes())
}

const DAY_NAMES: [(&str, i64); 14] = [
    ("Monday", 0),
    ("Mon", 0),
    ("Tuesday", 1),
    ("Tue", 1),
    ("Wednesday", 2),
    ("Wed", 2),
    ("Thursday", 3),
    ("Thu", 3),
    ("Friday", 4),
    ("Fri", 4),
    ("Saturday", 5),
    ("Sat", 5),
    ("Sunday", 6),
    ("Sun", 6),
];

fn parse_weekdays(p: &mut &[u8], spec: &mut CalendarSpec) -> Result<(), String> {
    const WEEKDAY_HINT: &str = "write weekdays like Mon, Mon..Fri or Sat,Sun before the date";
    let mut range_from: i64 = -1;
    let mut first = true;
    loop {
        let Some(&(name, nr)) = DAY_NAMES
            .iter()
            .find(|(name, _)| starts_with_ignore_case(p, name))
        else {
            return if first {
                Ok(())
            } else {
                Err(format!("{:?} is not a weekday; {WEEKDAY_HINT}", word(p)))
            };
        };
        let skip = name.len();
        if !matches!(p.get(skip), None | Some(b'-' | b'.' | b',' | b' ')) {
            return Err(format!("{:?} is not a weekday; {WEEKDAY_HINT}", word(p)));
        }
        spec.weekdays |= 1 << nr;
        if range_from >= 0 {
            if range_from > nr {
                return Err(format!(
                    "the weekday range ending in {name} runs backwards; ranges go from Mon to Sun, e.g. Mon..Fri"
                ));
            }
            for j in range_from + 1..nr {
                spec.weekdays |= 1 << j;
            }
        }
        *p = &p[skip..];
        match p.first() {
            None => return Ok(()),
            Some(b' ') => {
                skip_spaces(p);
                return Ok(());
            }
            Some(b'.') => {
                if range_from >= 0 || p.get(1) != Some(&b'.') {
                    return Err(format!(
                        "the weekdays {:?} are not a list or a range; {WEEKDAY_HINT}",
                        word(p)
                    ));
                }
                range_from = nr;
                *p = &p[2..];
            }
            Some(b'-') => {
                if range_from >= 0 {
                    return Err(format!(
                        "the weekdays {:?} are not a list or a range; {WEEKDAY_HINT}",
                        word(p)
                    ));
                }
                range_from = nr;
                *p = &p[1..];
            }
            Some(b',') => {
                range_from = -1;
                *p = &p[1..];
            }
            Some(_) => {}
        }
        if matches!(p.first(), None | Some(b' ')) {
            skip_spaces(p);
            return if range_from < 0 {
                Ok(())
            } else {
                Err(format!(
                    "the weekday range starting at {name} has no end; {WEEKDAY_HINT}"
                ))
            };
        }
        first = false;
    }
}

/// The text up to the next space, for messages.
fn word(p: &[u8]) -> String {
    let end = p.iter().position(|&b| b == b' ').unwrap_or(p.len());
    String::from_utf8_lossy(&p[..end]).into_owned()
}

/// Reads a date (`[YEAR-]MONTH-DAY`, `~` for from the end), or `@EPOCH`. Returns
/// whether it was `@EPOCH` (which has no time after it).
fn parse_date(p: &mut &[u8], spec: &mut CalendarSpec) -> Result<bool, String> {
    const DATE_HINT: &str = "write a date as YEAR-MONTH-DAY or MONTH-DAY, each a number, a list (1,15), a range (1..7), a repetition (1/2) or *";
    if p.is_empty() {
        return Ok(false);
    }
    if p[0] == b'@' {
        let mut t = &p[1..];
        let digits = t.iter().take_while(|b| b.is_ascii_digit()).count();
        let value: i64 = std::str::from_utf8(&t[..digits])
            .ok()
            .and_then(|d| d.parse().ok())
            .ok_or_else(|| format!("{:?} is not a number of seconds since 1970", word(p)))?;
        t = &t[digits..];
        from_epoch(spec, value)?;
        *p = t;
        return Ok(true);
    }
    let mut t = *p;
    let first = parse_chain(&mut t, false, "date")?;
    if matches!(t.first(), None | Some(b':')) {
        // A time, not a date.
        return Ok(false);
    }
    match t[0] {
        b'~' => spec.end_of_month = true,
        b'-' => {}
        _ => return Err(format!("{:?} is not a date; {DATE_HINT}", word(p))),
    }
    t = &t[1..];
    let second = parse_chain(&mut t, false, "date")?;
    if matches!(t.first(), None | Some(b' ')) {
        skip_spaces(&mut t);
        *p = t;
        spec.month = first;
        spec.day = second;
        return Ok(false);
    }
    if spec.end_of_month {
        return Err(format!(
            "{:?} is not a date: ~ stands between the month and the day, as in *-02~01 for the last day of February",
            word(p)
        ));
    }
    match t[0] {
        b'~' => spec.end_of_month = true,
        b'-' => {}
        _ => return Err(format!("{:?} is not a date; {DATE_HINT}", word(p))),
    }
    t = &t[1..];
    let third = parse_chain(&mut t, false, "date")?;
    if !matches!(t.first(), None | Some(b' ')) {
        return Err(format!("{:?} is not a date; {DATE_HINT}", word(p)));
    }
    skip_spaces(&mut t);
    *p = t;
    spec.year = first;
    spec.month = second;
    spec.day = third;
    Ok(false)
}

/// `@EPOCH`: that one instant, in UTC.
fn from_epoch(spec: &mut CalendarSpec, value: i64) -> Result<(), String> {
    let days = value.div_euclid(86_400);
    let secs = value.rem_euclid(86_400);
    let (year, month, day) = civil_from_days(days);
    spec.utc = true;
    spec.year = Some(vec![Component::single(year)]);
    spec.month = Some(vec![Component::single(month)]);
    spec.day = Some(vec![Component::single(day)]);
    spec.hour = Some(vec![Component::single(secs / 3600)]);
    spec.minute = Some(vec![Component::single(secs % 3600 / 60)]);
    spec.microsecond = Some(vec![Component::single(secs % 60 * USEC_PER_SEC)]);
    Ok(())
}

fn parse_time(p: &mut &[u8], spec: &mut CalendarSpec) -> Result<(), String> {
    const TIME_HINT: &str = "write a time as HOUR:MINUTE or HOUR:MINUTE:SECOND, each a number, a list (0,30), a range (8..18), a repetition (0/15) or *";
    let zero = || Some(vec![Component::single(0)]);
    if p.is_empty() {
        spec.hour = zero();
        spec.minute = zero();
        spec.microsecond = zero();
        return Ok(());
    }
    let whole = *p;
    let hour = parse_chain(p, false, "hour")?;
    if p.first() != Some(&b':') {
        return Err(format!("{:?} is not a time; {TIME_HINT}", word(whole)));
    }
    *p = &p[1..];
    let minute = parse_chain(p, false, "minute")?;
    let second = if p.is_empty() {
        zero()
    } else {
        if p[0] != b':' {
            return Err(format!("{:?} is not a time; {TIME_HINT}", word(whole)));
        }
        *p = &p[1..];
        let second = parse_chain(p, true, "second")?;
        if !p.is_empty() {
            return Err(format!("{:?} is not a time; {TIME_HINT}", word(whole)));
        }
        second
    };
    spec.hour = hour;
    spec.minute = minute;
    spec.microsecond = second;
    Ok(())
}

fn parse_chain(p: &mut &[u8], usec: bool, what: &str) -> Result<Chain, String> {
    if p.first() == Some(&b'*') {
        *p = &p[1..];
        return Ok(usec.then(|| {
            vec![Component {
                start: 0,
                stop: -1,
                repeat: USEC_PER_SEC,
            }]
        }));
    }
    let mut chain = Vec::new();
    loop {
        if chain.len() > COMPONENTS_MAX {
            return Err(format!(
                "the {what} has more than {} items; at most {} are accepted",
                COMPONENTS_MAX + 1,
                COMPONENTS_MAX + 1
            ));
        }
        let whole = *p;
        let start = parse_decimal(p, usec, what)?;
        let mut stop = -1;
        let mut repeat = 0;
        if p.starts_with(b"..") {
            *p = &p[2..];
            stop = parse_decimal(p, usec, what)?;
            repeat = if usec { USEC_PER_SEC } else { 1 };
        }
        if p.first() == Some(&b'/') {
            *p = &p[1..];
            repeat = parse_decimal(p, usec, what)?;
            if repeat == 0 {
                return Err(format!(
                    "the {what} {:?} repeats every 0; the number after / must be above 0",
                    item(whole)
                ));
            }
        } else {
            if start > INT_MAX - repeat {
                return Err(format!("the {what} {:?} is too large", item(whole)));
            }
            if usec && stop >= 0 && start + repeat > stop {
                return Err(format!(
                    "the {what} range {:?} is shorter than a second; give a repetition, as in 0..1/0.25",
                    item(whole)
                ));
            }
        }
        if !matches!(p.first(), None | Some(b' ' | b',' | b'-' | b'~' | b':')) {
            return Err(format!(
                "the {what} {:?} is not a number, a list, a range or a repetition",
                item(whole)
            ));
        }
        chain.push(Component {
            start,
            stop,
            repeat,
        });
        if p.first() == Some(&b',') {
            *p = &p[1..];
        } else {
            return Ok(Some(chain));
        }
    }
}

/// The text of one item, for messages.
fn item(p: &[u8]) -> String {
    let end = p
        .iter()
        .position(|&b| matches!(b, b' ' | b',' | b'-' | b'~' | b':'))
        .unwrap_or(p.len());
    String::from_utf8_lossy(&p[..end.max(1).min(p.len())]).into_owned()
}

fn parse_decimal(p: &mut &[u8], usec: bool, what: &str) -> Result<i64, String> {
    let whole = *p;
    let digits = p.iter().take_while(|b| b.is_ascii_digit()).count();
    if digits == 0 {
        return Err(format!(
            "the {what} {:?} is not a number, a list, a range or a repetition",
            item(whole)
        ));
    }
    let too_large = || format!("the {what} {:?} is too large", item(whole));
    let mut value: u64 = std::str::from_utf8(&p[..digits])
        .ok()
        .and_then(|d| d.parse().ok())
        .ok_or_else(too_large)?;
    *p = &p[digits..];
    if usec {
        value = value
            .checked_mul(USEC_PER_SEC as u64)
            .ok_or_else(too_large)?;
        if p.first() == Some(&b'.') && p.get(1) != Some(&b'.') {
            *p = &p[1..];
            let add = parse_fraction(p).ok_or_else(|| {
                format!(
                    "the {what} {:?} has a decimal point without digits after it",
                    item(whole)
                )
            })?;
            value = value.checked_add(add).ok_or_else(too_large)?;
        }
    }
    if value > INT_MAX as u64 {
        return Err(too_large());
    }
    Ok(value as i64)
}

/// Up to six digits of a fraction in microseconds, rounded by the seventh; more digits
/// are skipped. `None` without a digit.
fn parse_fraction(p: &mut &[u8]) -> Option<u64> {
    let mut value: u64 = 0;
    let mut i = 0;
    while i < 6 {
        match p.get(i) {
            Some(b) if b.is_ascii_digit() => value = value * 10 + u64::from(b - b'0'),
            _ if i == 0 => return None,
            _ => {
                value *= 10u64.pow(6 - i as u32);
                break;
            }
        }
        i += 1;
    }
    let rest = &p[i.min(p.len())..];
    if matches!(rest.first(), Some(b'5'..=b'9')) {
        value += 1;
    }
    let more = rest.iter().take_while(|b| b.is_ascii_digit()).count();
    *p = &rest[more..];
    Some(value)
}

fn normalize(spec: &mut CalendarSpec) {
    if spec.zone.as_ref().is_some_and(|(name, _)| name == "UTC") {
        spec.utc = true;
        spec.zone = None;
    }
    if spec.weekdays <= 0 || spec.weekdays >= ALL_WEEKDAYS {
        spec.weekdays = -1;
    }
    if spec.end_of_month && spec.day.is_none() {
        spec.end_of_month = false;
    }
    if let Some(years) = &mut spec.year {
        for c in years.iter_mut() {
            for value in [&mut c.start, &mut c.stop] {
                if (0..70).contains(value) {
                    *value += 2000;
                } else if (70..100).contains(value) {
                    *value += 1900;
                }
            }
        }
    }
    for chain in [
        &mut spec.year,
        &mut spec.month,
        &mut spec.day,
        &mut spec.hour,
        &mut spec.minute,
        &mut spec.microsecond,
    ]
    .into_iter()
    .flatten()
    {
        for c in chain.iter_mut() {
            if c.stop > c.start && c.repeat > 0 {
                c.stop -= (c.stop - c.start) % c.repeat;
            }
            if (c.stop > c.start && c.repeat > 0 && c.start + c.repeat > c.stop)
                || c.start == c.stop
            {
                c.repeat = 0;
                c.stop = -1;
            }
        }
        chain.sort();
        chain.dedup();
    }
}

fn validate(spec: &CalendarSpec) -> Result<(), String> {
    check_chain(&spec.year, "year", MIN_YEAR, MAX_YEAR, false)?;
    check_chain(&spec.month, "month", 1, 12, false)?;
    check_chain(&spec.day, "day", 1, 31, spec.end_of_month)?;
    check_chain(&spec.hour, "hour", 0, 23, false)?;
    check_chain(&spec.minute, "minute", 0, 59, false)?;
    check_chain(&spec.microsecond, "second", 0, 60 * USEC_PER_SEC - 1, false)
}

fn check_chain(
    chain: &Chain,
    what: &str,
    from: i64,
    to: i64,
    end_of_month: bool,
) -> Result<(), String> {
    let Some(chain) = chain else { return Ok(()) };
    let usec = what == "second";
    let to = if end_of_month { to - 3 } else { to };
    let shown = |v: i64| {
        if usec {
            format_value(v, 1, true)
        } else {
            v.to_string()
        }
    };
    let range = if usec {
        "0-59.999999".to_string()
    } else {
        format!("{from}-{to}")
    };
    let counted = if end_of_month {
        " (counted from the end of the month)"
    } else {
        ""
    };
    for c in chain {
        if c.start < from || c.start > to {
            return Err(format!(
                "{what} {}{counted} is out of range {range}",
                shown(c.start)
            ));
        }
        if c.repeat > to - from {
            return Err(format!(
                "the {what} repetition /{} is longer than the range {range}",
                shown(c.repeat)
            ));
        }
        if c.stop >= 0 {
            if c.stop < from || c.stop > to {
                return Err(format!(
                    "{what} {}{counted} is out of range {range}",
                    shown(c.stop)
                ));
            }
            if c.start + c.repeat > c.stop {
                return Err(format!(
                    "the {what} range {}..{} runs backwards or is empty",
                    shown(c.start),
                    shown(c.stop)
                ));
            }
        } else if end_of_month && c.start - c.repeat < from {
            return Err(format!(
                "the day {}/{} counted from the end of the month repeats past the month's start",
                shown(c.start),
                shown(c.repeat)
            ));
        } else if !end_of_month && c.start + c.repeat > to {
            return Err(format!(
                "the {what} {}/{} never repeats within {range}",
                shown(c.start),
                shown(c.repeat)
            ));
        }
    }
    Ok(())
}

// ---------------------------------------------------------------------------------
// The normalized form

fn format_value(value: i64, width: usize, usec: bool) -> String {
    let d = if usec { USEC_PER_SEC } else { 1 };
    let mut text = format!("{:0width$}", value / d);
    if value % d > 0 {
        text.push_str(&format!(".{:06}", value % d));
    }
    text
}

fn format_chain(
    f: &mut fmt::Formatter<'_>,
    width: usize,
    chain: &Chain,
    usec: bool,
) -> fmt::Result {
    let d = if usec { USEC_PER_SEC } else { 1 };
    let Some(chain) = chain else {
        return f.write_str("*");
    };
    // Seconds that include "every second from 0" are all seconds.
    if usec
        && chain
            .iter()
            .any(|c| c.start == 0 && c.stop < 0 && c.repeat == USEC_PER_SEC)
    {
        return f.write_str("*");
    }
    for (i, c) in chain.iter().enumerate() {
        if i > 0 {
            f.write_str(",")?;
        }
        f.write_str(&format_value(c.start, width, usec))?;
        if c.stop > 0 {
            write!(f, "..{}", format_value(c.stop, width, usec))?;
        }
        if c.repeat > 0 && !(c.stop > 0 && c.repeat == d) {
            write!(f, "/{}", c.repeat / d)?;
            if c.repeat % d > 0 {
                write!(f, ".{:06}", c.repeat % d)?;
            }
        }
    }
    Ok(())
}

impl fmt::Display for CalendarSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        const DAYS: [&str; 7] = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];
        if self.weekdays > 0 && self.weekdays <= ALL_WEEKDAYS {
            let mut need_comma = false;
            let mut run_start: Option<usize> = None;
            let bit = |x: usize| self.weekdays & (1 << x) != 0;
            for x in 0..=7 {
                if x < 7 && bit(x) {
                    if run_start.is_none() {
                        if need_comma {
                            f.write_str(",")?;
                        }
                        need_comma = true;
                        f.write_str(DAYS[x])?;
                        run_start = Some(x);
                    }
                } else if let Some(l) = run_start.take()
                    && x > l + 1
                {
                    f.write_str(if x > l + 2 { ".." } else { "," })?;
                    f.write_str(DAYS[x - 1])?;
                }
            }
            f.write_str(" ")?;
        }
        format_chain(f, 4, &self.year, false)?;
        f.write_str("-")?;
        format_chain(f, 2, &self.month, false)?;
        f.write_str(if self.end_of_month { "~" } else { "-" })?;
        format_chain(f, 2, &self.day, false)?;
        f.write_str(" ")?;
        format_chain(f, 2, &self.hour, false)?;
        f.write_str(":")?;
        format_chain(f, 2, &self.minute, false)?;
        f.write_str(":")?;
        format_chain(f, 2, &self.microsecond, true)?;
        if self.utc {
            f.write_str(" UTC")?;
        } else if let Some((name, _)) = &self.zone {
            write!(f, " {name}")?;
        }
        Ok(())
    }
}

// ---------------------------------------------------------------------------------
// Civil time arithmetic (proleptic Gregorian)

fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

/// A C `struct tm`: fields may be out of range until normalized. `year` is the full
/// year, `mon` 0-11, `wday` 0 = Sunday.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Tm {
    year: i64,
    mon: i64,
    mday: i64,
    hour: i64,
    min: i64,
    sec: i64,
    isdst: i64,
    wday: i64,
}

impl Tm {
    /// The fields read as UTC seconds, out-of-range values carried over.
    fn as_seconds(&self, sec: i64) -> i64 {
        let year = self.year + self.mon.div_euclid(12);
        let mon = self.mon.rem_euclid(12);
        let days = days_from_civil(year, mon + 1, 1) + self.mday - 1;
        days * 86_400 + self.hour * 3600 + self.min * 60 + sec
    }
}

/// Local time as glibc computes it, `mktime` with its remembered offset included.
struct Clock<'a> {
    tz: &'a TimeZone,
    utc: bool,
    /// glibc's `localtime_offset`: the result minus the requested time, last call.
    guess: i64,
}

impl Clock<'_> {
    /// (UTC offset in seconds, daylight time) at `t`.
    fn offset(&self, t: i64) -> Option<(i64, bool)> {
        if self.utc {
            return Some((0, false));
        }
        let info = self.tz.to_offset_info(Timestamp::from_second(t).ok()?);
        Some((i64::from(info.offset().seconds()), info.dst().is_dst()))
    }

    /// `localtime_r` (`gmtime_r` in UTC).
    fn localtime(&self, t: i64) -> Option<Tm> {
        let (offset, dst) = self.offset(t)?;
        Some(broken_down(t + offset, dst))
    }

    /// glibc's `mktime` (`timegm` in UTC): normalizes `tm` and returns the instant, or
    /// -1 when there is none.
    fn mktime(&mut self, tm: &mut Tm) -> i64 {
        let isdst = if self.utc { -1 } else { tm.isdst };
        let sec_requested = tm.sec;
        let sec = sec_requested.clamp(0, 59);
        let requested = tm.as_seconds(sec);
        let guess = if self.utc { 0 } else { self.guess };
        let t0 = requested + guess;
        let (mut t, mut t1, mut t2) = (t0, t0, t0);
        let mut dst2 = false;
        let mut probes = 6;
        let mut found_gap = false;
        let mut info;
        loop {
            let Some(now) = self.offset(t) else { return -1 };
            info = now;
            let dt = requested - (t + info.0);
            if dt == 0 {
                break;
            }
            let tm_dst = info.1;
            if t == t1
                && t != t2
                && (if isdst < 0 {
                    dst2 <= tm_dst
                } else {
                    (isdst != 0) != tm_dst
                })
            {
                found_gap = true;
                break;
            }
            probes -= 1;
            if probes == 0 {
                return -1;
            }
            t1 = t2;
            t2 = t;
            t += dt;
            dst2 = tm_dst;
        }
        if !found_gap && isdst >= 0 && (isdst != 0) != info.1 {
            // The wrong one of daylight and standard time: use the offset of the
            // nearest time that has the one asked for.
            const STRIDE: i64 = 601_200;
            const BOUND: i64 = 536_454_000 / 2 + STRIDE;
            let mut fixed = None;
            'search: for delta in (STRIDE..BOUND).step_by(STRIDE as usize) {
                for direction in [-1, 1] {
                    let ot = t + delta * direction;
                    let Some(other) = self.offset(ot) else {
                        continue;
                    };
                    if (isdst != 0) == other.1 {
                        let gt = requested - other.0;
                        if let Some(at) = self.offset(gt) {
                            fixed = Some((gt, at));
                            break 'search;
                        }
                    }
                }
            }
            match fixed {
                Some((gt, at)) => {
                    t = gt;
                    info = at;
                }
                None => return -1,
            }
        }
        if !self.utc {
            self.guess = t - requested;
        }
        if sec_requested != sec {
            t += sec_requested - sec;
            let Some(now) = self.offset(t) else { return -1 };
            info = now;
        }
        *tm = broken_down(t + info.0, info.1);
        t
    }
}

fn broken_down(local: i64, dst: bool) -> Tm {
    let days = local.div_euclid(86_400);
    let secs = local.rem_euclid(86_400);
    let (year, month, day) = civil_from_days(days);
    Tm {
        year,
        mon: month - 1,
        mday: day,
        hour: secs / 3600,
        min: secs % 3600 / 60,
        sec: secs % 60,
        isdst: i64::from(dst),
        wday: (days + 4).rem_euclid(7),
    }
}

// ---------------------------------------------------------------------------------
// The next elapse, as systemd's find_next computes it

/// The day of the month `day` days before the first of the next month (1 is the last
/// day), or -1 when that is not in `tm`'s month.
fn end_of_month(clock: &mut Clock<'_>, tm: &Tm, day: i64) -> i64 {
    let mut t = *tm;
    t.mon += 1;
    t.mday = 1 - day;
    if clock.mktime(&mut t) < 0 || t.mon != tm.mon {
        return -1;
    }
    t.mday
}

/// The earliest value at or after `*val` that the chain allows: 1 and `*val` changed,
/// 0 when `*val` already matched, -1 when nothing does.
fn find_matching(
    clock: &mut Clock<'_>,
    spec: &CalendarSpec,
    chain: &Chain,
    is_day: bool,
    tm: &Tm,
    val: &mut i64,
) -> i64 {
    let Some(chain) = chain else { return 0 };
    let from_end = spec.end_of_month && is_day;
    let mut best: Option<i64> = None;
    for c in chain {
        let (mut start, mut stop) = (c.start, c.stop);
        if from_end {
            start = end_of_month(clock, tm, c.start);
            stop = end_of_month(clock, tm, c.stop);
            if stop > 0 {
                std::mem::swap(&mut start, &mut stop);
            }
        }
        if start >= *val {
            if best.is_none_or(|d| start < d) {
                best = Some(start);
            }
        } else if c.repeat > 0 {
            let k = start + c.repeat * ((*val - start + c.repeat - 1) / c.repeat);
            if best.is_none_or(|d| k < d) && (stop < 0 || k <= stop) {
                best = Some(k);
            }
        }
    }
    match best {
        None => -1,
        Some(d) => {
            let changed = i64::from(*val != d);
            *val = d;
            changed
        }
    }
}

/// 1 when `tm` is a real local time, 0 when it was not and `tm` now holds the next
/// one, negative when it is past 2199 or would go backwards.
fn within_bounds(clock: &mut Clock<'_>, tm: &mut Tm) -> i64 {
    if tm.year > MAX_YEAR {
        return -1;
    }
    let mut t = *tm;
    if clock.mktime(&mut t) < 0 {
        return -1;
    }
    let cmp;
    if t.year != tm.year {
        cmp = (t.year - tm.year).signum();
        t.mon = 0;
    } else if t.mon != tm.mon {
        cmp = (t.mon - tm.mon).signum();
        t.mday = 1;
    } else if t.mday != tm.mday {
        cmp = (t.mday - tm.mday).signum();
        t.hour = 0;
    } else if t.hour != tm.hour {
        cmp = (t.hour - tm.hour).signum();
        t.min = 0;
    } else if t.min != tm.min {
        cmp = (t.min - tm.min).signum();
        t.sec = 0;
    } else {
        cmp = (t.sec - tm.sec).signum();
    }
    if cmp < 0 {
        return -1;
    }
    if cmp > 0 {
        *tm = t;
    }
    i64::from(cmp == 0)
}

fn matches_weekday(clock: &mut Clock<'_>, weekdays: i64, tm: &Tm) -> bool {
    if !(0..ALL_WEEKDAYS).contains(&weekdays) {
        return true;
    }
    let mut t = *tm;
    if clock.mktime(&mut t) < 0 {
        return false;
    }
    let k = if t.wday == 0 { 6 } else { t.wday - 1 };
    weekdays & (1 << k) != 0
}

fn find_next(clock: &mut Clock<'_>, spec: &CalendarSpec, tm: &mut Tm, usec: &mut i64) -> bool {
    let mut c = *tm;
    let mut tm_usec = *usec;
    // Once a normalization has taken us back to the start, daylight time is left to
    // mktime from then on.
    let mut invalidate_dst = false;
    for _ in 0..MAX_ITERATIONS {
        clock.mktime(&mut c);
        if !invalidate_dst {
            c.isdst = -1;
        }

        let mut year = c.year;
        let r = find_matching(clock, spec, &spec.year, false, &c, &mut year);
        c.year = year;
        if r > 0 {
            c.mon = 0;
            c.mday = 1;
            (c.hour, c.min, c.sec, tm_usec) = (0, 0, 0, 0);
        }
        if r < 0 || within_bounds(clock, &mut c) <= 0 {
            return false;
        }

        let mut month = c.mon + 1;
        let mut r = find_matching(clock, spec, &spec.month, false, &c, &mut month);
        c.mon = month - 1;
        if r > 0 {
            c.mday = 1;
            (c.hour, c.min, c.sec, tm_usec) = (0, 0, 0, 0);
        }
        if r >= 0 {
            r = within_bounds(clock, &mut c);
        }
        if r < 0 {
            c.year += 1;
            c.mon = 0;
            c.mday = 1;
            (c.hour, c.min, c.sec, tm_usec) = (0, 0, 0, 0);
            continue;
        }
        if r == 0 {
            continue;
        }

        let mut day = c.mday;
        let mut r = find_matching(clock, spec, &spec.day, true, &c, &mut day);
        c.mday = day;
        if r > 0 {
            (c.hour, c.min, c.sec, tm_usec) = (0, 0, 0, 0);
        }
        if r >= 0 {
            r = within_bounds(clock, &mut c);
        }
        if r < 0 {
            c.mon += 1;
            c.mday = 1;
            (c.hour, c.min, c.sec, tm_usec) = (0, 0, 0, 0);
            continue;
        }
        if r == 0 {
            continue;
        }

        if !matches_weekday(clock, spec.weekdays, &c) {
            c.mday += 1;
            (c.hour, c.min, c.sec, tm_usec) = (0, 0, 0, 0);
            continue;
        }

        let mut hour = c.hour;
        let mut r = find_matching(clock, spec, &spec.hour, false, &c, &mut hour);
        c.hour = hour;
        if r > 0 {
            (c.min, c.sec, tm_usec) = (0, 0, 0);
        }
        if r >= 0 {
            r = within_bounds(clock, &mut c);
        }
        if r < 0 {
            c.mday += 1;
            (c.hour, c.min, c.sec, tm_usec) = (0, 0, 0, 0);
            continue;
        }
        if r == 0 {
            // The hour may not exist on this day: start again from the normalized time.
            continue;
        }

        let mut minute = c.min;
        let mut r = find_matching(clock, spec, &spec.minute, false, &c, &mut minute);
        c.min = minute;
        if r > 0 {
            (c.sec, tm_usec) = (0, 0);
        }
        if r >= 0 {
            r = within_bounds(clock, &mut c);
        }
        if r < 0 {
            c.hour += 1;
            (c.min, c.sec, tm_usec) = (0, 0, 0);
            continue;
        }
        if r == 0 {
            continue;
        }

        let mut micro = c.sec * USEC_PER_SEC + tm_usec;
        let mut r = find_matching(clock, spec, &spec.microsecond, false, &c, &mut micro);
        tm_usec = micro % USEC_PER_SEC;
        c.sec = micro / USEC_PER_SEC;
        if r >= 0 {
            r = within_bounds(clock, &mut c);
        }
        if r < 0 {
            c.min += 1;
            (c.sec, tm_usec) = (0, 0);
            continue;
        }
        if r == 0 {
            continue;
        }

        // Not after the start (a normalization went back across a change of
        // offset): step an hour on and let mktime decide.
        let order = (tm.year, tm.mon, tm.mday, tm.hour, tm.min, tm.sec)
            .cmp(&(c.year, c.mon, c.mday, c.hour, c.min, c.sec))
            .then((*usec).cmp(&(tm_usec + 1)));
        if order != std::cmp::Ordering::Less {
            invalidate_dst = true;
            c.hour += 1;
            continue;
        }

        *tm = c;
        *usec = tm_usec;
        return true;
    }
    false
}

/// The next elapse of `spec` strictly after `usec` (microseconds since 1970), in `tz`
/// unless the expression names its own zone.
fn next_usec(spec: &CalendarSpec, usec: i64, tz: &TimeZone) -> Option<i64> {
    let zone = spec.zone.as_ref().map_or(tz, |(_, zone)| zone);
    let mut clock = Clock {
        tz: zone,
        utc: spec.utc,
        guess: 0,
    };
    let usec = usec + 1;
    let t = usec.div_euclid(USEC_PER_SEC);
    let mut tm = clock.localtime(t)?;
    clock.guess = -clock.offset(t)?.0;
    let mut tm_usec = usec.rem_euclid(USEC_PER_SEC);
    if !find_next(&mut clock, spec, &mut tm, &mut tm_usec) {
        return None;
    }
    let t = clock.mktime(&mut tm);
    if t < 0 {
        return None;
    }
    Some(t * USEC_PER_SEC + tm_usec)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ts(text: &str) -> Timestamp {
        text.parse().unwrap()
    }

    fn schedule(expr: &str, tz: &str) -> OnCalendarSchedule {
        OnCalendarSchedule::parse(&CalendarInput::One(expr.into()), tz)
            .unwrap_or_else(|(_, e)| panic!("{expr}: {e}"))
    }

    /// The next `n` elapses after `after`, in UTC to the second.
    fn elapses(expr: &str, tz: &str, after: &str, n: usize) -> Vec<String> {
        let s = schedule(expr, tz);
        let mut t = ts(after);
        let mut out = Vec::new();
        for _ in 0..n {
            let Some(next) = s.next_after(t) else { break };
            out.push(
                Timestamp::from_second(next.as_second())
                    .unwrap()
                    .to_string(),
            );
            t = next;
        }
        out
    }

    fn refused(expr: &str) -> String {
        match OnCalendarSchedule::parse(&CalendarInput::One(expr.into()), "UTC") {
            Ok(s) => panic!("{expr} is read as {:?}", s.normalized()),
            Err((field, message)) => {
                assert_eq!(field, "oncalendar");
                message
            }
        }
    }

    // Every expected value below is what `systemd-analyze calendar` (systemd 252) prints.

    #[test]
    fn normalizes_as_systemd_does() {
        let cases = [
            ("Mon..Fri *-*-* 02:00:00", "Mon..Fri *-*-* 02:00:00"),
            ("mon,fri,", "Mon,Fri *-*-* 00:00:00"),
            ("Mon-Wed", "Mon..Wed *-*-* 00:00:00"),
            ("Sat,Sun 10:00", "Sat,Sun *-*-* 10:00:00"),
            ("daily", "*-*-* 00:00:00"),
            ("minutely", "*-*-* *:*:00"),
            ("hourly", "*-*-* *:00:00"),
            ("weekly", "Mon *-*-* 00:00:00"),
            ("monthly", "*-*-01 00:00:00"),
            ("yearly", "*-01-01 00:00:00"),
            ("annually", "*-01-01 00:00:00"),
            ("quarterly", "*-01,04,07,10-01 00:00:00"),
            ("semiannually", "*-01,07-01 00:00:00"),
            ("*-*-5..5", "*-*-05 00:00:00"),
            ("*-*-1..2/3", "*-*-01 00:00:00"),
            ("*-*~5/2", "*-*~05/2 00:00:00"),
            ("*-*-* 1,1,0..3/2:0", "*-*-* 00..02/2,01:00:00"),
            ("12-24", "*-12-24 00:00:00"),
            ("*:0/20:0/20", "*-*-* *:00/20:00/20"),
            ("*-*-* 1:2:3.9999995", "*-*-* 01:02:04"),
            ("*:*:0/0.5", "*-*-* *:*:00/0.500000"),
            ("Sat *-*-* 1:2:3.25", "Sat *-*-* 01:02:03.250000"),
            ("26-1-1", "2026-01-01 00:00:00"),
            ("*:38:00..06", "*-*-* *:38:00..06"),
            ("@1774699200", "2026-03-28 12:00:00 UTC"),
            ("*-*-* 12:00 Asia/Tokyo", "*-*-* 12:00:00 Asia/Tokyo"),
            ("daily utc", "*-*-* 00:00:00 UTC"),
            ("*-*-* 12:00 UTC", "*-*-* 12:00:00 UTC"),
        ];
        for (expr, normalized) in cases {
            assert_eq!(schedule(expr, "UTC").normalized(), [normalized], "{expr}");
        }
    }

    #[test]
    fn refuses_what_systemd_refuses_and_says_which_part() {
        let cases = [
            ("", "empty"),
            ("bogus", "\"bogus\" is not"),
            ("*-*-* 24:00", "hour 24 is out of range 0-23"),
            ("*-*-32", "day 32 is out of range 1-31"),
            ("*-13-01", "month 13 is out of range 1-12"),
            ("*:*:60", "second 60 is out of range"),
            ("1969-01-01", "year 1969 is out of range 1970-2199"),
            ("2200-01-01", "year 2200"),
            ("*-*~29", "counted from the end of the month"),
            ("Mon..", "has no end"),
            ("Fri..Mon", "runs backwards"),
            ("Mond 12:00", "\"Mond\" is not a weekday"),
            ("*/2:00", "write 0/N"),
            ("*:0/0", "repeats every 0"),
            ("*:5..2", "runs backwards"),
            ("12", "not a time"),
            ("*:*:1..1.5", "shorter than a second"),
            ("*-*-* 1:2:3:4", "not a time"),
            ("*-*-* 12:00 Mars/Base", "not a time"),
            ("*-*-* 12:00 europe/paris", "not a time"),
        ];
        for (expr, why) in cases {
            let e = refused(expr);
            assert!(e.contains(why), "{expr}: {e}");
            assert!(!e.contains('\n'), "{expr}: {e}");
        }
        // The check zone's own abbreviation is refused (systemd's reading of it varies).
        let e = OnCalendarSchedule::parse(&CalendarInput::One("daily CET".into()), "Europe/Paris")
            .unwrap_err()
            .1;
        assert!(e.contains("abbreviation \"CET\""), "{e}");
        // In another zone, CET is the IANA zone of that name, as in systemd.
        assert_eq!(
            schedule("daily CET", "UTC").normalized(),
            ["*-*-* 00:00:00 CET"]
        );
        let e = OnCalendarSchedule::parse(&CalendarInput::One("daily".into()), "Mars/Base")
            .unwrap_err();
        assert_eq!(e.0, "tz");
    }

    #[test]
    fn dates_weekdays_and_month_ends() {
        assert_eq!(
            elapses("*-*~01", "UTC", "2026-01-01T00:00:00Z", 3),
            [
                "2026-01-31T00:00:00Z",
                "2026-02-28T00:00:00Z",
                "2026-03-31T00:00:00Z"
            ]
        );
        // A weekday and a date must both match.
        assert_eq!(
            elapses("Sat,Sun *-*-1..7 09:00", "UTC", "2026-01-01T00:00:00Z", 3),
            [
                "2026-01-03T09:00:00Z",
                "2026-01-04T09:00:00Z",
                "2026-02-01T09:00:00Z"
            ]
        );
        assert_eq!(
            elapses("quarterly", "UTC", "2026-01-01T00:00:00Z", 2),
            ["2026-04-01T00:00:00Z", "2026-07-01T00:00:00Z"]
        );
        // Never: not a leap year, and past 2199.
        assert!(elapses("2026-02-29", "UTC", "2026-01-01T00:00:00Z", 1).is_empty());
        assert!(elapses("*-02-30", "UTC", "2026-01-01T00:00:00Z", 1).is_empty());
        assert!(elapses("daily", "UTC", "2199-12-31T12:00:00Z", 1).is_empty());
    }

    #[test]
    fn several_expressions_mean_any_of_them() {
        let input = CalendarInput::One("Mon 09:00\n\n  Fri 17:00  \n".into());
        let s = OnCalendarSchedule::parse(&input, "UTC").unwrap();
        assert_eq!(s.normalized(), ["Mon *-*-* 09:00:00", "Fri *-*-* 17:00:00"]);
        let list = CalendarInput::Many(vec!["Mon 09:00".into(), "Fri 17:00".into()]);
        let t = OnCalendarSchedule::parse(&list, "UTC").unwrap();
        // 2026-01-01 is a Thursday.
        let mut after = ts("2026-01-01T00:00:00Z");
        let mut got = Vec::new();
        for _ in 0..3 {
            after = t.next_after(after).unwrap();
            assert!(s.next_after(ts("2026-01-01T00:00:00Z")).is_some());
            got.push(after.to_string());
        }
        assert_eq!(
            got,
            [
                "2026-01-02T17:00:00Z",
                "2026-01-05T09:00:00Z",
                "2026-01-09T17:00:00Z"
            ]
        );
        let e =
            OnCalendarSchedule::parse(&CalendarInput::Many(vec![" ".into()]), "UTC").unwrap_err();
        assert!(e.1.contains("empty"), "{}", e.1);
    }

    #[test]
    fn a_time_skipped_in_spring_is_skipped() {
        // Paris goes from 02:00 to 03:00 on 2026-03-29: no 02:30 that day.
        assert_eq!(
            elapses("*-*-* 02:30", "Europe/Paris", "2026-03-28T12:00:00Z", 2),
            ["2026-03-30T00:30:00Z", "2026-03-31T00:30:00Z"]
        );
        // Lord Howe moves 30 minutes: every quarter hour goes on in real time.
        assert_eq!(
            elapses("*:0/15", "Australia/Lord_Howe", "2026-10-03T15:10:00Z", 4),
            [
                "2026-10-03T15:15:00Z",
                "2026-10-03T15:30:00Z",
                "2026-10-03T15:45:00Z",
                "2026-10-03T16:00:00Z"
            ]
        );
        // Dublin's negative daylight time (GMT is its "summer" flag in winter).
        assert_eq!(
            elapses("daily", "Europe/Dublin", "2032-03-27T04:11:06Z", 3),
            [
                "2032-03-28T00:00:00Z",
                "2032-03-28T23:00:00Z",
                "2032-03-29T23:00:00Z"
            ]
        );
    }

    #[test]
    fn a_time_repeated_in_autumn_happens_once_as_systemd_has_it() {
        // Paris repeats 02:00-03:00 on 2026-10-25: 02:30 is due in the first copy...
        assert_eq!(
            elapses("*-*-* 02:30", "Europe/Paris", "2026-10-24T12:00:00Z", 2),
            ["2026-10-25T00:30:00Z", "2026-10-26T01:30:00Z"]
        );
        // ...or in the second, when asked from inside it.
        assert_eq!(
            elapses("*-*-* 02:30", "Europe/Paris", "2026-10-25T01:10:00Z", 2),
            ["2026-10-25T01:30:00Z", "2026-10-26T01:30:00Z"]
        );
        // Every quarter hour: after the first copy, systemd goes on after the second.
        assert_eq!(
            elapses("*:0/15", "Europe/Paris", "2026-10-25T00:20:00Z", 4),
            [
                "2026-10-25T00:30:00Z",
                "2026-10-25T00:45:00Z",
                "2026-10-25T02:00:00Z",
                "2026-10-25T02:15:00Z"
            ]
        );
    }

    #[test]
    fn strictly_after_and_fractions() {
        let s = schedule("*:*:0/0.25", "UTC");
        let t = ts("2026-01-01T00:00:00Z");
        assert_eq!(s.next_after(t), Some(ts("2026-01-01T00:00:00.25Z")));
        let s = schedule("daily", "UTC");
        assert_eq!(s.next_after(t), Some(ts("2026-01-02T00:00:00Z")));
        assert_eq!(s.next_after(ts("2025-12-31T23:59:59.999Z")), Some(t));
    }

    #[test]
    fn input_reads_a_string_or_a_list() {
        let one: CalendarInput = serde_json::from_value(serde_json::json!("daily")).unwrap();
        assert_eq!(one, CalendarInput::One("daily".into()));
        let many: CalendarInput =
            serde_json::from_value(serde_json::json!(["daily", "weekly"])).unwrap();
        assert_eq!(
            serde_json::to_value(&many).unwrap(),
            serde_json::json!(["daily", "weekly"])
        );
        let e = serde_json::from_value::<CalendarInput>(serde_json::json!(5)).unwrap_err();
        assert!(e.to_string().contains("systemd calendar event"), "{e}");
    }
}
