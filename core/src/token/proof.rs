//! Identity proofs: short-lived local-first tokens for an app-defined audience that
//! an app backend checks before linking an account to the proven user id, and the
//! verifier's lifetime limit (600 s by default, up to the 3600 s Jazz accepts).

use crate::clock::Clock;
use crate::error::{Code, ErrorCode as _};
use crate::identity::Identity;
use crate::secret::Secret;

use super::{
    check, mint_now, normalize_audience, Expected, Issuer, TokenError, VerifyOptions,
    DEFAULT_IAT_SKEW_SECONDS,
};

/// Default lifetime of an identity proof, in seconds.
pub const DEFAULT_PROOF_TTL_SECONDS: u64 = 60;
/// Longest identity proof [`verify_local_first_identity_proof`] accepts (`exp - iat`), in
/// seconds. Proofs are meant to live for one sign-up round trip; a longer limit would let a
/// leaked proof be replayed for longer.
pub const DEFAULT_PROOF_MAX_TTL_SECONDS: u64 = 600;
/// Largest limit a backend may choose for identity proofs
/// ([`verify_local_first_identity_proof_with_max_ttl`]), in seconds: what Jazz's own
/// verifier accepts, so a backend can take every proof a Jazz client mints.
pub const MAX_PROOF_MAX_TTL_SECONDS: u64 = 3600;
/// Longest identity proof anything of ours mints, in seconds: the limit our verifiers
/// apply by default ([`DEFAULT_PROOF_MAX_TTL_SECONDS`]), so that no proof we mint is
/// refused by a verifier we ship. A backend may accept longer proofs from Jazz clients
/// ([`MAX_PROOF_MAX_TTL_SECONDS`]); minting stays within the default.
pub const MAX_IDENTITY_PROOF_TTL_SECONDS: u64 = DEFAULT_PROOF_MAX_TTL_SECONDS;
/// Error text of [`verify_local_first_identity_proof`] when the token is empty.
pub const PROOF_TOKEN_REQUIRED: &str = "proofToken is required";

/// Mints an identity proof: a local-first token for `audience` living `ttl_seconds`
/// (use [`DEFAULT_PROOF_TTL_SECONDS`] unless you need longer), issued now by `clock`.
///
/// The mint rule every path applies (this function, `Db::get_local_first_identity_proof`
/// and every shell): the lifetime is 1 to [`MAX_IDENTITY_PROOF_TTL_SECONDS`] seconds
/// (zero is [`TokenError::InvalidTtl`], longer is [`TokenError::ProofTtlTooLong`], both
/// `invalid-ttl`: a longer proof would be refused by the default verifier, so it is not
/// minted), and the audience is not blank ([`TokenError::ProofAudienceRequired`],
/// `invalid-argument`).
pub fn identity_proof(
    secret: &Secret,
    ttl_seconds: u64,
    audience: &str,
    clock: &dyn Clock,
) -> Result<String, TokenError> {
    mint_identity_proof(&Identity::from_secret(secret), ttl_seconds, audience, clock)
}

/// [`identity_proof`] for an identity already derived (the `Db` holds one).
pub(crate) fn mint_identity_proof(
    identity: &Identity,
    ttl_seconds: u64,
    audience: &str,
    clock: &dyn Clock,
) -> Result<String, TokenError> {
    if audience.trim().is_empty() {
        return Err(TokenError::ProofAudienceRequired);
    }
    if ttl_seconds > MAX_IDENTITY_PROOF_TTL_SECONDS {
        return Err(TokenError::ProofTtlTooLong {
            ttl: ttl_seconds,
            max: MAX_IDENTITY_PROOF_TTL_SECONDS,
        });
    }
    mint_now(identity, Issuer::LocalFirst, audience, ttl_seconds, clock)
}

/// The outcome of verifying an identity proof, shaped for app backends.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProofVerification {
    /// Whether the proof is valid.
    pub ok: bool,
    /// The proven user id when `ok`.
    pub id: Option<String>,
    /// Why the proof was refused when not `ok`.
    pub error: Option<String>,
    /// The stable code of the refusal when not `ok` ([`Code::ProofTokenRequired`] for an
    /// empty token).
    pub code: Option<Code>,
}

