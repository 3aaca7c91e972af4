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

/// What the writer tells the rest of the monitor.
#[derive(Debug, Default)]
pub struct CommitState {
    /// Every change up to this number is settled (committed, or undone).
    pub committed: AtomicU64,
    /// Whether the last group was committed (false after a failed write, until one succeeds).
    pub healthy: AtomicBool,
    /// Whether the writer thread is running.
    pub running: AtomicBool,
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
    let mut carried: VecDeque<Batch> = VecDeque::new();
    let mut stopping = false;
    loop {
        let mut group: Vec<Batch> = carried.drain(..).collect();
        if group.is_empty() {
            if stopping {
                return;
            }
            match rx.recv() {
                Ok(Message::Batch(batch)) => group.push(batch),
                Ok(Message::Stop) | Err(_) => return,
            }
        }
        while !stopping && group.len() < MAX_GROUP {
            match rx.try_recv() {
                Ok(Message::Batch(batch)) => group.push(batch),
                Ok(Message::Stop) => stopping = true,
                Err(_) => break,
            }
        }
        let results = commit_group(&mut store, &group);
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

/// Commits a group; one result per caller. A caller whose change touched what an
/// earlier failed caller touched fails too (its change was computed on top of it).
fn commit_group(store: &mut impl Store, group: &[Batch]) -> Vec<Result<(), String>> {
    let all = |e: String| vec![Err(e); group.len()];
    if let Err(e) = store.begin() {
        store.rollback();
        return all(format!("{e:#}"));
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
}
