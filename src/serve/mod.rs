//! The monitor: `hb serve`.

pub mod app;
pub mod check;
pub mod config_file;
pub mod engine;
pub mod http;
pub mod notify;
pub mod outbox;
#[cfg(test)]
mod proptests;
pub mod registry;
pub mod schedule;
pub mod status;
pub mod store;

use anyhow::{Context, Result};
use std::net::{SocketAddr, ToSocketAddrs};
use std::path::PathBuf;
use std::sync::Arc;
use tokio::sync::oneshot;

use crate::cli::ServeArgs;
use crate::clock::{Clock, SystemClock};
use crate::config::ConfigSource;
use crate::exit;
use app::{App, Options};
use config_file::ServeFile;
use registry::Registry;

pub const DEFAULT_LISTEN: &str = "127.0.0.1:8080";

/// Everything `hb serve` needs, after flags, environment, file and defaults are merged.
#[derive(Debug, Clone)]
pub struct ServeSettings {
    pub listen: String,
    pub db: PathBuf,
    /// SQLite `synchronous`: FULL unless a benchmark says otherwise.
    pub synchronous: String,
    pub options: Options,
    /// Channels and checks declared in the config file.
    pub declared: ServeFile,
}

fn default_db() -> PathBuf {
    dirs::data_dir()
        .unwrap_or_else(|| PathBuf::from("."))
        .join("hb")
        .join("hb.db")
}

fn env_api_keys() -> Vec<String> {
    std::env::var("HB_API_KEY")
        .unwrap_or_default()
        .split(',')
        .map(str::trim)
        .filter(|k| !k.is_empty())
        .map(str::to_string)
        .collect()
}

/// Flags (and their environment variables) beat the file; the file beats defaults.
pub fn merge(args: &ServeArgs, file: ServeFile) -> ServeSettings {
    let mut api_keys = file.api_keys.clone();
    api_keys.extend(env_api_keys());
    api_keys.retain(|k| !k.is_empty());
    api_keys.dedup();
    ServeSettings {
        listen: args
            .listen
            .clone()
            .or(file.listen.clone())
            .unwrap_or_else(|| DEFAULT_LISTEN.into()),
        db: args
            .db
            .clone()
            .or(file.db.clone())
            .unwrap_or_else(default_db),
        synchronous: std::env::var("HB_SQLITE_SYNCHRONOUS").unwrap_or_else(|_| "FULL".into()),
        options: Options {
            base_url: args.base_url.clone().or(file.base_url.clone()),
            ping_key: args.ping_key.clone().or(file.ping_key.clone()),
            api_keys,
        },
        declared: file,
    }
}

/// Resolves the listen address; usage errors say what is accepted.
pub fn resolve_listen(listen: &str) -> Result<Vec<SocketAddr>, String> {
    let addrs: Vec<SocketAddr> = listen
        .to_socket_addrs()
        .map_err(|e| format!("--listen {listen:?} is not an address to listen on ({e}); use HOST:PORT, e.g. 127.0.0.1:8080"))?
        .collect();
    if addrs.is_empty() {
        return Err(format!(
            "--listen {listen:?} resolves to no address; use HOST:PORT, e.g. 127.0.0.1:8080"
        ));
    }
    Ok(addrs)
}

/// A running monitor: its address and its state, and how to stop it.
pub struct Server {
    pub addr: SocketAddr,
    pub app: Arc<App>,
    shutdown: Option<oneshot::Sender<()>>,
    done: Option<tokio::task::JoinHandle<()>>,
}

impl Server {
    /// Opens the database, applies the declared config, binds, and starts serving,
    /// the deadline engine and the outbox on the current tokio runtime.
    pub async fn start(settings: ServeSettings, clock: Arc<dyn Clock>) -> Result<Server> {
        let addrs = resolve_listen(&settings.listen).map_err(anyhow::Error::msg)?;
        let (store, history, snapshot) = store::open_sqlite(&settings.db, &settings.synchronous)?;
        let listener = tokio::net::TcpListener::bind(addrs.as_slice())
            .await
            .with_context(|| {
                format!(
                    "cannot listen on {}; is another server using it?",
                    settings.listen
                )
            })?;
        let addr = listener.local_addr()?;
        let public_base = settings
            .options
            .base_url
            .clone()
            .map(|b| b.trim_end_matches('/').to_string())
            .unwrap_or_else(|| format!("http://{addr}"));
        let now = clock.now();
        let registry = Registry::load(snapshot, now, public_base);
        let (writer, _writer_thread) = store::spawn_writer(store);
        let app = Arc::new(App::new(
            registry,
            writer,
            Arc::new(history),
            clock,
            settings.options.clone(),
        ));
        apply_declared(&app, &settings.declared).await?;

        let (tx, rx) = oneshot::channel::<()>();
        let router = http::router(app.clone());
        let engine = tokio::spawn(engine::run(app.clone()));
        let outbox = tokio::spawn(outbox::run(app.clone()));
        let done = tokio::spawn(async move {
            let served = axum::serve(
                listener,
                router.into_make_service_with_connect_info::<SocketAddr>(),
            )
            .with_graceful_shutdown(async {
                let _ = rx.await;
            })
            .await;
            if let Err(e) = served {
                eprintln!("hb: the server stopped: {e}");
            }
            engine.abort();
            outbox.abort();
        });
        Ok(Server {
            addr,
            app,
            shutdown: Some(tx),
            done: Some(done),
        })
    }

