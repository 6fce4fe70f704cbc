//! Auth through the Db: anonymous write denial, principal-change rules, listener
//! semantics, token re-minting with a fake clock, identity proofs, server
//! rejections and the single-flight JWT refresh, sync gating.

use std::sync::Arc;

use crate::support::*;
use localfirst_core::auth::{AuthFailure, AuthState, CookieSession, SyncWhen};
use localfirst_core::db::{Db, DbDeps, DbError};
use localfirst_core::local_db::Query;
use localfirst_core::policy::{Operation, PolicySet};
use localfirst_core::session::AuthMode;
use localfirst_core::token::{self, Issuer, VerifyOptions};
use localfirst_core::ErrorCode;
use serde_json::json;

#[test]
fn anonymous_sessions_are_denied_every_write_before_any_policy() {
    let dir = tempfile::tempdir().unwrap();
    let deps = DbDeps::default();
    // A local-first user owns a row in the namespace.
    let owner = local_first(dir.path(), "app", 1, &deps);
    owner
        .insert("messages", row(json!({"id": "m1", "text": "hi"})))
        .unwrap();

    // With no policies, and with policies that grant everything: the anonymous
    // check comes first either way.
    let grant_all = PolicySet::from_json(
        r#"{"tables": {"messages": {"read": "always", "insert": "always", "update": "always", "delete": "always"}}}"#,
    )
    .unwrap();
    for policies in [None, Some(grant_all)] {
        let mut config = on_disk(dir.path(), "app");
        config.policies = policies;
        let anon = Db::open(config, deps.clone()).unwrap();
        assert_eq!(anon.get_auth_state().auth_mode, AuthMode::Anonymous);
        let denied = |operation| DbError::AnonymousWriteDenied {
            table: "messages".into(),
            operation,
        };
        assert_eq!(
            anon.insert("messages", row(json!({"text": "x"})))
                .unwrap_err(),
            denied(Operation::Insert)
        );
        assert_eq!(
            anon.insert_many("messages", vec![row(json!({}))])
                .unwrap_err(),
            denied(Operation::Insert)
        );
        assert_eq!(
            anon.update("messages", "m1", row(json!({"text": "x"})))
                .unwrap_err(),
            denied(Operation::Update)
        );
        assert_eq!(
            anon.delete("messages", "m1").unwrap_err(),
            denied(Operation::Delete)
        );
        // Even for a row that does not exist: denial is structural, not a lookup.
        let error = anon.delete("messages", "missing").unwrap_err();
        assert_eq!(error.code(), "anonymous-write-denied");
        // Reads work; nothing changed.
        let rows = anon.query(&Query::table("messages")).unwrap();
        assert_eq!(ids(&rows), ["m1"]);
        assert_eq!(rows[0]["text"], "hi");
    }
    assert_eq!(owner.outbox_len().unwrap(), 1);
}

#[test]
fn anonymous_identity_is_ephemeral_and_tokens_are_anonymous() {
    let (_clock, deps) = fixed_clock();
    let a = Db::open(memory(), deps.clone()).unwrap();
    let b = Db::open(memory(), deps.clone()).unwrap();
    assert_ne!(a.user_id(), b.user_id());
    let token = a.current_token().unwrap().unwrap();
    let verified = token::verify(&token, &VerifyOptions::new("app"), &*_clock).unwrap();
    assert_eq!(verified.issuer, Issuer::Anonymous);
    assert_eq!(verified.user_id.to_string(), a.user_id());
    assert_eq!(a.get_local_first_identity_proof(60, None).unwrap(), None);
}

#[test]
fn principal_changes_are_refused_including_none() {
    let alice = provider_jwt(json!({"sub": "alice", "exp": 100}));
    let db = Db::open(memory().with_jwt_token(alice.clone()), DbDeps::default()).unwrap();
    let calls = Recorder::new();
    let c = calls.clone();
    let _sub = on_auth(&db, move |s: AuthState| c.push(s.clone()));
    assert_eq!(calls.len(), 1, "called at once");

    let bob = provider_jwt(json!({"sub": "bob"}));
    match db.update_auth_token(bob).unwrap_err() {
        DbError::PrincipalChange {
            current, requested, ..
        } => {
            assert_eq!(current, "alice");
            assert_eq!(requested.as_deref(), Some("bob"));
        }
        other => panic!("expected PrincipalChange, got {other:?}"),
    }
    let none = db.clear_auth_token().unwrap_err();
    assert!(matches!(
        none,
        DbError::PrincipalChange {
            requested: None,
            ..
        }
    ));
    assert!(none.to_string().contains("recreate the Db"));
    // Cookie updates on a bearer-token Db are a change of principal too.
    assert_eq!(
        db.update_cookie_session(CookieSession::new("alice"))
            .unwrap_err()
            .code(),
        "principal-change"
    );
    assert_eq!(calls.len(), 1, "refused updates change nothing");
    assert_eq!(db.current_token().unwrap(), Some(alice));
    assert_eq!(db.user_id(), "alice");

    // Local-first: no token may replace the self-signed identity, and None signs out.
    let local = Db::open(memory().with_secret(secret(4)), DbDeps::default()).unwrap();
    let me = local.user_id();
    assert_eq!(
        local.clear_auth_token().unwrap_err().code(),
        "principal-change"
    );
    assert_eq!(
        local
            .update_auth_token(provider_jwt(json!({"sub": me})))
            .unwrap_err()
            .code(),
        "principal-change"
    );
    // Anonymous: clearing a token that was never there is a no-op.
    let anon = Db::open(memory(), DbDeps::default()).unwrap();
    anon.clear_auth_token().unwrap();
}

