//! The PostgreSQL store on a throwaway cluster (tests/support/pg.rs): what it keeps
//! across restarts, nodes starting together, the change log between nodes, a commit
//! whose connection dies, and `hb db copy` both ways.

use hb::serve::store::{CheckRow, History, Op, PingRow, Store};
use hb::serve::store_pg::open_postgres;
use serde_json::{Value, json};
use std::time::Duration;

use crate::serve_support::*;
use crate::support::pg::{cluster, fresh_db};

fn check_row(uuid: &str) -> CheckRow {
    CheckRow {
        uuid: uuid.into(),
        spec: json!({"name": uuid, "interval": "1h"}).to_string(),
        managed: false,
        default_grace_ms: 3_600_000,
        state: "{\"seq\":0}".into(),
        created_ms: 1_000,
    }
}

fn ping_row(uuid: &str, n: u64) -> PingRow {
    PingRow {
        check_uuid: uuid.into(),
        n,
        at_ms: 1_000 + n as i64,
        kind: "success",
        exit_code: Some(0),
        rid: None,
        remote_addr: Some("127.0.0.1".into()),
        user_agent: Some("curl".into()),
        method: "POST".into(),
        body: Some(format!("body {n}")),
        duration: Some(1.5),
        state: format!("{{\"seq\":{n}}}"),
    }
}

fn commit(store: &mut impl Store, ops: Vec<Op>) {
    store.begin().unwrap();
    store.apply(&ops).unwrap();
    store.commit().unwrap();
}

#[test]
fn a_check_and_its_pings_survive_a_restart() {
    let url = fresh_db();
    let (mut store, history, snapshot) = open_postgres(&url, "n1").unwrap();
    assert!(snapshot.checks.is_empty());
    assert!(store.shared());
    commit(&mut store, vec![Op::PutCheck(check_row("c1"))]);
    for n in 1..=3 {
        commit(&mut store, vec![Op::Ping(ping_row("c1", n))]);
    }
    assert!(
        store.db_now_ms().is_some(),
        "begin reads the database clock"
    );
    let pings = history.pings("c1", 10).unwrap();
    assert_eq!(pings.len(), 3);
    assert_eq!(pings[0].n, 3, "newest first");
    assert_eq!(pings[0].body.as_deref(), Some("body 3"));
    assert_eq!(pings[0].exit_code, Some(0));
    assert_eq!(history.ping_times("c1", 10).unwrap()[0].body, None);
    assert_eq!(history.ping("c1", 2).unwrap().unwrap().at_ms, 1_002);
    drop(store);
    drop(history);

    let (_store, _history, again) = open_postgres(&url, "n1").unwrap();
    assert_eq!(again.checks.len(), 1);
    assert_eq!(again.checks[0].uuid, "c1");
    assert_eq!(
        again.checks[0].state, "{\"seq\":3}",
        "the newest ping's state"
    );
    assert_eq!(again.secret, snapshot.secret, "the secret is kept");
    assert_eq!(again.secret.len(), 32);
}

#[test]
fn two_nodes_starting_together_migrate_once_and_agree_on_the_secret() {
    let url = fresh_db();
    let opened: Vec<_> = (0..2)
        .map(|i| {
            let url = url.clone();
            std::thread::spawn(move || open_postgres(&url, &format!("n{i}")).map(|o| o.2.secret))
        })
        .collect::<Vec<_>>()
        .into_iter()
        .map(|t| t.join().unwrap().unwrap())
        .collect();
    assert_eq!(opened[0], opened[1], "one secret for both nodes");
    let mut client = postgres::Client::connect(&url, postgres::NoTls).unwrap();
    let (rows, distinct): (i64, i64) = {
        let row = client
            .query_one(
                "SELECT count(*), count(DISTINCT version) FROM schema_version",
                &[],
            )
            .unwrap();
        (row.get(0), row.get(1))
    };
    assert!(rows >= 1);
    assert_eq!(rows, distinct, "each migration ran once");
}

#[test]
fn a_newer_schema_is_refused_with_the_fix() {
    let url = fresh_db();
    drop(open_postgres(&url, "n1").unwrap());
    let mut client = postgres::Client::connect(&url, postgres::NoTls).unwrap();
    client
        .execute("INSERT INTO schema_version (version) VALUES (999)", &[])
        .unwrap();
    let e = open_postgres(&url, "n1").err().expect("refused");
    assert!(format!("{e:#}").contains("upgrade hb"), "{e:#}");
}

