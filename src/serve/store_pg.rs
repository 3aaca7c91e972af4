//! PostgreSQL: the store several nodes share (see `wire` and `writer`).
//!
//! Every group takes the database-wide write lock (a transaction-scoped advisory
//! lock) in `begin`, so groups of all nodes commit one after the other; each caller's
//! operations that the other nodes keep in memory are appended to the `changes` log
//! in the same transaction, and [`Store::catch_up`] reads what was appended since.

use anyhow::{Context, Result, anyhow, bail};
use postgres::types::ToSql;
use postgres::{Client, NoTls, Statement};
use std::collections::HashMap;

use std::sync::Mutex;
use std::time::{Duration, Instant};

use super::pg_sql::{Literal, catch_up_sql, group_sql, returned_seq};
use super::store::{
    FlipEntry, History, NotificationEntry, Op, OutboxRow, PingEntry, SECRET_LEN, Snapshot, Store,
    from_hex, new_secret, to_hex,
};
use super::wire;

/// The session advisory lock held while migrations run (one node at a time).
const MIGRATION_LOCK: i64 = 0x6862_5f6d_6967; // "hb_mig"
/// The transaction advisory lock every group holds: the database-wide write lock.
pub(crate) const WRITE_LOCK: i64 = 0x6862_5f77_7269; // "hb_wri"
/// Change-log rows older than an hour are deleted: commits between two trims of the change log (or one minute, whichever is first).
const TRIM_EVERY_COMMITS: u32 = 2000;
const TRIM_EVERY: Duration = Duration::from_secs(60);
/// Idle history connections kept.
const HISTORY_POOL: usize = 4;

const MIGRATIONS: &[&str] = &[
    r#"
CREATE TABLE checks (
    uuid TEXT PRIMARY KEY,
    spec TEXT NOT NULL,
    managed BOOLEAN NOT NULL DEFAULT false,
    default_grace_ms BIGINT NOT NULL,
    state TEXT NOT NULL,
    created_ms BIGINT NOT NULL
);
CREATE TABLE pings (
    check_uuid TEXT NOT NULL,
    n BIGINT NOT NULL,
    at_ms BIGINT NOT NULL,
    kind TEXT NOT NULL,
    exit_code INTEGER,
    rid TEXT,
    remote_addr TEXT,
    user_agent TEXT,
    method TEXT NOT NULL,
    body TEXT,
    duration DOUBLE PRECISION,
    state TEXT,
    PRIMARY KEY (check_uuid, n)
);
CREATE TABLE flips (
    id BIGSERIAL PRIMARY KEY,
    check_uuid TEXT NOT NULL,
    at_ms BIGINT NOT NULL,
    from_status TEXT NOT NULL,
    to_status TEXT NOT NULL,
    reason TEXT NOT NULL
);
CREATE INDEX flips_by_check ON flips (check_uuid, id);
CREATE TABLE channels (
    name TEXT PRIMARY KEY,
    config TEXT NOT NULL,
    managed BOOLEAN NOT NULL DEFAULT false
);
CREATE TABLE outbox (
    id BIGINT PRIMARY KEY,
    event_id TEXT NOT NULL,
    event TEXT NOT NULL,
    channel TEXT NOT NULL,
    check_uuid TEXT,
    payload TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_ms BIGINT NOT NULL,
    last_attempt_ms BIGINT,
    done BOOLEAN NOT NULL DEFAULT false,
    ok BOOLEAN NOT NULL DEFAULT false,
    status_code INTEGER,
    error TEXT,
    created_ms BIGINT NOT NULL,
    lease_node TEXT,
    lease_until_ms BIGINT
);
CREATE INDEX outbox_by_check ON outbox (check_uuid, id);
CREATE INDEX outbox_pending ON outbox (id) WHERE NOT done;
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE changes (
    seq BIGSERIAL PRIMARY KEY,
    node TEXT NOT NULL,
    at TIMESTAMPTZ NOT NULL DEFAULT now(),
    ops TEXT NOT NULL
);
CREATE INDEX changes_by_time ON changes (at);
"#,
    // Maintenance windows, held alerts in the notification list, slot outcomes (§6).
    r#"
CREATE TABLE maintenance (
    name TEXT PRIMARY KEY,
    spec TEXT NOT NULL,
    managed BOOLEAN NOT NULL DEFAULT false
);
ALTER TABLE outbox ADD COLUMN suppressed TEXT;
CREATE TABLE slots (
    check_uuid TEXT NOT NULL,
    due_ms BIGINT NOT NULL,
    status TEXT NOT NULL,
    ping BIGINT,
    PRIMARY KEY (check_uuid, due_ms)
);
"#,
    // The lease on running the deadline engine and the outbox (one node at a time).
    "CREATE TABLE leader (id INTEGER PRIMARY KEY, node TEXT NOT NULL, until_ms BIGINT NOT NULL);",
];

