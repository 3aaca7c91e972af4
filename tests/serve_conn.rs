//! The connection layer (`hb::serve::http::conn`) in process, on short limits and a
//! tiny router, spoken to over raw sockets: header, body and idle timeouts, the
//! connection cap and who is closed to make room, shutdown, `ConnectInfo`.

use std::io::{ErrorKind, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::{Arc, mpsc};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Bytes;
use axum::extract::{ConnectInfo, State};
use axum::routing::{get, post};
use hb::serve::http::conn::{Limits, serve};
use tokio::sync::Notify;

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

fn secs(n: u64) -> Duration {
    Duration::from_secs(n)
}

/// More than loopback's socket buffers hold: a client that does not read stalls the
/// server's writes.
const BIG: usize = 32 << 20;

/// What the handlers share with the test.
struct Handles {
    /// A slow handler has started.
    started: mpsc::Sender<&'static str>,
    /// Lets `/slow` answer.
    release: Notify,
}

fn router(handles: Arc<Handles>) -> Router {
    Router::new()
        .route("/hello", get(|| async { "hi" }))
        .route(
            "/peer",
            get(|ConnectInfo(peer): ConnectInfo<SocketAddr>| async move { peer.to_string() }),
        )
        .route(
            "/echo",
            post(|body: Bytes| async move { body.len().to_string() }),
        )
        .route("/big", get(|| async { vec![b'x'; BIG] }))
        .route("/slow", get(slow))
        .route("/hang", get(hang))
        .with_state(handles)
}

async fn slow(State(h): State<Arc<Handles>>) -> &'static str {
    let _ = h.started.send("slow");
    h.release.notified().await;
    "done"
}

async fn hang(State(h): State<Arc<Handles>>) -> &'static str {
    let _ = h.started.send("hang");
    std::future::pending::<()>().await;
    "never"
}

/// `conn::serve` on 127.0.0.1:0, on its own runtime.
struct TestServer {
    addr: SocketAddr,
    handles: Arc<Handles>,
    started: mpsc::Receiver<&'static str>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    done: mpsc::Receiver<(std::io::Result<()>, Instant)>,
    runtime: Option<tokio::runtime::Runtime>,
}

impl TestServer {
    fn start(limits: Limits) -> TestServer {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        let listener = runtime
            .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
            .unwrap();
        let addr = listener.local_addr().unwrap();
        let (started_tx, started) = mpsc::channel();
        let handles = Arc::new(Handles {
            started: started_tx,
            release: Notify::new(),
        });
        let (stop, stop_rx) = tokio::sync::oneshot::channel::<()>();
        let (done_tx, done) = mpsc::channel();
        let app = router(handles.clone());
        runtime.spawn(async move {
            let result = serve(listener, app, limits, async {
                let _ = stop_rx.await;
            })
            .await;
            let _ = done_tx.send((result, Instant::now()));
        });
        TestServer {
            addr,
            handles,
            started,
            stop: Some(stop),
            done,
            runtime: Some(runtime),
        }
    }

    fn connect(&self) -> TcpStream {
        let s = TcpStream::connect(self.addr).unwrap();
        s.set_read_timeout(Some(secs(10))).unwrap();
        s
    }

    /// Sends the shutdown signal; returns when it was sent.
    fn shutdown(&mut self) -> Instant {
        let at = Instant::now();
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        at
    }

    /// Waits for `serve` to return: its result and when it returned.
    fn wait_done(&self, bound: Duration) -> Option<(std::io::Result<()>, Instant)> {
        self.done.recv_timeout(bound).ok()
    }

    fn wait_started(&self, which: &str) {
        let got = self
            .started
            .recv_timeout(secs(10))
            .unwrap_or_else(|_| panic!("{which} never started"));
        assert_eq!(got, which);
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        if let Some(runtime) = self.runtime.take() {
            runtime.shutdown_timeout(secs(1));
        }
    }
}

fn wait_until(bound: Duration, mut cond: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + bound;
    while Instant::now() < deadline {
        if cond() {
            return true;
        }
        std::thread::sleep(ms(10));
    }
    cond()
}