    /// Stops accepting, lets in-flight requests finish, and commits pending writes.
    pub async fn stop(mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(done) = self.done.take() {
            let _ = done.await;
        }
        let _ = self.app.change(|_, _, _| ()).await;
    }
}

/// Applies the config file's `[[channel]]` and `[[check]]` declarations.
pub async fn apply_declared(app: &App, declared: &ServeFile) -> Result<()> {
    let problems = app
        .change(|reg, now, ops| {
            reg.apply_config(declared.channels.clone(), declared.checks.clone(), now, ops)
        })
        .await
        .map_err(anyhow::Error::msg)?;
    if problems.is_empty() {
        Ok(())
    } else {
        anyhow::bail!("config file: {}", problems.join("; "))
    }
}

fn is_loopback(addrs: &[SocketAddr]) -> bool {
    addrs.iter().all(|a| a.ip().is_loopback())
}

pub fn cmd_serve(args: ServeArgs, source: &ConfigSource) -> i32 {
    let now = SystemClock.now();
    let file = match config_file::load(source, now) {
        Ok(file) => file,
        Err(e) => {
            eprintln!("hb: {e:#}");
            return exit::USAGE;
        }
    };
    let settings = merge(&args, file);
    let addrs = match resolve_listen(&settings.listen) {
        Ok(addrs) => addrs,
        Err(e) => {
            eprintln!("hb: {e}");
            return exit::USAGE;
        }
    };
    if !is_loopback(&addrs) && settings.options.api_keys.is_empty() && !args.insecure {
        eprintln!(
            "hb: refusing to listen on {} without an API key; set api_keys in the config file or HB_API_KEY, or pass --insecure",
            settings.listen
        );
        return exit::USAGE;
    }
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("hb: cannot start the server runtime: {e}");
            return exit::FAILURE;
        }
    };
    match runtime.block_on(serve_until_signal(args, settings, source.clone())) {
        Ok(()) => 0,
        Err(e) => {
            eprintln!("hb: {e:#}");
            exit::FAILURE
        }
    }
}

async fn serve_until_signal(
    args: ServeArgs,
    settings: ServeSettings,
    source: ConfigSource,
) -> Result<()> {
    use tokio::signal::unix::{SignalKind, signal};
    let mut term = signal(SignalKind::terminate())?;
    let mut int = signal(SignalKind::interrupt())?;
    let mut hup = signal(SignalKind::hangup())?;
    let server = Server::start(settings, Arc::new(SystemClock)).await?;
    {
        use std::io::Write;
        let mut out = std::io::stdout().lock();
        let _ = writeln!(out, "listening on http://{}", server.addr);
        let _ = out.flush();
    }
    loop {
        tokio::select! {
            _ = term.recv() => break,
            _ = int.recv() => break,
            _ = hup.recv() => reload(&args, &source, &server.app).await,
        }
    }
    server.stop().await;
    Ok(())
}

/// SIGHUP: re-read the config file; a broken one is reported and the old one kept.
async fn reload(args: &ServeArgs, source: &ConfigSource, app: &App) {
    let file = match config_file::load(source, app.now()) {
        Ok(file) => file,
        Err(e) => {
            eprintln!("hb: config not reloaded, keeping the previous one: {e:#}");
            return;
        }
    };
    let settings = merge(args, file);
    if let Err(e) = apply_declared(app, &settings.declared).await {
        eprintln!("hb: config reloaded with problems: {e:#}");
    }
    if let Some(base) = &settings.options.base_url {
        let base = base.trim_end_matches('/').to_string();
        let _ = app.change(|reg, _, _| reg.public_base = base).await;
    }
    *app.options.write().unwrap_or_else(|e| e.into_inner()) = settings.options;
    eprintln!("hb: config reloaded from {}", source.display());
}
