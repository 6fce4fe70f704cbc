//! The core's sync engine (`Db::sync_once`, `Db::start_sync`) against a real
//! server on 127.0.0.1.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code

mod common;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use common::{apply, clock, config, start, APP, NOW};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use localfirst_core::auth::SyncWhen;
use localfirst_core::clock::FixedClock;
use localfirst_core::db::{
    AuthConfig, Db, DbConfig, DbDeps, DbError, RefreshError, RowValues, StorageMode,
};
use localfirst_core::local_db::Query;
use localfirst_core::secret::Secret;
use localfirst_core::sync::{Backoff, SyncState};
use localfirst_core::ErrorCode as _;
use localfirst_server::auth::external::{ExternalAuthConfig, ExternalKeySource};
use localfirst_server::RunningServer;
use serde_json::{json, Value};

fn url(server: &RunningServer) -> String {
    format!("ws://{}", server.local_addr())
}

fn local_first_db(server: &RunningServer, n: u8, storage: StorageMode) -> Db {
    let auth = AuthConfig::LocalFirst(Secret::from_bytes([n; 32]));
    let config = DbConfig::new(APP, storage, auth).with_server_url(url(server));
    Db::open(config, DbDeps::with_clock(clock())).unwrap()
}

fn fast() -> Backoff {
    Backoff {
        base: Duration::from_millis(20),
        max_exponent: 3,
        cap: Duration::from_millis(200),
        jitter_percent: 10,
    }
}

fn es256_token(sub: &str, exp: u64) -> String {
    let pem = std::fs::read(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../auth/tests/data/es256.pem"
    ))
    .unwrap();
    let mut header = Header::new(Algorithm::ES256);
    header.kid = Some("es256-key".into());
    let claims = json!({"iss": ISSUER, "aud": APP, "sub": sub, "exp": exp, "iat": NOW});
    jsonwebtoken::encode(&header, &claims, &EncodingKey::from_ec_pem(&pem).unwrap()).unwrap()
}

fn external_config(server_clock: &Arc<FixedClock>) -> localfirst_server::ServerConfig {
    let mut cfg = config(server_clock);
    let key = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../auth/tests/data/es256.pub.pem"
    ))
    .unwrap();
    let keys = ExternalKeySource::Static { key };
    cfg.external = Some(ExternalAuthConfig::new(keys, ISSUER, APP));
    cfg
}

/// The issuer of the external tokens.
const ISSUER: &str = "https://id.example.test";

/// Every row the server holds, through a fresh connection of identity 200.
async fn server_rows(server: &RunningServer) -> std::collections::BTreeMap<String, Value> {
    let mut client = common::connect_user(server.local_addr(), 200, "observer").await;
    let (changes, _) = client.pull_all(0).await;
    apply(&changes)
}

async fn server_changes(server: &RunningServer) -> Vec<Value> {
    let mut client = common::connect_user(server.local_addr(), 200, "observer").await;
    client.pull_all(0).await.0
}

