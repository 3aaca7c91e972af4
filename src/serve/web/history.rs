//! What the dashboard reads out of a check's ping and flip history: runs (a start and
//! its end, paired by `rid` as the status machine pairs them), slots (was each due
//! time met, missed, failed?) and uptime. Pure: the history and the time are passed in.

use jiff::{SignedDuration, Timestamp};
use std::time::Duration;

use crate::serve::schedule::Schedule;
use crate::serve::store::{FlipEntry, PingEntry};

/// A run: a start and its end, an end alone, or a start not (yet) ended.
#[derive(Debug, Clone, PartialEq)]
pub struct Run {
    pub start: Option<PingEntry>,
    pub end: Option<PingEntry>,
}

impl Run {
    /// When the run began (its end's time when it has no start).
    pub fn at_ms(&self) -> i64 {
        self.start
            .as_ref()
            .or(self.end.as_ref())
            .map_or(0, |p| p.at_ms)
    }

    /// The number of the ping that names this run in URLs: its end's, else its start's.
    pub fn n(&self) -> i64 {
        self.end.as_ref().or(self.start.as_ref()).map_or(0, |p| p.n)
    }

    /// Seconds, when the run ended after a known start.
    pub fn duration(&self) -> Option<f64> {
        let end = self.end.as_ref()?;
        end.duration.or_else(|| {
            self.start
                .as_ref()
                .map(|s| ((end.at_ms - s.at_ms).max(0)) as f64 / 1000.0)
        })
    }

    pub fn failed(&self) -> bool {
        self.end.as_ref().is_some_and(|e| e.kind == "fail")
    }

    pub fn exit_code(&self) -> Option<i64> {
        self.end.as_ref().and_then(|e| e.exit_code)
    }
}

/// Pairs pings (oldest first) into runs (oldest first): an end with a `rid` ends the
/// start with that `rid`; an end without one ends the last open start. A start left
/// without an end is a run with no end; `/log` pings are no run.
pub fn runs(pings: &[PingEntry]) -> Vec<Run> {
    let mut out: Vec<Run> = Vec::new();
    // Indexes into `out` of runs with a start and no end yet, oldest first.
    let mut open: Vec<usize> = Vec::new();
    for p in pings {
        match p.kind.as_str() {
            "start" => {
                open.push(out.len());
                out.push(Run {
                    start: Some(p.clone()),
                    end: None,
                });
            }
            "success" | "fail" => {
                let found = match &p.rid {
                    Some(rid) => open.iter().rposition(|&i| {
                        out[i].start.as_ref().and_then(|s| s.rid.as_ref()) == Some(rid)
                    }),
                    None => (!open.is_empty()).then(|| open.len() - 1),
                };
                match found {
                    Some(pos) => {
                        let i = open.remove(pos);
                        out[i].end = Some(p.clone());
                    }
                    None => out.push(Run {
                        start: None,
                        end: Some(p.clone()),
                    }),
                }
            }
            _ => {}
        }
    }
    out
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SlotStatus {
    Ok,
    Failed,
    Running,
    Missed,
    Pending,
}

impl SlotStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            SlotStatus::Ok => "ok",
            SlotStatus::Failed => "failed",
            SlotStatus::Running => "running",
            SlotStatus::Missed => "missed",
            SlotStatus::Pending => "pending",
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Slot {
    pub due: Timestamp,
    pub status: SlotStatus,
    /// The `n` of the run's end ping (or start ping while it runs).
    pub ping: Option<i64>,
}

/// What the slots are computed from.
pub struct SlotInput<'a> {
    pub schedule: &'a Schedule,
    pub grace: Duration,
    /// Pings, oldest first.
    pub pings: &'a [PingEntry],
    /// Whether older pings exist than those given (then no slot before the oldest given
    /// is judged: the history that would fill it was not read).
    pub truncated: bool,
    /// When the check was made: no slot before it.
    pub created: Timestamp,
    /// Whether the check is running now (its newest open start is the current run).
    pub running: bool,
    pub now: Timestamp,
}

