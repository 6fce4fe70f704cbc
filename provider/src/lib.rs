//! # localfirst-provider
//!
//! The demo identity provider of localfirst, for the CLI's `localfirst demo` and for
//! tests (its own crate, so no release artefact carries it): HTTP on loopback, one
//! fresh ES256 key pair per start, and these endpoints:
//!
//! - `GET /.well-known/jwks.json`: the public key as a JWK set (with `kid`).
//! - `POST /signup` `{"proof": "<identity proof>"}`: verifies a local-first
//!   identity proof for [`ProviderConfig::proof_audience`] with the injected
//!   clock, records the account and answers [`IssuedToken`] (an ES256 JWT whose
//!   `sub` is the proven user id).
//! - `POST /token` with `Authorization: Bearer <a JWT this provider issued>`:
//!   a fresh JWT for the same `sub`. The presented JWT may have expired up to
//!   [`ProviderConfig::refresh_window_seconds`] ago (it is the refresh
//!   credential). Every request is counted ([`RunningProvider::token_requests`]).
//!
//! - `POST /signin/start` `{"user_id": "..."}` and `POST /signin`
//!   `{"user_id": "...", "code": "..."}`: a one-time sign-in code, standing in
//!   for a real provider's sign-in (email link, password, OAuth). The code is
//!   "sent" to the account's [`RunningProvider::mailbox`]; it is single-use and
//!   expires after [`SIGNIN_CODE_TTL_SECONDS`] ([`signin`]).
//! - `GET /vault` and `PUT /vault` with `Authorization: Bearer <a live JWT>`: the
//!   signed-in user's vault entry, the account secret the provider keeps for
//!   them ([`vault`]; [`ProviderVault`] is the client implementing the core's
//!   `SecretVault`).
//!
//! Request bodies are bounded ([`MAX_REQUEST_BODY_BYTES`]); every refusal is a
//! JSON body `{"code": "...", "error": "..."}` with a 4xx status. Tokens,
//! sign-in codes and vault values are never logged. [`ProviderClient`] calls
//! every endpoint but the JWKS.
//!
//! ```no_run
//! # async fn run() -> Result<(), localfirst_provider::ProviderError> {
//! use std::sync::Arc;
//! use localfirst_core::clock::SystemClock;
//! use localfirst_provider::{start_provider, ProviderClient, ProviderConfig};
//!
//! let provider = start_provider(ProviderConfig::new("demo-provider", Arc::new(SystemClock))).await?;
//! let client = ProviderClient::new(&provider.base_url())?;
//! let issued = client.signup("<identity proof>").await?;
//! println!("user {} until {}", issued.user_id, issued.expires_at);
//! provider.shutdown().await;
//! # Ok(()) }
//! ```

use std::collections::{BTreeMap, BTreeSet};
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Body;
use axum::extract::State;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use localfirst_core::clock::Clock;
use localfirst_core::token::verify_local_first_identity_proof;
use localfirst_core::{Code, ErrorCode};
use p256::pkcs8::EncodePrivateKey;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use tokio::sync::watch;
use tokio::task::JoinHandle;
use zeroize::Zeroizing;

use localfirst_auth::external::{ExternalAuthConfig, ExternalKeySource, JwksOptions};

pub mod signin;
pub mod vault;

pub use signin::SIGNIN_CODE_TTL_SECONDS;
pub use vault::{ProviderVault, MAX_VAULT_VALUE_BYTES};

/// The largest request body read, in bytes (16 KiB).
pub const MAX_REQUEST_BODY_BYTES: usize = 16 * 1024;

/// The largest response body [`ProviderClient`] reads, in bytes (64 KiB).
pub const MAX_RESPONSE_BODY_BYTES: usize = 64 * 1024;

/// Default lifetime of issued JWTs, in seconds.
pub const DEFAULT_TOKEN_TTL_SECONDS: u64 = 300;

/// Default time after `exp` during which an issued JWT still buys a fresh one, in seconds.
pub const DEFAULT_REFRESH_WINDOW_SECONDS: u64 = 24 * 3600;