/// Reads one response on a connection that stays open: (status, body).
fn read_response(s: &mut TcpStream) -> (u16, String) {
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        match s.read(&mut byte) {
            Ok(1) => head.push(byte[0]),
            other => panic!(
                "no response ({other:?}) after {:?}",
                String::from_utf8_lossy(&head)
            ),
        }
    }
    let head = String::from_utf8_lossy(&head).into_owned();
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|code| code.parse().ok())
        .unwrap_or_else(|| panic!("no status in {head:?}"));
    let length = head
        .lines()
        .find_map(|line| {
            let (name, value) = line.split_once(':')?;
            if name.eq_ignore_ascii_case("content-length") {
                value.trim().parse::<usize>().ok()
            } else {
                None
            }
        })
        .unwrap_or(0);
    let mut body = vec![0; length];
    s.read_exact(&mut body).unwrap();
    (status, String::from_utf8_lossy(&body).into_owned())
}

fn get_on(s: &mut TcpStream, path: &str) -> (u16, String) {
    write!(s, "GET {path} HTTP/1.1\r\nHost: test\r\n\r\n").unwrap();
    read_response(s)
}

/// Waits until the server closes `s` (end of file or reset), keeping what it sent;
/// None if it is still open after `bound`.
fn wait_closed(s: &mut TcpStream, bound: Duration) -> Option<(Instant, String)> {
    let deadline = Instant::now() + bound;
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return None;
        }
        s.set_read_timeout(Some(left)).unwrap();
        match s.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => got.extend_from_slice(&buf[..n]),
            Err(e)
                if matches!(
                    e.kind(),
                    ErrorKind::WouldBlock | ErrorKind::TimedOut | ErrorKind::Interrupted
                ) => {}
            Err(_) => break,
        }
    }
    Some((Instant::now(), String::from_utf8_lossy(&got).into_owned()))
}

/// True when `s` is open and the server has sent nothing on it for a moment.
fn open_and_silent(s: &mut TcpStream) -> bool {
    s.set_read_timeout(Some(ms(300))).unwrap();
    let silent = matches!(
        s.read(&mut [0u8; 1]),
        Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut)
    );
    s.set_read_timeout(Some(secs(10))).unwrap();
    silent
}

/// Sends `bytes` one at a time, `every` apart, until the server closes the socket
/// (or 15 s pass).
fn trickle(s: &TcpStream, bytes: &'static [u8], every: Duration) -> JoinHandle<()> {
    let mut s = s.try_clone().unwrap();
    std::thread::spawn(move || {
        let until = Instant::now() + secs(15);
        for b in bytes.iter().cycle() {
            if Instant::now() > until || s.write_all(&[*b]).is_err() {
                return;
            }
            std::thread::sleep(every);
        }
    })
}

#[test]
fn a_request_head_that_trickles_is_closed_after_the_header_timeout() {
    let server = TestServer::start(Limits {
        header_timeout: ms(300),
        ..Limits::default()
    });
    let start = Instant::now();
    let mut slow = server.connect();
    slow.write_all(b"GET /hello HTTP/1.1\r\nHost: test\r\n")
        .unwrap();
    let writer = trickle(&slow, b"X-Slow: 1\r\n", ms(20));
    let (closed, _) = wait_closed(&mut slow, secs(10)).expect("closed after the header timeout");
    let after = closed - start;
    assert!(
        after >= ms(250),
        "closed after {after:?}, before the header timeout"
    );
    writer.join().unwrap();

    let mut prompt = server.connect();
    assert_eq!(get_on(&mut prompt, "/hello"), (200, "hi".into()));
}

#[test]
fn a_kept_alive_connection_may_idle_past_the_header_timeout_up_to_the_idle_timeout() {
    let server = TestServer::start(Limits {
        header_timeout: ms(300),
        idle_timeout: secs(3),
        ..Limits::default()
    });
    let mut s = server.connect();
    assert_eq!(get_on(&mut s, "/hello"), (200, "hi".into()));
    // Idle for longer than the header timeout (not racing it: only the idle timeout,
    // 2 s further, could close it).
    std::thread::sleep(secs(1));
    assert_eq!(get_on(&mut s, "/hello"), (200, "hi".into()));
    let idle_from = Instant::now();
    // The bound is wide: on a loaded machine the close has been seen up to 12 s late.
    let (closed, _) = wait_closed(&mut s, secs(40)).expect("closed after the idle timeout");
    let idle = closed - idle_from;
    assert!(idle >= ms(2500), "closed after {idle:?} idle");
}

