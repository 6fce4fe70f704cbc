//! The client auth state machine: pure, no I/O, no clock reads.
//!
//! A [`Db`](crate::db::Db) owns one [`AuthMachine`]. The machine knows the
//! principal the `Db` was opened for and the credential it currently holds (a
//! self-signed identity, an external JWT, or a mirrored cookie session), and it
//! turns [`AuthEvent`]s into a new [`AuthState`]:
//!
//! ```text
//!                  open(config)
//!                       |
//!        +--------------+-------------------+
//!        v              v                   v
//!   anonymous      local-first          external (jwt | cookie)
//!        \              |                   /
//!         +-------------+------------------+
//!                       |
//!                       v
//!          Healthy { session, error: none }
//!             |                      ^
//!   ServerRejected{code}             | JwtUpdated(same sub, new token)
//!             v                      | CookieSessionUpdated(same user)
//!          Failing { last session,   | ServerAccepted
//!                    error: code } --+
//! ```
//!
//! Rules:
//!
//! * The principal is fixed for the life of a `Db`. [`AuthEvent::JwtUpdated`]
//!   with another `sub`, or `None` while signed in, is refused with
//!   [`AuthError::PrincipalChange`] ("recreate the Db"); so is any change of
//!   credential kind. [`AuthEvent::CookieSessionUpdated`] follows the same rule.
//! * The same token (or cookie session) again is a no-op: `changed == false`.
//! * A server rejection sets `error` and keeps the last session; a fresh token
//!   for the same principal, or [`AuthEvent::ServerAccepted`], clears it.
//! * `changed` is `true` exactly when the observable [`AuthState`] differs, so a
//!   listener is called once per real change and never for a no-op.
//!
//! External JWTs are decoded *without* verification: only the server can check
//! their signature. The session's `user_id` is the JWT's `sub`, verbatim.
//!
//! Helpers for the rest of the client: [`should_sync`] (the `sync_when` gate) and
//! [`remint_due`] (local-first tokens are re-minted at 80 % of their lifetime).

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::error::{Code, ErrorCode};
use crate::session::{AuthMode, Session};
use crate::token;

/// Why the server refused the current credential. Shown as `error` in [`AuthState`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AuthFailure {
    /// The token expired; the app should supply a fresh one for the same user.
    Expired,
    /// The server needed a credential and got none.
    Missing,
    /// The credential was malformed, forged or otherwise refused.
    Invalid,
    /// This kind of auth is disabled on the server (e.g. local-first not allowed).
    Disabled,
}

impl AuthFailure {
    /// The wire name: `expired`, `missing`, `invalid` or `disabled`.
    pub fn as_str(self) -> &'static str {
        match self {
            AuthFailure::Expired => "expired",
            AuthFailure::Missing => "missing",
            AuthFailure::Invalid => "invalid",
            AuthFailure::Disabled => "disabled",
        }
    }

    /// Maps a server rejection code: `expired`, `missing` and `disabled` map to
    /// themselves, anything else is `invalid`.
    pub fn from_server_code(code: &str) -> AuthFailure {
        match code {
            "expired" => AuthFailure::Expired,
            "missing" => AuthFailure::Missing,
            "disabled" => AuthFailure::Disabled,
            _ => AuthFailure::Invalid,
        }
    }
}

impl ErrorCode for AuthFailure {
    fn code(&self) -> Code {
        match self {
            AuthFailure::Expired => Code::Expired,
            AuthFailure::Missing => Code::Missing,
            AuthFailure::Invalid => Code::Invalid,
            AuthFailure::Disabled => Code::Disabled,
        }
    }
}

impl std::fmt::Display for AuthFailure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The flat auth snapshot an app reads and listens to.
///
/// `session` is kept while `error` is set, so user-scoped UI and local authorship
/// stay stable while the app refreshes its token.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AuthState {
    /// How this `Db` authenticates.
    pub auth_mode: AuthMode,
    /// The current (or last known) session.
    pub session: Option<Session>,
    /// Set while the server refuses the credential.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<AuthFailure>,
}

