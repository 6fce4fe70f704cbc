//! A JWKS endpoint on 127.0.0.1 that counts its fetches, the signing keys of
//! auth/tests/data, and external token claims: shared by the external-auth tests of this
//! crate and the server's (which includes this file by path).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code: a failed unwrap is a failed test

use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::get;
use axum::Router;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use localfirst_auth::external::{
    ExternalAuthConfig, ExternalKeySource, ExternalVerifier, JwksOptions,
};
use localfirst_core::clock::FixedClock;
use serde_json::{json, Value};

pub const NOW: u64 = 1_800_000_000;

/// A file of `auth/tests/data` (this module is shared with the server's tests, so the
/// path does not depend on which crate compiles it).
pub fn data(name: &str) -> String {
    let path = format!("{}/../auth/tests/data/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

pub fn jwk(name: &str) -> Value {
    serde_json::from_str(&data(&format!("{name}.jwk.json"))).unwrap()
}

pub fn jwks(names: &[&str]) -> Value {
    json!({ "keys": names.iter().map(|n| jwk(n)).collect::<Vec<_>>() })
}

/// A key of tests/data: its private PEM signs, its JWK (kid `<name>-key`) verifies.
#[derive(Clone, Copy)]
pub struct TestKey {
    pub name: &'static str,
    pub alg: Algorithm,
}

pub const ES256: TestKey = TestKey {
    name: "es256",
    alg: Algorithm::ES256,
};
pub const RS256: TestKey = TestKey {
    name: "rs256",
    alg: Algorithm::RS256,
};
pub const EDDSA: TestKey = TestKey {
    name: "eddsa",
    alg: Algorithm::EdDSA,
};
pub const ROTATED: TestKey = TestKey {
    name: "es256-rotated",
    alg: Algorithm::ES256,
};

impl TestKey {
    pub fn kid(self) -> String {
        format!("{}-key", self.name)
    }

    pub fn encoding_key(self) -> EncodingKey {
        let pem = data(&format!("{}.pem", self.name));
        match self.alg {
            Algorithm::ES256 => EncodingKey::from_ec_pem(pem.as_bytes()).unwrap(),
            Algorithm::RS256 => EncodingKey::from_rsa_pem(pem.as_bytes()).unwrap(),
            _ => EncodingKey::from_ed_pem(pem.as_bytes()).unwrap(),
        }
    }

    /// A token with this key's kid.
    pub fn sign(self, claims: &Value) -> String {
        self.sign_with_kid(Some(self.kid()), claims)
    }

    pub fn sign_with_kid(self, kid: Option<String>, claims: &Value) -> String {
        let mut header = Header::new(self.alg);
        header.kid = kid;
        jsonwebtoken::encode(&header, claims, &self.encoding_key()).unwrap()
    }

    /// A token from raw header and claims JSON text (for duplicate claims).
    pub fn sign_raw(self, header: &str, claims: &str) -> String {
        let message = format!(
            "{}.{}",
            URL_SAFE_NO_PAD.encode(header),
            URL_SAFE_NO_PAD.encode(claims)
        );
        let signature =
            jsonwebtoken::crypto::sign(message.as_bytes(), &self.encoding_key(), self.alg).unwrap();
        format!("{message}.{signature}")
    }
}

pub fn claims(sub: &str) -> Value {
    json!({
        "iss": "https://id.example.com",
        "sub": sub,
        "aud": "my-app",
        "iat": NOW,
        "exp": NOW + 3600,
        "email": "ada@example.com",
    })
}

/// A JWKS endpoint on 127.0.0.1 that counts fetches and can be switched to fail.
pub struct Stub {
    pub url: String,
    pub fetches: Arc<AtomicUsize>,
    pub body: Arc<Mutex<Option<String>>>,
    pub delay_ms: Arc<AtomicU64>,
}

#[derive(Clone)]
struct StubState {
    fetches: Arc<AtomicUsize>,
    body: Arc<Mutex<Option<String>>>,
    delay_ms: Arc<AtomicU64>,
}

async fn serve_jwks(State(state): State<StubState>) -> (StatusCode, String) {
    state.fetches.fetch_add(1, Ordering::SeqCst);
    let delay = state.delay_ms.load(Ordering::SeqCst);
    if delay > 0 {
        // Holds the response open so that concurrent verifications overlap.
        tokio::time::sleep(Duration::from_millis(delay)).await;
    }
    match state.body.lock().unwrap().clone() {
        Some(body) => (StatusCode::OK, body),
        None => (StatusCode::SERVICE_UNAVAILABLE, "down".to_owned()),
    }
}

impl Stub {
    pub async fn start(keys: Value) -> Stub {
        let state = StubState {
            fetches: Arc::new(AtomicUsize::new(0)),
            body: Arc::new(Mutex::new(Some(keys.to_string()))),
            delay_ms: Arc::new(AtomicU64::new(0)),
        };
        let app = Router::new()
            .route("/jwks", get(serve_jwks))
            .with_state(state.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        Stub {
            url: format!("http://{addr}/jwks"),
            fetches: state.fetches,
            body: state.body,
            delay_ms: state.delay_ms,
        }
    }

    pub fn fetches(&self) -> usize {
        self.fetches.load(Ordering::SeqCst)
    }

    pub fn serve(&self, keys: Value) {
        *self.body.lock().unwrap() = Some(keys.to_string());
    }

    pub fn fail(&self) {
        *self.body.lock().unwrap() = None;
    }

    pub fn verifier(&self, clock: &Arc<FixedClock>) -> ExternalVerifier {
        self.verifier_with(clock, JwksOptions::default())
    }

    pub fn verifier_with(&self, clock: &Arc<FixedClock>, options: JwksOptions) -> ExternalVerifier {
        let source = ExternalKeySource::Jwks {
            url: self.url.clone(),
            options,
        };
        ExternalVerifier::new(expecting(source), clock.clone()).unwrap()
    }
}

/// The issuer of [`claims`].
pub const ISSUER: &str = "https://id.example.com";
/// The audience of [`claims`].
pub const AUDIENCE: &str = "my-app";

/// `keys` with the issuer and audience [`claims`] names.
pub fn expecting(keys: ExternalKeySource) -> ExternalAuthConfig {
    ExternalAuthConfig::new(keys, ISSUER, AUDIENCE)
}

pub fn clock() -> Arc<FixedClock> {
    Arc::new(FixedClock::new(NOW))
}

pub fn static_verifier(key: &str) -> ExternalVerifier {
    let source = ExternalKeySource::Static {
        key: key.to_owned(),
    };
    ExternalVerifier::new(expecting(source), clock()).unwrap()
}
