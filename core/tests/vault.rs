//! The vault flow against an in-memory vault and real secret stores (memory and
//! file): empty vault, populated vault, another identity, corrupt value, vault
//! down or silent, a write that does not read back, and adopting the vault's
//! identity. Time is paused: timeouts fire without waiting.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code: a failed unwrap is a failed test

use std::sync::Arc;
use std::time::Duration;

use localfirst_core::error::ErrorCode as _;
use localfirst_core::identity::Identity;
use localfirst_core::recovery::memory_vault::{MemoryVault, VaultFaults};
use localfirst_core::recovery::vault::{
    adopt_vault_identity, restore_or_backup_with_vault, VaultError, VaultIdentity, VaultOptions,
    VaultOutcome, VaultValue,
};
use localfirst_core::secret::Secret;
use localfirst_core::secret_store::conformance::FaultInjectingStore;
use localfirst_core::secret_store::{
    AuthSecretStore, FileStore, MemoryStore, StorageKey, StoreError,
};

/// Default faults changed by `set`.
fn faults(set: impl FnOnce(&mut VaultFaults)) -> VaultFaults {
    let mut faults = VaultFaults::default();
    set(&mut faults);
    faults
}

fn store() -> Arc<MemoryStore> {
    Arc::new(MemoryStore::new(StorageKey::for_app("vault-test")))
}

fn user(secret: &Secret) -> String {
    Identity::from_secret(secret).user_id().to_string()
}

/// The flow with default options over `vault`.
async fn run(
    vault: &MemoryVault,
    store: Arc<dyn AuthSecretStore>,
) -> Result<VaultIdentity, VaultError> {
    restore_or_backup_with_vault(Arc::new(vault.clone()), store, VaultOptions::default()).await
}

/// Only the outcome of [`run`].
async fn flow(
    vault: &MemoryVault,
    store: Arc<dyn AuthSecretStore>,
) -> Result<VaultOutcome, VaultError> {
    run(vault, store).await.map(|identity| identity.outcome)
}

#[tokio::test(start_paused = true)]
async fn empty_vault_new_device_creates_backs_up_and_reads_back() {
    let vault = MemoryVault::new();
    let store = store();
    let identity = run(&vault, store.clone()).await.unwrap();
    assert_eq!(identity.outcome, VaultOutcome::BackedUp { created: true });
    let stored = store.load_secret().unwrap().unwrap();
    assert_eq!(stored, identity.secret);
    assert_eq!(identity.user_id, user(&stored));
    assert_eq!(vault.value(), Some(VaultValue::of(&stored)));
    // load, store, read back.
    assert_eq!((vault.loads(), vault.stores()), (2, 1));

    // A second run changes nothing.
    assert_eq!(
        flow(&vault, store.clone()).await.unwrap(),
        VaultOutcome::InSync
    );
    assert_eq!(store.load_secret().unwrap(), Some(stored));
}

#[tokio::test(start_paused = true)]
async fn empty_vault_existing_device_backs_up_its_secret() {
    let vault = MemoryVault::new();
    let store = store();
    let mine = Secret::from_bytes([3u8; 32]);
    store.save_secret(mine.clone()).unwrap();
    let outcome = flow(&vault, store.clone()).await.unwrap();
    assert_eq!(outcome, VaultOutcome::BackedUp { created: false });
    assert_eq!(vault.value(), Some(VaultValue::of(&mine)));
    assert_eq!(store.load_secret().unwrap(), Some(mine));
}

#[tokio::test(start_paused = true)]
async fn populated_vault_restores_onto_a_new_device() {
    let theirs = Secret::from_bytes([4u8; 32]);
    let vault = MemoryVault::holding(VaultValue::of(&theirs));
    let store = store();
    let identity = run(&vault, store.clone()).await.unwrap();
    assert_eq!(identity.outcome, VaultOutcome::Restored);
    assert_eq!(identity.user_id, user(&theirs));
    assert_eq!(store.load_secret().unwrap(), Some(theirs));
    assert_eq!(vault.stores(), 0, "a restore never writes the vault");
}

