//! Verification of JWTs issued by an external identity provider.
//!
//! An [`ExternalVerifier`] checks a bearer token against the provider's public keys,
//! taken either from a JWKS endpoint (cached, see [`JwksOptions`]) or from one static
//! key given at start-up (a JWK, a JWK set, or a PEM public key). It accepts EdDSA
//! (Ed25519), ES256, ES384, RS256/384/512 and PS256/384/512; never `none` or HMAC.
//!
//! Checks, in order: size (at most [`MAX_EXTERNAL_TOKEN_LEN`] bytes), shape, header
//! (`alg`, optional `kid`, no `crit`), claims JSON (an object, no duplicate claim), key
//! selection by `kid` and `alg`, signature, then the claims against the injected clock:
//! `exp` required and `exp <= now` is [`ExternalAuthError::Expired`]; `nbf` and `iat`
//! may be at most [`CLOCK_SKEW_SECONDS`] in the future; `sub` is required, trimmed,
//! non-empty and free of control characters; optional audience and issuer checks.
//!
//! ```no_run
//! # async fn run() -> Result<(), localfirst_server::auth::external::ExternalAuthError> {
//! use std::sync::Arc;
//! use localfirst_core::clock::SystemClock;
//! use localfirst_server::auth::external::{ExternalKeySource, ExternalVerifier, JwksOptions};
//!
//! let verifier = ExternalVerifier::new(
//!     ExternalKeySource::Jwks {
//!         url: "https://id.example.com/.well-known/jwks.json".into(),
//!         options: JwksOptions::default(),
//!     },
//!     Arc::new(SystemClock),
//! )?
//! .with_audience("my-app");
//! let session = verifier.verify("eyJ...").await?;
//! println!("user {}", session.user_id);
//! # Ok(()) }
//! ```

use std::sync::Arc;
use std::time::Duration;

use localfirst_core::auth::AuthFailure;
use localfirst_core::clock::Clock;
use localfirst_core::session::{AuthMode, Session};
use localfirst_core::{Code, ErrorCode};

use super::jwks::{JwksCache, KeyMatch, KeySet};
use super::jwt;
use super::token_cache::VerifiedTokenCache;

/// The largest external token accepted, in bytes (16 KiB).
pub const MAX_EXTERNAL_TOKEN_LEN: usize = 16 * 1024;

/// How far in the future `nbf` and `iat` may lie, in seconds (clock skew allowance).
pub const CLOCK_SKEW_SECONDS: u64 = 60;

/// The largest JWKS response body read, in bytes (1 MiB).
pub const MAX_JWKS_BODY_LEN: usize = 1024 * 1024;

/// Caching and fetching of a JWKS endpoint. All times are measured with the
/// verifier's injected clock, in whole seconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct JwksOptions {
    /// How long a fetched key set is used before it is fetched again (default 300 s).
    pub ttl: Duration,
    /// Minimum time between a fetch and a refresh forced by an unknown `kid` or a bad
    /// signature, and between retries after a failed fetch (default 10 s).
    pub forced_refresh_cooldown: Duration,
    /// How long past the TTL the last good key set is still served while the endpoint
    /// fails (default 300 s).
    pub stale_grace: Duration,
    /// Timeout of one fetch, connection included (default 5 s).
    pub fetch_timeout: Duration,
}

impl Default for JwksOptions {
    fn default() -> JwksOptions {
        JwksOptions {
            ttl: Duration::from_secs(300),
            forced_refresh_cooldown: Duration::from_secs(10),
            stale_grace: Duration::from_secs(300),
            fetch_timeout: Duration::from_secs(5),
        }
    }
}

/// Where the provider's public keys come from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ExternalKeySource {
    /// A JWKS endpoint: `https://`, or `http://` on a loopback host only.
    Jwks {
        /// The endpoint URL.
        url: String,
        /// Caching and fetching.
        options: JwksOptions,
    },
    /// One static key: JWK JSON (a single key or a `{"keys": [...]}` set) or PEM text
    /// of an EC, RSA or Ed25519 public key.
    Static {
        /// The key text.
        key: String,
    },
}

/// Verifies external JWTs and turns them into [`Session`]s. Cheap to share behind an
/// `Arc`; all methods take `&self`.
pub struct ExternalVerifier {
    keys: Keys,
    clock: Arc<dyn Clock>,
    audience: Option<String>,
    issuer: Option<String>,
}

