//! The dashboard in a real browser: Debian's chromium, driven headless through
//! chromedriver (W3C WebDriver, spoken here over HTTP with ureq: a few JSON calls need
//! no client crate). One browser serves every test (they take turns); axe-core from npm
//! checks accessibility. Screenshots go to target/browser-artefacts/ for people to look
//! at.
//!
//! `.ci/browser-deps.sh` (run by the test command) installs chromium, chromium-driver
//! and axe-core. Without them the tests fail and say how to install them: no silent skip.

use crate::serve_support::*;
use crate::serve_web::{create, encode};
use serde_json::{Value, json};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicI32, Ordering};
use std::sync::{Mutex, MutexGuard, OnceLock};
use std::time::{Duration, Instant};

const ELEMENT: &str = "element-6066-11e4-a52e-4f735466cecf";

/// The process group of chromedriver and its browser, ended when the tests exit.
static DRIVER_GROUP: AtomicI32 = AtomicI32::new(0);

extern "C" fn end_driver() {
    let group = DRIVER_GROUP.load(Ordering::SeqCst);
    if group > 0 {
        unsafe {
            libc::kill(-group, libc::SIGTERM);
        }
        std::thread::sleep(Duration::from_millis(200));
        unsafe {
            libc::kill(-group, libc::SIGKILL);
        }
    }
}

pub(crate) struct Browser {
    driver: String,
    session: String,
    agent: ureq::Agent,
    _profile: tempfile::TempDir,
}

fn artefacts() -> PathBuf {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/browser-artefacts");
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn axe_source() -> Option<String> {
    let path = std::env::var("HB_AXE_JS")
        .map(PathBuf::from)
        .unwrap_or_else(|_| {
            Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("target/axe-core/node_modules/axe-core/axe.min.js")
        });
    std::fs::read_to_string(path).ok()
}

fn which(program: &str) -> Option<PathBuf> {
    std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|d| d.join(program))
            .find(|p| p.is_file())
    })
}

/// The browser tests always run: what they need must be there.
fn available() -> bool {
    let ok =
        which("chromium").is_some() && which("chromedriver").is_some() && axe_source().is_some();
    assert!(
        ok,
        "the browser tests need chromium, chromedriver and axe-core: run .ci/browser-deps.sh"
    );
    ok
}

fn start_browser() -> Browser {
    let port = closed_port();
    let mut command = Command::new(which("chromedriver").unwrap());
    command
        .arg(format!("--port={port}"))
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    std::os::unix::process::CommandExt::process_group(&mut command, 0);
    let child = command.spawn().expect("chromedriver starts");
    DRIVER_GROUP.store(child.id() as i32, Ordering::SeqCst);
    unsafe {
        libc::atexit(end_driver);
    }
    std::mem::forget(child);
    let driver = format!("http://127.0.0.1:{port}");
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(60)))
        .build()
        .into();
    assert!(wait_until(Duration::from_secs(10), || {
        agent
            .get(format!("{driver}/status"))
            .call()
            .is_ok_and(|r| r.status() == 200)
    }));
    let profile = tempfile::tempdir().unwrap();
    let caps = json!({"capabilities": {"alwaysMatch": {
        "browserName": "chrome",
        "goog:chromeOptions": {
            "binary": which("chromium").unwrap(),
            "args": [
                "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                "--disable-component-update", "--no-first-run", "--disable-dev-shm-usage",
                "--hide-scrollbars", "--window-size=1280,900",
                format!("--user-data-dir={}", profile.path().display()),
            ],
        },
    }}});
    let answer: Value = serde_json::from_str(
        &agent
            .post(format!("{driver}/session"))
            .header("Content-Type", "application/json")
            .send(caps.to_string())
            .unwrap()
            .into_body()
            .read_to_string()
            .unwrap(),
    )
    .unwrap();
    let session = answer["value"]["sessionId"]
        .as_str()
        .unwrap_or_else(|| panic!("no session: {answer}"))
        .to_string();
    Browser {
        driver,
        session,
        agent,
        _profile: profile,
    }
}

