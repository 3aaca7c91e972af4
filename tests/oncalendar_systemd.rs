//! hb's `oncalendar` schedules against systemd itself: random calendar expressions,
//! base times (half of them near a daylight-saving change) and zones, each given to
//! `systemd-analyze calendar --iterations=N --base-time=@T` (with `TZ` set to the zone)
//! and to hb's parser and engine. The normalized form, whether the expression is
//! accepted, and every elapse must agree. Needs `systemd-analyze`: `.ci/systemd-deps.sh`
//! installs it.

use std::collections::HashSet;
use std::process::Command;
use std::time::Instant;

use hb::serve::schedule::{CalendarInput, OnCalendarSchedule};
use jiff::Timestamp;
use jiff::tz::TimeZone;

/// Zones with daylight saving of every kind: the usual hour (Paris, New York, London,
/// Sydney, Auckland), half an hour (Lord Howe), changes at midnight (Santiago, Havana),
/// a negative one (Dublin), a 45-minute offset (Chatham), none (Tokyo, Kolkata), and a
/// zone that leaves it for Ramadan (Casablanca).
const ZONES: [&str; 15] = [
    "UTC",
    "Europe/Paris",
    "America/New_York",
    "Australia/Lord_Howe",
    "Europe/London",
    "America/Santiago",
    "America/Havana",
    "Europe/Dublin",
    "Pacific/Chatham",
    "Australia/Sydney",
    "Pacific/Auckland",
    "Asia/Tokyo",
    "Asia/Kolkata",
    "America/St_Johns",
    "Africa/Casablanca",
];

const GROUPS: usize = 80;
const PER_GROUP: usize = 25;
const ITERATIONS: usize = 8;

fn systemd_analyze() -> String {
    let found = Command::new("systemd-analyze").arg("--version").output();
    match found {
        Ok(out) if out.status.success() => "systemd-analyze".into(),
        _ => panic!(
            "systemd-analyze is not installed: run .ci/systemd-deps.sh (it installs Debian's systemd package) and run the tests again"
        ),
    }
}

struct Gen {
    rng: fastrand::Rng,
}

