//! `GET /api/v1/heartbeats/{uuid}/slots?from=&to=`: a check's slots (§6), oldest first.

use axum::extract::{Path, Query, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use jiff::{SignedDuration, Timestamp};
use std::collections::HashMap;
use std::sync::Arc;
use uuid::Uuid;

use crate::serve::app::App;
use crate::serve::check::rfc3339;
use crate::serve::registry::{ApiError, open_run, rules_of};
use crate::serve::schedule::Schedule;
use crate::serve::slots::{self, Ledger, MAX_LISTED, Open, Rules, Slot, SlotRow, TooMany, View};
use crate::serve::store::PING_HISTORY;

/// The range when none is given: the last 7 days.
const DEFAULT_SPAN: SignedDuration = SignedDuration::from_hours(7 * 24);

fn parse_time(name: &str, text: &str) -> Result<Timestamp, ApiError> {
    text.parse::<Timestamp>().map_err(|_| {
        ApiError::Invalid(format!(
            "{name}: {} is not an RFC 3339 time; write it like 2026-01-01T00:00:00Z",
            crate::serve::schedule::quote(text)
        ))
    })
}

/// The range asked for: `from` and `to`, each defaulting from the other and now.
fn range(
    query: &HashMap<String, String>,
    now: Timestamp,
) -> Result<(Timestamp, Timestamp), ApiError> {
    let from = query
        .get("from")
        .map(|t| parse_time("from", t))
        .transpose()?;
    let to = query.get("to").map(|t| parse_time("to", t)).transpose()?;
    let back = |t: Timestamp| t.checked_sub(DEFAULT_SPAN).unwrap_or(Timestamp::MIN);
    let (from, to) = match (from, to) {
        (Some(from), Some(to)) => (from, to),
        (Some(from), None) => (from, now.max(from)),
        (None, Some(to)) => (back(to), to),
        (None, None) => (back(now), now),
    };
    if to < from {
        return Err(ApiError::Invalid(format!(
            "to: {} is before from {}; give a to at or after the from",
            rfc3339(to),
            rfc3339(from)
        )));
    }
    Ok((from, to))
}

/// What the answer is made from, copied under the registry lock.
struct Copy {
    schedule: Schedule,
    grace: std::time::Duration,
    ledger: Ledger,
    open: Option<Open>,
    created: Timestamp,
    /// The maintenance windows that apply to the check.
    windows: Vec<std::sync::Arc<crate::serve::maintenance::Window>>,
}

pub(super) async fn slots(
    State(app): State<Arc<App>>,
    Path(uuid): Path<String>,
    Query(query): Query<HashMap<String, String>>,
) -> Result<Response, ApiError> {
    let not_found = || ApiError::NotFound(format!("no check with uuid {uuid}"));
    let id = Uuid::parse_str(&uuid).map_err(|_| not_found())?;
    let now = app.now();
    let (from, to) = range(&query, now)?;
    let copy = {
        let reg = app.registry();
        let entry = reg.checks.get(&id).ok_or_else(not_found)?;
        let rules = rules_of(&entry.settings);
        Copy {
            schedule: entry.settings.schedule.clone(),
            grace: rules.grace,
            ledger: entry.state.slots.clone(),
            open: open_run(&entry.state),
            created: Timestamp::from_millisecond(entry.created_ms).unwrap_or(Timestamp::UNIX_EPOCH),
            windows: entry.settings.windows.clone(),
        }
    };
    let history = app.history.clone();
    let body = tokio::task::spawn_blocking(move || answer(&*history, id, &copy, from, to, now))
        .await
        .map_err(|e| ApiError::Unavailable(format!("storage: {e}")))??;
    Ok(([(header::CONTENT_TYPE, "application/json")], body).into_response())
}

/// `{"slots": [{"due", "status", "ping"}]}`, written straight out: a week of a check
/// due every minute is 10,000 slots, and a `Value` for each would be most of the cost.
fn write_slots(listed: &[Slot]) -> Vec<u8> {
    use std::io::Write;
    let mut out = Vec::with_capacity(64 + listed.len() * 60);
    out.extend_from_slice(b"{\"slots\":[");
    let mut day: Option<(i64, String)> = None;
    for (i, s) in listed.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        out.extend_from_slice(b"{\"due\":\"");
        write_time(&mut out, s.due, &mut day);
        out.extend_from_slice(b"\",\"status\":\"");
        out.extend_from_slice(s.status.as_str().as_bytes());
        out.extend_from_slice(b"\",\"ping\":");
        match s.ping {
            Some(n) => {
                let _ = write!(out, "{n}");
            }
            None => out.extend_from_slice(b"null"),
        }
        out.push(b'}');
    }
    out.extend_from_slice(b"]}");
    out
}

