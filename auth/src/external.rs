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
//! may be at most [`CLOCK_SKEW_SECONDS`] in the future; `sub` must be a usable user id
//! ([`user_id_from`](localfirst_core::session::user_id_from)); `iss` must be one of the
//! expected issuers and `aud` must name one of the expected audiences.
//!
//! The expected issuer(s) and audience(s) are part of [`ExternalAuthConfig`], and a
//! verifier cannot be built without them unless the configuration skips a check
//! explicitly (insecure, logged as a warning): with an identity provider shared by several
//! apps, a token issued for another app would otherwise sign in as its `sub`.
//!
//! ```no_run
//! # async fn run() -> Result<(), localfirst_auth::external::ExternalAuthError> {
//! use std::sync::Arc;
//! use localfirst_core::clock::SystemClock;
//! use localfirst_auth::external::{
//!     ExternalAuthConfig, ExternalKeySource, ExternalVerifier, JwksOptions,
//! };
//!
//! let keys = ExternalKeySource::Jwks {
//!     url: "https://id.example.com/.well-known/jwks.json".into(),
//!     options: JwksOptions::default(),
//! };
//! let config = ExternalAuthConfig::new(keys, "https://id.example.com", "my-app");
//! let verifier = ExternalVerifier::new(config, Arc::new(SystemClock))?;
//! let session = verifier.verify("eyJ...").await?;
//! println!("user {}", session.user_id);
//! # Ok(()) }
//! ```

use std::sync::Arc;
use std::time::Duration;

use localfirst_core::auth::AuthFailure;
use localfirst_core::clock::Clock;
use localfirst_core::error::Quoted;
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
    /// Minimum time between refreshes forced by an unknown `kid` or a bad signature,
    /// and between retries after a failed fetch (default 10 s). Routine fetches (the
    /// first, after the TTL) do not start it. Inside it, a bad signature fails at once
    /// and an unknown `kid` waits (at most this long) for the fetch allowed at its end.
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

/// External tokens: where their keys come from and what they must claim.
///
/// `issuers` and `audiences` are required: [`ExternalVerifier::new`] refuses a
/// configuration with none of either ([`ExternalAuthError::ChecksNotConfigured`]) unless
/// the matching `insecure_skip_*` flag is set, which logs a warning.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExternalAuthConfig {
    /// The provider's public keys.
    pub keys: ExternalKeySource,
    /// Accepted issuers: a token's `iss` must equal one of them.
    pub issuers: Vec<String>,
    /// Accepted audiences: a token's `aud` (a string or an array) must contain one of them.
    pub audiences: Vec<String>,
    /// Accept any `iss` (only with no `issuers`). Insecure: a token of any issuer whose
    /// key is in the key set signs in.
    pub insecure_skip_issuer_check: bool,
    /// Accept any `aud` (only with no `audiences`). Insecure: with a provider shared by
    /// several apps, a token issued for another app signs in as its `sub`.
    pub insecure_skip_audience_check: bool,
}

impl ExternalAuthConfig {
    /// Keys, one accepted issuer and one accepted audience (add more with
    /// [`with_issuer`](Self::with_issuer) and [`with_audience`](Self::with_audience)).
    pub fn new(
        keys: ExternalKeySource,
        issuer: impl Into<String>,
        audience: impl Into<String>,
    ) -> ExternalAuthConfig {
        ExternalAuthConfig {
            keys,
            issuers: vec![issuer.into()],
            audiences: vec![audience.into()],
            insecure_skip_issuer_check: false,
            insecure_skip_audience_check: false,
        }
    }

    /// Accepts one more issuer.
    pub fn with_issuer(mut self, issuer: impl Into<String>) -> ExternalAuthConfig {
        self.issuers.push(issuer.into());
        self
    }

    /// Accepts one more audience.
    pub fn with_audience(mut self, audience: impl Into<String>) -> ExternalAuthConfig {
        self.audiences.push(audience.into());
        self
    }

    /// The rule every verifier is built under: at least one issuer and one audience, or
    /// an explicit skip; no blank entry; not a list and its skip at once.
    fn check(&self) -> Result<(), ExternalAuthError> {
        let issuer = self.issuers.is_empty() && !self.insecure_skip_issuer_check;
        let audience = self.audiences.is_empty() && !self.insecure_skip_audience_check;
        if issuer || audience {
            return Err(ExternalAuthError::ChecksNotConfigured { issuer, audience });
        }
        let invalid = |reason: &str| {
            Err(ExternalAuthError::InvalidExpectation {
                reason: reason.to_owned(),
            })
        };
        if self
            .issuers
            .iter()
            .chain(&self.audiences)
            .any(|v| v.trim().is_empty())
        {
            return invalid("an expected issuer or audience is blank");
        }
        if self.insecure_skip_issuer_check && !self.issuers.is_empty() {
            return invalid("issuers are given and the issuer check is skipped");
        }
        if self.insecure_skip_audience_check && !self.audiences.is_empty() {
            return invalid("audiences are given and the audience check is skipped");
        }
        Ok(())
    }
}

