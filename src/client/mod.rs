//! The operator's command line (PRODUCT.md §7): `hb checks`, `hb channels`,
//! `hb status` and `hb config`, all clients of the management API through one small
//! blocking [`Client`].
//!
//! Which monitor and which key: `--server` / `HB_SERVER` / `server` in the config file
//! (default `http://localhost:8080`), `--api-key` / `HB_API_KEY` / `api_key`. Exit
//! codes: 0 done, 1 the monitor refused (its reason printed), 2 a usage error (found
//! before any request), 3 the monitor could not be reached.

pub mod channels;
pub mod checks;
pub mod config;
pub mod status;
pub mod table;

use serde_json::Value;
use std::io::{IsTerminal, Write};
use std::time::Duration;

use crate::cli::ClientOptions;
use crate::config::{ConfigSource, WrapperFile};
use crate::error::{Error, Result};

/// One request's time limit.
const TIMEOUT: Duration = Duration::from_secs(30);
/// The largest answer read (a list of many checks is megabytes).
const ANSWER_LIMIT: u64 = 512 * 1024 * 1024;

/// Where the key came from, for messages that say which to fix.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum KeyFrom {
    Flag,
    File,
    Nowhere,
}

/// A body to send.
pub enum Body<'a> {
    Json(&'a Value),
    Toml(&'a str),
}

/// The management API of one monitor.
pub struct Client {
    base: String,
    key: Option<String>,
    key_from: KeyFrom,
    /// The config file, for messages.
    config: String,
    agent: ureq::Agent,
}

impl Client {
    /// The monitor and key from flags and environment (merged by clap), then the
    /// config file, then the default.
    pub fn new(options: &ClientOptions, source: &ConfigSource) -> Result<Client> {
        let file = match source
            .read()
            .map_err(|e| Error::Invalid(format!("{e:#}")))?
        {
            Some(text) => WrapperFile::parse(&text, source)
                .map_err(|e| Error::Invalid(format!("{e:#}; fix the file")))?,
            None => WrapperFile::default(),
        };
        let base = crate::config::pick(
            options.server.clone(),
            file.server,
            crate::config::DEFAULT_SERVER.to_string(),
        );
        let base = base.trim().trim_end_matches('/').to_string();
        if !(base.starts_with("http://") || base.starts_with("https://")) {
            return Err(Error::Invalid(format!(
                "server {base:?} is not an http:// or https:// URL; set server in {}, HB_SERVER or --server, e.g. http://localhost:8080",
                source.display()
            )));
        }
        let (key, key_from) = match (options.api_key.clone(), file.api_key) {
            (Some(k), _) if !k.trim().is_empty() => (Some(k.trim().to_string()), KeyFrom::Flag),
            (_, Some(k)) if !k.trim().is_empty() => (Some(k.trim().to_string()), KeyFrom::File),
            _ => (None, KeyFrom::Nowhere),
        };
        let agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_global(Some(TIMEOUT))
            .user_agent(format!("hb/{}", env!("CARGO_PKG_VERSION")))
            .build()
            .into();
        Ok(Client {
            base,
            key,
            key_from,
            config: source.display(),
            agent,
        })
    }

    pub fn base(&self) -> &str {
        &self.base
    }

    /// One request; the status and the body of the answer, whatever the status.
    pub fn request(
        &self,
        method: &str,
        path: &str,
        body: Option<Body<'_>>,
    ) -> Result<(u16, String)> {
        let url = format!("{}{path}", self.base);
        let mut request = ureq::http::Request::builder()
            .method(method)
            .uri(&url)
            .header("Accept", "application/json");
        if let Some(key) = &self.key {
            request = request.header("Authorization", format!("Bearer {key}"));
        }
        let sent = match body {
            None => request.body(()).map(|r| self.agent.run(r)),
            Some(Body::Json(value)) => request
                .header("Content-Type", "application/json")
                .body(value.to_string().into_bytes())
                .map(|r| self.agent.run(r)),
            Some(Body::Toml(text)) => request
                .header("Content-Type", "application/toml")
                .body(text.as_bytes().to_vec())
                .map(|r| self.agent.run(r)),
        }
        .map_err(|e| {
            Error::Invalid(format!(
                "server {:?} does not make a valid URL ({e}); set server to the monitor's base URL, e.g. http://localhost:8080",
                self.base
            ))
        })?;
        let response = sent.map_err(|e| self.unreachable(&e))?;
        let status = response.status().as_u16();
        let text = response
            .into_body()
            .with_config()
            .limit(ANSWER_LIMIT)
            .read_to_string()
            .map_err(|e| self.unreachable(&e))?;
        Ok((status, text))
    }

    fn unreachable(&self, e: &ureq::Error) -> Error {
        Error::Unreachable(format!(
            "cannot reach the monitor at {} ({e}); check that hb serve runs there, or set server in {}, HB_SERVER or --server",
            self.base, self.config
        ))
    }

    /// A request whose answer must be a success; its body.
    pub fn call(&self, method: &str, path: &str, body: Option<Body<'_>>) -> Result<String> {
        let (status, text) = self.request(method, path, body)?;
        if (200..300).contains(&status) {
            Ok(text)
        } else {
            Err(self.refused(status, &text))
        }
    }

    /// A request whose answer must be a success with JSON (or nothing, for 204).
    pub fn json(&self, method: &str, path: &str, body: Option<Body<'_>>) -> Result<Value> {
        let text = self.call(method, path, body)?;
        if text.trim().is_empty() {
            return Ok(Value::Null);
        }
        serde_json::from_str(&text).map_err(|e| {
            Error::Failed(anyhow::anyhow!(
                "the answer of {} to {method} {path} is not JSON ({e}); is server set to an hb monitor?",
                self.base
            ))
        })
    }

    pub fn get(&self, path: &str) -> Result<Value> {
        self.json("GET", path, None)
    }

    /// What the monitor said, and what to do about it.
    pub fn refused(&self, status: u16, body: &str) -> Error {
        let reason = serde_json::from_str::<Value>(body)
            .ok()
            .and_then(|v| v["error"].as_str().map(str::to_string))
            .unwrap_or_else(|| {
                let text: String = body.trim().chars().take(200).collect();
                if text.is_empty() {
                    format!("HTTP {status}")
                } else {
                    text
                }
            });
        let monitor = &self.base;
        let config = &self.config;
        let message = match (status, self.key_from) {
            (401, KeyFrom::Nowhere) => format!(
                "the monitor at {monitor} needs an API key: set api_key in {config}, HB_API_KEY or --api-key to one of its api_keys (or read_keys, to read)"
            ),
            (401, from) => format!(
                "the monitor at {monitor} does not know the API key given {}: set it to one of the monitor's api_keys (or read_keys, to read) — api_key in {config}, HB_API_KEY or --api-key",
                match from {
                    KeyFrom::Flag => "by --api-key or HB_API_KEY",
                    _ => "by api_key in the config file",
                }
            ),
            (403, _) if reason.contains("may only read") || reason.contains("full key") => format!(
                "the monitor at {monitor} refused: {reason} (the key in use is a read key: set api_key in {config}, HB_API_KEY or --api-key to one of api_keys)"
            ),
            (421, _) => format!(
                "the monitor at {monitor} refused: {reason} (set server in {config}, HB_SERVER or --server to its address, or add the name to its allowed_hosts)"
            ),
            _ => format!("the monitor at {monitor} refused ({status}): {reason}"),
        };
        Error::Failed(anyhow::Error::msg(message))
    }
}

/// Whether to colour: stdout is a terminal and `NO_COLOR` is unset (or empty).
pub fn colour() -> bool {
    std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
}

/// Writes to stdout; a closed pipe (`hb checks | head -1`) is not an error.
pub fn print(text: &str) -> Result<()> {
    let mut out = std::io::stdout().lock();
    match out.write_all(text.as_bytes()).and_then(|_| out.flush()) {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => Err(Error::Failed(
            anyhow::Error::from(e).context("cannot write to stdout"),
        )),
        _ => Ok(()),
    }
}

/// A value as pretty JSON, with a newline.
pub fn print_json(value: &Value) -> Result<()> {
    let mut text = serde_json::to_string_pretty(value).unwrap_or_default();
    text.push('\n');
    print(&text)
}

/// Percent-encodes a path segment or a query value.
pub fn encode(text: &str) -> String {
    crate::percent::percent_encode(text)
}
