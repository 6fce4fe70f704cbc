//! Self-signed tokens: minting and strict verification.
//!
//! A self-signed token is a compact JWT signed by the user's own Ed25519 key:
//!
//! ```text
//! base64url({"alg":"EdDSA","typ":"JWT"}) . base64url(claims) . base64url(signature)
//! ```
//!
//! with the claims, in this order, `iss, sub, aud, jazz_pub_key, iat, exp`. The
//! issuer is [`Issuer::LocalFirst`] (`urn:jazz:local-first`) or
//! [`Issuer::Anonymous`] (`urn:jazz:anonymous`). Because Ed25519 signatures are
//! deterministic, the same secret, audience and times always give the same token,
//! byte for byte.
//!
//! [`verify`] checks everything a server must check, in a fixed order, and reports
//! each rejection as its own [`TokenError`] variant with a stable code. Time comes
//! from an injected [`Clock`].
//!
//! Identity proofs ([`identity_proof`], [`verify_local_first_identity_proof`], in
//! `proof.rs`) are short-lived local-first tokens with an application-defined
//! audience, used by an app backend to link an external account to the same user id.

use std::borrow::Cow;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use ed25519_dalek::Signature;
use serde::Serialize;
use uuid::Uuid;

use crate::clock::Clock;
use crate::error::{Code, ErrorCode, Quoted};
use crate::identity::{Identity, PublicKey, UserId};

mod claims;
mod keys;
mod proof;

pub use claims::{decode_claims_unverified, parse_claims_object, peek_issuer};
use keys::KnownKey;
pub use keys::KEY_CACHE_CAPACITY;
pub(crate) use proof::mint_identity_proof;
pub use proof::{
    identity_proof, verify_identity_proof, verify_local_first_identity_proof,
    verify_local_first_identity_proof_with_max_ttl, ProofVerification,
    DEFAULT_PROOF_MAX_TTL_SECONDS, DEFAULT_PROOF_TTL_SECONDS, MAX_IDENTITY_PROOF_TTL_SECONDS,
    MAX_PROOF_MAX_TTL_SECONDS, PROOF_TOKEN_REQUIRED,
};

/// The only header a self-signed token may carry.
pub const HEADER_JSON: &str = r#"{"alg":"EdDSA","typ":"JWT"}"#;
/// Default maximum lifetime (`exp - iat`) accepted by [`verify`], in seconds.
pub const DEFAULT_MAX_TTL_SECONDS: u64 = 3600;
/// Default lifetime of a minted session token, in seconds.
pub const DEFAULT_TTL_SECONDS: u64 = 3600;
/// How far in the future `iat` may lie (clock skew allowance), in seconds.
pub const DEFAULT_IAT_SKEW_SECONDS: u64 = 60;
/// Largest `iat`/`exp` a token may carry: 2^53 − 1, the largest integer a JavaScript
/// verifier reads exactly.
pub const MAX_TIMESTAMP: u64 = (1 << 53) - 1;
/// Tokens longer than this many bytes are rejected before any parsing.
pub const MAX_TOKEN_LEN: usize = 4096;
/// Longest external (provider-issued) JWT [`decode_claims_unverified`] accepts, in bytes.
/// Larger than [`MAX_TOKEN_LEN`] because providers put roles, groups and profile
/// claims in their tokens; still bounded so a hostile token cannot exhaust memory.
pub const MAX_EXTERNAL_TOKEN_LEN: usize = 16 * 1024;

/// Who issued a self-signed token.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Issuer {
    /// A persistent local-first identity (`urn:jazz:local-first`).
    LocalFirst,
    /// An ephemeral anonymous identity (`urn:jazz:anonymous`).
    Anonymous,
}

impl Issuer {
    /// The `iss` claim value.
    pub fn as_str(self) -> &'static str {
        match self {
            Issuer::LocalFirst => "urn:jazz:local-first",
            Issuer::Anonymous => "urn:jazz:anonymous",
        }
    }

    /// Recognises an `iss` claim value; `None` for any other issuer.
    pub fn from_claim(iss: &str) -> Option<Issuer> {
        match iss {
            "urn:jazz:local-first" => Some(Issuer::LocalFirst),
            "urn:jazz:anonymous" => Some(Issuer::Anonymous),
            _ => None,
        }
    }

    /// Whether `iss` names one of the self-signed issuers.
    pub fn is_self_signed(iss: &str) -> bool {
        Issuer::from_claim(iss).is_some()
    }
}

