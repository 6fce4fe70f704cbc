//! Moving the secret Jazz's own JavaScript store kept (expo-secure-store, key
//! `jazz-auth-secret`, unpadded base64url) into one of our stores, so an app that
//! switches from Jazz keeps its users' identities.
//!
//! The caller does the I/O on Jazz's store (read the value, later delete it);
//! [`import_jazz_secret`] makes every decision in between and says whether the
//! source may go ([`JazzImport::remove_source`]). Nothing is ever lost: a value
//! that is not a secret is refused before our store is touched, a different
//! identity already in our store is never replaced, and the source may only be
//! removed once our store holds the same secret.

use zeroize::Zeroizing;

use crate::identity::Identity;
use crate::secret::Secret;

use super::{place_secret, AuthSecretStore, Placement, StoreError};

/// What [`import_jazz_secret`] found and did.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum JazzImportOutcome {
    /// Jazz's store holds nothing under its key: nothing to import.
    NotFound,
    /// Our store held nothing; Jazz's secret is now stored there and read back.
    Imported {
        /// The imported identity's user id.
        user_id: String,
    },
    /// Our store already held the same secret (an earlier import whose clean-up
    /// of the source did not happen).
    AlreadyImported {
        /// The identity's user id.
        user_id: String,
    },
    /// Our store holds another identity. Nothing was changed and both secrets
    /// stay where they are; the app decides (after asking the user).
    Conflict {
        /// The user id of Jazz's secret.
        user_id: String,
        /// The user id of the secret our store holds.
        existing_user_id: String,
    },
}

/// The result of [`import_jazz_secret`]: what happened, and whether the caller
/// should now delete Jazz's copy.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct JazzImport {
    /// What happened.
    pub outcome: JazzImportOutcome,
    /// `true` exactly when our store holds the very secret Jazz's store holds
    /// ([`JazzImportOutcome::Imported`] and [`JazzImportOutcome::AlreadyImported`]):
    /// deleting Jazz's copy then loses nothing. A failed delete is harmless; the
    /// next import finds [`JazzImportOutcome::AlreadyImported`] and says so again.
    pub remove_source: bool,
}

/// Imports the secret Jazz stored (`jazz_value`, the text read from Jazz's store;
/// `None` when it holds nothing) into `store`.
///
/// 1. `None` → [`JazzImportOutcome::NotFound`].
/// 2. The value is validated first: one that is not a 32-byte secret in strict
///    unpadded base64url is [`StoreError::Corrupted`] (`secret-store-corrupted`);
///    `store` is not touched and the value must be left in place.
/// 3. Inside the store's exclusive section, and with a write that never replaces
///    (the same step as a restore from a vault): our store empty → stored, then
///    read back and compared ([`StoreError::Backend`] if it does not read back:
///    keep the source); the same secret there → already imported; another one →
///    [`JazzImportOutcome::Conflict`] with both user ids.
///
/// Store failures keep their own codes and never count as "empty". Blocks on the
/// store: call it off the UI thread.
pub fn import_jazz_secret(
    store: &dyn AuthSecretStore,
    jazz_value: Option<String>,
) -> Result<JazzImport, StoreError> {
    let Some(text) = jazz_value.map(Zeroizing::new) else {
        return Ok(JazzImport {
            outcome: JazzImportOutcome::NotFound,
            remove_source: false,
        });
    };
    let secret = Secret::parse_base64url(&text).map_err(|e| StoreError::Corrupted {
        reason: format!(
            "the value Jazz stored does not decode ({e}); nothing was imported and it must be \
             left in place"
        ),
    })?;
    let user_id = user_id_of(&secret);
    let (outcome, remove_source) = match place_secret(store, &secret)? {
        Placement::Stored => {
            if store.load_secret()?.as_ref() != Some(&secret) {
                return Err(StoreError::Backend {
                    reason: format!(
                        "the imported secret did not read back from {}; keep Jazz's copy",
                        store.storage_key()
                    ),
                });
            }
            (JazzImportOutcome::Imported { user_id }, true)
        }
        Placement::AlreadyThere => (JazzImportOutcome::AlreadyImported { user_id }, true),
        Placement::Occupied(existing) => (
            JazzImportOutcome::Conflict {
                user_id,
                existing_user_id: user_id_of(&existing),
            },
            false,
        ),
    };
    Ok(JazzImport {
        outcome,
        remove_source,
    })
}

fn user_id_of(secret: &Secret) -> String {
    Identity::from_secret(secret).user_id().to_string()
}
