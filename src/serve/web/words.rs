//! Times, durations and schedules in words, and `<time>` elements. Pure.

use jiff::Timestamp;
use maud::{Markup, html};

use crate::serve::check::rfc3339;
use crate::serve::schedule::Schedule;

/// `2026-01-01 03:00:00 UTC`.
pub fn absolute(t: Timestamp) -> String {
    t.strftime("%Y-%m-%d %H:%M:%S UTC").to_string()
}

/// `just now`, `5 min ago`, `in 3 h`, `2 days ago`.
pub fn relative(t: Timestamp, now: Timestamp) -> String {
    let secs = (t.as_millisecond() - now.as_millisecond()) / 1000;
    let (future, s) = (secs > 0, secs.unsigned_abs());
    if s < 10 {
        return "just now".into();
    }
    let amount = if s < 60 {
        format!("{s} s")
    } else if s < 3600 {
        format!("{} min", s / 60)
    } else if s < 86_400 * 2 {
        let h = s / 3600;
        let m = (s % 3600) / 60;
        if h < 10 && m > 0 {
            format!("{h} h {m} min")
        } else {
            format!("{h} h")
        }
    } else {
        format!("{} days", s / 86_400)
    };
    if future {
        format!("in {amount}")
    } else {
        format!("{amount} ago")
    }
}

/// A time in words relative to now, the absolute time in its title; scripts may
/// show it in another zone.
pub fn time_rel(t: Timestamp, now: Timestamp) -> Markup {
    html! { time datetime=(rfc3339(t)) title=(absolute(t)) { (relative(t, now)) } }
}

/// An absolute time (UTC; the script may show it in another zone).
pub fn time_abs(t: Timestamp) -> Markup {
    html! { time.abs datetime=(rfc3339(t)) { (absolute(t)) } }
}

pub fn ms_time(ms: i64) -> Timestamp {
    Timestamp::from_millisecond(ms).unwrap_or(Timestamp::UNIX_EPOCH)
}

/// A run length: `250 ms`, `4.2 s`, `3 min 4 s`, `2 h 5 min`.
pub fn seconds(s: f64) -> String {
    if !s.is_finite() || s < 0.0 {
        return "unknown".into();
    }
    if s < 1.0 {
        format!("{} ms", (s * 1000.0).round() as u64)
    } else if s < 60.0 {
        let text = format!("{s:.1}");
        format!("{} s", text.trim_end_matches(".0"))
    } else if s < 3600.0 {
        let s = s.round() as u64;
        if s.is_multiple_of(60) {
            format!("{} min", s / 60)
        } else {
            format!("{} min {} s", s / 60, s % 60)
        }
    } else {
        let m = (s / 60.0).round() as u64;
        if m.is_multiple_of(60) {
            format!("{} h", m / 60)
        } else {
            format!("{} h {} min", m / 60, m % 60)
        }
    }
}

/// A schedule in words: `every 1h`, `daily at 03:00`, `every 5 minutes`, …; the
/// expression itself is shown beside it.
pub fn schedule(s: &Schedule) -> String {
    match s {
        Schedule::Interval(d) => format!("every {}", crate::duration::format(*d)),
        Schedule::Cron(_) => cron_words(s.cron_expr().unwrap_or_default()),
        Schedule::OnCalendar(calendar) => {
            let expressions = calendar.input().expressions();
            match expressions.as_slice() {
                [one] => format!("calendar {one}"),
                many => format!("calendar events ({})", many.len()),
            }
        }
    }
}

const DAYS: [&str; 7] = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"];

fn day_name(text: &str) -> Option<&'static str> {
    let n: usize = text.parse().ok()?;
    DAYS.get(n % 7).copied()
}

/// Day-of-week field in words, for lists and ranges of numbers (`1-5`, `0,6`).
fn days_words(field: &str) -> Option<String> {
    let mut parts = Vec::new();
    for item in field.split(',') {
        match item.split_once('-') {
            Some((a, b)) => parts.push(format!("{}–{}", day_name(a)?, day_name(b)?)),
            None => parts.push(day_name(item)?.to_string()),
        }
    }
    Some(parts.join(", "))
}

