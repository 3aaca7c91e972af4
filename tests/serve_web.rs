//! The dashboard over plain HTTP, against the real binary: escaping, the CSP, CSRF,
//! login and read-only sessions, single sign-on from trusted proxies, 304s, badges,
//! per-check metrics and alert links. (The browser tests are in browser_web.rs.)

use crate::serve_support::*;
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;

pub(crate) struct Page {
    pub status: u16,
    pub headers: BTreeMap<String, Vec<String>>,
    pub body: String,
}

impl Page {
    pub(crate) fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .get(&name.to_ascii_lowercase())
            .and_then(|v| v.first())
            .map(String::as_str)
    }

    /// The value of the first hidden `csrf` field.
    pub(crate) fn csrf(&self) -> String {
        let at = self
            .body
            .find("name=\"csrf\" value=\"")
            .unwrap_or_else(|| panic!("no csrf field in {}", self.body));
        let rest = &self.body[at + 19..];
        rest[..rest.find('"').unwrap()].to_string()
    }

    /// The `<title>`.
    pub(crate) fn title(&self) -> &str {
        let start = self.body.find("<title>").unwrap() + 7;
        let end = self.body.find("</title>").unwrap();
        &self.body[start..end]
    }
}

/// One request, redirects not followed; `headers` may carry a Cookie.
pub(crate) fn request(
    method: &str,
    url: &str,
    form: Option<&str>,
    headers: &[(&str, &str)],
) -> Page {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .max_redirects(0)
        .timeout_global(Some(Duration::from_secs(20)))
        .build()
        .into();
    let mut builder = ureq::http::Request::builder().method(method).uri(url);
    for (k, v) in headers {
        builder = builder.header(*k, *v);
    }
    let response = match form {
        Some(body) => agent.run(
            builder
                .header("Content-Type", "application/x-www-form-urlencoded")
                .body(body.as_bytes().to_vec())
                .unwrap(),
        ),
        None => agent.run(builder.body(()).unwrap()),
    }
    .unwrap_or_else(|e| panic!("{method} {url}: {e}"));
    let mut map: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for (k, v) in response.headers() {
        map.entry(k.as_str().to_string())
            .or_default()
            .push(v.to_str().unwrap_or_default().to_string());
    }
    let status = response.status().as_u16();
    let body = response.into_body().read_to_string().unwrap_or_default();
    Page {
        status,
        headers: map,
        body,
    }
}

pub(crate) fn page(url: &str, headers: &[(&str, &str)]) -> Page {
    request("GET", url, None, headers)
}

pub(crate) fn form_post(url: &str, form: &str, headers: &[(&str, &str)]) -> Page {
    request("POST", url, Some(form), headers)
}

pub(crate) fn encode(text: &str) -> String {
    hb::serve::web::words::encode(text)
}

pub(crate) fn create(base: &ServeProcess, body: Value, key: Option<&str>) -> Value {
    let auth = key.map(|k| format!("Bearer {k}"));
    let mut headers = vec![("Content-Type", "application/json")];
    if let Some(a) = &auth {
        headers.push(("Authorization", a.as_str()));
    }
    let answer = call(
        "POST",
        &base.url("/api/v1/heartbeats"),
        Some(&body.to_string()),
        &headers,
    );
    assert_eq!(answer.status, 201, "{}", answer.body);
    answer.json()
}

fn config(dir: &Path, text: &str) -> std::path::PathBuf {
    let path = dir.join("config.toml");
    std::fs::write(&path, format!("allow_private_targets = true\n{text}")).unwrap();
    path
}

fn start(dir: &Path, config_text: Option<&str>) -> ServeProcess {
    let db = dir.join("hb.db");
    match config_text {
        None => ServeProcess::start(&db, &[], &[]),
        Some(text) => {
            let path = config(dir, text);
            ServeProcess::start(&db, &["--config", path.to_str().unwrap()], &[])
        }
    }
}

