//! The iOS/macOS Keychain secret store, split so its logic is testable anywhere.
//!
//! - This module is **platform-neutral**: the options ([`KeychainOptions`]),
//!   the item queries as plain data ([`ItemQuery`], [`NewItem`]), the mapping
//!   from Keychain status codes to [`StoreError`] ([`map_status`]), and the
//!   store itself ([`KeychainStore`]), written against the five Keychain calls
//!   it needs ([`KeychainBackend`]).
//! - `apple.rs` (compiled only for `target_vendor = "apple"`) implements
//!   [`KeychainBackend`] with `security-framework` as `SystemKeychain`. It only
//!   translates the data above into Security framework calls.
//! - `SimulatedKeychain` (`testing` feature) models the Keychain's item semantics in memory
//!   (duplicate items, labels, access groups, a locked device, a cancelled
//!   user-presence prompt, a process dying between two calls) so the store's
//!   logic runs through the conformance suite on any machine. It is a test
//!   double, not a secure store.
//!
//! ## The item
//!
//! A generic password item: service [`KeychainOptions::service`] (default
//! [`DEFAULT_SERVICE`]), account = the storage key, data = the secret as
//! unpadded base64url (the same bytes Jazz's secure-store stores), label = a
//! tag naming the protection options (`localfirst-v1;cku;open`), access
//! control built from the accessibility (default after-first-unlock, this
//! device only) plus an optional user-presence gate, optional access group.
//!
//! ## Changing protection options
//!
//! The Keychain cannot change an item's accessibility or access control in
//! place. Saves therefore never update: they write a *pending* copy under the
//! service `<service>.pending`, delete the old item, add the new one with the
//! current options, and delete the copy. A load that finds the item with
//! another tag (options changed since it was written) migrates it the same
//! way. If the process dies in between, the next load finds the pending copy
//! and finishes the job: no step ever leaves the secret nowhere.
//!
//! ## Creating the first secret
//!
//! `get_or_create_secret` writes through [`KeychainStore`]'s `create_secret`,
//! which never deletes or updates. The Keychain of an app prewarmed before the
//! first unlock can answer "not found" for an item that exists, so the load's
//! "absent" is not trusted with a replacing write:
//!
//! 1. an attribute lookup (no data, so no prompt) for the item in any access
//!    group and for a pending copy: if either exists, its data is read and
//!    returned;
//! 2. otherwise a plain `SecItemAdd` ([`KeychainBackend::add_only`]); on
//!    `errSecDuplicateItem` the existing item is read and returned.
//!
//! A read in either step that fails returns its error (`errSecItemNotFound`
//! for an item known to exist is `secret-store-unavailable`): the existing identity is
//! never overwritten and no other one is handed out.
//!
//! ## Failures
//!
//! Only `errSecItemNotFound` for both the item and its pending copy is
//! "absent". A locked device (`errSecInteractionNotAllowed`), a cancelled
//! prompt, a missing entitlement or undecodable data are errors, so
//! `get_or_create_secret` never mints a second identity over them. The lock
//! used by `get_or_create_secret` spans the threads of one process; an app and
//! its extensions sharing an access group are separate processes and should
//! not race to create the first identity.

use std::sync::Arc;

use zeroize::Zeroizing;

use super::{AuthSecretStore, StorageKey, StoreError};
use crate::secret::Secret;

#[cfg(target_vendor = "apple")]
mod apple;
#[cfg(any(test, feature = "testing"))]
mod simulated;

#[cfg(target_vendor = "apple")]
pub use apple::SystemKeychain;
#[cfg(any(test, feature = "testing"))]
pub use simulated::{DeviceState, SimulatedItem, SimulatedKeychain};

/// The default Keychain service name.
pub const DEFAULT_SERVICE: &str = "localfirst";

/// Appended to the service name for the pending copy written during a save.
pub const PENDING_SERVICE_SUFFIX: &str = ".pending";

