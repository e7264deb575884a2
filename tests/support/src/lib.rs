//! Test support shared by the agent's integration tests (`tests/`) and its
//! benches (`benches/`): one place that writes an agent config
//! ([`config`]), starts and measures the agent process ([`agent`]),
//! generates operations ([`operations`]), and stands in for the cloud
//! where the full fake is more than a test needs ([`queue`], a bare master
//! queue for the crash tests; [`scripted`], a scripted HTTP server for the
//! client tests), and waits for a condition with a deadline ([`wait`]).
//!
//! The agent binary's path is the caller's to give
//! (`env!("CARGO_BIN_EXE_masterkassa")` exists only in the agent package's
//! own tests and benches).

pub mod agent;
pub mod config;
pub mod operations;
pub mod queue;
pub mod scripted;
pub mod wait;
