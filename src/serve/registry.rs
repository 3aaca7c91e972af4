//! The monitor's working set in memory: checks with their state, channels, the
//! deadline queue and the outbox queue. Every change returns the store operations
//! that make it durable; the caller hands them to the writer in the same order.

use jiff::Timestamp;
use serde_json::{Map, Value, json};
use std::collections::{BTreeMap, BTreeSet, HashMap};
use uuid::Uuid;

use super::check::{CheckSpec, Settings, merge_patch, parse_spec};
use super::notify::{ChannelKind, Event};
use super::status::{Alert, Outcome, Ping, State, Targets};
use super::store::{CheckRow, FlipRow, Op, OutboxRow, PingRow, Snapshot};

pub struct Entry {
    pub settings: Settings,
    pub state: State,
    pub created_ms: i64,
}

#[derive(Debug, Clone)]
pub struct ChannelEntry {
    pub kind: ChannelKind,
    pub managed: bool,
}

/// An API error: the status code it becomes and its message.
#[derive(Debug, Clone, PartialEq)]
pub enum ApiError {
    BadRequest(String),
    NotFound(String),
    Conflict(String),
    /// 503: storage failed; the change was not made.
    Unavailable(String),
}

/// Who sent a ping and how; recorded with it.
#[derive(Debug, Clone, Default)]
pub struct PingMeta {
    pub remote_addr: Option<String>,
    pub user_agent: Option<String>,
    pub method: String,
    pub body: Option<String>,
}

#[derive(Default)]
pub struct Registry {
    pub checks: HashMap<Uuid, Entry>,
    by_slug: HashMap<String, Uuid>,
    by_name: HashMap<String, Uuid>,
    pub channels: BTreeMap<String, ChannelEntry>,
    deadlines: BTreeSet<(Timestamp, Uuid)>,
    deadline_of: HashMap<Uuid, Timestamp>,
    /// Deliveries waiting, keyed by (next attempt, id).
    pub outbox: BTreeMap<(i64, i64), OutboxRow>,
    next_outbox_id: i64,
    /// Base URL for links in alerts.
    pub public_base: String,
}

/// The state as stored, one `seq` newer than the last stored copy.
fn state_json(state: &mut State) -> String {
    state.seq += 1;
    serde_json::to_string(state).expect("state serializes")
}

fn check_row(entry: &mut Entry) -> CheckRow {
    CheckRow {
        uuid: entry.settings.uuid.to_string(),
        spec: serde_json::to_string(&entry.settings.to_spec()).expect("spec serializes"),
        managed: entry.settings.managed,
        default_grace_ms: entry.settings.default_grace.as_millis() as i64,
        state: state_json(&mut entry.state),
        created_ms: entry.created_ms,
    }
}

impl Registry {
    /// Rebuilds the working set from what is stored; `now` is the start-up time.
    pub fn load(snapshot: Snapshot, now: Timestamp, public_base: String) -> Registry {
        let mut reg = Registry {
            next_outbox_id: snapshot.max_outbox_id + 1,
            public_base,
            ..Registry::default()
        };
        for row in snapshot.checks {
            let loaded = serde_json::from_str::<Value>(&row.spec)
                .map_err(|e| e.to_string())
                .and_then(parse_spec)
                .and_then(|spec| Settings::from_spec(&spec, now, row.managed))
                .and_then(|mut settings| {
                    settings.default_grace =
                        std::time::Duration::from_millis(row.default_grace_ms.max(1000) as u64);
                    let state: State =
                        serde_json::from_str(&row.state).map_err(|e| e.to_string())?;
                    Ok((settings, state))
                });
            match loaded {
                Ok((settings, mut state)) => {
                    state.on_startup(&settings, now);
                    reg.insert(Entry {
                        settings,
                        state,
                        created_ms: row.created_ms,
                    });
                }
                Err(e) => eprintln!("hb: skipping stored check {}: {e}", row.uuid),
            }
        }
        for (name, config, managed) in snapshot.channels {
            match serde_json::from_str::<Value>(&config)
                .map_err(|e| e.to_string())
                .and_then(|v| ChannelKind::from_json(&v))
            {
                Ok(kind) => {
                    reg.channels.insert(name, ChannelEntry { kind, managed });
                }
                Err(e) => eprintln!("hb: skipping stored channel {name}: {e}"),
            }
        }
        // Deliveries left pending by the last run are tried again at once.
        for mut row in snapshot.pending {
            row.next_attempt_ms = row.next_attempt_ms.min(now.as_millisecond());
            reg.outbox.insert((row.next_attempt_ms, row.id), row);
        }
        reg
    }

