//! The operations every shell forwards to (`localfirst_core::app`): the storage
//! key an app's options name, app-id validation, the identity-proof mint rule on
//! every mint path, and the Jazz secret import. Each answer is checked against a
//! corpus under `tests/data/app/` that the shells' suites can read too.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code: a failed unwrap is a failed test

mod common;

use std::sync::Arc;

use localfirst_core::app::{
    identity_proof_for, import_jazz_secret, storage_key_for, validate_app_id, JazzImport,
    JazzImportOutcome, DEFAULT_PROOF_TTL_SECONDS, MAX_IDENTITY_PROOF_TTL_SECONDS,
};
use localfirst_core::clock::FixedClock;
use localfirst_core::db::{AuthConfig, Db, DbConfig, DbDeps, StorageMode};
use localfirst_core::error::ErrorCode as _;
use localfirst_core::identity::Identity;
use localfirst_core::secret::Secret;
use localfirst_core::secret_store::conformance::FaultInjectingStore;
use localfirst_core::secret_store::{
    AuthSecretStore, FileStore, MemoryStore, StorageKey, StoreError,
};
use localfirst_core::token;
use serde_json::Value;

use common::data_json;

fn text(options: &Value, name: &str) -> Option<String> {
    options.get(name).map(|v| v.as_str().unwrap().to_owned())
}

#[test]
fn storage_keys_match_the_corpus() {
    let corpus = data_json("app/storage_keys.json");
    let cases = corpus["cases"].as_array().unwrap();
    assert!(cases.len() >= 20);
    for case in cases {
        let options = &case["options"];
        let chosen = storage_key_for(
            text(options, "key"),
            text(options, "appId"),
            text(options, "userId"),
            text(options, "sessionId"),
        );
        match (case.get("key"), case.get("code")) {
            (Some(key), None) => {
                assert_eq!(chosen.unwrap().as_str(), key.as_str().unwrap(), "{options}")
            }
            (None, Some(code)) => {
                let error = chosen.unwrap_err();
                assert_eq!(error.code().as_str(), code.as_str().unwrap(), "{options}");
            }
            _ => panic!("a case has either key or code: {case}"),
        }
    }
}

/// The combination is refused with its own message (not the one of a blank key),
/// and refusing it touches nothing: it is a pure function of the options.
#[test]
fn a_key_with_ids_is_refused_with_a_message_that_says_so() {
    let error = storage_key_for(Some("k".into()), Some("a".into()), None, None).unwrap_err();
    assert_eq!(error, StoreError::ExplicitKeyWithParts);
    assert!(
        error.to_string().contains("app, user or session id"),
        "{error}"
    );
    let blank = storage_key_for(Some(" ".into()), None, None, None).unwrap_err();
    assert_eq!(blank, StoreError::InvalidStorageKey);
}

fn app_id(entry: &Value) -> String {
    match entry {
        Value::String(id) => id.clone(),
        Value::Object(spec) => spec["repeat"]
            .as_str()
            .unwrap()
            .repeat(usize::try_from(spec["times"].as_u64().unwrap()).unwrap()),
        other => panic!("not an app id entry: {other}"),
    }
}

fn ids(corpus: &Value, list: &str) -> Vec<String> {
    corpus[list]
        .as_array()
        .unwrap()
        .iter()
        .map(app_id)
        .collect()
}

#[test]
fn app_ids_are_judged_as_db_open_judges_them() {
    let corpus = data_json("app/app_ids.json");
    let secret = Secret::from_bytes([1u8; 32]);
    for id in ids(&corpus, "accepted") {
        validate_app_id(id.clone()).unwrap();
        let config = DbConfig::new(
            id.clone(),
            StorageMode::InMemory,
            AuthConfig::LocalFirst(secret.clone()),
        );
        Db::open(config, DbDeps::default())
            .unwrap()
            .logout()
            .unwrap();
    }
    for id in ids(&corpus, "refused") {
        let error = validate_app_id(id.clone()).unwrap_err();
        assert_eq!(error.code().as_str(), "invalid-config", "{id:?}");
        let config = DbConfig::new(
            id.clone(),
            StorageMode::InMemory,
            AuthConfig::LocalFirst(secret.clone()),
        );
        let opened = Db::open(config, DbDeps::default()).unwrap_err();
        assert_eq!(opened.to_string(), error.to_string(), "{id:?}");
    }
}

