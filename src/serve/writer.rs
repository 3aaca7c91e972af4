//! The commit path. A change is applied to the registry under its lock and queued
//! here, in the same order, with the store operations that make it durable and the
//! [`Undo`] that takes it back out of memory. One writer thread commits whatever is
//! queued as one transaction (group commit, no fixed wait), each caller's operations
//! in a savepoint of their own.
//!
//! A change whose commit fails leaves no trace: the writer takes the registry lock,
//! undoes it, and with it every later change that touched the same check or channel
//! (they were computed on top of it); those callers get the error too. Changes that
//! did not build on a failed one are committed as if nothing happened. Only once a
//! group is settled does the commit watermark move, and the outbox sends nothing that
//! was queued by a change above the watermark.

use std::collections::{BTreeSet, VecDeque};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, mpsc};
use tokio::sync::oneshot;

use super::registry::{Key, Registry, Undo};
use super::store::{Op, Store};

/// Most callers' changes committed in one transaction.
const MAX_GROUP: usize = 4096;

/// On a shared store, how often the writer reads what other nodes committed when
/// nothing else asks it to.
const CATCH_UP_EVERY: std::time::Duration = std::time::Duration::from_millis(500);

/// The answer to a change that another node's committed change overtook: it was
/// computed on what is no longer true, so it is undone and made again (by
/// [`super::app::App::change`]) on what is.
pub const CONFLICT: &str =
    "another node changed the same check, channel or delivery first; try again";

/// What the writer tells the rest of the monitor.
#[derive(Debug, Default)]
pub struct CommitState {
    /// Every change up to this number is settled (committed, or undone).
    pub committed: AtomicU64,
    /// Whether the last group was committed (false after a failed write, until one succeeds).
    pub healthy: AtomicBool,
    /// Whether the writer thread is running.
    pub running: AtomicBool,
    /// Shared stores: whether the database answered the last time it was asked.
    pub reachable: AtomicBool,
    /// Shared stores: the database's clock minus this machine's (ms), so leases are
    /// measured on one clock.
    pub db_offset_ms: std::sync::atomic::AtomicI64,
    /// Shared stores: changes made again because another node's overtook them.
    pub conflicts: AtomicU64,
    /// Shared stores: changes of other nodes applied to memory.
    pub replayed: AtomicU64,
    /// Woken when another node's changes were applied (deadlines may have moved).
    pub remote_engine: tokio::sync::Notify,
    /// Woken when another node's changes touched deliveries.
    pub remote_outbox: tokio::sync::Notify,
    /// Shared stores: until when this node runs the deadline engine and the outbox
    /// (one node at a time; None: another node does).
    pub lead_until: Mutex<Option<std::time::Instant>>,
}

impl CommitState {
    /// Whether this node runs the deadline engine and the outbox now.
    pub fn leading(&self) -> bool {
        self.lead_until
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .is_some_and(|until| std::time::Instant::now() < until)
    }
}

/// How often a node takes or renews its lease on running the engine and the outbox.
const LEAD_EVERY: std::time::Duration = std::time::Duration::from_secs(1);

/// Takes or renews the lease on running the engine and the outbox; wakes both when
/// this node starts to hold it.
fn lead(store: &mut impl Store, state: &CommitState) {
    let asked = std::time::Instant::now();
    let held = match store.lead() {
        Ok(held) => held,
        // Unknown: what was granted before runs out by itself.
        Err(_) => return,
    };
    let was = state.leading();
    *state.lead_until.lock().unwrap_or_else(|e| e.into_inner()) =
        held.then(|| asked + super::store::LEAD_TRUSTED);
    if held && !was {
        if store.shared() {
            super::log::info(
                "store",
                "this node now runs the deadline engine and the outbox",
            )
            .emit();
        }
        state.remote_engine.notify_one();
        state.remote_outbox.notify_one();
    }
}

type Answer = oneshot::Sender<Result<(), String>>;

