//! Secrets in channel settings: shown masked, kept across an edit that gives the mask or
//! leaves them out, and only sent where they went before.
//!
//! What is a secret, per kind (everything else is shown as is):
//!
//! | kind | masked |
//! |---|---|
//! | `webhook` | `url`'s user:password and query (`https://••••@h/p?••••`), every `headers` value |
//! | `slack`, `discord`, `msteams` | the whole `url` (its path is the credential) |
//! | `ntfy` | `token`; `server`'s user:password |
//! | `telegram` | `bot_token`; `api_url`'s user:password |
//! | `gotify` | `token`; `server`'s user:password |
//! | `pushover` | `user_key`, `app_token`; `api_url`'s user:password |
//! | `pagerduty` | `routing_key`; `api_url`'s user:password |
//! | `email` | `smtp`'s user part, user and password together (`smtp://••••@host:587?tls=required`); `tls` and `ca` stay visible |
//! | `command` | nothing: `argv` comes from the config file only, the host owner's word, and a program's arguments are no place for a secret (any local user sees them in `ps`) |
//!
//! Where secrets go (a change needs every secret given again in clear): the scheme, host
//! and port of `url`; the whole of `server` and `api_url` (user:password aside); the host
//! and port of `smtp`.

use serde_json::{Map, Value};

use super::ChannelKind;
use super::email::SmtpServer;

/// What a masked secret looks like, and what, written back, means "keep the stored one".
pub const MASK: &str = "\u{2022}\u{2022}\u{2022}\u{2022}";

/// Where a secret sits in a kind's settings.
#[derive(Debug, Clone, Copy)]
enum Secret {
    /// The whole string value of a field.
    Field(&'static str),
    /// The user:password part and the query of an http URL field.
    UrlParts(&'static str),
    /// The user:password part of `smtp`.
    SmtpUser,
    /// Every value of `headers`.
    HeaderValues,
}

fn secrets(kind: &str) -> &'static [Secret] {
    use Secret::*;
    match kind {
        "webhook" => &[UrlParts("url"), HeaderValues],
        "slack" | "discord" | "msteams" => &[Field("url")],
        "ntfy" | "gotify" => &[UrlParts("server"), Field("token")],
        "telegram" => &[Field("bot_token"), UrlParts("api_url")],
        "pushover" => &[Field("user_key"), Field("app_token"), UrlParts("api_url")],
        "pagerduty" => &[Field("routing_key"), UrlParts("api_url")],
        "email" => &[SmtpUser],
        _ => &[],
    }
}

/// Where a kind's secrets go.
#[derive(Debug, Clone, Copy)]
enum Destination {
    /// Scheme, host and port of a URL field.
    Origin(&'static str),
    /// A server's base URL, user:password aside.
    Base(&'static str),
    /// Host and port of `smtp`.
    Smtp,
}

fn destinations(kind: &str) -> &'static [Destination] {
    use Destination::*;
    match kind {
        "webhook" | "slack" | "discord" | "msteams" => &[Origin("url")],
        "ntfy" | "gotify" => &[Base("server")],
        "telegram" | "pushover" | "pagerduty" => &[Base("api_url")],
        "email" => &[Smtp],
        _ => &[],
    }
}

/// A URL cut in the pieces that matter here; `scheme://user@host/path?query`.
#[derive(Debug, Clone, PartialEq)]
struct Url<'a> {
    scheme: &'a str,
    /// Present and non-empty.
    user: Option<&'a str>,
    /// `host` or `host:port` or `[v6]:port`.
    host: &'a str,
    /// The path, and the fragment when there is no query.
    path: &'a str,
    /// After `?` (fragment included), present and non-empty.
    query: Option<&'a str>,
}

impl<'a> Url<'a> {
    fn split(url: &'a str) -> Option<Url<'a>> {
        let (scheme, rest) = url.split_once("://")?;
        let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
        let (authority, after) = rest.split_at(end);
        let (user, host) = match authority.rsplit_once('@') {
            Some((u, h)) => (Some(u), h),
            None => (None, authority),
        };
        let (path, query) = match after.find(['?', '#']) {
            Some(i) if after[i..].starts_with('?') => (&after[..i], Some(&after[i + 1..])),
            _ => (after, None),
        };
        Some(Url {
            scheme,
            user: user.filter(|u| !u.is_empty()),
            host,
            path,
            query: query.filter(|q| !q.is_empty()),
        })
    }

    fn join(&self) -> String {
        let mut out = format!("{}://", self.scheme);
        if let Some(user) = self.user {
            out.push_str(user);
            out.push('@');
        }
        out.push_str(self.host);
        out.push_str(self.path);
        if let Some(query) = self.query {
            out.push('?');
            out.push_str(query);
        }
        out
    }

    /// `https://host:443`: scheme and host in lower case, the port always written.
    fn origin(&self) -> String {
        let scheme = self.scheme.to_ascii_lowercase();
        let host = self.host.to_ascii_lowercase();
        let (name, port) = match host.strip_prefix('[') {
            Some(v6) => match v6.split_once(']') {
                Some((name, after)) => (format!("[{name}]"), after.strip_prefix(':')),
                None => (host.clone(), None),
            },
            None => match host.rsplit_once(':') {
                Some((name, port)) => (name.to_string(), Some(port)),
                None => (host.clone(), None),
            },
        };
        let port = match port.filter(|p| !p.is_empty()) {
            Some(p) => p.to_string(),
            None => match scheme.as_str() {
                "http" => "80".into(),
                "https" => "443".into(),
                _ => String::new(),
            },
        };
        format!("{scheme}://{name}:{port}")
    }
}

fn str_at<'a>(map: &'a Map<String, Value>, key: &str) -> Option<&'a str> {
    map.get(key).and_then(Value::as_str)
}

