//! One HTTP request, described as data by the kinds and sent here, once.

use std::io::Read;
use std::sync::OnceLock;
use std::time::Duration;

use super::Delivery;
use super::address::{GlobalResolver, Policy, refused_in};

/// What a kind wants sent: built without I/O, so tests can look at it.
#[derive(Debug, Clone, PartialEq)]
pub struct HttpRequest {
    /// `GET`, `POST`, `PUT`, `PATCH` or `DELETE`.
    pub method: String,
    pub url: String,
    pub headers: Vec<(String, String)>,
    pub body: Option<Vec<u8>>,
    /// The URL as error messages show it: secrets (tokens in the path, keys in the
    /// query, user and password) left out.
    pub shown_url: String,
}

impl HttpRequest {
    /// A POST of `body` as JSON, with the event id header; the URL is shown up to its path.
    pub fn post_json(url: String, body: &serde_json::Value, event_id: &str) -> HttpRequest {
        let shown_url = shown(&url, true);
        HttpRequest {
            method: "POST".into(),
            url,
            headers: vec![
                ("Content-Type".into(), "application/json".into()),
                ("X-Hb-Event-Id".into(), event_id.into()),
            ],
            body: Some(body.to_string().into_bytes()),
            shown_url,
        }
    }

    /// The value of a header (the first of that name, any case).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// Hides the whole path too (for URLs whose path is a secret: Slack, Discord, Teams, Telegram).
    pub fn hide_path(mut self) -> HttpRequest {
        self.shown_url = shown(&self.url, false);
        self
    }
}

/// `url` without user, password, query and fragment; with `keep_path` false, without
/// the path either (`https://hooks.slack.com/…`).
pub fn shown(url: &str, keep_path: bool) -> String {
    let (scheme, rest) = match url.find("://") {
        Some(i) => (&url[..i + 3], &url[i + 3..]),
        None => ("", url),
    };
    let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let authority = &rest[..end];
    let host = authority.rsplit('@').next().unwrap_or(authority);
    let after = &rest[end..];
    let path = after.split(['?', '#']).next().unwrap_or("");
    if keep_path {
        let cut = if path.len() < after.len() { "?…" } else { "" };
        format!("{scheme}{host}{path}{cut}")
    } else if path.len() > 1 || path.len() < after.len() {
        format!("{scheme}{host}/…")
    } else {
        format!("{scheme}{host}{path}")
    }
}

/// `hb/0.1.0`.
pub fn user_agent() -> String {
    format!("hb/{}", env!("CARGO_PKG_VERSION"))
}

fn config() -> ureq::config::ConfigBuilder<ureq::typestate::AgentScope> {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .max_redirects(0)
        .user_agent(user_agent())
}

/// The agent for `policy`. With private addresses allowed it is ureq's usual agent
/// (`HTTPS_PROXY` and friends honoured). Otherwise every name goes through
/// [`GlobalResolver`], so the address connected to is one that was checked, and no
/// proxy is used (a proxy would connect to the target itself, unchecked).
fn agent(policy: Policy) -> &'static ureq::Agent {
    static OPEN: OnceLock<ureq::Agent> = OnceLock::new();
    static CHECKED: OnceLock<ureq::Agent> = OnceLock::new();
    if policy.allow_private {
        OPEN.get_or_init(|| config().build().new_agent())
    } else {
        CHECKED.get_or_init(|| {
            ureq::Agent::with_parts(
                config().proxy(None).build(),
                ureq::unversioned::transport::DefaultConnector::new(),
                GlobalResolver::new(policy),
            )
        })
    }
}

/// Whether an answer's status code is worth another try: 408, 429 and 5xx are.
pub fn status_is_retryable(code: u16) -> bool {
    code == 408 || code == 429 || !(200..500).contains(&code)
}

