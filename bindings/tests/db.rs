//! The `Db` crossing as Rust sees it: config, rows, auth state and errors keep the
//! core's values and codes. The foreign side (and sync against a real server) is
//! tested by android-lib/jvm (Kotlin, `DbTest`).

// Test helpers and listeners outside `#[test]` functions unwrap too.
#![allow(clippy::unwrap_used)]

use std::sync::{Arc, Mutex};

use localfirst_ffi::*;

fn config(auth: AuthConfig) -> DbConfig {
    DbConfig {
        app_id: "ffi-db-test".into(),
        storage: StorageMode::InMemory,
        auth,
        server_url: None,
        sync_when: SyncWhen::Always,
        policies_json: None,
        jwt_refresher: None,
        account_discard_migrator: None,
    }
}

fn code(error: LocalFirstError) -> String {
    error.code().to_string()
}

fn json(text: &str) -> serde_json::Value {
    serde_json::from_str(text).unwrap()
}

/// Records every delivery; fails every other one, which must not stop delivery.
#[derive(Default)]
struct Recorder {
    seen: Mutex<Vec<Vec<Row>>>,
}

impl RowsListener for Recorder {
    fn on_rows_changed(&self, rows: Vec<Row>) -> Result<(), LocalFirstError> {
        let mut seen = self.seen.lock().unwrap();
        seen.push(rows);
        if seen.len() % 2 == 1 {
            return Err(LocalFirstError::from(
                uniffi::UnexpectedUniFFICallbackError::new("listener threw"),
            ));
        }
        Ok(())
    }
}

#[derive(Default)]
struct States(Mutex<Vec<AuthState>>);

impl AuthStateListener for States {
    fn on_auth_changed(&self, state: AuthState) -> Result<(), LocalFirstError> {
        self.0.lock().unwrap().push(state);
        Ok(())
    }
}

