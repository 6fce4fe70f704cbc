//! Self-signed tokens and identity proofs. Time is the system clock unless the
//! caller passes one (`issuedAt`, `now`), which is how tests pin it.

use localfirst_core::clock::{Clock, FixedClock, SystemClock};
use localfirst_core::identity::Identity;
use localfirst_core::token::{self as core_token, Issuer, VerifyOptions};
use napi::bindgen_prelude::Unknown;
use napi::Env;
use napi_derive::napi;

use crate::args::{
    instance, number, optional_number, optional_object, optional_string, string, Instance,
};
use crate::error::{invalid_argument, seconds, to_js_seconds, OrThrow as _, Result};
use crate::identity::AuthSecret;

/// The outcome of verifying an identity proof, shaped for app backends (a
/// BetterAuth `before` hook, an Express route).
#[napi(object)]
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProofVerification {
    /// Whether the proof is valid.
    pub ok: bool,
    /// The proven user id when `ok`.
    pub id: Option<String>,
    /// Why the proof was refused when not `ok` (`"proofToken is required"` for an
    /// empty or missing token).
    pub error: Option<String>,
    /// The catalogue code of the refusal when not `ok` (`proof-token-required`
    /// for an empty or missing token).
    pub code: Option<String>,
}

/// What `verifyLocalFirstToken` accepts besides the audience.
#[napi(object)]
#[derive(Debug, Clone, Default)]
pub struct VerifyTokenOptions {
    /// The time to verify at, Unix seconds (default: now).
    pub now: Option<f64>,
    /// The longest accepted lifetime (`exp - iat`), seconds (default 3600).
    pub max_ttl_seconds: Option<f64>,
    /// The accepted issuers, `"local-first"` and/or `"anonymous"` (default both).
    pub issuers: Option<Vec<String>>,
}

/// What `verifyLocalFirstIdentityProof` accepts besides the audience.
#[napi(object)]
#[derive(Debug, Clone, Default)]
pub struct VerifyProofOptions {
    /// The time to verify at, Unix seconds (default: now).
    pub now: Option<f64>,
    /// The longest accepted proof lifetime (`exp - iat`), 1 to 3600 seconds
    /// (default 600). Jazz's own verifier accepts up to 3600: a backend serving
    /// Jazz clients that ask for longer proofs raises it.
    pub max_ttl_seconds: Option<f64>,
}

/// What a verified self-signed token establishes.
#[napi(object)]
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifiedToken {
    /// The user id (`sub`), proven to match the signing key.
    pub user_id: String,
    /// `"local-first"` or `"anonymous"`.
    #[napi(ts_type = "'local-first' | 'anonymous'")]
    pub issuer: String,
    /// The signer's Ed25519 public key, unpadded base64url.
    pub public_key: String,
    /// The audience as the caller passed it (an app id or a UUID), which the token
    /// was minted for.
    pub audience: String,
    /// The audience as the token carries it: `audience` itself if it is a UUID,
    /// otherwise its UUIDv5 (DNS namespace).
    pub audience_uuid: String,
    /// `iat`, Unix seconds.
    pub issued_at: i64,
    /// `exp`, Unix seconds.
    pub expires_at: i64,
}

/// Mints a local-first token (issuer `urn:jazz:local-first`) for `audience`, living
/// `ttlSeconds`, issued now or at `issuedAt` (Unix seconds). The audience is
/// normalised (a UUID as is, anything else UUIDv5 in the DNS namespace). A zero
/// lifetime fails with `invalid-ttl`; a negative or fractional number, or an
/// argument of the wrong type, with `invalid-argument`.
#[napi(
    ts_args_type = "secret: AuthSecret, audience: string, ttlSeconds: number, issuedAt?: number | undefined | null"
)]
pub fn mint_local_first_token(
    env: &Env,
    secret: Instance<AuthSecret>,
    audience: Unknown,
    ttl_seconds: Unknown,
    issued_at: Option<Unknown>,
) -> napi::Result<String> {
    let mint = || -> Result<String> {
        let secret = instance(secret, "secret", "AuthSecret")?;
        let audience = string(audience, "audience")?;
        let (ttl, clock) = lifetime(ttl_seconds, issued_at)?;
        let identity = Identity::from_secret(secret.secret());
        Ok(core_token::mint_now(
            &identity,
            Issuer::LocalFirst,
            &audience,
            ttl,
            clock.as_ref(),
        )?)
    };
    mint().or_throw(env)
}

/// Mints an identity proof: a short-lived local-first token for `audience` that an
/// app backend checks with `verifyLocalFirstIdentityProof` before linking an
/// account to this user id. Use 60 seconds unless you need longer; a lifetime over
/// 600 seconds is refused with `invalid-ttl` (the verifier's default limit). The
/// core's form, with the lifetime optional, is `identityProofFor`.
#[napi(
    ts_args_type = "secret: AuthSecret, audience: string, ttlSeconds: number, issuedAt?: number | undefined | null"
)]
pub fn local_first_identity_proof(
    env: &Env,
    secret: Instance<AuthSecret>,
    audience: Unknown,
    ttl_seconds: Unknown,
    issued_at: Option<Unknown>,
) -> napi::Result<String> {
    let mint = || -> Result<String> {
        let secret = instance(secret, "secret", "AuthSecret")?;
        let audience = string(audience, "audience")?;
        let (ttl, clock) = lifetime(ttl_seconds, issued_at)?;
        Ok(localfirst_core::app::identity_proof_for(
            secret.secret(),
            Some(ttl),
            audience,
            clock.as_ref(),
        )?)
    };
    mint().or_throw(env)
}

