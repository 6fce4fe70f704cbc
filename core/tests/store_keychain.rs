//! The Keychain store's platform-neutral layer: status mapping (from a vector
//! file), the item queries as data, and the store's logic run through the
//! conformance suite and through locked-device, entitlement, migration and
//! crash scenarios over the simulated Keychain. The Security framework calls
//! themselves only compile on Apple targets and are not exercised here.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code: a failed unwrap is a failed test

mod common;

use std::sync::Arc;

use localfirst_core::secret::Secret;
use localfirst_core::secret_store::conformance::StoreHarness;
use localfirst_core::secret_store::keychain::{
    map_status, status, status_name, Accessibility, DeviceState, ItemQuery, KeychainOptions,
    KeychainStore, NewItem, SimulatedItem, SimulatedKeychain,
};
use localfirst_core::secret_store::{
    AuthSecretStore, AuthSecretStoreExt as _, StorageKey, StoreError,
};
use localfirst_core::ErrorCode as _;
use serde_json::Value;

struct KeychainHarness {
    keychain: Arc<SimulatedKeychain>,
    options: KeychainOptions,
}

impl KeychainHarness {
    fn new(options: KeychainOptions) -> KeychainHarness {
        KeychainHarness {
            keychain: Arc::new(SimulatedKeychain::with_access_groups(
                "TEAMID.app",
                &["TEAMID.shared"],
            )),
            options,
        }
    }
}

impl StoreHarness for KeychainHarness {
    fn open(&self, key: StorageKey) -> Result<Box<dyn AuthSecretStore>, StoreError> {
        Ok(Box::new(KeychainStore::new(
            Arc::clone(&self.keychain),
            self.options.clone(),
            key,
        )))
    }
}

mod default_options {
    use super::*;
    localfirst_core::store_conformance_tests!(KeychainHarness::new(KeychainOptions::default()));
}

mod gated_shared_group {
    use super::*;
    localfirst_core::store_conformance_tests!(KeychainHarness::new(KeychainOptions {
        service: "com.example.app.identity".into(),
        accessibility: Accessibility::WhenPasscodeSetThisDeviceOnly,
        access_group: Some("TEAMID.shared".into()),
        user_presence: true,
    }));
}

fn store(
    keychain: &Arc<SimulatedKeychain>,
    options: KeychainOptions,
) -> KeychainStore<Arc<SimulatedKeychain>> {
    KeychainStore::new(Arc::clone(keychain), options, StorageKey::for_app("my-app"))
}

fn main_items(keychain: &SimulatedKeychain) -> Vec<SimulatedItem> {
    keychain
        .items()
        .into_iter()
        .filter(|item| item.service == "localfirst")
        .collect()
}

#[test]
fn status_mapping_matches_the_vector_file() {
    let text = common::data_text("keychain_status.json");
    let vectors: Value = serde_json::from_str(&text).unwrap();
    let list = vectors["statuses"].as_array().unwrap();
    assert!(list.len() >= 19);
    for entry in list {
        let code = i32::try_from(entry["status"].as_i64().unwrap()).unwrap();
        let error = map_status("read", code);
        assert_eq!(
            error.code(),
            entry["code"].as_str().unwrap(),
            "status {code}"
        );
        assert_eq!(status_name(code), entry["name"].as_str(), "status {code}");
        let message = error.to_string();
        assert!(message.contains(&code.to_string()), "{message}");
        if let Some(name) = entry["name"].as_str() {
            assert!(message.contains(name), "{message}");
        }
    }
}

