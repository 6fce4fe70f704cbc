//! Reading a compact JWT: its three parts, the one header a self-signed token may carry,
//! its claims (refusing a repeated claim) and its fixed-size key and signature.
//!
//! The self-signed path reads without allocating where sizes are known: the header is
//! compared as base64url text, the key and signature are decoded into arrays, claims are
//! borrowed from the decoded bytes and repeats of the six known claims are tracked with a
//! bit each. Whenever the fast reading does not apply (another header, a key or signature
//! of another length), the general reading runs, so every refusal is the one it was.

use std::borrow::Cow;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use serde::Deserialize;
use serde_json::{Map, Value};

use super::{RequiredClaim, TokenError, TokenPart, HEADER_JSON, MAX_EXTERNAL_TOKEN_LEN};
use crate::json::{visit_unique_keys, visit_unique_keys_among, Text};

/// [`HEADER_JSON`] in base64url: the first part of every self-signed token.
pub(super) const HEADER_B64: &str = "eyJhbGciOiJFZERTQSIsInR5cCI6IkpXVCJ9";

/// Decodes a JWT's claims without checking anything but its shape.
///
/// For external tokens on the client, whose signature only the server can check.
/// Accepts tokens of up to [`MAX_EXTERNAL_TOKEN_LEN`] bytes; a claim name that appears
/// twice is refused ([`TokenError::InvalidClaims`]), exactly as [`verify`](super::verify)
/// refuses it.
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
        .map_err(invalid_claims)
}

/// The `iss` claim of a JWT, read without verification (for routing to a verifier).
pub fn peek_issuer(token: &str) -> Result<Option<String>, TokenError> {
    Ok(decode_claims_unverified(token)?
        .get("iss")
        .and_then(Value::as_str)
        .map(str::to_owned))
}

/// Splits a compact JWT into its three parts, enforcing the size limit `max`.
pub(super) fn split(token: &str, max: usize) -> Result<[&str; 3], TokenError> {
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

/// Decodes one part of a token.
pub(super) fn decode_part(part: &str, which: TokenPart) -> Result<Vec<u8>, TokenError> {
    URL_SAFE_NO_PAD
        .decode(part)
        .map_err(|_| TokenError::InvalidEncoding { part: which })
}

/// Accepts exactly [`HEADER_JSON`]; otherwise says whether the algorithm is the reason.
pub(super) fn check_header(header_b64: &str) -> Result<(), TokenError> {
    if header_b64 == HEADER_B64 {
        return Ok(());
    }
    let header_bytes = decode_part(header_b64, TokenPart::Header)?;
    if header_bytes == HEADER_JSON.as_bytes() {
        return Ok(());
    }
    Err(
        match serde_json::from_slice::<IncomingHeader>(&header_bytes) {
            Ok(IncomingHeader {
                alg: Some(Value::String(alg)),
            }) if alg != "EdDSA" => TokenError::UnsupportedAlgorithm { alg },
            _ => TokenError::InvalidHeader,
        },
    )
}

/// The 32 bytes of a `jazz_pub_key` claim.
pub(super) fn decode_key(text: &str) -> Result<[u8; 32], TokenError> {
    let mut key = [0u8; 32];
    if let Ok(32) = URL_SAFE_NO_PAD.decode_slice(text, &mut key) {
        return Ok(key);
    }
    let bytes = URL_SAFE_NO_PAD
        .decode(text)
        .map_err(|_| TokenError::InvalidPublicKey)?;
    bytes
        .as_slice()
        .try_into()
        .map_err(|_| TokenError::PublicKeyLength {
            actual: bytes.len(),
        })
}

/// The 64 bytes of the signature part.
pub(super) fn decode_signature(part: &str) -> Result<[u8; 64], TokenError> {
    let mut signature = [0u8; 64];
    if let Ok(64) = URL_SAFE_NO_PAD.decode_slice(part, &mut signature) {
        return Ok(signature);
    }
    let bytes = decode_part(part, TokenPart::Signature)?;
    bytes
        .as_slice()
        .try_into()
        .map_err(|_| TokenError::SignatureLength {
            actual: bytes.len(),
        })
}

/// Reads the claims of a self-signed token, borrowing from `bytes`.
pub(super) fn read_claims(bytes: &[u8]) -> Result<IncomingClaims<'_>, TokenError> {
    serde_json::from_slice(bytes).map_err(invalid_claims)
}