/// Verifies an identity proof against `audience`, now or at `options.now` (Unix
/// seconds), accepting proofs that live at most `options.maxTtlSeconds` (1 to
/// 3600, default 600). Never throws: a refused proof gives `ok: false`, an `error`
/// text and its `code`. A missing or empty token gives `error: "proofToken is
/// required"`; an argument of the wrong type, a bad `now` or a limit outside 1 to
/// 3600 gives code `invalid-argument`.
#[napi(
    ts_args_type = "token: string | undefined | null, audience: string, options?: VerifyProofOptions | undefined | null"
)]
pub fn verify_local_first_identity_proof(
    token: Option<Unknown>,
    audience: Unknown,
    options: Option<Unknown>,
) -> ProofVerification {
    let (token, audience, max_ttl, clock) = match proof_arguments(token, audience, options) {
        Ok(checked) => checked,
        Err(error) => {
            let report = error.into_report();
            return ProofVerification {
                ok: false,
                id: None,
                error: Some(report.reason),
                code: Some(report.code.as_str().to_owned()),
            };
        }
    };
    let outcome = core_token::verify_local_first_identity_proof_with_max_ttl(
        &token,
        &audience,
        max_ttl,
        clock.as_ref(),
    );
    ProofVerification {
        ok: outcome.ok,
        id: outcome.id,
        error: outcome.error,
        code: outcome.code.map(|code| code.as_str().to_owned()),
    }
}

/// The arguments of `verifyLocalFirstIdentityProof`, checked: the token (empty when
/// missing), the audience, the lifetime limit and the clock.
fn proof_arguments(
    token: Option<Unknown>,
    audience: Unknown,
    options: Option<Unknown>,
) -> Result<(String, String, u64, Box<dyn Clock>)> {
    let token = optional_string(token, "token")?.unwrap_or_default();
    let audience = string(audience, "audience")?;
    let options: VerifyProofOptions = optional_object(options, "options")?.unwrap_or_default();
    let max_ttl = match options.max_ttl_seconds {
        Some(max) => seconds(max, "maxTtlSeconds")?,
        None => core_token::DEFAULT_PROOF_MAX_TTL_SECONDS,
    };
    Ok((token, audience, max_ttl, clock(options.now, "now")?))
}

/// Verifies a self-signed token (local-first or anonymous) completely: shape,
/// header, claims, issuer, signature, subject/key binding, audience and times,
/// exactly as the sync server does. Throws an `Error` whose `code` names the
/// first failed check (`expired`, `invalid-signature`, `audience-mismatch`, ...).
#[napi(
    ts_args_type = "token: string, audience: string, options?: VerifyTokenOptions | undefined | null"
)]
pub fn verify_local_first_token(
    env: &Env,
    token: Unknown,
    audience: Unknown,
    options: Option<Unknown>,
) -> napi::Result<VerifiedToken> {
    verified_token(token, audience, options).or_throw(env)
}

/// `verifyLocalFirstToken`'s arguments checked, then the core's verification.
fn verified_token(
    token: Unknown,
    audience: Unknown,
    options: Option<Unknown>,
) -> Result<VerifiedToken> {
    let token = string(token, "token")?;
    let audience = string(audience, "audience")?;
    let options: VerifyTokenOptions = optional_object(options, "options")?.unwrap_or_default();
    let clock = clock(options.now, "now")?;
    let mut verify = VerifyOptions::new(&audience);
    if let Some(max) = options.max_ttl_seconds {
        verify = verify.with_max_ttl(seconds(max, "maxTtlSeconds")?);
    }
    if let Some(names) = &options.issuers {
        let issuers = names
            .iter()
            .map(|name| issuer(name))
            .collect::<Result<Vec<Issuer>>>()?;
        verify = verify.with_issuers(&issuers);
    }
    let verified = core_token::verify(&token, &verify, clock.as_ref())?;
    Ok(VerifiedToken {
        user_id: verified.user_id.to_string(),
        issuer: issuer_name(verified.issuer).to_owned(),
        public_key: verified.public_key.to_base64url(),
        audience: verified.audience,
        audience_uuid: verified.audience_uuid,
        issued_at: to_js_seconds(verified.issued_at),
        expires_at: to_js_seconds(verified.expires_at),
    })
}

/// A new token's lifetime in seconds and the clock that stamps its `iat`.
pub(crate) fn lifetime(
    ttl_seconds: Unknown,
    issued_at: Option<Unknown>,
) -> Result<(u64, Box<dyn Clock>)> {
    Ok((
        seconds(number(ttl_seconds, "ttlSeconds")?, "ttlSeconds")?,
        clock(optional_number(issued_at, "issuedAt")?, "issuedAt")?,
    ))
}

/// The system clock, or a clock stopped at `at` (Unix seconds).
pub(crate) fn clock(at: Option<f64>, what: &str) -> Result<Box<dyn Clock>> {
    Ok(match at {
        Some(at) => Box::new(FixedClock::new(seconds(at, what)?)),
        None => Box::new(SystemClock),
    })
}

/// An issuer from its JavaScript name (the auth mode's wire name).
fn issuer(name: &str) -> Result<Issuer> {
    match name {
        "local-first" => Ok(Issuer::LocalFirst),
        "anonymous" => Ok(Issuer::Anonymous),
        other => Err(invalid_argument(format!(
            "unknown issuer {other:?}: expected \"local-first\" or \"anonymous\""
        ))),
    }
}

fn issuer_name(issuer: Issuer) -> &'static str {
    match issuer {
        Issuer::LocalFirst => "local-first",
        Issuer::Anonymous => "anonymous",
    }
}
