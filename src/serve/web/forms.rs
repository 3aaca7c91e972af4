//! The dashboard's forms: create, edit, pause/resume, delete (confirmed), the channels
//! page with its test button, and login/logout. Every POST carries a CSRF token made
//! for whoever loaded the form; changes go through the same validation (and the same
//! messages) as the API: a form becomes a JSON spec and goes through `parse_spec`,
//! `Registry::create` and `Registry::patch`.

use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::Response;
use axum::{Extension, Form};
use maud::{Markup, html};
use serde_json::{Map, Value, json};
use std::collections::HashMap;
use std::sync::Arc;
use uuid::Uuid;

use super::{Ctx, csrf_field, html_response, layout, refusal, see_other};
use crate::serve::app::App;
use crate::serve::check::{Settings, parse_spec};
use crate::serve::http::guard::{SESSION_COOKIE, Viewer, same_key};
use crate::serve::notify::Event;
use crate::serve::registry::ApiError;
use crate::serve::schedule::Schedule;
use crate::serve::secret::SESSION_SECONDS;

type Fields = Vec<(String, String)>;

fn field<'a>(form: &'a Fields, key: &str) -> &'a str {
    form.iter()
        .find(|(k, _)| k == key)
        .map_or("", |(_, v)| v.as_str())
}

fn all<'a>(form: &'a Fields, key: &str) -> Vec<&'a str> {
    form.iter()
        .filter(|(k, _)| k == key)
        .map(|(_, v)| v.as_str())
        .collect()
}

/// The CSRF token must be the one made for whoever posts.
/// `Some(403)` when it is not.
fn csrf(app: &App, viewer: &Viewer, form: &Fields) -> Option<Response> {
    if app.secrets.csrf_ok(&viewer.identity, field(form, "csrf")) {
        None
    } else {
        Some(refusal(
            StatusCode::FORBIDDEN,
            "This form's security token is missing or belongs to another session; reload the page and send the form again.",
        ))
    }
}

/// A path on this site to go back to, or the default.
fn local_path(next: &str, default: &str) -> String {
    if next.starts_with('/') && !next.starts_with("//") && !next.starts_with("/\\") {
        next.to_string()
    } else {
        default.to_string()
    }
}

fn message(e: &ApiError) -> String {
    e.message().to_string()
}

fn failure(e: String) -> Response {
    refusal(StatusCode::SERVICE_UNAVAILABLE, &format!("storage: {e}"))
}

// Create and edit.

/// What the form shows: values by field name.
#[derive(Default)]
struct Values(HashMap<String, String>, Vec<String>);

impl Values {
    fn get(&self, key: &str) -> &str {
        self.0.get(key).map_or("", String::as_str)
    }

    fn from_form(form: &Fields) -> Values {
        let mut v = Values::default();
        for (k, val) in form {
            if k == "channel" {
                v.1.push(val.clone());
            } else {
                v.0.insert(k.clone(), val.clone());
            }
        }
        v
    }

    fn from_settings(s: &Settings) -> Values {
        let spec = s.to_spec();
        let mut v = Values::default();
        let text = |d: &Option<crate::serve::check::DurationInput>| match d {
            Some(crate::serve::check::DurationInput::Text(t)) => t.clone(),
            Some(crate::serve::check::DurationInput::Seconds(n)) => format!("{n}s"),
            None => String::new(),
        };
        let mut put = |k: &str, val: String| {
            v.0.insert(k.to_string(), val);
        };
        put("name", s.name.clone());
        put("description", s.description.clone());
        put("owner", s.owner.clone());
        put("tags", s.tags.join(", "));
        match &s.schedule {
            Schedule::Interval(_) => {
                put("kind", "interval".into());
                put("interval", text(&spec.interval));
            }
            Schedule::Cron(_) => {
                put("kind", "cron".into());
                put("cron", spec.cron.clone().unwrap_or_default());
                put("tz", spec.tz.clone().unwrap_or_default());
            }
            Schedule::OnCalendar(calendar) => {
                put("kind", "oncalendar".into());
                put("oncalendar", calendar.input().expressions().join("\n"));
                put("tz", spec.tz.clone().unwrap_or_default());
            }
        }
        put("grace_period", text(&spec.grace_period));
        put("max_runtime", text(&spec.max_runtime));
        put("realert", text(&spec.realert));
        put("min_duration", text(&spec.min_duration));
        put("slow_min", text(&spec.slow_min));
        put(
            "alert_after_failures",
            spec.alert_after_failures
                .map(|n| n.to_string())
                .unwrap_or_default(),
        );
        put("slow_factor", format!("{}", s.slow_factor));
        put(
            "channels_mode",
            if s.channels.is_some() { "some" } else { "all" }.into(),
        );
        v.1 = s.channels.clone().unwrap_or_default();
        v
    }
}

