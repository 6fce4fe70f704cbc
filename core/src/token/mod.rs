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

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use ed25519_dalek::Signature;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use uuid::Uuid;

use crate::clock::Clock;
use crate::error::{Code, ErrorCode};
use crate::identity::{Identity, PublicKey, UserId};
use crate::json::visit_unique_keys;

mod proof;

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
    #[error("token algorithm {alg:?} is not allowed (only EdDSA)")]
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
    #[error("token has an unknown claim {claim:?}")]
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
    #[error("token issuer {issuer:?} is not a self-signed issuer")]
    UnknownIssuer {
        /// The `iss` found.
        issuer: String,
    },
    /// `iss` is a self-signed issuer that the verifier does not accept here.
    #[error("token issuer {issuer:?} is not accepted here")]
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
        format!("token audience {actual:?} does not match the expected audience {expected:?}")
    } else {
        format!(
            "token audience {actual:?} does not match the expected audience {audience:?} \
             (sent as its UUIDv5 {expected:?}); was the token minted for another app id?"
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

/// Claims as read from a token: every known claim optional, the first unknown
/// claim name remembered, duplicates refused, all in one pass.
#[derive(Default)]
struct IncomingClaims {
    iss: Option<String>,
    sub: Option<String>,
    aud: Option<String>,
    jazz_pub_key: Option<String>,
    iat: Option<u64>,
    exp: Option<u64>,
    unknown: Option<String>,
}

fn fill_claim<'de, A, T>(slot: &mut Option<T>, map: &mut A) -> Result<(), A::Error>
where
    A: serde::de::MapAccess<'de>,
    T: Deserialize<'de>,
{
    *slot = Some(map.next_value()?);
    Ok(())
}

struct ClaimsVisitor;

impl<'de> serde::de::Visitor<'de> for ClaimsVisitor {
    type Value = IncomingClaims;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("a JSON object of claims")
    }

    fn visit_map<A: serde::de::MapAccess<'de>>(
        self,
        mut map: A,
    ) -> Result<IncomingClaims, A::Error> {
        let mut claims = IncomingClaims::default();
        visit_unique_keys(&mut map, |key, map| match key {
            "iss" => fill_claim(&mut claims.iss, map),
            "sub" => fill_claim(&mut claims.sub, map),
            "aud" => fill_claim(&mut claims.aud, map),
            "jazz_pub_key" => fill_claim(&mut claims.jazz_pub_key, map),
            "iat" => fill_claim(&mut claims.iat, map),
            "exp" => fill_claim(&mut claims.exp, map),
            other => {
                if claims.unknown.is_none() {
                    claims.unknown = Some(other.to_owned());
                }
                map.next_value::<serde::de::IgnoredAny>().map(|_| ())
            }
        })?;
        Ok(claims)
    }
}

/// Any JSON object of claims, read through [`visit_unique_keys`] (duplicates refused).
struct UniqueClaims(Map<String, Value>);

struct UniqueClaimsVisitor;

impl<'de> serde::de::Visitor<'de> for UniqueClaimsVisitor {
    type Value = UniqueClaims;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("a JSON object of claims")
    }

    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<UniqueClaims, A::Error> {
        let mut claims = Map::new();
        visit_unique_keys(&mut map, |key, map| {
            let value: Value = map.next_value()?;
            claims.insert(key.to_owned(), value);
            Ok(())
        })?;
        Ok(UniqueClaims(claims))
    }
}

impl<'de> Deserialize<'de> for UniqueClaims {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_map(UniqueClaimsVisitor)
    }
}

impl<'de> Deserialize<'de> for IncomingClaims {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_map(ClaimsVisitor)
    }
}

