//! The HTTP channel kinds against a recording receiver on loopback: method, path,
//! headers and payload shape, escaping, and how failures are classified.

use std::time::{Duration, Instant};

use crate::notify_support::{EVENT_ID, NAME, Receiver, UUID, event};
use hb::serve::notify::{ChannelKind, Delivery, Policy, deliver_with};
use serde_json::{Value, json};

const TIMEOUT: Duration = Duration::from_secs(10);

fn channel(settings: Value) -> ChannelKind {
    ChannelKind::from_json(&settings).unwrap_or_else(|e| panic!("{settings}: {e}"))
}

/// The receivers are on loopback: these deliveries allow private targets.
fn deliver(c: &ChannelKind, e: &hb::serve::notify::Event, timeout: Duration) -> Delivery {
    deliver_with(c, e, timeout, Policy::ALLOW_PRIVATE)
}

fn send(settings: Value, kind: &str) -> Delivery {
    deliver(&channel(settings), &event(kind), TIMEOUT)
}

fn assert_ok(d: &Delivery) {
    assert!(d.ok, "delivery failed: {d:?}");
    assert_eq!(d.error, None);
    assert!(!d.permanent);
}

fn assert_common_headers(r: &crate::notify_support::Recorded) {
    let ua = r.header("user-agent").unwrap_or_default();
    assert!(ua.starts_with("hb/"), "User-Agent {ua:?}");
    assert_eq!(r.header("x-hb-event-id"), Some(EVENT_ID));
}

#[test]
fn webhook_default_body() {
    let rx = Receiver::start(200, "OK");
    let d = send(
        json!({"name": "ops", "kind": "webhook", "url": format!("{}/hook", rx.url)}),
        "down",
    );
    assert_ok(&d);
    assert_eq!(d.status_code, Some(200));
    let r = rx.only();
    assert_eq!(r.method, "POST");
    assert_eq!(r.target, "/hook");
    assert_common_headers(&r);
    assert_eq!(r.header("content-type"), Some("application/json"));
    let body = r.json();
    let mut keys: Vec<&str> = body
        .as_object()
        .unwrap()
        .keys()
        .map(|k| k.as_str())
        .collect();
    keys.sort();
    assert_eq!(
        keys,
        ["at", "check", "event", "event_id", "reason", "repeat"]
    );
    assert_eq!(body["event"], "down");
    assert_eq!(body["event_id"], EVENT_ID);
    assert_eq!(body["check"]["uuid"], UUID);
    assert_eq!(body["check"]["name"], NAME);
    assert_eq!(body["reason"], "exit code 3");
    assert_eq!(body["at"], "2025-01-31T03:00:00Z");
    assert_eq!(body["repeat"], 0);

    // An up event has a null reason.
    let rx = Receiver::start(204, "");
    assert_ok(&send(json!({"kind": "webhook", "url": rx.url}), "up"));
    let body = rx.only().json();
    assert_eq!(body["event"], "up");
    assert_eq!(body["reason"], Value::Null);
}