#[test]
fn an_unreachable_database_is_one_sentence_with_the_url_masked() {
    let url = format!("postgres://hb:s3cret@127.0.0.1:{}/nope", closed_port());
    let e = open_postgres(&url, "n1").err().expect("refused");
    let text = format!("{e:#}");
    assert!(!text.contains("s3cret"), "{text}");
    assert!(text.contains("postgres://hb:****@127.0.0.1"), "{text}");
    assert!(text.contains("check that PostgreSQL is running"), "{text}");
}

#[test]
fn catch_up_returns_what_another_node_committed_and_not_our_own() {
    let url = fresh_db();
    let (mut a, _ha, _) = open_postgres(&url, "a").unwrap();
    let (mut b, _hb, _) = open_postgres(&url, "b").unwrap();
    commit(
        &mut a,
        vec![Op::PutCheck(check_row("c1")), Op::Ping(ping_row("c1", 1))],
    );
    assert!(
        a.catch_up().unwrap().is_empty(),
        "our own commit is not replayed"
    );
    let seen = b.catch_up().unwrap();
    assert_eq!(seen.len(), 2, "{seen:?}");
    assert!(matches!(&seen[0], Op::PutCheck(c) if c.uuid == "c1"));
    assert!(
        matches!(&seen[1], Op::PutState { uuid, state } if uuid == "c1" && state == "{\"seq\":1}")
    );
    assert!(b.catch_up().unwrap().is_empty(), "read once");
    // Inside a group too, and the group's own rows are then skipped after its commit.
    b.begin().unwrap();
    assert!(b.catch_up().unwrap().is_empty());
    b.apply(&[Op::PutState {
        uuid: "c1".into(),
        state: "{\"seq\":2}".into(),
    }])
    .unwrap();
    b.commit().unwrap();
    assert!(b.catch_up().unwrap().is_empty());
    assert!(
        matches!(&a.catch_up().unwrap()[..], [Op::PutState { state, .. }] if state == "{\"seq\":2}")
    );
}

#[test]
fn a_failed_caller_leaves_nothing_in_the_log() {
    let url = fresh_db();
    let (mut a, _ha, _) = open_postgres(&url, "a").unwrap();
    let (mut b, _hb, _) = open_postgres(&url, "b").unwrap();
    let enqueue = |id| {
        Op::Enqueue(hb::serve::store::OutboxRow {
            id,
            event_id: format!("e{id}"),
            event: "down".into(),
            channel: "hook".into(),
            check_uuid: Some("c1".into()),
            payload: "{}".into(),
            attempts: 0,
            next_attempt_ms: 0,
            created_ms: 0,
        })
    };
    a.begin().unwrap();
    a.apply(&[enqueue(1)]).unwrap();
    // The same id again: a primary key violation, for this caller alone.
    assert!(
        a.apply(&[Op::PutCheck(check_row("c2")), enqueue(1)])
            .is_err()
    );
    a.apply(&[Op::PutCheck(check_row("c3"))]).unwrap();
    a.commit().unwrap();
    let seen = b.catch_up().unwrap();
    assert_eq!(seen.len(), 2, "{seen:?}");
    assert!(matches!(&seen[1], Op::PutCheck(c) if c.uuid == "c3"));
    let (_, _, snapshot) = open_postgres(&url, "c").unwrap();
    let uuids: Vec<_> = snapshot.checks.iter().map(|c| c.uuid.as_str()).collect();
    assert_eq!(uuids, ["c3"]);
    assert_eq!(snapshot.pending.len(), 1);
    assert_eq!(snapshot.max_outbox_id, 1);
    // A lease is kept, and a done delivery gives it up.
    commit(
        &mut a,
        vec![Op::Claim {
            id: 1,
            node: "a".into(),
            until_ms: 99,
        }],
    );
    let (_, _, snapshot) = open_postgres(&url, "c").unwrap();
    assert_eq!(snapshot.leases.get(&1), Some(&("a".to_string(), 99)));
}

