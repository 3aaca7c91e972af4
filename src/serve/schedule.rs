//! Schedules: an interval or a cron expression in a time zone → due times. Pure.

use crate::cli::ScheduleArgs;

pub fn cmd_schedule(args: &ScheduleArgs) -> i32 {
    let _ = args;
    unimplemented!("hb schedule")
}
