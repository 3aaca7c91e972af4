//! Property tests: no input panics, and the status machine keeps its promises.
//!
//! These stand in for fuzzing. cargo-fuzz (libFuzzer) needs a nightly toolchain, which
//! this project does not use; proptest runs on stable inside `cargo test`, shrinks a
//! failure to a small case, and is reproducible: every property runs a fixed number of
//! cases (256; `PROPTEST_CASES` overrides it) from a fixed seed (`PROPTEST_RNG_SEED`
//! overrides it, e.g. to explore further), and writes no regression files.
//!
//! What is covered:
//! - cron expressions: any text, and structured near-valid lines, parsed in any IANA
//!   zone, then due times computed from any instant (the whole range jiff represents,
//!   and instants next to DST changes): no panic, due times strictly after the instant
//!   and in order;
//! - duration text (`crate::duration::parse`): any text; what parses prints back to
//!   the same value;
//! - check JSON → settings (`parse_spec`, `Settings::from_spec`, `from_stored`,
//!   `merge_patch`, `to_json`): arbitrary JSON, huge, negative and fractional numbers,
//!   long strings; what is accepted is within the bounds and round-trips; what is
//!   refused gets a short message;
//! - the status machine under random pings, runs, ticks, pauses, resumes and restarts,
//!   with random settings within the bounds: a success leaves it `up` with no failures,
//!   and it is never `new` again until resumed; a tick before the next deadline does
//!   nothing, and after a tick the next deadline is ahead (the engine neither misses
//!   nor wakes early); after a restart a passed `alert_at` waits; an `up` alert only
//!   ends a down period, a first `down` alert comes with its flip, `new → up` alerts
//!   nobody; `down`, `new` and `paused` show no `next_due`/`alert_at`, `late` is
//!   between them; `slow_threshold` is whole milliseconds and at least `slow_min`;
//! - the same with wild settings and stored states past every bound: no panic.
//!
//! The ping path parser (`serve::http::ping::parse_path`) is a pure function but lives
//! in a private module, so it cannot be reached from here.

use jiff::{SignedDuration, Timestamp};
use proptest::prelude::*;
use proptest::test_runner::{Config as ProptestConfig, RngSeed};
use serde_json::{Map, Value, json};
use std::sync::LazyLock;
use std::time::Duration;

use super::check::{
    ALERT_AFTER_FAILURES_MAX, DESCRIPTION_MAX, Escalation, MAX_DURATION, NAME_MAX, SLOW_FACTOR_MAX,
    Settings, merge_patch, parse_spec,
};
use super::schedule::{Schedule, default_grace, due_times};
use super::status::{
    DURATION_HISTORY, DownPeriod, Health, Outcome, Ping, PingKind, Run, State, Status, Targets,
};
use crate::duration;

/// The seed unless `PROPTEST_RNG_SEED` gives another.
const SEED: u64 = 0x6862_2d63_6865_636b;

fn config() -> ProptestConfig {
    let env = |name: &str| std::env::var(name).ok();
    ProptestConfig {
        cases: env("PROPTEST_CASES")
            .and_then(|v| v.parse().ok())
            .unwrap_or(256),
        rng_seed: RngSeed::Fixed(
            env("PROPTEST_RNG_SEED")
                .and_then(|v| v.parse().ok())
                .unwrap_or(SEED),
        ),
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

// ---------------------------------------------------------------------------------
// Strategies

/// Every zone the bundled database knows, and a few names that are not zones.
static ZONES: LazyLock<Vec<String>> = LazyLock::new(|| {
    let mut zones: Vec<String> = jiff::tz::db()
        .available()
        .map(|name| name.to_string())
        .collect();
    zones.sort();
    zones.extend(["", "Mars/Base", "utc", "europe/paris", "+05:00", "UTC+1"].map(String::from));
    zones
});

fn zone() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => prop::sample::select(ZONES.clone()),
        1 => prop::sample::select(vec![
            "UTC".to_string(),
            "Europe/Paris".to_string(),
            "America/New_York".to_string(),
            "Australia/Lord_Howe".to_string(),
            "Pacific/Chatham".to_string(),
            "Asia/Kathmandu".to_string(),
            "America/Santiago".to_string(),
            "Antarctica/Troll".to_string(),
        ]),
    ]
}

/// Any instant jiff can represent, to the millisecond; mostly in years people use.
fn instant() -> impl Strategy<Value = Timestamp> {
    // Whole seconds at both ends: Timestamp::MAX has a fraction of a second.
    let ms = |from: Timestamp, to: Timestamp| from.as_second() * 1000..=to.as_second() * 1000;
    let ms = prop_oneof![
        4 => ms(
            "1970-01-01T00:00:00Z".parse().unwrap(),
            "2200-01-01T00:00:00Z".parse().unwrap()
        ),
        1 => ms(Timestamp::MIN, Timestamp::MAX),
    ]
    .prop_map(|ms| Timestamp::from_millisecond(ms).unwrap());
    prop_oneof![
        8 => ms,
        1 => prop::sample::select(vec![
            Timestamp::MIN,
            Timestamp::MAX,
            Timestamp::MAX - SignedDuration::from_hours(24),
            Timestamp::MIN + SignedDuration::from_hours(24),
        ]),
    ]
}

/// An instant, or one next to a DST change of `zone` (a second before, at, or within
/// a few hours after).
fn instant_near_a_change(zone: String) -> impl Strategy<Value = Timestamp> {
    (instant(), -3_600_000i64..=10_800_000).prop_map(move |(t, offset_ms)| {
        let Ok(tz) = jiff::tz::TimeZone::get(&zone) else {
            return t;
        };
        match tz.following(t).next() {
            Some(change) => change
                .timestamp()
                .checked_add(SignedDuration::from_millis(offset_ms))
                .unwrap_or(t),
            None => t,
        }
    })
}

