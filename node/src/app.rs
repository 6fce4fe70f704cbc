//! The core's app-facing operations (`localfirst_core::app`) that Node has beyond its
//! store and token exports, forwarded with the core's names and argument order: the
//! identity-proof mint rule with its default lifetime, and the Jazz secret import.

use localfirst_core::app as core_app;
use localfirst_core::secret_store::JazzImportOutcome;
use napi::bindgen_prelude::Unknown;
use napi::Env;
use napi_derive::napi;

use crate::args::{instance, optional_number, optional_string, string, Instance};
use crate::error::{seconds, OrThrow as _, Result};
use crate::identity::AuthSecret;
use crate::recovery::{core_store, StoreArg};
use crate::token::clock;

/// Mints an identity proof for `audience`, issued now or at `issuedAt` (Unix
/// seconds), living `ttlSeconds` (`null`/`undefined`: the core's default, 60). A
/// lifetime of 0 or over 600 seconds is `invalid-ttl` (a longer proof would be
/// refused by the verifier); a blank audience `invalid-argument`. The backend checks
/// it with `verifyLocalFirstIdentityProof`.
#[napi(
    ts_args_type = "secret: AuthSecret, ttlSeconds: number | undefined | null, audience: string, issuedAt?: number | undefined | null"
)]
pub fn identity_proof_for(
    env: &Env,
    secret: Instance<AuthSecret>,
    ttl_seconds: Option<Unknown>,
    audience: Unknown,
    issued_at: Option<Unknown>,
) -> napi::Result<String> {
    let mint = || -> Result<String> {
        let secret = instance(secret, "secret", "AuthSecret")?;
        let ttl = optional_number(ttl_seconds, "ttlSeconds")?
            .map(|ttl| seconds(ttl, "ttlSeconds"))
            .transpose()?;
        let audience = string(audience, "audience")?;
        let clock = clock(optional_number(issued_at, "issuedAt")?, "issuedAt")?;
        Ok(core_app::identity_proof_for(
            secret.secret(),
            ttl,
            audience,
            clock.as_ref(),
        )?)
    };
    mint().or_throw(env)
}

/// What `importJazzSecret` found and did.
#[napi(object)]
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JazzImport {
    /// `"not-found"` (Jazz's store held nothing), `"imported"`, `"already-imported"`
    /// (our store held the same secret) or `"conflict"` (our store holds another
    /// identity; nothing was changed).
    #[napi(ts_type = "'not-found' | 'imported' | 'already-imported' | 'conflict'")]
    pub outcome: String,
    /// The user id of Jazz's secret (every outcome but `not-found`).
    pub user_id: Option<String>,
    /// `conflict`: the user id of the secret our store holds.
    pub existing_user_id: Option<String>,
    /// `true` exactly when our store holds the very secret Jazz's store holds: only
    /// then may Jazz's copy be deleted.
    pub remove_source: bool,
}

/// Imports the secret Jazz stored (`jazzValue`, the text read from Jazz's store;
/// `null` when it holds nothing) into `store`. A value that is not a secret is
/// `secret-store-corrupted` and `store` is untouched; a store failure keeps its code.
#[napi(
    ts_args_type = "store: MemorySecretStore | FileSecretStore, jazzValue?: string | undefined | null"
)]
pub fn import_jazz_secret(
    env: Env,
    store: StoreArg,
    jazz_value: Option<Unknown>,
) -> napi::Result<JazzImport> {
    let store = core_store(&env, &store)?;
    let import = || -> Result<JazzImport> {
        let jazz_value = optional_string(jazz_value, "jazzValue")?;
        let done = core_app::import_jazz_secret(store, jazz_value)?;
        let (outcome, user_id, existing_user_id) = match done.outcome {
            JazzImportOutcome::NotFound => ("not-found", None, None),
            JazzImportOutcome::Imported { user_id } => ("imported", Some(user_id), None),
            JazzImportOutcome::AlreadyImported { user_id } => {
                ("already-imported", Some(user_id), None)
            }
            JazzImportOutcome::Conflict {
                user_id,
                existing_user_id,
            } => ("conflict", Some(user_id), Some(existing_user_id)),
        };
        Ok(JazzImport {
            outcome: outcome.to_owned(),
            user_id,
            existing_user_id,
            remove_source: done.remove_source,
        })
    };
    import().or_throw(&env)
}
