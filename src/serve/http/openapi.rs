//! The OpenAPI 3.1 document served at `GET /api/v1/openapi.json`.
//!
//! The bodies the API takes and gives are Rust types here ([`shapes`]), turned into JSON
//! Schema by utoipa's derive; the routes are listed with utoipa's builders in [`document`].
//! The handlers build their JSON by hand, so tests keep the two in step: the unit tests
//! below hold the shapes against what `Settings::to_json`, `parse_spec`, the channel kinds
//! and the history rows really produce and accept; `tests/serve_openapi.rs` requests every
//! documented path of a live `hb serve`; `.ci/schemathesis.sh` fuzzes a live server with
//! this document.

use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};
use std::sync::OnceLock;
use utoipa::ToSchema;
use utoipa::openapi::extensions::Extensions;
use utoipa::openapi::header::HeaderBuilder;
use utoipa::openapi::link::LinkBuilder;
use utoipa::openapi::path::{
    HttpMethod, Operation, OperationBuilder, Parameter, ParameterBuilder, ParameterIn, PathItem,
    PathItemBuilder,
};
use utoipa::openapi::request_body::RequestBodyBuilder;
use utoipa::openapi::response::ResponseBuilder;
use utoipa::openapi::schema::{AdditionalProperties, AnyOfBuilder, ObjectBuilder, Type};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityRequirement, SecurityScheme};
use utoipa::openapi::tag::TagBuilder;
use utoipa::openapi::{
    ComponentsBuilder, ContentBuilder, InfoBuilder, OpenApi, OpenApiBuilder, PathsBuilder, Ref,
    RefOr, Required, Schema,
};

use shapes::*;

/// `GET /api/v1/openapi.json`: the document, open without a key.
pub async fn serve_openapi() -> Response {
    static BODY: OnceLock<String> = OnceLock::new();
    let body = BODY.get_or_init(|| document().to_string());
    (
        StatusCode::OK,
        [(header::CONTENT_TYPE, "application/json")],
        body.as_str(),
    )
        .into_response()
}

/// The whole document as JSON.
pub fn document() -> Value {
    serde_json::to_value(openapi()).expect("an OpenAPI document serializes")
}

/// Two schedules a check may not have at once.
const SCHEDULE_PAIRS: [[&str; 2]; 3] = [
    ["interval", "cron"],
    ["interval", "oncalendar"],
    ["cron", "oncalendar"],
];

/// Longest duration the API takes: 3650 days, in seconds.
pub const MAX_DURATION_SECONDS: u64 = 3650 * 86_400;

/// The request and response bodies, as types. They are never built: the handlers write
/// the same JSON by hand, and the tests below check that the two agree.
#[allow(dead_code)]
pub mod shapes {
    use serde::Deserialize;
    use std::borrow::Cow;
    use std::collections::BTreeMap;
    use utoipa::openapi::schema::{ObjectBuilder, OneOfBuilder, Type};
    use utoipa::openapi::{RefOr, Schema};
    use utoipa::{PartialSchema, ToSchema};

    use super::MAX_DURATION_SECONDS;

    /// `{"error": "<the field, what is wrong, what is accepted>"}`: every management
    /// error, 405 included.
    #[derive(Deserialize, ToSchema)]
    #[serde(deny_unknown_fields)]
    pub struct Error {
        pub error: String,
    }

    /// What `POST /api/v1/config/plan` says loading a config file would do.
    #[derive(Deserialize, ToSchema)]
    #[serde(deny_unknown_fields)]
    pub struct ConfigPlan {
        /// Checks and channels the file would make.
        pub create: Vec<PlanEntry>,
        /// Those it would change (each with its `changes`).
        pub change: Vec<PlanEntry>,
        /// Those the file no longer declares: kept, `managed` false.
        pub unmanage: Vec<PlanEntry>,
        /// What the monitor would refuse to load, one sentence each.
        pub problems: Vec<String>,
    }

    /// One check or channel in a plan.
    #[derive(Deserialize, ToSchema)]
    #[serde(deny_unknown_fields)]
    pub struct PlanEntry {
        #[serde(rename = "type")]
        pub entry_type: PlanEntryType,
        pub name: String,
        /// A check's uuid (of a new check only when the file fixes it).
        #[schema(format = "uuid")]
        pub uuid: Option<String>,
        /// A channel's kind.
        pub kind: Option<String>,
        /// For a change: each changed setting, `{"from", "to"}` (secrets masked).
        pub changes: Option<std::collections::BTreeMap<String, PlanChange>>,
    }

    #[derive(Deserialize, ToSchema)]
    #[serde(rename_all = "lowercase")]
    pub enum PlanEntryType {
        Check,
        Channel,
        Window,
    }

    /// A setting's value before and after (`null`: not set).
    #[derive(Deserialize, ToSchema)]
    #[serde(deny_unknown_fields)]
    pub struct PlanChange {
        pub from: serde_json::Value,
        pub to: serde_json::Value,
    }

    /// `/healthz`: `ok`, or what is wrong.
    #[derive(Deserialize, ToSchema)]
    pub struct Health {
        #[schema(examples("ok"))]
        pub status: String,
    }

    /// A check's displayed status.
    #[derive(Deserialize, ToSchema)]
    #[serde(rename_all = "lowercase")]
    pub enum Status {
        New,
        Up,
        Late,
        Down,
        Running,
        Paused,
    }

    /// What a ping reported.
    #[derive(Deserialize, ToSchema)]
    #[serde(rename_all = "lowercase")]
    pub enum PingKind {
        Success,
        Fail,
        Start,
        Log,
    }

    /// An alert's event.
    #[derive(Deserialize, ToSchema)]
    #[serde(rename_all = "snake_case")]
    pub enum AlertEvent {
        Down,
        Up,
        Slow,
        TooFast,
        Test,
    }

    /// A duration: text such as `"90m"` or `"1h30m"` (units `w`, `d`, `h`, `m`, `s`,
    /// `ms`, each at most once, largest first), or a whole number of seconds; at least
    /// 1s, at most 3650d.
    #[derive(Deserialize)]
    #[serde(untagged)]
    pub enum Duration {
        Text(String),
        Seconds(u64),
    }

    /// Text like `1h30m`, or a whole number of seconds from `least` to 3650d.
    fn duration_schema(description: &str, example: &str, least: u64) -> RefOr<Schema> {
        OneOfBuilder::new()
            .description(Some(description))
            .item(
                ObjectBuilder::new()
                    .schema_type(Type::String)
                    .pattern(Some(r"^\s*([0-9]+[a-z]+\s*)+$"))
                    .examples([example]),
            )
            .item(
                ObjectBuilder::new()
                    .schema_type(Type::Integer)
                    .minimum(Some(least))
                    .maximum(Some(MAX_DURATION_SECONDS)),
            )
            .into()
    }

    impl PartialSchema for Duration {
        fn schema() -> RefOr<Schema> {
            duration_schema(
                "A duration: text such as \"90m\" or \"1h30m\" (units w, d, h, m, s, ms, \
                 each at most once, largest first), or a whole number of seconds; \
                 at least 1s, at most 3650d.",
                "1h30m",
                1,
            )
        }
    }

