//! The dashboard (PRODUCT.md §5): HTML rendered on the server with maud (escaped by
//! default), so every page and every action works without JavaScript; a small script
//! (served from `/static/`, never inline) only refreshes, copies URLs and switches the
//! time zone shown. Assets are compiled into the binary.
//!
//! Reads never hold up pings: lists walk the registry in slices (as the API does), and
//! history is read off the async threads. Pages carry an `ETag` made from the
//! registry's change number, a time bucket and who is asking, so an unchanged page
//! costs a 304.

mod badge;
mod chart;
mod details;
mod forms;
pub mod history;
mod list;
mod metrics;
pub mod words;

use axum::Router;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use maud::{DOCTYPE, Markup, PreEscaped, html};
use std::hash::{Hash, Hasher};
use std::sync::{Arc, OnceLock};

use super::app::App;
use super::http::READ_SLICE;
use super::http::guard::{Access, Via, Viewer};
use super::status::Status;

pub use metrics::per_check as per_check_metrics;

/// The dashboard's routes (the guard in front decides who may see them).
pub fn router() -> Router<Arc<App>> {
    Router::new()
        .route("/", get(list::page))
        .route("/checks/new", get(forms::new_form).post(forms::create))
        .route("/checks/{uuid}", get(details::page))
        .route("/checks/{uuid}/runs/{n}", get(details::run_page))
        .route(
            "/checks/{uuid}/edit",
            get(forms::edit_form).post(forms::edit),
        )
        .route("/checks/{uuid}/pause", post(forms::pause))
        .route("/checks/{uuid}/resume", post(forms::resume))
        .route(
            "/checks/{uuid}/delete",
            get(forms::delete_form).post(forms::delete),
        )
        .route("/channels", get(forms::channels))
        .route("/channels/{name}/test", post(forms::test_channel))
        .route("/login", get(forms::login_form).post(forms::login))
        .route("/logout", get(forms::logout_form).post(forms::logout))
        .route("/static/{file}", get(asset))
        .route("/badge/{token}/{file}", get(badge::badge))
}

const CSS: &str = include_str!("assets/hb.css");
const JS: &str = include_str!("assets/hb.js");

/// A short hash of the assets, in their URLs: a new binary's assets are new URLs.
fn asset_version() -> &'static str {
    static VERSION: OnceLock<String> = OnceLock::new();
    VERSION.get_or_init(|| {
        let mut h: u64 = 0xcbf2_9ce4_8422_2325;
        for b in CSS.bytes().chain(JS.bytes()) {
            h = (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
        }
        format!("{:012x}", h & 0xffff_ffff_ffff)
    })
}

/// The page's Content-Security-Policy: scripts and styles from this origin only, no
/// inline script, no framing, forms post here only.
pub const CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

fn security_headers(headers: &mut HeaderMap) {
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CSP),
    );
    // Never no-referrer: browsers then send `Origin: null`, which the guard refuses.
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("same-origin"),
    );
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
}

/// An HTML answer with the dashboard's headers.
pub fn html_response(status: StatusCode, markup: Markup, etag: Option<&str>) -> Response {
    let mut response = (status, markup.into_string()).into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    headers.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("private, no-cache"),
    );
    headers.insert(header::VARY, HeaderValue::from_static("Cookie"));
    if let Some(tag) = etag.and_then(|t| HeaderValue::from_str(t).ok()) {
        headers.insert(header::ETAG, tag);
    }
    security_headers(headers);
    response
}

/// 304 for a page whose `ETag` the client has.
fn not_modified(etag: &str) -> Response {
    let mut response = StatusCode::NOT_MODIFIED.into_response();
    if let Ok(tag) = HeaderValue::from_str(etag) {
        response.headers_mut().insert(header::ETAG, tag);
    }
    response.headers_mut().insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("private, no-cache"),
    );
    response
}

