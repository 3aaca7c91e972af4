//! The monitor's view of the config file: every key checked (a typo is an error that
//! names the file and line), `[[channel]]` and `[[check]]` validated as a whole before
//! anything is applied.

use anyhow::Result;
use serde::Deserialize;
use serde_json::Value;
use std::path::PathBuf;

use super::check::{CheckSpec, Settings, parse_spec};
use super::notify::{ChannelKind, MASK};
use super::registry::valid_channel_name;
use crate::config::ConfigSource;

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    // The wrapper's keys are allowed in the same file.
    #[allow(dead_code)]
    server: Option<String>,
    ping_key: Option<String>,
    #[allow(dead_code)]
    checks: Option<toml::Table>,
    // The operator command line's key (its client side); the monitor ignores it.
    #[allow(dead_code)]
    api_key: Option<String>,
    listen: Option<String>,
    db: Option<PathBuf>,
    base_url: Option<String>,
    api_keys: Option<Vec<String>>,
    read_keys: Option<Vec<String>>,
    allowed_hosts: Option<Vec<String>>,
    allow_private_targets: Option<bool>,
    max_connections: Option<usize>,
    auto_provision: Option<bool>,
    auth_header: Option<String>,
    trusted_proxies: Option<Vec<String>>,
    admins: Option<Vec<String>>,
    #[serde(default)]
    channel: Vec<toml::Spanned<toml::Table>>,
    #[serde(default)]
    check: Vec<toml::Spanned<toml::Table>>,
    #[serde(default)]
    maintenance: Vec<toml::Spanned<toml::Table>>,
}

/// The file, read and validated.
#[derive(Debug, Default, Clone)]
pub struct ServeFile {
    pub ping_key: Option<String>,
    pub listen: Option<String>,
    pub db: Option<PathBuf>,
    pub base_url: Option<String>,
    pub api_keys: Vec<String>,
    pub read_keys: Vec<String>,
    pub allowed_hosts: Vec<String>,
    pub allow_private_targets: bool,
    pub max_connections: Option<usize>,
    /// `auto_provision = false`: a ping with `?create=1` to an unknown slug is 404.
    pub auto_provision: Option<bool>,
    /// Single sign-on behind a proxy: the header naming the user.
    pub auth_header: Option<String>,
    /// Addresses or networks whose `auth_header` is believed.
    pub trusted_proxies: Vec<(std::net::IpAddr, u8)>,
    /// Users of `auth_header` with full rights.
    pub admins: Vec<String>,
    /// `[[channel]]` tables as JSON (a `"••••"` in one keeps the stored secret, so
    /// the final settings are made when the file is applied).
    pub channels: Vec<(String, Value)>,
    pub checks: Vec<CheckSpec>,
    /// `[[maintenance]]` windows (whether their checks and tags exist is the
    /// registry's to say).
    pub windows: Vec<super::maintenance::WindowSpec>,
}

/// Where a value `inf` or `nan` (signed or not) is written, if anywhere.
fn non_finite(text: &str) -> Option<usize> {
    let mut offset = 0;
    for line in text.split_inclusive('\n') {
        let code = line.split('#').next().unwrap_or("");
        if let Some((_, value)) = code.split_once('=') {
            let value = value.trim().trim_start_matches(['+', '-']);
            if value == "inf" || value == "nan" {
                return Some(offset);
            }
        }
        offset += line.len();
    }
    None
}

/// `10.0.0.0/8`, `::1`, `192.168.1.5`: an address and how many leading bits count.
pub fn parse_network(text: &str) -> Option<(std::net::IpAddr, u8)> {
    let text = text.trim();
    let (addr, bits) = match text.split_once('/') {
        Some((addr, bits)) => (addr, Some(bits.parse::<u8>().ok()?)),
        None => (text, None),
    };
    let addr: std::net::IpAddr = addr.parse().ok()?;
    let max = if addr.is_ipv4() { 32 } else { 128 };
    let bits = bits.unwrap_or(max);
    (bits <= max).then_some((addr, bits))
}