#[tokio::test(start_paused = true)]
async fn populated_vault_on_a_file_store_device() {
    let dir = tempfile::tempdir().unwrap();
    let theirs = Secret::from_bytes([5u8; 32]);
    let vault = MemoryVault::holding(VaultValue::of(&theirs));
    let file = Arc::new(FileStore::open(dir.path(), StorageKey::for_app("vault-test")).unwrap());
    assert_eq!(
        flow(&vault, file.clone()).await.unwrap(),
        VaultOutcome::Restored
    );
    let reopened = FileStore::open(dir.path(), StorageKey::for_app("vault-test")).unwrap();
    assert_eq!(reopened.load_secret().unwrap(), Some(theirs));
    assert_eq!(flow(&vault, file).await.unwrap(), VaultOutcome::InSync);
}

#[tokio::test(start_paused = true)]
async fn another_identity_in_the_vault_is_reported_never_replaced_then_adopted() {
    let theirs = Secret::from_bytes([6u8; 32]);
    let mine = Secret::from_bytes([7u8; 32]);
    let vault = MemoryVault::holding(VaultValue::of(&theirs));
    let store = store();
    store.save_secret(mine.clone()).unwrap();
    let error = flow(&vault, store.clone()).await.unwrap_err();
    assert_eq!(error.code(), "vault-identity-conflict");
    assert_eq!(
        error,
        VaultError::IdentityConflict {
            device_user_id: user(&mine),
            vault_user_id: user(&theirs),
        }
    );
    assert_eq!(store.load_secret().unwrap(), Some(mine.clone()));
    assert_eq!(vault.value(), Some(VaultValue::of(&theirs)));
    assert_eq!(vault.stores(), 0);

    // Adopting an id the vault does not hold replaces nothing.
    let wrong = adopt_vault_identity(
        Arc::new(vault.clone()),
        store.clone(),
        &user(&mine),
        VaultOptions::default(),
    )
    .await
    .unwrap_err();
    assert_eq!(wrong.code(), "vault-identity-conflict");
    assert_eq!(store.load_secret().unwrap(), Some(mine.clone()));

    // The explicit follow-up takes the vault's identity and hands back the old one.
    let adopted = adopt_vault_identity(
        Arc::new(vault.clone()),
        store.clone(),
        &user(&theirs),
        VaultOptions::default(),
    )
    .await
    .unwrap();
    assert_eq!(adopted.user_id, user(&theirs));
    assert_eq!(adopted.replaced, Some(mine));
    assert_eq!(store.load_secret().unwrap(), Some(theirs));
    assert_eq!(flow(&vault, store).await.unwrap(), VaultOutcome::InSync);
}

#[tokio::test(start_paused = true)]
async fn a_corrupt_vault_value_replaces_nothing() {
    for bad in [
        "",
        "not a secret",
        "QUJD",
        &"A".repeat(44),
        "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=",
    ] {
        let vault = MemoryVault::holding(VaultValue::new(bad));
        for device in [None, Some(Secret::from_bytes([8u8; 32]))] {
            let store = store();
            if let Some(secret) = &device {
                store.save_secret(secret.clone()).unwrap();
            }
            let error = flow(&vault, store.clone()).await.unwrap_err();
            assert_eq!(error.code(), "vault-corrupt", "{bad:?}");
            assert_eq!(store.load_secret().unwrap(), device, "{bad:?}");
            assert_eq!(vault.value(), Some(VaultValue::new(bad)));
            assert!(
                !format!("{error:?}").contains(bad) || bad.len() < 5,
                "{error:?}"
            );
        }
    }
}

#[tokio::test(start_paused = true)]
async fn a_vault_that_fails_or_hangs_never_leads_to_a_new_identity() {
    let cases = [
        (
            faults(|f| f.load_error = Some("HTTP 503".into())),
            "vault-unavailable",
        ),
        (faults(|f| f.hang_load = true), "vault-timeout"),
    ];
    for (faults, code) in cases {
        let vault = MemoryVault::new();
        vault.set_faults(faults);
        let store = store();
        let started = tokio::time::Instant::now();
        let error = restore_or_backup_with_vault(
            Arc::new(vault.clone()),
            store.clone(),
            VaultOptions::with_timeout(Duration::from_secs(3)),
        )
        .await
        .unwrap_err();
        assert_eq!(error.code(), code, "{error}");
        assert_eq!(
            store.load_secret().unwrap(),
            None,
            "{code}: an identity was created"
        );
        assert_eq!(vault.stores(), 0);
        if code == "vault-timeout" {
            assert_eq!(
                error,
                VaultError::Timeout {
                    timeout: Duration::from_secs(3)
                }
            );
            assert!(started.elapsed() >= Duration::from_secs(3));
        }
    }
}

