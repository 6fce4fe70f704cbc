//! Public keys of an external provider: parsing (JWK, JWK set, PEM), selection by
//! `kid`/`alg`, and the cached JWKS endpoint with single-flight refreshes.

use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use jsonwebtoken::jwk::{AlgorithmParameters, EllipticCurve, Jwk, KeyAlgorithm, PublicKeyUse};
use jsonwebtoken::{Algorithm, DecodingKey};
use localfirst_core::clock::Clock;
use serde_json::Value;

use super::external::{ExternalAuthError, JwksOptions, MAX_JWKS_BODY_LEN};
use super::jwt::ParsedToken;

/// The outcome of checking a token's signature against a key set.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum KeyMatch {
    /// A matching key verified the signature.
    Verified,
    /// No key has the token's `kid`.
    UnknownKey,
    /// Keys match the `kid`, but none is for the token's `alg`.
    AlgorithmMismatch,
    /// Matching keys exist, and none verified the signature.
    BadSignature,
}

impl KeyMatch {
    /// `Ok` when verified, else the typed error.
    pub(crate) fn into_result(self, token: &ParsedToken<'_>) -> Result<(), ExternalAuthError> {
        match self {
            KeyMatch::Verified => Ok(()),
            KeyMatch::UnknownKey => Err(ExternalAuthError::UnknownKey {
                kid: token.kid.clone(),
            }),
            KeyMatch::AlgorithmMismatch => Err(ExternalAuthError::AlgorithmMismatch {
                alg: super::jwt::algorithm_name(token.alg).to_owned(),
            }),
            KeyMatch::BadSignature => Err(ExternalAuthError::InvalidSignature),
        }
    }
}

/// A set of usable verification keys.
pub(crate) struct KeySet {
    keys: Vec<VerifyKey>,
}

struct VerifyKey {
    kid: Option<String>,
    algorithms: Vec<Algorithm>,
    key: DecodingKey,
}

impl KeySet {
    /// Number of usable keys.
    pub(crate) fn len(&self) -> usize {
        self.keys.len()
    }

    /// A static key: JWK JSON (one key or a set) or PEM text.
    pub(crate) fn from_static(text: &str) -> Result<KeySet, ExternalAuthError> {
        let text = text.trim();
        if text.starts_with("-----BEGIN") {
            return Ok(KeySet {
                keys: vec![pem_key(text.as_bytes())?],
            });
        }
        let value: Value = serde_json::from_str(text)
            .map_err(|e| invalid_key(&format!("not PEM, and not JSON: {e}")))?;
        if value.get("keys").is_some() {
            return KeySet::from_jwks_value(value);
        }
        let jwk: Jwk =
            serde_json::from_value(value).map_err(|e| invalid_key(&format!("not a JWK: {e}")))?;
        let key = jwk_key(&jwk)?;
        Ok(KeySet { keys: vec![key] })
    }

    /// A JWKS document (`{"keys": [...]}`). Keys that cannot be used for signature
    /// verification (encryption keys, symmetric keys, unknown types or curves,
    /// malformed values) are skipped; a set with no usable key is an error.
    pub(crate) fn from_jwks_json(bytes: &[u8]) -> Result<KeySet, ExternalAuthError> {
        let value: Value =
            serde_json::from_slice(bytes).map_err(|e| ExternalAuthError::JwksUnavailable {
                reason: format!("response is not JSON: {e}"),
            })?;
        KeySet::from_jwks_value(value)
    }

    fn from_jwks_value(value: Value) -> Result<KeySet, ExternalAuthError> {
        let Some(Value::Array(entries)) = value.get("keys") else {
            return Err(invalid_key("a JWK set needs a \"keys\" array"));
        };
        let keys: Vec<VerifyKey> = entries
            .iter()
            .filter_map(|entry| serde_json::from_value::<Jwk>(entry.clone()).ok())
            .filter_map(|jwk| jwk_key(&jwk).ok())
            .collect();
        if keys.is_empty() {
            return Err(ExternalAuthError::EmptyKeySet);
        }
        Ok(KeySet { keys })
    }

