//! Who may do what (PRODUCT.md §4), decided once per request before any handler.
//!
//! Ping routes are exempt: their uuid or ping key is the secret. For everything else,
//! in this order: a foreign `Host` name is refused while no key is configured (421:
//! DNS rebinding needs a name), a foreign `Origin` is refused (403: no cross-site
//! request), then the key (401), its scope (403: a read key changes nothing), and a
//! body that is not JSON (415: a cross-site form cannot send JSON without asking).
//! The rules are a pure function of the request's facts and the options, tested below
//! without a server.
//!
//! The dashboard's pages (PRODUCT.md §5) also take a session cookie (`hb_session`, made
//! by `/login` from a key) and, from `trusted_proxies` only, a user named in
//! `auth_header` (`admins` get full rights, other users read). A page asked for
//! without either is sent to `/login`.

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
    /// What a genuine, unexpired `hb_session` cookie gives (its key still configured).
    pub session: Option<Access>,
    /// What the user a trusted proxy named in `auth_header` may do.
    pub proxy: Option<Access>,
}

/// How a request was let in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Via {
    /// No key configured, or a path open to all.
    Open,
    /// `Authorization: Bearer <key>`.
    Key,
    /// A trusted proxy's `auth_header`.
    Proxy,
    /// The `hb_session` cookie.
    Session,
}

/// Who is asking, for the dashboard: what they may do and who they are (the CSRF
/// tokens of their forms are made from `identity`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Viewer {
    pub access: Access,
    pub via: Via,
    /// `open`, `key:<id>`, `user:<name>` or `session:<cookie>`.
    pub identity: String,
    /// The proxy's user, when signed in that way.
    pub user: Option<String>,
    /// Whether the request came over https (directly, or as the proxy says).
    pub https: bool,
}

/// The dashboard's paths: HTML pages, forms and their assets.
pub fn is_dashboard_path(path: &str) -> bool {
    path == "/"
        || path == "/checks"
        || path.starts_with("/checks/")
        || path == "/channels"
        || path.starts_with("/channels/")
        || path == "/login"
        || path == "/logout"
        || path.starts_with("/static/")
}

/// A refusal: status and the sentence that says what to do.
pub type Refusal = (StatusCode, String);

pub fn is_ping_path(path: &str) -> bool {
    path.starts_with("/ping/") || path.starts_with("/api/v1/ping/")
}

/// Paths anyone who reaches the port may read (within the Host and Origin rules).
fn is_open_path(path: &str) -> bool {
    path == "/healthz"
        || path == "/api/v1/openapi.json"
        || path.starts_with("/badge/")
        || path == "/login"
        || path.starts_with("/static/")
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
    decide_via(options, facts).map(|grant| grant.map(|(access, _)| access))
}