/// Which of the three token parts a decoding error refers to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenPart {
    /// The first part (JOSE header).
    Header,
    /// The second part (claims).
    Claims,
    /// The third part (signature).
    Signature,
}

impl std::fmt::Display for TokenPart {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            TokenPart::Header => "header",
            TokenPart::Claims => "claims",
            TokenPart::Signature => "signature",
        })
    }
}

/// A claim every self-signed token must carry (named by [`TokenError::MissingClaim`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum RequiredClaim {
    /// `iss`, the issuer.
    Iss,
    /// `sub`, the user id.
    Sub,
    /// `aud`, the normalised audience.
    Aud,
    /// `jazz_pub_key`, the signer's public key.
    JazzPubKey,
    /// `iat`, the issue time.
    Iat,
    /// `exp`, the expiry time.
    Exp,
}

impl RequiredClaim {
    /// The claim's name in the token, e.g. `jazz_pub_key`.
    pub fn as_str(self) -> &'static str {
        match self {
            RequiredClaim::Iss => "iss",
            RequiredClaim::Sub => "sub",
            RequiredClaim::Aud => "aud",
            RequiredClaim::JazzPubKey => "jazz_pub_key",
            RequiredClaim::Iat => "iat",
            RequiredClaim::Exp => "exp",
        }
    }
}