#[test]
fn names_and_bodies_are_text_and_pages_send_a_strict_policy() {
    let dir = tempfile::tempdir().unwrap();
    let hb = start(dir.path(), None);
    let check = create(
        &hb,
        json!({"name": "<script>alert(1)</script>", "interval": "1h", "tags": ["<b>t</b>"], "owner": "\"o\" & <i>"}),
        None,
    );
    let uuid = check["uuid"].as_str().unwrap();
    let body = "<img src=x onerror=alert(3)><script>alert(4)</script>";
    let answer = call("POST", &hb.url(&format!("/ping/{uuid}/1")), Some(body), &[]);
    assert_eq!(answer.status, 200);

    for path in ["/".to_string(), format!("/checks/{uuid}")] {
        let p = page(&hb.url(&path), &[]);
        assert_eq!(p.status, 200, "{path}: {}", p.body);
        assert!(p.header("content-type").unwrap().starts_with("text/html"));
        assert!(!p.body.contains("<script>alert"), "{path}");
        assert!(!p.body.contains("<img src=x"), "{path}");
        assert!(
            !p.body.contains("<b>t</b>") && !p.body.contains("<i>"),
            "{path}"
        );
        assert!(
            p.body.contains("&lt;script&gt;alert(1)&lt;/script&gt;"),
            "{path}"
        );
        let csp = p.header("content-security-policy").unwrap();
        assert!(
            csp.contains("script-src 'self'") && !csp.contains("unsafe-inline"),
            "{csp}"
        );
        assert!(csp.contains("default-src 'none'") && csp.contains("frame-ancestors 'none'"));
        assert_eq!(p.header("referrer-policy"), Some("same-origin"));
        assert!(p.body.contains("<meta name=\"viewport\""));
        assert!(
            p.body.contains("<time datetime=\""),
            "{path}: every time is machine-readable"
        );
        // Scripts come from /static only; none is inline.
        for (i, _) in p.body.match_indices("<script") {
            assert!(
                p.body[i..].starts_with("<script src=\"/static/hb.js?v="),
                "{path}"
            );
        }
        assert!(p.body.contains("(1 down) "), "{}", p.title());
        assert!(
            !p.headers.contains_key("set-cookie"),
            "no cookie before login"
        );
    }
    let details = page(&hb.url(&format!("/checks/{uuid}")), &[]);
    assert!(details.body.contains("&lt;img src=x onerror=alert(3)&gt;"));
    assert!(details.body.contains("failed, exit code 1"));
    assert!(details.body.contains(&format!("hb run {uuid} --")));
    // The script and the stylesheet are served from the binary.
    let js = page(&hb.url("/static/hb.js"), &[]);
    assert_eq!(js.status, 200);
    assert!(
        js.header("content-type")
            .unwrap()
            .starts_with("text/javascript")
    );
    assert_eq!(page(&hb.url("/static/hb.css"), &[]).status, 200);
    assert_eq!(page(&hb.url("/static/nope.js"), &[]).status, 404);
}