#[test]
fn webhook_templates_escape_for_url_body_and_headers() {
    let rx = Receiver::start(201, "");
    let settings = json!({
        "kind": "webhook",
        "url": format!("{}/hb/$UUID?name=$NAME&e=$EVENT_ID&ev=$EVENT", rx.url),
        "method": "put",
        "headers": {"X-Check": "$NAME ($STATUS)", "X-Output": "$BODY", "Content-Type": "application/vnd.test+json"},
        "body": "{\"text\": \"$NAME is $EVENT: $REASON\", \"output\": \"$BODY\", \"at\": \"$AT\", \"slug\": \"$SLUG\", \"all\": $JSON}",
    });
    let d = send(settings, "down");
    assert_ok(&d);
    assert_eq!(d.status_code, Some(201));
    let r = rx.only();
    assert_eq!(r.method, "PUT");
    let (path, query) = r.target.split_once('?').unwrap();
    assert_eq!(path, format!("/hb/{UUID}"));
    let query: Vec<(String, String)> = query
        .split('&')
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap();
            (k.to_string(), crate::notify_support::form_decode(v))
        })
        .collect();
    assert_eq!(query[0], ("name".into(), NAME.into()));
    assert_eq!(query[1], ("e".into(), EVENT_ID.into()));
    assert_eq!(query[2], ("ev".into(), "down".into()));
    assert!(
        r.target
            .contains("name=Backup%20%22prod%22%20%3Cdb%3E%20%26%20co&"),
        "{}",
        r.target
    );
    assert_eq!(
        r.header("x-check"),
        Some("Backup \"prod\" <db> & co (down)")
    );
    // Newlines in a header value become spaces.
    let output = r.header("x-output").unwrap();
    assert!(
        output.starts_with("pg_dump: error: \"connection\" refused"),
        "{output}"
    );
    assert!(!output.contains('\n'));
    assert_eq!(r.header("content-type"), Some("application/vnd.test+json"));
    let body = r.json();
    assert_eq!(body["text"], format!("{NAME} is down: exit code 3"));
    assert_eq!(body["output"], event("down").body.unwrap());
    assert_eq!(body["at"], "2025-01-31T03:00:00Z");
    assert_eq!(body["slug"], "backup-prod-db-co");
    assert_eq!(body["all"]["check"]["name"], NAME);
    assert_eq!(body["all"]["event_id"], EVENT_ID);
}

#[test]
fn webhook_get_sends_no_body() {
    let rx = Receiver::start(200, "");
    assert_ok(&send(
        json!({"kind": "webhook", "method": "GET", "url": format!("{}/ping?s=$STATUS", rx.url)}),
        "up",
    ));
    let r = rx.only();
    assert_eq!(r.method, "GET");
    assert_eq!(r.target, "/ping?s=up");
    assert!(r.body.is_empty());
}

#[test]
fn slack_payload() {
    let rx = Receiver::start(200, "ok");
    assert_ok(&send(
        json!({"kind": "slack", "url": format!("{}/services/T0/B0/X", rx.url)}),
        "down",
    ));
    let r = rx.only();
    assert_eq!(
        (r.method.as_str(), r.target.as_str()),
        ("POST", "/services/T0/B0/X")
    );
    assert_common_headers(&r);
    assert_eq!(r.header("content-type"), Some("application/json"));
    let p = r.json();
    let text = p["text"].as_str().unwrap();
    assert_eq!(
        text,
        "DOWN: Backup \"prod\" &lt;db&gt; &amp; co (exit code 3)"
    );
    let a = &p["attachments"][0];
    assert_eq!(a["color"], "#d7263d");
    assert_eq!(a["title_link"], event("down").check_url);
    assert!(a["text"].as_str().unwrap().contains("&lt;script&gt;"));
    assert!(
        a["fields"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f["title"] == "Status" && f["value"] == "down")
    );

    for (kind, colour) in [
        ("up", "#2eb67d"),
        ("slow", "#f28c28"),
        ("too_fast", "#f28c28"),
        ("test", "#9e9e9e"),
    ] {
        let rx = Receiver::start(200, "ok");
        assert_ok(&send(json!({"kind": "slack", "url": rx.url}), kind));
        assert_eq!(
            rx.only().json()["attachments"][0]["color"],
            colour,
            "{kind}"
        );
    }
}

#[test]
fn discord_payload() {
    let rx = Receiver::start(204, "");
    assert_ok(&send(
        json!({"kind": "discord", "url": format!("{}/api/webhooks/1/tok", rx.url)}),
        "down",
    ));
    let r = rx.only();
    assert_eq!(
        (r.method.as_str(), r.target.as_str()),
        ("POST", "/api/webhooks/1/tok")
    );
    assert_common_headers(&r);
    let p = r.json();
    assert!(p["content"].as_str().unwrap().starts_with("DOWN: "));
    let e = &p["embeds"][0];
    assert_eq!(e["color"], 0xD7263D);
    assert!(e["color"].is_u64());
    assert_eq!(e["url"], event("down").check_url);
    assert_eq!(e["timestamp"], "2025-01-31T03:00:00Z");
    assert!(
        e["description"].as_str().unwrap().contains("<script>"),
        "in a code block, as is"
    );
    assert_eq!(p["allowed_mentions"]["parse"], json!([]));
    let rx = Receiver::start(204, "");
    assert_ok(&send(json!({"kind": "discord", "url": rx.url}), "up"));
    assert_eq!(rx.only().json()["embeds"][0]["color"], 0x2EB67D);
}

