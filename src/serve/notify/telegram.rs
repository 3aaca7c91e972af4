//! `telegram`: a message from a bot to a chat.
//!
//! Settings: `bot_token`, `chat_id` (a number, or `@channelname`); optional `api_url`
//! (default `https://api.telegram.org`). POSTs JSON `{chat_id, text, parse_mode: "HTML",
//! link_preview_options}` to `{api_url}/bot{bot_token}/sendMessage`; every text from the
//! check is HTML-escaped.

use serde_json::{Map, Value, json};

use super::http::HttpRequest;
use super::settings::Fields;
use super::{Event, text};

pub const DEFAULT_API_URL: &str = "https://api.telegram.org";

#[derive(Debug, Clone, PartialEq)]
pub struct Telegram {
    pub bot_token: String,
    pub chat_id: String,
    pub api_url: String,
}

impl Telegram {
    pub(super) fn from_fields(f: &mut Fields) -> Result<Telegram, String> {
        f.only(&["bot_token", "chat_id", "api_url"])?;
        let what = "the token @BotFather gave, like \"123456:ABC-DEF…\"";
        let bot_token = f.req_str("bot_token", what)?;
        if bot_token
            .chars()
            .any(|c| c.is_whitespace() || c == '/' || c == '?' || c == '#')
        {
            return Err(f.wrong("bot_token", "contains a space, / , ? or #", what));
        }
        let chat_id = f.req_str_or_int(
            "chat_id",
            "the chat's id (a number like -1001234567890) or \"@channelname\"",
        )?;
        let api_url = f.base_url("api_url", DEFAULT_API_URL, Some(DEFAULT_API_URL))?;
        Ok(Telegram {
            bot_token,
            chat_id,
            api_url,
        })
    }

    pub(super) fn to_json(&self, map: &mut Map<String, Value>) {
        map.insert("bot_token".into(), self.bot_token.clone().into());
        map.insert("chat_id".into(), self.chat_id.clone().into());
        map.insert("api_url".into(), self.api_url.clone().into());
    }

    /// The message text, in Telegram's HTML subset.
    pub fn html(event: &Event) -> String {
        let e = text::html_escape;
        let mut out = format!(
            "<b>{}</b>\n{}\n",
            e(&text::headline(event)),
            e(&text::sentence(event))
        );
        for (label, value) in text::details(event) {
            out.push_str(&format!("\n{}: {}", e(label), e(&value)));
        }
        if let Some(output) = text::output(event) {
            out.push_str(&format!(
                "\n\n<pre>{}</pre>",
                e(&text::tail(output.trim_end(), 2500))
            ));
        }
        if !event.check_url.is_empty() {
            out.push_str(&format!(
                "\n\n<a href=\"{}\">Open check</a>",
                e(&event.check_url)
            ));
        }
        out
    }

    /// The JSON payload for `event`.
    pub fn payload(&self, event: &Event) -> Value {
        let chat_id = match self.chat_id.parse::<i64>() {
            Ok(n) => Value::from(n),
            Err(_) => Value::from(self.chat_id.clone()),
        };
        json!({
            "chat_id": chat_id,
            "text": Self::html(event),
            "parse_mode": "HTML",
            "link_preview_options": {"is_disabled": true},
        })
    }

    pub fn request(&self, event: &Event) -> HttpRequest {
        let url = format!("{}/bot{}/sendMessage", self.api_url, self.bot_token);
        let mut request = HttpRequest::post_json(url, &self.payload(event), &event.event_id);
        // The token is in the path: never show it.
        request.shown_url = format!("{}/bot…/sendMessage", self.api_url);
        request
    }
}