impl Gen {
    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[self.rng.usize(..items.len())]
    }

    fn chance(&mut self, percent: u32) -> bool {
        self.rng.u32(0..100) < percent
    }

    /// One item of a chain over `low..=high`: a value, a range, a repetition or both.
    fn item(&mut self, low: i64, high: i64, width: usize) -> String {
        let value = |g: &mut Gen| g.rng.i64(low..=high);
        let v = |n: i64| format!("{n:0width$}");
        match self.rng.u32(0..10) {
            0..=4 => v(value(self)),
            5 | 6 => {
                let a = value(self);
                let b = if self.chance(90) {
                    self.rng.i64(a..=high)
                } else {
                    value(self)
                };
                v(a) + ".." + &v(b)
            }
            7 | 8 => {
                let a = value(self);
                let step = self.rng.i64(1..=((high - low) / 2).max(1));
                format!("{}/{}", v(a), step)
            }
            _ => {
                let a = value(self);
                let b = self.rng.i64(a..=high);
                let step = self.rng.i64(1..=((b - a).max(1)));
                format!("{}..{}/{}", v(a), v(b), step)
            }
        }
    }

    /// A chain: `*` or one to three items.
    fn chain(&mut self, low: i64, high: i64, width: usize, star: u32) -> String {
        if self.chance(star) {
            return "*".into();
        }
        let n = if self.chance(75) {
            1
        } else {
            self.rng.usize(2..=3)
        };
        (0..n)
            .map(|_| self.item(low, high, width))
            .collect::<Vec<_>>()
            .join(",")
    }

    fn seconds(&mut self) -> String {
        if self.chance(70) {
            return self.chain(0, 59, 2, 20);
        }
        // Fractions: a value, or a repetition every so many tenths.
        let start = self.rng.u32(0..59);
        match self.rng.u32(0..3) {
            0 => format!("{start:02}.{}", self.rng.u32(0..1000)),
            1 => format!("{start:02}/{}.{}", self.rng.u32(0..20), self.rng.u32(1..10)),
            _ => format!("{start:02}..{:02}/0.5", self.rng.u32(start + 1..=59)),
        }
    }

    fn weekdays(&mut self) -> String {
        const DAYS: [&str; 7] = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];
        const LONG: [&str; 7] = [
            "Monday",
            "Tuesday",
            "Wednesday",
            "Thursday",
            "Friday",
            "Saturday",
            "Sunday",
        ];
        let name = |g: &mut Gen, i: usize| {
            let n = if g.chance(20) { LONG[i] } else { DAYS[i] };
            if g.chance(15) {
                n.to_uppercase()
            } else {
                n.to_string()
            }
        };
        let n = self.rng.usize(1..=2);
        (0..n)
            .map(|_| {
                let a = self.rng.usize(0..7);
                if self.chance(50) {
                    let b = if self.chance(90) {
                        self.rng.usize(a..7)
                    } else {
                        self.rng.usize(0..7)
                    };
                    let sep = if self.chance(80) { ".." } else { "-" };
                    format!("{}{sep}{}", name(self, a), name(self, b))
                } else {
                    name(self, a)
                }
            })
            .collect::<Vec<_>>()
            .join(",")
    }

    fn date(&mut self) -> String {
        let year = if self.chance(85) {
            "*".to_string()
        } else if self.chance(50) {
            format!("{}", self.rng.i64(2024..=2045))
        } else {
            let a = self.rng.i64(24..=40);
            format!("{a}..{}", self.rng.i64(a..=45))
        };
        let month = self.chain(1, 12, 2, 60);
        let from_end = self.chance(15);
        let day = if from_end {
            self.chain(1, 7, 2, 10)
        } else {
            self.chain(1, 31, 2, 55)
        };
        let sep = if from_end { "~" } else { "-" };
        if self.chance(30) && year == "*" {
            format!("{month}{sep}{day}")
        } else {
            format!("{year}-{month}{sep}{day}")
        }
    }

    fn time(&mut self) -> String {
        let hour = self.chain(0, 23, 2, 20);
        let minute = self.chain(0, 59, 2, 15);
        if self.chance(30) {
            format!("{hour}:{minute}")
        } else {
            format!("{hour}:{minute}:{}", self.seconds())
        }
    }

    fn expression(&mut self) -> String {
        const SHORT: [&str; 12] = [
            "minutely",
            "hourly",
            "daily",
            "weekly",
            "monthly",
            "yearly",
            "annually",
            "quarterly",
            "semiannually",
            "semi-annually",
            "biannually",
            "Daily",
        ];
        let mut expr = if self.chance(10) {
            self.pick(&SHORT).to_string()
        } else {
            let mut parts = Vec::new();
            if self.chance(35) {
                parts.push(self.weekdays());
            }
            let date = self.chance(65);
            if date {
                parts.push(self.date());
            }
            if !date || self.chance(85) {
                parts.push(self.time());
            }
            if parts.is_empty() {
                parts.push(self.time());
            }
            parts.join(" ")
        };
        if self.chance(5) {
            // A typo of some kind: systemd refuses it, so must hb.
            let broken = [
                "*-*-* 24:00",
                "*-*-32",
                "*-13-01",
                "Mon..",
                "Fri..Mon",
                "*:*:60",
                "*-*-* 1:2:3:4",
                "*/2:00",
                "Mond 12:00",
                "*-02-30",
                "*-*~29",
                "1969-01-01",
                "2200-01-01",
                "*:0/0",
                "*:5..2",
                "12",
                "*-*-* 12:00 Mars/Base",
            ];
            expr = self.pick(&broken).to_string();
        }
        if self.chance(10) {
            // A zone at the end (never an abbreviation of `zone`: hb refuses those, as
            // systemd's reading of them changes from run to run).
            let suffix = match self.rng.u32(0..3) {
                0 => "UTC",
                1 => self.pick(&ZONES),
                _ => self.pick(&["Asia/Tokyo", "America/Los_Angeles", "Europe/Berlin", "utc"]),
            };
            expr = format!("{expr} {suffix}");
        }
        expr
    }

    /// A base time: half of them within a day and a half of a change of `zone`'s
    /// offset, the others anywhere from 2024 to 2040.
    fn base(&mut self, zone: &str) -> (i64, u32) {
        let tz = TimeZone::get(zone).unwrap();
        let anywhere = self.rng.i64(1_704_067_200..2_208_988_800);
        let near = Timestamp::from_second(anywhere)
            .ok()
            .and_then(|t| tz.following(t).next())
            .map(|transition| transition.timestamp().as_second());
        let second = match near {
            Some(change) if self.chance(50) => change + self.rng.i64(-129_600..=129_600),
            _ => anywhere,
        };
        let millis = if self.chance(10) {
            self.rng.u32(0..1000)
        } else {
            0
        };
        (second, millis)
    }
}

