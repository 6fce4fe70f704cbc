//! Db lifecycle on real SQLite files: restart persistence, identity across
//! restarts, logout (with and without wipe), delete_client_storage, config errors.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod db_support;

use db_support::*;
use localfirst_core::db::{Db, DbConfig, DbDeps, DbError, StorageMode};
use localfirst_core::identity::Identity;
use localfirst_core::local_db::{OutboxOp, Query, DB_FILE_NAME};
use localfirst_core::secret_store::{AuthSecretStore, AuthSecretStoreExt, FileStore, StorageKey};
use localfirst_core::ErrorCode;
use serde_json::json;

#[test]
fn rows_and_outbox_survive_reopen() {
    let dir = tempfile::tempdir().unwrap();
    let (clock, deps) = fixed_clock();
    let (before_rows, before_outbox) = {
        let db = local_first(dir.path(), "app", 1, &deps);
        db.insert("notes", row(json!({"id": "a", "text": "one"})))
            .unwrap();
        db.insert("notes", row(json!({"id": "b", "text": "two"})))
            .unwrap();
        clock.advance(10);
        db.update("notes", "a", row(json!({"text": "uno"})))
            .unwrap();
        db.delete("notes", "b").unwrap();
        let rows = db.query(&Query::table("notes")).unwrap();
        let outbox = db.pending_outbox(100).unwrap();
        (rows, outbox)
    };
    assert_eq!(ids(&before_rows), ["a"]);
    let ops: Vec<OutboxOp> = before_outbox.iter().map(|e| e.op).collect();
    assert_eq!(
        ops,
        [
            OutboxOp::Insert,
            OutboxOp::Insert,
            OutboxOp::Update,
            OutboxOp::Delete
        ]
    );

    let db = local_first(dir.path(), "app", 1, &deps);
    assert_eq!(db.query(&Query::table("notes")).unwrap(), before_rows);
    let after = db.pending_outbox(100).unwrap();
    assert_eq!(after, before_outbox);
    assert_eq!(after[2].payload, Some(json!({"text": "uno"})));
    assert_eq!(after[2].at, T0 + 10);
    assert!(after.windows(2).all(|w| w[0].seq < w[1].seq));

    // Acknowledged entries are gone for good, also after another restart.
    assert_eq!(db.ack_outbox(&[after[0].seq, after[1].seq]).unwrap(), 2);
    drop(db);
    let db = local_first(dir.path(), "app", 1, &deps);
    assert_eq!(db.pending_outbox(100).unwrap(), after[2..].to_vec());
}

#[test]
fn outbox_sequence_numbers_are_never_reused() {
    // Acknowledging every entry (the highest included) must not let a later write,
    // in this or a later session, get a number that was already handed out: sync
    // uses them to tell entries apart.
    let dir = tempfile::tempdir().unwrap();
    let (_clock, deps) = fixed_clock();
    let db = local_first(dir.path(), "app", 1, &deps);
    db.insert_many(
        "notes",
        vec![row(json!({"id": "a"})), row(json!({"id": "b"}))],
    )
    .unwrap();
    db.insert("notes", row(json!({"id": "c"}))).unwrap();
    let first: Vec<i64> = db
        .pending_outbox(10)
        .unwrap()
        .iter()
        .map(|e| e.seq)
        .collect();
    assert_eq!(first.len(), 3);
    assert!(first.windows(2).all(|w| w[0] + 1 == w[1]), "{first:?}");
    assert_eq!(db.ack_outbox(&first).unwrap(), 3);
    assert_eq!(db.outbox_len().unwrap(), 0);
    db.delete("notes", "a").unwrap();
    let second = db.pending_outbox(10).unwrap();
    assert_eq!(second.len(), 1);
    assert!(second[0].seq > first[2], "{} reused", second[0].seq);
    db.ack_outbox(&[second[0].seq]).unwrap();
    drop(db);

    let db = local_first(dir.path(), "app", 1, &deps);
    db.delete("notes", "b").unwrap();
    let third = db.pending_outbox(10).unwrap();
    assert!(
        third[0].seq > second[0].seq,
        "{} reused after restart",
        third[0].seq
    );
    // A failed write hands out no numbers: the next one continues the sequence.
    assert!(db.insert("notes", row(json!({"id": "c"}))).is_err());
    db.delete("notes", "c").unwrap();
    let fourth = db.pending_outbox(10).unwrap();
    assert_eq!(fourth[1].seq, third[0].seq + 1);
}

