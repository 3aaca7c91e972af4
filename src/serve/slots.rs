//! The slot ledger of §6: every due time of a check is a slot, judged `ok`, `failed`,
//! `running`, `missed`, `pending` or `maintenance`. Pure: the clock is passed in.
//!
//! - A cron or oncalendar check has a slot at each due time after it was made.
//! - An interval check's first slot is its first ping + interval; each success or
//!   failure ping replaces the next slot (the first one due after it) with that ping +
//!   interval; with no ping, one more slot comes per interval.
//! - A run fills the slot with the latest due time at or before its start (its end's
//!   time when it has no start; for an interval check, its end's time, since the slot
//!   it came for is the one its end replaces), if it began by that slot's due + grace.
//!   A run before the first slot fills none.
//!
//! The [`Ledger`] travels in the check's state and is advanced on every ping and every
//! tick of the engine; what it judges comes out as [`SlotRow`]s, stored apart from the
//! ping history (so old slots stay true when pings are trimmed). The newest slots,
//! not yet judged, are worked out from the ledger when asked ([`list`]).

use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use std::time::Duration;

use super::schedule::Schedule;
use super::store::PingEntry;

/// Most slots one answer lists.
pub const MAX_LISTED: usize = 10_000;
/// How long stored slot outcomes are kept.
pub const KEEP: Duration = Duration::from_secs(400 * 86_400);
/// Most slots one step of the ledger judges; the rest wait for the next step.
const STEP_LIMIT: usize = 10_000;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum SlotStatus {
    Ok,
    Failed,
    Running,
    Missed,
    Pending,
    Maintenance,
}

impl SlotStatus {
    pub const ALL: [SlotStatus; 6] = [
        SlotStatus::Ok,
        SlotStatus::Failed,
        SlotStatus::Running,
        SlotStatus::Missed,
        SlotStatus::Pending,
        SlotStatus::Maintenance,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            SlotStatus::Ok => "ok",
            SlotStatus::Failed => "failed",
            SlotStatus::Running => "running",
            SlotStatus::Missed => "missed",
            SlotStatus::Pending => "pending",
            SlotStatus::Maintenance => "maintenance",
        }
    }

    pub fn parse(text: &str) -> Option<SlotStatus> {
        SlotStatus::ALL.into_iter().find(|s| s.as_str() == text)
    }
}

/// A slot as listed.
#[derive(Debug, Clone, PartialEq)]
pub struct Slot {
    pub due: Timestamp,
    pub status: SlotStatus,
    /// The `n` of the run's end ping.
    pub ping: Option<i64>,
}

/// A judged slot as stored (`ok`, `failed` or `missed`), keyed by the check and `due_ms`.
#[derive(Debug, Clone, PartialEq)]
pub struct SlotRow {
    pub due_ms: i64,
    pub status: SlotStatus,
    pub ping: Option<i64>,
}

/// What slots a check has: its schedule and grace period.
#[derive(Clone, Copy)]
pub struct Rules<'a> {
    pub schedule: &'a Schedule,
    pub grace: Duration,
}

impl Rules<'_> {
    fn grace_ms(&self) -> i64 {
        i64::try_from(self.grace.as_millis()).unwrap_or(i64::MAX / 4)
    }

    fn interval_ms(&self) -> Option<i64> {
        match self.schedule {
            Schedule::Interval(d) => Some(i64::try_from(d.as_millis()).unwrap_or(i64::MAX / 4)),
            _ => None,
        }
    }
}

/// The check's open run, as the ledger sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Open {
    pub start_ms: i64,
}

fn ts(ms: i64) -> Timestamp {
    Timestamp::from_millisecond(ms).unwrap_or(Timestamp::UNIX_EPOCH)
}

fn is_zero(n: &u32) -> bool {
    *n == 0
}

/// The ledger's place, kept in the check's state: what is judged so far.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Ledger {
    /// When the ledger began (the check's creation): no slot is due at or before it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub since: Option<i64>,
    /// Interval checks: slots count from here (the first ping, then each success or
    /// failure ping).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub anchor: Option<i64>,
    /// Every slot due at or before this is judged.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub through: Option<i64>,
    /// Slots after `through` already filled by a run's end (their rows are written).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub fills: Vec<i64>,
    /// Consecutive missed slots through `through`.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub missed: u32,
}