#[derive(Deserialize)]
struct IncomingHeader {
    alg: Option<Value>,
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
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifyOptions {
    /// Expected audience as the caller gave it (an app id, or a UUID); normalised
    /// ([`normalize_audience`]) at verification. Errors and [`VerifiedToken`] name it
    /// as given, beside its UUID.
    pub audience: String,
    /// Maximum `exp - iat` in seconds (default 3600).
    pub max_ttl_seconds: u64,
    /// How far `iat` may lie in the future, in seconds (default 60).
    pub iat_skew_seconds: u64,
    /// Issuers accepted (default both self-signed issuers).
    pub issuers: Vec<Issuer>,
}

impl VerifyOptions {
    /// Default options for an audience: max TTL 3600 s, skew 60 s, both issuers.
    pub fn new(audience: &str) -> VerifyOptions {
        VerifyOptions {
            audience: audience.to_owned(),
            max_ttl_seconds: DEFAULT_MAX_TTL_SECONDS,
            iat_skew_seconds: DEFAULT_IAT_SKEW_SECONDS,
            issuers: vec![Issuer::LocalFirst, Issuer::Anonymous],
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
}

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

fn decode_part(part: &str, which: TokenPart) -> Result<Vec<u8>, TokenError> {
    URL_SAFE_NO_PAD
        .decode(part)
        .map_err(|_| TokenError::InvalidEncoding { part: which })
}

/// Splits a compact JWT into its three parts, enforcing the size limit `max`.
fn split(token: &str, max: usize) -> Result<[&str; 3], TokenError> {
    if token.len() > max {
        return Err(TokenError::TooLarge {
            len: token.len(),
            max,
        });
    }
    let mut parts = token.split('.');
    match (parts.next(), parts.next(), parts.next(), parts.next()) {
        (Some(h), Some(c), Some(s), None) => Ok([h, c, s]),
        _ => Err(TokenError::WrongPartCount {
            parts: token.split('.').count(),
        }),
    }
}

/// Decodes a JWT's claims without checking anything but its shape.
///
/// For external tokens on the client, whose signature only the server can check.
/// Accepts tokens of up to [`MAX_EXTERNAL_TOKEN_LEN`] bytes; a claim name that appears
/// twice is refused ([`TokenError::InvalidClaims`]), exactly as [`verify`] refuses it.
pub fn decode_claims_unverified(token: &str) -> Result<Map<String, Value>, TokenError> {
    let [_, claims, _] = split(token, MAX_EXTERNAL_TOKEN_LEN)?;
    parse_claims_object(&decode_part(claims, TokenPart::Claims)?)
}

/// Parses a decoded JWT claims object with the one rule every verifier of this
/// project applies: a claim name that appears twice is refused
/// ([`TokenError::InvalidClaims`], reason `duplicate field ...`), never "last wins".
/// The server's external-token verifier uses it too.
pub fn parse_claims_object(bytes: &[u8]) -> Result<Map<String, Value>, TokenError> {
    serde_json::from_slice::<UniqueClaims>(bytes)
        .map(|claims| claims.0)
        .map_err(|e| TokenError::InvalidClaims {
            reason: e.to_string(),
        })
}

/// The `iss` claim of a JWT, read without verification (for routing to a verifier).
pub fn peek_issuer(token: &str) -> Result<Option<String>, TokenError> {
    Ok(decode_claims_unverified(token)?
        .get("iss")
        .and_then(Value::as_str)
        .map(str::to_owned))
}

/// Verifies a self-signed token completely: shape, header, claims, issuer,
/// signature (strict Ed25519), subject/key binding, audience and times.
pub fn verify(
    token: &str,
    options: &VerifyOptions,
    clock: &dyn Clock,
) -> Result<VerifiedToken, TokenError> {
    let [header_b64, claims_b64, signature_b64] = split(token, MAX_TOKEN_LEN)?;

    let header_bytes = decode_part(header_b64, TokenPart::Header)?;
    if header_bytes != HEADER_JSON.as_bytes() {
        // Not the one header we issue: say whether the algorithm is the reason.
        return Err(
            match serde_json::from_slice::<IncomingHeader>(&header_bytes) {
                Ok(IncomingHeader {
                    alg: Some(Value::String(alg)),
                }) if alg != "EdDSA" => TokenError::UnsupportedAlgorithm { alg },
                _ => TokenError::InvalidHeader,
            },
        );
    }

    let claims_bytes = decode_part(claims_b64, TokenPart::Claims)?;
    let claims: IncomingClaims =
        serde_json::from_slice(&claims_bytes).map_err(|e| TokenError::InvalidClaims {
            reason: e.to_string(),
        })?;
    if let Some(claim) = claims.unknown {
        return Err(TokenError::UnknownClaim { claim });
    }

    let iss = claims.iss.ok_or(TokenError::MissingClaim {
        claim: RequiredClaim::Iss,
    })?;
    let issuer = Issuer::from_claim(&iss).ok_or_else(|| TokenError::UnknownIssuer {
        issuer: iss.clone(),
    })?;
    if !options.issuers.contains(&issuer) {
        return Err(TokenError::IssuerNotAllowed { issuer: iss });
    }

    let key_text = claims.jazz_pub_key.ok_or(TokenError::MissingClaim {
        claim: RequiredClaim::JazzPubKey,
    })?;
    let key_bytes = URL_SAFE_NO_PAD
        .decode(&key_text)
        .map_err(|_| TokenError::InvalidPublicKey)?;
    if key_bytes.len() != 32 {
        return Err(TokenError::PublicKeyLength {
            actual: key_bytes.len(),
        });
    }
    let public_key = PublicKey::from_bytes(&key_bytes).map_err(|_| TokenError::InvalidPublicKey)?;

    let signature_bytes = decode_part(signature_b64, TokenPart::Signature)?;
    let signature_array: [u8; 64] =
        signature_bytes
            .as_slice()
            .try_into()
            .map_err(|_| TokenError::SignatureLength {
                actual: signature_bytes.len(),
            })?;
    let signature = Signature::from_bytes(&signature_array);
    let signed_len = header_b64.len() + 1 + claims_b64.len();
    public_key
        .verifying_key()
        .verify_strict(&token.as_bytes()[..signed_len], &signature)
        .map_err(|_| TokenError::InvalidSignature)?;

    let sub = claims.sub.ok_or(TokenError::MissingClaim {
        claim: RequiredClaim::Sub,
    })?;
    let user_id = public_key.user_id();
    if UserId::parse(&sub).ok() != Some(user_id) || sub != user_id.to_string() {
        return Err(TokenError::SubjectMismatch);
    }

    let aud = claims.aud.ok_or(TokenError::MissingClaim {
        claim: RequiredClaim::Aud,
    })?;
    let expected = normalize_audience(&options.audience);
    if aud != expected {
        return Err(TokenError::AudienceMismatch {
            audience: options.audience.clone(),
            expected,
            actual: aud,
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
    if iat > now.saturating_add(options.iat_skew_seconds) {
        return Err(TokenError::IssuedInFuture { iat, now });
    }
    if exp <= now {
        return Err(TokenError::Expired { exp, now });
    }
    if exp <= iat {
        return Err(TokenError::InvalidLifetime { iat, exp });
    }
    if exp - iat > options.max_ttl_seconds {
        return Err(TokenError::TtlTooLong {
            ttl: exp - iat,
            max: options.max_ttl_seconds,
        });
    }

    Ok(VerifiedToken {
        issuer,
        user_id,
        public_key,
        audience: options.audience.clone(),
        audience_uuid: expected,
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
