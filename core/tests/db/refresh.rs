//! The single-flight JWT refresh behind `report_server_rejection`: one
//! refresher call however many callers, a timeout that never parks a thread,
//! late tokens still applied, failures and panics releasing the latch.
//! Timing tests run on a paused tokio clock: no real sleeps.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::support::*;
use localfirst_core::auth::{AuthFailure, AuthState};
use localfirst_core::db::{
    Db, DbConfig, DbDeps, JwtRefresher, RefreshError, RefreshFuture, RefreshOutcome,
};
use localfirst_core::ErrorCode;
use serde_json::json;
use tokio::sync::oneshot;

/// A refresher that counts its calls and answers with `answer(call number)`.
struct Counting<F> {
    calls: Arc<AtomicUsize>,
    answer: F,
}

impl<F> JwtRefresher for Counting<F>
where
    F: Fn(usize) -> RefreshFuture + Send + Sync,
{
    fn refresh(&self) -> RefreshFuture {
        let n = self.calls.fetch_add(1, Ordering::SeqCst) + 1;
        (self.answer)(n)
    }
}

fn counting(
    answer: impl Fn(usize) -> RefreshFuture + Send + Sync + 'static,
) -> (Arc<AtomicUsize>, Arc<dyn JwtRefresher>) {
    let calls = Arc::new(AtomicUsize::new(0));
    let refresher = Counting {
        calls: calls.clone(),
        answer,
    };
    (calls, Arc::new(refresher))
}

fn ready(result: Result<Option<String>, RefreshError>) -> RefreshFuture {
    Box::pin(async move { result })
}

fn alice(version: usize) -> String {
    provider_jwt(json!({"sub": "alice", "v": version}))
}

/// A JWT config for alice (version 1) whose refresher is `refresher`.
fn jwt_config(refresher: Arc<dyn JwtRefresher>) -> DbConfig {
    memory()
        .with_jwt_token(alice(1))
        .with_jwt_refresher(refresher)
}

/// Deps running refreshes on the test's (paused) runtime.
fn on_this_runtime() -> DbDeps {
    DbDeps::default().with_runtime(tokio::runtime::Handle::current())
}

/// Yields to the runtime until `done` holds (bounded, so a bug fails instead of hanging).
async fn until(mut done: impl FnMut() -> bool) {
    for _ in 0..10_000 {
        if done() {
            return;
        }
        tokio::task::yield_now().await;
    }
    assert!(done(), "condition never held");
}

#[test]
fn expired_rejection_keeps_the_session_and_refreshes_through_the_refresher() {
    // No runtime given: the Db runs the refresher on a runtime of its own.
    let fresh = alice(2);
    let provided = fresh.clone();
    let refresher = move || {
        let token = provided.clone();
        async move { Ok(Some(token)) }
    };
    let db = Db::open(jwt_config(Arc::new(refresher)), DbDeps::default()).unwrap();
    let states = Recorder::new();
    let s = states.clone();
    let _sub = on_auth(&db, move |st: AuthState| s.push(st));
    assert_eq!(
        reject(&db, AuthFailure::Expired).unwrap(),
        RefreshOutcome::Refreshed
    );
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

    // Other rejections never call the refresher.
    assert_eq!(
        reject(&db, AuthFailure::Disabled).unwrap(),
        RefreshOutcome::NoRefresher
    );
    assert_eq!(db.get_auth_state().error, Some(AuthFailure::Disabled));
}

