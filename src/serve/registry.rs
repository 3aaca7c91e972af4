//! The monitor's working set in memory: checks with their state, channels, the
//! deadline queue and the outbox queue. Every change returns the store operations
//! that make it durable; the caller hands them to the writer in the same order.
//!
//! Every change also keeps an [`Undo`]: the before-image of each check, channel and
//! outbox row it touched. When its commit fails, the writer puts those back, so a
//! change answered with an error leaves no trace in memory either.

use jiff::Timestamp;
use serde_json::{Map, Value, json};
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Arc;
use uuid::Uuid;

use super::check::{CheckSpec, Settings, merge_patch, parse_spec};
use super::maintenance::{self, Window, WindowSpec};
use super::notify::{ChannelKind, Event};
use super::slots::{self, Ledger, Open, Rules, SlotRow};
use super::status::{Alert, Health, Outcome, Ping, State, Targets};
use super::store::{
    AttemptRow, CheckRow, FlipRow, Op, OutboxRow, PingRow, SlotOutcomeRow, Snapshot,
};

#[derive(Clone)]
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

/// A maintenance window and whether the config file declares it.
#[derive(Debug, Clone)]
pub struct WindowEntry {
    pub window: Arc<Window>,
    pub managed: bool,
}

/// Errors of changes are hb's one error type.
pub use crate::error::Error as ApiError;

/// Who sent a ping and how; recorded with it.
#[derive(Debug, Clone, Default)]
pub struct PingMeta {
    pub remote_addr: Option<String>,
    pub user_agent: Option<String>,
    pub method: String,
    pub body: Option<String>,
}

/// What a change touched: a later change that touched the same thing built on it.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Key {
    Check(Uuid),
    Channel(String),
    Outbox(i64),
    /// What a check's or channel's settings are: names, channels, everything a
    /// change to the configuration reads (shared stores order such changes).
    Config,
    Window(String),
}

enum UndoStep {
    Check(Uuid, Option<Box<Entry>>),
    State(Uuid, Box<State>),
    Channel(String, Option<ChannelEntry>),
    Window(String, Option<WindowEntry>),
    Outbox(i64, Option<Pending>),
    PublicBase(String),
}

/// How to take one change back out of memory: before-images, newest last.
#[derive(Default)]
pub struct Undo {
    steps: Vec<UndoStep>,
    keys: BTreeSet<Key>,
}

impl Undo {
    pub fn keys(&self) -> &BTreeSet<Key> {
        &self.keys
    }

    /// Whether this change touched any of `keys`.
    pub fn touches(&self, keys: &BTreeSet<Key>) -> bool {
        if self.keys.len() < keys.len() {
            self.keys.iter().any(|k| keys.contains(k))
        } else {
            keys.iter().any(|k| self.keys.contains(k))
        }
    }

    pub fn is_empty(&self) -> bool {
        self.steps.is_empty()
    }
}

/// A delivery waiting in memory: its row, the change that queued it, and whether an
/// attempt is under way.
#[derive(Debug, Clone)]
pub struct Pending {
    pub row: OutboxRow,
    /// The change that queued it; it may be sent once that change is committed.
    pub seq: u64,
    pub in_flight: bool,
    /// On a shared store: the node holding the lease on it, and until when (ms).
    pub lease: Option<(String, i64)>,
}

/// Where events must arrive in the order they happened: one check, one channel.
type Lane = (Option<String>, String);

fn lane_of(row: &OutboxRow) -> Lane {
    (row.check_uuid.clone(), row.channel.clone())
}

/// Deliveries not yet done. A delivery may go when it is due, its change is committed,
/// and it is the oldest undone event of its lane (so `up` never overtakes `down`).
/// Waiting rows are kept per channel, so a channel whose slots are all taken costs
/// nothing to skip, however many of its deliveries wait.
#[derive(Default)]
pub struct Outbox {
    rows: HashMap<i64, Pending>,
    /// Rows waiting for an attempt (not in flight), per channel, by (next attempt, id).
    due: HashMap<String, BTreeSet<(i64, i64)>>,
    lanes: HashMap<Lane, BTreeSet<i64>>,
}

impl Outbox {
    pub fn len(&self) -> usize {
        self.rows.len()
    }

    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    pub fn get(&self, id: i64) -> Option<&Pending> {
        self.rows.get(&id)
    }

    fn insert(&mut self, pending: Pending) {
        let id = pending.row.id;
        if !pending.in_flight {
            self.due
                .entry(pending.row.channel.clone())
                .or_default()
                .insert((pending.row.next_attempt_ms, id));
        }
        self.lanes
            .entry(lane_of(&pending.row))
            .or_default()
            .insert(id);
        self.rows.insert(id, pending);
    }

    fn unqueue(&mut self, channel: &str, key: (i64, i64)) {
        if let Some(set) = self.due.get_mut(channel) {
            set.remove(&key);
            if set.is_empty() {
                self.due.remove(channel);
            }
        }
    }

    fn remove(&mut self, id: i64) -> Option<Pending> {
        let pending = self.rows.remove(&id)?;
        self.unqueue(&pending.row.channel, (pending.row.next_attempt_ms, id));
        let lane = lane_of(&pending.row);
        if let Some(ids) = self.lanes.get_mut(&lane) {
            ids.remove(&id);
            if ids.is_empty() {
                self.lanes.remove(&lane);
            }
        }
        Some(pending)
    }

    /// Whether a waiting row may go (ignoring its time and the channel's slots).
    fn eligible(&self, id: i64, committed: u64) -> bool {
        self.rows.get(&id).is_some_and(|p| {
            p.seq <= committed
                && !p.in_flight
                && self.lanes.get(&lane_of(&p.row)).and_then(|ids| ids.first()) == Some(&id)
        })
    }

    /// Takes the rows that may go at `now_ms`, at most `limit`, and from each channel
    /// at most `free(channel)` (its free slots); marks them in flight.
    pub fn take_due(
        &mut self,
        now_ms: i64,
        committed: u64,
        limit: usize,
        mut free: impl FnMut(&str) -> usize,
    ) -> Vec<OutboxRow> {
        let mut chosen: Vec<(String, (i64, i64))> = Vec::new();
        for (channel, set) in &self.due {
            let room = free(channel).min(limit - chosen.len());
            let mut taken = 0;
            for &(t, id) in set {
                if t > now_ms || taken >= room {
                    break;
                }
                if self.eligible(id, committed) {
                    chosen.push((channel.clone(), (t, id)));
                    taken += 1;
                }
            }
            if chosen.len() >= limit {
                break;
            }
        }
        chosen.sort_by_key(|(_, key)| *key);
        chosen
            .into_iter()
            .map(|(channel, key)| {
                self.unqueue(&channel, key);
                let pending = self.rows.get_mut(&key.1).expect("a chosen row exists");
                pending.in_flight = true;
                pending.row.clone()
            })
            .collect()
    }

    /// The earliest time a waiting row may go, if one could go now or later without
    /// another change first (rows behind an earlier event of their lane wait for it).
    pub fn next_due_ms(&self, committed: u64) -> Option<i64> {
        self.due
            .values()
            .filter_map(|set| {
                set.iter()
                    .find(|(_, id)| self.eligible(*id, committed))
                    .map(|(t, _)| *t)
            })
            .min()
    }

    /// Whether nothing is left to do at `now_ms`: nothing in flight, nothing waiting
    /// for its change's commit, nothing due that may go.
    pub fn idle(&self, now_ms: i64, committed: u64) -> bool {
        self.rows
            .values()
            .all(|p| !p.in_flight && p.seq <= committed)
            && self.next_due_ms(committed).is_none_or(|t| t > now_ms)
    }

    /// Deliveries in flight.
    pub fn in_flight(&self) -> usize {
        self.rows.values().filter(|p| p.in_flight).count()
    }
}