/// A number if it reads as one, else the text (so the spec's own message names it).
fn number(text: &str) -> Value {
    text.trim()
        .parse::<u64>()
        .map(Value::from)
        .or_else(|_| text.trim().parse::<f64>().map(Value::from))
        .unwrap_or_else(|_| Value::String(text.to_string()))
}

/// The form as a JSON spec (create) or patch (edit: every field it shows is named, an
/// empty optional field unsets it).
fn spec_map(form: &Fields, patch: bool) -> Map<String, Value> {
    let mut map = Map::new();
    let text = |k: &str| field(form, k).trim().to_string();
    map.insert("name".into(), json!(text("name")));
    for key in ["description", "owner"] {
        map.insert(key.into(), json!(field(form, key)));
    }
    let tags: Vec<String> = field(form, "tags")
        .split(',')
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .map(str::to_string)
        .collect();
    map.insert("tags".into(), json!(tags));
    let kind = field(form, "kind");
    if kind == "cron" || kind == "oncalendar" {
        map.insert(kind.to_string(), json!(text(kind)));
        let tz = text("tz");
        map.insert(
            "tz".into(),
            json!(if tz.is_empty() { "UTC".into() } else { tz }),
        );
    } else {
        map.insert("interval".into(), json!(text("interval")));
    }
    for key in [
        "grace_period",
        "max_runtime",
        "realert",
        "min_duration",
        "slow_min",
    ] {
        let v = text(key);
        if !v.is_empty() {
            map.insert(key.into(), json!(v));
        } else if patch {
            map.insert(key.into(), Value::Null);
        }
    }
    for key in ["alert_after_failures", "slow_factor"] {
        let v = text(key);
        if !v.is_empty() {
            map.insert(key.into(), number(&v));
        } else if patch {
            map.insert(key.into(), Value::Null);
        }
    }
    if field(form, "channels_mode") == "some" {
        map.insert("channels".into(), json!(all(form, "channel")));
    } else if patch {
        map.insert("channels".into(), Value::Null);
    }
    map
}