/// Keychain status codes (`OSStatus`) this store distinguishes.
pub mod status {
    /// `errSecSuccess`
    pub const SUCCESS: i32 = 0;
    /// `errSecUnimplemented`
    pub const UNIMPLEMENTED: i32 = -4;
    /// `errSecIO`
    pub const IO: i32 = -36;
    /// `errSecParam`
    pub const PARAM: i32 = -50;
    /// `errSecWrPerm`
    pub const WRITE_PERMISSION: i32 = -61;
    /// `errSecAllocate`
    pub const ALLOCATE: i32 = -108;
    /// `errSecUserCanceled`
    pub const USER_CANCELED: i32 = -128;
    /// `errSecNoAccessForItem`
    pub const NO_ACCESS_FOR_ITEM: i32 = -25243;
    /// `errSecNotAvailable`
    pub const NOT_AVAILABLE: i32 = -25291;
    /// `errSecReadOnly`
    pub const READ_ONLY: i32 = -25292;
    /// `errSecAuthFailed`
    pub const AUTH_FAILED: i32 = -25293;
    /// `errSecNoSuchKeychain`
    pub const NO_SUCH_KEYCHAIN: i32 = -25294;
    /// `errSecDuplicateItem`
    pub const DUPLICATE_ITEM: i32 = -25299;
    /// `errSecItemNotFound`
    pub const ITEM_NOT_FOUND: i32 = -25300;
    /// `errSecInteractionNotAllowed`
    pub const INTERACTION_NOT_ALLOWED: i32 = -25308;
    /// `errSecInteractionRequired`
    pub const INTERACTION_REQUIRED: i32 = -25315;
    /// `errSecDataNotAvailable`
    pub const DATA_NOT_AVAILABLE: i32 = -25316;
    /// `errSecDecode`
    pub const DECODE: i32 = -26275;
    /// `errSecMissingEntitlement`
    pub const MISSING_ENTITLEMENT: i32 = -34018;
}

/// The symbolic name of a Keychain status code, when it is one we know.
pub fn status_name(code: i32) -> Option<&'static str> {
    Some(match code {
        status::SUCCESS => "errSecSuccess",
        status::UNIMPLEMENTED => "errSecUnimplemented",
        status::IO => "errSecIO",
        status::PARAM => "errSecParam",
        status::WRITE_PERMISSION => "errSecWrPerm",
        status::ALLOCATE => "errSecAllocate",
        status::USER_CANCELED => "errSecUserCanceled",
        status::NO_ACCESS_FOR_ITEM => "errSecNoAccessForItem",
        status::NOT_AVAILABLE => "errSecNotAvailable",
        status::READ_ONLY => "errSecReadOnly",
        status::AUTH_FAILED => "errSecAuthFailed",
        status::NO_SUCH_KEYCHAIN => "errSecNoSuchKeychain",
        status::DUPLICATE_ITEM => "errSecDuplicateItem",
        status::ITEM_NOT_FOUND => "errSecItemNotFound",
        status::INTERACTION_NOT_ALLOWED => "errSecInteractionNotAllowed",
        status::INTERACTION_REQUIRED => "errSecInteractionRequired",
        status::DATA_NOT_AVAILABLE => "errSecDataNotAvailable",
        status::DECODE => "errSecDecode",
        status::MISSING_ENTITLEMENT => "errSecMissingEntitlement",
        _ => return None,
    })
}

/// Turns a failed Keychain call into a [`StoreError`].
///
/// Callers handle `errSecItemNotFound` themselves where it means "absent";
/// passed here it is a `secret-store-backend` error (something vanished mid-operation).
///
/// | status | error |
/// | --- | --- |
/// | interaction not allowed / required, not available, no such keychain, data not available, user cancelled, auth failed | `secret-store-unavailable` (device locked, prompt refused: retry later) |
/// | missing entitlement, no access for item, write permission, read-only | `secret-store-permission-denied` |
/// | decode | `secret-store-corrupted` |
/// | I/O | `secret-store-io` |
/// | anything else | `secret-store-backend` |
pub fn map_status(operation: &str, code: i32) -> StoreError {
    let name = status_name(code).unwrap_or("unknown status");
    let reason = format!("keychain {operation} failed: {name} ({code})");
    match code {
        status::INTERACTION_NOT_ALLOWED
        | status::INTERACTION_REQUIRED
        | status::NOT_AVAILABLE
        | status::NO_SUCH_KEYCHAIN
        | status::DATA_NOT_AVAILABLE
        | status::USER_CANCELED
        | status::AUTH_FAILED => StoreError::Unavailable { reason },
        status::MISSING_ENTITLEMENT
        | status::NO_ACCESS_FOR_ITEM
        | status::WRITE_PERMISSION
        | status::READ_ONLY => StoreError::PermissionDenied { reason },
        status::DECODE => StoreError::Corrupted { reason },
        status::IO => StoreError::Io { reason },
        _ => StoreError::Backend { reason },
    }
}