/// Review finding: `token::identity_proof` (and every shell forwarding to it)
/// minted proofs of any lifetime, which every verifier of ours then refused.
#[test]
fn no_mint_path_makes_a_proof_the_default_verifier_refuses() {
    let secret = Secret::from_bytes([2u8; 32]);
    let clock = FixedClock::new(1_700_000_000);
    for ttl in [1, DEFAULT_PROOF_TTL_SECONDS, MAX_IDENTITY_PROOF_TTL_SECONDS] {
        let proof = token::identity_proof(&secret, ttl, "app", &clock).unwrap();
        assert!(token::verify_local_first_identity_proof(&proof, "app", &clock).ok);
    }
    for ttl in [0, MAX_IDENTITY_PROOF_TTL_SECONDS + 1, 900, 3600, u64::MAX] {
        let error = token::identity_proof(&secret, ttl, "app", &clock).unwrap_err();
        assert_eq!(error.code().as_str(), "invalid-ttl", "{ttl}");
        let via_app = identity_proof_for(&secret, Some(ttl), "app".into(), &clock).unwrap_err();
        assert_eq!(via_app, error, "{ttl}");
    }
    let too_long = token::identity_proof(&secret, 601, "app", &clock).unwrap_err();
    assert!(too_long.to_string().contains("600"), "{too_long}");

    // The Db's path applies the same rule and the same codes.
    let clock = Arc::new(FixedClock::new(1_700_000_000));
    let db = Db::open(
        DbConfig::new(
            "app",
            StorageMode::InMemory,
            AuthConfig::LocalFirst(secret.clone()),
        ),
        DbDeps::with_clock(clock.clone()),
    )
    .unwrap();
    for ttl in [0, 601, 3600] {
        let error = db.get_local_first_identity_proof(ttl, None).unwrap_err();
        assert_eq!(error.code().as_str(), "invalid-ttl", "{ttl}");
    }
    let blank = db
        .get_local_first_identity_proof(60, Some(" ".into()))
        .unwrap_err();
    assert_eq!(blank.code().as_str(), "invalid-argument");
}

#[test]
fn proofs_need_an_audience_and_default_to_sixty_seconds() {
    let secret = Secret::from_bytes([3u8; 32]);
    let clock = FixedClock::new(1_700_000_000);
    for blank in ["", "  ", "\t"] {
        let error = identity_proof_for(&secret, None, blank.into(), &clock).unwrap_err();
        assert_eq!(error.code().as_str(), "invalid-argument", "{blank:?}");
        let direct = token::identity_proof(&secret, 60, blank, &clock).unwrap_err();
        assert_eq!(direct, error);
    }
    let proof = identity_proof_for(&secret, None, "signup".into(), &clock).unwrap();
    let later = FixedClock::new(1_700_000_000 + DEFAULT_PROOF_TTL_SECONDS - 1);
    let checked = token::verify_local_first_identity_proof(&proof, "signup", &later);
    assert!(checked.ok, "{checked:?}");
    let expired = FixedClock::new(1_700_000_000 + DEFAULT_PROOF_TTL_SECONDS);
    assert!(!token::verify_local_first_identity_proof(&proof, "signup", &expired).ok);
    assert_eq!(
        checked.id.as_deref(),
        Some(
            Identity::from_secret(&secret)
                .user_id()
                .to_string()
                .as_str()
        )
    );
}

fn user(secret: &Secret) -> String {
    Identity::from_secret(secret).user_id().to_string()
}

fn memory() -> Arc<MemoryStore> {
    Arc::new(MemoryStore::new(StorageKey::for_app("jazz-import")))
}

fn text_of(secret: &Secret) -> String {
    secret.to_base64url().to_string()
}

#[test]
fn jazz_import_copies_into_an_empty_store_and_says_to_remove_the_source() {
    let jazz = Secret::from_bytes([4u8; 32]);
    let store = memory();
    let imported = import_jazz_secret(&*store, Some(text_of(&jazz))).unwrap();
    assert_eq!(
        imported,
        JazzImport {
            outcome: JazzImportOutcome::Imported {
                user_id: user(&jazz)
            },
            remove_source: true,
        }
    );
    assert_eq!(store.load_secret().unwrap(), Some(jazz.clone()));

    // Running it again (Jazz's copy could not be deleted) finds it there.
    let again = import_jazz_secret(&*store, Some(text_of(&jazz))).unwrap();
    assert_eq!(
        again,
        JazzImport {
            outcome: JazzImportOutcome::AlreadyImported {
                user_id: user(&jazz)
            },
            remove_source: true,
        }
    );

    // Nothing stored by Jazz: nothing to do, nothing to remove.
    let none = import_jazz_secret(&*memory(), None).unwrap();
    assert_eq!(
        none,
        JazzImport {
            outcome: JazzImportOutcome::NotFound,
            remove_source: false,
        }
    );
}

