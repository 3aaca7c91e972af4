//! The supervisor's decisions, without processes, signals or clocks: given what has
//! been seen so far (time since the job started, whether its leader has exited,
//! whether its output is closed, whether any of its process group is left), what to
//! do next: send SIGTERM, send SIGKILL, wait until some time, or finish the run.
//! `supervise.rs` carries the actions out; the tests below walk through every case
//! with made-up times.

use std::time::Duration;

/// Output still in the pipes after the leader exited is read for this long at most.
pub(super) const DRAIN: Duration = Duration::from_millis(100);
/// How often to look again when no event will say that something changed.
pub(super) const TICK: Duration = Duration::from_millis(10);
/// How long to wait for a SIGKILLed group to disappear.
pub(super) const AFTER_KILL: Duration = Duration::from_secs(1);

/// What the supervisor does next.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Action {
    /// The timeout came: SIGTERM (then SIGCONT) to the job's process group.
    Terminate,
    /// `--kill-after` passed since the SIGTERM: SIGKILL to the group.
    Kill,
    /// Nothing to do until this time since the start, or an event (output, a
    /// child's change of state, a signal) if sooner; `None`: until an event.
    WaitUntil(Option<Duration>),
    /// The run is over.
    Done,
}

/// What the supervisor has seen at one moment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Seen {
    /// Time since the job started.
    pub at: Duration,
    /// The group's leader (the job) has exited and was reaped.
    pub leader_exited: bool,
    /// Both output pipes are closed.
    pub outputs_closed: bool,
    /// Some process of the job's group is still there.
    pub group_alive: bool,
}

/// The decisions of one run, from `--timeout` and `--kill-after`.
#[derive(Debug, Clone)]
pub(super) struct Plan {
    timeout: Option<Duration>,
    kill_after: Duration,
    /// No event comes when the leader exits (signals are not watched): look every TICK.
    poll: bool,
    terminated_at: Option<Duration>,
    killed_at: Option<Duration>,
    exited_at: Option<Duration>,
}

impl Plan {
    pub(super) fn new(timeout: Option<Duration>, kill_after: Duration, poll: bool) -> Self {
        Plan {
            timeout,
            kill_after,
            poll,
            terminated_at: None,
            killed_at: None,
            exited_at: None,
        }
    }

    /// The timeout stopped the job (the run counts as exit code 124).
    pub(super) fn timed_out(&self) -> bool {
        self.terminated_at.is_some()
    }