/// One valid term of a cron field whose values run from `low` to `high`.
fn cron_term(low: u32, high: u32, names: &'static [&'static str]) -> impl Strategy<Value = String> {
    let value = prop_oneof![
        4 => (low..=high).prop_map(|v| v.to_string()),
        1 => prop::sample::select(if names.is_empty() { &["0"][..] } else { names })
            .prop_map(str::to_string),
    ];
    (low..=high, low..=high, 1u32..=high + 2, value).prop_map(|(a, b, step, v)| {
        let (a, b) = (a.min(b), a.max(b));
        match step % 6 {
            0 => format!("{a}-{b}"),
            1 => format!("*/{step}"),
            2 => format!("{a}-{b}/{step}"),
            3 => format!("{a}/{step}"),
            _ => v,
        }
    })
}

/// One cron field: mostly valid lists of terms, with the day fields' special forms;
/// now and then a term that is not valid at all.
fn cron_field(
    low: u32,
    high: u32,
    names: &'static [&'static str],
    special: &'static [&'static str],
) -> impl Strategy<Value = String> {
    let term = prop_oneof![
        12 => cron_term(low, high, names),
        4 => Just("*".to_string()),
        2 => prop::sample::select(if special.is_empty() { &["*"][..] } else { special })
            .prop_map(str::to_string),
        1 => prop_oneof![
            (0u32..=high + 5).prop_map(|v| v.to_string()),
            prop::sample::select(vec![
                "99999999999", "?", "", "*/", "-", "#", "L/2", "W", "5#0", "5#6", "*/0", "9-1",
                "x", "1-", "L-1", "1L#2",
            ])
            .prop_map(str::to_string),
        ],
    ];
    prop::collection::vec(term, 1..4).prop_map(|terms| terms.join(","))
}

const MONTHS: &[&str] = &["jan", "FEB", "Mar", "dec"];
const DAYS: &[&str] = &["sun", "MON", "Fri", "sat"];
const DAY_OF_MONTH: &[&str] = &["L", "LW", "31", "29", "30"];
const DAY_OF_WEEK: &[&str] = &["5L", "0L", "7L", "1#1", "mon#5", "5#2", "2#4"];

/// Near-valid cron lines: five fields, nicknames, and the wrong number of fields.
fn cron_line() -> impl Strategy<Value = String> {
    let five = (
        cron_field(0, 59, &[], &[]),
        cron_field(0, 23, &[], &[]),
        cron_field(1, 31, &[], DAY_OF_MONTH),
        cron_field(1, 12, MONTHS, &[]),
        cron_field(0, 7, DAYS, DAY_OF_WEEK),
        prop::sample::select(vec![" ", "  ", "\t"]),
    )
        .prop_map(|(m, h, dom, mon, dow, sep)| [m, h, dom, mon, dow].join(sep));
    prop_oneof![
        10 => five,
        1 => prop::sample::select(vec![
            "@yearly", "@annually", "@monthly", "@weekly", "@daily", "@midnight", "@hourly",
            "@reboot", "@DAILY", "@", "@every 5m",
        ])
        .prop_map(str::to_string),
        1 => prop::collection::vec(cron_field(0, 59, &[], &[]), 0..8).prop_map(|f| f.join(" ")),
    ]
}

fn duration_text() -> impl Strategy<Value = String> {
    let part = (
        prop_oneof![
            0u64..=100,
            0u64..=100_000,
            Just(u64::MAX),
            Just(18_446_744_073_709_552)
        ],
        prop::sample::select(vec!["ms", "s", "m", "h", "d", "w", "", "x", "S", "us"]),
        prop::sample::select(vec!["", " ", "  "]),
    )
        .prop_map(|(n, unit, space)| format!("{n}{unit}{space}"));
    let valid = prop_oneof![
        0u64..=10_000,
        0u64..=86_400_000,
        0u64..=MAX_DURATION.as_millis() as u64 + 86_400_000,
    ]
    .prop_map(|ms| duration::format(Duration::from_millis(ms)));
    prop_oneof![
        4 => valid,
        3 => prop::collection::vec(part, 1..5).prop_map(|parts| parts.concat()),
        1 => "[0-9a-z \\-\\.]{0,12}",
        1 => any::<String>(),
    ]
}

/// A duration as a check's JSON takes it: text, or a number of seconds, in and out of
/// bounds.
fn duration_value() -> impl Strategy<Value = Value> {
    prop_oneof![
        4 => duration_text().prop_map(Value::from),
        1 => prop_oneof![
            0u64..=400_000_000,
            Just(315_360_000u64),
            Just(315_360_001u64),
            Just(u64::MAX)
        ]
        .prop_map(Value::from),
        1 => any::<i64>().prop_map(Value::from),
        1 => number(),
    ]
}

/// Floats people and fuzzers send: huge, tiny, negative, fractional, at the bounds.
fn number() -> impl Strategy<Value = Value> {
    prop_oneof![
        prop::num::f64::ANY.prop_map(Value::from),
        prop::sample::select(vec![
            1e300,
            -1e300,
            f64::MAX,
            f64::MIN_POSITIVE,
            5e-324,
            -0.0,
            0.5,
            1.0,
            1.0000001,
            3.0,
            999.999,
            1000.0,
            1000.0000001,
            1.5,
            315_360_000.0,
            315_360_001.0,
            1.8446744073709552e19,
        ])
        .prop_map(Value::from),
    ]
}