fn plus(t: Timestamp, d: Duration) -> Timestamp {
    SignedDuration::try_from(d)
        .ok()
        .and_then(|d| t.checked_add(d).ok())
        .unwrap_or(Timestamp::MAX)
}

fn ts(ms: i64) -> Timestamp {
    Timestamp::from_millisecond(ms).unwrap_or(Timestamp::UNIX_EPOCH)
}

/// The last `count` slots due at or before `now` (oldest first), as §6 defines them: a
/// cron check has a slot at each due time; an interval check's first slot is its first
/// end ping + interval, each later end ping moves the next slot to that ping +
/// interval, and with no ping one more slot comes per interval. A run fills the slot
/// with the latest due time at or before its start (a start a little early — within
/// a tenth of the grace, at most a minute — counts for the slot it was meant for); a
/// slot is missed when nothing filled it by due + grace.
pub fn slots(input: &SlotInput<'_>, count: usize) -> Vec<Slot> {
    let runs = runs(input.pings);
    let window_start = if input.truncated {
        input.pings.first().map_or(input.now, |p| ts(p.at_ms))
    } else {
        input.created
    };
    let mut out = match input.schedule {
        Schedule::Interval(every) => interval_slots(input, &runs, *every, window_start),
        Schedule::Cron(_) | Schedule::OnCalendar(_) => cron_slots(input, &runs, window_start),
    };
    if out.len() > count {
        out.drain(..out.len() - count);
    }
    out
}

/// A tenth of the grace, at most a minute: how early a start may come for its slot.
fn early(grace: Duration) -> Duration {
    (grace / 10).min(Duration::from_secs(60))
}

fn judge(run: Option<&Run>, due: Timestamp, input: &SlotInput<'_>, open_n: Option<i64>) -> Slot {
    let deadline = plus(due, input.grace);
    match run {
        Some(run) if run.end.is_some() => Slot {
            due,
            status: if run.failed() {
                SlotStatus::Failed
            } else {
                SlotStatus::Ok
            },
            ping: run.end.as_ref().map(|p| p.n),
        },
        Some(run) if Some(run.n()) == open_n => Slot {
            due,
            status: SlotStatus::Running,
            ping: Some(run.n()),
        },
        _ if input.now >= deadline => Slot {
            due,
            status: SlotStatus::Missed,
            ping: None,
        },
        _ => Slot {
            due,
            status: SlotStatus::Pending,
            ping: None,
        },
    }
}

/// The open run that is the check's current one: the newest start without an end,
/// when the check says it is running.
fn current_open(input: &SlotInput<'_>, runs: &[Run]) -> Option<i64> {
    if !input.running {
        return None;
    }
    runs.iter().rev().find(|r| r.end.is_none()).map(Run::n)
}

fn cron_slots(input: &SlotInput<'_>, runs: &[Run], window_start: Timestamp) -> Vec<Slot> {
    const MAX_SLOTS: usize = 2000;
    let mut dues = Vec::new();
    let mut t = window_start;
    while let Some(next) = input.schedule.next_after(t) {
        if next > input.now || dues.len() >= MAX_SLOTS {
            break;
        }
        dues.push(next);
        t = next;
    }
    if dues.len() >= MAX_SLOTS {
        // Only the newest matter; start again close to now.
        let keep = dues.split_off(dues.len() - 200);
        dues = keep;
    }
    let open_n = current_open(input, runs);
    // The run filling each slot (the newest run that falls in it wins).
    let mut filled: Vec<Option<&Run>> = vec![None; dues.len()];
    let tolerance = early(input.grace);
    for run in runs {
        if run.end.is_none() && Some(run.n()) != open_n {
            continue; // an abandoned start fills nothing
        }
        let at = plus(ts(run.at_ms()), tolerance);
        let i = dues.partition_point(|d| *d <= at);
        if i == 0 {
            continue; // before the first slot
        }
        let due = dues[i - 1];
        // A run that began after its slot's deadline did not fill it in time.
        if ts(run.at_ms()) > plus(due, input.grace) {
            continue;
        }
        filled[i - 1] = Some(run);
    }
    dues.iter()
        .zip(filled)
        .map(|(due, run)| judge(run, *due, input, open_n))
        .collect()
}

