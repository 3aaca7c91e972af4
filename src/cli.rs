//! The command line, as clap definitions only: no logic here.
//! `completions/` and `man/` are generated from these definitions.

use clap::{Args, Parser, Subcommand};
use std::path::PathBuf;
use std::time::Duration;

use crate::duration::{clap_parse as duration, clap_parse_at_least as duration_at_least};

/// The least `--every` and `--timeout` take.
const ONE_SECOND: Duration = Duration::from_secs(1);
/// The least `--ping-timeout` takes.
const SHORTEST_TRY: Duration = Duration::from_millis(100);

#[derive(Debug, Parser)]
#[command(
    name = "hb",
    version,
    about = "Heartbeat monitoring for cron jobs: wrap a job with `hb run`, watch it with `hb serve`",
    propagate_version = true,
    max_term_width = 100
)]
pub struct Cli {
    /// Configuration file [default: hb/config.toml in the platform config dir]
    #[arg(long, global = true, env = "HB_CONFIG", value_name = "FILE")]
    pub config: Option<PathBuf>,

    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run a command and report its start, exit code, duration and output
    #[command(
        after_help = "Exit status: the job's own code; 128+N if signal N killed it; 124 on --timeout; 127 if the command was not found; 126 if it could not be executed; 2 on a usage error.",
        override_usage = "hb run [OPTIONS] <ID> -- <COMMAND> [ARGS]..."
    )]
    Run(RunArgs),
    /// Send one ping (success, start, fail, log or an exit code)
    #[command(
        after_help = "Exit status: 0 when the ping was delivered, 1 when not, 2 on a usage error."
    )]
    Ping(PingArgs),
    /// Print the next due times of a cron expression, an interval or a systemd calendar event
    Schedule(ScheduleArgs),
    /// Run the monitor: ping endpoints, schedules, alerts and the management API
    #[command(
        after_help = "Exit status: 0 after a clean shutdown (SIGTERM or SIGINT), 1 on a runtime failure, 2 on a usage or configuration error."
    )]
    Serve(ServeArgs),
    /// Find cron jobs and systemd timers, propose a check for each and wrap them in hb run
    #[command(
        after_help = "Changes nothing without --apply: prints the jobs, [[check]] tables and a unified diff of each crontab.\nExit status: 0 on success, 1 when the monitor refused a check or a file could not be written, 2 on a usage error, 3 when the monitor cannot be reached."
    )]
    Discover(DiscoverArgs),
    /// List, show, add, change, pause, resume and delete checks on the monitor
    #[command(
        args_conflicts_with_subcommands = true,
        after_help = CLIENT_EXIT
    )]
    Checks(ChecksArgs),
    /// List the monitor's alert channels, or send a test alert
    #[command(args_conflicts_with_subcommands = true, after_help = CLIENT_EXIT)]
    Channels(ChannelsArgs),
    /// One screen: how many checks are in each status, then each check that is not up
    #[command(
        after_help = "Exit status: 0 when no check is down, 1 when some are (or the monitor refused), 2 on a usage error, 3 when the monitor cannot be reached."
    )]
    Status(StatusArgs),
    /// Config as code, both ways: export the monitor's checks and channels, check a file, plan it
    #[command(after_help = CLIENT_EXIT)]
    Config(ConfigArgs),
    /// The monitor's database: copy it between SQLite and PostgreSQL
    Db(DbArgs),
    /// Print a shell completion script
    Completions {
        /// The shell to complete for
        shell: clap_complete::Shell,
    },
    /// Print the man page, or write a page per subcommand into DIR
    Man {
        /// Write hb.1 and hb-<subcommand>.1 into this directory instead of printing hb.1
        dir: Option<PathBuf>,
    },
}

const CLIENT_EXIT: &str = "Exit status: 0 when done, 1 when the monitor refused (the reason is printed), 2 on a usage error (nothing was sent), 3 when the monitor cannot be reached.";

