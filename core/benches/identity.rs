//! Identity-core benchmarks, each beside the bare primitive it wraps, in the same run:
//!
//! * `derive`: `Identity::from_secret` vs SHA-512 + Ed25519 key expansion;
//! * `mint`: `token::mint` vs a bare Ed25519 sign of a same-sized message;
//! * `verify`: `token::verify` (a returning user's token: its key is cached, and a
//!   first-seen key: the cache emptied before each call) vs a bare `verify_strict` of the
//!   same signature, and vs parsing the 32-byte public key plus `verify_strict` (a token
//!   carries its key);
//! * `phrase`: encode/decode vs the bip39 crate's own calls.
//!
//! Wall-clock times, the second opinion to the instruction counts of
//! `scripts/bench-instructions.sh`. Results and ratios are recorded in docs/PERFORMANCE.md.

#![allow(missing_docs)] // criterion_group! generates undocumented items.

mod bare;

use std::hint::black_box;
use std::time::Duration;

use bip39::{Language, Mnemonic};
use criterion::{criterion_group, criterion_main, Criterion};
use ed25519_dalek::{Signature, Signer as _};
use localfirst_core::clock::FixedClock;
use localfirst_core::identity::Identity;
use localfirst_core::phrase::{phrase_to_secret, secret_to_phrase};
use localfirst_core::secret::Secret;
use localfirst_core::token::{self, Issuer, VerifyOptions};

const IAT: u64 = 1_700_000_000;

fn derive(c: &mut Criterion) {
    let seed = [42u8; 32];
    let secret = Secret::from_bytes(seed);
    let mut group = c.benchmark_group("derive");
    group.bench_function("raw_sha512_ed25519_keygen", |b| {
        b.iter(|| bare::signing_key(black_box(&seed)).verifying_key())
    });
    group.bench_function("identity_from_secret", |b| {
        b.iter(|| Identity::from_secret(black_box(&secret)))
    });
    group.finish();
}

fn mint(c: &mut Criterion) {
    let secret = Secret::from_bytes([42u8; 32]);
    let identity = Identity::from_secret(&secret);
    let key = bare::signing_key(secret.expose_bytes());
    let sample =
        token::mint(&identity, Issuer::LocalFirst, "my-app", IAT, 3600).unwrap_or_default();
    let signing_input = sample
        .rsplit_once('.')
        .map(|(input, _)| input.as_bytes().to_vec())
        .unwrap_or_default();
    let mut group = c.benchmark_group("mint");
    group.bench_function("raw_ed25519_sign", |b| {
        b.iter(|| key.sign(black_box(&signing_input)))
    });
    group.bench_function("token_mint", |b| {
        b.iter(|| {
            token::mint(
                black_box(&identity),
                Issuer::LocalFirst,
                "my-app",
                IAT,
                3600,
            )
        })
    });
    group.finish();
}

fn verify(c: &mut Criterion) {
    let secret = Secret::from_bytes([42u8; 32]);
    let identity = Identity::from_secret(&secret);
    let key = bare::signing_key(secret.expose_bytes());
    let jwt = token::mint(&identity, Issuer::LocalFirst, "my-app", IAT, 3600).unwrap_or_default();
    let (signing_input, _) = jwt.rsplit_once('.').unwrap_or_default();
    let signing_input = signing_input.as_bytes().to_vec();
    let signature: Signature = key.sign(&signing_input);
    let verifying = key.verifying_key();
    let options = VerifyOptions::new("my-app");
    let clock = FixedClock::new(IAT + 1);
    let mut group = c.benchmark_group("verify");
    group.bench_function("raw_ed25519_verify_strict", |b| {
        b.iter(|| verifying.verify_strict(black_box(&signing_input), black_box(&signature)))
    });
    let key_bytes = verifying.to_bytes();
    group.bench_function("raw_key_parse_and_verify_strict", |b| {
        b.iter(|| {
            ed25519_dalek::VerifyingKey::from_bytes(black_box(&key_bytes))
                .map(|key| key.verify_strict(black_box(&signing_input), black_box(&signature)))
        })
    });
    group.bench_function("token_verify", |b| {
        b.iter(|| token::verify(black_box(&jwt), &options, &clock))
    });
    // The key cache emptied before each call: a first-seen key (includes emptying it).
    group.bench_function("token_verify_first_seen", |b| {
        b.iter(|| {
            token::forget_cached_keys();
            token::verify(black_box(&jwt), &options, &clock)
        })
    });
    group.finish();
}

fn phrase(c: &mut Criterion) {
    let seed = [42u8; 32];
    let secret = Secret::from_bytes(seed);
    let words = secret_to_phrase(&secret).expose().to_owned();
    let mut group = c.benchmark_group("phrase");
    group.bench_function("raw_bip39_from_entropy", |b| {
        b.iter(|| {
            Mnemonic::from_entropy_in(Language::English, black_box(&seed)).map(|m| m.to_string())
        })
    });
    group.bench_function("phrase_encode", |b| {
        b.iter(|| secret_to_phrase(black_box(&secret)))
    });
    group.bench_function("raw_bip39_parse", |b| {
        b.iter(|| {
            Mnemonic::parse_in_normalized(Language::English, black_box(&words))
                .map(|m| m.to_entropy_array())
        })
    });
    group.bench_function("phrase_decode", |b| {
        b.iter(|| phrase_to_secret(black_box(&words)))
    });
    group.finish();
}

/// The call the Node addon's `verifyLocalFirstIdentityProof` makes (scripts/bench-node.sh
/// compares the two).
fn proof(c: &mut Criterion) {
    let secret = Secret::from_bytes([42u8; 32]);
    let proof =
        token::identity_proof(&secret, 300, "my-app", &FixedClock::new(IAT)).unwrap_or_default();
    let clock = FixedClock::new(IAT + 1);
    let mut group = c.benchmark_group("proof");
    group.bench_function("verify_local_first_identity_proof", |b| {
        b.iter(|| token::verify_local_first_identity_proof(black_box(&proof), "my-app", &clock))
    });
    group.finish();
}

fn config() -> Criterion {
    Criterion::default()
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2))
        .sample_size(50)
}

criterion_group! {
    name = benches;
    config = config();
    targets = derive, mint, verify, proof, phrase
}
criterion_main!(benches);