#[test]
fn a_commit_whose_connection_dies_fails_and_the_next_group_reconnects() {
    let url = fresh_db();
    let db = url.rsplit('/').next().unwrap().to_string();
    let (mut store, _history, _) = open_postgres(&url, "n1").unwrap();
    commit(&mut store, vec![Op::PutCheck(check_row("c1"))]);
    store.begin().unwrap();
    store.apply(&[Op::Ping(ping_row("c1", 1))]).unwrap();
    let mut admin = cluster().admin();
    let killed: i64 = admin
        .query_one(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity
             WHERE datname = $1 AND state LIKE 'idle in transaction%'",
            &[&db],
        )
        .unwrap()
        .get(0);
    assert_eq!(killed, 1);
    assert!(store.commit().is_err(), "the commit cannot succeed");
    store.rollback();
    commit(&mut store, vec![Op::Ping(ping_row("c1", 1))]);
    let (_, history, snapshot) = open_postgres(&url, "n2").unwrap();
    assert_eq!(snapshot.checks[0].state, "{\"seq\":1}");
    assert_eq!(history.pings("c1", 10).unwrap().len(), 1);
}

/// `hb db copy` as the operator runs it.
fn db_copy(from: &str, to: &str) -> std::process::Output {
    crate::support::hb()
        .args(["db", "copy", from, to])
        .output()
        .unwrap()
}

fn sqlite_rows(path: &std::path::Path, sql: &str) -> Vec<Vec<String>> {
    let conn = rusqlite::Connection::open(path).unwrap();
    let mut stmt = conn.prepare(sql).unwrap();
    let n = stmt.column_count();
    stmt.query_map([], |r| {
        Ok((0..n)
            .map(|i| format!("{:?}", r.get::<_, rusqlite::types::Value>(i).unwrap()))
            .collect::<Vec<_>>())
    })
    .unwrap()
    .collect::<Result<_, _>>()
    .unwrap()
}

#[test]
fn db_copy_sqlite_to_postgres_and_back_keeps_every_row() {
    let dir = tempfile::tempdir().unwrap();
    let a = dir.path().join("a.db");
    let server = ServeProcess::try_start_on(&a.to_string_lossy(), &a, &[], &[]).unwrap();
    let answer = post(
        &server.url("/api/v1/channels"),
        &json!({"name": "hook", "kind": "webhook", "url": "http://127.0.0.1:9/hb"}).to_string(),
    );
    assert_eq!(answer.status, 201, "{}", answer.body);
    let mut uuids = Vec::new();
    for name in ["one", "two"] {
        let created = post(
            &server.url("/api/v1/heartbeats"),
            &json!({"name": name, "interval": "1h", "channels": ["hook"]}).to_string(),
        );
        assert_eq!(created.status, 201, "{}", created.body);
        uuids.push(created.json()["uuid"].as_str().unwrap().to_string());
    }
    for i in 0..5 {
        let ping = call(
            "POST",
            &server.url(&format!("/api/v1/ping/{}/{}", uuids[0], i % 2)),
            Some("output"),
            &[],
        );
        assert_eq!(ping.status, 200);
    }
    let window = post(
        &server.url("/api/v1/maintenance"),
        &json!({"name": "upgrade", "checks": ["two"], "start": "2030-01-01T00:00:00Z", "end": "2030-01-01T02:00:00Z"})
            .to_string(),
    );
    assert_eq!(window.status, 201, "{}", window.body);
    let listed = |s: &ServeProcess| -> Vec<Value> {
        let list = get(&s.url("/api/v1/heartbeats")).json();
        let list = list.as_array().cloned().unwrap_or_else(|| {
            list["heartbeats"]
                .as_array()
                .cloned()
                .unwrap_or_else(|| list["checks"].as_array().cloned().unwrap())
        });
        list.into_iter()
            .map(|c| {
                json!([
                    c["uuid"],
                    c["name"],
                    c["status"],
                    c["n_pings"],
                    c["last_ping"],
                    c["channels"]
                ])
            })
            .collect()
    };
    let history = |s: &ServeProcess, uuid: &str| {
        let pings = get(&s.url(&format!("/api/v1/heartbeats/{uuid}/pings"))).json();
        let flips = get(&s.url(&format!("/api/v1/heartbeats/{uuid}/flips"))).json();
        (pings, flips)
    };
    let before = listed(&server);
    let before_history = history(&server, &uuids[0]);
    server.signal(libc::SIGTERM);
    let mut server = server;
    assert_eq!(server.wait(Duration::from_secs(15)), Some(0));

    let pg = fresh_db();
    let out = db_copy(&a.to_string_lossy(), &pg);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let line = String::from_utf8_lossy(&out.stdout);
    assert!(
        line.starts_with("copied 2 checks, 5 pings,") && line.lines().count() == 1,
        "{line}"
    );

    let b = dir.path().join("b.db");
    let out = db_copy(&pg, &b.to_string_lossy());
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    for sql in [
        "SELECT uuid, spec, managed, default_grace_ms, created_ms FROM checks ORDER BY uuid",
        "SELECT check_uuid, n, at_ms, kind, exit_code, rid, remote_addr, user_agent, method, body, duration FROM pings ORDER BY check_uuid, n",
        "SELECT id, check_uuid, at_ms, from_status, to_status, reason FROM flips ORDER BY id",
        "SELECT name, config, managed FROM channels ORDER BY name",
        "SELECT id, event_id, event, channel, check_uuid, payload, attempts, next_attempt_ms, last_attempt_ms, done, ok, status_code, error, created_ms FROM outbox ORDER BY id",
        "SELECT value FROM meta WHERE key = 'secret'",
        "SELECT name, spec, managed FROM maintenance ORDER BY name",
        "SELECT check_uuid, due_ms, status, ping FROM slots ORDER BY check_uuid, due_ms",
    ] {
        assert_eq!(sqlite_rows(&a, sql), sqlite_rows(&b, sql), "{sql}");
    }
    // hb serve on either copy lists the same checks with the same history (it may
    // then retry deliveries, so the rows are compared first).
    let on_pg = ServeProcess::try_start_on(&pg, &dir.path().join("pg"), &[], &[]).unwrap();
    assert_eq!(listed(&on_pg), before);
    assert_eq!(history(&on_pg, &uuids[0]), before_history);
    drop(on_pg);

    let on_b = ServeProcess::try_start_on(&b.to_string_lossy(), &b, &[], &[]).unwrap();
    assert_eq!(listed(&on_b), before);
    assert_eq!(history(&on_b, &uuids[0]), before_history);
    drop(on_b);

    // A target that already holds checks is refused (exit 2), either kind.
    for target in [pg.as_str(), &*b.to_string_lossy()] {
        let out = db_copy(&a.to_string_lossy(), target);
        assert_eq!(out.status.code(), Some(2));
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(
            err.contains("already holds 2 checks and 1 channel") && err.lines().count() == 1,
            "{err}"
        );
    }
}

