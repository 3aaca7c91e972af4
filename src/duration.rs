//! Durations as people write them: `90s`, `15m`, `1h30m`, `24h`, `7d`, `250ms`.
//!
//! One parser and one canonical printer, shared by the wrapper's flags, the config
//! file and the monitor's API, so `"90m"` always comes back as `"1h30m"`. No duration
//! over [`MAX`] (3650d) is accepted anywhere.

use std::fmt;
use std::time::Duration;

const UNITS: [(&str, u64); 6] = [
    ("w", 7 * 86_400_000),
    ("d", 86_400_000),
    ("h", 3_600_000),
    ("m", 60_000),
    ("s", 1_000),
    ("ms", 1),
];

/// The longest duration hb accepts anywhere: 3650 days.
pub const MAX: Duration = Duration::from_secs(3650 * 86_400);

/// Why a duration string was refused; the message names what is accepted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DurationError(String);

impl fmt::Display for DurationError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for DurationError {}

fn refuse(input: &str, why: &str) -> DurationError {
    DurationError(format!(
        "invalid duration {input:?}: {why}; write a number and a unit, e.g. 500ms, 90s, 15m, 1h30m, 24h or 7d"
    ))
}

fn too_long(input: &str) -> DurationError {
    DurationError(format!(
        "invalid duration {:?}: it is longer than the limit of {}; give {} or less",
        input.trim(),
        format(MAX),
        format(MAX)
    ))
}

/// `d` itself when it is at most [`MAX`]: for durations that come as numbers (seconds
/// in JSON or TOML) rather than text, so that they meet the same limit.
pub fn within_limit(d: Duration) -> Result<Duration, DurationError> {
    if d > MAX {
        return Err(too_long(&format(d)));
    }
    Ok(d)
}

/// Parses `1h30m`-style text (units `ms`, `s`, `m`, `h`, `d`, `w`; each at most once,
/// largest first; whitespace between parts is allowed), at most [`MAX`].
pub fn parse(input: &str) -> Result<Duration, DurationError> {
    let d = parse_any(input)?;
    if d > MAX {
        return Err(too_long(input));
    }
    Ok(d)
}

/// Like [`parse`], without the upper limit: for callers that apply their own bound
/// (and say so in their own words) or clamp a stored value into it.
pub fn parse_any(input: &str) -> Result<Duration, DurationError> {
    let text = input.trim();
    if text.is_empty() {
        return Err(refuse(input, "it is empty"));
    }
    let bytes = text.as_bytes();
    let mut i = 0;
    let mut total: u64 = 0;
    let mut last_unit_rank = usize::MAX;
    while i < bytes.len() {
        while i < bytes.len() && bytes[i].is_ascii_whitespace() {
            i += 1;
        }
        let start = i;
        while i < bytes.len() && bytes[i].is_ascii_digit() {
            i += 1;
        }
        if start == i {
            return Err(refuse(input, "expected a number"));
        }
        let digits = &text[start..i];
        let unit_start = i;
        while i < bytes.len() && bytes[i].is_ascii_alphabetic() {
            i += 1;
        }
        let unit = &text[unit_start..i];
        if unit.is_empty() {
            return Err(refuse(input, "a unit is missing"));
        }
        let Some(rank) = UNITS.iter().position(|(name, _)| *name == unit) else {
            return Err(refuse(input, &format!("unknown unit {unit:?}")));
        };
        if last_unit_rank != usize::MAX && rank <= last_unit_rank {
            return Err(refuse(input, "units must each appear once, largest first"));
        }
        // More digits than any number within the limit has: too long, whatever they say.
        let number: u64 = digits.parse().map_err(|_| too_long(input))?;
        last_unit_rank = rank;
        total = number
            .checked_mul(UNITS[rank].1)
            .and_then(|ms| total.checked_add(ms))
            .ok_or_else(|| too_long(input))?;
    }
    Ok(Duration::from_millis(total))
}

/// Parses and requires at least one second (schedules, grace periods, runtimes).
pub fn parse_at_least_1s(input: &str) -> Result<Duration, DurationError> {
    let d = parse(input)?;
    if d < Duration::from_secs(1) {
        return Err(refuse(input, "it must be at least 1s"));
    }
    Ok(d)
}

/// The canonical form: `1h30m`, `1d`, `45s`, `1s500ms`, `1m0s` never; zero is `0s`.
/// A part in milliseconds shows only when there is one; less than 1ms is dropped.
pub fn format(d: Duration) -> String {
    let mut ms = d.as_millis();
    if ms == 0 {
        return "0s".to_string();
    }
    let mut out = String::new();
    // Weeks are accepted on input but printed as days: "14d" reads better than "2w".
    for (name, size) in UNITS.iter().skip(1) {
        let size = u128::from(*size);
        if ms >= size {
            out.push_str(&(ms / size).to_string());
            out.push_str(name);
            ms %= size;
        }
    }
    out
}

/// A clap value parser for DURATION flags.
pub fn clap_parse(input: &str) -> Result<Duration, String> {
    parse(input).map_err(|e| e.to_string())
}