fn check_form(
    ctx: &Ctx,
    action: &str,
    v: &Values,
    channels: &[String],
    error: Option<&str>,
    submit: &str,
) -> Markup {
    let kind = match v.get("kind") {
        "cron" => "cron",
        "oncalendar" => "oncalendar",
        _ => "interval",
    };
    let some = v.get("channels_mode") == "some";
    let input = |name: &str, label: &str, hint: &str, placeholder: &str| {
        html! {
            div.field {
                label for=(name) { (label) }
                input id=(name) name=(name) type="text" value=(v.get(name)) placeholder=(placeholder)
                    aria-describedby=[(!hint.is_empty()).then(|| format!("{name}-hint"))];
                @if !hint.is_empty() { small id=(format!("{name}-hint")) { (hint) } }
            }
        }
    };
    html! {
        @if let Some(e) = error { p.notice.error role="alert" { (e) } }
        form.check-form method="post" action=(action) {
            (csrf_field(ctx))
            div.field {
                label for="name" { "Name" }
                input #name name="name" type="text" required value=(v.get("name")) maxlength="200";
            }
            (input("description", "Description", "", ""))
            (input("owner", "Owner", "Who to ask about it.", "team or person"))
            (input("tags", "Tags", "Separated by commas.", "db, nightly"))
            fieldset {
                legend { "Schedule" }
                div.choice {
                    input #kind-interval type="radio" name="kind" value="interval" checked[kind == "interval"];
                    label for="kind-interval" { "Every…" }
                    input #kind-cron type="radio" name="kind" value="cron" checked[kind == "cron"];
                    label for="kind-cron" { "Cron" }
                    input #kind-oncalendar type="radio" name="kind" value="oncalendar" checked[kind == "oncalendar"];
                    label for="kind-oncalendar" { "systemd calendar" }
                }
                (input("interval", "Interval", "With the interval kind: e.g. 90s, 15m, 1h30m, 24h, 7d.", "24h"))
                (input("cron", "Cron expression", "With the cron kind: 5 fields as in a crontab, or @daily.", "0 3 * * *"))
                (input("oncalendar", "Calendar event", "With the systemd calendar kind: as OnCalendar= in a timer, e.g. Mon..Fri *-*-* 02:00:00.", "daily"))
                (input("tz", "Time zone", "For cron and calendar events: an IANA name; UTC when empty.", "Europe/Paris"))
            }
            fieldset {
                legend { "Timing" }
                (input("grace_period", "Grace period", "How late a ping may be before the check is down; empty: scaled to the period.", ""))
                (input("max_runtime", "Longest run", "How long a started run may take; empty: the grace period.", ""))
            }
            fieldset {
                legend { "Alerts" }
                div.choice {
                    input #channels-all type="radio" name="channels_mode" value="all" checked[!some];
                    label for="channels-all" { "Every channel" }
                    input #channels-some type="radio" name="channels_mode" value="some" checked[some];
                    label for="channels-some" { "Only these:" }
                }
                @if channels.is_empty() {
                    p.muted { "No channel yet: add [[channel]] tables to the config file, or use the API." }
                }
                @for c in channels {
                    div.choice {
                        input type="checkbox" name="channel" value=(c) id=(format!("ch-{c}")) checked[v.1.contains(c)];
                        label for=(format!("ch-{c}")) { (c) }
                    }
                }
                (input("realert", "Repeat while down", "e.g. 1h; empty: alert once.", ""))
                (input("alert_after_failures", "Failures before alerting", "1 to 1000; empty: the first failure.", ""))
                (input("slow_factor", "Slow factor", "A run over this × the median is slow; above 1, at most 1000.", "3"))
                (input("slow_min", "Slow floor", "A run is slow only when also over this; default 1s.", ""))
                (input("min_duration", "Shortest run", "A shorter successful run is too fast; empty: off.", ""))
            }
            button type="submit" { (submit) }
        }
    }
}

fn channel_names(app: &App) -> Vec<String> {
    app.registry().channels.keys().cloned().collect()
}

pub(super) async fn new_form(
    State(app): State<Arc<App>>,
    Extension(viewer): Extension<Viewer>,
    headers: HeaderMap,
) -> Response {
    let ctx = Ctx::new(&app, viewer, &headers);
    if !ctx.full() {
        return refusal(StatusCode::FORBIDDEN, "this key may only read");
    }
    let mut v = Values::default();
    v.0.insert("kind".into(), "interval".into());
    v.0.insert("channels_mode".into(), "all".into());
    let body = html! {
        h1 { "New check" }
        (check_form(&ctx, "/checks/new", &v, &channel_names(&app), None, "Create"))
    };
    html_response(
        StatusCode::OK,
        layout(&ctx, Some("New check"), false, body),
        None,
    )
}

pub(super) async fn create(
    State(app): State<Arc<App>>,
    Extension(viewer): Extension<Viewer>,
    headers: HeaderMap,
    Form(form): Form<Fields>,
) -> Response {
    if let Some(r) = csrf(&app, &viewer, &form) {
        return r;
    }
    let spec = parse_spec(Value::Object(spec_map(&form, false))).map_err(ApiError::Invalid);
    let result = match spec {
        Ok(spec) => app
            .change(|reg, now, ops| reg.create(&spec, now, false, ops))
            .await
            .map_err(failure),
        Err(e) => Ok(Err(e)),
    };
    match result {
        Ok(Ok(uuid)) => see_other(&format!("/checks/{uuid}")),
        Ok(Err(e)) => {
            let ctx = Ctx::new(&app, viewer, &headers);
            let body = html! {
                h1 { "New check" }
                (check_form(&ctx, "/checks/new", &Values::from_form(&form), &channel_names(&app), Some(&message(&e)), "Create"))
            };
            let status = StatusCode::from_u16(e.status()).unwrap_or(StatusCode::BAD_REQUEST);
            html_response(status, layout(&ctx, Some("New check"), false, body), None)
        }
        Err(r) => r,
    }
}

