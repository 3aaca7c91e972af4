//! `slack`: a Slack incoming webhook (`url`, `https://hooks.slack.com/services/…`).
//!
//! Sends `text` (the headline, used in notifications) and one attachment coloured by
//! event (down red, up green, slow and too_fast orange, test grey) with a link to the
//! check, the details as fields, and the tail of the job's output.

use serde_json::{Map, Value, json};

use super::http::HttpRequest;
use super::settings::Fields;
use super::{Event, text};

#[derive(Debug, Clone, PartialEq)]
pub struct Slack {
    pub url: String,
}

/// Escapes `& < >` as Slack's mrkdwn wants.
pub fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

impl Slack {
    pub(super) fn from_fields(f: &mut Fields) -> Result<Slack, String> {
        f.only(&["url"])?;
        let url = f.req_url("url", "https://hooks.slack.com/services/T000/B000/XXXX")?;
        Ok(Slack { url })
    }

    pub(super) fn to_json(&self, map: &mut Map<String, Value>) {
        map.insert("url".into(), self.url.clone().into());
    }

    /// The JSON payload for `event`.
    pub fn payload(event: &Event) -> Value {
        let mut body = escape(&text::sentence(event));
        if let Some(output) = text::output(event) {
            let output = text::tail(output.trim_end(), 2500).replace("```", "`\u{200b}``");
            body.push_str(&format!("\n```{}```", escape(&output)));
        }
        let fields: Vec<Value> = text::details(event)
            .into_iter()
            .map(|(label, value)| json!({"title": label, "value": escape(&value), "short": true}))
            .collect();
        let mut attachment = json!({
            "color": text::colour_hex(event),
            "fallback": text::headline(event),
            "title": escape(&text::headline(event)),
            "text": body,
            "fields": fields,
            "footer": format!("hb · event {}", event.event_id),
            "ts": event.at.as_second(),
            "mrkdwn_in": ["text"],
        });
        if !event.check_url.is_empty() {
            attachment["title_link"] = event.check_url.clone().into();
        }
        json!({
            "text": escape(&text::headline(event)),
            "attachments": [attachment],
        })
    }

    pub fn request(&self, event: &Event) -> HttpRequest {
        HttpRequest::post_json(self.url.clone(), &Self::payload(event), &event.event_id).hide_path()
    }
}
