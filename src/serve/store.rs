//! Durable storage. The monitor keeps its working set in memory and writes every
//! change through a [`Store`]; SQLite is the one implementation so far.
//!
//! One writer thread owns the write connection and commits whatever is queued as one
//! transaction (group commit, no fixed wait); a caller is answered only after its
//! changes are committed.

use anyhow::{Context, Result};
use rusqlite::{Connection, OptionalExtension, params};
use std::path::Path;
use std::sync::{Arc, Mutex};

/// Pings kept per check; older ones are trimmed.
pub const PING_HISTORY: u64 = 1000;
/// Flips kept per check.
pub const FLIP_HISTORY: i64 = 1000;
/// Notifications (outbox rows that are done) kept per check.
pub const NOTIFICATION_HISTORY: i64 = 1000;

#[derive(Debug, Clone)]
pub struct CheckRow {
    pub uuid: String,
    pub spec: String,
    pub managed: bool,
    pub default_grace_ms: i64,
    pub state: String,
    pub created_ms: i64,
}

#[derive(Debug, Clone)]
pub struct PingRow {
    pub check_uuid: String,
    pub n: u64,
    pub at_ms: i64,
    pub kind: &'static str,
    pub exit_code: Option<u8>,
    pub rid: Option<String>,
    pub remote_addr: Option<String>,
    pub user_agent: Option<String>,
    pub method: String,
    pub body: Option<String>,
    pub duration: Option<f64>,
    /// The check's state after this ping (JSON with a `seq`); kept on the newest row only.
    pub state: String,
}

#[derive(Debug, Clone)]
pub struct FlipRow {
    pub check_uuid: String,
    pub at_ms: i64,
    pub from: &'static str,
    pub to: &'static str,
    pub reason: String,
}

/// A judged slot of a check (§6), keyed by (`check_uuid`, `due_ms`): a whole row,
/// written over any row with the same key.
#[derive(Debug, Clone, PartialEq)]
pub struct SlotOutcomeRow {
    pub check_uuid: String,
    pub due_ms: i64,
    /// `ok`, `failed` or `missed`.
    pub status: &'static str,
    /// The `n` of the run's end ping.
    pub ping: Option<i64>,
}

#[derive(Debug, Clone)]
pub struct OutboxRow {
    pub id: i64,
    pub event_id: String,
    pub event: String,
    pub channel: String,
    pub check_uuid: Option<String>,
    /// The event as JSON, enough to deliver it after a restart.
    pub payload: String,
    pub attempts: u32,
    pub next_attempt_ms: i64,
    pub created_ms: i64,
}

#[derive(Debug, Clone)]
pub struct AttemptRow {
    pub id: i64,
    pub attempts: u32,
    pub at_ms: i64,
    pub next_attempt_ms: i64,
    pub done: bool,
    pub ok: bool,
    pub status_code: Option<u16>,
    pub error: Option<String>,
}

/// One change to durable state.
#[derive(Debug, Clone)]
pub enum Op {
    PutCheck(CheckRow),
    PutState {
        uuid: String,
        state: String,
    },
    DeleteCheck(String),
    Ping(PingRow),
    Flip(FlipRow),
    PutChannel {
        name: String,
        config: String,
        managed: bool,
    },
    DeleteChannel(String),
    Enqueue(OutboxRow),
    Attempt(AttemptRow),
    /// A node takes or renews the lease on a delivery until `until_ms` (the database's
    /// clock); `node` empty gives it back. Shared stores only: one node never leases.
    Claim {
        id: i64,
        node: String,
        until_ms: i64,
    },
    /// A maintenance window, whole (upsert by name).
    PutWindow {
        name: String,
        spec: String,
        managed: bool,
    },
    DeleteWindow(String),
    /// An alert held back (a dependency down, a maintenance window): recorded in the
    /// notification list as done, not delivered, with why.
    Suppressed {
        row: OutboxRow,
        reason: String,
    },
    /// Upserts one slot outcome by (check, due).
    PutSlot(SlotOutcomeRow),
    /// Deletes a check's slot outcomes due before `before_ms` (kept 400 days).
    TrimSlots {
        check_uuid: String,
        before_ms: i64,
    },
}

/// Everything loaded at start-up.
#[derive(Debug, Default)]
pub struct Snapshot {
    pub checks: Vec<CheckRow>,
    pub channels: Vec<(String, String, bool)>,
    /// Outbox rows not yet done.
    pub pending: Vec<OutboxRow>,
    pub max_outbox_id: i64,
    /// Maintenance windows: (name, spec JSON, managed).
    pub windows: Vec<(String, String, bool)>,
    /// The monitor's own secret (sessions, CSRF and badge tokens are made from it),
    /// made at the first start and kept in the database so restarts keep sessions.
    /// Empty when the store keeps none (a new one is made in memory).
    pub secret: Vec<u8>,
    /// Leases on pending deliveries (shared stores): outbox id → (node, until ms).
    pub leases: std::collections::HashMap<i64, (String, i64)>,
}