    impl ToSchema for Duration {
        fn name() -> Cow<'static, str> {
            Cow::Borrowed("Duration")
        }
    }

    /// A duration that may be zero (`slow_min`: `"0s"` or `0` turns the floor off).
    #[derive(Deserialize)]
    #[serde(untagged)]
    pub enum DurationOrZero {
        Text(String),
        Seconds(u64),
    }

    impl PartialSchema for DurationOrZero {
        fn schema() -> RefOr<Schema> {
            duration_schema(
                "A duration as for Duration, where 0s (or 0) is accepted too; at most 3650d.",
                "1s",
                0,
            )
        }
    }

    impl ToSchema for DurationOrZero {
        fn name() -> Cow<'static, str> {
            Cow::Borrowed("DurationOrZero")
        }
    }

    /// systemd calendar events (`OnCalendar=`, systemd.time(7)): one string, one
    /// expression a line, or a list of them; due at any of them.
    #[derive(Deserialize)]
    #[serde(untagged)]
    pub enum Calendar {
        One(String),
        Many(Vec<String>),
    }

    impl PartialSchema for Calendar {
        fn schema() -> RefOr<Schema> {
            OneOfBuilder::new()
                .description(Some(
                    "systemd calendar events (OnCalendar=, systemd.time(7)): one string, one \
                     expression a line, or a list of strings; due at any of them.",
                ))
                .item(
                    ObjectBuilder::new()
                        .schema_type(Type::String)
                        .min_length(Some(1))
                        .examples(["Mon..Fri *-*-* 02:00:00"]),
                )
                .item(
                    utoipa::openapi::schema::ArrayBuilder::new()
                        .items(ObjectBuilder::new().schema_type(Type::String))
                        .min_items(Some(1))
                        .max_items(Some(50)),
                )
                .into()
        }
    }

    impl ToSchema for Calendar {
        fn name() -> Cow<'static, str> {
            Cow::Borrowed("Calendar")
        }
    }

    /// One escalation step of a check, as shown.
    #[derive(Deserialize, ToSchema)]
    pub struct EscalationStep {
        #[schema(examples("30m"))]
        pub after: String,
        pub channels: Vec<String>,
    }

    /// One escalation step, as given.
    #[derive(Deserialize, ToSchema)]
    #[serde(deny_unknown_fields)]
    pub struct EscalationInput {
        pub after: Duration,
        pub channels: Vec<String>,
    }

    /// A check (the API calls it a heartbeat). Times are RFC 3339 in UTC, durations
    /// canonical text, `last_duration`, `median_duration` and `slow_threshold` seconds;
    /// unknown values are null.
    #[derive(Deserialize, ToSchema)]
    pub struct Check {
        #[schema(format = "uuid")]
        pub uuid: String,
        pub name: String,
        pub slug: String,
        pub description: String,
        pub owner: String,
        pub tags: Vec<String>,
        /// The interval (canonical text), or null for another schedule.
        #[schema(required = true)]
        pub interval: Option<String>,
        /// The cron line, or null for another schedule.
        #[schema(required = true)]
        pub cron: Option<String>,
        /// The calendar events as given, or null for another schedule.
        #[schema(required = true)]
        pub oncalendar: Option<Calendar>,
        /// The cron's or calendar's time zone (IANA name), or null for an interval.
        #[schema(required = true)]
        pub tz: Option<String>,
        /// The effective grace period, also when it was defaulted.
        pub grace_period: String,
        /// The effective longest run.
        pub max_runtime: String,
        /// The channels alerted; null: every channel; `[]`: none.
        #[schema(required = true)]
        pub channels: Option<Vec<String>>,
        #[schema(required = true)]
        pub realert: Option<String>,
        pub escalation: Vec<EscalationStep>,
        #[schema(required = true, minimum = 1)]
        pub alert_after_failures: Option<u32>,
        pub slow_factor: f64,
        pub slow: bool,
        /// The floor of `slow`: a run is slow only when also over this.
        pub slow_min: String,
        #[schema(required = true)]
        pub min_duration: Option<String>,
        /// A paused check stays paused whatever pings arrive; only `resume` ends it.
        pub manual_resume: bool,
        /// The checks (by name) this one depends on: while one is down, its `down`
        /// alert waits.
        pub depends_on: Vec<String>,
        /// The maintenance window active now, or null.
        #[schema(required = true)]
        pub maintenance: Option<ActiveMaintenance>,
        pub status: Status,
        /// The last success or failure ping.
        #[schema(required = true, format = DateTime)]
        pub last_ping: Option<String>,
        /// The start of the open run.
        #[schema(required = true, format = DateTime)]
        pub last_start: Option<String>,
        #[schema(required = true, format = DateTime)]
        pub next_due: Option<String>,
        #[schema(required = true, format = DateTime)]
        pub alert_at: Option<String>,
        /// Seconds.
        #[schema(required = true)]
        pub last_duration: Option<f64>,
        /// Seconds, over the last successful runs.
        #[schema(required = true)]
        pub median_duration: Option<f64>,
        /// Seconds: a run over this is `slow`.
        #[schema(required = true)]
        pub slow_threshold: Option<f64>,
        /// Failures in a row.
        pub failures: u32,
        pub n_pings: u64,
        /// Where the check's pings go; absent for a read key.
        #[serde(default)]
        #[schema(value_type = String, format = "uri")]
        pub ping_url: Option<String>,
        /// The check's SVG badge (`.json` and `.shields` beside it); the token in it
        /// is the secret of this badge alone. Null only where the monitor keeps no secret.
        #[schema(required = true, format = "uri")]
        pub badge_url: Option<String>,
        /// Declared in the config file.
        pub managed: bool,
    }

    /// The maintenance window a check is in: its name and when the maintenance ends.
    #[derive(Deserialize, ToSchema)]
    #[serde(deny_unknown_fields)]
    pub struct ActiveMaintenance {
        pub name: String,
        #[schema(format = DateTime)]
        pub until: String,
    }

    /// A new check. Give one schedule: `interval`, `cron` or `oncalendar` (with `tz`).
    /// `null` is the same as leaving a field out.
    #[derive(Deserialize, ToSchema)]
    #[serde(deny_unknown_fields)]
    #[schema(examples(json!({"name": "Backup PostgreSQL", "interval": "24h", "grace_period": "1h", "tags": ["db"]})))]
    pub struct CheckCreate {
        /// Unique; the slug is made from it and must be unique too (409 otherwise).
        #[schema(
            min_length = 1,
            max_length = 200,
            pattern = "[A-Za-z0-9]",
            examples("Backup PostgreSQL")
        )]
        pub name: String,
        /// A random v4 UUID when left out.
        #[schema(format = "uuid")]
        pub uuid: Option<String>,
        #[schema(examples("nightly dump"))]
        pub description: Option<String>,
        #[schema(examples("ops"))]
        pub owner: Option<String>,
        #[schema(examples(json!(["db"])))]
        pub tags: Option<Vec<Tag>>,
        pub interval: Option<Duration>,
        /// A crontab line: 5 fields (Vixie syntax, `L`, `#`) or an `@daily`-style nickname.
        #[schema(min_length = 1, examples("0 3 * * *"))]
        pub cron: Option<String>,
        /// systemd calendar events, as `OnCalendar=` takes them.
        pub oncalendar: Option<Calendar>,
        /// The schedule's IANA time zone; default UTC. Cron and oncalendar schedules only.
        #[schema(examples("Europe/Paris"))]
        pub tz: Option<String>,
        pub grace_period: Option<Duration>,
        pub max_runtime: Option<Duration>,
        /// Channel names; left out: every channel; `[]`: none.
        pub channels: Option<Vec<ChannelName>>,
        pub realert: Option<Duration>,
        pub escalation: Option<Vec<EscalationInput>>,
        #[schema(minimum = 1, maximum = 1000, examples(2))]
        pub alert_after_failures: Option<u32>,
        #[schema(exclusive_minimum = 1, maximum = 1000, examples(3.0))]
        pub slow_factor: Option<f64>,
        pub slow: Option<bool>,
        /// A run is `slow` only when it is also over this (default 1s; 0s turns it off).
        pub slow_min: Option<DurationOrZero>,
        pub min_duration: Option<Duration>,
        /// A paused check stays paused whatever pings arrive (default false).
        pub manual_resume: Option<bool>,
        /// Names of checks this one depends on (400 for an unknown name or a cycle).
        #[schema(max_items = 50)]
        pub depends_on: Option<Vec<CheckName>>,
    }

    /// Changes to a check: each field given replaces the current value (`null` unsets
    /// it); a schedule (`interval`, `cron`, `oncalendar`) replaces the one before; two is
    /// 400. The
    /// `uuid` cannot change (400 unless it is the check's own).
    #[derive(Deserialize, ToSchema)]
    #[serde(deny_unknown_fields)]
    #[schema(examples(json!({"grace_period": "2h", "description": "nightly dump"})))]
    pub struct CheckPatch {
        #[serde(default)]
        #[schema(
            min_length = 1,
            max_length = 200,
            pattern = "[A-Za-z0-9]",
            examples("Backup PostgreSQL")
        )]
        pub name: String,
        #[schema(examples("nightly dump"))]
        pub description: Option<String>,
        #[schema(examples("ops"))]
        pub owner: Option<String>,
        #[schema(examples(json!(["db"])))]
        pub tags: Option<Vec<Tag>>,
        pub interval: Option<Duration>,
        #[schema(min_length = 1, examples("0 3 * * *"))]
        pub cron: Option<String>,
        pub oncalendar: Option<Calendar>,
        #[schema(examples("Europe/Paris"))]
        pub tz: Option<String>,
        pub grace_period: Option<Duration>,
        pub max_runtime: Option<Duration>,
        pub channels: Option<Vec<ChannelName>>,
        pub realert: Option<Duration>,
        pub escalation: Option<Vec<EscalationInput>>,
        #[schema(minimum = 1, maximum = 1000, examples(2))]
        pub alert_after_failures: Option<u32>,
        #[schema(exclusive_minimum = 1, maximum = 1000, examples(3.0))]
        pub slow_factor: Option<f64>,
        pub slow: Option<bool>,
        /// A run is `slow` only when it is also over this (default 1s; 0s turns it off).
        pub slow_min: Option<DurationOrZero>,
        pub min_duration: Option<Duration>,
        /// A paused check stays paused whatever pings arrive (default false).
        pub manual_resume: Option<bool>,
        /// Names of checks this one depends on (400 for an unknown name or a cycle).
        #[schema(max_items = 50)]
        pub depends_on: Option<Vec<CheckName>>,
    }

    /// A check's name, as `depends_on` and a window's `checks` give it.
    #[derive(Deserialize, ToSchema)]
    #[schema(min_length = 1, max_length = 200)]
    pub struct CheckName(pub String);

    /// A maintenance window as shown: one-off (`start`, `end`) or recurring (`cron` or
    /// `oncalendar`, `duration`, `tz`); the others are null.
    #[derive(Deserialize, ToSchema)]
    #[serde(deny_unknown_fields)]
    pub struct Window {
        pub name: String,
        pub checks: Vec<String>,
        pub tags: Vec<String>,
        #[schema(required = true, format = DateTime)]
        pub start: Option<String>,
        #[schema(required = true, format = DateTime)]
        pub end: Option<String>,
        #[schema(required = true)]
        pub cron: Option<String>,
        #[schema(required = true)]
        pub oncalendar: Option<Calendar>,
        /// How long each occurrence lasts (canonical text).
        #[schema(required = true)]
        pub duration: Option<String>,
        #[schema(required = true)]
        pub tz: Option<String>,
        /// The end of the occurrence active now, or null.
        #[schema(required = true, format = DateTime)]
        pub until: Option<String>,
        /// Declared in the config file.
        pub managed: bool,
    }

    /// `{"maintenance": [...]}`.
    #[derive(Deserialize, ToSchema)]
    pub struct WindowList {
        pub maintenance: Vec<Window>,
    }

    /// A new maintenance window: `name`, `checks` and/or `tags`, and either `start` +
    /// `end`, or `cron` or `oncalendar` + `duration` (+ `tz`). Checks and tags must
    /// exist (400). `managed` is ignored.
    #[derive(Deserialize, ToSchema)]
    #[serde(deny_unknown_fields)]
    #[schema(examples(json!({"name": "nightly-upgrade", "tags": ["db"], "cron": "0 2 * * *", "duration": "1h", "tz": "Europe/Paris"})))]
    pub struct WindowCreate {
        pub name: ChannelName,
        pub managed: Option<serde_json::Value>,
        #[schema(max_items = 1000)]
        pub checks: Option<Vec<CheckName>>,
        #[schema(max_items = 1000)]
        pub tags: Option<Vec<Tag>>,
        /// RFC 3339.
        #[schema(format = DateTime)]
        pub start: Option<String>,
        /// RFC 3339, after `start`.
        #[schema(format = DateTime)]
        pub end: Option<String>,
        #[schema(min_length = 1, examples("0 2 * * *"))]
        pub cron: Option<String>,
        pub oncalendar: Option<Calendar>,
        /// How long each occurrence lasts; at most the time between two starts.
        pub duration: Option<Duration>,
        #[schema(examples("Europe/Paris"))]
        pub tz: Option<String>,
    }

    /// Changes to a window: each field given replaces the current one, `null` removes
    /// it; `start`/`end` replace a recurring schedule, `cron`/`oncalendar` a one-off
    /// time. The name cannot change.
    #[derive(Deserialize, ToSchema)]
    #[serde(deny_unknown_fields)]
    #[schema(examples(json!({"duration": "2h"})))]
    pub struct WindowPatch {
        pub name: Option<ChannelName>,
        pub managed: Option<serde_json::Value>,
        #[schema(max_items = 1000)]
        pub checks: Option<Vec<CheckName>>,
        #[schema(max_items = 1000)]
        pub tags: Option<Vec<Tag>>,
        #[schema(format = DateTime)]
        pub start: Option<String>,
        #[schema(format = DateTime)]
        pub end: Option<String>,
        #[schema(min_length = 1, examples("0 2 * * *"))]
        pub cron: Option<String>,
        pub oncalendar: Option<Calendar>,
        pub duration: Option<Duration>,
        pub tz: Option<String>,
    }

    /// A tag: a non-empty string.
    #[derive(Deserialize, ToSchema)]
    #[schema(min_length = 1)]
    pub struct Tag(pub String);

    /// A channel's name: letters, digits, `-` and `_`, at most 64.
    #[derive(Deserialize, ToSchema)]
    #[schema(pattern = "^[A-Za-z0-9_-]{1,64}$")]
    pub struct ChannelName(pub String);

    /// `{"heartbeats": [...]}`.
    #[derive(Deserialize, ToSchema)]
    pub struct CheckList {
        pub heartbeats: Vec<Check>,
    }

    /// One ping, as recorded.
    #[derive(Deserialize, ToSchema)]
    pub struct Ping {
        /// The check's ping number, from 1.
        pub n: u64,
        #[schema(format = DateTime)]
        pub at: String,
        pub kind: PingKind,
        /// The exit code of `/{0..255}`.
        #[schema(required = true, minimum = 0, maximum = 255)]
        pub exit_code: Option<u8>,
        #[schema(required = true, format = "uuid")]
        pub rid: Option<String>,
        #[schema(required = true)]
        pub remote_addr: Option<String>,
        #[schema(required = true)]
        pub user_agent: Option<String>,
        /// `GET`, `HEAD` or `POST`.
        pub method: String,
        /// The body, up to 100 KiB.
        #[schema(required = true)]
        pub body: Option<String>,
        /// Seconds, for the end of a run.
        #[schema(required = true)]
        pub duration: Option<f64>,
    }

    /// `{"pings": [...]}`, newest first.
    #[derive(Deserialize, ToSchema)]
    pub struct PingList {
        pub pings: Vec<Ping>,
    }

    /// A status change.
    #[derive(Deserialize, ToSchema)]
    pub struct Flip {
        #[schema(format = DateTime)]
        pub at: String,
        pub from: Status,
        pub to: Status,
        /// Why: `missed`, `stuck`, `failed`, `exit code N`, ...
        pub reason: String,
    }

    /// `{"flips": [...]}`, newest first.
    #[derive(Deserialize, ToSchema)]
    pub struct FlipList {
        pub flips: Vec<Flip>,
    }

    /// How a slot went (§6).
    #[derive(Deserialize, ToSchema)]
    #[serde(rename_all = "lowercase")]
    pub enum SlotStatus {
        Ok,
        Failed,
        Running,
        Missed,
        Pending,
        Maintenance,
    }

    /// One due time of a check and how it went.
    #[derive(Deserialize, ToSchema)]
    #[serde(deny_unknown_fields)]
    pub struct Slot {
        #[schema(format = DateTime)]
        pub due: String,
        pub status: SlotStatus,
        /// The `n` of the run's end ping.
        #[schema(required = true, minimum = 1)]
        pub ping: Option<i64>,
    }

    /// `{"slots": [...]}`, oldest first.
    #[derive(Deserialize, ToSchema)]
    #[serde(deny_unknown_fields)]
    pub struct SlotList {
        pub slots: Vec<Slot>,
    }

    /// One alert to one channel and how its delivery went.
    #[derive(Deserialize, ToSchema)]
    pub struct Notification {
        #[schema(format = "uuid")]
        pub event_id: String,
        pub event: AlertEvent,
        pub channel: String,
        /// The last attempt, or when the alert was queued.
        #[schema(format = DateTime)]
        pub at: String,
        pub attempts: u32,
        /// null while delivery is still being tried.
        #[schema(required = true)]
        pub ok: Option<bool>,
        /// The receiver's HTTP status (or SMTP reply code).
        #[schema(required = true)]
        pub status_code: Option<u16>,
        #[schema(required = true)]
        pub error: Option<String>,
        /// Held back and sent to nobody: why (`dependency <name> down`,
        /// `maintenance <name>`); null for an alert that was sent.
        #[schema(required = true)]
        pub suppressed: Option<String>,
    }

    /// `{"notifications": [...]}`, newest first.
    #[derive(Deserialize, ToSchema)]
    pub struct NotificationList {
        pub notifications: Vec<Notification>,
    }

    /// The answer of a channel test: the delivery result, never the receiver's body.
    #[derive(Deserialize, ToSchema)]
    pub struct TestDelivery {
        pub channel: String,
        /// Always `test`.
        pub event: AlertEvent,
        #[schema(format = "uuid")]
        pub event_id: String,
        pub ok: bool,
        #[schema(required = true)]
        pub status_code: Option<u16>,
        #[schema(required = true)]
        pub error: Option<String>,
    }

    /// `{"channels": [...]}`.
    #[derive(Deserialize, ToSchema)]
    pub struct ChannelList {
        pub channels: Vec<Channel>,
    }

    /// A chat id: a number, or `@channelname`.
    #[derive(Deserialize, ToSchema)]
    #[serde(untagged)]
    pub enum ChatId {
        Text(String),
        Number(i64),
    }

    /// ntfy's priority: 1 to 5, or min, low, default, high, max.
    #[derive(Deserialize, ToSchema)]
    #[serde(untagged)]
    pub enum Priority {
        Name(String),
        Number(u8),
    }

    /// One address or a list of them.
    #[derive(Deserialize, ToSchema)]
    #[serde(untagged)]
    pub enum Addresses {
        One(String),
        Many(Vec<String>),
    }

    /// A notification channel as shown: its kind's settings, secrets masked.
    #[derive(Deserialize, ToSchema)]
    #[serde(tag = "kind", rename_all = "lowercase")]
    pub enum Channel {
        Webhook {
            name: String,
            managed: bool,
            url: String,
            method: String,
            #[serde(default)]
            headers: BTreeMap<String, String>,
            #[serde(default)]
            #[schema(value_type = String)]
            body: Option<String>,
        },
        Slack {
            name: String,
            managed: bool,
            url: String,
        },
        Discord {
            name: String,
            managed: bool,
            url: String,
        },
        Msteams {
            name: String,
            managed: bool,
            url: String,
        },
        Ntfy {
            name: String,
            managed: bool,
            server: String,
            topic: String,
            #[serde(default)]
            #[schema(value_type = u8, minimum = 1, maximum = 5)]
            priority: Option<u8>,
            #[serde(default)]
            #[schema(value_type = String)]
            token: Option<String>,
        },
        Telegram {
            name: String,
            managed: bool,
            bot_token: String,
            chat_id: String,
            api_url: String,
        },
        Gotify {
            name: String,
            managed: bool,
            server: String,
            token: String,
        },
        Pushover {
            name: String,
            managed: bool,
            user_key: String,
            app_token: String,
            api_url: String,
        },
        Pagerduty {
            name: String,
            managed: bool,
            routing_key: String,
            api_url: String,
        },
        Email {
            name: String,
            managed: bool,
            smtp: String,
            from: String,
            to: Vec<String>,
        },
        Command {
            name: String,
            managed: bool,
            argv: Vec<String>,
            #[serde(default)]
            #[schema(value_type = String)]
            timeout: Option<String>,
        },
    }

    /// A new channel: `name`, `kind` and the kind's settings. Optional settings may be
    /// `null` (the same as leaving them out). `managed` is ignored.
    #[derive(Deserialize, ToSchema)]
    #[serde(tag = "kind", rename_all = "lowercase", deny_unknown_fields)]
    #[schema(examples(json!({"name": "ops", "kind": "webhook", "url": "https://hooks.example.com/hb"})))]
    pub enum ChannelCreate {
        Webhook {
            name: ChannelName,
            managed: Option<serde_json::Value>,
            /// An http(s) URL; `$NAME`, `$UUID`, ... are filled in.
            #[schema(min_length = 1)]
            url: String,
            /// GET, POST (default), PUT, PATCH or DELETE.
            #[schema(min_length = 1)]
            method: Option<String>,
            headers: Option<BTreeMap<String, String>>,
            body: Option<String>,
        },
        Slack {
            name: ChannelName,
            managed: Option<serde_json::Value>,
            #[schema(min_length = 1)]
            url: String,
        },
        Discord {
            name: ChannelName,
            managed: Option<serde_json::Value>,
            #[schema(min_length = 1)]
            url: String,
        },
        Msteams {
            name: ChannelName,
            managed: Option<serde_json::Value>,
            #[schema(min_length = 1)]
            url: String,
        },
        Ntfy {
            name: ChannelName,
            managed: Option<serde_json::Value>,
            #[schema(min_length = 1)]
            server: Option<String>,
            #[schema(pattern = "^[A-Za-z0-9_-]{1,64}$")]
            topic: String,
            priority: Option<Priority>,
            #[schema(min_length = 1)]
            token: Option<String>,
        },
        Telegram {
            name: ChannelName,
            managed: Option<serde_json::Value>,
            #[schema(min_length = 1)]
            bot_token: String,
            chat_id: ChatId,
            #[schema(min_length = 1)]
            api_url: Option<String>,
        },
        Gotify {
            name: ChannelName,
            managed: Option<serde_json::Value>,
            #[schema(min_length = 1)]
            server: String,
            #[schema(min_length = 1)]
            token: String,
        },
        Pushover {
            name: ChannelName,
            managed: Option<serde_json::Value>,
            #[schema(min_length = 1)]
            user_key: String,
            #[schema(min_length = 1)]
            app_token: String,
            #[schema(min_length = 1)]
            api_url: Option<String>,
        },
        Pagerduty {
            name: ChannelName,
            managed: Option<serde_json::Value>,
            #[schema(min_length = 1)]
            routing_key: String,
            #[schema(min_length = 1)]
            api_url: Option<String>,
        },
        Email {
            name: ChannelName,
            managed: Option<serde_json::Value>,
            /// `smtp://user:pass@host:587?tls=required`, `smtps://host:465` or `smtp://host:25`.
            #[schema(min_length = 1)]
            smtp: String,
            #[schema(min_length = 1)]
            from: String,
            to: Addresses,
        },
        Command {
            name: ChannelName,
            managed: Option<serde_json::Value>,
            argv: Vec<String>,
            timeout: Option<Duration>,
        },
    }
}

