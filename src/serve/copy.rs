//! `hb db copy FROM TO`: moves a monitor between SQLite and PostgreSQL (either way,
//! or between two of the same kind). Everything is read from the source, then written
//! to the target in one transaction, after the target's migrations.

use anyhow::{Context, Result, anyhow};
use std::path::Path;

use super::store::{self, state_seq};
use super::store_pg::{self, is_postgres_url, masked};
use crate::cli::{DbArgs, DbCommand};
use crate::error::Error;

struct Check {
    uuid: String,
    spec: String,
    managed: bool,
    default_grace_ms: i64,
    state: String,
    created_ms: i64,
}

struct Ping {
    check_uuid: String,
    n: i64,
    at_ms: i64,
    kind: String,
    exit_code: Option<i64>,
    rid: Option<String>,
    remote_addr: Option<String>,
    user_agent: Option<String>,
    method: String,
    body: Option<String>,
    duration: Option<f64>,
    state: Option<String>,
}

struct Flip {
    id: i64,
    check_uuid: String,
    at_ms: i64,
    from: String,
    to: String,
    reason: String,
}

struct Outbox {
    id: i64,
    event_id: String,
    event: String,
    channel: String,
    check_uuid: Option<String>,
    payload: String,
    attempts: i64,
    next_attempt_ms: i64,
    last_attempt_ms: Option<i64>,
    done: bool,
    ok: bool,
    status_code: Option<i64>,
    error: Option<String>,
    created_ms: i64,
    suppressed: Option<String>,
}

/// Everything a monitor stores.
#[derive(Default)]
struct Tables {
    checks: Vec<Check>,
    pings: Vec<Ping>,
    flips: Vec<Flip>,
    channels: Vec<(String, String, bool)>,
    outbox: Vec<Outbox>,
    meta: Vec<(String, String)>,
    /// Maintenance windows: (name, spec, managed).
    windows: Vec<(String, String, bool)>,
    /// Slot outcomes: (check, due ms, status, end ping).
    slots: Vec<(String, i64, String, Option<i64>)>,
}

/// Meta keys that describe one database, not the monitor.
const LOCAL_META: &[&str] = &["changes_trimmed_through"];

impl Tables {
    /// Each check's state on its own row (SQLite keeps the newest on its newest ping).
    fn settle_states(&mut self) {
        let mut newest: std::collections::HashMap<&str, (i64, &str)> = Default::default();
        for p in &self.pings {
            if let Some(state) = &p.state {
                let e = newest.entry(&p.check_uuid).or_insert((p.n, state));
                if p.n >= e.0 {
                    *e = (p.n, state);
                }
            }
        }
        let newer: Vec<(usize, String)> = self
            .checks
            .iter()
            .enumerate()
            .filter_map(|(i, c)| {
                let (_, from_ping) = newest.get(c.uuid.as_str())?;
                (state_seq(from_ping) > state_seq(&c.state)).then(|| (i, from_ping.to_string()))
            })
            .collect();
        for (i, state) in newer {
            self.checks[i].state = state;
        }
        for p in &mut self.pings {
            p.state = None;
        }
        self.meta.retain(|(k, _)| !LOCAL_META.contains(&k.as_str()));
    }

    fn summary(&self) -> String {
        let done = self.outbox.iter().filter(|o| o.done).count();
        format!(
            "{}, {}, {}, {}, {} ({done} done), {}, {} and {}",
            super::plural(self.checks.len(), "check"),
            super::plural(self.pings.len(), "ping"),
            super::plural(self.flips.len(), "flip"),
            super::plural(self.channels.len(), "channel"),
            super::plural(self.outbox.len(), "delivery").replace("deliverys", "deliveries"),
            super::plural(self.windows.len(), "maintenance window"),
            super::plural(self.slots.len(), "slot outcome"),
            super::plural(self.meta.len(), "meta entry").replace("entrys", "entries"),
        )
    }
}

/// `hb db …`.
pub fn cmd_db(args: DbArgs) -> crate::error::Result<()> {
    match args.command {
        DbCommand::Copy { from, to } => {
            let line = copy(&from, &to)?;
            println!("{line}");
            Ok(())
        }
    }
}

fn name(db: &str) -> String {
    if is_postgres_url(db) {
        masked(db)
    } else {
        db.to_string()
    }
}