impl std::fmt::Display for RequiredClaim {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Every reason a token can be refused (or not minted), one variant each.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TokenError {
    /// The token is longer than [`MAX_TOKEN_LEN`] (self-signed) or
    /// [`MAX_EXTERNAL_TOKEN_LEN`] (external).
    #[error("token is {len} bytes, more than the {max} allowed")]
    TooLarge {
        /// Length of the input.
        len: usize,
        /// The limit.
        max: usize,
    },
    /// The token does not have exactly three dot-separated parts.
    #[error("token must have 3 dot-separated parts, got {parts}")]
    WrongPartCount {
        /// Number of parts found.
        parts: usize,
    },
    /// A part is not unpadded base64url.
    #[error("token {part} is not unpadded base64url")]
    InvalidEncoding {
        /// The offending part.
        part: TokenPart,
    },
    /// The header is not `{"alg":"EdDSA","typ":"JWT"}` (bad JSON, other fields, wrong `typ`).
    #[error("token header is invalid")]
    InvalidHeader,
    /// The header names an algorithm other than `EdDSA`.
    #[error("token algorithm {} is not allowed (only EdDSA)", Quoted(.alg))]
    UnsupportedAlgorithm {
        /// The `alg` found.
        alg: String,
    },
    /// The claims are not a JSON object of the expected types.
    #[error("token claims are invalid: {reason}")]
    InvalidClaims {
        /// What is wrong.
        reason: String,
    },
    /// The claims contain a claim this format does not define.
    #[error("token has an unknown claim {}", Quoted(.claim))]
    UnknownClaim {
        /// Name of the first unknown claim.
        claim: String,
    },
    /// A required claim is absent.
    #[error("token is missing the \"{claim}\" claim")]
    MissingClaim {
        /// The missing claim.
        claim: RequiredClaim,
    },
    /// `iss` is not a self-signed issuer.
    #[error("token issuer {} is not a self-signed issuer", Quoted(.issuer))]
    UnknownIssuer {
        /// The `iss` found.
        issuer: String,
    },
    /// `iss` is a self-signed issuer that the verifier does not accept here.
    #[error("token issuer {} is not accepted here", Quoted(.issuer))]
    IssuerNotAllowed {
        /// The `iss` found.
        issuer: String,
    },
    /// `aud` differs from the expected (normalised) audience.
    #[error("{}", audience_mismatch_message(audience, expected, actual))]
    AudienceMismatch {
        /// The expected audience as the verifier was given it (an app id or a UUID).
        audience: String,
        /// The expected audience as it goes on the wire: `audience` normalised
        /// ([`normalize_audience`]).
        expected: String,
        /// The audience in the token.
        actual: String,
    },
    /// `jazz_pub_key` is not base64url or not a valid Ed25519 key.
    #[error("token public key is not a valid Ed25519 key")]
    InvalidPublicKey,
    /// `jazz_pub_key` does not decode to 32 bytes.
    #[error("token public key must be 32 bytes, got {actual}")]
    PublicKeyLength {
        /// Bytes found.
        actual: usize,
    },
    /// The signature does not decode to 64 bytes.
    #[error("token signature must be 64 bytes, got {actual}")]
    SignatureLength {
        /// Bytes found.
        actual: usize,
    },
    /// The signature does not verify (strict Ed25519) under `jazz_pub_key`.
    #[error("token signature is not valid")]
    InvalidSignature,
    /// `sub` is not the user id derived from `jazz_pub_key`.
    #[error("token subject does not match its public key")]
    SubjectMismatch,
    /// `iat` lies more than the allowed skew in the future.
    #[error("token issued at {iat}, in the future (now {now})")]
    IssuedInFuture {
        /// The `iat` claim.
        iat: u64,
        /// The verifier's time.
        now: u64,
    },
    /// `exp` is at or before now.
    #[error("token expired at {exp} (now {now})")]
    Expired {
        /// The `exp` claim.
        exp: u64,
        /// The verifier's time.
        now: u64,
    },
    /// `exp - iat` exceeds the maximum lifetime.
    #[error("token lifetime {ttl}s exceeds the maximum {max}s")]
    TtlTooLong {
        /// `exp - iat`.
        ttl: u64,
        /// The limit.
        max: u64,
    },
    /// `exp` is not after `iat`.
    #[error("token expires ({exp}) before it was issued ({iat})")]
    InvalidLifetime {
        /// The `iat` claim.
        iat: u64,
        /// The `exp` claim.
        exp: u64,
    },
    /// A mint request asked for a zero lifetime, or one ending after [`MAX_TIMESTAMP`].
    #[error("token lifetime must be at least one second and end at or before 2^53-1 seconds")]
    InvalidTtl,
    /// An identity proof was asked to live longer than
    /// [`MAX_IDENTITY_PROOF_TTL_SECONDS`], which our verifiers refuse by default. Code
    /// `invalid-ttl`, like [`TokenError::InvalidTtl`].
    #[error(
        "an identity proof may live at most {max} s (the verifiers' default limit), not {ttl} s"
    )]
    ProofTtlTooLong {
        /// The lifetime asked for.
        ttl: u64,
        /// The limit.
        max: u64,
    },
    /// An identity proof was asked for a blank audience: the backend verifies it
    /// for a named audience. Code `invalid-argument`.
    #[error("an identity proof needs an audience (the backend verifies it for one)")]
    ProofAudienceRequired,
}

impl ErrorCode for TokenError {
    fn code(&self) -> Code {
        match self {
            TokenError::TooLarge { .. } => Code::TokenTooLarge,
            TokenError::WrongPartCount { .. } => Code::TokenMalformed,
            TokenError::InvalidEncoding { .. } => Code::TokenEncoding,
            TokenError::InvalidHeader => Code::InvalidHeader,
            TokenError::UnsupportedAlgorithm { .. } => Code::UnsupportedAlgorithm,
            TokenError::InvalidClaims { .. } => Code::InvalidClaims,
            TokenError::UnknownClaim { .. } => Code::UnknownClaim,
            TokenError::MissingClaim { .. } => Code::MissingClaim,
            TokenError::UnknownIssuer { .. } => Code::UnknownIssuer,
            TokenError::IssuerNotAllowed { .. } => Code::IssuerNotAllowed,
            TokenError::AudienceMismatch { .. } => Code::AudienceMismatch,
            TokenError::InvalidPublicKey => Code::TokenPublicKeyInvalid,
            TokenError::PublicKeyLength { .. } => Code::TokenPublicKeyLength,
            TokenError::SignatureLength { .. } => Code::SignatureLength,
            TokenError::InvalidSignature => Code::InvalidSignature,
            TokenError::SubjectMismatch => Code::SubjectMismatch,
            TokenError::IssuedInFuture { .. } => Code::IssuedInFuture,
            TokenError::Expired { .. } => Code::Expired,
            TokenError::TtlTooLong { .. } => Code::TtlTooLong,
            TokenError::InvalidLifetime { .. } => Code::InvalidLifetime,
            TokenError::InvalidTtl | TokenError::ProofTtlTooLong { .. } => Code::InvalidTtl,
            TokenError::ProofAudienceRequired => Code::InvalidArgument,
        }
    }
}

