//! The platform stores on a host without them: the constructors exist and fail with
//! coded errors instead of being compiled out. No test in this process calls
//! `LocalFirstAndroid.init`, so the desktop Keystore constructor sees no JVM. The
//! Keystore store itself runs from Kotlin (android-lib/jvm, `KeystoreStoreTest`).

use localfirst_ffi::*;

fn code_and_reason(error: LocalFirstError) -> (String, String) {
    (error.code().to_string(), error.reason())
}

fn options() -> KeychainOptions {
    KeychainOptions {
        service: Some("localfirst-test".into()),
        accessibility: Some(KeychainAccessibility::WhenUnlockedThisDeviceOnly),
        access_group: Some("TEAMID.group.test".into()),
        user_presence: true,
    }
}

#[cfg(not(target_vendor = "apple"))]
#[test]
fn the_keychain_store_is_unavailable_off_apple_platforms() {
    for options in [
        options(),
        KeychainOptions {
            service: None,
            accessibility: None,
            access_group: None,
            user_presence: false,
        },
    ] {
        let Err(error) = KeychainSecretStore::new(StorageKey::for_app("app".into()), options)
        else {
            panic!("a Keychain store was built off Apple platforms");
        };
        assert_eq!(error.code(), ErrorCode::SecretStoreUnavailable, "{error:?}");
        let (code, reason) = code_and_reason(error);
        assert_eq!(code, "secret-store-unavailable");
        assert!(reason.contains("iOS or macOS"), "{reason}");
    }
}

#[cfg(not(target_os = "android"))]
#[test]
fn the_android_keystore_constructor_is_unavailable_off_android() {
    let Err(error) = KeystoreSecretStore::new(StorageKey::default_key()) else {
        panic!("an Android Keystore store was built off Android");
    };
    let (code, reason) = code_and_reason(error);
    assert_eq!(code, "secret-store-unavailable");
    assert!(reason.contains("needs Android"), "{reason}");
    assert!(reason.contains("withDesktopKeystore"), "{reason}");
}

#[cfg(not(target_vendor = "apple"))]
#[test]
fn the_desktop_keystore_needs_init_first() {
    let dir = std::env::temp_dir().join(format!("localfirst-ffi-keystore-{}", std::process::id()));
    let Err(error) = KeystoreSecretStore::with_desktop_keystore(
        StorageKey::default_key(),
        dir.join("keys.p12").to_string_lossy().into_owned(),
        "password".into(),
        Some(dir.to_string_lossy().into_owned()),
    ) else {
        panic!("a desktop Keystore store was built without a recorded JVM");
    };
    let (code, reason) = code_and_reason(error);
    assert_eq!(code, "secret-store-backend");
    assert!(reason.contains("LocalFirstAndroid.init"), "{reason}");
    assert!(!dir.exists(), "nothing is created before the store exists");
}
