//! The management API (JSON): checks, their history, and channels.

use axum::body::Body;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use serde_json::{Map, Value, json};
use std::collections::HashMap;
use std::sync::Arc;
use uuid::Uuid;

use super::guard::Access;
use super::{READ_SLICE, base_url};
use crate::serve::app::App;
use crate::serve::check::parse_spec;
use crate::serve::maintenance;
use crate::serve::notify::{ChannelKind, Event};
use crate::serve::outbox;
use crate::serve::registry::{ApiError, valid_channel_name};
use crate::serve::status::Status;
use crate::serve::store::{FlipEntry, History, NotificationEntry, PingEntry};

/// Largest management request body.
const BODY_LIMIT: usize = 1024 * 1024;
/// History entries returned.
const HISTORY_LIMIT: usize = 1000;

type ApiResult = Result<Response, ApiError>;

fn storage(e: String) -> ApiError {
    ApiError::Unavailable(format!("storage: {e}"))
}

/// A JSON object body, or a 400 that says what is wrong.
async fn json_object(body: Body) -> Result<Map<String, Value>, ApiError> {
    let bytes = axum::body::to_bytes(body, BODY_LIMIT).await.map_err(|_| {
        ApiError::Invalid("body: larger than 1 MiB; send at most 1 MiB of JSON".into())
    })?;
    let value: Value = serde_json::from_slice(&bytes).map_err(|e| {
        ApiError::Invalid(format!("body: malformed JSON ({e}); send a JSON object"))
    })?;
    match value {
        Value::Object(map) => Ok(map),
        _ => Err(ApiError::Invalid("body: expected a JSON object".into())),
    }
}

fn parse_uuid(text: &str) -> Result<Uuid, ApiError> {
    Uuid::parse_str(text).map_err(|_| ApiError::NotFound(format!("no check with uuid {text}")))
}

/// What a read key may not see: the ping URL carries the secret of the pings.
fn for_access(mut check: Value, access: Access) -> Value {
    if access == Access::Read
        && let Value::Object(map) = &mut check
    {
        map.remove("ping_url");
    }
    check
}

fn check_answer(
    app: &App,
    uuid: Uuid,
    headers: &HeaderMap,
    status: StatusCode,
    access: Access,
) -> Response {
    let base = base_url(app, headers);
    let check = app.registry().check_json(uuid, app.now(), &base);
    match check {
        Some(v) => (status, Json(for_access(v, access))).into_response(),
        None => ApiError::NotFound(format!("no check with uuid {uuid}")).into_response(),
    }
}

pub(super) async fn list_checks(
    State(app): State<Arc<App>>,
    Extension(access): Extension<Access>,
    headers: HeaderMap,
    Query(query): Query<HashMap<String, String>>,
) -> ApiResult {
    let status = query.get("status").map(String::as_str);
    if let Some(s) = status
        && !Status::ALL.iter().any(|x| x.as_str() == s)
    {
        return Err(ApiError::Invalid(format!(
            "status: {s:?} is not a status; use new, up, late, down, running or paused"
        )));
    }
    let base = base_url(&app, &headers);
    let tag = query.get("tag").cloned();
    let status = status.map(str::to_string);
    let now = app.now();
    // One walk of every check at a time; it runs on a blocking thread, takes the lock
    // only to copy a slice, and writes each check's JSON straight into the answer.
    let _walk = app
        .walks
        .acquire()
        .await
        .map_err(|e| storage(e.to_string()))?;
    app.walk_pace.wait().await;
    let started = std::time::Instant::now();
    let walker = app.clone();
    let body = tokio::task::spawn_blocking(move || {
        let mut out = Vec::with_capacity(1024);
        out.extend_from_slice(b"{\"heartbeats\":[");
        let mut first = true;
        let mut after = None;
        loop {
            let (copies, next) =
                walker
                    .registry()
                    .copy_slice(after.as_ref(), COPY_SLICE, tag.as_deref(), &base);
            for (entry, badge) in copies {
                let mut value = entry.settings.to_json(&entry.state, now, &base);
                if status.as_deref().is_some_and(|s| value["status"] != s) {
                    continue;
                }
                if let Some(url) = badge {
                    value["badge_url"] = Value::String(url);
                }
                if !first {
                    out.push(b',');
                }
                first = false;
                serde_json::to_writer(&mut out, &for_access(value, access))?;
            }
            match next {
                Some(next) => after = Some(next),
                None => break,
            }
        }
        out.extend_from_slice(b"]}");
        Ok::<_, serde_json::Error>(out)
    })
    .await
    .map_err(|e| storage(e.to_string()))?
    .map_err(|e| storage(e.to_string()))?;
    app.walk_pace.done(started);
    Ok(([(header::CONTENT_TYPE, "application/json")], body).into_response())
}

