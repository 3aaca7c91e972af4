//! How one node tells the others what it changed, on a shared store: each committed
//! caller's operations, as far as they touch what every node keeps in memory (checks,
//! their state, channels, pending deliveries and their leases), written as JSON to the
//! `changes` log in the same transaction. History (pings' bodies, flips) stays in its
//! own tables: the other nodes read it from there when asked.

use anyhow::{Context, Result};
use serde::{Deserialize, Serialize};

use super::store::{AttemptRow, CheckRow, Op, OutboxRow};

#[derive(Debug, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case")]
enum Wire {
    PutCheck {
        uuid: String,
        spec: String,
        managed: bool,
        default_grace_ms: i64,
        state: String,
        created_ms: i64,
    },
    PutState {
        uuid: String,
        state: String,
    },
    DeleteCheck {
        uuid: String,
    },
    PutChannel {
        name: String,
        config: String,
        managed: bool,
    },
    DeleteChannel {
        name: String,
    },
    Enqueue {
        id: i64,
        event_id: String,
        event: String,
        channel: String,
        check_uuid: Option<String>,
        payload: String,
        attempts: u32,
        next_attempt_ms: i64,
        created_ms: i64,
    },
    Attempt {
        id: i64,
        attempts: u32,
        at_ms: i64,
        next_attempt_ms: i64,
        done: bool,
        ok: bool,
        status_code: Option<u16>,
        error: Option<String>,
    },
    Claim {
        id: i64,
        node: String,
        until_ms: i64,
    },
    PutWindow {
        name: String,
        spec: String,
        managed: bool,
    },
    DeleteWindow {
        name: String,
    },
    /// A held alert's row is history; only its id, which nodes share, travels.
    Held {
        id: i64,
    },
}

fn to_wire(op: &Op) -> Option<Wire> {
    Some(match op {
        Op::PutCheck(c) => Wire::PutCheck {
            uuid: c.uuid.clone(),
            spec: c.spec.clone(),
            managed: c.managed,
            default_grace_ms: c.default_grace_ms,
            state: c.state.clone(),
            created_ms: c.created_ms,
        },
        Op::PutState { uuid, state } => Wire::PutState {
            uuid: uuid.clone(),
            state: state.clone(),
        },
        // A ping's row carries the check's state after it: that is all memory needs.
        Op::Ping(p) => Wire::PutState {
            uuid: p.check_uuid.clone(),
            state: p.state.clone(),
        },
        Op::DeleteCheck(uuid) => Wire::DeleteCheck { uuid: uuid.clone() },
        Op::Flip(_) | Op::PutSlot(_) | Op::TrimSlots { .. } => return None,
        Op::PutChannel {
            name,
            config,
            managed,
        } => Wire::PutChannel {
            name: name.clone(),
            config: config.clone(),
            managed: *managed,
        },
        Op::DeleteChannel(name) => Wire::DeleteChannel { name: name.clone() },
        // The event itself (the bulk of a burst) stays in the outbox table: a node reads
        // it there when it comes to send one (see `History::outbox_payload`).
        Op::Enqueue(o) => Wire::Enqueue {
            id: o.id,
            event_id: o.event_id.clone(),
            event: o.event.clone(),
            channel: o.channel.clone(),
            check_uuid: o.check_uuid.clone(),
            payload: String::new(),
            attempts: o.attempts,
            next_attempt_ms: o.next_attempt_ms,
            created_ms: o.created_ms,
        },
        Op::Attempt(a) => Wire::Attempt {
            id: a.id,
            attempts: a.attempts,
            at_ms: a.at_ms,
            next_attempt_ms: a.next_attempt_ms,
            done: a.done,
            ok: a.ok,
            status_code: a.status_code,
            error: a.error.clone(),
        },
        Op::Claim { id, node, until_ms } => Wire::Claim {
            id: *id,
            node: node.clone(),
            until_ms: *until_ms,
        },
        Op::PutWindow {
            name,
            spec,
            managed,
        } => Wire::PutWindow {
            name: name.clone(),
            spec: spec.clone(),
            managed: *managed,
        },
        Op::DeleteWindow(name) => Wire::DeleteWindow { name: name.clone() },
        Op::Suppressed { row, .. } => Wire::Held { id: row.id },
    })
}

