//! The HTTP surface: ping endpoints, the management API, health and metrics; the
//! dashboard's pages come from `serve::web`, behind the same guard.

mod api;
pub mod conn;
pub mod guard;
pub mod openapi;
pub(crate) mod ping;
mod slots;

use axum::Router;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::middleware;
use axum::response::{IntoResponse, Response};
use axum::routing::{any, get, post};
use serde_json::json;
use std::collections::HashMap;
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
        .route("/api/v1/heartbeats/{uuid}/slots", get(slots::slots))
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
        .route(
            "/api/v1/maintenance",
            get(api::list_windows).post(api::create_window),
        )
        .route(
            "/api/v1/maintenance/{name}",
            get(api::get_window)
                .patch(api::patch_window)
                .delete(api::delete_window),
        )
        .route("/api/v1/config", get(api::export_config))
        .route("/api/v1/config/plan", post(api::plan_config))
        .route("/healthz", get(healthz))
        .route("/metrics", get(metrics))
        .route("/api/v1/openapi.json", get(openapi::serve_openapi))
        .method_not_allowed_fallback(method_not_allowed);
    Router::new()
        .merge(management)
        .merge(crate::serve::web::router())
        .route("/api/v1/ping/{*rest}", any(ping::ping))
        .route("/ping/{*rest}", any(ping::ping))
        // Nothing after the prefix: a ping route still (plain text 404, as healthchecks).
        .route("/api/v1/ping/", any(ping::ping))
        .route("/ping/", any(ping::ping))
        .fallback(fallback)
        .layer(middleware::from_fn_with_state(app.clone(), sync_first))
        .layer(middleware::from_fn_with_state(app.clone(), guard::guard))
        .with_state(app)
}

/// The longest a request waits for this node to read what other nodes committed;
/// past it (the database is slow or gone) it is answered from memory.
const SYNC_WAIT: std::time::Duration = std::time::Duration::from_secs(2);

/// On a shared database: every request (but pings, and `/healthz` and `/metrics`, which
/// speak of this node) first brings memory up to date, so what another node answered a moment
/// ago is seen here too.
async fn sync_first(
    State(app): State<Arc<App>>,
    request: axum::extract::Request,
    next: middleware::Next,
) -> Response {
    let path = request.uri().path();
    // Pings read what they need themselves (see `ping::ping`).
    if app.shared() && !matches!(path, "/healthz" | "/metrics") && !guard::is_ping_path(path) {
        let _ = tokio::time::timeout(SYNC_WAIT, app.sync()).await;
    }
    next.run(request).await
}

/// `{"error": "..."}` with a status.
pub fn error(status: StatusCode, message: impl Into<String>) -> Response {
    (status, axum::Json(json!({"error": message.into()}))).into_response()
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status =
            StatusCode::from_u16(self.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        error(status, self.message())
    }
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

async fn healthz(State(app): State<Arc<App>>) -> Response {
    match app.health_problem() {
        None => (StatusCode::OK, axum::Json(json!({"status": "ok"}))).into_response(),
        Some(problem) => (
            StatusCode::SERVICE_UNAVAILABLE,
            axum::Json(json!({"status": problem})),
        )
            .into_response(),
    }
}

/// Checks per lock hold when a read walks every check.
pub const READ_SLICE: usize = 500;

/// `/metrics`: a request that arrives while a render runs waits for the next one
/// (which starts after it arrived, so it is as fresh as a render of its own) instead of
/// walking every check beside it: scrapers looping on it cost one walk at a time.
async fn metrics(State(app): State<Arc<App>>) -> Response {
    let arrived = app.metrics_renders.load(Ordering::SeqCst);
    let mut page = app.metrics_page.lock().await;
    let body = match &*page {
        Some((render, body)) if *render > arrived => body.clone(),
        _ => {
            app.metrics_pace.wait().await;
            let started = std::time::Instant::now();
            let render = app.metrics_renders.fetch_add(1, Ordering::SeqCst) + 1;
            let body = axum::body::Bytes::from(render_metrics(&app).await);
            app.metrics_pace.done(started);
            *page = Some((render, body.clone()));
            body
        }
    };
    drop(page);
    (
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        body,
    )
        .into_response()
}

async fn render_metrics(app: &App) -> String {
    let now = app.now();
    let mut counts = HashMap::new();
    let mut after = None;
    loop {
        // One slice per lock hold: pings get the lock between slices.
        after = app
            .registry()
            .count_slice(after.as_ref(), READ_SLICE, now, &mut counts);
        if after.is_none() {
            break;
        }
        tokio::task::yield_now().await;
    }
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
    node_metrics(app, &mut out);
    crate::serve::web::per_check_metrics(app, &mut out).await;
    out
}

/// This node's gauges: who it is, whether it reaches the database, the deliveries it
/// holds leases on, and the outbox's backlog.
fn node_metrics(app: &App, out: &mut String) {
    let (backlog, leased) = {
        let reg = app.registry();
        (reg.outbox.len(), reg.leased_in_flight().len())
    };
    let node = if app.shared() { app.node.as_str() } else { "" };
    let node = node.replace('\\', "\\\\").replace('"', "\\\"");
    let _ = writeln!(
        out,
        "# HELP hb_node_info This node (its name when several share a PostgreSQL database).\n# TYPE hb_node_info gauge\nhb_node_info{{node=\"{node}\"}} 1"
    );
    let reachable = !app.shared() || app.commits.reachable.load(Ordering::SeqCst);
    let _ = writeln!(
        out,
        "# HELP hb_node_db_reachable Whether this node's last read or write of the database succeeded.\n# TYPE hb_node_db_reachable gauge\nhb_node_db_reachable {}",
        u8::from(reachable)
    );
    let _ = writeln!(
        out,
        "# HELP hb_node_leader Whether this node holds the lease on running the deadline engine and the outbox (one node at a time).\n# TYPE hb_node_leader gauge\nhb_node_leader {}",
        u8::from(app.leading())
    );
    let _ = writeln!(
        out,
        "# HELP hb_node_leases_held Deliveries this node holds a lease on and is sending.\n# TYPE hb_node_leases_held gauge\nhb_node_leases_held {leased}"
    );
    let _ = writeln!(
        out,
        "# HELP hb_outbox_backlog Deliveries not yet done (waiting, retrying or in flight).\n# TYPE hb_outbox_backlog gauge\nhb_outbox_backlog {backlog}"
    );
    let _ = writeln!(
        out,
        "# HELP hb_node_conflicts_total Changes made again because another node's change overtook them.\n# TYPE hb_node_conflicts_total counter\nhb_node_conflicts_total {}",
        app.commits.conflicts.load(Ordering::Relaxed)
    );
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

async fn method_not_allowed() -> Response {
    error(
        StatusCode::METHOD_NOT_ALLOWED,
        "this method is not accepted here; see the API list in README for the methods of each path",
    )
}

async fn fallback() -> Response {
    error(
        StatusCode::NOT_FOUND,
        "no such endpoint; see the API list in README (e.g. /api/v1/heartbeats)",
    )
}