/// Checks copied per lock hold by a list: small, so a ping waits at most a fraction of
/// a millisecond behind a list.
const COPY_SLICE: usize = 128;

pub(super) async fn create_check(
    State(app): State<Arc<App>>,
    Extension(access): Extension<Access>,
    headers: HeaderMap,
    body: Body,
) -> ApiResult {
    let map = json_object(body).await?;
    let spec = parse_spec(Value::Object(map)).map_err(ApiError::Invalid)?;
    let uuid = app
        .change(|reg, now, ops| reg.create(&spec, now, false, ops))
        .await
        .map_err(storage)??;
    Ok(check_answer(
        &app,
        uuid,
        &headers,
        StatusCode::CREATED,
        access,
    ))
}

pub(super) async fn get_check(
    State(app): State<Arc<App>>,
    Extension(access): Extension<Access>,
    headers: HeaderMap,
    Path(uuid): Path<String>,
) -> ApiResult {
    let uuid = parse_uuid(&uuid)?;
    Ok(check_answer(&app, uuid, &headers, StatusCode::OK, access))
}

pub(super) async fn patch_check(
    State(app): State<Arc<App>>,
    Extension(access): Extension<Access>,
    headers: HeaderMap,
    Path(uuid): Path<String>,
    body: Body,
) -> ApiResult {
    let uuid = parse_uuid(&uuid)?;
    let patch = json_object(body).await?;
    app.change(|reg, now, ops| reg.patch(uuid, &patch, now, ops))
        .await
        .map_err(storage)??;
    Ok(check_answer(&app, uuid, &headers, StatusCode::OK, access))
}

pub(super) async fn delete_check(
    State(app): State<Arc<App>>,
    Path(uuid): Path<String>,
) -> ApiResult {
    let uuid = parse_uuid(&uuid)?;
    app.change(|reg, now, ops| reg.delete(uuid, now, ops))
        .await
        .map_err(storage)??;
    Ok(StatusCode::NO_CONTENT.into_response())
}

pub(super) async fn pause(
    State(app): State<Arc<App>>,
    Extension(access): Extension<Access>,
    headers: HeaderMap,
    Path(uuid): Path<String>,
) -> ApiResult {
    let uuid = parse_uuid(&uuid)?;
    app.change(|reg, now, ops| reg.pause(uuid, now, ops))
        .await
        .map_err(storage)??;
    Ok(check_answer(&app, uuid, &headers, StatusCode::OK, access))
}

pub(super) async fn resume(
    State(app): State<Arc<App>>,
    Extension(access): Extension<Access>,
    headers: HeaderMap,
    Path(uuid): Path<String>,
) -> ApiResult {
    let uuid = parse_uuid(&uuid)?;
    app.change(|reg, now, ops| reg.resume(uuid, now, ops))
        .await
        .map_err(storage)??;
    Ok(check_answer(&app, uuid, &headers, StatusCode::OK, access))
}

/// A stored time as the API shows it.
fn time_text(ms: i64) -> Value {
    jiff::Timestamp::from_millisecond(ms)
        .map(|t| Value::String(crate::serve::check::rfc3339(t)))
        .unwrap_or(Value::Null)
}