/// [`decide`], also saying how the request was let in.
pub fn decide_via(options: &Options, facts: &Facts<'_>) -> Result<Option<(Access, Via)>, Refusal> {
    if is_ping_path(facts.path) {
        return Ok(None);
    }
    let keyed = options.protected();
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
    let (access, via) = if !keyed || is_open_path(facts.path) {
        (Access::Full, Via::Open)
    } else {
        let given = facts.authorization.and_then(bearer).unwrap_or("");
        let full = options.api_keys.iter().fold(false, |hit, k| {
            hit | same_key(given.as_bytes(), k.as_bytes())
        });
        let read = options.read_keys.iter().fold(false, |hit, k| {
            hit | same_key(given.as_bytes(), k.as_bytes())
        });
        if full {
            (Access::Full, Via::Key)
        } else if read {
            (Access::Read, Via::Key)
        } else if let Some(access) = facts.proxy {
            (access, Via::Proxy)
        } else if let (true, Some(access)) = (
            // The footer links /metrics: a session reads it too.
            is_dashboard_path(facts.path) || facts.path == "/metrics",
            facts.session,
        ) {
            (access, Via::Session)
        } else if is_dashboard_path(facts.path) {
            return Err((
                StatusCode::UNAUTHORIZED,
                "log in first: the dashboard needs one of the configured keys (at /login)".into(),
            ));
        } else {
            return Err((
                StatusCode::UNAUTHORIZED,
                "authorization: send one of the configured keys as 'Authorization: Bearer <key>'"
                    .into(),
            ));
        }
    };
    let reads = matches!(facts.method, Method::GET | Method::HEAD);
    // Anyone signed in may sign out.
    if access == Access::Read && !reads && facts.path != "/logout" {
        return Err((
            StatusCode::FORBIDDEN,
            "this key may only read; use one of api_keys to make changes".into(),
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
    // After 415: the order of §4 is 421, 403, 401, 403, 415, then 404/400/409.
    if !path_is_text(facts.path) {
        return Err((
            StatusCode::NOT_FOUND,
            "no such endpoint: the path is not UTF-8 text once percent-decoded".into(),
        ));
    }
    Ok(Some((access, via)))
}

/// The `hb_session` cookie's value, if the request carries one.
pub fn session_cookie(headers: &axum::http::HeaderMap) -> Option<&str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == SESSION_COOKIE)
        .map(|(_, value)| value.trim())
        .filter(|v| !v.is_empty())
}

/// The dashboard's session cookie.
pub const SESSION_COOKIE: &str = "hb_session";

/// What a session cookie gives, if it is genuine and its key still configured.
fn session_access(app: &App, options: &Options, token: &str) -> Option<Access> {
    let now = app.now().as_second();
    let keys = options.api_keys.iter().chain(options.read_keys.iter());
    let key = app.secrets.verify_session(token, now, keys)?;
    Some(if options.api_keys.iter().any(|k| k == key) {
        Access::Full
    } else {
        Access::Read
    })
}

/// The user a trusted proxy names, if the request came from one.
fn proxy_user(
    options: &Options,
    peer: Option<IpAddr>,
    headers: &axum::http::HeaderMap,
) -> Option<String> {
    let name = options.auth_header.as_deref()?;
    let peer = peer?;
    if !options
        .trusted_proxies
        .iter()
        .any(|net| crate::serve::config_file::in_network(peer, *net))
    {
        return None;
    }
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
        .filter(|u| !u.is_empty())
        .map(str::to_string)
}

/// Whether the request came over https: directly (base_url) or as a trusted proxy says.
fn over_https(options: &Options, headers: &axum::http::HeaderMap, trusted: bool) -> bool {
    let forwarded = headers
        .get("x-forwarded-proto")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.trim().eq_ignore_ascii_case("https"));
    (trusted && forwarded)
        || options
            .base_url
            .as_deref()
            .is_some_and(|b| b.trim().to_ascii_lowercase().starts_with("https://"))
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
    let options = app.options();
    let peer = parts
        .extensions
        .get::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
        .map(|c| c.0.ip());
    let trusted_peer = peer.is_some_and(|ip| {
        options
            .trusted_proxies
            .iter()
            .any(|net| crate::serve::config_file::in_network(ip, *net))
    });
    let user = proxy_user(&options, peer, &parts.headers);
    let cookie = session_cookie(&parts.headers);
    let session = cookie.and_then(|token| session_access(&app, &options, token));
    let facts = Facts {
        path: parts.uri.path(),
        method: parts.method.clone(),
        host: text(header::HOST).or(parts.uri.authority().map(|a| a.as_str())),
        origin: text(header::ORIGIN),
        authorization: text(header::AUTHORIZATION),
        content_type: text(header::CONTENT_TYPE),
        has_body,
        session,
        proxy: user.as_ref().map(|u| {
            if options.admins.iter().any(|a| a == u) {
                Access::Full
            } else {
                Access::Read
            }
        }),
    };
    let dashboard = is_dashboard_path(facts.path);
    match decide_via(&options, &facts) {
        Ok(grant) => {
            let https = over_https(&options, &parts.headers, trusted_peer);
            let identity = match grant.map(|(_, via)| via) {
                Some(Via::Session) => format!("session:{}", cookie.unwrap_or_default()),
                Some(Via::Proxy) => format!("user:{}", user.clone().unwrap_or_default()),
                Some(Via::Key) => {
                    let key = facts.authorization.and_then(bearer).unwrap_or_default();
                    format!("key:{}", app.secrets.key_id(key))
                }
                _ => "open".to_string(),
            };
            let mut request = Request::from_parts(parts, body);
            if let Some((access, via)) = grant {
                request.extensions_mut().insert(access);
                request.extensions_mut().insert(Viewer {
                    access,
                    via,
                    identity,
                    user: user.filter(|_| via == Via::Proxy),
                    https,
                });
            }
            next.run(request).await
        }
        Err((StatusCode::UNAUTHORIZED, _))
            if dashboard && matches!(parts.method, Method::GET | Method::HEAD) =>
        {
            let target = parts
                .uri
                .path_and_query()
                .map(|p| p.as_str())
                .unwrap_or("/");
            let location = format!("/login?next={}", crate::serve::web::words::encode(target));
            axum::response::Response::builder()
                .status(StatusCode::SEE_OTHER)
                .header(header::LOCATION, location)
                .header(header::CACHE_CONTROL, "no-store")
                .body(axum::body::Body::empty())
                .unwrap_or_default()
        }
        Err((status, message)) if dashboard => crate::serve::web::refusal(status, &message),
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
    fn dashboard_pages_take_a_session_or_a_trusted_proxy_s_user() {
        let options = keyed();
        let mut f = facts("/");
        assert_eq!(status(&options, &f), 401, "the guard sends it to /login");
        f.session = Some(Access::Read);
        assert_eq!(
            decide_via(&options, &f),
            Ok(Some((Access::Read, Via::Session)))
        );
        f.method = Method::POST;
        f.path = "/checks/x/pause";
        assert_eq!(status(&options, &f), 403, "read access changes nothing");
        f.path = "/logout";
        assert_eq!(status(&options, &f), 200, "anyone may log out");
        f.session = Some(Access::Full);
        f.path = "/checks/x/pause";
        f.has_body = true;
        f.content_type = Some("application/x-www-form-urlencoded");
        assert_eq!(status(&options, &f), 200, "forms are urlencoded");
        // A session cookie opens the dashboard, not the API.
        f.method = Method::GET;
        f.path = "/api/v1/heartbeats";
        assert_eq!(status(&options, &f), 401);
        f.path = "/metrics";
        assert_eq!(status(&options, &f), 200, "the footer's link works");
        f.path = "/api/v1/heartbeats";
        // The proxy's user (already checked against trusted_proxies) opens both.
        f.proxy = Some(Access::Read);
        assert_eq!(
            decide_via(&options, &f),
            Ok(Some((Access::Read, Via::Proxy)))
        );
        // The login page and the assets are open; so are badges.
        for open in ["/login", "/static/hb.css", "/badge/t/all.svg"] {
            assert_eq!(status(&options, &facts(open)), 200, "{open}");
        }
        // auth_header alone protects the monitor too.
        let sso = Options {
            auth_header: Some("X-Forwarded-User".into()),
            trusted_proxies: vec![("127.0.0.1".parse().unwrap(), 32)],
            ..Options::default()
        };
        assert_eq!(status(&sso, &facts("/")), 401);
        let mut f = facts("/");
        f.proxy = Some(Access::Full);
        assert_eq!(decide_via(&sso, &f), Ok(Some((Access::Full, Via::Proxy))));
        assert!(is_dashboard_path("/checks/new") && !is_dashboard_path("/checksum"));
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
