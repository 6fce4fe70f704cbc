//! The embedded identity provider over real loopback HTTP: JWKS, sign-up with
//! identity proofs, `/token` refreshes, and its JWTs accepted by the server's
//! external verifier. Time moves only through the injected clock.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::Arc;

use localfirst_auth::external::{ExternalAuthError, ExternalVerifier};
use localfirst_core::clock::FixedClock;
use localfirst_core::identity::Identity;
use localfirst_core::secret::Secret;
use localfirst_core::session::AuthMode;
use localfirst_core::token::{decode_claims_unverified, identity_proof};
use localfirst_core::ErrorCode;
use localfirst_provider::{
    start_provider, ProviderClient, ProviderConfig, ProviderError, RunningProvider,
    MAX_REQUEST_BODY_BYTES,
};
use serde_json::Value;

/// An HTTP client over the workspace's TLS set-up (every reqwest client starts there).
fn http() -> reqwest::Client {
    localfirst_auth::tls::client_builder()
        .unwrap()
        .build()
        .unwrap()
}

const NOW: u64 = 1_800_000_000;
const AUDIENCE: &str = "demo-provider";

/// The app the provider's JWTs are for (their `aud`).
const APP: &str = "my-app";

fn provider_config(clock: &Arc<FixedClock>) -> ProviderConfig {
    let mut config = ProviderConfig::new(AUDIENCE, clock.clone());
    config.token_audience = Some(APP.into());
    config
}

async fn provider(clock: &Arc<FixedClock>) -> RunningProvider {
    start_provider(provider_config(clock)).await.unwrap()
}

/// A verifier expecting what the provider says about itself.
fn verifier(provider: &RunningProvider, clock: &Arc<FixedClock>) -> ExternalVerifier {
    let expected = provider.external_auth().unwrap();
    assert_eq!(expected.issuers, [provider.issuer()]);
    assert_eq!(expected.audiences, [APP]);
    ExternalVerifier::new(expected, clock.clone()).unwrap()
}

fn proof(secret: &Secret, audience: &str, clock: &FixedClock) -> String {
    identity_proof(secret, 60, audience, clock).unwrap()
}

fn user_id(secret: &Secret) -> String {
    Identity::from_secret(secret).user_id().to_string()
}

fn rejected(error: ProviderError) -> (u16, String) {
    match error {
        ProviderError::Rejected { status, code, .. } => (status, code),
        other => panic!("expected an HTTP refusal, got {other:?}"),
    }
}

#[tokio::test]
async fn jwks_serves_one_es256_key_with_its_kid() {
    let clock = Arc::new(FixedClock::new(NOW));
    let provider = provider(&clock).await;
    let body = http()
        .get(provider.jwks_url())
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let jwks: Value = serde_json::from_str(&body).unwrap();
    let keys = jwks["keys"].as_array().unwrap();
    assert_eq!(keys.len(), 1);
    assert_eq!(keys[0]["kty"], "EC");
    assert_eq!(keys[0]["crv"], "P-256");
    assert_eq!(keys[0]["alg"], "ES256");
    assert_eq!(keys[0]["kid"], provider.kid().as_str());
    assert!(
        keys[0].get("d").is_none(),
        "the private key is never served"
    );
    assert_eq!(
        serde_json::from_str::<Value>(&provider.public_jwk()).unwrap(),
        keys[0]
    );
    provider.shutdown().await;
}

#[tokio::test]
async fn two_starts_make_two_key_pairs() {
    let clock = Arc::new(FixedClock::new(NOW));
    let first = provider(&clock).await;
    let second = provider(&clock).await;
    assert_ne!(first.kid(), second.kid());
    assert_ne!(first.public_jwk(), second.public_jwk());
    first.shutdown().await;
    second.shutdown().await;
}

#[tokio::test]
async fn signup_with_a_valid_proof_issues_a_jwt_the_server_accepts() {
    let clock = Arc::new(FixedClock::new(NOW));
    let provider = provider(&clock).await;
    let client = ProviderClient::new(&provider.base_url()).unwrap();
    let secret = Secret::generate().unwrap();

    let issued = client
        .signup(&proof(&secret, AUDIENCE, &clock))
        .await
        .unwrap();
    assert_eq!(issued.user_id, user_id(&secret));
    assert_eq!(issued.expires_at, NOW + 300);
    assert_eq!(provider.signups(), 1);
    assert_eq!(provider.accounts(), vec![user_id(&secret)]);

    let session = verifier(&provider, &clock)
        .verify(&issued.token)
        .await
        .unwrap();
    assert_eq!(session.user_id, user_id(&secret));
    assert_eq!(session.auth_mode, AuthMode::External);

    // The same token, once its exp has passed, is refused as expired.
    clock.advance(301);
    let expired = verifier(&provider, &clock).verify(&issued.token).await;
    assert!(
        matches!(expired, Err(ExternalAuthError::Expired { .. })),
        "{expired:?}"
    );
    provider.shutdown().await;
}

#[tokio::test]
async fn signup_refuses_bad_proofs_with_typed_4xx_errors() {
    let clock = Arc::new(FixedClock::new(NOW));
    let provider = provider(&clock).await;
    let client = ProviderClient::new(&provider.base_url()).unwrap();
    let secret = Secret::generate().unwrap();

    let wrong_audience = client
        .signup(&proof(&secret, "another-app", &clock))
        .await
        .unwrap_err();
    assert_eq!(
        rejected(wrong_audience),
        (401, "provider-proof-invalid".to_owned())
    );

    let old = proof(&secret, AUDIENCE, &clock);
    clock.advance(3600);
    let expired = client.signup(&old).await.unwrap_err();
    assert_eq!(
        rejected(expired),
        (401, "provider-proof-invalid".to_owned())
    );

    let empty = client.signup("").await.unwrap_err();
    assert_eq!(rejected(empty), (400, "provider-proof-required".to_owned()));
    let blank = client.signup("   ").await.unwrap_err();
    assert_eq!(rejected(blank), (400, "provider-proof-required".to_owned()));

    let garbage = client.signup("not.a.token").await.unwrap_err();
    assert_eq!(
        rejected(garbage),
        (401, "provider-proof-invalid".to_owned())
    );

    assert_eq!(provider.signups(), 0);
    assert!(provider.accounts().is_empty());
    provider.shutdown().await;
}