/// The storage interface, so another database can follow SQLite.
///
/// The writer thread commits a group of callers' changes as one transaction: `begin`,
/// then `apply` once per caller (each inside its own savepoint, so one caller's
/// failing change is rolled back alone), then `commit`. After a failed `begin` or
/// `commit`, `rollback` leaves the store ready for the next group.
pub trait Store: Send + 'static {
    /// Starts a group.
    fn begin(&mut self) -> Result<()>;
    /// Applies one caller's changes; on an error none of them stays in the group.
    fn apply(&mut self, ops: &[Op]) -> Result<()>;
    /// Makes the group durable.
    fn commit(&mut self) -> Result<()>;
    /// Abandons the group.
    fn rollback(&mut self);
    /// Applies several callers' operations at once (one round trip), all or none;
    /// `Ok(false)` when the store has no such path. After an error none of them stays
    /// and the group goes on: the writer then applies them one caller at a time.
    fn apply_batch(&mut self, _callers: &[&[Op]]) -> Result<bool> {
        Ok(false)
    }
    /// Whether other nodes share this store (PostgreSQL): then every group first takes
    /// the database-wide write lock in `begin`, and reads what the others committed
    /// with [`Store::catch_up`].
    fn shared(&self) -> bool {
        false
    }
    /// The changes other nodes committed since the last call, oldest first, as the
    /// operations they applied (see [`super::wire`]). Inside a group (after `begin`)
    /// it is complete: nothing can commit before this group does. Outside one it is
    /// what has been committed so far. A store no other node writes returns none.
    fn catch_up(&mut self) -> Result<Vec<Op>> {
        Ok(Vec::new())
    }
    /// The database's clock (ms since the epoch), read by the last `begin` or
    /// `catch_up`; `None` for a store that has no clock of its own.
    fn db_now_ms(&self) -> Option<i64> {
        None
    }
    /// This node's name on a shared store (empty on a store of its own).
    fn node(&self) -> String {
        String::new()
    }
    /// Shared stores: takes or renews this node's lease on running the deadline engine
    /// and the outbox (one node at a time, measured on the database's clock; see
    /// [`LEAD_LEASE`]); whether it holds it. A store of its own: always.
    fn lead(&mut self) -> Result<bool> {
        Ok(true)
    }
}

/// How long a node's lease on running the deadline engine and the outbox lasts in the
/// database; it is renewed every second, and trusted locally for [`LEAD_TRUSTED`].
pub const LEAD_LEASE: std::time::Duration = std::time::Duration::from_secs(5);
/// How long after asking a node acts on a lease it was granted (less than
/// [`LEAD_LEASE`], so it stops before another node may start).
pub const LEAD_TRUSTED: std::time::Duration = std::time::Duration::from_secs(4);

/// A stored ping, as read back.
#[derive(Debug, Clone, PartialEq)]
pub struct PingEntry {
    pub n: i64,
    pub at_ms: i64,
    pub kind: String,
    pub exit_code: Option<i64>,
    pub rid: Option<String>,
    pub remote_addr: Option<String>,
    pub user_agent: Option<String>,
    pub method: String,
    pub body: Option<String>,
    pub duration: Option<f64>,
}

/// A stored status change.
#[derive(Debug, Clone, PartialEq)]
pub struct FlipEntry {
    pub at_ms: i64,
    pub from: String,
    pub to: String,
    pub reason: String,
}

/// A stored delivery (done or still being tried).
#[derive(Debug, Clone, PartialEq)]
pub struct NotificationEntry {
    pub event_id: String,
    pub event: String,
    pub channel: String,
    /// The last attempt, or the time it was queued.
    pub at_ms: i64,
    pub attempts: i64,
    pub done: bool,
    pub ok: bool,
    pub status_code: Option<i64>,
    pub error: Option<String>,
    /// Held back, not sent: why (`dependency <name> down`, `maintenance <name>`).
    pub suppressed: Option<String>,
}

/// Reads history, newest first; safe to call from many threads.
pub trait History: Send + Sync + 'static {
    fn pings(&self, uuid: &str, limit: usize) -> Result<Vec<PingEntry>>;
    fn flips(&self, uuid: &str, limit: usize) -> Result<Vec<FlipEntry>>;
    fn notifications(&self, uuid: &str, limit: usize) -> Result<Vec<NotificationEntry>>;
    /// Pings without their bodies (the dashboard's strips and charts), newest first.
    fn ping_times(&self, uuid: &str, limit: usize) -> Result<Vec<PingEntry>> {
        let mut pings = self.pings(uuid, limit)?;
        for p in &mut pings {
            p.body = None;
        }
        Ok(pings)
    }
    /// Stored slot outcomes of a check due in `[from_ms, to_ms]`, oldest first, at
    /// most `limit`.
    fn slots(
        &self,
        _uuid: &str,
        _from_ms: i64,
        _to_ms: i64,
        _limit: usize,
    ) -> Result<Vec<crate::serve::slots::SlotRow>> {
        Ok(Vec::new())
    }
    /// A queued delivery's event as stored (shared stores: the change log leaves it out,
    /// and a node reads it when it comes to send one another node queued).
    fn outbox_payload(&self, _id: i64) -> Result<Option<String>> {
        Ok(None)
    }
    /// One ping by its number, with its body.
    fn ping(&self, uuid: &str, n: i64) -> Result<Option<PingEntry>> {
        Ok(self.pings(uuid, 1_000_000)?.into_iter().find(|p| p.n == n))
    }
}

