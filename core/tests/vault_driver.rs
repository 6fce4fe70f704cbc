//! The sans-IO vault driver, walked by hand as a shell in another language walks
//! it: every path of the flow (empty vault → backup → read-back; populated →
//! restore / in sync / conflict → adopt; corrupt values; a failed or silent vault;
//! an unconfirmed write), answers that do not fit, and what the driver tells the
//! caller (timeouts, whether the device store changed). No runtime: the driver is
//! synchronous; the store is real (memory, file) or a fault-injecting wrapper.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code: a failed unwrap is a failed test

use std::sync::Arc;
use std::time::Duration;

use localfirst_core::error::ErrorCode as _;
use localfirst_core::identity::Identity;
use localfirst_core::recovery::vault::{
    AdoptedIdentity, VaultAction, VaultAnswer, VaultCompletion, VaultDriver, VaultError,
    VaultIdentity, VaultOutcome, VaultValue, DEFAULT_VAULT_TIMEOUT,
};
use localfirst_core::secret::Secret;
use localfirst_core::secret_store::conformance::FaultInjectingStore;
use localfirst_core::secret_store::{
    AuthSecretStore, FileStore, MemoryStore, StorageKey, StoreError,
};

const TIMEOUT: Duration = Duration::from_secs(7);

fn key() -> StorageKey {
    StorageKey::for_app("vault-driver")
}

fn memory() -> Arc<MemoryStore> {
    Arc::new(MemoryStore::new(key()))
}

/// A memory store behind a fault-injecting wrapper that counts every call.
fn counted() -> Arc<FaultInjectingStore> {
    Arc::new(FaultInjectingStore::new(
        Box::new(MemoryStore::new(key())) as Box<dyn AuthSecretStore>
    ))
}

fn user(secret: &Secret) -> String {
    Identity::from_secret(secret).user_id().to_string()
}

fn start(store: Arc<dyn AuthSecretStore>) -> VaultDriver {
    VaultDriver::start(store, Some(TIMEOUT)).unwrap()
}

fn read() -> VaultAction {
    VaultAction::ReadVault { timeout: TIMEOUT }
}

fn loaded(value: Option<&Secret>) -> VaultAnswer {
    VaultAnswer::Loaded {
        value: value.map(VaultValue::of),
    }
}

fn shared(action: VaultAction) -> VaultIdentity {
    match action {
        VaultAction::Done {
            completion: VaultCompletion::Shared { identity },
        } => identity,
        other => panic!("expected a shared identity, got {other:?}"),
    }
}

fn adopted(action: VaultAction) -> AdoptedIdentity {
    match action {
        VaultAction::Done {
            completion: VaultCompletion::Adopted { adopted },
        } => adopted,
        other => panic!("expected an adopted identity, got {other:?}"),
    }
}

fn failed(action: VaultAction) -> VaultError {
    match action {
        VaultAction::Failed { error } => error,
        other => panic!("expected a failure, got {other:?}"),
    }
}

/// The value the driver asks to write.
fn write_value(action: &VaultAction) -> Secret {
    match action {
        VaultAction::WriteVault { value, timeout } => {
            assert_eq!(*timeout, TIMEOUT);
            value.to_secret().unwrap()
        }
        other => panic!("expected a write, got {other:?}"),
    }
}

#[test]
fn empty_vault_backup_then_read_back_then_in_sync() {
    let store = memory();
    let driver = start(store.clone());
    assert_eq!(driver.next_action(), read());
    assert_eq!(driver.next_action(), read(), "asking again changes nothing");
    assert!(!driver.store_changed());

    let write = driver.resume(loaded(None));
    let created = write_value(&write);
    assert_eq!(store.load_secret().unwrap(), Some(created.clone()));
    assert!(
        driver.store_changed(),
        "the created secret must be announced"
    );
    assert_eq!(driver.next_action(), write);

    assert_eq!(driver.resume(VaultAnswer::Stored), read(), "the read-back");
    let identity = shared(driver.resume(loaded(Some(&created))));
    assert_eq!(identity.outcome, VaultOutcome::BackedUp { created: true });
    assert_eq!(identity.user_id, user(&created));
    assert_eq!(identity.secret, created);
    assert!(driver.is_finished());

    // A second run over the vault that now holds it: in sync, nothing written.
    let again = start(store.clone());
    let identity = shared(again.resume(loaded(Some(&created))));
    assert_eq!(identity.outcome, VaultOutcome::InSync);
    assert!(!again.store_changed());
}

#[test]
fn empty_vault_existing_device_backs_up_its_own_secret() {
    let store = memory();
    let mine = Secret::from_bytes([1u8; 32]);
    store.save_secret(mine.clone()).unwrap();
    let driver = start(store.clone());
    assert_eq!(write_value(&driver.resume(loaded(None))), mine);
    assert!(!driver.store_changed());
    driver.resume(VaultAnswer::Stored);
    let identity = shared(driver.resume(loaded(Some(&mine))));
    assert_eq!(identity.outcome, VaultOutcome::BackedUp { created: false });
}