    /// Checks the token's signature. Candidate keys are those whose `kid` equals the
    /// token's, plus keys without a `kid`; a token without `kid` tries every key.
    pub(crate) fn verify(&self, token: &ParsedToken<'_>) -> KeyMatch {
        let mut candidates = self.keys.iter().filter(|key| match (&token.kid, &key.kid) {
            (Some(wanted), Some(kid)) => wanted == kid,
            _ => true,
        });
        let mut outcome = KeyMatch::UnknownKey;
        for key in &mut candidates {
            if !key.algorithms.contains(&token.alg) {
                if outcome == KeyMatch::UnknownKey {
                    outcome = KeyMatch::AlgorithmMismatch;
                }
                continue;
            }
            outcome = KeyMatch::BadSignature;
            let verified = jsonwebtoken::crypto::verify(
                token.signature,
                token.message.as_bytes(),
                &key.key,
                token.alg,
            );
            if matches!(verified, Ok(true)) {
                return KeyMatch::Verified;
            }
        }
        outcome
    }
}

/// How often a miss waiting out the cooldown reads the injected clock again.
const COOLDOWN_POLL: Duration = Duration::from_millis(250);

/// The cached key set of one JWKS endpoint.
///
/// Every fetch (first, TTL, forced) runs under one async lock; a caller that waited
/// for the lock re-checks the fetch generation and uses the result of the fetch it
/// waited for instead of starting another (single flight).
///
/// Forced fetches (after an unknown `kid` or a bad signature) are limited to one per
/// cooldown, so fabricated key ids cannot make the server hammer the endpoint. Only a
/// forced fetch or a failed attempt starts the cooldown; a routine fetch (the first,
/// after the TTL) does not, so a key published right after one gets in at once. An
/// unknown `kid` inside the cooldown waits for the one fetch allowed when it ends (the
/// misses queue behind one waiter, which reads the injected clock every
/// [`COOLDOWN_POLL`], and fetches after one cooldown of real time at the latest)
/// instead of failing, so a newly rotated key is never refused because someone else
/// forced a fetch a moment before.
pub(crate) struct JwksCache {
    url: String,
    client: reqwest::Client,
    clock: Arc<dyn Clock>,
    ttl: u64,
    cooldown: u64,
    stale_grace: u64,
    state: Mutex<CacheState>,
    fetch_lock: tokio::sync::Mutex<()>,
    /// Held by the forced refresh that waits out the cooldown; other misses queue here.
    forced_turn: tokio::sync::Mutex<()>,
}

#[derive(Default)]
struct CacheState {
    keys: Option<Arc<KeySet>>,
    /// When `keys` were fetched.
    fetched_at: u64,
    /// Completed fetch attempts, successful or not.
    generation: u64,
    /// When the cooldown started: the end of the last forced fetch or failed attempt.
    cooldown_from: Option<u64>,
    /// The error of the last attempt, if it failed.
    last_error: Option<ExternalAuthError>,
}

/// Why a fetch runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Fetch {
    /// The first fetch, or the set is past its TTL.
    Routine,
    /// A token's key was not found or did not verify.
    Forced,
}