impl Ledger {
    /// A ledger that begins at `since`.
    pub fn new(since: Timestamp) -> Ledger {
        Ledger {
            since: Some(since.as_millisecond()),
            ..Ledger::default()
        }
    }

    pub fn is_empty(&self) -> bool {
        *self == Ledger::default()
    }

    fn floor(&self) -> i64 {
        self.since.unwrap_or(i64::MIN / 4)
    }

    /// The first slot of the current sequence due after `after_ms`.
    pub fn next_due(&self, rules: Rules<'_>, after_ms: i64) -> Option<i64> {
        let after = after_ms.max(self.floor());
        match rules.interval_ms() {
            Some(every) => {
                let anchor = self.anchor?;
                let first = anchor.checked_add(every)?;
                if after < first {
                    return Some(first);
                }
                let k = (after - anchor) / every + 1;
                anchor.checked_add(k.checked_mul(every)?)
            }
            None => rules
                .schedule
                .next_after(ts(after))
                .map(|t| t.as_millisecond()),
        }
    }

    /// The latest slot of the current sequence due at or before `at_ms`.
    pub fn latest_due(&self, rules: Rules<'_>, at_ms: i64) -> Option<i64> {
        if at_ms <= self.floor() {
            return None;
        }
        match rules.interval_ms() {
            Some(every) => {
                let anchor = self.anchor?;
                if at_ms < anchor.checked_add(every)? {
                    return None;
                }
                Some(anchor + (at_ms - anchor) / every * every)
            }
            None => {
                // Look back in doubling steps for a due time, then walk forward.
                let mut step: i64 = 60_000;
                loop {
                    let lo = at_ms.saturating_sub(step).max(self.floor());
                    if let Some(mut due) = self.next_due(rules, lo).filter(|d| *d <= at_ms) {
                        while let Some(next) = self.next_due(rules, due).filter(|d| *d <= at_ms) {
                            due = next;
                        }
                        return Some(due);
                    }
                    if lo == self.floor() || step > 1_000 * 86_400_000 {
                        return None;
                    }
                    step = step.saturating_mul(2);
                }
            }
        }
    }

    /// The slot an open run fills at `now_ms`, if any: for a cron check the latest due
    /// time at or before its start; for an interval check the latest due time so far
    /// (its end will fill it), if the run began by that slot's due + grace.
    pub fn open_slot(&self, rules: Rules<'_>, open: Option<Open>, now_ms: i64) -> Option<i64> {
        let open = open?;
        let due = match rules.interval_ms() {
            Some(_) => self.latest_due(rules, now_ms)?,
            None => self.latest_due(rules, open.start_ms)?,
        };
        (open.start_ms <= due.saturating_add(rules.grace_ms())).then_some(due)
    }

    fn judge_one(&mut self, due: i64, running: Option<i64>, rows: &mut Vec<SlotRow>) {
        if let Some(i) = self.fills.iter().position(|f| *f == due) {
            self.fills.remove(i);
            self.missed = 0;
        } else if running == Some(due) {
            self.missed = 0;
        } else {
            rows.push(SlotRow {
                due_ms: due,
                status: SlotStatus::Missed,
                ping: None,
            });
            self.missed = self.missed.saturating_add(1);
        }
        self.through = Some(due);
    }

    /// Judges every slot whose due + grace has come by `now_ms`: filled ones were
    /// written when their run ended, the open run's is running, the rest are missed.
    pub fn catch_up(
        &mut self,
        rules: Rules<'_>,
        open: Option<Open>,
        now_ms: i64,
        rows: &mut Vec<SlotRow>,
    ) {
        self.judge_until(
            rules,
            open,
            now_ms,
            now_ms.saturating_sub(rules.grace_ms()),
            rows,
        );
    }

    /// Judges the slots due at or before `until_ms` not judged yet.
    fn judge_until(
        &mut self,
        rules: Rules<'_>,
        open: Option<Open>,
        now_ms: i64,
        until_ms: i64,
        rows: &mut Vec<SlotRow>,
    ) {
        let running = self.open_slot(rules, open, now_ms);
        let mut after = self.through.unwrap_or(self.floor());
        for _ in 0..STEP_LIMIT {
            match self.next_due(rules, after) {
                Some(due) if due <= until_ms => {
                    self.judge_one(due, running, rows);
                    after = due;
                }
                _ => break,
            }
        }
        let through = self.through;
        self.fills.retain(|f| Some(*f) > through);
    }

