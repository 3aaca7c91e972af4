//! The list `/`: `?status=&tag=&q=&sort=status|name|last_ping|next_due&page=N`, 100 a
//! page, worst first by default (down, late, running, up, new, paused, then name).
//!
//! Every check is looked at once per page, in slices (one lock hold per slice); only
//! the page's checks are cloned, and only their history is read (off the async
//! threads) for the strip of their last 20 slots.

use axum::Extension;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::Response;
use jiff::Timestamp;
use maud::{Markup, html};
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use uuid::Uuid;

use super::history::{Slot, SlotInput, SlotStatus, slots};
use super::words::{encode, schedule, seconds, time_rel};
use super::{Ctx, READ_SLICE, html_response, layout, page_etag, status_badge, unchanged};
use crate::serve::app::App;
use crate::serve::http::guard::Viewer;
use crate::serve::schedule::Schedule;
use crate::serve::status::Status;

pub(super) const PAGE_SIZE: usize = 100;
/// Slots in a row's strip.
pub(super) const STRIP: usize = 20;
/// Pings read per check for its strip.
const STRIP_PINGS: usize = 80;

/// Worst first.
pub(super) fn rank(status: Status) -> u8 {
    match status {
        Status::Down => 0,
        Status::Late => 1,
        Status::Running => 2,
        Status::Up => 3,
        Status::New => 4,
        Status::Paused => 5,
    }
}

const RANKED: [Status; 6] = [
    Status::Down,
    Status::Late,
    Status::Running,
    Status::Up,
    Status::New,
    Status::Paused,
];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Sort {
    Status,
    Name,
    LastPing,
    NextDue,
}

impl Sort {
    fn parse(text: Option<&str>) -> Sort {
        match text {
            Some("name") => Sort::Name,
            Some("last_ping") => Sort::LastPing,
            Some("next_due") => Sort::NextDue,
            _ => Sort::Status,
        }
    }

    fn as_str(self) -> &'static str {
        match self {
            Sort::Status => "status",
            Sort::Name => "name",
            Sort::LastPing => "last_ping",
            Sort::NextDue => "next_due",
        }
    }
}

/// The list's filters as the URL gives them.
#[derive(Debug, Clone, Default)]
pub(super) struct Filters {
    pub status: Option<Status>,
    pub tag: Option<String>,
    pub q: String,
    pub sort: Option<Sort>,
    pub page: usize,
}

impl Filters {
    fn from_query(query: &HashMap<String, String>) -> Result<Filters, String> {
        let status = match query.get("status").map(String::as_str).unwrap_or("") {
            "" => None,
            s => Some(
                Status::ALL
                    .into_iter()
                    .find(|x| x.as_str() == s)
                    .ok_or_else(|| {
                        format!(
                            "status {s:?} is not a status; use new, up, late, down, running or paused"
                        )
                    })?,
            ),
        };
        Ok(Filters {
            status,
            tag: query.get("tag").filter(|t| !t.is_empty()).cloned(),
            q: query
                .get("q")
                .map(|q| q.trim().to_string())
                .unwrap_or_default(),
            sort: query
                .get("sort")
                .filter(|s| !s.is_empty())
                .map(|s| Sort::parse(Some(s))),
            page: query
                .get("page")
                .and_then(|p| p.parse().ok())
                .filter(|p| *p >= 1)
                .unwrap_or(1),
        })
    }

    fn sort(&self) -> Sort {
        self.sort.unwrap_or(Sort::Status)
    }

    /// This list's URL with some filters changed.
    fn url(&self, change: impl FnOnce(&mut Filters)) -> String {
        let mut f = self.clone();
        change(&mut f);
        let mut parts = Vec::new();
        if let Some(s) = f.status {
            parts.push(format!("status={}", s.as_str()));
        }
        if let Some(t) = &f.tag {
            parts.push(format!("tag={}", encode(t)));
        }
        if !f.q.is_empty() {
            parts.push(format!("q={}", encode(&f.q)));
        }
        if let Some(s) = f.sort {
            parts.push(format!("sort={}", s.as_str()));
        }
        if f.page > 1 {
            parts.push(format!("page={}", f.page));
        }
        if parts.is_empty() {
            "/".into()
        } else {
            format!("/?{}", parts.join("&"))
        }
    }
}