/// How the provider runs.
#[derive(Clone)]
pub struct ProviderConfig {
    /// Audience identity proofs must be minted for (e.g. `demo-provider`).
    pub proof_audience: String,
    /// `iss` of issued JWTs; `None` uses the provider's own URL (`http://127.0.0.1:<port>`).
    pub issuer: Option<String>,
    /// `aud` of issued JWTs; `None` leaves the claim out.
    pub token_audience: Option<String>,
    /// Lifetime of issued JWTs, in seconds (at least 1).
    pub token_ttl_seconds: u64,
    /// Time after `exp` during which an issued JWT still buys a fresh one, in seconds.
    pub refresh_window_seconds: u64,
    /// Address to bind (default `127.0.0.1`).
    pub bind: IpAddr,
    /// Port (0 = a free port).
    pub port: u16,
    /// The clock for proof verification and token times.
    pub clock: Arc<dyn Clock>,
}

impl std::fmt::Debug for ProviderConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ProviderConfig")
            .field("proof_audience", &self.proof_audience)
            .field("issuer", &self.issuer)
            .field("token_audience", &self.token_audience)
            .field("token_ttl_seconds", &self.token_ttl_seconds)
            .field("refresh_window_seconds", &self.refresh_window_seconds)
            .field("bind", &self.bind)
            .field("port", &self.port)
            .finish_non_exhaustive()
    }
}

impl ProviderConfig {
    /// Defaults: proofs for `proof_audience`, `iss` = the provider URL, no `aud`,
    /// 300 s tokens, a one-day refresh window, 127.0.0.1 on a free port.
    pub fn new(proof_audience: impl Into<String>, clock: Arc<dyn Clock>) -> ProviderConfig {
        ProviderConfig {
            proof_audience: proof_audience.into(),
            issuer: None,
            token_audience: None,
            token_ttl_seconds: DEFAULT_TOKEN_TTL_SECONDS,
            refresh_window_seconds: DEFAULT_REFRESH_WINDOW_SECONDS,
            bind: IpAddr::V4(Ipv4Addr::LOCALHOST),
            port: 0,
            clock,
        }
    }
}

/// A JWT the provider issued, as `/signup` and `/token` answer it.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IssuedToken {
    /// The `sub` of the token (the local-first user id).
    pub user_id: String,
    /// The JWT.
    pub token: String,
    /// Its `exp` (Unix seconds).
    pub expires_at: u64,
}

impl std::fmt::Debug for IssuedToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IssuedToken")
            .field("user_id", &self.user_id)
            .field("token", &"<redacted>")
            .field("expires_at", &self.expires_at)
            .finish()
    }
}

/// Why the provider could not start, refused a request, or a client call failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ProviderError {
    /// The configuration is unusable.
    #[error("invalid provider configuration: {0}")]
    Config(String),
    /// No key pair could be made.
    #[error("cannot make the signing key: {0}")]
    Key(String),
    /// The socket could not be bound.
    #[error("cannot bind {addr}: {reason}")]
    Bind {
        /// The address.
        addr: String,
        /// The OS error.
        reason: String,
    },
    /// The request body is larger than [`MAX_REQUEST_BODY_BYTES`].
    #[error("request body larger than {MAX_REQUEST_BODY_BYTES} bytes")]
    BodyTooLarge,
    /// The request body is not the expected JSON.
    #[error("malformed request: {0}")]
    MalformedRequest(String),
    /// `/signup` got no proof (missing, empty or blank).
    #[error("an identity proof is required")]
    ProofRequired,
    /// The identity proof was refused (wrong audience, expired, bad signature, ...).
    #[error("identity proof refused ({code}): {reason}")]
    ProofInvalid {
        /// The core's stable code of the refusal.
        code: String,
        /// Why.
        reason: String,
    },
    /// `/token` got no bearer token.
    #[error("a bearer token is required")]
    MissingToken,
    /// The bearer token is not a JWT this provider issued, or is past the refresh window.
    #[error("token refused: {0}")]
    TokenInvalid(String),
    /// The token's subject never signed up here.
    #[error("no account for this token's subject")]
    UnknownAccount,
    /// `/signin` got a code that is wrong, used or expired.
    #[error("the sign-in code is wrong, used or expired")]
    SigninInvalid,
    /// Signing a token failed.
    #[error("cannot sign a token: {0}")]
    Signing(String),
    /// A client call could not reach the provider or read its answer.
    #[error("provider request failed: {0}")]
    Http(String),
    /// The provider answered a client call with an error.
    #[error("provider refused the request with HTTP {status} ({code}): {message}")]
    Rejected {
        /// The HTTP status.
        status: u16,
        /// The provider's error code.
        code: String,
        /// The provider's message.
        message: String,
    },
}