#[test]
fn listeners_fire_once_per_real_change_and_never_for_a_no_op() {
    let first = provider_jwt(json!({"sub": "alice", "exp": 100}));
    let db = Db::open(memory().with_jwt_token(first.clone()), DbDeps::default()).unwrap();
    let calls = Recorder::new();
    let c = calls.clone();
    let sub = on_auth(&db, move |s: AuthState| c.push(s.clone()));
    assert_eq!(calls.len(), 1);

    db.update_auth_token(first.clone()).unwrap();
    assert_eq!(calls.len(), 1, "same token: no call");

    let second = provider_jwt(json!({"sub": "alice", "exp": 200}));
    db.update_auth_token(second.clone()).unwrap();
    assert_eq!(calls.len(), 2);
    assert_eq!(
        calls.last().unwrap().session.unwrap().claims["exp"],
        json!(200)
    );
    db.update_auth_token(second).unwrap();
    assert_eq!(calls.len(), 2);

    reject(&db, AuthFailure::Invalid).unwrap();
    reject(&db, AuthFailure::Invalid).unwrap();
    assert_eq!(calls.len(), 3, "a repeated rejection is not a change");
    assert_eq!(calls.last().unwrap().error, Some(AuthFailure::Invalid));
    db.report_server_accepted().unwrap();
    db.report_server_accepted().unwrap();
    assert_eq!(calls.len(), 4);
    assert_eq!(calls.last().unwrap().error, None);

    // A second listener sees the current state at once, independently.
    let late = Recorder::new();
    let l = late.clone();
    let late_sub = on_auth(&db, move |s: AuthState| l.push(s.clone()));
    assert_eq!(late.all(), vec![db.get_auth_state()]);

    sub.cancel();
    reject(&db, AuthFailure::Missing).unwrap();
    assert_eq!(calls.len(), 4, "cancelled");
    assert_eq!(late.len(), 2);
    drop(late_sub);
    db.report_server_accepted().unwrap();
    assert_eq!(late.len(), 2, "dropping the handle unsubscribes");
}

#[test]
fn a_listener_may_call_back_into_the_db() {
    let db = Arc::new(
        Db::open(
            memory().with_jwt_token(provider_jwt(json!({"sub": "alice"}))),
            DbDeps::default(),
        )
        .unwrap(),
    );
    let seen = Recorder::new();
    let (s, weak) = (seen.clone(), Arc::downgrade(&db));
    let _sub = on_auth(&db, move |state: AuthState| {
        s.push(state.error);
        // Re-entrant call: must neither deadlock nor reorder deliveries.
        if state.error == Some(AuthFailure::Expired) {
            if let Some(db) = weak.upgrade() {
                db.report_server_accepted().unwrap();
            }
        }
    });
    reject(&db, AuthFailure::Expired).unwrap();
    assert_eq!(seen.all(), vec![None, Some(AuthFailure::Expired), None]);
}

#[test]
fn local_first_tokens_are_reminted_at_eighty_percent_of_their_ttl() {
    let (clock, deps) = fixed_clock();
    let db = Db::open(memory().with_secret(secret(5)), deps).unwrap();
    let first = db.current_token().unwrap().unwrap();
    let options = VerifyOptions::new("app");
    let verified = token::verify(&first, &options, &*clock).unwrap();
    assert_eq!(verified.issuer, Issuer::LocalFirst);
    assert_eq!(verified.user_id.to_string(), db.user_id());
    assert_eq!((verified.issued_at, verified.expires_at), (T0, T0 + 3600));

    clock.set(T0 + 2879);
    assert_eq!(
        db.current_token().unwrap().unwrap(),
        first,
        "before 80 %: cached"
    );
    clock.set(T0 + 2880);
    let second = db.current_token().unwrap().unwrap();
    assert_ne!(second, first, "at 80 %: re-minted");
    let verified = token::verify(&second, &options, &*clock).unwrap();
    assert_eq!(verified.issued_at, T0 + 2880);
    assert_eq!(db.current_token().unwrap().unwrap(), second);

    // A shorter configured TTL moves the re-mint point with it.
    let (clock, deps) = fixed_clock();
    let short = Db::open(memory().with_secret(secret(5)).with_token_ttl(100), deps).unwrap();
    let t1 = short.current_token().unwrap().unwrap();
    clock.advance(79);
    assert_eq!(short.current_token().unwrap().unwrap(), t1);
    clock.advance(1);
    assert_ne!(short.current_token().unwrap().unwrap(), t1);
}