const MIGRATIONS: &[&str] = &[
    r#"
CREATE TABLE checks (
    uuid TEXT PRIMARY KEY,
    spec TEXT NOT NULL,
    managed INTEGER NOT NULL DEFAULT 0,
    default_grace_ms INTEGER NOT NULL,
    state TEXT NOT NULL,
    created_ms INTEGER NOT NULL
);
CREATE TABLE pings (
    check_uuid TEXT NOT NULL,
    n INTEGER NOT NULL,
    at_ms INTEGER NOT NULL,
    kind TEXT NOT NULL,
    exit_code INTEGER,
    rid TEXT,
    remote_addr TEXT,
    user_agent TEXT,
    method TEXT NOT NULL,
    body TEXT,
    duration REAL,
    PRIMARY KEY (check_uuid, n)
) WITHOUT ROWID;
CREATE TABLE flips (
    id INTEGER PRIMARY KEY,
    check_uuid TEXT NOT NULL,
    at_ms INTEGER NOT NULL,
    from_status TEXT NOT NULL,
    to_status TEXT NOT NULL,
    reason TEXT NOT NULL
);
CREATE INDEX flips_by_check ON flips (check_uuid, id);
CREATE TABLE channels (
    name TEXT PRIMARY KEY,
    config TEXT NOT NULL,
    managed INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE outbox (
    id INTEGER PRIMARY KEY,
    event_id TEXT NOT NULL,
    event TEXT NOT NULL,
    channel TEXT NOT NULL,
    check_uuid TEXT,
    payload TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_ms INTEGER NOT NULL,
    last_attempt_ms INTEGER,
    done INTEGER NOT NULL DEFAULT 0,
    ok INTEGER NOT NULL DEFAULT 0,
    status_code INTEGER,
    error TEXT,
    created_ms INTEGER NOT NULL
);
CREATE INDEX outbox_by_check ON outbox (check_uuid, id);
CREATE INDEX outbox_pending ON outbox (done) WHERE done = 0;
"#,
    // A check's state after a ping is stored on the ping's row (the newest row of the
    // check holds it), so a ping writes one page instead of two.
    "ALTER TABLE pings ADD COLUMN state TEXT;",
    // Facts about the database itself; written at every start, which proves it writable.
    "CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);",
    // Maintenance windows; alerts held back are kept in the notification list.
    r#"
CREATE TABLE maintenance (
    name TEXT PRIMARY KEY,
    spec TEXT NOT NULL,
    managed INTEGER NOT NULL DEFAULT 0
);
ALTER TABLE outbox ADD COLUMN suppressed TEXT;
"#,
    // Slot outcomes (§6), apart from the ping history so they outlive its trimming.
    "CREATE TABLE slots (
    check_uuid TEXT NOT NULL,
    due_ms INTEGER NOT NULL,
    status TEXT NOT NULL,
    ping INTEGER,
    PRIMARY KEY (check_uuid, due_ms)
) WITHOUT ROWID;",
];

fn configure(conn: &Connection, synchronous: &str) -> Result<()> {
    conn.busy_timeout(std::time::Duration::from_secs(10))?;
    conn.pragma_update(None, "journal_mode", "WAL")?;
    conn.pragma_update(None, "synchronous", synchronous)?;
    conn.pragma_update(None, "foreign_keys", "ON")?;
    Ok(())
}

fn migrate(conn: &mut Connection) -> Result<()> {
    let version: i64 = conn.pragma_query_value(None, "user_version", |r| r.get(0))?;
    let version = version.max(0) as usize;
    if version > MIGRATIONS.len() {
        anyhow::bail!(
            "the database was written by a newer hb (schema {version}, this hb knows {}); upgrade hb",
            MIGRATIONS.len()
        );
    }
    for (i, sql) in MIGRATIONS.iter().enumerate().skip(version) {
        let tx = conn.transaction()?;
        tx.execute_batch(sql)?;
        tx.pragma_update(None, "user_version", (i + 1) as i64)?;
        tx.commit()?;
    }
    Ok(())
}

/// A connection to the database at `path` (created and migrated if needed), without
/// the start-up probe and snapshot: for `hb db copy`.
pub(crate) fn open_plain(path: &Path) -> Result<Connection> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)
            .with_context(|| format!("cannot create the database directory {}", dir.display()))?;
    }
    let mut conn = Connection::open(path)
        .with_context(|| format!("cannot open the database {}", path.display()))?;
    configure(&conn, "FULL")
        .and_then(|_| migrate(&mut conn))
        .with_context(|| format!("cannot prepare the database {}", path.display()))?;
    Ok(conn)
}

pub struct SqliteStore {
    conn: Connection,
}

pub struct SqliteHistory {
    conn: Mutex<Connection>,
}