/// The session mirrored from a cookie session: the app tells the `Db` whose it is
/// and, for sync, hands over the cookie's value (a JWT the server verifies) that
/// its HTTP stack received: native WebSocket clients have no browser cookie jar.
/// Without a cookie value the `Db` works locally but has no sync credential.
#[derive(Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CookieSession {
    /// The user id (the `sub` the server will see).
    pub user_id: String,
    /// Claims to expose to policies.
    #[serde(default)]
    pub claims: Map<String, Value>,
    /// The cookie's value, sent as `Cookie: localfirst-token=<value>`; never
    /// serialised, never printed.
    #[serde(skip)]
    cookie: Option<zeroize::Zeroizing<String>>,
}

impl CookieSession {
    /// A cookie session with no claims and no cookie value.
    pub fn new(user_id: impl Into<String>) -> CookieSession {
        CookieSession {
            user_id: user_id.into(),
            claims: Map::new(),
            cookie: None,
        }
    }

    /// The same session carrying the cookie's value for the sync connection.
    pub fn with_cookie(mut self, value: impl Into<String>) -> CookieSession {
        self.cookie = Some(zeroize::Zeroizing::new(value.into()));
        self
    }

    /// The cookie's value, if the app handed one over.
    pub fn cookie(&self) -> Option<&str> {
        self.cookie.as_deref().map(String::as_str)
    }
}

impl std::fmt::Debug for CookieSession {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CookieSession")
            .field("user_id", &self.user_id)
            .field("claims", &self.claims)
            .field("cookie", &self.cookie.as_ref().map(|_| "<redacted>"))
            .finish()
    }
}

/// Something that happened to the client's credential.
#[derive(Clone, PartialEq)]
pub enum AuthEvent {
    /// The app called `update_auth_token` (a fresh JWT, or `None`).
    JwtUpdated(Option<String>),
    /// The app called `update_cookie_session`.
    CookieSessionUpdated(Option<CookieSession>),
    /// The server refused the credential.
    ServerRejected {
        /// Why.
        code: AuthFailure,
    },
    /// The server accepted the credential again (clears `error`).
    ServerAccepted,
}

impl std::fmt::Debug for AuthEvent {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            AuthEvent::JwtUpdated(token) => f
                .debug_tuple("JwtUpdated")
                .field(&token.as_ref().map(|_| "<redacted>"))
                .finish(),
            AuthEvent::CookieSessionUpdated(session) => f
                .debug_tuple("CookieSessionUpdated")
                .field(session)
                .finish(),
            AuthEvent::ServerRejected { code } => f
                .debug_struct("ServerRejected")
                .field("code", code)
                .finish(),
            AuthEvent::ServerAccepted => f.write_str("ServerAccepted"),
        }
    }
}

/// Which change of principal [`AuthError::PrincipalChange`] refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum PrincipalChangeKind {
    /// Clearing the bearer token would sign out.
    TokenCleared,
    /// The new bearer token is for another user.
    TokenForOtherUser,
    /// A self-signed session was given a bearer token.
    SelfSignedToToken,
    /// A cookie-backed session was given a bearer token.
    CookieToToken,
    /// Clearing the cookie session would sign out.
    CookieCleared,
    /// The new cookie session is for another user.
    CookieForOtherUser,
    /// A self-signed session was given a cookie session.
    SelfSignedToCookie,
    /// A bearer-token session was given a cookie session.
    TokenToCookie,
}

