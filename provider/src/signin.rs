//! One-time sign-in codes: how a second device signs in to the demo provider.
//!
//! A real provider signs a user in with a password, an email link or OAuth; the
//! demo provider stands in with a code "sent" to the account
//! ([`RunningProvider::mailbox`](super::RunningProvider::mailbox)) that
//! `POST /signin` trades for a JWT.
//!
//! - `POST /signin/start {"user_id"}` answers `{"sent": true}` whether or not the
//!   account exists (the answer tells nobody which accounts exist); for a known
//!   account it makes a fresh code (128 random bits, base64url), replacing any
//!   earlier one.
//! - `POST /signin {"user_id", "code"}` answers [`IssuedToken`] when the code is
//!   the account's current one and younger than [`SIGNIN_CODE_TTL_SECONDS`] on
//!   the injected clock. A code works once; a wrong one is
//!   `provider-signin-invalid` (401) and leaves the current code valid.

use std::sync::Arc;

use axum::body::Body;
use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::Json;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use serde::{Deserialize, Serialize};
use serde_json::json;
use subtle::ConstantTimeEq as _;
use zeroize::Zeroizing;

use super::{
    lock, lock_accounts, read_body, IssuedToken, ProviderClient, ProviderError, ProviderState,
};

/// How long a sign-in code stays valid, in seconds.
pub const SIGNIN_CODE_TTL_SECONDS: u64 = 600;

/// A code waiting to be used.
pub(super) struct PendingCode {
    code: Zeroizing<String>,
    expires_at: u64,
}

impl ProviderClient {
    /// `POST /signin/start`: asks the provider to send `user_id` a sign-in code.
    pub async fn start_signin(&self, user_id: &str) -> Result<(), ProviderError> {
        let request = self
            .http
            .post(format!("{}/signin/start", self.base_url))
            .header(header::CONTENT_TYPE.as_str(), "application/json")
            .body(json!({ "user_id": user_id }).to_string());
        let _: serde_json::Value = super::answer(request).await?;
        Ok(())
    }

    /// `POST /signin`: trades a sign-in code for a JWT.
    pub async fn signin(&self, user_id: &str, code: &str) -> Result<IssuedToken, ProviderError> {
        let body = Zeroizing::new(json!({ "user_id": user_id, "code": code }).to_string());
        let request = self
            .http
            .post(format!("{}/signin", self.base_url))
            .header(header::CONTENT_TYPE.as_str(), "application/json")
            .body(body.to_string());
        super::answer(request).await
    }
}

/// The account's current code, if it has not expired.
pub(super) fn mailbox(state: &ProviderState, user_id: &str) -> Option<String> {
    let now = state.config.clock.now_unix();
    lock(&state.signin_codes)
        .get(user_id)
        .filter(|pending| now < pending.expires_at)
        .map(|pending| pending.code.to_string())
}

#[derive(Deserialize)]
struct StartRequest {
    user_id: String,
}

#[derive(Serialize)]
struct Sent {
    sent: bool,
}

pub(super) async fn start(State(state): State<Arc<ProviderState>>, body: Body) -> Response {
    match start_inner(&state, body).await {
        Ok(()) => Json(Sent { sent: true }).into_response(),
        Err(error) => error.into_response(),
    }
}

async fn start_inner(state: &ProviderState, body: Body) -> Result<(), ProviderError> {
    let bytes = read_body(body).await?;
    let request: StartRequest = serde_json::from_slice(&bytes)
        .map_err(|e| ProviderError::MalformedRequest(e.to_string()))?;
    if !lock_accounts(state).contains(&request.user_id) {
        return Ok(());
    }
    let mut raw = Zeroizing::new([0u8; 16]);
    getrandom::getrandom(raw.as_mut())
        .map_err(|_| ProviderError::Key("the system random source failed".to_owned()))?;
    let pending = PendingCode {
        code: Zeroizing::new(URL_SAFE_NO_PAD.encode(raw.as_ref())),
        expires_at: state
            .config
            .clock
            .now_unix()
            .saturating_add(SIGNIN_CODE_TTL_SECONDS),
    };
    lock(&state.signin_codes).insert(request.user_id, pending);
    Ok(())
}

#[derive(Deserialize)]
struct FinishRequest {
    user_id: String,
    code: String,
}

pub(super) async fn finish(State(state): State<Arc<ProviderState>>, body: Body) -> Response {
    match finish_inner(&state, body).await {
        Ok(issued) => Json(issued).into_response(),
        Err(error) => error.into_response(),
    }
}

async fn finish_inner(state: &ProviderState, body: Body) -> Result<IssuedToken, ProviderError> {
    let bytes = Zeroizing::new(read_body(body).await?);
    let request: FinishRequest = serde_json::from_slice(&bytes)
        .map_err(|e| ProviderError::MalformedRequest(e.to_string()))?;
    let code = Zeroizing::new(request.code);
    let now = state.config.clock.now_unix();
    {
        let mut codes = lock(&state.signin_codes);
        let valid = codes.get(&request.user_id).is_some_and(|pending| {
            now < pending.expires_at && bool::from(pending.code.as_bytes().ct_eq(code.as_bytes()))
        });
        if !valid {
            return Err(ProviderError::SigninInvalid);
        }
        codes.remove(&request.user_id);
    }
    state.issue(&request.user_id)
}
