//! What the dashboard reads out of a check's ping and flip history: runs (a start and
//! its end, paired by `rid` as the status machine pairs them), slots (was each due
//! time met, missed, failed?) and uptime. Pure: the history and the time are passed in.

use jiff::Timestamp;
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

use crate::serve::slots::{Rules, View, list, replay};
pub use crate::serve::slots::{Slot, SlotStatus};

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

fn ts(ms: i64) -> Timestamp {
    Timestamp::from_millisecond(ms).unwrap_or(Timestamp::UNIX_EPOCH)
}

/// The last `count` slots due at or before `now` (oldest first), as §6 defines them
/// ([`crate::serve::slots`]), worked out from the pings given.
pub fn slots(input: &SlotInput<'_>, count: usize) -> Vec<Slot> {
    let mut since = input.created;
    if input.truncated
        && let Some(first) = input.pings.first()
    {
        since = since.max(ts(first.at_ms));
    }
    // Only the newest slots are shown: start close enough to now.
    let period = input.schedule.period(input.now);
    let span = period
        .saturating_mul(count as u32 + 2)
        .saturating_add(input.grace);
    if let Ok(span) = jiff::SignedDuration::try_from(span)
        && let Ok(recent) = input.now.checked_sub(span)
    {
        since = since.max(recent);
    }
    let rules = Rules {
        schedule: input.schedule,
        grace: input.grace,
    };
    let (ledger, rows, open) = replay(rules, since, input.pings, input.now);
    let view = View {
        rules,
        ledger: &ledger,
        open: open.filter(|_| input.running),
        now: input.now,
        stored: &rows,
        before: &[],
        maintenance: None,
    };
    let mut out = list(&view, since, input.now).unwrap_or_default();
    if out.len() > count {
        out.drain(..out.len() - count);
    }
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
                // Started before its due time: the slot at or before the start is
                // Jan 2's, long past its grace, so it fills none.
                ("2026-01-03T03:00:00Z".into(), "missed", None),
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
            // 01:00 was replaced by the early ping's 01:59:50; the late failure came
            // after 02:59:50's grace and fills nothing.
            vec![
                ("2026-01-01T01:59:50Z".into(), "missed"),
                ("2026-01-01T02:59:50Z".into(), "missed"),
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
