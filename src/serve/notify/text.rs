//! Words and colours shared by the kinds: the headline, the sentence, the details,
//! escaping and truncation. Pure.

use super::Event;

/// `2025-01-31T03:00:00Z`: RFC 3339 in UTC, to the second.
pub fn rfc3339(at: jiff::Timestamp) -> String {
    format!("{at:.0}")
}

/// A string field of the check's JSON, or `""`.
pub fn check_field(event: &Event, key: &str) -> String {
    match event.check.get(key) {
        Some(serde_json::Value::String(s)) => s.clone(),
        Some(serde_json::Value::Null) | None => String::new(),
        Some(other) => other.to_string(),
    }
}

/// The check's name, else its slug, else its uuid, else `"a check"`.
pub fn check_name(event: &Event) -> String {
    for key in ["name", "slug", "uuid"] {
        let value = check_field(event, key);
        if !value.is_empty() {
            return value;
        }
    }
    "a check".to_string()
}

/// `DOWN`, `UP`, `SLOW`, `TOO FAST`, `TEST`.
pub fn label(event: &Event) -> String {
    match event.event.as_str() {
        "too_fast" => "TOO FAST".to_string(),
        other => other.to_uppercase(),
    }
}

/// `DOWN: Backup PostgreSQL (exit code 3)`.
pub fn headline(event: &Event) -> String {
    let mut line = format!("{}: {}", label(event), check_name(event));
    if let Some(reason) = event.reason.as_deref().filter(|r| !r.is_empty()) {
        line.push_str(&format!(" ({reason})"));
    }
    if event.event == "down" && event.repeat > 0 {
        line.push_str(&format!(" [reminder {}]", event.repeat));
    }
    line
}

/// One sentence for humans: `Backup PostgreSQL is down: it exited with code 3.`
pub fn sentence(event: &Event) -> String {
    let name = check_name(event);
    let reason = event.reason.as_deref().filter(|r| !r.is_empty());
    match event.event.as_str() {
        "down" => {
            let why = match reason {
                Some("missed") => "it did not report in time".to_string(),
                Some("stuck") => "it started and has not finished in time".to_string(),
                Some("failed") => "it reported a failure".to_string(),
                Some(r) => match r.strip_prefix("exit code ") {
                    Some(code) => format!("it exited with code {code}"),
                    None => r.to_string(),
                },
                None => "it is not reporting as it should".to_string(),
            };
            let mut s = format!("{name} is down: {why}.");
            if event.repeat > 0 {
                s.push_str(&format!(" It is still down (reminder {}).", event.repeat));
            }
            s
        }
        "up" => format!("{name} is up again."),
        "slow" => match reason {
            Some(r) => format!("{name} is running slow: {r}."),
            None => format!("{name} is running slow."),
        },
        "too_fast" => match reason {
            Some(r) => format!("{name} finished too fast: {r}."),
            None => format!("{name} finished too fast."),
        },
        "test" => format!("This is a test alert from hb for {name}; the channel works."),
        other => match reason {
            Some(r) => format!("{name}: {other} ({r})."),
            None => format!("{name}: {other}."),
        },
    }
}

/// The facts worth showing, as (label, value), empty values left out.
pub fn details(event: &Event) -> Vec<(&'static str, String)> {
    let mut out = Vec::new();
    for (label, key) in [
        ("Status", "status"),
        ("Last ping", "last_ping"),
        ("Next due", "next_due"),
    ] {
        let value = check_field(event, key);
        if !value.is_empty() {
            out.push((label, value));
        }
    }
    if let Some(reason) = event.reason.as_deref().filter(|r| !r.is_empty()) {
        out.push(("Reason", reason.to_string()));
    }
    out.push(("At", rfc3339(event.at)));
    out
}

/// The colour of an event: down red, up green, slow and too_fast orange, test (and
/// anything else) grey.
pub fn colour(event: &Event) -> u32 {
    match event.event.as_str() {
        "down" => 0xD7_26_3D,
        "up" => 0x2E_B6_7D,
        "slow" | "too_fast" => 0xF2_8C_28,
        _ => 0x9E_9E_9E,
    }
}