#[tokio::test(start_paused = true)]
async fn fifty_concurrent_rejections_call_the_refresher_once() {
    let (release, gate) = oneshot::channel::<()>();
    let gate = Arc::new(Mutex::new(Some(gate)));
    let (calls, refresher) = counting(move |_| {
        let gate = gate.lock().unwrap().take();
        Box::pin(async move {
            if let Some(gate) = gate {
                gate.await.map_err(|_| RefreshError::new("gate dropped"))?;
            }
            Ok(Some(alice(2)))
        })
    });
    let db = Db::open(jwt_config(refresher), on_this_runtime()).unwrap();
    let answered = Arc::new(AtomicUsize::new(0));
    let callers: Vec<_> = (0..50)
        .map(|_| {
            let (db, answered) = (db.clone(), answered.clone());
            tokio::spawn(async move {
                let outcome = db.report_server_rejection(AuthFailure::Expired).await;
                answered.fetch_add(1, Ordering::SeqCst);
                outcome.unwrap()
            })
        })
        .collect();
    // Every caller but the one waiting on the refresher has its answer.
    until(|| answered.load(Ordering::SeqCst) == 49).await;
    assert_eq!(calls.load(Ordering::SeqCst), 1);
    release.send(()).unwrap();
    let mut outcomes = Vec::new();
    for caller in callers {
        outcomes.push(caller.await.unwrap());
    }
    let refreshed = outcomes
        .iter()
        .filter(|o| **o == RefreshOutcome::Refreshed)
        .count();
    let in_flight = outcomes
        .iter()
        .filter(|o| **o == RefreshOutcome::InFlight)
        .count();
    assert_eq!((refreshed, in_flight), (1, 49), "{outcomes:?}");
    assert_eq!(calls.load(Ordering::SeqCst), 1);
    assert_eq!(db.get_auth_state().error, None);
    assert_eq!(db.session().claims["v"], json!(2));
}

#[tokio::test(start_paused = true)]
async fn a_refresher_that_never_answers_times_out_without_parking_the_caller() {
    let (calls, refresher) = counting(|_| Box::pin(std::future::pending()));
    let config = jwt_config(refresher).with_jwt_refresh_timeout(Duration::from_secs(5));
    let db = Db::open(config, on_this_runtime()).unwrap();
    let started = tokio::time::Instant::now();
    // The refresher's task runs on this very thread: a caller that blocked the
    // thread would never see the timeout fire.
    assert_eq!(
        db.report_server_rejection(AuthFailure::Expired)
            .await
            .unwrap(),
        RefreshOutcome::TimedOut
    );
    assert_eq!(started.elapsed(), Duration::from_secs(5));
    assert_eq!(db.get_auth_state().error, Some(AuthFailure::Expired));
    // The latch stays held while the refresher runs.
    assert_eq!(
        db.report_server_rejection(AuthFailure::Expired)
            .await
            .unwrap(),
        RefreshOutcome::InFlight
    );
    assert_eq!(calls.load(Ordering::SeqCst), 1);
}