/// One caller's change, queued.
pub struct Batch {
    pub seq: u64,
    pub ops: Vec<Op>,
    pub undo: Undo,
    done: Option<Answer>,
}

impl Batch {
    fn answer(&mut self, result: Result<(), String>) {
        if let Some(done) = self.done.take() {
            let _ = done.send(result);
        }
    }
}

enum Message {
    Batch(Batch),
    /// Answer once memory holds everything other nodes committed before this.
    Sync(oneshot::Sender<()>),
    /// Commit everything queued before this, then end.
    Stop,
}

/// The sending side of the writer thread.
#[derive(Clone)]
pub struct Writer(mpsc::Sender<Message>);

impl Writer {
    /// Queues a change (call under the registry lock, so the queue's order is the order
    /// of the changes in memory); the receiver answers once it is settled.
    pub fn send(
        &self,
        seq: u64,
        ops: Vec<Op>,
        undo: Undo,
    ) -> oneshot::Receiver<Result<(), String>> {
        let (tx, rx) = oneshot::channel();
        if ops.is_empty() {
            let _ = tx.send(Ok(()));
            return rx;
        }
        let batch = Batch {
            seq,
            ops,
            undo,
            done: Some(tx),
        };
        if let Err(mpsc::SendError(Message::Batch(mut batch))) = self.0.send(Message::Batch(batch))
        {
            batch.answer(Err("the database writer has stopped".into()));
        }
        rx
    }

    /// On a shared store: returns once memory holds every change committed (by any
    /// node) before this was called. Answers at once if the writer has stopped.
    pub async fn sync(&self) {
        let (tx, rx) = oneshot::channel();
        if self.0.send(Message::Sync(tx)).is_ok() {
            let _ = rx.await;
        }
    }

    /// Asks the thread to commit what is queued and end; join its handle to wait.
    pub fn stop(&self) {
        let _ = self.0.send(Message::Stop);
    }
}

/// Locks the registry; a registry left half-changed by a panic is never used again.
pub fn lock(registry: &Mutex<Registry>) -> std::sync::MutexGuard<'_, Registry> {
    match registry.lock() {
        Ok(guard) => guard,
        Err(_) => {
            super::log::error(
                "internal",
                "internal error: a panic left the monitor's state half-changed; exiting so the service manager restarts hb from the database",
            )
            .emit();
            std::process::exit(crate::exit::FAILURE);
        }
    }
}

/// Starts the writer thread.
pub fn spawn(
    store: impl Store,
    registry: Arc<Mutex<Registry>>,
    state: Arc<CommitState>,
) -> (Writer, std::thread::JoinHandle<()>) {
    let (tx, rx) = mpsc::channel::<Message>();
    state.running.store(true, Ordering::SeqCst);
    state.healthy.store(true, Ordering::SeqCst);
    state.reachable.store(true, Ordering::SeqCst);
    let handle = std::thread::Builder::new()
        .name("hb-db-writer".into())
        .spawn(move || {
            run(store, &registry, &state, &rx);
            state.running.store(false, Ordering::SeqCst);
        })
        .expect("spawning a thread");
    (Writer(tx), handle)
}

