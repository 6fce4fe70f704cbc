//! Upgrading from local-first: the proof-based upgrade keeps the user id and the
//! rows; logging in to a different existing account discards the local-first
//! identity's rows only after the app's migration hook ran.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use crate::support::*;
use localfirst_core::db::{Db, DbDeps, DbError, RowValues, META_LOCAL_FIRST_USER};
use localfirst_core::local_db::{Filter, Query};
use localfirst_core::secret_store::{AuthSecretStore, AuthSecretStoreExt, MemoryStore, StorageKey};
use localfirst_core::token;
use localfirst_core::ErrorCode;
use serde_json::json;

/// A local-first user with two notes and a todo, returning their user id.
fn local_first_user_with_rows(dir: &std::path::Path, byte: u8) -> String {
    let db = local_first(dir, "app", byte, &DbDeps::default());
    db.insert("notes", row(json!({"id": "n1", "text": "first"})))
        .unwrap();
    db.insert("notes", row(json!({"id": "n2", "text": "second"})))
        .unwrap();
    db.insert("todos", row(json!({"id": "t1", "title": "milk"})))
        .unwrap();
    db.user_id()
}

#[test]
fn proof_based_upgrade_keeps_the_user_id_and_the_rows() {
    let dir = tempfile::tempdir().unwrap();
    let (clock, deps) = fixed_clock();
    let store = MemoryStore::new(StorageKey::for_app("app"));
    let secret = store.get_or_create_secret().unwrap();
    let local = Db::open(on_disk(dir.path(), "app").with_secret(secret), deps.clone()).unwrap();
    local
        .insert("notes", row(json!({"id": "n1", "text": "mine"})))
        .unwrap();

    // 1-3: proof → the backend verifies it → links the account to the proven id.
    let proof = local
        .get_local_first_identity_proof(60, Some("signup".into()))
        .unwrap()
        .unwrap();
    let verified = token::verify_local_first_identity_proof(&proof, "signup", &*clock);
    let linked_id = verified.id.expect("proof verifies");
    assert_eq!(linked_id, local.user_id());
    drop(local);

    // 4-5: the provider issues JWTs with sub == that id; the app recreates the Db.
    let hook_calls = Arc::new(AtomicUsize::new(0));
    let calls = hook_calls.clone();
    let external = Db::open(
        on_disk(dir.path(), "app")
            .with_jwt_token(provider_jwt(
                json!({"sub": linked_id, "email": "a@example.com"}),
            ))
            .on_anonymous_account_discarded(move |_| {
                calls.fetch_add(1, Ordering::SeqCst);
                Ok(())
            }),
        deps,
    )
    .unwrap();
    assert_eq!(
        hook_calls.load(Ordering::SeqCst),
        0,
        "same identity: nothing to discard"
    );
    assert_eq!(external.user_id(), linked_id);
    let note = external.get("notes", "n1").unwrap().unwrap();
    assert_eq!(note["$createdBy"], json!(linked_id));
    external
        .update("notes", "n1", row(json!({"text": "still mine"})))
        .unwrap();
    // Writes made before the upgrade are still this principal's to sync.
    assert_eq!(external.pending_outbox(10).unwrap().len(), 2);
    // The secret store was never touched.
    assert!(store.load_secret().unwrap().is_some());
}