#[test]
fn the_list_filters_sorts_and_counts_down_in_the_title() {
    let dir = tempfile::tempdir().unwrap();
    let hb = start(dir.path(), None);
    let up = create(
        &hb,
        json!({"name": "alpha", "interval": "1h", "tags": ["db"]}),
        None,
    );
    let down = create(
        &hb,
        json!({"name": "zulu", "interval": "1h", "tags": ["db"], "owner": "carol"}),
        None,
    );
    create(
        &hb,
        json!({"name": "mike", "interval": "1h", "tags": ["web"]}),
        None,
    );
    call(
        "GET",
        &hb.url(&format!("/ping/{}", up["uuid"].as_str().unwrap())),
        None,
        &[],
    );
    call(
        "GET",
        &hb.url(&format!("/ping/{}/fail", down["uuid"].as_str().unwrap())),
        None,
        &[],
    );

    let list = page(&hb.url("/"), &[]);
    assert_eq!(list.title(), "(1 down) hb");
    let (z, a, m) = (
        list.body.find(">zulu<").unwrap(),
        list.body.find(">alpha<").unwrap(),
        list.body.find(">mike<").unwrap(),
    );
    assert!(z < a && a < m, "worst first: down, up, new");
    assert!(
        list.body.contains(">down</span>"),
        "the status is a word in the row"
    );
    // The tag button shows its worst state.
    assert!(
        list.body
            .contains("class=\"tag st st-down\" href=\"/?tag=db\""),
        "{}",
        list.body
    );

    let only_down = page(&hb.url("/?status=down"), &[]);
    assert!(only_down.body.contains(">zulu<") && !only_down.body.contains(">alpha<"));
    let by_tag = page(&hb.url("/?tag=web"), &[]);
    assert!(by_tag.body.contains(">mike<") && !by_tag.body.contains(">zulu<"));
    let search = page(&hb.url("/?q=CAROL"), &[]);
    assert!(search.body.contains(">zulu<") && !search.body.contains(">mike<"));
    let by_name = page(&hb.url("/?sort=name"), &[]);
    let (a, m, z) = (
        by_name.body.find(">alpha<").unwrap(),
        by_name.body.find(">mike<").unwrap(),
        by_name.body.find(">zulu<").unwrap(),
    );
    assert!(a < m && m < z);
    let past = page(&hb.url("/?page=2"), &[]);
    assert!(past.body.contains("No check matches"));
    assert_eq!(page(&hb.url("/?status=bogus"), &[]).status, 400);
    // Nothing down: the title is just `hb`.
    call(
        "POST",
        &hb.url(&format!(
            "/api/v1/heartbeats/{}/pause",
            down["uuid"].as_str().unwrap()
        )),
        None,
        &[],
    );
    assert_eq!(page(&hb.url("/"), &[]).title(), "hb");
}

