//! A check's page `/checks/{uuid}` and a run's page `/checks/{uuid}/runs/{n}`.

use axum::Extension;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::Response;
use jiff::Timestamp;
use maud::{Markup, html};
use std::sync::Arc;
use std::time::Duration;
use uuid::Uuid;

use super::chart::{self, Point};
use super::history::{Run, SlotInput, quantile, runs, slots, uptime};
use super::list::slot_class;
use super::words::{absolute, encode, ms_time, schedule, seconds, time_abs, time_rel};
use super::{Ctx, csrf_field, html_response, layout, page_etag, refusal, status_badge, unchanged};
use crate::serve::app::App;
use crate::serve::check::Settings;
use crate::serve::http::guard::Viewer;
use crate::serve::schedule::Schedule;
use crate::serve::status::{State as CheckState, Status};
use crate::serve::store::{FlipEntry, NotificationEntry, PingEntry};

/// Pings read for the runs, the chart and the slots.
const HISTORY: usize = 1000;
/// Runs listed on the page (each has its own page too).
const RUNS_SHOWN: usize = 25;
/// Runs in the chart.
const CHART_RUNS: usize = 100;
/// Output shown per run in the list.
const TAIL: usize = 400;

fn not_found(ctx: &Ctx, what: &str) -> Response {
    let body = html! { h1 { "Not found" } p.notice.error { (what) } p { a href="/" { "Back to the checks" } } };
    html_response(
        StatusCode::NOT_FOUND,
        layout(ctx, Some("Not found"), false, body),
        None,
    )
}

/// The check's settings and state, cloned under one short lock.
pub(super) fn snapshot(app: &App, uuid: Uuid) -> Option<(Settings, CheckState, i64)> {
    let reg = app.registry();
    reg.checks
        .get(&uuid)
        .map(|e| (e.settings.clone(), e.state.clone(), e.created_ms))
}

fn last_chars(text: &str, n: usize) -> (bool, &str) {
    let count = text.chars().count();
    if count <= n {
        return (false, text);
    }
    let skip = text.char_indices().nth(count - n).map_or(0, |(i, _)| i);
    (true, &text[skip..])
}

/// What the page reads from the history, off the async threads.
struct Read {
    pings: Vec<PingEntry>,
    truncated: bool,
    flips: Vec<FlipEntry>,
    notifications: Vec<NotificationEntry>,
    /// The bodies of the listed runs' end pings, by `n`.
    bodies: std::collections::HashMap<i64, String>,
}

fn read_history(app: &App, uuid: Uuid) -> anyhow::Result<Read> {
    let id = uuid.to_string();
    let mut pings = app.history.ping_times(&id, HISTORY)?;
    let truncated = pings.len() == HISTORY;
    pings.reverse();
    let flips = app.history.flips(&id, 1000)?;
    let notifications = app.history.notifications(&id, 20)?;
    let mut bodies = std::collections::HashMap::new();
    for run in runs(&pings).iter().rev().take(RUNS_SHOWN) {
        if let Some(end) = &run.end
            && let Some(p) = app.history.ping(&id, end.n)?
            && let Some(body) = p.body.filter(|b| !b.is_empty())
        {
            bodies.insert(end.n, body);
        }
    }
    Ok(Read {
        pings,
        truncated,
        flips,
        notifications,
        bodies,
    })
}

pub(super) async fn page(
    State(app): State<Arc<App>>,
    Extension(viewer): Extension<Viewer>,
    Path(uuid): Path<String>,
    headers: HeaderMap,
    uri: Uri,
) -> Response {
    let etag = page_etag(&app, &viewer, &uri);
    if let Some(r) = unchanged(&headers, &etag) {
        return r;
    }
    let ctx = Ctx::new(&app, viewer, &headers);
    let Some(uuid) = Uuid::parse_str(&uuid).ok() else {
        return not_found(&ctx, &format!("No check with uuid {uuid}."));
    };
    let Some((settings, state, created_ms)) = snapshot(&app, uuid) else {
        return not_found(&ctx, &format!("No check with uuid {uuid}."));
    };
    let (ping_key, badges) = {
        let reg = app.registry();
        let mut scopes = vec![settings.slug.clone()];
        scopes.extend(settings.tags.iter().cloned());
        scopes.push("all".into());
        let badges: Vec<(String, String)> = scopes
            .into_iter()
            .filter_map(|s| reg.badge_url(&ctx.base, &s).map(|u| (s, u)))
            .collect();
        (app.options().ping_key, badges)
    };
    let app2 = app.clone();
    let rendered = tokio::task::spawn_blocking(move || {
        let read = read_history(&app2, uuid);
        let body = match read {
            Ok(read) => render(
                &ctx,
                &settings,
                &state,
                created_ms,
                &read,
                ping_key.as_deref(),
                &badges,
            ),
            Err(e) => {
                html! { p.notice.error { "The history cannot be read: " (format!("{e:#}")) } }
            }
        };
        layout(&ctx, Some(&settings.name), true, body)
    })
    .await;
    match rendered {
        Ok(markup) => html_response(StatusCode::OK, markup, Some(&etag)),
        Err(e) => refusal(StatusCode::INTERNAL_SERVER_ERROR, &e.to_string()),
    }
}