impl JwksCache {
    /// A cache for `url` (checked now, fetched lazily).
    pub(crate) fn new(
        url: &str,
        options: JwksOptions,
        clock: Arc<dyn Clock>,
    ) -> Result<JwksCache, ExternalAuthError> {
        check_url(url)?;
        let http_error = |reason: String| ExternalAuthError::JwksUnavailable {
            reason: format!("HTTP client: {reason}"),
        };
        let client = crate::tls::client_builder()
            .map_err(|e| http_error(e.to_string()))?
            .timeout(options.fetch_timeout)
            .connect_timeout(options.fetch_timeout)
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|e| http_error(e.to_string()))?;
        Ok(JwksCache {
            url: url.to_owned(),
            client,
            clock,
            ttl: options.ttl.as_secs(),
            cooldown: options.forced_refresh_cooldown.as_secs(),
            stale_grace: options.stale_grace.as_secs(),
            state: Mutex::new(CacheState::default()),
            fetch_lock: tokio::sync::Mutex::new(()),
            forced_turn: tokio::sync::Mutex::new(()),
        })
    }

    /// The endpoint URL.
    pub(crate) fn url(&self) -> &str {
        &self.url
    }

    /// A usable key set and the fetch generation it came from: fresh keys, else a
    /// fetch (shared with concurrent callers), else stale keys inside the grace window.
    /// After a failed fetch, the endpoint is retried at most once per cooldown.
    pub(crate) async fn keys(&self) -> Result<(Arc<KeySet>, u64), ExternalAuthError> {
        let seen = {
            let state = self.lock();
            let now = self.clock.now_unix();
            if let Some(keys) = &state.keys {
                if now < state.fetched_at.saturating_add(self.ttl) {
                    return Ok((keys.clone(), state.generation));
                }
            }
            if state.last_error.is_some() && self.cooling_down(&state, now) {
                return self.usable(&state, now);
            }
            state.generation
        };
        let _fetching = self.fetch_lock.lock().await;
        if self.lock().generation == seen {
            self.fetch(Fetch::Routine).await;
        }
        let state = self.lock();
        self.usable(&state, self.clock.now_unix())
    }

    /// After an unknown `kid` or a bad signature under the keys of generation `seen`:
    /// the key set to retry with, if it changed since (another caller's fetch) or a
    /// forced fetch ran and succeeded; `None` when that fetch failed, or inside the
    /// cooldown unless `wait`. With `wait` (an unknown `kid`), a call inside the cooldown
    /// waits for its end, then shares the one fetch it allows.
    pub(crate) async fn forced_refresh(&self, seen: u64, wait: bool) -> Option<Arc<KeySet>> {
        if let Some(outcome) = self.changed_since(seen) {
            return outcome;
        }
        if !wait && self.cooldown_left() > 0 {
            return None;
        }
        let _turn = self.forced_turn.lock().await;
        // Also a bound in real time, should the injected clock stand still or go back.
        let deadline = tokio::time::Instant::now() + Duration::from_secs(self.cooldown);
        loop {
            if let Some(outcome) = self.changed_since(seen) {
                return outcome;
            }
            let left = self.cooldown_left();
            if left == 0 || tokio::time::Instant::now() >= deadline {
                break;
            }
            if !wait {
                return None;
            }
            tokio::time::sleep(Duration::from_secs(left).min(COOLDOWN_POLL)).await;
        }
        let _fetching = self.fetch_lock.lock().await;
        if let Some(outcome) = self.changed_since(seen) {
            return outcome;
        }
        self.fetch(Fetch::Forced).await;
        self.changed_since(seen).flatten()
    }

    /// `None` while the set is still generation `seen`; else the current keys, or
    /// `Some(None)` when the last attempt failed.
    fn changed_since(&self, seen: u64) -> Option<Option<Arc<KeySet>>> {
        let state = self.lock();
        if state.generation == seen {
            return None;
        }
        Some(match state.last_error {
            Some(_) => None,
            None => state.keys.clone(),
        })
    }

    /// Whole seconds of cooldown left (0: a forced fetch is allowed now).
    fn cooldown_left(&self) -> u64 {
        let state = self.lock();
        let now = self.clock.now_unix();
        state.cooldown_from.map_or(0, |from| {
            from.saturating_add(self.cooldown).saturating_sub(now)
        })
    }

    fn lock(&self) -> MutexGuard<'_, CacheState> {
        self.state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn cooling_down(&self, state: &CacheState, now: u64) -> bool {
        state
            .cooldown_from
            .is_some_and(|at| now < at.saturating_add(self.cooldown))
    }

    /// The current keys if inside TTL + grace, else the last fetch error.
    fn usable(
        &self,
        state: &CacheState,
        now: u64,
    ) -> Result<(Arc<KeySet>, u64), ExternalAuthError> {
        if let Some(keys) = &state.keys {
            let limit = state
                .fetched_at
                .saturating_add(self.ttl)
                .saturating_add(self.stale_grace);
            if now < limit {
                return Ok((keys.clone(), state.generation));
            }
        }
        Err(match &state.last_error {
            Some(error) => error.clone(),
            None => ExternalAuthError::JwksUnavailable {
                reason: "key set expired".to_owned(),
            },
        })
    }

    /// One fetch; the caller holds `fetch_lock`. Records the outcome in the state.
    async fn fetch(&self, why: Fetch) {
        let started = self.clock.now_unix();
        let result = self
            .download()
            .await
            .and_then(|body| KeySet::from_jwks_json(&body));
        let mut state = self.lock();
        state.generation += 1;
        // Started when the attempt ends, so a caller arriving while it is in flight is
        // not turned away by its cooldown but waits for its result.
        if why == Fetch::Forced || result.is_err() {
            state.cooldown_from = Some(self.clock.now_unix());
        }
        match result {
            Ok(keys) => {
                state.keys = Some(Arc::new(keys));
                state.fetched_at = started;
                state.last_error = None;
            }
            Err(error) => state.last_error = Some(error),
        }
    }

    async fn download(&self) -> Result<Vec<u8>, ExternalAuthError> {
        let unavailable = |reason: String| ExternalAuthError::JwksUnavailable { reason };
        let mut response = self
            .client
            .get(&self.url)
            .header(reqwest::header::ACCEPT, "application/json")
            .send()
            .await
            .map_err(|e| unavailable(format!("request failed: {e}")))?;
        if !response.status().is_success() {
            return Err(unavailable(format!("HTTP status {}", response.status())));
        }
        let too_large = || unavailable(format!("response larger than {MAX_JWKS_BODY_LEN} bytes"));
        if response
            .content_length()
            .is_some_and(|len| len > MAX_JWKS_BODY_LEN as u64)
        {
            return Err(too_large());
        }
        let mut body = Vec::new();
        while let Some(chunk) = response
            .chunk()
            .await
            .map_err(|e| unavailable(format!("reading the response failed: {e}")))?
        {
            if body.len() + chunk.len() > MAX_JWKS_BODY_LEN {
                return Err(too_large());
            }
            body.extend_from_slice(&chunk);
        }
        Ok(body)
    }
}