#[test]
fn populated_vault_restores_onto_a_file_store_that_survives_a_reopen() {
    let dir = tempfile::tempdir().unwrap();
    let theirs = Secret::from_bytes([2u8; 32]);
    let file = Arc::new(FileStore::open(dir.path(), key()).unwrap());
    let driver = start(file);
    let identity = shared(driver.resume(loaded(Some(&theirs))));
    assert_eq!(identity.outcome, VaultOutcome::Restored);
    assert_eq!(identity.user_id, user(&theirs));
    assert!(driver.store_changed());
    let reopened = FileStore::open(dir.path(), key()).unwrap();
    assert_eq!(reopened.load_secret().unwrap(), Some(theirs));
}

#[test]
fn a_conflict_carries_both_ids_and_adopting_replaces_only_the_agreed_identity() {
    let theirs = Secret::from_bytes([3u8; 32]);
    let mine = Secret::from_bytes([4u8; 32]);
    let store = memory();
    store.save_secret(mine.clone()).unwrap();
    let driver = start(store.clone());
    let error = failed(driver.resume(loaded(Some(&theirs))));
    assert_eq!(
        error,
        VaultError::IdentityConflict {
            device_user_id: user(&mine),
            vault_user_id: user(&theirs),
        }
    );
    assert!(!driver.store_changed());
    assert_eq!(store.load_secret().unwrap(), Some(mine.clone()));

    // The vault changed meanwhile to an id the user did not agree to.
    let wrong = VaultDriver::start_adopt(store.clone(), user(&mine), Some(TIMEOUT)).unwrap();
    assert_eq!(wrong.next_action(), read());
    let error = failed(wrong.resume(loaded(Some(&theirs))));
    assert_eq!(error.code().as_str(), "vault-identity-conflict");
    assert!(!wrong.store_changed());
    assert_eq!(store.load_secret().unwrap(), Some(mine.clone()));

    let adopt = VaultDriver::start_adopt(store.clone(), user(&theirs), Some(TIMEOUT)).unwrap();
    let done = adopted(adopt.resume(loaded(Some(&theirs))));
    assert_eq!(done.user_id, user(&theirs));
    assert_eq!(done.secret, theirs);
    assert_eq!(done.replaced, Some(mine));
    assert!(adopt.store_changed());
    assert_eq!(store.load_secret().unwrap(), Some(theirs.clone()));

    // Adopting from a vault that is now empty replaces nothing.
    let empty = VaultDriver::start_adopt(memory(), user(&theirs), None).unwrap();
    assert_eq!(
        failed(empty.resume(loaded(None))).code().as_str(),
        "vault-unavailable"
    );
}

#[test]
fn corrupt_values_touch_no_store() {
    for bad in ["", "not a secret", "QUJD", &"A".repeat(44)] {
        let store = counted();
        let driver = start(store.clone());
        let error = failed(driver.resume(VaultAnswer::Loaded {
            value: Some(VaultValue::new(bad)),
        }));
        assert_eq!(error.code().as_str(), "vault-corrupt", "{bad:?}");
        assert_eq!(
            store.load_calls() + store.create_calls() + store.save_calls(),
            0
        );

        // A corrupt read-back after the write: the device keeps its secret.
        let store = memory();
        let driver = start(store.clone());
        let mine = write_value(&driver.resume(loaded(None)));
        driver.resume(VaultAnswer::Stored);
        let error = failed(driver.resume(VaultAnswer::Loaded {
            value: Some(VaultValue::new(bad)),
        }));
        assert_eq!(error.code().as_str(), "vault-corrupt", "{bad:?}");
        assert_eq!(store.load_secret().unwrap(), Some(mine));
    }
}

#[test]
fn a_failed_or_silent_vault_never_creates_an_identity() {
    for (answer, code) in [
        (
            VaultAnswer::Failed {
                reason: "HTTP 503".into(),
            },
            "vault-unavailable",
        ),
        (VaultAnswer::TimedOut, "vault-timeout"),
    ] {
        let store = counted();
        let driver = start(store.clone());
        let error = failed(driver.resume(answer));
        assert_eq!(error.code().as_str(), code);
        assert_eq!(
            store.load_calls() + store.create_calls() + store.save_calls(),
            0,
            "{code}: the store was touched"
        );
        assert_eq!(store.inner().load_secret().unwrap(), None);
        assert!(!driver.store_changed());
        if code == "vault-timeout" {
            assert_eq!(error, VaultError::Timeout { timeout: TIMEOUT });
        } else {
            assert!(error.to_string().contains("HTTP 503"), "{error}");
        }
    }
}