fn from_wire(wire: Wire) -> Op {
    match wire {
        Wire::PutCheck {
            uuid,
            spec,
            managed,
            default_grace_ms,
            state,
            created_ms,
        } => Op::PutCheck(CheckRow {
            uuid,
            spec,
            managed,
            default_grace_ms,
            state,
            created_ms,
        }),
        Wire::PutState { uuid, state } => Op::PutState { uuid, state },
        Wire::DeleteCheck { uuid } => Op::DeleteCheck(uuid),
        Wire::PutChannel {
            name,
            config,
            managed,
        } => Op::PutChannel {
            name,
            config,
            managed,
        },
        Wire::DeleteChannel { name } => Op::DeleteChannel(name),
        Wire::Enqueue {
            id,
            event_id,
            event,
            channel,
            check_uuid,
            payload,
            attempts,
            next_attempt_ms,
            created_ms,
        } => Op::Enqueue(OutboxRow {
            id,
            event_id,
            event,
            channel,
            check_uuid,
            payload,
            attempts,
            next_attempt_ms,
            created_ms,
        }),
        Wire::Attempt {
            id,
            attempts,
            at_ms,
            next_attempt_ms,
            done,
            ok,
            status_code,
            error,
        } => Op::Attempt(AttemptRow {
            id,
            attempts,
            at_ms,
            next_attempt_ms,
            done,
            ok,
            status_code,
            error,
        }),
        Wire::Claim { id, node, until_ms } => Op::Claim { id, node, until_ms },
        Wire::PutWindow {
            name,
            spec,
            managed,
        } => Op::PutWindow {
            name,
            spec,
            managed,
        },
        Wire::DeleteWindow { name } => Op::DeleteWindow(name),
        // Replayed for its id alone.
        Wire::Held { id } => Op::Suppressed {
            row: OutboxRow {
                id,
                event_id: String::new(),
                event: String::new(),
                channel: String::new(),
                check_uuid: None,
                payload: String::new(),
                attempts: 0,
                next_attempt_ms: 0,
                created_ms: 0,
            },
            reason: String::new(),
        },
    }
}

/// The operations of one caller that the other nodes must replay, as JSON; `None`
/// when there are none (history alone).
pub fn encode(ops: &[Op]) -> Option<String> {
    let wire: Vec<Wire> = ops.iter().filter_map(to_wire).collect();
    (!wire.is_empty()).then(|| serde_json::to_string(&wire).expect("operations serialize"))
}

/// Reads back what [`encode`] wrote.
pub fn decode(text: &str) -> Result<Vec<Op>> {
    let wire: Vec<Wire> =
        serde_json::from_str(text).context("a change in the shared log cannot be read")?;
    Ok(wire.into_iter().map(from_wire).collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::serve::store::PingRow;

    #[test]
    fn a_ping_travels_as_the_state_it_left_and_flips_stay_home() {
        let ops = vec![
            Op::Ping(PingRow {
                check_uuid: "c".into(),
                n: 3,
                at_ms: 5,
                kind: "success",
                exit_code: None,
                rid: None,
                remote_addr: None,
                user_agent: None,
                method: "GET".into(),
                body: Some("a big body".into()),
                duration: None,
                state: "{\"seq\":4}".into(),
            }),
            Op::Claim {
                id: 7,
                node: "n1".into(),
                until_ms: 99,
            },
        ];
        let text = encode(&ops).unwrap();
        assert!(!text.contains("a big body"));
        let back = decode(&text).unwrap();
        assert!(
            matches!(&back[0], Op::PutState { uuid, state } if uuid == "c" && state == "{\"seq\":4}")
        );
        assert!(matches!(&back[1], Op::Claim { id: 7, node, until_ms: 99 } if node == "n1"));
        assert!(encode(&[]).is_none());
    }

    #[test]
    fn a_queued_event_travels_without_its_payload() {
        let row = crate::serve::store::OutboxRow {
            id: 3,
            event_id: "e".into(),
            event: "down".into(),
            channel: "hook".into(),
            check_uuid: Some("c".into()),
            payload: "{\"a big\": \"event\"}".into(),
            attempts: 0,
            next_attempt_ms: 1,
            created_ms: 1,
        };
        let back = decode(&encode(&[Op::Enqueue(row)]).unwrap()).unwrap();
        assert!(
            matches!(&back[0], Op::Enqueue(r) if r.id == 3 && r.payload.is_empty() && r.event_id == "e")
        );
    }
}
