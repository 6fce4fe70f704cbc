//! The system Keychain through `security-framework` (Apple targets only).
//!
//! Deliberately thin: it turns the platform-neutral [`ItemQuery`] and
//! [`NewItem`] into Security framework calls and hands back raw `OSStatus`
//! codes. All decisions (what "absent" means, migrations, error mapping) live
//! in the parent module, where they are tested on every platform. Items always
//! go to the data-protection keychain (also on macOS).

use core_foundation::base::ToVoid as _;
use core_foundation::data::CFData;
use core_foundation::dictionary::CFMutableDictionary;
use security_framework::access_control::{ProtectionMode, SecAccessControl};
use security_framework::item::{
    self as sec_item, ItemAddOptions, ItemAddValue, ItemClass, ItemSearchOptions,
};
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

/// The attributes of `item` (as for every other call) plus its access control.
fn new_item_options(item: &NewItem) -> Result<PasswordOptions, i32> {
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
    Ok(options)
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
        passwords::set_generic_password_options(data, new_item_options(item)?).map_err(|e| e.code())
    }

    fn add_only(&self, item: &NewItem, data: &[u8]) -> Result<(), i32> {
        // The password setter follows a duplicate with an update, and
        // `ItemAddOptions` cannot carry access control. So the `SecItemAdd`
        // dictionary is assembled from both: class and data from
        // `ItemAddOptions`, every other attribute from the same
        // `PasswordOptions` the other calls use. The deprecated items are the
        // only safe way to express this in security-framework 3.
        #[allow(deprecated)]
        let attributes = {
            let value = ItemAddOptions::new(ItemAddValue::Data {
                class: ItemClass::generic_password(),
                data: CFData::from_buffer(data),
            })
            .to_dictionary();
            let mut attributes = CFMutableDictionary::from(&value);
            // Adds only keys not present yet (the class is in both).
            for (key, value) in &new_item_options(item)?.query {
                attributes.add(&key.to_void(), &value.to_void());
            }
            attributes.to_immutable()
        };
        #[allow(deprecated)]
        sec_item::add_item(attributes).map_err(|e| e.code())
    }

    fn delete(&self, query: &ItemQuery) -> Result<(), i32> {
        passwords::delete_generic_password_options(password_options(query)).map_err(|e| e.code())
    }
}
