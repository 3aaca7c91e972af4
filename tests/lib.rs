//! hb's integration tests: one test binary, so the real `hb` binary is linked
//! against once. Each module drives `hb` (or the library, in process) for real.

#![allow(dead_code)]

mod notify_support;
mod serve_support;
mod support;

mod browser_web;
mod cli;
mod discover;
mod end_to_end;
mod generated_docs;
mod install;
mod notify_command;
mod notify_email;
mod notify_http;
mod oncalendar_systemd;
mod run_ping_cmd;
mod run_pings;
mod run_supervise;
mod schedule_cli;
mod serve_alerts;
mod serve_api;
mod serve_changes;
mod serve_conn;
mod serve_dependencies;
mod serve_maintenance;
mod serve_nodes;
mod serve_openapi;
mod serve_slots;
mod serve_trust;
mod serve_web;
mod store_pg;