    /// Moves the ledger for a ping at `at_ms` (the `n`-th): `end` is whether it is a
    /// success or failure ping (`failed` for a failure), `run_start_ms` the start it
    /// ended; `open_before` and `open_after` the check's open run before and after it.
    /// Returns the rows to store.
    #[allow(clippy::too_many_arguments)]
    pub fn on_ping(
        &mut self,
        rules: Rules<'_>,
        at_ms: i64,
        n: i64,
        end: Option<bool>,
        run_start_ms: Option<i64>,
        open_before: Option<Open>,
        open_after: Option<Open>,
    ) -> Vec<SlotRow> {
        let mut rows = Vec::new();
        self.catch_up(rules, open_before, at_ms, &mut rows);
        // A start left without its end (another start took its place) fills nothing.
        if let Some(before) = open_before
            && open_after != Some(before)
            && run_start_ms != Some(before.start_ms)
            && let Some(due) = self.open_slot(rules, Some(before), at_ms)
            && self.through.is_some_and(|t| due <= t)
        {
            rows.push(SlotRow {
                due_ms: due,
                status: SlotStatus::Missed,
                ping: None,
            });
        }
        if rules.interval_ms().is_some() && self.anchor.is_none() {
            self.anchor = Some(at_ms);
        }
        let Some(failed) = end else {
            return rows;
        };
        let began = run_start_ms.unwrap_or(at_ms);
        let fill_at = match rules.interval_ms() {
            Some(_) => at_ms,
            None => began,
        };
        let filled = self
            .latest_due(rules, fill_at)
            .filter(|due| began <= due.saturating_add(rules.grace_ms()));
        if let Some(due) = filled {
            rows.push(SlotRow {
                due_ms: due,
                status: if failed {
                    SlotStatus::Failed
                } else {
                    SlotStatus::Ok
                },
                ping: Some(n),
            });
            if self.through.is_none_or(|t| due > t) && !self.fills.contains(&due) {
                self.fills.push(due);
            }
        }
        if rules.interval_ms().is_some() {
            // The slots due so far stay; the next one is replaced by this ping +
            // interval. Those not filled by now never will be.
            self.judge_until(rules, open_after, at_ms, at_ms, &mut rows);
            self.anchor = Some(at_ms);
        }
        rows
    }
}

/// What a list of slots is made from.
pub struct View<'a> {
    pub rules: Rules<'a>,
    pub ledger: &'a Ledger,
    /// The check's open run, if it is running.
    pub open: Option<Open>,
    pub now: Timestamp,
    /// Stored rows (any order) with due times in the range asked for.
    pub stored: &'a [SlotRow],
    /// Rows for slots before the ledger began, worked out from the pings ([`replay`]).
    pub before: &'a [SlotRow],
    /// Whether a due time falls inside a maintenance window.
    pub maintenance: Option<&'a dyn Fn(Timestamp) -> bool>,
}

/// More slots than [`MAX_LISTED`] fall in the range.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TooMany;

