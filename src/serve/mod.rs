//! The monitor: `hb serve`.

pub mod app;
pub mod check;
pub mod config_file;
pub mod copy;
pub mod engine;
pub mod export;
pub mod http;
pub mod log;
pub mod maintenance;
pub mod notify;
pub mod outbox;
mod pg_sql;
pub mod plan;
#[cfg(test)]
mod proptests;
pub mod registry;
pub mod schedule;
pub mod secret;
pub mod slots;
pub mod status;
pub mod store;
pub mod store_pg;
pub mod web;
pub mod wire;
pub mod writer;

use anyhow::{Context, Result};
use std::net::{SocketAddr, ToSocketAddrs};
use std::path::PathBuf;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinHandle;

use crate::cli::ServeArgs;
use crate::clock::{Clock, SystemClock};
use crate::config::ConfigSource;
use app::{App, Options};
use config_file::ServeFile;
use registry::Registry;

pub const DEFAULT_LISTEN: &str = "127.0.0.1:8080";
/// `max_connections` unless the file says otherwise.
pub const DEFAULT_MAX_CONNECTIONS: usize = 10_000;
/// How long a stop waits for requests and deliveries in flight (SIGTERM ends within 10 s).
const STOP_GRACE: Duration = Duration::from_secs(8);

/// Everything `hb serve` needs, after flags, environment, file and defaults are merged.
#[derive(Debug, Clone)]
pub struct ServeSettings {
    pub listen: String,
    /// A SQLite file, or a `postgres://` URL (see [`store_pg::is_postgres_url`]).
    pub db: PathBuf,
    /// This process's name among the nodes sharing a PostgreSQL database.
    pub node: String,
    /// SQLite `synchronous`: FULL unless a benchmark says otherwise.
    pub synchronous: String,
    /// Connections open at once, at most.
    pub max_connections: usize,
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
/// Keys that would open or weaken the monitor by accident are refused.
pub fn merge(args: &ServeArgs, file: ServeFile) -> Result<ServeSettings, String> {
    let mut api_keys = file.api_keys.clone();
    if api_keys.iter().any(|k| k.trim().is_empty()) {
        return Err(
            "api_keys: an empty key would let anyone in; remove it or write a long random key"
                .into(),
        );
    }
    if file.read_keys.iter().any(|k| k.trim().is_empty()) {
        return Err(
            "read_keys: an empty key would let anyone read; remove it or write a long random key"
                .into(),
        );
    }
    api_keys.extend(env_api_keys());
    api_keys.dedup();
    if !file.read_keys.is_empty() && api_keys.is_empty() {
        return Err(
            "read_keys without api_keys: set api_keys (or HB_API_KEY) too, or nobody could change anything while anyone could still read"
                .into(),
        );
    }
    let ping_key = args.ping_key.clone().or(file.ping_key.clone());
    if ping_key.as_deref().is_some_and(|k| k.trim().is_empty()) {
        return Err(
            "ping_key: an empty key would make /ping//<slug> work for anyone; remove it or set a key"
                .into(),
        );
    }
    Ok(ServeSettings {
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
        node: store_pg::node_id(),
        synchronous: std::env::var("HB_SQLITE_SYNCHRONOUS").unwrap_or_else(|_| "FULL".into()),
        max_connections: file.max_connections.unwrap_or(DEFAULT_MAX_CONNECTIONS),
        options: Options {
            base_url: args.base_url.clone().or(file.base_url.clone()),
            ping_key,
            api_keys,
            read_keys: file.read_keys.clone(),
            allowed_hosts: file.allowed_hosts.clone(),
            auth_header: file.auth_header.clone(),
            trusted_proxies: file.trusted_proxies.clone(),
            admins: file.admins.clone(),
            allow_private_targets: file.allow_private_targets,
            declared_channels: Default::default(),
            auto_provision_off: file.auto_provision == Some(false),
        },
        declared: file,
    })
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
    http_stop: Option<oneshot::Sender<()>>,
    http: Option<JoinHandle<()>>,
    engine: tokio::task::AbortHandle,
    outbox: Option<JoinHandle<()>>,
    writer: writer::Writer,
    writer_thread: Option<std::thread::JoinHandle<()>>,
    fatal: mpsc::UnboundedReceiver<String>,
}

/// Why a task ended, in words.
fn ended(result: Result<(), tokio::task::JoinError>) -> String {
    match result {
        Ok(()) => "it returned".into(),
        Err(e) if e.is_panic() => {
            let panic = e.into_panic();
            let text = panic
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| panic.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "a panic".into());
            format!("panic: {text}")
        }
        Err(e) => e.to_string(),
    }
}