fn parse_uuid(text: &str) -> Option<Uuid> {
    Uuid::parse_str(text).ok()
}

fn no_check(uuid: &str) -> Response {
    refusal(
        StatusCode::NOT_FOUND,
        &format!("No check with uuid {uuid}."),
    )
}

/// The page context and the check a change page is about, or the page that refuses:
/// 403 for read access, 404 for an unknown check.
fn changeable(
    app: &App,
    viewer: Viewer,
    headers: &HeaderMap,
    uuid: &str,
) -> Result<(Ctx, Settings), Box<Response>> {
    let ctx = Ctx::new(app, viewer, headers);
    if !ctx.full() {
        return Err(Box::new(refusal(
            StatusCode::FORBIDDEN,
            "this key may only read",
        )));
    }
    match parse_uuid(uuid).and_then(|u| super::details::snapshot(app, u)) {
        Some((settings, _, _)) => Ok((ctx, settings)),
        None => Err(Box::new(no_check(uuid))),
    }
}

pub(super) async fn edit_form(
    State(app): State<Arc<App>>,
    Extension(viewer): Extension<Viewer>,
    Path(uuid): Path<String>,
    headers: HeaderMap,
) -> Response {
    let (ctx, settings) = match changeable(&app, viewer, &headers, &uuid) {
        Ok(found) => found,
        Err(refused) => return *refused,
    };
    let title = format!("Edit {}", settings.name);
    let action = format!("/checks/{}/edit", settings.uuid);
    let body = html! {
        p.crumbs { a href=(format!("/checks/{}", settings.uuid)) { (settings.name) } " › edit" }
        h1 { (title) }
        (check_form(&ctx, &action, &Values::from_settings(&settings), &channel_names(&app), None, "Save"))
    };
    html_response(
        StatusCode::OK,
        layout(&ctx, Some(&title), false, body),
        None,
    )
}

pub(super) async fn edit(
    State(app): State<Arc<App>>,
    Extension(viewer): Extension<Viewer>,
    Path(uuid): Path<String>,
    headers: HeaderMap,
    Form(form): Form<Fields>,
) -> Response {
    if let Some(r) = csrf(&app, &viewer, &form) {
        return r;
    }
    let Some(id) = parse_uuid(&uuid) else {
        return no_check(&uuid);
    };
    let patch = spec_map(&form, true);
    let result = app
        .change(|reg, now, ops| reg.patch(id, &patch, now, ops))
        .await;
    match result {
        Err(e) => failure(e),
        Ok(Ok(())) => see_other(&format!("/checks/{id}")),
        Ok(Err(e)) => {
            let ctx = Ctx::new(&app, viewer, &headers);
            let action = format!("/checks/{id}/edit");
            let body = html! {
                p.crumbs { a href=(format!("/checks/{id}")) { "back to the check" } }
                h1 { "Edit" }
                (check_form(&ctx, &action, &Values::from_form(&form), &channel_names(&app), Some(&message(&e)), "Save"))
            };
            let status = StatusCode::from_u16(e.status()).unwrap_or(StatusCode::BAD_REQUEST);
            html_response(status, layout(&ctx, Some("Edit"), false, body), None)
        }
    }
}

async fn pause_or_resume(
    app: Arc<App>,
    viewer: Viewer,
    uuid: String,
    form: Fields,
    pause: bool,
) -> Response {
    if let Some(r) = csrf(&app, &viewer, &form) {
        return r;
    }
    let Some(id) = parse_uuid(&uuid) else {
        return no_check(&uuid);
    };
    let result = app
        .change(|reg, now, ops| {
            if pause {
                reg.pause(id, now, ops)
            } else {
                reg.resume(id, now, ops)
            }
        })
        .await;
    match result {
        Err(e) => failure(e),
        Ok(Err(e)) => refusal(
            StatusCode::from_u16(e.status()).unwrap_or(StatusCode::BAD_REQUEST),
            &message(&e),
        ),
        Ok(Ok(())) => see_other(&local_path(field(&form, "next"), &format!("/checks/{id}"))),
    }
}