/// One check, as the sort needs it.
struct Item {
    rank: u8,
    name: String,
    last_ping: i64,
    next_due: i64,
    uuid: Uuid,
}

/// One row of the page.
struct Row {
    uuid: Uuid,
    name: String,
    tags: Vec<String>,
    owner: String,
    schedule: Schedule,
    grace: std::time::Duration,
    status: Status,
    last_ping: Option<Timestamp>,
    next_due: Option<Timestamp>,
    last_duration: Option<f64>,
    created: Timestamp,
}

/// What one walk over every check gathers.
#[derive(Default)]
struct Walk {
    items: Vec<Item>,
    counts: [u64; 6],
    /// Per tag: its worst status's rank and its number of checks.
    tags: HashMap<String, (u8, u64)>,
    total: u64,
}

/// Whether `text` contains `needle` (lower-case), ignoring case; without allocating
/// for ASCII text, which names mostly are.
fn contains_ci(text: &str, needle: &str) -> bool {
    if !text.is_ascii() || !needle.is_ascii() {
        return text.to_lowercase().contains(needle);
    }
    let (t, n) = (text.as_bytes(), needle.as_bytes());
    n.is_empty() || t.windows(n.len()).any(|w| w.eq_ignore_ascii_case(n))
}

fn matches(entry: &crate::serve::registry::Entry, q: &str) -> bool {
    if q.is_empty() {
        return true;
    }
    let has = |text: &str| contains_ci(text, q);
    let s = &entry.settings;
    has(&s.name) || s.slug.contains(q) || has(&s.owner) || s.tags.iter().any(|t| has(t))
}

fn walk(app: &App, filters: &Filters, now: Timestamp) -> Walk {
    let q = filters.q.to_lowercase();
    let mut w = Walk::default();
    let sort = filters.sort();
    let mut after = None;
    loop {
        after = app.registry().visit_slice(after.as_ref(), READ_SLICE, |e| {
            let (status, next_due, _) = e.state.view(&e.settings, now);
            let r = rank(status);
            w.total += 1;
            w.counts[r as usize] += 1;
            for tag in &e.settings.tags {
                match w.tags.get_mut(tag.as_str()) {
                    Some((worst, n)) => {
                        *worst = (*worst).min(r);
                        *n += 1;
                    }
                    None => {
                        w.tags.insert(tag.clone(), (r, 1));
                    }
                }
            }
            if filters.status.is_some_and(|s| s != status)
                || filters
                    .tag
                    .as_ref()
                    .is_some_and(|t| !e.settings.tags.contains(t))
                || !matches(e, &q)
            {
                return;
            }
            w.items.push(Item {
                rank: r,
                // Lower-cased once here, not in every comparison.
                name: e.settings.name.to_lowercase(),
                last_ping: match sort {
                    Sort::LastPing => e.state.last_ping.map_or(i64::MIN, |t| t.as_millisecond()),
                    _ => 0,
                },
                next_due: match sort {
                    Sort::NextDue => next_due.map_or(i64::MAX, |t| t.as_millisecond()),
                    _ => 0,
                },
                uuid: e.settings.uuid,
            });
        });
        if after.is_none() {
            break;
        }
    }
    w
}

fn order(sort: Sort) -> impl Fn(&Item, &Item) -> std::cmp::Ordering {
    move |a, b| {
        let by_name = || a.name.cmp(&b.name).then_with(|| a.uuid.cmp(&b.uuid));
        match sort {
            Sort::Status => a.rank.cmp(&b.rank).then_with(by_name),
            Sort::Name => by_name(),
            Sort::LastPing => b.last_ping.cmp(&a.last_ping).then_with(by_name),
            Sort::NextDue => a
                .next_due
                .cmp(&b.next_due)
                .then(a.rank.cmp(&b.rank))
                .then_with(by_name),
        }
    }
}