impl std::fmt::Display for PrincipalChangeKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            PrincipalChangeKind::TokenCleared => "clearing the token signs out",
            PrincipalChangeKind::TokenForOtherUser => "the token is for another user",
            PrincipalChangeKind::SelfSignedToToken => {
                "a self-signed session cannot switch to an external token"
            }
            PrincipalChangeKind::CookieToToken => {
                "a cookie-backed session cannot switch to a bearer token"
            }
            PrincipalChangeKind::CookieCleared => "clearing the cookie session signs out",
            PrincipalChangeKind::CookieForOtherUser => "the cookie session is for another user",
            PrincipalChangeKind::SelfSignedToCookie => {
                "a self-signed session cannot switch to a cookie session"
            }
            PrincipalChangeKind::TokenToCookie => {
                "a bearer-token session cannot switch to a cookie session"
            }
        })
    }
}

/// Why an [`AuthEvent`] was refused. The state is unchanged when this is returned.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum AuthError {
    /// The event would change who the `Db` acts as. Recreate the `Db` instead.
    #[error("the principal of a Db is fixed ({current} -> {}): {detail}; recreate the Db with the new auth config", requested.as_deref().unwrap_or("<none>"))]
    PrincipalChange {
        /// The current user id.
        current: String,
        /// The user id the event asked for (`None` for a sign-out).
        requested: Option<String>,
        /// What kind of change was refused.
        detail: PrincipalChangeKind,
    },
    /// An external token that cannot be decoded or has no `sub`.
    #[error("invalid external token: {reason}")]
    InvalidToken {
        /// What is wrong (never the token itself).
        reason: String,
    },
    /// A cookie session with an empty user id.
    #[error("invalid cookie session: {reason}")]
    InvalidCookieSession {
        /// What is wrong.
        reason: String,
    },
}

impl ErrorCode for AuthError {
    fn code(&self) -> Code {
        match self {
            AuthError::PrincipalChange { .. } => Code::PrincipalChange,
            AuthError::InvalidToken { .. } => Code::InvalidToken,
            AuthError::InvalidCookieSession { .. } => Code::InvalidCookieSession,
        }
    }
}

/// The outcome of applying an event.
#[derive(Debug, Clone, PartialEq)]
pub struct Transition {
    /// The state after the event.
    pub state: AuthState,
    /// Whether the observable state differs from before (listeners fire only then).
    pub changed: bool,
}

/// The credential the machine holds.
#[derive(Clone, PartialEq)]
enum Credential {
    /// Self-signed tokens minted by the client (anonymous or local-first).
    SelfSigned,
    /// A bearer JWT from an external provider.
    Jwt(String),
    /// A mirrored cookie session.
    Cookie(CookieSession),
}

/// The pure auth state machine of one `Db`.
#[derive(Clone)]
pub struct AuthMachine {
    state: AuthState,
    credential: Credential,
}

impl std::fmt::Debug for AuthMachine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let credential = match &self.credential {
            Credential::SelfSigned => "self-signed",
            Credential::Jwt(_) => "jwt(<redacted>)",
            Credential::Cookie(_) => "cookie",
        };
        f.debug_struct("AuthMachine")
            .field("state", &self.state)
            .field("credential", &credential)
            .finish()
    }
}

/// Decodes an external JWT into a session (claims unverified; `sub` required and a usable
/// user id by [`session::user_id_from`](crate::session::user_id_from), the rule the server
/// applies, so both sides see the same trimmed id; at most
/// [`token::MAX_EXTERNAL_TOKEN_LEN`] bytes; a duplicated claim is refused as by the
/// self-signed verifier).
pub fn session_from_jwt(jwt: &str) -> Result<Session, AuthError> {
    let claims = token::decode_claims_unverified(jwt).map_err(|e| AuthError::InvalidToken {
        reason: e.to_string(),
    })?;
    let sub = match claims.get("sub") {
        Some(Value::String(sub)) => crate::session::user_id_from(sub)
            .map_err(|e| AuthError::InvalidToken {
                reason: format!("the sub claim is not a usable user id: {e}"),
            })?
            .to_owned(),
        Some(_) => {
            return Err(AuthError::InvalidToken {
                reason: "the sub claim must be a string".into(),
            })
        }
        None => {
            return Err(AuthError::InvalidToken {
                reason: "the token has no sub claim".into(),
            })
        }
    };
    Ok(Session::new(sub, AuthMode::External).with_claims(claims))
}

