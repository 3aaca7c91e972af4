//! The connection layer of `hb serve`: accepts TCP connections and serves the router
//! over HTTP/1.1 within the limits of PRODUCT.md §4 "Connections", in place of
//! `axum::serve`.
//!
//! - A request head must be complete within `header_timeout` of the connection being
//!   accepted or, on a kept-alive connection, of the head's first byte; a kept-alive
//!   connection may wait `idle_timeout` (from the end of its previous response) for
//!   that first byte. A request body must be complete within `body_timeout` of its
//!   head: past that, the handler sees a body error and the connection is closed after
//!   the answer. A write that the client leaves unread for `write_timeout` closes the
//!   connection.
//! - At most `max_connections` are open (fewer if the open-file limit would not allow
//!   them, keeping some descriptors for the store and the outbox). When the cap or the
//!   open-file limit is reached (accept fails with EMFILE/ENFILE), the connection that
//!   has waited longest for a request head (a slow or idle client) is closed to make
//!   room, so a new ping always gets in; a connection with a request in flight, or a
//!   response still going out, is never closed for that. Accept errors never stop the
//!   server nor spin the loop; one line on stderr (at most one a minute) says when
//!   connections are closed to make room.
//! - Shutdown stops accepting at once, closes the connections that have no request in
//!   flight, lets in-flight requests finish, and returns within `shutdown_deadline` of
//!   the shutdown signal whatever the clients do.
//!
//! Handlers get `ConnectInfo<SocketAddr>`, as with
//! `into_make_service_with_connect_info::<SocketAddr>()`. Requests are timed by a
//! per-connection watchdog fed by the socket (first byte of a head, stalled writes) and
//! by the service (a request starts; its response body is dropped when written).

use std::collections::{BTreeMap, HashMap};
use std::convert::Infallible;
use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::task::{Context, Poll};
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::extract::ConnectInfo;
use hyper::Request;
use hyper::body::{Body as HttpBody, Bytes, Frame, Incoming, SizeHint};
use hyper::server::conn::http1;
use hyper::service::Service as _;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{Notify, OwnedSemaphorePermit, Semaphore, TryAcquireError, watch};
use tokio::task::JoinSet;
use tokio::time::{Instant, Sleep, sleep, sleep_until, timeout};

/// The limits of one server; [`Limits::default`] gives PRODUCT.md's values.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// A request head must be complete this long after the connection was accepted
    /// (or, on a kept-alive connection, after its first byte arrived).
    pub header_timeout: Duration,
    /// A request body must be complete this long after its head.
    pub body_timeout: Duration,
    /// A kept-alive connection may wait this long for the next request.
    pub idle_timeout: Duration,
    /// A response write may stall (the client not reading) this long.
    pub write_timeout: Duration,
    /// At most this many connections are open.
    pub max_connections: usize,
    /// [`serve`] returns this long after the shutdown signal at the latest.
    pub shutdown_deadline: Duration,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            header_timeout: Duration::from_secs(10),
            body_timeout: Duration::from_secs(30),
            idle_timeout: Duration::from_secs(60),
            write_timeout: Duration::from_secs(30),
            max_connections: 10_000,
            shutdown_deadline: Duration::from_secs(10),
        }
    }
}

/// How long the accept loop waits for a closed connection to free its slot before
/// looking again; also the pause after an accept error that is not the client's.
const RETRY: Duration = Duration::from_millis(100);
/// At most one line per this period for each kind of notice on stderr.
const NOTICE_EVERY: Duration = Duration::from_secs(60);
/// File descriptors kept for everything but connections (the store, the outbox's
/// deliveries, command channels), at most a quarter of the limit.
const FD_RESERVE: u64 = 128;