    /// The next thing to do. After `Terminate` or `Kill`, carry it out and ask again.
    pub(super) fn next(&mut self, seen: Seen) -> Action {
        let now = seen.at;
        if seen.leader_exited {
            self.exited_at.get_or_insert(now);
        }

        // The timeout counts only while the job runs: a job that ended in time is not
        // stopped, even if its output is still being read when the time comes.
        let term_at = self
            .timeout
            .filter(|_| self.terminated_at.is_none() && self.exited_at.is_none());
        if term_at.is_some_and(|at| now >= at) {
            self.terminated_at = Some(now);
            return Action::Terminate;
        }

        if let Some(exited) = self.exited_at {
            let drained = seen.outputs_closed || now >= exited + DRAIN;
            // After a timeout nothing of the group may survive; otherwise processes the
            // job left behind are its own business.
            let group_done = self.terminated_at.is_none()
                || !seen.group_alive
                || self.killed_at.is_some_and(|at| now >= at + AFTER_KILL);
            if drained && group_done {
                return Action::Done;
            }
        }

        let kill_at = match (self.terminated_at, self.killed_at) {
            (Some(terminated), None) => Some(terminated + self.kill_after),
            _ => None,
        };
        if kill_at.is_some_and(|at| now >= at) {
            self.killed_at = Some(now);
            return Action::Kill;
        }

        let drain_end = self
            .exited_at
            .map(|at| at + DRAIN)
            .filter(|end| *end > now && !seen.outputs_closed);
        // With a timeout, a group that outlives its leader is watched until it is gone.
        let watch_group = self.exited_at.is_some() && self.terminated_at.is_some();
        let tick = (self.poll || watch_group).then(|| now + TICK);
        let wake = [term_at, kill_at, drain_end, tick]
            .into_iter()
            .flatten()
            .min();
        Action::WaitUntil(wake)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    fn running(at: u64) -> Seen {
        Seen {
            at: ms(at),
            leader_exited: false,
            outputs_closed: false,
            group_alive: true,
        }
    }

    fn exited(at: u64, outputs_closed: bool, group_alive: bool) -> Seen {
        Seen {
            at: ms(at),
            leader_exited: true,
            outputs_closed,
            group_alive,
        }
    }

    #[test]
    fn without_a_timeout_it_waits_for_events_and_ends_with_the_job() {
        let mut plan = Plan::new(None, ms(10_000), false);
        assert_eq!(plan.next(running(0)), Action::WaitUntil(None));
        assert_eq!(plan.next(running(99_999_000)), Action::WaitUntil(None));
        // Processes left in the group do not hold the run.
        assert_eq!(plan.next(exited(100_000_000, true, true)), Action::Done);
        assert!(!plan.timed_out());
    }

    #[test]
    fn output_is_drained_for_at_most_100ms_after_the_exit() {
        let mut plan = Plan::new(None, ms(10_000), false);
        assert_eq!(
            plan.next(exited(500, false, true)),
            Action::WaitUntil(Some(ms(600)))
        );
        assert_eq!(
            plan.next(exited(550, false, true)),
            Action::WaitUntil(Some(ms(600)))
        );
        assert_eq!(plan.next(exited(600, false, true)), Action::Done);

        let mut plan = Plan::new(None, ms(10_000), false);
        assert_eq!(
            plan.next(exited(500, false, false)),
            Action::WaitUntil(Some(ms(600)))
        );
        assert_eq!(plan.next(exited(520, true, false)), Action::Done);
    }

    #[test]
    fn a_timeout_sends_sigterm_then_sigkill_after_kill_after() {
        let mut plan = Plan::new(Some(ms(2_000)), ms(10_000), false);
        assert_eq!(plan.next(running(0)), Action::WaitUntil(Some(ms(2_000))));
        assert_eq!(
            plan.next(running(1_999)),
            Action::WaitUntil(Some(ms(2_000)))
        );
        assert_eq!(plan.next(running(2_003)), Action::Terminate);
        assert!(plan.timed_out());
        // The kill is due kill_after after the SIGTERM actually went.
        assert_eq!(
            plan.next(running(2_003)),
            Action::WaitUntil(Some(ms(12_003)))
        );
        assert_eq!(plan.next(running(12_003)), Action::Kill);
        assert_eq!(plan.next(running(12_003)), Action::WaitUntil(None));
        assert_eq!(
            plan.next(exited(12_004, true, true)),
            Action::WaitUntil(Some(ms(12_014)))
        );
        assert_eq!(plan.next(exited(12_014, true, false)), Action::Done);
        assert!(plan.timed_out());
    }

    #[test]
    fn a_job_that_goes_on_sigterm_needs_no_sigkill() {
        let mut plan = Plan::new(Some(ms(1_000)), ms(10_000), false);
        assert_eq!(plan.next(running(1_000)), Action::Terminate);
        assert_eq!(
            plan.next(running(1_001)),
            Action::WaitUntil(Some(ms(11_000)))
        );
        assert_eq!(plan.next(exited(1_050, true, false)), Action::Done);
        assert!(plan.timed_out());
    }

    #[test]
    fn after_a_timeout_the_group_is_killed_even_when_the_leader_is_gone() {
        let mut plan = Plan::new(Some(ms(1_000)), ms(300), false);
        assert_eq!(plan.next(running(1_000)), Action::Terminate);
        // The leader went, a member ignoring SIGTERM stays: watch it until the kill.
        assert_eq!(
            plan.next(exited(1_020, true, true)),
            Action::WaitUntil(Some(ms(1_030)))
        );
        assert_eq!(
            plan.next(exited(1_295, true, true)),
            Action::WaitUntil(Some(ms(1_300)))
        );
        assert_eq!(plan.next(exited(1_300, true, true)), Action::Kill);
        assert_eq!(
            plan.next(exited(1_300, true, true)),
            Action::WaitUntil(Some(ms(1_310)))
        );
        assert_eq!(plan.next(exited(1_320, true, false)), Action::Done);
    }

    #[test]
    fn a_group_that_survives_sigkill_is_given_up_on_after_a_second() {
        let mut plan = Plan::new(Some(ms(1_000)), ms(0), false);
        assert_eq!(plan.next(running(1_000)), Action::Terminate);
        // --kill-after 0s: SIGKILL at once.
        assert_eq!(plan.next(running(1_000)), Action::Kill);
        assert_eq!(
            plan.next(exited(1_010, true, true)),
            Action::WaitUntil(Some(ms(1_020)))
        );
        assert_eq!(
            plan.next(exited(1_999, true, true)),
            Action::WaitUntil(Some(ms(2_009)))
        );
        assert_eq!(plan.next(exited(2_000, true, true)), Action::Done);
    }

    #[test]
    fn a_job_that_ended_in_time_is_not_stopped_while_its_output_drains() {
        let mut plan = Plan::new(Some(ms(1_000)), ms(10_000), false);
        assert_eq!(
            plan.next(exited(950, false, true)),
            Action::WaitUntil(Some(ms(1_050)))
        );
        assert_eq!(
            plan.next(exited(1_000, false, true)),
            Action::WaitUntil(Some(ms(1_050)))
        );
        assert_eq!(plan.next(exited(1_050, false, true)), Action::Done);
        assert!(!plan.timed_out());
    }

    #[test]
    fn without_events_it_looks_every_tick() {
        let mut plan = Plan::new(Some(ms(1_000)), ms(10_000), true);
        assert_eq!(plan.next(running(0)), Action::WaitUntil(Some(ms(10))));
        assert_eq!(plan.next(running(995)), Action::WaitUntil(Some(ms(1_000))));
        assert_eq!(plan.next(running(1_000)), Action::Terminate);
        assert_eq!(
            plan.next(running(1_000)),
            Action::WaitUntil(Some(ms(1_010)))
        );
    }
}
