//! The vault flow's synchronous steps (for callers that do the vault I/O
//! themselves) against real secret stores: each decision of the async flow, step
//! by step, and a store that fails or reports a spurious absence.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code: a failed unwrap is a failed test

use localfirst_core::error::ErrorCode as _;
use localfirst_core::identity::Identity;
use localfirst_core::recovery::vault::{
    adopt_vault_value, confirm_vault_readback, restore_from_vault_value, secret_for_vault_backup,
    VaultBackup, VaultError, VaultOutcome, VaultValue,
};
use localfirst_core::secret::Secret;
use localfirst_core::secret_store::conformance::FaultInjectingStore;
use localfirst_core::secret_store::{
    AuthSecretStore, FileStore, MemoryStore, StorageKey, StoreError,
};

fn store() -> MemoryStore {
    MemoryStore::new(StorageKey::for_app("vault-steps"))
}

fn user(secret: &Secret) -> String {
    Identity::from_secret(secret).user_id().to_string()
}

#[test]
fn restore_onto_an_empty_device_then_in_sync() {
    let theirs = Secret::from_bytes([21u8; 32]);
    let store = store();
    let restored = restore_from_vault_value(&store, &VaultValue::of(&theirs)).unwrap();
    assert_eq!(restored.outcome, VaultOutcome::Restored);
    assert_eq!(restored.user_id, user(&theirs));
    assert_eq!(restored.secret, theirs);
    assert_eq!(store.load_secret().unwrap(), Some(theirs.clone()));

    let again = restore_from_vault_value(&store, &VaultValue::of(&theirs)).unwrap();
    assert_eq!(again.outcome, VaultOutcome::InSync);
}

#[test]
fn restore_over_another_identity_is_a_conflict_and_replaces_nothing() {
    let theirs = Secret::from_bytes([22u8; 32]);
    let mine = Secret::from_bytes([23u8; 32]);
    let dir = tempfile::tempdir().unwrap();
    let store = FileStore::open(dir.path(), StorageKey::for_app("vault-steps")).unwrap();
    store.save_secret(mine.clone()).unwrap();
    let error = restore_from_vault_value(&store, &VaultValue::of(&theirs)).unwrap_err();
    assert_eq!(error.code(), "vault-identity-conflict");
    assert_eq!(
        error,
        VaultError::IdentityConflict {
            device_user_id: user(&mine),
            vault_user_id: user(&theirs),
        }
    );
    assert_eq!(store.load_secret().unwrap(), Some(mine));
}

#[test]
fn a_corrupt_value_touches_no_store() {
    for bad in ["", "QUJD", "not a secret", &"A".repeat(44)] {
        let faulty = FaultInjectingStore::new(Box::new(store()) as Box<dyn AuthSecretStore>);
        let error = restore_from_vault_value(&faulty, &VaultValue::new(bad)).unwrap_err();
        assert_eq!(error.code(), "vault-corrupt", "{bad:?}");
        let error = adopt_vault_value(&faulty, Some(&VaultValue::new(bad)), "x").unwrap_err();
        assert_eq!(error.code(), "vault-corrupt", "{bad:?}");
        assert_eq!(faulty.create_calls() + faulty.save_calls(), 0);
        assert_eq!(faulty.load_secret().unwrap(), None);
    }
}

#[test]
fn a_spurious_absence_never_replaces_the_device_secret() {
    // The store wrongly reports "absent" once; `create_secret` finds the existing
    // secret and the step reports a conflict instead of overwriting it.
    let mine = Secret::from_bytes([24u8; 32]);
    let theirs = Secret::from_bytes([25u8; 32]);
    let faulty = FaultInjectingStore::new(Box::new(store()) as Box<dyn AuthSecretStore>);
    faulty.save_secret(mine.clone()).unwrap();
    faulty.fake_absent_loads(1);
    let error = restore_from_vault_value(&faulty, &VaultValue::of(&theirs)).unwrap_err();
    assert_eq!(error.code(), "vault-identity-conflict");
    assert_eq!(faulty.load_secret().unwrap(), Some(mine));
}