#[test]
fn queries_are_built_as_documented() {
    let default = KeychainStore::new(
        SimulatedKeychain::new(),
        KeychainOptions::default(),
        StorageKey::for_app("my app"),
    );
    assert_eq!(KeychainOptions::default().tag(), "localfirst-v1;cku;open");
    assert_eq!(
        default.item_query(),
        ItemQuery {
            service: "localfirst".into(),
            account: "jazz-auth-secret:my%20app".into(),
            access_group: None,
            label: None,
        }
    );
    assert_eq!(
        default.current_item_query(),
        ItemQuery {
            label: Some("localfirst-v1;cku;open".into()),
            ..default.item_query()
        }
    );
    assert_eq!(
        default.new_item(),
        NewItem {
            query: default.current_item_query(),
            accessibility: Accessibility::AfterFirstUnlockThisDeviceOnly,
            user_presence: false,
        }
    );
    assert_eq!(default.pending_query().service, "localfirst.pending");
    assert_eq!(default.pending_query().account, "jazz-auth-secret:my%20app");

    let options = KeychainOptions {
        service: "svc".into(),
        accessibility: Accessibility::WhenUnlocked,
        access_group: Some("TEAMID.shared".into()),
        user_presence: true,
    };
    assert_eq!(options.tag(), "localfirst-v1;ak;presence");
    let gated = KeychainStore::new(SimulatedKeychain::new(), options, StorageKey::default());
    let item = gated.new_item();
    assert_eq!(item.query.service, "svc");
    assert_eq!(item.query.account, "jazz-auth-secret");
    assert_eq!(item.query.access_group.as_deref(), Some("TEAMID.shared"));
    assert_eq!(
        item.query.label.as_deref(),
        Some("localfirst-v1;ak;presence")
    );
    assert!(item.user_presence);
    // The loose query finds the item in any group, so a group change migrates it.
    assert_eq!(gated.item_query().access_group, None);
    let pending = gated.new_pending_item();
    assert_eq!(pending.query.service, "svc.pending");
    assert_eq!(pending.query.access_group.as_deref(), Some("TEAMID.shared"));

    let codes: Vec<&str> = [
        Accessibility::WhenUnlocked,
        Accessibility::WhenUnlockedThisDeviceOnly,
        Accessibility::AfterFirstUnlock,
        Accessibility::AfterFirstUnlockThisDeviceOnly,
        Accessibility::WhenPasscodeSetThisDeviceOnly,
    ]
    .iter()
    .map(|a| a.code())
    .collect();
    assert_eq!(codes, ["ak", "aku", "ck", "cku", "akpu"]);
}

#[test]
fn locked_device_is_unavailable_and_never_a_new_identity() {
    let keychain = Arc::new(SimulatedKeychain::new());
    let options = KeychainOptions {
        accessibility: Accessibility::WhenUnlockedThisDeviceOnly,
        ..KeychainOptions::default()
    };
    let store = store(&keychain, options);
    let original = store.get_or_create_secret().unwrap();

    for device in [DeviceState::Locked, DeviceState::BeforeFirstUnlock] {
        keychain.set_device_state(device);
        let err = store.load_secret().unwrap_err();
        assert_eq!(err.code(), "secret-store-unavailable", "{device:?}: {err}");
        assert!(err.to_string().contains("errSecInteractionNotAllowed"));
        let err = store.get_or_create_secret().unwrap_err();
        assert_eq!(err.code(), "secret-store-unavailable");
    }
    keychain.set_device_state(DeviceState::Unlocked);
    assert_eq!(store.load_secret().unwrap(), Some(original));
    assert_eq!(main_items(&keychain).len(), 1);
}

#[test]
fn after_first_unlock_reads_while_locked_but_not_before_first_unlock() {
    let keychain = Arc::new(SimulatedKeychain::new());
    let store = store(&keychain, KeychainOptions::default());
    let original = store.get_or_create_secret().unwrap();
    keychain.set_device_state(DeviceState::Locked);
    assert_eq!(store.get_or_create_secret().unwrap(), original);

    // Nothing stored and the device not yet unlocked since boot: the lookup
    // says "not found", but the new identity cannot be written, so
    // get_or_create fails instead of handing out a secret it did not keep.
    let empty = Arc::new(SimulatedKeychain::new());
    empty.set_device_state(DeviceState::BeforeFirstUnlock);
    let fresh = self::store(&empty, KeychainOptions::default());
    let err = fresh.get_or_create_secret().unwrap_err();
    assert_eq!(err.code(), "secret-store-unavailable", "{err}");
    assert!(empty.items().is_empty());
}

#[test]
fn cancelled_presence_prompt_is_unavailable() {
    let keychain = Arc::new(SimulatedKeychain::new());
    let options = KeychainOptions {
        user_presence: true,
        ..KeychainOptions::default()
    };
    let store = store(&keychain, options);
    let original = store.get_or_create_secret().unwrap();
    assert!(keychain.items()[0].user_presence);
    keychain.set_presence_refused(true);
    let err = store.get_or_create_secret().unwrap_err();
    assert_eq!(err.code(), "secret-store-unavailable");
    assert!(err.to_string().contains("errSecUserCanceled"), "{err}");
    keychain.set_presence_refused(false);
    assert_eq!(store.load_secret().unwrap(), Some(original));
}

