//! Secret stores: where the account secret lives between app launches.
//!
//! One trait, [`AuthSecretStore`], many backends. A store instance is bound to one
//! [`StorageKey`] (the namespace of one secret), which keeps the trait free of
//! references and generics so the bindings can let Swift, Kotlin and TypeScript
//! implement it too.
//!
//! The rule every backend follows: **a read that fails is never "absent"**. Only a
//! definitive "there is no item" is `Ok(None)`; a locked device, an invalidated key
//! or bytes that do not decode are errors ([`StoreError`]), and
//! [`AuthSecretStoreExt::get_or_create_secret`] propagates them instead of minting a
//! second identity over the first.
//!
//! `get_or_create_secret` is written once, here, for all backends: it runs under the
//! store's [`AuthSecretStore::lock_exclusive`] so concurrent callers (threads, and
//! processes for stores whose lock spans processes) all receive the same secret.
//!
//! Its write goes through [`AuthSecretStore::create_secret`], never through
//! [`AuthSecretStore::save_secret`]: a save *replaces*, and some platforms answer
//! "not found" for an item that exists (a Keychain read in an app prewarmed
//! before the device's first unlock). If that answer were followed by a replacing write,
//! the user's identity would be destroyed. `create_secret` only ever stores a
//! secret where there is none and otherwise returns the one already there.

use std::collections::HashSet;
use std::sync::{Condvar, Mutex, OnceLock};
use std::time::Instant;

use crate::error::{Code, ErrorCode, ErrorReport};
use crate::secret::Secret;

#[cfg(any(test, feature = "testing"))]
pub mod conformance;
pub mod file;
pub(crate) mod fsutil;
mod jazz_import;
pub mod keychain;
// The Java KeyStore store. On Android it is always built; elsewhere only with the
// `jni-store` feature together with `testing` (its desktop profile is a test double).
#[cfg(any(
    target_os = "android",
    all(feature = "jni-store", any(test, feature = "testing"))
))]
pub mod keystore;
pub mod memory;

pub use file::{FileStore, FileStoreOptions};
pub use jazz_import::{import_jazz_secret, JazzImport, JazzImportOutcome};
pub use memory::MemoryStore;

/// The default storage key, shared with Jazz's secret stores.
pub const DEFAULT_STORAGE_KEY: &str = "jazz-auth-secret";

/// Why a secret store operation failed. None of these means "no secret".
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// The store cannot be read right now (device locked, interaction not allowed,
    /// app prewarmed before first unlock). Retry later; do not create a new identity.
    #[error("secret store unavailable: {reason}")]
    Unavailable {
        /// Backend detail, never containing secret material.
        reason: String,
    },
    /// The key protecting the secret is gone (Keystore key deleted or invalidated by a
    /// biometric / lock-screen change). The stored secret cannot be recovered from here.
    #[error("secret store key invalidated: {reason}")]
    KeyInvalidated {
        /// Backend detail.
        reason: String,
    },
    /// Something is stored but it does not decode or decrypt to a 32-byte secret.
    #[error("stored secret is corrupted: {reason}")]
    Corrupted {
        /// Backend detail.
        reason: String,
    },
    /// The process may not read or write the store (file permissions, entitlements).
    #[error("secret store permission denied: {reason}")]
    PermissionDenied {
        /// Backend detail.
        reason: String,
    },
    /// An I/O error other than a permission problem.
    #[error("secret store I/O error: {reason}")]
    Io {
        /// Backend detail.
        reason: String,
    },
    /// Any other backend failure (unexpected status, foreign implementation error).
    #[error("secret store backend error: {reason}")]
    Backend {
        /// Backend detail.
        reason: String,
    },
    /// The store's lock stayed held by another process (or thread) for the whole
    /// wait (the file store's lock timeout). Nothing was read or written.
    #[error("secret store locked: {reason}")]
    Locked {
        /// What stayed locked, and for how long.
        reason: String,
    },
    /// An explicit storage key that is blank or longer than 255 bytes. Nothing was
    /// read or written.
    #[error("an explicit storage key must be 1 to 255 bytes and not blank")]
    InvalidStorageKey,
    /// An explicit storage key together with an app, user or session id
    /// ([`storage_key_for`]): the key would silently win over the ids, so the
    /// combination is refused. Same code as [`StoreError::InvalidStorageKey`].
    #[error("an explicit storage key cannot be combined with an app, user or session id")]
    ExplicitKeyWithParts,
    /// The system random number generator failed while creating a secret; nothing
    /// was stored.
    #[error("the system random number generator failed")]
    Rng,
}

