//! Pings over HTTP: one ureq agent with hb's User-Agent and extra headers (proxies
//! from HTTP_PROXY, HTTPS_PROXY, ALL_PROXY and NO_PROXY), each ping on its own
//! thread so the caller can stop waiting when the budget says so.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

use super::dns::QuickResolver;
use super::retry::{self, Pause, PingResult, RetryPolicy, Transport, TryOutcome, Window};

/// After a stop signal (SIGTERM, SIGINT, SIGHUP, SIGQUIT) pings get at most this long.
pub(super) const AFTER_STOP: Duration = Duration::from_secs(5);

/// How often waits look again at a deadline that a stop signal may have moved.
const TICK: Duration = Duration::from_millis(20);

pub(super) const USER_AGENT: &str = concat!("hb/", env!("CARGO_PKG_VERSION"));

pub(super) struct Pinger {
    agent: ureq::Agent,
    headers: Vec<(String, String)>,
    pub policy: RetryPolicy,
}

impl Pinger {
    pub(super) fn new(headers: Vec<(String, String)>, policy: RetryPolicy) -> Self {
        let config = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .user_agent(USER_AGENT)
            // A redirect is an answer like any other, and not a delivery: following it
            // would turn the POST into a GET and drop the job's output (301, 302,
            // 303), or fail (307, 308). hb reports the redirect instead.
            .max_redirects(0)
            .input_buffer_size(16 * 1024)
            .output_buffer_size(16 * 1024)
            .build();
        let agent = ureq::Agent::with_parts(
            config,
            ureq::unversioned::transport::DefaultConnector::new(),
            <QuickResolver>::default(),
        );
        Pinger {
            agent,
            headers,
            policy,
        }
    }

    /// Sends a ping now, on this thread, until `deadline` (which `cap` may move closer).
    pub(super) fn send(
        &self,
        url: &str,
        body: &[u8],
        deadline: Instant,
        cap: &StopCap,
        called_off: &dyn Fn() -> bool,
    ) -> PingResult {
        let window = Window {
            deadline: &|| cap.cap(deadline),
            called_off,
        };
        retry::deliver(
            self,
            &RealPause,
            self.policy,
            &window,
            url,
            body,
            &mut fastrand::f64,
        )
    }
}

impl Transport for Pinger {
    fn try_once(&self, url: &str, body: &[u8], timeout: Duration) -> TryOutcome {
        let mut request = self
            .agent
            .post(url)
            .config()
            .timeout_global(Some(timeout))
            .build();
        if !self
            .headers
            .iter()
            .any(|(name, _)| name.eq_ignore_ascii_case("content-type"))
        {
            request = request.header("Content-Type", "text/plain; charset=utf-8");
        }
        for (name, value) in &self.headers {
            request = request.header(name.as_str(), value.as_str());
        }
        match request.send(body) {
            Ok(mut response) => {
                let body_limit = response
                    .headers()
                    .get("ping-body-limit")
                    .and_then(|v| v.to_str().ok())
                    .and_then(|v| v.trim().parse().ok());
                // Read the (short) answer so the connection can be used again.
                let _ = response
                    .body_mut()
                    .with_config()
                    .limit(64 * 1024)
                    .read_to_vec();
                TryOutcome::Answered {
                    status: response.status().as_u16(),
                    body_limit,
                }
            }
            Err(error) => TryOutcome::NoAnswer {
                transient: is_transient(&error),
                reason: explain(&error, timeout),
            },
        }
    }
}

/// Errors another try may cure: the network and the server, not the URL or settings.
fn is_transient(error: &ureq::Error) -> bool {
    use ureq::Error as E;
    matches!(
        error,
        E::Io(_)
            | E::Timeout(_)
            | E::HostNotFound
            | E::ConnectionFailed
            | E::Protocol(_)
            | E::ConnectProxyFailed(_)
            | E::BodyStalled
    )
}

fn explain(error: &ureq::Error, timeout: Duration) -> String {
    use std::io::ErrorKind;
    match error {
        ureq::Error::Io(e) if e.kind() == ErrorKind::ConnectionRefused => {
            "connection refused".into()
        }
        ureq::Error::Io(e) if e.kind() == ErrorKind::ConnectionReset => "connection reset".into(),
        ureq::Error::Io(e) => e.to_string(),
        ureq::Error::Timeout(_) => format!("no answer within {}", crate::duration::format(timeout)),
        ureq::Error::HostNotFound => "host not found".into(),
        other => other.to_string(),
    }
}

