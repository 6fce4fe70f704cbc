//! The sync server's session resolution for a Node backend: the same
//! `localfirst_auth::SessionResolver`, fed a header map built from the
//! request's headers.

use std::collections::HashMap;
use std::sync::Arc;

use http::header::{HeaderMap, HeaderName, HeaderValue};
use localfirst_auth::external::{
    ExternalAuthConfig, ExternalAuthError, ExternalKeySource, ExternalVerifier, JwksOptions,
};
use localfirst_auth::{Resolved, SessionResolver as ServerResolver, SharedSecret};
use localfirst_core::clock::{Clock, SystemClock};
use localfirst_core::{Code, ErrorCode as _};
use napi::bindgen_prelude::{Either, PromiseRaw, Unknown};
use napi::Env;
use napi_derive::napi;
use serde_json::{Map, Value};

use crate::args::object;
use crate::error::{invalid_argument, to_js_seconds, with_code, Failure, OrThrow as _, Result};

/// How a backend resolves requests into sessions. The order is fixed (first match
/// wins): backend impersonation (`X-Jazz-Backend-Secret` + `X-Jazz-Session`),
/// self-signed bearer token, external bearer token (JWT), none.
#[napi(object)]
#[derive(Default)]
pub struct SessionResolverConfig {
    /// The app id: the audience self-signed tokens must carry.
    pub app_id: String,
    /// Accept local-first tokens (default `false`: they are refused with `disabled`).
    pub allow_local_first: Option<bool>,
    /// The secret that lets a trusted backend act as any user, at least 16 bytes (none:
    /// impersonation is refused with `disabled`).
    pub backend_secret: Option<String>,
    /// JWKS endpoint of the external identity provider (`https://`, or `http://` on
    /// a loopback host). Not together with `jwtPublicKey`.
    pub jwks_url: Option<String>,
    /// One static public key of the provider: JWK JSON, a JWK set, or PEM.
    pub jwt_public_key: Option<String>,
    /// Accepted `iss` of external JWTs (one or several); required with `jwksUrl` or
    /// `jwtPublicKey` unless `insecureSkipIssuerCheck`.
    #[napi(ts_type = "string | string[]")]
    pub jwt_issuer: Option<Either<String, Vec<String>>>,
    /// Accepted `aud` of external JWTs (one or several); required with `jwksUrl` or
    /// `jwtPublicKey` unless `insecureSkipAudienceCheck`.
    #[napi(ts_type = "string | string[]")]
    pub jwt_audience: Option<Either<String, Vec<String>>>,
    /// INSECURE: accept external JWTs of any issuer whose key is trusted.
    pub insecure_skip_issuer_check: Option<bool>,
    /// INSECURE: accept external JWTs issued for any audience (other apps too).
    pub insecure_skip_audience_check: Option<bool>,
}

/// A resolved session.
#[napi(object)]
pub struct ResolvedSession {
    /// Who acts: the token's `sub`, or the impersonated user id.
    pub user_id: String,
    /// How the session authenticated.
    #[napi(ts_type = "'local-first' | 'anonymous' | 'external'")]
    pub mode: String,
    /// The token's claims (for impersonation, the claims the backend sent).
    #[napi(ts_type = "Record<string, unknown>")]
    pub claims: Map<String, Value>,
    /// When the credential stops being valid (`exp`, Unix seconds), if it is a token.
    pub expires_at: Option<i64>,
}

/// Resolves requests' credentials into sessions, exactly as the sync server does.
#[napi]
pub struct SessionResolver {
    inner: Arc<ServerResolver>,
}

#[napi]
impl SessionResolver {
    /// A resolver for `config`. Fails with `invalid-config` for a blank app id, both
    /// `jwksUrl` and `jwtPublicKey`, or external keys without `jwtIssuer` and
    /// `jwtAudience` (unless the matching `insecureSkip...Check` is set);
    /// `shared-secret-too-short` for a backend secret under 16 bytes; `invalid-jwks-url`,
    /// `invalid-key` or `empty-key-set` for an unusable provider key.
    #[napi(constructor, ts_args_type = "config: SessionResolverConfig")]
    pub fn new(env: &Env, config: Unknown) -> napi::Result<SessionResolver> {
        resolver(config).or_throw(env)
    }