impl ErrorCode for ProviderError {
    fn code(&self) -> Code {
        match self {
            ProviderError::Config(_) => Code::ProviderConfig,
            ProviderError::Key(_) => Code::ProviderKey,
            ProviderError::Bind { .. } => Code::ProviderBind,
            ProviderError::BodyTooLarge => Code::ProviderBodyTooLarge,
            ProviderError::MalformedRequest(_) => Code::ProviderMalformedRequest,
            ProviderError::ProofRequired => Code::ProviderProofRequired,
            ProviderError::ProofInvalid { .. } => Code::ProviderProofInvalid,
            ProviderError::MissingToken => Code::ProviderTokenMissing,
            ProviderError::TokenInvalid(_) => Code::ProviderTokenInvalid,
            ProviderError::UnknownAccount => Code::ProviderUnknownAccount,
            ProviderError::SigninInvalid => Code::ProviderSigninInvalid,
            ProviderError::Signing(_) => Code::ProviderSigning,
            ProviderError::Http(_) => Code::ProviderHttp,
            ProviderError::Rejected { .. } => Code::ProviderRejected,
        }
    }
}

impl ProviderError {
    /// The HTTP status the provider answers this error with.
    pub fn status(&self) -> StatusCode {
        match self {
            ProviderError::BodyTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            ProviderError::MalformedRequest(_) | ProviderError::ProofRequired => {
                StatusCode::BAD_REQUEST
            }
            ProviderError::ProofInvalid { .. }
            | ProviderError::MissingToken
            | ProviderError::TokenInvalid(_)
            | ProviderError::UnknownAccount
            | ProviderError::SigninInvalid => StatusCode::UNAUTHORIZED,
            _ => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }
}

/// Starts the provider on its own task: a fresh key pair, then the listener.
pub async fn start_provider(config: ProviderConfig) -> Result<RunningProvider, ProviderError> {
    if config.proof_audience.trim().is_empty() {
        return Err(ProviderError::Config("the proof audience is empty".into()));
    }
    if config.token_ttl_seconds == 0 {
        return Err(ProviderError::Config(
            "the token lifetime must be at least 1 s".into(),
        ));
    }
    let key = SigningKeyPair::generate()?;
    let addr = SocketAddr::new(config.bind, config.port);
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .map_err(|e| ProviderError::Bind {
            addr: addr.to_string(),
            reason: e.to_string(),
        })?;
    let local = listener.local_addr().map_err(|e| ProviderError::Bind {
        addr: addr.to_string(),
        reason: e.to_string(),
    })?;
    let base_url = format!("http://{local}");
    let issuer = config.issuer.clone().unwrap_or_else(|| base_url.clone());
    let state = Arc::new(ProviderState {
        key,
        issuer,
        config,
        accounts: Mutex::new(BTreeSet::new()),
        vaults: Mutex::new(BTreeMap::new()),
        signin_codes: Mutex::new(BTreeMap::new()),
        signups: AtomicU64::new(0),
        vault_writes: AtomicU64::new(0),
        token_requests: AtomicU64::new(0),
        tokens_issued: AtomicU64::new(0),
    });
    let router = Router::new()
        .route("/.well-known/jwks.json", get(jwks))
        .route("/signup", post(signup))
        .route("/token", post(token))
        .route("/signin/start", post(signin::start))
        .route("/signin", post(signin::finish))
        .route("/vault", get(vault::get_entry).put(vault::put_entry))
        .with_state(Arc::clone(&state));
    let (stop, mut stopped) = watch::channel(false);
    let task = tokio::spawn(async move {
        axum::serve(listener, router)
            .with_graceful_shutdown(async move {
                let _ = stopped.wait_for(|stop| *stop).await;
            })
            .await
    });
    Ok(RunningProvider {
        addr: local,
        base_url,
        state,
        stop,
        task,
    })
}

/// A provider serving in the background; [`shutdown`](Self::shutdown) stops it.
pub struct RunningProvider {
    addr: SocketAddr,
    base_url: String,
    state: Arc<ProviderState>,
    stop: watch::Sender<bool>,
    task: JoinHandle<std::io::Result<()>>,
}

impl std::fmt::Debug for RunningProvider {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RunningProvider")
            .field("addr", &self.addr)
            .field("kid", &self.state.key.kid)
            .finish_non_exhaustive()
    }
}