/// The settings any channel kind may have, for a PATCH: the merged result must be a
/// valid channel of its kind (a new `kind` starts from no settings).
fn channel_patch_schema() -> Schema {
    let text = || {
        ObjectBuilder::new()
            .schema_type(Type::String)
            .min_length(Some(1))
    };
    let nullable = |schema: RefOr<Schema>| -> RefOr<Schema> {
        AnyOfBuilder::new()
            .item(schema)
            .item(ObjectBuilder::new().schema_type(Type::Null))
            .into()
    };
    let string_map = ObjectBuilder::new()
        .schema_type(Type::Object)
        .additional_properties(Some(ObjectBuilder::new().schema_type(Type::String)));
    let mut object = ObjectBuilder::new()
        .schema_type(Type::Object)
        .description(Some(
            "Changes to a channel: each setting given replaces the current one, `null` \
             removes it; the result must be a valid channel of its kind (a new `kind` \
             starts from no settings). The name cannot change.",
        ))
        .examples([json!({"url": "https://hooks.example.com/hb2"})])
        .additional_properties(Some(AdditionalProperties::FreeForm(false)))
        .property("name", Ref::from_schema_name("ChannelName"))
        .property(
            "kind",
            ObjectBuilder::new()
                .schema_type(Type::String)
                .enum_values(Some(crate::serve::notify::KIND_NAMES)),
        )
        .property("managed", Schema::default());
    for key in [
        "url",
        "method",
        "body",
        "server",
        "topic",
        "token",
        "bot_token",
        "api_url",
        "user_key",
        "app_token",
        "routing_key",
        "smtp",
        "from",
    ] {
        object = object.property(key, nullable(text().into()));
    }
    object
        .property("headers", nullable(string_map.into()))
        .property(
            "priority",
            nullable(Ref::from_schema_name("Priority").into()),
        )
        .property("chat_id", nullable(Ref::from_schema_name("ChatId").into()))
        .property("to", nullable(Ref::from_schema_name("Addresses").into()))
        .property(
            "argv",
            nullable(
                utoipa::openapi::schema::ArrayBuilder::new()
                    .items(ObjectBuilder::new().schema_type(Type::String))
                    .into(),
            ),
        )
        .property(
            "timeout",
            nullable(Ref::from_schema_name("Duration").into()),
        )
        .into()
}