fn text() -> impl Strategy<Value = String> {
    prop_oneof![
        12 => "[a-zA-Z0-9 _\\-]{0,30}",
        2 => any::<String>(),
        1 => (0usize..=20_000, prop::sample::select(vec!["x", "é", " ", "-", "\u{1F600}"]))
            .prop_map(|(n, s)| s.repeat(n)),
        1 => prop::sample::select(vec![
            String::new(), " ".into(), "n".repeat(200), "n".repeat(201), "é".repeat(200),
            "é".repeat(201), "!!!".into(),
        ]),
    ]
}

fn strings() -> impl Strategy<Value = Value> {
    prop_oneof![
        4 => prop::collection::vec(text(), 0..5).prop_map(|v| json!(v)),
        1 => (0usize..=120, text()).prop_map(|(n, t)| json!(vec![t; n])),
    ]
}

/// Any JSON value, nested a little.
fn any_json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        number(),
        text().prop_map(Value::from),
    ];
    leaf.prop_recursive(3, 24, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::from),
            prop::collection::btree_map(text(), inner, 0..6)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

/// A value for one key of a check's JSON: mostly of the right kind, sometimes not.
fn value_for(key: &'static str) -> BoxedStrategy<Value> {
    let right: BoxedStrategy<Value> = match key {
        "uuid" => prop_oneof![
            Just(json!("6f1c1e43-3b3a-4b7e-9d55-0b6c1b0f2a11")),
            text().prop_map(Value::from),
        ]
        .boxed(),
        "name" | "description" | "owner" => text().prop_map(Value::from).boxed(),
        "tags" | "channels" => strings().boxed(),
        "interval" | "grace_period" | "max_runtime" | "realert" | "min_duration" | "slow_min" => {
            duration_value().boxed()
        }
        "cron" => cron_line().prop_map(Value::from).boxed(),
        "tz" => zone().prop_map(Value::from).boxed(),
        "escalation" => prop::collection::vec(
            (duration_value(), strings())
                .prop_map(|(after, channels)| json!({"after": after, "channels": channels})),
            0..4,
        )
        .prop_map(Value::from)
        .boxed(),
        "alert_after_failures" => prop_oneof![
            0u64..=5,
            Just(1000u64),
            Just(1001u64),
            Just(u64::from(u32::MAX)),
            Just(u64::MAX)
        ]
        .prop_map(Value::from)
        .boxed(),
        "slow_factor" => prop_oneof![(1.0f64..=1001.0).prop_map(Value::from), number()].boxed(),
        "slow" => any::<bool>().prop_map(Value::from).boxed(),
        _ => any_json().boxed(),
    };
    prop_oneof![20 => right, 1 => any_json(), 1 => Just(Value::Null)].boxed()
}

const KEYS: [&str; 18] = [
    "uuid",
    "name",
    "description",
    "owner",
    "tags",
    "interval",
    "cron",
    "tz",
    "grace_period",
    "max_runtime",
    "channels",
    "realert",
    "escalation",
    "alert_after_failures",
    "slow_factor",
    "slow",
    "min_duration",
    "slow_min",
];

/// A value for one key of a check's JSON that is of the right kind and mostly within
/// the bounds, the bounds themselves and just past them.
fn plausible_for(key: &'static str) -> BoxedStrategy<Value> {
    let duration = || {
        prop_oneof![
            8 => (1_000u64..=MAX_DURATION.as_millis() as u64)
                .prop_map(|ms| json!(duration::format(Duration::from_millis(ms)))),
            4 => (1u64..=100_000).prop_map(|s| json!(duration::format(Duration::from_secs(s)))),
            2 => (1u64..=100_000).prop_map(Value::from),
            1 => prop::sample::select(vec![
                json!("3650d"), json!("3651d"), json!("0s"), json!("999ms"), json!("1s"),
                json!(315_360_000), json!(315_360_001), json!(0),
            ]),
        ]
    };
    let names = || prop::collection::vec("[a-z][a-z0-9\\-]{0,12}", 0..4).prop_map(|v| json!(v));
    match key {
        "uuid" => any::<u128>()
            .prop_map(|n| json!(uuid::Uuid::from_u128(n).to_string()))
            .boxed(),
        "description" | "owner" => "[a-zA-Z0-9 ]{0,40}".prop_map(Value::from).boxed(),
        "tags" | "channels" => names().boxed(),
        "interval" | "grace_period" | "max_runtime" | "realert" | "min_duration" | "slow_min" => {
            duration().boxed()
        }
        "escalation" => prop::collection::vec(duration(), 0..3)
            .prop_map(|afters| {
                let mut afters: Vec<Duration> = afters
                    .iter()
                    .filter_map(|v| match v {
                        Value::String(t) => duration::parse(t).ok(),
                        v => v.as_u64().map(Duration::from_secs),
                    })
                    .collect();
                afters.sort();
                json!(
                    afters
                        .iter()
                        .map(|d| json!({"after": duration::format(*d), "channels": ["pager"]}))
                        .collect::<Vec<_>>()
                )
            })
            .boxed(),
        "alert_after_failures" => prop_oneof![
            8 => 1u32..=1000,
            1 => prop::sample::select(vec![0u32, 1001, u32::MAX]),
        ]
        .prop_map(Value::from)
        .boxed(),
        "slow_factor" => prop_oneof![
            8 => (1.000_001f64..=1000.0).prop_map(Value::from),
            1 => prop::sample::select(vec![1.0, 1000.0, 1_000.000_001, 3.0]).prop_map(Value::from),
        ]
        .boxed(),
        "slow" => any::<bool>().prop_map(Value::from).boxed(),
        _ => value_for(key),
    }
}

/// A check's JSON: either plausible (a name, one schedule, other keys of the right
/// kind) or anything (any known keys with values of any kind, now and then an
/// unknown key).
fn check_json() -> impl Strategy<Value = Value> {
    prop_oneof![2 => plausible_check_json().boxed(), 1 => wild_check_json().boxed()]
}