#[test]
fn missing_entitlement_is_permission_denied_and_stores_nothing() {
    let keychain = Arc::new(SimulatedKeychain::new());
    let options = KeychainOptions {
        access_group: Some("OTHERTEAM.group".into()),
        ..KeychainOptions::default()
    };
    let store = store(&keychain, options);
    let err = store.get_or_create_secret().unwrap_err();
    assert_eq!(err.code(), "secret-store-permission-denied");
    assert!(err.to_string().contains("errSecMissingEntitlement"));
    assert!(keychain.items().is_empty());
}

#[test]
fn undecodable_data_is_corrupted_and_left_alone() {
    let keychain = Arc::new(SimulatedKeychain::new());
    let store = store(&keychain, KeychainOptions::default());
    for data in [
        &b"not base64url!"[..],
        &[0xff, 0x00][..],
        &[7u8; 32][..],
        b"",
    ] {
        let planted = SimulatedItem {
            service: "localfirst".into(),
            account: "jazz-auth-secret:my-app".into(),
            access_group: "TEAMID.app".into(),
            label: Some(KeychainOptions::default().tag()),
            accessibility: Accessibility::AfterFirstUnlockThisDeviceOnly,
            user_presence: false,
        };
        keychain.insert_raw(planted, data);
        let err = store.get_or_create_secret().unwrap_err();
        assert_eq!(err.code(), "secret-store-corrupted", "{data:?}");
        assert_eq!(keychain.items().len(), 1, "damaged item replaced");
        store.clear_secret().unwrap();
    }
}

#[test]
fn backend_failures_propagate_from_every_operation() {
    let keychain = Arc::new(SimulatedKeychain::new());
    let store = store(&keychain, KeychainOptions::default());
    let original = store.get_or_create_secret().unwrap();
    for code in [status::IO, status::PARAM, status::MISSING_ENTITLEMENT] {
        keychain.fail_all(Some(code));
        let expected = map_status("x", code).code();
        assert_eq!(store.load_secret().unwrap_err().code(), expected);
        assert_eq!(store.get_or_create_secret().unwrap_err().code(), expected);
        assert_eq!(
            store
                .save_secret(Secret::generate().unwrap())
                .unwrap_err()
                .code(),
            expected
        );
        assert_eq!(store.clear_secret().unwrap_err().code(), expected);
    }
    keychain.fail_all(None);
    assert_eq!(store.load_secret().unwrap(), Some(original));
}

#[test]
fn changed_options_migrate_by_delete_and_add() {
    let keychain = Arc::new(SimulatedKeychain::with_access_groups(
        "TEAMID.app",
        &["TEAMID.shared"],
    ));
    let old = KeychainOptions {
        accessibility: Accessibility::WhenUnlocked,
        ..KeychainOptions::default()
    };
    let original = store(&keychain, old).get_or_create_secret().unwrap();
    assert_eq!(
        main_items(&keychain)[0].accessibility,
        Accessibility::WhenUnlocked
    );

    let new = KeychainOptions {
        accessibility: Accessibility::AfterFirstUnlockThisDeviceOnly,
        access_group: Some("TEAMID.shared".into()),
        user_presence: true,
        ..KeychainOptions::default()
    };
    let migrated = store(&keychain, new.clone());
    assert_eq!(migrated.load_secret().unwrap(), Some(original.clone()));
    let items = keychain.items();
    assert_eq!(items.len(), 1, "{items:?}");
    assert_eq!(
        items[0].accessibility,
        Accessibility::AfterFirstUnlockThisDeviceOnly
    );
    assert_eq!(items[0].access_group, "TEAMID.shared");
    assert!(items[0].user_presence);
    assert_eq!(items[0].label.as_deref(), Some(new.tag().as_str()));
    // No further writes once the item carries the current options.
    let writes_before = keychain.operations().len();
    assert_eq!(migrated.load_secret().unwrap(), Some(original));
    let ops = keychain.operations();
    assert!(
        ops[writes_before..]
            .iter()
            .all(|op| op.starts_with("copy") || op.starts_with("exists")),
        "{ops:?}"
    );
}