#[test]
fn msteams_payload() {
    let rx = Receiver::start(202, "");
    assert_ok(&send(
        json!({"kind": "msteams", "url": format!("{}/workflows/abc", rx.url)}),
        "down",
    ));
    let r = rx.only();
    assert_eq!(
        (r.method.as_str(), r.target.as_str()),
        ("POST", "/workflows/abc")
    );
    assert_common_headers(&r);
    let p = r.json();
    assert_eq!(p["type"], "message");
    let a = &p["attachments"][0];
    assert_eq!(a["contentType"], "application/vnd.microsoft.card.adaptive");
    let card = &a["content"];
    assert_eq!(card["type"], "AdaptiveCard");
    assert_eq!(card["body"][0]["style"], "attention");
    assert_eq!(
        card["body"][0]["items"][0]["text"],
        format!("DOWN: {NAME} (exit code 3)")
    );
    assert_eq!(card["actions"][0]["type"], "Action.OpenUrl");
    assert_eq!(card["actions"][0]["url"], event("down").check_url);
}

#[test]
fn ntfy_request() {
    let rx = Receiver::start(200, "{}");
    let settings = json!({"kind": "ntfy", "server": format!("{}/ntfy/", rx.url), "topic": "hb-alerts", "token": "tk_secret"});
    assert_ok(&send(settings.clone(), "down"));
    let r = rx.only();
    assert_eq!(
        (r.method.as_str(), r.target.as_str()),
        ("POST", "/ntfy/hb-alerts")
    );
    assert_common_headers(&r);
    assert_eq!(
        r.header("title"),
        Some(format!("DOWN: {NAME} (exit code 3)").as_str())
    );
    assert_eq!(r.header("priority"), Some("4"));
    assert_eq!(r.header("tags"), Some("rotating_light,hb"));
    assert_eq!(r.header("click"), Some(event("down").check_url.as_str()));
    assert_eq!(r.header("authorization"), Some("Bearer tk_secret"));
    let body = r.text();
    assert!(
        body.starts_with(&format!("{NAME} is down: it exited with code 3.")),
        "{body}"
    );
    assert!(body.contains("<script>"), "plain text, as is");

    // Priority names, the default for other events, non-ASCII titles.
    let rx = Receiver::start(200, "{}");
    let mut e = event("up");
    e.check["name"] = json!("Sauvegarde é");
    let c = channel(json!({"kind": "ntfy", "server": rx.url, "topic": "t", "priority": "max"}));
    assert_ok(&deliver(&c, &e, TIMEOUT));
    let r = rx.only();
    assert_eq!(r.header("priority"), Some("5"));
    assert_eq!(
        r.header("title"),
        Some("=?UTF-8?B?VVA6IFNhdXZlZ2FyZGUgw6k=?=")
    );
    assert_eq!(r.header("authorization"), None);
    let rx = Receiver::start(200, "{}");
    assert_ok(&send(
        json!({"kind": "ntfy", "server": rx.url, "topic": "t"}),
        "up",
    ));
    assert_eq!(rx.only().header("priority"), Some("3"));
}

