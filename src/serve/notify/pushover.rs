//! `pushover`: a Pushover notification.
//!
//! Settings: `user_key`, `app_token`; optional `api_url` (default
//! `https://api.pushover.net`). POSTs a form to `{api_url}/1/messages.json` with `token`,
//! `user`, `title`, `message`, `url`, `url_title`, `priority` (1 for `down`, 0 otherwise)
//! and `timestamp`.

use serde_json::{Map, Value};

use super::http::{self, HttpRequest};
use super::settings::Fields;
use super::{Event, text};

pub const DEFAULT_API_URL: &str = "https://api.pushover.net";

#[derive(Debug, Clone, PartialEq)]
pub struct Pushover {
    pub user_key: String,
    pub app_token: String,
    pub api_url: String,
}

impl Pushover {
    pub(super) fn from_fields(f: &mut Fields) -> Result<Pushover, String> {
        f.only(&["user_key", "app_token", "api_url"])?;
        let user_key = f.req_str(
            "user_key",
            "your user (or group) key from the Pushover dashboard",
        )?;
        let app_token = f.req_str("app_token", "the API token of a Pushover application")?;
        let api_url = f.base_url("api_url", DEFAULT_API_URL, Some(DEFAULT_API_URL))?;
        Ok(Pushover {
            user_key,
            app_token,
            api_url,
        })
    }

    pub(super) fn to_json(&self, map: &mut Map<String, Value>) {
        map.insert("user_key".into(), self.user_key.clone().into());
        map.insert("app_token".into(), self.app_token.clone().into());
        map.insert("api_url".into(), self.api_url.clone().into());
    }

    /// The form fields for `event`, in order.
    pub fn form(&self, event: &Event) -> Vec<(&'static str, String)> {
        let mut form = vec![
            ("token", self.app_token.clone()),
            ("user", self.user_key.clone()),
            ("title", text::head(&text::headline(event), 250)),
            ("message", text::head(&text::plain(event, 600), 1024)),
            (
                "priority",
                if event.event == "down" { "1" } else { "0" }.to_string(),
            ),
            ("timestamp", event.at.as_second().to_string()),
        ];
        if !event.check_url.is_empty() && event.check_url.len() <= 512 {
            form.push(("url", event.check_url.clone()));
            form.push(("url_title", "Open check".into()));
        }
        form
    }

    pub fn request(&self, event: &Event) -> HttpRequest {
        let url = format!("{}/1/messages.json", self.api_url);
        let body = self
            .form(event)
            .iter()
            .map(|(k, v)| format!("{k}={}", text::percent_encode(v)))
            .collect::<Vec<_>>()
            .join("&");
        HttpRequest {
            method: "POST".into(),
            shown_url: http::shown(&url, true),
            url,
            headers: vec![
                (
                    "Content-Type".into(),
                    "application/x-www-form-urlencoded".into(),
                ),
                ("X-Hb-Event-Id".into(), event.event_id.clone()),
            ],
            body: Some(body.into_bytes()),
        }
    }
}