/// Copies `from` into `to`; the summary line.
pub fn copy(from: &str, to: &str) -> crate::error::Result<String> {
    let mut tables = if is_postgres_url(from) {
        let mut client = store_pg::connect_for_copy(from).map_err(Error::Failed)?;
        read_pg(&mut client)
            .with_context(|| format!("cannot read the database {}", name(from)))
            .map_err(Error::Failed)?
    } else {
        let path = Path::new(from);
        if !path.is_file() {
            return Err(Error::Failed(anyhow!(
                "the source database {from} does not exist; give the path of hb serve's SQLite file (its --db)"
            )));
        }
        let conn = store::open_plain(path).map_err(Error::Failed)?;
        read_sqlite(&conn)
            .with_context(|| format!("cannot read the database {from}"))
            .map_err(Error::Failed)?
    };
    tables.settle_states();
    let refuse = |n_checks: i64, n_channels: i64| {
        Error::Invalid(format!(
            "the target database {} already holds {} and {}; copy into an empty database, or remove them first",
            name(to),
            super::plural(n_checks as usize, "check"),
            super::plural(n_channels as usize, "channel"),
        ))
    };
    if is_postgres_url(to) {
        let mut client = store_pg::connect_for_copy(to).map_err(Error::Failed)?;
        let mut tx = client
            .transaction()
            .with_context(|| format!("cannot write to the database {}", name(to)))
            .map_err(Error::Failed)?;
        // Nodes running on the target wait (they should not be running at all).
        tx.execute("SELECT pg_advisory_xact_lock($1)", &[&store_pg::WRITE_LOCK])
            .map_err(|e| Error::Failed(e.into()))?;
        let row = tx
            .query_one(
                "SELECT (SELECT count(*) FROM checks), (SELECT count(*) FROM channels)",
                &[],
            )
            .map_err(|e| Error::Failed(e.into()))?;
        let (checks, channels): (i64, i64) = (row.get(0), row.get(1));
        if checks > 0 || channels > 0 {
            return Err(refuse(checks, channels));
        }
        write_pg(&mut tx, &tables)
            .and_then(|()| Ok(tx.commit()?))
            .with_context(|| format!("cannot write to the database {}", name(to)))
            .map_err(Error::Failed)?;
    } else {
        let mut conn = store::open_plain(Path::new(to)).map_err(Error::Failed)?;
        let tx = conn
            .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
            .with_context(|| format!("cannot write to the database {to}"))
            .map_err(Error::Failed)?;
        let (checks, channels): (i64, i64) = tx
            .query_row(
                "SELECT (SELECT count(*) FROM checks), (SELECT count(*) FROM channels)",
                [],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .map_err(|e| Error::Failed(e.into()))?;
        if checks > 0 || channels > 0 {
            return Err(refuse(checks, channels));
        }
        write_sqlite(&tx, &tables)
            .and_then(|()| Ok(tx.commit()?))
            .with_context(|| format!("cannot write to the database {to}"))
            .map_err(Error::Failed)?;
    }
    Ok(format!(
        "copied {} from {} to {}",
        tables.summary(),
        name(from),
        name(to)
    ))
}

fn read_sqlite(conn: &rusqlite::Connection) -> Result<Tables> {
    let mut t = Tables::default();
    let mut stmt = conn.prepare(
        "SELECT uuid, spec, managed, default_grace_ms, state, created_ms FROM checks ORDER BY created_ms, uuid",
    )?;
    t.checks = stmt
        .query_map([], |r| {
            Ok(Check {
                uuid: r.get(0)?,
                spec: r.get(1)?,
                managed: r.get(2)?,
                default_grace_ms: r.get(3)?,
                state: r.get(4)?,
                created_ms: r.get(5)?,
            })
        })?
        .collect::<rusqlite::Result<_>>()?;
    let mut stmt = conn.prepare(
        "SELECT check_uuid, n, at_ms, kind, exit_code, rid, remote_addr, user_agent, method, body, duration, state
         FROM pings ORDER BY check_uuid, n",
    )?;
    t.pings = stmt
        .query_map([], |r| {
            Ok(Ping {
                check_uuid: r.get(0)?,
                n: r.get(1)?,
                at_ms: r.get(2)?,
                kind: r.get(3)?,
                exit_code: r.get(4)?,
                rid: r.get(5)?,
                remote_addr: r.get(6)?,
                user_agent: r.get(7)?,
                method: r.get(8)?,
                body: r.get(9)?,
                duration: r.get(10)?,
                state: r.get(11)?,
            })
        })?
        .collect::<rusqlite::Result<_>>()?;
    let mut stmt = conn.prepare(
        "SELECT id, check_uuid, at_ms, from_status, to_status, reason FROM flips ORDER BY id",
    )?;
    t.flips = stmt
        .query_map([], |r| {
            Ok(Flip {
                id: r.get(0)?,
                check_uuid: r.get(1)?,
                at_ms: r.get(2)?,
                from: r.get(3)?,
                to: r.get(4)?,
                reason: r.get(5)?,
            })
        })?
        .collect::<rusqlite::Result<_>>()?;
    let mut stmt = conn.prepare("SELECT name, config, managed FROM channels ORDER BY name")?;
    t.channels = stmt
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?
        .collect::<rusqlite::Result<_>>()?;
    let mut stmt = conn.prepare(
        "SELECT id, event_id, event, channel, check_uuid, payload, attempts, next_attempt_ms, last_attempt_ms,
                done, ok, status_code, error, created_ms, suppressed FROM outbox ORDER BY id",
    )?;
    t.outbox = stmt
        .query_map([], |r| {
            Ok(Outbox {
                id: r.get(0)?,
                event_id: r.get(1)?,
                event: r.get(2)?,
                channel: r.get(3)?,
                check_uuid: r.get(4)?,
                payload: r.get(5)?,
                attempts: r.get(6)?,
                next_attempt_ms: r.get(7)?,
                last_attempt_ms: r.get(8)?,
                done: r.get(9)?,
                ok: r.get(10)?,
                status_code: r.get(11)?,
                error: r.get(12)?,
                created_ms: r.get(13)?,
                suppressed: r.get(14)?,
            })
        })?
        .collect::<rusqlite::Result<_>>()?;
    let mut stmt = conn.prepare("SELECT key, value FROM meta ORDER BY key")?;
    t.meta = stmt
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
        .collect::<rusqlite::Result<_>>()?;
    let mut stmt = conn.prepare("SELECT name, spec, managed FROM maintenance ORDER BY name")?;
    t.windows = stmt
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?
        .collect::<rusqlite::Result<_>>()?;
    let mut stmt = conn.prepare(
        "SELECT check_uuid, due_ms, status, ping FROM slots ORDER BY check_uuid, due_ms",
    )?;
    t.slots = stmt
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))?
        .collect::<rusqlite::Result<_>>()?;
    Ok(t)
}