fn run(
    mut store: impl Store,
    registry: &Mutex<Registry>,
    state: &CommitState,
    rx: &mpsc::Receiver<Message>,
) {
    let shared = store.shared();
    let mut carried: VecDeque<Batch> = VecDeque::new();
    let mut syncs: Vec<oneshot::Sender<()>> = Vec::new();
    let mut stopping = false;
    lead(&mut store, state);
    let mut led = std::time::Instant::now();
    loop {
        if shared && led.elapsed() >= LEAD_EVERY {
            lead(&mut store, state);
            led = std::time::Instant::now();
        }
        let mut group: Vec<Batch> = carried.drain(..).collect();
        if group.is_empty() {
            if stopping {
                return;
            }
            let first = if shared {
                // A shared store is read at least this often, so the engine sees what
                // the other nodes did and /healthz knows whether the database answers.
                match rx.recv_timeout(CATCH_UP_EVERY) {
                    Ok(message) => Some(message),
                    Err(mpsc::RecvTimeoutError::Timeout) => None,
                    Err(mpsc::RecvTimeoutError::Disconnected) => return,
                }
            } else {
                rx.recv().ok()
            };
            match first {
                Some(Message::Batch(batch)) => group.push(batch),
                Some(Message::Sync(done)) => syncs.push(done),
                Some(Message::Stop) => return,
                None if shared => {}
                None => return,
            }
        }
        while !stopping && group.len() < MAX_GROUP {
            match rx.try_recv() {
                Ok(Message::Batch(batch)) => group.push(batch),
                Ok(Message::Sync(done)) => syncs.push(done),
                Ok(Message::Stop) => stopping = true,
                Err(_) => break,
            }
        }
        if shared && group.is_empty() {
            // Only reads to bring up to date: no write lock needed.
            let caught_up = store.catch_up();
            note_reachable(state, &store, caught_up.is_ok());
            match caught_up {
                Ok(remote) => {
                    absorb(
                        registry,
                        state,
                        remote,
                        &mut group,
                        rx,
                        &mut syncs,
                        &mut stopping,
                    );
                    carried.extend(group.drain(..));
                }
                Err(e) => fell_behind_or_log(&e),
            }
            for done in syncs.drain(..) {
                let _ = done.send(());
            }
            continue;
        }
        let results = if shared {
            commit_shared(
                &mut store,
                registry,
                state,
                &mut group,
                rx,
                &mut syncs,
                &mut stopping,
            )
        } else {
            commit_group(&mut store, &group)
        };
        if shared {
            note_reachable(
                state,
                &store,
                results.iter().any(Result::is_ok) || group.is_empty(),
            );
        }
        for done in syncs.drain(..) {
            let _ = done.send(());
        }
        let last_seq = group.last().map_or(0, |b| b.seq);
        if results.iter().all(Result::is_ok) {
            state.healthy.store(true, Ordering::SeqCst);
            state.committed.fetch_max(last_seq, Ordering::SeqCst);
            for batch in &mut group {
                batch.answer(Ok(()));
            }
            continue;
        }
        let first_error = results
            .iter()
            .find_map(|r| r.as_ref().err().cloned())
            .unwrap_or_default();
        super::log::error("store", format!("database write failed: {first_error}")).emit();
        state
            .healthy
            .store(results.iter().any(Result::is_ok), Ordering::SeqCst);
        // Undo, under the lock, what failed and everything queued that built on it.
        let mut later = Vec::new();
        {
            let mut reg = lock(registry);
            // Changes made since were queued under the lock: they are all in the queue.
            loop {
                match rx.try_recv() {
                    Ok(Message::Batch(batch)) => later.push(batch),
                    Ok(Message::Sync(done)) => {
                        let _ = done.send(());
                    }
                    Ok(Message::Stop) => stopping = true,
                    Err(_) => break,
                }
            }
            let mut failed: BTreeSet<Key> = BTreeSet::new();
            let mut undone = Vec::new();
            for (batch, result) in group.iter_mut().zip(&results) {
                if result.is_err() {
                    failed.extend(batch.undo.keys().iter().cloned());
                    undone.push(std::mem::take(&mut batch.undo));
                }
            }
            let mut kept = VecDeque::new();
            for mut batch in later {
                if batch.undo.touches(&failed) {
                    failed.extend(batch.undo.keys().iter().cloned());
                    undone.push(std::mem::take(&mut batch.undo));
                    batch.answer(Err(format!(
                        "an earlier change to the same check could not be stored ({first_error})"
                    )));
                } else {
                    kept.push_back(batch);
                }
            }
            for undo in undone.into_iter().rev() {
                reg.undo(undo);
            }
            state.committed.fetch_max(last_seq, Ordering::SeqCst);
            carried = kept;
        }
        for (batch, result) in group.iter_mut().zip(results) {
            batch.answer(result);
        }
    }
}

