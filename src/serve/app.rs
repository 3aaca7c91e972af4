//! The running monitor's shared state: the registry behind one lock, the database
//! writer, the clock, and the wake-ups of the deadline engine and the outbox.

use jiff::Timestamp;
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, RwLock};
use tokio::sync::Notify;

use super::log;
use super::notify::ChannelKind;
use super::registry::Registry;
use super::secret::Secrets;
use super::store::{History, Op};
use super::writer::{self, CommitState, Writer};
use crate::clock::Clock;

/// Settings the HTTP layer reads on every request; replaced on SIGHUP.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// Public URL for `ping_url` and links; else `http://` + the request's Host.
    pub base_url: Option<String>,
    pub ping_key: Option<String>,
    /// Full keys: may read and change everything.
    pub api_keys: Vec<String>,
    /// Read keys: every GET, `/metrics`, the dashboard; no change.
    pub read_keys: Vec<String>,
    /// Host names accepted besides `localhost` and `base_url`'s host.
    pub allowed_hosts: Vec<String>,
    /// Single sign-on: the header a trusted proxy puts the signed-in user in.
    pub auth_header: Option<String>,
    /// The proxies whose `auth_header` is believed: addresses or networks (CIDR).
    pub trusted_proxies: Vec<(std::net::IpAddr, u8)>,
    /// Users (from `auth_header`) with full rights; every other user may read.
    pub admins: Vec<String>,
    /// Whether channels may deliver to loopback and private addresses.
    pub allow_private_targets: bool,
    /// The channels the config file declares, as it declares them.
    pub declared_channels: BTreeMap<String, ChannelKind>,
    /// `auto_provision = false`: pings never create checks.
    pub auto_provision_off: bool,
}

impl Options {
    /// Whether any key is configured.
    pub fn has_keys(&self) -> bool {
        !self.api_keys.is_empty() || !self.read_keys.is_empty()
    }

    /// Whether anything (a key, or a proxy's word) must say who is asking.
    pub fn protected(&self) -> bool {
        self.has_keys() || self.auth_header.is_some()
    }
}

#[derive(Debug, Default)]
pub struct Metrics {
    pub pings: [AtomicU64; 4],
    pub alerts_ok: AtomicU64,
    pub alerts_failed: AtomicU64,
    /// Wall-clock jumps seen (each handled like a restart).
    pub clock_jumps: AtomicU64,
}

/// Paces a heavy read that runs one at a time: the next one starts no sooner than
/// `rest` times what the last one took after it ended, so back-to-back heavy reads use
/// at most 1/(1+rest) of one core and pings keep the rest. A read with no recent
/// predecessor starts at once.
#[derive(Debug)]
pub struct Pacer {
    rest: u32,
    last: Mutex<Option<(std::time::Instant, std::time::Duration)>>,
}

impl Pacer {
    pub fn new(rest: u32) -> Pacer {
        Pacer {
            rest,
            last: Mutex::new(None),
        }
    }
}

impl Pacer {
    /// The longest wait imposed, whatever the last read took.
    const MAX_WAIT: std::time::Duration = std::time::Duration::from_secs(2);

    /// Waits for this read's turn (call holding the read's one-at-a-time permit).
    pub async fn wait(&self) {
        let last = *self.last.lock().unwrap_or_else(|e| e.into_inner());
        if let Some((ended, took)) = last {
            let gap = (took * self.rest).min(Self::MAX_WAIT);
            let since = ended.elapsed();
            if since < gap {
                tokio::time::sleep(gap - since).await;
            }
        }
    }

    /// Records a read that started at `started` and has just ended.
    pub fn done(&self, started: std::time::Instant) {
        *self.last.lock().unwrap_or_else(|e| e.into_inner()) =
            Some((std::time::Instant::now(), started.elapsed()));
    }
}

/// Whether the background tasks are alive.
#[derive(Debug)]
pub struct Liveness {
    pub engine: AtomicBool,
    pub outbox: AtomicBool,
}