/// `303 See Other` to a page of this site.
pub fn see_other(location: &str) -> Response {
    let mut response = StatusCode::SEE_OTHER.into_response();
    if let Ok(v) = HeaderValue::from_str(location) {
        response.headers_mut().insert(header::LOCATION, v);
    }
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

/// A refusal of the guard, as a page (the API's refusals stay JSON).
pub fn refusal(status: StatusCode, message: &str) -> Response {
    let body = html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (status.as_u16()) " · hb" }
                link rel="stylesheet" href=(format!("/static/hb.css?v={}", asset_version()));
            }
            body {
                main #main.narrow {
                    h1 { (status.canonical_reason().unwrap_or("Refused")) }
                    p.notice.error { (message) }
                    p { a href="/" { "Back to the checks" } " · " a href="/login" { "Log in" } }
                }
            }
        }
    };
    html_response(status, body, None)
}

async fn asset(
    axum::extract::Path(file): axum::extract::Path<String>,
    axum::extract::RawQuery(query): axum::extract::RawQuery,
) -> Response {
    let (body, kind) = match file.as_str() {
        "hb.css" => (CSS, "text/css; charset=utf-8"),
        "hb.js" => (JS, "text/javascript; charset=utf-8"),
        _ => return refusal(StatusCode::NOT_FOUND, "no such file"),
    };
    let versioned = query.is_some_and(|q| q == format!("v={}", asset_version()));
    let mut response = body.into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(kind));
    headers.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static(if versioned {
            "public, max-age=31536000, immutable"
        } else {
            "no-cache"
        }),
    );
    security_headers(headers);
    response
}

/// What every page needs: who asks, their CSRF token, the base of links, the time,
/// and how many checks are down (for the title and the favicon).
pub struct Ctx {
    pub viewer: Viewer,
    pub csrf: String,
    pub base: String,
    pub now: jiff::Timestamp,
    pub down: u64,
}

impl Ctx {
    pub fn new(app: &App, viewer: Viewer, headers: &HeaderMap) -> Ctx {
        Ctx::counted(app, viewer, headers, None)
    }

    /// With the number of checks down when the caller counted them already.
    pub fn counted(app: &App, viewer: Viewer, headers: &HeaderMap, down: Option<u64>) -> Ctx {
        let now = app.now();
        Ctx {
            csrf: app.secrets.csrf_token(&viewer.identity),
            base: super::http::base_url(app, headers),
            now,
            down: down.unwrap_or_else(|| down_count(app, now)),
            viewer,
        }
    }

    pub fn full(&self) -> bool {
        self.viewer.access == Access::Full
    }
}

/// Seconds per time bucket: a page's relative times and `late` (which comes with the
/// time, not with a change) are at most this old when a 304 answers.
const BUCKET_S: i64 = 15;

fn bucket(now: jiff::Timestamp) -> i64 {
    now.as_second().div_euclid(BUCKET_S)
}

/// How many checks are down now; cached per change number and time bucket.
pub fn down_count(app: &App, now: jiff::Timestamp) -> u64 {
    let seq = app.change_seq();
    let b = bucket(now);
    if let Some((s, cb, n)) = *app.down_cache.lock().unwrap_or_else(|e| e.into_inner())
        && s == seq
        && cb == b
    {
        return n;
    }
    let mut down = 0;
    let mut after = None;
    loop {
        after = app.registry().visit_slice(after.as_ref(), READ_SLICE, |e| {
            if e.state.view(&e.settings, now).0 == Status::Down {
                down += 1;
            }
        });
        if after.is_none() {
            break;
        }
    }
    *app.down_cache.lock().unwrap_or_else(|e| e.into_inner()) = Some((seq, b, down));
    down
}

/// The `ETag` of a page: the registry's change number, the time bucket, the page's
/// path and query, and who asks (their forms carry their CSRF token).
pub fn page_etag(app: &App, viewer: &Viewer, uri: &axum::http::Uri) -> String {
    let mut h = std::collections::hash_map::DefaultHasher::new();
    uri.to_string().hash(&mut h);
    viewer.identity.hash(&mut h);
    (viewer.access == Access::Full).hash(&mut h);
    asset_version().hash(&mut h);
    format!(
        "W/\"{:x}-{:x}-{:016x}\"",
        app.change_seq(),
        bucket(app.now()),
        h.finish()
    )
}

/// `Some(304)` when the client already has this version of the page.
pub fn unchanged(headers: &HeaderMap, etag: &str) -> Option<Response> {
    let given = headers.get(header::IF_NONE_MATCH)?.to_str().ok()?;
    given
        .split(',')
        .any(|t| t.trim() == etag || t.trim() == "*")
        .then(|| not_modified(etag))
}