/// The items of page `page` (from 1), in order, without sorting the whole list.
fn page_of(mut items: Vec<Item>, sort: Sort, page: usize) -> Vec<Item> {
    let start = (page - 1).saturating_mul(PAGE_SIZE);
    if start >= items.len() {
        return Vec::new();
    }
    let end = (start + PAGE_SIZE).min(items.len());
    let cmp = order(sort);
    if end < items.len() {
        items.select_nth_unstable_by(end, &cmp);
        items.truncate(end);
    }
    if start > 0 {
        items.select_nth_unstable_by(start, &cmp);
        items.drain(..start);
    }
    items.sort_unstable_by(&cmp);
    items
}

pub(super) async fn page(
    State(app): State<Arc<App>>,
    Extension(viewer): Extension<Viewer>,
    Query(query): Query<HashMap<String, String>>,
    headers: HeaderMap,
    uri: Uri,
) -> Response {
    let etag = page_etag(&app, &viewer, &uri);
    if let Some(r) = unchanged(&headers, &etag) {
        return r;
    }
    let ctx = Ctx::new(&app, viewer, &headers);
    let filters = match Filters::from_query(&query) {
        Ok(f) => f,
        Err(e) => {
            let body =
                html! { h1 { "Checks" } p.notice.error { (e) } p { a href="/" { "All checks" } } };
            return html_response(
                StatusCode::BAD_REQUEST,
                layout(&ctx, None, false, body),
                None,
            );
        }
    };
    let now = ctx.now;
    let w = walk(&app, &filters, now);
    let matched = w.items.len();
    let items = page_of(w.items, filters.sort(), filters.page);
    let rows: Vec<Row> = {
        let reg = app.registry();
        items
            .iter()
            .filter_map(|i| reg.checks.get(&i.uuid))
            .map(|e| {
                let (status, next_due, _) = e.state.view(&e.settings, now);
                Row {
                    uuid: e.settings.uuid,
                    name: e.settings.name.clone(),
                    tags: e.settings.tags.clone(),
                    owner: e.settings.owner.clone(),
                    schedule: e.settings.schedule.clone(),
                    grace: e.settings.grace(),
                    status,
                    last_ping: e.state.last_ping,
                    next_due,
                    last_duration: e.state.last_duration,
                    created: Timestamp::from_millisecond(e.created_ms)
                        .unwrap_or(Timestamp::UNIX_EPOCH),
                }
            })
            .collect()
    };
    let tags: BTreeMap<String, (u8, u64)> = w.tags.into_iter().collect();
    let counts = w.counts;
    let total = w.total;
    // History and rendering off the async threads.
    let history = app.history.clone();
    let rendered = tokio::task::spawn_blocking(move || {
        let strips: Vec<Option<Vec<Slot>>> = rows
            .iter()
            .map(|row| {
                let mut pings = history
                    .ping_times(&row.uuid.to_string(), STRIP_PINGS)
                    .ok()?;
                let truncated = pings.len() == STRIP_PINGS;
                pings.reverse();
                Some(slots(
                    &SlotInput {
                        schedule: &row.schedule,
                        grace: row.grace,
                        pings: &pings,
                        truncated,
                        created: row.created,
                        running: row.status == Status::Running,
                        now,
                    },
                    STRIP,
                ))
            })
            .collect();
        let body = render(
            &ctx, &filters, &rows, &strips, &tags, counts, total, matched,
        );
        layout(&ctx, None, true, body)
    })
    .await;
    match rendered {
        Ok(markup) => html_response(StatusCode::OK, markup, Some(&etag)),
        Err(e) => super::refusal(StatusCode::INTERNAL_SERVER_ERROR, &e.to_string()),
    }
}

fn strip(slots: &[Slot]) -> Markup {
    let count = |s: SlotStatus| slots.iter().filter(|x| x.status == s).count();
    let summary = format!(
        "last {} slots: {} ok, {} failed, {} missed{}",
        slots.len(),
        count(SlotStatus::Ok),
        count(SlotStatus::Failed),
        count(SlotStatus::Missed),
        match (count(SlotStatus::Running), count(SlotStatus::Pending)) {
            (0, 0) => String::new(),
            (r, p) => format!(", {r} running, {p} pending"),
        }
    );
    html! {
        span.strip role="img" aria-label=(summary) title=(summary) {
            @for _ in slots.len()..STRIP { i.none {} }
            @for s in slots {
                i class=(slot_class(s.status)) {}
            }
        }
    }
}