pub(super) async fn pause(
    State(app): State<Arc<App>>,
    Extension(viewer): Extension<Viewer>,
    Path(uuid): Path<String>,
    Form(form): Form<Fields>,
) -> Response {
    pause_or_resume(app, viewer, uuid, form, true).await
}

pub(super) async fn resume(
    State(app): State<Arc<App>>,
    Extension(viewer): Extension<Viewer>,
    Path(uuid): Path<String>,
    Form(form): Form<Fields>,
) -> Response {
    pause_or_resume(app, viewer, uuid, form, false).await
}

pub(super) async fn delete_form(
    State(app): State<Arc<App>>,
    Extension(viewer): Extension<Viewer>,
    Path(uuid): Path<String>,
    headers: HeaderMap,
) -> Response {
    let (ctx, settings) = match changeable(&app, viewer, &headers, &uuid) {
        Ok(found) => found,
        Err(refused) => return *refused,
    };
    let title = format!("Delete {}?", settings.name);
    let body = html! {
        p.crumbs { a href=(format!("/checks/{}", settings.uuid)) { (settings.name) } " › delete" }
        h1 { (title) }
        p { "The check, its pings, its status changes and its notifications are deleted. Jobs that still ping it get 404." }
        @if settings.managed { p.notice { "The config file declares this check: the next start or SIGHUP creates it again. Take it out of the file first." } }
        form method="post" action=(format!("/checks/{}/delete", settings.uuid)) {
            (csrf_field(&ctx))
            button.danger type="submit" { "Delete " (settings.name) }
            " "
            a href=(format!("/checks/{}", settings.uuid)) { "Keep it" }
        }
    };
    html_response(
        StatusCode::OK,
        layout(&ctx, Some(&title), false, body),
        None,
    )
}

pub(super) async fn delete(
    State(app): State<Arc<App>>,
    Extension(viewer): Extension<Viewer>,
    Path(uuid): Path<String>,
    Form(form): Form<Fields>,
) -> Response {
    if let Some(r) = csrf(&app, &viewer, &form) {
        return r;
    }
    let Some(id) = parse_uuid(&uuid) else {
        return no_check(&uuid);
    };
    match app.change(|reg, now, ops| reg.delete(id, now, ops)).await {
        Err(e) => failure(e),
        Ok(Err(e)) => refusal(
            StatusCode::from_u16(e.status()).unwrap_or(StatusCode::BAD_REQUEST),
            &message(&e),
        ),
        Ok(Ok(())) => see_other("/"),
    }
}

// Channels.

fn channels_page(app: &App, ctx: &Ctx, result: Option<Markup>) -> Markup {
    let list = app.registry().channel_list();
    // A page showing a test's result stays put.
    let refresh = result.is_none();
    let body = html! {
        h1 { "Channels" }
        @if let Some(r) = result { (r) }
        @if list.is_empty() {
            p.muted { "No channel yet. Declare them as [[channel]] tables in the config file, or create them through the API (POST /api/v1/channels)." }
        }
        @for c in &list {
            @let name = c["name"].as_str().unwrap_or_default();
            section.channel aria-label=(format!("Channel {name}")) {
                h2 { (name) " " span.muted { "(" (c["kind"].as_str().unwrap_or_default()) ")" } }
                dl.facts {
                    @if let Value::Object(map) = c {
                        @for (k, v) in map {
                            @if k != "name" && k != "kind" {
                                dt { (k) }
                                dd { code { @match v { Value::String(s) => (s), other => (other.to_string()) } } }
                            }
                        }
                    }
                }
                @if ctx.full() {
                    form.inline method="post" action=(format!("/channels/{}/test", super::words::encode(name))) {
                        (csrf_field(ctx))
                        button type="submit" { "Send a test alert" }
                    }
                }
            }
        }
        p.muted { "Secrets (tokens, keys, passwords, webhook URLs that carry them) are shown as ••••." }
    };
    layout(ctx, Some("Channels"), refresh, body)
}

