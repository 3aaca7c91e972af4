//! Helpers for the monitor's integration tests: the real binary on a free port, an
//! in-process server on an injected clock, a recording webhook receiver, HTTP calls.

use std::io::{BufRead, BufReader};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use serde_json::Value;

pub(crate) use crate::support::ping_server::{PingServer as Receiver, Reply};

pub(crate) const HB: &str = env!("CARGO_BIN_EXE_hb");

/// Polls `cond` until it holds or `timeout` passes.
pub(crate) fn wait_until(timeout: Duration, mut cond: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + timeout;
    loop {
        if cond() {
            return true;
        }
        if Instant::now() >= deadline {
            return false;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

pub(crate) struct Answer {
    pub status: u16,
    pub body: String,
}

impl Answer {
    pub(crate) fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.body))
    }
}

fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(20)))
        .build()
        .into()
}

/// One HTTP call; `body` is sent as is (JSON when it parses as JSON).
pub(crate) fn call(
    method: &str,
    url: &str,
    body: Option<&str>,
    headers: &[(&str, &str)],
) -> Answer {
    let agent = agent();
    let request = ureq::http::Request::builder().method(method).uri(url);
    let request = headers.iter().fold(request, |r, (k, v)| r.header(*k, *v));
    // A JSON body is labelled as JSON unless the test says otherwise.
    let typed = headers
        .iter()
        .any(|(k, _)| k.eq_ignore_ascii_case("content-type"));
    let request = match body {
        Some(b) if !typed && serde_json::from_str::<Value>(b).is_ok() => {
            request.header("Content-Type", "application/json")
        }
        _ => request,
    };
    let response = match body {
        Some(b) => agent.run(request.body(b.as_bytes().to_vec()).unwrap()),
        None => agent.run(request.body(()).unwrap()),
    }
    .unwrap_or_else(|e| panic!("{method} {url}: {e}"));
    let status = response.status().as_u16();
    let body = response.into_body().read_to_string().unwrap_or_default();
    Answer { status, body }
}

pub(crate) fn get(url: &str) -> Answer {
    call("GET", url, None, &[])
}

pub(crate) fn post(url: &str, body: &str) -> Answer {
    call(
        "POST",
        url,
        Some(body),
        &[("Content-Type", "application/json")],
    )
}

/// `hb serve` as a real process on a free port; killed on drop.
pub(crate) struct ServeProcess {
    pub child: Child,
    pub base: String,
    pub stderr_path: PathBuf,
}

impl ServeProcess {
    pub(crate) fn start(db: &Path, extra: &[&str], env: &[(&str, &str)]) -> ServeProcess {
        Self::try_start(db, extra, env).unwrap_or_else(|e| panic!("{e}"))
    }

    pub(crate) fn try_start(
        db: &Path,
        extra: &[&str],
        env: &[(&str, &str)],
    ) -> Result<ServeProcess, String> {
        let db_arg = if crate::support::pg::on_postgres() {
            // HB_TEST_STORE=postgres: the same path always stands for the same database.
            crate::support::pg::db_for(db)
        } else {
            db.to_string_lossy().into_owned()
        };
        Self::try_start_on(&db_arg, db, extra, env)
    }

    /// On the database `db_arg` (a file or a postgres:// URL); `scratch` is a path in
    /// a temporary directory next to which logs and the test config are written.
    pub(crate) fn try_start_on(
        db_arg: &str,
        scratch: &Path,
        extra: &[&str],
        env: &[(&str, &str)],
    ) -> Result<ServeProcess, String> {
        let db = scratch;
        let stderr_path = db.with_extension(format!("stderr.{}", fastrand_suffix()));
        let stderr = std::fs::File::create(&stderr_path).unwrap();
        let mut command = Command::new(HB);
        command
            .args(["serve", "--listen", "127.0.0.1:0", "--db", db_arg])
            .args(extra);
        if !extra.contains(&"--config") {
            // Test receivers listen on loopback.
            let config = db.with_extension("test-config.toml");
            std::fs::write(&config, "allow_private_targets = true\n").unwrap();
            command.arg("--config").arg(config);
        }
        command
            .env_remove("HB_CONFIG")
            .env_remove("HB_API_KEY")
            .env_remove("HB_PING_KEY")
            .env_remove("HB_BASE_URL")
            .env("XDG_CONFIG_HOME", db.parent().unwrap().join("no-config"))
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(stderr);
        for (k, v) in env {
            command.env(k, v);
        }
        let mut child = command.spawn().unwrap();
        let stdout = child.stdout.take().unwrap();
        let mut line = String::new();
        BufReader::new(stdout).read_line(&mut line).unwrap();
        let Some(addr) = line.trim().strip_prefix("listening on ") else {
            let _ = child.wait();
            let err = std::fs::read_to_string(&stderr_path).unwrap_or_default();
            return Err(format!(
                "hb serve did not start: stdout {line:?}, stderr {err:?}"
            ));
        };
        Ok(ServeProcess {
            base: addr.to_string(),
            child,
            stderr_path,
        })
    }