/// Opens (creating if needed) the database; returns the writer side, the reader side
/// and what is stored.
pub fn open_sqlite(
    path: &Path,
    synchronous: &str,
) -> Result<(SqliteStore, SqliteHistory, Snapshot)> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)
            .with_context(|| format!("cannot create the database directory {}", dir.display()))?;
    }
    let open = || {
        Connection::open(path)
            .with_context(|| format!("cannot open the database {}", path.display()))
    };
    let mut conn = open()?;
    configure(&conn, synchronous)
        .and_then(|_| migrate(&mut conn))
        .with_context(|| format!("cannot prepare the database {}", path.display()))?;
    probe_writable(&conn).with_context(|| {
        format!(
            "cannot write to the database {}; check that the file, its directory and the disk are writable",
            path.display()
        )
    })?;
    let mut snapshot =
        load(&conn).with_context(|| format!("cannot read the database {}", path.display()))?;
    snapshot.secret = load_or_make_secret(&conn)
        .with_context(|| format!("cannot keep the secret in the database {}", path.display()))?;
    // 32 MiB of page cache for the writer (the default is 2 MiB): pings touch pages all
    // over the pings and checks tables, and every miss is a read from the WAL or the
    // file. Set after loading, so pages read once at start-up are not all kept.
    conn.pragma_update(None, "cache_size", -32768)?;
    let reader = open()?;
    configure(&reader, synchronous)?;
    Ok((
        SqliteStore { conn },
        SqliteHistory {
            conn: Mutex::new(reader),
        },
        snapshot,
    ))
}

/// A real write at start, so a read-only file or a full disk is found before any
/// ping is answered, not by the first one.
fn probe_writable(conn: &Connection) -> Result<()> {
    let now = jiff::Timestamp::now().as_millisecond().to_string();
    conn.execute(
        "INSERT INTO meta (key, value) VALUES ('started_ms', ?1)
         ON CONFLICT (key) DO UPDATE SET value = ?1",
        [now],
    )?;
    Ok(())
}

/// Bytes in the monitor's secret.
pub const SECRET_LEN: usize = 32;

/// The secret in `meta` (hex), made from the system's random source at the first start.
fn load_or_make_secret(conn: &Connection) -> Result<Vec<u8>> {
    let stored: Option<String> = conn
        .query_row("SELECT value FROM meta WHERE key = 'secret'", [], |r| {
            r.get(0)
        })
        .optional()?;
    if let Some(bytes) = stored.as_deref().and_then(from_hex)
        && bytes.len() == SECRET_LEN
    {
        return Ok(bytes);
    }
    let secret = new_secret()?;
    conn.execute(
        "INSERT INTO meta (key, value) VALUES ('secret', ?1)
         ON CONFLICT (key) DO UPDATE SET value = ?1",
        [to_hex(&secret)],
    )?;
    Ok(secret)
}

/// [`SECRET_LEN`] bytes from the system's random source.
pub fn new_secret() -> Result<Vec<u8>> {
    use ring::rand::SecureRandom;
    let mut bytes = vec![0u8; SECRET_LEN];
    ring::rand::SystemRandom::new()
        .fill(&mut bytes)
        .map_err(|_| anyhow::anyhow!("the system's random source failed"))?;
    Ok(bytes)
}

pub fn to_hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

pub fn from_hex(text: &str) -> Option<Vec<u8>> {
    if !text.len().is_multiple_of(2) {
        return None;
    }
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(text.get(i..i + 2)?, 16).ok())
        .collect()
}

/// The `seq` of a stored state (0 when absent or unreadable).
pub(crate) fn state_seq(state: &str) -> u64 {
    #[derive(serde::Deserialize)]
    struct Seq {
        #[serde(default)]
        seq: u64,
    }
    serde_json::from_str::<Seq>(state).map_or(0, |s| s.seq)
}