/// The slots due in `[from, to]` (and by now), oldest first.
pub fn list(view: &View<'_>, from: Timestamp, to: Timestamp) -> Result<Vec<Slot>, TooMany> {
    let now_ms = view.now.as_millisecond();
    let grace_ms = view.rules.grace_ms();
    let lo = from.as_millisecond();
    let hi = to.as_millisecond().min(now_ms);
    // (due, rank, status, ping): for one due time the lowest rank wins: a stored
    // row, then one worked out from the pings, then the open run, then the rest.
    let mut out: Vec<(i64, u8, SlotStatus, Option<i64>)> = Vec::new();
    if lo > hi {
        return Ok(Vec::new());
    }
    let in_range = |due: i64| due >= lo && due <= hi;
    let since = view.ledger.since.unwrap_or(i64::MIN / 4);
    for row in view
        .before
        .iter()
        .filter(|r| in_range(r.due_ms) && r.due_ms <= since)
    {
        out.push((row.due_ms, 1, row.status, row.ping));
    }
    for row in view.stored.iter().filter(|r| in_range(r.due_ms)) {
        out.push((row.due_ms, 0, row.status, row.ping));
        if out.len() > MAX_LISTED {
            return Err(TooMany);
        }
    }
    let running = view.ledger.open_slot(view.rules, view.open, now_ms);
    if let Some(due) = running.filter(|d| in_range(*d)) {
        out.push((due, 2, SlotStatus::Running, None));
    }
    // The slots not judged yet: after `through`.
    let mut after = view
        .ledger
        .through
        .unwrap_or(since)
        .max(lo.saturating_sub(1));
    while let Some(due) = view.ledger.next_due(view.rules, after) {
        if due > hi {
            break;
        }
        let status = if running == Some(due) {
            SlotStatus::Running
        } else if due.saturating_add(grace_ms) <= now_ms {
            SlotStatus::Missed
        } else {
            SlotStatus::Pending
        };
        out.push((due, 3, status, None));
        if out.len() > 2 * MAX_LISTED + 2 {
            break;
        }
        after = due;
    }
    out.sort_unstable_by_key(|(due, rank, _, _)| (*due, *rank));
    out.dedup_by_key(|(due, _, _, _)| *due);
    if out.len() > MAX_LISTED {
        return Err(TooMany);
    }
    Ok(out
        .into_iter()
        .map(|(due_ms, _, mut status, ping)| {
            let due = ts(due_ms);
            // Missed only once due + grace has come.
            if status == SlotStatus::Missed && due_ms.saturating_add(grace_ms) > now_ms {
                status = SlotStatus::Pending;
            }
            if matches!(status, SlotStatus::Missed | SlotStatus::Pending)
                && view.maintenance.is_some_and(|inside| inside(due))
            {
                status = SlotStatus::Maintenance;
            }
            Slot { due, status, ping }
        })
        .collect())
}