/// Which monitor the operator's commands talk to, and with which key.
#[derive(Debug, Clone, Args)]
pub struct ClientOptions {
    /// The monitor's base URL [default: server in the config file, else http://localhost:8080]
    #[arg(long, global = true, env = "HB_SERVER", value_name = "URL")]
    pub server: Option<String>,

    /// The API key sent as 'Authorization: Bearer KEY' [default: api_key in the config file]
    #[arg(
        long,
        global = true,
        env = "HB_API_KEY",
        hide_env_values = true,
        value_name = "KEY"
    )]
    pub api_key: Option<String>,
}

/// A check's status, as the API names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum StatusFilter {
    New,
    Up,
    Late,
    Down,
    Running,
    Paused,
}

impl StatusFilter {
    pub fn as_str(self) -> &'static str {
        match self {
            StatusFilter::New => "new",
            StatusFilter::Up => "up",
            StatusFilter::Late => "late",
            StatusFilter::Down => "down",
            StatusFilter::Running => "running",
            StatusFilter::Paused => "paused",
        }
    }
}

#[derive(Debug, Args)]
pub struct ChecksArgs {
    #[command(subcommand)]
    pub command: Option<ChecksCommand>,

    #[command(flatten)]
    pub list: ChecksListArgs,

    #[command(flatten)]
    pub client: ClientOptions,
}

#[derive(Debug, Clone, Default, Args)]
pub struct ChecksListArgs {
    /// Only checks with this status
    #[arg(long, value_enum, value_name = "STATUS")]
    pub status: Option<StatusFilter>,

    /// Only checks with this tag
    #[arg(long, value_name = "TAG")]
    pub tag: Option<String>,

    /// Print the API's JSON instead of a table
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Subcommand)]
pub enum ChecksCommand {
    /// List checks (the default)
    List(ChecksListArgs),
    /// Show one check
    Show {
        /// The check's uuid, slug or name
        #[arg(value_name = "ID")]
        id: String,
        /// Print the API's JSON
        #[arg(long)]
        json: bool,
    },
    /// Create a check; prints its uuid
    Add(CheckAddArgs),
    /// Change a check: each flag given replaces that setting
    Edit(CheckEditArgs),
    /// Pause a check: no alerts until it is pinged or resumed
    Pause {
        /// The check's uuid, slug or name
        #[arg(value_name = "ID")]
        id: String,
    },
    /// Resume a paused check (it becomes new)
    Resume {
        /// The check's uuid, slug or name
        #[arg(value_name = "ID")]
        id: String,
    },
    /// Delete a check and its history
    Rm {
        /// The check's uuid, slug or name
        #[arg(value_name = "ID")]
        id: String,
    },
}

/// A check's settings as flags, shared by `add` and `edit`.
#[derive(Debug, Clone, Default, Args)]
pub struct CheckSettingsArgs {
    /// Expect a ping every DURATION (e.g. 24h)
    #[arg(long, conflicts_with_all = ["cron", "oncalendar"], value_parser = duration_at_least(ONE_SECOND), value_name = "DURATION")]
    pub interval: Option<Duration>,

    /// Expect a ping at the times of a cron line (e.g. "0 3 * * *")
    #[arg(long, conflicts_with = "oncalendar", value_name = "EXPR")]
    pub cron: Option<String>,

    /// Expect a ping at the times of a systemd OnCalendar= expression
    #[arg(long, value_name = "EXPR")]
    pub oncalendar: Option<String>,

    /// The IANA time zone of --cron or --oncalendar [default: UTC]
    #[arg(long, value_name = "TZ")]
    pub tz: Option<String>,

    /// How long after the due time the check goes down [default: scales with the period]
    #[arg(long, value_parser = duration_at_least(ONE_SECOND), value_name = "DURATION")]
    pub grace: Option<Duration>,

    /// How long a started run may go on before it is stuck [default: the grace]
    #[arg(long, value_parser = duration_at_least(ONE_SECOND), value_name = "DURATION")]
    pub max_runtime: Option<Duration>,

    /// A tag (repeatable; given, they replace the check's tags)
    #[arg(long = "tag", value_name = "TAG")]
    pub tags: Vec<String>,