/// Why an external token was refused, or why the verifier could not be built.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ExternalAuthError {
    /// The token is empty.
    #[error("no token was given")]
    MissingToken,
    /// The token is longer than [`MAX_EXTERNAL_TOKEN_LEN`].
    #[error("token is {len} bytes, more than the {max} allowed")]
    TooLarge {
        /// Length of the input.
        len: usize,
        /// The limit.
        max: usize,
    },
    /// Not three base64url parts, or a header that is not valid JSON with a string `alg`.
    #[error("token is malformed: {reason}")]
    Malformed {
        /// What is wrong.
        reason: String,
    },
    /// The header names an algorithm that is not accepted (`none`, HMAC, unknown).
    #[error("token algorithm {alg:?} is not accepted")]
    UnsupportedAlgorithm {
        /// The `alg` found.
        alg: String,
    },
    /// A claim appears twice in the claims object.
    #[error("token has the claim {claim:?} twice")]
    DuplicateClaim {
        /// The repeated claim.
        claim: String,
    },
    /// The claims are not a JSON object, or a registered claim has the wrong type.
    #[error("token claims are invalid: {reason}")]
    InvalidClaims {
        /// What is wrong.
        reason: String,
    },
    /// A required claim (`sub`, `exp`) is absent.
    #[error("token is missing the {claim:?} claim")]
    MissingClaim {
        /// The missing claim.
        claim: &'static str,
    },
    /// `sub` is empty after trimming or contains control characters.
    #[error("token subject is empty or contains control characters")]
    InvalidSubject,
    /// `exp` is at or before now.
    #[error("token expired at {exp} (now {now})")]
    Expired {
        /// The `exp` claim.
        exp: u64,
        /// The verifier's time.
        now: u64,
    },
    /// `nbf` lies more than [`CLOCK_SKEW_SECONDS`] in the future.
    #[error("token not valid before {nbf} (now {now})")]
    NotYetValid {
        /// The `nbf` claim.
        nbf: u64,
        /// The verifier's time.
        now: u64,
    },
    /// `iat` lies more than [`CLOCK_SKEW_SECONDS`] in the future.
    #[error("token issued at {iat}, in the future (now {now})")]
    IssuedInFuture {
        /// The `iat` claim.
        iat: u64,
        /// The verifier's time.
        now: u64,
    },
    /// The configured audience is not in `aud`.
    #[error("token audience does not include {expected:?}")]
    AudienceMismatch {
        /// The configured audience.
        expected: String,
    },
    /// `iss` is not the configured issuer.
    #[error("token issuer is not {expected:?}")]
    IssuerMismatch {
        /// The configured issuer.
        expected: String,
    },
    /// No key matches the token's `kid` (after at most one allowed refresh).
    #[error("no key matches the token's key id {kid:?}")]
    UnknownKey {
        /// The token's `kid`, if any.
        kid: Option<String>,
    },
    /// A key matches the `kid` but is not for the token's `alg`.
    #[error("token algorithm {alg} does not match its key")]
    AlgorithmMismatch {
        /// The token's `alg`.
        alg: String,
    },
    /// The signature does not verify under any matching key.
    #[error("token signature is not valid")]
    InvalidSignature,
    /// A static key (or every key of a JWKS response) could not be used.
    #[error("key is invalid: {reason}")]
    InvalidKey {
        /// What is wrong.
        reason: String,
    },
    /// The JWKS URL is not `https://` (or `http://` on a loopback host).
    #[error("JWKS URL {url:?} is not accepted: {reason}")]
    InvalidJwksUrl {
        /// The URL given.
        url: String,
        /// What is wrong.
        reason: String,
    },
    /// The JWKS endpoint could not be fetched and no key set is usable (none fetched
    /// yet, or the last one is past its stale window).
    #[error("JWKS endpoint is unavailable: {reason}")]
    JwksUnavailable {
        /// What went wrong with the last fetch.
        reason: String,
    },
    /// The key set (fetched or static) contains no usable key.
    #[error("key set contains no usable key")]
    EmptyKeySet,
}

impl ErrorCode for ExternalAuthError {
    fn code(&self) -> Code {
        match self {
            ExternalAuthError::MissingToken => Code::Missing,
            ExternalAuthError::TooLarge { .. } => Code::TokenTooLarge,
            ExternalAuthError::Malformed { .. } => Code::TokenMalformed,
            ExternalAuthError::UnsupportedAlgorithm { .. } => Code::UnsupportedAlgorithm,
            ExternalAuthError::DuplicateClaim { .. } => Code::InvalidClaims,
            ExternalAuthError::InvalidClaims { .. } => Code::InvalidClaims,
            ExternalAuthError::MissingClaim { .. } => Code::MissingClaim,
            ExternalAuthError::InvalidSubject => Code::InvalidSubject,
            ExternalAuthError::Expired { .. } => Code::Expired,
            ExternalAuthError::NotYetValid { .. } => Code::NotYetValid,
            ExternalAuthError::IssuedInFuture { .. } => Code::IssuedInFuture,
            ExternalAuthError::AudienceMismatch { .. } => Code::AudienceMismatch,
            ExternalAuthError::IssuerMismatch { .. } => Code::IssuerMismatch,
            ExternalAuthError::UnknownKey { .. } => Code::UnknownKey,
            ExternalAuthError::AlgorithmMismatch { .. } => Code::AlgorithmMismatch,
            ExternalAuthError::InvalidSignature => Code::InvalidSignature,
            ExternalAuthError::InvalidKey { .. } => Code::InvalidKey,
            ExternalAuthError::InvalidJwksUrl { .. } => Code::InvalidJwksUrl,
            ExternalAuthError::JwksUnavailable { .. } => Code::JwksUnavailable,
            ExternalAuthError::EmptyKeySet => Code::EmptyKeySet,
        }
    }
}