type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// Serves `router` on `listener` until `shutdown` completes, then drains (see the
/// module's documentation). Accept errors are handled, never returned.
pub async fn serve(
    listener: TcpListener,
    router: Router,
    limits: Limits,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> io::Result<()> {
    let cap = connection_cap(limits.max_connections, open_file_limit());
    let shared = Arc::new(Shared {
        tracker: Mutex::new(Tracker::new()),
        limits,
        cap,
        cap_reason: if cap < limits.max_connections {
            "the open-file limit"
        } else {
            "max_connections"
        },
    });
    let permits = Arc::new(Semaphore::new(cap));
    let mut builder = http1::Builder::new();
    builder
        // A timer, so that no hyper timeout is ever set without one (a panic).
        .timer(TokioTimer::new())
        // Not hyper's: its clock starts when the previous response is handed over, not
        // written, so it would cut a slow download of a large response, and it cannot
        // tell an idle connection from a slow head. `serve_connection` watches both.
        .header_read_timeout(None)
        .keep_alive(true);
    let (stop_tx, stop_rx) = watch::channel(false);
    let mut tasks: JoinSet<()> = JoinSet::new();
    let mut notices = Notices::default();
    let mut next_id: u64 = 0;
    tokio::pin!(shutdown);

    loop {
        while tasks.try_join_next().is_some() {}
        let (stream, remote, permit) = tokio::select! {
            biased;
            () = &mut shutdown => break,
            next = next_connection(&listener, &permits, &shared, &mut tasks, &mut notices) => next,
        };
        next_id = next_id.wrapping_add(1);
        let conn = Arc::new(Conn::new(next_id, Instant::now()));
        let registration = Registration::new(&shared, conn.clone());
        let _ = stream.set_nodelay(true);
        tasks.spawn(serve_connection(
            stream,
            remote,
            conn,
            registration,
            builder.clone(),
            router.clone(),
            stop_rx.clone(),
            permit,
        ));
    }

    let deadline = Instant::now().checked_add(limits.shutdown_deadline);
    drop(listener);
    let _ = stop_tx.send(true);
    loop {
        tokio::select! {
            joined = tasks.join_next() => {
                if joined.is_none() {
                    break;
                }
            }
            () = sleep_until_some(deadline) => {
                tasks.abort_all();
                while tasks.join_next().await.is_some() {}
                break;
            }
        }
    }
    Ok(())
}

/// Raises the soft open-file limit to the hard one; returns (old soft, new soft).
pub fn raise_open_file_limit() -> io::Result<(u64, u64)> {
    let mut limit = get_nofile()?;
    let old = limit.rlim_cur;
    if old == libc::RLIM_INFINITY || old >= limit.rlim_max {
        return Ok((to_u64(old), to_u64(old)));
    }
    // macOS reports an infinite hard limit but refuses a soft one above OPEN_MAX.
    let mut last_error = None;
    for target in [limit.rlim_max, 1 << 20, 10_240] {
        if target <= old || target > limit.rlim_max {
            continue;
        }
        limit.rlim_cur = target;
        // SAFETY: `limit` is a valid rlimit for the call to read.
        if unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &limit) } == 0 {
            return Ok((to_u64(old), to_u64(target)));
        }
        last_error = Some(io::Error::last_os_error());
    }
    match last_error {
        Some(e) => Err(e),
        None => Ok((to_u64(old), to_u64(old))),
    }
}

fn get_nofile() -> io::Result<libc::rlimit> {
    let mut limit = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit writes into the rlimit it is given, which lives for the call.
    if unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) } == 0 {
        Ok(limit)
    } else {
        Err(io::Error::last_os_error())
    }
}

/// `rlim_t` is u64 on the platforms hb runs on, u32 on some 32-bit ones.
#[allow(clippy::unnecessary_cast)]
fn to_u64(v: libc::rlim_t) -> u64 {
    v as u64
}

/// The soft open-file limit, if it can be read.
fn open_file_limit() -> Option<u64> {
    get_nofile().ok().map(|l| to_u64(l.rlim_cur))
}