impl ErrorCode for StoreError {
    fn code(&self) -> Code {
        match self {
            StoreError::Unavailable { .. } => Code::SecretStoreUnavailable,
            StoreError::KeyInvalidated { .. } => Code::SecretStoreKeyInvalidated,
            StoreError::Corrupted { .. } => Code::SecretStoreCorrupted,
            StoreError::PermissionDenied { .. } => Code::SecretStorePermissionDenied,
            StoreError::Io { .. } => Code::SecretStoreIo,
            StoreError::Backend { .. } => Code::SecretStoreBackend,
            StoreError::Locked { .. } => Code::SecretStoreLocked,
            StoreError::InvalidStorageKey | StoreError::ExplicitKeyWithParts => {
                Code::InvalidStorageKey
            }
            StoreError::Rng => Code::RngFailure,
        }
    }
}

impl StoreError {
    /// The store error a report stands for: what a secret store written in another
    /// language (Swift, Kotlin, JavaScript) threw, as its code and reason. The code
    /// decides: a store's own code (`secret-store-*`, `invalid-storage-key`,
    /// `rng-failure`) is that failure; any other code is not one a store may report, so
    /// it becomes [`StoreError::Backend`] with the code named in the reason.
    ///
    /// ```
    /// use localfirst_core::error::{Code, ErrorReport};
    /// use localfirst_core::secret_store::StoreError;
    ///
    /// let locked = ErrorReport::new(Code::SecretStoreUnavailable, "device locked");
    /// assert_eq!(
    ///     StoreError::from_report(locked),
    ///     StoreError::Unavailable { reason: "device locked".into() }
    /// );
    /// let odd = StoreError::from_report(ErrorReport::new(Code::VaultTimeout, "late"));
    /// assert_eq!(odd, StoreError::Backend { reason: "[vault-timeout] late".into() });
    /// ```
    pub fn from_report(report: ErrorReport) -> StoreError {
        let reason = report.reason;
        match report.code {
            Code::SecretStoreUnavailable => StoreError::Unavailable { reason },
            Code::SecretStoreKeyInvalidated => StoreError::KeyInvalidated { reason },
            Code::SecretStoreCorrupted => StoreError::Corrupted { reason },
            Code::SecretStorePermissionDenied => StoreError::PermissionDenied { reason },
            Code::SecretStoreIo => StoreError::Io { reason },
            Code::SecretStoreBackend => StoreError::Backend { reason },
            Code::SecretStoreLocked => StoreError::Locked { reason },
            Code::InvalidStorageKey => StoreError::InvalidStorageKey,
            Code::RngFailure => StoreError::Rng,
            other => StoreError::Backend {
                reason: format!("[{other}] {reason}"),
            },
        }
    }
}

impl From<std::io::Error> for StoreError {
    fn from(error: std::io::Error) -> StoreError {
        match error.kind() {
            std::io::ErrorKind::PermissionDenied => StoreError::PermissionDenied {
                reason: error.to_string(),
            },
            _ => StoreError::Io {
                reason: error.to_string(),
            },
        }
    }
}

/// The name under which one secret is stored.
///
/// Default `jazz-auth-secret`; [`StorageKey::namespaced`] appends `:`-joined,
/// trimmed, URI-encoded app id / user id / session id (empty parts dropped);
/// [`StorageKey::explicit`] replaces it entirely.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct StorageKey(String);

impl Default for StorageKey {
    fn default() -> StorageKey {
        StorageKey(DEFAULT_STORAGE_KEY.to_owned())
    }
}