#[derive(Default)]
pub struct Registry {
    pub checks: HashMap<Uuid, Entry>,
    by_slug: HashMap<String, Uuid>,
    by_name: HashMap<String, Uuid>,
    pub channels: BTreeMap<String, ChannelEntry>,
    /// Maintenance windows by name.
    pub windows: BTreeMap<String, WindowEntry>,
    /// While the config file is applied, dependencies are checked once for the whole
    /// file (a check may name one declared further down).
    defer_dependencies: bool,
    deadlines: BTreeSet<(Timestamp, Uuid)>,
    deadline_of: HashMap<Uuid, Timestamp>,
    /// Checks in the list's order (created, name, uuid), for reads in slices.
    order: BTreeSet<OrderKey>,
    pub outbox: Outbox,
    next_outbox_id: i64,
    /// Base URL for links in alerts.
    pub public_base: String,
    /// What badge tokens are made from (`badge_url` in a check's JSON).
    pub secrets: Option<crate::serve::secret::Secrets>,
    /// The change being made, and how to undo it.
    seq: u64,
    journal: Undo,
    /// This node's name on a shared store (empty on a store of its own): deliveries
    /// are leased to it before they are sent.
    pub node: String,
}

/// A window as stored.
fn stored_window(spec: &str) -> Result<Window, String> {
    serde_json::from_str::<Value>(spec)
        .map_err(|e| e.to_string())
        .and_then(maintenance::parse_spec)
        .and_then(|spec| Window::from_stored(&spec))
}

/// A check's place in the list: (created, name, uuid).
pub type OrderKey = (i64, String, Uuid);