/// Watches a background task: when it ends while the monitor is not stopping, its
/// liveness flag drops (so `/healthz` fails) and the monitor is told to exit non-zero.
fn watch(
    app: Arc<App>,
    name: &'static str,
    task: JoinHandle<()>,
    alive: fn(&App) -> &std::sync::atomic::AtomicBool,
    fatal: mpsc::UnboundedSender<String>,
) -> JoinHandle<()> {
    tokio::spawn(async move {
        let result = task.await;
        alive(&app).store(false, Ordering::SeqCst);
        if !app.stopping.load(Ordering::SeqCst) {
            let _ = fatal.send(format!(
                "the {name} stopped unexpectedly ({})",
                ended(result)
            ));
        }
    })
}

impl Server {
    /// Opens the database, applies the declared config, binds, and starts serving,
    /// the deadline engine and the outbox on the current tokio runtime.
    pub async fn start(settings: ServeSettings, clock: Arc<dyn Clock>) -> Result<Server> {
        let addrs = resolve_listen(&settings.listen).map_err(anyhow::Error::msg)?;
        let db = settings.db.to_string_lossy().into_owned();
        if store_pg::is_postgres_url(&db) {
            // The postgres client blocks: open it off the async threads.
            let node = settings.node.clone();
            let (store, history, snapshot) =
                tokio::task::spawn_blocking(move || store_pg::open_postgres(&db, &node))
                    .await
                    .context("opening the database")??;
            return Self::start_with(settings, clock, store, Arc::new(history), snapshot, addrs)
                .await;
        }
        let (store, history, snapshot) = store::open_sqlite(&settings.db, &settings.synchronous)?;
        Self::start_with(settings, clock, store, Arc::new(history), snapshot, addrs).await
    }

    /// Starts on a given store (tests use one that can be told to fail).
    pub async fn start_with(
        settings: ServeSettings,
        clock: Arc<dyn Clock>,
        store: impl store::Store,
        history: Arc<dyn store::History>,
        snapshot: store::Snapshot,
        addrs: Vec<SocketAddr>,
    ) -> Result<Server> {
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
        let secret = if snapshot.secret.is_empty() {
            store::new_secret()?
        } else {
            snapshot.secret.clone()
        };
        let secrets = secret::Secrets::new(&secret);
        let node = store.node();
        let db_clock = store.shared() && clock.is_system();
        let mut loaded = Registry::load(snapshot, now, public_base);
        loaded.secrets = Some(secrets.clone());
        loaded.node = node.clone();
        let registry = Arc::new(Mutex::new(loaded));
        let commits = Arc::new(writer::CommitState::default());
        let (writer, writer_thread) = writer::spawn(store, registry.clone(), commits.clone());
        let mut app = App::new(
            registry,
            writer.clone(),
            commits,
            history,
            clock,
            settings.options.clone(),
            secrets,
        );
        app.node = node;
        app.db_clock = db_clock;
        let app = Arc::new(app);
        apply_declared(&app, &settings.declared).await?;

        let (fatal_tx, fatal) = mpsc::unbounded_channel();
        let engine_task = tokio::spawn(engine::run(app.clone()));
        let engine = engine_task.abort_handle();
        watch(
            app.clone(),
            "deadline engine",
            engine_task,
            |a| &a.liveness.engine,
            fatal_tx.clone(),
        );
        let outbox = watch(
            app.clone(),
            "outbox",
            tokio::spawn(outbox::run(app.clone())),
            |a| &a.liveness.outbox,
            fatal_tx,
        );
        let (http_stop, stop_rx) = oneshot::channel::<()>();
        let router = http::router(app.clone());
        let limits = http::conn::Limits {
            max_connections: settings.max_connections,
            shutdown_deadline: STOP_GRACE,
            ..http::conn::Limits::default()
        };
        let http = tokio::spawn(async move {
            let served = http::conn::serve(listener, router, limits, async {
                let _ = stop_rx.await;
            })
            .await;
            if let Err(e) = served {
                log::error("http", format!("the server stopped: {e}")).emit();
            }
        });
        Ok(Server {
            addr,
            app,
            http_stop: Some(http_stop),
            http: Some(http),
            engine,
            outbox: Some(outbox),
            writer,
            writer_thread: Some(writer_thread),
            fatal,
        })
    }