#[test]
fn forms_need_their_csrf_token_and_validate_as_the_api_does() {
    let dir = tempfile::tempdir().unwrap();
    let hb = start(dir.path(), None);
    let new = page(&hb.url("/checks/new"), &[]);
    assert_eq!(new.status, 200);
    let csrf = new.csrf();
    let fields = "name=Nightly+job&kind=interval&interval=1h&tags=db%2C+nightly&channels_mode=all";
    assert_eq!(
        form_post(&hb.url("/checks/new"), fields, &[]).status,
        403,
        "no token"
    );
    assert_eq!(
        form_post(
            &hb.url("/checks/new"),
            &format!("{fields}&csrf=0123456789abcdef0123456789abcdef"),
            &[]
        )
        .status,
        403,
        "a wrong token"
    );
    // A cross-site form is refused before any of that (its Origin is foreign).
    let foreign = form_post(
        &hb.url("/checks/new"),
        &format!("{fields}&csrf={csrf}"),
        &[("Origin", "http://evil.example")],
    );
    assert_eq!(foreign.status, 403);
    let created = form_post(
        &hb.url("/checks/new"),
        &format!("{fields}&csrf={csrf}"),
        &[],
    );
    assert_eq!(created.status, 303, "{}", created.body);
    let location = created.header("location").unwrap().to_string();
    let uuid = location.strip_prefix("/checks/").unwrap().to_string();
    let api = get(&hb.url(&format!("/api/v1/heartbeats/{uuid}"))).json();
    assert_eq!(api["name"], "Nightly job");
    assert_eq!(api["tags"], json!(["db", "nightly"]));

    // The API's message for a bad interval, and nothing changes.
    let bad = form_post(
        &hb.url("/checks/new"),
        &format!("name=x&kind=interval&interval=abc&csrf={csrf}"),
        &[],
    );
    assert_eq!(bad.status, 400);
    let api_bad = post(
        &hb.url("/api/v1/heartbeats"),
        r#"{"name": "x", "interval": "abc"}"#,
    );
    let message = api_bad.json()["error"].as_str().unwrap().to_string();
    assert!(
        bad.body.contains(&message.replace('"', "&quot;")),
        "{message} in {}",
        bad.body
    );
    let taken = form_post(
        &hb.url("/checks/new"),
        &format!("{fields}&csrf={csrf}"),
        &[],
    );
    assert_eq!(taken.status, 409);

    // Edit: a cron in a zone; a bad zone is the API's 400.
    let edit = form_post(
        &hb.url(&format!("/checks/{uuid}/edit")),
        &format!(
            "name=Nightly+job&kind=cron&cron=0+3+*+*+*&tz=Mars%2FBase&channels_mode=all&csrf={csrf}"
        ),
        &[],
    );
    assert_eq!(edit.status, 400);
    assert!(edit.body.contains("Mars/Base"));
    let edit = form_post(
        &hb.url(&format!("/checks/{uuid}/edit")),
        &format!(
            "name=Nightly+job&kind=cron&cron=0+3+*+*+*&tz=Europe%2FParis&channels_mode=all&grace_period=&csrf={csrf}"
        ),
        &[],
    );
    assert_eq!(edit.status, 303, "{}", edit.body);
    let api = get(&hb.url(&format!("/api/v1/heartbeats/{uuid}"))).json();
    assert_eq!(
        (
            api["cron"].as_str(),
            api["tz"].as_str(),
            api["interval"].as_str()
        ),
        (Some("0 3 * * *"), Some("Europe/Paris"), None)
    );

    // Pause and resume, then delete after confirming.
    assert_eq!(
        form_post(
            &hb.url(&format!("/checks/{uuid}/pause")),
            &format!("csrf={csrf}"),
            &[]
        )
        .status,
        303
    );
    assert_eq!(
        get(&hb.url(&format!("/api/v1/heartbeats/{uuid}"))).json()["status"],
        "paused"
    );
    assert_eq!(
        form_post(
            &hb.url(&format!("/checks/{uuid}/resume")),
            &format!("csrf={csrf}"),
            &[]
        )
        .status,
        303
    );
    assert_eq!(
        get(&hb.url(&format!("/api/v1/heartbeats/{uuid}"))).json()["status"],
        "new"
    );
    let confirm = page(&hb.url(&format!("/checks/{uuid}/delete")), &[]);
    assert!(confirm.body.contains("Delete Nightly job"));
    assert_eq!(
        form_post(&hb.url(&format!("/checks/{uuid}/delete")), "", &[]).status,
        403
    );
    assert_eq!(
        get(&hb.url(&format!("/api/v1/heartbeats/{uuid}"))).status,
        200
    );
    let gone = form_post(
        &hb.url(&format!("/checks/{uuid}/delete")),
        &format!("csrf={csrf}"),
        &[],
    );
    assert_eq!((gone.status, gone.header("location")), (303, Some("/")));
    assert_eq!(
        get(&hb.url(&format!("/api/v1/heartbeats/{uuid}"))).status,
        404
    );
}

fn cookie_of(p: &Page) -> String {
    let set = p.header("set-cookie").expect("a cookie");
    set.split(';').next().unwrap().to_string()
}