impl RunningProvider {
    /// The bound address.
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://127.0.0.1:<port>`.
    pub fn base_url(&self) -> String {
        self.base_url.clone()
    }

    /// The JWKS endpoint URL.
    pub fn jwks_url(&self) -> String {
        format!("{}/.well-known/jwks.json", self.base_url)
    }

    /// The `iss` of issued JWTs.
    pub fn issuer(&self) -> String {
        self.state.issuer.clone()
    }

    /// The `aud` of issued JWTs (`None`: they carry none).
    pub fn token_audience(&self) -> Option<String> {
        self.state.config.token_audience.clone()
    }

    /// What a sync server needs to accept this provider's JWTs: its JWKS endpoint, its
    /// issuer and the audience of issued tokens. `None` when issued tokens carry no `aud`
    /// (set [`ProviderConfig::token_audience`]).
    pub fn external_auth(&self) -> Option<ExternalAuthConfig> {
        let keys = ExternalKeySource::Jwks {
            url: self.jwks_url(),
            options: JwksOptions::default(),
        };
        let audience = self.token_audience()?;
        Some(ExternalAuthConfig::new(keys, self.issuer(), audience))
    }

    /// The `kid` of the signing key.
    pub fn kid(&self) -> String {
        self.state.key.kid.clone()
    }

    /// The public key as a JWK (JSON text), for a static key configuration.
    pub fn public_jwk(&self) -> String {
        self.state.key.jwk().to_string()
    }

    /// Successful sign-ups so far.
    pub fn signups(&self) -> u64 {
        self.state.signups.load(Ordering::SeqCst)
    }

    /// Requests to `/token` so far, answered or refused.
    pub fn token_requests(&self) -> u64 {
        self.state.token_requests.load(Ordering::SeqCst)
    }

    /// JWTs issued by `/token` so far.
    pub fn tokens_refreshed(&self) -> u64 {
        self.state.tokens_issued.load(Ordering::SeqCst)
    }

    /// The last sign-in code "sent" to `user_id` and not yet used or expired:
    /// the demo's stand-in for the email a real provider would send.
    pub fn mailbox(&self, user_id: &str) -> Option<String> {
        signin::mailbox(&self.state, user_id)
    }

    /// Successful `PUT /vault` requests so far.
    pub fn vault_writes(&self) -> u64 {
        self.state.vault_writes.load(Ordering::SeqCst)
    }

    /// The user ids that signed up, sorted.
    pub fn accounts(&self) -> Vec<String> {
        lock_accounts(&self.state).iter().cloned().collect()
    }

    /// Stops accepting and waits (briefly) for the server task.
    pub async fn shutdown(self) {
        let _ = self.stop.send(true);
        let _ = tokio::time::timeout(Duration::from_secs(5), self.task).await;
    }
}