#[test]
fn a_failed_silent_or_unconfirmed_backup_write_keeps_the_device_secret() {
    let cases: [(&[VaultAnswer], &str); 4] = [
        (
            &[VaultAnswer::Failed {
                reason: "quota".into(),
            }],
            "vault-unavailable",
        ),
        (&[VaultAnswer::TimedOut], "vault-timeout"),
        // The write "succeeded" but nothing reads back.
        (
            &[VaultAnswer::Stored, VaultAnswer::Loaded { value: None }],
            "vault-write-unconfirmed",
        ),
        // The read-back of the write fails.
        (
            &[VaultAnswer::Stored, VaultAnswer::TimedOut],
            "vault-timeout",
        ),
    ];
    for (answers, code) in cases {
        let store = memory();
        let driver = start(store.clone());
        let created = write_value(&driver.resume(loaded(None)));
        let mut last = driver.next_action();
        for answer in answers {
            last = driver.resume(answer.clone());
        }
        assert_eq!(failed(last).code().as_str(), code);
        assert_eq!(store.load_secret().unwrap(), Some(created), "{code}");
        assert!(driver.store_changed(), "{code}: the created secret stays");
    }
}

#[test]
fn a_read_back_of_another_identity_is_a_conflict() {
    let winner = Secret::from_bytes([5u8; 32]);
    let store = memory();
    let driver = start(store.clone());
    let mine = write_value(&driver.resume(loaded(None)));
    driver.resume(VaultAnswer::Stored);
    assert_eq!(
        failed(driver.resume(loaded(Some(&winner)))),
        VaultError::IdentityConflict {
            device_user_id: user(&mine),
            vault_user_id: user(&winner),
        }
    );
}

#[test]
fn store_failures_keep_their_codes_and_mint_nothing() {
    let theirs = Secret::from_bytes([6u8; 32]);
    for first_read in [Some(&theirs), None] {
        let store = counted();
        store.fail_load(Some(StoreError::Unavailable {
            reason: "device locked".into(),
        }));
        let driver = start(store.clone());
        let error = failed(driver.resume(loaded(first_read)));
        assert_eq!(error.code().as_str(), "secret-store-unavailable");
        assert_eq!(store.create_calls() + store.save_calls(), 0);
        assert!(!driver.store_changed());
    }
}

#[test]
fn answers_that_do_not_fit_end_the_flow_and_touch_nothing() {
    let store = counted();
    let driver = start(store.clone());
    let error = failed(driver.resume(VaultAnswer::Stored));
    assert_eq!(error.code().as_str(), "invalid-argument");
    assert!(error.to_string().contains("read"), "{error}");
    assert_eq!(store.load_calls(), 0);

    // While a write is pending, a read's answer does not fit.
    let store = memory();
    let driver = start(store.clone());
    driver.resume(loaded(None));
    let error = failed(driver.resume(loaded(None)));
    assert_eq!(error.code().as_str(), "invalid-argument");
    assert!(error.to_string().contains("write"), "{error}");

    // Once over, answers are ignored and the final action stays.
    let final_action = driver.next_action();
    assert_eq!(driver.resume(VaultAnswer::Stored), final_action);
    assert_eq!(driver.resume(VaultAnswer::TimedOut), final_action);
    assert!(driver.is_finished());
}

#[test]
fn the_driver_names_the_timeout_and_refuses_zero() {
    let default = VaultDriver::start(memory(), None).unwrap();
    assert_eq!(default.timeout(), DEFAULT_VAULT_TIMEOUT);
    assert_eq!(DEFAULT_VAULT_TIMEOUT, Duration::from_secs(10));
    assert_eq!(
        default.next_action(),
        VaultAction::ReadVault {
            timeout: DEFAULT_VAULT_TIMEOUT
        }
    );
    for zero in [
        VaultDriver::start(memory(), Some(Duration::ZERO)).unwrap_err(),
        VaultDriver::start_adopt(memory(), "id".into(), Some(Duration::ZERO)).unwrap_err(),
    ] {
        assert_eq!(zero.code().as_str(), "invalid-argument");
    }
}

#[test]
fn a_shared_driver_is_driven_from_another_thread() {
    fn shareable<T: Send + Sync + 'static>(_: &T) {}
    let store = memory();
    let driver = Arc::new(start(store.clone()));
    shareable(&driver);
    let worker = Arc::clone(&driver);
    let theirs = Secret::from_bytes([7u8; 32]);
    let moved = theirs.clone();
    let action = std::thread::spawn(move || worker.resume(loaded(Some(&moved))))
        .join()
        .unwrap();
    assert_eq!(shared(action).outcome, VaultOutcome::Restored);
    assert_eq!(shared(driver.next_action()).secret, theirs);
    assert!(!format!("{driver:?}").contains(&*theirs.to_base64url()));
}