/// Works the ledger out from pings alone (oldest first), as the monitor would have
/// kept it from `since`: the rows it would have stored, where it stands, and the run
/// left open. For slots before a ledger began, and for the dashboard.
pub fn replay(
    rules: Rules<'_>,
    since: Timestamp,
    pings: &[PingEntry],
    now: Timestamp,
) -> (Ledger, Vec<SlotRow>, Option<Open>) {
    let mut ledger = Ledger::new(since);
    let mut rows = Vec::new();
    let mut open: Option<(Open, Option<String>)> = None;
    for p in pings {
        let before = open.as_ref().map(|(o, _)| *o);
        let (end, run_start) = match p.kind.as_str() {
            "start" => {
                open = Some((Open { start_ms: p.at_ms }, p.rid.clone()));
                (None, None)
            }
            "success" | "fail" => {
                let pairs = match (&open, &p.rid) {
                    (Some((_, Some(rid))), Some(r)) => rid == r,
                    (Some((_, None)), Some(_)) => false,
                    (Some(_), None) => true,
                    (None, _) => false,
                };
                let start = if pairs {
                    open.take().map(|(o, _)| o.start_ms)
                } else {
                    None
                };
                (Some(p.kind == "fail"), start)
            }
            _ => (None, None),
        };
        let after = open.as_ref().map(|(o, _)| *o);
        rows.extend(ledger.on_ping(rules, p.at_ms, p.n, end, run_start, before, after));
    }
    let open = open.map(|(o, _)| o);
    ledger.catch_up(rules, open, now.as_millisecond(), &mut rows);
    (ledger, rows, open)
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
            exit_code: None,
            rid: rid.map(str::to_string),
            remote_addr: None,
            user_agent: None,
            method: "GET".into(),
            body: None,
            duration: None,
        }
    }

    fn shown(slots: &[Slot]) -> Vec<(String, &'static str, Option<i64>)> {
        slots
            .iter()
            .map(|s| (s.due.to_string(), s.status.as_str(), s.ping))
            .collect()
    }

    /// The slots a check with these pings has in `[from, now]`, from a replay.
    fn slots_of(
        schedule: &Schedule,
        grace: u64,
        created: &str,
        pings: &[PingEntry],
        now: &str,
    ) -> Vec<(String, &'static str, Option<i64>)> {
        let rules = Rules {
            schedule,
            grace: Duration::from_secs(grace),
        };
        let now = t(now);
        let (ledger, rows, open) = replay(rules, t(created), pings, now);
        let view = View {
            rules,
            ledger: &ledger,
            open,
            now,
            stored: &rows,
            before: &[],
            maintenance: None,
        };
        shown(&list(&view, t(created), now).unwrap())
    }

    fn hourly() -> Schedule {
        Schedule::cron("0 * * * *", "UTC").unwrap()
    }

    #[test]
    fn a_cron_check_has_ok_failed_missed_and_pending_slots() {
        let pings = [
            ping(1, "2026-01-01T01:00:05Z", "start", None),
            ping(2, "2026-01-01T01:00:20Z", "success", None),
            // 02:00: nothing. 03:00: an end alone, late but within the grace.
            ping(3, "2026-01-01T03:08:00Z", "fail", None),
            // 04:00: a run that began after due + grace fills nothing.
            ping(4, "2026-01-01T04:30:00Z", "success", None),
        ];
        assert_eq!(
            slots_of(
                &hourly(),
                600,
                "2026-01-01T00:30:00Z",
                &pings,
                "2026-01-01T05:05:00Z"
            ),
            vec![
                ("2026-01-01T01:00:00Z".into(), "ok", Some(2)),
                ("2026-01-01T02:00:00Z".into(), "missed", None),
                ("2026-01-01T03:00:00Z".into(), "failed", Some(3)),
                ("2026-01-01T04:00:00Z".into(), "missed", None),
                ("2026-01-01T05:00:00Z".into(), "pending", None),
            ]
        );
    }

    #[test]
    fn a_run_fills_the_slot_at_or_before_its_start_and_none_before_the_first() {
        let pings = [
            // Before the first slot (01:00): fills none.
            ping(1, "2026-01-01T00:40:00Z", "start", None),
            ping(2, "2026-01-01T00:41:00Z", "success", None),
            // Starts a second early for 02:00: its slot is 01:00, long past due +
            // grace, so it fills neither.
            ping(3, "2026-01-01T01:59:59Z", "start", None),
            ping(4, "2026-01-01T02:00:30Z", "success", None),
            // Starts within 03:00's grace: fills it.
            ping(5, "2026-01-01T03:09:00Z", "start", None),
            ping(6, "2026-01-01T03:20:00Z", "success", None),
        ];
        assert_eq!(
            slots_of(
                &hourly(),
                600,
                "2026-01-01T00:30:00Z",
                &pings,
                "2026-01-01T03:30:00Z"
            ),
            vec![
                ("2026-01-01T01:00:00Z".into(), "missed", None),
                ("2026-01-01T02:00:00Z".into(), "missed", None),
                ("2026-01-01T03:00:00Z".into(), "ok", Some(6)),
            ]
        );
    }

    #[test]
    fn an_open_run_is_running_and_an_abandoned_start_fills_nothing() {
        let pings = [
            ping(1, "2026-01-01T01:00:01Z", "start", None),
            ping(2, "2026-01-01T02:00:01Z", "start", None),
        ];
        assert_eq!(
            slots_of(
                &hourly(),
                600,
                "2026-01-01T00:30:00Z",
                &pings,
                "2026-01-01T02:30:00Z"
            ),
            vec![
                ("2026-01-01T01:00:00Z".into(), "missed", None),
                ("2026-01-01T02:00:00Z".into(), "running", None),
            ]
        );
        // Its end makes it failed, with the end's number.
        let mut pings = pings.to_vec();
        pings.push(ping(3, "2026-01-01T03:30:00Z", "fail", None));
        assert_eq!(
            slots_of(
                &hourly(),
                600,
                "2026-01-01T00:30:00Z",
                &pings,
                "2026-01-01T03:40:00Z"
            ),
            vec![
                ("2026-01-01T01:00:00Z".into(), "missed", None),
                ("2026-01-01T02:00:00Z".into(), "failed", Some(3)),
                ("2026-01-01T03:00:00Z".into(), "missed", None),
            ]
        );
    }

    #[test]
    fn an_interval_check_counts_from_its_first_ping_and_each_end_replaces_the_next_slot() {
        let hour = Schedule::interval(Duration::from_secs(3600)).unwrap();
        let pings = [
            // First ping: the first slot is 01:00.
            ping(1, "2026-01-01T00:00:00Z", "start", None),
            ping(2, "2026-01-01T00:05:00Z", "success", None),
            // The end at 00:05 replaced 01:00 with 01:05; this run started before
            // 01:05 and ended after it: it fills 01:05.
            ping(3, "2026-01-01T01:00:00Z", "start", None),
            ping(4, "2026-01-01T01:06:00Z", "fail", None),
            // Nothing: 02:06 and 03:06 are missed; a late end fills 04:06.
            ping(5, "2026-01-01T04:10:00Z", "success", None),
        ];
        assert_eq!(
            slots_of(
                &hour,
                600,
                "2025-12-31T00:00:00Z",
                &pings,
                "2026-01-01T04:30:00Z"
            ),
            vec![
                ("2026-01-01T01:05:00Z".into(), "failed", Some(4)),
                ("2026-01-01T02:06:00Z".into(), "missed", None),
                ("2026-01-01T03:06:00Z".into(), "missed", None),
                ("2026-01-01T04:06:00Z".into(), "ok", Some(5)),
            ]
        );
        // An early ping fills nothing and replaces 05:10 with 06:09.
        let mut early = pings.to_vec();
        early.push(ping(6, "2026-01-01T05:09:00Z", "success", None));
        assert_eq!(
            slots_of(
                &hour,
                600,
                "2025-12-31T00:00:00Z",
                &early,
                "2026-01-01T06:30:00Z"
            ),
            vec![
                ("2026-01-01T01:05:00Z".into(), "failed", Some(4)),
                ("2026-01-01T02:06:00Z".into(), "missed", None),
                ("2026-01-01T03:06:00Z".into(), "missed", None),
                ("2026-01-01T04:06:00Z".into(), "ok", Some(5)),
                ("2026-01-01T06:09:00Z".into(), "missed", None),
            ]
        );
        // With no ping there is no slot.
        assert!(
            slots_of(
                &hour,
                600,
                "2025-12-31T00:00:00Z",
                &[],
                "2026-01-02T00:00:00Z"
            )
            .is_empty()
        );
        // A first ping that is a start still begins the slots.
        let only_start = [ping(1, "2026-01-01T00:00:00Z", "start", None)];
        assert_eq!(
            slots_of(
                &hour,
                600,
                "2025-12-31T00:00:00Z",
                &only_start,
                "2026-01-01T01:05:00Z"
            ),
            vec![("2026-01-01T01:00:00Z".into(), "running", None)]
        );
    }

    #[test]
    fn the_ledger_counts_consecutive_missed_slots() {
        let schedule = hourly();
        let rules = Rules {
            schedule: &schedule,
            grace: Duration::from_secs(600),
        };
        let mut ledger = Ledger::new(t("2026-01-01T00:30:00Z"));
        let at = |s: &str| t(s).as_millisecond();
        let rows = ledger.on_ping(
            rules,
            at("2026-01-01T01:00:10Z"),
            1,
            Some(false),
            None,
            None,
            None,
        );
        assert_eq!(rows.len(), 1);
        let mut rows = Vec::new();
        ledger.catch_up(rules, None, at("2026-01-01T03:10:00Z"), &mut rows);
        assert_eq!(ledger.missed, 2, "02:00 and 03:00");
        assert_eq!(
            rows.iter()
                .filter(|r| r.status == SlotStatus::Missed)
                .count(),
            2
        );
        assert!(ledger.fills.is_empty());
        ledger.on_ping(
            rules,
            at("2026-01-01T04:00:10Z"),
            2,
            Some(false),
            None,
            None,
            None,
        );
        ledger.catch_up(rules, None, at("2026-01-01T04:10:00Z"), &mut rows);
        assert_eq!(ledger.missed, 0);
    }

    #[test]
    fn a_list_says_too_many_and_marks_maintenance() {
        let every_minute = Schedule::cron("* * * * *", "UTC").unwrap();
        let rules = Rules {
            schedule: &every_minute,
            grace: Duration::from_secs(60),
        };
        let ledger = Ledger::new(t("2026-01-01T00:00:00Z"));
        let inside = |due: Timestamp| due < t("2026-01-01T00:03:00Z");
        let view = View {
            rules,
            ledger: &ledger,
            open: None,
            now: t("2026-01-10T00:00:00Z"),
            stored: &[],
            before: &[],
            maintenance: Some(&inside),
        };
        assert_eq!(
            list(&view, t("2026-01-01T00:00:00Z"), t("2026-01-08T00:00:00Z")),
            Err(TooMany)
        );
        let few = list(&view, t("2026-01-01T00:00:00Z"), t("2026-01-01T00:04:00Z")).unwrap();
        assert_eq!(
            few.iter().map(|s| s.status.as_str()).collect::<Vec<_>>(),
            vec!["maintenance", "maintenance", "missed", "missed"]
        );
    }
}