fn session_from_cookie(cookie: &CookieSession) -> Result<Session, AuthError> {
    let user_id = crate::session::user_id_from(&cookie.user_id).map_err(|e| {
        AuthError::InvalidCookieSession {
            reason: e.to_string(),
        }
    })?;
    Ok(Session::new(user_id, AuthMode::External).with_claims(cookie.claims.clone()))
}

impl AuthMachine {
    /// A machine for an anonymous session with an ephemeral user id.
    pub fn anonymous(user_id: impl Into<String>) -> AuthMachine {
        AuthMachine::self_signed(user_id.into(), AuthMode::Anonymous)
    }

    /// A machine for a local-first session.
    pub fn local_first(user_id: impl Into<String>) -> AuthMachine {
        AuthMachine::self_signed(user_id.into(), AuthMode::LocalFirst)
    }

    fn self_signed(user_id: String, mode: AuthMode) -> AuthMachine {
        AuthMachine {
            state: AuthState {
                auth_mode: mode,
                session: Some(Session::new(user_id, mode)),
                error: None,
            },
            credential: Credential::SelfSigned,
        }
    }

    /// A machine for an external JWT (decoded without verification).
    pub fn external_jwt(jwt: &str) -> Result<AuthMachine, AuthError> {
        let session = session_from_jwt(jwt)?;
        Ok(AuthMachine {
            state: AuthState {
                auth_mode: AuthMode::External,
                session: Some(session),
                error: None,
            },
            credential: Credential::Jwt(jwt.to_owned()),
        })
    }

    /// A machine for an external cookie session.
    pub fn external_cookie(cookie: CookieSession) -> Result<AuthMachine, AuthError> {
        let session = session_from_cookie(&cookie)?;
        Ok(AuthMachine {
            state: AuthState {
                auth_mode: AuthMode::External,
                session: Some(session),
                error: None,
            },
            credential: Credential::Cookie(cookie),
        })
    }

    /// The current state.
    pub fn state(&self) -> &AuthState {
        &self.state
    }

    /// The current bearer JWT, for external JWT sessions.
    pub fn jwt(&self) -> Option<&str> {
        match &self.credential {
            Credential::Jwt(jwt) => Some(jwt),
            _ => None,
        }
    }

    /// The current cookie session, for cookie-backed sessions.
    pub fn cookie_session(&self) -> Option<&CookieSession> {
        match &self.credential {
            Credential::Cookie(cookie) => Some(cookie),
            _ => None,
        }
    }

    fn current_user(&self) -> String {
        self.state
            .session
            .as_ref()
            .map(|s| s.user_id.clone())
            .unwrap_or_default()
    }

    fn principal_change(
        &self,
        requested: Option<String>,
        detail: PrincipalChangeKind,
    ) -> AuthError {
        AuthError::PrincipalChange {
            current: self.current_user(),
            requested,
            detail,
        }
    }

    /// Applies `event`. On error the machine is unchanged.
    pub fn apply(&mut self, event: AuthEvent) -> Result<Transition, AuthError> {
        let before = self.state.clone();
        match event {
            AuthEvent::JwtUpdated(jwt) => self.apply_jwt(jwt)?,
            AuthEvent::CookieSessionUpdated(cookie) => self.apply_cookie(cookie)?,
            AuthEvent::ServerRejected { code } => self.state.error = Some(code),
            AuthEvent::ServerAccepted => self.state.error = None,
        }
        Ok(Transition {
            changed: self.state != before,
            state: self.state.clone(),
        })
    }

