//! Which URL a ping goes to: an ID resolves to a ping base URL,
//! and a signal is appended to it. Pure: no I/O, no clock.

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

use crate::percent::percent_encode;

/// What ID resolution may consult.
#[derive(Debug, Clone, Copy)]
pub struct Resolver<'a> {
    pub server: &'a str,
    pub ping_key: Option<&'a str>,
    pub checks: &'a BTreeMap<String, String>,
}

/// Why an ID has no ping URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ResolveError {
    Empty,
    AliasLoop(Vec<String>),
    NoPingKey { slug: String },
    BadServer { server: String },
}

impl fmt::Display for ResolveError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ResolveError::Empty => write!(
                f,
                "the check ID is empty; give a ping URL, a [checks] alias, a UUID or a slug"
            ),
            ResolveError::AliasLoop(chain) => write!(
                f,
                "the [checks] aliases {} refer to each other in a loop; make one of them a URL, UUID or slug",
                chain.join(" -> ")
            ),
            ResolveError::NoPingKey { slug } => write!(
                f,
                "`{slug}` is not a URL, a [checks] alias or a UUID, and as a slug it needs a ping key; set --ping-key, HB_PING_KEY or `ping_key` in the config file"
            ),
            ResolveError::BadServer { server } => write!(
                f,
                "the server `{server}` is not an http:// or https:// URL; set --server, HB_SERVER or `server` in the config file to e.g. http://localhost:8080"
            ),
        }
    }
}

impl std::error::Error for ResolveError {}

/// Resolves an ID to its ping base URL (no trailing slash), first match wins:
/// a URL as it is; a `[checks]` alias, resolved again; a UUID; else a slug.
pub fn resolve(id: &str, resolver: &Resolver) -> Result<String, ResolveError> {
    let mut current = id.trim().to_string();
    let mut seen: Vec<String> = Vec::new();
    loop {
        if current.is_empty() {
            return Err(ResolveError::Empty);
        }
        if is_url(&current) {
            return Ok(trim_trailing_slashes(&current));
        }
        if let Some(target) = resolver.checks.get(&current) {
            if seen.contains(&current) {
                seen.push(current);
                return Err(ResolveError::AliasLoop(seen));
            }
            seen.push(current);
            current = target.trim().to_string();
            continue;
        }
        let server = server_base(resolver.server)?;
        if let Some(uuid) = as_uuid(&current) {
            return Ok(format!("{server}/api/v1/ping/{uuid}"));
        }
        return match resolver.ping_key.map(str::trim).filter(|k| !k.is_empty()) {
            Some(key) => Ok(format!(
                "{server}/api/v1/ping/{}/{}",
                percent_encode(key),
                percent_encode(&current)
            )),
            None => Err(ResolveError::NoPingKey { slug: current }),
        };
    }
}

fn is_url(text: &str) -> bool {
    let lower = text.get(..8).unwrap_or(text).to_ascii_lowercase();
    lower.starts_with("http://") || lower.starts_with("https://")
}

fn server_base(server: &str) -> Result<String, ResolveError> {
    let server = server.trim();
    let base = trim_trailing_slashes(server);
    if !is_url(&base) {
        return Err(ResolveError::BadServer {
            server: server.to_string(),
        });
    }
    Ok(base)
}

/// Strips trailing slashes from the path part, leaving any query alone.
fn trim_trailing_slashes(url: &str) -> String {
    let (path, query) = split_query(url);
    let path = path.trim_end_matches('/');
    match query {
        Some(q) => format!("{path}?{q}"),
        None => path.to_string(),
    }
}

fn split_query(url: &str) -> (&str, Option<&str>) {
    let url = url.split('#').next().unwrap_or(url);
    match url.split_once('?') {
        Some((path, query)) => (path, Some(query)),
        None => (url, None),
    }
}

/// The canonical (lower-case, hyphenated) form of a hyphenated UUID.
fn as_uuid(text: &str) -> Option<String> {
    if text.len() != 36 {
        return None;
    }
    uuid::Uuid::try_parse(text)
        .ok()
        .map(|u| u.hyphenated().to_string())
}

/// What a ping says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Signal {
    Success,
    Start,
    Fail,
    Log,
    Exit(u8),
}

impl Signal {
    /// The suffix appended to the base URL ("" for success).
    pub fn suffix(self) -> String {
        match self {
            Signal::Success => String::new(),
            Signal::Start => "/start".into(),
            Signal::Fail => "/fail".into(),
            Signal::Log => "/log".into(),
            Signal::Exit(code) => format!("/{code}"),
        }
    }
}

/// A SIGNAL argument that is none of the accepted forms.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BadSignal(pub String);

impl fmt::Display for BadSignal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "`{}` is not a signal; use success, start, fail, log or an exit code 0..255",
            self.0
        )
    }
}

impl std::error::Error for BadSignal {}

impl FromStr for Signal {
    type Err = BadSignal;

    fn from_str(text: &str) -> Result<Self, BadSignal> {
        match text {
            "success" => Ok(Signal::Success),
            "start" => Ok(Signal::Start),
            "fail" => Ok(Signal::Fail),
            "log" => Ok(Signal::Log),
            digits if !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()) => digits
                .parse::<u8>()
                .map(Signal::Exit)
                .map_err(|_| BadSignal(text.to_string())),
            _ => Err(BadSignal(text.to_string())),
        }
    }
}