/// Whether `ip` is in the network `(net, bits)` (an IPv4-mapped address counts as IPv4).
pub fn in_network(ip: std::net::IpAddr, (net, bits): (std::net::IpAddr, u8)) -> bool {
    use std::net::IpAddr;
    let ip = match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        v4 => v4,
    };
    match (ip, net) {
        (IpAddr::V4(a), IpAddr::V4(b)) => {
            let mask = u32::MAX.checked_shl(32 - u32::from(bits)).unwrap_or(0);
            u32::from(a) & mask == u32::from(b) & mask
        }
        (IpAddr::V6(a), IpAddr::V6(b)) => {
            let mask = u128::MAX.checked_shl(128 - u32::from(bits)).unwrap_or(0);
            u128::from(a) & mask == u128::from(b) & mask
        }
        _ => false,
    }
}

fn line_of(text: &str, offset: usize) -> usize {
    text[..offset.min(text.len())].matches('\n').count() + 1
}

/// What is wrong with a config file, and where: the line of the offending key or
/// value when it is known, else of its table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    pub line: Option<usize>,
    pub message: String,
}

impl Problem {
    fn at(line: usize, message: impl Into<String>) -> Problem {
        Problem {
            line: Some(line),
            message: message.into(),
        }
    }

    /// `PATH line N: problem`, as `hb serve` says it.
    pub fn in_file(&self, file: &str) -> String {
        match self.line {
            Some(n) => format!("config file {file} line {n}: {}", self.message),
            None => format!("config file {file}: {}", self.message),
        }
    }

    /// `PATH:N: problem`, as compilers (and `hb config check`) say it.
    pub fn compiler_style(&self, file: &str) -> String {
        match self.line {
            Some(n) => format!("{file}:{n}: {}", self.message),
            None => format!("{file}: {}", self.message),
        }
    }
}

/// Where each key of the file's `[[channel]]` and `[[check]]` tables is written.
pub struct KeyLines<'a> {
    text: &'a str,
    doc: Option<toml::Spanned<toml::de::DeTable<'a>>>,
}