#[test]
fn db_copy_from_a_missing_source_says_so() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("missing.db");
    let out = db_copy(
        &missing.to_string_lossy(),
        &dir.path().join("b.db").to_string_lossy(),
    );
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("does not exist"), "{err}");
    assert!(!missing.exists(), "the source is not created");
    let out = db_copy(
        &format!("postgres://hb@127.0.0.1:{}/x", closed_port()),
        &dir.path().join("b.db").to_string_lossy(),
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("cannot connect to the database"));
}

#[test]
fn a_node_behind_a_trimmed_log_is_told_to_restart() {
    let url = fresh_db();
    let (mut a, _ha, _) = open_postgres(&url, "a").unwrap();
    let (mut b, _hb, _) = open_postgres(&url, "b").unwrap();
    commit(&mut a, vec![Op::PutCheck(check_row("c1"))]);
    // The hourly trim, as if b had been away for longer than the log is kept.
    let mut admin = postgres::Client::connect(&url, postgres::NoTls).unwrap();
    admin
        .batch_execute(
            "INSERT INTO meta (key, value) SELECT 'changes_trimmed_through', max(seq)::text FROM changes
             ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value;
             DELETE FROM changes;",
        )
        .unwrap();
    let err = b.catch_up().unwrap_err().to_string();
    assert!(err.contains("fell too far behind"), "{err}");
    assert!(
        a.catch_up().unwrap().is_empty(),
        "a, which had read it all, goes on"
    );
}

#[test]
fn a_reopened_store_reads_the_log_from_where_its_snapshot_ends() {
    let url = fresh_db();
    let (mut a, _ha, _) = open_postgres(&url, "a").unwrap();
    commit(&mut a, vec![Op::PutCheck(check_row("c9"))]);
    let (mut b, _hb, _) = open_postgres(&url, "b").unwrap();
    commit(&mut b, vec![Op::PutCheck(check_row("c10"))]);
    // A node restarting: its snapshot holds both checks, so the log has nothing for it.
    let (mut again, _h, snapshot) = open_postgres(&url, "a").unwrap();
    let uuids: Vec<&str> = snapshot.checks.iter().map(|c| c.uuid.as_str()).collect();
    assert!(uuids.contains(&"c9") && uuids.contains(&"c10"), "{uuids:?}");
    assert!(again.catch_up().unwrap().is_empty());
    // What comes after is read once.
    commit(&mut b, vec![Op::DeleteCheck("c9".into())]);
    assert!(matches!(&again.catch_up().unwrap()[..], [Op::DeleteCheck(u)] if u == "c9"));
}