fn plausible_check_json() -> impl Strategy<Value = Value> {
    let keys: Vec<&str> = KEYS
        .iter()
        .copied()
        .filter(|k| !["name", "interval", "cron", "tz"].contains(k))
        .collect();
    (
        "[A-Za-z0-9][A-Za-z0-9 _\\-]{0,40}",
        prop_oneof![
            2 => plausible_for("interval").prop_map(|i| json!({"interval": i})),
            1 => (cron_line(), prop::option::of(zone()))
                .prop_map(|(c, tz)| json!({"cron": c, "tz": tz})),
        ],
        prop::collection::vec(
            prop::sample::select(keys).prop_flat_map(|k| (Just(k), plausible_for(k))),
            0..8,
        ),
    )
        .prop_map(|(name, schedule, pairs)| {
            let mut map = schedule.as_object().cloned().unwrap_or_default();
            if map.get("tz") == Some(&Value::Null) {
                map.remove("tz");
            }
            map.insert("name".into(), json!(name));
            for (k, v) in pairs {
                map.insert(k.to_string(), v);
            }
            Value::Object(map)
        })
}

fn wild_check_json() -> impl Strategy<Value = Value> {
    let key_values = prop::collection::vec(
        prop::sample::select(KEYS.to_vec()).prop_flat_map(|k| (Just(k), value_for(k))),
        0..8,
    );
    (
        text(),
        prop_oneof![Just("interval"), Just("cron"), Just("none")],
        value_for("interval"),
        cron_line(),
        key_values,
        prop::option::weighted(0.05, (text(), any_json())),
    )
        .prop_map(|(name, which, interval, cron, pairs, unknown)| {
            let mut map = Map::new();
            map.insert("name".into(), json!(name));
            match which {
                "interval" => {
                    map.insert("interval".into(), interval);
                }
                "cron" => {
                    map.insert("cron".into(), json!(cron));
                }
                _ => {}
            }
            for (k, v) in pairs {
                map.insert(k.to_string(), v);
            }
            if let Some((k, v)) = unknown {
                map.insert(k, v);
            }
            Value::Object(map)
        })
}

// ---------------------------------------------------------------------------------
// Cron and durations

/// Whether every offset change of `zone` from a day before `from` to `to` is a whole
/// number of hours. Where one is not (Australia/Lord_Howe's 30 minutes, the local mean
/// time of the 19th century, -4:16:48), a job every N minutes can skip the due times
/// of the hour after the change, exactly as cronsim does (checked with cronsim 2.8:
/// `*/19 0-0/2 * * 0-6/2` in Lord_Howe from 2048-04-04T14:14:52Z is due at 16:08Z,
/// not 15:30Z); hb follows cronsim step by step, so that is kept, and not asserted.
fn changes_by_whole_hours(zone: &str, from: Timestamp, to: Timestamp) -> bool {
    let Ok(tz) = jiff::tz::TimeZone::get(zone) else {
        return true;
    };
    let start = from
        .checked_sub(SignedDuration::from_hours(48))
        .unwrap_or(from);
    let mut offset = tz.to_offset(start).seconds();
    for change in tz.following(start).take(1000) {
        if change.timestamp() > to {
            return true;
        }
        let next = change.offset().seconds();
        if (next - offset) % 3600 != 0 {
            return false;
        }
        offset = next;
    }
    true
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn cron_text_never_panics(
        expr in prop_oneof![any::<String>(), "[0-9*/,LW#@A-Za-z? -]{0,40}"],
        tz in zone(),
        t in instant(),
    ) {
        if let Ok(schedule) = Schedule::cron(&expr, &tz)
            && let Some(next) = schedule.next_after(t)
        {
            prop_assert!(next > t);
        }
    }

    #[test]
    fn near_valid_cron_lines_are_due_strictly_later_and_in_order(
        (expr, tz, t) in (cron_line(), zone()).prop_flat_map(|(expr, tz)| {
            (Just(expr), Just(tz.clone()), instant_near_a_change(tz))
        }),
        fraction in 0.0f64..1.0,
    ) {
        let Ok(schedule) = Schedule::cron(&expr, &tz) else {
            return Ok(());
        };
        let grace = default_grace(schedule.period(t));
        prop_assert!(grace >= Duration::from_secs(1) && grace <= MAX_DURATION);
        let Some(next) = schedule.next_after(t) else {
            return Ok(());
        };
        prop_assert!(next > t, "{expr} in {tz}: {next} after {t}");
        // Nothing is due between t and its next due time (due times never go backwards),
        // where the zone's offset changes by whole hours.
        let gap = next.as_millisecond() - t.as_millisecond();
        let between = Timestamp::from_millisecond(t.as_millisecond() + (gap as f64 * fraction) as i64)
            .unwrap();
        if between > t && between < next && changes_by_whole_hours(&tz, t, next) {
            let again = schedule.next_after(between);
            prop_assert_eq!(again, Some(next), "{} in {} after {}", expr, tz, between);
        }
        let mut previous = t;
        for due in due_times(schedule, t).take(3) {
            prop_assert!(due > previous, "{expr} in {tz}: {due} after {previous}");
            previous = due;
        }
    }

    #[test]
    fn duration_text_never_panics_and_prints_back(text in duration_text()) {
        if let Ok(d) = duration::parse(&text) {
            let printed = duration::format(d);
            prop_assert_eq!(duration::parse(&printed), Ok(d), "{:?} → {}", text, printed);
        }
        let _ = duration::parse_at_least_1s(&text);
        let _ = Schedule::parse_interval(&text);
        let _ = Schedule::parse_cli(&text, "UTC");
    }

    #[test]
    fn ping_paths_never_panic_and_read_back(
        parts in proptest::collection::vec(
            prop_oneof![
                Just("5b0b3b5e-4c1a-4d7e-9f2a-0c6a1d2e3f40".to_string()),
                Just("start".to_string()),
                Just("fail".to_string()),
                Just("log".to_string()),
                Just(String::new()),
                (0u32..100_000).prop_map(|n| n.to_string()),
                "[a-z0-9%.-]{0,12}",
                any::<String>(),
            ],
            0..5,
        ),
        trailing in any::<bool>(),
    ) {
        use crate::serve::http::ping::{Parsed, Target, parse_path};
        let mut path = parts.join("/");
        if trailing {
            path.push('/');
        }
        match parse_path(&path) {
            Parsed::Ping(Target::Uuid(uuid), _, code) => {
                prop_assert!(path.starts_with(&uuid.to_string()), "{path}");
                prop_assert!(code.is_none_or(|c| path.contains(&c.to_string())));
            }
            Parsed::Ping(Target::Slug { key, slug }, _, _) => {
                prop_assert!(!key.is_empty() || path.starts_with('/'), "{path:?}");
                prop_assert!(path.contains(slug));
            }
            Parsed::BadCode | Parsed::NotFound => {}
        }
    }
}