async fn eventually(what: &str, mut check: impl FnMut() -> bool) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(15);
    while !check() {
        assert!(tokio::time::Instant::now() < deadline, "timed out: {what}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

fn todo(title: &str) -> RowValues {
    RowValues::new().set("title", title)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_clients_of_one_user_converge_and_subscriptions_fire_once() {
    let server = start(config(&clock())).await;
    let a = local_first_db(&server, 1, StorageMode::InMemory);
    let b = local_first_db(&server, 1, StorageMode::InMemory);
    a.insert_many("todos", vec![todo("milk"), todo("eggs"), todo("tea")])
        .unwrap();
    let report = a.sync_once().await.unwrap();
    assert_eq!(
        (report.pushed, report.acknowledged, report.rejected),
        (3, 3, 0)
    );
    assert_eq!(a.outbox_len().unwrap(), 0);

    let calls = Arc::new(AtomicUsize::new(0));
    let seen = Arc::clone(&calls);
    let _sub = b
        .subscribe(
            Query::table("todos"),
            Arc::new(move |_rows: Vec<localfirst_core::db::Row>| {
                seen.fetch_add(1, Ordering::SeqCst);
            }),
        )
        .unwrap();
    assert_eq!(calls.load(Ordering::SeqCst), 1, "initial delivery");
    let report = b.sync_once().await.unwrap();
    assert_eq!(report.pulled, 3);
    assert_eq!(report.pushed, 0);
    assert_eq!(
        calls.load(Ordering::SeqCst),
        2,
        "one call for one applied frame"
    );
    assert_eq!(b.query(&Query::table("todos")).unwrap().len(), 3);
    assert_eq!(
        b.outbox_len().unwrap(),
        0,
        "remote changes create no outbox entries"
    );

    // B writes back; A converges.
    let row = b.query(&Query::table("todos")).unwrap().remove(0);
    b.update("todos", &row.id(), todo("oat milk")).unwrap();
    b.sync_once().await.unwrap();
    a.sync_once().await.unwrap();
    let on_a = a.get("todos", &row.id()).unwrap().unwrap();
    assert_eq!(on_a.to_json_value()["title"], "oat milk");
    assert_eq!(
        a.query(&Query::table("todos")).unwrap(),
        b.query(&Query::table("todos")).unwrap()
    );
    assert_eq!(server_rows(&server).await.len(), 3);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn local_first_and_external_clients_side_by_side() {
    let server_clock = clock();
    let server = start(external_config(&server_clock)).await;
    let local = local_first_db(&server, 1, StorageMode::InMemory);
    let external_auth = AuthConfig::Jwt(es256_token("ext-user", NOW + 3600));
    let external = Db::open(
        DbConfig::new(APP, StorageMode::InMemory, external_auth).with_server_url(url(&server)),
        DbDeps::with_clock(clock()),
    )
    .unwrap();
    local.insert("todos", todo("from local-first")).unwrap();
    external.insert("todos", todo("from external")).unwrap();
    assert_eq!(local.sync_once().await.unwrap().acknowledged, 1);
    assert_eq!(external.sync_once().await.unwrap().acknowledged, 1);
    local.sync_once().await.unwrap();
    let rows = local.query(&Query::table("todos")).unwrap();
    let mut creators: Vec<String> = rows.iter().map(|r| r.created_by()).collect();
    creators.sort();
    let mut expected = vec![local.user_id(), "ext-user".to_owned()];
    expected.sort();
    assert_eq!(creators, expected);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fifty_writes_on_an_expired_token_cause_one_refresh_and_arrive_once() {
    let server_clock = clock();
    let server = start(external_config(&server_clock)).await;
    let calls = Arc::new(AtomicUsize::new(0));
    let counter = Arc::clone(&calls);
    let refresher = move || {
        counter.fetch_add(1, Ordering::SeqCst);
        async move { Ok::<_, RefreshError>(Some(es256_token("ext-user", NOW + 7200))) }
    };
    let config = DbConfig::new(
        APP,
        StorageMode::InMemory,
        AuthConfig::Jwt(es256_token("ext-user", NOW + 60)),
    )
    .with_server_url(url(&server))
    .with_jwt_refresher(Arc::new(refresher));
    let db = Db::open(config, DbDeps::with_clock(clock())).unwrap();
    for i in 0..50 {
        db.insert("todos", todo(&format!("t{i}"))).unwrap();
    }
    // The server's clock passes the first token's exp: no sleeping.
    server_clock.advance(120);
    db.start_sync_with(fast()).unwrap();
    eventually("the outbox drains", || db.outbox_len().unwrap() == 0).await;
    assert_eq!(calls.load(Ordering::SeqCst), 1, "exactly one refresh");
    assert_eq!(db.get_auth_state().error, None);
    let changes = server_changes(&server).await;
    assert_eq!(changes.len(), 50, "each write arrived once");
    assert_eq!(apply(&changes).len(), 50);
    db.logout().unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_credential_pauses_sync_until_a_new_token() {
    let server_clock = clock();
    let server = start(external_config(&server_clock)).await;
    let config = DbConfig::new(
        APP,
        StorageMode::InMemory,
        AuthConfig::Jwt(es256_token("ext-user", NOW + 60)),
    )
    .with_server_url(url(&server));
    let db = Db::open(config, DbDeps::with_clock(clock())).unwrap();
    db.insert("todos", todo("waits")).unwrap();
    server_clock.advance(120);
    db.start_sync_with(fast()).unwrap();
    eventually("paused", || db.sync_status().state == SyncState::Paused).await;
    assert!(db.get_auth_state().error.is_some());
    assert_eq!(db.outbox_len().unwrap(), 1);
    // No reconnect storm: paused means no socket.
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(server.connections(), 0);
    db.update_auth_token(es256_token("ext-user", NOW + 7200))
        .unwrap();
    eventually("flushed", || db.outbox_len().unwrap() == 0).await;
    assert_eq!(db.sync_status().state, SyncState::Connected);
    assert_eq!(server_rows(&server).await.len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn live_sync_delivers_writes_between_running_clients() {
    let server = start(config(&clock())).await;
    let a = local_first_db(&server, 1, StorageMode::InMemory);
    let b = local_first_db(&server, 2, StorageMode::InMemory);
    a.start_sync_with(fast()).unwrap();
    b.start_sync_with(fast()).unwrap();
    eventually("both connected", || server.connections() == 2).await;
    let row = a.insert("todos", todo("live")).unwrap();
    eventually("b sees a's row", || {
        b.get("todos", &row.id()).unwrap().is_some()
    })
    .await;
    b.delete("todos", &row.id()).unwrap();
    eventually("a sees b's delete", || {
        a.get("todos", &row.id()).unwrap().is_none()
    })
    .await;
    eventually("outboxes drained", || {
        a.outbox_len().unwrap() == 0 && b.outbox_len().unwrap() == 0
    })
    .await;
    assert!(a.sync_status().cursor >= 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn restart_keeps_client_id_and_cursor_and_a_resend_applies_once() {
    let server = start(config(&clock())).await;
    let dir = tempfile::tempdir().unwrap();
    let storage = StorageMode::DataDir(dir.path().to_string_lossy().into_owned());
    let db = local_first_db(&server, 1, storage.clone());
    let client_id = db.client_id().unwrap();
    db.insert("todos", todo("one")).unwrap();
    let report = db.sync_once().await.unwrap();
    assert!(report.cursor >= 1);
    drop(db);

    let db = local_first_db(&server, 1, storage.clone());
    assert_eq!(db.client_id().unwrap(), client_id);
    let sync_url = localfirst_core::sync::sync_url(&url(&server), APP);
    assert_eq!(db.sync_cursor(&sync_url).unwrap(), report.cursor);

    // A push whose ack is lost: the server applied it, the outbox still holds it.
    // The frame is the one the engine sends for this entry (its `at` included:
    // the content digest covers it, so the resend below matches it).
    let row = db.insert("todos", todo("two")).unwrap();
    let entry = db.pending_outbox(10).unwrap().remove(0);
    let mut raw = common::connect_user(server.local_addr(), 1, &client_id).await;
    let (_, ack) = raw
        .push(json!([{
            "seq": entry.seq, "table": "todos", "op": "insert",
            "id": row.id(), "payload": entry.payload, "at": entry.at
        }]))
        .await;
    assert_eq!(ack["seqs"], json!([entry.seq]));
    assert_eq!(db.outbox_len().unwrap(), 1);
    let report = db.sync_once().await.unwrap();
    assert_eq!((report.pushed, report.acknowledged), (1, 1));
    let changes = server_changes(&server).await;
    let for_row = changes.iter().filter(|c| c["id"] == row.id()).count();
    assert_eq!(for_row, 1, "the resend was not applied again");
    assert_eq!(changes.len(), 2);

    // A wiped namespace gets a new client id.
    db.delete_client_storage().unwrap();
    assert_ne!(db.client_id().unwrap(), client_id);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sync_when_gates_and_anonymous_pulls_only() {
    let server = start(config(&clock())).await;
    let writer = local_first_db(&server, 1, StorageMode::InMemory);
    writer.insert("todos", todo("public")).unwrap();
    writer.sync_once().await.unwrap();

    let never = DbConfig::new(
        APP,
        StorageMode::InMemory,
        AuthConfig::LocalFirst(Secret::from_bytes([3; 32])),
    )
    .with_server_url(url(&server))
    .with_sync_when(SyncWhen::Never);
    let never = Db::open(never, DbDeps::with_clock(clock())).unwrap();
    never.insert("todos", todo("private")).unwrap();
    let err = never.sync_once().await.unwrap_err();
    assert_eq!(err.code(), "sync-unavailable");
    never.start_sync().unwrap();
    eventually("disabled", || {
        never.sync_status().state == SyncState::Disabled
    })
    .await;
    assert_eq!(never.outbox_len().unwrap(), 1);

    let signed_up = DbConfig::new(
        APP,
        StorageMode::InMemory,
        AuthConfig::LocalFirst(Secret::from_bytes([4; 32])),
    )
    .with_server_url(url(&server))
    .with_sync_when(SyncWhen::SignedUp);
    let signed_up = Db::open(signed_up, DbDeps::with_clock(clock())).unwrap();
    assert!(matches!(
        signed_up.sync_once().await,
        Err(DbError::SyncUnavailable { .. })
    ));

    let anonymous = DbConfig::new(APP, StorageMode::InMemory, AuthConfig::Anonymous)
        .with_server_url(url(&server));
    let anonymous = Db::open(anonymous, DbDeps::with_clock(clock())).unwrap();
    let report = anonymous.sync_once().await.unwrap();
    assert_eq!((report.pushed, report.pulled), (0, 1));
    assert_eq!(anonymous.query(&Query::table("todos")).unwrap().len(), 1);
    assert_eq!(
        server_rows(&server).await.len(),
        1,
        "nothing private arrived"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn logout_and_drop_stop_the_sync_task() {
    let server = start(config(&clock())).await;
    let db = local_first_db(&server, 1, StorageMode::InMemory);
    let states = Arc::new(std::sync::Mutex::new(Vec::new()));
    let seen = Arc::clone(&states);
    let _listener = db.on_sync_status(Arc::new(move |s: localfirst_core::sync::SyncStatus| {
        seen.lock().unwrap().push(s.state);
    }));
    db.start_sync_with(fast()).unwrap();
    eventually("connected", || server.connections() == 1).await;
    eventually("listener saw connected", || {
        states.lock().unwrap().contains(&SyncState::Connected)
    })
    .await;
    assert_eq!(states.lock().unwrap()[0], SyncState::Disabled);
    assert!(states.lock().unwrap().contains(&SyncState::Connecting));
    db.logout().unwrap();
    eventually("socket closed after logout", || server.connections() == 0).await;
    assert_eq!(db.sync_status().state, SyncState::Disabled);

    let db = local_first_db(&server, 2, StorageMode::InMemory);
    db.start_sync_with(fast()).unwrap();
    eventually("connected again", || server.connections() == 1).await;
    drop(db);
    eventually("socket closed after drop", || server.connections() == 0).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rejected_insert_is_dropped_reported_and_rolled_back() {
    let server = start(config(&clock())).await;
    let a = local_first_db(&server, 1, StorageMode::InMemory);
    let b = local_first_db(&server, 2, StorageMode::InMemory);
    a.insert("todos", RowValues::new().set("id", "same").set("v", 1))
        .unwrap();
    a.sync_once().await.unwrap();
    b.insert("todos", RowValues::new().set("id", "same").set("v", 2))
        .unwrap();
    b.insert("todos", RowValues::new().set("id", "other").set("v", 3))
        .unwrap();
    let report = b.sync_once().await.unwrap();
    assert_eq!((report.acknowledged, report.rejected), (1, 1));
    assert_eq!(b.outbox_len().unwrap(), 0);
    let rejections = b.sync_status().last_rejections;
    assert_eq!(rejections.len(), 1);
    assert_eq!(rejections[0].code, "row-exists");
    assert_eq!(rejections[0].id, "same");
    // The server's row wins locally once pulled.
    assert_eq!(
        b.get("todos", "same").unwrap().unwrap().to_json_value()["v"],
        1
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cookie_session_syncs_with_the_cookie_the_app_hands_over() {
    use localfirst_core::auth::CookieSession;
    let server_clock = clock();
    let server = start(external_config(&server_clock)).await;
    let open = |session: CookieSession| {
        let auth = AuthConfig::CookieSession(session);
        Db::open(
            DbConfig::new(APP, StorageMode::InMemory, auth).with_server_url(url(&server)),
            DbDeps::with_clock(clock()),
        )
        .unwrap()
    };
    // The cookie's value is the provider's JWT: sent as `Cookie: localfirst-token=...`.
    let session =
        CookieSession::new("cookie-user").with_cookie(es256_token("cookie-user", NOW + 3600));
    assert!(!format!("{session:?}").contains(&es256_token("cookie-user", NOW + 3600)));
    let db = open(session);
    db.insert("todos", todo("over a cookie")).unwrap();
    assert_eq!(db.sync_once().await.unwrap().acknowledged, 1);
    let rows = server_rows(&server).await;
    assert!(
        rows.values().any(|row| row["$createdBy"] == "cookie-user"),
        "{rows:?}"
    );
    // Without a cookie value there is no credential: the server answers `missing`.
    let bare = open(CookieSession::new("cookie-user"));
    bare.insert("todos", todo("stays local")).unwrap();
    let error = bare.sync_once().await.unwrap_err();
    assert_eq!(error.code(), "sync-auth-rejected", "{error}");
    assert_eq!(bare.outbox_len().unwrap(), 1);
}
