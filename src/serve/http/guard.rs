//! Who may do what (PRODUCT.md §4), decided once per request before any handler.
//!
//! Ping routes are exempt: their uuid or ping key is the secret. For everything else,
//! in this order: a foreign `Host` name is refused while no key is configured (421:
//! DNS rebinding needs a name), a foreign `Origin` is refused (403: no cross-site
//! request), then the key (401), its scope (403: a read key changes nothing), and a
//! body that is not JSON (415: a cross-site form cannot send JSON without asking).
//! The rules are a pure function of the request's facts and the options, tested below
//! without a server.

use axum::extract::{Request, State};
use axum::http::{Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::Response;
use std::net::IpAddr;
use std::sync::Arc;

use super::error;
use crate::serve::app::{App, Options};

/// What a request may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// Everything (a full key, or no key configured).
    Full,
    /// Reads only.
    Read,
}

/// What the rules look at.
#[derive(Debug, Default, Clone)]
pub struct Facts<'a> {
    pub path: &'a str,
    pub method: Method,
    pub host: Option<&'a str>,
    pub origin: Option<&'a str>,
    pub authorization: Option<&'a str>,
    pub content_type: Option<&'a str>,
    pub has_body: bool,
}

/// A refusal: status and the sentence that says what to do.
pub type Refusal = (StatusCode, String);

pub fn is_ping_path(path: &str) -> bool {
    path.starts_with("/ping/") || path.starts_with("/api/v1/ping/")
}

/// Paths anyone who reaches the port may read (within the Host and Origin rules).
fn is_open_path(path: &str) -> bool {
    path == "/healthz" || path == "/api/v1/openapi.json" || path.starts_with("/badge/")
}

/// Compares a given key with a configured one in time that depends only on the
/// given key's length: neither the configured key nor its length leaks.
pub fn same_key(given: &[u8], key: &[u8]) -> bool {
    if key.is_empty() {
        return false;
    }
    let mut diff = given.len() ^ key.len();
    for (i, b) in given.iter().enumerate() {
        diff |= usize::from(b ^ key[i % key.len()]);
    }
    diff == 0
}

/// The key in `Authorization: Bearer <key>` (the scheme word in any case).
fn bearer(authorization: &str) -> Option<&str> {
    let (scheme, key) = authorization.trim().split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then(|| key.trim())
        .filter(|k| !k.is_empty())
}

/// The host name of a `Host` value or a URL authority, lower-cased, without port or
/// a trailing dot; IPv6 literals keep no brackets.
fn host_name(authority: &str) -> String {
    let authority = authority.trim();
    let name = if let Some(rest) = authority.strip_prefix('[') {
        rest.split(']').next().unwrap_or("")
    } else {
        authority.rsplit_once(':').map_or(authority, |(h, port)| {
            if port.bytes().all(|b| b.is_ascii_digit()) {
                h
            } else {
                authority
            }
        })
    };
    name.trim_end_matches('.').to_ascii_lowercase()
}

/// `scheme://authority` of a URL, lower-cased (no path).
fn origin_of(url: &str) -> Option<(String, String)> {
    let (scheme, rest) = url.trim().split_once("://")?;
    let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
    if authority.is_empty() {
        return None;
    }
    Some((scheme.to_ascii_lowercase(), authority.to_ascii_lowercase()))
}

/// Whether a `Host` is one the monitor answers to when no key protects it.
fn host_allowed(options: &Options, host: &str) -> bool {
    let name = host_name(host);
    if name.parse::<IpAddr>().is_ok() || name == "localhost" {
        return true;
    }
    if let Some((_, authority)) = options.base_url.as_deref().and_then(origin_of)
        && host_name(&authority) == name
    {
        return true;
    }
    options.allowed_hosts.iter().any(|h| host_name(h) == name)
}

/// Whether an `Origin` is the request's own (any scheme: a proxy may end TLS) or
/// `base_url`'s.
fn origin_allowed(options: &Options, origin: &str, host: Option<&str>) -> bool {
    let Some((scheme, authority)) = origin_of(origin) else {
        return false; // `null` and anything unreadable
    };
    if host.is_some_and(|h| h.trim().eq_ignore_ascii_case(&authority)) {
        return true;
    }
    options
        .base_url
        .as_deref()
        .and_then(origin_of)
        .is_some_and(|base| base == (scheme, authority))
}

