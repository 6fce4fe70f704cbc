//! # localfirst-auth
//!
//! Session resolution of localfirst, shared by the sync server (`localfirst-server`)
//! and the Node addon (`@localfirst/node`), so that the rule exists once. A request's
//! credential becomes a [`Session`] in this order (first match wins; see
//! `docs/PROTOCOL.md`): backend impersonation, self-signed bearer token, external
//! bearer token, none.
//!
//! - [`SessionResolver`]: the order above over an HTTP header map ([`resolve`](SessionResolver::resolve)).
//! - [`external`]: external JWTs ([`ExternalVerifier`]) under
//!   keys from a JWKS endpoint (cached) or one static key, and what they must claim
//!   ([`ExternalAuthConfig`](external::ExternalAuthConfig): expected issuer and audience
//!   are required unless a check is skipped explicitly).
//! - [`token_cache`]: verified external tokens, so a token's signature is checked once.
//! - [`SharedSecret`]: the backend secret (at least [`MIN_SHARED_SECRET_LEN`] bytes).
//! - [`tls`]: the HTTP client of the JWKS fetch: rustls with the ring provider and the
//!   platform's certificate verifier.
//!
//! Time comes from an injected [`Clock`]; tokens and secrets are never logged.

#![forbid(unsafe_code)]

mod jwks;
mod jwt;
mod shared_secret;

pub mod external;
pub mod tls;
pub mod token_cache;

use std::sync::Arc;

use base64::Engine as _;
use http::HeaderMap;
use localfirst_core::auth::AuthFailure;
use localfirst_core::clock::Clock;
use localfirst_core::session::{self, AuthMode, Session};
use localfirst_core::token::{self, Issuer, TokenError, VerifyOptions};
use serde::Deserialize;
use serde_json::{Map, Value};

use external::ExternalVerifier;
pub use shared_secret::{SharedSecret, SharedSecretTooShort, MIN_SHARED_SECRET_LEN};
use token_cache::VerifiedTokenCache;

/// Header carrying the backend secret for impersonation.
pub const BACKEND_SECRET_HEADER: &str = "x-jazz-backend-secret";
/// Header carrying the impersonated session (base64 JSON).
pub const SESSION_HEADER: &str = "x-jazz-session";
/// Cookie carrying a bearer token when no `Authorization` header is sent.
pub use localfirst_core::sync::protocol::TOKEN_COOKIE;
/// Largest `X-Jazz-Session` header accepted, in bytes.
pub const MAX_SESSION_HEADER: usize = 16 * 1024;

/// Why a socket's credential was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{failure}: {message}")]
pub struct AuthRejection {
    /// The wire code (`expired`, `missing`, `invalid`, `disabled`).
    pub failure: AuthFailure,
    /// Human-readable reason (never contains the credential).
    pub message: String,
}

impl AuthRejection {
    fn new(failure: AuthFailure, message: impl Into<String>) -> AuthRejection {
        AuthRejection {
            failure,
            message: message.into(),
        }
    }
}

/// A resolved session and when its credential stops being valid.
#[derive(Debug, Clone, PartialEq)]
pub struct Resolved {
    /// Who acts.
    pub session: Session,
    /// `exp` of the token, if the credential was a token.
    pub expires_at: Option<u64>,
}

/// Resolves sockets' credentials into sessions.
pub struct SessionResolver {
    verify_options: VerifyOptions,
    allow_local_first: bool,
    backend_secret: Option<SharedSecret>,
    external: Option<ExternalVerifier>,
    cache: VerifiedTokenCache,
    clock: Arc<dyn Clock>,
}

impl std::fmt::Debug for SessionResolver {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SessionResolver")
            .field("audience", &self.verify_options.audience)
            .field("allow_local_first", &self.allow_local_first)
            .finish_non_exhaustive()
    }
}

impl SessionResolver {
    /// A resolver for `app_id` (the self-signed audience).
    pub fn new(
        app_id: &str,
        allow_local_first: bool,
        backend_secret: Option<SharedSecret>,
        external: Option<ExternalVerifier>,
        clock: Arc<dyn Clock>,
    ) -> SessionResolver {
        SessionResolver {
            verify_options: VerifyOptions::new(app_id),
            allow_local_first,
            backend_secret,
            external,
            cache: VerifiedTokenCache::new(10_000),
            clock,
        }
    }

    /// The current time of the injected clock.
    pub fn now(&self) -> u64 {
        self.clock.now_unix()
    }

    /// Resolves the credential of an upgrade request.
    pub async fn resolve(&self, headers: &HeaderMap) -> Result<Resolved, AuthRejection> {
        if headers.contains_key(SESSION_HEADER) || headers.contains_key(BACKEND_SECRET_HEADER) {
            return self.impersonate(headers);
        }
        match bearer_token(headers)? {
            Some(token) => self.verify_bearer(&token).await,
            None => Err(AuthRejection::new(
                AuthFailure::Missing,
                "no credential: send a bearer token or a backend session",
            )),
        }
    }