    /// Resolves when a background task died; says which and why.
    pub async fn failed(&mut self) -> String {
        self.fatal
            .recv()
            .await
            .unwrap_or_else(|| "the background tasks stopped".into())
    }

    /// Stops accepting, lets requests in flight finish and deliveries in flight be
    /// answered and recorded (each bounded), commits every pending write, and ends the
    /// writer. Returns within about 10 s whatever clients and receivers do.
    pub async fn stop(mut self) {
        let deadline = tokio::time::Instant::now() + STOP_GRACE;
        self.app.stopping.store(true, Ordering::SeqCst);
        self.app.outbox_wake.notify_one();
        if let Some(tx) = self.http_stop.take() {
            let _ = tx.send(());
        }
        if let Some(mut http) = self.http.take()
            && tokio::time::timeout_at(deadline, &mut http).await.is_err()
        {
            http.abort();
        }
        self.engine.abort();
        if let Some(mut outbox) = self.outbox.take()
            && tokio::time::timeout_at(deadline, &mut outbox)
                .await
                .is_err()
        {
            log::warn(
                "stop",
                "stopping with deliveries still in flight; they are sent again at the next start",
            )
            .emit();
            outbox.abort();
        }
        self.writer.stop();
        if let Some(thread) = self.writer_thread.take() {
            let _ = tokio::task::spawn_blocking(move || thread.join()).await;
        }
    }
}

/// Applies the config file's `[[channel]]` and `[[check]]` declarations.
pub async fn apply_declared(app: &App, declared: &ServeFile) -> Result<()> {
    let (problems, as_declared) = app
        .change(|reg, now, ops| {
            let mut problems =
                reg.apply_config(declared.channels.clone(), declared.checks.clone(), now, ops);
            problems.extend(reg.apply_windows(declared.windows.clone(), now, ops));
            // The file's channels as the file now has them: their destinations are the
            // host owner's word (private addresses allowed).
            let as_declared: std::collections::BTreeMap<_, _> = declared
                .channels
                .iter()
                .filter_map(|(name, _)| {
                    reg.channels
                        .get(name)
                        .map(|e| (name.clone(), e.kind.clone()))
                })
                .collect();
            (problems, as_declared)
        })
        .await
        .map_err(anyhow::Error::msg)?;
    app.options
        .write()
        .unwrap_or_else(|e| e.into_inner())
        .declared_channels = as_declared;
    if problems.is_empty() {
        Ok(())
    } else {
        Err(ConfigProblem(format!("config file: {}", summarize(&problems))).into())
    }
}

/// Problems in one line: the first few, and how many more (a file of 10,000 checks
/// with one mistake each would otherwise print 10,000 sentences on one line).
fn summarize(problems: &[String]) -> String {
    const SHOWN: usize = 5;
    let mut line = problems
        .iter()
        .take(SHOWN)
        .cloned()
        .collect::<Vec<_>>()
        .join("; ");
    if problems.len() > SHOWN {
        line.push_str(&format!("; and {} more like these", problems.len() - SHOWN));
    }
    line
}

/// A config file that loads but cannot be applied (e.g. a check naming an unknown
/// channel): a usage error at start (exit 2), reported and skipped on SIGHUP.
#[derive(Debug)]
pub struct ConfigProblem(pub String);

impl std::fmt::Display for ConfigProblem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for ConfigProblem {}

fn is_loopback(addrs: &[SocketAddr]) -> bool {
    addrs.iter().all(|a| a.ip().is_loopback())
}