/// The message of [`TokenError::AudienceMismatch`]: names the audience the verifier
/// was given, and its UUID when that is a different text.
fn audience_mismatch_message(audience: &str, expected: &str, actual: &str) -> String {
    if audience == expected {
        format!(
            "token audience {} does not match the expected audience {}",
            Quoted(actual),
            Quoted(expected)
        )
    } else {
        format!(
            "token audience {} does not match the expected audience {} \
             (sent as its UUIDv5 {}); was the token minted for another app id?",
            Quoted(actual),
            Quoted(audience),
            Quoted(expected)
        )
    }
}

/// Normalises an audience: a UUID (any accepted spelling) becomes its canonical
/// lowercase hyphenated form; any other string becomes UUIDv5(DNS namespace, its bytes).
///
/// `"my-app"` → `4af0209b-7fe4-57ba-b068-3b47d0855d11`.
pub fn normalize_audience(audience: &str) -> String {
    match Uuid::try_parse(audience) {
        Ok(uuid) => uuid.hyphenated().to_string(),
        Err(_) => Uuid::new_v5(&Uuid::NAMESPACE_DNS, audience.as_bytes())
            .hyphenated()
            .to_string(),
    }
}

#[derive(Serialize)]
struct OutgoingClaims<'a> {
    iss: &'static str,
    sub: &'a str,
    aud: &'a str,
    jazz_pub_key: &'a str,
    iat: u64,
    exp: u64,
}

/// Mints a self-signed token for `identity`.
///
/// `audience` is normalised with [`normalize_audience`]; `exp = issued_at + ttl_seconds`.
/// A zero lifetime, or one ending after [`MAX_TIMESTAMP`], is [`TokenError::InvalidTtl`].
pub fn mint(
    identity: &Identity,
    issuer: Issuer,
    audience: &str,
    issued_at: u64,
    ttl_seconds: u64,
) -> Result<String, TokenError> {
    if ttl_seconds == 0 {
        return Err(TokenError::InvalidTtl);
    }
    let exp = issued_at
        .checked_add(ttl_seconds)
        .filter(|exp| *exp <= MAX_TIMESTAMP)
        .ok_or(TokenError::InvalidTtl)?;
    let sub = identity.user_id().to_string();
    let aud = normalize_audience(audience);
    let pub_key = identity.public_key().to_base64url();
    let claims = OutgoingClaims {
        iss: issuer.as_str(),
        sub: &sub,
        aud: &aud,
        jazz_pub_key: &pub_key,
        iat: issued_at,
        exp,
    };
    let claims_json = serde_json::to_vec(&claims).map_err(|e| TokenError::InvalidClaims {
        reason: e.to_string(),
    })?;
    let mut token = String::with_capacity(64 + claims_json.len() * 4 / 3 + 90);
    URL_SAFE_NO_PAD.encode_string(HEADER_JSON, &mut token);
    token.push('.');
    URL_SAFE_NO_PAD.encode_string(&claims_json, &mut token);
    let signature = identity.sign(token.as_bytes());
    token.push('.');
    URL_SAFE_NO_PAD.encode_string(signature, &mut token);
    Ok(token)
}

/// Mints a token issued now (by `clock`) that lives `ttl_seconds`.
pub fn mint_now(
    identity: &Identity,
    issuer: Issuer,
    audience: &str,
    ttl_seconds: u64,
    clock: &dyn Clock,
) -> Result<String, TokenError> {
    mint(identity, issuer, audience, clock.now_unix(), ttl_seconds)
}

