//! Shape, header and claim checks of external JWTs: everything but the keys.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use jsonwebtoken::Algorithm;
use localfirst_core::session;
use localfirst_core::token::{self, TokenError};
use serde::Deserialize;
use serde_json::{Map, Value};

use super::external::{ExternalAuthError, CLOCK_SKEW_SECONDS, MAX_EXTERNAL_TOKEN_LEN};

/// A token split and decoded, signature not yet checked.
pub(crate) struct ParsedToken<'a> {
    /// The header's `alg`.
    pub alg: Algorithm,
    /// The header's `kid`.
    pub kid: Option<String>,
    /// `header.claims`, the signed bytes.
    pub message: &'a str,
    /// The base64url signature part.
    pub signature: &'a str,
    /// The claims object, duplicates refused.
    pub claims: Map<String, Value>,
}

/// Splits and decodes `token`: size, three parts, header, claims.
pub(crate) fn parse(token: &str) -> Result<ParsedToken<'_>, ExternalAuthError> {
    if token.is_empty() {
        return Err(ExternalAuthError::MissingToken);
    }
    if token.len() > MAX_EXTERNAL_TOKEN_LEN {
        return Err(ExternalAuthError::TooLarge {
            len: token.len(),
            max: MAX_EXTERNAL_TOKEN_LEN,
        });
    }
    let (message, signature) = token
        .rsplit_once('.')
        .ok_or_else(|| malformed("not 3 parts"))?;
    let (header, claims) = message
        .split_once('.')
        .ok_or_else(|| malformed("not 3 parts"))?;
    if claims.contains('.') {
        return Err(malformed("not 3 parts"));
    }
    let header_bytes = decode_part(header, "header")?;
    let signature_bytes = decode_part(signature, "signature")?;
    if signature_bytes.is_empty() {
        return Err(malformed("empty signature"));
    }
    let header: RawHeader =
        serde_json::from_slice(&header_bytes).map_err(|e| malformed(&format!("header: {e}")))?;
    if header.crit.is_some() {
        return Err(malformed("critical header extensions are not supported"));
    }
    let alg =
        accepted_algorithm(&header.alg).ok_or_else(|| ExternalAuthError::UnsupportedAlgorithm {
            alg: header.alg.clone(),
        })?;
    let claims = parse_claims(&decode_part(claims, "claims")?)?;
    Ok(ParsedToken {
        alg,
        kid: header.kid,
        message,
        signature,
        claims,
    })
}

/// Claim checks against the verifier's time and configuration.
pub(crate) struct ClaimChecks<'a> {
    /// The verifier's time, Unix seconds.
    pub now: u64,
    /// Accepted audiences (empty: the check is skipped, by explicit configuration).
    pub audiences: &'a [String],
    /// Accepted issuers (empty: the check is skipped, by explicit configuration).
    pub issuers: &'a [String],
}

impl ClaimChecks<'_> {
    /// Checks the registered claims; returns the user id (trimmed `sub`) and `exp`.
    pub(crate) fn check(
        &self,
        claims: &Map<String, Value>,
    ) -> Result<(String, u64), ExternalAuthError> {
        let now = self.now;
        let exp =
            timestamp(claims, "exp")?.ok_or(ExternalAuthError::MissingClaim { claim: "exp" })?;
        if let Some(nbf) = timestamp(claims, "nbf")? {
            if nbf > now.saturating_add(CLOCK_SKEW_SECONDS) {
                return Err(ExternalAuthError::NotYetValid { nbf, now });
            }
        }
        if let Some(iat) = timestamp(claims, "iat")? {
            if iat > now.saturating_add(CLOCK_SKEW_SECONDS) {
                return Err(ExternalAuthError::IssuedInFuture { iat, now });
            }
        }
        if exp <= now {
            return Err(ExternalAuthError::Expired { exp, now });
        }
        let sub = match claims.get("sub") {
            None => return Err(ExternalAuthError::MissingClaim { claim: "sub" }),
            Some(Value::String(sub)) => sub,
            Some(_) => return Err(invalid_claims("sub must be a string")),
        };
        let user_id = session::user_id_from(sub).map_err(|_| ExternalAuthError::InvalidSubject)?;
        if !self.audiences.is_empty() {
            let accepted = |aud: &str| self.audiences.iter().any(|a| a == aud);
            let found = match claims.get("aud") {
                Some(Value::String(aud)) => accepted(aud),
                Some(Value::Array(auds)) => auds.iter().filter_map(Value::as_str).any(accepted),
                _ => false,
            };
            if !found {
                return Err(ExternalAuthError::AudienceMismatch);
            }
        }
        if !self.issuers.is_empty() {
            let iss = claims.get("iss").and_then(Value::as_str);
            if !iss.is_some_and(|iss| self.issuers.iter().any(|i| i == iss)) {
                return Err(ExternalAuthError::IssuerMismatch);
            }
        }
        Ok((user_id.to_owned(), exp))
    }
}

#[derive(Deserialize)]
struct RawHeader {
    alg: String,
    #[serde(default)]
    kid: Option<String>,
    #[serde(default)]
    crit: Option<Value>,
}