#[test]
fn an_item_written_by_another_library_is_read_and_adopted() {
    // Another writer's item: same service/account, no label, base64url data.
    let keychain = Arc::new(SimulatedKeychain::new());
    let secret = Secret::from_bytes([42u8; 32]);
    keychain.insert_raw(
        SimulatedItem {
            service: "localfirst".into(),
            account: "jazz-auth-secret:my-app".into(),
            access_group: "TEAMID.app".into(),
            label: None,
            accessibility: Accessibility::WhenUnlocked,
            user_presence: false,
        },
        secret.to_base64url().as_bytes(),
    );
    let store = store(&keychain, KeychainOptions::default());
    assert_eq!(store.get_or_create_secret().unwrap(), secret);
    let items = keychain.items();
    assert_eq!(items.len(), 1);
    assert_eq!(items[0].label.as_deref(), Some("localfirst-v1;cku;open"));
}

/// Kills the "process" after each possible number of Keychain writes during a
/// save, then checks a fresh store finds the old or the new secret, never none.
#[test]
fn a_save_interrupted_at_any_step_loses_nothing() {
    for writes in 0..6 {
        let keychain = Arc::new(SimulatedKeychain::new());
        let old = Secret::from_bytes([1u8; 32]);
        let new = Secret::from_bytes([2u8; 32]);
        store(&keychain, KeychainOptions::default())
            .save_secret(old.clone())
            .unwrap();
        keychain.die_after_writes(Some(writes));
        let saved = store(&keychain, KeychainOptions::default()).save_secret(new.clone());
        keychain.die_after_writes(None);

        let after = store(&keychain, KeychainOptions::default());
        let found = after.load_secret().unwrap().expect("secret lost");
        if saved.is_ok() {
            assert_eq!(
                found, new,
                "writes {writes}: a successful save was not kept"
            );
        } else {
            assert!(found == old || found == new, "writes {writes}");
        }
        assert_eq!(
            after.get_or_create_secret().unwrap(),
            found,
            "writes {writes}"
        );
        assert_eq!(main_items(&keychain).len(), 1, "writes {writes}");
        // The next successful save leaves exactly one item and no pending copy.
        after.save_secret(found.clone()).unwrap();
        assert_eq!(keychain.items().len(), 1, "writes {writes}");
    }
}

#[test]
fn a_migration_interrupted_at_any_step_loses_nothing() {
    let old_options = KeychainOptions {
        accessibility: Accessibility::WhenUnlocked,
        ..KeychainOptions::default()
    };
    for writes in 0..6 {
        let keychain = Arc::new(SimulatedKeychain::new());
        let secret = store(&keychain, old_options.clone())
            .get_or_create_secret()
            .unwrap();
        keychain.die_after_writes(Some(writes));
        let _ = store(&keychain, KeychainOptions::default()).load_secret();
        keychain.die_after_writes(None);
        let after = store(&keychain, KeychainOptions::default());
        assert_eq!(
            after.load_secret().unwrap(),
            Some(secret.clone()),
            "writes {writes}"
        );
        let main = main_items(&keychain);
        assert_eq!(main.len(), 1, "writes {writes}: {main:?}");
        assert_eq!(
            main[0].accessibility,
            Accessibility::AfterFirstUnlockThisDeviceOnly
        );
    }
}

#[test]
fn clear_removes_the_item_and_any_pending_copy() {
    let keychain = Arc::new(SimulatedKeychain::new());
    let store = store(&keychain, KeychainOptions::default());
    store.get_or_create_secret().unwrap();
    // Leave a pending copy behind: die after writing it.
    keychain.die_after_writes(Some(2));
    assert!(store.save_secret(Secret::generate().unwrap()).is_err());
    keychain.die_after_writes(None);
    assert_eq!(keychain.items().len(), 2);
    store.clear_secret().unwrap();
    assert!(keychain.items().is_empty());
    assert_eq!(store.load_secret().unwrap(), None);
}

/// The Keychain operations logged from `from` on that change or remove items.
fn destructive_ops(keychain: &SimulatedKeychain, from: usize) -> Vec<String> {
    keychain.operations()[from..]
        .iter()
        .filter(|op| op.starts_with("delete") || op.starts_with("update"))
        .cloned()
        .collect()
}