// ---------------------------------------------------------------------------------
// Check JSON → settings

fn now() -> Timestamp {
    "2026-01-01T00:00:00Z".parse().unwrap()
}

/// The bounds an accepted check keeps.
fn assert_within_bounds(s: &Settings) -> Result<(), TestCaseError> {
    let chars = |t: &str| t.chars().count();
    prop_assert!(!s.name.is_empty() && chars(&s.name) <= NAME_MAX);
    prop_assert!(chars(&s.description) <= DESCRIPTION_MAX);
    prop_assert!(s.slow_factor > 1.0 && s.slow_factor <= SLOW_FACTOR_MAX);
    prop_assert!(
        s.alert_after_failures
            .is_none_or(|n| (1..=ALERT_AFTER_FAILURES_MAX).contains(&n))
    );
    let durations = [
        Some(s.grace()),
        Some(s.max_runtime()),
        s.realert,
        s.min_duration,
        Some(s.slow_min()),
        Some(s.default_grace),
    ];
    for d in durations.into_iter().flatten() {
        prop_assert!(d <= MAX_DURATION, "{d:?}");
    }
    for d in [
        Some(s.grace()),
        Some(s.max_runtime()),
        s.realert,
        s.min_duration,
    ]
    .into_iter()
    .flatten()
    {
        prop_assert!(d >= Duration::from_secs(1), "{d:?}");
    }
    for step in &s.escalation {
        prop_assert!(step.after >= Duration::from_secs(1) && step.after <= MAX_DURATION);
    }
    match &s.schedule {
        Schedule::Interval(d) => {
            prop_assert!(*d >= Duration::from_secs(1) && *d <= MAX_DURATION);
        }
        Schedule::Cron(_) | Schedule::OnCalendar(_) => {
            prop_assert!(s.schedule.next_after(now()).is_some())
        }
    }
    Ok(())
}

/// Everything without the uuid (random when not given) or what depends on it.
fn shown(s: &Settings) -> Value {
    let mut v = s.to_json(&State::default(), now(), "http://h");
    let map = v.as_object_mut().unwrap();
    map.remove("uuid");
    map.remove("ping_url");
    v
}

fn assert_short(message: &str) -> Result<(), TestCaseError> {
    prop_assert!(!message.is_empty());
    prop_assert!(
        message.len() <= 2000,
        "{} bytes: {}…",
        message.len(),
        message.chars().take(300).collect::<String>()
    );
    Ok(())
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn any_json_value_is_a_spec_or_a_message(value in any_json()) {
        match parse_spec(value) {
            Ok(spec) => {
                if let Err(e) = Settings::from_spec(&spec, now(), false) {
                    assert_short(&e)?;
                }
            }
            Err(e) => assert_short(&e)?,
        }
    }

    #[test]
    fn check_json_is_accepted_within_bounds_or_refused_briefly(
        value in check_json(),
        patch in check_json(),
        at in instant(),
    ) {
        let spec = match parse_spec(value) {
            Ok(spec) => spec,
            Err(e) => return assert_short(&e),
        };
        // Any instant as "now" (a restart in year 9999 included): no panic.
        let _ = Settings::from_spec(&spec, at, false);
        let settings = match Settings::from_spec(&spec, now(), false) {
            Ok(s) => s,
            Err(e) => {
                assert_short(&e)?;
                // What is refused as input may still be stored by an older version;
                // loading it does not panic and gives bounded settings or a message.
                match Settings::from_stored(&spec, now(), false) {
                    Ok(s) => {
                        s.to_json(&State::default(), now(), "http://h");
                    }
                    Err(e) => assert_short(&e)?,
                }
                return Ok(());
            }
        };
        assert_within_bounds(&settings)?;
        // What is accepted round-trips through its stored form, and loads the same.
        let stored = serde_json::to_value(settings.to_spec()).unwrap();
        let again = Settings::from_spec(&parse_spec(stored.clone()).unwrap(), now(), false);
        prop_assert!(again.is_ok(), "{:?}", again.err());
        let again = again.unwrap();
        prop_assert_eq!(shown(&again), shown(&settings));
        prop_assert_eq!(again.uuid, settings.uuid);
        let loaded = Settings::from_stored(&parse_spec(stored).unwrap(), now(), false).unwrap();
        prop_assert_eq!(shown(&loaded), shown(&settings));
        // A PATCH of anything: a spec or a message, never a panic.
        let patch = patch.as_object().cloned().unwrap_or_default();
        match merge_patch(&settings.to_spec(), &patch) {
            Ok(spec) => {
                if let Err(e) = Settings::from_spec(&spec, now(), false) {
                    assert_short(&e)?;
                }
            }
            Err(e) => assert_short(&e)?,
        }
    }
}

