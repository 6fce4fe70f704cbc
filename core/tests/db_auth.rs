//! Auth through the Db: anonymous write denial, principal-change rules, listener
//! semantics, token re-minting with a fake clock, identity proofs, server
//! rejections and the single-flight JWT refresh, sync gating.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod db_support;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{mpsc, Arc, Barrier};
use std::time::Duration;

use db_support::*;
use localfirst_core::auth::{AuthFailure, AuthState, CookieSession, SyncWhen};
use localfirst_core::db::{Db, DbConfig, DbDeps, DbError, StorageMode};
use localfirst_core::local_db::Query;
use localfirst_core::policy::{Operation, PolicySet};
use localfirst_core::session::AuthMode;
use localfirst_core::token::{self, Issuer, VerifyOptions};
use localfirst_core::ErrorCode;
use serde_json::json;

fn memory() -> DbConfig {
    DbConfig::new("app", StorageMode::InMemory)
}

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
    let _sub = db.on_auth_changed(move |s: &AuthState| c.push(s.clone()));
    assert_eq!(calls.len(), 1, "called at once");

    let bob = provider_jwt(json!({"sub": "bob"}));
    match db.update_auth_token(Some(bob)).unwrap_err() {
        DbError::PrincipalChange {
            current, requested, ..
        } => {
            assert_eq!(current, "alice");
            assert_eq!(requested.as_deref(), Some("bob"));
        }
        other => panic!("expected PrincipalChange, got {other:?}"),
    }
    let none = db.update_auth_token(None).unwrap_err();
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
        db.update_cookie_session(Some(CookieSession::new("alice")))
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
    for attempt in [None, Some(provider_jwt(json!({"sub": me})))] {
        assert_eq!(
            local.update_auth_token(attempt).unwrap_err().code(),
            "principal-change"
        );
    }
    // Anonymous: clearing a token that was never there is a no-op.
    let anon = Db::open(memory(), DbDeps::default()).unwrap();
    anon.update_auth_token(None).unwrap();
}