pub fn cmd_serve(args: ServeArgs, source: &ConfigSource) -> crate::error::Result<()> {
    use crate::error::Error;
    log::set_format(match args.log_format {
        crate::cli::LogFormat::Text => log::Format::Text,
        crate::cli::LogFormat::Json => log::Format::Json,
    });
    let now = SystemClock.now();
    let file = config_file::load(source, now).map_err(|e| Error::Invalid(format!("{e:#}")))?;
    let settings = merge(&args, file).map_err(|e| Error::Invalid(format!("config: {e}")))?;
    let addrs = resolve_listen(&settings.listen).map_err(Error::Invalid)?;
    if !is_loopback(&addrs) && !settings.options.protected() && !args.insecure {
        return Err(Error::Invalid(format!(
            "refusing to listen on {} without an API key; set api_keys in the config file or HB_API_KEY, or pass --insecure",
            settings.listen
        )));
    }
    // Every connection is a descriptor: take all the operating system allows.
    if let Err(e) = http::conn::raise_open_file_limit() {
        log::warn("start", format!("cannot raise the open-file limit: {e}")).emit();
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the server runtime")?;
    runtime
        .block_on(serve_until_signal(args, settings, source.clone()))
        .map_err(|e| match e.downcast::<ConfigProblem>() {
            Ok(problem) => Error::Invalid(problem.0),
            Err(e) => Error::Failed(e),
        })
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
    let db = settings.db.to_string_lossy();
    let store = if store_pg::is_postgres_url(&db) {
        log::store_text(&format!("postgresql {db} (node {})", settings.node))
    } else {
        log::store_text(&format!("sqlite {db}"))
    };
    let mut server = Server::start(settings, Arc::new(SystemClock)).await?;
    {
        use std::io::Write;
        let mut out = std::io::stdout().lock();
        let _ = writeln!(out, "listening on http://{}", server.addr);
        let _ = out.flush();
    }
    start_summary(&server, &store, &source);
    let failure = loop {
        tokio::select! {
            _ = term.recv() => break None,
            _ = int.recv() => break None,
            _ = hup.recv() => reload(&args, &source, &server.app).await,
            why = server.failed() => break Some(why),
        }
    };
    server.stop().await;
    match failure {
        None => Ok(()),
        Some(why) => anyhow::bail!("{why}; exiting so the service manager restarts hb"),
    }
}

/// The start-up line: what the monitor holds, where it stores it, where it listens.
fn start_summary(server: &Server, store: &str, source: &ConfigSource) {
    let (checks, channels) = {
        let reg = server.app.registry();
        (reg.checks.len(), reg.channels.len())
    };
    let listen = format!("http://{}", server.addr);
    log::info(
        "start",
        format!(
            "hb serve {}: {}, {}, store {store}, config {}, listening on {listen}",
            env!("CARGO_PKG_VERSION"),
            plural(checks, "check"),
            plural(channels, "channel"),
            source.display()
        ),
    )
    .field("version", env!("CARGO_PKG_VERSION"))
    .field("checks", checks)
    .field("channels", channels)
    .field("store", store)
    .field("config", source.display())
    .field("listen", listen)
    .emit();
}

/// SIGHUP: re-read the config file; a broken one is reported and the old one kept.
async fn reload(args: &ServeArgs, source: &ConfigSource, app: &App) {
    let not_reloaded = |why: String| {
        log::error(
            "reload",
            format!("config not reloaded, keeping the previous one: {why}"),
        )
        .field("file", source.display())
        .field("ok", false)
        .emit();
    };
    let file = match config_file::load(source, app.now()) {
        Ok(file) => file,
        Err(e) => return not_reloaded(format!("{e:#}")),
    };
    let settings = match merge(args, file) {
        Ok(settings) => settings,
        Err(e) => return not_reloaded(e),
    };
    let problems = apply_declared(app, &settings.declared).await.err();
    if let Some(base) = &settings.options.base_url {
        let base = base.trim_end_matches('/').to_string();
        let _ = app
            .change(|reg, _, _| reg.set_public_base(base.clone()))
            .await;
    }
    let mut options = settings.options;
    options.declared_channels = app.options().declared_channels;
    *app.options.write().unwrap_or_else(|e| e.into_inner()) = options;
    let (checks, channels) = (
        settings.declared.checks.len(),
        settings.declared.channels.len(),
    );
    let line = match &problems {
        None => log::info(
            "reload",
            format!(
                "config reloaded from {}: {} and {} declared",
                source.display(),
                plural(checks, "check"),
                plural(channels, "channel")
            ),
        ),
        Some(e) => log::warn(
            "reload",
            format!(
                "config reloaded from {} with problems: {e:#}",
                source.display()
            ),
        ),
    };
    line.field("file", source.display())
        .field("ok", problems.is_none())
        .field("checks", checks)
        .field("channels", channels)
        .emit();
}

/// `1 check`, `2 checks`.
pub fn plural(n: usize, word: &str) -> String {
    if n == 1 {
        format!("1 {word}")
    } else {
        format!("{n} {word}s")
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn many_config_problems_are_summed_up() {
        let problems: Vec<String> = (0..8).map(|i| format!("p{i}")).collect();
        assert_eq!(
            super::summarize(&problems),
            "p0; p1; p2; p3; p4; and 3 more like these"
        );
        assert_eq!(super::summarize(&problems[..2]), "p0; p1");
    }
}