fn malformed(reason: &str) -> ExternalAuthError {
    ExternalAuthError::Malformed {
        reason: reason.to_owned(),
    }
}

fn invalid_claims(reason: &str) -> ExternalAuthError {
    ExternalAuthError::InvalidClaims {
        reason: reason.to_owned(),
    }
}

fn decode_part(part: &str, name: &str) -> Result<Vec<u8>, ExternalAuthError> {
    URL_SAFE_NO_PAD
        .decode(part)
        .map_err(|_| malformed(&format!("{name} is not unpadded base64url")))
}

/// The asymmetric algorithms accepted for external tokens.
fn accepted_algorithm(alg: &str) -> Option<Algorithm> {
    Some(match alg {
        "EdDSA" => Algorithm::EdDSA,
        "ES256" => Algorithm::ES256,
        "ES384" => Algorithm::ES384,
        "RS256" => Algorithm::RS256,
        "RS384" => Algorithm::RS384,
        "RS512" => Algorithm::RS512,
        "PS256" => Algorithm::PS256,
        "PS384" => Algorithm::PS384,
        "PS512" => Algorithm::PS512,
        _ => return None,
    })
}

/// The JOSE name of an accepted algorithm (the inverse of [`accepted_algorithm`]).
pub(crate) fn algorithm_name(alg: Algorithm) -> &'static str {
    match alg {
        Algorithm::EdDSA => "EdDSA",
        Algorithm::ES256 => "ES256",
        Algorithm::ES384 => "ES384",
        Algorithm::RS256 => "RS256",
        Algorithm::RS384 => "RS384",
        Algorithm::RS512 => "RS512",
        Algorithm::PS256 => "PS256",
        Algorithm::PS384 => "PS384",
        Algorithm::PS512 => "PS512",
        // Never accepted for external tokens (HMAC, or one added by a newer library).
        _ => "an unsupported algorithm",
    }
}

/// A registered time claim: absent, or a non-negative integer of seconds.
fn timestamp(claims: &Map<String, Value>, name: &str) -> Result<Option<u64>, ExternalAuthError> {
    match claims.get(name) {
        None => Ok(None),
        Some(value) => value
            .as_u64()
            .map(Some)
            .ok_or_else(|| invalid_claims(&format!("{name} must be a non-negative integer"))),
    }
}

/// Parses the claims object with the core's claim reader, which refuses a claim
/// that appears twice (a plain JSON map would keep the last one silently, so two
/// parsers could disagree on `sub`): one rule for self-signed and external tokens.
fn parse_claims(bytes: &[u8]) -> Result<Map<String, Value>, ExternalAuthError> {
    token::parse_claims_object(bytes).map_err(|error| {
        let text = match &error {
            TokenError::InvalidClaims { reason } => reason.clone(),
            other => other.to_string(),
        };
        match text.strip_prefix("duplicate field `") {
            Some(rest) => ExternalAuthError::DuplicateClaim {
                claim: rest.split('`').next().unwrap_or_default().to_owned(),
            },
            None => invalid_claims(&text),
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn part(json: &str) -> String {
        URL_SAFE_NO_PAD.encode(json)
    }

    #[test]
    fn duplicate_claims_are_named() {
        let token = format!(
            "{}.{}.c2ln",
            part(r#"{"alg":"ES256"}"#),
            part(r#"{"sub":"a","exp":5,"sub":"b"}"#)
        );
        match parse(&token) {
            Err(ExternalAuthError::DuplicateClaim { claim }) => assert_eq!(claim, "sub"),
            other => panic!("unexpected {:?}", other.map(|p| p.claims)),
        }
    }

    #[test]
    fn shape_and_header_are_checked() {
        let claims = part(r#"{"sub":"a","exp":5}"#);
        for (token, code) in [
            (
                format!("{}.{claims}", part(r#"{"alg":"ES256"}"#)),
                "token-malformed",
            ),
            (
                format!("{}.{claims}.c2ln.x", part(r#"{"alg":"ES256"}"#)),
                "token-malformed",
            ),
            (
                format!("{}.{claims}.c2ln", part(r#"{"alg":"none"}"#)),
                "unsupported-algorithm",
            ),
            (
                format!("{}.{claims}.c2ln", part(r#"{"alg":"HS256"}"#)),
                "unsupported-algorithm",
            ),
            (
                format!("{}.{claims}.c2ln", part(r#"{"alg":"ES256","crit":["x"]}"#)),
                "token-malformed",
            ),
            (
                format!("{}.{}.c2ln", part(r#"{"alg":"ES256"}"#), part("[1]")),
                "invalid-claims",
            ),
            (
                format!("{}.{claims}.c2l=", part(r#"{"alg":"ES256"}"#)),
                "token-malformed",
            ),
        ] {
            let error = parse(&token)
                .err()
                .map(|e| localfirst_core::ErrorCode::code(&e).as_str());
            assert_eq!(error, Some(code), "{token}");
        }
    }
}
