//! The session a self-signed bearer token resolves to: its user, mode and claims (read
//! once, both to route the token by issuer and for the session), and the refusal of a
//! token whose claims cannot be read.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code: a failed unwrap is a failed test

use std::sync::Arc;

use axum::http::{header::AUTHORIZATION, HeaderMap, HeaderValue};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use localfirst_auth::SessionResolver;
use localfirst_core::auth::AuthFailure;
use localfirst_core::clock::FixedClock;
use localfirst_core::identity::Identity;
use localfirst_core::secret::Secret;
use localfirst_core::session::AuthMode;
use localfirst_core::token::{self, Issuer};

const NOW: u64 = 1_700_000_000;

fn resolver() -> SessionResolver {
    SessionResolver::new("my-app", true, None, None, Arc::new(FixedClock::new(NOW)))
}

fn bearer(token: &str) -> HeaderMap {
    let mut headers = HeaderMap::new();
    headers.insert(
        AUTHORIZATION,
        HeaderValue::from_str(&format!("Bearer {token}")).unwrap(),
    );
    headers
}

#[tokio::test]
async fn a_self_signed_session_carries_the_token_s_claims() {
    let resolver = resolver();
    for (fill, issuer, mode) in [
        (1, Issuer::LocalFirst, AuthMode::LocalFirst),
        (2, Issuer::Anonymous, AuthMode::Anonymous),
    ] {
        let identity = Identity::from_secret(&Secret::from_bytes([fill; 32]));
        let jwt = token::mint(&identity, issuer, "my-app", NOW, 600).unwrap();
        let resolved = resolver.resolve(&bearer(&jwt)).await.unwrap();
        assert_eq!(resolved.session.user_id, identity.user_id().to_string());
        assert_eq!(resolved.session.auth_mode, mode);
        assert_eq!(
            resolved.session.claims,
            token::decode_claims_unverified(&jwt).unwrap()
        );
        assert_eq!(resolved.session.claims["iss"], issuer.as_str());
        assert_eq!(resolved.expires_at, Some(NOW + 600));
        // A second connection with the same token resolves the same way.
        let again = resolver.resolve(&bearer(&jwt)).await.unwrap();
        assert_eq!(again.session, resolved.session);
    }
}

#[tokio::test]
async fn unreadable_claims_are_a_malformed_token() {
    let resolver = resolver();
    let header = URL_SAFE_NO_PAD.encode(token::HEADER_JSON);
    for claims in [
        r#"{"iss":"urn:jazz:local-first","iss":"urn:jazz:anonymous"}"#,
        "not json",
    ] {
        let jwt = format!("{header}.{}.c2ln", URL_SAFE_NO_PAD.encode(claims));
        let rejection = resolver.resolve(&bearer(&jwt)).await.unwrap_err();
        assert_eq!(rejection.failure, AuthFailure::Invalid);
        let reason = token::decode_claims_unverified(&jwt).unwrap_err();
        assert_eq!(rejection.message, format!("malformed token: {reason}"));
    }
}
