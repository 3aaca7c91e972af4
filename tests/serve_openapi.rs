//! `GET /api/v1/openapi.json` against the real binary: every documented operation is
//! requested, with its path filled in from real objects, and must be answered by its own
//! route (not the fallback), with a status the document lists for it, and (for JSON)
//! a body of the documented shape. A renamed route or an undocumented field breaks it.

use crate::serve_support::*;
use serde_json::{Value, json};

/// What the router's fallback says; no documented path may get it.
const FALLBACK: &str = "no such endpoint";
const PING_KEY: &str = "k3y";

fn resolve<'a>(doc: &'a Value, value: &'a Value) -> &'a Value {
    match value.get("$ref").and_then(Value::as_str) {
        Some(r) => doc
            .pointer(r.strip_prefix('#').unwrap())
            .unwrap_or_else(|| panic!("{r} does not resolve")),
        None => value,
    }
}

fn type_matches(name: &str, value: &Value) -> bool {
    match name {
        "string" => value.is_string(),
        "integer" => value.is_i64() || value.is_u64(),
        "number" => value.is_number(),
        "boolean" => value.is_boolean(),
        "null" => value.is_null(),
        "object" => value.is_object(),
        "array" => value.is_array(),
        _ => panic!("unknown type {name}"),
    }
}

/// A small JSON Schema check, stricter than the standard in one way: an object may
/// carry no field its schema does not name (an undocumented field is drift).
fn conforms(doc: &Value, schema: &Value, value: &Value, at: &str) -> Result<(), String> {
    let schema = resolve(doc, schema);
    for (key, exactly_one) in [("oneOf", true), ("anyOf", false)] {
        if let Some(alternatives) = schema.get(key).and_then(Value::as_array) {
            let errors: Vec<String> = alternatives
                .iter()
                .filter_map(|s| conforms(doc, s, value, at).err())
                .collect();
            let matched = alternatives.len() - errors.len();
            if matched == 0 || (exactly_one && matched > 1) {
                return Err(format!(
                    "{at}: {matched} of the {key} alternatives match {value}: {errors:?}"
                ));
            }
        }
    }
    if let Some(types) = schema.get("type") {
        let names: Vec<&str> = match types {
            Value::String(t) => vec![t.as_str()],
            Value::Array(ts) => ts.iter().filter_map(Value::as_str).collect(),
            _ => panic!("bad type {types}"),
        };
        if !names.iter().any(|t| type_matches(t, value)) {
            return Err(format!("{at}: {value} is not {names:?}"));
        }
    }
    if let Some(allowed) = schema.get("enum").and_then(Value::as_array)
        && !allowed.contains(value)
    {
        return Err(format!("{at}: {value} is not one of {allowed:?}"));
    }
    match value {
        Value::Object(map) => {
            let properties = schema.get("properties").and_then(Value::as_object);
            for required in schema["required"].as_array().into_iter().flatten() {
                let name = required.as_str().unwrap();
                if !map.contains_key(name) {
                    return Err(format!("{at}: {name} is missing"));
                }
            }
            for (key, item) in map {
                let here = format!("{at}.{key}");
                match (
                    properties.and_then(|p| p.get(key)),
                    schema.get("additionalProperties"),
                ) {
                    (Some(s), _) => conforms(doc, s, item, &here)?,
                    (None, Some(s)) if s.is_object() => conforms(doc, s, item, &here)?,
                    (None, _) if properties.is_some() => {
                        return Err(format!("{here} is not in the document"));
                    }
                    (None, _) => {}
                }
            }
        }
        Value::Array(items) => {
            if let Some(s) = schema.get("items") {
                for (i, item) in items.iter().enumerate() {
                    conforms(doc, s, item, &format!("{at}[{i}]"))?;
                }
            }
        }
        _ => {}
    }
    Ok(())
}

struct Probe {
    uuid: String,
    slug: String,
    webhook: String,
}

impl Probe {
    fn path_value(&self, name: &str) -> String {
        match name {
            "uuid" | "uuid_or_key" => self.uuid.clone(),
            "signal_or_slug" => "start".into(),
            "ping_key" => PING_KEY.into(),
            "slug" => self.slug.clone(),
            "signal" => "0".into(),
            "name" => "probe".into(),
            other => panic!("no value for the path parameter {other}: add one"),
        }
    }