/// Sleeps in short steps so a called-off ping or a moved deadline is noticed.
struct RealPause;

impl Pause for RealPause {
    fn now(&self) -> Instant {
        Instant::now()
    }

    fn sleep(&self, duration: Duration, stop: &dyn Fn() -> bool) {
        let until = Instant::now() + duration;
        loop {
            let now = Instant::now();
            if now >= until || stop() {
                return;
            }
            std::thread::sleep((until - now).min(TICK));
        }
    }
}

/// The latest time pings may take after a stop signal; shared by every ping of hb.
#[derive(Debug, Clone, Default)]
pub(super) struct StopCap(Arc<Mutex<Option<Instant>>>);

impl StopCap {
    /// A stop signal came: from now on, at most [`AFTER_STOP`] remain.
    pub(super) fn stop_now(&self) {
        let at = Instant::now() + AFTER_STOP;
        let mut cap = self.0.lock().unwrap_or_else(|e| e.into_inner());
        *cap = Some(cap.map_or(at, |old| old.min(at)));
    }

    /// `deadline`, or earlier if a stop signal came.
    pub(super) fn cap(&self, deadline: Instant) -> Instant {
        let cap = *self.0.lock().unwrap_or_else(|e| e.into_inner());
        cap.map_or(deadline, |cap| cap.min(deadline))
    }
}

/// A ping running on its own thread.
pub(super) struct PingTask {
    shared: Arc<TaskShared>,
    pub began: Instant,
    pub deadline: Instant,
}

struct TaskShared {
    called_off: AtomicBool,
    done: Mutex<Option<(PingResult, Instant)>>,
    finished: Condvar,
}

impl PingTask {
    pub(super) fn spawn(
        pinger: Arc<Pinger>,
        url: String,
        body: Vec<u8>,
        deadline: Instant,
        cap: StopCap,
    ) -> Self {
        let began = Instant::now();
        let shared = Arc::new(TaskShared {
            called_off: AtomicBool::new(false),
            done: Mutex::new(None),
            finished: Condvar::new(),
        });
        let theirs = shared.clone();
        let work = move || {
            let called_off = || theirs.called_off.load(Ordering::SeqCst);
            let delivery = pinger.send(&url, &body, deadline, &cap, &called_off);
            *theirs.done.lock().unwrap_or_else(|e| e.into_inner()) =
                Some((delivery, Instant::now()));
            theirs.finished.notify_all();
        };
        if let Err(e) = std::thread::Builder::new().name("ping".into()).spawn(work) {
            *shared.done.lock().unwrap_or_else(|e| e.into_inner()) = Some((
                PingResult::NotDelivered {
                    last: format!("could not start a thread: {e}"),
                    tries: 0,
                },
                Instant::now(),
            ));
        }
        PingTask {
            shared,
            began,
            deadline,
        }
    }

    /// No new try: a try in flight may still finish.
    pub(super) fn call_off(&self) {
        self.shared.called_off.store(true, Ordering::SeqCst);
    }

    /// Waits for the ping to end, at most until its deadline (moved closer by `cap`);
    /// `None` if it was still going then. The second value is when it ended.
    pub(super) fn wait(&self, cap: &StopCap) -> Option<(PingResult, Instant)> {
        let mut done = self.shared.done.lock().unwrap_or_else(|e| e.into_inner());
        loop {
            if let Some(result) = done.as_ref() {
                return Some(result.clone());
            }
            let now = Instant::now();
            let deadline = cap.cap(self.deadline);
            if now >= deadline {
                return None;
            }
            done = self
                .shared
                .finished
                .wait_timeout(done, (deadline - now).min(TICK * 5))
                .unwrap_or_else(|e| e.into_inner())
                .0;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_stop_leaves_at_most_five_seconds() {
        let cap = StopCap::default();
        let far = Instant::now() + Duration::from_secs(60);
        assert_eq!(cap.cap(far), far);
        let before = Instant::now();
        cap.stop_now();
        let after = Instant::now();
        // Five seconds from the signal: no more, and no less either.
        let capped = cap.cap(far);
        assert!(capped >= before + AFTER_STOP, "{:?}", capped - before);
        assert!(capped <= after + AFTER_STOP, "{:?}", capped - after);
        let near = Instant::now() + Duration::from_secs(1);
        assert_eq!(cap.cap(near), near);
        // A second stop signal does not move the cap later.
        std::thread::sleep(Duration::from_millis(5));
        cap.stop_now();
        assert_eq!(cap.cap(far), capped);
    }
}