fn invalid_key(reason: &str) -> ExternalAuthError {
    ExternalAuthError::InvalidKey {
        reason: reason.to_owned(),
    }
}

/// `https://`, or `http://` to a loopback host (tests, sidecars).
fn check_url(url: &str) -> Result<(), ExternalAuthError> {
    let refuse = |reason: &str| ExternalAuthError::InvalidJwksUrl {
        url: url.to_owned(),
        reason: reason.to_owned(),
    };
    let parsed = reqwest::Url::parse(url).map_err(|e| refuse(&e.to_string()))?;
    match parsed.scheme() {
        "https" => Ok(()),
        "http" => {
            let host = parsed.host_str().unwrap_or_default();
            let host = host.trim_start_matches('[').trim_end_matches(']');
            let loopback = host.eq_ignore_ascii_case("localhost")
                || host
                    .parse::<std::net::IpAddr>()
                    .is_ok_and(|ip| ip.is_loopback());
            if loopback {
                Ok(())
            } else {
                Err(refuse(
                    "http:// is only allowed on a loopback host; use https://",
                ))
            }
        }
        _ => Err(refuse("the scheme must be https")),
    }
}

type PemParser = fn(&[u8]) -> jsonwebtoken::errors::Result<DecodingKey>;

/// A PEM public key: EC (P-256 or P-384), RSA, or Ed25519.
fn pem_key(pem: &[u8]) -> Result<VerifyKey, ExternalAuthError> {
    let candidates: [(PemParser, &[Algorithm]); 4] = [
        (DecodingKey::from_ec_pem, &[Algorithm::ES256]),
        (DecodingKey::from_ec_pem, &[Algorithm::ES384]),
        (DecodingKey::from_rsa_pem, RSA_ALGORITHMS),
        (DecodingKey::from_ed_pem, &[Algorithm::EdDSA]),
    ];
    for (parse, algorithms) in candidates {
        if let Ok(key) = parse(pem) {
            if usable(&key, algorithms[0]) {
                return Ok(VerifyKey {
                    kid: None,
                    algorithms: algorithms.to_vec(),
                    key,
                });
            }
        }
    }
    Err(invalid_key(
        "PEM is not an EC (P-256/P-384), RSA or Ed25519 public key",
    ))
}

