//! A local HTTP server that records every request and answers as told: a status,
//! a `Ping-Body-Limit` header, a redirect, a delay, a hang, or a closed connection. It also
//! plays an HTTP proxy (CONNECT is accepted and the tunnel read as plain HTTP).

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

#[derive(Debug, Clone)]
pub(crate) struct Recorded {
    pub method: String,
    /// Path and query, or the absolute URL a proxy is asked for.
    pub target: String,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
    pub at: Instant,
}

impl Recorded {
    pub(crate) fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    pub(crate) fn body_text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    /// The body, which must be UTF-8.
    pub(crate) fn text(&self) -> String {
        String::from_utf8(self.body.clone()).expect("the body is UTF-8")
    }

    /// The body as an `application/x-www-form-urlencoded` form.
    pub(crate) fn form(&self) -> Vec<(String, String)> {
        self.text()
            .split('&')
            .filter(|p| !p.is_empty())
            .map(|pair| {
                let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
                (form_decode(k), form_decode(v))
            })
            .collect()
    }

    pub(crate) fn form_value(&self, key: &str) -> Option<String> {
        self.form()
            .into_iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v)
    }

    pub(crate) fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.body_text()))
    }

    /// The path without the query.
    pub(crate) fn path(&self) -> &str {
        self.target.split('?').next().unwrap_or("")
    }

    pub(crate) fn rid(&self) -> Option<&str> {
        self.target
            .split_once('?')?
            .1
            .split('&')
            .find_map(|p| p.strip_prefix("rid="))
    }
}

#[derive(Debug, Clone)]
pub(crate) enum Reply {
    Status(u16),
    /// This status with this body.
    Answer(u16, String),
    /// 200 with a `Ping-Body-Limit` header.
    BodyLimit(usize),
    /// This (3xx) status with a `Location` header.
    Redirect(u16, String),
    /// Wait, then answer with the status.
    Delay(Duration, u16),
    /// Never answer.
    Hang,
    /// Close the connection without an answer.
    Close,
}

struct Rule {
    path_contains: Option<String>,
    times: Option<usize>,
    reply: Reply,
}

#[derive(Default)]
struct Shared {
    requests: Mutex<Vec<Recorded>>,
    arrived: Condvar,
    rules: Mutex<Vec<Rule>>,
    closed: AtomicBool,
}

pub(crate) struct PingServer {
    addr: SocketAddr,
    shared: Arc<Shared>,
}

impl PingServer {
    /// Listens on 127.0.0.1, a free port; answers 200 `OK` unless told otherwise.
    pub(crate) fn start() -> Self {
        Self::start_on(0)
    }

    /// Listens on 127.0.0.1 on this port (0: a free one).
    pub(crate) fn start_on(port: u16) -> Self {
        let listener = TcpListener::bind(("127.0.0.1", port)).expect("bind a loopback port");
        let addr = listener.local_addr().unwrap();
        let shared = Arc::new(Shared::default());
        let theirs = shared.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                if theirs.closed.load(Ordering::SeqCst) {
                    return;
                }
                let Ok(stream) = stream else { continue };
                let shared = theirs.clone();
                std::thread::spawn(move || serve_connection(stream, &shared));
            }
        });
        PingServer { addr, shared }
    }

    pub(crate) fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    pub(crate) fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Answer every request like this (rules added before still come first).
    pub(crate) fn reply(&self, reply: Reply) -> &Self {
        self.add(None, None, reply)
    }

    /// Answer requests whose target contains `part` like this.
    pub(crate) fn reply_to(&self, part: &str, reply: Reply) -> &Self {
        self.add(Some(part), None, reply)
    }

    /// Answer the next `times` requests like this.
    pub(crate) fn reply_times(&self, times: usize, reply: Reply) -> &Self {
        self.add(None, Some(times), reply)
    }

    fn add(&self, part: Option<&str>, times: Option<usize>, reply: Reply) -> &Self {
        self.shared.rules.lock().unwrap().push(Rule {
            path_contains: part.map(str::to_string),
            times,
            reply,
        });
        self
    }

    pub(crate) fn requests(&self) -> Vec<Recorded> {
        self.shared.requests.lock().unwrap().clone()
    }

    pub(crate) fn count(&self) -> usize {
        self.shared.requests.lock().unwrap().len()
    }

    /// Waits for at least `count` requests; fails the test when they do not come.
    pub(crate) fn expect(&self, count: usize, timeout: Duration) -> Vec<Recorded> {
        let got = self.wait_for(count, timeout);
        assert!(
            got.len() >= count,
            "expected {count} requests within {timeout:?}, got {got:#?}"
        );
        got
    }

    /// Waits until `count` requests came (or `timeout` passed); returns what came.
    pub(crate) fn wait_for(&self, count: usize, timeout: Duration) -> Vec<Recorded> {
        let until = Instant::now() + timeout;
        let mut requests = self.shared.requests.lock().unwrap();
        while requests.len() < count {
            let now = Instant::now();
            if now >= until {
                break;
            }
            requests = self
                .shared
                .arrived
                .wait_timeout(requests, until - now)
                .unwrap()
                .0;
        }
        requests.clone()
    }
}