// Responses shared by many operations, by status.
const BAD_REQUEST: &str = "BadRequest";
const UNAUTHORIZED: &str = "Unauthorized";
const FORBIDDEN: &str = "Forbidden";
const NOT_FOUND: &str = "NotFound";
const CONFLICT: &str = "Conflict";
const UNSUPPORTED: &str = "UnsupportedMediaType";
const MISDIRECTED: &str = "MisdirectedRequest";
const UNAVAILABLE: &str = "Unavailable";
const PING_OK: &str = "PingOk";
const PING_CREATED: &str = "PingCreated";
const PING_BAD: &str = "PingBadRequest";
const PING_NOT_FOUND: &str = "PingNotFound";
const PING_UNAVAILABLE: &str = "PingUnavailable";

const JSON: &str = "application/json";
const TEXT: &str = "text/plain";
const TOML: &str = "application/toml";

fn schema_ref(name: &str) -> RefOr<Schema> {
    Ref::from_schema_name(name).into()
}

fn json_answer(description: &str, schema: &str) -> ResponseBuilder {
    ResponseBuilder::new().description(description).content(
        JSON,
        ContentBuilder::new()
            .schema(Some(schema_ref(schema)))
            .build(),
    )
}

fn error_answer(description: &str) -> utoipa::openapi::Response {
    json_answer(description, "Error").build()
}

fn text_answer(description: &str, example: &str) -> ResponseBuilder {
    ResponseBuilder::new().description(description).content(
        TEXT,
        ContentBuilder::new()
            .schema(Some(ObjectBuilder::new().schema_type(Type::String)))
            .example(Some(json!(example)))
            .build(),
    )
}

/// A path parameter.
fn path_param(name: &str, description: &str, schema: impl Into<RefOr<Schema>>) -> Parameter {
    ParameterBuilder::new()
        .name(name)
        .parameter_in(ParameterIn::Path)
        .required(Required::True)
        .description(Some(description))
        .schema(Some(schema))
        .build()
}

fn uuid_schema() -> ObjectBuilder {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .format(Some(utoipa::openapi::SchemaFormat::Custom("uuid".into())))
}

fn check_uuid() -> Parameter {
    path_param("uuid", "The check's UUID.", uuid_schema())
}

fn channel_name() -> Parameter {
    path_param("name", "The channel's name.", schema_ref("ChannelName"))
}

/// A management operation: a bearer key when keys are configured, the answers every
/// such route can give, and those named by status.
fn management(id: &str, tag: &str, summary: &str, errors: &[&str]) -> OperationBuilder {
    let mut op = OperationBuilder::new()
        .operation_id(Some(id))
        .tag(tag)
        .summary(Some(summary))
        .security(SecurityRequirement::new::<_, [&str; 0], &str>("bearer", []));
    for (code, name) in [
        ("400", BAD_REQUEST),
        ("401", UNAUTHORIZED),
        ("403", FORBIDDEN),
        ("404", NOT_FOUND),
        ("409", CONFLICT),
        ("415", UNSUPPORTED),
        ("421", MISDIRECTED),
        ("503", UNAVAILABLE),
    ] {
        if [UNAUTHORIZED, FORBIDDEN, MISDIRECTED].contains(&name) || errors.contains(&name) {
            op = op.response(code, Ref::from_response_name(name));
        }
    }
    op
}

fn json_body(schema: &str) -> Option<utoipa::openapi::request_body::RequestBody> {
    Some(
        RequestBodyBuilder::new()
            .required(Some(Required::True))
            .content(
                JSON,
                ContentBuilder::new()
                    .schema(Some(schema_ref(schema)))
                    .build(),
            )
            .build(),
    )
}

/// Links from a created check to the operations on it, pings included (schemathesis
/// follows them in its stateful phase).
fn check_links(response: ResponseBuilder) -> ResponseBuilder {
    let by_uuid = [
        "getCheck",
        "updateCheck",
        "deleteCheck",
        "pauseCheck",
        "resumeCheck",
        "listCheckPings",
        "listCheckFlips",
        "listCheckNotifications",
        "listCheckSlots",
        "pingGet",
        "pingHead",
        "pingPost",
        "hcPingGet",
        "hcPingHead",
        "hcPingPost",
    ];
    let mut response = by_uuid.into_iter().fold(response, |response, id| {
        response.link(
            id,
            LinkBuilder::new()
                .operation_id(id)
                .parameter("uuid", "$response.body#/uuid")
                .build(),
        )
    });
    for (name, id, signal) in [
        ("pingStart", "pingSignalGet", "start"),
        ("pingFail", "pingSignalPost", "fail"),
        ("pingLog", "pingSignalHead", "log"),
        ("hcPingExit0", "hcPingSignalGet", "0"),
        ("hcPingExit3", "hcPingSignalPost", "3"),
        ("hcPingExit256", "hcPingSignalHead", "256"),
    ] {
        response = response.link(
            name,
            LinkBuilder::new()
                .operation_id(id)
                .parameter("uuid_or_key", "$response.body#/uuid")
                .parameter("signal_or_slug", signal)
                .build(),
        );
    }
    response
}

fn channel_links(response: ResponseBuilder) -> ResponseBuilder {
    let mut response = response;
    for id in [
        "getChannel",
        "updateChannel",
        "deleteChannel",
        "testChannel",
    ] {
        response = response.link(
            id,
            LinkBuilder::new()
                .operation_id(id)
                .parameter("name", "$response.body#/name")
                .build(),
        );
    }
    response
}