    fn apply_jwt(&mut self, jwt: Option<String>) -> Result<(), AuthError> {
        let Some(jwt) = jwt else {
            if self.state.auth_mode == AuthMode::Anonymous {
                // Not signed in: clearing a token that was never there is a no-op.
                return Ok(());
            }
            return Err(self.principal_change(None, PrincipalChangeKind::TokenCleared));
        };
        let session = session_from_jwt(&jwt)?;
        match &self.credential {
            Credential::Jwt(current) => {
                if session.user_id != self.current_user() {
                    return Err(self.principal_change(
                        Some(session.user_id),
                        PrincipalChangeKind::TokenForOtherUser,
                    ));
                }
                if *current == jwt {
                    return Ok(());
                }
                self.credential = Credential::Jwt(jwt);
                self.state.session = Some(session);
                self.state.error = None;
                Ok(())
            }
            Credential::SelfSigned => Err(self.principal_change(
                Some(session.user_id),
                PrincipalChangeKind::SelfSignedToToken,
            )),
            Credential::Cookie(_) => {
                Err(self
                    .principal_change(Some(session.user_id), PrincipalChangeKind::CookieToToken))
            }
        }
    }

    fn apply_cookie(&mut self, cookie: Option<CookieSession>) -> Result<(), AuthError> {
        let Some(cookie) = cookie else {
            if self.state.auth_mode == AuthMode::Anonymous {
                return Ok(());
            }
            return Err(self.principal_change(None, PrincipalChangeKind::CookieCleared));
        };
        let session = session_from_cookie(&cookie)?;
        match &self.credential {
            Credential::Cookie(current) => {
                if session.user_id != self.current_user() {
                    return Err(self.principal_change(
                        Some(session.user_id),
                        PrincipalChangeKind::CookieForOtherUser,
                    ));
                }
                if *current == cookie {
                    return Ok(());
                }
                self.credential = Credential::Cookie(cookie);
                self.state.session = Some(session);
                self.state.error = None;
                Ok(())
            }
            Credential::SelfSigned => Err(self.principal_change(
                Some(session.user_id),
                PrincipalChangeKind::SelfSignedToCookie,
            )),
            Credential::Jwt(_) => {
                Err(self
                    .principal_change(Some(session.user_id), PrincipalChangeKind::TokenToCookie))
            }
        }
    }
}

/// When network sync may run (`sync_when` in the config).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum SyncWhen {
    /// For every auth mode.
    #[default]
    Always,
    /// Only for external (signed-up) sessions.
    SignedUp,
    /// Never: the data stays local.
    Never,
}

impl SyncWhen {
    /// Parses `always`, `signedUp` / `signed-up` / `signed_up`, or `never`.
    pub fn from_name(name: &str) -> Option<SyncWhen> {
        match name {
            "always" => Some(SyncWhen::Always),
            "signedUp" | "signed-up" | "signed_up" => Some(SyncWhen::SignedUp),
            "never" => Some(SyncWhen::Never),
            _ => None,
        }
    }
}

/// Whether authenticated sync may run now: the `sync_when` gate, and paused while
/// the server refuses the credential (`error` set).
pub fn should_sync(when: SyncWhen, state: &AuthState) -> bool {
    if state.error.is_some() || state.session.is_none() {
        return false;
    }
    match when {
        SyncWhen::Always => true,
        SyncWhen::SignedUp => state.auth_mode == AuthMode::External,
        SyncWhen::Never => false,
    }
}

/// Share of a self-signed token's lifetime after which it is re-minted, in percent.
pub const REMINT_AT_PERCENT: u64 = 80;

/// The time at which a token issued at `issued_at` living `ttl_seconds` is re-minted.
pub fn remint_at(issued_at: u64, ttl_seconds: u64) -> u64 {
    issued_at.saturating_add(ttl_seconds.saturating_mul(REMINT_AT_PERCENT) / 100)
}

