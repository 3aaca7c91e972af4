//! `msteams`: a Microsoft Teams webhook (`url`): a Workflows "When a Teams webhook request
//! is received" URL, or a legacy incoming-webhook connector URL.
//!
//! Sends the documented Adaptive Card form: `{"type": "message", "attachments":
//! [{"contentType": "application/vnd.microsoft.card.adaptive", "content": {AdaptiveCard}}]}`,
//! with a container styled by event (down `attention`, up `good`, slow and too_fast
//! `warning`, test `emphasis`), the details as facts, the output, and an "Open check" action.

use serde_json::{Map, Value, json};

use super::http::HttpRequest;
use super::settings::Fields;
use super::{Event, text};

#[derive(Debug, Clone, PartialEq)]
pub struct Msteams {
    pub url: String,
}

fn style(event: &Event) -> &'static str {
    match event.event.as_str() {
        "down" => "attention",
        "up" => "good",
        "slow" | "too_fast" => "warning",
        _ => "emphasis",
    }
}

impl Msteams {
    pub(super) fn from_fields(f: &mut Fields) -> Result<Msteams, String> {
        f.only(&["url"])?;
        let url = f.req_url(
            "url",
            "https://prod-00.westeurope.logic.azure.com/workflows/…",
        )?;
        Ok(Msteams { url })
    }

    pub(super) fn to_json(&self, map: &mut Map<String, Value>) {
        map.insert("url".into(), self.url.clone().into());
    }

    /// The JSON payload for `event`.
    pub fn payload(event: &Event) -> Value {
        let facts: Vec<Value> = text::details(event)
            .into_iter()
            .map(|(label, value)| json!({"title": label, "value": value}))
            .collect();
        let mut body = vec![
            json!({
                "type": "Container",
                "style": style(event),
                "bleed": true,
                "items": [
                    {"type": "TextBlock", "text": text::headline(event), "weight": "Bolder", "size": "Medium", "wrap": true},
                    {"type": "TextBlock", "text": text::sentence(event), "wrap": true},
                ],
            }),
            json!({"type": "FactSet", "facts": facts}),
        ];
        if let Some(output) = text::output(event) {
            body.push(json!({
                "type": "TextBlock",
                "text": text::tail(output.trim_end(), 2000),
                "fontType": "Monospace",
                "wrap": true,
                "separator": true,
            }));
        }
        body.push(json!({
            "type": "TextBlock",
            "text": format!("hb · event {}", event.event_id),
            "isSubtle": true,
            "size": "Small",
            "wrap": true,
        }));
        let mut card = json!({
            "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
            "type": "AdaptiveCard",
            "version": "1.4",
            "msteams": {"width": "Full"},
            "body": body,
        });
        if !event.check_url.is_empty() {
            card["actions"] =
                json!([{"type": "Action.OpenUrl", "title": "Open check", "url": event.check_url}]);
        }
        json!({
            "type": "message",
            "attachments": [{
                "contentType": "application/vnd.microsoft.card.adaptive",
                "contentUrl": null,
                "content": card,
            }],
        })
    }

    pub fn request(&self, event: &Event) -> HttpRequest {
        HttpRequest::post_json(self.url.clone(), &Self::payload(event), &event.event_id).hide_path()
    }
}