#[test]
fn rows_cross_with_metadata_and_json_values() {
    let secret = AuthSecret::generate().unwrap();
    let db = Db::open(config(AuthConfig::LocalFirst {
        secret: Arc::clone(&secret),
    }))
    .unwrap();
    assert_eq!(db.user_id(), secret.user_id());

    let row = db
        .insert("todos".into(), r#"{"title": "milk", "done": false}"#.into())
        .unwrap();
    assert_eq!(row.created_by, secret.user_id());
    assert_eq!(row.updated_by, secret.user_id());
    assert_eq!(
        json(&row.values_json),
        json(r#"{"title": "milk", "done": false}"#)
    );
    assert_eq!(
        db.get("todos".into(), row.id.clone()).unwrap(),
        Some(row.clone())
    );

    let updated = db
        .update("todos".into(), row.id.clone(), r#"{"done": true}"#.into())
        .unwrap();
    assert_eq!(json(&updated.values_json)["done"], json("true"));
    assert_eq!(updated.created_at, row.created_at);
    let open = db
        .query(r#"{"table": "todos", "where": {"done": false}}"#.into())
        .unwrap();
    assert!(open.is_empty());
    let done = db
        .query(r#"{"table": "todos", "where": {"done": true}}"#.into())
        .unwrap();
    assert_eq!(done, vec![updated.clone()]);

    assert_eq!(db.delete("todos".into(), row.id.clone()).unwrap(), updated);
    assert_eq!(db.get("todos".into(), row.id).unwrap(), None);
}

#[test]
fn auth_state_and_listener_keep_the_core_values() {
    let secret = AuthSecret::generate().unwrap();
    let db = Db::open(config(AuthConfig::LocalFirst {
        secret: Arc::clone(&secret),
    }))
    .unwrap();
    let state = db.get_auth_state();
    assert_eq!(state.auth_mode, AuthMode::LocalFirst);
    assert_eq!(state.user_id, Some(secret.user_id()));
    assert!(json(&state.claims_json).is_object());
    assert_eq!(state.error, None);

    let states = Arc::new(States::default());
    let sub = db.on_auth_changed(Arc::clone(&states) as Arc<dyn AuthStateListener>);
    assert_eq!(*states.0.lock().unwrap(), vec![state]);
    assert!(sub.is_active());
    sub.cancel();
    assert!(!sub.is_active());

    let proof = db
        .get_local_first_identity_proof(60, Some("backend".into()))
        .unwrap()
        .unwrap();
    let verified = verify_local_first_identity_proof(proof, "backend".into(), None);
    assert!(verified.ok);
    assert_eq!(verified.id, Some(secret.user_id()));
    assert_eq!(db.sync_status().state, SyncState::Disabled);
}

#[test]
fn a_failing_listener_does_not_stop_delivery() {
    let db = Db::open(config(AuthConfig::LocalFirst {
        secret: AuthSecret::generate().unwrap(),
    }))
    .unwrap();
    let recorder = Arc::new(Recorder::default());
    let _sub = db
        .subscribe(
            r#"{"table": "notes"}"#.into(),
            Arc::clone(&recorder) as Arc<dyn RowsListener>,
        )
        .unwrap();
    let a = db.insert("notes".into(), r#"{"n": 1}"#.into()).unwrap();
    let b = db.insert("notes".into(), r#"{"n": 2}"#.into()).unwrap();
    let seen = recorder.seen.lock().unwrap().clone();
    assert_eq!(seen.len(), 3, "{seen:?}");
    assert!(seen[0].is_empty());
    assert_eq!(seen[2].len(), 2);
    assert!(seen[2].contains(&a) && seen[2].contains(&b));
}

#[test]
fn errors_carry_catalogue_codes() {
    let anonymous = Db::open(config(AuthConfig::Anonymous)).unwrap();
    assert_eq!(anonymous.get_auth_state().auth_mode, AuthMode::Anonymous);
    let denied = anonymous
        .insert("todos".into(), r#"{"title": "x"}"#.into())
        .unwrap_err();
    assert_eq!(
        denied.details(),
        Some(ErrorDetails::TableOperation {
            table: "todos".into(),
            operation: Operation::Insert
        })
    );
    assert_eq!(code(denied), "anonymous-write-denied");
    assert_eq!(
        anonymous.get_local_first_identity_proof(60, None).unwrap(),
        None
    );

    let db = Db::open(config(AuthConfig::LocalFirst {
        secret: AuthSecret::generate().unwrap(),
    }))
    .unwrap();
    assert_eq!(
        code(db.insert("todos".into(), "[1]".into()).unwrap_err()),
        "invalid-argument"
    );
    assert_eq!(
        code(db.query(r#"{"tabel": "todos"}"#.into()).unwrap_err()),
        "invalid-argument"
    );
    let missing = db.delete("todos".into(), "missing".into()).unwrap_err();
    assert_eq!(
        missing.details_json().as_deref(),
        Some(r#"{"kind":"row","table":"todos","id":"missing"}"#)
    );
    assert_eq!(code(missing), "not-found");
    // Without a server URL sync stays disabled (not an error).
    db.start_sync().unwrap();
    assert_eq!(db.sync_status().state, SyncState::Disabled);
    db.logout().unwrap();
    assert_eq!(code(db.logout().unwrap_err()), "logged-out");
    assert_eq!(
        code(db.get("todos".into(), "x".into()).unwrap_err()),
        "logged-out"
    );

    let mut blank = config(AuthConfig::Anonymous);
    blank.app_id = " ".into();
    assert_eq!(code(Db::open(blank).unwrap_err()), "invalid-config");
    let mut bad_policies = config(AuthConfig::Anonymous);
    bad_policies.policies_json = Some("{".into());
    assert_eq!(code(Db::open(bad_policies).unwrap_err()), "policy-invalid");
    let jwt = config(AuthConfig::Jwt {
        token: "not a jwt".into(),
    });
    assert_eq!(code(Db::open(jwt).unwrap_err()), "invalid-token");

    let callback = LocalFirstError::from(uniffi::UnexpectedUniFFICallbackError::new("boom"));
    assert_eq!(code(callback), "callback-failed");
}

#[test]
fn insert_many_takes_a_json_array_and_cookie_sessions_keep_their_value_inside() {
    let db = Db::open(config(AuthConfig::LocalFirst {
        secret: AuthSecret::generate().unwrap(),
    }))
    .unwrap();
    let rows = db
        .insert_many("notes".into(), r#"[{"n": 1}, {"id": "b", "n": 2}]"#.into())
        .unwrap();
    assert_eq!(rows.len(), 2);
    assert_eq!(rows[1].id, "b");
    assert_eq!(json(&rows[0].values_json), json(r#"{"n": 1}"#));
    assert_eq!(
        code(
            db.insert_many("notes".into(), r#"{"n": 1}"#.into())
                .unwrap_err()
        ),
        "invalid-argument"
    );
    assert_eq!(db.query(r#"{"table": "notes"}"#.into()).unwrap().len(), 2);
    assert!(db.last_rejections().is_empty());

    let session = CookieSession::new("cookie-user".into());
    assert!(!session.has_cookie());
    let with_cookie = session.with_cookie("cookie-secret-value".into());
    assert!(with_cookie.has_cookie());
    assert_eq!(with_cookie.user_id(), "cookie-user");
    assert!(!format!("{with_cookie:?}").contains("cookie-secret-value"));
    let cookie_db = Db::open(config(AuthConfig::CookieSession {
        session: Arc::clone(&session),
    }))
    .unwrap();
    assert_eq!(cookie_db.user_id(), "cookie-user");
    cookie_db.update_cookie_session(with_cookie).unwrap();
    assert_eq!(
        code(
            cookie_db
                .update_cookie_session(CookieSession::new("someone-else".into()))
                .unwrap_err()
        ),
        "principal-change"
    );
}