/// Whether a self-signed token must be re-minted at `now` (80 % of its lifetime
/// reached, or a clock that moved backwards before its issue time).
pub fn remint_due(issued_at: u64, ttl_seconds: u64, now: u64) -> bool {
    now >= remint_at(issued_at, ttl_seconds) || now < issued_at
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    use base64::Engine as _;
    use serde_json::json;

    fn jwt(claims: Value) -> String {
        format!(
            "{}.{}.sig",
            URL_SAFE_NO_PAD.encode(br#"{"alg":"ES256","typ":"JWT"}"#),
            URL_SAFE_NO_PAD.encode(claims.to_string())
        )
    }

    #[test]
    fn external_session_comes_from_sub_and_claims() {
        let token = jwt(json!({"sub": "alice", "role": "admin", "exp": 10}));
        let machine = AuthMachine::external_jwt(&token).unwrap();
        let session = machine.state().session.clone().unwrap();
        assert_eq!(session.user_id, "alice");
        assert_eq!(session.auth_mode, AuthMode::External);
        assert_eq!(session.claims["role"], "admin");
        assert_eq!(machine.jwt(), Some(token.as_str()));
    }

    #[test]
    fn tokens_without_a_usable_sub_are_refused() {
        for claims in [json!({"role": "x"}), json!({"sub": ""}), json!({"sub": 7})] {
            let err = AuthMachine::external_jwt(&jwt(claims)).unwrap_err();
            assert_eq!(err.code(), "invalid-token");
        }
        assert_eq!(
            AuthMachine::external_jwt("not-a-jwt").unwrap_err().code(),
            "invalid-token"
        );
    }

    #[test]
    fn same_principal_refresh_changes_once_and_same_token_is_a_no_op() {
        let first = jwt(json!({"sub": "alice", "exp": 10}));
        let second = jwt(json!({"sub": "alice", "exp": 20}));
        let mut machine = AuthMachine::external_jwt(&first).unwrap();
        let t = machine
            .apply(AuthEvent::JwtUpdated(Some(second.clone())))
            .unwrap();
        assert!(t.changed);
        assert_eq!(t.state.session.unwrap().claims["exp"], 20);
        let again = machine.apply(AuthEvent::JwtUpdated(Some(second))).unwrap();
        assert!(!again.changed);
    }

    #[test]
    fn other_principal_or_none_is_a_principal_change_and_leaves_state_alone() {
        let first = jwt(json!({"sub": "alice"}));
        let mut machine = AuthMachine::external_jwt(&first).unwrap();
        let before = machine.state().clone();
        let bob = machine
            .apply(AuthEvent::JwtUpdated(Some(jwt(json!({"sub": "bob"})))))
            .unwrap_err();
        assert!(matches!(
            &bob,
            AuthError::PrincipalChange { current, requested: Some(r), .. } if current == "alice" && r == "bob"
        ));
        let none = machine.apply(AuthEvent::JwtUpdated(None)).unwrap_err();
        assert!(matches!(
            none,
            AuthError::PrincipalChange {
                requested: None,
                ..
            }
        ));
        assert_eq!(machine.state(), &before);
        assert_eq!(machine.jwt(), Some(first.as_str()));
    }

    #[test]
    fn self_signed_sessions_cannot_take_tokens() {
        let mut local = AuthMachine::local_first("u1");
        assert_eq!(
            local
                .apply(AuthEvent::JwtUpdated(Some(jwt(json!({"sub": "u1"})))))
                .unwrap_err()
                .code(),
            "principal-change"
        );
        assert_eq!(
            local.apply(AuthEvent::JwtUpdated(None)).unwrap_err().code(),
            "principal-change"
        );
        assert_eq!(
            local
                .apply(AuthEvent::CookieSessionUpdated(None))
                .unwrap_err()
                .code(),
            "principal-change"
        );
        let mut anon = AuthMachine::anonymous("a1");
        assert!(!anon.apply(AuthEvent::JwtUpdated(None)).unwrap().changed);
        assert!(anon
            .apply(AuthEvent::JwtUpdated(Some(jwt(json!({"sub": "a1"})))))
            .is_err());
    }

    #[test]
    fn rejection_keeps_session_and_fresh_token_clears_error() {
        let mut machine = AuthMachine::external_jwt(&jwt(json!({"sub": "alice"}))).unwrap();
        let t = machine
            .apply(AuthEvent::ServerRejected {
                code: AuthFailure::Expired,
            })
            .unwrap();
        assert!(t.changed);
        assert_eq!(t.state.error, Some(AuthFailure::Expired));
        assert_eq!(t.state.session.unwrap().user_id, "alice");
        let repeat = machine
            .apply(AuthEvent::ServerRejected {
                code: AuthFailure::Expired,
            })
            .unwrap();
        assert!(!repeat.changed);
        let fresh = machine
            .apply(AuthEvent::JwtUpdated(Some(jwt(
                json!({"sub": "alice", "n": 2}),
            ))))
            .unwrap();
        assert!(fresh.changed);
        assert_eq!(fresh.state.error, None);
        assert!(!machine.apply(AuthEvent::ServerAccepted).unwrap().changed);
    }

    #[test]
    fn cookie_sessions_follow_the_same_rules() {
        let mut machine = AuthMachine::external_cookie(CookieSession::new("carol")).unwrap();
        assert!(
            !machine
                .apply(AuthEvent::CookieSessionUpdated(Some(CookieSession::new(
                    "carol"
                ))))
                .unwrap()
                .changed
        );
        let mut with_claims = CookieSession::new("carol");
        with_claims.claims.insert("plan".into(), json!("pro"));
        assert!(
            machine
                .apply(AuthEvent::CookieSessionUpdated(Some(with_claims)))
                .unwrap()
                .changed
        );
        assert_eq!(
            machine
                .apply(AuthEvent::CookieSessionUpdated(Some(CookieSession::new(
                    "dave"
                ))))
                .unwrap_err()
                .code(),
            "principal-change"
        );
        assert!(machine
            .apply(AuthEvent::CookieSessionUpdated(None))
            .is_err());
        assert!(machine
            .apply(AuthEvent::JwtUpdated(Some(jwt(json!({"sub": "carol"})))))
            .is_err());
        assert_eq!(
            AuthMachine::external_cookie(CookieSession::new(" "))
                .unwrap_err()
                .code(),
            "invalid-cookie-session"
        );
    }

    #[test]
    fn sync_gate() {
        let local = AuthMachine::local_first("u").state().clone();
        let external = AuthMachine::external_cookie(CookieSession::new("u"))
            .unwrap()
            .state()
            .clone();
        let mut failing = external.clone();
        failing.error = Some(AuthFailure::Expired);
        assert!(should_sync(SyncWhen::Always, &local));
        assert!(!should_sync(SyncWhen::SignedUp, &local));
        assert!(should_sync(SyncWhen::SignedUp, &external));
        assert!(!should_sync(SyncWhen::Never, &external));
        assert!(!should_sync(SyncWhen::Always, &failing));
        assert_eq!(SyncWhen::from_name("signedUp"), Some(SyncWhen::SignedUp));
        assert_eq!(SyncWhen::from_name("sometimes"), None);
    }

    #[test]
    fn remint_schedule_is_eighty_percent() {
        assert_eq!(remint_at(1_000, 3_600), 3_880);
        assert!(!remint_due(1_000, 3_600, 3_879));
        assert!(remint_due(1_000, 3_600, 3_880));
        assert!(remint_due(1_000, 3_600, 999));
    }

    #[test]
    fn failure_codes_and_wire_shape() {
        assert_eq!(
            AuthFailure::from_server_code("expired"),
            AuthFailure::Expired
        );
        assert_eq!(AuthFailure::from_server_code("weird"), AuthFailure::Invalid);
        let state = AuthMachine::local_first("u1").state().clone();
        let json = serde_json::to_value(&state).unwrap();
        assert_eq!(
            json,
            json!({"authMode": "local-first", "session": {"userId": "u1", "claims": {}, "authMode": "local-first"}})
        );
        let event = AuthEvent::JwtUpdated(Some("secret.token.value".into()));
        assert!(!format!("{event:?}").contains("secret"));
    }
}
