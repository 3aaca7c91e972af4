//! A throwaway PostgreSQL cluster for the tests: one per test process, started on first
//! use on a free loopback port, stopped (and its directory removed) by a small watchdog
//! once the test process has ended. `.ci/postgres-deps.sh` installs PostgreSQL.

use std::collections::HashMap;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

pub(crate) struct Cluster {
    pub port: u16,
    pub dir: PathBuf,
    /// The postmaster's pid.
    pub pid: u32,
    /// What was spawned (runuser or postgres, and the watchdog): they outlive the
    /// tests on purpose, the watchdog ends the cluster once this process is gone.
    _spawned: (Child, Child),
}

impl Cluster {
    /// A URL of the cluster's `postgres` database (for administration).
    pub(crate) fn admin_url(&self) -> String {
        format!("postgres://hb@127.0.0.1:{}/postgres", self.port)
    }

    pub(crate) fn admin(&self) -> postgres::Client {
        postgres::Client::connect(&self.admin_url(), postgres::NoTls)
            .unwrap_or_else(|e| panic!("cannot connect to the test cluster: {e}"))
    }
}

/// Whether the behavioural tests run on PostgreSQL (`HB_TEST_STORE=postgres`).
pub(crate) fn on_postgres() -> bool {
    std::env::var("HB_TEST_STORE").is_ok_and(|v| v == "postgres")
}

/// Returns true (and says why) when a test that inspects the SQLite file itself runs
/// under `HB_TEST_STORE=postgres`: it then has nothing to look at.
pub(crate) fn skip_on_postgres(why: &str) -> bool {
    if on_postgres() {
        eprintln!("skipped on PostgreSQL: {why}");
        return true;
    }
    false
}

pub(crate) fn cluster() -> &'static Cluster {
    static CLUSTER: OnceLock<Cluster> = OnceLock::new();
    CLUSTER.get_or_init(start)
}

/// A new, empty database; its URL.
pub(crate) fn fresh_db() -> String {
    static N: AtomicUsize = AtomicUsize::new(0);
    let cluster = cluster();
    let n = N.fetch_add(1, Ordering::SeqCst);
    let name = format!("t_{n}");
    cluster
        .admin()
        .batch_execute(&format!("CREATE DATABASE {name}"))
        .unwrap_or_else(|e| panic!("cannot create the test database {name}: {e}"));
    format!("postgres://hb@127.0.0.1:{}/{name}", cluster.port)
}

/// The database standing for a SQLite path under `HB_TEST_STORE=postgres`: the same
/// path always gives the same database (restarts keep their data).
pub(crate) fn db_for(path: &Path) -> String {
    static MAP: OnceLock<Mutex<HashMap<PathBuf, String>>> = OnceLock::new();
    let map = MAP.get_or_init(Default::default);
    let mut map = map.lock().unwrap_or_else(|e| e.into_inner());
    map.entry(path.to_path_buf())
        .or_insert_with(fresh_db)
        .clone()
}

fn bin_dir() -> PathBuf {
    let mut found: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.path().join("bin"))
        .filter(|bin| bin.join("initdb").exists() && bin.join("postgres").exists())
        .collect();
    // The newest version (directories are named by major version).
    found.sort_by_key(|p| {
        p.parent()
            .and_then(|v| v.file_name())
            .and_then(|v| v.to_str())
            .and_then(|v| v.parse::<u32>().ok())
            .unwrap_or(0)
    });
    found.pop().unwrap_or_else(|| {
        panic!("PostgreSQL is not installed (no /usr/lib/postgresql/*/bin/initdb); run .ci/postgres-deps.sh")
    })
}

fn is_root() -> bool {
    unsafe { libc::geteuid() == 0 }
}