/// What systemd said of one expression.
#[derive(Debug, Default)]
struct Answer {
    normalized: String,
    /// Elapses in UTC, `YYYY-MM-DD HH:MM:SS`.
    elapses: Vec<String>,
}

/// Runs one batch; returns the answers of the accepted expressions (by expression) and
/// the set of refused ones.
fn ask_systemd(
    program: &str,
    zone: &str,
    base: &str,
    exprs: &[String],
) -> (Vec<(String, Answer)>, HashSet<String>, HashSet<String>) {
    let out = Command::new(program)
        .env("TZ", zone)
        .env("SYSTEMD_COLORS", "0")
        .env("SYSTEMD_PAGER", "")
        .arg("calendar")
        .arg(format!("--iterations={ITERATIONS}"))
        .arg(format!("--base-time={base}"))
        .args(exprs)
        .output()
        .expect("systemd-analyze runs");
    let stderr = String::from_utf8_lossy(&out.stderr);
    let refused: HashSet<String> = exprs
        .iter()
        .filter(|e| stderr.contains(&format!("Failed to parse calendar specification '{e}'")))
        .cloned()
        .collect();
    // systemd gives up after 1000 steps ("Infinite loop in calendar calculation") and
    // prints nothing else for that expression.
    let gave_up: HashSet<String> = exprs
        .iter()
        .filter(|e| stderr.contains(&format!("Failed to determine next elapse for '{e}'")))
        .cloned()
        .collect();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let mut answers: Vec<Answer> = Vec::new();
    let in_utc = stdout.contains("(in UTC):");
    for line in stdout.lines() {
        let line = line.trim();
        if let Some(form) = line.strip_prefix("Normalized form: ") {
            answers.push(Answer {
                normalized: form.to_string(),
                elapses: Vec::new(),
            });
            continue;
        }
        let time_line = if in_utc {
            line.strip_prefix("(in UTC): ")
        } else {
            line.strip_prefix("Next elapse: ").or_else(|| {
                line.split_once(": ")
                    .filter(|(k, _)| k.starts_with("Iter. #"))
                    .map(|(_, v)| v)
            })
        };
        if let Some(text) = time_line
            && text != "never"
        {
            // "Sat 2026-03-28 12:00:00 UTC"
            let fields: Vec<&str> = text.split_whitespace().collect();
            if let Some(answer) = answers.last_mut() {
                answer.elapses.push(format!("{} {}", fields[1], fields[2]));
            }
        }
    }
    let accepted: Vec<&String> = exprs
        .iter()
        .filter(|e| !refused.contains(*e) && !gave_up.contains(*e))
        .collect();
    assert_eq!(
        accepted.len(),
        answers.len(),
        "one block per accepted expression in TZ={zone}: {stdout}\n{stderr}"
    );
    (
        accepted.into_iter().cloned().zip(answers).collect(),
        refused,
        gave_up,
    )
}