pub struct App {
    registry: Arc<Mutex<Registry>>,
    writer: Writer,
    pub commits: Arc<CommitState>,
    /// The number of the last change made in memory (assigned under the registry lock).
    change_seq: AtomicU64,
    pub history: Arc<dyn History>,
    pub clock: Arc<dyn Clock>,
    pub options: RwLock<Options>,
    pub metrics: Metrics,
    pub liveness: Liveness,
    /// Wakes the deadline engine when a change brings a deadline forward.
    pub engine_wake: Notify,
    /// The deadline the engine sleeps until (ms), read and written under the registry lock.
    engine_until: AtomicI64,
    /// Wakes the outbox when a delivery is queued or one finishes.
    pub outbox_wake: Notify,
    /// Set when the monitor is stopping: the outbox takes no new delivery.
    pub stopping: AtomicBool,
    /// Reads that walk every check (lists, exports) go one at a time, and paced, so
    /// however many clients loop on them they take at most a third of one core.
    pub walks: tokio::sync::Semaphore,
    pub walk_pace: Pacer,
    pub metrics_pace: Pacer,
    /// The last `/metrics` page and the number of the render that made it: requests
    /// that arrive while a render runs wait for the next one instead of each walking
    /// every check (see `http::metrics`).
    pub metrics_page: tokio::sync::Mutex<Option<(u64, axum::body::Bytes)>>,
    pub metrics_renders: AtomicU64,
    /// Sessions, CSRF and badge tokens are made from these.
    pub secrets: Secrets,
    /// This node's name when several share the database (PostgreSQL); else empty.
    pub node: String,
    /// Whether time is the database's (shared stores, real clock): leases and
    /// deadlines are then measured on one clock by every node.
    pub db_clock: bool,
    /// Shared stores: when this node's leases on deliveries were last committed (taken
    /// or renewed): a delivery waiting for a slot is sent only while that is recent.
    pub leases_renewed: Mutex<Option<std::time::Instant>>,
    /// The dashboard's count of checks down: (change number, time bucket, count).
    pub down_cache: Mutex<Option<(u64, i64, u64)>>,
}

impl App {
    pub fn new(
        registry: Arc<Mutex<Registry>>,
        writer: Writer,
        commits: Arc<CommitState>,
        history: Arc<dyn History>,
        clock: Arc<dyn Clock>,
        options: Options,
        secrets: Secrets,
    ) -> App {
        App {
            registry,
            writer,
            commits,
            change_seq: AtomicU64::new(0),
            history,
            clock,
            options: RwLock::new(options),
            metrics: Metrics::default(),
            liveness: Liveness {
                engine: AtomicBool::new(true),
                outbox: AtomicBool::new(true),
            },
            engine_wake: Notify::new(),
            engine_until: AtomicI64::new(i64::MIN),
            outbox_wake: Notify::new(),
            stopping: AtomicBool::new(false),
            walks: tokio::sync::Semaphore::new(1),
            walk_pace: Pacer::new(2),
            metrics_pace: Pacer::new(2),
            metrics_page: tokio::sync::Mutex::new(None),
            metrics_renders: AtomicU64::new(0),
            secrets,
            down_cache: Mutex::new(None),
            node: String::new(),
            db_clock: false,
            leases_renewed: Mutex::new(None),
        }
    }

    pub fn now(&self) -> Timestamp {
        let now = self.clock.now();
        if self.db_clock {
            let offset = self.commits.db_offset_ms.load(Ordering::Relaxed);
            return now
                .checked_add(jiff::SignedDuration::from_millis(offset))
                .unwrap_or(now);
        }
        now
    }

    /// Whether other nodes share this monitor's database.
    pub fn shared(&self) -> bool {
        !self.node.is_empty()
    }

    /// Whether this node runs the deadline engine and the outbox: always on a database
    /// of its own; on a shared one, while it holds the lease (one node at a time).
    pub fn leading(&self) -> bool {
        !self.shared() || self.commits.leading()
    }

    /// On a shared database, returns once memory holds every change any node
    /// committed before the call (so a read, or a change, here sees a change
    /// answered by another node a moment ago). At once on a database of its own.
    pub async fn sync(&self) {
        if self.shared() {
            self.writer.sync().await;
        }
    }

    pub fn options(&self) -> Options {
        self.options
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// The registry, for reading. Changes go through [`App::change`]. Hold it briefly:
    /// reads of many checks go in slices.
    pub fn registry(&self) -> MutexGuard<'_, Registry> {
        writer::lock(&self.registry)
    }

    /// The number of the last change made in memory: pages whose number has not moved
    /// are unchanged (their `ETag` is made from it).
    pub fn change_seq(&self) -> u64 {
        self.change_seq.load(Ordering::SeqCst)
    }

    /// Every change up to this number is committed (or undone).
    pub fn committed_seq(&self) -> u64 {
        self.commits.committed.load(Ordering::SeqCst)
    }