    /// Resolves a request's headers (Node's `req.headers`: names in any case,
    /// values strings or arrays of strings). Rejects with an `Error` whose `code` is
    /// `missing` (no credential), `expired`, `invalid`, `disabled` (that way in is
    /// turned off) or `invalid-argument` (a header that is not valid HTTP, or
    /// `headers` not an object of strings).
    #[napi(
        ts_args_type = "headers: Record<string, string | Array<string> | undefined | null>",
        ts_return_type = "Promise<ResolvedSession>"
    )]
    pub fn resolve<'env>(
        &self,
        env: &'env Env,
        headers: Unknown,
    ) -> napi::Result<PromiseRaw<'env, ResolvedSession>> {
        let resolver = Arc::clone(&self.inner);
        let headers = object::<Headers>(headers, "headers").and_then(header_map);
        env.spawn_future_with_callback(
            async move {
                let outcome = match headers {
                    Ok(headers) => resolver
                        .resolve(&headers)
                        .await
                        .map_err(|rejected| with_code(rejected.failure.code(), rejected.message)),
                    Err(error) => Err(error),
                };
                Ok(outcome)
            },
            |env, outcome| outcome.map(session).map_err(|error| error.thrown(env)),
        )
    }
}

/// `SessionResolver`'s config checked, then the server's resolver built from it.
fn resolver(config: Unknown) -> Result<SessionResolver> {
    let config: SessionResolverConfig = object(config, "config")?;
    if config.app_id.trim().is_empty() {
        return Err(with_code(Code::InvalidConfig, "appId must not be blank"));
    }
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    let source = match (config.jwks_url, config.jwt_public_key) {
        (Some(_), Some(_)) => {
            return Err(with_code(
                Code::InvalidConfig,
                "set jwksUrl or jwtPublicKey, not both",
            ))
        }
        (Some(url), None) => Some(ExternalKeySource::Jwks {
            url,
            options: JwksOptions::default(),
        }),
        (None, Some(key)) => Some(ExternalKeySource::Static { key }),
        (None, None) => None,
    };
    let external = source
        .map(|keys| {
            let expected = ExternalAuthConfig {
                keys,
                issuers: values(config.jwt_issuer),
                audiences: values(config.jwt_audience),
                insecure_skip_issuer_check: config.insecure_skip_issuer_check == Some(true),
                insecure_skip_audience_check: config.insecure_skip_audience_check == Some(true),
            };
            ExternalVerifier::new(expected, Arc::clone(&clock))
        })
        .transpose()
        .map_err(|error| match error {
            ExternalAuthError::ChecksNotConfigured { .. } => with_code(
                error.code(),
                format!("{error}; set jwtIssuer and jwtAudience"),
            ),
            other => Failure::from(other),
        })?;
    let backend_secret = config
        .backend_secret
        .map(SharedSecret::new)
        .transpose()
        .map_err(|e| with_code(e.code(), format!("backendSecret: {e}")))?;
    Ok(SessionResolver {
        inner: Arc::new(ServerResolver::new(
            &config.app_id,
            config.allow_local_first.unwrap_or(false),
            backend_secret,
            external,
            clock,
        )),
    })
}

/// One value or a list, as a list.
fn values(given: Option<Either<String, Vec<String>>>) -> Vec<String> {
    match given {
        None => Vec::new(),
        Some(Either::A(one)) => vec![one],
        Some(Either::B(many)) => many,
    }
}

fn session(resolved: Resolved) -> ResolvedSession {
    ResolvedSession {
        user_id: resolved.session.user_id,
        mode: resolved.session.auth_mode.as_str().to_owned(),
        claims: resolved.session.claims,
        expires_at: resolved.expires_at.map(to_js_seconds),
    }
}

/// Node's header object (`req.headers`).
type Headers = HashMap<String, Option<Either<String, Vec<String>>>>;

/// Node's header object as an HTTP header map. `undefined` values are skipped; an
/// array gives one header line per element.
fn header_map(headers: Headers) -> Result<HeaderMap> {
    let mut map = HeaderMap::new();
    for (name, value) in headers {
        let values = match value {
            None => continue,
            Some(Either::A(one)) => vec![one],
            Some(Either::B(many)) => many,
        };
        let header = HeaderName::from_bytes(name.as_bytes())
            .map_err(|_| invalid_argument(format!("{name:?} is not a valid header name")))?;
        for value in values {
            let value = HeaderValue::from_str(&value).map_err(|_| {
                invalid_argument(format!("the value of header {name:?} is not valid"))
            })?;
            map.append(header.clone(), value);
        }
    }
    Ok(map)
}