#[test]
fn login_gives_a_session_read_keys_see_no_buttons_and_sessions_end_with_their_key() {
    let dir = tempfile::tempdir().unwrap();
    let keys = "api_keys = [\"full-key-0123456789\"]\nread_keys = [\"read-key-0123456789\"]\n";
    let mut hb = start(dir.path(), Some(keys));
    let check = create(
        &hb,
        json!({"name": "job", "interval": "1h"}),
        Some("full-key-0123456789"),
    );
    let uuid = check["uuid"].as_str().unwrap().to_string();

    let anonymous = page(&hb.url(&format!("/checks/{uuid}")), &[]);
    assert_eq!(anonymous.status, 303);
    assert_eq!(
        anonymous.header("location"),
        Some(format!("/login?next={}", encode(&format!("/checks/{uuid}"))).as_str())
    );
    assert!(!anonymous.headers.contains_key("set-cookie"));
    let login = page(&hb.url("/login"), &[]);
    assert_eq!(login.status, 200);
    assert!(
        !login.headers.contains_key("set-cookie"),
        "no cookie before login"
    );
    let csrf = login.csrf();
    let wrong = form_post(
        &hb.url("/login"),
        &format!("key=nope&next=%2F&csrf={csrf}"),
        &[],
    );
    assert_eq!(wrong.status, 401);
    assert!(!wrong.headers.contains_key("set-cookie"));
    assert_eq!(
        form_post(&hb.url("/login"), "key=read-key-0123456789&next=%2F", &[]).status,
        403
    );

    // A read key: the pages, no buttons, 403 on a direct POST.
    let read = form_post(
        &hb.url("/login"),
        &format!("key=read-key-0123456789&next=%2Fchecks%2F{uuid}&csrf={csrf}"),
        &[],
    );
    assert_eq!(read.status, 303);
    assert_eq!(
        read.header("location"),
        Some(format!("/checks/{uuid}").as_str())
    );
    let set = read.header("set-cookie").unwrap();
    assert!(
        set.starts_with("hb_session=") && set.contains("HttpOnly") && set.contains("SameSite=Lax"),
        "{set}"
    );
    assert!(!set.contains("Secure"), "plain http");
    assert!(!set.contains("read-key"), "the cookie is not the key");
    let cookie = cookie_of(&read);
    let as_reader = [("Cookie", cookie.as_str())];
    let details = page(&hb.url(&format!("/checks/{uuid}")), &as_reader);
    assert_eq!(details.status, 200);
    assert!(
        !details.body.contains("Pause")
            && !details.body.contains("Delete")
            && !details.body.contains("Edit")
    );
    assert!(
        !details.body.contains("/api/v1/ping/"),
        "no ping URL for read access"
    );
    assert!(!page(&hb.url("/"), &as_reader).body.contains("New check"));
    let token = details.csrf();
    let pause = form_post(
        &hb.url(&format!("/checks/{uuid}/pause")),
        &format!("csrf={token}"),
        &as_reader,
    );
    assert_eq!(pause.status, 403);
    assert_eq!(page(&hb.url("/checks/new"), &as_reader).status, 403);
    // The cookie opens the dashboard, not the API.
    assert_eq!(page(&hb.url("/api/v1/heartbeats"), &as_reader).status, 401);

    // A full key: buttons, and a change works.
    let full = form_post(
        &hb.url("/login"),
        &format!("key=full-key-0123456789&next=%2F&csrf={csrf}"),
        &[],
    );
    let cookie = cookie_of(&full);
    let as_admin = [("Cookie", cookie.as_str())];
    let details = page(&hb.url(&format!("/checks/{uuid}")), &as_admin);
    assert!(details.body.contains("Pause") && details.body.contains("/api/v1/ping/"));
    let token = details.csrf();
    // Another session's token does not do.
    assert_eq!(
        form_post(
            &hb.url(&format!("/checks/{uuid}/pause")),
            &format!("csrf={}", page(&hb.url("/"), &as_reader).csrf()),
            &as_admin
        )
        .status,
        403
    );
    assert_eq!(
        form_post(
            &hb.url(&format!("/checks/{uuid}/pause")),
            &format!("csrf={token}"),
            &as_admin
        )
        .status,
        303
    );

    // Log out: the cookie is cleared.
    let out = form_post(&hb.url("/logout"), &format!("csrf={token}"), &as_admin);
    assert_eq!((out.status, out.header("location")), (303, Some("/login")));
    assert!(out.header("set-cookie").unwrap().contains("Max-Age=0"));

    // The read key leaves the config: its session ends.
    std::fs::write(
        dir.path().join("config.toml"),
        "allow_private_targets = true\napi_keys = [\"full-key-0123456789\"]\n",
    )
    .unwrap();
    hb.signal(libc::SIGHUP);
    assert!(wait_until(Duration::from_secs(10), || page(
        &hb.url("/"),
        &as_reader
    )
    .status
        == 303));
    assert_eq!(
        page(&hb.url("/"), &as_admin).status,
        200,
        "the full key stays"
    );
    let _ = hb.wait(Duration::from_millis(1));
}

