//! The vault steps from Rust, as Swift and Kotlin (the Expo module) call them: each
//! answer of the vault handed to a step over an exported store, and every failure
//! in the returned record (code, and both ids for a conflict).

// Test helpers outside `#[test]` functions unwrap too.
#![allow(clippy::unwrap_used)]

use std::sync::Arc;

use localfirst_ffi::*;

fn store() -> Arc<dyn AuthSecretStore> {
    MemorySecretStore::new(StorageKey::for_app("ffi-vault-steps".into()))
}

/// A code's catalogue text.
fn text(code: ErrorCode) -> String {
    code.to_string()
}

fn secret() -> Arc<AuthSecret> {
    AuthSecret::generate().unwrap()
}

#[test]
fn empty_vault_backup_then_readback_then_in_sync() {
    let store = store();
    let backup = vault_backup_secret(store.clone());
    assert_eq!(backup.code, None);
    assert_eq!(backup.outcome.as_deref(), Some("backup"));
    assert!(backup.created);
    let written = backup.secret.clone().unwrap();
    assert_eq!(
        store.load_secret().unwrap().unwrap().to_base64_url(),
        written.to_base64_url()
    );

    let confirmed = vault_confirm_readback(written.clone(), true, Some(written.to_base64_url()));
    assert_eq!(confirmed.code, None);
    assert_eq!(confirmed.outcome.as_deref(), Some("backed-up"));
    assert!(confirmed.created);
    assert_eq!(confirmed.user_id, Some(written.user_id()));

    let unconfirmed = vault_confirm_readback(written.clone(), true, None);
    assert_eq!(
        unconfirmed.code.map(text).as_deref(),
        Some("vault-write-unconfirmed")
    );
    assert_eq!(unconfirmed.secret.map(|s| s.to_base64_url()), None);

    let again = vault_restore(store, written.to_base64_url());
    assert_eq!(again.outcome.as_deref(), Some("in-sync"));
}

#[test]
fn restore_conflict_and_adopt() {
    let store = store();
    let theirs = secret();
    let mine = secret();
    let restored = vault_restore(store.clone(), theirs.to_base64_url());
    assert_eq!(restored.outcome.as_deref(), Some("restored"));

    let other = store_holding(mine.clone());
    let conflict = vault_restore(other.clone(), theirs.to_base64_url());
    assert_eq!(
        conflict.code.map(text).as_deref(),
        Some("vault-identity-conflict")
    );
    assert_eq!(conflict.device_user_id, Some(mine.user_id()));
    assert_eq!(conflict.vault_user_id, Some(theirs.user_id()));
    assert!(conflict.message.is_some());
    assert_eq!(conflict.outcome, None);
    assert_eq!(
        other.load_secret().unwrap().unwrap().to_base64_url(),
        mine.to_base64_url()
    );

    let refused = vault_adopt(
        other.clone(),
        Some(theirs.to_base64_url()),
        "someone".into(),
    );
    assert_eq!(
        refused.code.map(text).as_deref(),
        Some("vault-identity-conflict")
    );
    let empty = vault_adopt(other.clone(), None, theirs.user_id());
    assert_eq!(empty.code.map(text).as_deref(), Some("vault-unavailable"));

    let adopted = vault_adopt(
        other.clone(),
        Some(theirs.to_base64_url()),
        theirs.user_id(),
    );
    assert_eq!(adopted.code, None);
    assert_eq!(adopted.outcome.as_deref(), Some("adopted"));
    assert_eq!(
        adopted.replaced.map(|s| s.to_base64_url()),
        Some(mine.to_base64_url())
    );
    assert_eq!(
        other.load_secret().unwrap().unwrap().to_base64_url(),
        theirs.to_base64_url()
    );
}

#[test]
fn corrupt_values_are_codes_not_panics() {
    let store = store();
    for bad in ["", "QUJD", "not a secret"] {
        assert_eq!(
            vault_restore(store.clone(), bad.into())
                .code
                .map(text)
                .as_deref(),
            Some("vault-corrupt")
        );
        assert_eq!(
            vault_confirm_readback(secret(), false, Some(bad.into()))
                .code
                .map(text)
                .as_deref(),
            Some("vault-corrupt")
        );
    }
    assert!(store.load_secret().unwrap().is_none());
}

fn store_holding(secret: Arc<AuthSecret>) -> Arc<dyn AuthSecretStore> {
    let store = MemorySecretStore::new(StorageKey::for_app("ffi-vault-steps-other".into()));
    store.save_secret(secret).unwrap();
    store
}