#[tokio::test(start_paused = true)]
async fn a_failed_or_silent_backup_write_keeps_the_device_secret() {
    let cases = [
        (
            faults(|f| f.store_error = Some("quota".into())),
            "vault-unavailable",
        ),
        (faults(|f| f.hang_store = true), "vault-timeout"),
        (faults(|f| f.drop_writes = true), "vault-write-unconfirmed"),
    ];
    for (faults, code) in cases {
        let vault = MemoryVault::new();
        vault.set_faults(faults);
        let store = store();
        let mine = Secret::from_bytes([9u8; 32]);
        store.save_secret(mine.clone()).unwrap();
        let error = flow(&vault, store.clone()).await.unwrap_err();
        assert_eq!(error.code(), code, "{error}");
        assert_eq!(store.load_secret().unwrap(), Some(mine), "{code}");
        assert_eq!(vault.stores(), 1);
    }
}

#[tokio::test(start_paused = true)]
async fn a_write_that_reads_back_another_identity_is_a_conflict() {
    let winner = Secret::from_bytes([10u8; 32]);
    let vault = MemoryVault::new();
    vault.set_faults(faults(|f| f.store_instead = Some(VaultValue::of(&winner))));
    let store = store();
    let error = flow(&vault, store.clone()).await.unwrap_err();
    let mine = store.load_secret().unwrap().unwrap();
    assert_eq!(
        error,
        VaultError::IdentityConflict {
            device_user_id: user(&mine),
            vault_user_id: user(&winner),
        }
    );
}

#[tokio::test(start_paused = true)]
async fn store_failures_keep_their_own_codes_and_mint_nothing() {
    let theirs = Secret::from_bytes([11u8; 32]);
    let vault = MemoryVault::holding(VaultValue::of(&theirs));
    let faulty = Arc::new(FaultInjectingStore::new(
        Box::new(MemoryStore::new(StorageKey::for_app("vault-test"))) as Box<dyn AuthSecretStore>,
    ));
    faulty.fail_load(Some(StoreError::Unavailable {
        reason: "device locked".into(),
    }));
    let error = flow(&vault, faulty.clone()).await.unwrap_err();
    assert_eq!(error.code(), "secret-store-unavailable");
    assert_eq!(faulty.create_calls() + faulty.save_calls(), 0);

    // Vault empty and a locked store: nothing is created, nothing written to the vault.
    let empty = MemoryVault::new();
    let error = flow(&empty, faulty.clone()).await.unwrap_err();
    assert_eq!(error.code(), "secret-store-unavailable");
    assert_eq!(empty.stores(), 0);
    assert_eq!(faulty.create_calls() + faulty.save_calls(), 0);
}

#[test]
fn outside_a_runtime_the_flow_reports_a_code_instead_of_panicking() {
    let vault = MemoryVault::new();
    let future = restore_or_backup_with_vault(Arc::new(vault), store(), VaultOptions::default());
    let error = futures_lite_block_on(future).unwrap_err();
    assert_eq!(error.code(), "runtime-unavailable");

    // With a runtime given, any executor can await it.
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    let vault = MemoryVault::new();
    let options = VaultOptions::default().on_runtime(runtime.handle().clone());
    let outcome = futures_lite_block_on(restore_or_backup_with_vault(
        Arc::new(vault),
        store(),
        options,
    ))
    .unwrap();
    assert_eq!(outcome.outcome, VaultOutcome::BackedUp { created: true });
}

#[test]
fn vault_values_are_redacted() {
    let secret = Secret::from_bytes([12u8; 32]);
    let value = VaultValue::of(&secret);
    assert_eq!(format!("{value:?}"), "VaultValue(<redacted>)");
    assert_eq!(value.expose(), &*secret.to_base64url());
    assert_eq!(value.to_secret().unwrap(), secret);
}

/// Polls a future to completion on this thread (no tokio context).
fn futures_lite_block_on<F: std::future::Future>(future: F) -> F::Output {
    use std::task::{Context, Poll, Wake, Waker};
    struct Unpark(std::thread::Thread);
    impl Wake for Unpark {
        fn wake(self: Arc<Self>) {
            self.0.unpark();
        }
    }
    let waker = Waker::from(Arc::new(Unpark(std::thread::current())));
    let mut context = Context::from_waker(&waker);
    let mut future = std::pin::pin!(future);
    loop {
        if let Poll::Ready(output) = future.as_mut().poll(&mut context) {
            return output;
        }
        std::thread::park();
    }
}
