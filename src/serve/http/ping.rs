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
pub(crate) const BODY_LIMIT: usize = 100 * 1024;
/// Bytes read (and dropped past `BODY_LIMIT`) before the rest is left unread.
const READ_LIMIT: usize = 16 * 1024 * 1024;

/// What a ping path names.
#[derive(Debug, PartialEq)]
pub(crate) enum Target<'a> {
    Uuid(Uuid),
    Slug { key: &'a str, slug: &'a str },
}

#[derive(Debug, PartialEq)]
pub(crate) enum Parsed<'a> {
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
pub(crate) fn parse_path(rest: &str) -> Parsed<'_> {
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

/// A plain-text refusal with a sentence that says what is wrong.
fn refusal(status: StatusCode, message: String) -> Response {
    (
        status,
        [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
        message,
    )
        .into_response()
}

/// The value of `key` in a query, `+` and `%XX` decoded; the first one wins.
fn query_value(query: Option<&str>, key: &str) -> Option<String> {
    query?.split('&').find_map(|pair| {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        (k == key).then(|| crate::percent::percent_decode(&v.replace('+', " ")))
    })
}

/// `?create=1` (or `true`): an unknown slug is created by this ping.
fn wants_create(query: Option<&str>) -> bool {
    matches!(
        query_value(query, "create").as_deref(),
        Some("1" | "true" | "yes")
    )
}

/// Whether a slug is written as hb makes slugs: lower-case ASCII letters, digits and
/// single `-` between them.
pub(crate) fn is_slug_form(slug: &str) -> bool {
    !slug.is_empty() && crate::serve::check::slugify(slug) == slug
}

/// The check a `?create=1` ping makes: named by its slug, with the query's schedule
/// (`interval=`, or `cron=` / `oncalendar=` with `tz=`; else an interval of 1d) and
/// `grace=`. `Err` says what is wrong, for a 400.
pub(crate) fn provisioned_spec(
    slug: &str,
    query: Option<&str>,
    now: jiff::Timestamp,
) -> Result<crate::serve::check::CheckSpec, String> {
    use serde_json::{Map, Value};
    if !is_slug_form(slug) {
        return Err(format!(
            "cannot create a check for {:?}: the slug must be lower-case letters, digits and single '-' between them (e.g. {:?})",
            slug,
            crate::serve::check::slugify(slug)
        ));
    }
    let mut spec = Map::new();
    spec.insert("name".into(), Value::from(slug));
    let mut schedules = 0;
    for key in ["interval", "cron", "oncalendar"] {
        if let Some(value) = query_value(query, key) {
            spec.insert(key.into(), Value::from(value));
            schedules += 1;
        }
    }
    if schedules > 1 {
        return Err(
            "interval, cron, oncalendar: give one schedule in the query, not several".into(),
        );
    }
    if schedules == 0 {
        spec.insert("interval".into(), Value::from("1d"));
    }
    if let Some(tz) = query_value(query, "tz") {
        spec.insert("tz".into(), Value::from(tz));
    }
    if let Some(grace) = query_value(query, "grace") {
        spec.insert("grace_period".into(), Value::from(grace));
    }
    let spec = crate::serve::check::parse_spec(Value::Object(spec))?;
    crate::serve::check::Settings::from_spec(&spec, now, false)?;
    Ok(spec)
}

/// What a ping did.
enum Recorded {
    Pinged(PingKind),
    /// Created the check (auto-provisioning), then recorded the ping.
    Created(PingKind, Uuid),
    NotFound,
    Refused(StatusCode, String),
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

pub(crate) async fn ping(
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
    let (ping_key, create) = match target {
        Target::Slug { .. } => {
            let options = app.options();
            let create = !options.auto_provision_off && wants_create(uri.query());
            (options.ping_key, create)
        }
        Target::Uuid(_) => (None, false),
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
    // On a shared database a ping needs no fresh read first: a change another node
    // made to the same check makes this one run again. Only a check this node has not
    // heard of yet (made on another node a moment ago) is worth a read.
    if app.shared() {
        let known = {
            let reg = app.registry();
            match &target {
                Target::Uuid(uuid) => reg.checks.contains_key(uuid),
                Target::Slug { slug, .. } => reg.find_by_slug(slug).is_some(),
            }
        };
        if !known {
            app.sync().await;
        }
    }
    let query = uri.query();
    let recorded = app
        .change(|reg, now, ops| {
            let mut created = None;
            let uuid = match &target {
                Target::Uuid(uuid) => reg.checks.contains_key(uuid).then_some(*uuid),
                Target::Slug { key, slug } => match &ping_key {
                    Some(k) if super::guard::same_key(key.as_bytes(), k.as_bytes()) => {
                        match reg.find_by_slug(slug) {
                            Some(uuid) => Some(uuid),
                            // A ping never changes an existing check; an unknown one
                            // is made when asked, or the ping is refused and nothing
                            // is made.
                            None if create => {
                                let made = provisioned_spec(slug, query, now)
                                    .map_err(|e| (StatusCode::BAD_REQUEST, e))
                                    .and_then(|spec| {
                                        // (A taken name cannot happen: a name in slug
                                        // form is its own slug, and that is unknown.)
                                        reg.create(&spec, now, false, ops)
                                            .map_err(|e| (StatusCode::BAD_REQUEST, e.message()))
                                    });
                                match made {
                                    Ok(uuid) => {
                                        created = Some(uuid);
                                        Some(uuid)
                                    }
                                    Err((status, message)) => {
                                        return Recorded::Refused(status, message);
                                    }
                                }
                            }
                            None => None,
                        }
                    }
                    _ => None,
                },
            };
            let Some(uuid) = uuid else {
                return Recorded::NotFound;
            };
            let ping = Ping {
                kind,
                exit_code,
                rid: rid.clone(),
                at: now,
            };
            let effective = ping.effective_kind();
            reg.ping(uuid, &ping, meta.clone(), ops);
            match created {
                Some(uuid) => Recorded::Created(effective, uuid),
                None => Recorded::Pinged(effective),
            }
        })
        .await;
    match recorded {
        Ok(Recorded::Pinged(kind)) => {
            app.metrics.pings[metric_index(kind)].fetch_add(1, Ordering::Relaxed);
            text(StatusCode::OK, "OK", true)
        }
        Ok(Recorded::Created(kind, uuid)) => {
            app.metrics.pings[metric_index(kind)].fetch_add(1, Ordering::Relaxed);
            if let Target::Slug { slug, .. } = &target {
                crate::serve::log::info(
                    "created",
                    format!(
                        "check {slug:?} ({uuid}) created by its first ping (auto-provisioning)"
                    ),
                )
                .field("check", *slug)
                .field("uuid", uuid.to_string())
                .emit();
            }
            text(StatusCode::CREATED, "Created", true)
        }
        Ok(Recorded::NotFound) => text(StatusCode::NOT_FOUND, "not found", false),
        Ok(Recorded::Refused(status, message)) => refusal(status, message),
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
    fn a_create_query_makes_a_spec_or_says_what_is_wrong() {
        let now = "2026-01-01T00:00:00Z".parse().unwrap();
        let spec = provisioned_spec("nightly-db", Some("create=1"), now).unwrap();
        assert_eq!(spec.name.as_deref(), Some("nightly-db"));
        assert_eq!(
            spec.interval,
            Some(crate::serve::check::DurationInput::Text("1d".into()))
        );
        let spec = provisioned_spec(
            "db",
            Some("create=1&cron=0+3+*+*+*&tz=Europe%2FParis&grace=1h"),
            now,
        )
        .unwrap();
        assert_eq!(spec.cron.as_deref(), Some("0 3 * * *"));
        assert_eq!(spec.tz.as_deref(), Some("Europe/Paris"));
        assert!(spec.interval.is_none() && spec.grace_period.is_some());
        for (slug, query, says) in [
            ("Nightly", "create=1", "lower-case"),
            ("a--b", "create=1", "lower-case"),
            ("-a", "create=1", "lower-case"),
            ("a", "create=1&interval=soon", "interval"),
            ("a", "create=1&cron=61+*+*+*+*", "61"),
            ("a", "create=1&interval=1h&cron=*+*+*+*+*", "not several"),
            ("a", "create=1&interval=1h&tz=UTC", "tz"),
            ("a", "create=1&grace=0s", "grace_period"),
        ] {
            let err = provisioned_spec(slug, Some(query), now).unwrap_err();
            assert!(err.contains(says), "{slug} {query}: {err}");
        }
        assert!(wants_create(Some("rid=x&create=1")));
        assert!(!wants_create(Some("create=0")));
        assert!(!wants_create(None));
    }

    #[test]
    fn rid_must_be_a_uuid() {
        assert_eq!(rid_of(None), Ok(None));
        assert_eq!(rid_of(Some(&format!("rid={U}"))), Ok(Some(U.to_string())));
        assert_eq!(rid_of(Some("x=1&rid=not-a-uuid")), Err(()));
        assert_eq!(rid_of(Some("rid=")), Ok(None));
    }
}