fn ping_json(p: PingEntry) -> Value {
    json!({
        "n": p.n,
        "at": time_text(p.at_ms),
        "kind": p.kind,
        "exit_code": p.exit_code,
        "rid": p.rid,
        "remote_addr": p.remote_addr,
        "user_agent": p.user_agent,
        "method": p.method,
        "body": p.body,
        "duration": p.duration,
    })
}

fn flip_json(f: FlipEntry) -> Value {
    json!({"at": time_text(f.at_ms), "from": f.from, "to": f.to, "reason": f.reason})
}

fn notification_json(n: NotificationEntry) -> Value {
    json!({
        "event_id": n.event_id,
        "event": n.event,
        "channel": n.channel,
        "at": time_text(n.at_ms),
        "attempts": n.attempts,
        // null while the delivery is still being tried
        "ok": if n.done || n.ok { Value::Bool(n.ok) } else { Value::Null },
        "status_code": n.status_code,
        "error": n.error,
        // Held back and sent to nobody: why (a dependency down, a maintenance window).
        "suppressed": n.suppressed,
    })
}

/// One of a check's history lists, read on a blocking thread.
async fn history(
    app: Arc<App>,
    uuid: String,
    key: &'static str,
    read: fn(&dyn History, &str, usize) -> anyhow::Result<Vec<Value>>,
) -> ApiResult {
    let uuid = parse_uuid(&uuid)?;
    if !app.registry().checks.contains_key(&uuid) {
        return Err(ApiError::NotFound(format!("no check with uuid {uuid}")));
    }
    let rows = tokio::task::spawn_blocking(move || {
        read(app.history.as_ref(), &uuid.to_string(), HISTORY_LIMIT)
    })
    .await
    .map_err(|e| storage(e.to_string()))?
    .map_err(|e| storage(format!("{e:#}")))?;
    Ok(Json(json!({ key: rows })).into_response())
}

pub(super) async fn pings(State(app): State<Arc<App>>, Path(uuid): Path<String>) -> ApiResult {
    history(app, uuid, "pings", |h, u, n| {
        Ok(h.pings(u, n)?.into_iter().map(ping_json).collect())
    })
    .await
}

pub(super) async fn flips(State(app): State<Arc<App>>, Path(uuid): Path<String>) -> ApiResult {
    history(app, uuid, "flips", |h, u, n| {
        Ok(h.flips(u, n)?.into_iter().map(flip_json).collect())
    })
    .await
}

pub(super) async fn notifications(
    State(app): State<Arc<App>>,
    Path(uuid): Path<String>,
) -> ApiResult {
    history(app, uuid, "notifications", |h, u, n| {
        Ok(h.notifications(u, n)?
            .into_iter()
            .map(notification_json)
            .collect())
    })
    .await
}

// Channels.

/// 403: a command channel runs programs on the host; only the host's owner (the
/// config file) may declare one.
fn command_from_file() -> ApiError {
    ApiError::Forbidden(
        "command channels come from the config file only; declare it in a [[channel]] table and reload (SIGHUP)".into(),
    )
}

fn channel_not_found(name: &str) -> ApiError {
    ApiError::NotFound(format!("no channel named {name:?}"))
}

/// Validates a channel body (without its name), keeping masked secrets of `stored`.
fn channel_kind(
    stored: Option<&ChannelKind>,
    mut map: Map<String, Value>,
    patch: bool,
) -> Result<ChannelKind, ApiError> {
    map.remove("name");
    map.remove("managed");
    ChannelKind::merge(stored, &Value::Object(map), patch).map_err(ApiError::Invalid)
}