    /// A channel to alert (repeatable; given, they replace the check's channels) [default: every channel]
    #[arg(long = "channel", value_name = "CHANNEL")]
    pub channels: Vec<String>,

    /// What the check is about
    #[arg(long, value_name = "TEXT")]
    pub description: Option<String>,

    /// Who to ask about it
    #[arg(long, value_name = "WHO")]
    pub owner: Option<String>,
}

#[derive(Debug, Args)]
pub struct CheckAddArgs {
    /// The check's name (unique; its slug is made from it)
    #[arg(value_name = "NAME")]
    pub name: String,

    #[command(flatten)]
    pub settings: CheckSettingsArgs,
}

#[derive(Debug, Args)]
pub struct CheckEditArgs {
    /// The check's uuid, slug or name
    #[arg(value_name = "ID")]
    pub id: String,

    /// A new name
    #[arg(long, value_name = "NAME")]
    pub name: Option<String>,

    #[command(flatten)]
    pub settings: CheckSettingsArgs,
}

#[derive(Debug, Args)]
pub struct ChannelsArgs {
    #[command(subcommand)]
    pub command: Option<ChannelsCommand>,

    /// Print the API's JSON instead of a table
    #[arg(long)]
    pub json: bool,

    #[command(flatten)]
    pub client: ClientOptions,
}

#[derive(Debug, Subcommand)]
pub enum ChannelsCommand {
    /// List channels (the default)
    List {
        /// Print the API's JSON instead of a table
        #[arg(long)]
        json: bool,
    },
    /// Send a test alert through a channel
    Test {
        /// The channel's name
        #[arg(value_name = "NAME")]
        name: String,
    },
}

#[derive(Debug, Args)]
pub struct StatusArgs {
    /// Print JSON: the counts and the checks that are not up
    #[arg(long)]
    pub json: bool,

    #[command(flatten)]
    pub client: ClientOptions,
}

#[derive(Debug, Args)]
pub struct ConfigArgs {
    #[command(subcommand)]
    pub command: ConfigCommand,

    #[command(flatten)]
    pub client: ClientOptions,
}

#[derive(Debug, Args)]
pub struct DbArgs {
    #[command(subcommand)]
    pub command: DbCommand,
}

#[derive(Debug, Subcommand)]
pub enum DbCommand {
    /// Copy every check, ping, flip, channel, delivery and the monitor's secret from one database to another
    #[command(
        after_help = "FROM and TO are each a SQLite file or a postgres://USER@HOST/DB URL. Stop hb serve first. The target is created (or migrated) as needed and written in one transaction.\nExit status: 0 when copied, 1 when a database cannot be opened, read or written, 2 when the target already holds checks or channels."
    )]
    Copy {
        /// The database to copy from: a SQLite file or a postgres:// URL
        #[arg(value_name = "FROM")]
        from: String,
        /// The database to copy into: a SQLite file or a postgres:// URL
        #[arg(value_name = "TO")]
        to: String,
    },
}

#[derive(Debug, Subcommand)]
pub enum ConfigCommand {
    /// Print the monitor's checks and channels as a config file (TOML)
    Export {
        /// Write secrets (tokens, keys, passwords) instead of "••••"; needs a full API key
        #[arg(long)]
        with_secrets: bool,
    },
    /// Validate a config file: exit 0, or 2 with FILE:LINE: problem
    Check {
        /// The config file
        #[arg(value_name = "FILE")]
        file: PathBuf,
    },
    /// Print what loading a config file would create, change and unmanage on the monitor (nothing is changed)
    Plan {
        /// The config file
        #[arg(value_name = "FILE")]
        file: PathBuf,
        /// Print the API's JSON
        #[arg(long)]
        json: bool,
    },
}

/// Where pings go and how hard to try; shared by `run` and `ping`.
#[derive(Debug, Clone, Args)]
pub struct PingOptions {
    /// The monitor's base URL, for IDs that are UUIDs or slugs [default: http://localhost:8080]
    #[arg(long, env = "HB_SERVER", value_name = "URL")]
    pub server: Option<String>,