fn load(conn: &Connection) -> Result<Snapshot> {
    let mut snapshot = Snapshot::default();
    let mut stmt =
        conn.prepare("SELECT uuid, spec, managed, default_grace_ms, state, created_ms FROM checks ORDER BY created_ms, uuid")?;
    snapshot.checks = stmt
        .query_map([], |r| {
            Ok(CheckRow {
                uuid: r.get(0)?,
                spec: r.get(1)?,
                managed: r.get(2)?,
                default_grace_ms: r.get(3)?,
                state: r.get(4)?,
                created_ms: r.get(5)?,
            })
        })?
        .collect::<rusqlite::Result<_>>()?;
    // A ping stores the state on its own row; take whichever copy is newer.
    let mut newest_ping =
        conn.prepare("SELECT state FROM pings WHERE check_uuid = ?1 AND state IS NOT NULL ORDER BY n DESC LIMIT 1")?;
    for check in &mut snapshot.checks {
        let from_ping: Option<String> = newest_ping
            .query_row([&check.uuid], |r| r.get(0))
            .optional()?;
        if let Some(from_ping) = from_ping
            && state_seq(&from_ping) > state_seq(&check.state)
        {
            check.state = from_ping;
        }
    }
    let mut stmt = conn.prepare("SELECT name, config, managed FROM channels ORDER BY name")?;
    snapshot.channels = stmt
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?
        .collect::<rusqlite::Result<_>>()?;
    let mut stmt = conn.prepare(
        "SELECT id, event_id, event, channel, check_uuid, payload, attempts, next_attempt_ms, created_ms
         FROM outbox WHERE done = 0 ORDER BY id",
    )?;
    snapshot.pending = stmt
        .query_map([], |r| {
            Ok(OutboxRow {
                id: r.get(0)?,
                event_id: r.get(1)?,
                event: r.get(2)?,
                channel: r.get(3)?,
                check_uuid: r.get(4)?,
                payload: r.get(5)?,
                attempts: r.get(6)?,
                next_attempt_ms: r.get(7)?,
                created_ms: r.get(8)?,
            })
        })?
        .collect::<rusqlite::Result<_>>()?;
    let mut stmt = conn.prepare("SELECT name, spec, managed FROM maintenance ORDER BY name")?;
    snapshot.windows = stmt
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?
        .collect::<rusqlite::Result<_>>()?;
    snapshot.max_outbox_id = conn
        .query_row("SELECT MAX(id) FROM outbox", [], |r| {
            r.get::<_, Option<i64>>(0)
        })
        .optional()?
        .flatten()
        .unwrap_or(0);
    Ok(snapshot)
}

impl Store for SqliteStore {
    fn begin(&mut self) -> Result<()> {
        self.conn.execute_batch("BEGIN IMMEDIATE")?;
        Ok(())
    }

    fn apply(&mut self, ops: &[Op]) -> Result<()> {
        self.conn.execute_batch("SAVEPOINT caller")?;
        let applied = ops.iter().try_for_each(|op| apply(&self.conn, op));
        match applied {
            Ok(()) => {
                self.conn.execute_batch("RELEASE caller")?;
                Ok(())
            }
            Err(e) => {
                // Undo this caller's changes only; the group goes on.
                self.conn
                    .execute_batch("ROLLBACK TO caller; RELEASE caller")?;
                Err(e.into())
            }
        }
    }

    fn commit(&mut self) -> Result<()> {
        self.conn.execute_batch("COMMIT")?;
        Ok(())
    }

    fn rollback(&mut self) {
        if !self.conn.is_autocommit() {
            let _ = self.conn.execute_batch("ROLLBACK");
        }
    }
}

