//! Alert channels: how one alert event is delivered, once, to one channel.
//!
//! Each kind lives in its own file and has two halves: a pure part that turns an
//! [`Event`] into what goes on the wire (an [`http::HttpRequest`], an email, an
//! environment), unit-tested without I/O, and the one attempt that sends it.
//! Retries, backoff and persistence belong to the caller (the outbox): [`deliver`]
//! makes exactly one attempt, blocks for at most about its `timeout`, and never panics.

pub mod command;
pub mod discord;
pub mod email;
pub mod gotify;
pub mod http;
pub mod msteams;
pub mod ntfy;
pub mod pagerduty;
pub mod pushover;
pub mod settings;
pub mod slack;
pub mod telegram;
pub mod template;
pub mod text;
pub mod webhook;

use std::time::Duration;

use serde_json::{Map, Value};

use settings::Fields;

/// One alert, as the outbox hands it over. Stable across retries.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Event {
    /// Stable id, sent with every attempt (header `X-Hb-Event-Id` where the kind allows, and in payloads).
    pub event_id: String,
    /// `down`, `up`, `slow`, `too_fast` or `test`.
    pub event: String,
    /// The check's JSON as the API shows it (`uuid`, `name`, `slug`, `status`, `last_ping`, ...).
    pub check: Value,
    /// `missed`, `stuck`, `failed`, `exit code N`, or the slow / too-fast detail.
    pub reason: Option<String>,
    /// When the event happened.
    #[serde(serialize_with = "serialize_at")]
    pub at: jiff::Timestamp,
    /// 0 for the first alert of a down period, then 1, 2, ... for reminders.
    pub repeat: u32,
    /// The last ping's body (the job's output), if any.
    pub body: Option<String>,
    /// A link to the check for humans.
    pub check_url: String,
}

fn serialize_at<S: serde::Serializer>(at: &jiff::Timestamp, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&text::rfc3339(*at))
}

/// A channel's kind and its validated settings.
///
/// The JSON and TOML form is `{"kind": "webhook", "url": ..., ...}`; see
/// [`ChannelKind::from_json`] and each kind's module for the keys.
#[derive(Debug, Clone, PartialEq)]
pub enum ChannelKind {
    Webhook(webhook::Webhook),
    Slack(slack::Slack),
    Discord(discord::Discord),
    Msteams(msteams::Msteams),
    Ntfy(ntfy::Ntfy),
    Telegram(telegram::Telegram),
    Gotify(gotify::Gotify),
    Pushover(pushover::Pushover),
    Pagerduty(pagerduty::Pagerduty),
    Email(email::Email),
    Command(command::Command),
}

/// Every kind's name, in the order the documentation lists them.
pub const KIND_NAMES: [&str; 11] = [
    "webhook",
    "slack",
    "discord",
    "msteams",
    "ntfy",
    "telegram",
    "gotify",
    "pushover",
    "pagerduty",
    "email",
    "command",
];

impl ChannelKind {
    /// Validates a channel's settings.
    ///
    /// Unknown keys, missing required keys, wrong types, bad URLs, bad `smtp` URLs and bad
    /// durations are refused with one sentence naming the field, what is wrong and what is
    /// accepted. A `name` key is ignored (the caller owns it).
    pub fn from_json(value: &Value) -> Result<ChannelKind, String> {
        let Some(map) = value.as_object() else {
            return Err(format!(
                "a channel must be an object like {{\"kind\": \"webhook\", \"url\": \"https://...\"}}, not {}",
                settings::type_name(value)
            ));
        };
        let kind = match map.get("kind") {
            None | Some(Value::Null) => {
                return Err(format!(
                    "channel field \"kind\" is missing; write one of {}",
                    KIND_NAMES.join(", ")
                ));
            }
            Some(Value::String(kind)) => kind.as_str(),
            Some(other) => {
                return Err(format!(
                    "channel field \"kind\" is {}; write one of {} as a string",
                    settings::type_name(other),
                    KIND_NAMES.join(", ")
                ));
            }
        };
        let Some(kind) = KIND_NAMES.iter().copied().find(|k| *k == kind) else {
            return Err(format!(
                "channel field \"kind\" is {kind:?}, which is not a channel kind; write one of {}",
                KIND_NAMES.join(", ")
            ));
        };
        let mut fields = Fields::new(kind, map);
        let channel = match kind {
            "webhook" => ChannelKind::Webhook(webhook::Webhook::from_fields(&mut fields)?),
            "slack" => ChannelKind::Slack(slack::Slack::from_fields(&mut fields)?),
            "discord" => ChannelKind::Discord(discord::Discord::from_fields(&mut fields)?),
            "msteams" => ChannelKind::Msteams(msteams::Msteams::from_fields(&mut fields)?),
            "ntfy" => ChannelKind::Ntfy(ntfy::Ntfy::from_fields(&mut fields)?),
            "telegram" => ChannelKind::Telegram(telegram::Telegram::from_fields(&mut fields)?),
            "gotify" => ChannelKind::Gotify(gotify::Gotify::from_fields(&mut fields)?),
            "pushover" => ChannelKind::Pushover(pushover::Pushover::from_fields(&mut fields)?),
            "pagerduty" => ChannelKind::Pagerduty(pagerduty::Pagerduty::from_fields(&mut fields)?),
            "email" => ChannelKind::Email(email::Email::from_fields(&mut fields)?),
            _ => ChannelKind::Command(command::Command::from_fields(&mut fields)?),
        };
        Ok(channel)
    }