fn interval_slots(
    input: &SlotInput<'_>,
    runs: &[Run],
    every: Duration,
    window_start: Timestamp,
) -> Vec<Slot> {
    const MAX_SLOTS: usize = 2000;
    let open_n = current_open(input, runs);
    let mut out: Vec<Slot> = Vec::new();
    // The next slot, once the first end ping set it.
    let mut next: Option<Timestamp> = None;
    let push_missed = |out: &mut Vec<Slot>, next: &mut Option<Timestamp>, until: Timestamp| {
        // Slots that came and went (due + grace) before `until` with nothing in them.
        while let Some(due) = *next {
            if plus(due, input.grace) >= until || out.len() > MAX_SLOTS * 2 {
                break;
            }
            if due >= window_start {
                out.push(Slot {
                    due,
                    status: SlotStatus::Missed,
                    ping: None,
                });
            }
            *next = Some(plus(due, every));
        }
    };
    for run in runs {
        let Some(end) = &run.end else {
            continue;
        };
        let start = ts(run.at_ms());
        push_missed(&mut out, &mut next, start);
        if let Some(due) = next
            && due >= window_start
        {
            // This run fills the slot it came for (early or within the grace).
            out.push(judge(Some(run), due.min(ts(end.at_ms)), input, open_n));
        }
        next = Some(plus(ts(end.at_ms), every));
    }
    push_missed(&mut out, &mut next, input.now);
    if let Some(due) = next
        && due <= input.now
        && due >= window_start
    {
        let run = runs
            .iter()
            .rev()
            .find(|r| r.end.is_none() && Some(r.n()) == open_n && ts(r.at_ms()) >= due);
        out.push(judge(run, due, input, open_n));
    }
    out.retain(|s| s.due <= input.now);
    out
}

/// The share of time up, over the `window` before `now`, from flips (newest first):
/// time `up` over time `up` or `down`; `new` and `paused` count for neither. `None`
/// when the window holds no such time.
pub fn uptime(flips: &[FlipEntry], now: Timestamp, window: Duration) -> Option<f64> {
    let now_ms = now.as_millisecond();
    let from_ms = now_ms - window.as_millis() as i64;
    // Oldest first.
    let mut flips: Vec<&FlipEntry> = flips.iter().filter(|f| f.at_ms <= now_ms).collect();
    flips.sort_by_key(|f| f.at_ms);
    let first = flips.first()?;
    let mut state = first.from.as_str();
    let mut at = from_ms;
    let (mut up, mut down) = (0i64, 0i64);
    let mut add = |state: &str, from: i64, to: i64| {
        let span = (to - from).max(0);
        match state {
            "up" => up += span,
            "down" => down += span,
            _ => {}
        }
    };
    for flip in flips {
        if flip.at_ms > from_ms {
            add(state, at, flip.at_ms);
            at = flip.at_ms;
        }
        state = flip.to.as_str();
    }
    add(state, at, now_ms);
    (up + down > 0).then(|| up as f64 / (up + down) as f64)
}