/// When the item's data can be read (the Keychain's `kSecAttrAccessible*`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Accessibility {
    /// Only while the device is unlocked; restored to other devices from backups.
    WhenUnlocked,
    /// Only while the device is unlocked; never leaves this device.
    WhenUnlockedThisDeviceOnly,
    /// After the first unlock since boot (background work too); restored to other
    /// devices from backups.
    AfterFirstUnlock,
    /// After the first unlock since boot; never leaves this device. The default:
    /// usable by background refreshes, and a restored backup never carries an
    /// identity to another phone unnoticed.
    #[default]
    AfterFirstUnlockThisDeviceOnly,
    /// Only while unlocked, only if a passcode is set (the item is deleted when
    /// the passcode is removed); never leaves this device.
    WhenPasscodeSetThisDeviceOnly,
}

impl Accessibility {
    /// The Keychain's short code for this value (what `kSecAttrAccessible` holds).
    pub fn code(self) -> &'static str {
        match self {
            Accessibility::WhenUnlocked => "ak",
            Accessibility::WhenUnlockedThisDeviceOnly => "aku",
            Accessibility::AfterFirstUnlock => "ck",
            Accessibility::AfterFirstUnlockThisDeviceOnly => "cku",
            Accessibility::WhenPasscodeSetThisDeviceOnly => "akpu",
        }
    }

    /// Whether reading needs the device unlocked right now (not just once since boot).
    pub fn needs_unlocked_device(self) -> bool {
        !matches!(
            self,
            Accessibility::AfterFirstUnlock | Accessibility::AfterFirstUnlockThisDeviceOnly
        )
    }
}

/// How the secret is protected in the Keychain.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct KeychainOptions {
    /// The generic-password service name. Default [`DEFAULT_SERVICE`].
    pub service: String,
    /// When the item can be read. Default after-first-unlock, this device only.
    pub accessibility: Accessibility,
    /// A shared access group (`TEAMID.group.name`) so app extensions see the
    /// secret; `None` uses the app's default group.
    pub access_group: Option<String>,
    /// Require the user's presence (biometry or passcode) to read the secret.
    pub user_presence: bool,
}

impl Default for KeychainOptions {
    fn default() -> KeychainOptions {
        KeychainOptions {
            service: DEFAULT_SERVICE.to_owned(),
            accessibility: Accessibility::default(),
            access_group: None,
            user_presence: false,
        }
    }
}

impl KeychainOptions {
    /// The label written on items with these options: the protection they
    /// were written with, so a change of options is detected without reading
    /// the (possibly gated) data.
    pub fn tag(&self) -> String {
        let gate = if self.user_presence {
            "presence"
        } else {
            "open"
        };
        format!("localfirst-v1;{};{gate}", self.accessibility.code())
    }
}

/// A Keychain search, as data: class generic password, service, account, and
/// optionally access group and label. `None` fields are not constrained.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ItemQuery {
    /// `kSecAttrService`
    pub service: String,
    /// `kSecAttrAccount`
    pub account: String,
    /// `kSecAttrAccessGroup`
    pub access_group: Option<String>,
    /// `kSecAttrLabel`
    pub label: Option<String>,
}

/// A Keychain item to add, as data: its identifying attributes (with the label
/// set) and its protection.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct NewItem {
    /// Service, account, access group and label of the item.
    pub query: ItemQuery,
    /// The accessibility of its access control.
    pub accessibility: Accessibility,
    /// Whether its access control requires user presence.
    pub user_presence: bool,
}

/// The five Keychain operations the store needs. Failures are raw `OSStatus`
/// codes; the store maps them with [`map_status`].
pub trait KeychainBackend: Send + Sync {
    /// `SecItemCopyMatching` returning the data of the first match.
    fn copy_data(&self, query: &ItemQuery) -> Result<Zeroizing<Vec<u8>>, i32>;
    /// `SecItemCopyMatching` returning attributes only (no data, so no
    /// authentication prompt): `Ok` if an item matches.
    fn exists(&self, query: &ItemQuery) -> Result<(), i32>;
    /// `SecItemAdd` of `item` with `data`; on `errSecDuplicateItem`,
    /// `SecItemUpdate` of the data of the item matching `item.query`.
    fn add_or_update(&self, item: &NewItem, data: &[u8]) -> Result<(), i32>;
    /// `SecItemAdd` of `item` with `data`, nothing else: an existing item with
    /// the same service, account and access group makes it fail with
    /// `errSecDuplicateItem` and stay untouched.
    fn add_only(&self, item: &NewItem, data: &[u8]) -> Result<(), i32>;
    /// `SecItemDelete` of every item matching `query`.
    fn delete(&self, query: &ItemQuery) -> Result<(), i32>;
}

