//! Self-signed tokens and identity proofs, issued and checked on the system clock.

use std::sync::Arc;

use localfirst_core::clock::SystemClock;
use localfirst_core::identity::Identity;
use localfirst_core::token::{self as core_token, Issuer};

use crate::error::{ErrorCode, LocalFirstError};
use crate::identity::AuthSecret;

/// The outcome of verifying an identity proof, shaped for app backends.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct ProofVerification {
    /// Whether the proof is valid.
    pub ok: bool,
    /// The proven user id when `ok`.
    pub id: Option<String>,
    /// Why the proof was refused when not `ok` (`"proofToken is required"` for an
    /// empty token).
    pub error: Option<String>,
    /// The catalogue code of the refusal when not `ok` (`proof-token-required` for an
    /// empty token).
    pub code: Option<ErrorCode>,
}

/// Mints a local-first token (issuer `urn:jazz:local-first`) for `audience`, issued
/// now and living `ttlSeconds`. The audience is normalised (a UUID as is, anything
/// else UUIDv5 in the DNS namespace). A zero lifetime fails with `invalid-ttl`.
#[uniffi::export]
pub fn mint_local_first_token(
    secret: Arc<AuthSecret>,
    audience: String,
    ttl_seconds: u64,
) -> Result<String, LocalFirstError> {
    let identity = Identity::from_secret(secret.secret());
    Ok(core_token::mint_now(
        &identity,
        Issuer::LocalFirst,
        &audience,
        ttl_seconds,
        &SystemClock,
    )?)
}

/// Mints an identity proof: a short-lived local-first token for `audience` (an app
/// backend checks it with `verifyLocalFirstIdentityProof` before linking accounts).
/// Use 60 seconds unless you need longer; proofs above 600 seconds are refused.
#[uniffi::export]
pub fn local_first_identity_proof(
    secret: Arc<AuthSecret>,
    audience: String,
    ttl_seconds: u64,
) -> Result<String, LocalFirstError> {
    Ok(core_token::identity_proof(
        secret.secret(),
        ttl_seconds,
        &audience,
        &SystemClock,
    )?)
}

/// Verifies an identity proof against `audience` now. Never throws: a refused
/// proof has `ok = false`, an `error` text and its `code`. `maxTtlSeconds` is the
/// longest proof lifetime accepted, 1 to 3600 (default 600; Jazz's verifier takes up
/// to 3600); another value gives `code = "invalid-argument"`.
#[uniffi::export(default(max_ttl_seconds = None))]
pub fn verify_local_first_identity_proof(
    token: String,
    audience: String,
    max_ttl_seconds: Option<u64>,
) -> ProofVerification {
    let outcome = core_token::verify_local_first_identity_proof_with_max_ttl(
        &token,
        &audience,
        max_ttl_seconds.unwrap_or(core_token::DEFAULT_PROOF_MAX_TTL_SECONDS),
        &SystemClock,
    );
    ProofVerification {
        ok: outcome.ok,
        id: outcome.id,
        error: outcome.error,
        code: outcome.code.map(ErrorCode::from),
    }
}