    fn insert(&mut self, entry: Entry) {
        let uuid = entry.settings.uuid;
        self.by_slug.insert(entry.settings.slug.clone(), uuid);
        self.by_name.insert(entry.settings.name.clone(), uuid);
        self.checks.insert(uuid, entry);
        self.reschedule(uuid);
    }

    fn remove(&mut self, uuid: Uuid) -> Option<Entry> {
        let entry = self.checks.remove(&uuid)?;
        self.by_slug.remove(&entry.settings.slug);
        self.by_name.remove(&entry.settings.name);
        if let Some(t) = self.deadline_of.remove(&uuid) {
            self.deadlines.remove(&(t, uuid));
        }
        Some(entry)
    }

    /// Puts the check's next deadline in the queue.
    fn reschedule(&mut self, uuid: Uuid) {
        if let Some(old) = self.deadline_of.remove(&uuid) {
            self.deadlines.remove(&(old, uuid));
        }
        if let Some(entry) = self.checks.get(&uuid)
            && let Some(t) = entry.state.next_deadline(&entry.settings)
        {
            self.deadlines.insert((t, uuid));
            self.deadline_of.insert(uuid, t);
        }
    }

    /// The earliest deadline of any check.
    pub fn next_deadline(&self) -> Option<Timestamp> {
        self.deadlines.first().map(|(t, _)| *t)
    }

    /// The earliest outbox attempt.
    pub fn next_delivery_ms(&self) -> Option<i64> {
        self.outbox.keys().next().map(|(t, _)| *t)
    }

    pub fn find_by_slug(&self, slug: &str) -> Option<Uuid> {
        self.by_slug.get(slug).copied()
    }

    pub fn check_json(&self, uuid: Uuid, now: Timestamp, base: &str) -> Option<Value> {
        let entry = self.checks.get(&uuid)?;
        Some(entry.settings.to_json(&entry.state, now, base))
    }

    /// Records a ping and moves the check.
    pub fn ping(&mut self, uuid: Uuid, ping: &Ping, meta: PingMeta, ops: &mut Vec<Op>) {
        let Some(entry) = self.checks.get_mut(&uuid) else {
            return;
        };
        let outcome = entry.state.apply_ping(&entry.settings, ping);
        // The state travels with the ping row: one page written per ping, not two.
        ops.push(Op::Ping(PingRow {
            check_uuid: uuid.to_string(),
            n: entry.state.n_pings,
            at_ms: ping.at.as_millisecond(),
            kind: ping.effective_kind().as_str(),
            exit_code: ping.exit_code,
            rid: ping.rid.clone(),
            remote_addr: meta.remote_addr,
            user_agent: meta.user_agent,
            method: meta.method,
            body: meta.body.clone(),
            duration: outcome.duration,
            state: state_json(&mut entry.state),
        }));
        self.settle(uuid, outcome, meta.body, ping.at, ops, false);
    }

    /// Records what an outcome did: state, flips, alerts; re-queues the deadline.
    fn settle(
        &mut self,
        uuid: Uuid,
        outcome: Outcome,
        body: Option<String>,
        now: Timestamp,
        ops: &mut Vec<Op>,
        store_state: bool,
    ) {
        let Some(entry) = self.checks.get_mut(&uuid) else {
            return;
        };
        if store_state {
            ops.push(Op::PutState {
                uuid: uuid.to_string(),
                state: state_json(&mut entry.state),
            });
        }
        for flip in &outcome.flips {
            ops.push(Op::Flip(FlipRow {
                check_uuid: uuid.to_string(),
                at_ms: flip.at.as_millisecond(),
                from: flip.from.as_str(),
                to: flip.to.as_str(),
                reason: flip.reason.clone(),
            }));
        }
        for alert in &outcome.alerts {
            self.enqueue_alert(uuid, alert, body.clone(), now, ops);
        }
        self.reschedule(uuid);
    }