/// What a verifier accepts.
#[derive(Debug, Clone)]
pub struct VerifyOptions {
    /// Expected audience as the caller gave it (an app id, or a UUID); normalised
    /// ([`normalize_audience`]) once by [`VerifyOptions::new`], again at verification only
    /// if changed since. Errors and [`VerifiedToken`] name it as given, beside its UUID.
    pub audience: String,
    /// Maximum `exp - iat` in seconds (default 3600).
    pub max_ttl_seconds: u64,
    /// How far `iat` may lie in the future, in seconds (default 60).
    pub iat_skew_seconds: u64,
    /// Issuers accepted (default both self-signed issuers).
    pub issuers: Vec<Issuer>,
    /// The audience normalised by [`VerifyOptions::new`], with the text it was made from:
    /// used while [`audience`](Self::audience) still holds that text.
    normalized: (String, String),
}

impl VerifyOptions {
    /// Default options for an audience: max TTL 3600 s, skew 60 s, both issuers.
    /// Normalises the audience once, here, not on every token.
    pub fn new(audience: &str) -> VerifyOptions {
        VerifyOptions {
            audience: audience.to_owned(),
            max_ttl_seconds: DEFAULT_MAX_TTL_SECONDS,
            iat_skew_seconds: DEFAULT_IAT_SKEW_SECONDS,
            issuers: vec![Issuer::LocalFirst, Issuer::Anonymous],
            normalized: (audience.to_owned(), normalize_audience(audience)),
        }
    }

    /// Replaces the maximum lifetime.
    pub fn with_max_ttl(mut self, seconds: u64) -> VerifyOptions {
        self.max_ttl_seconds = seconds;
        self
    }

    /// Accepts only the given issuers.
    pub fn with_issuers(mut self, issuers: &[Issuer]) -> VerifyOptions {
        self.issuers = issuers.to_vec();
        self
    }

    /// The expected audience normalised: the one computed by [`VerifyOptions::new`] unless
    /// [`audience`](Self::audience) was changed since.
    fn audience_uuid(&self) -> Cow<'_, str> {
        if self.normalized.0 == self.audience {
            Cow::Borrowed(&self.normalized.1)
        } else {
            Cow::Owned(normalize_audience(&self.audience))
        }
    }

    fn expected<'a>(&'a self, audience_uuid: &'a str, issuers: &'a [Issuer]) -> Expected<'a> {
        Expected {
            audience: &self.audience,
            audience_uuid,
            issuers,
            max_ttl_seconds: self.max_ttl_seconds,
            iat_skew_seconds: self.iat_skew_seconds,
        }
    }
}

/// Options are equal when what they accept is: the audience, limits and issuers.
impl PartialEq for VerifyOptions {
    fn eq(&self, other: &VerifyOptions) -> bool {
        self.audience == other.audience
            && self.max_ttl_seconds == other.max_ttl_seconds
            && self.iat_skew_seconds == other.iat_skew_seconds
            && self.issuers == other.issuers
    }
}

impl Eq for VerifyOptions {}

/// The facts a successfully verified token establishes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifiedToken {
    /// The issuer (local-first or anonymous).
    pub issuer: Issuer,
    /// The user id (`sub`), proven to match the public key.
    pub user_id: UserId,
    /// The signer's public key.
    pub public_key: PublicKey,
    /// The expected audience as the verifier was given it (an app id or a UUID), which
    /// the token was minted for.
    pub audience: String,
    /// The audience as it is in the token: [`audience`](Self::audience) normalised
    /// (a UUID as is, anything else its UUIDv5).
    pub audience_uuid: String,
    /// `iat`, Unix seconds.
    pub issued_at: u64,
    /// `exp`, Unix seconds.
    pub expires_at: u64,
}

/// Verifies a self-signed token completely: shape, header, claims, issuer,
/// signature (strict Ed25519), subject/key binding, audience and times.
///
/// The signer's key, decompressed, and its user id are cached (a bounded cache of
/// [`KEY_CACHE_CAPACITY`] keys shared by every verification; both are pure functions of
/// the key bytes): a returning user's token skips the decompression, never a check.
pub fn verify(
    token: &str,
    options: &VerifyOptions,
    clock: &dyn Clock,
) -> Result<VerifiedToken, TokenError> {
    let audience_uuid = options.audience_uuid();
    let checked = check(
        token,
        &options.expected(&audience_uuid, &options.issuers),
        clock,
    )?;
    Ok(VerifiedToken {
        issuer: checked.issuer,
        user_id: checked.key.user_id,
        public_key: checked.key.key,
        audience: options.audience.clone(),
        audience_uuid: audience_uuid.into_owned(),
        issued_at: checked.issued_at,
        expires_at: checked.expires_at,
    })
}