/// The shared browser, for one test at a time.
fn browser() -> MutexGuard<'static, Browser> {
    static BROWSER: OnceLock<Option<Mutex<Browser>>> = OnceLock::new();
    // Started once; a browser that failed to start is not tried again by every test.
    let guard = BROWSER
        .get_or_init(|| {
            std::panic::catch_unwind(start_browser)
                .map(Mutex::new)
                .map_err(|e| eprintln!("the browser did not start: {e:?}"))
                .ok()
        })
        .as_ref()
        .expect("the browser started (see the first test's output)")
        .lock()
        .unwrap_or_else(|e| e.into_inner());
    // A clean start: no cookie, scripts on, light mode, a desktop window.
    let _ = guard.cmd("DELETE", "/cookie", None);
    guard.cdp(
        "Emulation.setScriptExecutionDisabled",
        json!({"value": false}),
    );
    guard.cdp("Emulation.setEmulatedMedia", json!({"features": []}));
    guard.resize(1280, 900);
    guard
}

impl Browser {
    fn cmd(&self, method: &str, path: &str, body: Option<Value>) -> Result<Value, Value> {
        let url = format!("{}/session/{}{}", self.driver, self.session, path);
        let response = match (method, body) {
            ("GET", _) => self.agent.get(&url).call(),
            ("DELETE", _) => self.agent.delete(&url).call(),
            (_, b) => self
                .agent
                .post(&url)
                .header("Content-Type", "application/json")
                .send(b.unwrap_or(json!({})).to_string()),
        }
        .unwrap_or_else(|e| panic!("{method} {path}: {e}"));
        let ok = response.status() == 200;
        let value: Value = response
            .into_body()
            .with_config()
            .limit(64 * 1024 * 1024)
            .read_to_string()
            .ok()
            .and_then(|t| serde_json::from_str(&t).ok())
            .unwrap_or(Value::Null);
        if ok {
            Ok(value["value"].clone())
        } else {
            Err(value["value"].clone())
        }
    }

    fn must(&self, method: &str, path: &str, body: Option<Value>) -> Value {
        self.cmd(method, path, body.clone())
            .unwrap_or_else(|e| panic!("{method} {path} {body:?}: {e}"))
    }

    fn cdp(&self, cmd: &str, params: Value) -> Value {
        self.must(
            "POST",
            "/goog/cdp/execute",
            Some(json!({"cmd": cmd, "params": params})),
        )
    }

    pub(crate) fn resize(&self, width: u32, height: u32) {
        self.must(
            "POST",
            "/window/rect",
            Some(json!({"width": width, "height": height})),
        );
    }

    pub(crate) fn go(&self, url: &str) {
        self.must("POST", "/url", Some(json!({"url": url})));
    }

    pub(crate) fn url(&self) -> String {
        self.must("GET", "/url", None)
            .as_str()
            .unwrap_or_default()
            .to_string()
    }

    pub(crate) fn title(&self) -> String {
        self.must("GET", "/title", None)
            .as_str()
            .unwrap_or_default()
            .to_string()
    }