pub(super) async fn channels(
    State(app): State<Arc<App>>,
    Extension(viewer): Extension<Viewer>,
    headers: HeaderMap,
    uri: axum::http::Uri,
) -> Response {
    let etag = super::page_etag(&app, &viewer, &uri);
    if let Some(r) = super::unchanged(&headers, &etag) {
        return r;
    }
    let ctx = Ctx::new(&app, viewer, &headers);
    html_response(StatusCode::OK, channels_page(&app, &ctx, None), Some(&etag))
}

pub(super) async fn test_channel(
    State(app): State<Arc<App>>,
    Extension(viewer): Extension<Viewer>,
    Path(name): Path<String>,
    headers: HeaderMap,
    Form(form): Form<Fields>,
) -> Response {
    if let Some(r) = csrf(&app, &viewer, &form) {
        return r;
    }
    let kind = app.registry().channels.get(&name).map(|c| c.kind.clone());
    let Some(kind) = kind else {
        return refusal(
            StatusCode::NOT_FOUND,
            &format!("No channel named {name:?}."),
        );
    };
    if kind.kind_name() == "command" && !app.options().declared_channels.contains_key(&name) {
        return refusal(
            StatusCode::FORBIDDEN,
            "command channels come from the config file only; declare it in a [[channel]] table and reload (SIGHUP)",
        );
    }
    let base = crate::serve::http::base_url(&app, &headers);
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
    let name2 = name.clone();
    let delivery = tokio::task::spawn_blocking(move || {
        crate::serve::outbox::deliver_now(&app2, &name2, &event)
    })
    .await;
    let ctx = Ctx::new(&app, viewer, &headers);
    let result = match delivery {
        Ok(d) if d.ok => {
            html! { p.notice.ok role="status" { "Test alert to " strong { (name) } " delivered" @if let Some(c) = d.status_code { " (status " (c) ")" } "." } }
        }
        Ok(d) => {
            html! { p.notice.error role="alert" { "Test alert to " strong { (name) } " failed" @if let Some(c) = d.status_code { " (status " (c) ")" } ": " (d.error.unwrap_or_default()) } }
        }
        Err(e) => html! { p.notice.error role="alert" { (e.to_string()) } },
    };
    html_response(
        StatusCode::OK,
        channels_page(&app, &ctx, Some(result)),
        None,
    )
}

// Login and logout.

/// The identity of the login form's CSRF token (nobody is signed in yet).
const LOGIN_IDENTITY: &str = "login";

fn login_page(app: &App, next: &str, error: Option<&str>) -> Markup {
    let options = app.options();
    let token = app.secrets.csrf_token(LOGIN_IDENTITY);
    let v = super::asset_version();
    html! {
        (maud::DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                meta name="color-scheme" content="light dark";
                title { "Log in · hb" }
                link rel="stylesheet" href=(format!("/static/hb.css?v={v}"));
            }
            body {
                main #main.narrow {
                    h1 { span.logo aria-hidden="true" {} "Log in to hb" }
                    @if !options.has_keys() {
                        p { "This monitor has no key configured: no login is needed." }
                        p { a href="/" { "Go to the checks" } }
                    } @else {
                        @if let Some(e) = error { p.notice.error role="alert" { (e) } }
                        form method="post" action="/login" {
                            input type="hidden" name="csrf" value=(token);
                            input type="hidden" name="next" value=(next);
                            div.field {
                                label for="key" { "Key" }
                                input #key name="key" type="password" required autocomplete="current-password" autofocus;
                                small { "One of the api_keys (full rights) or read_keys (read only) of the config file." }
                            }
                            button type="submit" { "Log in" }
                        }
                        @if options.auth_header.is_some() {
                            p.muted { "Signed in through your proxy? Then this page is not needed." }
                        }
                    }
                }
            }
        }
    }
}

pub(super) async fn login_form(
    State(app): State<Arc<App>>,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    let next = local_path(query.get("next").map_or("/", String::as_str), "/");
    html_response(StatusCode::OK, login_page(&app, &next, None), None)
}

