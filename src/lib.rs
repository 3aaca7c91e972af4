//! hb: heartbeat monitoring for cron jobs.
//!
//! `hb run` wraps a job and reports it; `hb serve` watches for reports and alerts.
//! The binary (`src/main.rs`) only parses the command line and calls [`run`].

pub mod cli;
pub mod clock;
pub mod config;
pub mod docs;
pub mod duration;
pub mod exit;
pub mod percent;
pub mod run;
pub mod serve;

use cli::{Cli, Command};

/// Runs one command line; returns the process exit code.
pub fn run(cli: Cli) -> i32 {
    let config = config::ConfigSource::locate(cli.config.as_deref());
    match cli.command {
        Command::Run(args) => run::cmd_run(args, &config),
        Command::Ping(args) => run::cmd_ping(args, &config),
        Command::Schedule(args) => serve::schedule::cmd_schedule(&args),
        Command::Serve(args) => serve::cmd_serve(args, &config),
        Command::Completions { shell } => docs::print_completions(shell),
        Command::Man { dir } => docs::man(dir.as_deref()),
    }
}