fn order_key(entry: &Entry) -> OrderKey {
    (
        entry.created_ms,
        entry.settings.name.clone(),
        entry.settings.uuid,
    )
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
        for (name, spec, managed) in snapshot.windows {
            match stored_window(&spec) {
                Ok(window) => {
                    reg.windows.insert(
                        name,
                        WindowEntry {
                            window: Arc::new(window),
                            managed,
                        },
                    );
                }
                Err(e) => super::log::warn(
                    "load",
                    format!("skipping stored maintenance window {name}: {e}"),
                )
                .emit(),
            }
        }
        for row in snapshot.checks {
            let loaded = serde_json::from_str::<Value>(&row.spec)
                .map_err(|e| e.to_string())
                .and_then(parse_spec)
                // Stored values past today's bounds load clamped, never refused.
                .and_then(|spec| Settings::from_stored(&spec, now, row.managed))
                .and_then(|mut settings| {
                    settings.default_grace =
                        std::time::Duration::from_millis(row.default_grace_ms.max(1000) as u64);
                    let state: State =
                        serde_json::from_str(&row.state).map_err(|e| e.to_string())?;
                    Ok((settings, state))
                });
            match loaded {
                Ok((settings, mut state)) => {
                    if state.slots.since.is_none() {
                        // Stored before the slot ledger: it begins now (older slots are
                        // worked out from the pings).
                        state.slots = Ledger::new(now);
                        state.slots.anchor = state.last_ping.map(|t| t.as_millisecond());
                    }
                    state.on_startup(&settings, now);
                    reg.insert(Entry {
                        settings,
                        state,
                        created_ms: row.created_ms,
                    });
                }
                Err(e) => {
                    super::log::warn("load", format!("skipping stored check {}: {e}", row.uuid))
                        .emit()
                }
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
                Err(e) => {
                    super::log::warn("load", format!("skipping stored channel {name}: {e}")).emit()
                }
            }
        }
        // Deliveries left pending by the last run are tried again at once.
        for mut row in snapshot.pending {
            row.next_attempt_ms = row.next_attempt_ms.min(now.as_millisecond());
            let lease = snapshot.leases.get(&row.id).cloned();
            if let Some((_, until)) = &lease {
                // Another node may be sending it: wait for its lease to end.
                row.next_attempt_ms = row.next_attempt_ms.max(*until);
            }
            reg.outbox.insert(Pending {
                row,
                seq: 0,
                in_flight: false,
                lease,
            });
        }
        reg
    }

    /// A copy of the checks and channels alone (no outbox, no journal), to try a
    /// change on without touching this registry (`hb config plan`).
    pub fn scratch_copy(&self) -> Registry {
        Registry::from_parts(self.checks.values().cloned(), self.channels.clone())
            .with_windows(self.windows.clone())
    }

    /// This registry with these maintenance windows.
    pub fn with_windows(mut self, windows: BTreeMap<String, WindowEntry>) -> Registry {
        self.windows = windows;
        self.refresh_windows();
        self
    }

    /// A registry of these checks and channels alone (no outbox, no journal).
    pub fn from_parts(
        entries: impl IntoIterator<Item = Entry>,
        channels: BTreeMap<String, ChannelEntry>,
    ) -> Registry {
        let mut reg = Registry {
            channels,
            ..Registry::default()
        };
        for entry in entries {
            reg.insert(entry);
        }
        reg
    }

    /// Copies of up to `n` checks after `after` in list order, and where to go on
    /// from (`None` at the end): whole-registry reads take the lock once per slice.
    pub fn entries_slice(
        &self,
        after: Option<&OrderKey>,
        n: usize,
    ) -> (Vec<Entry>, Option<OrderKey>) {
        let keys = self.order_slice(after, n);
        let next = (keys.len() == n).then(|| keys.last().cloned()).flatten();
        let entries = keys
            .iter()
            .filter_map(|(_, _, uuid)| self.checks.get(uuid).cloned())
            .collect();
        (entries, next)
    }

    fn insert(&mut self, mut entry: Entry) {
        entry.settings.windows = self.windows_for(&entry.settings);
        let uuid = entry.settings.uuid;
        self.order.insert(order_key(&entry));
        self.by_slug.insert(entry.settings.slug.clone(), uuid);
        self.by_name.insert(entry.settings.name.clone(), uuid);
        self.checks.insert(uuid, entry);
        self.reschedule(uuid);
    }

    fn remove(&mut self, uuid: Uuid) -> Option<Entry> {
        let entry = self.checks.remove(&uuid)?;
        self.order.remove(&order_key(&entry));
        self.by_slug.remove(&entry.settings.slug);
        self.by_name.remove(&entry.settings.name);
        if let Some(t) = self.deadline_of.remove(&uuid) {
            self.deadlines.remove(&(t, uuid));
        }
        Some(entry)
    }

    // The journal: every public method that changes something saves what it is about
    // to change first.

    /// Starts change number `seq`.
    pub fn begin_change(&mut self, seq: u64) {
        self.seq = seq;
        self.journal = Undo::default();
    }

    /// Ends the change; returns how to undo it.
    pub fn end_change(&mut self) -> Undo {
        std::mem::take(&mut self.journal)
    }

    /// Takes a change back out of memory (its commit failed).
    pub fn undo(&mut self, undo: Undo) {
        for step in undo.steps.into_iter().rev() {
            match step {
                UndoStep::Check(uuid, before) => {
                    self.remove(uuid);
                    if let Some(entry) = before {
                        self.insert(*entry);
                    }
                }
                UndoStep::State(uuid, before) => {
                    if let Some(entry) = self.checks.get_mut(&uuid) {
                        entry.state = *before;
                        self.reschedule(uuid);
                    }
                }
                UndoStep::Channel(name, before) => match before {
                    Some(entry) => {
                        self.channels.insert(name, entry);
                    }
                    None => {
                        self.channels.remove(&name);
                    }
                },
                UndoStep::Window(name, before) => {
                    match before {
                        Some(entry) => {
                            self.windows.insert(name, entry);
                        }
                        None => {
                            self.windows.remove(&name);
                        }
                    }
                    self.refresh_windows();
                }
                UndoStep::Outbox(id, before) => {
                    self.outbox.remove(id);
                    if let Some(mut pending) = before {
                        // An attempt whose record failed is tried again.
                        pending.in_flight = false;
                        self.outbox.insert(pending);
                    }
                }
                UndoStep::PublicBase(before) => self.public_base = before,
            }
        }
    }

    fn save_check(&mut self, uuid: Uuid) {
        let before = self.checks.get(&uuid).cloned().map(Box::new);
        self.journal.keys.insert(Key::Check(uuid));
        self.journal.keys.insert(Key::Config);
        self.journal.steps.push(UndoStep::Check(uuid, before));
    }

    fn save_state(&mut self, uuid: Uuid) {
        if let Some(entry) = self.checks.get(&uuid) {
            let before = Box::new(entry.state.clone());
            self.journal.keys.insert(Key::Check(uuid));
            self.journal.steps.push(UndoStep::State(uuid, before));
        }
    }

    fn save_channel(&mut self, name: &str) {
        let before = self.channels.get(name).cloned();
        self.journal.keys.insert(Key::Channel(name.to_string()));
        self.journal.keys.insert(Key::Config);
        self.journal
            .steps
            .push(UndoStep::Channel(name.to_string(), before));
    }

    fn save_window(&mut self, name: &str) {
        let before = self.windows.get(name).cloned();
        self.journal.keys.insert(Key::Window(name.to_string()));
        self.journal.keys.insert(Key::Config);
        self.journal
            .steps
            .push(UndoStep::Window(name.to_string(), before));
    }

    /// The windows that apply to a check.
    fn windows_for(&self, settings: &Settings) -> Vec<Arc<Window>> {
        self.windows
            .values()
            .filter(|w| w.window.applies_to(&settings.name, &settings.tags))
            .map(|w| w.window.clone())
            .collect()
    }

    /// Gives every check the windows that apply to it now, and re-queues its deadline.
    fn refresh_windows(&mut self) {
        let uuids: Vec<Uuid> = self.checks.keys().copied().collect();
        for uuid in uuids {
            let windows = match self.checks.get(&uuid) {
                Some(entry) => self.windows_for(&entry.settings),
                None => continue,
            };
            if let Some(entry) = self.checks.get_mut(&uuid) {
                entry.settings.windows = windows;
            }
            self.reschedule(uuid);
        }
    }

    fn save_outbox(&mut self, id: i64) {
        let before = self.outbox.get(id).cloned();
        self.journal.keys.insert(Key::Outbox(id));
        self.journal.steps.push(UndoStep::Outbox(id, before));
    }

    /// Changes the base URL of links in alerts.
    pub fn set_public_base(&mut self, base: String) {
        let before = std::mem::replace(&mut self.public_base, base);
        self.journal.steps.push(UndoStep::PublicBase(before));
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

    pub fn find_by_slug(&self, slug: &str) -> Option<Uuid> {
        self.by_slug.get(slug).copied()
    }

    pub fn check_json(&self, uuid: Uuid, now: Timestamp, base: &str) -> Option<Value> {
        let entry = self.checks.get(&uuid)?;
        Some(self.entry_json(entry, now, base))
    }

    /// A check's JSON with its links (the badge URL needs the secret).
    fn entry_json(&self, entry: &Entry, now: Timestamp, base: &str) -> Value {
        let mut value = entry.settings.to_json(&entry.state, now, base);
        if let Some(url) = self.badge_url(base, &entry.settings.slug) {
            value["badge_url"] = Value::String(url);
        }
        value
    }

    /// The SVG badge of a scope (a slug, a tag, or `all`).
    pub fn badge_url(&self, base: &str, scope: &str) -> Option<String> {
        let secrets = self.secrets.as_ref()?;
        let token = secrets.badge_token(scope);
        let scope = crate::serve::web::words::encode(scope);
        Some(format!("{base}/badge/{token}/{scope}.svg"))
    }

    /// Records a ping and moves the check. An end ping whose `rid` already ended a
    /// run (a retry after an unknown outcome) is not recorded again.
    pub fn ping(&mut self, uuid: Uuid, ping: &Ping, meta: PingMeta, ops: &mut Vec<Op>) {
        match self.checks.get(&uuid) {
            None => return,
            Some(entry) if entry.state.is_repeated_end(ping) => return,
            Some(_) => {}
        }
        self.save_state(uuid);
        let Some(entry) = self.checks.get_mut(&uuid) else {
            return;
        };
        let open_before = open_run(&entry.state);
        let mut outcome = entry.state.apply_ping(&entry.settings, ping);
        let at_ms = ping.at.as_millisecond();
        let end = match ping.effective_kind() {
            super::status::PingKind::Success => Some(false),
            super::status::PingKind::Fail => Some(true),
            _ => None,
        };
        let run_start = outcome
            .duration
            .map(|d| at_ms.saturating_sub((d * 1000.0).round() as i64));
        let open_after = open_run(&entry.state);
        let slot_rows = entry.state.slots.on_ping(
            rules_of(&entry.settings),
            at_ms,
            i64::try_from(entry.state.n_pings).unwrap_or(i64::MAX),
            end,
            run_start,
            open_before,
            open_after,
        );
        self.hold_alerts(uuid, &mut outcome);
        let Some(entry) = self.checks.get_mut(&uuid) else {
            return;
        };
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
        slot_ops(uuid, slot_rows, ping.at, ops);
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
        for (alert, reason) in &outcome.held {
            self.record_suppressed(uuid, alert, reason, body.clone(), now, ops);
        }
        self.reschedule(uuid);
        // A check that is no longer down lets the alerts it held go.
        if outcome
            .flips
            .iter()
            .any(|f| f.from == Health::Down && f.to != Health::Down)
            && let Some(name) = self.checks.get(&uuid).map(|e| e.settings.name.clone())
        {
            self.release_dependents(&name, now, ops);
        }
    }

    /// Why a check's `down` alert at `at` must wait, if it must: a dependency that is
    /// down, or a maintenance window; and the dependency's name.
    fn hold_reason(&self, uuid: Uuid, at: Timestamp) -> Option<(String, Option<String>)> {
        let entry = self.checks.get(&uuid)?;
        for dep in &entry.settings.depends_on {
            let down = self
                .by_name
                .get(dep)
                .and_then(|u| self.checks.get(u))
                .is_some_and(|d| d.state.health == Health::Down);
            if down {
                return Some((format!("dependency {dep} down"), Some(dep.clone())));
            }
        }
        entry
            .settings
            .maintenance_at(at)
            .map(|(name, _)| (format!("maintenance {name}"), None))
    }

    /// Holds back the first `down` alert of a down period while a dependency is down or a
    /// maintenance window is open (the check still goes down); the flip's reason says
    /// which dependency.
    fn hold_alerts(&mut self, uuid: Uuid, outcome: &mut Outcome) {
        let Some(i) = outcome
            .alerts
            .iter()
            .position(|a| a.event == "down" && a.repeat == 0 && a.targets == Targets::Check)
        else {
            return;
        };
        let at = outcome.alerts[i].at;
        let Some((reason, dependency)) = self.hold_reason(uuid, at) else {
            return;
        };
        let Some(entry) = self.checks.get_mut(&uuid) else {
            return;
        };
        let alert = outcome.alerts.remove(i);
        entry.state.hold(reason.clone(), dependency.clone(), at);
        if let Some(dep) = &dependency {
            for flip in outcome.flips.iter_mut().filter(|f| f.to == Health::Down) {
                flip.reason = format!("{} (dependency {dep} down)", flip.reason);
            }
        }
        outcome.held.push((alert, reason));
    }

    /// The checks whose alert waits for `name`: each gets it now if still down (or
    /// waits on, for another dependency that is down or a window that is open).
    fn release_dependents(&mut self, name: &str, now: Timestamp, ops: &mut Vec<Op>) {
        let waiting: Vec<Uuid> = self
            .order
            .iter()
            .map(|(_, _, u)| *u)
            .filter(|u| {
                self.checks.get(u).is_some_and(|e| {
                    e.state
                        .down
                        .as_ref()
                        .and_then(|d| d.held.as_ref())
                        .and_then(|h| h.dependency.as_deref())
                        == Some(name)
                })
            })
            .collect();
        for uuid in waiting {
            self.save_state(uuid);
            let reason = self.hold_reason(uuid, now);
            let Some(entry) = self.checks.get_mut(&uuid) else {
                continue;
            };
            let outcome = match reason {
                Some((why, dependency)) => {
                    entry.state.hold(why, dependency, now);
                    Outcome::default()
                }
                None => entry.state.release(now),
            };
            self.settle(uuid, outcome, None, now, ops, true);
        }
    }

    /// Records an alert held back in the notification list (one entry per channel it
    /// would have gone to), delivered to nobody.
    fn record_suppressed(
        &mut self,
        uuid: Uuid,
        alert: &Alert,
        reason: &str,
        body: Option<String>,
        now: Timestamp,
        ops: &mut Vec<Op>,
    ) {
        let Some(entry) = self.checks.get(&uuid) else {
            return;
        };
        let mut channels = self.targets(&entry.settings, &alert.targets);
        if channels.is_empty() {
            // Still recorded: the list says an alert was held.
            channels.push(String::new());
        }
        let event = Event {
            event_id: Uuid::new_v4().to_string(),
            event: alert.event.to_string(),
            check: self.entry_json(entry, now, &self.public_base),
            reason: alert.reason.clone(),
            at: alert.at,
            repeat: alert.repeat,
            body,
            check_url: format!("{}/checks/{}", self.public_base, uuid),
            missed_slots: (alert.event == "down" && alert.reason.as_deref() == Some("missed"))
                .then_some(entry.state.slots.missed),
        };
        let payload = serde_json::to_string(&event).expect("event serializes");
        for channel in channels {
            let row = OutboxRow {
                id: self.next_outbox_id,
                event_id: event.event_id.clone(),
                event: event.event.clone(),
                channel,
                check_uuid: Some(uuid.to_string()),
                payload: payload.clone(),
                attempts: 0,
                next_attempt_ms: now.as_millisecond(),
                created_ms: now.as_millisecond(),
            };
            self.next_outbox_id += 1;
            // Its id is taken, as a queued delivery's is (ids are shared by nodes).
            self.journal.keys.insert(Key::Outbox(row.id));
            ops.push(Op::Suppressed {
                row,
                reason: reason.to_string(),
            });
        }
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
        if channels.is_empty() && alert.event == "down" {
            super::log::warn(
                "alert",
                format!(
                    "check {:?} is down and has no channel to alert; add a [[channel]] or give the check channels",
                    entry.settings.name
                ),
            )
            .field("check", entry.settings.name.as_str())
            .emit();
        }
        let event = Event {
            event_id: Uuid::new_v4().to_string(),
            event: alert.event.to_string(),
            check: self.entry_json(entry, now, &self.public_base),
            reason: alert.reason.clone(),
            at: alert.at,
            repeat: alert.repeat,
            body,
            // The dashboard's details page.
            check_url: format!("{}/checks/{}", self.public_base, uuid),
            missed_slots: (alert.event == "down" && alert.reason.as_deref() == Some("missed"))
                .then_some(entry.state.slots.missed),
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
            self.save_outbox(row.id);
            self.outbox.insert(Pending {
                row,
                seq: self.seq,
                in_flight: false,
                lease: None,
            });
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
            self.save_state(uuid);
            let Some(entry) = self.checks.get_mut(&uuid) else {
                continue;
            };
            // Slots whose due + grace has come are judged first, so a `missed` alert
            // knows how many are missed in a row.
            let mut slot_rows = Vec::new();
            let open = open_run(&entry.state);
            entry.state.slots.catch_up(
                rules_of(&entry.settings),
                open,
                now.as_millisecond(),
                &mut slot_rows,
            );
            let mut outcome = entry.state.tick(&entry.settings, now);
            if !slot_rows.is_empty() {
                if outcome == Outcome::default() {
                    ops.push(Op::PutState {
                        uuid: uuid.to_string(),
                        state: state_json(&mut entry.state),
                    });
                }
                slot_ops(uuid, slot_rows, now, ops);
            }
            let Some(entry) = self.checks.get_mut(&uuid) else {
                continue;
            };
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
            self.hold_alerts(uuid, &mut outcome);
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
        let settings = Settings::from_spec(spec, now, managed).map_err(ApiError::Invalid)?;
        self.check_channels(&settings)?;
        self.check_unique(&settings, None)?;
        self.check_dependencies(&settings, None)?;
        let mut entry = Entry {
            settings,
            state: State {
                slots: Ledger::new(now),
                ..State::default()
            },
            created_ms: now.as_millisecond(),
        };
        ops.push(Op::PutCheck(check_row(&mut entry)));
        let uuid = entry.settings.uuid;
        self.save_check(uuid);
        self.insert(entry);
        Ok(uuid)
    }

    /// Every channel a check names must exist: an alert to nowhere is refused, not
    /// dropped when it fires.
    fn check_channels(&self, settings: &Settings) -> Result<(), ApiError> {
        let named = settings
            .channels
            .iter()
            .flatten()
            .map(|n| ("channels", n))
            .chain(
                settings
                    .escalation
                    .iter()
                    .flat_map(|e| e.channels.iter().map(|n| ("escalation", n))),
            );
        for (field, name) in named {
            if !self.channels.contains_key(name) {
                let known: Vec<&str> = self.channels.keys().map(String::as_str).collect();
                return Err(ApiError::Invalid(format!(
                    "{field}: there is no channel named {name:?}; create it first or use one of: {}",
                    if known.is_empty() {
                        "(no channel yet)".to_string()
                    } else {
                        known.join(", ")
                    }
                )));
            }
        }
        Ok(())
    }

    /// Every dependency must name a check, and none may lead back to this one.
    fn check_dependencies(
        &self,
        settings: &Settings,
        except: Option<Uuid>,
    ) -> Result<(), ApiError> {
        if settings.depends_on.is_empty() || self.defer_dependencies {
            return Ok(());
        }
        for dep in &settings.depends_on {
            if !self.by_name.contains_key(dep) {
                return Err(ApiError::Invalid(format!(
                    "depends_on: there is no check named {dep:?}; create it first or remove it from depends_on"
                )));
            }
        }
        let mut edges: BTreeMap<String, Vec<String>> = self
            .checks
            .iter()
            .filter(|(u, _)| Some(**u) != except)
            .map(|(_, e)| (e.settings.name.clone(), e.settings.depends_on.clone()))
            .collect();
        edges.insert(settings.name.clone(), settings.depends_on.clone());
        match maintenance::cycle_through(&settings.name, &edges) {
            Some(path) => Err(ApiError::Invalid(maintenance::cycle_error(&path))),
            None => Ok(()),
        }
    }

    /// A check named by another's `depends_on` or by a maintenance window keeps its name.
    fn check_rename(&self, settings: &Settings, uuid: Uuid) -> Result<(), ApiError> {
        let Some(old) = self.checks.get(&uuid).map(|e| e.settings.name.as_str()) else {
            return Ok(());
        };
        if old == settings.name {
            return Ok(());
        }
        let mut users: Vec<String> = self
            .checks
            .values()
            .filter(|e| e.settings.depends_on.iter().any(|d| d == old))
            .map(|e| format!("check {:?}", e.settings.name))
            .collect();
        users.extend(
            self.windows
                .iter()
                .filter(|(_, w)| w.window.checks.iter().any(|c| c == old))
                .map(|(n, _)| format!("maintenance window {n:?}")),
        );
        if users.is_empty() {
            return Ok(());
        }
        users.sort();
        users.truncate(5);
        Err(ApiError::Conflict(format!(
            "name: {old:?} is named by {}; take it out of their depends_on or checks before renaming",
            users.join(", ")
        )))
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
        self.check_channels(&settings)?;
        self.check_unique(&settings, Some(uuid))?;
        if !self.checks.contains_key(&uuid) {
            return Err(not_found(uuid));
        }
        self.check_dependencies(&settings, Some(uuid))?;
        self.check_rename(&settings, uuid)?;
        self.save_check(uuid);
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
            return Err(ApiError::Invalid(
                "uuid: a check's uuid cannot be changed".into(),
            ));
        }
        let spec = merge_patch(&entry.settings.to_spec(), patch).map_err(ApiError::Invalid)?;
        let settings =
            Settings::from_spec(&spec, now, entry.settings.managed).map_err(ApiError::Invalid)?;
        self.replace(uuid, settings, ops)
    }

    pub fn delete(
        &mut self,
        uuid: Uuid,
        now: Timestamp,
        ops: &mut Vec<Op>,
    ) -> Result<(), ApiError> {
        if !self.checks.contains_key(&uuid) {
            return Err(not_found(uuid));
        }
        self.save_check(uuid);
        let entry = self.remove(uuid).ok_or_else(|| not_found(uuid))?;
        ops.push(Op::DeleteCheck(uuid.to_string()));
        // Names of a deleted check are taken out of dependencies and windows; the
        // alerts it held go.
        let name = entry.settings.name;
        let dependents: Vec<Uuid> = self
            .checks
            .iter()
            .filter(|(_, e)| e.settings.depends_on.contains(&name))
            .map(|(u, _)| *u)
            .collect();
        for dependent in dependents {
            self.save_check(dependent);
            if let Some(entry) = self.checks.get_mut(&dependent) {
                entry.settings.depends_on.retain(|d| *d != name);
                ops.push(Op::PutCheck(check_row(entry)));
            }
        }
        let windows: Vec<(String, WindowEntry)> = self
            .windows
            .iter()
            .filter(|(_, w)| w.window.checks.contains(&name))
            .map(|(n, w)| (n.clone(), w.clone()))
            .collect();
        for (window_name, entry) in windows {
            let mut window = (*entry.window).clone();
            window.checks.retain(|c| *c != name);
            self.put_window(&window_name, window, entry.managed, ops);
        }
        self.release_dependents(&name, now, ops);
        Ok(())
    }

    pub fn pause(&mut self, uuid: Uuid, now: Timestamp, ops: &mut Vec<Op>) -> Result<(), ApiError> {
        if !self.checks.contains_key(&uuid) {
            return Err(not_found(uuid));
        }
        self.save_state(uuid);
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
        if !self.checks.contains_key(&uuid) {
            return Err(not_found(uuid));
        }
        self.save_state(uuid);
        let entry = self.checks.get_mut(&uuid).ok_or_else(|| not_found(uuid))?;
        let outcome = entry.state.resume(now);
        self.settle(uuid, outcome, None, now, ops, true);
        Ok(())
    }

    /// The keys of up to `n` checks in list order after `after` (all when `None`).
    fn order_slice(&self, after: Option<&OrderKey>, n: usize) -> Vec<OrderKey> {
        use std::ops::Bound::{Excluded, Unbounded};
        let lower = match after {
            Some(key) => Excluded(key.clone()),
            None => Unbounded,
        };
        self.order
            .range((lower, Unbounded))
            .take(n)
            .cloned()
            .collect()
    }

    /// One slice of the list: of the next `n` checks after `after`, those that match,
    /// as JSON; and where to go on from (`None` at the end). Reads of many checks take
    /// the lock once per slice, so pings are never held up behind a whole list.
    #[allow(clippy::too_many_arguments)]
    pub fn list_slice(
        &self,
        after: Option<&OrderKey>,
        n: usize,
        now: Timestamp,
        base: &str,
        tag: Option<&str>,
        status: Option<&str>,
    ) -> (Vec<Value>, Option<OrderKey>) {
        let keys = self.order_slice(after, n);
        let next = (keys.len() == n).then(|| keys.last().cloned()).flatten();
        let values = keys
            .iter()
            .filter_map(|(_, _, uuid)| self.checks.get(uuid))
            .filter(|e| tag.is_none_or(|t| e.settings.tags.iter().any(|x| x == t)))
            .map(|e| self.entry_json(e, now, base))
            .filter(|v| status.is_none_or(|s| v["status"] == s))
            .collect();
        (values, next)
    }

    /// Copies of up to `n` checks after `after` (those with `tag`, when given) with
    /// their badge URLs, and where to go on from: the lock is held only to copy, and
    /// the JSON is made after it is released.
    pub fn copy_slice(
        &self,
        after: Option<&OrderKey>,
        n: usize,
        tag: Option<&str>,
        base: &str,
    ) -> (Vec<(Entry, Option<String>)>, Option<OrderKey>) {
        let keys = self.order_slice(after, n);
        let next = (keys.len() == n).then(|| keys.last().cloned()).flatten();
        let copies = keys
            .iter()
            .filter_map(|(_, _, uuid)| self.checks.get(uuid))
            .filter(|e| tag.is_none_or(|t| e.settings.tags.iter().any(|x| x == t)))
            .map(|e| (e.clone(), self.badge_url(base, &e.settings.slug)))
            .collect();
        (copies, next)
    }

    /// The whole list at once (tests and small registries).
    pub fn list(
        &self,
        now: Timestamp,
        base: &str,
        tag: Option<&str>,
        status: Option<&str>,
    ) -> Vec<Value> {
        self.list_slice(None, usize::MAX, now, base, tag, status).0
    }

    /// Calls `f` on up to `n` checks after `after`, in list order; returns where to go
    /// on from (`None` at the end). Reads of every check go in such slices.
    pub fn visit_slice(
        &self,
        after: Option<&OrderKey>,
        n: usize,
        mut f: impl FnMut(&Entry),
    ) -> Option<OrderKey> {
        let keys = self.order_slice(after, n);
        for (_, _, uuid) in &keys {
            if let Some(entry) = self.checks.get(uuid) {
                f(entry);
            }
        }
        (keys.len() == n).then(|| keys.last().cloned()).flatten()
    }

    /// Adds the displayed status of up to `n` checks after `after` to `counts`;
    /// returns where to go on from (`None` at the end).
    pub fn count_slice(
        &self,
        after: Option<&OrderKey>,
        n: usize,
        now: Timestamp,
        counts: &mut HashMap<&'static str, u64>,
    ) -> Option<OrderKey> {
        let keys = self.order_slice(after, n);
        for (_, _, uuid) in &keys {
            if let Some(entry) = self.checks.get(uuid) {
                let (status, _, _) = entry.state.view(&entry.settings, now);
                *counts.entry(status.as_str()).or_insert(0) += 1;
            }
        }
        (keys.len() == n).then(|| keys.last().cloned()).flatten()
    }

    /// Counts of checks by displayed status.
    pub fn status_counts(&self, now: Timestamp) -> HashMap<&'static str, u64> {
        let mut counts = HashMap::new();
        self.count_slice(None, usize::MAX, now, &mut counts);
        counts
    }

    /// Records an attempt at a delivery: done, or waiting for its next try.
    pub fn record_attempt(&mut self, attempt: AttemptRow, ops: &mut Vec<Op>) {
        let id = attempt.id;
        if !self.node.is_empty()
            && self
                .outbox
                .get(id)
                .is_none_or(|p| p.lease.as_ref().is_none_or(|(node, _)| *node != self.node))
        {
            // Fenced: this node's lease lapsed and another node took the delivery over
            // (or finished it); its record is the one that counts.
            return;
        }
        self.save_outbox(id);
        if attempt.done {
            self.outbox.remove(id);
        } else if let Some(mut pending) = self.outbox.remove(id) {
            pending.row.attempts = attempt.attempts;
            pending.row.next_attempt_ms = attempt.next_attempt_ms;
            pending.in_flight = false;
            pending.lease = None;
            self.outbox.insert(pending);
        }
        ops.push(Op::Attempt(attempt));
    }

    /// On a shared store: leases deliveries taken for sending to this node until
    /// `until_ms` (or renews its lease). A delivery another node holds a live lease on
    /// is put back to wait until that lease ends. Returns the ids leased.
    pub fn claim(
        &mut self,
        ids: &[i64],
        now_ms: i64,
        until_ms: i64,
        ops: &mut Vec<Op>,
    ) -> Vec<i64> {
        let mut leased = Vec::new();
        for &id in ids {
            let Some(pending) = self.outbox.get(id) else {
                continue;
            };
            let held_by_other = pending
                .lease
                .as_ref()
                .is_some_and(|(node, until)| *node != self.node && *until > now_ms);
            self.save_outbox(id);
            let mut pending = self.outbox.remove(id).expect("the row exists");
            if held_by_other {
                let until = pending.lease.as_ref().map_or(now_ms, |(_, until)| *until);
                pending.row.next_attempt_ms = pending.row.next_attempt_ms.max(until);
                pending.in_flight = false;
            } else {
                pending.lease = Some((self.node.clone(), until_ms));
                // Being sent (also when this claim is made again after another node's
                // change overtook it, and the undo put the row back to wait).
                pending.in_flight = true;
                ops.push(Op::Claim {
                    id,
                    node: self.node.clone(),
                    until_ms,
                });
                leased.push(id);
            }
            self.outbox.insert(pending);
        }
        leased
    }

    /// On a shared store: gives back deliveries this node leased but will not send
    /// (it was frozen past its lease before sending): any node may take them.
    pub fn release(&mut self, ids: &[i64], ops: &mut Vec<Op>) {
        for &id in ids {
            let mine = self
                .outbox
                .get(id)
                .is_some_and(|p| p.lease.as_ref().is_some_and(|(node, _)| *node == self.node));
            if !mine {
                continue;
            }
            self.save_outbox(id);
            let mut pending = self.outbox.remove(id).expect("the row exists");
            pending.lease = None;
            pending.in_flight = false;
            self.outbox.insert(pending);
            ops.push(Op::Claim {
                id,
                node: String::new(),
                until_ms: 0,
            });
        }
    }

    /// The deliveries this node holds a lease on and is sending.
    pub fn leased_in_flight(&self) -> Vec<i64> {
        self.outbox
            .rows
            .values()
            .filter(|p| p.in_flight && p.lease.as_ref().is_some_and(|(node, _)| *node == self.node))
            .map(|p| p.row.id)
            .collect()
    }

    /// The keys a change committed by another node touches.
    pub fn replay_keys(op: &Op, keys: &mut BTreeSet<Key>) {
        let check = |uuid: &str| Uuid::parse_str(uuid).ok().map(Key::Check);
        match op {
            Op::PutCheck(row) => {
                keys.extend(check(&row.uuid));
                keys.insert(Key::Config);
            }
            Op::DeleteCheck(uuid) => {
                keys.extend(check(uuid));
                keys.insert(Key::Config);
            }
            Op::PutState { uuid, .. } => keys.extend(check(uuid)),
            Op::Ping(p) => keys.extend(check(&p.check_uuid)),
            Op::Flip(_) => {}
            Op::PutChannel { name, .. } | Op::DeleteChannel(name) => {
                keys.insert(Key::Channel(name.clone()));
                keys.insert(Key::Config);
            }
            Op::Enqueue(row) => {
                keys.insert(Key::Outbox(row.id));
            }
            Op::Attempt(a) => {
                keys.insert(Key::Outbox(a.id));
            }
            Op::Claim { id, .. } => {
                keys.insert(Key::Outbox(*id));
            }
            Op::PutWindow { name, .. } | Op::DeleteWindow(name) => {
                keys.insert(Key::Window(name.clone()));
                keys.insert(Key::Config);
            }
            Op::Suppressed { row, .. } => {
                keys.insert(Key::Outbox(row.id));
            }
            // History: a check's ledger travels in its state.
            Op::PutSlot(_) | Op::TrimSlots { .. } => {}
        }
    }

    /// Applies a change another node committed to the shared store (outside any
    /// change of this node's own: nothing is journaled).
    pub fn replay(&mut self, op: Op, now: Timestamp) {
        match op {
            Op::PutCheck(row) => {
                let Ok(uuid) = Uuid::parse_str(&row.uuid) else {
                    return;
                };
                let loaded = serde_json::from_str::<Value>(&row.spec)
                    .map_err(|e| e.to_string())
                    .and_then(parse_spec)
                    .and_then(|spec| Settings::from_stored(&spec, now, row.managed))
                    .and_then(|mut settings| {
                        settings.default_grace =
                            std::time::Duration::from_millis(row.default_grace_ms.max(1000) as u64);
                        let state: State =
                            serde_json::from_str(&row.state).map_err(|e| e.to_string())?;
                        Ok((settings, state))
                    });
                match loaded {
                    Ok((settings, state)) => {
                        self.remove(uuid);
                        self.insert(Entry {
                            settings,
                            state,
                            created_ms: row.created_ms,
                        });
                    }
                    Err(e) => super::log::warn(
                        "replay",
                        format!(
                            "cannot read check {} as another node stored it: {e}",
                            row.uuid
                        ),
                    )
                    .emit(),
                }
            }
            Op::PutState { uuid, state } => self.replay_state(&uuid, &state),
            Op::Ping(p) => self.replay_state(&p.check_uuid, &p.state),
            Op::DeleteCheck(uuid) => {
                if let Ok(uuid) = Uuid::parse_str(&uuid) {
                    self.remove(uuid);
                }
            }
            Op::Flip(_) => {}
            Op::PutChannel {
                name,
                config,
                managed,
            } => match serde_json::from_str::<Value>(&config)
                .map_err(|e| e.to_string())
                .and_then(|v| ChannelKind::from_json(&v))
            {
                Ok(kind) => {
                    self.channels.insert(name, ChannelEntry { kind, managed });
                }
                Err(e) => super::log::warn(
                    "replay",
                    format!("cannot read channel {name} as another node stored it: {e}"),
                )
                .emit(),
            },
            Op::DeleteChannel(name) => {
                self.channels.remove(&name);
            }
            Op::Enqueue(row) => {
                self.next_outbox_id = self.next_outbox_id.max(row.id + 1);
                self.outbox.remove(row.id);
                self.outbox.insert(Pending {
                    row,
                    seq: 0,
                    in_flight: false,
                    lease: None,
                });
            }
            Op::Attempt(a) => {
                if a.done {
                    self.outbox.remove(a.id);
                } else if let Some(mut pending) = self.outbox.remove(a.id) {
                    pending.row.attempts = a.attempts;
                    pending.row.next_attempt_ms = a.next_attempt_ms;
                    pending.in_flight = false;
                    pending.lease = None;
                    self.outbox.insert(pending);
                }
            }
            Op::PutWindow {
                name,
                spec,
                managed,
            } => match stored_window(&spec) {
                Ok(window) => {
                    self.windows.insert(
                        name,
                        WindowEntry {
                            window: Arc::new(window),
                            managed,
                        },
                    );
                    self.refresh_windows();
                }
                Err(e) => super::log::warn(
                    "replay",
                    format!("cannot read maintenance window {name} as another node stored it: {e}"),
                )
                .emit(),
            },
            Op::DeleteWindow(name) => {
                self.windows.remove(&name);
                self.refresh_windows();
            }
            Op::Suppressed { row, .. } => {
                self.next_outbox_id = self.next_outbox_id.max(row.id + 1);
            }
            Op::PutSlot(_) | Op::TrimSlots { .. } => {}
            Op::Claim { id, node, until_ms } => {
                if let Some(mut pending) = self.outbox.remove(id) {
                    if node.is_empty() {
                        pending.lease = None;
                    } else {
                        // Another node is sending it: this one waits for the lease's end.
                        pending.row.next_attempt_ms = pending.row.next_attempt_ms.max(until_ms);
                        pending.in_flight = false;
                        pending.lease = Some((node, until_ms));
                    }
                    self.outbox.insert(pending);
                }
            }
        }
    }

    fn replay_state(&mut self, uuid: &str, state: &str) {
        let Ok(uuid) = Uuid::parse_str(uuid) else {
            return;
        };
        match serde_json::from_str::<State>(state) {
            Ok(state) => {
                if let Some(entry) = self.checks.get_mut(&uuid) {
                    entry.state = state;
                    self.reschedule(uuid);
                }
            }
            Err(e) => super::log::warn(
                "replay",
                format!("cannot read the state of check {uuid} as another node stored it: {e}"),
            )
            .emit(),
        }
    }

    /// A wall-clock jump (seen against the monotonic clock) is treated like a restart:
    /// a check whose deadline passed because of it gets one grace period from now.
    pub fn on_clock_jump(&mut self, now: Timestamp, ops: &mut Vec<Op>) {
        let uuids: Vec<Uuid> = self
            .deadlines
            .iter()
            .take_while(|(t, _)| *t <= now)
            .map(|(_, u)| *u)
            .collect();
        for uuid in uuids {
            self.save_state(uuid);
            if let Some(entry) = self.checks.get_mut(&uuid) {
                entry.state.on_startup(&entry.settings, now);
                ops.push(Op::PutState {
                    uuid: uuid.to_string(),
                    state: state_json(&mut entry.state),
                });
            }
            self.reschedule(uuid);
        }
    }

    // Maintenance windows.

    pub fn window_json(&self, name: &str, now: Timestamp) -> Option<Value> {
        let entry = self.windows.get(name)?;
        Some(entry.window.to_json(entry.managed, now))
    }

    pub fn window_list(&self, now: Timestamp) -> Vec<Value> {
        self.windows
            .values()
            .map(|e| e.window.to_json(e.managed, now))
            .collect()
    }

    /// Every check and tag a window names must exist.
    pub fn check_window_targets(&self, window: &Window) -> Result<(), ApiError> {
        if let Some(name) = window
            .checks
            .iter()
            .find(|c| !self.by_name.contains_key(*c))
        {
            return Err(ApiError::Invalid(format!(
                "checks: there is no check named {name:?}; create it first or remove it from checks"
            )));
        }
        if let Some(tag) = window
            .tags
            .iter()
            .find(|t| !self.checks.values().any(|e| e.settings.tags.contains(t)))
        {
            return Err(ApiError::Invalid(format!(
                "tags: no check has the tag {tag:?}; tag a check with it first or remove it from tags"
            )));
        }
        Ok(())
    }

    /// Creates or replaces a window (its targets already checked).
    pub fn put_window(&mut self, name: &str, window: Window, managed: bool, ops: &mut Vec<Op>) {
        ops.push(Op::PutWindow {
            name: name.to_string(),
            spec: serde_json::to_string(&window.to_spec()).expect("spec serializes"),
            managed,
        });
        self.save_window(name);
        self.windows.insert(
            name.to_string(),
            WindowEntry {
                window: Arc::new(window),
                managed,
            },
        );
        self.refresh_windows();
    }

    pub fn delete_window(&mut self, name: &str, ops: &mut Vec<Op>) -> Result<(), ApiError> {
        if !self.windows.contains_key(name) {
            return Err(ApiError::NotFound(format!(
                "no maintenance window named {name:?}"
            )));
        }
        self.save_window(name);
        self.windows.remove(name);
        ops.push(Op::DeleteWindow(name.to_string()));
        self.refresh_windows();
        Ok(())
    }

    /// Config as code: the file's `[[maintenance]]` windows, created or updated by
    /// name; windows no longer in the file stay, unmanaged. One message per refusal.
    pub fn apply_windows(
        &mut self,
        windows: Vec<WindowSpec>,
        now: Timestamp,
        ops: &mut Vec<Op>,
    ) -> Vec<String> {
        let mut problems = Vec::new();
        let mut declared = BTreeSet::new();
        for spec in windows {
            let name = spec.name.clone().unwrap_or_default();
            let window = match Window::from_spec(&spec, now)
                .map_err(ApiError::Invalid)
                .and_then(|w| self.check_window_targets(&w).map(|_| w))
            {
                Ok(w) => w,
                Err(e) => {
                    problems.push(format!("[[maintenance]] {name:?}: {}", e.message()));
                    continue;
                }
            };
            declared.insert(name.clone());
            let unchanged = self
                .windows
                .get(&name)
                .is_some_and(|e| e.managed && e.window.to_spec() == window.to_spec());
            if !unchanged {
                self.put_window(&name, window, true, ops);
            }
        }
        let stale: Vec<(String, WindowEntry)> = self
            .windows
            .iter()
            .filter(|(n, e)| e.managed && !declared.contains(*n))
            .map(|(n, e)| (n.clone(), e.clone()))
            .collect();
        for (name, entry) in stale {
            self.put_window(&name, (*entry.window).clone(), false, ops);
        }
        problems
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
        self.save_channel(name);
        self.channels
            .insert(name.to_string(), ChannelEntry { kind, managed });
    }

    pub fn delete_channel(&mut self, name: &str, ops: &mut Vec<Op>) -> Result<(), ApiError> {
        if !self.channels.contains_key(name) {
            return Err(ApiError::NotFound(format!("no channel named {name:?}")));
        }
        let users: Vec<&str> = self
            .order
            .iter()
            .filter_map(|(_, _, u)| self.checks.get(u))
            .filter(|e| {
                e.settings.channels.iter().flatten().any(|c| c == name)
                    || e.settings
                        .escalation
                        .iter()
                        .any(|x| x.channels.iter().any(|c| c == name))
            })
            .map(|e| e.settings.name.as_str())
            .take(5)
            .collect();
        if !users.is_empty() {
            return Err(ApiError::Conflict(format!(
                "channel {name:?} is named by checks ({}); take it out of their channels first",
                users.join(", ")
            )));
        }
        self.save_channel(name);
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
        channels: Vec<(String, Value)>,
        checks: Vec<CheckSpec>,
        now: Timestamp,
        ops: &mut Vec<Op>,
    ) -> Vec<String> {
        let mut problems = Vec::new();
        let declared_channels: BTreeSet<String> = channels.iter().map(|(n, _)| n.clone()).collect();
        for (name, value) in channels {
            let stored = self.channels.get(&name).map(|e| &e.kind);
            let kind = match ChannelKind::merge(stored, &value, false) {
                Ok(kind) => kind,
                Err(e) => {
                    problems.push(format!("[[channel]] {name:?}: {e}"));
                    continue;
                }
            };
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
        let bad_dependencies = self.file_dependency_problems(&checks);
        self.defer_dependencies = true;
        for spec in checks {
            let name = spec.name.clone().unwrap_or_default();
            if let Some(problem) = bad_dependencies.get(name.trim()) {
                problems.push(format!("[[check]] {name:?}: {problem}"));
                continue;
            }
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
            if let Err(e) = result {
                problems.push(format!("[[check]] {name:?}: {e}"));
            }
        }
        self.defer_dependencies = false;
        let unmanaged: Vec<Uuid> = self
            .checks
            .iter()
            .filter(|(u, e)| e.settings.managed && !declared.contains(*u))
            .map(|(u, _)| *u)
            .collect();
        for uuid in unmanaged {
            self.save_check(uuid);
            if let Some(entry) = self.checks.get_mut(&uuid) {
                entry.settings.managed = false;
                ops.push(Op::PutCheck(check_row(entry)));
            }
        }
        problems
    }
}

