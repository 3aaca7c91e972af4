//! The wrapper: `hb run` and `hb ping`.

use crate::cli::{PingArgs, RunArgs};
use crate::config::ConfigSource;

pub fn cmd_run(args: RunArgs, config: &ConfigSource) -> i32 {
    let _ = (args, config);
    unimplemented!("hb run")
}

pub fn cmd_ping(args: PingArgs, config: &ConfigSource) -> i32 {
    let _ = (args, config);
    unimplemented!("hb ping")
}