#[test]
fn a_schema_1_database_continues_its_outbox_numbering() {
    // Schema 1 numbered the outbox with AUTOINCREMENT. A database written by it,
    // whose entries up to 7 were all acknowledged, must continue at 8.
    let dir = tempfile::tempdir().unwrap();
    let (_clock, deps) = fixed_clock();
    let path = {
        let db = local_first(dir.path(), "app", 1, &deps);
        let path = db.database_path().unwrap();
        db.logout(true).unwrap();
        path
    };
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    {
        let conn = rusqlite::Connection::open(&path).unwrap();
        conn.execute_batch(
            "CREATE TABLE lf_meta (key TEXT PRIMARY KEY NOT NULL, value TEXT NOT NULL);
             CREATE TABLE lf_tables (name TEXT PRIMARY KEY NOT NULL);
             CREATE TABLE lf_outbox (
                 seq INTEGER PRIMARY KEY AUTOINCREMENT, table_name TEXT NOT NULL,
                 row_id TEXT NOT NULL, op TEXT NOT NULL, payload TEXT,
                 actor TEXT NOT NULL, at INTEGER NOT NULL);
             INSERT INTO lf_outbox (seq, table_name, row_id, op, payload, actor, at)
                 VALUES (7, 't', 'x', 'delete', NULL, 'someone', 0);
             DELETE FROM lf_outbox;
             PRAGMA user_version = 1;",
        )
        .unwrap();
    }
    let db = local_first(dir.path(), "app", 1, &deps);
    db.insert("notes", row(json!({"id": "a"}))).unwrap();
    assert_eq!(db.pending_outbox(10).unwrap()[0].seq, 8);
}

/// Review finding: `ack_outbox` removed any principal's entries, so one session
/// could drop another principal's pending writes.
#[test]
fn a_principal_can_only_acknowledge_its_own_outbox_entries() {
    let dir = tempfile::tempdir().unwrap();
    let deps = DbDeps::default();
    let alice = local_first(dir.path(), "app", 1, &deps);
    alice.insert("notes", row(json!({"id": "a1"}))).unwrap();
    alice.insert("notes", row(json!({"id": "a2"}))).unwrap();
    let bob = local_first(dir.path(), "app", 2, &deps);
    bob.insert("notes", row(json!({"id": "b1"}))).unwrap();
    let alices: Vec<i64> = alice
        .pending_outbox(10)
        .unwrap()
        .iter()
        .map(|e| e.seq)
        .collect();
    let bobs: Vec<i64> = bob
        .pending_outbox(10)
        .unwrap()
        .iter()
        .map(|e| e.seq)
        .collect();
    assert_eq!((alices.len(), bobs.len()), (2, 1));

    // Bob acknowledges everything he can name: only his own entry goes.
    let all: Vec<i64> = alices.iter().chain(&bobs).copied().collect();
    assert_eq!(bob.ack_outbox(&all).unwrap(), 1);
    assert!(bob.pending_outbox(10).unwrap().is_empty());
    assert_eq!(
        alice
            .pending_outbox(10)
            .unwrap()
            .iter()
            .map(|e| e.seq)
            .collect::<Vec<_>>(),
        alices
    );
    assert_eq!(alice.outbox_len().unwrap(), 2);
    // An external session cannot acknowledge them either.
    let carol = Db::open(
        on_disk(dir.path(), "app").with_jwt_token(provider_jwt(json!({"sub": "carol"}))),
        deps,
    )
    .unwrap();
    assert_eq!(carol.ack_outbox(&alices).unwrap(), 0);
    assert_eq!(alice.ack_outbox(&alices).unwrap(), 2);
    assert_eq!(alice.outbox_len().unwrap(), 0);
}

