//! Errors as the boundaries see them: `ErrorCode::report` gives the code, the
//! message and the typed details of real failures (a bad phrase, a vault conflict,
//! a refused write, a duplicate row), and keeps them through the `DbError` wrappers.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code: a failed unwrap is a failed test

use localfirst_core::auth::AuthFailure;
use localfirst_core::db::{AuthConfig, Db, DbConfig, DbDeps, DbError, RowValues, StorageMode};
use localfirst_core::error::{Code, ErrorCode as _, ErrorDetails, ErrorReport};
use localfirst_core::identity::Identity;
use localfirst_core::local_db::StorageError;
use localfirst_core::phrase::{PhraseError, RecoveryPhrase};
use localfirst_core::policy::{Operation, PolicySet};
use localfirst_core::recovery::passkey::PasskeyError;
use localfirst_core::recovery::vault::{restore_from_vault_value, VaultError, VaultValue};
use localfirst_core::secret::Secret;
use localfirst_core::secret_store::{AuthSecretStore as _, MemoryStore, StorageKey, StoreError};
use serde_json::json;

fn values(value: serde_json::Value) -> RowValues {
    RowValues::from_json_str(&value.to_string()).unwrap()
}

fn open(auth: AuthConfig, policies: Option<PolicySet>) -> Db {
    let mut config = DbConfig::new("report-app", StorageMode::InMemory, auth);
    config.policies = policies;
    Db::open(config, DbDeps::default()).unwrap()
}

#[test]
fn a_wrong_word_reports_its_position_and_the_word() {
    let mut words = vec!["abandon"; 24];
    words[6] = "Zebraa";
    let report = RecoveryPhrase::parse(&words.join(" "))
        .unwrap_err()
        .report();
    assert_eq!(report.code, Code::InvalidWord);
    assert_eq!(
        report.details,
        Some(ErrorDetails::InvalidWord {
            position: 7,
            word: "zebraa".into()
        })
    );
    assert!(report.reason.contains("zebraa"), "{}", report.reason);

    let short = RecoveryPhrase::parse("abandon abandon")
        .unwrap_err()
        .report();
    assert_eq!(short.code, Code::InvalidLength);
    assert_eq!(short.details, Some(ErrorDetails::PhraseLength { got: 2 }));
    assert_eq!(short.reason, "Expected 24 words, got 2");

    let checksum = PhraseError::InvalidChecksum.report();
    assert_eq!(
        (checksum.code, checksum.details),
        (Code::InvalidChecksum, None)
    );
}

#[test]
fn a_vault_conflict_reports_both_user_ids() {
    let store = MemoryStore::new(StorageKey::for_app("report-app"));
    let mine = Secret::from_bytes([1; 32]);
    let theirs = Secret::from_bytes([2; 32]);
    store.save_secret(mine.clone()).unwrap();
    let error = restore_from_vault_value(&store, &VaultValue::of(&theirs)).unwrap_err();
    let report = error.report();
    assert_eq!(report.code, Code::VaultIdentityConflict);
    assert_eq!(
        report.details,
        Some(ErrorDetails::IdentityConflict {
            device_user_id: Identity::from_secret(&mine).user_id().to_string(),
            vault_user_id: Identity::from_secret(&theirs).user_id().to_string(),
        })
    );
    // Nothing was replaced.
    assert_eq!(store.load_secret().unwrap(), Some(mine));

    let timeout = VaultError::Timeout {
        timeout: std::time::Duration::from_millis(1500),
    };
    assert_eq!(
        timeout.report().details,
        Some(ErrorDetails::VaultTimeout { timeout_ms: 1500 })
    );
    // A store failure inside the flow keeps the store's code and has no details.
    let store = VaultError::Store(StoreError::Locked {
        reason: "held".into(),
    })
    .report();
    assert_eq!((store.code, store.details), (Code::SecretStoreLocked, None));
}