#[test]
fn a_trusted_proxy_names_the_user_and_admins_get_full_rights() {
    let dir = tempfile::tempdir().unwrap();
    let hb = start(
        dir.path(),
        Some(
            "auth_header = \"X-Forwarded-User\"\ntrusted_proxies = [\"127.0.0.0/8\"]\nadmins = [\"alice\"]\n",
        ),
    );
    let alice = page(&hb.url("/"), &[("X-Forwarded-User", "alice")]);
    assert_eq!(alice.status, 200);
    assert!(alice.body.contains("New check") && alice.body.contains(">alice<"));
    let bob = page(&hb.url("/"), &[("X-Forwarded-User", "bob")]);
    assert_eq!(bob.status, 200);
    assert!(!bob.body.contains("New check") && bob.body.contains("bob (read only)"));
    let token = page(&hb.url("/checks/new"), &[("X-Forwarded-User", "alice")]).csrf();
    assert_eq!(
        page(&hb.url("/checks/new"), &[("X-Forwarded-User", "bob")]).status,
        403
    );
    assert_eq!(
        form_post(
            &hb.url("/checks/new"),
            &format!("name=x&interval=1h&csrf={token}"),
            &[("X-Forwarded-User", "bob")]
        )
        .status,
        403
    );
    let made = form_post(
        &hb.url("/checks/new"),
        &format!("name=x&kind=interval&interval=1h&csrf={token}"),
        &[("X-Forwarded-User", "alice")],
    );
    assert_eq!(made.status, 303, "{}", made.body);
    assert_eq!(
        page(&hb.url("/"), &[]).status,
        303,
        "no user: to the login page"
    );

    // From an address that is not a trusted proxy, the header means nothing.
    let dir2 = tempfile::tempdir().unwrap();
    let other = start(
        dir2.path(),
        Some(
            "auth_header = \"X-Forwarded-User\"\ntrusted_proxies = [\"10.9.9.9\"]\nadmins = [\"alice\"]\n",
        ),
    );
    assert_eq!(
        page(&other.url("/"), &[("X-Forwarded-User", "alice")]).status,
        303
    );
    assert_eq!(
        call(
            "GET",
            &other.url("/api/v1/heartbeats"),
            None,
            &[("X-Forwarded-User", "alice")]
        )
        .status,
        401
    );
}

#[test]
fn an_unchanged_page_is_a_304_and_a_change_is_a_new_page() {
    let dir = tempfile::tempdir().unwrap();
    let hb = start(dir.path(), None);
    let check = create(&hb, json!({"name": "job", "interval": "1h"}), None);
    let uuid = check["uuid"].as_str().unwrap();
    for path in [
        "/".to_string(),
        format!("/checks/{uuid}"),
        "/channels".to_string(),
    ] {
        let first = page(&hb.url(&path), &[]);
        let etag = first.header("etag").expect("an ETag").to_string();
        let again = page(&hb.url(&path), &[("If-None-Match", etag.as_str())]);
        if again.status == 200 {
            // The time bucket turned between the two; the next one matches.
            let etag = again.header("etag").unwrap().to_string();
            assert_eq!(
                page(&hb.url(&path), &[("If-None-Match", etag.as_str())]).status,
                304
            );
        } else {
            assert_eq!(again.status, 304, "{path}");
            assert!(again.body.is_empty());
        }
        call("GET", &hb.url(&format!("/ping/{uuid}")), None, &[]);
        let changed = page(&hb.url(&path), &[("If-None-Match", etag.as_str())]);
        assert_eq!(changed.status, 200, "{path}: a ping changed it");
        assert_ne!(changed.header("etag").unwrap(), etag);
    }
}

fn token_and_scope(url: &str) -> (String, String) {
    let path = url.split("/badge/").nth(1).unwrap();
    let (token, file) = path.split_once('/').unwrap();
    (token.to_string(), file.trim_end_matches(".svg").to_string())
}