// ---------------------------------------------------------------------------------
// The status machine

#[derive(Debug, Clone)]
enum Step {
    Ping {
        kind: PingKind,
        code: Option<u8>,
        rid: Option<&'static str>,
    },
    /// A start, then its end this many milliseconds later.
    Run {
        length_ms: i64,
        code: Option<u8>,
    },
    Tick,
    /// A tick exactly at the next deadline (the engine's usual wake-up).
    TickAtDeadline,
    Pause,
    Resume,
    Restart,
}

fn step() -> impl Strategy<Value = Step> {
    let kind = prop::sample::select(vec![
        PingKind::Start,
        PingKind::Start,
        PingKind::Start,
        PingKind::Success,
        PingKind::Success,
        PingKind::Success,
        PingKind::Fail,
        PingKind::Log,
    ]);
    let code = prop::option::weighted(0.3, prop_oneof![Just(0u8), any::<u8>()]);
    let rid = prop::option::weighted(0.3, prop::sample::select(vec!["a", "b"]));
    let length_ms = prop_oneof![4 => 500i64..=3_000, 1 => 0i64..=120_000, 1 => 1_000i64..=20_000];
    let end_code = prop::option::weighted(0.2, prop_oneof![Just(0u8), any::<u8>()]);
    prop_oneof![
        8 => (kind, code, rid).prop_map(|(kind, code, rid)| Step::Ping { kind, code, rid }),
        6 => (length_ms, end_code).prop_map(|(length_ms, code)| Step::Run { length_ms, code }),
        3 => Just(Step::Tick),
        3 => Just(Step::TickAtDeadline),
        1 => Just(Step::Pause),
        1 => Just(Step::Resume),
        1 => Just(Step::Restart),
    ]
}

/// Milliseconds the clock moves before a step: mostly forward, now and then back (a
/// wall-clock step).
fn advance() -> impl Strategy<Value = i64> {
    prop_oneof![
        4 => 0i64..=20_000,
        4 => 0i64..=3_600_000,
        2 => 0i64..=3 * 86_400_000,
        1 => -120_000i64..=0,
    ]
}

/// Durations small enough for things to happen within a few steps, and the bounds.
fn small_duration() -> impl Strategy<Value = Value> {
    prop_oneof![
        6 => (1u64..=600).prop_map(|s| json!(duration::format(Duration::from_secs(s)))),
        2 => (1u64..=86_400).prop_map(Value::from),
        1 => Just(json!("3650d")),
        1 => (0u64..=5_000).prop_map(|ms| json!(duration::format(Duration::from_millis(ms)))),
    ]
}

/// A check's JSON within every bound.
fn valid_check() -> impl Strategy<Value = Value> {
    let schedule = prop_oneof![
        3 => small_duration().prop_map(|d| json!({"interval": d})),
        2 => (
            prop::sample::select(vec![
                "* * * * *", "*/5 * * * *", "0 * * * *", "30 2 * * *", "0 0 L * *",
                "0 9 * * mon-fri", "0 0 * 2 mon#5", "@daily", "15 1-3 * * *",
            ]),
            prop::sample::select(vec![
                "UTC", "Europe/Paris", "America/New_York", "Australia/Lord_Howe",
            ]),
        )
            .prop_map(|(cron, tz)| json!({"cron": cron, "tz": tz})),
    ];
    let optional = |s: BoxedStrategy<Value>| prop::option::weighted(0.5, s);
    (
        schedule,
        (
            optional(small_duration().boxed()),
            optional(small_duration().boxed()),
            optional(small_duration().boxed()),
            optional(small_duration().boxed()),
            optional(small_duration().boxed()),
        ),
        prop::collection::vec(small_duration(), 0..3),
        prop::option::weighted(0.4, prop_oneof![1u32..=4, Just(1000)]),
        prop_oneof![
            4 => Just(3.0f64),
            3 => 1.000_001f64..=5.0,
            1 => 1.000_001f64..=1000.0,
            1 => Just(1000.0),
        ],
        prop::option::weighted(0.9, any::<bool>()),
    )
        .prop_filter_map(
            "a step's after is not in order",
            |(
                schedule,
                (grace, max_runtime, realert, min_duration, slow_min),
                steps,
                aaf,
                factor,
                slow,
            )| {
                let mut v = json!({"name": "job", "slow_factor": factor});
                for (k, x) in schedule.as_object()? {
                    v[k] = x.clone();
                }
                let mut put = |k: &str, x: Option<Value>| {
                    if let Some(x) = x {
                        v[k] = x;
                    }
                };
                put("grace_period", grace);
                put("max_runtime", max_runtime);
                put("realert", realert);
                put("min_duration", min_duration);
                put("slow_min", slow_min);
                put("alert_after_failures", aaf.map(Value::from));
                put("slow", slow.map(Value::from));
                let mut steps: Vec<Duration> = steps
                    .iter()
                    .filter_map(|x| match x {
                        Value::String(t) => duration::parse(t).ok(),
                        Value::Number(n) => n.as_u64().map(Duration::from_secs),
                        _ => None,
                    })
                    .filter(|d| *d >= Duration::from_secs(1))
                    .collect();
                steps.sort();
                put(
                    "escalation",
                    Some(json!(
                        steps
                            .iter()
                            .map(|d| json!({
                                "after": duration::format(*d), "channels": ["pager"],
                            }))
                            .collect::<Vec<_>>()
                    )),
                );
                // Sub-second values are for slow_min only.
                for k in ["grace_period", "max_runtime", "realert", "min_duration"] {
                    if let Some(Value::String(t)) = v.get(k)
                        && duration::parse(t).ok()? < Duration::from_secs(1)
                    {
                        v.as_object_mut()?.remove(k);
                    }
                }
                if let Some(Value::String(t)) = v.get("interval")
                    && duration::parse(t).ok()? < Duration::from_secs(1)
                {
                    v["interval"] = json!("1s");
                }
                Some(v)
            },
        )
}