    /// The settings back as JSON, including `"kind"`, with the same keys [`from_json`]
    /// accepts (defaults filled in, durations canonical); `from_json(to_json(k)) == k`.
    ///
    /// [`from_json`]: ChannelKind::from_json
    pub fn to_json(&self) -> Value {
        let mut map = Map::new();
        map.insert("kind".into(), Value::from(self.kind_name()));
        match self {
            ChannelKind::Webhook(c) => c.to_json(&mut map),
            ChannelKind::Slack(c) => c.to_json(&mut map),
            ChannelKind::Discord(c) => c.to_json(&mut map),
            ChannelKind::Msteams(c) => c.to_json(&mut map),
            ChannelKind::Ntfy(c) => c.to_json(&mut map),
            ChannelKind::Telegram(c) => c.to_json(&mut map),
            ChannelKind::Gotify(c) => c.to_json(&mut map),
            ChannelKind::Pushover(c) => c.to_json(&mut map),
            ChannelKind::Pagerduty(c) => c.to_json(&mut map),
            ChannelKind::Email(c) => c.to_json(&mut map),
            ChannelKind::Command(c) => c.to_json(&mut map),
        }
        Value::Object(map)
    }

    /// `"webhook"`, `"slack"`, ... as written in the `kind` key.
    pub fn kind_name(&self) -> &'static str {
        match self {
            ChannelKind::Webhook(_) => "webhook",
            ChannelKind::Slack(_) => "slack",
            ChannelKind::Discord(_) => "discord",
            ChannelKind::Msteams(_) => "msteams",
            ChannelKind::Ntfy(_) => "ntfy",
            ChannelKind::Telegram(_) => "telegram",
            ChannelKind::Gotify(_) => "gotify",
            ChannelKind::Pushover(_) => "pushover",
            ChannelKind::Pagerduty(_) => "pagerduty",
            ChannelKind::Email(_) => "email",
            ChannelKind::Command(_) => "command",
        }
    }
}

/// The result of one delivery attempt.
#[derive(Debug, Clone, PartialEq)]
pub struct Delivery {
    /// The receiver took the alert.
    pub ok: bool,
    /// The HTTP status (or, for `email`, the SMTP reply code) when there was an answer.
    pub status_code: Option<u16>,
    /// One short sentence saying what went wrong; `None` when `ok`.
    pub error: Option<String>,
    /// Retrying cannot help (a 4xx other than 408/429, a bad setting): don't retry.
    pub permanent: bool,
}

impl Delivery {
    /// A successful attempt.
    pub fn success(status_code: Option<u16>) -> Delivery {
        Delivery {
            ok: true,
            status_code,
            error: None,
            permanent: false,
        }
    }

    /// A failed attempt that may succeed when tried again.
    pub fn retryable(status_code: Option<u16>, error: impl Into<String>) -> Delivery {
        Delivery {
            ok: false,
            status_code,
            error: Some(error.into()),
            permanent: false,
        }
    }

    /// A failed attempt that will fail again the same way.
    pub fn permanent(status_code: Option<u16>, error: impl Into<String>) -> Delivery {
        Delivery {
            ok: false,
            status_code,
            error: Some(error.into()),
            permanent: true,
        }
    }
}

/// Delivers `event` once to `channel`, blocking; never panics; bounded by `timeout`
/// (`command` uses its own `timeout` setting when it has one).
pub fn deliver(channel: &ChannelKind, event: &Event, timeout: Duration) -> Delivery {
    let attempt = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        deliver_inner(channel, event, timeout)
    }));
    attempt.unwrap_or_else(|_| {
        Delivery::retryable(
            None,
            format!(
                "the {} channel failed unexpectedly while sending; see the server log",
                channel.kind_name()
            ),
        )
    })
}

fn deliver_inner(channel: &ChannelKind, event: &Event, timeout: Duration) -> Delivery {
    let request = match channel {
        ChannelKind::Webhook(c) => c.request(event),
        ChannelKind::Slack(c) => c.request(event),
        ChannelKind::Discord(c) => c.request(event),
        ChannelKind::Msteams(c) => c.request(event),
        ChannelKind::Ntfy(c) => c.request(event),
        ChannelKind::Telegram(c) => c.request(event),
        ChannelKind::Gotify(c) => c.request(event),
        ChannelKind::Pushover(c) => c.request(event),
        ChannelKind::Pagerduty(c) => c.request(event),
        ChannelKind::Email(c) => return c.send(event, timeout),
        ChannelKind::Command(c) => return c.run(event, timeout),
    };
    http::send(&request, timeout)
}