    fn targets(&self, settings: &Settings, targets: &Targets) -> Vec<String> {
        let base: Vec<String> = match &settings.channels {
            None => self.channels.keys().cloned().collect(),
            Some(names) => names.clone(),
        };
        let mut names = match targets {
            Targets::Check => base,
            Targets::CheckAnd(extra) => base.into_iter().chain(extra.iter().cloned()).collect(),
            Targets::Only(names) => names.clone(),
        };
        names.sort();
        names.dedup();
        names.retain(|n| self.channels.contains_key(n));
        names
    }

    fn enqueue_alert(
        &mut self,
        uuid: Uuid,
        alert: &Alert,
        body: Option<String>,
        now: Timestamp,
        ops: &mut Vec<Op>,
    ) {
        let Some(entry) = self.checks.get(&uuid) else {
            return;
        };
        let channels = self.targets(&entry.settings, &alert.targets);
        let event = Event {
            event_id: Uuid::new_v4().to_string(),
            event: alert.event.to_string(),
            check: entry.settings.to_json(&entry.state, now, &self.public_base),
            reason: alert.reason.clone(),
            at: alert.at,
            repeat: alert.repeat,
            body,
            check_url: format!("{}/api/v1/heartbeats/{}", self.public_base, uuid),
        };
        self.enqueue_event(&event, Some(uuid), channels, now, ops);
    }

    /// Queues one event for each named channel.
    pub fn enqueue_event(
        &mut self,
        event: &Event,
        check: Option<Uuid>,
        channels: Vec<String>,
        now: Timestamp,
        ops: &mut Vec<Op>,
    ) -> Vec<i64> {
        let payload = serde_json::to_string(event).expect("event serializes");
        let mut ids = Vec::new();
        for channel in channels {
            let row = OutboxRow {
                id: self.next_outbox_id,
                event_id: event.event_id.clone(),
                event: event.event.clone(),
                channel,
                check_uuid: check.map(|u| u.to_string()),
                payload: payload.clone(),
                attempts: 0,
                next_attempt_ms: now.as_millisecond(),
                created_ms: now.as_millisecond(),
            };
            self.next_outbox_id += 1;
            ids.push(row.id);
            ops.push(Op::Enqueue(row.clone()));
            self.outbox.insert((row.next_attempt_ms, row.id), row);
        }
        ids
    }

    /// What is due at `now` (missed and stuck runs, slow runs, repeats, escalations),
    /// for at most `limit` checks; returns whether more are due.
    pub fn tick(&mut self, now: Timestamp, limit: usize, ops: &mut Vec<Op>) -> bool {
        let mut done = 0;
        while let Some(&(t, uuid)) = self.deadlines.first() {
            if t > now {
                break;
            }
            if done == limit {
                return true;
            }
            done += 1;
            self.deadlines.pop_first();
            self.deadline_of.remove(&uuid);
            let Some(entry) = self.checks.get_mut(&uuid) else {
                continue;
            };
            let outcome = entry.state.tick(&entry.settings, now);
            if outcome == Outcome::default() {
                // Nothing happened (e.g. a deadline that moved); re-queue only if still ahead.
                if let Some(next) = entry.state.next_deadline(&entry.settings)
                    && next > now
                {
                    self.deadlines.insert((next, uuid));
                    self.deadline_of.insert(uuid, next);
                }
                continue;
            }
            self.settle(uuid, outcome, None, now, ops, true);
        }
        false
    }

    pub fn create(
        &mut self,
        spec: &CheckSpec,
        now: Timestamp,
        managed: bool,
        ops: &mut Vec<Op>,
    ) -> Result<Uuid, ApiError> {
        let settings = Settings::from_spec(spec, now, managed).map_err(ApiError::BadRequest)?;
        self.check_unique(&settings, None)?;
        let mut entry = Entry {
            settings,
            state: State::default(),
            created_ms: now.as_millisecond(),
        };
        ops.push(Op::PutCheck(check_row(&mut entry)));
        let uuid = entry.settings.uuid;
        self.insert(entry);
        Ok(uuid)
    }

    fn check_unique(&self, settings: &Settings, except: Option<Uuid>) -> Result<(), ApiError> {
        let taken = |found: Option<&Uuid>| found.is_some_and(|u| Some(*u) != except);
        if taken(self.by_name.get(&settings.name)) {
            return Err(ApiError::Conflict(format!(
                "name: a check named {:?} exists already; pick another name",
                settings.name
            )));
        }
        if taken(self.by_slug.get(&settings.slug)) {
            return Err(ApiError::Conflict(format!(
                "name: the slug {:?} of this name is taken by another check; pick another name",
                settings.slug
            )));
        }
        if except.is_none() && self.checks.contains_key(&settings.uuid) {
            return Err(ApiError::Conflict(format!(
                "uuid: a check with uuid {} exists already",
                settings.uuid
            )));
        }
        Ok(())
    }

