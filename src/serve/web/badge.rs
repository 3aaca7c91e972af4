//! Badges: `GET /badge/{token}/{scope}.svg | .json | .shields`, where the scope is a
//! check's slug, a tag, or `all`, and the token is made for that scope from the
//! monitor's secret (so it is open without a key: the token is the secret). States
//! `up` and `down`, and `late` with `?states=3`.

use axum::extract::{Path, Query, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::json;
use std::collections::HashMap;
use std::sync::Arc;

use super::READ_SLICE;
use crate::serve::app::App;
use crate::serve::status::Status;

/// What a badge says of its checks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(super) struct Tally {
    pub total: u64,
    pub down: u64,
    pub late: u64,
}

impl Tally {
    /// `down` if any is down; `late` if any is late (only when late is asked for);
    /// else `up`.
    pub(super) fn status(&self, with_late: bool) -> &'static str {
        if self.down > 0 {
            "down"
        } else if with_late && self.late > 0 {
            "late"
        } else {
            "up"
        }
    }
}

fn colour(status: &str) -> &'static str {
    match status {
        "down" => "#cf222e",
        "late" => "#9a6700",
        _ => "#1a7f37",
    }
}

/// Text width in the badge's 11px sans-serif, roughly (as shields.io estimates it).
fn text_width(text: &str) -> f64 {
    text.chars()
        .map(|c| match c {
            'i' | 'l' | 'j' | '.' | ',' | ':' | '!' | '|' | '\'' => 3.5,
            'm' | 'w' | 'M' | 'W' => 10.0,
            c if c.is_ascii_uppercase() => 8.0,
            _ => 6.5,
        })
        .sum()
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#39;")
}

/// A flat badge `label | status` with a `<title>` and `role="img"`.
pub(super) fn svg(label: &str, status: &str) -> String {
    let lw = (text_width(label) + 12.0).round();
    let sw = (text_width(status) + 12.0).round();
    let w = lw + sw;
    let label = escape(label);
    let title = format!("{label}: {status}");
    let fill = colour(status);
    format!(
        r##"<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="20" role="img" aria-label="{title}"><title>{title}</title><linearGradient id="s" x2="0" y2="100%"><stop offset="0" stop-color="#bbb" stop-opacity=".1"/><stop offset="1" stop-opacity=".1"/></linearGradient><clipPath id="r"><rect width="{w}" height="20" rx="3" fill="#fff"/></clipPath><g clip-path="url(#r)"><rect width="{lw}" height="20" fill="#555"/><rect x="{lw}" width="{sw}" height="20" fill="{fill}"/><rect width="{w}" height="20" fill="url(#s)"/></g><g fill="#fff" text-anchor="middle" font-family="Verdana,Geneva,DejaVu Sans,sans-serif" font-size="11"><text x="{lx}" y="15" fill="#010101" fill-opacity=".3">{label}</text><text x="{lx}" y="14">{label}</text><text x="{sx}" y="15" fill="#010101" fill-opacity=".3">{status}</text><text x="{sx}" y="14">{status}</text></g></svg>"##,
        lx = lw / 2.0,
        sx = lw + sw / 2.0,
    )
}

/// The checks of a scope: `all`, a slug, else a tag. `None` when it names nothing.
fn tally(app: &App, scope: &str) -> Option<Tally> {
    let now = app.now();
    let slug = (scope != "all")
        .then(|| app.registry().find_by_slug(scope))
        .flatten();
    let mut t = Tally::default();
    let mut count = |status: Status| {
        t.total += 1;
        match status {
            Status::Down => t.down += 1,
            Status::Late => t.late += 1,
            _ => {}
        }
    };
    if let Some(uuid) = slug {
        let reg = app.registry();
        let e = reg.checks.get(&uuid)?;
        count(e.state.view(&e.settings, now).0);
        return Some(t);
    }
    let mut after = None;
    loop {
        after = app.registry().visit_slice(after.as_ref(), READ_SLICE, |e| {
            if scope == "all" || e.settings.tags.iter().any(|x| x == scope) {
                count(e.state.view(&e.settings, now).0);
            }
        });
        if after.is_none() {
            break;
        }
    }
    (scope == "all" || t.total > 0).then_some(t)
}