    /// The ping key used in slug URLs ({server}/api/v1/ping/{key}/{slug})
    #[arg(long, env = "HB_PING_KEY", value_name = "KEY")]
    pub ping_key: Option<String>,

    /// Tries after the first one, for errors worth retrying
    #[arg(long, default_value_t = 5, value_name = "N")]
    pub retries: u32,

    /// Time limit of one try (at least 100ms)
    #[arg(long, default_value = "10s", value_parser = duration_at_least(SHORTEST_TRY), value_name = "DURATION")]
    pub ping_timeout: Duration,

    /// Total time all pings of one run may take, retries included
    #[arg(long, default_value = "30s", value_parser = duration, value_name = "DURATION")]
    pub ping_budget: Duration,

    /// Extra request header, 'Name: value' (repeatable)
    #[arg(long = "header", short = 'H', value_name = "'K: V'")]
    pub headers: Vec<String>,

    /// Print nothing of hb's own on stderr (the job's output still passes through)
    #[arg(long, short = 'q')]
    pub quiet: bool,
}

#[derive(Debug, Args)]
pub struct RunArgs {
    /// A ping URL, a [checks] alias from the config file, a check UUID or a slug
    #[arg(value_name = "ID")]
    pub id: String,

    /// The command to run (no shell) and its arguments
    #[arg(last = true, required = true, value_name = "COMMAND")]
    pub command: Vec<std::ffi::OsString>,

    #[command(flatten)]
    pub ping: PingOptions,

    /// Do not send the start signal
    #[arg(long)]
    pub no_start: bool,

    /// Bytes of output (the tail of stdout and stderr) sent with the end ping
    #[arg(long, default_value_t = 10_000, value_name = "BYTES")]
    pub body_limit: usize,

    /// Stop the job (SIGTERM to its process group) when it runs longer (at least 1s); counts as exit code 124
    #[arg(long, value_parser = duration_at_least(ONE_SECOND), value_name = "DURATION")]
    pub timeout: Option<Duration>,

    /// After the timeout's SIGTERM, wait this long before SIGKILL (0s: at once)
    #[arg(long, default_value = "10s", value_parser = duration, value_name = "DURATION")]
    pub kill_after: Duration,

    /// Run the command again and again, start to start (at least 1s apart), reporting each run
    #[arg(long, value_parser = duration_at_least(ONE_SECOND), value_name = "DURATION")]
    pub every: Option<Duration>,

    #[command(flatten)]
    pub create: CreateArgs,
}

/// `hb run <slug> --create …`: the monitor makes the check on its first ping.
#[derive(Debug, Clone, Default, Args)]
pub struct CreateArgs {
    /// Ask the monitor to create the check (named by its slug) if it does not exist
    #[arg(long, help_heading = "Creating the check")]
    pub create: bool,

    /// The new check's interval [default: 1d]
    #[arg(long = "interval", conflicts_with_all = ["cron", "oncalendar"], requires = "create", value_parser = duration_at_least(ONE_SECOND), value_name = "DURATION", help_heading = "Creating the check")]
    pub interval: Option<Duration>,

    /// The new check's cron line, instead
    #[arg(
        long = "cron",
        conflicts_with = "oncalendar",
        requires = "create",
        value_name = "EXPR",
        help_heading = "Creating the check"
    )]
    pub cron: Option<String>,

    /// The new check's systemd OnCalendar= expression, instead
    #[arg(
        long = "oncalendar",
        requires = "create",
        value_name = "EXPR",
        help_heading = "Creating the check"
    )]
    pub oncalendar: Option<String>,

    /// The time zone of --cron or --oncalendar [default: UTC]
    #[arg(
        long = "tz",
        requires = "create",
        value_name = "TZ",
        help_heading = "Creating the check"
    )]
    pub tz: Option<String>,

    /// The new check's grace period
    #[arg(long = "grace", requires = "create", value_parser = duration_at_least(ONE_SECOND), value_name = "DURATION", help_heading = "Creating the check")]
    pub grace: Option<Duration>,
}

