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
use crate::config::{ConfigSource, toml_error};

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
    auth_header: Option<String>,
    trusted_proxies: Option<Vec<String>>,
    admins: Option<Vec<String>>,
    #[serde(default)]
    channel: Vec<toml::Spanned<toml::Table>>,
    #[serde(default)]
    check: Vec<toml::Spanned<toml::Table>>,
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

/// Reads the config file; a missing default file gives an empty config.
pub fn load(source: &ConfigSource, now: jiff::Timestamp) -> Result<ServeFile> {
    let Some(text) = source.read()? else {
        return Ok(ServeFile::default());
    };
    let file: File = toml::from_str(&text).map_err(|e| toml_error(source, &e))?;
    // TOML has inf and nan; JSON (which checks and channels are read as) does not, and
    // would read them as null (the default): refuse them here, naming the line.
    if let Some(offset) = non_finite(&text) {
        anyhow::bail!(
            "config file {} line {}: inf and nan are not accepted values; write a finite number",
            source.display(),
            line_of(&text, offset)
        );
    }
    if file
        .max_connections
        .is_some_and(|n| !(16..=1_000_000).contains(&n))
    {
        anyhow::bail!(
            "config file {}: max_connections must be between 16 and 1000000",
            source.display()
        );
    }
    let mut trusted_proxies = Vec::new();
    for text in file.trusted_proxies.iter().flatten() {
        trusted_proxies.push(parse_network(text).ok_or_else(|| {
            anyhow::anyhow!(
                "config file {}: trusted_proxies: {text:?} is not an address or a network; write e.g. \"127.0.0.1\", \"10.0.0.0/8\" or \"::1\"",
                source.display()
            )
        })?);
    }
    let auth_header = file.auth_header.map(|h| h.trim().to_string());
    if let Some(header) = &auth_header
        && axum::http::HeaderName::from_bytes(header.as_bytes()).is_err()
    {
        anyhow::bail!(
            "config file {}: auth_header: {header:?} is not a header name; write e.g. \"X-Forwarded-User\"",
            source.display()
        );
    }
    if auth_header.is_some() && trusted_proxies.is_empty() {
        anyhow::bail!(
            "config file {}: auth_header needs trusted_proxies (the proxies' addresses): without them anyone could send the header",
            source.display()
        );
    }
    let at = |span: std::ops::Range<usize>, what: String| {
        anyhow::anyhow!(
            "config file {} line {}: {what}",
            source.display(),
            line_of(&text, span.start)
        )
    };
    let mut channels = Vec::new();
    for table in file.channel {
        let span = table.span();
        let mut table = table.into_inner();
        let name = match table.remove("name") {
            Some(toml::Value::String(n)) if valid_channel_name(&n) => n,
            Some(other) => {
                return Err(at(
                    span,
                    format!(
                        "[[channel]] name {other} is not accepted; use letters, digits, '-' and '_'"
                    ),
                ));
            }
            None => {
                return Err(at(
                    span,
                    "[[channel]] needs a name, e.g. name = \"ops\"".into(),
                ));
            }
        };
        if channels.iter().any(|(n, _)| *n == name) {
            return Err(at(span, format!("[[channel]] {name:?} is declared twice")));
        }
        let value = serde_json::to_value(&table).unwrap_or(Value::Null);
        // A masked secret is resolved against the stored channel when applied.
        if !value.to_string().contains(MASK) {
            ChannelKind::merge(None, &value, false)
                .map_err(|e| at(span.clone(), format!("[[channel]] {name:?}: {e}")))?;
        }
        channels.push((name, value));
    }
    let mut checks: Vec<CheckSpec> = Vec::new();
    // Names seen so far (trimmed), so a file with many checks is read in linear time.
    let mut names = std::collections::HashSet::new();
    for table in file.check {
        let span = table.span();
        let value = serde_json::to_value(table.into_inner()).unwrap_or(Value::Null);
        let spec = parse_spec(value).map_err(|e| at(span.clone(), format!("[[check]]: {e}")))?;
        let name = spec.name.clone().unwrap_or_default();
        Settings::from_spec(&spec, now, true)
            .map_err(|e| at(span.clone(), format!("[[check]] {name:?}: {e}")))?;
        if !names.insert(name.trim().to_string()) {
            return Err(at(span, format!("[[check]] {name:?} is declared twice")));
        }
        checks.push(spec);
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
        auth_header,
        trusted_proxies,
        admins: file.admins.unwrap_or_default(),
        channels,
        checks,
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
        assert!(err.contains("line 5:") && err.contains("interval"), "{err}");
        let err = load_text("[[channel]]\nkind = \"webhook\"\nurl = \"http://x\"\n")
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("line 1:") && err.contains("needs a name"),
            "{err}"
        );
    }
}
