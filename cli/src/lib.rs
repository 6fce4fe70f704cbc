//! # localfirst-cli
//!
//! The `localfirst` command-line tool (and, in later milestones, the reference
//! sync server). The CLI is a thin shell over `localfirst-core`: every command
//! parses its input, calls the core, and prints either human text or, with
//! `--json`, one JSON object on stdout.
//!
//! Exit codes: `0` success, `1` input rejected (the error's stable code is
//! printed), `2` usage error.

pub mod cli;