#[test]
fn backup_secret_is_created_once_then_reused() {
    let store = store();
    let first = secret_for_vault_backup(&store).unwrap();
    assert!(first.created);
    assert_eq!(store.load_secret().unwrap(), Some(first.secret.clone()));
    let second = secret_for_vault_backup(&store).unwrap();
    assert_eq!(
        second,
        VaultBackup {
            secret: first.secret,
            created: false
        }
    );
}

#[test]
fn a_failed_store_read_creates_nothing() {
    let faulty = FaultInjectingStore::new(Box::new(store()) as Box<dyn AuthSecretStore>);
    faulty.fail_load(Some(StoreError::Unavailable {
        reason: "device locked".into(),
    }));
    let error = secret_for_vault_backup(&faulty).unwrap_err();
    assert_eq!(error.code(), "secret-store-unavailable");
    let theirs = VaultValue::of(&Secret::from_bytes([26u8; 32]));
    let error = restore_from_vault_value(&faulty, &theirs).unwrap_err();
    assert_eq!(error.code(), "secret-store-unavailable");
    let error = adopt_vault_value(&faulty, Some(&theirs), "any").unwrap_err();
    assert_eq!(error.code(), "secret-store-unavailable");
    assert_eq!(faulty.create_calls() + faulty.save_calls(), 0);
}

#[test]
fn readback_is_confirmed_only_for_the_same_secret() {
    let backup = VaultBackup {
        secret: Secret::from_bytes([27u8; 32]),
        created: true,
    };
    let identity = confirm_vault_readback(&backup, Some(&VaultValue::of(&backup.secret))).unwrap();
    assert_eq!(identity.outcome, VaultOutcome::BackedUp { created: true });
    assert_eq!(identity.user_id, user(&backup.secret));
    assert_eq!(identity.secret, backup.secret);

    let error = confirm_vault_readback(&backup, None).unwrap_err();
    assert_eq!(error, VaultError::WriteUnconfirmed);
    assert_eq!(error.code(), "vault-write-unconfirmed");

    let winner = Secret::from_bytes([28u8; 32]);
    let error = confirm_vault_readback(&backup, Some(&VaultValue::of(&winner))).unwrap_err();
    assert_eq!(
        error,
        VaultError::IdentityConflict {
            device_user_id: user(&backup.secret),
            vault_user_id: user(&winner),
        }
    );
    let error = confirm_vault_readback(&backup, Some(&VaultValue::new("QUJD"))).unwrap_err();
    assert_eq!(error.code(), "vault-corrupt");
}

#[test]
fn adopt_replaces_only_the_agreed_identity() {
    let mine = Secret::from_bytes([29u8; 32]);
    let theirs = Secret::from_bytes([30u8; 32]);
    let store = store();
    store.save_secret(mine.clone()).unwrap();

    let error = adopt_vault_value(&store, None, &user(&theirs)).unwrap_err();
    assert_eq!(error.code(), "vault-unavailable");
    let error =
        adopt_vault_value(&store, Some(&VaultValue::of(&theirs)), &user(&mine)).unwrap_err();
    assert_eq!(
        error,
        VaultError::IdentityConflict {
            device_user_id: user(&mine),
            vault_user_id: user(&theirs),
        }
    );
    assert_eq!(store.load_secret().unwrap(), Some(mine.clone()));

    let adopted =
        adopt_vault_value(&store, Some(&VaultValue::of(&theirs)), &user(&theirs)).unwrap();
    assert_eq!(adopted.user_id, user(&theirs));
    assert_eq!(adopted.secret, theirs);
    assert_eq!(adopted.replaced, Some(mine));
    assert_eq!(store.load_secret().unwrap(), Some(theirs.clone()));

    // Adopting what the device already holds replaces nothing.
    let again = adopt_vault_value(&store, Some(&VaultValue::of(&theirs)), &user(&theirs)).unwrap();
    assert_eq!(again.replaced, None);

    // On an empty device: nothing replaced, the conflict names no device id.
    let empty = MemoryStore::new(StorageKey::for_app("vault-steps-empty"));
    let error = adopt_vault_value(&empty, Some(&VaultValue::of(&theirs)), "other").unwrap_err();
    assert_eq!(
        error,
        VaultError::IdentityConflict {
            device_user_id: String::new(),
            vault_user_id: user(&theirs),
        }
    );
}
