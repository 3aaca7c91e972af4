//! The monitor: `hb serve`.

pub mod notify;
pub mod schedule;

use crate::cli::ServeArgs;
use crate::config::ConfigSource;

pub fn cmd_serve(args: ServeArgs, config: &ConfigSource) -> i32 {
    let _ = (args, config);
    unimplemented!("hb serve")
}
