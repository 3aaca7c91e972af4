//! `gotify`: a message to a Gotify server.
//!
//! Settings: `server` (its base URL), `token` (an application token). POSTs JSON
//! `{title, message, priority, extras}` to `{server}/message` with the `X-Gotify-Key`
//! header; priority 8 for `down`, 5 otherwise; a click on the notification opens the check.

use serde_json::{Map, Value, json};

use super::http::{self, HttpRequest};
use super::settings::Fields;
use super::{Event, text};

#[derive(Debug, Clone, PartialEq)]
pub struct Gotify {
    pub server: String,
    pub token: String,
}

impl Gotify {
    pub(super) fn from_fields(f: &mut Fields) -> Result<Gotify, String> {
        f.only(&["server", "token"])?;
        let server = f.base_url("server", "https://gotify.example.com", None)?;
        let token = f.req_str("token", "an application token from Gotify's Apps page")?;
        Ok(Gotify { server, token })
    }

    pub(super) fn to_json(&self, map: &mut Map<String, Value>) {
        map.insert("server".into(), self.server.clone().into());
        map.insert("token".into(), self.token.clone().into());
    }

    /// The JSON payload for `event`.
    pub fn payload(event: &Event) -> Value {
        let mut payload = json!({
            "title": text::headline(event),
            "message": text::plain(event, 3000),
            "priority": if event.event == "down" { 8 } else { 5 },
            "extras": {
                "client::display": {"contentType": "text/plain"},
                "hb::event": {"event": event.event, "event_id": event.event_id},
            },
        });
        if !event.check_url.is_empty() {
            payload["extras"]["client::notification"] = json!({"click": {"url": event.check_url}});
        }
        payload
    }

    pub fn request(&self, event: &Event) -> HttpRequest {
        let url = format!("{}/message", self.server);
        let mut request = HttpRequest::post_json(url, &Self::payload(event), &event.event_id);
        request
            .headers
            .push(("X-Gotify-Key".into(), self.token.clone()));
        request.shown_url = http::shown(&request.url, true);
        request
    }
}
