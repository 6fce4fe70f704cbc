//! Self-signed tokens and identity proofs, issued and checked on the system clock.

use std::sync::Arc;

use localfirst_core::clock::SystemClock;
use localfirst_core::identity::Identity;
use localfirst_core::token::{self as core_token, Issuer};

use crate::error::{ErrorCode, LocalFirstError};
use crate::identity::AuthSecret;

/// A lifetime in seconds as the foreign languages pass it: signed (`Long` in Kotlin, `Int64`
/// in Swift), so that an app writes `3600` or `5.minutes.inWholeSeconds` without unsigned
/// suffixes. A negative value becomes 0, which every rule of the core refuses with its code
/// (`invalid-ttl`; `invalid-argument` for a verifier's limit): the bindings add no rule.
pub(crate) fn seconds(value: i64) -> u64 {
    u64::try_from(value).unwrap_or(0)
}

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
    ttl_seconds: i64,
) -> Result<String, LocalFirstError> {
    let identity = Identity::from_secret(secret.secret());
    Ok(core_token::mint_now(
        &identity,
        Issuer::LocalFirst,
        &audience,
        seconds(ttl_seconds),
        &SystemClock,
    )?)
}

/// Mints an identity proof: a short-lived local-first token for `audience` (an app
/// backend checks it with `verifyLocalFirstIdentityProof` before linking accounts).
/// Use 60 seconds unless you need longer; proofs above 600 seconds are refused
/// (`invalid-ttl`). The core's argument order is `identityProofFor(secret, ttlSeconds,
/// audience)`, with the lifetime optional; this older form forwards to it.
#[uniffi::export]
pub fn local_first_identity_proof(
    secret: Arc<AuthSecret>,
    audience: String,
    ttl_seconds: i64,
) -> Result<String, LocalFirstError> {
    crate::app::identity_proof_for(secret, Some(ttl_seconds), audience)
}

/// Verifies an identity proof against `audience` now. Never throws: a refused
/// proof has `ok = false`, an `error` text and its `code`. `maxTtlSeconds` is the
/// longest proof lifetime accepted, 1 to 3600 (default 600; Jazz's verifier takes up
/// to 3600); another value gives `code = "invalid-argument"`.
#[uniffi::export(default(max_ttl_seconds = None))]
pub fn verify_local_first_identity_proof(
    token: String,
    audience: String,
    max_ttl_seconds: Option<i64>,
) -> ProofVerification {
    let outcome = core_token::verify_local_first_identity_proof_with_max_ttl(
        &token,
        &audience,
        max_ttl_seconds.map_or(core_token::DEFAULT_PROOF_MAX_TTL_SECONDS, seconds),
        &SystemClock,
    );
    ProofVerification {
        ok: outcome.ok,
        id: outcome.id,
        error: outcome.error,
        code: outcome.code.map(ErrorCode::from),
    }
}