fn after(t: Timestamp, ms: i64) -> Timestamp {
    t.checked_add(SignedDuration::from_millis(ms)).unwrap_or(t)
}

/// What holds after every step, whatever came before.
fn assert_consistent(st: &State, s: &Settings, now: Timestamp) -> Result<(), TestCaseError> {
    prop_assert!(st.durations.len() <= DURATION_HISTORY);
    let (status, next_due, alert_at) = st.view(s, now);
    match status {
        Status::New | Status::Down | Status::Paused => {
            prop_assert_eq!((next_due, alert_at), (None, None), "{:?}", status);
        }
        Status::Running => prop_assert!(alert_at.is_some()),
        Status::Up | Status::Late => {
            if let (Some(due), Some(alert)) = (next_due, alert_at) {
                prop_assert!(alert >= due);
                if status == Status::Up {
                    prop_assert!(now < due);
                } else {
                    prop_assert!(now >= due && now < alert);
                }
            } else {
                // Only a schedule that is never due again has no due time.
                prop_assert!(status == Status::Up && next_due.is_none() && alert_at.is_none());
            }
        }
    }
    prop_assert_eq!(st.health == Health::Down, st.down.is_some());
    if let Some(threshold) = st.slow_threshold(s) {
        // Shown to the millisecond.
        prop_assert_eq!((threshold * 1000.0).round() / 1000.0, threshold);
        prop_assert!(threshold >= s.slow_min().as_secs_f64());
    }
    s.to_json(st, now, "http://h");
    Ok(())
}