/// Refuses a destination on a private address (checked again at every delivery;
/// this is the early word). Name lookups block, so they run off the async threads.
async fn check_targets(app: &Arc<App>, name: &str, kind: &ChannelKind) -> Result<(), ApiError> {
    let policy = outbox::policy_for(&app.options(), name, kind);
    if policy.allow_private {
        return Ok(());
    }
    let kind = kind.clone();
    tokio::task::spawn_blocking(move || {
        kind.check_targets(std::time::Duration::from_secs(5), policy)
    })
    .await
    .map_err(|e| storage(e.to_string()))?
    .map_err(ApiError::Invalid)
}

pub(super) async fn list_channels(State(app): State<Arc<App>>) -> ApiResult {
    Ok(Json(json!({"channels": app.registry().channel_list()})).into_response())
}

pub(super) async fn create_channel(State(app): State<Arc<App>>, body: Body) -> ApiResult {
    let map = json_object(body).await?;
    let name = match map.get("name") {
        Some(Value::String(n)) if valid_channel_name(n) => n.clone(),
        Some(other) => {
            return Err(ApiError::Invalid(format!(
                "name: {other} is not accepted; use letters, digits, '-' and '_' (at most 64)"
            )));
        }
        None => return Err(ApiError::Invalid("name: required, e.g. \"ops\"".into())),
    };
    if map.get("kind").and_then(Value::as_str) == Some("command") {
        return Err(command_from_file());
    }
    let kind = channel_kind(None, map, false)?;
    check_targets(&app, &name, &kind).await?;
    let created = app
        .change(|reg, _, ops| {
            if reg.channels.contains_key(&name) {
                return false;
            }
            reg.put_channel(&name, kind.clone(), false, ops);
            true
        })
        .await
        .map_err(storage)?;
    if !created {
        return Err(ApiError::Conflict(format!(
            "name: a channel named {name:?} exists already"
        )));
    }
    let value = app.registry().channel_json(&name);
    Ok((StatusCode::CREATED, Json(value)).into_response())
}

pub(super) async fn get_channel(
    State(app): State<Arc<App>>,
    Path(name): Path<String>,
) -> ApiResult {
    match app.registry().channel_json(&name) {
        Some(v) => Ok(Json(v).into_response()),
        None => Err(channel_not_found(&name)),
    }
}

pub(super) async fn patch_channel(
    State(app): State<Arc<App>>,
    Path(name): Path<String>,
    body: Body,
) -> ApiResult {
    let patch = json_object(body).await?;
    if let Some(new_name) = patch.get("name")
        && new_name.as_str() != Some(name.as_str())
    {
        return Err(ApiError::Invalid(
            "name: a channel cannot be renamed; create a new one and delete this one".into(),
        ));
    }
    // Read, merge, check; then write only if nothing changed meanwhile (checked
    // inside the change that writes), so a concurrent DELETE or PATCH is never undone
    // or lost.
    let current = app.registry().channels.get(&name).cloned();
    let Some(current) = current else {
        return Err(channel_not_found(&name));
    };
    let kind = channel_kind(Some(&current.kind), patch, true)?;
    if kind.kind_name() == "command" || current.kind.kind_name() == "command" {
        return Err(command_from_file());
    }
    check_targets(&app, &name, &kind).await?;
    app.change(|reg, _, ops| {
        match reg.channels.get(&name) {
            None => return Err(channel_not_found(&name)),
            Some(now) if now.kind != current.kind || now.managed != current.managed => {
                return Err(ApiError::Conflict(format!(
                    "channel {name:?} was changed by another request meanwhile; read it again and retry"
                )));
            }
            Some(_) => {}
        }
        reg.put_channel(&name, kind.clone(), current.managed, ops);
        Ok::<(), ApiError>(())
    })
    .await
    .map_err(storage)??;
    let value = app.registry().channel_json(&name);
    Ok(Json(value).into_response())
}

pub(super) async fn delete_channel(
    State(app): State<Arc<App>>,
    Path(name): Path<String>,
) -> ApiResult {
    app.change(|reg, _, ops| reg.delete_channel(&name, ops))
        .await
        .map_err(storage)??;
    Ok(StatusCode::NO_CONTENT.into_response())
}