/// The `q`-quantile (0..=1) of `values` by nearest rank; `None` when empty.
pub fn quantile(values: &[f64], q: f64) -> Option<f64> {
    if values.is_empty() {
        return None;
    }
    let mut sorted = values.to_vec();
    sorted.sort_by(|a, b| a.total_cmp(b));
    let rank = (q.clamp(0.0, 1.0) * sorted.len() as f64).ceil() as usize;
    Some(sorted[rank.clamp(1, sorted.len()) - 1])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(s: &str) -> Timestamp {
        s.parse().unwrap()
    }

    fn ping(n: i64, at: &str, kind: &str, rid: Option<&str>) -> PingEntry {
        PingEntry {
            n,
            at_ms: t(at).as_millisecond(),
            kind: kind.into(),
            exit_code: (kind == "fail").then_some(1),
            rid: rid.map(str::to_string),
            remote_addr: None,
            user_agent: None,
            method: "GET".into(),
            body: None,
            duration: None,
        }
    }

    #[test]
    fn runs_pair_by_rid_else_the_last_open_start() {
        let pings = vec![
            ping(1, "2026-01-01T00:00:00Z", "start", Some("a")),
            ping(2, "2026-01-01T00:00:01Z", "start", Some("b")),
            ping(3, "2026-01-01T00:00:05Z", "success", Some("a")),
            ping(4, "2026-01-01T00:00:09Z", "fail", Some("b")),
            ping(5, "2026-01-01T00:01:00Z", "log", None),
            ping(6, "2026-01-01T00:02:00Z", "start", None),
            ping(7, "2026-01-01T00:02:03Z", "success", None),
            ping(8, "2026-01-01T00:03:00Z", "success", None),
            ping(9, "2026-01-01T00:04:00Z", "start", None),
        ];
        let runs = runs(&pings);
        let shape: Vec<(Option<i64>, Option<i64>)> = runs
            .iter()
            .map(|r| (r.start.as_ref().map(|p| p.n), r.end.as_ref().map(|p| p.n)))
            .collect();
        assert_eq!(
            shape,
            vec![
                (Some(1), Some(3)),
                (Some(2), Some(4)),
                (Some(6), Some(7)),
                (None, Some(8)),
                (Some(9), None)
            ]
        );
        assert_eq!(runs[0].duration(), Some(5.0));
        assert_eq!(runs[1].duration(), Some(8.0));
        assert!(runs[1].failed());
        assert_eq!(runs[3].duration(), None);
        assert_eq!(runs[3].n(), 8);
        assert_eq!(runs[4].n(), 9);
    }

    fn daily() -> Schedule {
        Schedule::cron("0 3 * * *", "UTC").unwrap()
    }

    #[test]
    fn a_cron_check_shows_missed_failed_and_pending_slots() {
        let schedule = daily();
        let pings = vec![
            ping(1, "2026-01-01T03:00:01Z", "start", Some("r1")),
            ping(2, "2026-01-01T03:00:10Z", "success", Some("r1")),
            // Jan 2: nothing. Jan 3: a failure, started a few seconds early.
            ping(3, "2026-01-03T02:59:58Z", "start", Some("r3")),
            ping(4, "2026-01-03T03:01:00Z", "fail", Some("r3")),
            // Jan 4: an end alone.
            ping(5, "2026-01-04T03:05:00Z", "success", None),
        ];
        let input = SlotInput {
            schedule: &schedule,
            grace: Duration::from_secs(3600),
            pings: &pings,
            truncated: false,
            created: t("2025-12-31T12:00:00Z"),
            running: false,
            now: t("2026-01-05T03:30:00Z"),
        };
        let got: Vec<(String, &str, Option<i64>)> = slots(&input, 20)
            .iter()
            .map(|s| (s.due.to_string(), s.status.as_str(), s.ping))
            .collect();
        assert_eq!(
            got,
            vec![
                ("2026-01-01T03:00:00Z".into(), "ok", Some(2)),
                ("2026-01-02T03:00:00Z".into(), "missed", None),
                ("2026-01-03T03:00:00Z".into(), "failed", Some(4)),
                ("2026-01-04T03:00:00Z".into(), "ok", Some(5)),
                ("2026-01-05T03:00:00Z".into(), "pending", None),
            ]
        );
        // Only the last N, and none before the check existed.
        assert_eq!(slots(&input, 2).len(), 2);
        let late_made = SlotInput {
            created: t("2026-01-03T00:00:00Z"),
            ..input
        };
        assert_eq!(slots(&late_made, 20).len(), 3);
    }

    #[test]
    fn a_run_in_progress_fills_its_slot_as_running() {
        let schedule = daily();
        let pings = vec![ping(1, "2026-01-01T03:00:01Z", "start", None)];
        let input = SlotInput {
            schedule: &schedule,
            grace: Duration::from_secs(3600),
            pings: &pings,
            truncated: false,
            created: t("2026-01-01T00:00:00Z"),
            running: true,
            now: t("2026-01-01T03:10:00Z"),
        };
        let s = slots(&input, 20);
        assert_eq!(s.len(), 1);
        assert_eq!(s[0].status, SlotStatus::Running);
    }

    #[test]
    fn an_interval_check_follows_its_pings_and_misses_the_gaps() {
        let schedule = Schedule::interval(Duration::from_secs(3600)).unwrap();
        let pings = vec![
            ping(1, "2026-01-01T00:00:00Z", "success", None),
            ping(2, "2026-01-01T00:59:50Z", "success", None),
            // 01:59:50 and 02:59:50 pass with nothing; a late ping at 03:30.
            ping(3, "2026-01-01T03:30:00Z", "fail", None),
        ];
        let input = SlotInput {
            schedule: &schedule,
            grace: Duration::from_secs(600),
            pings: &pings,
            truncated: false,
            created: t("2025-12-31T00:00:00Z"),
            running: false,
            now: t("2026-01-01T04:35:00Z"),
        };
        let got: Vec<(String, &str)> = slots(&input, 20)
            .iter()
            .map(|s| (s.due.to_string(), s.status.as_str()))
            .collect();
        assert_eq!(
            got,
            vec![
                ("2026-01-01T00:59:50Z".into(), "ok"),
                ("2026-01-01T01:59:50Z".into(), "missed"),
                ("2026-01-01T02:59:50Z".into(), "missed"),
                ("2026-01-01T03:30:00Z".into(), "failed"),
                ("2026-01-01T04:30:00Z".into(), "pending"),
            ]
        );
        // Before the first ping there is no slot.
        let none = SlotInput {
            pings: &[],
            ..input
        };
        assert!(slots(&none, 20).is_empty());
    }

    #[test]
    fn a_truncated_history_judges_no_slot_it_cannot_see() {
        let schedule = daily();
        let pings = vec![ping(9, "2026-01-04T03:00:05Z", "success", None)];
        let input = SlotInput {
            schedule: &schedule,
            grace: Duration::from_secs(3600),
            pings: &pings,
            truncated: true,
            created: t("2025-01-01T00:00:00Z"),
            running: false,
            now: t("2026-01-04T05:00:00Z"),
        };
        assert!(
            slots(&input, 20)
                .iter()
                .all(|s| s.status != SlotStatus::Missed)
        );
    }

    fn flip(at: &str, from: &str, to: &str) -> FlipEntry {
        FlipEntry {
            at_ms: t(at).as_millisecond(),
            from: from.into(),
            to: to.into(),
            reason: String::new(),
        }
    }

    #[test]
    fn uptime_counts_up_against_down_only() {
        let now = t("2026-01-02T00:00:00Z");
        let day = Duration::from_secs(86_400);
        // Newest first, as stored.
        let flips = vec![
            flip("2026-01-01T18:00:00Z", "down", "up"),
            flip("2026-01-01T12:00:00Z", "up", "down"),
            flip("2025-12-31T00:00:00Z", "new", "up"),
        ];
        let u = uptime(&flips, now, day).unwrap();
        assert!((u - 0.75).abs() < 1e-9, "{u}");
        // Over 7 days: up since Dec 31 except 6 h.
        let u7 = uptime(&flips, now, day * 7).unwrap();
        assert!((u7 - 42.0 / 48.0).abs() < 1e-9, "{u7}");
        // Paused time counts for nothing; no flip at all is unknown.
        let paused = vec![
            flip("2026-01-01T12:00:00Z", "up", "paused"),
            flip("2025-12-31T00:00:00Z", "new", "up"),
        ];
        assert_eq!(uptime(&paused, now, day), Some(1.0));
        assert_eq!(uptime(&[], now, day), None);
        let fresh = vec![flip("2026-01-01T23:00:00Z", "up", "down")];
        assert_eq!(uptime(&fresh, now, day), Some(23.0 / 24.0));
    }

    #[test]
    fn quantiles_by_nearest_rank() {
        let v: Vec<f64> = (1..=100).map(f64::from).collect();
        assert_eq!(quantile(&v, 0.5), Some(50.0));
        assert_eq!(quantile(&v, 0.95), Some(95.0));
        assert_eq!(quantile(&[3.0], 0.95), Some(3.0));
        assert_eq!(quantile(&[], 0.5), None);
    }
}