/// Masks the secrets of a `kind` channel's settings in place.
fn mask(kind: &str, map: &mut Map<String, Value>) {
    for secret in secrets(kind) {
        match *secret {
            Secret::Field(f) => {
                if let Some(v) = map.get_mut(f).filter(|v| v.is_string()) {
                    *v = MASK.into();
                }
            }
            Secret::UrlParts(_) | Secret::SmtpUser => {
                let (f, query) = match *secret {
                    Secret::UrlParts(f) => (f, true),
                    _ => ("smtp", false),
                };
                let Some(url) = str_at(map, f) else { continue };
                let Some(mut parts) = Url::split(url) else {
                    continue;
                };
                parts.user = parts.user.map(|_| MASK);
                if query {
                    parts.query = parts.query.map(|_| MASK);
                }
                let masked = parts.join();
                map.insert(f.into(), masked.into());
            }
            Secret::HeaderValues => {
                if let Some(Value::Object(headers)) = map.get_mut("headers") {
                    for value in headers.values_mut() {
                        *value = MASK.into();
                    }
                }
            }
        }
    }
}

/// Why a `"••••"` has no stored value to stand for.
enum NoStored<'a> {
    /// Nothing is stored under this name.
    Nothing,
    /// The stored channel is of another kind.
    OtherKind(&'a str, &'a str),
    /// The stored channel has no such secret.
    Missing,
}

fn no_stored(field: &str, part: Option<&str>, why: &NoStored) -> String {
    let subject = match part {
        None => format!("channel field {field:?} is \"{MASK}\""),
        Some(part) => format!("channel field {field:?} has \"{MASK}\" as {part}"),
    };
    let reason = match why {
        NoStored::Nothing => "there is no stored channel to keep it from".to_string(),
        NoStored::OtherKind(from, to) => {
            format!("the channel's kind changes from {from} to {to}, so nothing stored is kept")
        }
        NoStored::Missing => "the stored channel has none".to_string(),
    };
    format!(
        "{subject}, which means \"keep the stored secret\", but {reason}; give the secret in clear"
    )
}

/// Replaces every `"••••"` in a secret's place in `merged` by the stored secret.
fn unmask(
    kind: &str,
    merged: &mut Map<String, Value>,
    stored: Result<&Map<String, Value>, NoStored>,
) -> Result<(), String> {
    for secret in secrets(kind) {
        match *secret {
            Secret::Field(f) => {
                if str_at(merged, f) != Some(MASK) {
                    continue;
                }
                let kept = match &stored {
                    Err(why) => return Err(no_stored(f, None, why)),
                    Ok(stored) => {
                        str_at(stored, f).ok_or_else(|| no_stored(f, None, &NoStored::Missing))?
                    }
                };
                merged.insert(f.into(), kept.into());
            }
            Secret::UrlParts(_) | Secret::SmtpUser => {
                let (f, query) = match *secret {
                    Secret::UrlParts(f) => (f, true),
                    _ => ("smtp", false),
                };
                let Some(url) = str_at(merged, f) else {
                    continue;
                };
                let Some(mut parts) = Url::split(url) else {
                    continue;
                };
                let wants_user = parts.user == Some(MASK);
                let wants_query = query && parts.query == Some(MASK);
                if !wants_user && !wants_query {
                    continue;
                }
                let stored_url = match &stored {
                    Ok(stored) => str_at(stored, f).and_then(Url::split),
                    Err(_) => None,
                };
                let user_part = if f == "smtp" {
                    "its user part"
                } else {
                    "its user and password"
                };
                let missing = |part: &str| match &stored {
                    Err(why) => no_stored(f, Some(part), why),
                    Ok(_) => no_stored(f, Some(part), &NoStored::Missing),
                };
                if wants_user {
                    parts.user = Some(
                        stored_url
                            .as_ref()
                            .and_then(|s| s.user)
                            .ok_or_else(|| missing(user_part))?,
                    );
                }
                if wants_query {
                    parts.query = Some(
                        stored_url
                            .as_ref()
                            .and_then(|s| s.query)
                            .ok_or_else(|| missing("its query"))?,
                    );
                }
                let unmasked = parts.join();
                merged.insert(f.into(), unmasked.into());
            }
            Secret::HeaderValues => {
                let Some(Value::Object(headers)) = merged.get_mut("headers") else {
                    continue;
                };
                let stored_headers = match &stored {
                    Ok(stored) => stored.get("headers").and_then(Value::as_object),
                    Err(_) => None,
                };
                for (name, value) in headers.iter_mut() {
                    if value.as_str() != Some(MASK) {
                        continue;
                    }
                    let part = format!("the value of header {name:?}");
                    let kept = match &stored {
                        Err(why) => return Err(no_stored("headers", Some(&part), why)),
                        Ok(_) => stored_headers
                            .and_then(|h| {
                                h.get(name).or_else(|| {
                                    h.iter()
                                        .find(|(k, _)| k.eq_ignore_ascii_case(name))
                                        .map(|(_, v)| v)
                                })
                            })
                            .and_then(Value::as_str)
                            .ok_or_else(|| no_stored("headers", Some(&part), &NoStored::Missing))?,
                    };
                    *value = kept.into();
                }
            }
        }
    }
    Ok(())
}

