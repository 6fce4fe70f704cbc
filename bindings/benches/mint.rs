//! The Rust side of the FFI-overhead measurement (`scripts/bench-ffi.sh`): the exported
//! `mint_local_first_token` called directly from Rust — the same code a Kotlin or Swift
//! call runs, without the crossing — beside the core's `token::mint` on a derived identity.
//! Numbers: docs/PERFORMANCE.md.

#![allow(missing_docs)] // criterion_group! generates undocumented items.

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, Criterion};
use localfirst_core::identity::Identity;
use localfirst_core::secret::Secret;
use localfirst_core::token::{self, Issuer};
use localfirst_ffi::{mint_local_first_token, AuthSecret};

const SECRET: &str = "KioqKioqKioqKioqKioqKioqKioqKioqKioqKioqKio";

fn mint(c: &mut Criterion) {
    let Ok(secret) = AuthSecret::from_base64_url(SECRET.to_owned()) else {
        return;
    };
    let identity = Identity::from_secret(&Secret::from_bytes([42u8; 32]));
    let mut group = c.benchmark_group("ffi_mint");
    group.bench_function("rust_direct", |b| {
        b.iter(|| mint_local_first_token(black_box(secret.clone()), "my-app".to_owned(), 3600))
    });
    group.bench_function("core_token_mint", |b| {
        b.iter(|| token::mint(black_box(&identity), Issuer::LocalFirst, "my-app", 1, 3600))
    });
    group.finish();
}

criterion_group!(benches, mint);
criterion_main!(benches);