impl Drop for PingServer {
    fn drop(&mut self) {
        self.shared.closed.store(true, Ordering::SeqCst);
        // Unblock the accept loop.
        let _ = TcpStream::connect(self.addr);
    }
}

/// Decodes `+` and `%XX` as a form does.
pub(crate) fn form_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < bytes.len() => {
                let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).unwrap();
                out.push(u8::from_str_radix(hex, 16).expect("a %XX escape"));
                i += 2;
            }
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8(out).expect("UTF-8")
}

/// A URL on a port where nothing listens: connections are refused.
pub(crate) fn refused_url(path: &str) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    drop(listener);
    format!("http://127.0.0.1:{port}{path}")
}

fn choose(shared: &Shared, target: &str) -> Reply {
    let mut rules = shared.rules.lock().unwrap();
    for rule in rules.iter_mut() {
        if rule.times == Some(0) {
            continue;
        }
        if rule
            .path_contains
            .as_ref()
            .is_some_and(|p| !target.contains(p.as_str()))
        {
            continue;
        }
        if let Some(times) = &mut rule.times {
            *times -= 1;
        }
        return rule.reply.clone();
    }
    Reply::Status(200)
}

fn serve_connection(stream: TcpStream, shared: &Shared) {
    let mut writer = match stream.try_clone() {
        Ok(w) => w,
        Err(_) => return,
    };
    let mut reader = BufReader::new(stream);
    loop {
        let Some(request) = read_request(&mut reader) else {
            return;
        };
        if shared.closed.load(Ordering::SeqCst) {
            return;
        }
        let is_connect = request.method == "CONNECT";
        let target = request.target.clone();
        shared.requests.lock().unwrap().push(request);
        shared.arrived.notify_all();
        if is_connect {
            if writer
                .write_all(b"HTTP/1.1 200 Connection established\r\n\r\n")
                .is_err()
            {
                return;
            }
            continue;
        }
        let mut body = None;
        let (status, extra) = match choose(shared, &target) {
            Reply::Status(status) => (status, String::new()),
            Reply::Answer(status, text) => {
                body = Some(text);
                (status, String::new())
            }
            Reply::BodyLimit(limit) => (200, format!("Ping-Body-Limit: {limit}\r\n")),
            Reply::Redirect(status, location) => (status, format!("Location: {location}\r\n")),
            Reply::Delay(wait, status) => {
                std::thread::sleep(wait);
                (status, String::new())
            }
            Reply::Hang => {
                while !shared.closed.load(Ordering::SeqCst) {
                    std::thread::sleep(Duration::from_millis(50));
                }
                return;
            }
            Reply::Close => return,
        };
        let body = body.unwrap_or_else(|| if status == 200 { "OK" } else { "error" }.to_string());
        let answer = format!(
            "HTTP/1.1 {status} X\r\nContent-Type: text/plain\r\n{extra}Content-Length: {}\r\n\r\n{body}",
            body.len()
        );
        if writer.write_all(answer.as_bytes()).is_err() {
            return;
        }
    }
}

fn read_request(reader: &mut BufReader<TcpStream>) -> Option<Recorded> {
    let mut line = String::new();
    if reader.read_line(&mut line).ok()? == 0 {
        return None;
    }
    let at = Instant::now();
    let mut parts = line.split_whitespace();
    let method = parts.next()?.to_string();
    let target = parts.next()?.to_string();
    let mut headers = Vec::new();
    loop {
        let mut header = String::new();
        if reader.read_line(&mut header).ok()? == 0 {
            return None;
        }
        let header = header.trim_end();
        if header.is_empty() {
            break;
        }
        let (name, value) = header.split_once(':')?;
        headers.push((name.trim().to_string(), value.trim().to_string()));
    }
    let header = |name: &str| {
        headers
            .iter()
            .find(|(n, _): &&(String, String)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    };
    let mut body = Vec::new();
    if header("transfer-encoding").is_some_and(|t| t.eq_ignore_ascii_case("chunked")) {
        loop {
            let mut size = String::new();
            reader.read_line(&mut size).ok()?;
            let size = usize::from_str_radix(size.trim(), 16).ok()?;
            let mut chunk = vec![0; size + 2];
            reader.read_exact(&mut chunk).ok()?;
            if size == 0 {
                break;
            }
            body.extend_from_slice(&chunk[..size]);
        }
    } else {
        let length: usize = header("content-length")
            .and_then(|v| v.parse().ok())
            .unwrap_or(0);
        body.resize(length, 0);
        reader.read_exact(&mut body).ok()?;
    }
    Some(Recorded {
        method,
        target,
        headers,
        body,
        at,
    })
}
