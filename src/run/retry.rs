//! How hard one ping tries: which answers are worth another try, how long to wait
//! between tries (exponential backoff with jitter), and the loop that stops at the
//! last try, at the deadline or when told to. Time and the network are injected,
//! so tests run without waiting.

use std::time::{Duration, Instant};

/// What one try came to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TryOutcome {
    /// The monitor answered with this status.
    Answered {
        status: u16,
        /// The `Ping-Body-Limit` header, when the answer had one.
        body_limit: Option<usize>,
    },
    /// No answer. `transient` errors (refused, DNS, timeout, reset) are worth another try.
    NoAnswer { transient: bool, reason: String },
}

/// What a try means for the ping.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    Delivered,
    TryAgain,
    GiveUp,
}

/// Only a 2xx answer delivers a ping. A 3xx is a redirect, which hb does not follow
/// (src/run/ping.rs): the monitor never saw the ping, and another try would be
/// answered the same.
pub fn verdict(outcome: &TryOutcome) -> Verdict {
    match outcome {
        TryOutcome::Answered { status, .. } => match status {
            200..=299 => Verdict::Delivered,
            408 | 429 | 500..=599 => Verdict::TryAgain,
            _ => Verdict::GiveUp,
        },
        TryOutcome::NoAnswer {
            transient: true, ..
        } => Verdict::TryAgain,
        TryOutcome::NoAnswer {
            transient: false, ..
        } => Verdict::GiveUp,
    }
}

#[derive(Debug, Clone, Copy)]
pub struct RetryPolicy {
    /// Tries after the first.
    pub retries: u32,
    /// Time limit of one try.
    pub try_timeout: Duration,
}

const FIRST_DELAY: Duration = Duration::from_millis(500);
const MAX_DELAY: Duration = Duration::from_secs(10);

/// The wait after failed try number `attempt` (0-based): 0.5 s doubling up to 10 s,
/// of which a random half (`jitter` in 0..1) is taken off so clients spread out.
pub fn backoff(attempt: u32, jitter: f64) -> Duration {
    let nominal = FIRST_DELAY
        .saturating_mul(2u32.saturating_pow(attempt.min(16)))
        .min(MAX_DELAY);
    nominal.mul_f64(1.0 - 0.5 * jitter.clamp(0.0, 1.0))
}

/// How a ping ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PingResult {
    Delivered {
        body_limit: Option<usize>,
    },
    /// A final answer that is not a success (e.g. 404, or a redirect not followed).
    Refused {
        status: u16,
    },
    /// Tries were used up, the deadline came, or the ping was called off.
    NotDelivered {
        last: String,
        tries: u32,
    },
}

/// One try over the network.
pub trait Transport {
    fn try_once(&self, url: &str, body: &[u8], timeout: Duration) -> TryOutcome;
}

/// Time as the retry loop sees it. `sleep` returns early when `stop` turns true.
pub trait Pause {
    fn now(&self) -> Instant;
    fn sleep(&self, duration: Duration, stop: &dyn Fn() -> bool);
}

/// When the ping must be done by, and whether it was called off; both may change
/// while it runs (SIGTERM shortens the deadline, the job's end calls off a start ping).
pub struct Window<'a> {
    pub deadline: &'a dyn Fn() -> Instant,
    pub called_off: &'a dyn Fn() -> bool,
}