/// The first secret of `result` that `given` (what was written) did not give in clear:
/// `(field, what)`.
fn first_kept(
    kind: &str,
    result: &Map<String, Value>,
    given: &Map<String, Value>,
) -> Option<(&'static str, String)> {
    let clear = |v: Option<&str>| v.is_some_and(|v| v != MASK);
    for secret in secrets(kind) {
        match *secret {
            Secret::Field(f) => {
                if str_at(result, f).is_some() && !clear(str_at(given, f)) {
                    return Some((f, "the stored secret".into()));
                }
            }
            Secret::UrlParts(_) | Secret::SmtpUser => {
                let (f, query) = match *secret {
                    Secret::UrlParts(f) => (f, true),
                    _ => ("smtp", false),
                };
                let Some(now) = str_at(result, f).and_then(Url::split) else {
                    continue;
                };
                let written = str_at(given, f).and_then(Url::split);
                if now.user.is_some() && !clear(written.as_ref().and_then(|w| w.user)) {
                    let what = if f == "smtp" {
                        "the stored user part"
                    } else {
                        "the stored user and password"
                    };
                    return Some((f, what.into()));
                }
                if query && now.query.is_some() && !clear(written.as_ref().and_then(|w| w.query)) {
                    return Some((f, "the stored query".into()));
                }
            }
            Secret::HeaderValues => {
                let Some(headers) = result.get("headers").and_then(Value::as_object) else {
                    continue;
                };
                let written = given.get("headers").and_then(Value::as_object);
                for name in headers.keys() {
                    if !clear(written.and_then(|w| str_at(w, name))) {
                        return Some(("headers", format!("the stored value of header {name:?}")));
                    }
                }
            }
        }
    }
    None
}

/// The first field whose change moves where `kind`'s secrets go, between two settings.
fn destination_change(
    kind: &str,
    a: &Map<String, Value>,
    b: &Map<String, Value>,
) -> Option<&'static str> {
    for destination in destinations(kind) {
        let (field, same) = match *destination {
            Destination::Origin(f) => {
                let origin = |m: &Map<String, Value>| {
                    str_at(m, f).map(|u| Url::split(u).map(|p| p.origin()).unwrap_or(u.into()))
                };
                (f, origin(a) == origin(b))
            }
            Destination::Base(f) => {
                let base = |m: &Map<String, Value>| {
                    str_at(m, f).map(|u| match Url::split(u) {
                        Some(p) => format!("{}{}", p.origin(), p.path.trim_end_matches('/')),
                        None => u.into(),
                    })
                };
                (f, base(a) == base(b))
            }
            Destination::Smtp => {
                let place = |m: &Map<String, Value>| {
                    str_at(m, "smtp").map(|s| match SmtpServer::parse(s) {
                        Ok(server) => {
                            format!("{}:{}", server.host.to_ascii_lowercase(), server.port)
                        }
                        Err(_) => s.into(),
                    })
                };
                ("smtp", place(a) == place(b))
            }
        };
        if !same {
            return Some(field);
        }
    }
    None
}

fn object(kind: &ChannelKind) -> Map<String, Value> {
    match kind.to_json() {
        Value::Object(map) => map,
        _ => Map::new(),
    }
}

impl ChannelKind {
    /// Like [`to_json`](ChannelKind::to_json), with every secret replaced by `"••••"`
    /// (see the table in [`secrets`](self)): what the API and a config export without
    /// secrets show. Given back to [`merge`](ChannelKind::merge) with the stored channel,
    /// it is that same channel.
    pub fn masked_json(&self) -> Value {
        let mut map = object(self);
        mask(self.kind_name(), &mut map);
        Value::Object(map)
    }

    /// Whether `other` sends its secrets somewhere else than `self` does: another kind,
    /// or another scheme, host or port in `url`, another `server` or `api_url`, another
    /// host or port in `smtp`. A `command` channel's destination never changes.
    pub fn destination_changed(&self, other: &ChannelKind) -> bool {
        self.kind_name() != other.kind_name()
            || destination_change(self.kind_name(), &object(self), &object(other)).is_some()
    }