pub(super) fn slot_class(s: SlotStatus) -> &'static str {
    match s {
        SlotStatus::Ok => "ok",
        SlotStatus::Failed => "fail",
        SlotStatus::Missed => "miss",
        SlotStatus::Running => "run",
        SlotStatus::Pending => "pend",
        SlotStatus::Maintenance => "maint",
    }
}

#[allow(clippy::too_many_arguments)]
fn render(
    ctx: &Ctx,
    f: &Filters,
    rows: &[Row],
    strips: &[Option<Vec<Slot>>],
    tags: &BTreeMap<String, (u8, u64)>,
    counts: [u64; 6],
    total: u64,
    matched: usize,
) -> Markup {
    let pages = matched.div_ceil(PAGE_SIZE).max(1);
    let now = ctx.now;
    html! {
        h1.visually-hidden { "Checks" }
        nav.filters aria-label="Filter by status" {
            a href=(f.url(|f| { f.status = None; f.page = 1; }))
                aria-current=[f.status.is_none().then_some("true")] { "All " span.count { (total) } }
            @for s in RANKED {
                @let n = counts[rank(s) as usize];
                @if n > 0 || f.status == Some(s) {
                    a class=(format!("st st-{}", s.as_str()))
                        href=(f.url(|f| { f.status = Some(s); f.page = 1; }))
                        aria-current=[(f.status == Some(s)).then_some("true")] {
                        span.shape aria-hidden="true" {} (s.as_str()) " " span.count { (n) }
                    }
                }
            }
        }
        @if !tags.is_empty() {
            nav.tags aria-label="Filter by tag" {
                @if f.tag.is_some() {
                    a.tag href=(f.url(|f| { f.tag = None; f.page = 1; })) { "all tags" }
                }
                @for (tag, (worst, n)) in tags.iter().take(100) {
                    @let worst = RANKED[*worst as usize].as_str();
                    a class=(format!("tag st st-{worst}"))
                        href=(f.url(|f| { f.tag = Some(tag.clone()); f.page = 1; }))
                        title=(format!("{n} checks; the worst is {worst}"))
                        aria-current=[(f.tag.as_deref() == Some(tag.as_str())).then_some("true")] {
                        span.shape aria-hidden="true" {} (tag) span.visually-hidden { " (worst: " (worst) ")" }
                    }
                }
            }
        }
        form.search method="get" action="/" role="search" {
            @if let Some(s) = f.status { input type="hidden" name="status" value=(s.as_str()); }
            @if let Some(t) = &f.tag { input type="hidden" name="tag" value=(t); }
            span.control.grow {
                label for="q" { "Search" }
                input #q type="search" name="q" value=(f.q) placeholder="name, tag, owner";
            }
            span.control {
                label for="sort" { "Sort" }
                select #sort name="sort" {
                    @for (value, label) in [("status", "worst first"), ("name", "name"), ("last_ping", "last run"), ("next_due", "next due")] {
                        option value=(value) selected[f.sort().as_str() == value] { (label) }
                    }
                }
                button type="submit" { "Apply" }
            }
        }
        @if rows.is_empty() {
            p.empty {
                @if total == 0 {
                    "No check yet. "
                    @if ctx.full() { a href="/checks/new" { "Create the first one" } ", or see" } @else { "See" }
                    " README for the API and the config file."
                } @else {
                    "No check matches. " a href="/" { "Show all" }
                }
            }
        } @else {
            table.checks {
                caption.visually-hidden { "Checks, " (f.sort().as_str()) " order, page " (f.page) " of " (pages) }
                thead {
                    tr {
                        th scope="col" { "Status" }
                        th scope="col" { "Check" }
                        th scope="col" { "Schedule" }
                        th scope="col" { "Last run" }
                        th scope="col" { "Duration" }
                        th scope="col" { "Next due" }
                        th scope="col" { "Last 20 slots" }
                    }
                }
                tbody {
                    @for (row, strip_slots) in rows.iter().zip(strips) {
                        tr class=(format!("row-{}", row.status.as_str())) {
                            td data-label="Status" { (status_badge(row.status.as_str())) }
                            td.name data-label="Check" {
                                a href=(format!("/checks/{}", row.uuid)) { (row.name) }
                                @if !row.tags.is_empty() || !row.owner.is_empty() {
                                    div.meta {
                                        @for t in &row.tags { span.tag { (t) } " " }
                                        @if !row.owner.is_empty() { span.owner { "owner: " (row.owner) } }
                                    }
                                }
                            }
                            td data-label="Schedule" {
                                (schedule(&row.schedule))
                                @if let (Some(expr), Some(tz)) = (row.schedule.cron_expr(), row.schedule.tz_name()) {
                                    div.meta { code { (expr) } " " span.tzname data-tz=(tz) { (tz) } }
                                }
                            }
                            td data-label="Last run" {
                                @if let Some(t) = row.last_ping { (time_rel(t, now)) } @else { span.muted { "never" } }
                            }
                            td data-label="Duration" {
                                @if let Some(d) = row.last_duration { (seconds(d)) } @else { span.muted { "—" } }
                            }
                            td data-label="Next due" {
                                @if let Some(t) = row.next_due { (time_rel(t, now)) } @else { span.muted { "—" } }
                            }
                            td data-label="Last 20 slots" {
                                @match strip_slots {
                                    Some(s) => (strip(s)),
                                    None => span.muted { "unavailable" },
                                }
                            }
                        }
                    }
                }
            }
        }
        @if pages > 1 {
            nav.pages aria-label="Pages" {
                @if f.page > 1 {
                    a rel="prev" href=(f.url(|x| x.page = f.page - 1)) { "← Previous" }
                }
                span { "Page " (f.page) " of " (pages) " (" (matched) " checks)" }
                @if f.page < pages {
                    a rel="next" href=(f.url(|x| x.page = f.page + 1)) { "Next →" }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn item(rank: u8, name: &str) -> Item {
        Item {
            rank,
            name: name.into(),
            last_ping: 0,
            next_due: 0,
            uuid: Uuid::new_v4(),
        }
    }

    #[test]
    fn worst_first_then_name_and_pages_without_a_full_sort() {
        let mut items = Vec::new();
        for i in 0..250 {
            items.push(item((i % 6) as u8, &format!("check {i:03}")));
        }
        let all = page_of(
            items.iter().map(|i| item(i.rank, &i.name)).collect(),
            Sort::Status,
            1,
        );
        assert_eq!(all.len(), 100);
        assert!(
            all.iter()
                .all(|i| i.rank == 0 || i.rank == 1 || i.rank == 2)
        );
        assert_eq!(all[0].name, "check 000");
        let third = page_of(items, Sort::Status, 3);
        assert_eq!(third.len(), 50);
        assert!(
            third
                .windows(2)
                .all(|w| (w[0].rank, &w[0].name) <= (w[1].rank, &w[1].name))
        );
        assert_eq!(third.last().unwrap().rank, 5);
        assert!(page_of(vec![item(0, "a")], Sort::Name, 2).is_empty());
    }

    #[test]
    fn search_ignores_case_in_any_script() {
        assert!(contains_ci("Backup PostgreSQL", "postgres"));
        assert!(!contains_ci("Backup", "backups"));
        assert!(contains_ci("Ünïcode Job", "ünïcode"));
        assert!(contains_ci("x", ""));
    }

    #[test]
    fn filters_round_trip_through_the_url() {
        let mut q = HashMap::new();
        q.insert("status".to_string(), "down".to_string());
        q.insert("tag".to_string(), "db & co".to_string());
        q.insert("sort".to_string(), "name".to_string());
        q.insert("page".to_string(), "0".to_string());
        let f = Filters::from_query(&q).unwrap();
        assert_eq!(f.page, 1);
        assert_eq!(
            f.url(|f| f.page = 2),
            "/?status=down&tag=db%20%26%20co&sort=name&page=2"
        );
        q.insert("status".to_string(), "broken".to_string());
        assert!(Filters::from_query(&q).is_err());
    }
}