/// Whether a path percent-decodes to UTF-8 (path parameters are text: a uuid, a name).
fn path_is_text(path: &str) -> bool {
    let bytes = path.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |b: u8| (b as char).to_digit(16);
        if bytes[i] == b'%'
            && let (Some(h), Some(l)) = (
                bytes.get(i + 1).and_then(|b| hex(*b)),
                bytes.get(i + 2).and_then(|b| hex(*b)),
            )
        {
            out.push((h * 16 + l) as u8);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    std::str::from_utf8(&out).is_ok()
}

fn is_json(content_type: &str) -> bool {
    essence_is(content_type, "application/json")
}

fn essence_is(content_type: &str, wanted: &str) -> bool {
    let essence = content_type.split(';').next().unwrap_or("").trim();
    essence.eq_ignore_ascii_case(wanted)
}

/// The one path whose body is not JSON: a config file to plan.
pub const PLAN_PATH: &str = "/api/v1/config/plan";

/// Applies the rules; `Ok(None)` for a ping route (no rule applies).
pub fn decide(options: &Options, facts: &Facts<'_>) -> Result<Option<Access>, Refusal> {
    if is_ping_path(facts.path) {
        return Ok(None);
    }
    let keyed = options.has_keys();
    if (!keyed || !options.allowed_hosts.is_empty())
        && let Some(host) = facts.host
        && !host_allowed(options, host)
    {
        return Err((
            StatusCode::MISDIRECTED_REQUEST,
            format!(
                "Host {:?} is not a name this monitor answers to; use its address or localhost, or add the name to allowed_hosts (or set base_url)",
                host_name(host)
            ),
        ));
    }
    if let Some(origin) = facts.origin
        && !origin_allowed(options, origin, facts.host)
    {
        return Err((
            StatusCode::FORBIDDEN,
            format!(
                "Origin {origin:?} is another site; the monitor takes changes only from its own pages and from clients that send no Origin"
            ),
        ));
    }
    let access = if !keyed || is_open_path(facts.path) {
        Access::Full
    } else {
        let given = facts.authorization.and_then(bearer).unwrap_or("");
        let full = options.api_keys.iter().fold(false, |hit, k| {
            hit | same_key(given.as_bytes(), k.as_bytes())
        });
        let read = options.read_keys.iter().fold(false, |hit, k| {
            hit | same_key(given.as_bytes(), k.as_bytes())
        });
        if full {
            Access::Full
        } else if read {
            Access::Read
        } else {
            return Err((
                StatusCode::UNAUTHORIZED,
                "authorization: send one of the configured keys as 'Authorization: Bearer <key>'"
                    .into(),
            ));
        }
    };
    let reads = matches!(facts.method, Method::GET | Method::HEAD);
    if access == Access::Read && !reads {
        return Err((
            StatusCode::FORBIDDEN,
            "this key may only read; use one of api_keys to make changes".into(),
        ));
    }
    if !path_is_text(facts.path) {
        return Err((
            StatusCode::NOT_FOUND,
            "no such endpoint: the path is not UTF-8 text once percent-decoded".into(),
        ));
    }
    if facts.path == PLAN_PATH {
        if facts.has_body
            && !reads
            && !facts
                .content_type
                .is_some_and(|t| essence_is(t, "application/toml"))
        {
            return Err((
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "send the config file as TOML with 'Content-Type: application/toml'".into(),
            ));
        }
    } else if facts.path.starts_with("/api/v1/")
        && facts.has_body
        && !reads
        && !facts.content_type.is_some_and(is_json)
    {
        return Err((
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "send the body as JSON with 'Content-Type: application/json'".into(),
        ));
    }
    Ok(Some(access))
}

/// Largest body read ahead to learn whether a chunked body is empty.
const PEEK_LIMIT: usize = 1024 * 1024 + 1;

/// The middleware: refuses what the rules refuse, and tells handlers the access.
pub async fn guard(State(app): State<Arc<App>>, request: Request, next: Next) -> Response {
    if is_ping_path(request.uri().path()) {
        return next.run(request).await;
    }
    let (parts, body) = request.into_parts();
    let length = parts
        .headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .map(|n| n.trim() != "0");
    // A chunked body may be empty (some clients send one with every POST): read it.
    let (has_body, body) = match length {
        Some(has_body) => (has_body, body),
        None if parts.headers.contains_key(header::TRANSFER_ENCODING) => {
            match axum::body::to_bytes(body, PEEK_LIMIT).await {
                Ok(bytes) => (!bytes.is_empty(), axum::body::Body::from(bytes)),
                Err(_) => {
                    return error(
                        StatusCode::BAD_REQUEST,
                        "body: unreadable or larger than 1 MiB; send at most 1 MiB of JSON",
                    );
                }
            }
        }
        None => (false, body),
    };
    let text = |name: header::HeaderName| parts.headers.get(name).and_then(|v| v.to_str().ok());
    let facts = Facts {
        path: parts.uri.path(),
        method: parts.method.clone(),
        host: text(header::HOST).or(parts.uri.authority().map(|a| a.as_str())),
        origin: text(header::ORIGIN),
        authorization: text(header::AUTHORIZATION),
        content_type: text(header::CONTENT_TYPE),
        has_body,
    };
    match decide(&app.options(), &facts) {
        Ok(access) => {
            let mut request = Request::from_parts(parts, body);
            if let Some(access) = access {
                request.extensions_mut().insert(access);
            }
            next.run(request).await
        }
        Err((status, message)) => error(status, message),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keyed() -> Options {
        Options {
            api_keys: vec!["full-key".into()],
            read_keys: vec!["read-key".into()],
            ..Options::default()
        }
    }

    fn facts(path: &str) -> Facts<'_> {
        Facts {
            path,
            method: Method::GET,
            host: Some("127.0.0.1:8080"),
            ..Facts::default()
        }
    }

    fn status(options: &Options, facts: &Facts<'_>) -> u16 {
        match decide(options, facts) {
            Ok(_) => 200,
            Err((s, _)) => s.as_u16(),
        }
    }

    #[test]
    fn keys_compare_in_full_and_any_scheme_case() {
        assert!(same_key(b"abc", b"abc"));
        assert!(!same_key(b"ab", b"abc"));
        assert!(!same_key(b"abcabc", b"abc"));
        assert!(!same_key(b"", b"abc"));
        assert!(!same_key(b"abc", b""));
        assert_eq!(bearer("Bearer k"), Some("k"));
        assert_eq!(bearer("bearer k"), Some("k"));
        assert_eq!(bearer("BEARER  k "), Some("k"));
        assert_eq!(bearer("Basic k"), None);
        assert_eq!(bearer("Bearer "), None);
    }

    #[test]
    fn without_keys_only_known_names_are_answered() {
        let open = Options::default();
        let mut f = facts("/api/v1/heartbeats");
        for host in [
            "127.0.0.1:8080",
            "[::1]:8080",
            "localhost",
            "LOCALHOST:9",
            "10.1.2.3",
        ] {
            f.host = Some(host);
            assert_eq!(status(&open, &f), 200, "{host}");
        }
        f.host = Some("evil.example:8080");
        assert_eq!(status(&open, &f), 421);
        f.host = Some("localhost.evil.example");
        assert_eq!(status(&open, &f), 421);
        let named = Options {
            base_url: Some("https://hb.example.com/".into()),
            allowed_hosts: vec!["monitor.lan".into()],
            ..Options::default()
        };
        f.host = Some("hb.example.com");
        assert_eq!(status(&named, &f), 200);
        f.host = Some("monitor.lan:8080");
        assert_eq!(status(&named, &f), 200);
        f.host = Some("other.lan");
        assert_eq!(status(&named, &f), 421);
        // With keys, any name, unless allowed_hosts is set.
        f.host = Some("other.lan");
        assert_eq!(status(&keyed(), &f), 401);
        let keyed_hosts = Options {
            allowed_hosts: vec!["monitor.lan".into()],
            ..keyed()
        };
        assert_eq!(status(&keyed_hosts, &f), 421);
        // Pings are exempt.
        let mut ping = facts("/ping/k/slug");
        ping.host = Some("evil.example");
        ping.origin = Some("https://evil.example");
        assert_eq!(decide(&open, &ping), Ok(None));
    }

    #[test]
    fn a_foreign_origin_is_refused_whatever_the_method() {
        let open = Options::default();
        let mut f = facts("/api/v1/heartbeats");
        f.origin = Some("http://127.0.0.1:8080");
        assert_eq!(status(&open, &f), 200);
        f.origin = Some("https://127.0.0.1:8080");
        assert_eq!(status(&open, &f), 200, "behind a proxy ending TLS");
        for origin in ["http://evil.example", "null", "http://127.0.0.1:9999"] {
            f.origin = Some(origin);
            assert_eq!(status(&open, &f), 403, "{origin}");
        }
        let based = Options {
            base_url: Some("https://hb.example.com".into()),
            ..Options::default()
        };
        f.origin = Some("https://hb.example.com");
        assert_eq!(status(&based, &f), 200);
        f.origin = Some("http://hb.example.com");
        assert_eq!(status(&based, &f), 403);
    }

    #[test]
    fn keys_and_their_scope() {
        let options = keyed();
        let mut f = facts("/api/v1/heartbeats");
        assert_eq!(status(&options, &f), 401);
        f.authorization = Some("Bearer read-key");
        assert_eq!(decide(&options, &f), Ok(Some(Access::Read)));
        f.method = Method::POST;
        assert_eq!(status(&options, &f), 403);
        f.authorization = Some("bearer full-key");
        assert_eq!(decide(&options, &f), Ok(Some(Access::Full)));
        f.authorization = Some("Bearer full-key-and-more");
        assert_eq!(status(&options, &f), 401);
        for open in ["/healthz", "/api/v1/openapi.json", "/badge/t/all.svg"] {
            assert_eq!(status(&options, &facts(open)), 200, "{open}");
        }
        assert_eq!(status(&options, &facts("/metrics")), 401);
    }

    #[test]
    fn bodies_must_be_json_and_the_order_of_refusals_holds() {
        let open = Options::default();
        let mut f = facts("/api/v1/heartbeats");
        f.method = Method::POST;
        f.has_body = true;
        f.content_type = Some("text/plain");
        assert_eq!(status(&open, &f), 415);
        f.content_type = Some("application/json; charset=utf-8");
        assert_eq!(status(&open, &f), 200);
        f.content_type = None;
        f.has_body = false;
        assert_eq!(status(&open, &f), 200, "no body, nothing to type");
        // 421 before 403 (Origin) before 401 before 403 (scope) before 415.
        let options = Options {
            allowed_hosts: vec!["ok.lan".into()],
            ..keyed()
        };
        let mut f = facts("/api/v1/heartbeats");
        f.method = Method::POST;
        f.has_body = true;
        f.content_type = Some("text/plain");
        f.host = Some("evil.lan");
        f.origin = Some("http://evil.example");
        assert_eq!(status(&options, &f), 421);
        f.host = Some("ok.lan");
        assert_eq!(status(&options, &f), 403);
        f.origin = None;
        assert_eq!(status(&options, &f), 401);
        f.authorization = Some("Bearer read-key");
        assert_eq!(status(&options, &f), 403);
        f.authorization = Some("Bearer full-key");
        assert_eq!(status(&options, &f), 415);
        // A config file to plan is TOML, and only there.
        let mut f = facts(PLAN_PATH);
        f.method = Method::POST;
        f.has_body = true;
        f.content_type = Some("application/toml");
        assert_eq!(status(&open, &f), 200);
        f.content_type = Some("application/json");
        assert_eq!(status(&open, &f), 415);
        let mut f = facts("/api/v1/heartbeats");
        f.method = Method::POST;
        f.has_body = true;
        f.content_type = Some("application/toml");
        assert_eq!(status(&open, &f), 415);
        // An unreadable path parameter is an unknown thing (404), not a crash or a 400.
        let mut f = facts("/api/v1/heartbeats/%FF");
        f.method = Method::GET;
        assert_eq!(status(&Options::default(), &f), 404);
        assert!(path_is_text("/api/v1/channels/caf%C3%A9"));
    }
}