#[test]
fn refused_writes_report_the_table_and_the_operation() {
    let anonymous = open(AuthConfig::Anonymous, None);
    let report = anonymous
        .insert("todos", values(json!({"title": "x"})))
        .unwrap_err()
        .report();
    assert_eq!(report.code, Code::AnonymousWriteDenied);
    assert_eq!(
        report.details,
        Some(ErrorDetails::TableOperation {
            table: "todos".into(),
            operation: Operation::Insert
        })
    );

    let read_only = PolicySet::from_json(r#"{"tables": {"todos": {"read": "always"}}}"#).unwrap();
    let db = open(
        AuthConfig::LocalFirst(Secret::from_bytes([3; 32])),
        Some(read_only),
    );
    let report = db
        .insert("todos", values(json!({"title": "x"})))
        .unwrap_err()
        .report();
    assert_eq!(report.code, Code::PolicyDenied);
    assert_eq!(
        report.details,
        Some(ErrorDetails::TableOperation {
            table: "todos".into(),
            operation: Operation::Insert
        })
    );
}

#[test]
fn row_failures_report_the_table_and_the_id() {
    let db = open(AuthConfig::LocalFirst(Secret::from_bytes([4; 32])), None);
    db.insert("todos", values(json!({"id": "t1", "title": "x"})))
        .unwrap();
    let duplicate = db
        .insert("todos", values(json!({"id": "t1", "title": "y"})))
        .unwrap_err()
        .report();
    assert_eq!(duplicate.code, Code::AlreadyExists);
    assert_eq!(
        duplicate.details,
        Some(ErrorDetails::Row {
            table: "todos".into(),
            id: "t1".into()
        })
    );
    let missing = db
        .update("todos", "t2", values(json!({"title": "z"})))
        .unwrap_err()
        .report();
    assert_eq!(missing.code, Code::NotFound);
    assert_eq!(
        missing.details,
        Some(ErrorDetails::Row {
            table: "todos".into(),
            id: "t2".into()
        })
    );
    let clash = db
        .insert("Todos", values(json!({"title": "x"})))
        .unwrap_err()
        .report();
    assert_eq!(clash.code, Code::TableNameClash);
    assert_eq!(
        clash.details,
        Some(ErrorDetails::TableNameClash {
            table: "Todos".into(),
            existing: "todos".into()
        })
    );
}

#[test]
fn sync_failures_report_the_code_the_server_sent() {
    let rejected = DbError::SyncAuthRejected {
        code: AuthFailure::Expired.as_str().into(),
        message: "token expired".into(),
    };
    assert_eq!(
        rejected.report(),
        ErrorReport {
            code: Code::SyncAuthRejected,
            reason: rejected.to_string(),
            details: Some(ErrorDetails::SyncCode {
                code: "expired".into()
            }),
        }
    );
    let protocol = DbError::SyncProtocol {
        code: Code::UnexpectedAck.as_str().into(),
        message: "an ack arrived with no batch in flight".into(),
    };
    assert_eq!(
        protocol.report().details,
        Some(ErrorDetails::SyncCode {
            code: "unexpected-ack".into()
        })
    );
}

#[test]
fn details_survive_the_wrappers_and_plain_errors_have_none() {
    let wrapped = DbError::from(StorageError::AlreadyExists {
        table: "t".into(),
        id: "1".into(),
    });
    assert_eq!(
        wrapped.report().details,
        Some(ErrorDetails::Row {
            table: "t".into(),
            id: "1".into()
        })
    );
    let flags = PasskeyError::VerificationFailed { flags: 0x41 }.report();
    assert_eq!(flags.code, Code::VerificationFailed);
    assert_eq!(
        flags.details,
        Some(ErrorDetails::AuthenticatorFlags { flags: 0x41 })
    );
    for plain in [
        DbError::LoggedOut.report(),
        StoreError::InvalidStorageKey.report(),
        Secret::parse_base64url("AAAA").unwrap_err().report(),
    ] {
        assert_eq!(plain.details, None, "{plain:?}");
        assert!(!plain.reason.is_empty());
    }
}
