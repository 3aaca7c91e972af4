//! Reading a channel's settings from JSON with errors that name the field, say what is
//! wrong and what is accepted.

use std::collections::BTreeMap;
use std::time::Duration;

use serde_json::{Map, Value};

/// How a JSON value is called in an error message.
pub fn type_name(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "a table",
    }
}

/// The settings of one channel, read key by key; [`Fields::new`] refuses nothing,
/// each getter refuses its own key, and the kinds call [`Fields::only`] first.
pub struct Fields<'a> {
    kind: &'static str,
    map: &'a Map<String, Value>,
}

impl<'a> Fields<'a> {
    pub fn new(kind: &'static str, map: &'a Map<String, Value>) -> Fields<'a> {
        Fields { kind, map }
    }

    /// `a webhook channel`, `an email channel`.
    fn channel(&self) -> String {
        let article = if self.kind.starts_with(['a', 'e', 'i', 'o', 'u']) {
            "an"
        } else {
            "a"
        };
        format!("{article} {} channel", self.kind)
    }

    /// Refuses any key but `kind`, `name` and `accepted`.
    pub fn only(&self, accepted: &[&str]) -> Result<(), String> {
        for key in self.map.keys() {
            if key == "kind" || key == "name" || accepted.contains(&key.as_str()) {
                continue;
            }
            return Err(format!(
                "channel field {key:?} is not a setting of {}; accepted: {}",
                self.channel(),
                accepted.join(", ")
            ));
        }
        Ok(())
    }

    fn get(&self, key: &str) -> Option<&'a Value> {
        match self.map.get(key) {
            None | Some(Value::Null) => None,
            Some(value) => Some(value),
        }
    }

    /// The error for a key whose value is wrong: `what` says what is accepted.
    pub fn wrong(&self, key: &str, problem: &str, what: &str) -> String {
        format!(
            "channel field {key:?} of {} {problem}; write {what}",
            self.channel()
        )
    }

    fn missing(&self, key: &str, what: &str) -> String {
        format!(
            "channel field {key:?} is missing; {} needs {what}",
            self.channel()
        )
    }

    /// A non-empty string, absent allowed.
    pub fn opt_str(&self, key: &str, what: &str) -> Result<Option<String>, String> {
        match self.get(key) {
            None => Ok(None),
            Some(Value::String(s)) if s.trim().is_empty() => Err(self.wrong(key, "is empty", what)),
            Some(Value::String(s)) => Ok(Some(s.clone())),
            Some(other) => Err(self.wrong(key, &format!("is {}", type_name(other)), what)),
        }
    }

    /// A non-empty string, required.
    pub fn req_str(&self, key: &str, what: &str) -> Result<String, String> {
        self.opt_str(key, what)?
            .ok_or_else(|| self.missing(key, what))
    }

    /// A string, or a number written as a string (`chat_id = -100123`).
    pub fn req_str_or_int(&self, key: &str, what: &str) -> Result<String, String> {
        match self.get(key) {
            Some(Value::Number(n)) if n.is_i64() || n.is_u64() => Ok(n.to_string()),
            _ => self.req_str(key, what),
        }
    }

    /// An http(s) URL, absent allowed (the value is kept exactly as written).
    pub fn opt_url(&self, key: &str, example: &str) -> Result<Option<String>, String> {
        let what = format!("an http:// or https:// URL like {example:?}");
        let Some(url) = self.opt_str(key, &what)? else {
            return Ok(None);
        };
        check_http_url(&url).map_err(|problem| self.wrong(key, &problem, &what))?;
        Ok(Some(url))
    }

    /// An http(s) URL, required.
    pub fn req_url(&self, key: &str, example: &str) -> Result<String, String> {
        let what = format!("an http:// or https:// URL like {example:?}");
        self.opt_url(key, example)?
            .ok_or_else(|| self.missing(key, &what))
    }

    /// A server's base URL: an http(s) URL without a query, any trailing `/` removed.
    pub fn base_url(
        &self,
        key: &str,
        example: &str,
        default: Option<&str>,
    ) -> Result<String, String> {
        let url = match (self.opt_url(key, example)?, default) {
            (Some(url), _) => url,
            (None, Some(default)) => return Ok(default.to_string()),
            (None, None) => {
                return Err(
                    self.missing(key, &format!("an http:// or https:// URL like {example:?}"))
                );
            }
        };
        if url.contains('?') || url.contains('#') {
            return Err(self.wrong(
                key,
                "has a query or fragment",
                &format!("the server's base URL alone, like {example:?}"),
            ));
        }
        Ok(url.trim_end_matches('/').to_string())
    }

    /// A list of non-empty strings (a single string counts as a list of one).
    pub fn opt_str_list(&self, key: &str, what: &str) -> Result<Option<Vec<String>>, String> {
        match self.get(key) {
            None => Ok(None),
            Some(Value::String(s)) if !s.trim().is_empty() => Ok(Some(vec![s.clone()])),
            Some(Value::Array(items)) => {
                let mut out = Vec::with_capacity(items.len());
                for item in items {
                    match item {
                        Value::String(s) if !s.is_empty() => out.push(s.clone()),
                        Value::String(_) => {
                            return Err(self.wrong(key, "has an empty item", what));
                        }
                        other => {
                            return Err(self.wrong(
                                key,
                                &format!("has an item that is {}", type_name(other)),
                                what,
                            ));
                        }
                    }
                }
                if out.is_empty() {
                    return Err(self.wrong(key, "is an empty list", what));
                }
                Ok(Some(out))
            }
            Some(other) => Err(self.wrong(key, &format!("is {}", type_name(other)), what)),
        }
    }

    /// A table of strings to strings.
    pub fn opt_str_map(
        &self,
        key: &str,
        what: &str,
    ) -> Result<Option<BTreeMap<String, String>>, String> {
        match self.get(key) {
            None => Ok(None),
            Some(Value::Object(map)) => {
                let mut out = BTreeMap::new();
                for (k, v) in map {
                    match v {
                        Value::String(s) => {
                            out.insert(k.clone(), s.clone());
                        }
                        other => {
                            return Err(self.wrong(
                                key,
                                &format!("has {k:?} set to {}", type_name(other)),
                                what,
                            ));
                        }
                    }
                }
                Ok(Some(out))
            }
            Some(other) => Err(self.wrong(key, &format!("is {}", type_name(other)), what)),
        }
    }

    /// A duration string like `"30s"`.
    pub fn opt_duration(&self, key: &str) -> Result<Option<Duration>, String> {
        let what = "a duration like \"30s\", \"2m\" or \"1m30s\"";
        let Some(text) = self.opt_str(key, what)? else {
            return Ok(None);
        };
        match crate::duration::parse(&text) {
            Ok(d) if d.is_zero() => Err(self.wrong(key, "is zero", what)),
            Ok(d) => Ok(Some(d)),
            Err(e) => Err(format!("channel field {key:?} of {}: {e}", self.channel())),
        }
    }

    /// The raw value of a key (null counts as absent).
    pub fn raw(&self, key: &str) -> Option<&'a Value> {
        self.get(key)
    }
}

/// Checks that `url` is an absolute http(s) URL with a host and no whitespace; templates
/// (`$UUID` ...) are fine. Returns what is wrong.
pub fn check_http_url(url: &str) -> Result<(), String> {
    if url.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err("contains whitespace".into());
    }
    let lower = url.to_ascii_lowercase();
    let rest = if let Some(rest) = lower.strip_prefix("https://") {
        rest
    } else if let Some(rest) = lower.strip_prefix("http://") {
        rest
    } else {
        return Err(format!(
            "is {url:?}, which is not an http:// or https:// URL"
        ));
    };
    let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
    let host = authority.rsplit('@').next().unwrap_or("");
    if host.is_empty() || host.starts_with(':') {
        return Err(format!("is {url:?}, which has no host"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls() {
        assert!(check_http_url("https://hooks.example.com/x/$UUID?a=$NAME").is_ok());
        assert!(check_http_url("http://127.0.0.1:8080").is_ok());
        assert!(check_http_url("ftp://x").is_err());
        assert!(check_http_url("https://").is_err());
        assert!(check_http_url("https://:80/").is_err());
        assert!(check_http_url("https://a b").is_err());
        assert!(check_http_url("hooks.example.com").is_err());
    }
}