fn apply(tx: &Connection, op: &Op) -> rusqlite::Result<()> {
    match op {
        Op::PutCheck(c) => {
            tx.prepare_cached(
                "INSERT INTO checks (uuid, spec, managed, default_grace_ms, state, created_ms)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)
                 ON CONFLICT (uuid) DO UPDATE SET spec = ?2, managed = ?3, default_grace_ms = ?4, state = ?5",
            )?
            .execute(params![c.uuid, c.spec, c.managed, c.default_grace_ms, c.state, c.created_ms])?;
        }
        Op::PutState { uuid, state } => {
            tx.prepare_cached("UPDATE checks SET state = ?2 WHERE uuid = ?1")?
                .execute(params![uuid, state])?;
        }
        Op::DeleteCheck(uuid) => {
            for sql in [
                "DELETE FROM checks WHERE uuid = ?1",
                "DELETE FROM pings WHERE check_uuid = ?1",
                "DELETE FROM flips WHERE check_uuid = ?1",
                "DELETE FROM outbox WHERE check_uuid = ?1 AND done = 1",
                "DELETE FROM slots WHERE check_uuid = ?1",
            ] {
                tx.prepare_cached(sql)?.execute([uuid])?;
            }
        }
        Op::Ping(p) => {
            // The previous row of the check gives up its copy of the state (same page).
            tx.prepare_cached("UPDATE pings SET state = NULL WHERE check_uuid = ?1 AND n = ?2 AND state IS NOT NULL")?
                .execute(params![p.check_uuid, p.n as i64 - 1])?;
            tx.prepare_cached(
                "INSERT OR REPLACE INTO pings (check_uuid, n, at_ms, kind, exit_code, rid, remote_addr, user_agent, method, body, duration, state)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
            )?
            .execute(params![
                p.check_uuid,
                p.n as i64,
                p.at_ms,
                p.kind,
                p.exit_code,
                p.rid,
                p.remote_addr,
                p.user_agent,
                p.method,
                p.body,
                p.duration,
                p.state
            ])?;
            // Trim in steps, not on every ping.
            if p.n > PING_HISTORY && p.n % 100 == 0 {
                tx.prepare_cached("DELETE FROM pings WHERE check_uuid = ?1 AND n <= ?2")?
                    .execute(params![p.check_uuid, (p.n - PING_HISTORY) as i64])?;
            }
        }
        Op::Flip(f) => {
            tx.prepare_cached(
                "INSERT INTO flips (check_uuid, at_ms, from_status, to_status, reason) VALUES (?1, ?2, ?3, ?4, ?5)",
            )?
            .execute(params![f.check_uuid, f.at_ms, f.from, f.to, f.reason])?;
            tx.prepare_cached(
                "DELETE FROM flips WHERE check_uuid = ?1 AND id <= (
                     SELECT id FROM flips WHERE check_uuid = ?1 ORDER BY id DESC LIMIT 1 OFFSET ?2)",
            )?
            .execute(params![f.check_uuid, FLIP_HISTORY])?;
        }
        Op::PutChannel {
            name,
            config,
            managed,
        } => {
            tx.prepare_cached(
                "INSERT INTO channels (name, config, managed) VALUES (?1, ?2, ?3)
                 ON CONFLICT (name) DO UPDATE SET config = ?2, managed = ?3",
            )?
            .execute(params![name, config, managed])?;
        }
        Op::DeleteChannel(name) => {
            tx.prepare_cached("DELETE FROM channels WHERE name = ?1")?
                .execute([name])?;
        }
        Op::Enqueue(o) => {
            tx.prepare_cached(
                "INSERT INTO outbox (id, event_id, event, channel, check_uuid, payload, attempts, next_attempt_ms, created_ms)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
            )?
            .execute(params![
                o.id,
                o.event_id,
                o.event,
                o.channel,
                o.check_uuid,
                o.payload,
                o.attempts,
                o.next_attempt_ms,
                o.created_ms
            ])?;
        }
        // One node never leases its deliveries.
        Op::Claim { .. } => {}
        Op::Attempt(a) => {
            tx.prepare_cached(
                "UPDATE outbox SET attempts = ?2, last_attempt_ms = ?3, next_attempt_ms = ?4, done = ?5, ok = ?6,
                 status_code = ?7, error = ?8 WHERE id = ?1",
            )?
            .execute(params![
                a.id,
                a.attempts,
                a.at_ms,
                a.next_attempt_ms,
                a.done,
                a.ok,
                a.status_code,
                a.error
            ])?;
            if a.done {
                tx.prepare_cached(
                    "DELETE FROM outbox WHERE done = 1 AND check_uuid = (SELECT check_uuid FROM outbox WHERE id = ?1)
                     AND id <= (SELECT o.id FROM outbox o WHERE o.done = 1 AND o.check_uuid =
                         (SELECT check_uuid FROM outbox WHERE id = ?1) ORDER BY o.id DESC LIMIT 1 OFFSET ?2)",
                )?
                .execute(params![a.id, NOTIFICATION_HISTORY])?;
            }
        }
        Op::PutWindow {
            name,
            spec,
            managed,
        } => {
            tx.prepare_cached(
                "INSERT INTO maintenance (name, spec, managed) VALUES (?1, ?2, ?3)
                 ON CONFLICT (name) DO UPDATE SET spec = ?2, managed = ?3",
            )?
            .execute(params![name, spec, managed])?;
        }
        Op::DeleteWindow(name) => {
            tx.prepare_cached("DELETE FROM maintenance WHERE name = ?1")?
                .execute([name])?;
        }
        Op::Suppressed { row: o, reason } => {
            tx.prepare_cached(
                "INSERT INTO outbox (id, event_id, event, channel, check_uuid, payload, attempts, next_attempt_ms, created_ms, done, ok, suppressed)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, 0, ?7, ?8, 1, 0, ?9)",
            )?
            .execute(params![
                o.id,
                o.event_id,
                o.event,
                o.channel,
                o.check_uuid,
                o.payload,
                o.next_attempt_ms,
                o.created_ms,
                reason
            ])?;
        }
        Op::PutSlot(r) => {
            tx.prepare_cached(
                "INSERT INTO slots (check_uuid, due_ms, status, ping) VALUES (?1, ?2, ?3, ?4)
                 ON CONFLICT (check_uuid, due_ms) DO UPDATE SET status = ?3, ping = ?4",
            )?
            .execute(params![r.check_uuid, r.due_ms, r.status, r.ping])?;
        }
        Op::TrimSlots {
            check_uuid,
            before_ms,
        } => {
            tx.prepare_cached("DELETE FROM slots WHERE check_uuid = ?1 AND due_ms < ?2")?
                .execute(params![check_uuid, before_ms])?;
        }
    }
    Ok(())
}

/// The columns [`ping_entry`] reads, in its order.
const PING_COLUMNS: &str =
    "n, at_ms, kind, exit_code, rid, remote_addr, user_agent, method, body, duration";

fn ping_entry(r: &rusqlite::Row<'_>) -> rusqlite::Result<PingEntry> {
    Ok(PingEntry {
        n: r.get(0)?,
        at_ms: r.get(1)?,
        kind: r.get(2)?,
        exit_code: r.get(3)?,
        rid: r.get(4)?,
        remote_addr: r.get(5)?,
        user_agent: r.get(6)?,
        method: r.get(7)?,
        body: r.get(8)?,
        duration: r.get(9)?,
    })
}

