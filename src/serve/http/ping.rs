//! The ping endpoints: `/api/v1/ping/…` and healthchecks' `/ping/…`, by uuid or by
//! ping key and slug; GET, HEAD and POST; answers as healthchecks gives them.

use axum::body::Body;
use axum::extract::{ConnectInfo, State};
use axum::http::{HeaderMap, Method, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use http_body_util::BodyExt;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use uuid::Uuid;

use super::metric_index;
use crate::serve::app::App;
use crate::serve::registry::PingMeta;
use crate::serve::status::{Ping, PingKind};

/// Bytes of a ping body kept; longer bodies are truncated, never refused.
pub const BODY_LIMIT: usize = 100 * 1024;
/// Bytes read (and dropped past `BODY_LIMIT`) before the rest is left unread.
const READ_LIMIT: usize = 16 * 1024 * 1024;

/// What a ping path names.
#[derive(Debug, PartialEq)]
pub enum Target<'a> {
    Uuid(Uuid),
    Slug { key: &'a str, slug: &'a str },
}

#[derive(Debug, PartialEq)]
pub enum Parsed<'a> {
    Ping(Target<'a>, PingKind, Option<u8>),
    /// 400 `invalid url format` (an exit code above 255).
    BadCode,
    NotFound,
}

fn signal(word: &str) -> Option<Result<(PingKind, Option<u8>), ()>> {
    match word {
        "start" => Some(Ok((PingKind::Start, None))),
        "fail" => Some(Ok((PingKind::Fail, None))),
        "log" => Some(Ok((PingKind::Log, None))),
        _ if !word.is_empty() && word.bytes().all(|b| b.is_ascii_digit()) => {
            Some(match word.parse::<u16>() {
                Ok(code) if code <= 255 => Ok((PingKind::Success, Some(code as u8))),
                _ => Err(()),
            })
        }
        _ => None,
    }
}

/// Reads the path after the ping prefix.
pub fn parse_path(rest: &str) -> Parsed<'_> {
    let rest = rest.strip_suffix('/').unwrap_or(rest);
    let parts: Vec<&str> = rest.split('/').collect();
    let with = |target, word: Option<&str>| match word.map(signal) {
        None => Parsed::Ping(target, PingKind::Success, None),
        Some(Some(Ok((kind, code)))) => Parsed::Ping(target, kind, code),
        Some(Some(Err(()))) => Parsed::BadCode,
        Some(None) => Parsed::NotFound,
    };
    match parts.as_slice() {
        [id] => match Uuid::parse_str(id) {
            Ok(uuid) => Parsed::Ping(Target::Uuid(uuid), PingKind::Success, None),
            Err(_) => Parsed::NotFound,
        },
        [id, word] => match (Uuid::parse_str(id), signal(word)) {
            (Ok(uuid), Some(_)) => with(Target::Uuid(uuid), Some(word)),
            _ => Parsed::Ping(
                Target::Slug {
                    key: id,
                    slug: word,
                },
                PingKind::Success,
                None,
            ),
        },
        [key, slug, word] => with(Target::Slug { key, slug }, Some(word)),
        _ => Parsed::NotFound,
    }
}