fn management_paths(paths: PathsBuilder) -> PathsBuilder {
    let list_checks = management("listChecks", "checks", "List checks", &[BAD_REQUEST])
        .description(Some(
            "Oldest first, filtered by `tag` and `status` when given.",
        ))
        .parameter(
            ParameterBuilder::new()
                .name("tag")
                .parameter_in(ParameterIn::Query)
                .description(Some("Only checks with this tag."))
                .schema(Some(ObjectBuilder::new().schema_type(Type::String))),
        )
        .parameter(
            ParameterBuilder::new()
                .name("status")
                .parameter_in(ParameterIn::Query)
                .description(Some("Only checks with this status (400 for another word)."))
                .schema(Some(schema_ref("Status"))),
        )
        .response("200", json_answer("The checks.", "CheckList").build());
    let create_check = management(
        "createCheck",
        "checks",
        "Create a check",
        &[BAD_REQUEST, CONFLICT, UNSUPPORTED, UNAVAILABLE],
    )
    .description(Some(
        "201 with the check (its `uuid`, `slug` and `ping_url`); 409 if the name or its \
         slug is taken; 400 for bad input, which changes nothing.",
    ))
    .request_body(json_body("CheckCreate"))
    .response(
        "201",
        check_links(json_answer("The new check.", "Check")).build(),
    );
    let get_check = management("getCheck", "checks", "Get a check", &[NOT_FOUND])
        .parameter(check_uuid())
        .response("200", json_answer("The check.", "Check").build());
    let update_check = management(
        "updateCheck",
        "checks",
        "Change a check",
        &[BAD_REQUEST, NOT_FOUND, CONFLICT, UNSUPPORTED, UNAVAILABLE],
    )
    .parameter(check_uuid())
    .request_body(json_body("CheckPatch"))
    .response("200", json_answer("The changed check.", "Check").build());
    let delete_check = management(
        "deleteCheck",
        "checks",
        "Delete a check",
        &[NOT_FOUND, UNSUPPORTED, UNAVAILABLE],
    )
    .parameter(check_uuid())
    .response(
        "204",
        ResponseBuilder::new().description("Deleted.").build(),
    );
    let pause = management(
        "pauseCheck",
        "checks",
        "Pause a check",
        &[NOT_FOUND, UNSUPPORTED, UNAVAILABLE],
    )
    .description(Some(
        "Silences the check until its next success or failure ping, or `resume`.",
    ))
    .parameter(check_uuid())
    .response("200", json_answer("The paused check.", "Check").build());
    let resume = management(
        "resumeCheck",
        "checks",
        "Resume a check",
        &[NOT_FOUND, UNSUPPORTED, UNAVAILABLE],
    )
    .description(Some("The check becomes `new`."))
    .parameter(check_uuid())
    .response("200", json_answer("The resumed check.", "Check").build());
    let history = |id: &str, summary: &str, schema: &str| {
        management(id, "checks", summary, &[NOT_FOUND, UNAVAILABLE])
            .description(Some("Newest first; at most 1000 entries."))
            .parameter(check_uuid())
            .response("200", json_answer(summary, schema).build())
    };

    let time_param = |name: &str, description: &str| {
        ParameterBuilder::new()
            .name(name)
            .parameter_in(ParameterIn::Query)
            .description(Some(description))
            .schema(Some(ObjectBuilder::new().schema_type(Type::String).format(
                Some(utoipa::openapi::SchemaFormat::KnownFormat(
                    utoipa::openapi::KnownFormat::DateTime,
                )),
            )))
    };
    let list_slots = management(
        "listCheckSlots",
        "checks",
        "The check's slots",
        &[BAD_REQUEST, NOT_FOUND, UNAVAILABLE],
    )
    .description(Some(
        "Each due time in `[from, to]` that has come, oldest first, with how it went: \
         `ok` or `failed` by its run's end (`ping` is that end's `n`), `running`, `missed` \
         when nothing filled it by due + grace, `pending` before that, `maintenance` inside \
         a window. 400 for a time that is not RFC 3339, a `to` before `from`, or a range \
         of more than 10000 slots.",
    ))
    .parameter(check_uuid())
    .parameter(time_param("from", "RFC 3339; default 7 days before `to`."))
    .parameter(time_param("to", "RFC 3339; default now."))
    .response("200", json_answer("The slots.", "SlotList").build());

    let list_channels = management("listChannels", "channels", "List channels", &[])
        .response("200", json_answer("The channels.", "ChannelList").build());
    let create_channel = management(
        "createChannel",
        "channels",
        "Create a channel",
        &[BAD_REQUEST, CONFLICT, UNSUPPORTED, UNAVAILABLE],
    )
    .description(Some(
        "409 if the name is taken; 403 for a `command` channel, which only the config \
         file may declare; secrets come back masked.",
    ))
    .request_body(json_body("ChannelCreate"))
    .response(
        "201",
        channel_links(json_answer("The new channel.", "Channel")).build(),
    );
    let get_channel = management("getChannel", "channels", "Get a channel", &[NOT_FOUND])
        .parameter(channel_name())
        .response("200", json_answer("The channel.", "Channel").build());
    let update_channel = management(
        "updateChannel",
        "channels",
        "Change a channel",
        &[BAD_REQUEST, NOT_FOUND, UNSUPPORTED, UNAVAILABLE],
    )
    .description(Some(
        "Secrets left out, or given as \"••••\", are kept, unless the change moves \
         where they go (a URL's host, `smtp`'s host, `server`, `api_url`): then they \
         must be given again (400 otherwise).",
    ))
    .parameter(channel_name())
    .request_body(json_body("ChannelPatch"))
    .response(
        "200",
        json_answer("The changed channel.", "Channel").build(),
    );
    let delete_channel = management(
        "deleteChannel",
        "channels",
        "Delete a channel",
        &[NOT_FOUND, UNSUPPORTED, UNAVAILABLE],
    )
    .parameter(channel_name())
    .response(
        "204",
        ResponseBuilder::new().description("Deleted.").build(),
    );
    let test_channel = management(
        "testChannel",
        "channels",
        "Send a test alert",
        &[NOT_FOUND, UNSUPPORTED, UNAVAILABLE],
    )
    .description(Some(
        "Sends an alert with event `test` now and answers with the delivery result (the \
         receiver's status code and an error sentence, never its body).",
    ))
    .parameter(channel_name())
    .response(
        "200",
        json_answer("The delivery result.", "TestDelivery").build(),
    );

    let window_name = || path_param("name", "The window's name.", schema_ref("ChannelName"));
    let window_links = |response: ResponseBuilder| {
        ["getMaintenance", "updateMaintenance", "deleteMaintenance"]
            .into_iter()
            .fold(response, |response, id| {
                response.link(
                    id,
                    LinkBuilder::new()
                        .operation_id(id)
                        .parameter("name", "$response.body#/name")
                        .build(),
                )
            })
    };
    let list_windows = management(
        "listMaintenance",
        "maintenance",
        "List maintenance windows",
        &[],
    )
    .response(
        "200",
        json_answer("The maintenance windows.", "WindowList").build(),
    );
    let create_window = management(
        "createMaintenance",
        "maintenance",
        "Create a maintenance window",
        &[BAD_REQUEST, CONFLICT, UNSUPPORTED, UNAVAILABLE],
    )
    .description(Some(
        "Inside a window no run is expected: a deadline that falls inside moves to the \
         window's end plus the check's grace, and a `down` alert waits for the window's \
         end (one goes then if the check is still down). 409 if the name is taken; 400 \
         for bad input (an end before the start, an unknown check or tag).",
    ))
    .request_body(json_body("WindowCreate"))
    .response(
        "201",
        window_links(json_answer("The new window.", "Window")).build(),
    );
    let get_window = management(
        "getMaintenance",
        "maintenance",
        "Get a maintenance window",
        &[NOT_FOUND],
    )
    .parameter(window_name())
    .response("200", json_answer("The window.", "Window").build());
    let update_window = management(
        "updateMaintenance",
        "maintenance",
        "Change a maintenance window",
        &[BAD_REQUEST, NOT_FOUND, UNSUPPORTED, UNAVAILABLE],
    )
    .parameter(window_name())
    .request_body(json_body("WindowPatch"))
    .response("200", json_answer("The changed window.", "Window").build());
    let delete_window = management(
        "deleteMaintenance",
        "maintenance",
        "Delete a maintenance window",
        &[NOT_FOUND, UNSUPPORTED, UNAVAILABLE],
    )
    .parameter(window_name())
    .response(
        "204",
        ResponseBuilder::new().description("Deleted.").build(),
    );

    let export_config = management(
        "exportConfig",
        "config",
        "Export the config",
        &[BAD_REQUEST],
    )
    .description(Some(
        "Every check and channel as the TOML of a config file that makes them again \
             (uuids kept; export, start on it, export again: the same text). Secrets are \
             `\"••••\"`, which in a config file keeps the stored value, unless `secrets=1` \
             is given with a full key (a read key: 403).",
    ))
    .parameter(
        ParameterBuilder::new()
            .name("secrets")
            .parameter_in(ParameterIn::Query)
            .description(Some("`1`: write the secrets (needs a full key)."))
            .schema(Some(
                ObjectBuilder::new()
                    .schema_type(Type::String)
                    .enum_values(Some(["0", "1"])),
            )),
    )
    .response(
        "200",
        ResponseBuilder::new()
            .description("The config file.")
            .content(
                TOML,
                ContentBuilder::new()
                    .schema(Some(ObjectBuilder::new().schema_type(Type::String)))
                    .example(Some(json!(
                        "[[check]]\nname = \"nightly-backup\"\ncron = \"0 3 * * *\"\n"
                    )))
                    .build(),
            )
            .build(),
    );
    let plan_config = management(
        "planConfig",
        "config",
        "Plan a config file",
        &[BAD_REQUEST, UNSUPPORTED],
    )
    .description(Some(
        "What loading this config file would create, change and unmanage, and what the \
         monitor would refuse; nothing is changed.",
    ))
    .request_body(Some(
        RequestBodyBuilder::new()
            .required(Some(Required::True))
            .description(Some(
                "A config file (TOML), as `hb serve --config` reads it.",
            ))
            .content(
                TOML,
                ContentBuilder::new()
                    .schema(Some(ObjectBuilder::new().schema_type(Type::String)))
                    .build(),
            )
            .build(),
    ))
    .response("200", json_answer("The plan.", "ConfigPlan").build());

    paths
        .path("/api/v1/config", item([(HttpMethod::Get, export_config)]))
        .path(
            "/api/v1/config/plan",
            item([(HttpMethod::Post, plan_config)]),
        )
        .path(
            "/api/v1/heartbeats",
            item([
                (HttpMethod::Get, list_checks),
                (HttpMethod::Post, create_check),
            ]),
        )
        .path(
            "/api/v1/heartbeats/{uuid}",
            item([
                (HttpMethod::Get, get_check),
                (HttpMethod::Patch, update_check),
                (HttpMethod::Delete, delete_check),
            ]),
        )
        .path(
            "/api/v1/heartbeats/{uuid}/pause",
            item([(HttpMethod::Post, pause)]),
        )
        .path(
            "/api/v1/heartbeats/{uuid}/resume",
            item([(HttpMethod::Post, resume)]),
        )
        .path(
            "/api/v1/heartbeats/{uuid}/pings",
            item([(
                HttpMethod::Get,
                history("listCheckPings", "The check's pings.", "PingList"),
            )]),
        )
        .path(
            "/api/v1/heartbeats/{uuid}/flips",
            item([(
                HttpMethod::Get,
                history("listCheckFlips", "The check's status changes.", "FlipList"),
            )]),
        )
        .path(
            "/api/v1/heartbeats/{uuid}/slots",
            item([(HttpMethod::Get, list_slots)]),
        )
        .path(
            "/api/v1/heartbeats/{uuid}/notifications",
            item([(
                HttpMethod::Get,
                history(
                    "listCheckNotifications",
                    "The check's alerts and their delivery.",
                    "NotificationList",
                ),
            )]),
        )
        .path(
            "/api/v1/channels",
            item([
                (HttpMethod::Get, list_channels),
                (HttpMethod::Post, create_channel),
            ]),
        )
        .path(
            "/api/v1/channels/{name}",
            item([
                (HttpMethod::Get, get_channel),
                (HttpMethod::Patch, update_channel),
                (HttpMethod::Delete, delete_channel),
            ]),
        )
        .path(
            "/api/v1/channels/{name}/test",
            item([(HttpMethod::Post, test_channel)]),
        )
        .path(
            "/api/v1/maintenance",
            item([
                (HttpMethod::Get, list_windows),
                (HttpMethod::Post, create_window),
            ]),
        )
        .path(
            "/api/v1/maintenance/{name}",
            item([
                (HttpMethod::Get, get_window),
                (HttpMethod::Patch, update_window),
                (HttpMethod::Delete, delete_window),
            ]),
        )
}

