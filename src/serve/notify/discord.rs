//! `discord`: a Discord webhook (`url`, `https://discord.com/api/webhooks/…`).
//!
//! Sends `content` (the headline) and one embed with an integer colour by event, a link
//! to the check, the details as fields and the tail of the job's output. Mentions in
//! names or output (`@everyone`) are not allowed to ping anyone.

use serde_json::{Map, Value, json};

use super::http::HttpRequest;
use super::settings::Fields;
use super::{Event, text};

#[derive(Debug, Clone, PartialEq)]
pub struct Discord {
    pub url: String,
}

/// Escapes Discord markdown (`\ * _ ~ ` | >`).
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if matches!(
            c,
            '\\' | '*' | '_' | '~' | '`' | '|' | '>' | '#' | '[' | ']'
        ) {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

impl Discord {
    pub(super) fn from_fields(f: &mut Fields) -> Result<Discord, String> {
        f.only(&["url"])?;
        let url = f.req_url("url", "https://discord.com/api/webhooks/123/abc")?;
        Ok(Discord { url })
    }

    pub(super) fn to_json(&self, map: &mut Map<String, Value>) {
        map.insert("url".into(), self.url.clone().into());
    }

    /// The JSON payload for `event`.
    pub fn payload(event: &Event) -> Value {
        let mut description = escape(&text::sentence(event));
        if let Some(output) = text::output(event) {
            let output = text::tail(output.trim_end(), 1500).replace("```", "`\u{200b}``");
            description.push_str(&format!("\n```\n{output}\n```"));
        }
        let fields: Vec<Value> = text::details(event)
            .into_iter()
            .map(|(label, value)| json!({"name": label, "value": text::head(&value, 1000), "inline": true}))
            .collect();
        let mut embed = json!({
            "title": text::head(&text::headline(event), 256),
            "description": description,
            "color": text::colour(event),
            "fields": fields,
            "timestamp": text::rfc3339(event.at),
            "footer": {"text": format!("hb · event {}", event.event_id)},
        });
        if !event.check_url.is_empty() {
            embed["url"] = event.check_url.clone().into();
        }
        json!({
            "content": text::head(&escape(&text::headline(event)), 2000),
            "embeds": [embed],
            "allowed_mentions": {"parse": []},
        })
    }

    pub fn request(&self, event: &Event) -> HttpRequest {
        HttpRequest::post_json(self.url.clone(), &Self::payload(event), &event.event_id).hide_path()
    }
}
