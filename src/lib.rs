//! hb: heartbeat monitoring for cron jobs.
//!
//! `hb run` wraps a job and reports it; `hb serve` watches for reports and alerts.
//! The binary (`src/main.rs`) only parses the command line and calls [`run`].

pub mod cli;
pub mod client;
pub mod clock;
pub mod config;
pub mod discover;
pub mod docs;
pub mod duration;
pub mod error;
pub mod exit;
pub mod percent;
pub mod run;
pub mod serve;

use cli::{Cli, Command};

/// Runs one command line; returns the process exit code. An error is printed here,
/// once, as one `hb:` line.
pub fn run(cli: Cli) -> i32 {
    let config = config::ConfigSource::locate(cli.config.as_deref());
    let result = match cli.command {
        // The wrapper's code is the job's; its own problems never stop the job.
        Command::Run(args) => return run::cmd_run(args, &config),
        Command::Ping(args) => return run::cmd_ping(args, &config),
        Command::Schedule(args) => return serve::schedule::cmd_schedule(&args),
        Command::Discover(args) => return discover::cmd_discover(&args, &config),
        Command::Serve(args) => serve::cmd_serve(args, &config),
        // The operator's commands: their own exit codes (e.g. `hb status`: 1 when down).
        Command::Checks(args) => return finish(client::checks::cmd_checks(args, &config)),
        Command::Channels(args) => return finish(client::channels::cmd_channels(args, &config)),
        Command::Status(args) => return finish(client::status::cmd_status(args, &config)),
        Command::Config(args) => return finish(client::config::cmd_config(args, &config)),
        Command::Db(args) => serve::copy::cmd_db(args),
        Command::Completions { shell } => docs::print_completions(shell),
        Command::Man { dir } => docs::man(dir.as_deref()),
    };
    finish(result.map(|()| 0))
}

/// The exit code of a command's result; an error is printed here, once.
fn finish(result: error::Result<i32>) -> i32 {
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("hb: {e}");
            e.code()
        }
    }
}