    pub(crate) fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    pub(crate) fn signal(&self, signal: i32) {
        unsafe {
            libc::kill(self.child.id() as i32, signal);
        }
    }

    pub(crate) fn stderr(&self) -> String {
        std::fs::read_to_string(&self.stderr_path).unwrap_or_default()
    }

    /// Waits for the process to exit; its exit code.
    pub(crate) fn wait(&mut self, timeout: Duration) -> Option<i32> {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status.code();
            }
            if Instant::now() >= deadline {
                return None;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
    }
}

impl Drop for ServeProcess {
    fn drop(&mut self) {
        if self.child.try_wait().ok().flatten().is_none() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

fn fastrand_suffix() -> u64 {
    static N: AtomicUsize = AtomicUsize::new(0);
    std::process::id() as u64 * 1000 + N.fetch_add(1, Ordering::Relaxed) as u64
}

/// A port on which nothing listens.
pub(crate) fn closed_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap().port()
}

/// The monitor in-process on an injected clock: time moves only when the test says.
pub(crate) struct InProcess {
    pub runtime: tokio::runtime::Runtime,
    pub server: Option<hb::serve::Server>,
    pub clock: Arc<hb::clock::FakeClock>,
    pub base: String,
}

impl InProcess {
    pub(crate) fn start(db: &Path, clock: Arc<hb::clock::FakeClock>) -> InProcess {
        Self::start_with(db, clock, hb::serve::config_file::ServeFile::default())
    }

    pub(crate) fn start_with(
        db: &Path,
        clock: Arc<hb::clock::FakeClock>,
        declared: hb::serve::config_file::ServeFile,
    ) -> InProcess {
        Self::start_faulty(db, clock, declared, Default::default())
    }

    /// On SQLite whose commits fail while `fail` is set (as on a full disk).
    pub(crate) fn start_faulty(
        db: &Path,
        clock: Arc<hb::clock::FakeClock>,
        declared: hb::serve::config_file::ServeFile,
        fail: Arc<std::sync::atomic::AtomicBool>,
    ) -> InProcess {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        let on_pg = crate::support::pg::on_postgres();
        let db_name = if on_pg {
            // HB_TEST_STORE=postgres: the same path always stands for the same database.
            std::path::PathBuf::from(crate::support::pg::db_for(db))
        } else {
            db.to_path_buf()
        };
        let settings = hb::serve::ServeSettings {
            listen: "127.0.0.1:0".into(),
            db: db_name.clone(),
            node: "test-node".into(),
            synchronous: "FULL".into(),
            max_connections: 10_000,
            options: hb::serve::app::Options {
                // Test receivers listen on loopback.
                allow_private_targets: true,
                ..Default::default()
            },
            declared,
        };
        let addrs = hb::serve::resolve_listen("127.0.0.1:0").unwrap();
        let server = if on_pg {
            let (store, history, snapshot) =
                hb::serve::store_pg::open_postgres(&db_name.to_string_lossy(), "test-node")
                    .unwrap();
            let store = hb::serve::store::FaultyStore {
                inner: store,
                fail_commits: fail,
            };
            runtime
                .block_on(hb::serve::Server::start_with(
                    settings,
                    clock.clone(),
                    store,
                    Arc::new(history),
                    snapshot,
                    addrs,
                ))
                .unwrap()
        } else {
            let (store, history, snapshot) = hb::serve::store::open_sqlite(db, "FULL").unwrap();
            let store = hb::serve::store::FaultyStore {
                inner: store,
                fail_commits: fail,
            };
            runtime
                .block_on(hb::serve::Server::start_with(
                    settings,
                    clock.clone(),
                    store,
                    Arc::new(history),
                    snapshot,
                    addrs,
                ))
                .unwrap()
        };
        let base = format!("http://{}", server.addr);
        InProcess {
            runtime,
            server: Some(server),
            clock,
            base,
        }
    }

    pub(crate) fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    pub(crate) fn app(&self) -> &hb::serve::app::App {
        &self.server.as_ref().unwrap().app
    }

    /// Moves the clock and lets the engine and the outbox see the new time.
    pub(crate) fn advance(&self, by: Duration) {
        self.clock.advance(by);
        self.runtime
            .block_on(hb::serve::engine::run_due(self.app()));
        self.app().outbox_wake.notify_one();
    }

    /// Waits until the outbox has nothing left to do at the current (fake) time, so a
    /// test can then say what was, and was not, delivered.
    pub(crate) fn settle(&self) {
        assert!(
            wait_until(Duration::from_secs(15), || {
                self.app().outbox_wake.notify_one();
                self.app().outbox_idle()
            }),
            "the outbox did not settle"
        );
    }

    pub(crate) fn stop(mut self) {
        if let Some(server) = self.server.take() {
            self.runtime.block_on(server.stop());
        }
    }
}