const RSA_ALGORITHMS: &[Algorithm] = &[
    Algorithm::RS256,
    Algorithm::RS384,
    Algorithm::RS512,
    Algorithm::PS256,
    Algorithm::PS384,
    Algorithm::PS512,
];

/// A JWK usable for signature verification, with the algorithms it may verify.
fn jwk_key(jwk: &Jwk) -> Result<VerifyKey, ExternalAuthError> {
    if matches!(jwk.common.public_key_use, Some(ref u) if *u != PublicKeyUse::Signature) {
        return Err(invalid_key("key is not for signatures"));
    }
    let by_type: Vec<Algorithm> = match &jwk.algorithm {
        AlgorithmParameters::EllipticCurve(params) => match params.curve {
            EllipticCurve::P256 => vec![Algorithm::ES256],
            EllipticCurve::P384 => vec![Algorithm::ES384],
            _ => return Err(invalid_key("unsupported EC curve")),
        },
        AlgorithmParameters::OctetKeyPair(params) => match params.curve {
            EllipticCurve::Ed25519 => vec![Algorithm::EdDSA],
            _ => return Err(invalid_key("unsupported OKP curve")),
        },
        AlgorithmParameters::RSA(_) => RSA_ALGORITHMS.to_vec(),
        _ => return Err(invalid_key("only EC, RSA and OKP public keys are accepted")),
    };
    let algorithms = match jwk.common.key_algorithm {
        None => by_type,
        Some(declared) => {
            let declared = declared_algorithm(declared)
                .filter(|alg| by_type.contains(alg))
                .ok_or_else(|| invalid_key("declared alg does not fit the key type"))?;
            vec![declared]
        }
    };
    let key = DecodingKey::from_jwk(jwk).map_err(|e| invalid_key(&e.to_string()))?;
    if !usable(&key, algorithms[0]) {
        return Err(invalid_key("key material is not valid"));
    }
    Ok(VerifyKey {
        kid: jwk.common.key_id.clone(),
        algorithms,
        key,
    })
}

fn declared_algorithm(alg: KeyAlgorithm) -> Option<Algorithm> {
    Some(match alg {
        KeyAlgorithm::ES256 => Algorithm::ES256,
        KeyAlgorithm::ES384 => Algorithm::ES384,
        KeyAlgorithm::RS256 => Algorithm::RS256,
        KeyAlgorithm::RS384 => Algorithm::RS384,
        KeyAlgorithm::RS512 => Algorithm::RS512,
        KeyAlgorithm::PS256 => Algorithm::PS256,
        KeyAlgorithm::PS384 => Algorithm::PS384,
        KeyAlgorithm::PS512 => Algorithm::PS512,
        KeyAlgorithm::EdDSA => Algorithm::EdDSA,
        _ => return None,
    })
}

/// Whether the crypto backend accepts `key` for `alg`: building a verifier parses
/// the key, so a bad point or modulus is found at load time, not per token.
fn usable(key: &DecodingKey, alg: Algorithm) -> bool {
    // The Ed25519 verifier slices the key to 32 bytes without checking its length.
    if alg == Algorithm::EdDSA && key.try_get_as_bytes().map(<[u8]>::len).ok() != Some(32) {
        return false;
    }
    jsonwebtoken::crypto::verify("AA", b"probe", key, alg).is_ok()
}