#[test]
fn telegram_request_escapes_html_and_hides_the_token() {
    let rx = Receiver::start(200, "{\"ok\":true}");
    let settings = json!({"kind": "telegram", "bot_token": "123456:ABC-def", "chat_id": -1001234, "api_url": rx.url});
    assert_ok(&send(settings.clone(), "down"));
    let r = rx.only();
    assert_eq!(
        (r.method.as_str(), r.target.as_str()),
        ("POST", "/bot123456:ABC-def/sendMessage")
    );
    assert_common_headers(&r);
    let p = r.json();
    assert_eq!(p["chat_id"], -1001234);
    assert_eq!(p["parse_mode"], "HTML");
    let text = p["text"].as_str().unwrap();
    assert!(
        text.starts_with("<b>DOWN: Backup &quot;prod&quot; &lt;db&gt; &amp; co (exit code 3)</b>"),
        "{text}"
    );
    assert!(text.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
    assert!(!text.contains("<script>"));
    assert!(text.contains(&format!("<a href=\"{}\">", event("down").check_url)));

    let rx = Receiver::start(
        400,
        "{\"ok\":false,\"error_code\":400,\"description\":\"Bad Request: chat not found\"}",
    );
    let d = send(
        json!({"kind": "telegram", "bot_token": "123456:ABC-def", "chat_id": "@nochat", "api_url": rx.url}),
        "down",
    );
    assert!(!d.ok && d.permanent, "{d:?}");
    assert_eq!(d.status_code, Some(400));
    let error = d.error.unwrap();
    // The receiver's words are not echoed, and the token is not shown.
    assert_eq!(
        error,
        format!(
            "the receiver at {}/bot…/sendMessage answered 400 Bad Request",
            rx.url
        )
    );
    assert_eq!(rx.only().json()["chat_id"], "@nochat");
}

#[test]
fn gotify_request() {
    let rx = Receiver::start(200, "{}");
    assert_ok(&send(
        json!({"kind": "gotify", "server": format!("{}/gotify", rx.url), "token": "AbC.123"}),
        "down",
    ));
    let r = rx.only();
    assert_eq!(
        (r.method.as_str(), r.target.as_str()),
        ("POST", "/gotify/message")
    );
    assert_common_headers(&r);
    assert_eq!(r.header("x-gotify-key"), Some("AbC.123"));
    let p = r.json();
    assert_eq!(p["title"], format!("DOWN: {NAME} (exit code 3)"));
    assert_eq!(p["priority"], 8);
    assert!(p["message"].as_str().unwrap().contains("Last output:"));
    assert_eq!(
        p["extras"]["client::notification"]["click"]["url"],
        event("down").check_url
    );
}

#[test]
fn pushover_form() {
    let rx = Receiver::start(200, "{\"status\":1}");
    assert_ok(&send(
        json!({"kind": "pushover", "user_key": "uQiRzpo4DXghDmr9QzzfQu27cmVRsG", "app_token": "azGDORePK8gMaC0QOYAMyEEuzJnyUi", "api_url": rx.url}),
        "down",
    ));
    let r = rx.only();
    assert_eq!(
        (r.method.as_str(), r.target.as_str()),
        ("POST", "/1/messages.json")
    );
    assert_common_headers(&r);
    assert_eq!(
        r.header("content-type"),
        Some("application/x-www-form-urlencoded")
    );
    assert_eq!(
        r.form_value("token").as_deref(),
        Some("azGDORePK8gMaC0QOYAMyEEuzJnyUi")
    );
    assert_eq!(
        r.form_value("user").as_deref(),
        Some("uQiRzpo4DXghDmr9QzzfQu27cmVRsG")
    );
    assert_eq!(
        r.form_value("title"),
        Some(format!("DOWN: {NAME} (exit code 3)"))
    );
    assert_eq!(r.form_value("priority").as_deref(), Some("1"));
    assert_eq!(r.form_value("url"), Some(event("down").check_url));
    assert_eq!(r.form_value("timestamp").as_deref(), Some("1738292400"));
    let message = r.form_value("message").unwrap();
    assert!(message.chars().count() <= 1024);
    assert!(message.starts_with(&format!("{NAME} is down")), "{message}");
}

#[test]
fn pagerduty_trigger_resolve_and_severity() {
    let key = "R0123456789ABCDEF0123456789ABCDE";
    let settings = |url: &str| json!({"kind": "pagerduty", "routing_key": key, "api_url": url});

    let rx = Receiver::start(202, "{\"status\":\"success\"}");
    let d = send(settings(&rx.url), "down");
    assert_ok(&d);
    assert_eq!(d.status_code, Some(202));
    let r = rx.only();
    assert_eq!(
        (r.method.as_str(), r.target.as_str()),
        ("POST", "/v2/enqueue")
    );
    assert_common_headers(&r);
    let p = r.json();
    assert_eq!(p["routing_key"], key);
    assert_eq!(p["event_action"], "trigger");
    assert_eq!(p["dedup_key"], format!("hb-{UUID}"));
    assert_eq!(p["payload"]["severity"], "critical");
    assert_eq!(
        p["payload"]["summary"],
        format!("DOWN: {NAME} (exit code 3)")
    );
    assert_eq!(p["payload"]["source"], "backup-prod-db-co");
    assert_eq!(p["payload"]["timestamp"], "2025-01-31T03:00:00Z");
    assert_eq!(p["payload"]["custom_details"]["event_id"], EVENT_ID);
    assert_eq!(p["links"][0]["href"], event("down").check_url);

    let rx = Receiver::start(202, "{}");
    assert_ok(&send(settings(&rx.url), "up"));
    let p = rx.only().json();
    assert_eq!(
        p,
        json!({"routing_key": key, "event_action": "resolve", "dedup_key": format!("hb-{UUID}")})
    );

    for (kind, severity, dedup) in [
        ("slow", "warning", format!("hb-{UUID}")),
        ("too_fast", "warning", format!("hb-{UUID}")),
        ("test", "info", format!("hb-{UUID}-test")),
    ] {
        let rx = Receiver::start(202, "{}");
        assert_ok(&send(settings(&rx.url), kind));
        let p = rx.only().json();
        assert_eq!(p["event_action"], "trigger", "{kind}");
        assert_eq!(p["payload"]["severity"], severity, "{kind}");
        assert_eq!(p["dedup_key"], dedup.as_str(), "{kind}");
    }
}

#[test]
fn failures_are_classified() {
    let rx = Receiver::start(404, "no such hook\nat all");
    let d = send(
        json!({"kind": "webhook", "url": format!("{}/gone?secret=1", rx.url)}),
        "down",
    );
    assert!(!d.ok && d.permanent, "{d:?}");
    assert_eq!(d.status_code, Some(404));
    // The status and its standard reason, never the receiver's body.
    assert_eq!(
        d.error.as_deref(),
        Some(format!("the receiver at {}/gone?… answered 404 Not Found", rx.url).as_str())
    );

    for status in [503, 500, 429, 408] {
        let rx = Receiver::start(status, "busy");
        let d = send(
            json!({"kind": "slack", "url": format!("{}/services/secret", rx.url)}),
            "down",
        );
        assert!(!d.ok && !d.permanent, "{status}: {d:?}");
        assert_eq!(d.status_code, Some(status));
        let error = d.error.unwrap();
        assert!(!error.contains("secret"), "{error}");
        assert!(!error.contains("busy"), "{error}");
        assert!(
            error.starts_with(&format!("the receiver at {}/… answered {status} ", rx.url)),
            "{error}"
        );
    }

    let rx = Receiver::start(401, "unauthorized");
    let d = send(
        json!({"kind": "gotify", "server": rx.url, "token": "x"}),
        "down",
    );
    assert!(!d.ok && d.permanent && d.status_code == Some(401), "{d:?}");

    // A redirect is not followed: the URL is wrong.
    let rx = Receiver::start(301, "");
    let d = send(json!({"kind": "webhook", "url": rx.url}), "down");
    assert!(!d.ok && d.permanent && d.status_code == Some(301), "{d:?}");

    // Nothing listens on the port.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let d = send(
        json!({"kind": "webhook", "url": format!("http://127.0.0.1:{port}/x")}),
        "down",
    );
    assert!(!d.ok && !d.permanent, "{d:?}");
    assert_eq!(d.status_code, None);
    assert!(d.error.unwrap().contains(&format!("127.0.0.1:{port}")));
}