#[test]
fn a_different_account_gets_a_migration_hook_before_the_old_rows_are_discarded() {
    let dir = tempfile::tempdir().unwrap();
    let old_id = local_first_user_with_rows(dir.path(), 1);
    // Another local user's row in the namespace is not the discarded identity's.
    let unrelated = {
        let db = local_first(dir.path(), "app", 2, &DbDeps::default());
        db.insert("notes", row(json!({"id": "x1"}))).unwrap();
        db.user_id()
    };
    // The last local-first identity opened is the one an external login replaces.
    local_first(dir.path(), "app", 1, &DbDeps::default());

    let seen = Recorder::new();
    let s = seen.clone();
    let existing_account = provider_jwt(json!({"sub": "carol"}));
    let db = Db::open(
        on_disk(dir.path(), "app")
            .with_jwt_token(existing_account.clone())
            .on_anonymous_account_discarded(move |account| {
                assert_eq!(account.db().user_id(), "carol");
                let mut copied = 0;
                for table in account.tables() {
                    let rows = account.rows(&table).map_err(|e| e.to_string())?;
                    for old in rows {
                        s.push((
                            account.user_id().to_owned(),
                            table.clone(),
                            old["id"].clone(),
                        ));
                        // Migrate explicitly: copy the user columns as carol's rows.
                        let values = RowValues::from_json_str(&old.values_json())
                            .unwrap()
                            .set("id", format!("migrated-{}", old.id()));
                        account
                            .db()
                            .insert(&table, values)
                            .map_err(|e| e.to_string())?;
                        copied += 1;
                    }
                }
                assert_eq!(copied, 3);
                Ok(())
            }),
        DbDeps::default(),
    )
    .unwrap();
    let mut seen = seen.all();
    seen.sort_by_key(|(_, t, id)| (t.clone(), id.to_string()));
    assert_eq!(
        seen,
        vec![
            (old_id.clone(), "notes".into(), json!("n1")),
            (old_id.clone(), "notes".into(), json!("n2")),
            (old_id.clone(), "todos".into(), json!("t1")),
        ]
    );
    // The old identity's rows and outbox entries are gone; the migrated copies are carol's.
    let by_old = Filter::all().eq("$createdBy", old_id.clone());
    for table in ["notes", "todos"] {
        assert!(db
            .query(&Query::table(table).filter(by_old.clone()))
            .unwrap()
            .is_empty());
    }
    let migrated = db.get("notes", "migrated-n1").unwrap().unwrap();
    assert_eq!(migrated["$createdBy"], "carol");
    assert_eq!(migrated["text"], "first");
    assert!(
        db.get("notes", "x1").unwrap().is_some(),
        "other users' rows stay"
    );
    let outbox = db.pending_outbox(100).unwrap();
    assert_eq!(outbox.len(), 3);
    assert!(outbox.iter().all(|e| e.actor == "carol"));
    assert_eq!(
        db.outbox_len().unwrap(),
        4,
        "carol's 3 copies plus the unrelated user's entry"
    );
    let _ = unrelated;
    drop(db);

    // Done once: opening carol's account again does not call the hook.
    let again = Db::open(
        on_disk(dir.path(), "app")
            .with_jwt_token(existing_account)
            .on_anonymous_account_discarded(|_| Err("must not run".into())),
        DbDeps::default(),
    );
    assert!(again.is_ok());
}

/// Copies every snapshot row of the discarded account as a row of the new user
/// (id `migrated-<old id>`, or `migrated2-<old id>` in a second round); returns
/// the (table, id) pairs it saw.
fn migrate_all(
    account: &localfirst_core::db::DiscardedAccount,
    prefix: &str,
) -> Result<Vec<(String, String)>, String> {
    let mut seen = Vec::new();
    for table in account.tables() {
        for old in account.rows(&table).map_err(|e| e.to_string())? {
            let id = old["id"].as_str().unwrap().to_owned();
            let values = RowValues::from_json_str(&old.values_json())
                .unwrap()
                .set("id", format!("{prefix}-{id}"));
            account
                .db()
                .insert(&table, values)
                .map_err(|e| e.to_string())?;
            seen.push((table.clone(), id));
        }
    }
    seen.sort();
    Ok(seen)
}