/// Whether `--db` names a PostgreSQL database rather than a SQLite file.
pub fn is_postgres_url(db: &str) -> bool {
    db.starts_with("postgres://") || db.starts_with("postgresql://")
}

/// This process's name among the nodes: `<hostname>-<pid>-<4 random hex>`.
pub fn node_id() -> String {
    let mut buf = [0u8; 256];
    // SAFETY: gethostname writes at most `len` bytes into the buffer.
    let host = if unsafe { libc::gethostname(buf.as_mut_ptr().cast(), buf.len()) } == 0 {
        let end = buf.iter().position(|&b| b == 0).unwrap_or(buf.len());
        String::from_utf8_lossy(&buf[..end]).into_owned()
    } else {
        "hb".into()
    };
    format!("{host}-{}-{:04x}", std::process::id(), fastrand::u16(..))
}

/// The database's name for messages: the URL with any password masked.
pub fn masked(url: &str) -> String {
    if let Some((scheme, rest)) = url.split_once("://") {
        let (authority, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
        if let Some((userinfo, host)) = authority.rsplit_once('@')
            && let Some((user, _)) = userinfo.split_once(':')
        {
            return format!("{scheme}://{user}:****@{host}{path}");
        }
        return url.to_string();
    }
    // key=value form: hide password=...
    url.split_whitespace()
        .map(|kv| {
            if kv.starts_with("password=") {
                "password=****".to_string()
            } else {
                kv.to_string()
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

fn parse_config(url: &str) -> Result<postgres::Config> {
    let mut config: postgres::Config = url.parse().map_err(|e| {
        anyhow!(
            "the database URL {} cannot be read ({e}); write it as postgres://USER@HOST:PORT/DB",
            masked(url)
        )
    })?;
    if config.get_connect_timeout().is_none() {
        config.connect_timeout(Duration::from_secs(5));
    }
    config.keepalives(true);
    config.keepalives_idle(Duration::from_secs(30));
    if config.get_application_name().is_none() {
        config.application_name("hb");
    }
    Ok(config)
}

/// One connection and the statements prepared on it.
struct Conn {
    client: Client,
    statements: HashMap<&'static str, Statement>,
}

impl Conn {
    fn connect(config: &postgres::Config) -> std::result::Result<Conn, postgres::Error> {
        let mut client = config.connect(NoTls)?;
        // Literals in batched statements rely on the first; the others bound how long a
        // node frozen inside a group (holding the write lock) or a stuck statement can
        // hold up every node: the database ends such a session, and the frozen node's
        // commit fails (its outcome then comes back through the change log).
        client.batch_execute(
            "SET standard_conforming_strings = on;
             SET idle_in_transaction_session_timeout = '5s';
             SET statement_timeout = '30s'",
        )?;
        Ok(Conn {
            client,
            statements: HashMap::new(),
        })
    }

    fn prepared(&mut self, sql: &'static str) -> std::result::Result<Statement, postgres::Error> {
        if let Some(s) = self.statements.get(sql) {
            return Ok(s.clone());
        }
        let s = self.client.prepare(sql)?;
        self.statements.insert(sql, s.clone());
        Ok(s)
    }

    fn execute(
        &mut self,
        sql: &'static str,
        params: &[&(dyn ToSql + Sync)],
    ) -> std::result::Result<u64, postgres::Error> {
        let s = self.prepared(sql)?;
        self.client.execute(&s, params)
    }

    fn query(
        &mut self,
        sql: &'static str,
        params: &[&(dyn ToSql + Sync)],
    ) -> std::result::Result<Vec<postgres::Row>, postgres::Error> {
        let s = self.prepared(sql)?;
        self.client.query(&s, params)
    }
}

/// A postgres client owns a small runtime of its own, which must not be dropped on an
/// async thread: there it is handed to a plain thread to close.
fn dispose<T: Send + 'static>(thing: T) {
    if tokio::runtime::Handle::try_current().is_ok() {
        let _ = std::thread::Builder::new()
            .name("hb-pg-close".into())
            .spawn(move || drop(thing));
    } else {
        drop(thing);
    }
}

const CLOCK_SQL: &str = "SELECT (extract(epoch from clock_timestamp()) * 1000)::bigint";

/// The writer's side: one connection, reopened when it breaks.
pub struct PgStore {
    config: postgres::Config,
    name: String,
    node: String,
    conn: Option<Conn>,
    /// After a failed commit: open a new connection before the next group.
    suspect: bool,
    in_tx: bool,
    /// A statement failed outside a savepoint: the transaction can only roll back.
    aborted: bool,
    last_seq: i64,
    /// Change-log rows written by the open group.
    pending: Vec<i64>,
    db_now: Option<i64>,
    commits_since_trim: u32,
    last_trim: Instant,
    /// The change-log rows read by `begin` in the same round trip, for `catch_up`.
    prefetched: Option<Vec<(i64, String)>>,
}

/// The readers' side: a few connections, made on demand.
pub struct PgHistory {
    config: postgres::Config,
    name: String,
    pool: Mutex<Vec<Conn>>,
}

/// Opens (migrating if needed) the database; returns the writer side, the reader side
/// and what is stored.
pub fn open_postgres(url: &str, node: &str) -> Result<(PgStore, PgHistory, Snapshot)> {
    let name = masked(url);
    let config = parse_config(url)?;
    let mut conn = Conn::connect(&config).map_err(|e| {
        anyhow!(
            "cannot connect to the database {name} ({}); check that PostgreSQL is running there and that the URL, user and password are right",
            pg_error(&e)
        )
    })?;
    migrate(&mut conn.client).map_err(|e| {
        anyhow!("cannot prepare the database {name} ({e:#}); check that the user may create tables there")
    })?;
    let secret = start_up(&mut conn.client).map_err(|e| {
        anyhow!("cannot write to the database {name} ({e:#}); check that the user may write there and that the database is not read-only")
    })?;
    let (mut snapshot, last_seq) = load(&mut conn.client)
        .map_err(|e| anyhow!("cannot read the database {name} ({e:#}); check the user's rights"))?;
    snapshot.secret = secret;
    let store = PgStore {
        config: config.clone(),
        name: name.clone(),
        node: node.to_string(),
        conn: Some(conn),
        suspect: false,
        in_tx: false,
        aborted: false,
        last_seq,
        pending: Vec::new(),
        db_now: None,
        commits_since_trim: 0,
        last_trim: Instant::now(),
        prefetched: None,
    };
    let history = PgHistory {
        config,
        name,
        pool: Mutex::new(Vec::new()),
    };
    Ok((store, history, snapshot))
}

/// A postgres error with the server's words, when it sent some.
fn pg_error(e: &postgres::Error) -> String {
    match e.as_db_error() {
        Some(db) => db.message().to_string(),
        None => {
            let mut text = e.to_string();
            let mut source = std::error::Error::source(e);
            while let Some(s) = source {
                text.push_str(": ");
                text.push_str(&s.to_string());
                source = s.source();
            }
            text
        }
    }
}

/// Runs the migrations this database lacks, under a session advisory lock so that
/// nodes starting together run them one at a time.
pub(crate) fn migrate(client: &mut Client) -> Result<()> {
    client.execute("SELECT pg_advisory_lock($1)", &[&MIGRATION_LOCK])?;
    let result = migrate_locked(client);
    let unlocked = client.execute("SELECT pg_advisory_unlock($1)", &[&MIGRATION_LOCK]);
    result?;
    unlocked?;
    Ok(())
}

fn migrate_locked(client: &mut Client) -> Result<()> {
    // Created only when missing, so that an up-to-date database is not written here
    // (a read-only one is then reported by the start-up probe, in those words).
    let exists: bool = client
        .query_one("SELECT to_regclass('schema_version') IS NOT NULL", &[])?
        .get(0);
    if !exists {
        client.batch_execute("CREATE TABLE schema_version (version INTEGER NOT NULL)")?;
    }
    let version: i32 = client
        .query_one("SELECT COALESCE(max(version), 0) FROM schema_version", &[])?
        .get(0);
    let version = version.max(0) as usize;
    if version > MIGRATIONS.len() {
        bail!(
            "the database was written by a newer hb (schema {version}, this hb knows {}); upgrade hb",
            MIGRATIONS.len()
        );
    }
    for (i, sql) in MIGRATIONS.iter().enumerate().skip(version) {
        let mut tx = client.transaction()?;
        tx.batch_execute(sql)?;
        tx.execute(
            "INSERT INTO schema_version (version) VALUES ($1)",
            &[&((i + 1) as i32)],
        )?;
        tx.commit()?;
    }
    Ok(())
}

/// The writability probe and the secret (made once; nodes starting together agree).
fn start_up(client: &mut Client) -> Result<Vec<u8>> {
    let now = jiff::Timestamp::now().as_millisecond().to_string();
    client.execute(
        "INSERT INTO meta (key, value) VALUES ('started_ms', $1)
         ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value",
        &[&now],
    )?;
    let fresh = to_hex(&new_secret()?);
    client.execute(
        "INSERT INTO meta (key, value) VALUES ('secret', $1) ON CONFLICT (key) DO NOTHING",
        &[&fresh],
    )?;
    let stored: String = client
        .query_one("SELECT value FROM meta WHERE key = 'secret'", &[])?
        .get(0);
    if let Some(bytes) = from_hex(&stored)
        && bytes.len() == SECRET_LEN
    {
        return Ok(bytes);
    }
    // Unreadable: replace it, unless another node just did.
    client.execute(
        "UPDATE meta SET value = $1 WHERE key = 'secret' AND value = $2",
        &[&fresh, &stored],
    )?;
    let stored: String = client
        .query_one("SELECT value FROM meta WHERE key = 'secret'", &[])?
        .get(0);
    from_hex(&stored)
        .filter(|b| b.len() == SECRET_LEN)
        .ok_or_else(|| anyhow!("the stored secret is not {SECRET_LEN} bytes of hex"))
}

fn outbox_row(r: &postgres::Row) -> OutboxRow {
    OutboxRow {
        id: r.get(0),
        event_id: r.get(1),
        event: r.get(2),
        channel: r.get(3),
        check_uuid: r.get(4),
        payload: r.get(5),
        attempts: r.get::<_, i32>(6).max(0) as u32,
        next_attempt_ms: r.get(7),
        created_ms: r.get(8),
    }
}

/// Everything memory needs, and the change-log position it corresponds to, read in
/// one consistent snapshot.
fn load(client: &mut Client) -> Result<(Snapshot, i64)> {
    let mut tx = client
        .build_transaction()
        .isolation_level(postgres::IsolationLevel::RepeatableRead)
        .read_only(true)
        .start()?;
    let checks: Vec<_> = tx
        .query(
            "SELECT uuid, spec, managed, default_grace_ms, state, created_ms FROM checks ORDER BY created_ms, uuid",
            &[],
        )?
        .iter()
        .map(|r| super::store::CheckRow {
            uuid: r.get(0),
            spec: r.get(1),
            managed: r.get(2),
            default_grace_ms: r.get(3),
            state: r.get(4),
            created_ms: r.get(5),
        })
        .collect();
    let mut snapshot = Snapshot {
        checks,
        ..Default::default()
    };
    snapshot.channels = tx
        .query(
            "SELECT name, config, managed FROM channels ORDER BY name",
            &[],
        )?
        .iter()
        .map(|r| (r.get(0), r.get(1), r.get(2)))
        .collect();
    snapshot.pending = tx
        .query(
            "SELECT id, event_id, event, channel, check_uuid, payload, attempts, next_attempt_ms, created_ms
             FROM outbox WHERE NOT done ORDER BY id",
            &[],
        )?
        .iter()
        .map(outbox_row)
        .collect();
    for r in tx.query(
        "SELECT id, lease_node, lease_until_ms FROM outbox
         WHERE NOT done AND lease_node IS NOT NULL AND lease_until_ms IS NOT NULL",
        &[],
    )? {
        snapshot
            .leases
            .insert(r.get(0), (r.get::<_, String>(1), r.get::<_, i64>(2)));
    }
    snapshot.windows = tx
        .query(
            "SELECT name, spec, managed FROM maintenance ORDER BY name",
            &[],
        )?
        .iter()
        .map(|r| (r.get(0), r.get(1), r.get(2)))
        .collect();
    snapshot.max_outbox_id = tx
        .query_one("SELECT COALESCE(max(id), 0)::bigint FROM outbox", &[])?
        .get(0);
    let last_seq: i64 = tx
        .query_one(
            "SELECT GREATEST(
                 (SELECT COALESCE(max(seq), 0) FROM changes),
                 (SELECT COALESCE(max(value::bigint), 0) FROM meta WHERE key = 'changes_trimmed_through'))",
            &[],
        )?
        .get(0);
    tx.commit()?;
    Ok((snapshot, last_seq))
}

impl PgStore {
    /// The connection, (re)opened when it is closed or suspect.
    fn conn(&mut self) -> Result<&mut Conn> {
        let stale = self.suspect || self.conn.as_ref().is_none_or(|c| c.client.is_closed());
        if stale {
            if let Some(old) = self.conn.take() {
                dispose(old);
            }
            self.suspect = false;
            let conn = Conn::connect(&self.config).map_err(|e| {
                anyhow!(
                    "cannot reconnect to the database {} ({})",
                    self.name,
                    pg_error(&e)
                )
            })?;
            self.conn = Some(conn);
        }
        Ok(self.conn.as_mut().expect("connected above"))
    }

    fn broken(&mut self, e: postgres::Error) -> anyhow::Error {
        if self.conn.as_ref().is_none_or(|c| c.client.is_closed()) {
            self.suspect = true;
        }
        anyhow!("{}", pg_error(&e))
    }

    /// The operations of change-log rows read (seq, ops), oldest first; an error when
    /// rows this node had not read were trimmed (seq -1 carries the trim mark).
    fn replayable(&mut self, rows: Vec<(i64, String)>) -> Result<Vec<Op>> {
        let last = self.last_seq;
        let mut ops = Vec::new();
        for (seq, text) in rows {
            if seq < 0 {
                let trimmed: i64 = text.parse().unwrap_or(0);
                if trimmed > last {
                    bail!(
                        "this node fell too far behind the shared database {} (changes up to {trimmed} were trimmed, it had read up to {last}); it must restart to reload",
                        self.name
                    );
                }
                continue;
            }
            ops.extend(wire::decode(&text)?);
            self.last_seq = self.last_seq.max(seq);
        }
        Ok(ops)
    }

    /// Applies callers' operations in one round trip, inside a savepoint: on an error
    /// none of them stays, and the group goes on.
    fn apply_in_savepoint(&mut self, savepoint: &str, callers: &[&[Op]]) -> Result<()> {
        if !self.in_tx {
            bail!("internal error: a change was applied outside a group");
        }
        let sql = format!(
            "SAVEPOINT {savepoint};\n{}RELEASE SAVEPOINT {savepoint};",
            group_sql(&self.node, callers)
        );
        let conn = self.conn.as_mut().ok_or_else(|| anyhow!("not connected"))?;
        match conn.client.simple_query(&sql) {
            Ok(messages) => {
                self.pending.extend(returned_seq(&messages));
                Ok(())
            }
            Err(e) => {
                if conn
                    .client
                    .batch_execute(&format!(
                        "ROLLBACK TO SAVEPOINT {savepoint}; RELEASE SAVEPOINT {savepoint}"
                    ))
                    .is_err()
                {
                    self.aborted = true;
                }
                Err(self.broken(e))
            }
        }
    }

    /// Deletes change-log rows older than [`CHANGES_KEPT`], inside the group (which
    /// holds the write lock), in a savepoint of its own: a failed trim fails nothing.
    fn trim_changes(&mut self) {
        self.commits_since_trim = 0;
        self.last_trim = Instant::now();
        let Ok(conn) = self.conn() else { return };
        let trimmed = (|| -> std::result::Result<(), postgres::Error> {
            conn.client.batch_execute("SAVEPOINT trim")?;
            conn.execute(
                "WITH d AS (DELETE FROM changes WHERE at < now() - interval '1 hour' RETURNING seq)
                 INSERT INTO meta (key, value)
                 SELECT 'changes_trimmed_through', max(seq)::text FROM d HAVING max(seq) IS NOT NULL
                 ON CONFLICT (key) DO UPDATE SET value =
                     GREATEST(meta.value::bigint, EXCLUDED.value::bigint)::text",
                &[],
            )?;
            conn.client.batch_execute("RELEASE SAVEPOINT trim")
        })();
        if trimmed.is_err() {
            let _ = conn
                .client
                .batch_execute("ROLLBACK TO SAVEPOINT trim; RELEASE SAVEPOINT trim");
        }
    }
}

impl Drop for PgStore {
    fn drop(&mut self) {
        if let Some(conn) = self.conn.take() {
            dispose(conn);
        }
    }
}

impl Store for PgStore {
    fn shared(&self) -> bool {
        true
    }

    fn begin(&mut self) -> Result<()> {
        self.pending.clear();
        self.aborted = false;
        self.prefetched = None;
        let last = self.last_seq;
        let conn = self.conn()?;
        // One round trip: the transaction, the write lock, the database's clock, and
        // what the other nodes committed since this node last looked.
        let sql = format!(
            "BEGIN; SELECT pg_advisory_xact_lock({WRITE_LOCK}); {CLOCK_SQL} AS now_ms; {CATCH_UP_SQL}",
            CATCH_UP_SQL = catch_up_sql(last)
        );
        let began = conn.client.simple_query(&sql);
        self.in_tx = true; // so that a rollback cleans up, whatever happened
        let messages = match began {
            Ok(messages) => messages,
            Err(e) => return Err(self.broken(e)),
        };
        let mut rows = Vec::new();
        for message in &messages {
            if let postgres::SimpleQueryMessage::Row(row) = message {
                match row.columns().first().map(|c| c.name()) {
                    Some("now_ms") => self.db_now = row.get(0).and_then(|v| v.parse().ok()),
                    Some("seq") => rows.push((
                        row.get(0).and_then(|v| v.parse().ok()).unwrap_or(0),
                        row.get(1).unwrap_or_default().to_string(),
                    )),
                    _ => {}
                }
            }
        }
        self.prefetched = Some(rows);
        if self.commits_since_trim >= TRIM_EVERY_COMMITS || self.last_trim.elapsed() >= TRIM_EVERY {
            self.trim_changes();
        }
        Ok(())
    }

    fn catch_up(&mut self) -> Result<Vec<Op>> {
        if self.in_tx
            && let Some(rows) = self.prefetched.take()
        {
            return self.replayable(rows);
        }
        let in_tx = self.in_tx;
        let sql = if in_tx {
            catch_up_sql(self.last_seq)
        } else {
            format!("{CLOCK_SQL} AS now_ms; {}", catch_up_sql(self.last_seq))
        };
        let conn = self.conn()?;
        let messages = match conn.client.simple_query(&sql) {
            Ok(messages) => messages,
            Err(e) => {
                if in_tx {
                    self.aborted = true;
                }
                return Err(self.broken(e));
            }
        };
        let mut rows = Vec::new();
        for message in &messages {
            if let postgres::SimpleQueryMessage::Row(row) = message {
                match row.columns().first().map(|c| c.name()) {
                    Some("now_ms") => self.db_now = row.get(0).and_then(|v| v.parse().ok()),
                    Some("seq") => rows.push((
                        row.get(0).and_then(|v| v.parse().ok()).unwrap_or(0),
                        row.get(1).unwrap_or_default().to_string(),
                    )),
                    _ => {}
                }
            }
        }
        self.replayable(rows)
    }

    fn apply(&mut self, ops: &[Op]) -> Result<()> {
        self.apply_in_savepoint("caller", &[ops])
    }

    fn apply_batch(&mut self, callers: &[&[Op]]) -> Result<bool> {
        self.apply_in_savepoint("grp", callers)?;
        Ok(true)
    }

    fn commit(&mut self) -> Result<()> {
        let pending = std::mem::take(&mut self.pending);
        if !self.in_tx {
            bail!("internal error: a commit outside a group");
        }
        if self.aborted {
            bail!(
                "the transaction on the database {} failed and was rolled back",
                self.name
            );
        }
        let conn = self.conn.as_mut().ok_or_else(|| anyhow!("not connected"))?;
        match conn.client.batch_execute("COMMIT") {
            Ok(()) => {
                self.in_tx = false;
                if let Some(max) = pending.iter().max() {
                    self.last_seq = self.last_seq.max(*max);
                }
                self.commits_since_trim += 1;
                Ok(())
            }
            Err(e) => {
                // The outcome is unknown: a new connection, and the log tells.
                self.in_tx = false;
                self.suspect = true;
                Err(anyhow!(
                    "cannot commit to the database {} ({})",
                    self.name,
                    pg_error(&e)
                ))
            }
        }
    }

    fn rollback(&mut self) {
        self.pending.clear();
        self.aborted = false;
        if self.in_tx {
            self.in_tx = false;
            if let Some(conn) = self.conn.as_mut()
                && conn.client.batch_execute("ROLLBACK").is_err()
            {
                self.suspect = true;
            }
        }
    }

    fn db_now_ms(&self) -> Option<i64> {
        self.db_now
    }

    fn node(&self) -> String {
        self.node.clone()
    }

    fn lead(&mut self) -> Result<bool> {
        if self.in_tx {
            bail!("internal error: the lead lease was asked for inside a group");
        }
        let mut me = String::new();
        self.node.lit(&mut me);
        let lease = super::store::LEAD_LEASE.as_millis();
        // Taken when free or lapsed (on the database's clock), renewed when ours.
        let sql = format!(
            "INSERT INTO leader (id, node, until_ms)
             VALUES (1, {me}, (extract(epoch from clock_timestamp()) * 1000)::bigint + {lease})
             ON CONFLICT (id) DO UPDATE SET node = EXCLUDED.node, until_ms = EXCLUDED.until_ms
             WHERE leader.node = EXCLUDED.node OR leader.until_ms < EXCLUDED.until_ms - {lease}
             RETURNING node"
        );
        let conn = self.conn()?;
        match conn.client.simple_query(&sql) {
            Ok(messages) => Ok(messages
                .iter()
                .any(|m| matches!(m, postgres::SimpleQueryMessage::Row(_)))),
            Err(e) => Err(self.broken(e)),
        }
    }
}

fn ping_entry(r: &postgres::Row) -> PingEntry {
    PingEntry {
        n: r.get(0),
        at_ms: r.get(1),
        kind: r.get(2),
        exit_code: r.get::<_, Option<i32>>(3).map(i64::from),
        rid: r.get(4),
        remote_addr: r.get(5),
        user_agent: r.get(6),
        method: r.get(7),
        body: r.get(8),
        duration: r.get(9),
    }
}

impl PgHistory {
    /// Runs `f` on a pooled connection; the pool's lock is not held meanwhile. A
    /// connection that failed is dropped, not given back.
    fn with<T>(
        &self,
        f: impl FnOnce(&mut Conn) -> std::result::Result<T, postgres::Error>,
    ) -> Result<T> {
        let taken = self.pool.lock().unwrap_or_else(|e| e.into_inner()).pop();
        let mut conn = match taken {
            Some(c) if !c.client.is_closed() => c,
            other => {
                if let Some(old) = other {
                    dispose(old);
                }
                Conn::connect(&self.config).map_err(|e| {
                    anyhow!(
                        "cannot connect to the database {} ({})",
                        self.name,
                        pg_error(&e)
                    )
                })?
            }
        };
        match f(&mut conn) {
            Ok(v) => {
                let mut pool = self.pool.lock().unwrap_or_else(|e| e.into_inner());
                if pool.len() < HISTORY_POOL {
                    pool.push(conn);
                    drop(pool);
                } else {
                    drop(pool);
                    dispose(conn);
                }
                Ok(v)
            }
            Err(e) => {
                dispose(conn);
                Err(anyhow!("{}", pg_error(&e))
                    .context(format!("cannot read the database {}", self.name)))
            }
        }
    }
}

impl Drop for PgHistory {
    fn drop(&mut self) {
        let conns = std::mem::take(self.pool.get_mut().unwrap_or_else(|e| e.into_inner()));
        if !conns.is_empty() {
            dispose(conns);
        }
    }
}

const PING_COLUMNS_SQL: &str =
    "SELECT n, at_ms, kind, exit_code, rid, remote_addr, user_agent, method, body, duration
     FROM pings WHERE check_uuid = $1 ORDER BY n DESC LIMIT $2";

impl History for PgHistory {
    fn ping_times(&self, uuid: &str, limit: usize) -> Result<Vec<PingEntry>> {
        let limit = limit as i64;
        self.with(|c| {
            Ok(c.query(
                "SELECT n, at_ms, kind, exit_code, rid, NULL::text, NULL::text, method, NULL::text, duration
                 FROM pings WHERE check_uuid = $1 ORDER BY n DESC LIMIT $2",
                &[&uuid, &limit],
            )?
            .iter()
            .map(ping_entry)
            .collect())
        })
    }

    fn ping(&self, uuid: &str, n: i64) -> Result<Option<PingEntry>> {
        self.with(|c| {
            Ok(c.query(
                "SELECT n, at_ms, kind, exit_code, rid, remote_addr, user_agent, method, body, duration
                 FROM pings WHERE check_uuid = $1 AND n = $2",
                &[&uuid, &n],
            )?
            .first()
            .map(ping_entry))
        })
    }

    fn pings(&self, uuid: &str, limit: usize) -> Result<Vec<PingEntry>> {
        let limit = limit as i64;
        self.with(|c| {
            Ok(c.query(PING_COLUMNS_SQL, &[&uuid, &limit])?
                .iter()
                .map(ping_entry)
                .collect())
        })
    }

    fn flips(&self, uuid: &str, limit: usize) -> Result<Vec<FlipEntry>> {
        let limit = limit as i64;
        self.with(|c| {
            Ok(c.query(
                "SELECT at_ms, from_status, to_status, reason FROM flips WHERE check_uuid = $1 ORDER BY id DESC LIMIT $2",
                &[&uuid, &limit],
            )?
            .iter()
            .map(|r| FlipEntry {
                at_ms: r.get(0),
                from: r.get(1),
                to: r.get(2),
                reason: r.get(3),
            })
            .collect())
        })
    }

    fn notifications(&self, uuid: &str, limit: usize) -> Result<Vec<NotificationEntry>> {
        let limit = limit as i64;
        self.with(|c| {
            Ok(c.query(
                "SELECT event_id, event, channel, COALESCE(last_attempt_ms, created_ms), attempts, done, ok, status_code, error, suppressed
                 FROM outbox WHERE check_uuid = $1 ORDER BY id DESC LIMIT $2",
                &[&uuid, &limit],
            )?
            .iter()
            .map(|r| NotificationEntry {
                event_id: r.get(0),
                event: r.get(1),
                channel: r.get(2),
                at_ms: r.get(3),
                attempts: i64::from(r.get::<_, i32>(4)),
                done: r.get(5),
                ok: r.get(6),
                status_code: r.get::<_, Option<i32>>(7).map(i64::from),
                error: r.get(8),
                suppressed: r.get(9),
            })
            .collect())
        })
    }

    fn outbox_payload(&self, id: i64) -> Result<Option<String>> {
        self.with(|c| {
            Ok(c.query("SELECT payload FROM outbox WHERE id = $1", &[&id])?
                .first()
                .map(|r| r.get(0)))
        })
    }

    fn slots(
        &self,
        uuid: &str,
        from_ms: i64,
        to_ms: i64,
        limit: usize,
    ) -> Result<Vec<crate::serve::slots::SlotRow>> {
        use crate::serve::slots::{SlotRow, SlotStatus};
        let limit = limit as i64;
        self.with(|c| {
            Ok(c.query(
                "SELECT due_ms, status, ping FROM slots
                 WHERE check_uuid = $1 AND due_ms >= $2 AND due_ms <= $3 ORDER BY due_ms LIMIT $4",
                &[&uuid, &from_ms, &to_ms, &limit],
            )?
            .iter()
            // A status this hb does not know (a newer one wrote it) is left out.
            .filter_map(|r| {
                SlotStatus::parse(r.get::<_, &str>(1)).map(|status| SlotRow {
                    due_ms: r.get(0),
                    status,
                    ping: r.get(2),
                })
            })
            .collect())
        })
    }
}

/// Opens a connection for `hb db copy` (no snapshot, no probe), after migrating.
pub(crate) fn connect_for_copy(url: &str) -> Result<Client> {
    let name = masked(url);
    let config = parse_config(url)?;
    let mut client = config.connect(NoTls).map_err(|e| {
        anyhow!(
            "cannot connect to the database {name} ({}); check that PostgreSQL is running there and that the URL, user and password are right",
            pg_error(&e)
        )
    })?;
    migrate(&mut client).with_context(|| format!("cannot prepare the database {name}"))?;
    Ok(client)
}