impl History for SqliteHistory {
    fn ping_times(&self, uuid: &str, limit: usize) -> Result<Vec<PingEntry>> {
        let conn = self.conn.lock().unwrap_or_else(|e| e.into_inner());
        let mut stmt = conn.prepare_cached(
            "SELECT n, at_ms, kind, exit_code, rid, method, duration
             FROM pings WHERE check_uuid = ?1 ORDER BY n DESC LIMIT ?2",
        )?;
        let rows = stmt.query_map(params![uuid, limit as i64], |r| {
            Ok(PingEntry {
                n: r.get(0)?,
                at_ms: r.get(1)?,
                kind: r.get(2)?,
                exit_code: r.get(3)?,
                rid: r.get(4)?,
                remote_addr: None,
                user_agent: None,
                method: r.get(5)?,
                body: None,
                duration: r.get(6)?,
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    fn ping(&self, uuid: &str, n: i64) -> Result<Option<PingEntry>> {
        let conn = self.conn.lock().unwrap_or_else(|e| e.into_inner());
        let mut stmt = conn.prepare_cached(&format!(
            "SELECT {PING_COLUMNS} FROM pings WHERE check_uuid = ?1 AND n = ?2"
        ))?;
        Ok(stmt.query_row(params![uuid, n], ping_entry).optional()?)
    }

    fn pings(&self, uuid: &str, limit: usize) -> Result<Vec<PingEntry>> {
        let conn = self.conn.lock().unwrap_or_else(|e| e.into_inner());
        let mut stmt = conn.prepare_cached(&format!(
            "SELECT {PING_COLUMNS} FROM pings WHERE check_uuid = ?1 ORDER BY n DESC LIMIT ?2"
        ))?;
        let rows = stmt.query_map(params![uuid, limit as i64], ping_entry)?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    fn slots(
        &self,
        uuid: &str,
        from_ms: i64,
        to_ms: i64,
        limit: usize,
    ) -> Result<Vec<crate::serve::slots::SlotRow>> {
        use crate::serve::slots::{SlotRow, SlotStatus};
        let conn = self.conn.lock().unwrap_or_else(|e| e.into_inner());
        let mut stmt = conn.prepare_cached(
            "SELECT due_ms, status, ping FROM slots
             WHERE check_uuid = ?1 AND due_ms >= ?2 AND due_ms <= ?3 ORDER BY due_ms LIMIT ?4",
        )?;
        let mut rows = stmt.query(params![uuid, from_ms, to_ms, limit as i64])?;
        let mut out = Vec::new();
        while let Some(r) = rows.next()? {
            // A status this hb does not know (a newer one wrote it) is left out.
            let status = r.get_ref(1)?.as_str().ok().and_then(SlotStatus::parse);
            if let Some(status) = status {
                out.push(SlotRow {
                    due_ms: r.get(0)?,
                    status,
                    ping: r.get(2)?,
                });
            }
        }
        Ok(out)
    }

    fn flips(&self, uuid: &str, limit: usize) -> Result<Vec<FlipEntry>> {
        let conn = self.conn.lock().unwrap_or_else(|e| e.into_inner());
        let mut stmt = conn.prepare_cached(
            "SELECT at_ms, from_status, to_status, reason FROM flips WHERE check_uuid = ?1 ORDER BY id DESC LIMIT ?2",
        )?;
        let rows = stmt.query_map(params![uuid, limit as i64], |r| {
            Ok(FlipEntry {
                at_ms: r.get(0)?,
                from: r.get(1)?,
                to: r.get(2)?,
                reason: r.get(3)?,
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    fn notifications(&self, uuid: &str, limit: usize) -> Result<Vec<NotificationEntry>> {
        let conn = self.conn.lock().unwrap_or_else(|e| e.into_inner());
        let mut stmt = conn.prepare_cached(
            "SELECT event_id, event, channel, COALESCE(last_attempt_ms, created_ms), attempts, done, ok, status_code, error, suppressed
             FROM outbox WHERE check_uuid = ?1 ORDER BY id DESC LIMIT ?2",
        )?;
        let rows = stmt.query_map(params![uuid, limit as i64], |r| {
            Ok(NotificationEntry {
                event_id: r.get(0)?,
                event: r.get(1)?,
                channel: r.get(2)?,
                at_ms: r.get(3)?,
                attempts: r.get(4)?,
                done: r.get(5)?,
                ok: r.get(6)?,
                status_code: r.get(7)?,
                error: r.get(8)?,
                suppressed: r.get(9)?,
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }
}

/// Wraps a store so that its commits can be made to fail while a switch is on, as on
/// a full disk: for tests and drills of what a failed write leaves behind.
pub struct FaultyStore<S> {
    pub inner: S,
    pub fail_commits: Arc<std::sync::atomic::AtomicBool>,
}

impl<S: Store> Store for FaultyStore<S> {
    fn begin(&mut self) -> Result<()> {
        self.inner.begin()
    }

    fn apply(&mut self, ops: &[Op]) -> Result<()> {
        self.inner.apply(ops)
    }

    fn commit(&mut self) -> Result<()> {
        if self.fail_commits.load(std::sync::atomic::Ordering::SeqCst) {
            self.inner.rollback();
            anyhow::bail!("database or disk is full");
        }
        self.inner.commit()
    }

    fn rollback(&mut self) {
        self.inner.rollback()
    }

    fn shared(&self) -> bool {
        self.inner.shared()
    }

    fn apply_batch(&mut self, callers: &[&[Op]]) -> Result<bool> {
        self.inner.apply_batch(callers)
    }

    fn catch_up(&mut self) -> Result<Vec<Op>> {
        self.inner.catch_up()
    }

    fn db_now_ms(&self) -> Option<i64> {
        self.inner.db_now_ms()
    }

    fn node(&self) -> String {
        self.inner.node()
    }

    fn lead(&mut self) -> Result<bool> {
        self.inner.lead()
    }
}

/// A store in memory that can be told to fail: for tests of what a failed write
/// does (and does not) leave behind, without a full disk.
#[derive(Clone, Default)]
pub struct MemoryStore {
    /// Operations committed, in order.
    pub committed: Arc<Mutex<Vec<Op>>>,
    /// While set, every group fails at commit, as on a full disk.
    pub fail_commits: Arc<std::sync::atomic::AtomicBool>,
    /// While set, a caller whose operations include a ping for this check fails alone.
    pub fail_pings_of: Arc<Mutex<Option<String>>>,
    group: Vec<Op>,
}

impl Store for MemoryStore {
    fn begin(&mut self) -> Result<()> {
        self.group.clear();
        Ok(())
    }

    fn apply(&mut self, ops: &[Op]) -> Result<()> {
        let bad = self
            .fail_pings_of
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone();
        if let Some(bad) = bad
            && ops
                .iter()
                .any(|op| matches!(op, Op::Ping(p) if p.check_uuid == bad))
        {
            anyhow::bail!("a ping of check {bad} could not be stored");
        }
        self.group.extend_from_slice(ops);
        Ok(())
    }

    fn commit(&mut self) -> Result<()> {
        if self.fail_commits.load(std::sync::atomic::Ordering::SeqCst) {
            anyhow::bail!("database or disk is full");
        }
        self.committed
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .append(&mut self.group);
        Ok(())
    }

    fn rollback(&mut self) {
        self.group.clear();
    }
}

/// Several nodes' stores over one change log in memory, with one write lock: what the
/// PostgreSQL store does for the multi-node logic, for tests that need no database.
#[derive(Clone, Default)]
pub struct SharedLog {
    inner: Arc<(Mutex<SharedLogState>, std::sync::Condvar)>,
}

#[derive(Default)]
struct SharedLogState {
    locked: bool,
    /// (seq, node, operations), in commit order.
    changes: Vec<(i64, String, Vec<Op>)>,
}

impl SharedLog {
    /// A store of this log for node `node`, caught up to now.
    pub fn store(&self, node: &str) -> SharedMemoryStore {
        let last = self.lock().changes.last().map_or(0, |c| c.0);
        SharedMemoryStore {
            log: self.clone(),
            node: node.to_string(),
            last,
            pending: Vec::new(),
            holding: false,
        }
    }

    /// Every operation committed by any node, in order.
    pub fn committed(&self) -> Vec<Op> {
        self.lock()
            .changes
            .iter()
            .flat_map(|c| c.2.iter().cloned())
            .collect()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, SharedLogState> {
        self.inner.0.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// One node's side of a [`SharedLog`].
pub struct SharedMemoryStore {
    log: SharedLog,
    node: String,
    last: i64,
    pending: Vec<Vec<Op>>,
    holding: bool,
}

impl Store for SharedMemoryStore {
    fn begin(&mut self) -> Result<()> {
        let (lock, freed) = &*self.log.inner;
        let mut state = lock.lock().unwrap_or_else(|e| e.into_inner());
        while state.locked {
            state = freed.wait(state).unwrap_or_else(|e| e.into_inner());
        }
        state.locked = true;
        self.holding = true;
        Ok(())
    }

    fn apply(&mut self, ops: &[Op]) -> Result<()> {
        self.pending.push(ops.to_vec());
        Ok(())
    }

    fn commit(&mut self) -> Result<()> {
        let mut state = self.log.lock();
        for ops in self.pending.drain(..) {
            let seq = state.changes.last().map_or(0, |c| c.0) + 1;
            state.changes.push((seq, self.node.clone(), ops));
            self.last = seq;
        }
        state.locked = false;
        self.holding = false;
        self.log.inner.1.notify_all();
        Ok(())
    }

    fn rollback(&mut self) {
        self.pending.clear();
        if self.holding {
            self.log.lock().locked = false;
            self.holding = false;
            self.log.inner.1.notify_all();
        }
    }

    fn shared(&self) -> bool {
        true
    }

    fn catch_up(&mut self) -> Result<Vec<Op>> {
        let state = self.log.lock();
        let mut ops = Vec::new();
        let last = self.last;
        for (seq, _, change) in state.changes.iter().filter(|c| c.0 > last) {
            // What travels between nodes is what the wire format carries.
            if let Some(text) = super::wire::encode(change) {
                ops.extend(super::wire::decode(&text)?);
            }
            self.last = *seq;
        }
        Ok(ops)
    }

    fn node(&self) -> String {
        self.node.clone()
    }
}