#[test]
fn same_secret_after_restart_gives_same_user_and_rows_stay_owned() {
    let dir = tempfile::tempdir().unwrap();
    let secrets = dir.path().join("secrets");
    let key = StorageKey::for_app("app");
    let deps = DbDeps::default();

    let first_user = {
        let store = FileStore::open(&secrets, key.clone()).unwrap();
        let secret = store.get_or_create_secret().unwrap();
        let db = Db::open(on_disk(dir.path(), "app").with_secret(secret), deps.clone()).unwrap();
        db.insert("todos", row(json!({"title": "milk"}))).unwrap();
        db.insert("todos", row(json!({"title": "eggs"}))).unwrap();
        db.user_id()
    };

    // A new process would open a new store instance over the same directory.
    let store = FileStore::open(&secrets, key).unwrap();
    let secret = store.get_or_create_secret().unwrap();
    assert_eq!(
        Identity::from_secret(&secret).user_id().to_string(),
        first_user
    );
    let db = Db::open(on_disk(dir.path(), "app").with_secret(secret), deps).unwrap();
    assert_eq!(db.user_id(), first_user);
    let mine = db
        .query(
            &Query::table("todos").filter(
                localfirst_core::local_db::Filter::all().eq("$createdBy", first_user.clone()),
            ),
        )
        .unwrap();
    assert_eq!(mine.len(), 2);
    assert_eq!(db.pending_outbox(10).unwrap().len(), 2);
    // Owned rows stay writable by the same user.
    let id = mine[0]["id"].as_str().unwrap();
    let updated = db.update("todos", id, row(json!({"done": true}))).unwrap();
    assert_eq!(updated["$updatedBy"], first_user);
}