#[test]
fn a_request_body_that_trickles_is_cut_off() {
    let server = TestServer::start(Limits {
        body_timeout: ms(500),
        ..Limits::default()
    });
    let mut s = server.connect();
    let start = Instant::now();
    s.write_all(b"POST /echo HTTP/1.1\r\nHost: test\r\nContent-Length: 1000\r\n\r\n")
        .unwrap();
    let writer = trickle(&s, b"a", ms(50));
    let (closed, answer) = wait_closed(&mut s, secs(10)).expect("a trickling body is cut off");
    let after = closed - start;
    assert!(
        after >= ms(400),
        "closed after {after:?}, before the body timeout"
    );
    assert!(
        !answer.starts_with("HTTP/1.1 200"),
        "the request must fail: {answer:?}"
    );
    writer.join().unwrap();
}

#[test]
fn at_the_connection_cap_the_oldest_connection_sending_headers_makes_room() {
    let server = TestServer::start(Limits {
        max_connections: 50,
        header_timeout: secs(60),
        ..Limits::default()
    });
    let mut slow: Vec<TcpStream> = (0..50)
        .map(|_| {
            let mut s = server.connect();
            s.write_all(b"GET /hello HTTP/1.1\r\n").unwrap();
            s
        })
        .collect();
    let mut ping = server.connect();
    assert_eq!(get_on(&mut ping, "/hello"), (200, "hi".into()));
    assert!(
        wait_closed(&mut slow[0], secs(10)).is_some(),
        "the oldest connection still sending its headers was closed"
    );
    assert!(open_and_silent(&mut slow[1]), "only one was closed");
    assert!(open_and_silent(&mut slow[49]), "the newest stays");
}

#[test]
fn a_connection_with_a_request_in_flight_is_never_closed_to_make_room() {
    let server = TestServer::start(Limits {
        max_connections: 1,
        ..Limits::default()
    });
    let mut busy = server.connect();
    busy.write_all(b"GET /slow HTTP/1.1\r\nHost: test\r\n\r\n")
        .unwrap();
    server.wait_started("slow");
    let mut next = server.connect();
    next.write_all(b"GET /hello HTTP/1.1\r\nHost: test\r\n\r\n")
        .unwrap();
    assert!(
        open_and_silent(&mut next),
        "the newcomer waits while the only slot has a request in flight"
    );
    server.handles.release.notify_one();
    assert_eq!(read_response(&mut busy), (200, "done".into()));
    // Now idle, the first connection is the one to go.
    assert_eq!(read_response(&mut next), (200, "hi".into()));
    assert!(wait_closed(&mut busy, secs(10)).is_some());
}

#[test]
fn a_response_still_being_written_is_not_cut_to_make_room() {
    let server = TestServer::start(Limits {
        max_connections: 1,
        ..Limits::default()
    });
    let mut big = server.connect();
    big.write_all(b"GET /big HTTP/1.1\r\nHost: test\r\n\r\n")
        .unwrap();
    let mut first = [0u8; 12];
    big.read_exact(&mut first).unwrap();
    assert_eq!(&first, b"HTTP/1.1 200");
    // `big` is not read now: the server's writes stall with most of the body unsent.
    let mut next = server.connect();
    next.write_all(b"GET /hello HTTP/1.1\r\nHost: test\r\n\r\n")
        .unwrap();
    assert!(
        open_and_silent(&mut next),
        "the newcomer waits while the response is being written"
    );
    let mut rest = Vec::new();
    let mut buf = vec![0u8; 1 << 16];
    while !rest.ends_with(b"\r\n\r\n") {
        let n = big.read(&mut buf[..1]).unwrap();
        assert_eq!(n, 1, "closed in the response head");
        rest.push(buf[0]);
    }
    let mut got = 0;
    while got < BIG {
        let n = big.read(&mut buf).unwrap();
        assert!(n > 0, "the response was cut after {got} of {BIG} bytes");
        got += n;
    }
    // Written out and idle, it is the one to go.
    assert_eq!(read_response(&mut next), (200, "hi".into()));
    assert!(wait_closed(&mut big, secs(10)).is_some());
}