/// A status as a word, a shape and a colour (the shape and colour come from CSS).
pub fn status_badge(status: &str) -> Markup {
    html! { span class=(format!("st st-{status}")) { span.shape aria-hidden="true" {} (status) } }
}

/// The favicon: a green tick, or a red disc with the number of checks down.
fn favicon(down: u64) -> String {
    let svg = if down == 0 {
        "<svg xmlns='http://www.w3.org/2000/svg' viewBox='0 0 32 32'><circle cx='16' cy='16' r='15' fill='#1a7f37'/><path d='M9 16.5l5 5 9-10' stroke='#fff' stroke-width='3.5' fill='none'/></svg>".to_string()
    } else {
        let n = if down > 99 {
            "99+".to_string()
        } else {
            down.to_string()
        };
        let size = if n.len() > 2 { 13 } else { 19 };
        format!(
            "<svg xmlns='http://www.w3.org/2000/svg' viewBox='0 0 32 32'><rect x='1' y='1' width='30' height='30' rx='6' fill='#cf222e'/><text x='16' y='22.5' font-family='sans-serif' font-weight='bold' font-size='{size}' text-anchor='middle' fill='#fff'>{n}</text></svg>"
        )
    };
    format!("data:image/svg+xml,{}", words::encode(&svg))
}

/// The title: `(N down) hb`, or `hb` when nothing is down; pages other than the list
/// put their own name before `hb`.
pub fn title(down: u64, page: Option<&str>) -> String {
    let mut t = String::new();
    if down > 0 {
        t.push_str(&format!("({down} down) "));
    }
    if let Some(page) = page {
        t.push_str(page);
        t.push_str(" · ");
    }
    t.push_str("hb");
    t
}

/// A form's hidden CSRF field.
pub fn csrf_field(ctx: &Ctx) -> Markup {
    html! { input type="hidden" name="csrf" value=(ctx.csrf); }
}

/// The layout of every page. `refresh`: the script reloads the page's content about
/// every 5 s while the tab is visible.
#[allow(clippy::collapsible_match)]
pub fn layout(ctx: &Ctx, page: Option<&str>, refresh: bool, body: Markup) -> Markup {
    let v = asset_version();
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                meta name="color-scheme" content="light dark";
                title { (title(ctx.down, page)) }
                link #favicon rel="icon" type="image/svg+xml" href=(favicon(ctx.down));
                link rel="stylesheet" href=(format!("/static/hb.css?v={v}"));
                script src=(format!("/static/hb.js?v={v}")) defer {}
            }
            body data-refresh=[refresh.then_some("5")] {
                a.skip href="#main" { "Skip to content" }
                header.top {
                    nav aria-label="Main" {
                        a.brand href="/" { span.logo aria-hidden="true" {} "hb" }
                        a href="/" { "Checks" }
                        a href="/channels" { "Channels" }
                        @if ctx.full() {
                            a href="/checks/new" { "New check" }
                        }
                    }
                    div.who {
                        label.tz-switch hidden {
                            "Times in "
                            select #tz-switch {
                                option value="utc" { "UTC" }
                                option value="local" { "this browser's zone" }
                                option value="check" { "the check's zone" }
                            }
                        }
                        @match (&ctx.viewer.via, &ctx.viewer.user) {
                            (Via::Proxy, Some(user)) => {
                                span.user { (user) @if !ctx.full() { " (read only)" } }
                            }
                            (Via::Session, _) => {
                                @if !ctx.full() { span.user { "read only" } }
                                form.inline method="post" action="/logout" {
                                    (csrf_field(ctx))
                                    button.link type="submit" { "Log out" }
                                }
                            }
                            (Via::Key, _) => {
                                @if !ctx.full() { span.user { "read only" } }
                            }
                            _ => {}
                        }
                    }
                }
                main #main { (body) }
                footer.bottom {
                    "hb " (env!("CARGO_PKG_VERSION")) " · "
                    a href="/metrics" { "metrics" } " · "
                    a href="/api/v1/openapi.json" { "API" }
                }
            }
        }
    }
}

/// Text that must go into the page as it is (already escaped, e.g. SVG we drew).
pub fn raw(text: String) -> PreEscaped<String> {
    PreEscaped(text)
}