/// Notes whether a shared database answered, and its clock.
fn note_reachable(state: &CommitState, store: &impl Store, ok: bool) {
    let was = state.reachable.swap(ok, Ordering::SeqCst);
    if was && !ok {
        super::log::error(
            "store",
            "the shared database does not answer; this node answers reads from memory and refuses changes until it does",
        )
        .emit();
    } else if ok && !was {
        super::log::info("store", "the shared database answers again").emit();
    }
    if ok && let Some(db_ms) = store.db_now_ms() {
        let local = jiff::Timestamp::now().as_millisecond();
        state.db_offset_ms.store(db_ms - local, Ordering::SeqCst);
    }
}

/// A node too far behind the shared log cannot catch up by replaying it: it ends, and
/// its service manager starts it again from the database.
fn fell_behind_or_log(e: &anyhow::Error) {
    let text = format!("{e:#}");
    if text.contains("fell too far behind") {
        super::log::error("store", text).emit();
        std::process::exit(crate::exit::FAILURE);
    }
}

/// Applies to memory what other nodes committed. A queued change of this node that
/// touched the same thing was computed on what is no longer true: it is undone (with
/// every later change that built on it) and answered [`CONFLICT`], so its caller makes
/// it again. The changes queued meanwhile join `group`.
fn absorb(
    registry: &Mutex<Registry>,
    state: &CommitState,
    remote: Vec<Op>,
    group: &mut Vec<Batch>,
    rx: &mpsc::Receiver<Message>,
    syncs: &mut Vec<oneshot::Sender<()>>,
    stopping: &mut bool,
) {
    if remote.is_empty() {
        return;
    }
    let mut reg = lock(registry);
    // Changes made before the lock was taken are all in the queue.
    loop {
        match rx.try_recv() {
            Ok(Message::Batch(batch)) => group.push(batch),
            Ok(Message::Sync(done)) => syncs.push(done),
            Ok(Message::Stop) => *stopping = true,
            Err(_) => break,
        }
    }
    let mut touched: BTreeSet<Key> = BTreeSet::new();
    for op in &remote {
        Registry::replay_keys(op, &mut touched);
    }
    let mut undone = Vec::new();
    let mut kept = Vec::with_capacity(group.len());
    let mut conflicted = Vec::new();
    for mut batch in group.drain(..) {
        if batch.undo.touches(&touched) {
            touched.extend(batch.undo.keys().iter().cloned());
            undone.push(std::mem::take(&mut batch.undo));
            conflicted.push(batch);
        } else {
            kept.push(batch);
        }
    }
    for undo in undone.into_iter().rev() {
        reg.undo(undo);
    }
    let now = jiff::Timestamp::now();
    let (mut deliveries, n) = (false, remote.len());
    for op in remote {
        deliveries |= matches!(op, Op::Enqueue(_) | Op::Attempt(_) | Op::Claim { .. });
        reg.replay(op, now);
    }
    drop(reg);
    *group = kept;
    state.replayed.fetch_add(n as u64, Ordering::Relaxed);
    state
        .conflicts
        .fetch_add(conflicted.len() as u64, Ordering::Relaxed);
    for mut batch in conflicted {
        // Its outbox rows are gone from memory: nothing waits on its number.
        state.committed.fetch_max(batch.seq, Ordering::SeqCst);
        batch.answer(Err(CONFLICT.to_string()));
    }
    state.remote_engine.notify_one();
    if deliveries {
        state.remote_outbox.notify_one();
    }
}