/// Calls a provider's `/signup` and `/token` endpoints.
#[derive(Debug, Clone)]
pub struct ProviderClient {
    base_url: String,
    http: reqwest::Client,
}

impl ProviderClient {
    /// A client of the provider at `base_url` (5 s timeout per request).
    pub fn new(base_url: &str) -> Result<ProviderClient, ProviderError> {
        let http = localfirst_auth::tls::client_builder()
            .map_err(|e| ProviderError::Http(e.to_string()))?
            .timeout(Duration::from_secs(5))
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|e| ProviderError::Http(e.to_string()))?;
        Ok(ProviderClient {
            base_url: base_url.trim_end_matches('/').to_owned(),
            http,
        })
    }

    /// `POST /signup` with an identity proof.
    pub async fn signup(&self, proof: &str) -> Result<IssuedToken, ProviderError> {
        let body = json!({ "proof": proof }).to_string();
        let request = self
            .http
            .post(format!("{}/signup", self.base_url))
            .header(header::CONTENT_TYPE.as_str(), "application/json")
            .body(body);
        issued(request).await
    }

    /// `POST /token` with the current (possibly expired) JWT as the bearer.
    pub async fn refresh(&self, jwt: &str) -> Result<IssuedToken, ProviderError> {
        let request = self
            .http
            .post(format!("{}/token", self.base_url))
            .header(header::AUTHORIZATION.as_str(), format!("Bearer {jwt}"));
        issued(request).await
    }
}

async fn issued(request: reqwest::RequestBuilder) -> Result<IssuedToken, ProviderError> {
    answer(request).await
}

/// Sends `request` and reads a bounded JSON answer, or the provider's refusal.
async fn answer<T: DeserializeOwned>(request: reqwest::RequestBuilder) -> Result<T, ProviderError> {
    let http = |e: reqwest::Error| ProviderError::Http(e.to_string());
    let mut response = request.send().await.map_err(http)?;
    let status = response.status().as_u16();
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await.map_err(http)? {
        if body.len() + chunk.len() > MAX_RESPONSE_BODY_BYTES {
            return Err(ProviderError::Http(format!(
                "response larger than {MAX_RESPONSE_BODY_BYTES} bytes"
            )));
        }
        body.extend_from_slice(&chunk);
    }
    if (200..300).contains(&status) {
        return serde_json::from_slice(&body)
            .map_err(|e| ProviderError::Http(format!("unexpected response: {e}")));
    }
    let value: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    let text = |name: &str| {
        value
            .get(name)
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned()
    };
    Err(ProviderError::Rejected {
        status,
        code: text("code"),
        message: text("error"),
    })
}

struct ProviderState {
    key: SigningKeyPair,
    issuer: String,
    config: ProviderConfig,
    accounts: Mutex<BTreeSet<String>>,
    /// Vault entries by user id (opaque text, wiped on drop).
    vaults: Mutex<BTreeMap<String, Zeroizing<String>>>,
    /// Outstanding sign-in codes by user id.
    signin_codes: Mutex<BTreeMap<String, signin::PendingCode>>,
    signups: AtomicU64,
    vault_writes: AtomicU64,
    token_requests: AtomicU64,
    tokens_issued: AtomicU64,
}

fn lock_accounts(state: &ProviderState) -> std::sync::MutexGuard<'_, BTreeSet<String>> {
    lock(&state.accounts)
}

