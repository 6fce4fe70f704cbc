//! The verified-token cache beside a full verification, in the same run:
//!
//! * `verify_full`: `ExternalVerifier::verify` of an ES256 token under a static JWK
//!   (parse, strict claims, ECDSA P-256 verify, claim checks);
//! * `verify_cached`: `ExternalVerifier::verify_cached` of the same token with the
//!   cache already holding it (SHA-256 of the token, map lookup, session clone);
//! * the same pair for an RS256 (2048-bit) token.
//!
//! Results and the ratio are recorded in docs/PERFORMANCE.md ("Token cache").

#![allow(missing_docs)] // criterion_group! generates undocumented items.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::hint::black_box;
use std::sync::Arc;
use std::time::Duration;

use criterion::{criterion_group, criterion_main, Criterion};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use localfirst_auth::external::{ExternalAuthConfig, ExternalKeySource, ExternalVerifier};
use localfirst_auth::token_cache::VerifiedTokenCache;
use localfirst_core::clock::FixedClock;
use serde_json::json;

const NOW: u64 = 1_800_000_000;

fn data(name: &str) -> String {
    std::fs::read_to_string(format!("{}/tests/data/{name}", env!("CARGO_MANIFEST_DIR"))).unwrap()
}

fn setup(name: &str, alg: Algorithm) -> (ExternalVerifier, String) {
    let pem = data(&format!("{name}.pem"));
    let key = match alg {
        Algorithm::RS256 => EncodingKey::from_rsa_pem(pem.as_bytes()).unwrap(),
        _ => EncodingKey::from_ec_pem(pem.as_bytes()).unwrap(),
    };
    let mut header = Header::new(alg);
    header.kid = Some(format!("{name}-key"));
    let claims = json!({
        "iss": "https://id.example.com",
        "sub": "user-1",
        "aud": "my-app",
        "iat": NOW,
        "exp": NOW + 3600,
        "email": "ada@example.com",
    });
    let token = jsonwebtoken::encode(&header, &claims, &key).unwrap();
    let keys = ExternalKeySource::Static {
        key: data(&format!("{name}.jwk.json")),
    };
    let verifier = ExternalVerifier::new(
        ExternalAuthConfig::new(keys, "https://id.example.com", "my-app"),
        Arc::new(FixedClock::new(NOW)),
    )
    .unwrap();
    (verifier, token)
}

fn token_cache(c: &mut Criterion) {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    for (name, alg) in [("es256", Algorithm::ES256), ("rs256", Algorithm::RS256)] {
        let (verifier, token) = setup(name, alg);
        let cache = VerifiedTokenCache::new(10_000);
        runtime
            .block_on(verifier.verify_cached(&token, &cache))
            .unwrap();
        let mut group = c.benchmark_group(format!("token_cache/{name}"));
        group.bench_function("verify_full", |b| {
            b.iter(|| {
                runtime
                    .block_on(verifier.verify(black_box(&token)))
                    .unwrap()
            })
        });
        group.bench_function("verify_cached", |b| {
            b.iter(|| {
                runtime
                    .block_on(verifier.verify_cached(black_box(&token), &cache))
                    .unwrap()
            })
        });
        group.finish();
    }
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .sample_size(50)
        .measurement_time(Duration::from_secs(2))
        .warm_up_time(Duration::from_millis(500));
    targets = token_cache
}
criterion_main!(benches);