/// Characters `encodeURIComponent` leaves alone: `A-Z a-z 0-9 - _ . ! ~ * ' ( )`.
fn encode_uri_component(part: &str) -> String {
    let mut out = String::with_capacity(part.len());
    for byte in part.bytes() {
        let keep = byte.is_ascii_alphanumeric()
            || matches!(
                byte,
                b'-' | b'_' | b'.' | b'!' | b'~' | b'*' | b'\'' | b'(' | b')'
            );
        if keep {
            out.push(char::from(byte));
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

impl StorageKey {
    /// `jazz-auth-secret[:<app>[:<user>[:<session>]]]`, each part trimmed and URI-encoded,
    /// empty or missing parts dropped.
    ///
    /// When the present parts are a prefix of (app, user, session) the key is Jazz's
    /// positional form (`jazz-auth-secret:my-app:alice`). When a part is missing before
    /// a present one (a user id without an app id, a session id without a user id), the
    /// position no longer tells the kind, so every part is tagged instead:
    /// `jazz-auth-secret:user=alice`, `jazz-auth-secret:app=a:session=s`. URI encoding
    /// turns `=` inside a part into `%3D`, so a tagged key never equals a positional one
    /// and two different combinations never share a key.
    pub fn namespaced(
        app_id: Option<&str>,
        user_id: Option<&str>,
        session_id: Option<&str>,
    ) -> StorageKey {
        let parts: Vec<(&str, Option<String>)> =
            [("app", app_id), ("user", user_id), ("session", session_id)]
                .into_iter()
                .map(|(kind, part)| {
                    let part = part
                        .map(str::trim)
                        .filter(|p| !p.is_empty())
                        .map(encode_uri_component);
                    (kind, part)
                })
                .collect();
        let present = parts.iter().filter(|(_, p)| p.is_some()).count();
        let positional = parts.iter().take(present).all(|(_, p)| p.is_some());
        let mut key = DEFAULT_STORAGE_KEY.to_owned();
        for (kind, part) in parts {
            if let Some(part) = part {
                key.push(':');
                if !positional {
                    key.push_str(kind);
                    key.push('=');
                }
                key.push_str(&part);
            }
        }
        StorageKey(key)
    }

    /// `jazz-auth-secret:<app>`: the key holding an app's secret (Jazz's format), or the
    /// default key when `app_id` is blank. Callers that take the app id from outside
    /// input should refuse a blank one before opening a store.
    pub fn for_app(app_id: &str) -> StorageKey {
        StorageKey::namespaced(Some(app_id), None, None)
    }

    /// A key chosen by the app, used verbatim. Must be non-blank and at most 255 bytes.
    pub fn explicit(key: &str) -> Result<StorageKey, StoreError> {
        if key.trim().is_empty() || key.len() > 255 {
            return Err(StoreError::InvalidStorageKey);
        }
        Ok(StorageKey(key.to_owned()))
    }

    /// The key as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// The storage key an app's store options name, the one rule every shell applies
/// (Node's `storageKeyFor`, the Swift and Kotlin stores, Expo and its test mock).
///
/// * `key` given: used verbatim ([`StorageKey::explicit`]: 1 to 255 bytes, not
///   blank, else [`StoreError::InvalidStorageKey`]). Given together with any id,
///   even a blank one, it is refused with [`StoreError::ExplicitKeyWithParts`]
///   (code `invalid-storage-key` too) instead of silently winning.
/// * otherwise Jazz's namespaced key from the ids ([`StorageKey::namespaced`]:
///   trimmed, URI-encoded, blank ids dropped); no ids at all is the default key
///   `jazz-auth-secret`.
pub fn storage_key_for(
    key: Option<String>,
    app_id: Option<String>,
    user_id: Option<String>,
    session_id: Option<String>,
) -> Result<StorageKey, StoreError> {
    let any_part = app_id.is_some() || user_id.is_some() || session_id.is_some();
    match key {
        Some(_) if any_part => Err(StoreError::ExplicitKeyWithParts),
        Some(key) => StorageKey::explicit(&key),
        None => Ok(StorageKey::namespaced(
            app_id.as_deref(),
            user_id.as_deref(),
            session_id.as_deref(),
        )),
    }
}

impl std::fmt::Display for StorageKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// A place that keeps one secret under one [`StorageKey`].
///
/// Implementations must return `Ok(None)` from [`load_secret`](Self::load_secret)
/// only when the backend definitively reports that nothing is stored.
pub trait AuthSecretStore: Send + Sync {
    /// The key this store instance reads and writes.
    fn storage_key(&self) -> StorageKey;

    /// Reads the secret; `Ok(None)` only when definitively absent.
    fn load_secret(&self) -> Result<Option<Secret>, StoreError>;

    /// Stores `secret`, replacing any previous one.
    fn save_secret(&self, secret: Secret) -> Result<(), StoreError>;

    /// Removes the secret. Clearing an absent secret succeeds.
    fn clear_secret(&self) -> Result<(), StoreError>;

    /// Stores `secret` **only if nothing is stored**, and returns the secret that
    /// is stored afterwards: `secret` itself, or the one found already there.
    /// Never replaces or deletes an existing secret; a read that fails returns its
    /// error.
    ///
    /// Called by [`AuthSecretStoreExt::get_or_create_secret`] inside the exclusive
    /// section, after [`load_secret`](Self::load_secret) returned `Ok(None)`.
    ///
    /// The default reads again and saves only if that read also finds nothing.
    /// That is enough where a read under [`lock_exclusive`](Self::lock_exclusive)
    /// is definitive (memory, Android Keystore envelope). Backends whose "not
    /// found" can be wrong, or that other writers reach without the lock, must
    /// override it with a write that cannot replace (the Keychain: a plain add;
    /// the file store: a rename that refuses to overwrite).
    fn create_secret(&self, secret: Secret) -> Result<Secret, StoreError> {
        if let Some(existing) = self.load_secret()? {
            return Ok(existing);
        }
        self.save_secret(secret.clone())?;
        Ok(secret)
    }

    /// A name for the exclusive section guarding `get_or_create_secret`. Two store
    /// instances that reach the same underlying item must return the same scope.
    fn lock_scope(&self) -> String {
        format!("{}:{}", std::any::type_name::<Self>(), self.storage_key())
    }

    /// Enters the exclusive section for this store's item. The default excludes
    /// other threads of this process; stores shared between processes (the file
    /// store) extend it with a cross-process lock.
    fn lock_exclusive(&self) -> Result<StoreLock, StoreError> {
        Ok(StoreLock::in_process(self.lock_scope()))
    }
}

/// Operations written once for every [`AuthSecretStore`]; cannot be overridden.
pub trait AuthSecretStoreExt: AuthSecretStore {
    /// Returns the stored secret, or creates, stores and returns a new one when the
    /// store definitively holds none. Atomic with respect to other callers of the
    /// same store item; every read error propagates unchanged.
    ///
    /// The new secret is written with [`AuthSecretStore::create_secret`], which
    /// never replaces: if the load wrongly reported absence, the secret already
    /// stored is returned (or an error), never overwritten.
    fn get_or_create_secret(&self) -> Result<Secret, StoreError> {
        let _guard = self.lock_exclusive()?;
        if let Some(existing) = self.load_secret()? {
            return Ok(existing);
        }
        let fresh = Secret::generate().map_err(|_| StoreError::Rng)?;
        self.create_secret(fresh)
    }
}

impl<T: AuthSecretStore + ?Sized> AuthSecretStoreExt for T {}

/// Why an app wants its secret: the one rule every platform applies.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SecretPurpose {
    /// The app is about to write (insert, update, delete, mint a token): the identity
    /// is created and stored if the store definitively holds none.
    Write,
    /// The app only reads: a missing secret stays missing (`Ok(None)`); a read never
    /// creates an identity as a side effect.
    Read,
}

/// The secret an app acts with, from the store bound to the app's key
/// ([`StorageKey::for_app`]): [`SecretPurpose::Write`] is
/// [`AuthSecretStoreExt::get_or_create_secret`] (always `Some`),
/// [`SecretPurpose::Read`] is [`AuthSecretStore::load_secret`].
pub fn app_secret(
    store: &dyn AuthSecretStore,
    purpose: SecretPurpose,
) -> Result<Option<Secret>, StoreError> {
    match purpose {
        SecretPurpose::Write => store.get_or_create_secret().map(Some),
        SecretPurpose::Read => store.load_secret(),
    }
}

/// Where [`place_secret`] left a secret.
#[derive(Debug)]
pub(crate) enum Placement {
    /// The store held nothing; the secret is now stored.
    Stored,
    /// The store already held this very secret.
    AlreadyThere,
    /// The store holds another secret (found by the read, or by the write that
    /// never replaces); nothing was changed.
    Occupied(Secret),
}

/// Stores `secret` only if the store holds none, inside the store's exclusive
/// section, and says what it found: the one rule behind restoring from a vault
/// and importing Jazz's secret. Never replaces; every read error propagates.
pub(crate) fn place_secret(
    store: &dyn AuthSecretStore,
    secret: &Secret,
) -> Result<Placement, StoreError> {
    // As in `get_or_create_secret`: a secret that appeared meanwhile (or that a
    // read wrongly reported absent) is returned by `create_secret`, never replaced.
    let _section = store.lock_exclusive()?;
    if let Some(held) = store.load_secret()? {
        return Ok(if held == *secret {
            Placement::AlreadyThere
        } else {
            Placement::Occupied(held)
        });
    }
    let stored = store.create_secret(secret.clone())?;
    Ok(if stored == *secret {
        Placement::Stored
    } else {
        Placement::Occupied(stored)
    })
}

/// Proof of being inside a store's exclusive section; leaving it on drop.
pub struct StoreLock {
    scope: String,
    extra: Option<Box<dyn Send>>,
}

fn held_scopes() -> &'static (Mutex<HashSet<String>>, Condvar) {
    static HELD: OnceLock<(Mutex<HashSet<String>>, Condvar)> = OnceLock::new();
    HELD.get_or_init(|| (Mutex::new(HashSet::new()), Condvar::new()))
}

impl StoreLock {
    /// Waits until no other thread of this process holds `scope`, then holds it.
    pub fn in_process(scope: String) -> StoreLock {
        let (held, changed) = held_scopes();
        // A poisoned registry only means another thread panicked while holding the
        // registry mutex (never while calling out); its set is still consistent.
        let mut set = held.lock().unwrap_or_else(|p| p.into_inner());
        while set.contains(&scope) {
            set = changed.wait(set).unwrap_or_else(|p| p.into_inner());
        }
        set.insert(scope.clone());
        StoreLock { scope, extra: None }
    }

    /// Like [`in_process`](Self::in_process), but waits at most until `deadline`
    /// (none: without limit); `None` when another thread still holds `scope` then.
    pub fn in_process_until(scope: String, deadline: Option<Instant>) -> Option<StoreLock> {
        let Some(deadline) = deadline else {
            return Some(StoreLock::in_process(scope));
        };
        let (held, changed) = held_scopes();
        let mut set = held.lock().unwrap_or_else(|p| p.into_inner());
        while set.contains(&scope) {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return None;
            }
            set = match changed.wait_timeout(set, left) {
                Ok((set, _)) => set,
                Err(poisoned) => poisoned.into_inner().0,
            };
        }
        set.insert(scope.clone());
        Some(StoreLock { scope, extra: None })
    }

    /// Keeps `guard` (e.g. a cross-process file lock) alive for as long as this lock.
    /// It is released before the in-process part.
    pub fn with_guard(mut self, guard: Box<dyn Send>) -> StoreLock {
        self.extra = Some(guard);
        self
    }
}

impl Drop for StoreLock {
    fn drop(&mut self) {
        drop(self.extra.take());
        let (held, changed) = held_scopes();
        let mut set = held.lock().unwrap_or_else(|p| p.into_inner());
        set.remove(&self.scope);
        changed.notify_all();
    }
}

impl std::fmt::Debug for StoreLock {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StoreLock")
            .field("scope", &self.scope)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn storage_keys() {
        assert_eq!(StorageKey::default().as_str(), "jazz-auth-secret");
        assert_eq!(
            StorageKey::for_app("  my app ").as_str(),
            "jazz-auth-secret:my%20app"
        );
        assert_eq!(
            StorageKey::namespaced(Some("a:b"), Some(""), Some("s/1")).as_str(),
            "jazz-auth-secret:app=a%3Ab:session=s%2F1"
        );
        assert_eq!(
            StorageKey::namespaced(Some("a:b"), Some("u"), Some("s/1")).as_str(),
            "jazz-auth-secret:a%3Ab:u:s%2F1"
        );
        assert_eq!(StorageKey::for_app("   ").as_str(), "jazz-auth-secret");
        assert_eq!(StorageKey::for_app("é").as_str(), "jazz-auth-secret:%C3%A9");
        assert!(StorageKey::explicit("  ").is_err());
        assert_eq!(StorageKey::explicit("custom").unwrap().as_str(), "custom");
    }

    #[test]
    fn namespaced_keys_never_collide_across_kinds() {
        let values = [
            None,
            Some("alice"),
            Some("bob"),
            Some("user=alice"),
            Some("a:b"),
        ];
        let mut seen = std::collections::HashMap::new();
        for app in values {
            for user in values {
                for session in values {
                    let key = StorageKey::namespaced(app, user, session);
                    if let Some(previous) = seen.insert(key.clone(), (app, user, session)) {
                        panic!("{key} from {previous:?} and {:?}", (app, user, session));
                    }
                }
            }
        }
        assert_eq!(seen.len(), values.len().pow(3));
        assert_eq!(
            StorageKey::namespaced(None, None, None),
            StorageKey::default()
        );
        assert_eq!(
            StorageKey::namespaced(None, Some("alice"), None).as_str(),
            "jazz-auth-secret:user=alice"
        );
        assert_eq!(
            StorageKey::namespaced(None, None, Some("alice")).as_str(),
            "jazz-auth-secret:session=alice"
        );
        assert_eq!(
            StorageKey::namespaced(Some("alice"), None, None),
            StorageKey::for_app("alice")
        );
    }
}
