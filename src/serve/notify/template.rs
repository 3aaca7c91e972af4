//! `$NAME`-style templates for the `webhook` kind.
//!
//! One pass, left to right: a value that contains `$NAME` is not expanded again, and the
//! longest name wins (`$EVENT_ID` before `$EVENT`). A `$` that starts no known name is
//! kept as it is.

use super::{Event, text};

/// Where the text goes, which decides how values are escaped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Escape {
    /// Percent-encoded (every byte but `A-Z a-z 0-9 - . _ ~`).
    Url,
    /// JSON-escaped, without surrounding quotes; `$JSON` goes in as it is (it is JSON).
    Json,
    /// As it is, except that control characters (newlines) become spaces.
    Header,
}

/// The names a template may use, longest first where one is a prefix of another.
pub const NAMES: [&str; 12] = [
    "CHECK_URL",
    "EVENT_ID",
    "STATUS",
    "REASON",
    "REPEAT",
    "EVENT",
    "NAME",
    "UUID",
    "SLUG",
    "BODY",
    "JSON",
    "AT",
];

/// The values of the template names for one event, unescaped.
pub struct Vars {
    values: Vec<(&'static str, String)>,
}

impl Vars {
    pub fn new(event: &Event) -> Vars {
        let mut values = Vec::with_capacity(NAMES.len());
        for name in NAMES {
            let value = match name {
                "CHECK_URL" => event.check_url.clone(),
                "EVENT_ID" => event.event_id.clone(),
                "STATUS" => text::check_field(event, "status"),
                "REASON" => event.reason.clone().unwrap_or_default(),
                "REPEAT" => event.repeat.to_string(),
                "EVENT" => event.event.clone(),
                "NAME" => text::check_field(event, "name"),
                "UUID" => text::check_field(event, "uuid"),
                "SLUG" => text::check_field(event, "slug"),
                "BODY" => event.body.clone().unwrap_or_default(),
                "JSON" => super::webhook::default_body(event).to_string(),
                _ => text::rfc3339(event.at),
            };
            values.push((name, value));
        }
        Vars { values }
    }

    fn find(&self, rest: &str) -> Option<(&'static str, &str)> {
        let mut best: Option<(&'static str, &str)> = None;
        for (name, value) in &self.values {
            if rest.starts_with(name) && best.is_none_or(|(b, _)| name.len() > b.len()) {
                best = Some((name, value.as_str()));
            }
        }
        best
    }
}

/// Substitutes the names in `template`, escaping each value for `escape`.
pub fn render(template: &str, vars: &Vars, escape: Escape) -> String {
    let mut out = String::with_capacity(template.len());
    let mut rest = template;
    while let Some(pos) = rest.find('$') {
        out.push_str(&rest[..pos]);
        let after = &rest[pos + 1..];
        match vars.find(after) {
            Some((name, value)) => {
                out.push_str(&escape_value(name, value, escape));
                rest = &after[name.len()..];
            }
            None => {
                out.push('$');
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

fn escape_value(name: &str, value: &str, escape: Escape) -> String {
    match escape {
        Escape::Url => text::percent_encode(value),
        Escape::Json if name == "JSON" => value.to_string(),
        Escape::Json => json_escape(value),
        Escape::Header => value
            .chars()
            .map(|c| if c.is_control() { ' ' } else { c })
            .collect(),
    }
}

/// `value` as a JSON string, without the surrounding quotes.
pub fn json_escape(value: &str) -> String {
    let quoted = serde_json::Value::from(value).to_string();
    quoted[1..quoted.len() - 1].to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn event() -> Event {
        Event {
            event_id: "e-1".into(),
            event: "down".into(),
            check: json!({"uuid": "u-1", "name": "say \"hi\"\n$NAME", "slug": "say-hi", "status": "down"}),
            reason: Some("exit code 3".into()),
            at: "2025-01-31T03:00:00Z".parse().unwrap(),
            repeat: 0,
            body: Some("line 1\nline 2 \\ done".into()),
            check_url: "http://hb/c".into(),
            missed_slots: None,
        }
    }

    #[test]
    fn longest_name_first_and_one_pass() {
        let vars = Vars::new(&event());
        assert_eq!(
            render("$EVENT/$EVENT_ID/$EVENTS/$X/$", &vars, Escape::Header),
            "down/e-1/downS/$X/$"
        );
        // The name contains "$NAME": it is not expanded again.
        assert_eq!(render("$NAME", &vars, Escape::Header), "say \"hi\" $NAME");
    }

    #[test]
    fn json_body_escaping() {
        let vars = Vars::new(&event());
        let body = render(
            r#"{"n": "$NAME", "b": "$BODY", "at": "$AT", "all": $JSON}"#,
            &vars,
            Escape::Json,
        );
        let v: serde_json::Value = serde_json::from_str(&body).unwrap();
        assert_eq!(v["n"], "say \"hi\"\n$NAME");
        assert_eq!(v["b"], "line 1\nline 2 \\ done");
        assert_eq!(v["at"], "2025-01-31T03:00:00Z");
        assert_eq!(v["all"]["event_id"], "e-1");
        assert_eq!(v["all"]["check"]["uuid"], "u-1");
    }

    #[test]
    fn url_escaping() {
        let vars = Vars::new(&event());
        assert_eq!(
            render("https://x/$UUID?n=$NAME&r=$REASON", &vars, Escape::Url),
            "https://x/u-1?n=say%20%22hi%22%0A%24NAME&r=exit%20code%203"
        );
    }
}