fn lock<T>(value: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    value
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

impl IntoResponse for ProviderError {
    fn into_response(self) -> Response {
        let body = json!({ "code": self.code(), "error": self.to_string() });
        (self.status(), Json(body)).into_response()
    }
}

#[derive(Serialize, Deserialize)]
struct Claims {
    iss: String,
    sub: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    aud: Option<String>,
    iat: u64,
    exp: u64,
}

async fn jwks(State(state): State<Arc<ProviderState>>) -> Response {
    let body = json!({ "keys": [state.key.jwk()] });
    ([(header::CACHE_CONTROL, "max-age=300")], Json(body)).into_response()
}

#[derive(Deserialize)]
struct SignupRequest {
    #[serde(default)]
    proof: Option<String>,
}

async fn signup(State(state): State<Arc<ProviderState>>, body: Body) -> Response {
    match signup_inner(&state, body).await {
        Ok(issued) => Json(issued).into_response(),
        Err(error) => error.into_response(),
    }
}

async fn signup_inner(state: &ProviderState, body: Body) -> Result<IssuedToken, ProviderError> {
    let bytes = Zeroizing::new(read_body(body).await?);
    let request: SignupRequest = serde_json::from_slice(&bytes)
        .map_err(|e| ProviderError::MalformedRequest(e.to_string()))?;
    let proof = Zeroizing::new(request.proof.unwrap_or_default());
    if proof.trim().is_empty() {
        return Err(ProviderError::ProofRequired);
    }
    let verdict = verify_local_first_identity_proof(
        &proof,
        &state.config.proof_audience,
        state.config.clock.as_ref(),
    );
    let user_id = match (verdict.ok, verdict.id) {
        (true, Some(id)) => id,
        _ => {
            return Err(ProviderError::ProofInvalid {
                code: verdict.code.unwrap_or(Code::Invalid).as_str().to_owned(),
                reason: verdict.error.unwrap_or_default(),
            })
        }
    };
    let issued = state.issue(&user_id)?;
    lock_accounts(state).insert(user_id);
    state.signups.fetch_add(1, Ordering::SeqCst);
    Ok(issued)
}

async fn token(State(state): State<Arc<ProviderState>>, headers: HeaderMap) -> Response {
    state.token_requests.fetch_add(1, Ordering::SeqCst);
    match token_inner(&state, &headers) {
        Ok(issued) => {
            state.tokens_issued.fetch_add(1, Ordering::SeqCst);
            Json(issued).into_response()
        }
        Err(error) => error.into_response(),
    }
}

fn token_inner(state: &ProviderState, headers: &HeaderMap) -> Result<IssuedToken, ProviderError> {
    let claims = state.check_own_token(bearer(headers)?)?;
    if !lock_accounts(state).contains(&claims.sub) {
        return Err(ProviderError::UnknownAccount);
    }
    state.issue(&claims.sub)
}

/// The bearer token of a request.
fn bearer(headers: &HeaderMap) -> Result<&str, ProviderError> {
    headers
        .get(header::AUTHORIZATION)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.strip_prefix("Bearer "))
        .map(str::trim)
        .filter(|token| !token.is_empty())
        .ok_or(ProviderError::MissingToken)
}

async fn read_body(body: Body) -> Result<Vec<u8>, ProviderError> {
    match axum::body::to_bytes(body, MAX_REQUEST_BODY_BYTES).await {
        Ok(bytes) => Ok(bytes.to_vec()),
        Err(error) => {
            let too_large = std::error::Error::source(&error)
                .is_some_and(|source| source.to_string().contains("length limit"));
            if too_large || error.to_string().contains("length limit") {
                Err(ProviderError::BodyTooLarge)
            } else {
                Err(ProviderError::MalformedRequest(error.to_string()))
            }
        }
    }
}

impl ProviderState {
    fn issue(&self, user_id: &str) -> Result<IssuedToken, ProviderError> {
        let now = self.config.clock.now_unix();
        let exp = now.saturating_add(self.config.token_ttl_seconds);
        let claims = Claims {
            iss: self.issuer.clone(),
            sub: user_id.to_owned(),
            aud: self.config.token_audience.clone(),
            iat: now,
            exp,
        };
        let mut header = Header::new(Algorithm::ES256);
        header.kid = Some(self.key.kid.clone());
        let token = jsonwebtoken::encode(&header, &claims, &self.key.encoding)
            .map_err(|e| ProviderError::Signing(e.to_string()))?;
        Ok(IssuedToken {
            user_id: user_id.to_owned(),
            token,
            expires_at: exp,
        })
    }