/// One sentence saying where the check stands.
fn sentence(s: &Settings, st: &CheckState, now: Timestamp) -> Markup {
    let (status, next_due, alert_at) = st.view(s, now);
    html! {
        p.sentence {
            (status_badge(status.as_str())) " "
            @match status {
                Status::Up => {
                    "The last run ended fine"
                    @if let Some(t) = st.last_ping { " " (time_rel(t, now)) }
                    "."
                    @if let Some(t) = next_due { " Next due " (time_rel(t, now)) "." }
                    @if let Some(t) = alert_at { " It goes down if nothing comes by " (time_abs(t)) "." }
                }
                Status::Late => {
                    "Late: it was due " @if let Some(t) = next_due { (time_rel(t, now)) } "."
                    @if let Some(t) = alert_at { " It goes down and alerts at " (time_abs(t)) " unless a ping comes first." }
                }
                Status::Down => {
                    @if let Some(d) = &st.down {
                        "Down since " (time_rel(d.since, now)) " (" (d.reason) ")."
                        @if d.repeats > 0 { " Reminded " (d.repeats) " times." }
                    } @else {
                        "Down: its deadline passed with no ping."
                    }
                    " A success ping brings it back up."
                }
                Status::Running => {
                    "Running: started "
                    @if let Some(r) = &st.run { (time_rel(r.start, now)) }
                    "."
                    @if let Some(t) = alert_at { " It is stuck (and goes down) if not ended by " (time_abs(t)) "." }
                }
                Status::New => { "New: no ping yet. It alerts nobody until its first ping." }
                Status::Paused => { "Paused: no alert is sent. A success or failure ping resumes it." }
            }
        }
    }
}

/// The next `n` due times: from now for a cron schedule, from the next due time for
/// an interval (which counts from each ping).
fn next_due_times(
    s: &Settings,
    next_due: Option<Timestamp>,
    now: Timestamp,
    n: usize,
) -> Vec<Timestamp> {
    let mut out = Vec::new();
    let mut t = match (&s.schedule, next_due) {
        (Schedule::Interval(_), Some(due)) => {
            out.push(due);
            due
        }
        (Schedule::Interval(_), None) => return out,
        (Schedule::Cron(_) | Schedule::OnCalendar(_), _) => now,
    };
    while out.len() < n {
        match s.schedule.next_after(t) {
            Some(next) => {
                out.push(next);
                t = next;
            }
            None => break,
        }
    }
    out
}

fn copy_button(text: &str, label: &str) -> Markup {
    html! { button.copy type="button" data-copy=(text) aria-label=(format!("Copy {label}")) hidden { "Copy" } }
}

fn uptime_text(u: Option<f64>) -> String {
    match u {
        None => "—".into(),
        Some(u) if u >= 0.99995 => "100%".into(),
        Some(u) => format!("{:.2}%", u * 100.0),
    }
}

fn outcome(run: &Run) -> Markup {
    match (&run.end, run.exit_code()) {
        (None, _) => html! { span.st.st-running { span.shape aria-hidden="true" {} "no end yet" } },
        (Some(_), Some(code)) if run.failed() => {
            html! { span.st.st-down { span.shape aria-hidden="true" {} "failed, exit code " (code) } }
        }
        (Some(_), _) if run.failed() => {
            html! { span.st.st-down { span.shape aria-hidden="true" {} "failed" } }
        }
        (Some(_), Some(code)) => {
            html! { span.st.st-up { span.shape aria-hidden="true" {} "ok, exit code " (code) } }
        }
        (Some(_), None) => html! { span.st.st-up { span.shape aria-hidden="true" {} "ok" } },
    }
}