/// Verifies an identity proof against `audience` at the time `clock` reads; returns
/// `{ok, id, error, code}` in the shape app backends expect.
///
/// Accepts only the local-first issuer, a lifetime (`exp - iat`) of at most
/// [`DEFAULT_PROOF_MAX_TTL_SECONDS`], and 60 s of clock skew. An empty (or all-whitespace)
/// token gives `error = "proofToken is required"`.
pub fn verify_local_first_identity_proof(
    token: &str,
    audience: &str,
    clock: &dyn Clock,
) -> ProofVerification {
    verify_local_first_identity_proof_with_max_ttl(
        token,
        audience,
        DEFAULT_PROOF_MAX_TTL_SECONDS,
        clock,
    )
}

/// [`verify_local_first_identity_proof`] with the backend's own limit on the proof's
/// lifetime: 1 to [`MAX_PROOF_MAX_TTL_SECONDS`] seconds (Jazz's verifier accepts proofs of
/// up to 3600 s; ours defaults to 600 s). Another limit gives `code` `invalid-argument`
/// whatever the token.
pub fn verify_local_first_identity_proof_with_max_ttl(
    token: &str,
    audience: &str,
    max_ttl_seconds: u64,
    clock: &dyn Clock,
) -> ProofVerification {
    let audience_uuid = normalize_audience(audience);
    let expected = Expected {
        audience,
        audience_uuid: &audience_uuid,
        issuers: &[Issuer::LocalFirst],
        max_ttl_seconds,
        iat_skew_seconds: DEFAULT_IAT_SKEW_SECONDS,
    };
    proof_outcome(token, &expected, clock)
}

/// Verifies an identity proof with explicit options (audience, lifetime limit, skew).
/// Whatever `options.issuers` says, only the local-first issuer is accepted. A
/// `max_ttl_seconds` outside 1 to [`MAX_PROOF_MAX_TTL_SECONDS`] is refused first, with
/// `code` `invalid-argument`: it is the backend's mistake, whatever the token.
pub fn verify_identity_proof(
    token: &str,
    options: &VerifyOptions,
    clock: &dyn Clock,
) -> ProofVerification {
    let audience_uuid = options.audience_uuid();
    proof_outcome(
        token,
        &options.expected(&audience_uuid, &[Issuer::LocalFirst]),
        clock,
    )
}

/// The proof checks in their order: the backend's lifetime limit, an empty token, then
/// every check of [`verify`](super::verify) against `expected`.
fn proof_outcome(token: &str, expected: &Expected<'_>, clock: &dyn Clock) -> ProofVerification {
    let refused = |error: String, code: Code| ProofVerification {
        ok: false,
        id: None,
        error: Some(error),
        code: Some(code),
    };
    if !(1..=MAX_PROOF_MAX_TTL_SECONDS).contains(&expected.max_ttl_seconds) {
        return refused(
            format!(
                "the longest proof lifetime accepted must be 1 to {MAX_PROOF_MAX_TTL_SECONDS} \
                 seconds, got {}",
                expected.max_ttl_seconds
            ),
            Code::InvalidArgument,
        );
    }
    if token.trim().is_empty() {
        return refused(PROOF_TOKEN_REQUIRED.to_owned(), Code::ProofTokenRequired);
    }
    match check(token, expected, clock) {
        Ok(checked) => ProofVerification {
            ok: true,
            id: Some(checked.key.user_id.to_string()),
            error: None,
            code: None,
        },
        Err(error) => refused(error.to_string(), error.code()),
    }
}

#[cfg(test)]
mod tests {
    use super::super::{mint, peek_issuer};
    use super::*;
    use crate::clock::FixedClock;

    /// A proof for `app` living `ttl` seconds as a Jazz client mints it: a
    /// local-first token, whatever its lifetime.
    fn jazz_proof(secret: &Secret, ttl: u64, clock: &FixedClock) -> String {
        let identity = Identity::from_secret(secret);
        mint(&identity, Issuer::LocalFirst, "app", clock.now_unix(), ttl).unwrap()
    }