#[test]
fn badges_by_slug_tag_and_all_with_their_own_tokens() {
    let dir = tempfile::tempdir().unwrap();
    let hb = start(dir.path(), Some("api_keys = [\"full-key-0123456789\"]\n"));
    let key = Some("full-key-0123456789");
    let a = create(
        &hb,
        json!({"name": "Backup DB", "interval": "1h", "tags": ["db"]}),
        key,
    );
    let late = create(
        &hb,
        json!({"name": "Quick", "interval": "1s", "grace_period": "1h", "tags": ["db"]}),
        key,
    );
    let url = a["badge_url"].as_str().unwrap();
    assert!(
        url.starts_with(&hb.url("/badge/")) && url.ends_with("/backup-db.svg"),
        "{url}"
    );
    let (token, scope) = token_and_scope(url);

    // Open without a key: the token is the secret.
    let svg = page(url, &[]);
    assert_eq!(svg.status, 200);
    assert_eq!(svg.header("content-type"), Some("image/svg+xml"));
    assert!(
        svg.body.contains("role=\"img\"") && svg.body.contains("<title>backup-db: up</title>"),
        "{}",
        svg.body
    );
    let j: Value =
        serde_json::from_str(&page(&hb.url(&format!("/badge/{token}/{scope}.json")), &[]).body)
            .unwrap();
    assert_eq!(j, json!({"status": "up", "total": 1, "down": 0, "late": 0}));
    let shields: Value =
        serde_json::from_str(&page(&hb.url(&format!("/badge/{token}/{scope}.shields")), &[]).body)
            .unwrap();
    assert_eq!(
        (
            shields["schemaVersion"].as_i64(),
            shields["label"].as_str(),
            shields["message"].as_str()
        ),
        (Some(1), Some("backup-db"), Some("up"))
    );
    // Another scope's token, or a made-up one, is no badge.
    let (late_token, _) = token_and_scope(late["badge_url"].as_str().unwrap());
    assert_eq!(
        page(&hb.url(&format!("/badge/{late_token}/{scope}.svg")), &[]).status,
        404
    );
    assert_eq!(
        page(
            &hb.url(&format!("/badge/{}/{scope}.svg", "0".repeat(24))),
            &[]
        )
        .status,
        404
    );

    // Tag and `all` tokens are on the details page.
    let details = page(
        &hb.url(&format!("/checks/{}", a["uuid"].as_str().unwrap())),
        &[("Authorization", "Bearer full-key-0123456789")],
    );
    let find = |scope: &str| {
        let needle = format!("/{scope}.json");
        let end = details
            .body
            .find(&needle)
            .unwrap_or_else(|| panic!("{scope} badge"));
        let start = details.body[..end].rfind("/badge/").unwrap();
        details.body[start + 7..end].to_string()
    };
    let db_token = find("db");
    let all_token = find("all");
    call(
        "GET",
        &hb.url(&format!("/ping/{}", late["uuid"].as_str().unwrap())),
        None,
        &[],
    );
    std::thread::sleep(Duration::from_millis(1100));
    let db: Value =
        serde_json::from_str(&page(&hb.url(&format!("/badge/{db_token}/db.json")), &[]).body)
            .unwrap();
    assert_eq!(
        db,
        json!({"status": "up", "total": 2, "down": 0, "late": 1})
    );
    let db3: Value = serde_json::from_str(
        &page(&hb.url(&format!("/badge/{db_token}/db.json?states=3")), &[]).body,
    )
    .unwrap();
    assert_eq!(db3["status"], "late");
    call(
        "GET",
        &hb.url(&format!("/ping/{}/fail", a["uuid"].as_str().unwrap())),
        None,
        &[],
    );
    let all: Value =
        serde_json::from_str(&page(&hb.url(&format!("/badge/{all_token}/all.json")), &[]).body)
            .unwrap();
    assert_eq!(all["status"], "down");
    assert!(
        page(&hb.url(&format!("/badge/{all_token}/all.svg")), &[])
            .body
            .contains("<title>all: down</title>")
    );
}