#[test]
fn listeners_fire_once_per_real_change_and_never_for_a_no_op() {
    let first = provider_jwt(json!({"sub": "alice", "exp": 100}));
    let db = Db::open(memory().with_jwt_token(first.clone()), DbDeps::default()).unwrap();
    let calls = Recorder::new();
    let c = calls.clone();
    let sub = db.on_auth_changed(move |s: &AuthState| c.push(s.clone()));
    assert_eq!(calls.len(), 1);

    db.update_auth_token(Some(first.clone())).unwrap();
    assert_eq!(calls.len(), 1, "same token: no call");

    let second = provider_jwt(json!({"sub": "alice", "exp": 200}));
    db.update_auth_token(Some(second.clone())).unwrap();
    assert_eq!(calls.len(), 2);
    assert_eq!(
        calls.last().unwrap().session.unwrap().claims["exp"],
        json!(200)
    );
    db.update_auth_token(Some(second)).unwrap();
    assert_eq!(calls.len(), 2);

    db.report_server_rejection(AuthFailure::Invalid).unwrap();
    db.report_server_rejection(AuthFailure::Invalid).unwrap();
    assert_eq!(calls.len(), 3, "a repeated rejection is not a change");
    assert_eq!(calls.last().unwrap().error, Some(AuthFailure::Invalid));
    db.report_server_accepted().unwrap();
    db.report_server_accepted().unwrap();
    assert_eq!(calls.len(), 4);
    assert_eq!(calls.last().unwrap().error, None);

    // A second listener sees the current state at once, independently.
    let late = Recorder::new();
    let l = late.clone();
    let late_sub = db.on_auth_changed(move |s: &AuthState| l.push(s.clone()));
    assert_eq!(late.all(), vec![db.get_auth_state()]);

    sub.cancel();
    db.report_server_rejection(AuthFailure::Missing).unwrap();
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
    let _sub = db.on_auth_changed(move |state: &AuthState| {
        s.push(state.error);
        // Re-entrant call: must neither deadlock nor reorder deliveries.
        if state.error == Some(AuthFailure::Expired) {
            if let Some(db) = weak.upgrade() {
                db.report_server_accepted().unwrap();
            }
        }
    });
    db.report_server_rejection(AuthFailure::Expired).unwrap();
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
        .get_local_first_identity_proof(60, Some("betterauth-signup"))
        .unwrap()
        .unwrap();
    let checked = token::verify_local_first_identity_proof_at(&proof, "betterauth-signup", &*clock);
    assert!(checked.ok, "{:?}", checked.error);
    assert_eq!(checked.id.as_deref(), Some(db.user_id().as_str()));
    // Short-lived: rejected once the TTL passed.
    clock.advance(61);
    assert!(!token::verify_local_first_identity_proof_at(&proof, "betterauth-signup", &*clock).ok);
    // Default audience: the app id.
    let default = db
        .get_local_first_identity_proof(60, None)
        .unwrap()
        .unwrap();
    assert!(token::verify_local_first_identity_proof_at(&default, "app", &*clock).ok);
    assert_eq!(
        db.get_local_first_identity_proof(0, None)
            .unwrap_err()
            .code(),
        "invalid-argument"
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

#[test]
fn expired_rejection_keeps_the_session_and_refreshes_through_the_provider() {
    let fresh = provider_jwt(json!({"sub": "alice", "exp": 999}));
    let provided = fresh.clone();
    let config = memory()
        .with_jwt_token(provider_jwt(json!({"sub": "alice", "exp": 1})))
        .on_jwt_expired(move || Some(provided.clone()));
    let db = Db::open(config, DbDeps::default()).unwrap();
    let states = Recorder::new();
    let s = states.clone();
    let _sub = db.on_auth_changed(move |st: &AuthState| s.push(st.clone()));
    assert!(db.report_server_rejection(AuthFailure::Expired).unwrap());
    let all = states.all();
    assert_eq!(all.len(), 3, "initial, error set, fresh token");
    assert_eq!(all[1].error, Some(AuthFailure::Expired));
    assert_eq!(
        all[1].session.as_ref().unwrap().user_id,
        "alice",
        "last session kept"
    );
    assert_eq!(all[2].error, None);
    assert_eq!(db.current_token().unwrap(), Some(fresh));

    // Other rejections never call the provider.
    assert!(!db.report_server_rejection(AuthFailure::Disabled).unwrap());
    assert_eq!(db.get_auth_state().error, Some(AuthFailure::Disabled));
}

#[test]
fn the_provider_runs_once_however_many_writes_fail_at_once() {
    let calls = Arc::new(AtomicUsize::new(0));
    let (release_tx, release_rx) = mpsc::channel::<()>();
    let release_rx = Arc::new(std::sync::Mutex::new(release_rx));
    let (c, rx) = (calls.clone(), release_rx.clone());
    let config = memory()
        .with_jwt_token(provider_jwt(json!({"sub": "alice", "v": 1})))
        .on_jwt_expired(move || {
            c.fetch_add(1, Ordering::SeqCst);
            rx.lock().unwrap().recv().ok()?;
            Some(provider_jwt(json!({"sub": "alice", "v": 2})))
        });
    let db = Arc::new(Db::open(config, DbDeps::default()).unwrap());

    // The first reporter starts the refresh and waits on the provider.
    let first = {
        let db = db.clone();
        std::thread::spawn(move || db.report_server_rejection(AuthFailure::Expired).unwrap())
    };
    while calls.load(Ordering::SeqCst) == 0 {
        std::thread::yield_now();
    }
    // Eight more failures arrive while the refresh is in flight.
    let barrier = Arc::new(Barrier::new(8));
    let others: Vec<_> = (0..8)
        .map(|_| {
            let (db, barrier) = (db.clone(), barrier.clone());
            std::thread::spawn(move || {
                barrier.wait();
                db.report_server_rejection(AuthFailure::Expired).unwrap()
            })
        })
        .collect();
    for t in others {
        assert!(!t.join().unwrap(), "coalesced into the running refresh");
    }
    release_tx.send(()).unwrap();
    assert!(first.join().unwrap());
    assert_eq!(calls.load(Ordering::SeqCst), 1);
    assert_eq!(db.get_auth_state().error, None);
    assert_eq!(db.session().claims["v"], json!(2));
}

#[test]
fn a_provider_that_hangs_times_out_and_a_wrong_user_is_refused() {
    let (_keep, never) = mpsc::channel::<()>();
    let never = Arc::new(std::sync::Mutex::new(never));
    let config = memory()
        .with_jwt_token(provider_jwt(json!({"sub": "alice"})))
        .with_jwt_refresh_timeout(Duration::from_millis(50))
        .on_jwt_expired(move || {
            let _ = never.lock().unwrap().recv();
            None
        });
    let db = Db::open(config, DbDeps::default()).unwrap();
    assert!(!db.report_server_rejection(AuthFailure::Expired).unwrap());
    assert_eq!(db.get_auth_state().error, Some(AuthFailure::Expired));

    let config = memory()
        .with_jwt_token(provider_jwt(json!({"sub": "alice"})))
        .on_jwt_expired(|| Some(provider_jwt(json!({"sub": "mallory"}))));
    let db = Db::open(config, DbDeps::default()).unwrap();
    assert_eq!(
        db.report_server_rejection(AuthFailure::Expired)
            .unwrap_err()
            .code(),
        "principal-change"
    );
    assert_eq!(db.user_id(), "alice");
    assert_eq!(db.get_auth_state().error, Some(AuthFailure::Expired));
}

/// Review finding: a timed-out refresh released the latch while the provider
/// was still running, so the next `expired` started a second, concurrent call.
#[test]
fn a_timed_out_refresh_keeps_the_latch_until_the_provider_returns() {
    let calls = Arc::new(AtomicUsize::new(0));
    let (release_tx, release_rx) = mpsc::channel::<()>();
    let release_rx = std::sync::Mutex::new(release_rx);
    let c = calls.clone();
    let config = memory()
        .with_jwt_token(provider_jwt(json!({"sub": "alice", "v": 1})))
        // Only the first call's wait outlives this; it is the timeout under test.
        .with_jwt_refresh_timeout(Duration::from_millis(100))
        .on_jwt_expired(move || {
            let n = c.fetch_add(1, Ordering::SeqCst) + 1;
            if n == 1 {
                // The first call hangs until the test releases it.
                release_rx.lock().unwrap().recv().ok()?;
            }
            Some(provider_jwt(json!({"sub": "alice", "v": n + 1})))
        });
    let db = Db::open(config, DbDeps::default()).unwrap();
    let states = Recorder::new();
    let s = states.clone();
    let _sub = db.on_auth_changed(move |st: &AuthState| s.push(st.clone()));

    // The caller stops waiting after the timeout; the provider still runs.
    assert!(!db.report_server_rejection(AuthFailure::Expired).unwrap());
    assert_eq!(db.get_auth_state().error, Some(AuthFailure::Expired));
    // More failures while it runs: no second provider call, however long they wait.
    for _ in 0..3 {
        assert!(
            !db.report_server_rejection(AuthFailure::Expired).unwrap(),
            "a second refresh must not start while the first provider runs"
        );
    }
    assert_eq!(calls.load(Ordering::SeqCst), 1);

    // The late token is applied by the refresh thread, which then releases the
    // latch: the next failure calls the provider again (exactly once more).
    release_tx.send(()).unwrap();
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    while !db.report_server_rejection(AuthFailure::Expired).unwrap() {
        assert!(std::time::Instant::now() < deadline, "latch never released");
        std::thread::yield_now();
    }
    assert_eq!(calls.load(Ordering::SeqCst), 2);
    assert_eq!(db.session().claims["v"], json!(3));
    assert_eq!(db.get_auth_state().error, None);
    let versions: Vec<_> = states
        .all()
        .iter()
        .filter(|st| st.error.is_none())
        .map(|st| st.session.as_ref().unwrap().claims["v"].clone())
        .collect();
    assert_eq!(
        versions,
        [json!(1), json!(2), json!(3)],
        "the late token was applied, in order"
    );
}

/// Review finding: a provider handing back the token the Db already holds made
/// `report_server_rejection` claim a refresh while `error` stayed set.
#[test]
fn a_provider_returning_the_current_token_is_not_a_refresh() {
    let current = provider_jwt(json!({"sub": "alice"}));
    let same = current.clone();
    let config = memory()
        .with_server_url("wss://sync.example")
        .with_jwt_token(current.clone())
        .on_jwt_expired(move || Some(same.clone()));
    let db = Db::open(config, DbDeps::default()).unwrap();
    assert!(!db.report_server_rejection(AuthFailure::Expired).unwrap());
    assert_eq!(db.get_auth_state().error, Some(AuthFailure::Expired));
    assert!(!db.should_sync(), "still paused");
    assert_eq!(db.current_token().unwrap(), Some(current));
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
    let checked = token::verify_local_first_identity_proof_at(&longest, "app", &*clock);
    assert!(checked.ok, "{:?}", checked.error);
    for too_long in [601, 3600] {
        let error = db
            .get_local_first_identity_proof(too_long, None)
            .unwrap_err();
        assert_eq!(error.code(), "invalid-argument", "{too_long}");
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
    let _sub = db.on_auth_changed(move |s: &AuthState| c.push(s.clone()));
    db.update_cookie_session(Some(CookieSession::new("carol")))
        .unwrap();
    assert_eq!(calls.len(), 1);
    let mut richer = CookieSession::new("carol");
    richer.claims.insert("plan".into(), json!("pro"));
    db.update_cookie_session(Some(richer)).unwrap();
    assert_eq!(calls.len(), 2);
    assert_eq!(db.session().claims["plan"], "pro");
    for bad in [None, Some(CookieSession::new("dave"))] {
        assert_eq!(
            db.update_cookie_session(bad).unwrap_err().code(),
            "principal-change"
        );
    }
    assert_eq!(
        db.update_auth_token(Some(provider_jwt(json!({"sub": "carol"}))))
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
            db.report_server_rejection(AuthFailure::Expired).unwrap();
            assert!(!db.should_sync(), "paused while the credential is refused");
            db.report_server_accepted().unwrap();
            assert!(db.should_sync());
        }
    }
}