pub(super) async fn login(
    State(app): State<Arc<App>>,
    Extension(viewer): Extension<Viewer>,
    Form(form): Form<Fields>,
) -> Response {
    let next = local_path(field(&form, "next"), "/");
    if !app.secrets.csrf_ok(LOGIN_IDENTITY, field(&form, "csrf")) {
        return html_response(
            StatusCode::FORBIDDEN,
            login_page(
                &app,
                &next,
                Some("The form's security token is wrong; try again."),
            ),
            None,
        );
    }
    let options = app.options();
    let given = field(&form, "key").trim();
    let key = options
        .api_keys
        .iter()
        .chain(options.read_keys.iter())
        .fold(None, |found, k| {
            if same_key(given.as_bytes(), k.as_bytes()) && found.is_none() {
                Some(k.clone())
            } else {
                found
            }
        });
    let Some(key) = key else {
        return html_response(
            StatusCode::UNAUTHORIZED,
            login_page(&app, &next, Some("That is not one of the configured keys.")),
            None,
        );
    };
    let token = app.secrets.session_token(&key, app.now().as_second());
    let secure = if viewer.https { "; Secure" } else { "" };
    let cookie = format!(
        "{SESSION_COOKIE}={token}; Path=/; HttpOnly; SameSite=Lax; Max-Age={SESSION_SECONDS}{secure}"
    );
    let mut response = see_other(&next);
    if let Ok(v) = HeaderValue::from_str(&cookie) {
        response.headers_mut().insert(header::SET_COOKIE, v);
    }
    response
}

pub(super) async fn logout_form(
    State(app): State<Arc<App>>,
    Extension(viewer): Extension<Viewer>,
    headers: HeaderMap,
) -> Response {
    let ctx = Ctx::new(&app, viewer, &headers);
    let body = html! {
        h1 { "Log out" }
        form method="post" action="/logout" {
            (csrf_field(&ctx))
            button type="submit" { "Log out" }
        }
    };
    html_response(
        StatusCode::OK,
        layout(&ctx, Some("Log out"), false, body),
        None,
    )
}

pub(super) async fn logout(
    State(app): State<Arc<App>>,
    Extension(viewer): Extension<Viewer>,
    Form(form): Form<Fields>,
) -> Response {
    if let Some(r) = csrf(&app, &viewer, &form) {
        return r;
    }
    let secure = if viewer.https { "; Secure" } else { "" };
    let mut response = see_other("/login");
    if let Ok(v) = HeaderValue::from_str(&format!(
        "{SESSION_COOKIE}=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0{secure}"
    )) {
        response.headers_mut().insert(header::SET_COOKIE, v);
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    fn form(pairs: &[(&str, &str)]) -> Fields {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn a_form_becomes_the_api_s_spec_and_patch() {
        let f = form(&[
            ("name", " Backup "),
            ("tags", "db, nightly,,"),
            ("kind", "cron"),
            ("cron", "0 3 * * *"),
            ("tz", ""),
            ("grace_period", "1h"),
            ("alert_after_failures", "2"),
            ("channels_mode", "some"),
            ("channel", "ops"),
            ("channel", "pager"),
        ]);
        let map = spec_map(&f, false);
        assert_eq!(map["name"], "Backup");
        assert_eq!(map["tags"], json!(["db", "nightly"]));
        assert_eq!(map["tz"], "UTC");
        assert_eq!(map["alert_after_failures"], 2);
        assert_eq!(map["channels"], json!(["ops", "pager"]));
        assert!(!map.contains_key("interval") && !map.contains_key("realert"));
        parse_spec(Value::Object(map)).unwrap();
        let patch = spec_map(
            &form(&[("name", "x"), ("kind", "interval"), ("interval", "1h")]),
            true,
        );
        assert_eq!(patch["realert"], Value::Null);
        assert_eq!(patch["channels"], Value::Null);
        // A word where a number goes reaches the spec's own message.
        let bad = spec_map(
            &form(&[("name", "x"), ("interval", "1h"), ("slow_factor", "fast")]),
            false,
        );
        let err = parse_spec(Value::Object(bad)).unwrap_err();
        assert!(err.starts_with("slow_factor"), "{err}");
        assert_eq!(local_path("//evil.example", "/"), "/");
        assert_eq!(local_path("/checks/x", "/"), "/checks/x");
        assert_eq!(local_path("https://evil.example", "/"), "/");
    }
}