impl ExternalAuthError {
    /// The rejection sent to the client: `expired` for an expired token, `missing` for
    /// an empty one, `invalid` for everything else (a JWKS outage included: the client
    /// cannot fix it by refreshing, and the server logs the real code).
    pub fn failure(&self) -> AuthFailure {
        match self {
            ExternalAuthError::Expired { .. } => AuthFailure::Expired,
            ExternalAuthError::MissingToken => AuthFailure::Missing,
            _ => AuthFailure::Invalid,
        }
    }
}

impl ExternalVerifier {
    /// A verifier for `source`, reading time from `clock`.
    ///
    /// A static key is parsed now ([`ExternalAuthError::InvalidKey`] or
    /// [`ExternalAuthError::EmptyKeySet`]); a JWKS URL is checked now and fetched on
    /// the first verification.
    pub fn new(
        source: ExternalKeySource,
        clock: Arc<dyn Clock>,
    ) -> Result<ExternalVerifier, ExternalAuthError> {
        let keys = match source {
            ExternalKeySource::Static { key } => Keys::Static(Arc::new(KeySet::from_static(&key)?)),
            ExternalKeySource::Jwks { url, options } => {
                Keys::Jwks(Box::new(JwksCache::new(&url, options, clock.clone())?))
            }
        };
        Ok(ExternalVerifier {
            keys,
            clock,
            audience: None,
            issuer: None,
        })
    }

    /// Also requires `aud` (a string, or an array of strings) to contain `audience`.
    pub fn with_audience(mut self, audience: impl Into<String>) -> ExternalVerifier {
        self.audience = Some(audience.into());
        self
    }

    /// Also requires `iss` to equal `issuer`.
    pub fn with_issuer(mut self, issuer: impl Into<String>) -> ExternalVerifier {
        self.issuer = Some(issuer.into());
        self
    }

    /// Verifies `token` completely and returns its session: [`AuthMode::External`],
    /// the user id is the trimmed `sub`, the claims are the token's claims.
    pub async fn verify(&self, token: &str) -> Result<Session, ExternalAuthError> {
        self.verify_with_exp(token)
            .await
            .map(|(session, _)| session)
    }

    /// Like [`verify`](Self::verify), but a token already in `cache` (and not yet
    /// expired) skips signature verification, and a freshly verified one is added.
    pub async fn verify_cached(
        &self,
        token: &str,
        cache: &VerifiedTokenCache,
    ) -> Result<Session, ExternalAuthError> {
        if let Some(session) = cache.get(token, self.clock.now_unix()) {
            return Ok(session);
        }
        let (session, exp) = self.verify_with_exp(token).await?;
        cache.insert(token, session.clone(), exp);
        Ok(session)
    }

    async fn verify_with_exp(&self, token: &str) -> Result<(Session, u64), ExternalAuthError> {
        let parsed = jwt::parse(token)?;
        match &self.keys {
            Keys::Static(set) => set.verify(&parsed).into_result(&parsed)?,
            Keys::Jwks(cache) => {
                let (set, generation) = cache.keys().await?;
                match set.verify(&parsed) {
                    KeyMatch::Verified => {}
                    first @ (KeyMatch::UnknownKey | KeyMatch::BadSignature) => {
                        match cache.forced_refresh(generation).await {
                            Some(fresh) => fresh.verify(&parsed).into_result(&parsed)?,
                            None => first.into_result(&parsed)?,
                        }
                    }
                    other => other.into_result(&parsed)?,
                }
            }
        }
        let checks = jwt::ClaimChecks {
            now: self.clock.now_unix(),
            audience: self.audience.as_deref(),
            issuer: self.issuer.as_deref(),
        };
        let (user_id, exp) = checks.check(&parsed.claims)?;
        let session = Session::new(user_id, AuthMode::External).with_claims(parsed.claims);
        Ok((session, exp))
    }
}

impl std::fmt::Debug for ExternalVerifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ExternalVerifier")
            .field("keys", &self.keys)
            .field("audience", &self.audience)
            .field("issuer", &self.issuer)
            .finish_non_exhaustive()
    }
}

enum Keys {
    Static(Arc<KeySet>),
    Jwks(Box<JwksCache>),
}

impl std::fmt::Debug for Keys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Keys::Static(set) => write!(f, "Static({} keys)", set.len()),
            Keys::Jwks(cache) => write!(f, "Jwks({})", cache.url()),
        }
    }
}