/// A known Keychain pitfall: in a prewarmed app the Keychain can answer
/// "not found" for an identity that is there. `get_or_create_secret` must then
/// hand back the ORIGINAL secret (or fail), never write a new one over it, and
/// the Keychain must still hold the original. Each case lists how many data
/// reads and attribute lookups lie, and what `get_or_create` must return.
#[test]
fn a_spurious_not_found_never_replaces_the_identity() {
    const ALWAYS: usize = usize::MAX;
    let cases = [
        // Only the first read lies (the reported reproduction).
        (1, 0, Some(())),
        // Both reads of the load lie; the attribute lookup tells the truth.
        (2, 0, Some(())),
        // Every lookup lies until the add reports the duplicate, then data reads work.
        (2, 2, Some(())),
        // Data reads keep lying: the item is known to exist but cannot be read.
        (ALWAYS, 0, None),
        // Everything lies: the add's duplicate check is the last line of defence.
        (ALWAYS, ALWAYS, None),
    ];
    for (data_reads, attribute_reads, returns_original) in cases {
        let case = format!("data reads {data_reads}, attribute reads {attribute_reads}");
        let keychain = Arc::new(SimulatedKeychain::new());
        let original = store(&keychain, KeychainOptions::default())
            .get_or_create_secret()
            .unwrap();
        keychain.spurious_not_found(data_reads, attribute_reads);
        let before = keychain.operations().len();
        let result = store(&keychain, KeychainOptions::default()).get_or_create_secret();
        match returns_original {
            Some(()) => assert_eq!(result.unwrap(), original, "{case}"),
            None => {
                let err = result.unwrap_err();
                assert_eq!(err.code(), "secret-store-unavailable", "{case}: {err}");
            }
        }
        assert_eq!(
            destructive_ops(&keychain, before),
            Vec::<String>::new(),
            "{case}"
        );
        keychain.spurious_not_found(0, 0);
        assert_eq!(main_items(&keychain).len(), 1, "{case}");
        let reader = store(&keychain, KeychainOptions::default());
        assert_eq!(
            reader.load_secret().unwrap(),
            Some(original.clone()),
            "{case}"
        );
        assert_eq!(reader.get_or_create_secret().unwrap(), original, "{case}");
    }
}

/// The options moved the item to another access group, and the reads lie: the
/// create must find the item in its old group instead of adding a second
/// identity beside it in the new one.
#[test]
fn a_spurious_not_found_never_adds_a_second_identity_in_another_group() {
    let keychain = Arc::new(SimulatedKeychain::with_access_groups(
        "TEAMID.app",
        &["TEAMID.shared"],
    ));
    let original = store(&keychain, KeychainOptions::default())
        .get_or_create_secret()
        .unwrap();
    let shared = KeychainOptions {
        access_group: Some("TEAMID.shared".into()),
        ..KeychainOptions::default()
    };
    keychain.spurious_not_found(2, 0);
    let before = keychain.operations().len();
    assert_eq!(
        store(&keychain, shared.clone())
            .get_or_create_secret()
            .unwrap(),
        original
    );
    assert_eq!(destructive_ops(&keychain, before), Vec::<String>::new());
    assert_eq!(main_items(&keychain).len(), 1, "{:?}", keychain.items());
    // The next truthful load migrates the one item to the shared group.
    assert_eq!(
        store(&keychain, shared).load_secret().unwrap(),
        Some(original)
    );
    assert_eq!(main_items(&keychain)[0].access_group, "TEAMID.shared");
}

/// A save died after deleting the item, leaving only its pending copy, and the
/// reads lie: the create returns the secret of the pending copy and writes
/// nothing; the next truthful load restores the item from it.
#[test]
fn a_spurious_not_found_never_buries_a_pending_copy() {
    let keychain = Arc::new(SimulatedKeychain::new());
    let old = Secret::from_bytes([5u8; 32]);
    let new = Secret::from_bytes([6u8; 32]);
    store(&keychain, KeychainOptions::default())
        .save_secret(old)
        .unwrap();
    // Writes of a save: delete stale pending copy, add pending copy, delete item.
    keychain.die_after_writes(Some(3));
    assert!(store(&keychain, KeychainOptions::default())
        .save_secret(new.clone())
        .is_err());
    keychain.die_after_writes(None);
    assert!(main_items(&keychain).is_empty());

    keychain.spurious_not_found(2, 0);
    let before = keychain.operations().len();
    let created = store(&keychain, KeychainOptions::default())
        .get_or_create_secret()
        .unwrap();
    assert_eq!(created, new);
    assert_eq!(destructive_ops(&keychain, before), Vec::<String>::new());
    let reader = store(&keychain, KeychainOptions::default());
    assert_eq!(reader.load_secret().unwrap(), Some(new));
    assert_eq!(keychain.items().len(), 1, "{:?}", keychain.items());
}