/// Review finding: a timed-out refresh released the latch while the refresher
/// was still running, so the next `expired` started a second, concurrent call.
#[tokio::test(start_paused = true)]
async fn a_slow_refresher_keeps_the_latch_and_still_applies_its_token() {
    let (release, gate) = oneshot::channel::<()>();
    let gate = Arc::new(Mutex::new(Some(gate)));
    let (calls, refresher) = counting(move |n| {
        let gate = gate.lock().unwrap().take();
        Box::pin(async move {
            // The first call hangs until the test releases it.
            if let (1, Some(gate)) = (n, gate) {
                gate.await.map_err(|_| RefreshError::new("gate dropped"))?;
            }
            Ok(Some(alice(n + 1)))
        })
    });
    let config = jwt_config(refresher).with_jwt_refresh_timeout(Duration::from_millis(100));
    let db = Db::open(config, on_this_runtime()).unwrap();
    let states = Recorder::new();
    let s = states.clone();
    let _sub = on_auth(&db, move |st: AuthState| s.push(st));

    // The caller stops waiting after the timeout; the refresher still runs.
    assert_eq!(
        db.report_server_rejection(AuthFailure::Expired)
            .await
            .unwrap(),
        RefreshOutcome::TimedOut
    );
    assert_eq!(db.get_auth_state().error, Some(AuthFailure::Expired));
    // More failures while it runs: no second refresher call.
    for _ in 0..3 {
        assert_eq!(
            db.report_server_rejection(AuthFailure::Expired)
                .await
                .unwrap(),
            RefreshOutcome::InFlight,
            "a second refresh must not start while the first runs"
        );
    }
    assert_eq!(calls.load(Ordering::SeqCst), 1);

    // The late token is applied by the refresh task, which then releases the
    // latch: the next failure calls the refresher again (exactly once more).
    release.send(()).unwrap();
    until(|| db.get_auth_state().error.is_none()).await;
    assert_eq!(
        db.session().claims["v"],
        json!(2),
        "the late token was applied"
    );
    assert_eq!(
        db.report_server_rejection(AuthFailure::Expired)
            .await
            .unwrap(),
        RefreshOutcome::Refreshed
    );
    assert_eq!(calls.load(Ordering::SeqCst), 2);
    assert_eq!(db.session().claims["v"], json!(3));
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

#[tokio::test(start_paused = true)]
async fn failing_or_panicking_refreshers_release_the_latch() {
    let (calls, refresher) = counting(|n| match n {
        1 => ready(Err(RefreshError::new("network down"))),
        2 => ready(Ok(None)),
        3 => Box::pin(async { panic!("refresher bug") }),
        _ => ready(Ok(Some(alice(1)))),
    });
    let config = jwt_config(refresher).with_server_url("wss://sync.example");
    let db = Db::open(config, on_this_runtime()).unwrap();
    // An error, no token, a panic, and the token the Db already holds: each
    // is a failed refresh, and each releases the latch for the next one.
    for call in 1..=4 {
        assert_eq!(
            db.report_server_rejection(AuthFailure::Expired)
                .await
                .unwrap(),
            RefreshOutcome::Failed,
            "call {call}"
        );
        assert_eq!(calls.load(Ordering::SeqCst), call);
        assert_eq!(db.get_auth_state().error, Some(AuthFailure::Expired));
    }
    assert!(!db.should_sync(), "still paused");
    assert_eq!(db.current_token().unwrap(), Some(alice(1)));
}

#[tokio::test(start_paused = true)]
async fn nothing_is_refreshed_without_a_refresher_a_jwt_or_an_expiry() {
    let (calls, refresher) = counting(|_| ready(Ok(Some(alice(2)))));
    let no_refresher = Db::open(memory().with_jwt_token(alice(1)), on_this_runtime()).unwrap();
    let local_first = Db::open(
        memory()
            .with_secret(secret(3))
            .with_jwt_refresher(refresher.clone()),
        on_this_runtime(),
    )
    .unwrap();
    let cookie = Db::open(
        memory()
            .with_cookie_session(localfirst_core::auth::CookieSession::new("alice"))
            .with_jwt_refresher(refresher.clone()),
        on_this_runtime(),
    )
    .unwrap();
    for db in [&no_refresher, &local_first, &cookie] {
        assert_eq!(
            db.report_server_rejection(AuthFailure::Expired)
                .await
                .unwrap(),
            RefreshOutcome::NoRefresher
        );
        assert_eq!(db.get_auth_state().error, Some(AuthFailure::Expired));
    }
    let jwt = Db::open(jwt_config(refresher), on_this_runtime()).unwrap();
    for failure in [
        AuthFailure::Invalid,
        AuthFailure::Disabled,
        AuthFailure::Missing,
    ] {
        assert_eq!(
            jwt.report_server_rejection(failure).await.unwrap(),
            RefreshOutcome::NoRefresher
        );
        assert_eq!(jwt.get_auth_state().error, Some(failure));
    }
    assert_eq!(calls.load(Ordering::SeqCst), 0);
}

#[tokio::test(start_paused = true)]
async fn a_token_for_another_user_is_refused() {
    let (_calls, refresher) =
        counting(|_| ready(Ok(Some(provider_jwt(json!({"sub": "mallory"}))))));
    let db = Db::open(jwt_config(refresher), on_this_runtime()).unwrap();
    assert_eq!(
        db.report_server_rejection(AuthFailure::Expired)
            .await
            .unwrap_err()
            .code(),
        "principal-change"
    );
    assert_eq!(db.user_id(), "alice");
    assert_eq!(db.get_auth_state().error, Some(AuthFailure::Expired));
}

#[test]
fn a_rejection_after_logout_is_logged_out() {
    let (_calls, refresher) = counting(|_| ready(Ok(Some(alice(2)))));
    let db = Db::open(jwt_config(refresher), DbDeps::default()).unwrap();
    db.logout().unwrap();
    assert_eq!(
        reject(&db, AuthFailure::Expired).unwrap_err().code(),
        "logged-out"
    );
}