/// Tries, and tries again while it makes sense, never sleeping after the last try.
/// The first try is made even if the ping is already called off (the job may end
/// before a start ping's thread got going); later tries are not.
pub fn deliver(
    transport: &dyn Transport,
    pause: &dyn Pause,
    policy: RetryPolicy,
    window: &Window,
    url: &str,
    body: &[u8],
    jitter: &mut dyn FnMut() -> f64,
) -> PingResult {
    let mut last = String::from("no time was left in the ping budget");
    let mut tries = 0;
    for attempt in 0..=policy.retries {
        // The first try always goes; a called-off ping makes no new one.
        if attempt > 0 && (window.called_off)() {
            break;
        }
        let left = (window.deadline)().saturating_duration_since(pause.now());
        if left < Duration::from_millis(1) {
            if tries > 0 {
                last = format!("{last}, then the ping budget ran out");
            }
            break;
        }
        tries += 1;
        let outcome = transport.try_once(url, body, policy.try_timeout.min(left));
        match verdict(&outcome) {
            Verdict::Delivered => {
                let TryOutcome::Answered { body_limit, .. } = outcome else {
                    unreachable!("only an answer is delivered")
                };
                return PingResult::Delivered { body_limit };
            }
            Verdict::GiveUp => {
                return match outcome {
                    TryOutcome::Answered { status, .. } => PingResult::Refused { status },
                    TryOutcome::NoAnswer { reason, .. } => PingResult::NotDelivered {
                        last: reason,
                        tries,
                    },
                };
            }
            Verdict::TryAgain => {
                last = describe(&outcome);
                if attempt == policy.retries || (window.called_off)() {
                    break;
                }
                let wait = backoff(attempt, jitter());
                let left = (window.deadline)().saturating_duration_since(pause.now());
                if wait >= left {
                    last = format!("{last}, then the ping budget ran out");
                    break;
                }
                let stop = || (window.called_off)() || pause.now() >= (window.deadline)();
                pause.sleep(wait, &stop);
            }
        }
    }
    PingResult::NotDelivered { last, tries }
}

/// A one-phrase account of a try: "connection refused", "HTTP 503 Service Unavailable".
pub fn describe(outcome: &TryOutcome) -> String {
    match outcome {
        TryOutcome::Answered { status, .. } => status_text(*status),
        TryOutcome::NoAnswer { reason, .. } => reason.clone(),
    }
}

