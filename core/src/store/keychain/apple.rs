//! The system Keychain through `security-framework` (Apple targets only).
//!
//! Deliberately thin: it turns the platform-neutral [`ItemQuery`] and
//! [`NewItem`] into Security framework calls and hands back raw `OSStatus`
//! codes. All decisions (what "absent" means, migrations, error mapping) live
//! in the parent module, where they are tested on every platform. Items always
//! go to the data-protection keychain (also on macOS).

use security_framework::access_control::{ProtectionMode, SecAccessControl};
use security_framework::item::{ItemClass, ItemSearchOptions};
use security_framework::passwords::{self, AccessControlOptions, PasswordOptions};
use zeroize::Zeroizing;

use super::{Accessibility, ItemQuery, KeychainBackend, NewItem};

/// The Keychain of the device (or the logged-in macOS user).
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemKeychain;

fn password_options(query: &ItemQuery) -> PasswordOptions {
    let mut options = PasswordOptions::new_generic_password(&query.service, &query.account);
    if let Some(group) = &query.access_group {
        options.set_access_group(group);
    }
    if let Some(label) = &query.label {
        options.set_label(label);
    }
    options.use_protected_keychain();
    options
}

fn protection(accessibility: Accessibility) -> ProtectionMode {
    match accessibility {
        Accessibility::WhenUnlocked => ProtectionMode::AccessibleWhenUnlocked,
        Accessibility::WhenUnlockedThisDeviceOnly => {
            ProtectionMode::AccessibleWhenUnlockedThisDeviceOnly
        }
        Accessibility::AfterFirstUnlock => ProtectionMode::AccessibleAfterFirstUnlock,
        Accessibility::AfterFirstUnlockThisDeviceOnly => {
            ProtectionMode::AccessibleAfterFirstUnlockThisDeviceOnly
        }
        Accessibility::WhenPasscodeSetThisDeviceOnly => {
            ProtectionMode::AccessibleWhenPasscodeSetThisDeviceOnly
        }
    }
}

impl KeychainBackend for SystemKeychain {
    fn copy_data(&self, query: &ItemQuery) -> Result<Zeroizing<Vec<u8>>, i32> {
        passwords::generic_password(password_options(query))
            .map(Zeroizing::new)
            .map_err(|e| e.code())
    }

    fn exists(&self, query: &ItemQuery) -> Result<(), i32> {
        let mut search = ItemSearchOptions::new();
        search
            .class(ItemClass::generic_password())
            .service(&query.service)
            .account(&query.account)
            .load_attributes(true);
        // iOS has only the data-protection keychain; on macOS, skip the legacy
        // file keychains as the other calls do.
        #[cfg(target_os = "macos")]
        search.ignore_legacy_keychains();
        if let Some(group) = &query.access_group {
            search.access_group(group);
        }
        if let Some(label) = &query.label {
            search.label(label);
        }
        search.search().map(|_| ()).map_err(|e| e.code())
    }

    fn add_or_update(&self, item: &NewItem, data: &[u8]) -> Result<(), i32> {
        let flags = if item.user_presence {
            AccessControlOptions::USER_PRESENCE.bits()
        } else {
            0
        };
        let access =
            SecAccessControl::create_with_protection(Some(protection(item.accessibility)), flags)
                .map_err(|e| e.code())?;
        let mut options = password_options(&item.query);
        options.set_access_control(access);
        passwords::set_generic_password_options(data, options).map_err(|e| e.code())
    }

    fn delete(&self, query: &ItemQuery) -> Result<(), i32> {
        passwords::delete_generic_password_options(password_options(query)).map_err(|e| e.code())
    }
}