#[tokio::test]
async fn malformed_and_oversized_bodies_get_typed_errors() {
    let clock = Arc::new(FixedClock::new(NOW));
    let provider = provider(&clock).await;
    let http = http();
    let url = format!("{}/signup", provider.base_url());

    let malformed = http.post(&url).body("{not json").send().await.unwrap();
    assert_eq!(malformed.status().as_u16(), 400);
    let body: Value = serde_json::from_str(&malformed.text().await.unwrap()).unwrap();
    assert_eq!(body["code"], "provider-malformed-request");

    let huge = format!(r#"{{"proof":"{}"}}"#, "a".repeat(MAX_REQUEST_BODY_BYTES));
    let oversized = http.post(&url).body(huge).send().await.unwrap();
    assert_eq!(oversized.status().as_u16(), 413);
    let body: Value = serde_json::from_str(&oversized.text().await.unwrap()).unwrap();
    assert_eq!(body["code"], "provider-body-too-large");
    provider.shutdown().await;
}

#[tokio::test]
async fn token_refreshes_a_signed_up_user_and_counts_every_request() {
    let clock = Arc::new(FixedClock::new(NOW));
    let provider = provider(&clock).await;
    let client = ProviderClient::new(&provider.base_url()).unwrap();
    let secret = Secret::generate().unwrap();
    let first = client
        .signup(&proof(&secret, AUDIENCE, &clock))
        .await
        .unwrap();
    assert_eq!(provider.token_requests(), 0);

    // The expired JWT is the refresh credential.
    clock.advance(400);
    let fresh = client.refresh(&first.token).await.unwrap();
    assert_eq!(fresh.user_id, user_id(&secret));
    assert_eq!(fresh.expires_at, NOW + 400 + 300);
    assert_ne!(fresh.token, first.token);
    assert_eq!(provider.token_requests(), 1);
    assert_eq!(provider.tokens_refreshed(), 1);
    let session = verifier(&provider, &clock)
        .verify(&fresh.token)
        .await
        .unwrap();
    assert_eq!(session.user_id, user_id(&secret));

    // Refusals are counted as requests, not as refreshes.
    let missing = ProviderClient::new(&provider.base_url())
        .unwrap()
        .refresh("")
        .await
        .unwrap_err();
    assert_eq!(rejected(missing).0, 401);
    let forged = client.refresh("a.b.c").await.unwrap_err();
    assert_eq!(rejected(forged), (401, "provider-token-invalid".to_owned()));

    // A token from another provider (another key) is refused.
    let other = provider_for_other_key(&clock).await;
    let other_client = ProviderClient::new(&other.base_url()).unwrap();
    let foreign = other_client
        .signup(&proof(&secret, AUDIENCE, &clock))
        .await
        .unwrap();
    let refused = client.refresh(&foreign.token).await.unwrap_err();
    assert_eq!(
        rejected(refused),
        (401, "provider-token-invalid".to_owned())
    );

    // Past the refresh window, the old token buys nothing.
    clock.advance(2 * 24 * 3600);
    let stale = client.refresh(&first.token).await.unwrap_err();
    assert_eq!(rejected(stale), (401, "provider-token-invalid".to_owned()));

    assert_eq!(provider.token_requests(), 5);
    assert_eq!(provider.tokens_refreshed(), 1);
    other.shutdown().await;
    provider.shutdown().await;
}

async fn provider_for_other_key(clock: &Arc<FixedClock>) -> RunningProvider {
    provider(clock).await
}

#[tokio::test]
async fn a_configured_issuer_names_signed_up_and_refreshed_tokens() {
    let clock = Arc::new(FixedClock::new(NOW));
    let mut config = provider_config(&clock);
    config.issuer = Some("https://localhost/demo-provider".into());
    let provider = start_provider(config).await.unwrap();
    let client = ProviderClient::new(&provider.base_url()).unwrap();
    let secret = Secret::generate().unwrap();
    let issued = client
        .signup(&proof(&secret, AUDIENCE, &clock))
        .await
        .unwrap();
    let fresh = client.refresh(&issued.token).await.unwrap();
    for token in [&issued.token, &fresh.token] {
        let claims = decode_claims_unverified(token).unwrap();
        assert_eq!(claims["iss"], "https://localhost/demo-provider");
        assert_eq!(claims["sub"], user_id(&secret).as_str());
    }
    let session = verifier(&provider, &clock)
        .verify(&fresh.token)
        .await
        .unwrap();
    assert_eq!(session.user_id, user_id(&secret));
    provider.shutdown().await;
}

#[tokio::test]
async fn configuration_errors_are_typed() {
    let clock = Arc::new(FixedClock::new(NOW));
    let empty = start_provider(ProviderConfig::new(" ", clock.clone()))
        .await
        .unwrap_err();
    assert_eq!(empty.code(), "provider-config");
    let mut zero = ProviderConfig::new(AUDIENCE, clock.clone());
    zero.token_ttl_seconds = 0;
    assert_eq!(
        start_provider(zero).await.unwrap_err().code(),
        "provider-config"
    );
}