pub fn status_text(status: u16) -> String {
    let reason = ureq::http::StatusCode::from_u16(status)
        .ok()
        .and_then(|s| s.canonical_reason())
        .unwrap_or("");
    format!("HTTP {status} {reason}").trim_end().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::cell::{Cell, RefCell};

    /// Answers from a script (the last answer repeats); each try takes `try_takes`.
    struct Script<'a> {
        answers: Vec<TryOutcome>,
        tries: RefCell<Vec<Duration>>,
        clock: &'a FakePause,
        try_takes: Duration,
    }

    impl Transport for Script<'_> {
        fn try_once(&self, _url: &str, _body: &[u8], timeout: Duration) -> TryOutcome {
            let n = self.tries.borrow().len();
            self.tries.borrow_mut().push(timeout);
            let answer = self.answers[n.min(self.answers.len() - 1)].clone();
            let takes = match &answer {
                TryOutcome::NoAnswer { reason, .. } if reason == "timeout" => timeout,
                _ => self.try_takes,
            };
            self.clock.advance(takes);
            answer
        }
    }

    struct FakePause {
        now: Cell<Instant>,
        sleeps: RefCell<Vec<Duration>>,
    }

    impl FakePause {
        fn new() -> Self {
            FakePause {
                now: Cell::new(Instant::now()),
                sleeps: RefCell::new(Vec::new()),
            }
        }
        fn advance(&self, by: Duration) {
            self.now.set(self.now.get() + by);
        }
    }

    impl Pause for FakePause {
        fn now(&self) -> Instant {
            self.now.get()
        }
        fn sleep(&self, duration: Duration, _stop: &dyn Fn() -> bool) {
            self.sleeps.borrow_mut().push(duration);
            self.advance(duration);
        }
    }

    fn status(code: u16) -> TryOutcome {
        TryOutcome::Answered {
            status: code,
            body_limit: None,
        }
    }

    fn refused() -> TryOutcome {
        TryOutcome::NoAnswer {
            transient: true,
            reason: "connection refused".into(),
        }
    }

    struct Run {
        delivery: PingResult,
        tries: Vec<Duration>,
        sleeps: Vec<Duration>,
        elapsed: Duration,
    }

    fn run(answers: Vec<TryOutcome>, retries: u32, budget: Duration, try_timeout: Duration) -> Run {
        let pause = FakePause::new();
        let begin = pause.now();
        let script = Script {
            answers,
            tries: RefCell::new(Vec::new()),
            clock: &pause,
            try_takes: Duration::from_millis(5),
        };
        let deadline = begin + budget;
        let window = Window {
            deadline: &|| deadline,
            called_off: &|| false,
        };
        let policy = RetryPolicy {
            retries,
            try_timeout,
        };
        let delivery = deliver(
            &script,
            &pause,
            policy,
            &window,
            "http://x",
            b"",
            &mut || 0.0,
        );
        Run {
            delivery,
            tries: script.tries.take(),
            sleeps: pause.sleeps.take(),
            elapsed: pause.now() - begin,
        }
    }

    const BUDGET: Duration = Duration::from_secs(30);
    const TRY: Duration = Duration::from_secs(10);

    #[test]
    fn verdicts_follow_the_status() {
        for code in [200, 201, 204, 299] {
            assert_eq!(verdict(&status(code)), Verdict::Delivered, "{code}");
        }
        for code in [300, 301, 302, 303, 307, 308] {
            assert_eq!(verdict(&status(code)), Verdict::GiveUp, "{code}");
        }
        for code in [408, 429, 500, 502, 503, 599] {
            assert_eq!(verdict(&status(code)), Verdict::TryAgain, "{code}");
        }
        for code in [400, 401, 403, 404, 410, 422] {
            assert_eq!(verdict(&status(code)), Verdict::GiveUp, "{code}");
        }
        assert_eq!(verdict(&refused()), Verdict::TryAgain);
        let bad_url = TryOutcome::NoAnswer {
            transient: false,
            reason: "bad URL".into(),
        };
        assert_eq!(verdict(&bad_url), Verdict::GiveUp);
    }

    #[test]
    fn backoff_doubles_with_jitter_and_a_cap() {
        assert_eq!(backoff(0, 0.0), Duration::from_millis(500));
        assert_eq!(backoff(1, 0.0), Duration::from_secs(1));
        assert_eq!(backoff(2, 0.0), Duration::from_secs(2));
        assert_eq!(backoff(1, 1.0), Duration::from_millis(500));
        assert_eq!(backoff(10, 0.0), MAX_DELAY);
        assert_eq!(backoff(u32::MAX, 0.0), MAX_DELAY);
        let r = backoff(3, 0.3);
        assert!(
            r > Duration::from_secs(2) && r < Duration::from_secs(4),
            "{r:?}"
        );
    }

    #[test]
    fn first_success_needs_no_retry() {
        let r = run(vec![status(200)], 5, BUDGET, TRY);
        assert_eq!(r.delivery, PingResult::Delivered { body_limit: None });
        assert_eq!(r.tries.len(), 1);
        assert!(r.sleeps.is_empty());
    }

    #[test]
    fn server_errors_are_retried_until_success() {
        let r = run(vec![status(503), status(502), status(200)], 5, BUDGET, TRY);
        assert!(matches!(r.delivery, PingResult::Delivered { .. }));
        assert_eq!(r.tries.len(), 3);
        assert_eq!(r.sleeps, vec![backoff(0, 0.0), backoff(1, 0.0)]);
    }

    #[test]
    fn not_found_is_not_retried() {
        let r = run(vec![status(404), status(200)], 5, BUDGET, TRY);
        assert_eq!(r.delivery, PingResult::Refused { status: 404 });
        assert_eq!(r.tries.len(), 1);
        assert!(r.sleeps.is_empty());
    }

    #[test]
    fn a_redirect_is_not_delivered_and_not_retried() {
        for code in [301, 307, 308] {
            let r = run(vec![status(code), status(200)], 5, BUDGET, TRY);
            assert_eq!(r.delivery, PingResult::Refused { status: code });
            assert_eq!(r.tries.len(), 1);
            assert!(r.sleeps.is_empty());
        }
    }

    #[test]
    fn no_sleep_after_the_last_try() {
        let r = run(vec![refused()], 3, BUDGET, TRY);
        assert_eq!(r.tries.len(), 4);
        assert_eq!(r.sleeps.len(), 3);
        match r.delivery {
            PingResult::NotDelivered { last, tries } => {
                assert_eq!(tries, 4);
                assert_eq!(last, "connection refused");
            }
            other => panic!("{other:?}"),
        }
        let r = run(vec![status(500)], 0, BUDGET, TRY);
        assert_eq!(r.tries.len(), 1);
        assert!(r.sleeps.is_empty());
    }

    #[test]
    fn the_budget_bounds_tries_and_waits() {
        let timeout = TryOutcome::NoAnswer {
            transient: true,
            reason: "timeout".into(),
        };
        let r = run(vec![timeout], 5, Duration::from_secs(25), TRY);
        // 10 s, sleep 0.5 s, 10 s, sleep 1 s, then 3.5 s left for a last short try.
        assert_eq!(r.tries, vec![TRY, TRY, Duration::from_millis(3500)]);
        assert!(r.elapsed <= Duration::from_secs(25), "{:?}", r.elapsed);
        // A wait that would use up the budget is not taken.
        let r = run(vec![refused()], 5, Duration::from_millis(700), TRY);
        assert_eq!(r.tries.len(), 2);
        assert_eq!(r.sleeps.len(), 1);
        match r.delivery {
            PingResult::NotDelivered { last, .. } => assert!(last.contains("budget"), "{last}"),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn an_empty_budget_sends_nothing() {
        let r = run(vec![status(200)], 5, Duration::ZERO, TRY);
        assert_eq!(r.tries.len(), 0);
        assert!(matches!(
            r.delivery,
            PingResult::NotDelivered { tries: 0, .. }
        ));
    }

    #[test]
    fn a_called_off_ping_makes_no_new_try() {
        let pause = FakePause::new();
        let script = Script {
            answers: vec![refused()],
            tries: RefCell::new(Vec::new()),
            clock: &pause,
            try_takes: Duration::from_millis(5),
        };
        let deadline = pause.now() + BUDGET;
        let tries_so_far = || script.tries.borrow().len();
        let window = Window {
            deadline: &|| deadline,
            called_off: &|| tries_so_far() >= 2,
        };
        let policy = RetryPolicy {
            retries: 5,
            try_timeout: TRY,
        };
        let d = deliver(&script, &pause, policy, &window, "u", b"", &mut || 0.5);
        assert!(
            matches!(d, PingResult::NotDelivered { tries: 2, .. }),
            "{d:?}"
        );
    }

    #[test]
    fn a_ping_called_off_before_its_first_try_still_makes_it() {
        let pause = FakePause::new();
        let script = Script {
            answers: vec![refused()],
            tries: RefCell::new(Vec::new()),
            clock: &pause,
            try_takes: Duration::from_millis(5),
        };
        let deadline = pause.now() + BUDGET;
        let window = Window {
            deadline: &|| deadline,
            called_off: &|| true,
        };
        let policy = RetryPolicy {
            retries: 5,
            try_timeout: TRY,
        };
        let d = deliver(&script, &pause, policy, &window, "u", b"", &mut || 0.5);
        assert!(
            matches!(d, PingResult::NotDelivered { tries: 1, .. }),
            "{d:?}"
        );
        assert!(pause.sleeps.borrow().is_empty());
    }

    #[test]
    fn statuses_read_well() {
        assert_eq!(status_text(404), "HTTP 404 Not Found");
        assert_eq!(status_text(599), "HTTP 599");
    }
}