impl Registry {
    /// The file's checks whose `depends_on` names no check (in the file or the
    /// monitor) or makes a cycle: name → the problem.
    fn file_dependency_problems(&self, checks: &[CheckSpec]) -> HashMap<String, String> {
        let mut edges: BTreeMap<String, Vec<String>> = self
            .checks
            .values()
            .map(|e| (e.settings.name.clone(), e.settings.depends_on.clone()))
            .collect();
        for spec in checks {
            if let Some(name) = &spec.name {
                edges.insert(
                    name.trim().to_string(),
                    spec.depends_on.clone().unwrap_or_default(),
                );
            }
        }
        let mut problems = HashMap::new();
        for spec in checks {
            let Some(name) = spec.name.as_deref().map(str::trim) else {
                continue;
            };
            let deps = spec.depends_on.as_deref().unwrap_or_default();
            if let Some(dep) = deps.iter().find(|d| !edges.contains_key(d.as_str())) {
                problems.insert(
                    name.to_string(),
                    format!("depends_on: there is no check named {dep:?}; declare it or remove it from depends_on"),
                );
            } else if !deps.is_empty()
                && let Some(path) = maintenance::cycle_through(name, &edges)
            {
                problems.insert(name.to_string(), maintenance::cycle_error(&path));
            }
        }
        problems
    }
}