fn text(status: StatusCode, body: &'static str, ok: bool) -> Response {
    let mut response = (
        status,
        [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
        body,
    )
        .into_response();
    if ok {
        let headers = response.headers_mut();
        headers.insert("Ping-Body-Limit", BODY_LIMIT.into());
        headers.insert(
            header::ACCESS_CONTROL_ALLOW_ORIGIN,
            header::HeaderValue::from_static("*"),
        );
    }
    response
}

fn rid_of(query: Option<&str>) -> Result<Option<String>, ()> {
    let Some(query) = query else { return Ok(None) };
    for pair in query.split('&') {
        let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
        if key == "rid" {
            if value.is_empty() {
                return Ok(None);
            }
            return Uuid::parse_str(value)
                .map(|u| Some(u.to_string()))
                .map_err(|_| ());
        }
    }
    Ok(None)
}

/// Reads at most `BODY_LIMIT` bytes of the body; drops the rest.
async fn read_body(body: Body) -> Option<String> {
    let mut body = body;
    let mut kept = Vec::new();
    let mut seen = 0usize;
    while let Some(frame) = body.frame().await {
        let Ok(frame) = frame else { break };
        if let Ok(data) = frame.into_data() {
            seen += data.len();
            let room = BODY_LIMIT.saturating_sub(kept.len());
            kept.extend_from_slice(&data[..data.len().min(room)]);
            if seen > READ_LIMIT {
                break;
            }
        }
    }
    if kept.is_empty() {
        return None;
    }
    // Cut back to a whole UTF-8 character if the limit split one.
    let text = match String::from_utf8(kept) {
        Ok(text) => text,
        Err(e) => {
            let valid = e.utf8_error().valid_up_to();
            let bytes = e.into_bytes();
            if bytes.len() - valid < 4 && bytes.len() == BODY_LIMIT {
                String::from_utf8_lossy(&bytes[..valid]).into_owned()
            } else {
                String::from_utf8_lossy(&bytes).into_owned()
            }
        }
    };
    Some(text)
}

pub async fn ping(
    State(app): State<Arc<App>>,
    ConnectInfo(remote): ConnectInfo<SocketAddr>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Body,
) -> Response {
    if !matches!(method, Method::GET | Method::HEAD | Method::POST) {
        return (
            StatusCode::METHOD_NOT_ALLOWED,
            [(header::ALLOW, "GET, HEAD, POST")],
            "use GET, HEAD or POST",
        )
            .into_response();
    }
    let path = uri.path();
    let rest = path
        .strip_prefix("/api/v1/ping/")
        .or_else(|| path.strip_prefix("/ping/"))
        .unwrap_or("");
    let Ok(rid) = rid_of(uri.query()) else {
        return text(StatusCode::BAD_REQUEST, "invalid uuid format", false);
    };
    let (target, kind, exit_code) = match parse_path(rest) {
        Parsed::Ping(target, kind, code) => (target, kind, code),
        Parsed::BadCode => return text(StatusCode::BAD_REQUEST, "invalid url format", false),
        Parsed::NotFound => return text(StatusCode::NOT_FOUND, "not found", false),
    };
    // Only a slug ping needs the key; a uuid ping (the common case) reads no options.
    let ping_key = match target {
        Target::Slug { .. } => app.options().ping_key,
        Target::Uuid(_) => None,
    };
    let body = read_body(body).await;
    let meta = PingMeta {
        remote_addr: Some(remote.ip().to_string()),
        user_agent: headers
            .get(header::USER_AGENT)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string),
        method: method.as_str().to_string(),
        body,
    };
    let recorded = app
        .change(|reg, now, ops| {
            let uuid = match &target {
                Target::Uuid(uuid) => reg.checks.contains_key(uuid).then_some(*uuid),
                Target::Slug { key, slug } => match &ping_key {
                    Some(k) if super::guard::same_key(key.as_bytes(), k.as_bytes()) => {
                        reg.find_by_slug(slug)
                    }
                    _ => None,
                },
            }?;
            let ping = Ping {
                kind,
                exit_code,
                rid,
                at: now,
            };
            let effective = ping.effective_kind();
            reg.ping(uuid, &ping, meta, ops);
            Some(effective)
        })
        .await;
    match recorded {
        Ok(Some(kind)) => {
            app.metrics.pings[metric_index(kind)].fetch_add(1, Ordering::Relaxed);
            text(StatusCode::OK, "OK", true)
        }
        Ok(None) => text(StatusCode::NOT_FOUND, "not found", false),
        Err(e) => {
            crate::serve::log::error("store", format!("a ping could not be stored: {e}")).emit();
            text(
                StatusCode::SERVICE_UNAVAILABLE,
                "storage unavailable, retry",
                false,
            )
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const U: &str = "5b0b3b5e-4c1a-4d7e-9f2a-0c6a1d2e3f40";

    fn uuid() -> Uuid {
        Uuid::parse_str(U).unwrap()
    }

    #[test]
    fn reads_every_path_shape() {
        use Parsed::*;
        assert_eq!(
            parse_path(U),
            Ping(Target::Uuid(uuid()), PingKind::Success, None)
        );
        assert_eq!(
            parse_path(&format!("{U}/")),
            Ping(Target::Uuid(uuid()), PingKind::Success, None)
        );
        assert_eq!(
            parse_path(&format!("{U}/start")),
            Ping(Target::Uuid(uuid()), PingKind::Start, None)
        );
        assert_eq!(
            parse_path(&format!("{U}/fail")),
            Ping(Target::Uuid(uuid()), PingKind::Fail, None)
        );
        assert_eq!(
            parse_path(&format!("{U}/log")),
            Ping(Target::Uuid(uuid()), PingKind::Log, None)
        );
        assert_eq!(
            parse_path(&format!("{U}/0")),
            Ping(Target::Uuid(uuid()), PingKind::Success, Some(0))
        );
        assert_eq!(
            parse_path(&format!("{U}/255")),
            Ping(Target::Uuid(uuid()), PingKind::Success, Some(255))
        );
        assert_eq!(parse_path(&format!("{U}/256")), BadCode);
        assert_eq!(
            parse_path(&format!("{U}/bogus")),
            Ping(
                Target::Slug {
                    key: U,
                    slug: "bogus"
                },
                PingKind::Success,
                None
            )
        );
        assert_eq!(parse_path("not-a-uuid"), NotFound);
        assert_eq!(
            parse_path("k3y/nightly-backup"),
            Ping(
                Target::Slug {
                    key: "k3y",
                    slug: "nightly-backup"
                },
                PingKind::Success,
                None
            )
        );
        assert_eq!(
            parse_path("k3y/nightly-backup/3"),
            Ping(
                Target::Slug {
                    key: "k3y",
                    slug: "nightly-backup"
                },
                PingKind::Success,
                Some(3)
            )
        );
        assert_eq!(parse_path("k3y/nightly-backup/what"), NotFound);
        assert_eq!(parse_path("a/b/c/d"), NotFound);
        assert_eq!(parse_path(""), NotFound);
    }

    #[test]
    fn rid_must_be_a_uuid() {
        assert_eq!(rid_of(None), Ok(None));
        assert_eq!(rid_of(Some(&format!("rid={U}"))), Ok(Some(U.to_string())));
        assert_eq!(rid_of(Some("x=1&rid=not-a-uuid")), Err(()));
        assert_eq!(rid_of(Some("rid=")), Ok(None));
    }
}