    /// Replaces a check's settings, keeping its state.
    pub fn replace(
        &mut self,
        uuid: Uuid,
        mut settings: Settings,
        ops: &mut Vec<Op>,
    ) -> Result<(), ApiError> {
        self.check_unique(&settings, Some(uuid))?;
        let mut entry = self.remove(uuid).ok_or_else(|| not_found(uuid))?;
        settings.uuid = uuid;
        entry.settings = settings;
        ops.push(Op::PutCheck(check_row(&mut entry)));
        self.insert(entry);
        Ok(())
    }

    pub fn patch(
        &mut self,
        uuid: Uuid,
        patch: &Map<String, Value>,
        now: Timestamp,
        ops: &mut Vec<Op>,
    ) -> Result<(), ApiError> {
        let entry = self.checks.get(&uuid).ok_or_else(|| not_found(uuid))?;
        if let Some(new_uuid) = patch.get("uuid")
            && new_uuid.as_str() != Some(uuid.to_string().as_str())
        {
            return Err(ApiError::BadRequest(
                "uuid: a check's uuid cannot be changed".into(),
            ));
        }
        let spec = merge_patch(&entry.settings.to_spec(), patch).map_err(ApiError::BadRequest)?;
        let settings = Settings::from_spec(&spec, now, entry.settings.managed)
            .map_err(ApiError::BadRequest)?;
        self.replace(uuid, settings, ops)
    }

    pub fn delete(&mut self, uuid: Uuid, ops: &mut Vec<Op>) -> Result<(), ApiError> {
        self.remove(uuid).ok_or_else(|| not_found(uuid))?;
        ops.push(Op::DeleteCheck(uuid.to_string()));
        Ok(())
    }

    pub fn pause(&mut self, uuid: Uuid, now: Timestamp, ops: &mut Vec<Op>) -> Result<(), ApiError> {
        let entry = self.checks.get_mut(&uuid).ok_or_else(|| not_found(uuid))?;
        let outcome = entry.state.pause(now);
        self.settle(uuid, outcome, None, now, ops, true);
        Ok(())
    }

    pub fn resume(
        &mut self,
        uuid: Uuid,
        now: Timestamp,
        ops: &mut Vec<Op>,
    ) -> Result<(), ApiError> {
        let entry = self.checks.get_mut(&uuid).ok_or_else(|| not_found(uuid))?;
        let outcome = entry.state.resume(now);
        self.settle(uuid, outcome, None, now, ops, true);
        Ok(())
    }

    pub fn list(
        &self,
        now: Timestamp,
        base: &str,
        tag: Option<&str>,
        status: Option<&str>,
    ) -> Vec<Value> {
        let mut entries: Vec<&Entry> = self
            .checks
            .values()
            .filter(|e| tag.is_none_or(|t| e.settings.tags.iter().any(|x| x == t)))
            .collect();
        entries.sort_by(|a, b| {
            (a.created_ms, &a.settings.name).cmp(&(b.created_ms, &b.settings.name))
        });
        entries
            .into_iter()
            .map(|e| e.settings.to_json(&e.state, now, base))
            .filter(|v| status.is_none_or(|s| v["status"] == s))
            .collect()
    }