/// Commits a group on a shared store: takes the database-wide write lock, applies
/// what other nodes committed before it (see [`absorb`]), then commits the rest.
fn commit_shared(
    store: &mut impl Store,
    registry: &Mutex<Registry>,
    state: &CommitState,
    group: &mut Vec<Batch>,
    rx: &mpsc::Receiver<Message>,
    syncs: &mut Vec<oneshot::Sender<()>>,
    stopping: &mut bool,
) -> Vec<Result<(), String>> {
    let began = store.begin().and_then(|()| store.catch_up());
    let remote = match began {
        Ok(remote) => remote,
        Err(e) => {
            store.rollback();
            fell_behind_or_log(&e);
            return vec![Err(format!("{e:#}")); group.len()];
        }
    };
    absorb(registry, state, remote, group, rx, syncs, stopping);
    let results = apply_all(store, group);
    if results.iter().any(Result::is_ok) {
        if let Err(e) = store.commit() {
            store.rollback();
            return vec![Err(format!("{e:#}")); group.len()];
        }
    } else {
        // Nothing to write (or nothing that could be): the lock is given back.
        store.rollback();
    }
    results
}

/// Commits a group; one result per caller. A caller whose change touched what an
/// earlier failed caller touched fails too (its change was computed on top of it).
fn commit_group(store: &mut impl Store, group: &[Batch]) -> Vec<Result<(), String>> {
    let all = |e: String| vec![Err(e); group.len()];
    if let Err(e) = store.begin() {
        store.rollback();
        return all(format!("{e:#}"));
    }
    let results = apply_all(store, group);
    if results.iter().any(Result::is_ok) {
        if let Err(e) = store.commit() {
            store.rollback();
            return all(format!("{e:#}"));
        }
    } else {
        store.rollback();
    }
    results
}