/// Review finding: rows another Db wrote as the old identity between the hook
/// and the discard were deleted without ever being shown to the hook.
#[test]
fn rows_the_old_identity_writes_meanwhile_are_kept_and_offered_to_the_hook_again() {
    let dir = tempfile::tempdir().unwrap();
    let old_id = local_first_user_with_rows(dir.path(), 1);
    let path = dir.path().to_path_buf();
    let first_round = Recorder::new();
    let seen = first_round.clone();
    let carol = provider_jwt(json!({"sub": "carol"}));
    let db = Db::open(
        on_disk(dir.path(), "app")
            .with_jwt_token(carol.clone())
            .on_anonymous_account_discarded(move |account| {
                seen.push(migrate_all(account, "migrated")?);
                // The old identity is still open elsewhere (another Db, another
                // process) and writes right after the hook read its rows.
                let elsewhere = local_first(&path, "app", 1, &DbDeps::default());
                elsewhere
                    .insert("notes", row(json!({"id": "n3", "text": "late"})))
                    .map_err(|e| e.to_string())?;
                elsewhere
                    .update("notes", "n1", row(json!({"text": "edited"})))
                    .map_err(|e| e.to_string())?;
                Ok(())
            }),
        DbDeps::default(),
    )
    .unwrap();
    let pairs = |v: &[(&str, &str)]| -> Vec<(String, String)> {
        v.iter()
            .map(|(t, i)| (t.to_string(), i.to_string()))
            .collect()
    };
    assert_eq!(
        first_round.all(),
        [pairs(&[("notes", "n1"), ("notes", "n2"), ("todos", "t1")])]
    );
    // What the hook saw and migrated is gone; what it never saw is kept.
    assert_eq!(db.get("notes", "n2").unwrap(), None);
    assert_eq!(db.get("todos", "t1").unwrap(), None);
    let late = db
        .get("notes", "n3")
        .unwrap()
        .expect("written meanwhile: kept");
    assert_eq!(late["$createdBy"], json!(old_id));
    let edited = db
        .get("notes", "n1")
        .unwrap()
        .expect("changed meanwhile: kept");
    assert_eq!(edited["text"], "edited");
    assert_eq!(
        db.get("notes", "migrated-n1").unwrap().unwrap()["text"],
        "first",
        "the hook migrated the version it saw"
    );
    // The kept rows' outbox entries stay the old identity's; the discarded ones' are gone.
    drop(db);
    let old = local_first(dir.path(), "app", 1, &DbDeps::default());
    let pending: Vec<(String, String)> = old
        .pending_outbox(100)
        .unwrap()
        .iter()
        .map(|e| (e.row_id.clone(), format!("{:?}", e.op)))
        .collect();
    assert_eq!(
        pending,
        [
            ("n1".to_owned(), "Insert".to_owned()),
            ("n3".to_owned(), "Insert".to_owned()),
            ("n1".to_owned(), "Update".to_owned()),
        ]
    );
    drop(old);

    // The marker stays while old rows remain: the next login offers exactly them.
    let second_round = Recorder::new();
    let seen = second_round.clone();
    let db = Db::open(
        on_disk(dir.path(), "app")
            .with_jwt_token(carol.clone())
            .on_anonymous_account_discarded(move |account| {
                seen.push(migrate_all(account, "migrated2")?);
                Ok(())
            }),
        DbDeps::default(),
    )
    .unwrap();
    assert_eq!(
        second_round.all(),
        [pairs(&[("notes", "n1"), ("notes", "n3")])]
    );
    assert_eq!(
        db.get("notes", "migrated2-n1").unwrap().unwrap()["text"],
        "edited"
    );
    let by_old = Filter::all().eq("$createdBy", old_id);
    assert!(db
        .query(&Query::table("notes").filter(by_old))
        .unwrap()
        .is_empty());
    assert!(db
        .pending_outbox(100)
        .unwrap()
        .iter()
        .all(|e| e.actor == "carol"));
    assert_eq!(db.outbox_len().unwrap(), 5, "carol's five copies only");
    drop(db);

    // Nothing of the old identity left: the hook does not run again.
    Db::open(
        on_disk(dir.path(), "app")
            .with_jwt_token(carol)
            .on_anonymous_account_discarded(|_| Err("must not run".into())),
        DbDeps::default(),
    )
    .unwrap();
}

#[test]
fn a_failing_hook_aborts_the_open_and_discards_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let old_id = local_first_user_with_rows(dir.path(), 1);
    let error = Db::open(
        on_disk(dir.path(), "app")
            .with_jwt_token(provider_jwt(json!({"sub": "carol"})))
            .on_anonymous_account_discarded(|_| Err("user cancelled the merge".into())),
        DbDeps::default(),
    )
    .unwrap_err();
    assert_eq!(
        error,
        DbError::MigrationFailed {
            reason: "user cancelled the merge".into()
        }
    );
    assert_eq!(error.code(), "migration-failed");
    let back = local_first(dir.path(), "app", 1, &DbDeps::default());
    assert_eq!(back.user_id(), old_id);
    assert_eq!(
        ids(&back.query(&Query::table("notes")).unwrap()),
        ["n1", "n2"]
    );
    assert_eq!(back.pending_outbox(10).unwrap().len(), 3);
}

#[test]
fn without_a_hook_nothing_is_discarded_and_nothing_is_sent_as_the_wrong_principal() {
    let dir = tempfile::tempdir().unwrap();
    let old_id = local_first_user_with_rows(dir.path(), 1);
    let db = Db::open(
        on_disk(dir.path(), "app").with_jwt_token(provider_jwt(json!({"sub": "carol"}))),
        DbDeps::default(),
    )
    .unwrap();
    assert_eq!(db.query(&Query::table("notes")).unwrap().len(), 2);
    assert!(
        db.pending_outbox(10).unwrap().is_empty(),
        "the old identity's writes are never handed to sync under carol"
    );
    assert_eq!(db.outbox_len().unwrap(), 3);
    drop(db);
    // The old identity still finds its pending writes.
    let back = local_first(dir.path(), "app", 1, &DbDeps::default());
    assert_eq!(back.user_id(), old_id);
    assert_eq!(back.pending_outbox(10).unwrap().len(), 3);
    assert!(META_LOCAL_FIRST_USER.contains("local_first"));
}