/// [`rfc3339`], with the date made once per day.
fn write_time(out: &mut Vec<u8>, t: Timestamp, day: &mut Option<(i64, String)>) {
    use std::io::Write;
    const DAY: i64 = 86_400_000;
    let ms = t.as_millisecond();
    if ms < 0 {
        out.extend_from_slice(rfc3339(t).as_bytes());
        return;
    }
    let (d, rem) = (ms / DAY, ms % DAY);
    if day.as_ref().map(|(n, _)| *n) != Some(d) {
        let midnight = rfc3339(Timestamp::from_millisecond(d * DAY).unwrap_or(t));
        // "YYYY-MM-DDT": from 1970 on, the year has four digits.
        *day = Some((d, midnight.get(..11).unwrap_or_default().to_string()));
    }
    if let Some((_, date)) = day {
        out.extend_from_slice(date.as_bytes());
    }
    let (h, m, s, milli) = (
        rem / 3_600_000,
        rem / 60_000 % 60,
        rem / 1000 % 60,
        rem % 1000,
    );
    let _ = write!(out, "{h:02}:{m:02}:{s:02}");
    if milli != 0 {
        let _ = write!(out, ".{milli:03}");
    }
    out.push(b'Z');
}

fn answer(
    history: &dyn crate::serve::store::History,
    id: Uuid,
    copy: &Copy,
    from: Timestamp,
    to: Timestamp,
    now: Timestamp,
) -> Result<Vec<u8>, ApiError> {
    let storage = |e: anyhow::Error| ApiError::Unavailable(format!("storage: {e:#}"));
    let uuid = id.to_string();
    let rules = Rules {
        schedule: &copy.schedule,
        grace: copy.grace,
    };
    let hi = to.min(now);
    let stored = history
        .slots(
            &uuid,
            from.as_millisecond(),
            hi.as_millisecond(),
            MAX_LISTED + 1,
        )
        .map_err(storage)?;
    // Slots before the ledger began are worked out from the pings.
    let since = copy.ledger.since.unwrap_or(i64::MIN);
    let before: Vec<SlotRow> =
        if from.as_millisecond() < since && copy.created.as_millisecond() < since {
            let limit = PING_HISTORY as usize;
            let mut pings = history.ping_times(&uuid, limit).map_err(storage)?;
            let truncated = pings.len() == limit;
            pings.reverse();
            let mut start = copy.created.max(from);
            if truncated && let Some(first) = pings.first() {
                start = start.max(Timestamp::from_millisecond(first.at_ms).unwrap_or(start));
            }
            slots::replay(rules, start, &pings, now).1
        } else {
            Vec::new()
        };
    let inside = |t: Timestamp| crate::serve::maintenance::active(&copy.windows, t).is_some();
    let view = View {
        rules,
        ledger: &copy.ledger,
        open: copy.open,
        now,
        stored: &stored,
        before: &before,
        maintenance: (!copy.windows.is_empty()).then_some(&inside as &dyn Fn(Timestamp) -> bool),
    };
    let listed = slots::list(&view, from, to).map_err(|TooMany| {
        ApiError::Invalid(format!(
            "from, to: the range holds more than {MAX_LISTED} slots; narrow it to at most {MAX_LISTED} slots"
        ))
    })?;
    Ok(write_slots(&listed))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::serve::slots::SlotStatus;

    fn t(s: &str) -> Timestamp {
        s.parse().unwrap()
    }

    #[test]
    fn slots_are_written_as_the_api_shows_times() {
        let listed = [
            Slot {
                due: t("2026-01-01T03:00:00Z"),
                status: SlotStatus::Ok,
                ping: Some(7),
            },
            Slot {
                due: t("2026-01-01T03:00:00.250Z"),
                status: SlotStatus::Missed,
                ping: None,
            },
            Slot {
                due: t("2026-01-02T00:00:00Z"),
                status: SlotStatus::Pending,
                ping: None,
            },
        ];
        let written: serde_json::Value = serde_json::from_slice(&write_slots(&listed)).unwrap();
        assert_eq!(
            written,
            serde_json::json!({"slots": [
                {"due": "2026-01-01T03:00:00Z", "status": "ok", "ping": 7},
                {"due": "2026-01-01T03:00:00.250Z", "status": "missed", "ping": null},
                {"due": "2026-01-02T00:00:00Z", "status": "pending", "ping": null},
            ]})
        );
        for s in &listed {
            let mut out = Vec::new();
            write_time(&mut out, s.due, &mut None);
            assert_eq!(String::from_utf8(out).unwrap(), rfc3339(s.due));
        }
    }

    #[test]
    fn a_range_defaults_to_the_last_seven_days_and_refuses_bad_times() {
        let now = t("2026-01-08T00:00:00Z");
        let q = |pairs: &[(&str, &str)]| -> HashMap<String, String> {
            pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect()
        };
        assert_eq!(
            range(&q(&[]), now).unwrap(),
            (t("2026-01-01T00:00:00Z"), now)
        );
        assert_eq!(
            range(&q(&[("to", "2026-01-05T00:00:00Z")]), now).unwrap().0,
            t("2025-12-29T00:00:00Z")
        );
        let bad = range(&q(&[("from", "yesterday")]), now).unwrap_err();
        assert_eq!(
            bad.to_string(),
            "from: \"yesterday\" is not an RFC 3339 time; write it like 2026-01-01T00:00:00Z"
        );
        assert!(
            range(
                &q(&[
                    ("from", "2026-01-05T00:00:00Z"),
                    ("to", "2026-01-04T00:00:00Z")
                ]),
                now
            )
            .is_err()
        );
    }
}