fn namespace_files(dir: &std::path::Path, app: &str) -> Vec<String> {
    let ns = localfirst_core::local_db::namespace_dir(dir, app);
    let mut names: Vec<String> = std::fs::read_dir(ns)
        .map(|entries| {
            entries
                .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default();
    names.sort();
    names
}

#[test]
fn logout_with_wipe_deletes_rows_but_never_the_identity() {
    let dir = tempfile::tempdir().unwrap();
    let store = FileStore::open(dir.path().join("secrets"), StorageKey::default()).unwrap();
    let secret = store.get_or_create_secret().unwrap();
    let user = Identity::from_secret(&secret).user_id().to_string();
    let deps = DbDeps::default();

    let db = Db::open(on_disk(dir.path(), "app").with_secret(secret), deps.clone()).unwrap();
    db.insert("todos", row(json!({"title": "milk"}))).unwrap();
    assert!(namespace_files(dir.path(), "app").contains(&DB_FILE_NAME.to_owned()));
    db.logout(true).unwrap();
    assert!(
        namespace_files(dir.path(), "app").is_empty(),
        "database, -wal and -shm are deleted: {:?}",
        namespace_files(dir.path(), "app")
    );
    assert_eq!(
        db.insert("todos", row(json!({}))).unwrap_err(),
        DbError::LoggedOut
    );

    let again = store
        .load_secret()
        .unwrap()
        .expect("the secret is untouched");
    let db = Db::open(on_disk(dir.path(), "app").with_secret(again), deps).unwrap();
    assert_eq!(db.user_id(), user);
    assert!(db.query(&Query::table("todos")).unwrap().is_empty());
    assert_eq!(db.outbox_len().unwrap(), 0);
}

#[test]
fn delete_client_storage_keeps_the_identity_and_the_db_usable() {
    let dir = tempfile::tempdir().unwrap();
    let store = FileStore::open(dir.path().join("secrets"), StorageKey::default()).unwrap();
    let secret = store.get_or_create_secret().unwrap();
    let db = Db::open(
        on_disk(dir.path(), "app").with_secret(secret.clone()),
        DbDeps::default(),
    )
    .unwrap();
    let user = db.user_id();
    db.insert("todos", row(json!({"id": "old"}))).unwrap();

    db.delete_client_storage().unwrap();
    assert!(!db.is_logged_out());
    assert_eq!(db.get("todos", "old").unwrap(), None);
    assert_eq!(db.outbox_len().unwrap(), 0);
    db.insert("todos", row(json!({"id": "new"}))).unwrap();
    assert_eq!(ids(&db.query(&Query::table("todos")).unwrap()), ["new"]);
    assert_eq!(db.user_id(), user);
    assert_eq!(store.load_secret().unwrap(), Some(secret));
}

#[test]
fn logout_stops_listeners_and_every_call_reports_logged_out() {
    let dir = tempfile::tempdir().unwrap();
    let deps = DbDeps::default();
    let db = local_first(dir.path(), "app", 3, &deps);
    let auth_calls = Recorder::new();
    let data_calls = Recorder::new();
    let a = auth_calls.clone();
    let _auth = db.on_auth_changed(move |s| a.push(s.clone()));
    let d = data_calls.clone();
    let _data = db
        .subscribe(Query::table("todos"), move |rows| d.push(rows.len()))
        .unwrap();
    assert_eq!((auth_calls.len(), data_calls.len()), (1, 1));

    // Another Db of the namespace keeps writing; the logged-out one hears nothing.
    let other = local_first(dir.path(), "app", 3, &deps);
    db.logout(false).unwrap();
    other.insert("todos", row(json!({}))).unwrap();
    assert_eq!((auth_calls.len(), data_calls.len()), (1, 1));

    let q = Query::table("todos");
    let results: Vec<DbError> = vec![
        db.insert("todos", row(json!({}))).unwrap_err(),
        db.update("todos", "x", row(json!({}))).unwrap_err(),
        db.delete("todos", "x").unwrap_err(),
        db.get("todos", "x").unwrap_err(),
        db.query(&q).unwrap_err(),
        db.subscribe(q.clone(), |_| {}).unwrap_err(),
        db.update_auth_token(None).unwrap_err(),
        db.current_token().unwrap_err(),
        db.get_local_first_identity_proof(60, None).unwrap_err(),
        db.pending_outbox(1).unwrap_err(),
        db.delete_client_storage().unwrap_err(),
        db.logout(false).unwrap_err(),
    ];
    for error in results {
        assert_eq!(error, DbError::LoggedOut);
        assert_eq!(error.code(), "logged-out");
    }
    assert!(!db.should_sync());
    // The namespace itself is fine.
    assert_eq!(other.query(&q).unwrap().len(), 1);
}

#[test]
fn config_clashes_are_errors_that_name_the_clash() {
    let jwt = provider_jwt(json!({"sub": "alice"}));
    let cookie = localfirst_core::auth::CookieSession::new("alice");
    let base = || DbConfig::new("app", StorageMode::InMemory);
    let cases = [
        (
            base().with_secret(secret(1)).with_jwt_token(jwt.clone()),
            "secret and jwt_token",
        ),
        (
            base()
                .with_jwt_token(jwt.clone())
                .with_cookie_session(cookie.clone()),
            "jwt_token and cookie_session",
        ),
        (
            base()
                .with_secret(secret(1))
                .with_jwt_token(jwt.clone())
                .with_cookie_session(cookie.clone()),
            "secret and jwt_token and cookie_session",
        ),
    ];
    for (config, clash) in cases {
        let error = Db::open(config, DbDeps::default()).unwrap_err();
        assert!(
            matches!(&error, DbError::ConflictingAuth { clash: found } if found.to_string() == clash),
            "{error:?}"
        );
        assert_eq!(error.code(), "conflicting-auth-config");
        assert!(error.to_string().contains(clash));
    }
    for bad in [
        DbConfig::new("  ", StorageMode::InMemory),
        base().with_token_ttl(0),
        base().with_token_ttl(3601),
    ] {
        assert_eq!(
            Db::open(bad, DbDeps::default()).unwrap_err().code(),
            "invalid-config"
        );
    }
    assert_eq!(
        Db::open(base().with_jwt_token("garbage"), DbDeps::default())
            .unwrap_err()
            .code(),
        "invalid-token"
    );
}

#[test]
fn the_app_id_cannot_escape_the_data_dir() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let db = Db::open(
        DbConfig::new("../../escape", StorageMode::DataDir(data.clone())).with_secret(secret(1)),
        DbDeps::default(),
    )
    .unwrap();
    db.insert("t", row(json!({}))).unwrap();
    let path = db.database_path().unwrap();
    assert!(path.starts_with(&data), "{}", path.display());
    assert_eq!(
        std::fs::read_dir(dir.path()).unwrap().count(),
        1,
        "nothing was created beside the data dir"
    );
}

#[test]
fn in_memory_mode_writes_no_files_and_namespaces_do_not_mix() {
    let dir = tempfile::tempdir().unwrap();
    let memory = Db::open(
        DbConfig::new("app", StorageMode::InMemory).with_secret(secret(1)),
        DbDeps::default(),
    )
    .unwrap();
    memory.insert("t", row(json!({"id": "m"}))).unwrap();
    assert_eq!(memory.database_path(), None);

    let a = local_first(dir.path(), "app-a", 1, &DbDeps::default());
    let b = local_first(dir.path(), "app-b", 1, &DbDeps::default());
    a.insert("t", row(json!({"id": "only-in-a"}))).unwrap();
    assert_eq!(b.get("t", "only-in-a").unwrap(), None);
    assert!(a.get("t", "only-in-a").unwrap().is_some());
    assert_eq!(memory.get("t", "only-in-a").unwrap(), None);
}