    /// The settings `new_json` gives, validated, for a channel that has `stored` (`None`
    /// when creating).
    ///
    /// - `patch`: keys left out keep their stored value, a `null` removes one, and a new
    ///   `kind` starts from nothing (PATCH). Otherwise `new_json` is the whole channel
    ///   (create, or the config file).
    /// - `"••••"` in a secret's place (a whole field, the user part or query of a URL,
    ///   the user part of `smtp`, a header's value) means "keep the stored secret"; an
    ///   error when nothing is stored there or the kind changes.
    /// - If the result sends its secrets somewhere else than `stored` (see
    ///   [`destination_changed`](ChannelKind::destination_changed)), every secret must be
    ///   given in clear in `new_json`: one kept from `stored` (left out, or `"••••"`) is
    ///   an error that names it.
    ///
    /// A `name` key is ignored; the errors are one sentence each, for a 400.
    pub fn merge(
        stored: Option<&ChannelKind>,
        new_json: &Value,
        patch: bool,
    ) -> Result<ChannelKind, String> {
        let Some(given) = new_json.as_object() else {
            return ChannelKind::from_json(new_json);
        };
        let kind = match given.get("kind") {
            Some(Value::String(k)) => Some(k.as_str()),
            None if patch => stored.map(ChannelKind::kind_name),
            _ => None,
        };
        let same_kind = stored.filter(|s| Some(s.kind_name()) == kind);
        let mut merged = match same_kind {
            Some(s) if patch => object(s),
            _ => Map::new(),
        };
        for (key, value) in given {
            if patch && value.is_null() {
                merged.remove(key);
            } else {
                merged.insert(key.clone(), value.clone());
            }
        }
        let stored_json = same_kind.map(object);
        if let Some(kind) = kind.filter(|k| super::KIND_NAMES.contains(k)) {
            let source = match (&stored_json, stored) {
                (Some(json), _) => Ok(json),
                (None, Some(s)) => Err(NoStored::OtherKind(s.kind_name(), kind)),
                (None, None) => Err(NoStored::Nothing),
            };
            unmask(kind, &mut merged, source)?;
        }
        let channel = ChannelKind::from_json(&Value::Object(merged))?;
        if let Some(stored_json) = &stored_json {
            let result = object(&channel);
            let kind = channel.kind_name();
            if let Some(moved) = destination_change(kind, stored_json, &result)
                && let Some((field, what)) = first_kept(kind, &result, given)
            {
                return Err(format!(
                    "channel field {field:?} would keep {what}, but the change to {moved:?} sends it somewhere else; give it again in clear"
                ));
            }
        }
        Ok(channel)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn channel(v: Value) -> ChannelKind {
        ChannelKind::from_json(&v).unwrap_or_else(|e| panic!("{v}: {e}"))
    }

    const M: &str = MASK;

    #[test]
    fn the_mask_is_four_bullets() {
        assert_eq!(MASK, "••••");
        assert_eq!(MASK.chars().count(), 4);
        assert!(MASK.chars().all(|c| c == '\u{2022}'));
    }

    #[test]
    fn urls_split_and_join() {
        let cases = [
            "https://u:p@h.example:8443/a/b?x=1&y=2#f",
            "http://h",
            "http://h/p#frag?not-a-query",
            "https://[::1]:8080/x?",
            "smtp://u:p@mail:587?tls=required",
            "smtps://mail/",
        ];
        for url in cases {
            let parts = Url::split(url).unwrap();
            let joined = parts.join();
            // An empty query is dropped, nothing else changes.
            assert_eq!(joined, url.trim_end_matches('?'), "{parts:?}");
        }
        let p = Url::split("https://u:p@H.Example/a?b#c").unwrap();
        assert_eq!(p.user, Some("u:p"));
        assert_eq!(p.host, "H.Example");
        assert_eq!(p.path, "/a");
        assert_eq!(p.query, Some("b#c"));
        assert_eq!(p.origin(), "https://h.example:443");
        assert_eq!(
            Url::split("http://[::1]/").unwrap().origin(),
            "http://[::1]:80"
        );
        assert_eq!(
            Url::split("http://h:8080").unwrap().origin(),
            "http://h:8080"
        );
        assert!(Url::split("no-scheme").is_none());
    }

    #[test]
    fn masked_shapes_per_kind() {
        let cases = [
            (
                json!({"kind": "webhook", "url": "https://user:pw@hooks.example.com/hb/$UUID?token=abc&x=$SLUG", "method": "PUT", "headers": {"Authorization": "Bearer x", "X-Plain": "y"}, "body": "{\"n\": \"$NAME\"}"}),
                json!({"kind": "webhook", "url": format!("https://{M}@hooks.example.com/hb/$UUID?{M}"), "method": "PUT", "headers": {"Authorization": M, "X-Plain": M}, "body": "{\"n\": \"$NAME\"}"}),
            ),
            (
                json!({"kind": "webhook", "url": "http://127.0.0.1:9/x"}),
                json!({"kind": "webhook", "url": "http://127.0.0.1:9/x", "method": "POST"}),
            ),
            (
                json!({"kind": "slack", "url": "https://hooks.slack.com/services/T/B/X"}),
                json!({"kind": "slack", "url": M}),
            ),
            (
                json!({"kind": "discord", "url": "https://discord.com/api/webhooks/1/a"}),
                json!({"kind": "discord", "url": M}),
            ),
            (
                json!({"kind": "msteams", "url": "https://example.logic.azure.com/workflows/1?sig=s"}),
                json!({"kind": "msteams", "url": M}),
            ),
            (
                json!({"kind": "ntfy", "topic": "hb", "priority": "high", "token": "tk_1"}),
                json!({"kind": "ntfy", "server": "https://ntfy.sh", "topic": "hb", "priority": 4, "token": M}),
            ),
            (
                json!({"kind": "ntfy", "server": "https://a:b@ntfy.example.com", "topic": "t"}),
                json!({"kind": "ntfy", "server": format!("https://{M}@ntfy.example.com"), "topic": "t"}),
            ),
            (
                json!({"kind": "telegram", "bot_token": "1:A", "chat_id": -100}),
                json!({"kind": "telegram", "bot_token": M, "chat_id": "-100", "api_url": "https://api.telegram.org"}),
            ),
            (
                json!({"kind": "gotify", "server": "https://gotify.example.com", "token": "T"}),
                json!({"kind": "gotify", "server": "https://gotify.example.com", "token": M}),
            ),
            (
                json!({"kind": "pushover", "user_key": "u", "app_token": "a"}),
                json!({"kind": "pushover", "user_key": M, "app_token": M, "api_url": "https://api.pushover.net"}),
            ),
            (
                json!({"kind": "pagerduty", "routing_key": "r", "api_url": "https://pd.example.com"}),
                json!({"kind": "pagerduty", "routing_key": M, "api_url": "https://pd.example.com"}),
            ),
            (
                json!({"kind": "email", "smtp": "smtp://u:p%40ss@mail.example.com:587?tls=required&ca=/etc/ca.pem", "from": "hb@example.com", "to": ["a@example.com"]}),
                json!({"kind": "email", "smtp": format!("smtp://{M}@mail.example.com:587?tls=required&ca=/etc/ca.pem"), "from": "hb@example.com", "to": ["a@example.com"]}),
            ),
            (
                json!({"kind": "email", "smtp": "smtps://mail.example.com", "from": "hb@example.com", "to": "a@example.com"}),
                json!({"kind": "email", "smtp": "smtps://mail.example.com", "from": "hb@example.com", "to": ["a@example.com"]}),
            ),
            (
                json!({"kind": "command", "argv": ["/bin/alert", "--key", "k"], "timeout": "90s"}),
                json!({"kind": "command", "argv": ["/bin/alert", "--key", "k"], "timeout": "1m30s"}),
            ),
        ];
        for (input, masked) in cases {
            let c = channel(input.clone());
            assert_eq!(c.masked_json(), masked, "{input}");
            // The mask given back with the stored channel is that channel again, whole
            // or as a PATCH.
            assert_eq!(
                ChannelKind::merge(Some(&c), &masked, false).as_ref(),
                Ok(&c),
                "{input}"
            );
            assert_eq!(
                ChannelKind::merge(Some(&c), &masked, true).as_ref(),
                Ok(&c),
                "{input}"
            );
            // Nothing secret is left in the masked form.
            let shown = c.masked_json().to_string();
            for secret in ["user:pw", "abc", "Bearer", "T/B/X", "tk_1", "1:A", "p%40ss"] {
                assert!(!shown.contains(secret), "{secret} in {shown}");
            }
        }
    }

    #[test]
    fn merging_without_secrets_is_from_json() {
        let v = json!({"kind": "webhook", "url": "https://h.example/x", "name": "ops"});
        assert_eq!(
            ChannelKind::merge(None, &v, false),
            ChannelKind::from_json(&v)
        );
        assert_eq!(
            ChannelKind::merge(None, &v, true),
            ChannelKind::from_json(&v)
        );
        assert!(
            ChannelKind::merge(None, &json!("x"), false)
                .unwrap_err()
                .starts_with("a channel must be an object")
        );
        assert!(
            ChannelKind::merge(None, &json!({"kind": "sms"}), true)
                .unwrap_err()
                .contains("not a channel kind")
        );
    }

    #[test]
    fn a_patch_keeps_what_it_leaves_out() {
        let stored = channel(
            json!({"kind": "ntfy", "server": "https://ntfy.example.com", "topic": "a", "token": "tk_secret", "priority": 5}),
        );
        let c = ChannelKind::merge(Some(&stored), &json!({"topic": "b"}), true).unwrap();
        assert_eq!(
            c.to_json(),
            json!({"kind": "ntfy", "server": "https://ntfy.example.com", "topic": "b", "token": "tk_secret", "priority": 5})
        );
        // null removes a key.
        let c = ChannelKind::merge(
            Some(&stored),
            &json!({"priority": null, "token": null}),
            true,
        )
        .unwrap();
        assert_eq!(
            c.to_json(),
            json!({"kind": "ntfy", "server": "https://ntfy.example.com", "topic": "a"})
        );
        // `"kind": null` is refused, as a missing kind.
        let e = ChannelKind::merge(Some(&stored), &json!({"kind": null}), true).unwrap_err();
        assert!(e.starts_with("channel field \"kind\" is missing"), "{e}");
        // The same kind named again changes nothing.
        let c =
            ChannelKind::merge(Some(&stored), &json!({"kind": "ntfy", "token": M}), true).unwrap();
        assert_eq!(c, stored);
        // Without patch, what is left out is gone.
        let c = ChannelKind::merge(
            Some(&stored),
            &json!({"kind": "ntfy", "server": "https://ntfy.example.com", "topic": "a"}),
            false,
        )
        .unwrap();
        assert_eq!(c.to_json()["token"], Value::Null);
        // Unknown keys and bad values are refused as by from_json.
        let e = ChannelKind::merge(Some(&stored), &json!({"retries": 3}), true).unwrap_err();
        assert!(
            e.contains("\"retries\" is not a setting of a ntfy channel"),
            "{e}"
        );
    }

    #[test]
    fn the_mask_keeps_the_stored_secret() {
        let stored = channel(
            json!({"kind": "webhook", "url": "https://u:p@hooks.example.com/hb?key=K", "headers": {"Authorization": "Bearer T", "X-Other": "o"}}),
        );
        // A new path with the masked parts keeps user, password and query.
        let c = ChannelKind::merge(
            Some(&stored),
            &json!({"url": format!("https://{M}@hooks.example.com/other?{M}"), "method": "put"}),
            true,
        )
        .unwrap();
        assert_eq!(
            c.to_json()["url"],
            "https://u:p@hooks.example.com/other?key=K"
        );
        assert_eq!(c.to_json()["method"], "PUT");
        assert_eq!(c.to_json()["headers"], stored.to_json()["headers"]);
        // A new query in clear replaces the stored one.
        let c = ChannelKind::merge(
            Some(&stored),
            &json!({"url": "https://hooks.example.com/hb?key=NEW"}),
            true,
        )
        .unwrap();
        assert_eq!(c.to_json()["url"], "https://hooks.example.com/hb?key=NEW");
        // Headers: masked values are kept (names in any case), new ones taken, absent
        // ones dropped (the map is replaced as a whole).
        let c = ChannelKind::merge(
            Some(&stored),
            &json!({"headers": {"authorization": M, "X-New": "n"}}),
            true,
        )
        .unwrap();
        assert_eq!(
            c.to_json()["headers"],
            json!({"authorization": "Bearer T", "X-New": "n"})
        );
        // smtp's user part.
        let stored = channel(
            json!({"kind": "email", "smtp": "smtp://me:p%40ss@mail.example.com:587?tls=required", "from": "a@b.example", "to": ["c@d.example"]}),
        );
        let c = ChannelKind::merge(
            Some(&stored),
            &json!({"smtp": format!("smtp://{M}@mail.example.com:587?tls=opportunistic")}),
            true,
        )
        .unwrap();
        assert_eq!(
            c.to_json()["smtp"],
            "smtp://me:p%40ss@mail.example.com:587?tls=opportunistic"
        );
        // Whole fields, also through a config file value (patch = false).
        let stored = channel(json!({"kind": "pushover", "user_key": "U", "app_token": "A"}));
        let c = ChannelKind::merge(
            Some(&stored),
            &json!({"kind": "pushover", "user_key": M, "app_token": "A2"}),
            false,
        )
        .unwrap();
        assert_eq!(
            (
                c.to_json()["user_key"].clone(),
                c.to_json()["app_token"].clone()
            ),
            (json!("U"), json!("A2"))
        );
    }

    fn refused(stored: Option<&ChannelKind>, v: Value, patch: bool, expected: &str) {
        match ChannelKind::merge(stored, &v, patch) {
            Ok(c) => panic!("{v} was accepted as {c:?}"),
            Err(e) => {
                assert!(
                    e.contains(expected),
                    "{v}:\n  got      {e}\n  expected {expected}"
                );
                assert!(!e.contains('\n'), "{e}");
            }
        }
    }

    #[test]
    fn a_mask_with_nothing_stored_is_refused() {
        refused(
            None,
            json!({"kind": "gotify", "server": "https://g.example", "token": M}),
            false,
            "channel field \"token\" is \"••••\", which means \"keep the stored secret\", but there is no stored channel to keep it from; give the secret in clear",
        );
        refused(
            None,
            json!({"kind": "webhook", "url": format!("https://h.example/?{M}")}),
            false,
            "channel field \"url\" has \"••••\" as its query, which means \"keep the stored secret\", but there is no stored channel",
        );
        let stored = channel(json!({"kind": "webhook", "url": "https://h.example/x"}));
        refused(
            Some(&stored),
            json!({"url": format!("https://h.example/x?{M}")}),
            true,
            "channel field \"url\" has \"••••\" as its query, which means \"keep the stored secret\", but the stored channel has none",
        );
        refused(
            Some(&stored),
            json!({"url": format!("https://{M}@h.example/x")}),
            true,
            "as its user and password",
        );
        refused(
            Some(&stored),
            json!({"headers": {"Authorization": M}}),
            true,
            "channel field \"headers\" has \"••••\" as the value of header \"Authorization\", which means \"keep the stored secret\", but the stored channel has none",
        );
        let stored = channel(json!({"kind": "ntfy", "topic": "t"}));
        refused(
            Some(&stored),
            json!({"token": M}),
            true,
            "channel field \"token\" is \"••••\", which means \"keep the stored secret\", but the stored channel has none",
        );
        let stored = channel(
            json!({"kind": "email", "smtp": "smtp://mail.example.com", "from": "a@b.example", "to": ["c@d.example"]}),
        );
        refused(
            Some(&stored),
            json!({"smtp": format!("smtp://{M}@mail.example.com")}),
            true,
            "channel field \"smtp\" has \"••••\" as its user part",
        );
    }

    #[test]
    fn a_kind_change_needs_every_secret() {
        let stored =
            channel(json!({"kind": "gotify", "server": "https://g.example", "token": "T"}));
        for patch in [true, false] {
            refused(
                Some(&stored),
                json!({"kind": "ntfy", "server": "https://g.example", "topic": "t", "token": M}),
                patch,
                "channel field \"token\" is \"••••\", which means \"keep the stored secret\", but the channel's kind changes from gotify to ntfy, so nothing stored is kept; give the secret in clear",
            );
        }
        // A PATCH to a new kind starts from nothing: the old token is not carried over.
        let c = ChannelKind::merge(
            Some(&stored),
            &json!({"kind": "ntfy", "server": "https://g.example", "topic": "t"}),
            true,
        )
        .unwrap();
        assert_eq!(c.to_json()["token"], Value::Null);
        refused(
            Some(&stored),
            json!({"kind": "ntfy"}),
            true,
            "channel field \"topic\" is missing",
        );
    }

    #[test]
    fn moving_secrets_elsewhere_needs_them_in_clear() {
        let stored = channel(
            json!({"kind": "webhook", "url": "https://hooks.example.com/hb?key=K", "headers": {"Authorization": "Bearer T"}}),
        );
        // Another host, the query masked.
        refused(
            Some(&stored),
            json!({"url": format!("https://evil.example/hb?{M}"), "headers": {"Authorization": "Bearer T"}}),
            true,
            "channel field \"url\" would keep the stored query, but the change to \"url\" sends it somewhere else; give it again in clear",
        );
        // Another host, the headers left out.
        refused(
            Some(&stored),
            json!({"url": "https://evil.example/hb?key=K"}),
            true,
            "channel field \"headers\" would keep the stored value of header \"Authorization\", but the change to \"url\" sends it somewhere else; give it again in clear",
        );
        // Another port, another scheme: elsewhere too.
        for url in [
            "https://hooks.example.com:8443/hb?key=K",
            "http://hooks.example.com/hb?key=K",
        ] {
            refused(
                Some(&stored),
                json!({"url": url}),
                true,
                "would keep the stored value of header \"Authorization\"",
            );
        }
        // Everything given again: fine.
        let c = ChannelKind::merge(
            Some(&stored),
            &json!({"url": "https://new.example/hb?key=K2", "headers": {"Authorization": "Bearer T2"}}),
            true,
        )
        .unwrap();
        assert_eq!(c.to_json()["url"], "https://new.example/hb?key=K2");
        // Same host (any case, explicit default port), another path: the secrets stay.
        let c = ChannelKind::merge(
            Some(&stored),
            &json!({"url": format!("https://HOOKS.example.com:443/other?{M}")}),
            true,
        )
        .unwrap();
        assert_eq!(
            c.to_json()["url"],
            "https://HOOKS.example.com:443/other?key=K"
        );

        // server and api_url: any change.
        let stored = channel(
            json!({"kind": "ntfy", "server": "https://ntfy.example.com", "topic": "t", "token": "tk"}),
        );
        for patch in [
            json!({"server": "https://ntfy.example.com/other"}),
            json!({"server": null}),
            json!({"server": "https://attacker.example", "token": M}),
        ] {
            refused(
                Some(&stored),
                patch,
                true,
                "channel field \"token\" would keep the stored secret, but the change to \"server\" sends it somewhere else; give it again in clear",
            );
        }
        let c = ChannelKind::merge(
            Some(&stored),
            &json!({"server": "https://other.example", "token": "tk2"}),
            true,
        )
        .unwrap();
        assert_eq!(c.to_json()["token"], "tk2");
        // Dropping the token while moving is fine too.
        assert!(
            ChannelKind::merge(
                Some(&stored),
                &json!({"server": "https://other.example", "token": null}),
                true
            )
            .is_ok()
        );
        // A trailing slash or the host's case is no move.
        assert!(
            ChannelKind::merge(
                Some(&stored),
                &json!({"server": "https://NTFY.example.com/"}),
                true
            )
            .is_ok()
        );
        let stored = channel(json!({"kind": "telegram", "bot_token": "1:A", "chat_id": 5}));
        refused(
            Some(&stored),
            json!({"api_url": "https://tg.example"}),
            true,
            "channel field \"bot_token\" would keep the stored secret, but the change to \"api_url\"",
        );
        let stored = channel(json!({"kind": "pushover", "user_key": "U", "app_token": "A"}));
        refused(
            Some(&stored),
            json!({"api_url": "https://po.example", "app_token": "A2"}),
            true,
            "channel field \"user_key\" would keep the stored secret",
        );
        let stored = channel(json!({"kind": "pagerduty", "routing_key": "R"}));
        refused(
            Some(&stored),
            json!({"kind": "pagerduty", "routing_key": M, "api_url": "https://pd.example"}),
            false,
            "channel field \"routing_key\" would keep the stored secret",
        );
        // slack and co: the URL is the secret; another one is given in clear.
        let stored =
            channel(json!({"kind": "slack", "url": "https://hooks.slack.com/services/T/B/X"}));
        let c = ChannelKind::merge(
            Some(&stored),
            &json!({"url": "https://hooks.slack.com/services/T/B/Y"}),
            true,
        )
        .unwrap();
        assert_eq!(c.to_json()["url"], "https://hooks.slack.com/services/T/B/Y");

        // smtp: host or port.
        let stored = channel(
            json!({"kind": "email", "smtp": "smtp://me:pw@mail.example.com:587?tls=required", "from": "a@b.example", "to": ["c@d.example"]}),
        );
        for smtp in [
            format!("smtp://{M}@evil.example:587?tls=required"),
            format!("smtp://{M}@mail.example.com:2525?tls=required"),
        ] {
            refused(
                Some(&stored),
                json!({"smtp": smtp}),
                true,
                "channel field \"smtp\" would keep the stored user part, but the change to \"smtp\" sends it somewhere else; give it again in clear",
            );
        }
        assert!(
            ChannelKind::merge(
                Some(&stored),
                &json!({"smtp": "smtp://me:pw2@other.example:587?tls=required"}),
                true
            )
            .is_ok()
        );
        // A user part dropped while moving: nothing secret goes along.
        assert!(
            ChannelKind::merge(
                Some(&stored),
                &json!({"smtp": "smtp://other.example:25"}),
                true
            )
            .is_ok()
        );
    }

    #[test]
    fn destinations() {
        let c = |v: Value| channel(v);
        let w = c(json!({"kind": "webhook", "url": "https://h.example/a?x=1"}));
        assert!(!w.destination_changed(&w));
        assert!(!w.destination_changed(&c(
            json!({"kind": "webhook", "url": "https://H.example:443/b"})
        )));
        assert!(w.destination_changed(&c(
            json!({"kind": "webhook", "url": "https://g.example/a?x=1"})
        )));
        assert!(w.destination_changed(&c(
            json!({"kind": "slack", "url": "https://h.example/a?x=1"})
        )));
        let g = c(json!({"kind": "gotify", "server": "https://g.example/x", "token": "T"}));
        assert!(!g.destination_changed(&c(
            json!({"kind": "gotify", "server": "https://g.example/x/", "token": "U"})
        )));
        assert!(g.destination_changed(&c(
            json!({"kind": "gotify", "server": "https://g.example/y", "token": "T"})
        )));
        let e = c(
            json!({"kind": "email", "smtp": "smtp://mail.example.com?tls=required", "from": "a@b.example", "to": ["c@d.example"]}),
        );
        assert!(!e.destination_changed(&c(json!({"kind": "email", "smtp": "smtp://u:p@MAIL.example.com:587?tls=required", "from": "x@b.example", "to": ["c@d.example"]}))));
        assert!(e.destination_changed(&c(json!({"kind": "email", "smtp": "smtp://mail.example.com", "from": "a@b.example", "to": ["c@d.example"]}))));
        let cmd = c(json!({"kind": "command", "argv": ["a"]}));
        assert!(!cmd.destination_changed(&c(json!({"kind": "command", "argv": ["b"]}))));
    }

    /// Whatever is stored and whatever is written, merging never panics, and a result that
    /// kept a secret (it differs from what `new_json` alone gives) never moved it.
    #[test]
    fn merging_anything_never_panics_nor_moves_a_kept_secret() {
        let values = [
            json!(M),
            json!(format!("https://{M}@h.example/p?{M}")),
            json!(format!("https://h.example/p?{M}")),
            json!("https://h.example/p?k=1"),
            json!("https://other.example"),
            json!(format!("smtp://{M}@h.example:587?tls=required")),
            json!("smtp://u:p@h.example"),
            json!({"Authorization": M}),
            json!({"Authorization": "x"}),
            json!("tk"),
            json!(null),
            json!(3),
        ];
        let keys = [
            "url",
            "server",
            "api_url",
            "token",
            "bot_token",
            "user_key",
            "app_token",
            "routing_key",
            "smtp",
            "headers",
            "topic",
            "chat_id",
            "from",
            "to",
            "kind",
        ];
        let stored = [
            json!({"kind": "webhook", "url": "https://u:p@h.example/p?k=1", "headers": {"Authorization": "a"}}),
            json!({"kind": "ntfy", "server": "https://h.example", "topic": "t", "token": "tk"}),
            json!({"kind": "email", "smtp": "smtp://u:p@h.example:587?tls=required", "from": "a@b.example", "to": ["c@d.example"]}),
            json!({"kind": "telegram", "bot_token": "1:A", "chat_id": 1}),
            json!({"kind": "slack", "url": "https://h.example/s"}),
        ];
        let mut rng = fastrand::Rng::with_seed(11);
        let mut accepted = 0;
        for _ in 0..4000 {
            let s = channel(stored[rng.usize(0..stored.len())].clone());
            let mut map = Map::new();
            for _ in 0..rng.usize(0..4) {
                let key = keys[rng.usize(0..keys.len())];
                let value = if key == "kind" {
                    json!(super::super::KIND_NAMES[rng.usize(0..4)])
                } else {
                    values[rng.usize(0..values.len())].clone()
                };
                map.insert(key.into(), value);
            }
            let patch = rng.bool();
            let written = Value::Object(map);
            if let Ok(c) = ChannelKind::merge(Some(&s), &written, patch) {
                accepted += 1;
                if s.destination_changed(&c) && c.kind_name() == s.kind_name() {
                    // Every secret of the result was written in clear.
                    assert!(
                        first_kept(c.kind_name(), &object(&c), written.as_object().unwrap())
                            .is_none(),
                        "{s:?} + {written} = {c:?}"
                    );
                }
            }
        }
        assert!(accepted > 0);
    }
}
