//! `GET /api/v1/heartbeats/{uuid}/slots?from=&to=`: a check's slots (§6), oldest first.

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Response};
use jiff::{SignedDuration, Timestamp};
use serde_json::{Value, json};
use std::collections::HashMap;
use std::sync::Arc;
use uuid::Uuid;

use crate::serve::app::App;
use crate::serve::check::rfc3339;
use crate::serve::registry::{ApiError, open_run, rules_of};
use crate::serve::schedule::Schedule;
use crate::serve::slots::{self, Ledger, MAX_LISTED, Open, Rules, SlotRow, TooMany, View};
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
        }
    };
    let history = app.history.clone();
    let answer = tokio::task::spawn_blocking(move || answer(&*history, id, &copy, from, to, now))
        .await
        .map_err(|e| ApiError::Unavailable(format!("storage: {e}")))??;
    Ok(Json(answer).into_response())
}

fn answer(
    history: &dyn crate::serve::store::History,
    id: Uuid,
    copy: &Copy,
    from: Timestamp,
    to: Timestamp,
    now: Timestamp,
) -> Result<Value, ApiError> {
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
    let view = View {
        rules,
        ledger: &copy.ledger,
        open: copy.open,
        now,
        stored: &stored,
        before: &before,
        maintenance: None,
    };
    let listed = slots::list(&view, from, to).map_err(|TooMany| {
        ApiError::Invalid(format!(
            "from, to: the range holds more than {MAX_LISTED} slots; narrow it to at most {MAX_LISTED} slots"
        ))
    })?;
    let slots: Vec<Value> = listed
        .into_iter()
        .map(|s| json!({"due": rfc3339(s.due), "status": s.status.as_str(), "ping": s.ping}))
        .collect();
    Ok(json!({ "slots": slots }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(s: &str) -> Timestamp {
        s.parse().unwrap()
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