fn cron_words(expr: &str) -> String {
    let expr = expr.trim();
    match expr {
        "@yearly" | "@annually" => return "yearly, Jan 1 at 00:00".into(),
        "@monthly" => return "monthly, on the 1st at 00:00".into(),
        "@weekly" => return "weekly, Sunday at 00:00".into(),
        "@daily" | "@midnight" => return "daily at 00:00".into(),
        "@hourly" => return "hourly at :00".into(),
        _ => {}
    }
    let f: Vec<&str> = expr.split_whitespace().collect();
    let [min, hour, dom, mon, dow] = f[..] else {
        return "on a cron schedule".into();
    };
    let num = |s: &str| s.parse::<u32>().ok();
    let step = |s: &str| s.strip_prefix("*/").and_then(num);
    let every_day = dom == "*" && mon == "*";
    let on_days = if dow == "*" {
        Some(String::new())
    } else {
        days_words(dow).map(|d| format!(" on {d}"))
    };
    match (num(min), num(hour), step(min), step(hour)) {
        _ if min == "*" && hour == "*" && every_day && dow == "*" => "every minute".into(),
        (_, _, Some(n), _) if hour == "*" && every_day && dow == "*" => {
            format!("every {n} minutes")
        }
        (Some(m), _, _, _) if hour == "*" && every_day && dow == "*" => {
            format!("hourly at :{m:02}")
        }
        (Some(m), _, _, Some(n)) if every_day && dow == "*" => {
            format!("every {n} hours at :{m:02}")
        }
        (Some(m), Some(h), _, _) if every_day => match on_days {
            Some(days) if days.is_empty() => format!("daily at {h:02}:{m:02}"),
            Some(days) => format!("at {h:02}:{m:02}{days}"),
            None => format!("at {h:02}:{m:02} on some days"),
        },
        (Some(m), Some(h), _, _) if mon == "*" && dow == "*" && num(dom).is_some() => {
            format!("monthly on day {dom} at {h:02}:{m:02}")
        }
        _ => "on a cron schedule".into(),
    }
}

/// Percent-encodes everything but unreserved characters, for a path segment or a
/// query value.
pub fn encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for b in text.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(s: &str) -> Timestamp {
        s.parse().unwrap()
    }

    #[test]
    fn relative_times_read_naturally() {
        let now = t("2026-01-02T00:00:00Z");
        assert_eq!(relative(t("2026-01-01T23:59:55Z"), now), "just now");
        assert_eq!(relative(t("2026-01-01T23:55:00Z"), now), "5 min ago");
        assert_eq!(relative(t("2026-01-02T03:30:00Z"), now), "in 3 h 30 min");
        assert_eq!(relative(t("2025-12-28T00:00:00Z"), now), "5 days ago");
        assert_eq!(absolute(now), "2026-01-02 00:00:00 UTC");
    }

    #[test]
    fn durations_in_words() {
        assert_eq!(seconds(0.25), "250 ms");
        assert_eq!(seconds(4.21), "4.2 s");
        assert_eq!(seconds(5.0), "5 s");
        assert_eq!(seconds(184.0), "3 min 4 s");
        assert_eq!(seconds(7500.0), "2 h 5 min");
        assert_eq!(seconds(f64::NAN), "unknown");
    }

    #[test]
    fn schedules_in_words() {
        let cron = |e: &str| schedule(&Schedule::cron(e, "UTC").unwrap());
        assert_eq!(cron("0 3 * * *"), "daily at 03:00");
        assert_eq!(cron("*/5 * * * *"), "every 5 minutes");
        assert_eq!(cron("15 * * * *"), "hourly at :15");
        assert_eq!(cron("30 2 * * 1-5"), "at 02:30 on Mon–Fri");
        assert_eq!(cron("0 0 1 * *"), "monthly on day 1 at 00:00");
        assert_eq!(cron("@daily"), "daily at 00:00");
        assert_eq!(cron("0 3 L * *"), "on a cron schedule");
        let every = Schedule::interval(std::time::Duration::from_secs(5400)).unwrap();
        assert_eq!(schedule(&every), "every 1h30m");
        assert_eq!(encode("a b/<c>é"), "a%20b%2F%3Cc%3E%C3%A9");
    }
}