/// Verifies external JWTs and turns them into [`Session`]s. Cheap to share behind an
/// `Arc`; all methods take `&self`.
pub struct ExternalVerifier {
    keys: Keys,
    clock: Arc<dyn Clock>,
    issuers: Vec<String>,
    audiences: Vec<String>,
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
    #[error("token algorithm {} is not accepted", Quoted(.alg))]
    UnsupportedAlgorithm {
        /// The `alg` found.
        alg: String,
    },
    /// A claim appears twice in the claims object.
    #[error("token has the claim {} twice", Quoted(.claim))]
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
    #[error("token is missing the \"{claim}\" claim")]
    MissingClaim {
        /// The missing claim.
        claim: &'static str,
    },
    /// `sub` is not a usable user id: blank, longer than
    /// [`MAX_USER_ID_LEN`](localfirst_core::session::MAX_USER_ID_LEN) bytes, or with
    /// control characters.
    #[error("token subject is not a usable user id (blank, too long, or with control characters)")]
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
    /// `aud` is missing or names none of the expected audiences.
    #[error("token audience is not one this server accepts")]
    AudienceMismatch,
    /// `iss` is missing or not one of the expected issuers.
    #[error("token issuer is not one this server accepts")]
    IssuerMismatch,
    /// No key matches the token's `kid` (after at most one allowed refresh).
    #[error("no key matches the token{}", describe_kid(.kid))]
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
    #[error("JWKS URL {} is not accepted: {reason}", Quoted(.url))]
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
    /// External keys are configured without an expected issuer or audience, and the
    /// check is not skipped explicitly.
    #[error("external tokens need {}: set the accepted value(s), or skip the check explicitly (insecure)", missing_checks(*.issuer, *.audience))]
    ChecksNotConfigured {
        /// No expected issuer.
        issuer: bool,
        /// No expected audience.
        audience: bool,
    },
    /// The expected issuers or audiences are not usable (a blank entry, or values
    /// together with the skip of their check).
    #[error("external token checks are misconfigured: {reason}")]
    InvalidExpectation {
        /// What is wrong.
        reason: String,
    },
}

/// `UnknownKey`'s text: the key id quoted, or that there is none.
fn describe_kid(kid: &Option<String>) -> String {
    match kid {
        Some(kid) => format!("'s key id {}", Quoted(kid)),
        None => ", which names no key id".to_owned(),
    }
}

/// The checks named by `ChecksNotConfigured`.
fn missing_checks(issuer: bool, audience: bool) -> &'static str {
    match (issuer, audience) {
        (true, true) => "an expected issuer and an expected audience",
        (true, false) => "an expected issuer",
        _ => "an expected audience",
    }
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
            ExternalAuthError::AudienceMismatch => Code::AudienceMismatch,
            ExternalAuthError::IssuerMismatch => Code::IssuerMismatch,
            ExternalAuthError::UnknownKey { .. } => Code::UnknownKey,
            ExternalAuthError::AlgorithmMismatch { .. } => Code::AlgorithmMismatch,
            ExternalAuthError::InvalidSignature => Code::InvalidSignature,
            ExternalAuthError::InvalidKey { .. } => Code::InvalidKey,
            ExternalAuthError::InvalidJwksUrl { .. } => Code::InvalidJwksUrl,
            ExternalAuthError::JwksUnavailable { .. } => Code::JwksUnavailable,
            ExternalAuthError::EmptyKeySet => Code::EmptyKeySet,
            ExternalAuthError::ChecksNotConfigured { .. }
            | ExternalAuthError::InvalidExpectation { .. } => Code::InvalidConfig,
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
    /// A verifier for `config`, reading time from `clock`.
    ///
    /// The expected issuers and audiences are checked first
    /// ([`ExternalAuthError::ChecksNotConfigured`],
    /// [`ExternalAuthError::InvalidExpectation`]); a skipped check is logged as a warning.
    /// A static key is parsed now ([`ExternalAuthError::InvalidKey`] or
    /// [`ExternalAuthError::EmptyKeySet`]); a JWKS URL is checked now and fetched on the
    /// first verification.
    pub fn new(
        config: ExternalAuthConfig,
        clock: Arc<dyn Clock>,
    ) -> Result<ExternalVerifier, ExternalAuthError> {
        config.check()?;
        if config.insecure_skip_issuer_check {
            tracing::warn!(
                "INSECURE: the issuer of external tokens is not checked; any issuer whose key is in the key set is accepted"
            );
        }
        if config.insecure_skip_audience_check {
            tracing::warn!(
                "INSECURE: the audience of external tokens is not checked; tokens issued for other apps are accepted"
            );
        }
        let keys = match config.keys {
            ExternalKeySource::Static { key } => Keys::Static(Arc::new(KeySet::from_static(&key)?)),
            ExternalKeySource::Jwks { url, options } => {
                Keys::Jwks(Box::new(JwksCache::new(&url, options, clock.clone())?))
            }
        };
        Ok(ExternalVerifier {
            keys,
            clock,
            issuers: config.issuers,
            audiences: config.audiences,
        })
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
                        // An unknown kid may be a key published since the last fetch: it
                        // waits for the next allowed fetch. A bad signature does not.
                        let wait = first == KeyMatch::UnknownKey;
                        match cache.forced_refresh(generation, wait).await {
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
            audiences: &self.audiences,
            issuers: &self.issuers,
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
            .field("audiences", &self.audiences)
            .field("issuers", &self.issuers)
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