#[allow(clippy::too_many_arguments)]
fn render(
    ctx: &Ctx,
    s: &Settings,
    st: &CheckState,
    created_ms: i64,
    read: &Read,
    ping_key: Option<&str>,
    badges: &[(String, String)],
) -> Markup {
    let now = ctx.now;
    let (status, next_due, _) = st.view(s, now);
    let all_runs = runs(&read.pings);
    let ping_url = format!("{}/api/v1/ping/{}", ctx.base, s.uuid);
    let check_url = format!("/checks/{}", s.uuid);
    let run_url = |run: &Run| format!("{check_url}/runs/{}", run.n());
    let chart_points: Vec<Point> = all_runs
        .iter()
        .filter(|r| r.end.is_some())
        .filter_map(|r| r.duration().map(|d| (r, d)))
        .rev()
        .take(CHART_RUNS)
        .collect::<Vec<_>>()
        .into_iter()
        .rev()
        .map(|(r, d)| Point {
            seconds: d,
            failed: r.failed(),
            href: run_url(r),
            label: format!(
                "{}: {}{}",
                absolute(ms_time(r.at_ms())),
                seconds(d),
                if r.failed() { ", failed" } else { "" }
            ),
        })
        .collect();
    let strip = slots(
        &SlotInput {
            schedule: &s.schedule,
            grace: s.grace(),
            pings: &read.pings,
            truncated: read.truncated,
            created: ms_time(created_ms),
            running: status == Status::Running,
            now,
        },
        20,
    );
    let durations: Vec<f64> = chart_points
        .iter()
        .filter(|p| !p.failed)
        .map(|p| p.seconds)
        .collect();
    let tz = s.schedule.tz_name().unwrap_or("UTC");
    html! {
        div.check-head data-check-tz=(tz) {
            h1 { (s.name) }
            (sentence(s, st, now))
            @if !s.description.is_empty() { p.description { (s.description) } }
            dl.facts {
                @if !s.owner.is_empty() { dt { "Owner" } dd { (s.owner) } }
                @if !s.tags.is_empty() {
                    dt { "Tags" }
                    dd { @for t in &s.tags { a.tag href=(format!("/?tag={}", encode(t))) { (t) } " " } }
                }
                @if let Some((window, until)) = s.maintenance_at(now) {
                    dt { "Maintenance" }
                    dd.maintenance { "In window " code { (window) } " until " (time_abs(until)) ": no run is expected and no down alert is sent." }
                }
                @if !s.depends_on.is_empty() {
                    dt { "Depends on" }
                    dd.depends-on { @for (i, d) in s.depends_on.iter().enumerate() { @if i > 0 { ", " } code { (d) } } }
                }
                dt { "Slug" } dd { code { (s.slug) } }
                dt { "UUID" } dd { code { (s.uuid) } }
                @if s.managed { dt { "Managed" } dd { "declared in the config file (a SIGHUP puts its values back)" } }
            }
        }
        @if ctx.full() {
            section.actions aria-label="Actions" {
                @if status == Status::Paused {
                    form.inline method="post" action=(format!("{check_url}/resume")) {
                        (csrf_field(ctx))
                        button type="submit" { "Resume" }
                    }
                } @else {
                    form.inline method="post" action=(format!("{check_url}/pause")) {
                        (csrf_field(ctx))
                        button type="submit" { "Pause" }
                    }
                }
                a.button href=(format!("{check_url}/edit")) { "Edit" }
                a.button.danger href=(format!("{check_url}/delete")) { "Delete…" }
            }
        }
        section aria-labelledby="h-uptime" {
            h2 #h-uptime { "Uptime" }
            dl.uptime {
                @for (label, d) in [("24 h", 1u64), ("7 days", 7), ("30 days", 30)] {
                    div {
                        dt { (label) }
                        dd { (uptime_text(uptime(&read.flips, now, Duration::from_secs(d * 86_400)))) }
                    }
                }
            }
            h3 { "Last 20 slots" }
            @if strip.is_empty() {
                p.muted { "No slot yet: slots start with the schedule's first due time after the first ping." }
            } @else {
                ol.slots {
                    @for sl in &strip {
                        li class=(slot_class(sl.status)) {
                            i aria-hidden="true" {}
                            (time_abs(sl.due)) " " span.word { (sl.status.as_str()) }
                        }
                    }
                }
            }
        }
        section aria-labelledby="h-chart" {
            h2 #h-chart { "Run durations" }
            @if let (Some(p50), Some(p95)) = (quantile(&durations, 0.5), quantile(&durations, 0.95)) {
                p { "Median " (seconds(p50)) ", 95th percentile " (seconds(p95)) " over " (durations.len()) " successful runs." }
            }
            (chart::render(&chart_points))
        }
        section aria-labelledby="h-runs" {
            h2 #h-runs { "Runs" }
            @if all_runs.is_empty() {
                p.muted { "No run yet." }
            } @else {
                div.scroll {
                    table.runs {
                        thead { tr { th scope="col" { "Started" } th scope="col" { "Ended" } th scope="col" { "Duration" } th scope="col" { "Outcome" } th scope="col" { "Output (end)" } } }
                        tbody {
                            @for run in all_runs.iter().rev().take(RUNS_SHOWN) {
                                tr {
                                    td { a href=(run_url(run)) {
                                        @if let Some(p) = &run.start { (time_abs(ms_time(p.at_ms))) } @else { "(no start)" }
                                    } }
                                    td { @if let Some(p) = &run.end { (time_abs(ms_time(p.at_ms))) } @else { "—" } }
                                    td { @if let Some(d) = run.duration() { (seconds(d)) } @else { "—" } }
                                    td { (outcome(run)) }
                                    td {
                                        @if let Some(body) = run.end.as_ref().and_then(|e| read.bodies.get(&e.n)) {
                                            @let (cut, tail) = last_chars(body, TAIL);
                                            pre.output { @if cut { "…" } (tail) }
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        div.grid {
            section aria-labelledby="h-ping" {
                h2 #h-ping { "Pinging it" }
                @if ctx.full() {
                    p { "Ping URL: " code.url { (ping_url) } " " (copy_button(&ping_url, "the ping URL")) }
                    @let run_snippet = format!("hb run {} -- /path/to/job.sh", s.uuid);
                    @let curl_snippet = format!("curl -fsS -m 10 --retry 5 -o /dev/null {ping_url}/start\n/path/to/job.sh\ncurl -fsS -m 10 --retry 5 -o /dev/null {ping_url}/$?");
                    p { "In a crontab line, with timing, output and retries:" }
                    pre.snippet { code { (run_snippet) } }
                    (copy_button(&run_snippet, "the hb run line"))
                    p { "With curl:" }
                    pre.snippet { code { (curl_snippet) } }
                    (copy_button(&curl_snippet, "the curl lines"))
                    @if let Some(key) = ping_key {
                        @let slug_url = format!("{}/api/v1/ping/{}/{}", ctx.base, key, s.slug);
                        p { "By slug: " code.url { (slug_url) } " " (copy_button(&slug_url, "the slug ping URL")) }
                    }
                } @else {
                    p.muted { "The ping URL and its snippets are shown to full keys only." }
                }
            }
            section aria-labelledby="h-schedule" {
                h2 #h-schedule { "Schedule" }
                p {
                    (schedule(&s.schedule))
                    @if let (Some(expr), Some(tz)) = (s.schedule.cron_expr(), s.schedule.tz_name()) {
                        " — " code { (expr) } " in " span.tzname { (tz) }
                    }
                }
                p { "Grace period " (crate::duration::format(s.grace())) "; a run may take " (crate::duration::format(s.max_runtime())) "." }
                @let dues = next_due_times(s, next_due, now, 5);
                @if dues.is_empty() {
                    p.muted { "The next due time is counted from the next ping." }
                } @else {
                    h3 { "Next due" }
                    ol.dues { @for t in dues { li { (time_abs(t)) } } }
                }
            }
        }
        div.grid {
            section aria-labelledby="h-flips" {
                h2 #h-flips { "Status changes" }
                @if read.flips.is_empty() { p.muted { "None yet." } } @else {
                    ul.flips {
                        @for f in read.flips.iter().take(20) {
                            li { (time_abs(ms_time(f.at_ms))) " " (status_badge(&f.from)) " → " (status_badge(&f.to)) " " span.muted { (f.reason) } }
                        }
                    }
                }
            }
            section aria-labelledby="h-notes" {
                h2 #h-notes { "Notifications" }
                @if read.notifications.is_empty() { p.muted { "None yet." } } @else {
                    ul.notes {
                        @for n in &read.notifications {
                            li {
                                (time_abs(ms_time(n.at_ms))) " " strong { (n.event) } " to " code { (n.channel) } ": "
                                @if n.done && n.ok { "delivered" }
                                @else if n.done { "failed" }
                                @else { "being tried" }
                                " (" (n.attempts) " attempts"
                                @if let Some(code) = n.status_code { ", status " (code) }
                                ")"
                                @if let Some(e) = &n.error { " " span.muted { (e) } }
                            }
                        }
                    }
                }
            }
        }
        section aria-labelledby="h-badges" {
            h2 #h-badges { "Badges" }
            p.muted { "Anyone with a badge's URL can see the state it shows (up, down, and late with ?states=3); the token in it is made for its scope alone." }
            table.badges {
                thead { tr { th scope="col" { "Scope" } th scope="col" { "Badge" } th scope="col" { "URLs" } } }
                tbody {
                    @for (scope, url) in badges {
                        tr {
                            td { code { (scope) } }
                            td { img src=(url) alt=(format!("badge of {scope}")); }
                            td {
                                @for ext in ["svg", "json", "shields"] {
                                    @let u = url.trim_end_matches(".svg").to_string() + "." + ext;
                                    div { code.url { (u) } " " (copy_button(&u, &format!("the {ext} badge URL"))) }
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}

pub(super) async fn run_page(
    State(app): State<Arc<App>>,
    Extension(viewer): Extension<Viewer>,
    Path((uuid, n)): Path<(String, String)>,
    headers: HeaderMap,
) -> Response {
    let ctx = Ctx::new(&app, viewer, &headers);
    let (Some(uuid), Some(n)) = (Uuid::parse_str(&uuid).ok(), n.parse::<i64>().ok()) else {
        return not_found(&ctx, "No such run.");
    };
    let Some((settings, _, _)) = snapshot(&app, uuid) else {
        return not_found(&ctx, &format!("No check with uuid {uuid}."));
    };
    let app2 = app.clone();
    let found = tokio::task::spawn_blocking(
        move || -> anyhow::Result<Option<(Option<PingEntry>, Option<PingEntry>)>> {
            let id = uuid.to_string();
            let mut pings = app2.history.ping_times(&id, HISTORY)?;
            pings.reverse();
            let Some(run) = runs(&pings).into_iter().find(|r| {
                r.end.as_ref().is_some_and(|p| p.n == n)
                    || r.start.as_ref().is_some_and(|p| p.n == n)
            }) else {
                return Ok(None);
            };
            let start = match &run.start {
                Some(p) => app2.history.ping(&id, p.n)?,
                None => None,
            };
            let end = match &run.end {
                Some(p) => app2.history.ping(&id, p.n)?,
                None => None,
            };
            Ok(Some((start, end)))
        },
    )
    .await;
    let (start, end) = match found {
        Ok(Ok(Some(pair))) => pair,
        Ok(Ok(None)) => {
            return not_found(
                &ctx,
                &format!("No run {n} of this check (its history may have been trimmed)."),
            );
        }
        Ok(Err(e)) => return refusal(StatusCode::SERVICE_UNAVAILABLE, &format!("storage: {e:#}")),
        Err(e) => return refusal(StatusCode::INTERNAL_SERVER_ERROR, &e.to_string()),
    };
    let run = Run {
        start: start.clone(),
        end: end.clone(),
    };
    let title = format!("Run {n} of {}", settings.name);
    let body = html! {
        p.crumbs { a href=(format!("/checks/{uuid}")) { (settings.name) } " › run " (n) }
        h1 { "Run " (n) }
        p { (outcome(&run)) }
        dl.facts {
            dt { "Started" } dd { @if let Some(p) = &start { (time_abs(ms_time(p.at_ms))) } @else { "no start was pinged" } }
            dt { "Ended" } dd { @if let Some(p) = &end { (time_abs(ms_time(p.at_ms))) } @else { "not yet" } }
            dt { "Duration" } dd { @if let Some(d) = run.duration() { (seconds(d)) } @else { "—" } }
            @if let Some(rid) = start.as_ref().or(end.as_ref()).and_then(|p| p.rid.clone()) { dt { "Run id" } dd { code { (rid) } } }
            @if let Some(p) = end.as_ref().or(start.as_ref()) {
                dt { "From" } dd { (p.remote_addr.clone().unwrap_or_default()) " " span.muted { (p.user_agent.clone().unwrap_or_default()) } }
                dt { "Method" } dd { (p.method) }
            }
        }
        h2 { "Output" }
        @match end.as_ref().and_then(|p| p.body.clone()).filter(|b| !b.is_empty()) {
            Some(body) => pre.output.full { (body) },
            None => p.muted { "No output was sent with the end of this run." },
        }
    };
    html_response(
        StatusCode::OK,
        layout(&ctx, Some(&title), false, body),
        None,
    )
}