/// A path item with these operations.
fn item<O: Into<Operation>>(operations: impl IntoIterator<Item = (HttpMethod, O)>) -> PathItem {
    operations
        .into_iter()
        .fold(PathItemBuilder::new(), |item, (method, op)| {
            item.operation(method, op)
        })
        .build()
}

/// The ping routes' shapes after `/api/v1/ping/` and `/ping/`: (operation id stem,
/// path, summary, description, parameters).
fn ping_shapes() -> Vec<(&'static str, &'static str, &'static str, Vec<Parameter>)> {
    let signal_schema = || {
        AnyOfBuilder::new()
            .item(
                ObjectBuilder::new()
                    .schema_type(Type::String)
                    .enum_values(Some(["start", "fail", "log"])),
            )
            .item(
                ObjectBuilder::new()
                    .schema_type(Type::String)
                    .pattern(Some("^[0-9]+$")),
            )
    };
    vec![
        (
            "ping",
            "{uuid}",
            "Success, by UUID.",
            vec![path_param("uuid", "The check's UUID.", uuid_schema())],
        ),
        (
            "pingSignal",
            "{uuid_or_key}/{signal_or_slug}",
            "A signal by UUID, or a success by ping key and slug.",
            vec![
                path_param(
                    "uuid_or_key",
                    "A check's UUID, or the server's ping key (see `signal_or_slug`).",
                    ObjectBuilder::new()
                        .schema_type(Type::String)
                        .min_length(Some(1)),
                ),
                path_param(
                    "signal_or_slug",
                    "Read as a signal when the first segment is a UUID and this is `start` \
                     (the job started), `fail` (failure), `log` (a message; no status \
                     change) or an exit code 0..255 (non-zero is a failure; above 255 is \
                     400). Otherwise the two segments are the ping key and a check's slug, \
                     and the ping is a success.",
                    ObjectBuilder::new()
                        .schema_type(Type::String)
                        .min_length(Some(1)),
                ),
            ],
        ),
        (
            "pingSlugSignal",
            "{ping_key}/{slug}/{signal}",
            "A signal by ping key and slug.",
            vec![
                path_param(
                    "ping_key",
                    "The server's ping key (`ping_key`, `--ping-key`).",
                    ObjectBuilder::new()
                        .schema_type(Type::String)
                        .min_length(Some(1)),
                ),
                path_param(
                    "slug",
                    "The check's slug.",
                    ObjectBuilder::new()
                        .schema_type(Type::String)
                        .min_length(Some(1)),
                ),
                path_param(
                    "signal",
                    "`start`, `fail`, `log`, or an exit code 0..255 (non-zero is a failure; \
                     above 255 is 400); another word is 404.",
                    signal_schema(),
                ),
            ],
        ),
    ]
}

fn ping_paths(mut paths: PathsBuilder) -> PathsBuilder {
    let rid = || {
        ParameterBuilder::new()
            .name("rid")
            .parameter_in(ParameterIn::Query)
            .description(Some(
                "A run id: pairs a start with its end. Not a UUID: 400; empty: none.",
            ))
            .schema(Some(
                ObjectBuilder::new().schema_type(Type::String).pattern(Some(
                    "^(|[0-9A-Fa-f]{32}|\\{?[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-\
                     [0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}\\}?|urn:uuid:[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-\
                     [0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12})$",
                )),
            ))
    };
    let query = |name: &str, description: &str| {
        ParameterBuilder::new()
            .name(name)
            .parameter_in(ParameterIn::Query)
            .description(Some(description))
            .schema(Some(ObjectBuilder::new().schema_type(Type::String)))
            .build()
    };
    let create = vec![
        query(
            "create",
            "`1`: a ping by ping key to an unknown slug creates the check (named by the slug, \
             which must be lower-case letters, digits and `-`; else 400) and answers 201. A \
             ping never changes an existing check. Off with `auto_provision = false`.",
        ),
        query(
            "interval",
            "With `create=1`: the new check's interval (default 1d).",
        ),
        query(
            "cron",
            "With `create=1`: the new check's cron line, instead.",
        ),
        query(
            "oncalendar",
            "With `create=1`: the new check's systemd OnCalendar= expression, instead.",
        ),
        query(
            "tz",
            "With `create=1`: the time zone of its cron or oncalendar.",
        ),
        query("grace", "With `create=1`: its grace period."),
    ];
    for (prefix, id_prefix, style) in [
        ("/api/v1/ping/", "", ""),
        ("/ping/", "hc", " (healthchecks.io's shape)"),
    ] {
        for (stem, tail, summary, params) in ping_shapes() {
            // A slug can be in the path: `create=1` may make its check.
            let by_slug = stem != "ping";
            let operation = |method: &str| -> Operation {
                let stem = if id_prefix.is_empty() {
                    stem.to_string()
                } else {
                    let mut c = stem.chars();
                    let first = c.next().map(|f| f.to_ascii_uppercase());
                    format!(
                        "{id_prefix}{}{}",
                        first.into_iter().collect::<String>(),
                        c.as_str()
                    )
                };
                let mut op = OperationBuilder::new()
                    .operation_id(Some(format!("{stem}{method}")))
                    .tag("pings")
                    .summary(Some(format!("{summary}{style}")))
                    .description(Some(
                        "Open without a key (the UUID, or the ping key, is the secret); \
                         GET, HEAD and POST all work, another method is 405. Answers \
                         in plain text, as healthchecks.io does.",
                    ))
                    .securities(Some(Vec::<SecurityRequirement>::new()))
                    .parameters(Some(
                        params
                            .iter()
                            .cloned()
                            .chain([rid().build()])
                            .chain(by_slug.then(|| create.clone()).into_iter().flatten()),
                    ))
                    .response("200", Ref::from_response_name(PING_OK))
                    .response("400", Ref::from_response_name(PING_BAD))
                    .response("404", Ref::from_response_name(PING_NOT_FOUND))
                    .response("503", Ref::from_response_name(PING_UNAVAILABLE));
                if by_slug {
                    op = op.response("201", Ref::from_response_name(PING_CREATED));
                }
                if method == "Post" {
                    op = op.request_body(Some(
                        RequestBodyBuilder::new()
                            .description(Some(
                                "Any text (the job's output), kept up to 100 KiB; longer \
                                 is truncated, never refused.",
                            ))
                            .content(
                                TEXT,
                                ContentBuilder::new()
                                    .schema(Some(ObjectBuilder::new().schema_type(Type::String)))
                                    .build(),
                            )
                            .build(),
                    ));
                }
                op.build()
            };
            paths = paths.path(
                format!("{prefix}{tail}"),
                item([
                    (HttpMethod::Get, operation("Get")),
                    (HttpMethod::Head, operation("Head")),
                    (HttpMethod::Post, operation("Post")),
                ]),
            );
        }
    }
    paths
}

fn other_paths(paths: PathsBuilder) -> PathsBuilder {
    let open = || Some(Vec::<SecurityRequirement>::new());
    let healthz = OperationBuilder::new()
        .operation_id(Some("healthz"))
        .tag("service")
        .summary(Some("Liveness"))
        .securities(open())
        .response(
            "200",
            json_answer("This node can serve: `{\"status\": \"ok\"}`.", "Health").build(),
        )
        .response("403", Ref::from_response_name(FORBIDDEN))
        .response("421", Ref::from_response_name(MISDIRECTED))
        .response(
            "503",
            json_answer(
                "What is wrong: its store, deadline engine or outbox.",
                "Health",
            )
            .build(),
        );
    let metrics = OperationBuilder::new()
        .operation_id(Some("metrics"))
        .tag("service")
        .summary(Some("Prometheus metrics"))
        .description(Some(
            "`hb_checks{status}`, `hb_pings_total{kind}`, `hb_alerts_total{result}`.",
        ))
        .security(SecurityRequirement::new::<_, [&str; 0], &str>("bearer", []))
        .response(
            "200",
            text_answer(
                "The metrics, in Prometheus' text format.",
                "hb_checks{status=\"up\"} 1",
            )
            .build(),
        )
        .response("401", Ref::from_response_name(UNAUTHORIZED))
        .response("403", Ref::from_response_name(FORBIDDEN))
        .response("421", Ref::from_response_name(MISDIRECTED));
    let openapi = OperationBuilder::new()
        .operation_id(Some("openapi"))
        .tag("service")
        .summary(Some("This document"))
        .securities(open())
        .response(
            "200",
            ResponseBuilder::new()
                .description("The OpenAPI 3.1 document.")
                .content(
                    JSON,
                    ContentBuilder::new()
                        .schema(Some(ObjectBuilder::new().schema_type(Type::Object)))
                        .build(),
                )
                .build(),
        )
        .response("403", Ref::from_response_name(FORBIDDEN))
        .response("421", Ref::from_response_name(MISDIRECTED));
    paths
        .path("/healthz", item([(HttpMethod::Get, healthz)]))
        .path("/metrics", item([(HttpMethod::Get, metrics)]))
        .path("/api/v1/openapi.json", item([(HttpMethod::Get, openapi)]))
}

/// Adds `T`'s schema and those it refers to.
fn add_schema<T: ToSchema>(schemas: &mut Vec<(String, RefOr<Schema>)>) {
    T::schemas(schemas);
    schemas.push((T::name().into_owned(), T::schema()));
}

/// A JSON Schema keyword utoipa's `Object` has no field for.
fn add_keyword(schema: &mut RefOr<Schema>, key: &str, value: Value) {
    if let RefOr::T(Schema::Object(object)) = schema {
        object
            .extensions
            .get_or_insert_with(Extensions::default)
            .insert(key.to_string(), value);
    }
}

/// `additionalProperties: false` on each variant of a `oneOf`.
fn close_variants(schema: &mut RefOr<Schema>) {
    if let RefOr::T(Schema::OneOf(one_of)) = schema {
        for variant in &mut one_of.items {
            if let RefOr::T(Schema::Object(object)) = variant {
                object.additional_properties =
                    Some(Box::new(AdditionalProperties::FreeForm(false)));
            }
        }
    }
}