pub(super) async fn test_channel(
    State(app): State<Arc<App>>,
    headers: HeaderMap,
    Path(name): Path<String>,
) -> ApiResult {
    let kind = app.registry().channels.get(&name).map(|c| c.kind.clone());
    let Some(kind) = kind else {
        return Err(channel_not_found(&name));
    };
    if kind.kind_name() == "command" && !app.options().declared_channels.contains_key(&name) {
        return Err(command_from_file());
    }
    let base = base_url(&app, &headers);
    let event = Event {
        event_id: Uuid::new_v4().to_string(),
        event: "test".into(),
        check: json!({"uuid": null, "name": "hb test", "slug": "hb-test", "status": "up"}),
        reason: Some(format!("a test of channel {name:?}")),
        at: app.now(),
        repeat: 0,
        body: None,
        check_url: base,
        missed_slots: None,
    };
    let app2 = app.clone();
    let event2 = event.clone();
    let name_for_answer = name.clone();
    let delivery = tokio::task::spawn_blocking(move || outbox::deliver_now(&app2, &name, &event2))
        .await
        .map_err(|e| storage(e.to_string()))?;
    Ok(Json(json!({
        "channel": name_for_answer,
        "event": "test",
        "event_id": event.event_id,
        "ok": delivery.ok,
        "status_code": delivery.status_code,
        "error": delivery.error,
    }))
    .into_response())
}

// Config as code, both ways.

/// `GET /api/v1/config[?secrets=1]`: every check and channel as a config file.
pub(super) async fn export_config(
    State(app): State<Arc<App>>,
    Extension(access): Extension<Access>,
    Query(query): Query<HashMap<String, String>>,
) -> ApiResult {
    let secrets = match query.get("secrets").map(String::as_str) {
        None | Some("0") => false,
        Some("1") => true,
        Some(other) => {
            return Err(ApiError::Invalid(format!(
                "secrets: {other:?} is not accepted; give secrets=1 to write the secrets, or leave it out"
            )));
        }
    };
    if secrets && access != Access::Full {
        return Err(ApiError::Forbidden(
            "secrets=1 needs a full key (one of api_keys); a read key gets the export with secrets masked".into(),
        ));
    }
    let snapshot = snapshot(&app).await;
    let text =
        tokio::task::spawn_blocking(move || crate::serve::export::render(&snapshot, secrets))
            .await
            .map_err(|e| storage(e.to_string()))?;
    Ok((
        [(header::CONTENT_TYPE, "application/toml; charset=utf-8")],
        text,
    )
        .into_response())
}

/// `POST /api/v1/config/plan` with a config file (TOML): what loading it would create,
/// change and unmanage. Nothing is changed.
pub(super) async fn plan_config(State(app): State<Arc<App>>, body: Body) -> ApiResult {
    let bytes = axum::body::to_bytes(body, BODY_LIMIT).await.map_err(|_| {
        ApiError::Invalid("body: larger than 1 MiB; send the config file (at most 1 MiB)".into())
    })?;
    if bytes.is_empty() {
        return Err(ApiError::Invalid(
            "body: required; send the config file's TOML (a file with only a comment plans unmanaging every declared check)".into(),
        ));
    }
    let text = String::from_utf8(bytes.to_vec()).map_err(|_| {
        ApiError::Invalid("body: not UTF-8 text; send the config file as TOML".into())
    })?;
    let now = app.now();
    let file = crate::serve::config_file::parse(&text, now).map_err(|p| {
        ApiError::Invalid(match p.line {
            Some(n) => format!("config line {n}: {}", p.message),
            None => format!("config: {}", p.message),
        })
    })?;
    let snapshot = snapshot(&app).await;
    let plan = tokio::task::spawn_blocking(move || crate::serve::plan::plan(&snapshot, &file, now))
        .await
        .map_err(|e| storage(e.to_string()))?;
    Ok(Json(plan.to_json()).into_response())
}

