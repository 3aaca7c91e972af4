//! Helpers for the alert-channel tests: a recording HTTP/1.1 receiver on loopback and
//! a sample event.

#![allow(dead_code)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use hb::serve::notify::Event;
use serde_json::{Value, json};

/// One request as the receiver saw it.
#[derive(Debug, Clone)]
pub struct Recorded {
    pub method: String,
    /// The request target: path and query.
    pub target: String,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Recorded {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    pub fn text(&self) -> String {
        String::from_utf8(self.body.clone()).expect("the body is UTF-8")
    }

    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("the body is not JSON ({e}): {}", self.text()))
    }

    /// The body as an `application/x-www-form-urlencoded` form.
    pub fn form(&self) -> Vec<(String, String)> {
        self.text()
            .split('&')
            .filter(|p| !p.is_empty())
            .map(|pair| {
                let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
                (form_decode(k), form_decode(v))
            })
            .collect()
    }

    pub fn form_value(&self, key: &str) -> Option<String> {
        self.form()
            .into_iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v)
    }
}

/// Decodes `+` and `%XX` as a form does.
pub fn form_decode(s: &str) -> String {
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

/// A loopback HTTP server that answers every request with one status and body and
/// records what it got. It lives until the test process ends.
pub struct Receiver {
    pub port: u16,
    /// `http://127.0.0.1:PORT`
    pub url: String,
    requests: Arc<Mutex<Vec<Recorded>>>,
}

impl Receiver {
    pub fn start(status: u16, body: &str) -> Receiver {
        Self::start_with(status, body, false)
    }

    /// A receiver that reads requests and never answers.
    pub fn silent() -> Receiver {
        Self::start_with(200, "", true)
    }

    fn start_with(status: u16, body: &str, silent: bool) -> Receiver {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind a loopback port");
        let port = listener.local_addr().unwrap().port();
        let requests = Arc::new(Mutex::new(Vec::new()));
        let recorded = Arc::clone(&requests);
        let body = body.to_string();
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(stream) = stream else { continue };
                let recorded = Arc::clone(&recorded);
                let body = body.clone();
                std::thread::spawn(move || {
                    let _ = serve_one(stream, status, &body, silent, &recorded);
                });
            }
        });
        Receiver {
            port,
            url: format!("http://127.0.0.1:{port}"),
            requests,
        }
    }

    pub fn requests(&self) -> Vec<Recorded> {
        self.requests.lock().unwrap().clone()
    }

    /// The one request received; fails when there were none or several.
    pub fn only(&self) -> Recorded {
        let requests = self.requests();
        assert_eq!(requests.len(), 1, "expected one request, got {requests:#?}");
        requests.into_iter().next().unwrap()
    }
}

fn serve_one(
    stream: TcpStream,
    status: u16,
    body: &str,
    silent: bool,
    recorded: &Mutex<Vec<Recorded>>,
) -> std::io::Result<()> {
    stream.set_read_timeout(Some(Duration::from_secs(10)))?;
    let mut reader = BufReader::new(stream.try_clone()?);
    let mut line = String::new();
    reader.read_line(&mut line)?;
    let mut parts = line.split_whitespace();
    let method = parts.next().unwrap_or_default().to_string();
    let target = parts.next().unwrap_or_default().to_string();
    let mut headers = Vec::new();
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line)? == 0 {
            break;
        }
        let line = line.trim_end_matches(['\r', '\n']);
        if line.is_empty() {
            break;
        }
        if let Some((k, v)) = line.split_once(':') {
            headers.push((k.trim().to_string(), v.trim().to_string()));
        }
    }
    let header = |name: &str| {
        headers
            .iter()
            .find(|(k, _): &&(String, String)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.clone())
    };
    let mut request_body = Vec::new();
    if let Some(len) = header("content-length") {
        let len: usize = len.parse().unwrap_or(0);
        request_body.resize(len, 0);
        reader.read_exact(&mut request_body)?;
    } else if header("transfer-encoding").is_some_and(|t| t.eq_ignore_ascii_case("chunked")) {
        loop {
            let mut size = String::new();
            reader.read_line(&mut size)?;
            let size = usize::from_str_radix(size.trim(), 16).unwrap_or(0);
            let mut chunk = vec![0; size + 2];
            reader.read_exact(&mut chunk)?;
            if size == 0 {
                break;
            }
            request_body.extend_from_slice(&chunk[..size]);
        }
    }
    recorded.lock().unwrap().push(Recorded {
        method,
        target,
        headers,
        body: request_body,
    });
    if silent {
        std::thread::sleep(Duration::from_secs(30));
        return Ok(());
    }
    let mut stream = stream;
    write!(
        stream,
        "HTTP/1.1 {status} Whatever\r\nContent-Type: text/plain\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )?;
    stream.flush()
}

/// A `down` event for a check whose name and output need escaping everywhere.
pub fn event(kind: &str) -> Event {
    Event {
        event_id: "0b6f5a4e-7c1d-4c55-9a44-3f2b9f6f2a10".into(),
        event: kind.into(),
        check: json!({
            "uuid": "5c3e7d59-2d0a-4a4b-8f5e-6c1d2e3f4a5b",
            "name": "Backup \"prod\" <db> & co",
            "slug": "backup-prod-db-co",
            "status": if kind == "up" { "up" } else { "down" },
            "last_ping": "2025-01-31T02:59:00Z",
            "next_due": null,
            "ping_url": "http://hb.example.com/api/v1/ping/5c3e7d59-2d0a-4a4b-8f5e-6c1d2e3f4a5b",
            "tags": ["db"],
        }),
        reason: match kind {
            "down" => Some("exit code 3".into()),
            "slow" => Some("ran 2h, 3× the median 40m".into()),
            _ => None,
        },
        at: "2025-01-31T03:00:00Z".parse().unwrap(),
        repeat: 0,
        body: Some("pg_dump: error: \"connection\" refused\n\\ <script>alert(1)</script>\n".into()),
        check_url: "http://hb.example.com/api/v1/heartbeats/5c3e7d59-2d0a-4a4b-8f5e-6c1d2e3f4a5b"
            .into(),
    }
}

pub const NAME: &str = "Backup \"prod\" <db> & co";
pub const UUID: &str = "5c3e7d59-2d0a-4a4b-8f5e-6c1d2e3f4a5b";
pub const EVENT_ID: &str = "0b6f5a4e-7c1d-4c55-9a44-3f2b9f6f2a10";