/// Applies each caller's operations in a savepoint of its own; one result per caller.
/// A caller whose change touched what an earlier failed caller touched fails too.
fn apply_all(store: &mut impl Store, group: &[Batch]) -> Vec<Result<(), String>> {
    if group.len() > 1 {
        let callers: Vec<&[Op]> = group.iter().map(|b| b.ops.as_slice()).collect();
        if let Ok(true) = store.apply_batch(&callers) {
            return vec![Ok(()); group.len()];
        }
    }
    let mut failed: BTreeSet<Key> = BTreeSet::new();
    let mut first_error = String::new();
    let mut results = Vec::with_capacity(group.len());
    for batch in group {
        if !failed.is_empty() && batch.undo.touches(&failed) {
            failed.extend(batch.undo.keys().iter().cloned());
            results.push(Err(format!(
                "an earlier change to the same check could not be stored ({first_error})"
            )));
            continue;
        }
        match store.apply(&batch.ops) {
            Ok(()) => results.push(Ok(())),
            Err(e) => {
                let e = format!("{e:#}");
                if first_error.is_empty() {
                    first_error = e.clone();
                }
                failed.extend(batch.undo.keys().iter().cloned());
                results.push(Err(e));
            }
        }
    }
    results
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::serve::check::{Settings, parse_spec};
    use crate::serve::registry::PingMeta;
    use crate::serve::status::{Ping, PingKind};
    use crate::serve::store::MemoryStore;
    use jiff::Timestamp;
    use uuid::Uuid;

    fn t(s: &str) -> Timestamp {
        s.parse().unwrap()
    }

    /// A registry with checks `a` and `b`, and a writer on a memory store.
    struct Rig {
        registry: Arc<Mutex<Registry>>,
        state: Arc<CommitState>,
        writer: Writer,
        thread: Option<std::thread::JoinHandle<()>>,
        store: MemoryStore,
        seq: u64,
        a: Uuid,
        b: Uuid,
    }

    impl Rig {
        fn new() -> Rig {
            let mut reg = Registry::default();
            let now = t("2026-01-01T00:00:00Z");
            let mut ops = Vec::new();
            let mut uuids = Vec::new();
            for name in ["a", "b"] {
                let spec = parse_spec(serde_json::json!({"name": name, "interval": "1h"})).unwrap();
                Settings::from_spec(&spec, now, false).unwrap();
                uuids.push(reg.create(&spec, now, false, &mut ops).unwrap());
            }
            let registry = Arc::new(Mutex::new(reg));
            let state = Arc::new(CommitState::default());
            let store = MemoryStore::default();
            let (writer, thread) = spawn(store.clone(), registry.clone(), state.clone());
            Rig {
                registry,
                state,
                writer,
                thread: Some(thread),
                store,
                seq: 0,
                a: uuids[0],
                b: uuids[1],
            }
        }

        /// A ping to `uuid`, applied and queued as App::change does.
        fn ping(&mut self, uuid: Uuid) -> oneshot::Receiver<Result<(), String>> {
            let mut reg = lock(&self.registry);
            self.seq += 1;
            reg.begin_change(self.seq);
            let mut ops = Vec::new();
            let ping = Ping {
                kind: PingKind::Success,
                exit_code: None,
                rid: None,
                at: t("2026-01-01T00:10:00Z"),
            };
            reg.ping(uuid, &ping, PingMeta::default(), &mut ops);
            let undo = reg.end_change();
            self.writer.send(self.seq, ops, undo)
        }

        fn n_pings(&self, uuid: Uuid) -> u64 {
            lock(&self.registry).checks[&uuid].state.n_pings
        }

        fn stop(mut self) {
            self.writer.stop();
            self.thread.take().unwrap().join().unwrap();
        }
    }

    fn pings_stored(store: &MemoryStore) -> usize {
        let ops = store.committed.lock().unwrap();
        ops.iter().filter(|op| matches!(op, Op::Ping(_))).count()
    }

    fn answer(rx: oneshot::Receiver<Result<(), String>>) -> Result<(), String> {
        tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap()
            .block_on(rx)
            .unwrap()
    }

    #[test]
    fn a_failed_commit_is_undone_in_memory() {
        let mut rig = Rig::new();
        assert_eq!(answer(rig.ping(rig.a)), Ok(()));
        rig.store.fail_commits.store(true, Ordering::SeqCst);
        assert!(answer(rig.ping(rig.a)).is_err());
        assert_eq!(rig.n_pings(rig.a), 1, "the failed ping left no trace");
        assert!(!rig.state.healthy.load(Ordering::SeqCst));
        rig.store.fail_commits.store(false, Ordering::SeqCst);
        assert_eq!(answer(rig.ping(rig.a)), Ok(()));
        assert_eq!(rig.n_pings(rig.a), 2);
        assert!(rig.state.healthy.load(Ordering::SeqCst));
        assert_eq!(rig.state.committed.load(Ordering::SeqCst), 3);
        rig.stop();
    }

    #[test]
    fn one_bad_caller_fails_alone_and_takes_only_what_built_on_it() {
        let mut rig = Rig::new();
        *rig.store.fail_pings_of.lock().unwrap() = Some(rig.a.to_string());
        // Queue several changes before the writer takes any: one group.
        let (tx, rx) = mpsc::channel();
        let real = std::mem::replace(&mut rig.writer, Writer(tx));
        let (first_a, b, second_a) = (rig.ping(rig.a), rig.ping(rig.b), rig.ping(rig.a));
        rig.writer.stop();
        run(rig.store.clone(), &rig.registry, &rig.state, &rx);
        rig.writer = real;
        assert!(answer(first_a).is_err());
        assert_eq!(
            answer(b),
            Ok(()),
            "another check's ping is not failed with it"
        );
        assert!(answer(second_a).is_err(), "built on the failed one");
        assert_eq!(rig.n_pings(rig.a), 0);
        assert_eq!(rig.n_pings(rig.b), 1);
        assert_eq!(pings_stored(&rig.store), 1, "only b's ping is stored");
        rig.stop();
    }

    #[test]
    fn stop_commits_what_is_queued_and_ends_the_thread() {
        let mut rig = Rig::new();
        let pending: Vec<_> = (0..50).map(|_| rig.ping(rig.b)).collect();
        rig.writer.stop();
        rig.thread.take().unwrap().join().unwrap();
        for rx in pending {
            assert_eq!(answer(rx), Ok(()));
        }
        assert_eq!(pings_stored(&rig.store), 50);
        assert!(!rig.state.running.load(Ordering::SeqCst));
        // Sent after the stop: an error, never silence.
        assert!(answer(rig.ping(rig.b)).is_err());
    }

    /// One node of several on a shared log, as App::change drives its writer.
    struct Node {
        registry: Arc<Mutex<Registry>>,
        state: Arc<CommitState>,
        writer: Writer,
        thread: Option<std::thread::JoinHandle<()>>,
        seq: u64,
    }

    impl Node {
        fn new(log: &crate::serve::store::SharedLog, name: &str) -> Node {
            let mut reg = Registry::default();
            reg.node = name.to_string();
            let registry = Arc::new(Mutex::new(reg));
            let state = Arc::new(CommitState::default());
            let (writer, thread) = spawn(log.store(name), registry.clone(), state.clone());
            Node {
                registry,
                state,
                writer,
                thread: Some(thread),
                seq: 0,
            }
        }

        /// Makes a change, again on what is now true while another node's overtakes it.
        fn change<T>(&mut self, mut f: impl FnMut(&mut Registry, &mut Vec<Op>) -> T) -> (T, u32) {
            let mut tries = 0;
            loop {
                let (value, rx) = {
                    let mut reg = lock(&self.registry);
                    self.seq += 1;
                    reg.begin_change(self.seq);
                    let mut ops = Vec::new();
                    let value = f(&mut reg, &mut ops);
                    let undo = reg.end_change();
                    (value, self.writer.send(self.seq, ops, undo))
                };
                match answer(rx) {
                    Ok(()) => return (value, tries),
                    Err(e) if e == CONFLICT => tries += 1,
                    Err(e) => panic!("{e}"),
                }
            }
        }

        fn sync(&self) {
            tokio::runtime::Builder::new_current_thread()
                .build()
                .unwrap()
                .block_on(self.writer.sync());
        }

        fn stop(mut self) {
            self.writer.stop();
            self.thread.take().unwrap().join().unwrap();
        }
    }

    fn flips_of(log: &crate::serve::store::SharedLog, uuid: Uuid) -> usize {
        log.committed()
            .iter()
            .filter(|op| matches!(op, Op::Flip(f) if f.check_uuid == uuid.to_string() && f.to == "down"))
            .count()
    }

    #[test]
    fn a_deadline_seen_by_two_nodes_flips_once_and_queues_one_event() {
        let log = crate::serve::store::SharedLog::default();
        let (mut a, mut b) = (Node::new(&log, "a"), Node::new(&log, "b"));
        let created = t("2026-01-01T00:00:00Z");
        let spec =
            parse_spec(serde_json::json!({"name": "job", "interval": "1m", "grace_period": "1m"}))
                .unwrap();
        let hook = crate::serve::notify::ChannelKind::from_json(
            &serde_json::json!({"kind": "webhook", "url": "http://127.0.0.1:9/"}),
        )
        .unwrap();
        let (uuid, _) = a.change(|reg, ops| {
            reg.put_channel("hook", hook.clone(), false, ops);
            reg.create(&spec, created, false, ops).unwrap()
        });
        b.sync();
        assert!(
            lock(&b.registry).checks.contains_key(&uuid),
            "b sees a's check"
        );
        // A ping on b, seen by a; then both nodes reach the deadline.
        let ping = Ping {
            kind: PingKind::Success,
            exit_code: None,
            rid: None,
            at: t("2026-01-01T00:00:30Z"),
        };
        b.change(|reg, ops| reg.ping(uuid, &ping, PingMeta::default(), ops));
        a.sync();
        let due = t("2026-01-01T00:02:31Z");
        let (_, a_tries) = a.change(|reg, ops| reg.tick(due, 100, ops));
        assert_eq!(a_tries, 0);
        let (_, b_tries) = b.change(|reg, ops| reg.tick(due, 100, ops));
        assert_eq!(
            b_tries, 1,
            "b's tick, on what it knew, was overtaken by a's flip"
        );
        assert_eq!(b.state.conflicts.load(Ordering::SeqCst), 1);
        assert_eq!(flips_of(&log, uuid), 1, "one flip for one deadline");
        let events: Vec<i64> = log
            .committed()
            .iter()
            .filter_map(|op| match op {
                Op::Enqueue(row) => Some(row.id),
                _ => None,
            })
            .collect();
        assert_eq!(events.len(), 1, "one alert event");
        for node in [&a, &b] {
            let reg = lock(&node.registry);
            assert_eq!(reg.checks[&uuid].state.n_pings, 1);
            assert_eq!(reg.outbox.len(), 1, "both nodes know the delivery");
        }
        // Both try to take the delivery: one lease, the other waits for its end.
        let id = events[0];
        let (a_got, _) = a.change(|reg, ops| reg.claim(&[id], 1_000, 7_000, ops));
        let (b_got, _) = b.change(|reg, ops| reg.claim(&[id], 1_000, 7_000, ops));
        assert_eq!((a_got, b_got), (vec![id], vec![]));
        assert!(
            lock(&b.registry)
                .outbox
                .get(id)
                .unwrap()
                .row
                .next_attempt_ms
                >= 7_000
        );
        // After the lease lapses (a died), b takes it over; a's late record is fenced.
        let (b_late, _) = b.change(|reg, ops| reg.claim(&[id], 8_000, 14_000, ops));
        assert_eq!(b_late, vec![id]);
        a.sync();
        let record = crate::serve::store::AttemptRow {
            id,
            attempts: 1,
            at_ms: 9_000,
            next_attempt_ms: 9_000,
            done: true,
            ok: true,
            status_code: Some(200),
            error: None,
        };
        let before = log.committed().len();
        a.change(|reg, ops| reg.record_attempt(record.clone(), ops));
        assert_eq!(
            log.committed().len(),
            before,
            "a's record after losing its lease is dropped"
        );
        b.change(|reg, ops| reg.record_attempt(record.clone(), ops));
        a.sync();
        assert!(lock(&a.registry).outbox.is_empty(), "b's record reached a");
        a.stop();
        b.stop();
    }

    #[test]
    fn outbox_ids_stay_unique_across_nodes() {
        let log = crate::serve::store::SharedLog::default();
        let (mut a, mut b) = (Node::new(&log, "a"), Node::new(&log, "b"));
        let hook = crate::serve::notify::ChannelKind::from_json(
            &serde_json::json!({"kind": "webhook", "url": "http://127.0.0.1:9/"}),
        )
        .unwrap();
        a.change(|reg, ops| reg.put_channel("hook", hook.clone(), false, ops));
        b.sync();
        let now = t("2026-01-01T00:00:00Z");
        let event = |n: u32| crate::serve::notify::Event {
            event_id: format!("e{n}"),
            event: "test".into(),
            check: serde_json::Value::Null,
            reason: None,
            at: now,
            repeat: n,
            body: None,
            check_url: String::new(),
            missed_slots: None,
        };
        // Neither has seen the other's event when it queues its own.
        let (first, _) =
            a.change(|reg, ops| reg.enqueue_event(&event(1), None, vec!["hook".into()], now, ops));
        let (second, tries) =
            b.change(|reg, ops| reg.enqueue_event(&event(2), None, vec!["hook".into()], now, ops));
        assert_eq!(tries, 1, "the same id was taken: b's event is made again");
        assert_ne!(first, second);
        a.stop();
        b.stop();
    }
}