fn answer(kind: &'static str, body: String) -> Response {
    let mut r = body.into_response();
    let h = r.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(kind));
    // Badges are embedded in other sites' pages: short-lived, never stale for long.
    h.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("no-cache, max-age=0"),
    );
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static("default-src 'none'; style-src 'unsafe-inline'"),
    );
    r
}

fn not_found() -> Response {
    (
        StatusCode::NOT_FOUND,
        axum::Json(json!({"error": "no such badge: the token does not match the scope, or the scope names no check or tag"})),
    )
        .into_response()
}

pub(super) async fn badge(
    State(app): State<Arc<App>>,
    Path((token, file)): Path<(String, String)>,
    Query(query): Query<HashMap<String, String>>,
    headers: axum::http::HeaderMap,
    uri: axum::http::Uri,
) -> Response {
    let Some((scope, ext)) = file.rsplit_once('.') else {
        return not_found();
    };
    if !matches!(ext, "svg" | "json" | "shields") || !app.secrets.badge_ok(scope, &token) {
        return not_found();
    }
    // Nothing changed since the client's copy: a 304, without counting.
    let etag = {
        use std::hash::{Hash, Hasher};
        let mut h = std::collections::hash_map::DefaultHasher::new();
        uri.to_string().hash(&mut h);
        format!(
            "W/\"b{:x}-{:x}-{:016x}\"",
            app.change_seq(),
            app.now().as_second().div_euclid(15),
            h.finish()
        )
    };
    if let Some(r) = super::unchanged(&headers, &etag) {
        return r;
    }
    let Some(t) = tally(&app, scope) else {
        return not_found();
    };
    let with_late = query.get("states").is_some_and(|s| s == "3");
    let status = t.status(with_late);
    let mut response = match ext {
        "svg" => answer("image/svg+xml", svg(scope, status)),
        "json" => answer(
            "application/json",
            json!({"status": status, "total": t.total, "down": t.down, "late": t.late}).to_string(),
        ),
        _ => answer(
            "application/json",
            json!({
                "schemaVersion": 1,
                "label": scope,
                "message": status,
                "color": match status { "down" => "red", "late" => "yellow", _ => "brightgreen" },
            })
            .to_string(),
        ),
    };
    if let Ok(v) = HeaderValue::from_str(&etag) {
        response.headers_mut().insert(header::ETAG, v);
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_svg_has_a_title_a_role_and_escaped_text() {
        let s = svg("<db> & co", "down");
        assert!(s.contains("role=\"img\""));
        assert!(s.contains("<title>&lt;db&gt; &amp; co: down</title>"));
        assert!(!s.contains("<db>"));
        assert!(s.contains("#cf222e"));
        assert!(s.starts_with("<svg xmlns=\"http://www.w3.org/2000/svg\""));
        // Wider text, wider badge.
        let width = |s: &str| -> f64 {
            s.split("width=\"")
                .nth(1)
                .unwrap()
                .split('"')
                .next()
                .unwrap()
                .parse()
                .unwrap()
        };
        assert!(width(&svg("a-much-longer-label", "up")) > width(&svg("a", "up")));
    }

    #[test]
    fn late_shows_only_when_asked_for() {
        let t = Tally {
            total: 3,
            down: 0,
            late: 1,
        };
        assert_eq!(t.status(false), "up");
        assert_eq!(t.status(true), "late");
        let d = Tally {
            total: 3,
            down: 1,
            late: 1,
        };
        assert_eq!(d.status(true), "down");
        assert_eq!(Tally::default().status(true), "up");
    }
}
