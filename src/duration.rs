//! Durations as people write them: `90s`, `15m`, `1h30m`, `24h`, `7d`, `250ms`.
//!
//! One parser and one canonical printer, shared by the wrapper's flags, the config
//! file and the monitor's API, so `"90m"` always comes back as `"1h30m"`.

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
        "invalid duration {input:?}: {why}; write a number and a unit, e.g. 90s, 15m, 1h30m, 24h or 7d"
    ))
}

/// Parses `1h30m`-style text (units `ms`, `s`, `m`, `h`, `d`, `w`; each at most once,
/// largest first; whitespace between parts is allowed).
pub fn parse(input: &str) -> Result<Duration, DurationError> {
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
        let number: u64 = text[start..i]
            .parse()
            .map_err(|_| refuse(input, "the number is too large"))?;
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
        last_unit_rank = rank;
        total = number
            .checked_mul(UNITS[rank].1)
            .and_then(|ms| total.checked_add(ms))
            .ok_or_else(|| refuse(input, "it is too long"))?;
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

/// The canonical form: `1h30m`, `1d`, `45s`, `1m0s` never; zero is `0s`.
pub fn format(d: Duration) -> String {
    let mut ms = d.as_millis() as u64;
    if ms == 0 {
        return "0s".to_string();
    }
    let mut out = String::new();
    // Weeks are accepted on input but printed as days: "14d" reads better than "2w".
    for (name, size) in UNITS.iter().skip(1) {
        if ms >= *size {
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
    fn refuses_malformed_text_with_a_hint() {
        for bad in [
            "",
            "abc",
            "10",
            "5x",
            "1m1h",
            "1h1h",
            "h",
            "-5s",
            "1.5h",
            "99999999999999999999s",
        ] {
            let err = parse(bad).unwrap_err().to_string();
            assert!(err.contains("e.g. 90s"), "{bad}: {err}");
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
        for text in ["1h30m", "7d", "45s", "2h5s"] {
            assert_eq!(format(parse(text).unwrap()), text);
        }
    }
}
