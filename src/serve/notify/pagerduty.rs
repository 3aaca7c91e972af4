//! `pagerduty`: PagerDuty Events API v2.
//!
//! Settings: `routing_key` (an integration key); optional `api_url` (default
//! `https://events.pagerduty.com`). POSTs to `{api_url}/v2/enqueue`:
//! - `down` → `trigger`, severity `critical`;
//! - `up` → `resolve` (closes the incident `down` opened);
//! - `slow`, `too_fast` → `trigger`, severity `warning`;
//! - `test` → `trigger`, severity `info`, with its own dedup key (it never merges into a
//!   real incident; resolve it by hand).
//!
//! One incident per check: `dedup_key` is `hb-{uuid}` (`hb-{uuid}-test` for tests).

use serde_json::{Map, Value, json};

use super::http::{self, HttpRequest};
use super::settings::Fields;
use super::{Event, text};

pub const DEFAULT_API_URL: &str = "https://events.pagerduty.com";

#[derive(Debug, Clone, PartialEq)]
pub struct Pagerduty {
    pub routing_key: String,
    pub api_url: String,
}

/// `hb-{uuid}`: one incident per check.
pub fn dedup_key(event: &Event) -> String {
    let mut id = text::check_field(event, "uuid");
    if id.is_empty() {
        id = text::check_field(event, "slug");
    }
    if event.event == "test" {
        format!("hb-{id}-test")
    } else {
        format!("hb-{id}")
    }
}

impl Pagerduty {
    pub(super) fn from_fields(f: &mut Fields) -> Result<Pagerduty, String> {
        f.only(&["routing_key", "api_url"])?;
        let routing_key = f.req_str(
            "routing_key",
            "the 32-character integration key of an Events API v2 integration",
        )?;
        let api_url = f.base_url("api_url", DEFAULT_API_URL, Some(DEFAULT_API_URL))?;
        Ok(Pagerduty {
            routing_key,
            api_url,
        })
    }

    pub(super) fn to_json(&self, map: &mut Map<String, Value>) {
        map.insert("routing_key".into(), self.routing_key.clone().into());
        map.insert("api_url".into(), self.api_url.clone().into());
    }

    /// The JSON payload for `event`.
    pub fn payload(&self, event: &Event) -> Value {
        if event.event == "up" {
            return json!({
                "routing_key": self.routing_key,
                "event_action": "resolve",
                "dedup_key": dedup_key(event),
            });
        }
        let severity = match event.event.as_str() {
            "down" => "critical",
            "slow" | "too_fast" => "warning",
            _ => "info",
        };
        let mut details = json!({
            "event": event.event,
            "event_id": event.event_id,
            "reason": event.reason,
            "repeat": event.repeat,
            "status": text::check_field(event, "status"),
            "last_ping": text::check_field(event, "last_ping"),
            "check_url": event.check_url,
        });
        if let Some(output) = text::output(event) {
            details["output"] = text::tail(output.trim_end(), 4000).into();
        }
        let slug = text::check_field(event, "slug");
        let mut payload = json!({
            "summary": text::head(&text::headline(event), 1024),
            "source": if slug.is_empty() { "hb".to_string() } else { slug },
            "severity": severity,
            "timestamp": text::rfc3339(event.at),
            "component": text::check_name(event),
            "class": event.event,
            "custom_details": details,
        });
        if let Some(reason) = event.reason.as_deref().filter(|r| !r.is_empty()) {
            payload["class"] = format!("{} ({reason})", event.event).into();
        }
        let mut body = json!({
            "routing_key": self.routing_key,
            "event_action": "trigger",
            "dedup_key": dedup_key(event),
            "payload": payload,
            "client": "hb",
        });
        if !event.check_url.is_empty() {
            body["client_url"] = event.check_url.clone().into();
            body["links"] = json!([{"href": event.check_url, "text": "Open check"}]);
        }
        body
    }

    pub fn request(&self, event: &Event) -> HttpRequest {
        let url = format!("{}/v2/enqueue", self.api_url);
        let mut request = HttpRequest::post_json(url, &self.payload(event), &event.event_id);
        request.shown_url = http::shown(&request.url, true);
        request
    }
}