fn invalid_claims(error: serde_json::Error) -> TokenError {
    TokenError::InvalidClaims {
        reason: error.to_string(),
    }
}

#[derive(Deserialize)]
struct IncomingHeader {
    alg: Option<Value>,
}

/// The claims of a self-signed token, in [`RequiredClaim`] order.
const CLAIM_NAMES: [&str; 6] = ["iss", "sub", "aud", "jazz_pub_key", "iat", "exp"];
const CLAIMS: [RequiredClaim; 6] = [
    RequiredClaim::Iss,
    RequiredClaim::Sub,
    RequiredClaim::Aud,
    RequiredClaim::JazzPubKey,
    RequiredClaim::Iat,
    RequiredClaim::Exp,
];

/// Claims as read from a token: every known claim optional, the first unknown
/// claim name remembered, repeats refused, all in one pass. Texts are borrowed from the
/// decoded claims unless they hold escapes.
#[derive(Default)]
pub(super) struct IncomingClaims<'a> {
    pub iss: Option<Cow<'a, str>>,
    pub sub: Option<Cow<'a, str>>,
    pub aud: Option<Cow<'a, str>>,
    pub jazz_pub_key: Option<Cow<'a, str>>,
    pub iat: Option<u64>,
    pub exp: Option<u64>,
    pub unknown: Option<String>,
}

fn fill_text<'de, A: serde::de::MapAccess<'de>>(
    slot: &mut Option<Cow<'de, str>>,
    map: &mut A,
) -> Result<(), A::Error> {
    *slot = Some(map.next_value::<Text<'de>>()?.0);
    Ok(())
}

fn fill_time<'de, A: serde::de::MapAccess<'de>>(
    slot: &mut Option<u64>,
    map: &mut A,
) -> Result<(), A::Error> {
    *slot = Some(map.next_value()?);
    Ok(())
}

struct ClaimsVisitor;

impl<'de> serde::de::Visitor<'de> for ClaimsVisitor {
    type Value = IncomingClaims<'de>;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("a JSON object of claims")
    }

    fn visit_map<A: serde::de::MapAccess<'de>>(
        self,
        mut map: A,
    ) -> Result<IncomingClaims<'de>, A::Error> {
        let mut claims = IncomingClaims::default();
        visit_unique_keys_among(&mut map, &CLAIM_NAMES, |key, map| {
            match key.known.and_then(|index| CLAIMS.get(index)) {
                Some(RequiredClaim::Iss) => fill_text(&mut claims.iss, map),
                Some(RequiredClaim::Sub) => fill_text(&mut claims.sub, map),
                Some(RequiredClaim::Aud) => fill_text(&mut claims.aud, map),
                Some(RequiredClaim::JazzPubKey) => fill_text(&mut claims.jazz_pub_key, map),
                Some(RequiredClaim::Iat) => fill_time(&mut claims.iat, map),
                Some(RequiredClaim::Exp) => fill_time(&mut claims.exp, map),
                None => {
                    if claims.unknown.is_none() {
                        claims.unknown = Some(key.name.to_owned());
                    }
                    map.next_value::<serde::de::IgnoredAny>().map(|_| ())
                }
            }
        })?;
        Ok(claims)
    }
}

impl<'de> Deserialize<'de> for IncomingClaims<'de> {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_map(ClaimsVisitor)
    }
}

/// Any JSON object of claims, read through [`visit_unique_keys`] (repeats refused).
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_header_text_is_the_header_encoded() {
        assert_eq!(URL_SAFE_NO_PAD.encode(HEADER_JSON), HEADER_B64);
    }

    #[test]
    fn claim_names_follow_the_required_claims() {
        for (name, claim) in CLAIM_NAMES.iter().zip(CLAIMS) {
            assert_eq!(*name, claim.as_str());
        }
    }
}
