//! `ntfy`: a topic on an ntfy server.
//!
//! Settings: `topic`; optional `server` (default `https://ntfy.sh`), `priority` (1–5 or
//! `min`, `low`, `default`, `high`, `max`; without it `down` is `high` and the rest
//! `default`), `token` (sent as `Authorization: Bearer …`).
//! POSTs the plain-text alert to `{server}/{topic}` with `Title`, `Priority`, `Tags` and
//! `Click` headers (non-ASCII titles as RFC 2047 encoded words, which ntfy decodes).

use serde_json::{Map, Value};

use super::http::{self, HttpRequest};
use super::settings::Fields;
use super::{Event, text};

pub const DEFAULT_SERVER: &str = "https://ntfy.sh";

#[derive(Debug, Clone, PartialEq)]
pub struct Ntfy {
    pub server: String,
    pub topic: String,
    pub priority: Option<u8>,
    pub token: Option<String>,
}

fn parse_priority(value: &Value) -> Option<u8> {
    match value {
        Value::Number(n) => n.as_u64().filter(|p| (1..=5).contains(p)).map(|p| p as u8),
        Value::String(s) => match s.trim().to_ascii_lowercase().as_str() {
            "1" | "min" => Some(1),
            "2" | "low" => Some(2),
            "3" | "default" => Some(3),
            "4" | "high" => Some(4),
            "5" | "max" | "urgent" => Some(5),
            _ => None,
        },
        _ => None,
    }
}

/// ntfy tags (emoji short codes) by event.
fn tags(event: &Event) -> &'static str {
    match event.event.as_str() {
        "down" => "rotating_light,hb",
        "up" => "white_check_mark,hb",
        "slow" => "hourglass,hb",
        "too_fast" => "zap,hb",
        _ => "test_tube,hb",
    }
}

impl Ntfy {
    pub(super) fn from_fields(f: &mut Fields) -> Result<Ntfy, String> {
        f.only(&["server", "topic", "priority", "token"])?;
        let server = f.base_url("server", "https://ntfy.sh", Some(DEFAULT_SERVER))?;
        let what = "the topic name, letters, digits, - and _ (e.g. \"hb-alerts\")";
        let topic = f.req_str("topic", what)?;
        if !topic
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
            || topic.len() > 64
        {
            return Err(f.wrong("topic", &format!("is {topic:?}"), what));
        }
        let priority = match f.raw("priority") {
            None => None,
            Some(v) => Some(parse_priority(v).ok_or_else(|| {
                f.wrong(
                    "priority",
                    &format!("is {v}"),
                    "1 to 5, or one of min, low, default, high, max",
                )
            })?),
        };
        let token = f.opt_str("token", "an access token like \"tk_…\"")?;
        Ok(Ntfy {
            server,
            topic,
            priority,
            token,
        })
    }

    pub(super) fn to_json(&self, map: &mut Map<String, Value>) {
        map.insert("server".into(), self.server.clone().into());
        map.insert("topic".into(), self.topic.clone().into());
        if let Some(p) = self.priority {
            map.insert("priority".into(), p.into());
        }
        if let Some(t) = &self.token {
            map.insert("token".into(), t.clone().into());
        }
    }

    /// The priority sent for `event`.
    pub fn priority_for(&self, event: &Event) -> u8 {
        self.priority
            .unwrap_or(if event.event == "down" { 4 } else { 3 })
    }

    pub fn request(&self, event: &Event) -> HttpRequest {
        let url = format!("{}/{}", self.server, self.topic);
        // ntfy turns a message over 4096 bytes into an attachment: keep under that.
        let message = text::clip_bytes(&text::plain(event, 2500), 4000).to_string();
        let mut headers = vec![
            (
                "Title".to_string(),
                text::header_value(&text::headline(event)),
            ),
            ("Priority".into(), self.priority_for(event).to_string()),
            ("Tags".into(), tags(event).into()),
            ("Content-Type".into(), "text/plain; charset=utf-8".into()),
            ("X-Hb-Event-Id".into(), event.event_id.clone()),
        ];
        if !event.check_url.is_empty() {
            headers.push(("Click".into(), text::header_value(&event.check_url)));
        }
        if let Some(token) = &self.token {
            headers.push(("Authorization".into(), format!("Bearer {token}")));
        }
        HttpRequest {
            method: "POST".into(),
            shown_url: http::shown(&url, true),
            url,
            headers,
            body: Some(message.into_bytes()),
        }
    }
}