/// The URL of one ping: base + signal suffix, with `rid` added to any query.
pub fn ping_url(base: &str, signal: Signal, rid: Option<&str>) -> String {
    let (path, query) = split_query(base);
    let mut url = format!("{path}{}", signal.suffix());
    let mut params: Vec<String> = query
        .into_iter()
        .flat_map(|q| q.split('&'))
        .filter(|p| !p.is_empty())
        .map(str::to_string)
        .collect();
    if let Some(rid) = rid {
        params.push(format!("rid={rid}"));
    }
    if !params.is_empty() {
        url.push('?');
        url.push_str(&params.join("&"));
    }
    url
}

#[cfg(test)]
mod tests {
    use super::*;

    const UUID: &str = "0b9e5a2c-1111-4222-8333-444455556666";

    fn checks(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    fn resolve_with(
        id: &str,
        server: &str,
        key: Option<&str>,
        aliases: &[(&str, &str)],
    ) -> Result<String, ResolveError> {
        let checks = checks(aliases);
        resolve(
            id,
            &Resolver {
                server,
                ping_key: key,
                checks: &checks,
            },
        )
    }

    #[test]
    fn a_url_is_used_as_it_is_without_trailing_slashes() {
        let url = format!("https://hc-ping.com/{UUID}/");
        assert_eq!(
            resolve_with(&url, "http://x", None, &[]).unwrap(),
            format!("https://hc-ping.com/{UUID}")
        );
        assert_eq!(
            resolve_with("HTTP://Example.com/p", "http://x", None, &[]).unwrap(),
            "HTTP://Example.com/p"
        );
    }

    #[test]
    fn a_uuid_goes_under_the_server() {
        assert_eq!(
            resolve_with(UUID, "http://localhost:8080/", None, &[]).unwrap(),
            format!("http://localhost:8080/api/v1/ping/{UUID}")
        );
        assert_eq!(
            resolve_with(&UUID.to_uppercase(), "http://h", None, &[]).unwrap(),
            format!("http://h/api/v1/ping/{UUID}")
        );
    }

    #[test]
    fn a_slug_needs_the_ping_key() {
        assert_eq!(
            resolve_with("nightly-backup", "http://h:1", Some("k3y"), &[]).unwrap(),
            "http://h:1/api/v1/ping/k3y/nightly-backup"
        );
        assert_eq!(
            resolve_with("nightly-backup", "http://h:1", None, &[]),
            Err(ResolveError::NoPingKey {
                slug: "nightly-backup".into()
            })
        );
        assert!(resolve_with("x", "http://h", Some("  "), &[]).is_err());
    }

    #[test]
    fn odd_slug_characters_are_percent_encoded() {
        assert_eq!(
            resolve_with("a b/c", "http://h", Some("k"), &[]).unwrap(),
            "http://h/api/v1/ping/k/a%20b%2Fc"
        );
    }

    #[test]
    fn aliases_resolve_again_and_loops_are_caught() {
        let aliases = [("backup", "db"), ("db", UUID), ("web", "https://x.test/p/")];
        assert_eq!(
            resolve_with("backup", "http://h", None, &aliases).unwrap(),
            format!("http://h/api/v1/ping/{UUID}")
        );
        assert_eq!(
            resolve_with("web", "http://h", None, &aliases).unwrap(),
            "https://x.test/p"
        );
        let looping = [("a", "b"), ("b", "a")];
        let err = resolve_with("a", "http://h", Some("k"), &looping).unwrap_err();
        assert_eq!(
            err,
            ResolveError::AliasLoop(vec!["a".into(), "b".into(), "a".into()])
        );
        assert!(err.to_string().contains("a -> b -> a"));
        let to_self = [("a", "a")];
        assert!(resolve_with("a", "http://h", Some("k"), &to_self).is_err());
    }

    #[test]
    fn a_server_must_be_a_url() {
        assert!(matches!(
            resolve_with(UUID, "localhost:8080", None, &[]),
            Err(ResolveError::BadServer { .. })
        ));
        assert!(resolve_with(UUID, "http://", None, &[]).is_err());
        assert!(resolve_with("", "http://h", None, &[]).is_err());
    }

    #[test]
    fn signals_parse_and_reject() {
        assert_eq!("success".parse(), Ok(Signal::Success));
        assert_eq!("start".parse(), Ok(Signal::Start));
        assert_eq!("fail".parse(), Ok(Signal::Fail));
        assert_eq!("log".parse(), Ok(Signal::Log));
        assert_eq!("0".parse(), Ok(Signal::Exit(0)));
        assert_eq!("255".parse(), Ok(Signal::Exit(255)));
        for bad in ["256", "300", "-1", "bogus", "", "+3", "Start"] {
            assert!(bad.parse::<Signal>().is_err(), "{bad}");
        }
        assert!(BadSignal("300".into()).to_string().contains("0..255"));
    }

    #[test]
    fn signal_urls_append_suffix_and_rid() {
        let base = "http://h/api/v1/ping/u";
        assert_eq!(ping_url(base, Signal::Success, None), base);
        assert_eq!(
            ping_url(base, Signal::Start, Some("r")),
            format!("{base}/start?rid=r")
        );
        assert_eq!(
            ping_url(base, Signal::Exit(3), Some("r")),
            format!("{base}/3?rid=r")
        );
        assert_eq!(ping_url(base, Signal::Fail, None), format!("{base}/fail"));
        assert_eq!(ping_url(base, Signal::Log, None), format!("{base}/log"));
        assert_eq!(
            ping_url("https://hc/ping/k/s?create=1", Signal::Start, Some("r")),
            "https://hc/ping/k/s/start?create=1&rid=r"
        );
    }
}