/// The check's open run, as the slot ledger sees it.
pub fn open_run(state: &State) -> Option<Open> {
    state.run.as_ref().map(|r| Open {
        start_ms: r.start.as_millisecond(),
    })
}

/// What slots a check has.
pub fn rules_of(settings: &Settings) -> Rules<'_> {
    Rules {
        schedule: &settings.schedule,
        grace: settings.grace(),
    }
}

/// The operations that store judged slots, and trim those past [`slots::KEEP`].
fn slot_ops(uuid: Uuid, rows: Vec<SlotRow>, now: Timestamp, ops: &mut Vec<Op>) {
    if rows.is_empty() {
        return;
    }
    let check_uuid = uuid.to_string();
    for row in rows {
        ops.push(Op::PutSlot(SlotOutcomeRow {
            check_uuid: check_uuid.clone(),
            due_ms: row.due_ms,
            status: row.status.as_str(),
            ping: row.ping,
        }));
    }
    let keep = i64::try_from(slots::KEEP.as_millis()).unwrap_or(i64::MAX);
    ops.push(Op::TrimSlots {
        check_uuid,
        before_ms: now.as_millisecond().saturating_sub(keep),
    });
}

fn not_found(uuid: Uuid) -> ApiError {
    ApiError::NotFound(format!("no check with uuid {uuid}"))
}

