//! `webhook`: any HTTP endpoint.
//!
//! Settings: `url`; optional `method` (`POST` by default; `GET`, `PUT`, `PATCH`, `DELETE`),
//! `headers` (a table), `body`. `url`, header values and `body` are templates
//! (see [`super::template`]). Without `body`, `GET` and `DELETE` send none and the other
//! methods send the default JSON body of [`default_body`].

use std::collections::BTreeMap;

use serde_json::{Map, Value, json};

use super::http::{self, HttpRequest};
use super::settings::Fields;
use super::template::{self, Escape, Vars};
use super::{Event, text};

const METHODS: [&str; 5] = ["GET", "POST", "PUT", "PATCH", "DELETE"];

#[derive(Debug, Clone, PartialEq)]
pub struct Webhook {
    pub url: String,
    pub method: String,
    pub headers: BTreeMap<String, String>,
    pub body: Option<String>,
}

/// `{"event", "event_id", "check": {…}, "reason", "at", "repeat"}` (and `missed_slots`
/// on a `down` alert whose reason is `missed`): the body a webhook without `body`
/// sends, and the value of `$JSON`.
pub fn default_body(event: &Event) -> Value {
    let mut body = json!({
        "event": event.event,
        "event_id": event.event_id,
        "check": event.check,
        "reason": event.reason,
        "at": text::rfc3339(event.at),
        "repeat": event.repeat,
    });
    if let Some(n) = event.missed_slots {
        body["missed_slots"] = json!(n);
    }
    body
}

fn is_token(name: &str) -> bool {
    !name.is_empty()
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b))
}

impl Webhook {
    pub(super) fn from_fields(f: &mut Fields) -> Result<Webhook, String> {
        f.only(&["url", "method", "headers", "body"])?;
        let url = f.req_url("url", "https://hooks.example.com/hb?check=$UUID")?;
        let method = match f.opt_str("method", "one of GET, POST, PUT, PATCH, DELETE")? {
            None => "POST".to_string(),
            Some(m) => {
                let upper = m.trim().to_ascii_uppercase();
                if !METHODS.contains(&upper.as_str()) {
                    return Err(f.wrong(
                        "method",
                        &format!("is {m:?}"),
                        "one of GET, POST, PUT, PATCH, DELETE",
                    ));
                }
                upper
            }
        };
        let what = "a table of header names to values, like { Authorization = \"Bearer …\" }";
        let headers = f.opt_str_map("headers", what)?.unwrap_or_default();
        for (name, value) in &headers {
            if !is_token(name) {
                return Err(f.wrong(
                    "headers",
                    &format!("has {name:?}, which is not a header name"),
                    "names of letters, digits and - only, like \"X-Api-Key\"",
                ));
            }
            if value.chars().any(|c| c.is_control() && c != '\t') {
                return Err(f.wrong(
                    "headers",
                    &format!("has a line break or control character in {name:?}"),
                    "each value on one line",
                ));
            }
        }
        let body = match f.raw("body") {
            Some(Value::String(s)) => Some(s.clone()),
            None => None,
            Some(other) => {
                return Err(f.wrong(
                    "body",
                    &format!("is {}", super::settings::type_name(other)),
                    "the request body as a string (a template, e.g. '{\"text\": \"$NAME is $EVENT\"}')",
                ));
            }
        };
        Ok(Webhook {
            url,
            method,
            headers,
            body,
        })
    }

    pub(super) fn to_json(&self, map: &mut Map<String, Value>) {
        map.insert("url".into(), self.url.clone().into());
        map.insert("method".into(), self.method.clone().into());
        if !self.headers.is_empty() {
            map.insert("headers".into(), json!(self.headers));
        }
        if let Some(body) = &self.body {
            map.insert("body".into(), body.clone().into());
        }
    }

    /// The request for `event`, templates filled in.
    pub fn request(&self, event: &Event) -> HttpRequest {
        let vars = Vars::new(event);
        let url = template::render(&self.url, &vars, Escape::Url);
        let mut headers = vec![("X-Hb-Event-Id".to_string(), event.event_id.clone())];
        let body = match &self.body {
            Some(t) => Some(template::render(t, &vars, Escape::Json).into_bytes()),
            None if self.method == "GET" || self.method == "DELETE" => None,
            None => Some(default_body(event).to_string().into_bytes()),
        };
        if body.is_some() {
            headers.push(("Content-Type".into(), "application/json".into()));
        }
        for (name, value) in &self.headers {
            let value = template::render(value, &vars, Escape::Header);
            headers.retain(|(k, _)| !k.eq_ignore_ascii_case(name));
            headers.push((name.clone(), value));
        }
        HttpRequest {
            method: self.method.clone(),
            shown_url: http::shown(&url, true),
            url,
            headers,
            body,
        }
    }
}