/// Empties the verifier's key cache, so the next token of every key is verified as a
/// first-seen one (for measurements and tests).
#[cfg(feature = "testing")]
pub fn forget_cached_keys() {
    keys::KEYS.clear();
}

/// What a token must match: the verifier's options, borrowed.
struct Expected<'a> {
    audience: &'a str,
    audience_uuid: &'a str,
    issuers: &'a [Issuer],
    max_ttl_seconds: u64,
    iat_skew_seconds: u64,
}

/// What [`check`] proved.
struct Checked {
    issuer: Issuer,
    key: KnownKey,
    issued_at: u64,
    expires_at: u64,
}

/// Every check of [`verify`], in its order; each refusal is its own [`TokenError`].
fn check(token: &str, expected: &Expected<'_>, clock: &dyn Clock) -> Result<Checked, TokenError> {
    let [header_b64, claims_b64, signature_b64] = claims::split(token, MAX_TOKEN_LEN)?;
    claims::check_header(header_b64)?;

    let claims_bytes = claims::decode_part(claims_b64, TokenPart::Claims)?;
    let claims = claims::read_claims(&claims_bytes)?;
    if let Some(claim) = claims.unknown {
        return Err(TokenError::UnknownClaim { claim });
    }

    let iss = claims.iss.ok_or(TokenError::MissingClaim {
        claim: RequiredClaim::Iss,
    })?;
    let Some(issuer) = Issuer::from_claim(&iss) else {
        return Err(TokenError::UnknownIssuer {
            issuer: iss.into_owned(),
        });
    };
    if !expected.issuers.contains(&issuer) {
        return Err(TokenError::IssuerNotAllowed {
            issuer: iss.into_owned(),
        });
    }

    let key_text = claims.jazz_pub_key.ok_or(TokenError::MissingClaim {
        claim: RequiredClaim::JazzPubKey,
    })?;
    let key_bytes = claims::decode_key(&key_text)?;
    let cached = keys::KEYS.get(&key_bytes);
    let public_key = match &cached {
        Some(known) => known.key,
        None => PublicKey::from_bytes(&key_bytes).map_err(|_| TokenError::InvalidPublicKey)?,
    };

    let signature = Signature::from_bytes(&claims::decode_signature(signature_b64)?);
    let signed_len = header_b64.len() + 1 + claims_b64.len();
    public_key
        .verifying_key()
        .verify_strict(&token.as_bytes()[..signed_len], &signature)
        .map_err(|_| TokenError::InvalidSignature)?;
    let key = cached.unwrap_or_else(|| {
        let known = KnownKey::new(public_key);
        keys::KEYS.insert(known);
        known
    });

    let sub = claims.sub.ok_or(TokenError::MissingClaim {
        claim: RequiredClaim::Sub,
    })?;
    if !key.is_subject(&sub) {
        return Err(TokenError::SubjectMismatch);
    }

    let aud = claims.aud.ok_or(TokenError::MissingClaim {
        claim: RequiredClaim::Aud,
    })?;
    if aud != expected.audience_uuid {
        return Err(TokenError::AudienceMismatch {
            audience: expected.audience.to_owned(),
            expected: expected.audience_uuid.to_owned(),
            actual: aud.into_owned(),
        });
    }

    let iat = claims.iat.ok_or(TokenError::MissingClaim {
        claim: RequiredClaim::Iat,
    })?;
    let exp = claims.exp.ok_or(TokenError::MissingClaim {
        claim: RequiredClaim::Exp,
    })?;
    if iat > MAX_TIMESTAMP || exp > MAX_TIMESTAMP {
        return Err(TokenError::InvalidClaims {
            reason: format!("iat and exp must not exceed {MAX_TIMESTAMP}"),
        });
    }
    let now = clock.now_unix();
    if iat > now.saturating_add(expected.iat_skew_seconds) {
        return Err(TokenError::IssuedInFuture { iat, now });
    }
    if exp <= now {
        return Err(TokenError::Expired { exp, now });
    }
    if exp <= iat {
        return Err(TokenError::InvalidLifetime { iat, exp });
    }
    if exp - iat > expected.max_ttl_seconds {
        return Err(TokenError::TtlTooLong {
            ttl: exp - iat,
            max: expected.max_ttl_seconds,
        });
    }

    Ok(Checked {
        issuer,
        key,
        issued_at: iat,
        expires_at: exp,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::FixedClock;
    use crate::secret::Secret;

    #[test]
    fn audience_normalisation() {
        assert_eq!(
            normalize_audience("my-app"),
            "4af0209b-7fe4-57ba-b068-3b47d0855d11"
        );
        assert_eq!(
            normalize_audience("4AF0209B-7FE4-57BA-B068-3B47D0855D11"),
            "4af0209b-7fe4-57ba-b068-3b47d0855d11"
        );
    }

    #[test]
    fn mint_rejects_bad_ttl() {
        let identity = Identity::from_secret(&Secret::from_bytes([1; 32]));
        assert_eq!(
            mint(&identity, Issuer::LocalFirst, "a", 10, 0),
            Err(TokenError::InvalidTtl)
        );
        assert_eq!(
            mint(&identity, Issuer::LocalFirst, "a", u64::MAX, 10),
            Err(TokenError::InvalidTtl)
        );
    }

    #[test]
    fn timestamps_stay_within_javascript_safe_integers() {
        let identity = Identity::from_secret(&Secret::from_bytes([1; 32]));
        assert!(mint(&identity, Issuer::LocalFirst, "a", MAX_TIMESTAMP - 10, 10).is_ok());
        assert_eq!(
            mint(&identity, Issuer::LocalFirst, "a", MAX_TIMESTAMP - 10, 11),
            Err(TokenError::InvalidTtl)
        );
    }

    #[test]
    fn options_changed_after_new_verify_against_their_new_audience() {
        let secret = Secret::from_bytes([7; 32]);
        let clock = FixedClock::new(50_000);
        let token = identity_proof(&secret, 60, "other-app", &clock).unwrap();
        let mut options = VerifyOptions::new("my-app");
        assert!(verify(&token, &options, &clock).is_err());
        assert!(!verify_identity_proof(&token, &options, &clock).ok);
        options.audience = "other-app".into();
        let verified = verify(&token, &options, &clock).unwrap();
        assert_eq!(verified.audience, "other-app");
        assert_eq!(verified.audience_uuid, normalize_audience("other-app"));
        assert!(verify_identity_proof(&token, &options, &clock).ok);
        // Options compare by what they accept.
        assert_eq!(options, VerifyOptions::new("other-app"));
        assert_ne!(options, VerifyOptions::new("my-app"));
    }

    #[test]
    fn audience_mismatch_names_the_audience_as_given() {
        let secret = Secret::from_bytes([6; 32]);
        let clock = FixedClock::new(50_000);
        let token = identity_proof(&secret, 60, "other-app", &clock).unwrap();
        let error = verify(&token, &VerifyOptions::new("my-app"), &clock).unwrap_err();
        assert!(matches!(
            &error,
            TokenError::AudienceMismatch { audience, expected, actual }
                if audience == "my-app"
                    && *expected == normalize_audience("my-app")
                    && *actual == normalize_audience("other-app")
        ));
        let text = error.to_string();
        assert!(text.contains("\"my-app\""), "{text}");
        assert!(text.contains(&normalize_audience("my-app")), "{text}");
        // A UUID given as the audience is named once.
        let uuid = normalize_audience("my-app");
        let text = verify(&token, &VerifyOptions::new(&uuid), &clock)
            .unwrap_err()
            .to_string();
        assert_eq!(text.matches(&uuid).count(), 1, "{text}");
        let proof = verify_local_first_identity_proof(&token, "my-app", &clock);
        assert!(proof.error.unwrap().contains("\"my-app\""));

        let verified = verify(
            &identity_proof(&secret, 60, "my-app", &clock).unwrap(),
            &VerifyOptions::new("my-app"),
            &clock,
        )
        .unwrap();
        assert_eq!(verified.audience, "my-app");
        assert_eq!(verified.audience_uuid, normalize_audience("my-app"));
    }
}