impl<'a> KeyLines<'a> {
    pub fn new(text: &'a str) -> KeyLines<'a> {
        KeyLines {
            text,
            doc: toml::de::DeTable::parse(text).ok(),
        }
    }

    /// The line of `key` in table number `index` of `array` (`"check"`, `"channel"`),
    /// or of a value in it (`channels[1]`); `None` when it is not written there.
    pub fn line(&self, array: &str, index: usize, key: &str) -> Option<usize> {
        let doc = self.doc.as_ref()?;
        let tables = doc.get_ref().get(array)?;
        let toml::de::DeValue::Array(tables) = tables.get_ref() else {
            return None;
        };
        let table = tables.get(index)?;
        let toml::de::DeValue::Table(entries) = table.get_ref() else {
            return None;
        };
        let (name, position) = match key.split_once('[') {
            Some((name, rest)) => (name, rest.trim_end_matches(']').parse::<usize>().ok()),
            None => (key, None),
        };
        let found = entries
            .iter()
            .find(|(k, _)| k.get_ref().as_ref() == name)
            .map(|(k, v)| match (position, v.get_ref()) {
                (Some(i), toml::de::DeValue::Array(items)) => {
                    items.get(i).map_or(k.span(), |item| item.span())
                }
                _ => k.span(),
            });
        Some(line_of(self.text, found?.start))
    }

    /// The line of the key an error message is about (`interval: …`,
    /// `escalation[0].after: …`, ``unknown field `colour` ``).
    pub fn line_for(&self, array: &str, index: usize, message: &str) -> Option<usize> {
        let key = match message.split_once('`') {
            Some((head, rest)) if head.starts_with("unknown field") => {
                rest.split('`').next().unwrap_or("")
            }
            _ => {
                let end = message
                    .find(|c: char| {
                        !(c.is_ascii_alphanumeric() || c == '_' || c == '[' || c == ']')
                    })
                    .unwrap_or(message.len());
                &message[..end]
            }
        };
        let key = if key.is_empty() || key.chars().all(|c| c.is_ascii_digit()) {
            "name"
        } else {
            key
        };
        self.line(array, index, key)
    }
}

/// Reads the config file; a missing default file gives an empty config.
pub fn load(source: &ConfigSource, now: jiff::Timestamp) -> Result<ServeFile> {
    let Some(text) = source.read()? else {
        return Ok(ServeFile::default());
    };
    parse(&text, now).map_err(|p| anyhow::anyhow!(p.in_file(&source.display())))
}

/// Reads and validates the text of a config file: every key, every `[[channel]]` and
/// `[[check]]` (each alone; whether a check's channels exist is the registry's to say).
pub fn parse(text: &str, now: jiff::Timestamp) -> Result<ServeFile, Problem> {
    let file: File = toml::from_str(text).map_err(|e| Problem {
        line: e.span().map(|span| line_of(text, span.start)),
        message: e.message().trim_end().to_string(),
    })?;
    // TOML has inf and nan; JSON (which checks and channels are read as) does not, and
    // would read them as null (the default): refuse them here, naming the line.
    if let Some(offset) = non_finite(text) {
        return Err(Problem::at(
            line_of(text, offset),
            "inf and nan are not accepted values; write a finite number",
        ));
    }
    let lines = KeyLines::new(text);
    if file
        .max_connections
        .is_some_and(|n| !(16..=1_000_000).contains(&n))
    {
        return Err(Problem {
            line: text
                .lines()
                .position(|l| l.trim_start().starts_with("max_connections"))
                .map(|i| i + 1),
            message: "max_connections must be between 16 and 1000000".into(),
        });
    }
    let key_line = |key: &str| {
        text.lines()
            .position(|l| l.trim_start().starts_with(key))
            .map(|i| i + 1)
    };
    let mut trusted_proxies = Vec::new();
    for proxy in file.trusted_proxies.iter().flatten() {
        trusted_proxies.push(parse_network(proxy).ok_or_else(|| Problem {
            line: key_line("trusted_proxies"),
            message: format!(
                "trusted_proxies: {proxy:?} is not an address or a network; write e.g. \"127.0.0.1\", \"10.0.0.0/8\" or \"::1\""
            ),
        })?);
    }
    let auth_header = file.auth_header.map(|h| h.trim().to_string());
    if let Some(header) = &auth_header
        && axum::http::HeaderName::from_bytes(header.as_bytes()).is_err()
    {
        return Err(Problem {
            line: key_line("auth_header"),
            message: format!(
                "auth_header: {header:?} is not a header name; write e.g. \"X-Forwarded-User\""
            ),
        });
    }
    if auth_header.is_some() && trusted_proxies.is_empty() {
        return Err(Problem {
            line: key_line("auth_header"),
            message: "auth_header needs trusted_proxies (the proxies' addresses): without them anyone could send the header".into(),
        });
    }
    let mut channels = Vec::new();
    for (index, table) in file.channel.into_iter().enumerate() {
        let span = table.span();
        let at_key = |key: &str| {
            lines
                .line("channel", index, key)
                .unwrap_or_else(|| line_of(text, span.start))
        };
        let mut table = table.into_inner();
        let name = match table.remove("name") {
            Some(toml::Value::String(n)) if valid_channel_name(&n) => n,
            Some(other) => {
                return Err(Problem::at(
                    at_key("name"),
                    format!(
                        "[[channel]] name {other} is not accepted; use letters, digits, '-' and '_'"
                    ),
                ));
            }
            None => {
                return Err(Problem::at(
                    line_of(text, span.start),
                    "[[channel]] needs a name, e.g. name = \"ops\"",
                ));
            }
        };
        if channels.iter().any(|(n, _)| *n == name) {
            return Err(Problem::at(
                at_key("name"),
                format!("[[channel]] {name:?} is declared twice"),
            ));
        }
        let value = serde_json::to_value(&table).unwrap_or(Value::Null);
        // A masked secret is resolved against the stored channel when applied.
        if !value.to_string().contains(MASK) {
            ChannelKind::merge(None, &value, false).map_err(|e| {
                let key = e
                    .strip_prefix("channel field \"")
                    .and_then(|rest| rest.split('"').next())
                    .unwrap_or("kind");
                Problem::at(at_key(key), format!("[[channel]] {name:?}: {e}"))
            })?;
        }
        channels.push((name, value));
    }
    let mut checks: Vec<CheckSpec> = Vec::new();
    // Names seen so far (trimmed), so a file with many checks is read in linear time.
    let mut names = std::collections::HashSet::new();
    for (index, table) in file.check.into_iter().enumerate() {
        let span = table.span();
        let at = |message: &str| {
            lines
                .line_for("check", index, message)
                .unwrap_or_else(|| line_of(text, span.start))
        };
        let value = serde_json::to_value(table.into_inner()).unwrap_or(Value::Null);
        let spec = parse_spec(value).map_err(|e| Problem::at(at(&e), format!("[[check]]: {e}")))?;
        let name = spec.name.clone().unwrap_or_default();
        Settings::from_spec(&spec, now, true)
            .map_err(|e| Problem::at(at(&e), format!("[[check]] {name:?}: {e}")))?;
        if !names.insert(name.trim().to_string()) {
            return Err(Problem::at(
                at("name"),
                format!("[[check]] {name:?} is declared twice"),
            ));
        }
        checks.push(spec);
    }
    // A cycle among the file's own checks (a dependency on a check the monitor has is
    // checked when the file is applied).
    let edges: std::collections::BTreeMap<String, Vec<String>> = checks
        .iter()
        .map(|c| {
            (
                c.name.clone().unwrap_or_default().trim().to_string(),
                c.depends_on.clone().unwrap_or_default(),
            )
        })
        .collect();
    for (index, spec) in checks.iter().enumerate() {
        let name = spec.name.clone().unwrap_or_default();
        if spec.depends_on.as_ref().is_some_and(|d| !d.is_empty())
            && let Some(path) = super::maintenance::cycle_through(name.trim(), &edges)
        {
            return Err(Problem::at(
                lines.line("check", index, "depends_on").unwrap_or(1),
                format!(
                    "[[check]] {name:?}: {}",
                    super::maintenance::cycle_error(&path)
                ),
            ));
        }
    }
    let mut windows: Vec<super::maintenance::WindowSpec> = Vec::new();
    for (index, table) in file.maintenance.into_iter().enumerate() {
        let span = table.span();
        let at = |message: &str| {
            lines
                .line_for("maintenance", index, message)
                .unwrap_or_else(|| line_of(text, span.start))
        };
        let value = serde_json::to_value(table.into_inner()).unwrap_or(Value::Null);
        let spec = super::maintenance::parse_spec(value)
            .map_err(|e| Problem::at(at(&e), format!("[[maintenance]]: {e}")))?;
        let name = spec.name.clone().unwrap_or_default();
        super::maintenance::Window::from_spec(&spec, now)
            .map_err(|e| Problem::at(at(&e), format!("[[maintenance]] {name:?}: {e}")))?;
        if windows.iter().any(|w| w.name == spec.name) {
            return Err(Problem::at(
                at("name"),
                format!("[[maintenance]] {name:?} is declared twice"),
            ));
        }
        windows.push(spec);
    }
    Ok(ServeFile {
        ping_key: file.ping_key,
        listen: file.listen,
        db: file.db,
        base_url: file.base_url,
        api_keys: file.api_keys.unwrap_or_default(),
        read_keys: file.read_keys.unwrap_or_default(),
        allowed_hosts: file
            .allowed_hosts
            .unwrap_or_default()
            .into_iter()
            .map(|h| h.trim().to_ascii_lowercase())
            .collect(),
        allow_private_targets: file.allow_private_targets.unwrap_or(false),
        max_connections: file.max_connections,
        auto_provision: file.auto_provision,
        auth_header,
        trusted_proxies,
        admins: file.admins.unwrap_or_default(),
        channels,
        checks,
        windows,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn load_text(text: &str) -> Result<ServeFile> {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("config.toml");
        std::fs::write(&path, text).unwrap();
        load(
            &ConfigSource::locate(Some(&path)),
            "2026-01-01T00:00:00Z".parse().unwrap(),
        )
    }

    #[test]
    fn reads_the_documented_example() {
        let file = load_text(
            r#"
listen = "127.0.0.1:8080"
db = "/var/lib/hb/hb.db"
base_url = "https://hb.example.com"
api_keys = ["change-me"]
ping_key = "k3y"

[[channel]]
name = "ops"
kind = "webhook"
url = "https://hooks.example.com/hb"

[[check]]
name = "nightly-backup"
interval = "1d"
grace_period = "1h"
channels = ["ops"]
"#,
        )
        .unwrap();
        assert_eq!(file.ping_key.as_deref(), Some("k3y"));
        assert_eq!(file.api_keys, vec!["change-me"]);
        assert_eq!(file.channels.len(), 1);
        assert_eq!(file.checks[0].name.as_deref(), Some("nightly-backup"));
    }

    #[test]
    fn single_sign_on_keys_are_read_and_checked() {
        let file = load_text(
            "auth_header = \"X-Forwarded-User\"\ntrusted_proxies = [\"127.0.0.1\", \"10.0.0.0/8\", \"::1\"]\nadmins = [\"alice\"]\n",
        )
        .unwrap();
        assert_eq!(file.auth_header.as_deref(), Some("X-Forwarded-User"));
        assert_eq!(file.trusted_proxies.len(), 3);
        assert_eq!(file.admins, vec!["alice"]);
        let err = load_text("auth_header = \"X-User\"\n")
            .unwrap_err()
            .to_string();
        assert!(err.contains("trusted_proxies"), "{err}");
        let err = load_text("trusted_proxies = [\"10.0.0.0/33\"]\n")
            .unwrap_err()
            .to_string();
        assert!(err.contains("10.0.0.0/33"), "{err}");
        let net = parse_network("10.0.0.0/8").unwrap();
        assert!(in_network("10.2.3.4".parse().unwrap(), net));
        assert!(!in_network("11.2.3.4".parse().unwrap(), net));
        assert!(in_network(
            "::ffff:10.1.1.1".parse().unwrap(),
            parse_network("10.0.0.0/8").unwrap()
        ));
        let one = parse_network("::1").unwrap();
        assert!(in_network("::1".parse().unwrap(), one));
        assert!(!in_network("::2".parse().unwrap(), one));
        assert!(in_network(
            "1.2.3.4".parse().unwrap(),
            parse_network("0.0.0.0/0").unwrap()
        ));
    }

    #[test]
    fn inf_and_nan_are_refused_with_their_line() {
        let err = load_text("[[check]]\nname = \"a\"\ninterval = \"1h\"\nslow_factor = inf\n")
            .unwrap_err()
            .to_string();
        assert!(err.contains("line 4:") && err.contains("inf"), "{err}");
        assert!(
            load_text("[[check]]\nname = \"a\"\ninterval = \"1h\"\nslow_factor = -nan\n").is_err()
        );
    }

    #[test]
    fn errors_name_the_file_and_line() {
        let err = load_text("listen = \"x\"\nlisen = 1\n")
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("config.toml line 2:") && err.contains("lisen"),
            "{err}"
        );
        let err = load_text("[[check]]\nname = \"a\"\ninterval = \"1h\"\n\n[[check]]\nname = \"b\"\ninterval = \"soon\"\n")
            .unwrap_err()
            .to_string();
        assert!(err.contains("line 7:") && err.contains("interval"), "{err}");
        let err = load_text("[[channel]]\nkind = \"webhook\"\nurl = \"http://x\"\n")
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("line 1:") && err.contains("needs a name"),
            "{err}"
        );
    }

    /// `hb config check` and `hb serve` name the line of the offending key or value.
    #[test]
    fn problems_point_at_the_key() {
        let now = "2026-01-01T00:00:00Z".parse().unwrap();
        let cases = [
            (
                "[[check]]\nname = \"a\"\n\ninterval = \"1h\"\ncolour = \"red\"\n",
                5,
                "colour",
            ),
            (
                "[[check]]\nname = \"a\"\ncron = \"0 3 * * *\"\ntz = \"Mars/Base\"\n",
                4,
                "Mars",
            ),
            (
                "[[check]]\nname = \"a\"\ninterval = \"1h\"\nescalation = [\n  {after = \"1h\", channels = []},\n  {after = \"0s\", channels = []},\n]\n",
                6,
                "escalation[1].after",
            ),
            ("[[check]]\nname = \"a\"\n\n", 1, "schedule"),
            (
                "[[channel]]\nname = \"ops\"\nkind = \"webhook\"\nurl = \"ftp://x\"\n",
                4,
                "url",
            ),
            ("[[channel]]\nname = \"ops\"\nkind = \"sms\"\n", 3, "sms"),
            (
                "listen = \"x\"\nmax_connections = 1\n",
                2,
                "max_connections",
            ),
        ];
        for (text, line, says) in cases {
            let problem = parse(text, now).unwrap_err();
            assert_eq!(problem.line, Some(line), "{text}: {problem:?}");
            assert!(problem.message.contains(says), "{text}: {problem:?}");
        }
        let problem = parse("server = 3\n", now).unwrap_err();
        assert_eq!(
            problem.compiler_style("hb.toml"),
            format!("hb.toml:1: {}", problem.message)
        );
    }
}