/// A clap value parser for DURATION flags that need at least `min`; clap names the
/// flag, the message names the minimum.
pub fn clap_parse_at_least(
    min: Duration,
) -> impl Fn(&str) -> Result<Duration, String> + Clone + Send + Sync + 'static {
    move |input| {
        let d = clap_parse(input)?;
        if d < min {
            return Err(format!(
                "{} is too short; it must be at least {}",
                input.trim(),
                format(min)
            ));
        }
        Ok(d)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_documented_forms() {
        assert_eq!(parse("90s").unwrap(), Duration::from_secs(90));
        assert_eq!(parse("15m").unwrap(), Duration::from_secs(900));
        assert_eq!(parse("1h30m").unwrap(), Duration::from_secs(5400));
        assert_eq!(parse("24h").unwrap(), Duration::from_secs(86400));
        assert_eq!(parse("7d").unwrap(), Duration::from_secs(7 * 86400));
        assert_eq!(parse("2w").unwrap(), Duration::from_secs(14 * 86400));
        assert_eq!(parse("250ms").unwrap(), Duration::from_millis(250));
        assert_eq!(parse(" 1h 5m ").unwrap(), Duration::from_secs(3900));
    }

    #[test]
    fn milliseconds_are_accepted_alone_or_after_other_units() {
        assert_eq!(parse("1500ms").unwrap(), Duration::from_millis(1500));
        assert_eq!(parse("1s500ms").unwrap(), Duration::from_millis(1500));
        assert_eq!(parse("1m 1ms").unwrap(), Duration::from_millis(60_001));
        assert_eq!(parse("0ms").unwrap(), Duration::ZERO);
        assert_eq!(format(parse("1500ms").unwrap()), "1s500ms");
        assert_eq!(format(parse("100ms").unwrap()), "100ms");
        assert_eq!(format(parse("2000ms").unwrap()), "2s");
    }

    #[test]
    fn nothing_over_3650_days_is_accepted() {
        assert_eq!(parse("3650d").unwrap(), MAX);
        assert_eq!(parse("521w3d").unwrap(), MAX);
        assert_eq!(parse("315360000s").unwrap(), MAX);
        for long in [
            "3650d1ms",
            "3651d",
            "522w",
            "87601h",
            "315360001s",
            "99999999999999999999s",
            "18446744073709551615ms",
            "18446744073709551615d",
        ] {
            let err = parse(long).unwrap_err().to_string();
            assert_eq!(
                err,
                format!(
                    "invalid duration {long:?}: it is longer than the limit of 3650d; give 3650d or less"
                )
            );
        }
        assert!(parse_at_least_1s("3651d").is_err());
        assert!(clap_parse("4000d").unwrap_err().contains("3650d"));
        assert_eq!(within_limit(MAX).unwrap(), MAX);
        let err = within_limit(MAX + Duration::from_secs(1)).unwrap_err();
        assert!(err.to_string().contains("\"3650d1s\""), "{err}");
        assert!(within_limit(Duration::from_secs(u64::MAX)).is_err());
    }

    #[test]
    fn flag_minimums_are_named() {
        let at_least_1s = clap_parse_at_least(Duration::from_secs(1));
        assert_eq!(at_least_1s("1s").unwrap(), Duration::from_secs(1));
        assert_eq!(
            at_least_1s("999ms").unwrap_err(),
            "999ms is too short; it must be at least 1s"
        );
        let at_least_100ms = clap_parse_at_least(Duration::from_millis(100));
        assert_eq!(at_least_100ms("100ms").unwrap(), Duration::from_millis(100));
        assert!(
            at_least_100ms("99ms")
                .unwrap_err()
                .contains("at least 100ms")
        );
        assert!(
            at_least_100ms("soon")
                .unwrap_err()
                .contains("invalid duration")
        );
        assert!(at_least_100ms("3651d").unwrap_err().contains("3650d"));
    }

    #[test]
    fn refuses_malformed_text_with_a_hint() {
        for bad in [
            "", "abc", "10", "5x", "1m1h", "1h1h", "h", "-5s", "1.5h", "5 ms", "1ms1s",
        ] {
            let err = parse(bad).unwrap_err().to_string();
            assert!(err.contains("e.g. 500ms, 90s"), "{bad}: {err}");
        }
        assert!(parse_at_least_1s("500ms").is_err());
        assert!(parse_at_least_1s("1s").is_ok());
    }

    #[test]
    fn formats_canonically() {
        assert_eq!(format(Duration::from_secs(5400)), "1h30m");
        assert_eq!(format(Duration::from_secs(86400)), "1d");
        assert_eq!(format(Duration::from_secs(90061)), "1d1h1m1s");
        assert_eq!(format(Duration::from_millis(1500)), "1s500ms");
        assert_eq!(format(Duration::ZERO), "0s");
        assert_eq!(format(Duration::from_micros(999)), "0s");
        assert_eq!(format(Duration::from_micros(1_500_999)), "1s500ms");
        assert_eq!(
            format(Duration::from_secs(u64::MAX)),
            "213503982334601d7h15s"
        );
        for text in ["1h30m", "7d", "45s", "2h5s", "3650d", "1d1ms", "250ms"] {
            assert_eq!(format(parse(text).unwrap()), text);
        }
    }
}