#[test]
fn metrics_carry_each_check_with_escaped_labels() {
    let dir = tempfile::tempdir().unwrap();
    let hb = start(dir.path(), None);
    let a = create(
        &hb,
        json!({"name": "say \"hi\" \\ there", "interval": "1h"}),
        None,
    );
    let uuid = a["uuid"].as_str().unwrap();
    let start = call("GET", &hb.url(&format!("/ping/{uuid}/start")), None, &[]);
    assert_eq!(start.status, 200);
    call("GET", &hb.url(&format!("/ping/{uuid}")), None, &[]);
    let text = get(&hb.url("/metrics")).body;
    let labels = r#"name="say \"hi\" \\ there",slug="say-hi-there""#;
    assert!(
        text.contains(&format!("hb_check_up{{{labels}}} 1\n")),
        "{text}"
    );
    assert!(text.contains(&format!("hb_check_status{{{labels},status=\"up\"}} 1\n")));
    assert!(text.contains(&format!(
        "hb_check_last_ping_timestamp_seconds{{{labels}}} "
    )));
    assert!(text.contains(&format!("hb_check_last_duration_seconds{{{labels}}} ")));
    assert!(text.contains(&format!("hb_check_next_due_timestamp_seconds{{{labels}}} ")));
    assert!(
        text.contains("hb_checks{status=\"up\"} 1"),
        "today's totals stay"
    );
    call("GET", &hb.url(&format!("/ping/{uuid}/fail")), None, &[]);
    let text = get(&hb.url("/metrics")).body;
    assert!(text.contains(&format!("hb_check_up{{{labels}}} 0\n")));
    assert!(
        !text.contains(&format!("hb_check_next_due_timestamp_seconds{{{labels}}}")),
        "unknown: left out"
    );
}

#[test]
fn alert_links_open_the_details_page() {
    let dir = tempfile::tempdir().unwrap();
    let receiver = Receiver::start();
    let hb = start(dir.path(), None);
    let channel = json!({"name": "hook", "kind": "webhook", "url": receiver.url("/hb"), "body": "$CHECK_URL"});
    assert_eq!(
        post(&hb.url("/api/v1/channels"), &channel.to_string()).status,
        201
    );
    let check = create(&hb, json!({"name": "job", "interval": "1h"}), None);
    let uuid = check["uuid"].as_str().unwrap();
    call("GET", &hb.url(&format!("/ping/{uuid}/fail")), None, &[]);
    let got = receiver.expect(1, Duration::from_secs(10));
    assert_eq!(got[0].body_text(), hb.url(&format!("/checks/{uuid}")));
    let p = page(&got[0].body_text(), &[]);
    assert_eq!(p.status, 200);
    assert!(p.body.contains(">job</h1>"));
}

#[test]
fn runs_have_their_own_pages_and_the_chart_is_an_svg() {
    let dir = tempfile::tempdir().unwrap();
    let hb = start(dir.path(), None);
    let check = create(&hb, json!({"name": "job", "interval": "1h"}), None);
    let uuid = check["uuid"].as_str().unwrap();
    for (i, code) in [0, 0, 3, 0].iter().enumerate() {
        let rid = format!("0000000{i}-0000-4000-8000-000000000000");
        call(
            "GET",
            &hb.url(&format!("/ping/{uuid}/start?rid={rid}")),
            None,
            &[],
        );
        call(
            "POST",
            &hb.url(&format!("/ping/{uuid}/{code}?rid={rid}")),
            Some(&format!("run {i} output <tail>")),
            &[],
        );
    }
    let details = page(&hb.url(&format!("/checks/{uuid}")), &[]);
    assert!(
        details.body.contains("<svg viewBox=")
            && details
                .body
                .contains("role=\"group\" aria-labelledby=\"chart-title\"")
    );
    assert!(details.body.contains("class=\"bar fail\""));
    assert!(details.body.contains("failed, exit code 3"));
    assert!(details.body.contains("run 3 output &lt;tail&gt;"));
    // Runs are named by their end ping: 2, 4, 6, 8.
    let run = page(&hb.url(&format!("/checks/{uuid}/runs/6")), &[]);
    assert_eq!(run.status, 200);
    assert!(
        run.body.contains("run 2 output &lt;tail&gt;") && run.body.contains("failed, exit code 3")
    );
    assert!(run.body.contains("00000002-0000-4000-8000-000000000000"));
    assert_eq!(
        page(&hb.url(&format!("/checks/{uuid}/runs/999")), &[]).status,
        404
    );
    assert_eq!(page(&hb.url("/checks/not-a-uuid"), &[]).status, 404);
}