    pub(crate) fn find_all(&self, css: &str) -> Vec<String> {
        self.must(
            "POST",
            "/elements",
            Some(json!({"using": "css selector", "value": css})),
        )
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e[ELEMENT].as_str().unwrap().to_string())
        .collect()
    }

    pub(crate) fn find(&self, css: &str) -> String {
        let found = self.find_all(css);
        assert!(!found.is_empty(), "no {css} on {}", self.url());
        found[0].clone()
    }

    /// The first element whose text is `text`, among those `css` finds.
    pub(crate) fn find_text(&self, css: &str, text: &str) -> String {
        self.find_all(css)
            .into_iter()
            .find(|e| self.text(e).trim() == text)
            .unwrap_or_else(|| panic!("no {css} reading {text:?} on {}", self.url()))
    }

    pub(crate) fn text(&self, element: &str) -> String {
        self.must("GET", &format!("/element/{element}/text"), None)
            .as_str()
            .unwrap_or_default()
            .to_string()
    }

    pub(crate) fn click(&self, element: &str) {
        self.must("POST", &format!("/element/{element}/click"), None);
    }

    pub(crate) fn type_into(&self, element: &str, text: &str) {
        self.must("POST", &format!("/element/{element}/clear"), None);
        self.must(
            "POST",
            &format!("/element/{element}/value"),
            Some(json!({"text": text})),
        );
    }

    pub(crate) fn js(&self, script: &str) -> Value {
        self.must(
            "POST",
            "/execute/sync",
            Some(json!({"script": script, "args": []})),
        )
    }

    /// Whether an alert (or confirm, or prompt) is open.
    pub(crate) fn alert_open(&self) -> bool {
        self.cmd("GET", "/alert/text", None).is_ok()
    }

    /// The page's text as shown (read in one go, so a page being replaced is no error).
    pub(crate) fn body_text(&self) -> String {
        self.js("return document.body ? document.body.innerText : '';")
            .as_str()
            .unwrap_or_default()
            .to_string()
    }

    pub(crate) fn wait_for(&self, what: &str, mut cond: impl FnMut(&Browser) -> bool) {
        let deadline = Instant::now() + Duration::from_secs(15);
        while !cond(self) {
            assert!(
                Instant::now() < deadline,
                "timed out waiting for {what} on {}",
                self.url()
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// A PNG of the whole page (not only the window), kept as a test artefact.
    pub(crate) fn screenshot(&self, name: &str) {
        let shot = self.cdp(
            "Page.captureScreenshot",
            json!({"format": "png", "captureBeyondViewport": true}),
        );
        let png = base64(shot["data"].as_str().unwrap());
        std::fs::write(artefacts().join(format!("{name}.png")), png).unwrap();
    }

    /// axe-core's serious and critical violations on the current page.
    pub(crate) fn axe(&self) -> Vec<String> {
        let source = axe_source().unwrap();
        self.must(
            "POST",
            "/execute/sync",
            Some(json!({"script": format!("{source}\nreturn typeof axe;"), "args": []})),
        );
        let result = self.must(
            "POST",
            "/execute/async",
            Some(json!({"script": "var done = arguments[arguments.length - 1]; axe.run(document, {resultTypes: ['violations']}).then(function (r) { done(JSON.stringify(r.violations)); }, function (e) { done('error: ' + e); });", "args": []})),
        );
        let text = result.as_str().unwrap_or_default();
        let violations: Vec<Value> =
            serde_json::from_str(text).unwrap_or_else(|_| panic!("axe: {text}"));
        violations
            .iter()
            .filter(|v| matches!(v["impact"].as_str(), Some("serious" | "critical")))
            .map(|v| {
                let nodes: Vec<String> = v["nodes"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .take(3)
                    .map(|n| {
                        n["html"]
                            .as_str()
                            .unwrap_or_default()
                            .chars()
                            .take(120)
                            .collect()
                    })
                    .collect();
                format!("{} ({}): {} — {:?}", v["id"], v["impact"], v["help"], nodes)
            })
            .collect()
    }
}

fn base64(text: &str) -> Vec<u8> {
    let value = |c: u8| match c {
        b'A'..=b'Z' => Some(c - b'A'),
        b'a'..=b'z' => Some(c - b'a' + 26),
        b'0'..=b'9' => Some(c - b'0' + 52),
        b'+' => Some(62),
        b'/' => Some(63),
        _ => None,
    };
    let mut out = Vec::with_capacity(text.len() * 3 / 4);
    let (mut acc, mut bits) = (0u32, 0);
    for v in text.bytes().filter_map(value) {
        acc = (acc << 6) | u32::from(v);
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
        }
    }
    out
}

/// A monitor with a check in every state; their uuids by state.
fn seeded(
    dir: &Path,
    config: Option<&str>,
) -> (ServeProcess, Vec<(&'static str, String)>, Option<String>) {
    let db = dir.join("hb.db");
    let path = dir.join("config.toml");
    std::fs::write(
        &path,
        format!("allow_private_targets = true\n{}", config.unwrap_or("")),
    )
    .unwrap();
    let hb = ServeProcess::start(&db, &["--config", path.to_str().unwrap()], &[]);
    let key = config.and_then(|c| {
        c.contains("api_keys")
            .then(|| "full-key-0123456789".to_string())
    });
    let k = key.as_deref();
    let auth = key.as_ref().map(|k| format!("Bearer {k}"));
    let headers: Vec<(&str, &str)> = auth.iter().map(|a| ("Authorization", a.as_str())).collect();
    let uuid = |v: Value| v["uuid"].as_str().unwrap().to_string();
    let ping = |u: &str, suffix: &str, body: Option<&str>| {
        let r = call("POST", &hb.url(&format!("/ping/{u}{suffix}")), body, &[]);
        assert_eq!(r.status, 200);
    };
    let down = uuid(create(
        &hb,
        json!({"name": "Nightly report", "interval": "1d", "tags": ["reports"], "owner": "alice"}),
        k,
    ));
    ping(
        &down,
        "/start?rid=11111111-1111-4111-8111-111111111111",
        None,
    );
    ping(
        &down,
        "/2?rid=11111111-1111-4111-8111-111111111111",
        Some("report failed: disk full"),
    );
    let late = uuid(create(
        &hb,
        json!({"name": "Late sync", "interval": "1s", "grace_period": "1h", "tags": ["reports"]}),
        k,
    ));
    ping(&late, "", None);
    let running = uuid(create(
        &hb,
        json!({"name": "Long import", "interval": "1d", "tags": ["db"]}),
        k,
    ));
    ping(&running, "/start", None);
    let up = uuid(create(
        &hb,
        json!({"name": "Backup PostgreSQL", "cron": "0 3 * * *", "tz": "Europe/Paris", "tags": ["db", "nightly"], "owner": "ops team", "description": "pg_dump of every database, gzipped"}),
        k,
    ));
    for i in 0..12 {
        let rid = format!("2222222{:01x}-2222-4222-8222-222222222222", i);
        ping(&up, &format!("/start?rid={rid}"), None);
        std::thread::sleep(Duration::from_millis(20 + (i * 37 % 90) as u64));
        let code = if i == 7 { 1 } else { 0 };
        ping(
            &up,
            &format!("/{code}?rid={rid}"),
            Some(&format!("dumped {} rows", 1000 + i)),
        );
    }
    let new = uuid(create(
        &hb,
        json!({"name": "Brand new job", "interval": "15m"}),
        k,
    ));
    let paused = uuid(create(
        &hb,
        json!({"name": "Paused cleanup", "cron": "0 4 * * 1-5", "tags": ["web"]}),
        k,
    ));
    call(
        "POST",
        &hb.url(&format!("/api/v1/heartbeats/{paused}/pause")),
        None,
        &headers,
    );
    std::thread::sleep(Duration::from_millis(1100)); // `late` comes with time
    let states = vec![
        ("down", down),
        ("late", late),
        ("running", running),
        ("up", up),
        ("new", new),
        ("paused", paused),
    ];
    (hb, states, key)
}

fn state(hb: &ServeProcess, uuid: &str, key: Option<&str>) -> String {
    let auth = key.map(|k| format!("Bearer {k}"));
    let headers: Vec<(&str, &str)> = auth.iter().map(|a| ("Authorization", a.as_str())).collect();
    call(
        "GET",
        &hb.url(&format!("/api/v1/heartbeats/{uuid}")),
        None,
        &headers,
    )
    .json()["status"]
        .as_str()
        .unwrap()
        .to_string()
}

#[test]
fn browser_the_list_shows_every_state_and_keeps_filters_in_the_url() {
    if !available() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let (hb, states, _) = seeded(dir.path(), None);
    let b = browser();
    b.go(&hb.url("/"));
    assert_eq!(b.title(), "(1 down) hb");
    let words: Vec<String> = b
        .find_all("table.checks tbody tr td:first-child")
        .iter()
        .map(|e| b.text(e).trim().to_string())
        .collect();
    assert_eq!(
        words,
        ["down", "late", "running", "up", "new", "paused"],
        "worst first, as words"
    );
    b.screenshot("list-desktop");

    // A filter is a link: the URL carries it, and the page shows only what matches.
    b.click(&b.find("nav.filters a.st-down"));
    b.wait_for("the filtered page", |b| b.url().ends_with("/?status=down"));
    assert_eq!(b.find_all("table.checks tbody tr").len(), 1);
    let db = b.find("nav.tags a[href*='tag=db']");
    assert!(
        b.js("return document.querySelector(\"nav.tags a[href*='tag=db']\").textContent;")
            .as_str()
            .unwrap()
            .contains("worst: running")
    );
    b.click(&db);
    b.wait_for("the tag in the URL", |b| b.url().contains("tag=db"));
    assert!(
        b.url().contains("status=down"),
        "filters combine: {}",
        b.url()
    );
    b.go(&hb.url("/?tag=db"));
    assert_eq!(b.find_all("table.checks tbody tr").len(), 2);
    let q = b.find("#q");
    b.type_into(&q, "alice");
    b.click(&b.find("form.search button"));
    b.wait_for("the search in the URL", |b| b.url().contains("q=alice"));
    assert!(b.url().contains("tag=db"));
    assert!(b.body_text().contains("No check matches"));
    b.go(&hb.url("/?q=alice&sort=name"));
    assert_eq!(b.find_all("table.checks tbody tr").len(), 1);
    assert!(b.body_text().contains("Nightly report"));

    // A phone: the rows become cards, no sideways scrolling.
    b.resize(390, 844);
    b.go(&hb.url("/"));
    let overflow =
        b.js("return document.documentElement.scrollWidth - document.documentElement.clientWidth;");
    assert!(
        overflow.as_i64().unwrap_or(99) <= 0,
        "the list fits a phone ({overflow} px too wide)"
    );
    b.screenshot("list-phone");
    // Dark mode follows the system.
    b.resize(1280, 900);
    let _ = b.cdp(
        "Emulation.setEmulatedMedia",
        json!({"features": [{"name": "prefers-color-scheme", "value": "dark"}]}),
    );
    b.go(&hb.url("/"));
    let bg = b.js("return getComputedStyle(document.body).backgroundColor;");
    assert_eq!(bg, "rgb(13, 17, 23)");
    b.screenshot("list-dark");
    let up = &states[3].1;
    b.go(&hb.url(&format!("/checks/{up}")));
    b.screenshot("details-dark");
}

#[test]
fn browser_pause_and_resume_by_clicking() {
    if !available() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let (hb, states, _) = seeded(dir.path(), None);
    let up = &states[3].1;
    let b = browser();
    b.go(&hb.url(&format!("/checks/{up}")));
    assert!(b.title().starts_with("(1 down) Backup PostgreSQL"));
    b.screenshot("details-desktop");
    b.click(&b.find_text("section.actions button", "Pause"));
    b.wait_for("the paused page", |b| {
        b.body_text().contains("Paused: no alert is sent")
    });
    assert_eq!(state(&hb, up, None), "paused");
    b.click(&b.find_text("section.actions button", "Resume"));
    b.wait_for("the resumed page", |b| {
        b.body_text().contains("New: no ping yet")
    });
    assert_eq!(state(&hb, up, None), "new");
    // Delete asks first.
    b.click(&b.find_text("section.actions a", "Delete…"));
    b.wait_for("the confirmation", |b| b.url().ends_with("/delete"));
    b.click(&b.find_text("a", "Keep it"));
    b.wait_for("the check again", |b| b.url().ends_with(up.as_str()));
    assert_eq!(state(&hb, up, None), "new");
}

#[test]
fn browser_login_and_a_read_only_session() {
    if !available() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let config = "api_keys = [\"full-key-0123456789\"]\nread_keys = [\"read-key-0123456789\"]\n";
    let (hb, states, _) = seeded(dir.path(), Some(config));
    let up = &states[3].1;
    let b = browser();
    b.go(&hb.url(&format!("/checks/{up}")));
    b.wait_for("the login page", |b| b.url().contains("/login?next="));
    let cookies = b.must("GET", "/cookie", None);
    assert_eq!(cookies, json!([]), "no cookie before login");
    b.screenshot("login");
    b.type_into(&b.find("#key"), "wrong");
    b.click(&b.find("form button"));
    b.wait_for("the refusal", |b| {
        b.body_text().contains("not one of the configured keys")
    });
    b.type_into(&b.find("#key"), "read-key-0123456789");
    b.click(&b.find("form button"));
    b.wait_for("the check's page", |b| {
        b.url().ends_with(&format!("/checks/{up}"))
    });
    let cookie = &b.must("GET", "/cookie", None)[0];
    assert_eq!(cookie["name"], "hb_session");
    assert_eq!(cookie["httpOnly"], true);
    assert_eq!(cookie["sameSite"], "Lax");
    assert!(!cookie["value"].as_str().unwrap().contains("read-key"));
    assert!(
        b.find_all("section.actions").is_empty(),
        "read access sees no buttons"
    );
    assert!(!b.body_text().contains("/api/v1/ping/"));
    assert!(b.body_text().contains("read only"));
    b.screenshot("details-read-only");
    b.go(&hb.url("/"));
    assert!(b.find_all("a[href='/checks/new']").is_empty());
    // A direct POST from the page (its own token) is still refused.
    let status = b.js(&format!(
        "var x = new XMLHttpRequest(); x.open('POST', '/checks/{up}/pause', false); x.setRequestHeader('Content-Type', 'application/x-www-form-urlencoded'); x.send('csrf=' + document.querySelector('input[name=csrf]').value); return x.status;"
    ));
    assert_eq!(status, 403);
    assert_eq!(state(&hb, up, Some("full-key-0123456789")), "up");

    b.click(&b.find_text("button", "Log out"));
    b.wait_for("the login page", |b| b.url().ends_with("/login"));
    b.type_into(&b.find("#key"), "full-key-0123456789");
    b.click(&b.find("form button"));
    b.wait_for("the list", |b| b.url() == hb.url("/"));
    assert!(!b.find_all("a[href='/checks/new']").is_empty());
    b.go(&hb.url(&format!("/checks/{up}")));
    b.click(&b.find_text("section.actions button", "Pause"));
    b.wait_for("the paused page", |b| b.body_text().contains("Paused"));
    assert_eq!(state(&hb, up, Some("full-key-0123456789")), "paused");
}

#[test]
fn browser_a_script_name_and_an_html_body_are_text_and_fire_nothing() {
    if !available() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let hb = ServeProcess::start(&dir.path().join("hb.db"), &[], &[]);
    let name = "<script>alert(1)</script>";
    let check = create(
        &hb,
        json!({"name": name, "interval": "1h", "tags": ["<img src=x onerror=alert(2)>"]}),
        None,
    );
    let uuid = check["uuid"].as_str().unwrap();
    let body = "<img src=x onerror=alert(3)><script>alert(4)</script><b>bold</b>";
    call(
        "POST",
        &hb.url(&format!(
            "/ping/{uuid}/start?rid=33333333-3333-4333-8333-333333333333"
        )),
        None,
        &[],
    );
    call(
        "POST",
        &hb.url(&format!(
            "/ping/{uuid}/1?rid=33333333-3333-4333-8333-333333333333"
        )),
        Some(body),
        &[],
    );
    let b = browser();
    for path in [
        "/".to_string(),
        format!("/checks/{uuid}"),
        format!("/checks/{uuid}/runs/2"),
        format!("/?q={}", encode(name)),
    ] {
        b.go(&hb.url(&path));
        std::thread::sleep(Duration::from_millis(300));
        assert!(!b.alert_open(), "{path}: an alert fired");
        assert!(
            b.body_text().contains(name),
            "{path}: the name is shown as text"
        );
        assert_eq!(
            b.find_all("main b").len(),
            0,
            "{path}: no markup from a body"
        );
        assert_eq!(
            b.js("return document.querySelectorAll('main img[src=x], main script').length;"),
            0
        );
        if path.contains("/runs/") {
            assert!(b.body_text().contains(body), "the body is shown as text");
            b.screenshot("run-escaped");
        }
    }
}

#[test]
fn browser_every_page_and_action_works_without_javascript() {
    if !available() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let hb = ServeProcess::start(&dir.path().join("hb.db"), &[], &[]);
    let b = browser();
    let _ = b.cdp(
        "Emulation.setScriptExecutionDisabled",
        json!({"value": true}),
    );
    b.go(&hb.url("/"));
    assert_eq!(b.js("return 1;"), 1, "WebDriver still runs its own scripts");
    // Without the script, the time-zone switch and copy buttons stay hidden.
    assert_eq!(
        b.js("return document.querySelector('.tz-switch').hidden;"),
        true
    );
    b.click(&b.find_text("nav a", "New check"));
    b.wait_for("the form", |b| b.url().ends_with("/checks/new"));
    b.type_into(&b.find("#name"), "No-JS job");
    b.type_into(&b.find("#interval"), "abc");
    b.type_into(&b.find("#tags"), "nojs");
    b.click(&b.find("form.check-form button[type=submit]"));
    b.wait_for("the refusal", |b| b.body_text().contains("interval"));
    assert!(b.find_all(".notice.error").len() == 1);
    b.screenshot("form-error");
    b.type_into(&b.find("#interval"), "1h");
    b.click(&b.find("form.check-form button[type=submit]"));
    b.wait_for("the new check", |b| {
        b.body_text().contains("New: no ping yet")
    });
    let uuid = b.url().rsplit('/').next().unwrap().to_string();
    b.click(&b.find_text("section.actions button", "Pause"));
    b.wait_for("paused", |b| {
        b.body_text().contains("Paused: no alert is sent")
    });
    assert_eq!(state(&hb, &uuid, None), "paused");
    b.click(&b.find_text("section.actions a", "Edit"));
    b.wait_for("the edit form", |b| b.url().ends_with("/edit"));
    b.click(&b.find("#kind-cron"));
    b.type_into(&b.find("#cron"), "30 2 * * 1-5");
    b.type_into(&b.find("#tz"), "Europe/Paris");
    b.click(&b.find("form.check-form button[type=submit]"));
    b.wait_for("the saved check", |b| {
        b.body_text().contains("at 02:30 on Mon–Fri")
    });
    b.go(&hb.url("/"));
    b.click(&b.find("nav.filters a.st-paused"));
    b.wait_for("the filter", |b| b.url().contains("status=paused"));
    assert!(b.body_text().contains("No-JS job"));
    b.go(&hb.url(&format!("/checks/{uuid}")));
    b.click(&b.find_text("section.actions a", "Delete…"));
    b.click(&b.find("form button.danger"));
    b.wait_for("the list", |b| b.url() == hb.url("/"));
    assert!(!b.body_text().contains("No-JS job"));
    let _ = b.cdp(
        "Emulation.setScriptExecutionDisabled",
        json!({"value": false}),
    );
}

#[test]
fn browser_the_script_refreshes_copies_and_switches_zones() {
    if !available() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let (hb, states, _) = seeded(dir.path(), None);
    let (new, up) = (&states[4].1, &states[3].1);
    let b = browser();
    b.go(&hb.url("/"));
    assert_eq!(b.title(), "(1 down) hb");
    // A ping elsewhere shows up without a reload.
    call("GET", &hb.url(&format!("/ping/{new}/fail")), None, &[]);
    b.wait_for("the refreshed title", |b| b.title() == "(2 down) hb");
    let words = b.find_all("table.checks tbody tr td:first-child");
    assert_eq!(b.text(&words[1]).trim(), "down");
    // The script shows the switch and the copy buttons.
    b.go(&hb.url(&format!("/checks/{up}")));
    assert_eq!(
        b.js("return document.querySelector('.tz-switch').hidden;"),
        false
    );
    assert!(!b.find_all("button.copy:not([hidden])").is_empty());
    let first = b.find("ol.dues time.abs");
    let utc = b.text(&first);
    assert!(utc.ends_with("UTC"), "{utc}");
    b.js("var s = document.getElementById('tz-switch'); s.value = 'check'; s.dispatchEvent(new Event('change', {bubbles: true}));");
    let paris = b.text(&b.find("ol.dues time.abs"));
    assert_ne!(paris, utc);
    assert!(
        paris.contains("GMT+1")
            || paris.contains("GMT+2")
            || paris.contains("CET")
            || paris.contains("CEST"),
        "{paris}"
    );
    b.js("var s = document.getElementById('tz-switch'); s.value = 'utc'; s.dispatchEvent(new Event('change', {bubbles: true}));");
    assert_eq!(b.text(&b.find("ol.dues time.abs")), utc);
    b.js("localStorage.clear();");
}

#[test]
fn browser_axe_finds_no_serious_violation_on_the_list_and_details() {
    if !available() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let (hb, states, _) = seeded(dir.path(), None);
    let b = browser();
    let pages = [
        "/".to_string(),
        format!("/checks/{}", states[3].1),
        format!("/checks/{}", states[0].1),
        "/checks/new".to_string(),
        "/channels".to_string(),
    ];
    for dark in [false, true] {
        let value = if dark { "dark" } else { "light" };
        let _ = b.cdp(
            "Emulation.setEmulatedMedia",
            json!({"features": [{"name": "prefers-color-scheme", "value": value}]}),
        );
        for path in &pages {
            b.go(&hb.url(path));
            let violations = b.axe();
            assert!(violations.is_empty(), "{path} ({value}): {violations:#?}");
        }
    }
}
