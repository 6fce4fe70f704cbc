//! The per-user vault: the provider keeps the signed-in user's account secret
//! (as Jazz's Clerk integration keeps it in the user's metadata), and a new
//! device that signs in gets it back.
//!
//! - `GET /vault` answers `{"secret": "<text>"}` or `{"secret": null}` when the
//!   user has stored nothing. "Empty" is always this explicit 200 answer, never a
//!   404, so a wrong URL can never look like an empty vault.
//! - `PUT /vault {"secret": "<text>"}` replaces the user's entry and answers
//!   `{"stored": true}`. The text is kept as given (1 to
//!   [`MAX_VAULT_VALUE_BYTES`] bytes): the client's flow validates what it reads.
//!
//! Both need `Authorization: Bearer <a JWT this provider issued>` that has not
//! expired, for an account that signed up. The provider can read every entry:
//! docs/RECOVERY.md states the trust model.

use std::sync::{Arc, Mutex};

use axum::body::Body;
use axum::extract::State;
use axum::http::{header, HeaderMap};
use axum::response::{IntoResponse, Response};
use axum::Json;
use localfirst_core::recovery::vault::{SecretVault, VaultAccessError, VaultFuture, VaultValue};
use serde::{Deserialize, Serialize};
use serde_json::json;
use std::sync::atomic::Ordering;
use zeroize::Zeroizing;

use super::{lock, read_body, ProviderClient, ProviderError, ProviderState};

/// The longest vault entry the provider keeps, in bytes.
pub const MAX_VAULT_VALUE_BYTES: usize = 1024;

/// The core's `SecretVault` over the provider's `/vault` endpoints, for the user
/// of the JWT it holds.
#[derive(Clone)]
pub struct ProviderVault {
    client: ProviderClient,
    jwt: Arc<Mutex<Zeroizing<String>>>,
}

impl std::fmt::Debug for ProviderVault {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ProviderVault")
            .field("client", &self.client)
            .field("jwt", &"<redacted>")
            .finish()
    }
}

impl ProviderVault {
    /// The vault of the user `jwt` (a live JWT of this provider) signs in.
    pub fn new(client: ProviderClient, jwt: &str) -> ProviderVault {
        ProviderVault {
            client,
            jwt: Arc::new(Mutex::new(Zeroizing::new(jwt.to_owned()))),
        }
    }

    /// Uses a fresh JWT (after a refresh) for later calls.
    pub fn set_token(&self, jwt: &str) {
        *lock(&self.jwt) = Zeroizing::new(jwt.to_owned());
    }

    fn token(&self) -> Zeroizing<String> {
        lock(&self.jwt).clone()
    }
}

impl SecretVault for ProviderVault {
    fn load(&self) -> VaultFuture<Option<VaultValue>> {
        let client = self.client.clone();
        let jwt = self.token();
        Box::pin(async move {
            let entry = client.vault_get(&jwt).await.map_err(access)?;
            Ok(entry.map(|text| VaultValue::new(text.as_str())))
        })
    }

    fn store(&self, value: VaultValue) -> VaultFuture<()> {
        let client = self.client.clone();
        let jwt = self.token();
        Box::pin(async move { client.vault_put(&jwt, value.expose()).await.map_err(access) })
    }
}

impl ProviderClient {
    /// `GET /vault`: the signed-in user's entry, `None` when they stored nothing.
    pub async fn vault_get(&self, jwt: &str) -> Result<Option<Zeroizing<String>>, ProviderError> {
        let request = self
            .http
            .get(format!("{}/vault", self.base_url))
            .header(header::AUTHORIZATION.as_str(), format!("Bearer {jwt}"));
        let mut entry: Entry = super::answer(request).await?;
        Ok(entry.secret.take().map(Zeroizing::new))
    }

    /// `PUT /vault`: replaces the signed-in user's entry with `value`.
    pub async fn vault_put(&self, jwt: &str, value: &str) -> Result<(), ProviderError> {
        let body = Zeroizing::new(json!({ "secret": value }).to_string());
        let request = self
            .http
            .put(format!("{}/vault", self.base_url))
            .header(header::AUTHORIZATION.as_str(), format!("Bearer {jwt}"))
            .header(header::CONTENT_TYPE.as_str(), "application/json")
            .body(body.to_string());
        let _: Stored = super::answer(request).await?;
        Ok(())
    }
}

/// A provider failure as a vault failure, its code in front.
fn access(error: ProviderError) -> VaultAccessError {
    let code = localfirst_core::ErrorCode::code(&error);
    VaultAccessError::new(format!("[{code}] {error}"))
}

/// The body of `GET /vault` and of `PUT /vault` (wiped on drop).
#[derive(Serialize, Deserialize, zeroize::Zeroize, zeroize::ZeroizeOnDrop)]
struct Entry {
    secret: Option<String>,
}

#[derive(Serialize, Deserialize)]
struct Stored {
    stored: bool,
}

pub(super) async fn get_entry(
    State(state): State<Arc<ProviderState>>,
    headers: HeaderMap,
) -> Response {
    let answer = state.signed_in_user(&headers).map(|user| {
        let secret = lock(&state.vaults)
            .get(&user)
            .map(|value| value.to_string());
        Entry { secret }
    });
    match answer {
        Ok(entry) => ([(header::CACHE_CONTROL, "no-store")], Json(&entry)).into_response(),
        Err(error) => error.into_response(),
    }
}

pub(super) async fn put_entry(
    State(state): State<Arc<ProviderState>>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    match put_inner(&state, &headers, body).await {
        Ok(()) => {
            state.vault_writes.fetch_add(1, Ordering::SeqCst);
            Json(Stored { stored: true }).into_response()
        }
        Err(error) => error.into_response(),
    }
}

async fn put_inner(
    state: &ProviderState,
    headers: &HeaderMap,
    body: Body,
) -> Result<(), ProviderError> {
    let user = state.signed_in_user(headers)?;
    let bytes = Zeroizing::new(read_body(body).await?);
    let mut entry: Entry = serde_json::from_slice(&bytes)
        .map_err(|e| ProviderError::MalformedRequest(e.to_string()))?;
    let value = Zeroizing::new(entry.secret.take().unwrap_or_default());
    if value.is_empty() {
        return Err(ProviderError::MalformedRequest(
            "\"secret\" must be a non-empty string".to_owned(),
        ));
    }
    if value.len() > MAX_VAULT_VALUE_BYTES {
        return Err(ProviderError::BodyTooLarge);
    }
    lock(&state.vaults).insert(user, value);
    Ok(())
}