#[test]
fn a_slow_download_outlasts_the_idle_timeout_while_it_progresses() {
    let server = TestServer::start(Limits {
        header_timeout: ms(300),
        idle_timeout: secs(1),
        write_timeout: secs(5),
        ..Limits::default()
    });
    let mut s = server.connect();
    s.write_all(b"GET /big HTTP/1.1\r\nHost: test\r\n\r\n")
        .unwrap();
    let start = Instant::now();
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        assert_eq!(s.read(&mut byte).unwrap(), 1, "closed in the response head");
        head.push(byte[0]);
    }
    // Reads 100 ms apart for 3 s (three idle timeouts, each read well within the
    // write timeout), then the rest at once.
    let paced_until = start + secs(3);
    let mut buf = vec![0u8; 1 << 20];
    let mut got = 0;
    while got < BIG {
        let n = s.read(&mut buf).unwrap();
        assert!(n > 0, "the response was cut after {got} of {BIG} bytes");
        got += n;
        if Instant::now() < paced_until {
            std::thread::sleep(ms(100));
        }
    }
    assert_eq!(get_on(&mut s, "/hello"), (200, "hi".into()));
}

#[test]
fn a_client_that_stops_reading_is_closed_after_the_write_timeout() {
    let server = TestServer::start(Limits {
        write_timeout: ms(300),
        ..Limits::default()
    });
    let mut s = server.connect();
    s.write_all(b"GET /big HTTP/1.1\r\nHost: test\r\n\r\n")
        .unwrap();
    // Not reading, for several write timeouts: the server gives up on the response.
    std::thread::sleep(secs(2));
    let mut got = 0;
    let mut buf = vec![0u8; 1 << 20];
    loop {
        match s.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => got += n,
        }
    }
    assert!(got < BIG, "the whole response arrived ({got} bytes)");
}

#[test]
fn shutdown_closes_waiting_connections_and_lets_requests_in_flight_finish() {
    let mut server = TestServer::start(Limits {
        header_timeout: secs(30),
        shutdown_deadline: secs(10),
        ..Limits::default()
    });
    let mut slow = server.connect();
    slow.write_all(b"GET /hello HTTP/1.1\r\nHost: te").unwrap();
    let mut idle = server.connect();
    assert_eq!(get_on(&mut idle, "/hello"), (200, "hi".into()));
    let mut busy = server.connect();
    busy.write_all(b"GET /slow HTTP/1.1\r\nHost: test\r\n\r\n")
        .unwrap();
    server.wait_started("slow");

    let signalled = server.shutdown();
    assert!(
        wait_closed(&mut slow, secs(5)).is_some(),
        "a client still sending its headers is closed at once"
    );
    assert!(
        wait_closed(&mut idle, secs(5)).is_some(),
        "an idle kept-alive connection is closed at once"
    );
    assert!(
        wait_until(secs(5), || TcpStream::connect(server.addr).is_err()),
        "no new connection is accepted"
    );
    assert!(
        server.done.try_recv().is_err(),
        "serve waits for the request in flight"
    );

    server.handles.release.notify_one();
    assert_eq!(read_response(&mut busy), (200, "done".into()));
    let (result, returned) = server.wait_done(secs(15)).expect("serve returned");
    result.unwrap();
    assert!(returned - signalled < secs(10));
    assert!(wait_closed(&mut busy, secs(5)).is_some());
}

#[test]
fn shutdown_returns_within_the_deadline_whatever_the_clients_do() {
    let mut server = TestServer::start(Limits {
        body_timeout: secs(60),
        shutdown_deadline: secs(1),
        ..Limits::default()
    });
    let mut hung = server.connect();
    hung.write_all(b"GET /hang HTTP/1.1\r\nHost: test\r\n\r\n")
        .unwrap();
    server.wait_started("hang");
    let mut body = server.connect();
    body.write_all(b"POST /echo HTTP/1.1\r\nHost: test\r\nContent-Length: 1000\r\n\r\nabc")
        .unwrap();
    let writer = trickle(&body, b"a", ms(50));

    let signalled = server.shutdown();
    let (result, returned) = server.wait_done(secs(15)).expect("serve returned");
    result.unwrap();
    let took = returned - signalled;
    assert!(
        took >= ms(900),
        "requests in flight get until the deadline ({took:?})"
    );
    assert!(took < secs(3), "the deadline holds ({took:?})");
    assert!(wait_closed(&mut hung, secs(5)).is_some());
    assert!(wait_closed(&mut body, secs(5)).is_some());
    writer.join().unwrap();
}

#[test]
fn handlers_get_the_peer_address() {
    let server = TestServer::start(Limits::default());
    let mut s = server.connect();
    let me = s.local_addr().unwrap().to_string();
    assert_eq!(get_on(&mut s, "/peer"), (200, me));
}
