//! SQL text for the PostgreSQL store: every value written as a literal, so that a
//! whole group of changes travels to the database in one round trip, and the group's
//! operations coalesced into a few multi-row statements (one per table and kind)
//! instead of one statement per operation.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use super::store::{FLIP_HISTORY, NOTIFICATION_HISTORY, Op, PING_HISTORY};
use super::wire;

/// A value written into SQL as a literal. Text is quoted with `'` doubled, which is
/// complete with `standard_conforming_strings` on (set on every connection): a group's
/// statements then travel in one round trip.
pub(super) trait Literal {
    fn lit(&self, out: &mut String);
}

impl Literal for str {
    fn lit(&self, out: &mut String) {
        out.push('\'');
        for c in self.chars() {
            if c == '\'' {
                out.push('\'');
            }
            out.push(c);
        }
        out.push('\'');
    }
}

impl Literal for String {
    fn lit(&self, out: &mut String) {
        self.as_str().lit(out)
    }
}

impl Literal for &str {
    fn lit(&self, out: &mut String) {
        (*self).lit(out)
    }
}

/// Integers are written as they are.
macro_rules! integer_literal {
    ($($t:ty),*) => {$(
        impl Literal for $t {
            fn lit(&self, out: &mut String) {
                let _ = write!(out, "{self}");
            }
        }
    )*};
}

integer_literal!(i64, u64, u32, u16, u8);

impl Literal for bool {
    fn lit(&self, out: &mut String) {
        out.push_str(if *self { "true" } else { "false" });
    }
}

impl Literal for f64 {
    fn lit(&self, out: &mut String) {
        if self.is_finite() {
            let _ = write!(out, "{self:?}::float8");
        } else {
            out.push_str("NULL");
        }
    }
}

impl<T: Literal> Literal for Option<T> {
    fn lit(&self, out: &mut String) {
        match self {
            Some(v) => v.lit(out),
            None => out.push_str("NULL"),
        }
    }
}

/// Writes `sql` with each `$` replaced by the next value, then `;`.
fn stmt(out: &mut String, sql: &str, values: &[&dyn Literal]) {
    let mut values = values.iter();
    for (i, part) in sql.split('$').enumerate() {
        if i > 0 {
            values.next().expect("a value for each $").lit(out);
        }
        out.push_str(part);
    }
    out.push_str(";\n");
}

/// Statements for callers' operations, coalesced (see [`Coalesced`]), with the
/// change-log row the other nodes replay (one per group) returning its number.
pub(super) fn group_sql(node: &str, callers: &[&[Op]]) -> String {
    let mut out = String::new();
    let mut batch = Coalesced::default();
    for ops in callers {
        for op in *ops {
            batch.add(op, &mut out);
        }
    }
    batch.flush(&mut out);
    let all: Vec<Op> = callers.iter().flat_map(|ops| ops.iter().cloned()).collect();
    if let Some(json) = wire::encode(&all) {
        stmt(
            &mut out,
            "INSERT INTO changes (node, ops) VALUES ($, $) RETURNING seq",
            &[&node, &json],
        );
    }
    out
}