impl<B: KeychainBackend + ?Sized> KeychainBackend for Arc<B> {
    fn copy_data(&self, query: &ItemQuery) -> Result<Zeroizing<Vec<u8>>, i32> {
        (**self).copy_data(query)
    }
    fn exists(&self, query: &ItemQuery) -> Result<(), i32> {
        (**self).exists(query)
    }
    fn add_or_update(&self, item: &NewItem, data: &[u8]) -> Result<(), i32> {
        (**self).add_or_update(item, data)
    }
    fn add_only(&self, item: &NewItem, data: &[u8]) -> Result<(), i32> {
        (**self).add_only(item, data)
    }
    fn delete(&self, query: &ItemQuery) -> Result<(), i32> {
        (**self).delete(query)
    }
}

/// Decodes item data: the secret as unpadded base64url text.
pub fn decode_item_data(data: &[u8]) -> Result<Secret, StoreError> {
    let text = std::str::from_utf8(data).map_err(|_| StoreError::Corrupted {
        reason: "keychain item data is not UTF-8 text".into(),
    })?;
    Secret::parse_base64url(text).map_err(|e| StoreError::Corrupted {
        reason: format!("keychain item data is not a valid secret ({e})"),
    })
}

/// A secret store over a Keychain, bound to one storage key.
pub struct KeychainStore<B: KeychainBackend> {
    backend: B,
    options: KeychainOptions,
    key: StorageKey,
}

impl<B: KeychainBackend> KeychainStore<B> {
    /// A store for `key` with `options` over `backend`. Touches nothing yet.
    pub fn new(backend: B, options: KeychainOptions, key: StorageKey) -> KeychainStore<B> {
        KeychainStore {
            backend,
            options,
            key,
        }
    }

    /// The options new items are written with.
    pub fn options(&self) -> &KeychainOptions {
        &self.options
    }

    /// Finds the item whatever its options or access group.
    pub fn item_query(&self) -> ItemQuery {
        ItemQuery {
            service: self.options.service.clone(),
            account: self.key.as_str().to_owned(),
            access_group: None,
            label: None,
        }
    }

    /// Finds the item only if it was written with the current options.
    pub fn current_item_query(&self) -> ItemQuery {
        ItemQuery {
            access_group: self.options.access_group.clone(),
            label: Some(self.options.tag()),
            ..self.item_query()
        }
    }

    /// Finds the pending copy a save writes before replacing the item.
    pub fn pending_query(&self) -> ItemQuery {
        ItemQuery {
            service: format!("{}{PENDING_SERVICE_SUFFIX}", self.options.service),
            ..self.item_query()
        }
    }

    /// The item a save adds.
    pub fn new_item(&self) -> NewItem {
        NewItem {
            query: self.current_item_query(),
            accessibility: self.options.accessibility,
            user_presence: self.options.user_presence,
        }
    }

    /// The pending copy a save adds first.
    pub fn new_pending_item(&self) -> NewItem {
        NewItem {
            query: ItemQuery {
                access_group: self.options.access_group.clone(),
                label: Some(self.options.tag()),
                ..self.pending_query()
            },
            accessibility: self.options.accessibility,
            user_presence: self.options.user_presence,
        }
    }

    fn delete_if_present(&self, operation: &str, query: &ItemQuery) -> Result<(), StoreError> {
        match self.backend.delete(query) {
            Ok(()) => Ok(()),
            Err(status::ITEM_NOT_FOUND) => Ok(()),
            Err(code) => Err(map_status(operation, code)),
        }
    }

    /// Reads one item: `Ok(None)` only for `errSecItemNotFound`.
    fn read(&self, operation: &str, query: &ItemQuery) -> Result<Option<Secret>, StoreError> {
        match self.backend.copy_data(query) {
            Ok(data) => decode_item_data(&data).map(Some),
            Err(status::ITEM_NOT_FOUND) => Ok(None),
            Err(code) => Err(map_status(operation, code)),
        }
    }