/// How many connections may be open: `max_connections`, fewer if the open-file limit
/// (less a reserve for everything else) is lower; at least one.
fn connection_cap(max_connections: usize, open_files: Option<u64>) -> usize {
    let max = max_connections.max(1);
    match open_files {
        None => max,
        Some(limit) => {
            let room = limit.saturating_sub(FD_RESERVE.min(limit / 4));
            max.min(usize::try_from(room).unwrap_or(usize::MAX).max(1))
        }
    }
}

/// The next connection to serve, with its slot; makes room when needed.
async fn next_connection(
    listener: &TcpListener,
    permits: &Arc<Semaphore>,
    shared: &Shared,
    tasks: &mut JoinSet<()>,
    notices: &mut Notices,
) -> (TcpStream, SocketAddr, OwnedSemaphorePermit) {
    loop {
        let (stream, remote) = match listener.accept().await {
            Ok(accepted) => accepted,
            Err(e) => {
                match accept_error_kind(&e) {
                    // Each such error uses up one pending connection: no spinning.
                    AcceptError::Client => tokio::task::yield_now().await,
                    AcceptError::OutOfFiles => {
                        // Finished connections have freed their descriptors already.
                        while tasks.try_join_next().is_some() {}
                        if make_room(shared, notices, "the open-file limit") {
                            let _ = timeout(RETRY, tasks.join_next()).await;
                        } else {
                            if notices.accept.hit(Instant::now()).is_some() {
                                crate::serve::log::warn(
                                    "connections",
                                    format!("cannot accept connections ({e}) and no connection is waiting for a request to be closed; retrying"),
                                )
                                .emit();
                            }
                            sleep(RETRY).await;
                        }
                    }
                    AcceptError::Other => {
                        if notices.accept.hit(Instant::now()).is_some() {
                            crate::serve::log::warn(
                                "connections",
                                format!("cannot accept connections ({e}); retrying"),
                            )
                            .emit();
                        }
                        sleep(RETRY).await;
                    }
                }
                continue;
            }
        };
        let permit = loop {
            match permits.clone().try_acquire_owned() {
                Ok(permit) => break permit,
                Err(TryAcquireError::NoPermits) => {}
                Err(TryAcquireError::Closed) => {
                    sleep(RETRY).await;
                    continue;
                }
            }
            make_room(shared, notices, shared.cap_reason);
            // Nothing to close means every connection has a request in flight: wait for
            // one to finish (or to go idle, and look again).
            if let Ok(Ok(permit)) = timeout(RETRY, permits.clone().acquire_owned()).await {
                break permit;
            }
        };
        return (stream, remote, permit);
    }
}