    /// The body to send, and its content type.
    fn body(&self, id: &str) -> Option<(String, &'static str)> {
        let json = |v: Value| Some((v.to_string(), "application/json"));
        match id {
            "createCheck" => {
                json(json!({"name": "OpenAPI probe 2", "interval": "1h", "channels": []}))
            }
            "updateCheck" => json(json!({"description": "probed"})),
            "createChannel" => {
                json(json!({"name": "probe2", "kind": "webhook", "url": self.webhook}))
            }
            "updateChannel" => json(json!({"method": "PUT"})),
            "createMaintenance" => json(json!({"name": "probe", "checks": ["OpenAPI probe"],
                "start": "2030-01-01T00:00:00Z", "end": "2030-01-01T01:00:00Z"})),
            "updateMaintenance" => json(json!({"end": "2030-01-01T02:00:00Z"})),
            "planConfig" => Some((
                "[[check]]\nname = \"planned\"\ninterval = \"1h\"\n".into(),
                "application/toml",
            )),
            id if id.starts_with("ping") || id.starts_with("hcPing") => id
                .ends_with("Post")
                .then(|| ("job output".into(), "text/plain")),
            _ => None,
        }
    }
}

#[test]
fn every_documented_operation_is_routed_and_answers_as_documented() {
    let dir = tempfile::tempdir().unwrap();
    // The channel is declared in the file, which may point it at loopback (the API may
    // not): a test delivery to it goes to a closed port.
    let webhook = format!("http://127.0.0.1:{}/hb", closed_port());
    let config = dir.path().join("hb.toml");
    std::fs::write(
        &config,
        format!("[[channel]]\nname = \"probe\"\nkind = \"webhook\"\nurl = \"{webhook}\"\n"),
    )
    .unwrap();
    let server = ServeProcess::start(
        &dir.path().join("hb.db"),
        &["--config", config.to_str().unwrap(), "--ping-key", PING_KEY],
        &[],
    );
    let answer = get(&server.url("/api/v1/openapi.json"));
    assert_eq!(answer.status, 200, "{}", answer.body);
    let doc = answer.json();
    assert!(doc["openapi"].as_str().unwrap().starts_with("3.1."));

    // The guard below means something only while the fallback says this.
    let nowhere = get(&server.url("/api/v1/no-such-route"));
    assert!(nowhere.body.contains(FALLBACK), "{}", nowhere.body);

    let check = post(
        &server.url("/api/v1/heartbeats"),
        &json!({"name": "OpenAPI probe", "interval": "1h", "channels": []}).to_string(),
    );
    assert_eq!(check.status, 201, "{}", check.body);
    let check = check.json();
    let channel = get(&server.url("/api/v1/channels/probe"));
    assert_eq!(channel.status, 200, "{}", channel.body);
    let probe = Probe {
        uuid: check["uuid"].as_str().unwrap().into(),
        slug: check["slug"].as_str().unwrap().into(),
        webhook,
    };

    let mut operations: Vec<(String, String, Value)> = Vec::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            operations.push((path.clone(), method.to_uppercase(), op.clone()));
        }
    }
    // Deletions last, so the objects are there for everything else.
    operations.sort_by_key(|(_, method, _)| method == "DELETE");
    assert!(operations.len() >= 30, "{} operations", operations.len());

    let mut problems = Vec::new();
    for (path, method, op) in &operations {
        let id = op["operationId"].as_str().unwrap();
        let url: String = path
            .split('/')
            .map(|segment| match segment.strip_prefix('{') {
                Some(name) => probe.path_value(name.trim_end_matches('}')),
                None => segment.to_string(),
            })
            .collect::<Vec<_>>()
            .join("/");
        let body = probe.body(id);
        let headers: Vec<(&str, &str)> = body
            .iter()
            .map(|(_, content_type)| ("Content-Type", *content_type))
            .collect();
        let answer = call(
            method,
            &server.url(&url),
            body.as_ref().map(|(b, _)| b.as_str()),
            &headers,
        );
        let what = format!(
            "{method} {url} ({id}) -> {}: {}",
            answer.status, answer.body
        );
        if answer.body.contains(FALLBACK) || answer.status == 405 {
            problems.push(format!("not routed: {what}"));
            continue;
        }
        let Some(documented) = op["responses"].get(answer.status.to_string()) else {
            problems.push(format!("undocumented status: {what}"));
            continue;
        };
        let documented = resolve(&doc, documented);
        if method != "HEAD"
            && let Some(schema) = documented.pointer("/content/application~1json/schema")
        {
            let value: Value = match serde_json::from_str(&answer.body) {
                Ok(v) => v,
                Err(e) => {
                    problems.push(format!("not JSON ({e}): {what}"));
                    continue;
                }
            };
            if let Err(e) = conforms(&doc, schema, &value, "body") {
                problems.push(format!("{e}: {what}"));
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn the_document_is_open_without_a_key() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("hb.toml");
    std::fs::write(&config, "api_keys = [\"secret-key\"]\n").unwrap();
    let server = ServeProcess::start(
        &dir.path().join("hb.db"),
        &["--config", config.to_str().unwrap()],
        &[],
    );
    let answer = get(&server.url("/api/v1/openapi.json"));
    assert_eq!(answer.status, 200, "{}", answer.body);
    assert!(answer.json()["paths"]["/api/v1/heartbeats"].is_object());
    assert_eq!(get(&server.url("/api/v1/heartbeats")).status, 401);
}