    /// Runs a change on the registry, queues its store operations in order, and
    /// returns once they are committed. When the commit fails, the change is undone in
    /// memory before this returns the error: an answer that says "not made" is true.
    ///
    /// On a shared database another node's change may overtake this one between the
    /// moment it is made in memory and its commit; it is then undone and `f` runs
    /// again on what is now true (so `f` may run more than once).
    pub async fn change<T>(
        &self,
        mut f: impl FnMut(&mut Registry, Timestamp, &mut Vec<Op>) -> T,
    ) -> Result<T, String> {
        let mut tries = 0;
        loop {
            match self.change_once(&mut f).await {
                Err(e) if e == writer::CONFLICT && tries < MAX_TRIES => tries += 1,
                result => return result,
            }
        }
    }

    async fn change_once<T>(
        &self,
        f: &mut impl FnMut(&mut Registry, Timestamp, &mut Vec<Op>) -> T,
    ) -> Result<T, String> {
        let mut ops = Vec::new();
        let (value, committed, enqueued, flips) = {
            let mut reg = self.registry();
            let seq = self.change_seq.fetch_add(1, Ordering::SeqCst) + 1;
            let now = self.now();
            reg.begin_change(seq);
            let value = f(&mut reg, now, &mut ops);
            let undo = reg.end_change();
            let flips = flip_lines(&reg, &ops);
            let enqueued = ops
                .iter()
                .any(|op| matches!(op, Op::Enqueue(_) | Op::Attempt(_)));
            if reg
                .next_deadline()
                .is_some_and(|t| t.as_millisecond() < self.engine_until.load(Ordering::Relaxed))
            {
                self.engine_wake.notify_one();
            }
            (value, self.writer.send(seq, ops, undo), enqueued, flips)
        };
        committed
            .await
            .map_err(|_| "the database writer has stopped".to_string())??;
        // Said once the change is committed: a status change that was undone never was.
        for line in flips {
            line.emit();
        }
        if enqueued {
            self.outbox_wake.notify_one();
        }
        Ok(value)
    }

    /// Whether the outbox has nothing left to do now (tests wait for this instead of
    /// sleeping).
    pub fn outbox_idle(&self) -> bool {
        let committed = self.committed_seq();
        let now = self.now().as_millisecond();
        self.registry().outbox.idle(now, committed)
    }

    /// What keeps this node from serving, if anything (for `/healthz`).
    pub fn health_problem(&self) -> Option<&'static str> {
        if !self.commits.running.load(Ordering::SeqCst) {
            Some("the database writer has stopped")
        } else if self.shared() && !self.commits.reachable.load(Ordering::SeqCst) {
            Some("the shared database cannot be reached")
        } else if !self.commits.healthy.load(Ordering::SeqCst) {
            Some("the database cannot be written")
        } else if !self.liveness.engine.load(Ordering::SeqCst) {
            Some("the deadline engine has stopped")
        } else if !self.liveness.outbox.load(Ordering::SeqCst) {
            Some("the outbox has stopped")
        } else {
            None
        }
    }

    /// The engine tells when it will next look (under the registry lock).
    pub(crate) fn set_engine_until(&self, reg: &Registry) -> Option<Timestamp> {
        let next = reg.next_deadline();
        self.engine_until.store(
            next.map_or(i64::MAX, |t| t.as_millisecond()),
            Ordering::Relaxed,
        );
        next
    }

    pub(crate) fn mark_engine_awake(&self) {
        self.engine_until.store(i64::MIN, Ordering::Relaxed);
    }
}

/// How many times a change overtaken by other nodes' changes is made again before
/// its caller is told to try later.
const MAX_TRIES: u32 = 50;

/// One log line per status change in `ops`.
fn flip_lines(reg: &Registry, ops: &[Op]) -> Vec<log::Line> {
    ops.iter()
        .filter_map(|op| match op {
            Op::Flip(flip) => Some(flip),
            _ => None,
        })
        .map(|flip| {
            let name = uuid::Uuid::parse_str(&flip.check_uuid)
                .ok()
                .and_then(|u| reg.checks.get(&u))
                .map(|e| e.settings.name.clone())
                .unwrap_or_default();
            log::info(
                "status",
                format!(
                    "check {name:?} ({}) went {} → {} ({})",
                    flip.check_uuid, flip.from, flip.to, flip.reason
                ),
            )
            .field("check", name)
            .field("uuid", flip.check_uuid.as_str())
            .field("from", flip.from)
            .field("to", flip.to)
            .field("reason", flip.reason.as_str())
        })
        .collect()
}
