//! Alert channels: how one alert event is delivered, once, to one channel.
//!
//! Each kind lives in its own file and has two halves: a pure part that turns an
//! [`Event`] into what goes on the wire (an [`http::HttpRequest`], an email, an
//! environment), unit-tested without I/O, and the one attempt that sends it.
//! Retries, backoff and persistence belong to the caller (the outbox): [`deliver_with`]
//! makes exactly one attempt, blocks for at most about its `timeout`, connects only
//! where its [`Policy`] allows (see [`address`]), and never panics.
//!
//! Secrets in settings (tokens, keys, passwords, ...) are shown masked by
//! [`ChannelKind::masked_json`] and kept across edits by [`ChannelKind::merge`]; see
//! [`secrets`].

pub mod address;
pub mod command;
pub mod discord;
pub mod email;
pub mod gotify;
pub mod http;
pub mod msteams;
pub mod ntfy;
pub mod pagerduty;
pub mod pushover;
pub mod secrets;
pub mod settings;
pub mod slack;
pub mod telegram;
pub mod template;
pub mod text;
pub mod webhook;

use std::time::Duration;

use serde_json::{Map, Value};

pub use address::{Policy, is_global};
pub use secrets::MASK;
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
    /// For a `down` alert whose reason is `missed`: the consecutive missed slots so far.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub missed_slots: Option<u32>,
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
/// (`command` uses its own `timeout` setting when it has one); connects only to
/// addresses `policy` allows (a refused address is a permanent failure whose error says
/// `refused to connect to 10.0.0.5 (a private address); set allow_private_targets = true
/// to allow it`). `command` channels make no connection and ignore `policy`.
pub fn deliver_with(
    channel: &ChannelKind,
    event: &Event,
    timeout: Duration,
    policy: Policy,
) -> Delivery {
    let attempt = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        deliver_inner(channel, event, timeout, policy)
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

/// Transitional: [`deliver_with`] with [`Policy::ALLOW_PRIVATE`], what `deliver` did
/// before the policy existed. Callers should pass their policy to [`deliver_with`]; this
/// goes once they do.
pub fn deliver(channel: &ChannelKind, event: &Event, timeout: Duration) -> Delivery {
    deliver_with(channel, event, timeout, Policy::ALLOW_PRIVATE)
}

fn deliver_inner(
    channel: &ChannelKind,
    event: &Event,
    timeout: Duration,
    policy: Policy,
) -> Delivery {
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
        ChannelKind::Email(c) => return c.send(event, timeout, policy),
        ChannelKind::Command(c) => return c.run(event, timeout),
    };
    http::send(&request, timeout, policy)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn samples() -> Vec<Value> {
        vec![
            json!({"kind": "webhook", "url": "https://hooks.example.com/hb/$UUID", "method": "put", "headers": {"Authorization": "Bearer x"}, "body": "{\"n\": \"$NAME\"}"}),
            json!({"kind": "webhook", "url": "http://127.0.0.1:9/x"}),
            json!({"kind": "slack", "url": "https://hooks.slack.com/services/T/B/X"}),
            json!({"kind": "discord", "url": "https://discord.com/api/webhooks/1/a"}),
            json!({"kind": "msteams", "url": "https://example.logic.azure.com/workflows/1"}),
            json!({"kind": "ntfy", "topic": "hb-alerts", "priority": "high", "token": "tk_1"}),
            json!({"kind": "ntfy", "server": "https://ntfy.example.com/", "topic": "t"}),
            json!({"kind": "telegram", "bot_token": "1:A", "chat_id": -100}),
            json!({"kind": "gotify", "server": "https://gotify.example.com", "token": "T"}),
            json!({"kind": "pushover", "user_key": "u", "app_token": "a"}),
            json!({"kind": "pagerduty", "routing_key": "r"}),
            json!({"kind": "email", "smtp": "smtp://u:p%40ss@mail.example.com:587?tls=required", "from": "hb@example.com", "to": ["a@example.com", "B <b@example.com>"]}),
            json!({"kind": "email", "smtp": "smtps://mail.example.com", "from": "hb@example.com", "to": "a@example.com"}),
            json!({"kind": "command", "argv": ["/bin/alert", "--now"], "timeout": "90s"}),
            json!({"kind": "command", "argv": ["true"]}),
            json!({"kind": "webhook", "url": "https://u:p@h.example/x?k=1#f", "headers": {"X-Key": "k"}}),
        ]
    }

    #[test]
    fn settings_round_trip_and_drop_the_name() {
        for sample in samples() {
            let mut named = sample.clone();
            named["name"] = json!("ops");
            let channel =
                ChannelKind::from_json(&named).unwrap_or_else(|e| panic!("{sample}: {e}"));
            assert_eq!(channel.kind_name(), sample["kind"]);
            let back = channel.to_json();
            assert_eq!(back["kind"], sample["kind"]);
            assert!(back.get("name").is_none());
            assert_eq!(ChannelKind::from_json(&back), Ok(channel.clone()), "{back}");
            let masked = channel.masked_json();
            assert_eq!(
                ChannelKind::merge(Some(&channel), &masked, true),
                Ok(channel.clone()),
                "{masked}"
            );
        }
    }

    #[test]
    fn defaults_and_canonical_forms_are_shown() {
        let c = ChannelKind::from_json(&samples()[5]).unwrap();
        assert_eq!(
            c.to_json(),
            json!({"kind": "ntfy", "server": "https://ntfy.sh", "topic": "hb-alerts", "priority": 4, "token": "tk_1"})
        );
        let c = ChannelKind::from_json(&samples()[0]).unwrap();
        assert_eq!(c.to_json()["method"], "PUT");
        let c = ChannelKind::from_json(&samples()[13]).unwrap();
        assert_eq!(c.to_json()["timeout"], "1m30s");
        let c = ChannelKind::from_json(&samples()[12]).unwrap();
        assert_eq!(c.to_json()["to"], json!(["a@example.com"]));
        let c = ChannelKind::from_json(&samples()[10]).unwrap();
        assert_eq!(c.to_json()["api_url"], "https://events.pagerduty.com");
    }

    fn refused(value: Value) -> String {
        match ChannelKind::from_json(&value) {
            Ok(c) => panic!("{value} was accepted as {c:?}"),
            Err(e) => e,
        }
    }

    #[test]
    fn bad_settings_are_refused_with_the_field_and_the_fix() {
        let cases = [
            (json!("webhook"), "a channel must be an object"),
            (
                json!({"url": "https://x"}),
                "channel field \"kind\" is missing; write one of webhook, slack",
            ),
            (
                json!({"kind": "sms"}),
                "channel field \"kind\" is \"sms\", which is not a channel kind",
            ),
            (
                json!({"kind": "webhook", "url": "https://x", "retries": 3}),
                "channel field \"retries\" is not a setting of a webhook channel; accepted: url, method, headers, body",
            ),
            (
                json!({"kind": "webhook"}),
                "channel field \"url\" is missing; a webhook channel needs an http:// or https:// URL",
            ),
            (
                json!({"kind": "slack", "url": "hooks.slack.com/x"}),
                "channel field \"url\" of a slack channel is \"hooks.slack.com/x\", which is not an http:// or https:// URL; write",
            ),
            (
                json!({"kind": "slack", "url": 3}),
                "channel field \"url\" of a slack channel is a number; write",
            ),
            (
                json!({"kind": "webhook", "url": "https://x", "method": "TRACE"}),
                "channel field \"method\" of a webhook channel is \"TRACE\"; write one of GET, POST, PUT, PATCH, DELETE",
            ),
            (
                json!({"kind": "webhook", "url": "https://x", "headers": {"X-A": "a\nb"}}),
                "has a line break or control character in \"X-A\"",
            ),
            (
                json!({"kind": "webhook", "url": "https://x", "headers": {"Bad Name": "a"}}),
                "which is not a header name",
            ),
            (
                json!({"kind": "webhook", "url": "https://x", "headers": ["a"]}),
                "channel field \"headers\" of a webhook channel is a list",
            ),
            (
                json!({"kind": "ntfy", "topic": "a/b"}),
                "channel field \"topic\" of a ntfy channel is \"a/b\"",
            ),
            (
                json!({"kind": "ntfy", "topic": "t", "priority": 7}),
                "channel field \"priority\" of a ntfy channel is 7; write 1 to 5, or one of min, low, default, high, max",
            ),
            (
                json!({"kind": "ntfy", "topic": "t", "server": "https://n.example.com?x=1"}),
                "has a query or fragment",
            ),
            (
                json!({"kind": "telegram", "bot_token": "1:A"}),
                "channel field \"chat_id\" is missing",
            ),
            (
                json!({"kind": "gotify", "token": "t"}),
                "channel field \"server\" is missing",
            ),
            (
                json!({"kind": "pushover", "user_key": "", "app_token": "a"}),
                "channel field \"user_key\" of a pushover channel is empty",
            ),
            (
                json!({"kind": "email", "smtp": "imap://x", "from": "a@b.c", "to": ["a@b.c"]}),
                "channel field \"smtp\" of an email channel has the scheme \"imap\"; only smtp:// and smtps:// are known; write smtp://user:pass@host:587?tls=required",
            ),
            (
                json!({"kind": "email", "smtp": "smtp://x?tls=maybe", "from": "a@b.c", "to": ["a@b.c"]}),
                "has tls=\"maybe\"; tls is required, opportunistic or none",
            ),
            (
                json!({"kind": "email", "smtp": "smtp://x:99999", "from": "a@b.c", "to": ["a@b.c"]}),
                "has the port \"99999\"",
            ),
            (
                json!({"kind": "email", "smtp": "smtp://x", "from": "nobody", "to": ["a@b.c"]}),
                "channel field \"from\" of an email channel is \"nobody\", which is not an address",
            ),
            (
                json!({"kind": "email", "smtp": "smtp://x", "from": "a@b.c"}),
                "channel field \"to\" is missing",
            ),
            (
                json!({"kind": "email", "smtp": "smtp://x", "from": "a@b.c", "to": []}),
                "channel field \"to\" of an email channel is an empty list",
            ),
            (
                json!({"kind": "command", "argv": "notify-send hi"}),
                "channel field \"argv\" of a command channel is a string; write a list",
            ),
            (
                json!({"kind": "command", "argv": ["x"], "timeout": "soon"}),
                "channel field \"timeout\" of a command channel: invalid duration \"soon\"",
            ),
            (
                json!({"kind": "command", "argv": ["x"], "timeout": "0s"}),
                "channel field \"timeout\" of a command channel is zero",
            ),
        ];
        for (value, expected) in cases {
            let error = refused(value.clone());
            assert!(
                error.contains(expected),
                "{value}:\n  got      {error}\n  expected {expected}"
            );
            assert!(!error.contains('\n'), "{error}");
        }
    }

    #[test]
    fn smtp_urls() {
        use email::{Security, SmtpServer};
        let s = SmtpServer::parse(
            "smtp://me%40x.com:p%40ss%3A1@mail.example.com:2525?tls=required&ca=/etc/ca%20x.pem",
        )
        .unwrap();
        assert_eq!(s.security, Security::StartTls);
        assert_eq!((s.host.as_str(), s.port), ("mail.example.com", 2525));
        assert_eq!(s.user.as_deref(), Some("me@x.com"));
        assert_eq!(s.password.as_deref(), Some("p@ss:1"));
        assert_eq!(s.ca.as_deref(), Some("/etc/ca x.pem"));
        let port = |url: &str| SmtpServer::parse(url).map(|s| (s.security, s.port));
        assert_eq!(port("smtp://h"), Ok((Security::None, 25)));
        assert_eq!(port("smtp://h?tls=required"), Ok((Security::StartTls, 587)));
        assert_eq!(
            port("smtp://h?tls=opportunistic"),
            Ok((Security::Opportunistic, 25))
        );
        assert_eq!(port("smtps://h"), Ok((Security::Implicit, 465)));
        assert_eq!(port("SMTPS://h:2465/"), Ok((Security::Implicit, 2465)));
        let v6 = SmtpServer::parse("smtp://[::1]:25").unwrap();
        assert_eq!(v6.host, "::1");
        for bad in [
            "smtp://",
            "smtp://h/x",
            "smtp://h:0",
            "smtps://h?tls=none",
            "smtp://h?foo=1",
            "smtp://[::1",
            "smtp://@h",
            "mail.example.com",
        ] {
            assert!(SmtpServer::parse(bad).is_err(), "{bad}");
        }
    }

    /// A small deterministic fuzz: random settings never panic, and whatever is accepted
    /// round-trips and builds a request for a bare event without panicking.
    #[test]
    fn any_input_is_refused_or_accepted_without_panic() {
        let keys = [
            "kind",
            "name",
            "url",
            "method",
            "headers",
            "body",
            "server",
            "topic",
            "priority",
            "token",
            "bot_token",
            "chat_id",
            "api_url",
            "user_key",
            "app_token",
            "routing_key",
            "smtp",
            "from",
            "to",
            "argv",
            "timeout",
            "x",
        ];
        let strings = [
            "",
            " ",
            "webhook",
            "ntfy",
            "email",
            "command",
            "slack",
            "telegram",
            "https://a.example",
            "http://",
            "smtp://h?tls=required",
            "smtps://[::1",
            "a@b.c",
            "1s",
            "0s",
            "99999999999999999999d",
            "é",
            "$NAME",
            "%",
            "%zz",
            "\n",
            "high",
            "GET",
            "[",
            "smtp://u:p@h:1?ca=",
            "https://u:p@a.example/p?q=1#f",
            "http://[::1]:8/x?",
            "https://@a.example?",
            "smtp://u@h?tls=required",
            MASK,
        ];
        let mut rng = fastrand::Rng::with_seed(7);
        let value = |rng: &mut fastrand::Rng, depth: u32| -> Value {
            match rng.u8(0..7) {
                0 => Value::Null,
                1 => json!(rng.bool()),
                2 => json!(rng.i64(-10..10)),
                3 if depth == 0 => json!([strings[rng.usize(0..strings.len())], 1]),
                4 if depth == 0 => json!({"X-A": strings[rng.usize(0..strings.len())]}),
                5 => json!(rng.f64()),
                _ => json!(strings[rng.usize(0..strings.len())]),
            }
        };
        let bare = Event {
            event_id: String::new(),
            event: String::new(),
            check: Value::Null,
            reason: None,
            at: jiff::Timestamp::UNIX_EPOCH,
            repeat: 0,
            body: None,
            check_url: String::new(),
            missed_slots: None,
        };
        let mut accepted = 0;
        for _ in 0..5000 {
            let mut map = Map::new();
            map.insert(
                "kind".into(),
                json!(KIND_NAMES[rng.usize(0..KIND_NAMES.len())]),
            );
            for _ in 0..rng.usize(0..5) {
                map.insert(keys[rng.usize(0..keys.len())].into(), value(&mut rng, 0));
            }
            let input = Value::Object(map);
            if let Ok(channel) = ChannelKind::from_json(&input) {
                accepted += 1;
                assert_eq!(
                    ChannelKind::from_json(&channel.to_json()).as_ref(),
                    Ok(&channel)
                );
                // What the API shows, written back, is the stored channel again.
                let masked = channel.masked_json();
                for patch in [false, true] {
                    assert_eq!(
                        ChannelKind::merge(Some(&channel), &masked, patch).as_ref(),
                        Ok(&channel),
                        "{masked}"
                    );
                }
                match &channel {
                    ChannelKind::Email(c) => {
                        let _ = c.message(&bare);
                    }
                    ChannelKind::Command(_) => {}
                    ChannelKind::Webhook(c) => {
                        let _ = c.request(&bare);
                    }
                    _ => {}
                }
            }
        }
        assert!(accepted > 0);
    }

    #[test]
    fn the_readme_examples_are_valid() {
        let readme = include_str!("../../../README.md");
        let section = readme
            .split("## Alert channels")
            .nth(1)
            .expect("README has an Alert channels section");
        let mut kinds = std::collections::BTreeSet::new();
        for block in section.split("```toml").skip(1) {
            let toml_text = block.split("```").next().unwrap_or_default();
            let table: toml::Table = toml::from_str(toml_text)
                .unwrap_or_else(|e| panic!("README TOML does not parse: {e}\n{toml_text}"));
            let value = serde_json::to_value(table).unwrap();
            for channel in value["channel"].as_array().unwrap() {
                let parsed = ChannelKind::from_json(channel)
                    .unwrap_or_else(|e| panic!("README channel {channel} is refused: {e}"));
                kinds.insert(parsed.kind_name());
            }
        }
        assert_eq!(kinds.len(), KIND_NAMES.len(), "README shows {kinds:?}");
    }

    #[test]
    fn every_kind_builds_for_a_bare_event() {
        let bare = Event {
            event_id: "e".into(),
            event: "weird".into(),
            check: json!({"name": 5}),
            reason: Some(String::new()),
            at: jiff::Timestamp::UNIX_EPOCH,
            repeat: 3,
            body: Some(" \n".into()),
            check_url: String::new(),
            missed_slots: None,
        };
        for sample in samples() {
            let channel = ChannelKind::from_json(&sample).unwrap();
            match &channel {
                ChannelKind::Webhook(c) => {
                    assert!(c.request(&bare).body.is_some() || c.method == "GET")
                }
                ChannelKind::Slack(c) => assert!(c.request(&bare).body.is_some()),
                ChannelKind::Discord(c) => assert!(c.request(&bare).body.is_some()),
                ChannelKind::Msteams(c) => assert!(c.request(&bare).body.is_some()),
                ChannelKind::Ntfy(c) => assert!(c.request(&bare).body.is_some()),
                ChannelKind::Telegram(c) => assert!(c.request(&bare).body.is_some()),
                ChannelKind::Gotify(c) => assert!(c.request(&bare).body.is_some()),
                ChannelKind::Pushover(c) => assert!(c.request(&bare).body.is_some()),
                ChannelKind::Pagerduty(c) => assert!(c.request(&bare).body.is_some()),
                ChannelKind::Email(c) => assert!(c.message(&bare).is_ok()),
                ChannelKind::Command(_) => {}
            }
        }
        assert_eq!(text::headline(&bare), "WEIRD: 5");
    }
}