/// A copy of the checks and channels, read in slices (pings get the lock between
/// them), to export or plan on without holding anything up.
async fn snapshot(app: &App) -> crate::serve::registry::Registry {
    let mut entries = Vec::new();
    let mut after = None;
    loop {
        let (mut slice, next) = app.registry().entries_slice(after.as_ref(), READ_SLICE);
        entries.append(&mut slice);
        match next {
            Some(next) => after = Some(next),
            None => break,
        }
        tokio::task::yield_now().await;
    }
    let (channels, windows) = {
        let reg = app.registry();
        (reg.channels.clone(), reg.windows.clone())
    };
    crate::serve::registry::Registry::from_parts(entries, channels).with_windows(windows)
}

// Maintenance windows.

fn window_not_found(name: &str) -> ApiError {
    ApiError::NotFound(format!("no maintenance window named {name:?}"))
}

pub(super) async fn list_windows(State(app): State<Arc<App>>) -> ApiResult {
    let now = app.now();
    Ok(Json(json!({"maintenance": app.registry().window_list(now)})).into_response())
}

pub(super) async fn create_window(State(app): State<Arc<App>>, body: Body) -> ApiResult {
    let mut map = json_object(body).await?;
    map.remove("managed");
    map.retain(|_, v| !v.is_null());
    let spec = maintenance::parse_spec(Value::Object(map)).map_err(ApiError::Invalid)?;
    let now = app.now();
    let window = maintenance::Window::from_spec(&spec, now).map_err(ApiError::Invalid)?;
    let name = window.name.clone();
    app.change(|reg, _, ops| {
        if reg.windows.contains_key(&name) {
            return Err(ApiError::Conflict(format!(
                "name: a maintenance window named {name:?} exists already; pick another name or change that one"
            )));
        }
        reg.check_window_targets(&window)?;
        reg.put_window(&name, window.clone(), false, ops);
        Ok(())
    })
    .await
    .map_err(storage)??;
    let value = app.registry().window_json(&name, app.now());
    Ok((StatusCode::CREATED, Json(value)).into_response())
}

pub(super) async fn get_window(State(app): State<Arc<App>>, Path(name): Path<String>) -> ApiResult {
    match app.registry().window_json(&name, app.now()) {
        Some(v) => Ok(Json(v).into_response()),
        None => Err(window_not_found(&name)),
    }
}

pub(super) async fn patch_window(
    State(app): State<Arc<App>>,
    Path(name): Path<String>,
    body: Body,
) -> ApiResult {
    let mut patch = json_object(body).await?;
    if let Some(new_name) = patch.get("name")
        && new_name.as_str() != Some(name.as_str())
    {
        return Err(ApiError::Invalid(
            "name: a maintenance window cannot be renamed; create a new one and delete this one"
                .into(),
        ));
    }
    patch.remove("managed");
    app.change(|reg, now, ops| {
        let current = reg
            .windows
            .get(&name)
            .cloned()
            .ok_or_else(|| window_not_found(&name))?;
        let spec = maintenance::merge_patch(&current.window.to_spec(), &patch)
            .map_err(ApiError::Invalid)?;
        let window = maintenance::Window::from_spec(&spec, now).map_err(ApiError::Invalid)?;
        reg.check_window_targets(&window)?;
        reg.put_window(&name, window, current.managed, ops);
        Ok::<(), ApiError>(())
    })
    .await
    .map_err(storage)??;
    let value = app.registry().window_json(&name, app.now());
    Ok(Json(value).into_response())
}

pub(super) async fn delete_window(
    State(app): State<Arc<App>>,
    Path(name): Path<String>,
) -> ApiResult {
    app.change(|reg, _, ops| reg.delete_window(&name, ops))
        .await
        .map_err(storage)??;
    Ok(StatusCode::NO_CONTENT.into_response())
}
