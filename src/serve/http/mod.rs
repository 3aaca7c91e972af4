//! The HTTP surface: ping endpoints, the management API, health and metrics.

mod api;
pub mod openapi;
mod ping;

use axum::Router;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{any, get, post};
use serde_json::json;
use std::fmt::Write;
use std::sync::Arc;
use std::sync::atomic::Ordering;

use super::app::App;
use super::registry::ApiError;
use super::status::{PingKind, Status};

pub fn router(app: Arc<App>) -> Router {
    let management = Router::new()
        .route(
            "/api/v1/heartbeats",
            get(api::list_checks).post(api::create_check),
        )
        .route(
            "/api/v1/heartbeats/{uuid}",
            get(api::get_check)
                .patch(api::patch_check)
                .delete(api::delete_check),
        )
        .route("/api/v1/heartbeats/{uuid}/pause", post(api::pause))
        .route("/api/v1/heartbeats/{uuid}/resume", post(api::resume))
        .route("/api/v1/heartbeats/{uuid}/pings", get(api::pings))
        .route("/api/v1/heartbeats/{uuid}/flips", get(api::flips))
        .route(
            "/api/v1/heartbeats/{uuid}/notifications",
            get(api::notifications),
        )
        .route(
            "/api/v1/channels",
            get(api::list_channels).post(api::create_channel),
        )
        .route(
            "/api/v1/channels/{name}",
            get(api::get_channel)
                .patch(api::patch_channel)
                .delete(api::delete_channel),
        )
        .route("/api/v1/channels/{name}/test", post(api::test_channel))
        .route_layer(middleware::from_fn_with_state(app.clone(), require_key));
    Router::new()
        .merge(management)
        .route("/api/v1/ping/{*rest}", any(ping::ping))
        .route("/ping/{*rest}", any(ping::ping))
        .route("/api/v1/openapi.json", get(openapi::serve_openapi))
        .route("/healthz", get(healthz))
        .route("/metrics", get(metrics))
        .fallback(fallback)
        .with_state(app)
}

/// `{"error": "..."}` with a status.
pub fn error(status: StatusCode, message: impl Into<String>) -> Response {
    (status, axum::Json(json!({"error": message.into()}))).into_response()
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        match self {
            ApiError::BadRequest(m) => error(StatusCode::BAD_REQUEST, m),
            ApiError::NotFound(m) => error(StatusCode::NOT_FOUND, m),
            ApiError::Conflict(m) => error(StatusCode::CONFLICT, m),
            ApiError::Unavailable(m) => error(StatusCode::SERVICE_UNAVAILABLE, m),
        }
    }
}

async fn require_key(State(app): State<Arc<App>>, request: Request, next: Next) -> Response {
    let keys = app.options().api_keys;
    if !keys.is_empty() {
        let given = request
            .headers()
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .map(str::trim);
        if !given.is_some_and(|g| {
            keys.iter()
                .any(|k| constant_time_eq(k.as_bytes(), g.as_bytes()))
        }) {
            return error(
                StatusCode::UNAUTHORIZED,
                "authorization: send one of the configured API keys as 'Authorization: Bearer <key>'",
            );
        }
    }
    next.run(request).await
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// The base URL for links: `base_url`, else `http://` + the request's Host.
pub fn base_url(app: &App, headers: &HeaderMap) -> String {
    if let Some(base) = app.options().base_url {
        return base.trim_end_matches('/').to_string();
    }
    let host = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .filter(|h| !h.is_empty())
        .unwrap_or("localhost");
    format!("http://{host}")
}

async fn healthz() -> Response {
    (StatusCode::OK, axum::Json(json!({"status": "ok"}))).into_response()
}

async fn metrics(State(app): State<Arc<App>>) -> Response {
    let counts = app.registry().status_counts(app.now());
    let mut out = String::new();
    out.push_str("# HELP hb_checks Checks by status.\n# TYPE hb_checks gauge\n");
    for status in Status::ALL {
        let n = counts.get(status.as_str()).copied().unwrap_or(0);
        let _ = writeln!(out, "hb_checks{{status=\"{}\"}} {n}", status.as_str());
    }
    out.push_str("# HELP hb_pings_total Pings received, by kind.\n# TYPE hb_pings_total counter\n");
    for (i, kind) in [
        PingKind::Success,
        PingKind::Fail,
        PingKind::Start,
        PingKind::Log,
    ]
    .into_iter()
    .enumerate()
    {
        let n = app.metrics.pings[i].load(Ordering::Relaxed);
        let _ = writeln!(out, "hb_pings_total{{kind=\"{}\"}} {n}", kind.as_str());
    }
    out.push_str("# HELP hb_alerts_total Alert delivery attempts, by result.\n# TYPE hb_alerts_total counter\n");
    let _ = writeln!(
        out,
        "hb_alerts_total{{result=\"ok\"}} {}",
        app.metrics.alerts_ok.load(Ordering::Relaxed)
    );
    let _ = writeln!(
        out,
        "hb_alerts_total{{result=\"failed\"}} {}",
        app.metrics.alerts_failed.load(Ordering::Relaxed)
    );
    (
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        out,
    )
        .into_response()
}

/// Index of a ping kind in the metrics counters.
pub fn metric_index(kind: PingKind) -> usize {
    match kind {
        PingKind::Success => 0,
        PingKind::Fail => 1,
        PingKind::Start => 2,
        PingKind::Log => 3,
    }
}

async fn fallback() -> Response {
    error(
        StatusCode::NOT_FOUND,
        "no such endpoint; see the API list in README (e.g. /api/v1/heartbeats)",
    )
}