fn components() -> utoipa::openapi::Components {
    let ping_ok = text_answer("A known check: the ping is recorded.", "OK")
        .header(
            "Ping-Body-Limit",
            HeaderBuilder::new()
                .schema(Some(ObjectBuilder::new().schema_type(Type::Integer)))
                .description(Some("Bytes of a body kept."))
                // utoipa's Header has no `required`; the Header Object does.
                .extensions(Some(Extensions::from_iter([("required", true)])))
                .build(),
        )
        .header(
            "Access-Control-Allow-Origin",
            HeaderBuilder::new()
                .schema(Some(
                    ObjectBuilder::new()
                        .schema_type(Type::String)
                        .enum_values(Some(["*"])),
                ))
                .extensions(Some(Extensions::from_iter([("required", true)])))
                .build(),
        )
        .build();
    let mut schemas = Vec::new();
    add_schema::<Error>(&mut schemas);
    add_schema::<Health>(&mut schemas);
    add_schema::<Check>(&mut schemas);
    add_schema::<CheckList>(&mut schemas);
    add_schema::<CheckCreate>(&mut schemas);
    add_schema::<CheckPatch>(&mut schemas);
    add_schema::<PingList>(&mut schemas);
    add_schema::<FlipList>(&mut schemas);
    add_schema::<SlotList>(&mut schemas);
    add_schema::<NotificationList>(&mut schemas);
    add_schema::<Channel>(&mut schemas);
    add_schema::<ChannelList>(&mut schemas);
    add_schema::<ChannelCreate>(&mut schemas);
    add_schema::<TestDelivery>(&mut schemas);
    add_schema::<ConfigPlan>(&mut schemas);
    add_schema::<Window>(&mut schemas);
    add_schema::<WindowList>(&mut schemas);
    add_schema::<WindowCreate>(&mut schemas);
    add_schema::<WindowPatch>(&mut schemas);
    for (name, schema) in &mut schemas {
        match name.as_str() {
            // Every kind's settings are closed, as `Fields::only` has them; utoipa's
            // derive closes a struct for `deny_unknown_fields` but not enum variants.
            "ChannelCreate" => close_variants(schema),
            // One schedule: a new check may not have two (`null` is none); a PATCH may
            // not name two. (utoipa's Object has no `not`; JSON Schema does.)
            "CheckCreate" => add_keyword(
                schema,
                "not",
                json!({"anyOf": SCHEDULE_PAIRS.map(|[a, b]| json!({
                    "required": [a, b],
                    "properties": {
                        a: {"not": {"type": "null"}},
                        b: {"not": {"type": "null"}},
                    },
                }))}),
            ),
            "CheckPatch" => add_keyword(
                schema,
                "not",
                json!({"anyOf": SCHEDULE_PAIRS.map(|pair| json!({"required": pair}))}),
            ),
            _ => {}
        }
    }
    schemas.push(("ChannelPatch".into(), channel_patch_schema().into()));
    ComponentsBuilder::new()
        .schemas_from_iter(schemas)
        .response(
            BAD_REQUEST,
            error_answer(
                "Bad input (malformed JSON, an unknown field, a value out of bounds, a body \
                 over 1 MiB): the error names the field, what is wrong and what is \
                 accepted. Nothing changed.",
            ),
        )
        .response(
            UNAUTHORIZED,
            error_answer(
                "API keys are configured and the request has no valid \
                 `Authorization: Bearer <key>`.",
            ),
        )
        .response(
            FORBIDDEN,
            error_answer(
                "Refused: the request's `Origin` is neither the server's own nor \
                 `base_url`'s; or a read key asked for a change; or the API was to \
                 create, change or test a `command` channel.",
            ),
        )
        .response(
            NOT_FOUND,
            error_answer("No such check, channel or maintenance window."),
        )
        .response(
            CONFLICT,
            error_answer(
                "The name (or the slug made from it) is taken; or a check named by \
                 another's `depends_on` or by a maintenance window was to be renamed.",
            ),
        )
        .response(
            UNSUPPORTED,
            error_answer(
                "The request has a body that is not `Content-Type: application/json` \
                 (`application/toml` for a config plan).",
            ),
        )
        .response(
            MISDIRECTED,
            error_answer(
                "No key is configured and the `Host` is a name other than `localhost`, \
                 `base_url`'s host or one in `allowed_hosts` (IP literals are fine).",
            ),
        )
        .response(
            UNAVAILABLE,
            error_answer("Storage failed; nothing changed; retry."),
        )
        .response(PING_OK, ping_ok)
        .response(
            PING_CREATED,
            text_answer(
                "`create=1` and an unknown slug: the check was created and the ping recorded.",
                "Created",
            )
            .build(),
        )
        .response(
            PING_BAD,
            text_answer(
                "An exit code above 255 (`invalid url format`) or a `rid` that is not a \
                 UUID (`invalid uuid format`).",
                "invalid url format",
            )
            .build(),
        )
        .response(
            PING_NOT_FOUND,
            text_answer("An unknown UUID, ping key, slug or signal.", "not found").build(),
        )
        .response(
            PING_UNAVAILABLE,
            text_answer(
                "The ping could not be stored; retry.",
                "storage unavailable, retry",
            )
            .build(),
        )
        .security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some(
                        "One of `api_keys` (everything) or `read_keys` (every GET); needed \
                         only when keys are configured.",
                    ))
                    .build(),
            ),
        )
        .build()
}