#[test]
fn identity_proofs_only_for_local_first() {
    let (clock, deps) = fixed_clock();
    let db = Db::open(memory().with_secret(secret(6)), deps.clone()).unwrap();
    let proof = db
        .get_local_first_identity_proof(60, Some("betterauth-signup".into()))
        .unwrap()
        .unwrap();
    let checked = token::verify_local_first_identity_proof(&proof, "betterauth-signup", &*clock);
    assert!(checked.ok, "{:?}", checked.error);
    assert_eq!(checked.id.as_deref(), Some(db.user_id().as_str()));
    // Short-lived: rejected once the TTL passed.
    clock.advance(61);
    assert!(!token::verify_local_first_identity_proof(&proof, "betterauth-signup", &*clock).ok);
    // Default audience: the app id.
    let default = db
        .get_local_first_identity_proof(60, None)
        .unwrap()
        .unwrap();
    assert!(token::verify_local_first_identity_proof(&default, "app", &*clock).ok);
    // The mint rule's code for a lifetime out of range (as `token::identity_proof`).
    assert_eq!(
        db.get_local_first_identity_proof(0, None)
            .unwrap_err()
            .code(),
        "invalid-ttl"
    );

    let external = Db::open(
        memory().with_jwt_token(provider_jwt(json!({"sub": "x"}))),
        deps.clone(),
    )
    .unwrap();
    assert_eq!(
        external.get_local_first_identity_proof(60, None).unwrap(),
        None
    );
    let cookie = Db::open(memory().with_cookie_session(CookieSession::new("x")), deps).unwrap();
    assert_eq!(
        cookie.get_local_first_identity_proof(60, None).unwrap(),
        None
    );
    assert_eq!(
        cookie.current_token().unwrap(),
        None,
        "the cookie is the transport"
    );
}

/// Review finding: proofs are verified with a 600 s maximum lifetime, so the
/// Db must not mint longer ones.
#[test]
fn identity_proofs_live_at_most_six_hundred_seconds() {
    let (clock, deps) = fixed_clock();
    let db = Db::open(memory().with_secret(secret(8)), deps).unwrap();
    let longest = db
        .get_local_first_identity_proof(600, None)
        .unwrap()
        .unwrap();
    let checked = token::verify_local_first_identity_proof(&longest, "app", &*clock);
    assert!(checked.ok, "{:?}", checked.error);
    for too_long in [601, 3600] {
        let error = db
            .get_local_first_identity_proof(too_long, None)
            .unwrap_err();
        assert_eq!(error.code(), "invalid-ttl", "{too_long}");
        assert!(error.to_string().contains("600"), "{error}");
    }
}

#[test]
fn cookie_sessions_follow_the_principal_rules() {
    let db = Db::open(
        memory().with_cookie_session(CookieSession::new("carol")),
        DbDeps::default(),
    )
    .unwrap();
    let calls = Recorder::new();
    let c = calls.clone();
    let _sub = on_auth(&db, move |s: AuthState| c.push(s.clone()));
    db.update_cookie_session(CookieSession::new("carol"))
        .unwrap();
    assert_eq!(calls.len(), 1);
    let mut richer = CookieSession::new("carol");
    richer.claims.insert("plan".into(), json!("pro"));
    db.update_cookie_session(richer).unwrap();
    assert_eq!(calls.len(), 2);
    assert_eq!(db.session().claims["plan"], "pro");
    assert_eq!(
        db.clear_cookie_session().unwrap_err().code(),
        "principal-change"
    );
    assert_eq!(
        db.update_cookie_session(CookieSession::new("dave"))
            .unwrap_err()
            .code(),
        "principal-change"
    );
    assert_eq!(
        db.update_auth_token(provider_jwt(json!({"sub": "carol"})))
            .unwrap_err()
            .code(),
        "principal-change"
    );
    assert_eq!(calls.len(), 2);
}

#[test]
fn sync_gating_follows_sync_when_mode_and_errors() {
    let deps = DbDeps::default();
    let server = "wss://sync.example.invalid";
    let jwt = provider_jwt(json!({"sub": "alice"}));
    let cases = [
        (memory().with_secret(secret(1)), SyncWhen::Always, true),
        (memory().with_secret(secret(1)), SyncWhen::SignedUp, false),
        (memory(), SyncWhen::Always, true),
        (memory(), SyncWhen::SignedUp, false),
        (
            memory().with_jwt_token(jwt.clone()),
            SyncWhen::SignedUp,
            true,
        ),
        (memory().with_jwt_token(jwt.clone()), SyncWhen::Never, false),
    ];
    for (config, when, expected) in cases {
        let db = Db::open(config.clone().with_sync_when(when), deps.clone()).unwrap();
        assert!(!db.should_sync(), "no server configured");
        let db = Db::open(
            config.with_sync_when(when).with_server_url(server),
            deps.clone(),
        )
        .unwrap();
        assert_eq!(db.should_sync(), expected, "{when:?}");
        if expected {
            reject(&db, AuthFailure::Expired).unwrap();
            assert!(!db.should_sync(), "paused while the credential is refused");
            db.report_server_accepted().unwrap();
            assert!(db.should_sync());
        }
    }
}