    /// The user id of a live (unexpired) JWT this provider issued, for a known
    /// account: what the vault endpoints accept.
    fn signed_in_user(&self, headers: &HeaderMap) -> Result<String, ProviderError> {
        let claims = self.check_own_token(bearer(headers)?)?;
        if self.config.clock.now_unix() >= claims.exp {
            return Err(ProviderError::TokenInvalid(
                "the token has expired; refresh it first".to_owned(),
            ));
        }
        if !lock_accounts(self).contains(&claims.sub) {
            return Err(ProviderError::UnknownAccount);
        }
        Ok(claims.sub)
    }

    /// Signature, issuer and refresh window of a JWT this provider issued.
    fn check_own_token(&self, token: &str) -> Result<Claims, ProviderError> {
        let invalid = |reason: &str| ProviderError::TokenInvalid(reason.to_owned());
        let mut validation = Validation::new(Algorithm::ES256);
        validation.validate_exp = false;
        validation.validate_aud = false;
        validation.required_spec_claims = ["exp", "sub", "iss"]
            .iter()
            .map(|claim| (*claim).to_owned())
            .collect();
        validation.set_issuer(&[self.issuer.as_str()]);
        let data = jsonwebtoken::decode::<Claims>(token, &self.key.decoding, &validation)
            .map_err(|e| ProviderError::TokenInvalid(e.to_string()))?;
        if data.header.kid.as_deref() != Some(self.key.kid.as_str()) {
            return Err(invalid("unknown key id"));
        }
        let now = self.config.clock.now_unix();
        let limit = data
            .claims
            .exp
            .saturating_add(self.config.refresh_window_seconds);
        if now >= limit {
            return Err(invalid("the token is past its refresh window"));
        }
        Ok(data.claims)
    }
}

/// The provider's ES256 key pair, made fresh at start.
struct SigningKeyPair {
    kid: String,
    x: String,
    y: String,
    encoding: EncodingKey,
    decoding: DecodingKey,
}

impl SigningKeyPair {
    fn generate() -> Result<SigningKeyPair, ProviderError> {
        let key_error = |reason: &str| ProviderError::Key(reason.to_owned());
        let secret = loop {
            let mut bytes = Zeroizing::new([0u8; 32]);
            getrandom::getrandom(bytes.as_mut())
                .map_err(|_| key_error("the system random source failed"))?;
            // A random 256-bit value is a valid scalar except with negligible odds.
            if let Ok(secret) = p256::SecretKey::from_slice(bytes.as_ref()) {
                break secret;
            }
        };
        let der = secret
            .to_pkcs8_der()
            .map_err(|e| ProviderError::Key(e.to_string()))?;
        let point = secret.public_key().to_sec1_bytes();
        // Uncompressed SEC1: 0x04 || x (32 bytes) || y (32 bytes).
        let (Some(x), Some(y)) = (point.get(1..33), point.get(33..65)) else {
            return Err(key_error("unexpected public key encoding"));
        };
        let x = URL_SAFE_NO_PAD.encode(x);
        let y = URL_SAFE_NO_PAD.encode(y);
        let decoding = DecodingKey::from_ec_components(&x, &y)
            .map_err(|e| ProviderError::Key(e.to_string()))?;
        let mut kid_bytes = [0u8; 8];
        getrandom::getrandom(&mut kid_bytes)
            .map_err(|_| key_error("the system random source failed"))?;
        Ok(SigningKeyPair {
            kid: format!("demo-{}", URL_SAFE_NO_PAD.encode(kid_bytes)),
            x,
            y,
            encoding: EncodingKey::from_ec_der(der.as_bytes()),
            decoding,
        })
    }

    fn jwk(&self) -> Value {
        json!({
            "kty": "EC",
            "crv": "P-256",
            "x": self.x,
            "y": self.y,
            "kid": self.kid,
            "alg": "ES256",
            "use": "sig",
        })
    }
}