fn write_sqlite(tx: &rusqlite::Connection, t: &Tables) -> Result<()> {
    use rusqlite::params;
    let mut stmt = tx.prepare(
        "INSERT INTO checks (uuid, spec, managed, default_grace_ms, state, created_ms) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    )?;
    for c in &t.checks {
        stmt.execute(params![
            c.uuid,
            c.spec,
            c.managed,
            c.default_grace_ms,
            c.state,
            c.created_ms
        ])?;
    }
    let mut stmt = tx.prepare(
        "INSERT OR REPLACE INTO pings (check_uuid, n, at_ms, kind, exit_code, rid, remote_addr, user_agent, method, body, duration, state)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
    )?;
    for p in &t.pings {
        stmt.execute(params![
            p.check_uuid,
            p.n,
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
    }
    let mut stmt = tx.prepare(
        "INSERT OR REPLACE INTO flips (id, check_uuid, at_ms, from_status, to_status, reason) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    )?;
    for f in &t.flips {
        stmt.execute(params![f.id, f.check_uuid, f.at_ms, f.from, f.to, f.reason])?;
    }
    let mut stmt =
        tx.prepare("INSERT INTO channels (name, config, managed) VALUES (?1, ?2, ?3)")?;
    for (name, config, managed) in &t.channels {
        stmt.execute(params![name, config, managed])?;
    }
    let mut stmt = tx.prepare(
        "INSERT OR REPLACE INTO outbox (id, event_id, event, channel, check_uuid, payload, attempts, next_attempt_ms,
             last_attempt_ms, done, ok, status_code, error, created_ms, suppressed)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15)",
    )?;
    for o in &t.outbox {
        stmt.execute(params![
            o.id,
            o.event_id,
            o.event,
            o.channel,
            o.check_uuid,
            o.payload,
            o.attempts,
            o.next_attempt_ms,
            o.last_attempt_ms,
            o.done,
            o.ok,
            o.status_code,
            o.error,
            o.created_ms,
            o.suppressed
        ])?;
    }
    let mut stmt =
        tx.prepare("INSERT OR REPLACE INTO maintenance (name, spec, managed) VALUES (?1, ?2, ?3)")?;
    for (name, spec, managed) in &t.windows {
        stmt.execute(params![name, spec, managed])?;
    }
    let mut stmt = tx.prepare(
        "INSERT OR REPLACE INTO slots (check_uuid, due_ms, status, ping) VALUES (?1, ?2, ?3, ?4)",
    )?;
    for (check, due, status, ping) in &t.slots {
        stmt.execute(params![check, due, status, ping])?;
    }
    let mut stmt = tx.prepare(
        "INSERT INTO meta (key, value) VALUES (?1, ?2) ON CONFLICT (key) DO UPDATE SET value = ?2",
    )?;
    for (k, v) in &t.meta {
        stmt.execute(params![k, v])?;
    }
    Ok(())
}

fn read_pg(client: &mut postgres::Client) -> Result<Tables> {
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
        .map(|r| Check {
            uuid: r.get(0),
            spec: r.get(1),
            managed: r.get(2),
            default_grace_ms: r.get(3),
            state: r.get(4),
            created_ms: r.get(5),
        })
        .collect();
    let mut t = Tables {
        checks,
        ..Default::default()
    };
    t.pings = tx
        .query(
            "SELECT check_uuid, n, at_ms, kind, exit_code, rid, remote_addr, user_agent, method, body, duration, state
             FROM pings ORDER BY check_uuid, n",
            &[],
        )?
        .iter()
        .map(|r| Ping {
            check_uuid: r.get(0),
            n: r.get(1),
            at_ms: r.get(2),
            kind: r.get(3),
            exit_code: r.get::<_, Option<i32>>(4).map(i64::from),
            rid: r.get(5),
            remote_addr: r.get(6),
            user_agent: r.get(7),
            method: r.get(8),
            body: r.get(9),
            duration: r.get(10),
            state: r.get(11),
        })
        .collect();
    t.flips = tx
        .query(
            "SELECT id, check_uuid, at_ms, from_status, to_status, reason FROM flips ORDER BY id",
            &[],
        )?
        .iter()
        .map(|r| Flip {
            id: r.get(0),
            check_uuid: r.get(1),
            at_ms: r.get(2),
            from: r.get(3),
            to: r.get(4),
            reason: r.get(5),
        })
        .collect();
    t.channels = tx
        .query(
            "SELECT name, config, managed FROM channels ORDER BY name",
            &[],
        )?
        .iter()
        .map(|r| (r.get(0), r.get(1), r.get(2)))
        .collect();
    t.outbox = tx
        .query(
            "SELECT id, event_id, event, channel, check_uuid, payload, attempts, next_attempt_ms, last_attempt_ms,
                    done, ok, status_code, error, created_ms, suppressed FROM outbox ORDER BY id",
            &[],
        )?
        .iter()
        .map(|r| Outbox {
            id: r.get(0),
            event_id: r.get(1),
            event: r.get(2),
            channel: r.get(3),
            check_uuid: r.get(4),
            payload: r.get(5),
            attempts: i64::from(r.get::<_, i32>(6)),
            next_attempt_ms: r.get(7),
            last_attempt_ms: r.get(8),
            done: r.get(9),
            ok: r.get(10),
            status_code: r.get::<_, Option<i32>>(11).map(i64::from),
            error: r.get(12),
            created_ms: r.get(13),
            suppressed: r.get(14),
        })
        .collect();
    t.meta = tx
        .query("SELECT key, value FROM meta ORDER BY key", &[])?
        .iter()
        .map(|r| (r.get(0), r.get(1)))
        .collect();
    t.windows = tx
        .query(
            "SELECT name, spec, managed FROM maintenance ORDER BY name",
            &[],
        )?
        .iter()
        .map(|r| (r.get(0), r.get(1), r.get(2)))
        .collect();
    t.slots = tx
        .query(
            "SELECT check_uuid, due_ms, status, ping FROM slots ORDER BY check_uuid, due_ms",
            &[],
        )?
        .iter()
        .map(|r| (r.get(0), r.get(1), r.get(2), r.get(3)))
        .collect();
    tx.commit()?;
    Ok(t)
}

fn write_pg(tx: &mut postgres::Transaction<'_>, t: &Tables) -> Result<()> {
    let stmt = tx.prepare(
        "INSERT INTO checks (uuid, spec, managed, default_grace_ms, state, created_ms) VALUES ($1, $2, $3, $4, $5, $6)",
    )?;
    for c in &t.checks {
        tx.execute(
            &stmt,
            &[
                &c.uuid,
                &c.spec,
                &c.managed,
                &c.default_grace_ms,
                &c.state,
                &c.created_ms,
            ],
        )?;
    }
    let stmt = tx.prepare(
        "INSERT INTO pings (check_uuid, n, at_ms, kind, exit_code, rid, remote_addr, user_agent, method, body, duration, state)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
    )?;
    for p in &t.pings {
        let exit_code = p.exit_code.map(|c| c as i32);
        tx.execute(
            &stmt,
            &[
                &p.check_uuid,
                &p.n,
                &p.at_ms,
                &p.kind,
                &exit_code,
                &p.rid,
                &p.remote_addr,
                &p.user_agent,
                &p.method,
                &p.body,
                &p.duration,
                &p.state,
            ],
        )?;
    }
    let stmt = tx.prepare(
        "INSERT INTO flips (id, check_uuid, at_ms, from_status, to_status, reason) VALUES ($1, $2, $3, $4, $5, $6)",
    )?;
    for f in &t.flips {
        tx.execute(
            &stmt,
            &[&f.id, &f.check_uuid, &f.at_ms, &f.from, &f.to, &f.reason],
        )?;
    }
    tx.batch_execute(
        "SELECT setval(pg_get_serial_sequence('flips', 'id'), GREATEST((SELECT max(id) FROM flips), 1))",
    )?;
    let stmt = tx.prepare("INSERT INTO channels (name, config, managed) VALUES ($1, $2, $3)")?;
    for (name, config, managed) in &t.channels {
        tx.execute(&stmt, &[name, config, managed])?;
    }
    let stmt = tx.prepare(
        "INSERT INTO outbox (id, event_id, event, channel, check_uuid, payload, attempts, next_attempt_ms,
             last_attempt_ms, done, ok, status_code, error, created_ms, suppressed)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)
         ON CONFLICT (id) DO NOTHING",
    )?;
    for o in &t.outbox {
        let attempts = o.attempts as i32;
        let status_code = o.status_code.map(|c| c as i32);
        tx.execute(
            &stmt,
            &[
                &o.id,
                &o.event_id,
                &o.event,
                &o.channel,
                &o.check_uuid,
                &o.payload,
                &attempts,
                &o.next_attempt_ms,
                &o.last_attempt_ms,
                &o.done,
                &o.ok,
                &status_code,
                &o.error,
                &o.created_ms,
                &o.suppressed,
            ],
        )?;
    }
    let stmt = tx.prepare(
        "INSERT INTO maintenance (name, spec, managed) VALUES ($1, $2, $3)
         ON CONFLICT (name) DO UPDATE SET spec = EXCLUDED.spec, managed = EXCLUDED.managed",
    )?;
    for (name, spec, managed) in &t.windows {
        tx.execute(&stmt, &[name, spec, managed])?;
    }
    let stmt = tx.prepare(
        "INSERT INTO slots (check_uuid, due_ms, status, ping) VALUES ($1, $2, $3, $4)
         ON CONFLICT (check_uuid, due_ms) DO UPDATE SET status = EXCLUDED.status, ping = EXCLUDED.ping",
    )?;
    for (check, due, status, ping) in &t.slots {
        tx.execute(&stmt, &[check, due, status, ping])?;
    }
    let stmt = tx.prepare(
        "INSERT INTO meta (key, value) VALUES ($1, $2) ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value",
    )?;
    for (k, v) in &t.meta {
        tx.execute(&stmt, &[k, v])?;
    }
    Ok(())
}
