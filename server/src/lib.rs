//! # localfirst-server
//!
//! The localfirst sync server. [`auth`] resolves who a connection acts as.

#![forbid(unsafe_code)]

pub mod auth;