    /// Reads an item that a lookup or an add just reported as existing. Its
    /// absence now means the Keychain is not answering truthfully (e.g. before
    /// the first unlock): `secret-store-unavailable`, never "absent".
    fn read_existing(&self, what: &str, query: &ItemQuery) -> Result<Secret, StoreError> {
        match self.backend.copy_data(query) {
            Ok(data) => decode_item_data(&data),
            Err(status::ITEM_NOT_FOUND) => Err(StoreError::Unavailable {
                reason: format!(
                    "the keychain reports an existing {what} but reading it returned \
                     errSecItemNotFound ({}); retry once the device is unlocked",
                    status::ITEM_NOT_FOUND
                ),
            }),
            Err(code) => Err(map_status(&format!("read of the existing {what}"), code)),
        }
    }

    /// Writes `secret` with the current options, replacing whatever is there,
    /// such that a crash at any step leaves the old or the new secret findable.
    fn replace(&self, secret: &Secret) -> Result<(), StoreError> {
        let data = secret.to_base64url();
        self.delete_if_present("delete of a stale pending copy", &self.pending_query())?;
        self.backend
            .add_or_update(&self.new_pending_item(), data.as_bytes())
            .map_err(|code| map_status("add of the pending copy", code))?;
        self.delete_if_present("delete of the previous item", &self.item_query())?;
        self.backend
            .add_or_update(&self.new_item(), data.as_bytes())
            .map_err(|code| map_status("add", code))?;
        self.delete_if_present("delete of the pending copy", &self.pending_query())
    }
}

impl<B: KeychainBackend> std::fmt::Debug for KeychainStore<B> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KeychainStore")
            .field("options", &self.options)
            .field("key", &self.key)
            .finish_non_exhaustive()
    }
}

impl<B: KeychainBackend> AuthSecretStore for KeychainStore<B> {
    fn storage_key(&self) -> StorageKey {
        self.key.clone()
    }

    fn load_secret(&self) -> Result<Option<Secret>, StoreError> {
        if let Some(secret) = self.read("read", &self.item_query())? {
            match self.backend.exists(&self.current_item_query()) {
                Ok(()) => {}
                // Written with other options (or another access group): migrate.
                Err(status::ITEM_NOT_FOUND) => self.replace(&secret)?,
                Err(code) => return Err(map_status("attribute read", code)),
            }
            return Ok(Some(secret));
        }
        // No item: a save may have died between deleting it and adding the new one.
        match self.read("read of the pending copy", &self.pending_query())? {
            Some(secret) => {
                self.replace(&secret)?;
                Ok(Some(secret))
            }
            None => Ok(None),
        }
    }

    fn save_secret(&self, secret: Secret) -> Result<(), StoreError> {
        self.replace(&secret)
    }

    /// Never deletes or updates: see "Creating the first secret" in the module
    /// documentation.
    fn create_secret(&self, secret: Secret) -> Result<Secret, StoreError> {
        // The load's "not found" may be wrong: look for the item (in any access
        // group) and for a pending copy by attributes before adding beside them.
        for (what, query) in [
            ("item", self.item_query()),
            ("pending copy", self.pending_query()),
        ] {
            match self.backend.exists(&query) {
                Ok(()) => return self.read_existing(what, &query),
                Err(status::ITEM_NOT_FOUND) => {}
                Err(code) => return Err(map_status(&format!("lookup of the {what}"), code)),
            }
        }
        let data = secret.to_base64url();
        match self.backend.add_only(&self.new_item(), data.as_bytes()) {
            Ok(()) => Ok(secret),
            Err(status::DUPLICATE_ITEM) => {
                let existing = ItemQuery {
                    access_group: self.options.access_group.clone(),
                    ..self.item_query()
                };
                self.read_existing("item", &existing)
            }
            Err(code) => Err(map_status("add", code)),
        }
    }

    fn clear_secret(&self) -> Result<(), StoreError> {
        self.delete_if_present("delete", &self.item_query())?;
        self.delete_if_present("delete of the pending copy", &self.pending_query())
    }

    fn lock_scope(&self) -> String {
        format!("keychain:{}:{}", self.options.service, self.key)
    }
}