    /// Counts of checks by displayed status.
    pub fn status_counts(&self, now: Timestamp) -> HashMap<&'static str, u64> {
        let mut counts = HashMap::new();
        for entry in self.checks.values() {
            let (status, _, _) = entry.state.view(&entry.settings, now);
            *counts.entry(status.as_str()).or_insert(0) += 1;
        }
        counts
    }

    // Channels.

    pub fn channel_json(&self, name: &str) -> Option<Value> {
        let entry = self.channels.get(name)?;
        Some(channel_json(name, entry))
    }

    pub fn channel_list(&self) -> Vec<Value> {
        self.channels
            .iter()
            .map(|(n, e)| channel_json(n, e))
            .collect()
    }

    pub fn put_channel(&mut self, name: &str, kind: ChannelKind, managed: bool, ops: &mut Vec<Op>) {
        ops.push(Op::PutChannel {
            name: name.to_string(),
            config: kind.to_json().to_string(),
            managed,
        });
        self.channels
            .insert(name.to_string(), ChannelEntry { kind, managed });
    }

    pub fn delete_channel(&mut self, name: &str, ops: &mut Vec<Op>) -> Result<(), ApiError> {
        self.channels
            .remove(name)
            .ok_or_else(|| ApiError::NotFound(format!("no channel named {name:?}")))?;
        ops.push(Op::DeleteChannel(name.to_string()));
        Ok(())
    }

    /// Config as code: create or update the file's channels and checks by name; checks
    /// no longer in the file stay, unmanaged. Returns one message per entry refused.
    pub fn apply_config(
        &mut self,
        channels: Vec<(String, ChannelKind)>,
        checks: Vec<CheckSpec>,
        now: Timestamp,
        ops: &mut Vec<Op>,
    ) -> Vec<String> {
        let mut problems = Vec::new();
        let declared_channels: BTreeSet<String> = channels.iter().map(|(n, _)| n.clone()).collect();
        for (name, kind) in channels {
            let unchanged = self
                .channels
                .get(&name)
                .is_some_and(|e| e.kind == kind && e.managed);
            if !unchanged {
                self.put_channel(&name, kind, true, ops);
            }
        }
        let stale: Vec<String> = self
            .channels
            .iter()
            .filter(|(n, e)| e.managed && !declared_channels.contains(*n))
            .map(|(n, _)| n.clone())
            .collect();
        for name in stale {
            if let Some(entry) = self.channels.get(&name).cloned() {
                self.put_channel(&name, entry.kind, false, ops);
            }
        }
        let mut declared = BTreeSet::new();
        for spec in checks {
            let name = spec.name.clone().unwrap_or_default();
            let settings = match Settings::from_spec(&spec, now, true) {
                Ok(s) => s,
                Err(e) => {
                    problems.push(format!("[[check]] {name:?}: {e}"));
                    continue;
                }
            };
            let existing = self.by_name.get(&settings.name).copied().or_else(|| {
                spec.uuid
                    .as_deref()
                    .and_then(|u| Uuid::parse_str(u).ok())
                    .filter(|u| self.checks.contains_key(u))
            });
            let result = match existing {
                Some(uuid) => {
                    if spec.uuid.is_some() && settings.uuid != uuid {
                        problems.push(format!(
                            "[[check]] {name:?}: uuid {} differs from the existing check's {uuid}; remove the uuid line or delete the check first",
                            settings.uuid
                        ));
                        continue;
                    }
                    let mut settings = settings;
                    if let Some(old) = self.checks.get(&uuid) {
                        // Keep the default grace stable across reloads.
                        settings.default_grace = old.settings.default_grace;
                    }
                    declared.insert(uuid);
                    self.replace(uuid, settings, ops)
                }
                None => self.create(&spec, now, true, ops).map(|uuid| {
                    declared.insert(uuid);
                }),
            };
            if let Err(
                ApiError::BadRequest(e)
                | ApiError::Conflict(e)
                | ApiError::NotFound(e)
                | ApiError::Unavailable(e),
            ) = result
            {
                problems.push(format!("[[check]] {name:?}: {e}"));
            }
        }
        let unmanaged: Vec<Uuid> = self
            .checks
            .iter()
            .filter(|(u, e)| e.settings.managed && !declared.contains(*u))
            .map(|(u, _)| *u)
            .collect();
        for uuid in unmanaged {
            if let Some(entry) = self.checks.get_mut(&uuid) {
                entry.settings.managed = false;
                ops.push(Op::PutCheck(check_row(entry)));
            }
        }
        problems
    }
}

fn not_found(uuid: Uuid) -> ApiError {
    ApiError::NotFound(format!("no check with uuid {uuid}"))
}

fn channel_json(name: &str, entry: &ChannelEntry) -> Value {
    let mut value = entry.kind.to_json();
    if let Value::Object(map) = &mut value {
        map.insert("name".into(), json!(name));
        map.insert("managed".into(), json!(entry.managed));
    }
    value
}

/// Whether a name is usable as a channel name (it appears in URLs).
pub fn valid_channel_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 64
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
}