/// Asks the connection that has waited longest for a request head to close; says so
/// on stderr now and then. False when no connection is waiting for a head.
fn make_room(shared: &Shared, notices: &mut Notices, reason: &str) -> bool {
    let (victim, open) = {
        let mut tracker = lock(&shared.tracker);
        (tracker.pop_oldest_waiting(), tracker.len())
    };
    let Some((_, conn)) = victim else {
        return false;
    };
    conn.evict.notify_one();
    if let Some(closed) = notices.evictions.hit(Instant::now()) {
        let since = if closed > 1 {
            format!(" ({closed} closed since the last such line)")
        } else {
            String::new()
        };
        crate::serve::log::warn(
            "connections",
            format!(
                "{reason} is reached ({open} connections open, at most {}): closing the oldest connections still sending their request headers to make room{since}",
                shared.cap
            ),
        )
        .emit();
    }
    true
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum AcceptError {
    /// About one client's connection (reset, aborted, refused by a filter): carry on.
    Client,
    /// Out of descriptors or socket memory: closing a connection helps.
    OutOfFiles,
    /// Anything else: pause, then carry on.
    Other,
}

fn accept_error_kind(e: &io::Error) -> AcceptError {
    match e.raw_os_error() {
        Some(libc::EMFILE | libc::ENFILE | libc::ENOBUFS | libc::ENOMEM) => AcceptError::OutOfFiles,
        Some(
            libc::ECONNABORTED
            | libc::ECONNRESET
            | libc::ECONNREFUSED
            | libc::EPROTO
            | libc::EPERM
            | libc::EINTR
            | libc::EAGAIN
            | libc::ENETDOWN
            | libc::ENETUNREACH
            | libc::EHOSTDOWN
            | libc::EHOSTUNREACH
            | libc::ENOPROTOOPT
            | libc::EOPNOTSUPP,
        ) => AcceptError::Client,
        _ => match e.kind() {
            io::ErrorKind::ConnectionAborted
            | io::ErrorKind::ConnectionReset
            | io::ErrorKind::ConnectionRefused
            | io::ErrorKind::Interrupted
            | io::ErrorKind::WouldBlock => AcceptError::Client,
            _ => AcceptError::Other,
        },
    }
}

/// What all connections share.
struct Shared {
    tracker: Mutex<Tracker<Arc<Conn>>>,
    limits: Limits,
    cap: usize,
    cap_reason: &'static str,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

/// One connection, as its watchdog, its I/O and its requests see it.
struct Conn {
    id: u64,
    state: Mutex<ConnState>,
    /// A deadline moved earlier: the watchdog looks again.
    changed: Notify,
    /// Asked to close to make room (honoured only when idle).
    evict: Notify,
}

impl Conn {
    fn new(id: u64, now: Instant) -> Conn {
        Conn {
            id,
            state: Mutex::new(ConnState {
                phase: Phase::Head {
                    since: now,
                    fresh: true,
                    first_byte: None,
                },
                write_stalled_since: None,
            }),
            changed: Notify::new(),
            evict: Notify::new(),
        }
    }

    fn state(&self) -> ConnState {
        *lock(&self.state)
    }

    /// Waiting for a request head with nothing left to write: closing it loses nothing.
    fn idle(&self) -> bool {
        let state = self.state();
        matches!(state.phase, Phase::Head { .. }) && state.write_stalled_since.is_none()
    }

    /// Asked to make room while the end of a response is still being written: back in
    /// the line, to be asked again once it may be idle.
    fn requeue(&self, shared: &Shared) {
        if matches!(self.state().phase, Phase::Head { .. }) {
            lock(&shared.tracker).enter_head(self.id);
        }
    }

    fn enter_request(&self, shared: &Shared) {
        lock(&self.state).phase = Phase::Request;
        lock(&shared.tracker).leave_head(self.id);
    }

    fn enter_head(&self, shared: &Shared) {
        lock(&self.state).phase = Phase::Head {
            since: Instant::now(),
            fresh: false,
            first_byte: None,
        };
        lock(&shared.tracker).enter_head(self.id);
    }

    fn saw_bytes(&self) {
        let mut state = lock(&self.state);
        if let Phase::Head {
            fresh,
            first_byte: first_byte @ None,
            ..
        } = &mut state.phase
        {
            *first_byte = Some(Instant::now());
            if !*fresh {
                self.changed.notify_one();
            }
        }
    }

    /// A write was attempted: `pending` if the client is not reading.
    fn wrote(&self, pending: bool) {
        let mut state = lock(&self.state);
        if pending {
            if state.write_stalled_since.is_none() {
                state.write_stalled_since = Some(Instant::now());
                self.changed.notify_one();
            }
            return;
        }
        state.write_stalled_since = None;
        // The end of a response going out: the connection is idle from the last write.
        if let Phase::Head {
            since,
            fresh: false,
            first_byte: None,
        } = &mut state.phase
        {
            *since = Instant::now();
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct ConnState {
    phase: Phase,
    /// Since when a write has been waiting for the client to read.
    write_stalled_since: Option<Instant>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    /// Waiting for a request head: since the connection was accepted (`fresh`) or
    /// since the previous response; `first_byte` is when the head began to arrive.
    Head {
        since: Instant,
        fresh: bool,
        first_byte: Option<Instant>,
    },
    /// A request is being read, handled or answered.
    Request,
}

/// When the connection must be closed unless something changes; None: no limit now.
/// While a write is stalled, only the write timeout applies.
fn deadline(state: &ConnState, limits: &Limits) -> Option<Instant> {
    if let Some(stalled) = state.write_stalled_since {
        return stalled.checked_add(limits.write_timeout);
    }
    match state.phase {
        Phase::Head {
            since, fresh: true, ..
        } => since.checked_add(limits.header_timeout),
        Phase::Head {
            first_byte: Some(first),
            ..
        } => first.checked_add(limits.header_timeout),
        Phase::Head { since, .. } => since.checked_add(limits.idle_timeout),
        Phase::Request => None,
    }
}

async fn sleep_until_some(deadline: Option<Instant>) {
    match deadline {
        Some(at) => sleep_until(at).await,
        None => std::future::pending().await,
    }
}

/// The connections that are waiting for a request head, oldest first: which one to
/// close to make room. Pure bookkeeping; `H` is how to reach a connection.
#[derive(Debug)]
struct Tracker<H> {
    next_seq: u64,
    /// Every open connection: its handle and, while it waits for a head, its place.
    conns: HashMap<u64, (H, Option<u64>)>,
    /// Place (order of starting to wait) to connection.
    waiting: BTreeMap<u64, u64>,
}

impl<H: Clone> Tracker<H> {
    fn new() -> Self {
        Tracker {
            next_seq: 0,
            conns: HashMap::new(),
            waiting: BTreeMap::new(),
        }
    }

    /// A new connection: it waits for its first head.
    fn register(&mut self, id: u64, handle: H) {
        self.conns.insert(id, (handle, None));
        self.enter_head(id);
    }

    fn unregister(&mut self, id: u64) {
        if let Some((_, Some(seq))) = self.conns.remove(&id) {
            self.waiting.remove(&seq);
        }
    }

    /// The connection (if still open) waits for a head from now: last in line.
    fn enter_head(&mut self, id: u64) {
        let Some(entry) = self.conns.get_mut(&id) else {
            return;
        };
        if let Some(old) = entry.1.take() {
            self.waiting.remove(&old);
        }
        let seq = self.next_seq;
        self.next_seq = self.next_seq.wrapping_add(1);
        entry.1 = Some(seq);
        self.waiting.insert(seq, id);
    }

    fn leave_head(&mut self, id: u64) {
        if let Some((_, seq)) = self.conns.get_mut(&id)
            && let Some(seq) = seq.take()
        {
            self.waiting.remove(&seq);
        }
    }

    /// Takes the connection that has waited longest for a head out of the line.
    fn pop_oldest_waiting(&mut self) -> Option<(u64, H)> {
        while let Some((_, id)) = self.waiting.pop_first() {
            if let Some(entry) = self.conns.get_mut(&id) {
                entry.1 = None;
                return Some((id, entry.0.clone()));
            }
        }
        None
    }

    fn len(&self) -> usize {
        self.conns.len()
    }

    #[cfg(test)]
    fn waiting_len(&self) -> usize {
        self.waiting.len()
    }
}

/// A connection's entry in the tracker, removed when the connection's task ends
/// (or is dropped unpolled).
struct Registration {
    shared: Arc<Shared>,
    id: u64,
}

impl Registration {
    fn new(shared: &Arc<Shared>, conn: Arc<Conn>) -> Registration {
        let id = conn.id;
        lock(&shared.tracker).register(id, conn);
        Registration {
            shared: shared.clone(),
            id,
        }
    }
}

impl Drop for Registration {
    fn drop(&mut self) {
        lock(&self.shared.tracker).unregister(self.id);
    }
}

/// Rate-limited stderr notices.
#[derive(Debug, Default)]
struct Notices {
    evictions: RateLimit,
    accept: RateLimit,
}

#[derive(Debug, Default)]
struct RateLimit {
    last: Option<Instant>,
    /// Events since the last line, this one included.
    pending: u64,
}

impl RateLimit {
    /// Counts an event; Some(events since the last line) when a line is due.
    fn hit(&mut self, now: Instant) -> Option<u64> {
        self.pending = self.pending.saturating_add(1);
        if let Some(last) = self.last
            && now.saturating_duration_since(last) < NOTICE_EVERY
        {
            return None;
        }
        self.last = Some(now);
        Some(std::mem::take(&mut self.pending))
    }
}

/// Serves one connection under its watchdog.
#[allow(clippy::too_many_arguments)]
async fn serve_connection(
    stream: TcpStream,
    remote: SocketAddr,
    conn: Arc<Conn>,
    registration: Registration,
    builder: http1::Builder,
    router: Router,
    mut stop: watch::Receiver<bool>,
    _permit: OwnedSemaphorePermit,
) {
    let limits = registration.shared.limits;
    let tower = TowerToHyperService::new(router);
    let service = {
        let conn = conn.clone();
        let shared = registration.shared.clone();
        hyper::service::service_fn(move |req: Request<Incoming>| {
            conn.enter_request(&shared);
            let guard = RequestGuard {
                conn: conn.clone(),
                shared: shared.clone(),
            };
            let body_deadline = Instant::now().checked_add(limits.body_timeout);
            let mut req = req.map(|body| Body::new(TimedBody::new(body, body_deadline)));
            req.extensions_mut().insert(ConnectInfo(remote));
            let answer = tower.call(req);
            async move {
                let response = match answer.await {
                    Ok(response) => response,
                    Err(never) => match never {},
                };
                Ok::<_, Infallible>(response.map(|inner| GuardedBody {
                    inner,
                    _guard: guard,
                }))
            }
        })
    };
    let io = TokioIo::new(TrackedIo {
        inner: stream,
        conn: conn.clone(),
    });
    let connection = builder.serve_connection(io, service);
    tokio::pin!(connection);
    let mut stopping = false;
    loop {
        let due = deadline(&conn.state(), &limits);
        tokio::select! {
            _ = connection.as_mut() => return,
            () = conn.changed.notified() => {}
            () = sleep_until_some(due) => {
                if deadline(&conn.state(), &limits).is_some_and(|d| d <= Instant::now()) {
                    return;
                }
            }
            () = conn.evict.notified() => {
                if conn.idle() {
                    return;
                }
                conn.requeue(&registration.shared);
            }
            _ = stop.wait_for(|stop| *stop), if !stopping => {
                stopping = true;
                if conn.idle() {
                    return;
                }
                connection.as_mut().graceful_shutdown();
            }
        }
    }
}

/// Marks the end of a request when hyper drops the response body (all written, or
/// the connection gone): the connection then waits for its next head.
struct RequestGuard {
    conn: Arc<Conn>,
    shared: Arc<Shared>,
}

impl Drop for RequestGuard {
    fn drop(&mut self) {
        self.conn.enter_head(&self.shared);
    }
}

/// The response body, carrying the end-of-request mark.
struct GuardedBody {
    inner: Body,
    _guard: RequestGuard,
}

impl HttpBody for GuardedBody {
    type Data = Bytes;
    type Error = axum::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, axum::Error>>> {
        Pin::new(&mut self.get_mut().inner).poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

/// The request body, failing once its deadline passes.
struct TimedBody {
    inner: Incoming,
    deadline: Option<Instant>,
    sleep: Option<Pin<Box<Sleep>>>,
    timed_out: bool,
}

impl TimedBody {
    fn new(inner: Incoming, deadline: Option<Instant>) -> TimedBody {
        TimedBody {
            inner,
            deadline,
            sleep: None,
            timed_out: false,
        }
    }
}

#[derive(Debug)]
struct BodyTimeout;

impl std::fmt::Display for BodyTimeout {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("the request body took too long to arrive")
    }
}

impl std::error::Error for BodyTimeout {}

impl HttpBody for TimedBody {
    type Data = Bytes;
    type Error = BoxError;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, BoxError>>> {
        let this = self.get_mut();
        if this.timed_out {
            return Poll::Ready(None);
        }
        if let Poll::Ready(frame) = Pin::new(&mut this.inner).poll_frame(cx) {
            return Poll::Ready(frame.map(|r| r.map_err(BoxError::from)));
        }
        let Some(deadline) = this.deadline else {
            return Poll::Pending;
        };
        let sleep = this
            .sleep
            .get_or_insert_with(|| Box::pin(sleep_until(deadline)));
        if sleep.as_mut().poll(cx).is_ready() {
            this.timed_out = true;
            return Poll::Ready(Some(Err(Box::new(BodyTimeout))));
        }
        Poll::Pending
    }

    fn is_end_stream(&self) -> bool {
        self.timed_out || self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

/// The socket, telling its connection when a head begins to arrive and when writes
/// stall.
struct TrackedIo {
    inner: TcpStream,
    conn: Arc<Conn>,
}

impl TrackedIo {
    fn note_write<T>(&self, polled: Poll<io::Result<T>>) -> Poll<io::Result<T>> {
        self.conn.wrote(polled.is_pending());
        polled
    }
}

impl AsyncRead for TrackedIo {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        let before = buf.filled().len();
        let polled = Pin::new(&mut this.inner).poll_read(cx, buf);
        if matches!(polled, Poll::Ready(Ok(()))) && buf.filled().len() > before {
            this.conn.saw_bytes();
        }
        polled
    }
}

impl AsyncWrite for TrackedIo {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        let polled = Pin::new(&mut this.inner).poll_write(cx, buf);
        this.note_write(polled)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        let polled = Pin::new(&mut this.inner).poll_write_vectored(cx, bufs);
        this.note_write(polled)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        let polled = Pin::new(&mut this.inner).poll_flush(cx);
        this.note_write(polled)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const S: Duration = Duration::from_secs(1);

    fn limits() -> Limits {
        Limits::default()
    }

    #[test]
    fn the_oldest_connection_waiting_for_a_head_is_closed_first() {
        let mut t = Tracker::new();
        for id in 1..=3 {
            t.register(id, id * 10);
        }
        assert_eq!(t.pop_oldest_waiting(), Some((1, 10)));
        assert_eq!(t.pop_oldest_waiting(), Some((2, 20)));
        assert_eq!(t.len(), 3, "popping only takes it out of the line");
        assert_eq!(t.waiting_len(), 1);
    }

    #[test]
    fn a_connection_with_a_request_in_flight_is_never_chosen() {
        let mut t = Tracker::new();
        t.register(1, ());
        t.register(2, ());
        t.leave_head(1);
        assert_eq!(t.pop_oldest_waiting(), Some((2, ())));
        assert_eq!(t.pop_oldest_waiting(), None);
    }

    #[test]
    fn a_connection_that_waits_again_goes_to_the_back_of_the_line() {
        let mut t = Tracker::new();
        t.register(1, ());
        t.register(2, ());
        t.leave_head(1);
        t.enter_head(1); // its response is written: it now waits for its next head
        assert_eq!(t.pop_oldest_waiting().map(|(id, _)| id), Some(2));
        assert_eq!(t.pop_oldest_waiting().map(|(id, _)| id), Some(1));
    }

    #[test]
    fn closed_connections_leave_no_trace() {
        let mut t = Tracker::new();
        t.register(1, ());
        t.register(2, ());
        t.unregister(1);
        t.enter_head(1); // a late end-of-request mark after the close
        assert_eq!(t.len(), 1);
        assert_eq!(t.waiting_len(), 1);
        assert_eq!(t.pop_oldest_waiting().map(|(id, _)| id), Some(2));
        t.unregister(2);
        assert_eq!((t.len(), t.waiting_len()), (0, 0));
        assert_eq!(t.pop_oldest_waiting(), None);
    }

    #[test]
    fn a_new_connection_has_the_header_timeout_from_its_accept() {
        let now = Instant::now();
        let mut state = ConnState {
            phase: Phase::Head {
                since: now,
                fresh: true,
                first_byte: None,
            },
            write_stalled_since: None,
        };
        assert_eq!(deadline(&state, &limits()), Some(now + 10 * S));
        state.phase = Phase::Head {
            since: now,
            fresh: true,
            first_byte: Some(now + 5 * S),
        };
        assert_eq!(deadline(&state, &limits()), Some(now + 10 * S));
    }

    #[test]
    fn a_kept_alive_connection_may_idle_then_has_the_header_timeout() {
        let now = Instant::now();
        let mut state = ConnState {
            phase: Phase::Head {
                since: now,
                fresh: false,
                first_byte: None,
            },
            write_stalled_since: None,
        };
        assert_eq!(deadline(&state, &limits()), Some(now + 60 * S));
        state.phase = Phase::Head {
            since: now,
            fresh: false,
            first_byte: Some(now + 20 * S),
        };
        assert_eq!(deadline(&state, &limits()), Some(now + 30 * S));
    }

    #[test]
    fn a_request_has_no_deadline_but_a_stalled_write_has_only_that_one() {
        let now = Instant::now();
        let mut state = ConnState {
            phase: Phase::Request,
            write_stalled_since: None,
        };
        assert_eq!(deadline(&state, &limits()), None);
        state.write_stalled_since = Some(now);
        assert_eq!(deadline(&state, &limits()), Some(now + 30 * S));
        state.phase = Phase::Head {
            since: now,
            fresh: true,
            first_byte: None,
        };
        assert_eq!(deadline(&state, &limits()), Some(now + 30 * S));
    }

    #[test]
    fn huge_limits_mean_no_deadline_not_a_panic() {
        let state = ConnState {
            phase: Phase::Head {
                since: Instant::now(),
                fresh: true,
                first_byte: None,
            },
            write_stalled_since: None,
        };
        let huge = Limits {
            header_timeout: Duration::MAX,
            ..limits()
        };
        assert_eq!(deadline(&state, &huge), None);
    }

    #[test]
    fn notices_are_rate_limited_and_count_what_they_held_back() {
        let now = Instant::now();
        let mut r = RateLimit::default();
        assert_eq!(r.hit(now), Some(1));
        assert_eq!(r.hit(now + S), None);
        assert_eq!(r.hit(now + 59 * S), None);
        assert_eq!(r.hit(now + 61 * S), Some(3));
        assert_eq!(r.hit(now + 62 * S), None);
    }

    #[test]
    fn accept_errors_are_told_apart() {
        let os = io::Error::from_raw_os_error;
        assert_eq!(
            accept_error_kind(&os(libc::EMFILE)),
            AcceptError::OutOfFiles
        );
        assert_eq!(
            accept_error_kind(&os(libc::ENFILE)),
            AcceptError::OutOfFiles
        );
        assert_eq!(
            accept_error_kind(&os(libc::ECONNABORTED)),
            AcceptError::Client
        );
        assert_eq!(accept_error_kind(&os(libc::EPROTO)), AcceptError::Client);
        assert_eq!(accept_error_kind(&os(libc::EBADF)), AcceptError::Other);
        assert_eq!(
            accept_error_kind(&io::Error::other("strange")),
            AcceptError::Other
        );
    }

    #[test]
    fn the_cap_leaves_descriptors_for_the_rest_of_the_server() {
        assert_eq!(connection_cap(10_000, None), 10_000);
        assert_eq!(connection_cap(10_000, Some(1024)), 896);
        assert_eq!(connection_cap(10_000, Some(256)), 192);
        assert_eq!(connection_cap(10_000, Some(1_048_576)), 10_000);
        assert_eq!(connection_cap(50, Some(1024)), 50);
        assert_eq!(connection_cap(10_000, Some(0)), 1);
        assert_eq!(connection_cap(0, None), 1);
        assert_eq!(connection_cap(10_000, Some(u64::MAX)), 10_000);
    }

    #[test]
    fn raising_the_open_file_limit_leaves_soft_at_hard() {
        let (old, new) = raise_open_file_limit().expect("raise");
        assert!(new >= old);
        let now = get_nofile().expect("getrlimit");
        assert_eq!(to_u64(now.rlim_cur), new);
    }
}