/// A group's frequent operations, gathered by kind and written as one multi-row
/// statement each: a tick of 500 checks is a handful of statements, not thousands.
/// Only the last write of a key counts (a check's state, a slot, a lease), as it would
/// have, applied in order. Changes of configuration (checks, channels, windows) are
/// rare: each first writes what was gathered, then goes alone, in order.
#[derive(Default)]
struct Coalesced<'a> {
    states: BTreeMap<&'a str, &'a str>,
    pings: BTreeMap<(&'a str, u64), &'a crate::serve::store::PingRow>,
    ping_trims: Vec<(&'a str, u64)>,
    flips: Vec<&'a crate::serve::store::FlipRow>,
    enqueued: Vec<&'a crate::serve::store::OutboxRow>,
    held: Vec<(&'a crate::serve::store::OutboxRow, &'a str)>,
    slots: BTreeMap<(&'a str, i64), &'a crate::serve::store::SlotOutcomeRow>,
    slot_trims: BTreeMap<&'a str, i64>,
    claims: BTreeMap<i64, (Option<&'a str>, Option<i64>)>,
    attempts: BTreeMap<i64, &'a crate::serve::store::AttemptRow>,
}

/// Writes `(v1::t1, v2::t2, …)`.
fn row(out: &mut String, values: &[(&dyn Literal, &str)]) {
    out.push('(');
    for (i, (value, cast)) in values.iter().enumerate() {
        if i > 0 {
            out.push_str(", ");
        }
        value.lit(out);
        out.push_str("::");
        out.push_str(cast);
    }
    out.push(')');
}

/// Writes `head` then the rows, comma-separated, then `tail` and `;`.
fn rows<T>(
    out: &mut String,
    head: &str,
    items: impl IntoIterator<Item = T>,
    tail: &str,
    mut one: impl FnMut(&mut String, T),
) {
    out.push_str(head);
    for (i, item) in items.into_iter().enumerate() {
        if i > 0 {
            out.push_str(",\n");
        }
        one(out, item);
    }
    out.push_str(tail);
    out.push_str(";\n");
}

impl<'a> Coalesced<'a> {
    fn add(&mut self, op: &'a Op, out: &mut String) {
        match op {
            Op::Ping(p) => {
                self.pings.insert((&p.check_uuid, p.n), p);
                self.states.insert(&p.check_uuid, &p.state);
                if p.n > PING_HISTORY && p.n % 100 == 0 {
                    self.ping_trims.push((&p.check_uuid, p.n - PING_HISTORY));
                }
            }
            Op::PutState { uuid, state } => {
                self.states.insert(uuid, state);
            }
            Op::Flip(f) => self.flips.push(f),
            Op::Enqueue(o) => self.enqueued.push(o),
            Op::Suppressed { row, reason } => self.held.push((row, reason)),
            Op::PutSlot(r) => {
                self.slots.insert((&r.check_uuid, r.due_ms), r);
            }
            Op::TrimSlots {
                check_uuid,
                before_ms,
            } => {
                let before = self.slot_trims.entry(check_uuid).or_insert(*before_ms);
                *before = (*before).max(*before_ms);
            }
            Op::Claim { id, node, until_ms } => {
                let lease = if node.is_empty() {
                    (None, None)
                } else {
                    (Some(node.as_str()), Some(*until_ms))
                };
                self.claims.insert(*id, lease);
            }
            Op::Attempt(a) => {
                self.attempts.insert(a.id, a);
            }
            Op::PutCheck(c) => {
                self.flush(out);
                stmt(
                    out,
                    "INSERT INTO checks (uuid, spec, managed, default_grace_ms, state, created_ms) VALUES ($, $, $, $, $, $)
                     ON CONFLICT (uuid) DO UPDATE SET spec = EXCLUDED.spec, managed = EXCLUDED.managed,
                         default_grace_ms = EXCLUDED.default_grace_ms, state = EXCLUDED.state",
                    &[&c.uuid, &c.spec, &c.managed, &c.default_grace_ms, &c.state, &c.created_ms],
                );
            }
            Op::DeleteCheck(uuid) => {
                self.flush(out);
                for sql in [
                    "DELETE FROM checks WHERE uuid = $",
                    "DELETE FROM pings WHERE check_uuid = $",
                    "DELETE FROM flips WHERE check_uuid = $",
                    "DELETE FROM outbox WHERE check_uuid = $ AND done",
                    "DELETE FROM slots WHERE check_uuid = $",
                ] {
                    stmt(out, sql, &[uuid]);
                }
            }
            Op::PutChannel {
                name,
                config,
                managed,
            } => {
                self.flush(out);
                stmt(
                    out,
                    "INSERT INTO channels (name, config, managed) VALUES ($, $, $)
                     ON CONFLICT (name) DO UPDATE SET config = EXCLUDED.config, managed = EXCLUDED.managed",
                    &[name, config, managed],
                );
            }
            Op::DeleteChannel(name) => {
                self.flush(out);
                stmt(out, "DELETE FROM channels WHERE name = $", &[name]);
            }
            Op::PutWindow {
                name,
                spec,
                managed,
            } => {
                self.flush(out);
                stmt(
                    out,
                    "INSERT INTO maintenance (name, spec, managed) VALUES ($, $, $)
                     ON CONFLICT (name) DO UPDATE SET spec = EXCLUDED.spec, managed = EXCLUDED.managed",
                    &[name, spec, managed],
                );
            }
            Op::DeleteWindow(name) => {
                self.flush(out);
                stmt(out, "DELETE FROM maintenance WHERE name = $", &[name]);
            }
        }
    }

    /// Writes what was gathered: inserts first, then updates, then trims.
    fn flush(&mut self, out: &mut String) {
        let batch = std::mem::take(self);
        if !batch.enqueued.is_empty() {
            rows(
                out,
                "INSERT INTO outbox (id, event_id, event, channel, check_uuid, payload, attempts, next_attempt_ms, created_ms) VALUES\n",
                batch.enqueued,
                "",
                |out, o| {
                    row(
                        out,
                        &[
                            (&o.id, "bigint"),
                            (&o.event_id, "text"),
                            (&o.event, "text"),
                            (&o.channel, "text"),
                            (&o.check_uuid, "text"),
                            (&o.payload, "text"),
                            (&o.attempts, "integer"),
                            (&o.next_attempt_ms, "bigint"),
                            (&o.created_ms, "bigint"),
                        ],
                    )
                },
            );
        }
        if !batch.held.is_empty() {
            rows(
                out,
                "INSERT INTO outbox (id, event_id, event, channel, check_uuid, payload, attempts, next_attempt_ms, created_ms, done, ok, suppressed) VALUES\n",
                batch.held,
                "",
                |out, (o, reason)| {
                    row(
                        out,
                        &[
                            (&o.id, "bigint"),
                            (&o.event_id, "text"),
                            (&o.event, "text"),
                            (&o.channel, "text"),
                            (&o.check_uuid, "text"),
                            (&o.payload, "text"),
                            (&0i64, "integer"),
                            (&o.next_attempt_ms, "bigint"),
                            (&o.created_ms, "bigint"),
                            (&true, "boolean"),
                            (&false, "boolean"),
                            (&reason, "text"),
                        ],
                    )
                },
            );
        }
        if !batch.pings.is_empty() {
            rows(
                out,
                "INSERT INTO pings (check_uuid, n, at_ms, kind, exit_code, rid, remote_addr, user_agent, method, body, duration) VALUES\n",
                batch.pings.into_values(),
                "\nON CONFLICT (check_uuid, n) DO UPDATE SET at_ms = EXCLUDED.at_ms, kind = EXCLUDED.kind,
                     exit_code = EXCLUDED.exit_code, rid = EXCLUDED.rid, remote_addr = EXCLUDED.remote_addr,
                     user_agent = EXCLUDED.user_agent, method = EXCLUDED.method, body = EXCLUDED.body,
                     duration = EXCLUDED.duration",
                |out, p| {
                    row(out, &[
                        (&p.check_uuid, "text"),
                        (&p.n, "bigint"),
                        (&p.at_ms, "bigint"),
                        (&p.kind, "text"),
                        (&p.exit_code, "integer"),
                        (&p.rid, "text"),
                        (&p.remote_addr, "text"),
                        (&p.user_agent, "text"),
                        (&p.method, "text"),
                        (&p.body, "text"),
                        (&p.duration, "double precision"),
                    ])
                },
            );
        }
        if !batch.states.is_empty() {
            rows(
                out,
                "UPDATE checks SET state = v.state FROM (VALUES\n",
                batch.states,
                ") AS v (uuid, state) WHERE checks.uuid = v.uuid",
                |out, (uuid, state)| row(out, &[(&uuid, "text"), (&state, "text")]),
            );
        }
        if !batch.flips.is_empty() {
            let checks: std::collections::BTreeSet<&str> =
                batch.flips.iter().map(|f| f.check_uuid.as_str()).collect();
            rows(
                out,
                "INSERT INTO flips (check_uuid, at_ms, from_status, to_status, reason) VALUES\n",
                batch.flips,
                "",
                |out, f| {
                    row(
                        out,
                        &[
                            (&f.check_uuid, "text"),
                            (&f.at_ms, "bigint"),
                            (&f.from, "text"),
                            (&f.to, "text"),
                            (&f.reason, "text"),
                        ],
                    )
                },
            );
            rows(
                out,
                "DELETE FROM flips WHERE id IN (SELECT id FROM (SELECT id, row_number() OVER
                     (PARTITION BY check_uuid ORDER BY id DESC) AS rn FROM flips WHERE check_uuid IN (",
                checks,
                &format!(")) AS r WHERE rn > {FLIP_HISTORY})"),
                |out, uuid| uuid.lit(out),
            );
        }
        if !batch.slots.is_empty() {
            rows(
                out,
                "INSERT INTO slots (check_uuid, due_ms, status, ping) VALUES\n",
                batch.slots.into_values(),
                "\nON CONFLICT (check_uuid, due_ms) DO UPDATE SET status = EXCLUDED.status, ping = EXCLUDED.ping",
                |out, r| {
                    row(
                        out,
                        &[
                            (&r.check_uuid, "text"),
                            (&r.due_ms, "bigint"),
                            (&r.status, "text"),
                            (&r.ping, "bigint"),
                        ],
                    )
                },
            );
        }
        if !batch.slot_trims.is_empty() {
            rows(
                out,
                "DELETE FROM slots USING (VALUES\n",
                batch.slot_trims,
                ") AS v (uuid, before) WHERE slots.check_uuid = v.uuid AND slots.due_ms < v.before",
                |out, (uuid, before)| row(out, &[(&uuid, "text"), (&before, "bigint")]),
            );
        }
        if !batch.claims.is_empty() {
            rows(
                out,
                "UPDATE outbox SET lease_node = v.node, lease_until_ms = v.until FROM (VALUES\n",
                batch.claims,
                ") AS v (id, node, until) WHERE outbox.id = v.id",
                |out, (id, (node, until))| {
                    row(out, &[(&id, "bigint"), (&node, "text"), (&until, "bigint")])
                },
            );
        }
        if !batch.attempts.is_empty() {
            let done: Vec<i64> = batch
                .attempts
                .values()
                .filter(|a| a.done)
                .map(|a| a.id)
                .collect();
            rows(
                out,
                "UPDATE outbox SET attempts = v.attempts, last_attempt_ms = v.at, next_attempt_ms = v.next,
                     done = v.done, ok = v.ok, status_code = v.code, error = v.error,
                     lease_node = CASE WHEN v.done THEN NULL ELSE outbox.lease_node END,
                     lease_until_ms = CASE WHEN v.done THEN NULL ELSE outbox.lease_until_ms END
                 FROM (VALUES\n",
                batch.attempts.into_values(),
                ") AS v (id, attempts, at, next, done, ok, code, error) WHERE outbox.id = v.id",
                |out, a| {
                    row(out, &[
                        (&a.id, "bigint"),
                        (&a.attempts, "integer"),
                        (&a.at_ms, "bigint"),
                        (&a.next_attempt_ms, "bigint"),
                        (&a.done, "boolean"),
                        (&a.ok, "boolean"),
                        (&a.status_code, "integer"),
                        (&a.error, "text"),
                    ])
                },
            );
            if !done.is_empty() {
                // Notifications kept per check: the newest NOTIFICATION_HISTORY done rows.
                rows(
                    out,
                    "DELETE FROM outbox WHERE id IN (SELECT id FROM (SELECT id, row_number() OVER
                         (PARTITION BY check_uuid ORDER BY id DESC) AS rn FROM outbox
                         WHERE done AND check_uuid IN (SELECT check_uuid FROM outbox WHERE id IN (",
                    done,
                    &format!("))) AS r WHERE rn > {NOTIFICATION_HISTORY})"),
                    |out, id| id.lit(out),
                );
            }
        }
        for (uuid, below) in batch.ping_trims {
            stmt(
                out,
                "DELETE FROM pings WHERE check_uuid = $ AND n <= $",
                &[&uuid, &below],
            );
        }
    }
}

/// The change-log rows after `last`, with the trim mark (seq -1) first.
pub(super) fn catch_up_sql(last: i64) -> String {
    format!(
        "(SELECT -1::bigint AS seq, value AS ops FROM meta WHERE key = 'changes_trimmed_through')
         UNION ALL (SELECT seq, ops FROM changes WHERE seq > {last}) ORDER BY seq"
    )
}

/// The change-log number a batch's `RETURNING seq` gave, if any.
pub(super) fn returned_seq(messages: &[postgres::SimpleQueryMessage]) -> Option<i64> {
    messages.iter().rev().find_map(|m| match m {
        postgres::SimpleQueryMessage::Row(row) if row.columns().first()?.name() == "seq" => {
            row.get(0)?.parse().ok()
        }
        _ => None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sql(values: &[&dyn Literal]) -> String {
        let mut out = String::new();
        stmt(&mut out, "SELECT $, $", values);
        out
    }

    #[test]
    fn literals_quote_text_and_spell_the_rest() {
        let name = "it's $1 \\ \"q\" é";
        assert_eq!(
            sql(&[&name, &None::<i64>]),
            "SELECT 'it''s $1 \\ \"q\" é', NULL;\n"
        );
        assert_eq!(sql(&[&-5i64, &true]), "SELECT -5, true;\n");
        assert_eq!(
            sql(&[&Some(1.5f64), &f64::NAN]),
            "SELECT 1.5::float8, NULL;\n"
        );
        assert_eq!(sql(&[&Some(7u8), &3u64]), "SELECT 7, 3;\n");
    }

    #[test]
    fn a_group_writes_one_change_log_row() {
        let ops = [Op::PutState {
            uuid: "u'1".into(),
            state: "{}".into(),
        }];
        let more = [Op::DeleteChannel("x".into())];
        let text = group_sql("n1", &[&ops, &more]);
        assert!(text.contains("('u''1'::text, '{}'::text)"), "{text}");
        assert_eq!(text.matches("INSERT INTO changes").count(), 1, "{text}");
        assert!(group_sql("n1", &[&[]]).is_empty());
    }

    #[test]
    fn a_group_is_coalesced_by_kind_and_the_last_write_of_a_key_wins() {
        let state = |uuid: &str, state: &str| Op::PutState {
            uuid: uuid.into(),
            state: state.into(),
        };
        let claim = |id: i64, node: &str| Op::Claim {
            id,
            node: node.into(),
            until_ms: 9,
        };
        let first = [state("a", "old"), state("b", "b1"), claim(7, "n1")];
        let second = [
            state("a", "new"),
            claim(7, ""),
            Op::DeleteChannel("c".into()),
            state("a", "after"),
        ];
        let text = group_sql("n1", &[&first, &second]);
        assert!(!text.contains("'old'"), "{text}");
        let updates: Vec<&str> = text.matches("UPDATE checks SET state").collect();
        assert_eq!(
            updates.len(),
            2,
            "one before the channel's deletion, one after: {text}"
        );
        let new = text.find("'new'").unwrap();
        let delete = text.find("DELETE FROM channels").unwrap();
        let after = text.find("'after'").unwrap();
        assert!(new < delete && delete < after, "{text}");
        assert!(
            text.contains("(7::bigint, NULL::text, NULL::bigint)"),
            "the release wins: {text}"
        );
        assert!(!text.contains("'n1'::text"), "{text}");
    }
}