#[test]
fn a_receiver_that_never_answers_is_bounded_by_the_timeout() {
    let rx = Receiver::silent();
    let c = channel(json!({"kind": "webhook", "url": rx.url}));
    let started = Instant::now();
    let d = deliver(&c, &event("down"), Duration::from_secs(1));
    let took = started.elapsed();
    assert!(took < Duration::from_secs(5), "took {took:?}");
    assert!(!d.ok && !d.permanent && d.status_code.is_none(), "{d:?}");
    assert!(d.error.unwrap().contains("within 1s"));
}

#[test]
fn private_targets_are_refused_unless_allowed() {
    let rx = Receiver::start(200, "{}");
    let settings = [
        json!({"kind": "webhook", "url": format!("{}/hook/$SLUG?k=1", rx.url)}),
        json!({"kind": "webhook", "url": format!("http://localhost:{}/hook", rx.port)}),
        json!({"kind": "webhook", "url": format!("http://[::ffff:127.0.0.1]:{}/hook", rx.port)}),
        json!({"kind": "slack", "url": format!("{}/services/T/B/X", rx.url)}),
        json!({"kind": "discord", "url": format!("{}/api/webhooks/1/a", rx.url)}),
        json!({"kind": "msteams", "url": format!("{}/workflows/1", rx.url)}),
        json!({"kind": "ntfy", "server": rx.url, "topic": "t"}),
        json!({"kind": "telegram", "bot_token": "1:A", "chat_id": 1, "api_url": rx.url}),
        json!({"kind": "gotify", "server": rx.url, "token": "T"}),
        json!({"kind": "pushover", "user_key": "u", "app_token": "a", "api_url": rx.url}),
        json!({"kind": "pagerduty", "routing_key": "r", "api_url": rx.url}),
    ];
    for s in &settings {
        let c = channel(s.clone());
        let d = deliver_with(&c, &event("down"), TIMEOUT, Policy::GLOBAL_ONLY);
        assert!(
            !d.ok && d.permanent && d.status_code.is_none(),
            "{s}: {d:?}"
        );
        let error = d.error.unwrap();
        assert!(error.starts_with("refused to connect to "), "{s}: {error}");
        assert!(
            error.ends_with("a loopback address); set allow_private_targets = true to allow it"),
            "{s}: {error}"
        );
    }
    assert_eq!(
        deliver_with(
            &channel(settings[0].clone()),
            &event("down"),
            TIMEOUT,
            Policy::GLOBAL_ONLY
        )
        .error
        .as_deref(),
        Some(
            "refused to connect to 127.0.0.1 (a loopback address); set allow_private_targets = true to allow it"
        )
    );
    assert!(
        rx.requests().is_empty(),
        "a refused delivery reached the receiver"
    );
    // The same channels with private targets allowed are delivered.
    for s in &settings {
        let d = deliver_with(
            &channel(s.clone()),
            &event("down"),
            TIMEOUT,
            Policy::ALLOW_PRIVATE,
        );
        assert_ok(&d);
    }
    assert_eq!(rx.requests().len(), settings.len());
}

#[test]
fn a_name_is_refused_by_what_it_resolves_to() {
    let rx = Receiver::start(200, "{}");
    let c = channel(json!({"kind": "webhook", "url": format!("http://localhost:{}/x", rx.port)}));
    let d = deliver_with(&c, &event("down"), TIMEOUT, Policy::GLOBAL_ONLY);
    let error = d.error.unwrap();
    assert!(
        error.starts_with("refused to connect to localhost (") && error.contains("loopback"),
        "{error}"
    );
    // A refusal does not stick: the next delivery with private targets allowed goes out,
    // and the one after, refused again, does not reuse its connection.
    assert_ok(&deliver_with(
        &c,
        &event("down"),
        TIMEOUT,
        Policy::ALLOW_PRIVATE,
    ));
    let d = deliver_with(&c, &event("down"), TIMEOUT, Policy::GLOBAL_ONLY);
    assert!(!d.ok && d.permanent, "{d:?}");
    assert_eq!(rx.requests().len(), 1);
}
