//! The wrapper: `hb run` and `hb ping`.
//!
//! Fail-open: a monitor that is down, slow or answering errors, an unresolvable
//! ID, or a broken config file never keeps the job from running and never changes
//! its exit code; hb says what went wrong in one `hb:` line on stderr. Only usage
//! errors stop hb before the job (exit 2).

mod dns;
pub mod endpoint;
mod ping;
mod plan;
pub mod retry;
mod settings;
mod signals;
mod supervise;
pub mod tail;
mod terminal;

use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::cli::{PingArgs, RunArgs};
use crate::config::ConfigSource;
use crate::exit;
use endpoint::{Signal, ping_url};
use ping::{PingTask, Pinger, StopCap};
use retry::{PingResult, RetryPolicy};
use settings::{Say, usage_error};
use signals::SignalRelay;
use supervise::Job;

pub fn cmd_run(args: RunArgs, config: &ConfigSource) -> i32 {
    let say = Say::new(args.ping.quiet);
    let headers = match settings::parse_headers(&args.ping.headers) {
        Ok(headers) => headers,
        Err(message) => return usage_error("run", &message),
    };
    let create = match settings::create_query(&args.create) {
        Ok(create) => create,
        Err(message) => return usage_error("run", &message),
    };
    let base = match settings::resolve_id(&args.id, &args.ping, config, &say) {
        // `--create`: every ping of the run asks for the check, so the first one that
        // arrives makes it (a ping never changes an existing check).
        Ok(base) => Some(match &create {
            Some(query) => settings::with_query(&base, query),
            None => base,
        }),
        Err(message) => {
            say.warn(&format!("{message} (the job runs without pings)"));
            None
        }
    };
    let pinger = Arc::new(Pinger::new(headers, policy(&args.ping)));
    let cap = StopCap::default();
    let relay = match SignalRelay::install(cap.clone()) {
        Ok(relay) => Some(relay),
        Err(e) => {
            say.warn(&format!(
                "cannot watch signals ({e}), so signals sent to hb will not reach the job"
            ));
            None
        }
    };
    let wrapper = Wrapper {
        args: &args,
        base: base.as_deref(),
        pinger,
        cap,
        relay: relay.as_ref(),
        say,
    };

    let mut next_start = Instant::now();
    loop {
        let code = wrapper.one_run();
        let Some(every) = args.every else {
            return code;
        };
        // A stop signal to hb, or Ctrl-C / Ctrl-\ on the terminal the job had, ends the series.
        let interrupted = [libc::SIGINT, libc::SIGQUIT]
            .map(|s| 128 + s)
            .contains(&code);
        if wrapper.stop_signal().is_some() || interrupted {
            return code;
        }
        // Start to start; a run that overran is followed at once.
        next_start = (next_start + every).max(Instant::now());
        match wrapper.relay {
            Some(relay) => {
                if relay.wait_for_stop(next_start).is_some() {
                    return code;
                }
            }
            None => std::thread::sleep(next_start.saturating_duration_since(Instant::now())),
        }
    }
}

pub fn cmd_ping(args: PingArgs, config: &ConfigSource) -> i32 {
    let say = Say::new(args.ping.quiet);
    let signal: Signal = match args.signal.parse() {
        Ok(signal) => signal,
        Err(e) => return usage_error("ping", &format!("SIGNAL {e}")),
    };
    let headers = match settings::parse_headers(&args.ping.headers) {
        Ok(headers) => headers,
        Err(message) => return usage_error("ping", &message),
    };
    let body = match settings::read_data(args.data.as_deref()) {
        Ok(body) => body,
        Err(message) => return usage_error("ping", &message),
    };
    let base = match settings::resolve_id(&args.id, &args.ping, config, &say) {
        Ok(base) => base,
        Err(message) => {
            say.warn(&message);
            return exit::FAILURE;
        }
    };
    let url = ping_url(&base, signal, None);
    let pinger = Pinger::new(headers, policy(&args.ping));
    let deadline = Instant::now() + args.ping.ping_budget;
    let delivery = pinger.send(&url, &body, deadline, &StopCap::default(), &|| false);
    match say.report("ping", &url, &delivery) {
        true => 0,
        false => exit::FAILURE,
    }
}

fn policy(options: &crate::cli::PingOptions) -> RetryPolicy {
    RetryPolicy {
        retries: options.retries,
        try_timeout: options.ping_timeout,
    }
}

/// What every run of `hb run` shares.
struct Wrapper<'a> {
    args: &'a RunArgs,
    base: Option<&'a str>,
    pinger: Arc<Pinger>,
    cap: StopCap,
    relay: Option<&'a SignalRelay>,
    say: Say,
}

impl Wrapper<'_> {
    fn stop_signal(&self) -> Option<i32> {
        self.relay.and_then(SignalRelay::stop_signal)
    }

    /// Start ping, job, end ping; returns the job's exit code.
    fn one_run(&self) -> i32 {
        let rid = uuid::Uuid::new_v4().to_string();
        let budget = self.args.ping.ping_budget;
        let start = match self.base {
            Some(base) if !self.args.no_start => Some(PingTask::spawn(
                self.pinger.clone(),
                ping_url(base, Signal::Start, Some(&rid)),
                Vec::new(),
                Instant::now() + budget,
                self.cap.clone(),
            )),
            _ => None,
        };

        let job = Job {
            argv: &self.args.command,
            timeout: self.args.timeout,
            kill_after: self.args.kill_after,
            body_limit: self.args.body_limit,
            say: self.say,
        };
        let finished = supervise::run_job(&job, self.relay);
        let code = finished.end.code();
        if let Some(note) = finished.notes.iter().find(|n| n.starts_with("cannot run")) {
            self.say.warn(note);
        }
        let Some(base) = self.base else {
            return code;
        };

        // The start ping gets no new try; one in flight may finish first.
        let mut spent = Duration::ZERO;
        let mut server_limit = None;
        if let Some(start) = start {
            start.call_off();
            let url = ping_url(base, Signal::Start, Some(&rid));
            match start.wait(&self.cap) {
                Some((delivery, ended)) => {
                    spent = ended.saturating_duration_since(start.began);
                    if let PingResult::Delivered { body_limit } = delivery {
                        server_limit = body_limit;
                    }
                    self.say.report("start ping", &url, &delivery);
                }
                None => {
                    spent = budget;
                    self.say.report("start ping", &url, &out_of_budget());
                }
            }
        }

        let mut notes = finished.notes;
        if let Some(signal) = self.stop_signal() {
            notes.insert(
                0,
                format!(
                    "hb received {} and passed it on to the job",
                    signals::name(signal)
                ),
            );
        }
        let body = finished.tail.body(server_limit, &notes);
        let url = ping_url(base, Signal::Exit(code as u8), Some(&rid));
        let deadline = Instant::now() + budget.saturating_sub(spent);
        let end = PingTask::spawn(
            self.pinger.clone(),
            url.clone(),
            body,
            deadline,
            self.cap.clone(),
        );
        let delivery = end
            .wait(&self.cap)
            .map(|(d, _)| d)
            .unwrap_or_else(out_of_budget);
        self.say.report("end ping", &url, &delivery);
        code
    }
}

fn out_of_budget() -> PingResult {
    PingResult::NotDelivered {
        last: "no answer before the ping budget ran out".into(),
        tries: 0,
    }
}