/// A channel as the API shows it: secrets masked.
fn channel_json(name: &str, entry: &ChannelEntry) -> Value {
    let mut value = entry.kind.masked_json();
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

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn t(s: &str) -> Timestamp {
        s.parse().unwrap()
    }

    fn event(name: &str) -> Event {
        Event {
            event_id: Uuid::new_v4().to_string(),
            event: name.into(),
            check: json!({}),
            reason: None,
            at: t("2026-01-01T00:00:00Z"),
            repeat: 0,
            body: None,
            check_url: String::new(),
            missed_slots: None,
        }
    }

    fn attempt(id: i64, done: bool, next_ms: i64) -> AttemptRow {
        AttemptRow {
            id,
            attempts: 1,
            at_ms: 0,
            next_attempt_ms: next_ms,
            done,
            ok: done,
            status_code: None,
            error: None,
        }
    }

    #[test]
    fn a_later_event_of_a_lane_waits_for_the_earlier_one() {
        let mut reg = Registry::default();
        let check = Some(Uuid::new_v4());
        let mut ops = Vec::new();
        let now = t("2026-01-01T00:00:00Z");
        reg.begin_change(1);
        let down = reg.enqueue_event(
            &event("down"),
            check,
            vec!["a".into(), "b".into()],
            now,
            &mut ops,
        );
        reg.begin_change(2);
        let up = reg.enqueue_event(&event("up"), check, vec!["a".into()], now, &mut ops);
        let ms = now.as_millisecond();
        // Nothing goes before its change is committed.
        assert!(reg.outbox.take_due(ms, 0, 10, |_| 10).is_empty());
        let taken: Vec<i64> = reg
            .outbox
            .take_due(ms, 2, 10, |_| 10)
            .iter()
            .map(|r| r.id)
            .collect();
        assert_eq!(taken, down, "both channels' `down`, not the `up` behind it");
        // The `down` to `a` failed and waits for its retry: the `up` still waits.
        reg.record_attempt(attempt(down[0], false, ms + 5000), &mut ops);
        assert!(reg.outbox.take_due(ms + 1000, 2, 10, |_| 10).is_empty());
        assert_eq!(reg.outbox.next_due_ms(2), Some(ms + 5000));
        let retry = reg.outbox.take_due(ms + 5000, 2, 10, |_| 10);
        assert_eq!(
            retry.iter().map(|r| r.id).collect::<Vec<_>>(),
            vec![down[0]]
        );
        reg.record_attempt(attempt(down[0], true, ms + 5000), &mut ops);
        let next = reg.outbox.take_due(ms + 5000, 2, 10, |_| 10);
        assert_eq!(next.iter().map(|r| r.id).collect::<Vec<_>>(), up);
    }

    #[test]
    fn a_channel_without_a_free_slot_is_skipped_not_blocking_others() {
        let mut reg = Registry::default();
        let mut ops = Vec::new();
        let now = t("2026-01-01T00:00:00Z");
        reg.begin_change(1);
        for _ in 0..3 {
            let check = Some(Uuid::new_v4());
            reg.enqueue_event(
                &event("down"),
                check,
                vec!["slow".into(), "fast".into()],
                now,
                &mut ops,
            );
        }
        let taken = reg.outbox.take_due(now.as_millisecond(), 1, 10, |channel| {
            usize::from(channel == "fast") * 10
        });
        assert_eq!(taken.len(), 3);
        assert!(taken.iter().all(|r| r.channel == "fast"));
        assert_eq!(reg.outbox.in_flight(), 3);
    }

    #[test]
    fn undo_takes_a_window_back_out_and_the_checks_deadlines_with_it() {
        let mut reg = Registry::default();
        let now = t("2026-01-01T00:00:00Z");
        let mut ops = Vec::new();
        reg.begin_change(1);
        let spec = crate::serve::check::parse_spec(
            json!({"name": "job", "interval": "1h", "grace_period": "10m"}),
        )
        .unwrap();
        let uuid = reg.create(&spec, now, false, &mut ops).unwrap();
        let ping = Ping {
            kind: crate::serve::status::PingKind::Success,
            exit_code: None,
            rid: None,
            at: now,
        };
        reg.ping(uuid, &ping, PingMeta::default(), &mut ops);
        reg.end_change();
        assert_eq!(reg.next_deadline(), Some(t("2026-01-01T01:10:00Z")));
        reg.begin_change(2);
        let window = maintenance::parse_spec(json!({"name": "w", "checks": ["job"],
            "start": "2026-01-01T01:00:00Z", "end": "2026-01-01T02:00:00Z"}))
        .unwrap();
        let window = Window::from_spec(&window, now).unwrap();
        reg.check_window_targets(&window).unwrap();
        ops.clear();
        reg.put_window("w", window, false, &mut ops);
        assert!(matches!(ops[0], Op::PutWindow { .. }));
        let undo = reg.end_change();
        assert!(undo.keys().contains(&Key::Window("w".into())));
        assert_eq!(reg.next_deadline(), Some(t("2026-01-01T02:10:00Z")));
        reg.undo(undo);
        assert!(reg.windows.is_empty());
        assert!(reg.checks[&uuid].settings.windows.is_empty());
        assert_eq!(reg.next_deadline(), Some(t("2026-01-01T01:10:00Z")));
    }

    #[test]
    fn undo_puts_back_checks_channels_and_deliveries() {
        let mut reg = Registry::default();
        let now = t("2026-01-01T00:00:00Z");
        let mut ops = Vec::new();
        reg.begin_change(1);
        let spec =
            crate::serve::check::parse_spec(json!({"name": "job", "interval": "1h"})).unwrap();
        let uuid = reg.create(&spec, now, false, &mut ops).unwrap();
        let undo = reg.end_change();
        reg.begin_change(2);
        reg.enqueue_event(&event("test"), Some(uuid), vec!["x".into()], now, &mut ops);
        let ping = Ping {
            kind: crate::serve::status::PingKind::Success,
            exit_code: None,
            rid: None,
            at: now,
        };
        reg.ping(uuid, &ping, PingMeta::default(), &mut ops);
        let second = reg.end_change();
        assert_eq!(reg.checks[&uuid].state.n_pings, 1);
        reg.undo(second);
        assert_eq!(reg.checks[&uuid].state.n_pings, 0);
        assert!(reg.outbox.is_empty());
        reg.undo(undo);
        assert!(reg.checks.is_empty());
        assert_eq!(reg.find_by_slug("job"), None);
        assert_eq!(reg.next_deadline(), None);
    }
}
