//! Shared pieces of the benchmark programs.

pub mod echo_scenario;
pub mod json;
