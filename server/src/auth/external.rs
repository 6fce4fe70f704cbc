//! External JWT verification (JWKS or a static key).
//!
//! Placeholder with the final API: every verification fails with
//! [`ExternalAuthError::NotConfigured`]. The real verifier replaces this file.

use std::sync::Arc;
use std::time::Duration;

use localfirst_core::auth::AuthFailure;
use localfirst_core::clock::Clock;
use localfirst_core::session::Session;

/// JWKS cache settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JwksOptions {
    /// How long fetched keys are fresh (default 300 s).
    pub ttl: Duration,
    /// Minimum time between two forced refreshes (default 10 s).
    pub forced_refresh_cooldown: Duration,
    /// How long stale keys are served past the TTL when the endpoint fails (default 300 s).
    pub stale_grace: Duration,
    /// Timeout of one fetch (default 5 s).
    pub fetch_timeout: Duration,
}

impl Default for JwksOptions {
    fn default() -> JwksOptions {
        JwksOptions {
            ttl: Duration::from_secs(300),
            forced_refresh_cooldown: Duration::from_secs(10),
            stale_grace: Duration::from_secs(300),
            fetch_timeout: Duration::from_secs(5),
        }
    }
}

/// Where the keys of external tokens come from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ExternalKeySource {
    /// A JWKS endpoint.
    Jwks {
        /// The endpoint URL.
        url: String,
        /// Cache settings.
        options: JwksOptions,
    },
    /// One key given at start-up.
    Static {
        /// JWK JSON or PEM text.
        key: String,
    },
}

/// Verifies external JWTs.
#[derive(Clone)]
pub struct ExternalVerifier {
    _source: ExternalKeySource,
    _clock: Arc<dyn Clock>,
}

impl std::fmt::Debug for ExternalVerifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ExternalVerifier").finish_non_exhaustive()
    }
}

impl ExternalVerifier {
    /// A verifier for `source`, checking times against `clock`.
    pub fn new(
        source: ExternalKeySource,
        clock: Arc<dyn Clock>,
    ) -> Result<ExternalVerifier, ExternalAuthError> {
        Ok(ExternalVerifier {
            _source: source,
            _clock: clock,
        })
    }

    /// Verifies `token`; the session has [`AuthMode::External`](localfirst_core::session::AuthMode::External)
    /// and the user id is `sub`.
    pub async fn verify(&self, token: &str) -> Result<Session, ExternalAuthError> {
        let _ = token;
        Err(ExternalAuthError::NotConfigured)
    }
}

/// Why an external token was refused.
#[derive(Debug, thiserror::Error)]
pub enum ExternalAuthError {
    /// External verification is not available.
    #[error("external token verification is not available")]
    NotConfigured,
}

impl ExternalAuthError {
    /// The auth failure reported to the client.
    pub fn failure(&self) -> AuthFailure {
        match self {
            ExternalAuthError::NotConfigured => AuthFailure::Invalid,
        }
    }
}