fn openapi() -> OpenApi {
    let paths = other_paths(ping_paths(management_paths(PathsBuilder::new())));
    OpenApiBuilder::new()
        .info(
            InfoBuilder::new()
                .title("hb serve")
                .version(env!("CARGO_PKG_VERSION"))
                .description(Some(
                    "The heartbeat monitor's HTTP API: pings (open; the UUID or the ping key is \
                     the secret) and management (JSON; `Authorization: Bearer <key>` when keys \
                     are configured). When several refusals apply, the order is 421, 403 \
                     (Origin), 401, 403 (scope), 415, then 404/400/409. A method a route \
                     does not take is 405: `{\"error\"}` on management routes, plain text on \
                     ping routes.",
                ))
                .build(),
        )
        .paths(paths.build())
        .components(Some(components()))
        .tags(Some([
            TagBuilder::new()
                .name("pings")
                .description(Some("What jobs send."))
                .build(),
            TagBuilder::new()
                .name("checks")
                .description(Some("Checks (heartbeats) and their history."))
                .build(),
            TagBuilder::new()
                .name("channels")
                .description(Some("Where alerts go."))
                .build(),
            TagBuilder::new()
                .name("maintenance")
                .description(Some(
                    "Maintenance windows: no run expected, no `down` alert.",
                ))
                .build(),
            TagBuilder::new()
                .name("config")
                .description(Some("Config as code, both ways."))
                .build(),
            TagBuilder::new()
                .name("service")
                .description(Some("Health, metrics and this document."))
                .build(),
        ]))
        .build()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::serve::check::{CheckSpec, Settings, merge_patch, parse_spec};
    use crate::serve::notify::{ChannelKind, KIND_NAMES};
    use crate::serve::status::State;
    use std::collections::BTreeSet;

    fn schema<'a>(doc: &'a Value, name: &str) -> &'a Value {
        &doc["components"]["schemas"][name]
    }

    fn properties(schema: &Value) -> BTreeSet<String> {
        schema["properties"]
            .as_object()
            .unwrap_or_else(|| panic!("no properties in {schema}"))
            .keys()
            .cloned()
            .collect()
    }

    fn keys(value: &Value) -> BTreeSet<String> {
        value.as_object().unwrap().keys().cloned().collect()
    }

    fn refs<'a>(value: &'a Value, out: &mut Vec<&'a str>) {
        match value {
            Value::Object(map) => {
                if let Some(Value::String(r)) = map.get("$ref") {
                    out.push(r);
                }
                map.values().for_each(|v| refs(v, out));
            }
            Value::Array(items) => items.iter().for_each(|v| refs(v, out)),
            _ => {}
        }
    }

    #[test]
    fn the_document_is_openapi_3_1_and_every_ref_resolves() {
        let doc = document();
        let version = doc["openapi"].as_str().unwrap();
        assert!(version.starts_with("3.1."), "{version}");
        assert!(doc["info"]["title"].is_string() && doc["info"]["version"].is_string());
        let mut found = Vec::new();
        refs(&doc, &mut found);
        assert!(found.len() > 50, "{} refs", found.len());
        for r in found {
            let pointer = r
                .strip_prefix('#')
                .unwrap_or_else(|| panic!("not a local ref: {r}"));
            assert!(doc.pointer(pointer).is_some(), "{r} does not resolve");
        }
        // Every operation: a unique id, its path's parameters declared, answers given.
        let mut ids = BTreeSet::new();
        for (path, item) in doc["paths"].as_object().unwrap() {
            let templated: BTreeSet<&str> = path
                .split('/')
                .filter_map(|s| s.strip_prefix('{')?.strip_suffix('}'))
                .collect();
            for (method, op) in item.as_object().unwrap() {
                assert!(
                    ["get", "head", "post", "patch", "delete"].contains(&method.as_str()),
                    "{method} {path}"
                );
                let id = op["operationId"].as_str().unwrap();
                assert!(ids.insert(id.to_string()), "operationId {id} twice");
                let declared: BTreeSet<&str> = op["parameters"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter(|p| p["in"] == "path")
                    .map(|p| p["name"].as_str().unwrap())
                    .collect();
                assert_eq!(declared, templated, "{method} {path}");
                let answers = op["responses"].as_object().unwrap();
                assert!(
                    answers.keys().any(|code| code.starts_with('2')),
                    "{method} {path}"
                );
            }
        }
        // Links name operations that exist.
        for link in doc
            .pointer("/paths/~1api~1v1~1heartbeats/post/responses/201/links")
            .and_then(Value::as_object)
            .unwrap()
            .values()
        {
            assert!(
                ids.contains(link["operationId"].as_str().unwrap()),
                "{link}"
            );
        }
    }

    #[test]
    fn pings_by_uuid_and_by_key_and_slug_share_one_template() {
        let doc = document();
        let paths: BTreeSet<&String> = doc["paths"].as_object().unwrap().keys().collect();
        for prefix in ["/api/v1/ping/", "/ping/"] {
            // Three shapes: one, two and three segments; two share one template.
            let shapes: Vec<_> = paths.iter().filter(|p| p.starts_with(prefix)).collect();
            assert_eq!(shapes.len(), 3, "{shapes:?}");
            let merged = &doc["paths"][format!("{prefix}{{uuid_or_key}}/{{signal_or_slug}}")];
            let text = merged["get"].to_string();
            assert!(text.contains("ping key") && text.contains("slug"), "{text}");
            for method in ["get", "head", "post"] {
                let op = &merged[method];
                assert_eq!(op["security"], json!([]), "{method}");
                for code in ["200", "400", "404"] {
                    assert!(op["responses"][code].is_object(), "{method} {code}");
                }
            }
        }
        let ok = &doc["components"]["responses"]["PingOk"];
        assert!(ok["content"]["text/plain"].is_object());
        assert_eq!(ok["headers"]["Ping-Body-Limit"]["required"], true);
    }

    /// Every JSON answer of the management API is `application/json` (the export is a
    /// TOML file), every error an Error.
    #[test]
    fn management_answers_are_json_and_pings_plain_text() {
        let doc = document();
        for (path, item) in doc["paths"].as_object().unwrap() {
            for (method, op) in item.as_object().unwrap() {
                let ping = path.contains("/ping/") || path == "/metrics";
                for (code, answer) in op["responses"].as_object().unwrap() {
                    let answer = match answer["$ref"].as_str() {
                        Some(r) => doc.pointer(&r[1..]).unwrap(),
                        None => answer,
                    };
                    let Some(content) = answer["content"].as_object() else {
                        assert!(code == "204", "{method} {path} {code} has no content");
                        continue;
                    };
                    let types: Vec<&String> = content.keys().collect();
                    let want = if ping && code.starts_with('2') || path.contains("/ping/") {
                        TEXT
                    } else if path == "/api/v1/config" && code == "200" {
                        TOML
                    } else {
                        JSON
                    };
                    assert_eq!(types, [want], "{method} {path} {code}");
                }
                if !path.contains("/ping/")
                    && !["/healthz", "/api/v1/openapi.json"].contains(&path.as_str())
                {
                    assert_eq!(op["security"], json!([{"bearer": []}]), "{method} {path}");
                    assert!(op["responses"]["401"].is_object(), "{method} {path}");
                }
            }
        }
    }

    fn settings(spec: Value) -> Settings {
        let now = "2026-01-01T00:00:00Z".parse().unwrap();
        Settings::from_spec(&parse_spec(spec).unwrap(), now, false).unwrap()
    }

    #[test]
    fn a_checks_json_is_what_the_check_schema_says() {
        let doc = document();
        let check = schema(&doc, "Check");
        let now = "2026-01-01T00:00:00Z".parse().unwrap();
        let fresh = settings(json!({"name": "a", "interval": "90m"}));
        let cron = settings(json!({
            "name": "b", "cron": "0 3 * * *", "tz": "Europe/Paris", "channels": [],
            "realert": "1h", "escalation": [{"after": "30m", "channels": []}],
            "alert_after_failures": 2, "min_duration": "1s",
        }));
        let state = State {
            last_ping: Some(now),
            last_duration: Some(1.5),
            durations: vec![1.0; 6],
            ..State::default()
        };
        for (s, state) in [(&fresh, State::default()), (&cron, state)] {
            let value = s.to_json(&state, now, "http://h");
            assert_eq!(keys(&value), properties(check), "{value}");
            let required: BTreeSet<String> = check["required"]
                .as_array()
                .unwrap()
                .iter()
                .map(|r| r.as_str().unwrap().to_string())
                .collect();
            assert!(required.is_subset(&keys(&value)));
            // The types agree too.
            serde_json::from_value::<shapes::Check>(value.clone())
                .unwrap_or_else(|e| panic!("{e}: {value}"));
        }
    }

    #[test]
    fn the_check_bodies_are_what_parse_spec_takes() {
        let doc = document();
        let mut spec_keys = keys(&serde_json::to_value(CheckSpec::default()).unwrap());
        // Left out of a stored spec when unset (older versions refuse unknown keys).
        spec_keys.insert("slow_min".into());
        spec_keys.insert("oncalendar".into());
        spec_keys.insert("manual_resume".into());
        spec_keys.insert("depends_on".into());
        assert_eq!(properties(schema(&doc, "CheckCreate")), spec_keys);
        let mut patch_keys = properties(schema(&doc, "CheckPatch"));
        patch_keys.insert("uuid".into());
        assert_eq!(patch_keys, spec_keys);
        assert_eq!(schema(&doc, "CheckCreate")["additionalProperties"], false);
        assert_eq!(schema(&doc, "CheckPatch")["additionalProperties"], false);

        let create = &schema(&doc, "CheckCreate")["examples"][0];
        serde_json::from_value::<shapes::CheckCreate>(create.clone()).unwrap();
        let created = settings(create.clone());
        let patch = &schema(&doc, "CheckPatch")["examples"][0];
        serde_json::from_value::<shapes::CheckPatch>(patch.clone()).unwrap();
        let merged = merge_patch(&created.to_spec(), patch.as_object().unwrap()).unwrap();
        let now = "2026-01-01T00:00:00Z".parse().unwrap();
        Settings::from_spec(&merged, now, false).unwrap();
        // A full body of every field, as the document shows them, is taken.
        let full = json!({
            "name": "Backup", "uuid": "5b0b3b5e-4c1a-4d7e-9f2a-0c6a1d2e3f40",
            "description": "d", "owner": "o", "tags": ["db"], "cron": "0 3 * * *",
            "tz": "Europe/Paris", "grace_period": 3600, "max_runtime": "2h",
            "channels": [], "realert": "1h", "escalation": [{"after": "30m", "channels": []}],
            "alert_after_failures": 2, "slow_factor": 2.5, "slow": true, "min_duration": "1s",
        });
        serde_json::from_value::<shapes::CheckCreate>(full.clone()).unwrap();
        settings(full);
    }

    /// A valid channel of each kind, as the API takes it.
    fn channel_inputs() -> Vec<Value> {
        vec![
            json!({"kind": "webhook", "url": "http://127.0.0.1:9/hb", "method": "PUT",
                   "headers": {"X-Key": "k"}, "body": "$JSON"}),
            json!({"kind": "slack", "url": "https://hooks.slack.test/services/x"}),
            json!({"kind": "discord", "url": "https://discord.test/api/webhooks/1/x"}),
            json!({"kind": "msteams", "url": "https://teams.test/webhook/x"}),
            json!({"kind": "ntfy", "server": "https://ntfy.test", "topic": "hb", "priority": "high",
                   "token": "tk_1"}),
            json!({"kind": "telegram", "bot_token": "1:AB", "chat_id": -100123,
                   "api_url": "https://tg.test"}),
            json!({"kind": "gotify", "server": "https://gotify.test", "token": "t"}),
            json!({"kind": "pushover", "user_key": "u", "app_token": "a",
                   "api_url": "https://po.test"}),
            json!({"kind": "pagerduty", "routing_key": "r", "api_url": "https://pd.test"}),
            json!({"kind": "email", "smtp": "smtp://mail.test:25", "from": "hb@example.com",
                   "to": "ops@example.com"}),
            json!({"kind": "command", "argv": ["/bin/true"], "timeout": "10s"}),
        ]
    }

    /// The keys a kind accepts, as its refusal of an unknown key lists them.
    fn accepted_keys(kind: &str) -> BTreeSet<String> {
        let err = ChannelKind::from_json(&json!({"kind": kind, "zz_unknown": 1})).unwrap_err();
        let list = err
            .split("accepted: ")
            .nth(1)
            .unwrap_or_else(|| panic!("{err}"));
        list.split(", ").map(str::to_string).collect()
    }

    fn variant<'a>(schema: &'a Value, kind: &str) -> &'a Value {
        schema["oneOf"]
            .as_array()
            .unwrap()
            .iter()
            .find(|v| v["properties"]["kind"]["enum"] == json!([kind]))
            .unwrap_or_else(|| panic!("no {kind} variant"))
    }

    #[test]
    fn the_channel_shapes_are_what_each_kind_takes_and_shows() {
        let doc = document();
        let create = schema(&doc, "ChannelCreate");
        let shown = schema(&doc, "Channel");
        let patch = properties(schema(&doc, "ChannelPatch"));
        assert_eq!(create["oneOf"].as_array().unwrap().len(), KIND_NAMES.len());
        assert_eq!(shown["oneOf"].as_array().unwrap().len(), KIND_NAMES.len());
        let inputs = channel_inputs();
        assert_eq!(inputs.len(), KIND_NAMES.len());
        for (kind, input) in KIND_NAMES.into_iter().zip(inputs) {
            assert_eq!(input["kind"], kind);
            // What the kind takes is what the document says it takes.
            let mut takes = accepted_keys(kind);
            let variant_in = variant(create, kind);
            assert_eq!(variant_in["additionalProperties"], false, "{kind}");
            takes.extend(["name", "kind", "managed"].map(String::from));
            assert_eq!(properties(variant_in), takes, "{kind}");
            assert!(
                takes.is_subset(&patch),
                "{kind}: {takes:?} not all in ChannelPatch"
            );
            // An example of it parses on both sides.
            let channel = ChannelKind::from_json(&input).unwrap_or_else(|e| panic!("{e}"));
            let mut named = input.clone();
            named["name"] = json!("ops");
            serde_json::from_value::<shapes::ChannelCreate>(named)
                .unwrap_or_else(|e| panic!("{kind}: {e}"));
            // What the API shows is what the document says it shows.
            let mut value = channel.to_json();
            value["name"] = json!("ops");
            value["managed"] = json!(false);
            let variant_out = variant(shown, kind);
            assert!(
                keys(&value).is_subset(&properties(variant_out)),
                "{kind}: {value}"
            );
            serde_json::from_value::<shapes::Channel>(value.clone())
                .unwrap_or_else(|e| panic!("{kind}: {e}: {value}"));
        }
        let kinds = &schema(&doc, "ChannelPatch")["properties"]["kind"]["enum"];
        assert_eq!(kinds, &json!(KIND_NAMES));
    }
}