#[test]
fn jazz_import_onto_a_file_store_survives_a_reopen() {
    let dir = tempfile::tempdir().unwrap();
    let key = StorageKey::for_app("jazz-import");
    let jazz = Secret::from_bytes([5u8; 32]);
    let file = Arc::new(FileStore::open(dir.path(), key.clone()).unwrap());
    let imported = import_jazz_secret(&*file, Some(text_of(&jazz))).unwrap();
    assert!(imported.remove_source);
    let reopened = FileStore::open(dir.path(), key).unwrap();
    assert_eq!(reopened.load_secret().unwrap(), Some(jazz));
}

#[test]
fn jazz_import_never_replaces_another_identity() {
    let jazz = Secret::from_bytes([6u8; 32]);
    let ours = Secret::from_bytes([7u8; 32]);
    let store = memory();
    store.save_secret(ours.clone()).unwrap();
    let conflict = import_jazz_secret(&*store, Some(text_of(&jazz))).unwrap();
    assert_eq!(
        conflict,
        JazzImport {
            outcome: JazzImportOutcome::Conflict {
                user_id: user(&jazz),
                existing_user_id: user(&ours),
            },
            remove_source: false,
        }
    );
    assert_eq!(store.load_secret().unwrap(), Some(ours.clone()));

    // A store whose read wrongly says "absent": the write that never replaces
    // finds our identity, and the import reports the conflict.
    let flaky = Arc::new(FaultInjectingStore::new(
        Box::new(MemoryStore::new(StorageKey::for_app("jazz-import"))) as Box<dyn AuthSecretStore>,
    ));
    flaky.save_secret(ours.clone()).unwrap();
    flaky.fake_absent_loads(1);
    let raced = import_jazz_secret(&*flaky, Some(text_of(&jazz))).unwrap();
    assert_eq!(
        raced.outcome,
        JazzImportOutcome::Conflict {
            user_id: user(&jazz),
            existing_user_id: user(&ours),
        }
    );
    assert!(!raced.remove_source);
    assert_eq!(flaky.inner().load_secret().unwrap(), Some(ours));
}

#[test]
fn a_malformed_jazz_value_touches_nothing() {
    let ours = Secret::from_bytes([8u8; 32]);
    for bad in [
        "",
        "not a secret",
        "QUJD",
        &"A".repeat(44),
        "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=",
    ] {
        for held in [None, Some(ours.clone())] {
            let store = Arc::new(FaultInjectingStore::new(Box::new(MemoryStore::new(
                StorageKey::for_app("jazz-import"),
            ))
                as Box<dyn AuthSecretStore>));
            if let Some(secret) = &held {
                store.inner().save_secret(secret.clone()).unwrap();
            }
            let error = import_jazz_secret(&*store, Some(bad.to_owned())).unwrap_err();
            assert_eq!(error.code().as_str(), "secret-store-corrupted", "{bad:?}");
            assert!(error.to_string().contains("left in place"), "{error}");
            assert!(bad.len() < 5 || !error.to_string().contains(bad), "{error}");
            assert_eq!(store.load_calls(), 0, "{bad:?}: the store was read");
            assert_eq!(store.create_calls() + store.save_calls(), 0, "{bad:?}");
            assert_eq!(store.inner().load_secret().unwrap(), held);
        }
    }
}

#[test]
fn jazz_import_store_failures_keep_their_codes_and_keep_the_source() {
    let jazz = Secret::from_bytes([9u8; 32]);
    let store = Arc::new(FaultInjectingStore::new(
        Box::new(MemoryStore::new(StorageKey::for_app("jazz-import"))) as Box<dyn AuthSecretStore>,
    ));
    store.fail_load(Some(StoreError::Unavailable {
        reason: "device locked".into(),
    }));
    let error = import_jazz_secret(&*store, Some(text_of(&jazz))).unwrap_err();
    assert_eq!(error.code().as_str(), "secret-store-unavailable");
    assert_eq!(store.create_calls() + store.save_calls(), 0);
    store.fail_load(None);

    // Stored, but the read-back does not find it: an error, so the caller keeps
    // Jazz's copy.
    store.fake_absent_loads(usize::MAX);
    let error = import_jazz_secret(&*store, Some(text_of(&jazz))).unwrap_err();
    assert_eq!(error.code().as_str(), "secret-store-backend");
    assert!(error.to_string().contains("read back"), "{error}");
}