/// Sends `request` once, bounded by `timeout`, connecting only where `policy` allows,
/// and says how it went. The error never quotes the receiver's answer: a status code
/// and its standard reason only.
pub fn send(request: &HttpRequest, timeout: Duration, policy: Policy) -> Delivery {
    let agent = agent(policy);
    let url = request.url.as_str();
    macro_rules! prepared {
        ($builder:expr) => {{
            let mut b = $builder;
            for (k, v) in &request.headers {
                b = b.header(k.as_str(), v.as_str());
            }
            b.config().timeout_global(Some(timeout)).build()
        }};
    }
    let body = request.body.as_deref();
    let result = match (request.method.as_str(), body) {
        ("GET", None) => prepared!(agent.get(url)).call(),
        ("GET", Some(b)) => prepared!(agent.get(url)).force_send_body().send(b),
        ("DELETE", None) => prepared!(agent.delete(url)).call(),
        ("DELETE", Some(b)) => prepared!(agent.delete(url)).force_send_body().send(b),
        ("PUT", b) => prepared!(agent.put(url)).send(b.unwrap_or_default()),
        ("PATCH", b) => prepared!(agent.patch(url)).send(b.unwrap_or_default()),
        (_, b) => prepared!(agent.post(url)).send(b.unwrap_or_default()),
    };
    match result {
        Ok(mut response) => {
            let code = response.status().as_u16();
            if (200..300).contains(&code) {
                // Reading the answer to its end lets the agent reuse the connection.
                let _ = std::io::copy(
                    &mut response.body_mut().as_reader().take(64 * 1024),
                    &mut std::io::sink(),
                );
                return Delivery::success(Some(code));
            }
            // The answer's body is not read into the error: it is stored and shown
            // through the API, and must not make hb a way to read what a URL answers.
            let reason = ureq::http::StatusCode::from_u16(code)
                .ok()
                .and_then(|s| s.canonical_reason())
                .map(|r| format!(" {r}"))
                .unwrap_or_default();
            let mut error = format!(
                "the receiver at {} answered {code}{reason}",
                request.shown_url
            );
            if let Some(location) = response
                .headers()
                .get("location")
                .filter(|_| (300..400).contains(&code))
            {
                let location = String::from_utf8_lossy(location.as_bytes());
                error.push_str(&format!(
                    " (a redirect to {}, which is not followed; use that URL)",
                    shown(&location, true)
                ));
            }
            if status_is_retryable(code) {
                Delivery::retryable(Some(code), error)
            } else {
                Delivery::permanent(Some(code), error)
            }
        }
        Err(e) => transport_error(&e, request, timeout),
    }
}

fn transport_error(e: &ureq::Error, request: &HttpRequest, timeout: Duration) -> Delivery {
    let to = &request.shown_url;
    if let Some(refused) = refused_in(e) {
        return Delivery::permanent(None, refused.to_string());
    }
    match e {
        ureq::Error::Timeout(_) => Delivery::retryable(
            None,
            format!(
                "no answer from {to} within {}",
                crate::duration::format(timeout)
            ),
        ),
        ureq::Error::HostNotFound => {
            Delivery::retryable(None, format!("the host of {to} was not found"))
        }
        ureq::Error::ConnectionFailed => {
            Delivery::retryable(None, format!("could not connect to {to}"))
        }
        ureq::Error::Io(io) => Delivery::retryable(None, format!("could not reach {to}: {io}")),
        ureq::Error::BadUri(_) | ureq::Error::Http(_) | ureq::Error::InvalidProxyUrl => {
            Delivery::permanent(
                None,
                format!(
                    "the request to {to} could not be built ({e}); check the channel's URL and headers"
                ),
            )
        }
        ureq::Error::Protocol(_) | ureq::Error::LargeResponseHeader(..) => {
            Delivery::retryable(None, format!("the receiver at {to} did not answer in HTTP"))
        }
        ureq::Error::ConnectProxyFailed(_) => {
            Delivery::retryable(None, format!("the proxy refused a tunnel to {to}"))
        }
        other => Delivery::retryable(None, format!("sending to {to} failed: {other}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shown_urls_hide_secrets() {
        assert_eq!(
            shown("https://u:p@hooks.example.com/a/b?token=x", true),
            "https://hooks.example.com/a/b?…"
        );
        assert_eq!(
            shown("https://hooks.slack.com/services/T/B/X", false),
            "https://hooks.slack.com/…"
        );
        assert_eq!(shown("http://127.0.0.1:9/", false), "http://127.0.0.1:9/");
        assert_eq!(shown("http://127.0.0.1:9", true), "http://127.0.0.1:9");
    }

    #[test]
    fn classification() {
        assert!(status_is_retryable(503));
        assert!(status_is_retryable(429));
        assert!(status_is_retryable(408));
        assert!(!status_is_retryable(404));
        assert!(!status_is_retryable(400));
        assert!(!status_is_retryable(301));
    }
}