/// What an outcome may contain.
fn assert_alerts_follow_flips(out: &Outcome, before: Health) -> Result<(), TestCaseError> {
    for alert in &out.alerts {
        match (alert.event, alert.repeat, &alert.targets) {
            ("up", _, _) => prop_assert!(
                out.flips
                    .iter()
                    .any(|f| f.from == Health::Down && f.to == Health::Up),
                "an up alert only ends a down period: {out:?}"
            ),
            ("down", 0, Targets::Check) => prop_assert!(
                out.flips.iter().any(|f| f.to == Health::Down),
                "a first down alert comes with the flip: {out:?}"
            ),
            ("down", _, _) | ("slow", _, _) | ("too_fast", _, _) => {}
            (event, _, _) => prop_assert!(false, "unknown event {event}"),
        }
    }
    if before == Health::Paused {
        prop_assert!(
            out.alerts.iter().all(|a| a.event == "down"),
            "a paused check only wakes to a failure: {out:?}"
        );
    }
    for flip in &out.flips {
        prop_assert!(flip.from != flip.to);
        if flip.from == Health::New && flip.to == Health::Up {
            prop_assert!(
                out.alerts.iter().all(|a| a.event != "up"),
                "new → up alerts nobody"
            );
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn the_status_machine_keeps_its_promises(
        spec in valid_check(),
        start in ("2000-01-01T00:00:00Z".parse::<Timestamp>().unwrap().as_millisecond()
            ..="2100-01-01T00:00:00Z".parse::<Timestamp>().unwrap().as_millisecond()),
        steps in prop::collection::vec((advance(), step()), 1..80),
    ) {
        let settings = Settings::from_spec(&parse_spec(spec.clone()).unwrap(), now(), false);
        prop_assert!(settings.is_ok(), "{spec}: {:?}", settings.err());
        let s = settings.unwrap();
        let mut st = State::default();
        let mut now = Timestamp::from_millisecond(start).unwrap();
        // A success or failure since the last resume: the check is no longer new.
        let mut ended = false;
        let steps = steps.into_iter().flat_map(|(ms, step)| match step {
            Step::Run { length_ms, code } => vec![
                (ms, Step::Ping { kind: PingKind::Start, code: None, rid: None }),
                (length_ms, Step::Ping { kind: PingKind::Success, code, rid: None }),
            ],
            step => vec![(ms, step)],
        });
        for (ms, step) in steps {
            now = after(now, ms);
            let before = st.health;
            let out = match step {
                Step::Ping { kind, code, rid } => {
                    let ping = Ping { kind, exit_code: code, rid: rid.map(str::to_string), at: now };
                    let effective = ping.effective_kind();
                    let out = st.apply_ping(&s, &ping);
                    match effective {
                        PingKind::Success => {
                            ended = true;
                            prop_assert_eq!(st.health, Health::Up);
                            prop_assert_eq!(st.failures, 0);
                        }
                        PingKind::Fail => {
                            ended = true;
                            prop_assert!(st.failures > 0);
                            if s.alert_after_failures.is_none() {
                                prop_assert_eq!(st.health, Health::Down);
                            }
                        }
                        PingKind::Start | PingKind::Log => {
                            if before == Health::Paused {
                                prop_assert_eq!(&out, &Outcome::default());
                            }
                            prop_assert!(out.flips.is_empty() && out.alerts.is_empty());
                        }
                    }
                    if effective == PingKind::Start && before != Health::Paused {
                        prop_assert_eq!(st.run.as_ref().map(|r| r.start), Some(now));
                    }
                    out
                }
                Step::Tick | Step::TickAtDeadline => {
                    if matches!(step, Step::TickAtDeadline)
                        && let Some(deadline) = st.next_deadline(&s)
                    {
                        now = deadline;
                    }
                    let deadline = st.next_deadline(&s);
                    let unchanged = st.clone();
                    let out = st.tick(&s, now);
                    if deadline.is_none_or(|d| now < d) {
                        // The engine sleeps until the next deadline: nothing is due before.
                        prop_assert_eq!(&out, &Outcome::default(), "before {:?}", deadline);
                        prop_assert_eq!(&st, &unchanged);
                    }
                    // Whatever was due is done: the next deadline is ahead.
                    let next = st.next_deadline(&s);
                    prop_assert!(next.is_none_or(|d| d > now), "{:?} at {}", next, now);
                    out
                }
                Step::Run { .. } => unreachable!("made into two pings above"),
                Step::Pause => st.pause(now),
                Step::Resume => {
                    let out = st.resume(now);
                    if before == Health::Paused {
                        ended = false;
                        prop_assert_eq!(st.health, Health::New);
                    }
                    out
                }
                Step::Restart => {
                    st.on_startup(&s, now);
                    // An alert_at that passed meanwhile waits one grace period from the
                    // restart. (Repeats and escalations of a check already down, and a
                    // slow alert, are not held.)
                    let (_, _, alert_at) = st.view(&s, now);
                    prop_assert!(alert_at.is_none_or(|a| a > now), "{:?} at {}", alert_at, now);
                    Outcome::default()
                }
            };
            assert_alerts_follow_flips(&out, before)?;
            if ended {
                prop_assert!(st.view(&s, now).0 != Status::New, "new after a success or failure");
            }
            assert_consistent(&st, &s, now)?;
        }
    }
}

// ---------------------------------------------------------------------------------
// Wild values: a check stored by an older version, settings made in code

fn wild_duration() -> impl Strategy<Value = Duration> {
    prop_oneof![
        Just(Duration::ZERO),
        Just(Duration::from_millis(1)),
        Just(MAX_DURATION),
        Just(Duration::MAX),
        Just(Duration::from_secs(u64::MAX / 2)),
        any::<u64>().prop_map(Duration::from_millis),
    ]
}

fn wild_state() -> impl Strategy<Value = State> {
    let health = prop::sample::select(vec![Health::New, Health::Up, Health::Down, Health::Paused]);
    let run = prop::option::of((instant(), any::<bool>(), any::<bool>()).prop_map(
        |(start, slow_alerted, stuck)| Run {
            start,
            rid: None,
            slow_alerted,
            stuck,
        },
    ));
    let down = prop::option::of(
        (instant(), instant(), any::<u32>(), any::<usize>()).prop_map(
            |(since, last_alert, repeats, escalated)| DownPeriod {
                since,
                reason: "failed".into(),
                repeats,
                last_alert,
                escalated,
                extra_channels: vec!["pager".into()],
                held: None,
            },
        ),
    );
    (
        health,
        prop::option::of(instant()),
        run,
        any::<u32>(),
        prop::option::of(prop::num::f64::ANY),
        prop::collection::vec(prop::num::f64::ANY, 0..25),
        down,
        prop::option::of(instant()),
        any::<u64>(),
    )
        .prop_map(
            |(
                health,
                last_ping,
                run,
                failures,
                last_duration,
                durations,
                down,
                hold_until,
                n_pings,
            )| {
                State {
                    health,
                    last_ping,
                    run,
                    failures,
                    last_duration,
                    durations,
                    down,
                    hold_until,
                    n_pings,
                    seq: 0,
                    ended_rids: Default::default(),
                    slots: Default::default(),
                }
            },
        )
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn wild_settings_and_stored_states_never_panic(
        spec in valid_check(),
        (grace, max_runtime, realert, min_duration, slow_min, default_grace, after) in (
            prop::option::of(wild_duration()),
            prop::option::of(wild_duration()),
            prop::option::of(wild_duration()),
            prop::option::of(wild_duration()),
            prop::option::of(wild_duration()),
            wild_duration(),
            wild_duration(),
        ),
        slow_factor in prop::num::f64::ANY,
        alert_after_failures in prop::option::of(any::<u32>()),
        state in wild_state(),
        steps in prop::collection::vec((instant(), step()), 1..12),
    ) {
        let mut s = Settings::from_spec(&parse_spec(spec).unwrap(), now(), false).unwrap();
        s.grace_period = grace;
        s.max_runtime = max_runtime;
        s.realert = realert;
        s.min_duration = min_duration;
        s.slow_min = slow_min;
        s.default_grace = default_grace;
        s.slow_factor = slow_factor;
        s.alert_after_failures = alert_after_failures;
        s.escalation.push(Escalation { after, channels: vec![] });
        let mut st = state;
        for (at, step) in steps {
            match step {
                Step::Ping { kind, code, rid } => {
                    st.apply_ping(&s, &Ping { kind, exit_code: code, rid: rid.map(str::to_string), at });
                }
                Step::Run { length_ms, code } => {
                    st.apply_ping(&s, &Ping { kind: PingKind::Start, exit_code: None, rid: None, at });
                    let end = at.checked_add(SignedDuration::from_millis(length_ms)).unwrap_or(at);
                    st.apply_ping(&s, &Ping { kind: PingKind::Success, exit_code: code, rid: None, at: end });
                }
                Step::Tick => {
                    st.tick(&s, at);
                }
                Step::TickAtDeadline => {
                    if let Some(d) = st.next_deadline(&s) {
                        st.tick(&s, d);
                    }
                }
                Step::Pause => {
                    st.pause(at);
                }
                Step::Resume => {
                    st.resume(at);
                }
                Step::Restart => st.on_startup(&s, at),
            }
            st.view(&s, at);
            st.next_deadline(&s);
            s.to_json(&st, at, "http://h");
            // The stored form: written and read back.
            let text = serde_json::to_string(&st).unwrap();
            let _ = serde_json::from_str::<State>(&text);
            let _ = serde_json::to_string(&s.to_spec()).unwrap();
        }
    }
}