#[derive(Debug, Args)]
pub struct PingArgs {
    /// A ping URL, a [checks] alias from the config file, a check UUID or a slug
    #[arg(value_name = "ID")]
    pub id: String,

    /// success | start | fail | log | an exit code 0..255
    #[arg(default_value = "success", value_name = "SIGNAL")]
    pub signal: String,

    /// Body to send: TEXT, @FILE, or - for stdin
    #[arg(long, value_name = "TEXT|@FILE|-")]
    pub data: Option<String>,

    #[command(flatten)]
    pub ping: PingOptions,
}

#[derive(Debug, Args)]
pub struct ScheduleArgs {
    /// A cron expression ("0 3 * * *", "@daily") or an interval ("24h")
    #[arg(value_name = "CRON|INTERVAL", required_unless_present = "oncalendar")]
    pub schedule: Option<String>,

    /// A systemd calendar event instead ("Mon..Fri *-*-* 02:00:00"); repeatable, due at any
    #[arg(long, value_name = "EXPR", conflicts_with = "schedule")]
    pub oncalendar: Vec<String>,

    /// IANA time zone the cron expression or calendar event is read in
    #[arg(long, default_value = "UTC", value_name = "TZ")]
    pub tz: String,

    /// How many due times to print
    #[arg(long, default_value_t = 10, value_name = "N")]
    pub count: usize,

    /// Print due times strictly after this RFC 3339 time [default: now]
    #[arg(long, value_name = "RFC3339")]
    pub after: Option<String>,
}

#[derive(Debug, Args)]
pub struct DiscoverArgs {
    /// Read this user-format crontab file instead of the invoking user's (repeatable)
    #[arg(long, value_name = "FILE")]
    pub crontab: Vec<PathBuf>,

    /// Also read /etc/crontab and /etc/cron.d/* (with their user column)
    #[arg(long)]
    pub system: bool,

    /// Also read systemd timer units (OnCalendar=) from /etc, /run, /usr/lib and /lib
    #[arg(long)]
    pub systemd: bool,

    /// Read the system paths under DIR (an image); the invoking user's crontab is then not read
    #[arg(long, value_name = "DIR")]
    pub root: Option<PathBuf>,

    /// Create the checks through the API, then back up and rewrite the crontabs
    #[arg(long)]
    pub apply: bool,

    /// The monitor's base URL, for --apply [default: http://localhost:8080]
    #[arg(long, env = "HB_SERVER", value_name = "URL")]
    pub server: Option<String>,

    /// The management API key, for --apply
    #[arg(long, env = "HB_API_KEY", value_name = "KEY", hide_env_values = true)]
    pub api_key: Option<String>,
}

#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Address to listen on [default: 127.0.0.1:8080]
    #[arg(long, env = "HB_LISTEN", value_name = "ADDR")]
    pub listen: Option<String>,

    /// SQLite database file, or postgres://USER@HOST/DB [default: hb/hb.db in the platform data dir]
    #[arg(long, env = "HB_DB", value_name = "PATH|URL")]
    pub db: Option<PathBuf>,

    /// Public URL used in ping_url and alert links [default: http:// + the request's Host]
    #[arg(long, env = "HB_BASE_URL", value_name = "URL")]
    pub base_url: Option<String>,

    /// The key in slug ping URLs (/api/v1/ping/{key}/{slug})
    #[arg(long, env = "HB_PING_KEY", value_name = "KEY")]
    pub ping_key: Option<String>,

    /// Allow listening on a non-loopback address without an API key
    #[arg(long)]
    pub insecure: bool,

    /// How log lines on stderr are written: text for people, json (one object a line) for machines
    #[arg(long, value_enum, default_value_t = LogFormat::Text, env = "HB_LOG_FORMAT", value_name = "FORMAT")]
    pub log_format: LogFormat,
}

/// `hb serve --log-format`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum LogFormat {
    Text,
    Json,
}