    #[test]
    fn proofs_have_a_short_maximum_lifetime() {
        let secret = Secret::from_bytes([4; 32]);
        let clock = FixedClock::new(10_000);
        let longest =
            identity_proof(&secret, DEFAULT_PROOF_MAX_TTL_SECONDS, "app", &clock).unwrap();
        assert!(verify_local_first_identity_proof(&longest, "app", &clock).ok);
        // Minted as a Jazz client would (our minters refuse it).
        let too_long = jazz_proof(&secret, DEFAULT_PROOF_MAX_TTL_SECONDS + 1, &clock);
        let refused = verify_local_first_identity_proof(&too_long, "app", &clock);
        assert_eq!(refused.code.map(Code::as_str), Some("ttl-too-long"));
        let lenient = VerifyOptions::new("app").with_max_ttl(3600);
        assert!(verify_identity_proof(&too_long, &lenient, &clock).ok);
        assert!(verify_local_first_identity_proof_with_max_ttl(&too_long, "app", 601, &clock).ok);
        let anon = mint(
            &Identity::from_secret(&secret),
            Issuer::Anonymous,
            "app",
            10_000,
            60,
        )
        .unwrap();
        assert_eq!(
            verify_identity_proof(&anon, &lenient, &clock)
                .code
                .map(Code::as_str),
            Some("issuer-not-allowed")
        );
    }

    #[test]
    fn a_backend_chooses_the_proof_limit_within_jazz_s() {
        let secret = Secret::from_bytes([5; 32]);
        let clock = FixedClock::new(50_000);
        // A Jazz client asking for a 900 s proof.
        let jazz_like = jazz_proof(&secret, 900, &clock);
        let default = verify_local_first_identity_proof(&jazz_like, "app", &clock);
        assert_eq!(default.code.map(Code::as_str), Some("ttl-too-long"));
        let chosen = verify_local_first_identity_proof_with_max_ttl(&jazz_like, "app", 900, &clock);
        assert!(chosen.ok, "{chosen:?}");
        let longest = jazz_proof(&secret, MAX_PROOF_MAX_TTL_SECONDS, &clock);
        assert!(
            verify_local_first_identity_proof_with_max_ttl(
                &longest,
                "app",
                MAX_PROOF_MAX_TTL_SECONDS,
                &clock
            )
            .ok
        );
        for bad in [0, MAX_PROOF_MAX_TTL_SECONDS + 1, u64::MAX] {
            for token in [jazz_like.as_str(), ""] {
                let refused =
                    verify_local_first_identity_proof_with_max_ttl(token, "app", bad, &clock);
                assert!(!refused.ok);
                assert_eq!(refused.code, Some(Code::InvalidArgument), "{bad}");
                assert!(refused.error.unwrap().contains("1 to 3600"));
            }
            let options = VerifyOptions::new("app").with_max_ttl(bad);
            assert_eq!(
                verify_identity_proof(&jazz_like, &options, &clock).code,
                Some(Code::InvalidArgument)
            );
        }
    }

    #[test]
    fn issuer_filter_and_proof_shape() {
        let secret = Secret::from_bytes([2; 32]);
        let identity = Identity::from_secret(&secret);
        let clock = FixedClock::new(1_000);
        let anon = mint(&identity, Issuer::Anonymous, "app", 1_000, 60).unwrap();
        let proof = verify_local_first_identity_proof(&anon, "app", &clock);
        assert!(!proof.ok);
        assert_eq!(proof.code.map(Code::as_str), Some("issuer-not-allowed"));
        let good = identity_proof(&secret, 60, "app", &clock).unwrap();
        let proof = verify_local_first_identity_proof(&good, "app", &clock);
        assert_eq!(proof.id, Some(identity.user_id().to_string()));
        assert!(proof.ok);
        let empty = verify_local_first_identity_proof("  ", "app", &clock);
        assert_eq!(empty.error.as_deref(), Some(PROOF_TOKEN_REQUIRED));
        assert_eq!(
            peek_issuer(&good).unwrap().as_deref(),
            Some("urn:jazz:local-first")
        );
    }
}