fn ours(expr: &str, zone: &str, base: Timestamp) -> Result<(String, Vec<String>), String> {
    let schedule = OnCalendarSchedule::parse(&CalendarInput::One(expr.into()), zone)
        .map_err(|(_, message)| message)?;
    let mut elapses = Vec::new();
    let mut t = base;
    for _ in 0..ITERATIONS {
        let Some(next) = schedule.next_after(t) else {
            break;
        };
        let shown = Timestamp::from_second(next.as_second()).unwrap();
        elapses.push(shown.strftime("%Y-%m-%d %H:%M:%S").to_string());
        t = next;
    }
    Ok((schedule.normalized().join("\n"), elapses))
}

#[test]
fn oncalendar_matches_systemd_analyze() {
    let program = systemd_analyze();
    let started = Instant::now();
    let seed = std::env::var("HB_ONCALENDAR_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(20_260_329);
    let mut generator = Gen {
        rng: fastrand::Rng::with_seed(seed),
    };
    let (mut cases, mut accepted, mut elapses) = (0, 0, 0);
    let mut divergences = Vec::new();
    for group in 0..GROUPS {
        let zone = ZONES[group % ZONES.len()];
        let (second, millis) = generator.base(zone);
        let base = Timestamp::new(second, millis as i32 * 1_000_000).unwrap();
        let base_arg = if millis == 0 {
            format!("@{second}")
        } else {
            format!("@{second}.{millis:03}")
        };
        let mut exprs: Vec<String> = Vec::new();
        while exprs.len() < PER_GROUP {
            let e = generator.expression();
            if !exprs.contains(&e) {
                exprs.push(e);
            }
        }
        let (answers, refused, gave_up) = ask_systemd(&program, zone, &base_arg, &exprs);
        for expr in &gave_up {
            // systemd stops at some iteration without saying which: hb must stop too.
            cases += 1;
            match ours(expr, zone, base) {
                Ok((_, got)) if got.len() < ITERATIONS => {}
                other => divergences.push(format!(
                    "TZ={zone} {expr:?} after {base_arg}: systemd gives up (1000 steps), hb {other:?}"
                )),
            }
        }
        for expr in &refused {
            cases += 1;
            if let Ok((normalized, _)) = ours(expr, zone, base) {
                divergences.push(format!(
                    "TZ={zone} {expr:?}: systemd refuses it, hb reads it as {normalized:?}"
                ));
            }
        }
        for (expr, answer) in answers {
            cases += 1;
            accepted += 1;
            elapses += answer.elapses.len();
            match ours(&expr, zone, base) {
                Err(e) => divergences.push(format!(
                    "TZ={zone} {expr:?}: systemd reads it as {:?}, hb refuses it: {e}",
                    answer.normalized
                )),
                Ok((normalized, got)) => {
                    if normalized != answer.normalized {
                        divergences.push(format!(
                            "TZ={zone} {expr:?}: normalized {normalized:?}, systemd {:?}",
                            answer.normalized
                        ));
                    }
                    if got != answer.elapses {
                        divergences.push(format!(
                            "TZ={zone} {expr:?} after {base_arg} ({base}): hb {got:?}, systemd {:?}",
                            answer.elapses
                        ));
                    }
                }
            }
        }
    }
    eprintln!(
        "oncalendar vs systemd-analyze (seed {seed}): {cases} expressions ({accepted} accepted, {elapses} elapses compared) in {} zones, {} divergences, {:.1}s",
        ZONES.len(),
        divergences.len(),
        started.elapsed().as_secs_f64()
    );
    assert!(
        divergences.is_empty(),
        "{} divergences from systemd-analyze, the first ones:\n{}",
        divergences.len(),
        divergences
            .iter()
            .take(25)
            .cloned()
            .collect::<Vec<_>>()
            .join("\n")
    );
    assert!(
        cases >= 1000 && accepted >= 700,
        "{cases} cases, {accepted} accepted"
    );
}