    fn impersonate(&self, headers: &HeaderMap) -> Result<Resolved, AuthRejection> {
        let Some(expected) = &self.backend_secret else {
            return Err(AuthRejection::new(
                AuthFailure::Disabled,
                "backend impersonation is not enabled on this server",
            ));
        };
        let given = headers.get(BACKEND_SECRET_HEADER).map(|v| v.as_bytes());
        if !expected.matches(given) {
            return Err(AuthRejection::new(
                AuthFailure::Invalid,
                "missing or wrong backend secret",
            ));
        }
        let raw = headers
            .get(SESSION_HEADER)
            .map(|v| v.as_bytes())
            .ok_or_else(|| AuthRejection::new(AuthFailure::Invalid, "X-Jazz-Session is missing"))?;
        if raw.len() > MAX_SESSION_HEADER {
            return Err(AuthRejection::new(
                AuthFailure::Invalid,
                "X-Jazz-Session is too large",
            ));
        }
        let json = decode_base64(raw).ok_or_else(|| {
            AuthRejection::new(AuthFailure::Invalid, "X-Jazz-Session is not base64")
        })?;
        let parsed: ImpersonatedSession = serde_json::from_slice(&json).map_err(|e| {
            AuthRejection::new(
                AuthFailure::Invalid,
                format!("X-Jazz-Session is not a session object: {e}"),
            )
        })?;
        let user_id = session::user_id_from(&parsed.user_id).map_err(|e| {
            AuthRejection::new(
                AuthFailure::Invalid,
                format!("X-Jazz-Session has no usable userId: {e}"),
            )
        })?;
        let session = Session::new(user_id, parsed.auth_mode.unwrap_or(AuthMode::External))
            .with_claims(parsed.claims.unwrap_or_default());
        Ok(Resolved {
            session,
            expires_at: None,
        })
    }

    async fn verify_bearer(&self, token: &str) -> Result<Resolved, AuthRejection> {
        // Read once: the issuer routes the token, and a self-signed session carries them.
        let claims = token::decode_claims_unverified(token).map_err(|e| {
            AuthRejection::new(AuthFailure::Invalid, format!("malformed token: {e}"))
        })?;
        let issuer = claims.get("iss").and_then(Value::as_str);
        match issuer.and_then(Issuer::from_claim) {
            Some(issuer) => self.verify_self_signed(token, issuer, claims),
            None => self.verify_external(token).await,
        }
    }

    fn verify_self_signed(
        &self,
        token: &str,
        issuer: Issuer,
        claims: Map<String, Value>,
    ) -> Result<Resolved, AuthRejection> {
        if issuer == Issuer::LocalFirst && !self.allow_local_first {
            return Err(AuthRejection::new(
                AuthFailure::Disabled,
                "local-first auth is disabled on this server",
            ));
        }
        let verified =
            token::verify(token, &self.verify_options, self.clock.as_ref()).map_err(|e| {
                let failure = match e {
                    TokenError::Expired { .. } => AuthFailure::Expired,
                    _ => AuthFailure::Invalid,
                };
                AuthRejection::new(failure, e.to_string())
            })?;
        let mode = match verified.issuer {
            Issuer::LocalFirst => AuthMode::LocalFirst,
            Issuer::Anonymous => AuthMode::Anonymous,
        };
        Ok(Resolved {
            session: Session::new(verified.user_id.to_string(), mode).with_claims(claims),
            expires_at: Some(verified.expires_at),
        })
    }

    async fn verify_external(&self, token: &str) -> Result<Resolved, AuthRejection> {
        let now = self.now();
        if let Some(session) = self.cache.get(token, now) {
            let expires_at = claim_exp(&session);
            return Ok(Resolved {
                session,
                expires_at,
            });
        }
        let Some(verifier) = &self.external else {
            return Err(AuthRejection::new(
                AuthFailure::Disabled,
                "external tokens are not accepted: no JWKS URL or public key configured",
            ));
        };
        let session = verifier
            .verify(token)
            .await
            .map_err(|e| AuthRejection::new(e.failure(), e.to_string()))?;
        let expires_at = claim_exp(&session);
        if let Some(exp) = expires_at {
            self.cache.insert(token, session.clone(), exp);
        }
        Ok(Resolved {
            session,
            expires_at,
        })
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct ImpersonatedSession {
    user_id: String,
    #[serde(default)]
    auth_mode: Option<AuthMode>,
    #[serde(default)]
    claims: Option<Map<String, Value>>,
}

fn claim_exp(session: &Session) -> Option<u64> {
    session.claims.get("exp").and_then(Value::as_u64)
}

/// The bearer token from `Authorization`, else from the token cookie.
fn bearer_token(headers: &HeaderMap) -> Result<Option<String>, AuthRejection> {
    if let Some(value) = headers.get(http::header::AUTHORIZATION) {
        let text = value
            .to_str()
            .map_err(|_| AuthRejection::new(AuthFailure::Invalid, "Authorization is not ASCII"))?;
        let token = text
            .strip_prefix("Bearer ")
            .or_else(|| text.strip_prefix("bearer "))
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .ok_or_else(|| {
                AuthRejection::new(
                    AuthFailure::Invalid,
                    "Authorization must be `Bearer <token>`",
                )
            })?;
        return Ok(Some(token.to_owned()));
    }
    for value in headers.get_all(http::header::COOKIE) {
        let Ok(text) = value.to_str() else { continue };
        for pair in text.split(';') {
            if let Some((name, token)) = pair.trim().split_once('=') {
                if name == TOKEN_COOKIE && !token.is_empty() {
                    return Ok(Some(token.to_owned()));
                }
            }
        }
    }
    Ok(None)
}

fn decode_base64(raw: &[u8]) -> Option<Vec<u8>> {
    use base64::engine::general_purpose::{GeneralPurpose, GeneralPurposeConfig};
    use base64::engine::DecodePaddingMode;
    let config =
        GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent);
    let standard = GeneralPurpose::new(&base64::alphabet::STANDARD, config);
    let url = GeneralPurpose::new(&base64::alphabet::URL_SAFE, config);
    let trimmed = raw.trim_ascii();
    standard
        .decode(trimmed)
        .ok()
        .or_else(|| url.decode(trimmed).ok())
}
