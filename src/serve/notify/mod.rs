//! Alert channels: how one event is delivered once to one channel.

use serde::Serialize;
use serde_json::{Value, json};
use std::time::Duration;

#[derive(Debug, Clone, Serialize)]
pub struct Event {
    pub event_id: String,
    pub event: String,
    pub check: Value,
    pub reason: Option<String>,
    pub at: jiff::Timestamp,
    pub repeat: u32,
    pub body: Option<String>,
    pub check_url: String,
}

#[derive(Debug, Clone, PartialEq)]
pub enum ChannelKind {
    Webhook { url: String },
}

#[derive(Debug, Clone, PartialEq)]
pub struct Delivery {
    pub ok: bool,
    pub status_code: Option<u16>,
    pub error: Option<String>,
    pub permanent: bool,
}

impl ChannelKind {
    pub fn from_json(value: &Value) -> Result<ChannelKind, String> {
        match value.get("kind").and_then(Value::as_str) {
            Some("webhook") => Ok(ChannelKind::Webhook {
                url: value
                    .get("url")
                    .and_then(Value::as_str)
                    .ok_or("url: required")?
                    .to_string(),
            }),
            _ => Err("kind: unknown; use webhook".into()),
        }
    }
    pub fn to_json(&self) -> Value {
        match self {
            ChannelKind::Webhook { url } => json!({"kind": "webhook", "url": url}),
        }
    }
    pub fn kind_name(&self) -> &'static str {
        "webhook"
    }
}

pub fn deliver(channel: &ChannelKind, event: &Event, timeout: Duration) -> Delivery {
    let ChannelKind::Webhook { url } = channel;
    let body = json!({
        "event": event.event, "event_id": event.event_id, "check": event.check,
        "reason": event.reason, "at": super::check::rfc3339(event.at), "repeat": event.repeat,
    });
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(timeout))
        .build()
        .into();
    match agent
        .post(url)
        .header("Content-Type", "application/json")
        .send(body.to_string())
    {
        Ok(resp) => {
            let code = resp.status().as_u16();
            let ok = (200..300).contains(&code);
            Delivery {
                ok,
                status_code: Some(code),
                error: (!ok).then(|| format!("HTTP {code} from {url}")),
                permanent: !ok && (400..500).contains(&code) && code != 408 && code != 429,
            }
        }
        Err(e) => Delivery {
            ok: false,
            status_code: None,
            error: Some(format!("{url}: {e}")),
            permanent: false,
        },
    }
}
