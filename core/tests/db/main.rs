//! Integration tests of the `Db`, in one binary: auth, data, subscriptions,
//! concurrency (threads and processes), lifecycle, namespaces and the
//! local-first to external upgrade. Real SQLite files throughout.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a failed unwrap is a failed test

#[path = "../common/mod.rs"]
mod common;
mod support;

mod auth;
mod concurrency;
mod data;
mod lifecycle;
mod namespace;
mod refresh;
mod rows;
mod upgrade;
