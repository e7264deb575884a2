//! Command-line subcommands. Each file holds one subcommand's arguments
//! (`clap::Args`) and its `run`; `main.rs` only dispatches.

pub mod attach;
pub mod config_check;
pub mod config_warnings;
pub mod demo;
pub mod device;
pub mod doctor;
pub mod dry_run;
pub mod emulate;
pub mod fake_cloud;
pub mod fake_kassatka;
pub mod fd_tags;
pub mod kassatka;
pub mod logging;
pub mod run;
pub mod shift;
pub mod status;