/// `#d7263d`.
pub fn colour_hex(event: &Event) -> String {
    format!("#{:06x}", colour(event))
}

/// The job's output, if there is any that is not blank.
pub fn output(event: &Event) -> Option<&str> {
    event.body.as_deref().filter(|b| !b.trim().is_empty())
}

/// The last `max` characters of `s` (the end of a job's output says most), with a
/// note in front when something was cut.
pub fn tail(s: &str, max: usize) -> String {
    let count = s.chars().count();
    if count <= max {
        return s.to_string();
    }
    let skip = count - max;
    let cut: String = s.chars().skip(skip).collect();
    format!("[… {skip} characters cut]\n{cut}")
}

/// The first `max` characters of `s`, with `…` when cut.
pub fn head(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        return s.to_string();
    }
    let mut out: String = s.chars().take(max.saturating_sub(1)).collect();
    out.push('…');
    out
}

/// `s` cut to at most `max` bytes on a character boundary.
pub fn clip_bytes(s: &str, max: usize) -> &str {
    if s.len() <= max {
        return s;
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    &s[..end]
}

/// Escapes `& < > " '` for HTML text and attributes.
pub fn html_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// The whole alert as plain text: the sentence, the details, the link, the output.
pub fn plain(event: &Event, output_max: usize) -> String {
    let mut out = sentence(event);
    out.push_str("\n\n");
    for (label, value) in details(event) {
        out.push_str(&format!("{label}: {value}\n"));
    }
    if !event.check_url.is_empty() {
        out.push_str(&format!("Check: {}\n", event.check_url));
    }
    out.push_str(&format!("Event: {} {}\n", event.event, event.event_id));
    if let Some(body) = output(event) {
        out.push_str("\nLast output:\n");
        out.push_str(&tail(body.trim_end(), output_max));
        out.push('\n');
    }
    out
}

/// Base64 (standard alphabet, padded), for RFC 2047 headers.
pub fn base64(data: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(data.len().div_ceil(3) * 4);
    for chunk in data.chunks(3) {
        let b = [
            chunk[0],
            chunk.get(1).copied().unwrap_or(0),
            chunk.get(2).copied().unwrap_or(0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(ALPHABET[((n >> (18 - 6 * i)) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// A header value safe to send: control characters become spaces; non-ASCII text is
/// sent as an RFC 2047 encoded word (`=?UTF-8?B?...?=`).
pub fn header_value(s: &str) -> String {
    let clean: String = s
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    if clean.is_ascii() {
        clean
    } else {
        format!("=?UTF-8?B?{}?=", base64(clean.as_bytes()))
    }
}

pub use crate::percent::{percent_decode, percent_encode};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_matches_rfc4648() {
        for (input, expected) in [
            ("", ""),
            ("f", "Zg=="),
            ("fo", "Zm8="),
            ("foo", "Zm9v"),
            ("foob", "Zm9vYg=="),
            ("fooba", "Zm9vYmE="),
            ("foobar", "Zm9vYmFy"),
        ] {
            assert_eq!(base64(input.as_bytes()), expected);
        }
    }

    #[test]
    fn percent_round_trip() {
        let s = "a b/ü%?&=+";
        assert_eq!(percent_encode(s), "a%20b%2F%C3%BC%25%3F%26%3D%2B");
        assert_eq!(percent_decode(&percent_encode(s)), s);
        assert_eq!(percent_decode("p%40ss%"), "p@ss%");
        assert_eq!(percent_decode("%4"), "%4");
        assert_eq!(percent_decode("%zz"), "%zz");
    }

    #[test]
    fn cutting() {
        assert_eq!(tail("abcdef", 3), "[… 3 characters cut]\ndef");
        assert_eq!(tail("abc", 3), "abc");
        assert_eq!(head("abcdef", 4), "abc…");
        assert_eq!(clip_bytes("aü", 2), "a");
        assert_eq!(header_value("a\nb"), "a b");
        assert_eq!(header_value("ü"), "=?UTF-8?B?w7w=?=");
    }
}