/// `program args…`, as the `postgres` user when running as root (initdb refuses root).
fn as_pg(program: &Path) -> Command {
    if is_root() {
        let mut c = Command::new("runuser");
        c.args(["-u", "postgres", "--"]).arg(program);
        c
    } else {
        Command::new(program)
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn start() -> Cluster {
    let bin = bin_dir();
    let dir = std::env::temp_dir().join(format!(
        "hb-pg-{}-{:08x}",
        std::process::id(),
        fastrand::u32(..)
    ));
    let data = dir.join("data");
    std::fs::create_dir_all(&dir).unwrap();
    if is_root() {
        let chown = Command::new("chown")
            .args(["-R", "postgres:postgres"])
            .arg(&dir)
            .status()
            .unwrap();
        assert!(
            chown.success(),
            "cannot chown {} to postgres",
            dir.display()
        );
    }
    let initdb = as_pg(&bin.join("initdb"))
        .arg("-D")
        .arg(&data)
        .args([
            "-A",
            "trust",
            "-U",
            "hb",
            "-E",
            "UTF8",
            "--locale=C",
            "--no-sync",
        ])
        .stdin(Stdio::null())
        .output()
        .unwrap_or_else(|e| panic!("cannot run initdb ({e}); run .ci/postgres-deps.sh"));
    assert!(
        initdb.status.success(),
        "initdb failed: {}{}",
        String::from_utf8_lossy(&initdb.stdout),
        String::from_utf8_lossy(&initdb.stderr)
    );
    let port = free_port();
    let log_path = dir.join("postgres.log");
    let log = std::fs::File::create(&log_path).unwrap();
    let postmaster = as_pg(&bin.join("postgres"))
        .arg("-D")
        .arg(&data)
        .arg("-p")
        .arg(port.to_string())
        .arg("-k")
        .arg(&dir)
        .args([
            "-c",
            "listen_addresses=127.0.0.1",
            "-c",
            "fsync=off",
            "-c",
            "synchronous_commit=off",
            "-c",
            "full_page_writes=off",
            "-c",
            "max_connections=300",
        ])
        .stdin(Stdio::null())
        .stdout(log.try_clone().unwrap())
        .stderr(log)
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start postgres ({e}); run .ci/postgres-deps.sh"));
    let url = format!("postgres://hb@127.0.0.1:{port}/postgres");
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if postgres::Client::connect(&url, postgres::NoTls).is_ok() {
            break;
        }
        if Instant::now() >= deadline {
            panic!(
                "the test PostgreSQL did not accept connections within 30 s; its log:\n{}",
                std::fs::read_to_string(&log_path).unwrap_or_default()
            );
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    // The postmaster's own pid (runuser stays in between when running as root).
    let pid: u32 = std::fs::read_to_string(data.join("postmaster.pid"))
        .ok()
        .and_then(|t| t.lines().next().and_then(|l| l.trim().parse().ok()))
        .expect("postmaster.pid names the postmaster");
    // Stops it once this test process is gone: that postmaster by its pid, then the dir.
    let script = format!(
        "while kill -0 {me} 2>/dev/null; do sleep 0.5; done; \
         kill -INT {pid} 2>/dev/null; \
         i=0; while kill -0 {pid} 2>/dev/null && [ $i -lt 100 ]; do sleep 0.1; i=$((i+1)); done; \
         rm -rf '{dir}'",
        me = std::process::id(),
        dir = dir.display()
    );
    let watchdog = Command::new("sh")
        .args(["-c", &script])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawning the cluster's watchdog");
    Cluster {
        port,
        dir,
        pid,
        _spawned: (postmaster, watchdog),
    }
}

/// Ends every connection to the database at `url` but this one (as a failover or a
/// restarted PostgreSQL would): the nodes must reconnect by themselves.
pub(crate) fn terminate_connections(url: &str) {
    let db = url.rsplit('/').next().unwrap().to_string();
    let mut admin = cluster().admin();
    let ended = admin
        .query(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity
             WHERE datname = $1 AND pid <> pg_backend_pid()",
            &[&db],
        )
        .unwrap();
    assert!(!ended.is_empty(), "no connection to {db} was open");
}
