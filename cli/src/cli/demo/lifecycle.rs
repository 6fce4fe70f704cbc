//! The demo's steps, in order. Each step prints what it does and checks the
//! outcome; the first check that does not hold ends the demo.

use std::collections::BTreeSet;
use std::path::Path;
use std::sync::{Arc, Mutex, PoisonError};

use localfirst_core::auth::AuthState;
use localfirst_core::clock::{Clock, FixedClock};
use localfirst_core::db::{
    AuthConfig, Db, DbConfig, DbDeps, RefreshError, Row, RowValues, StorageMode,
};
use localfirst_core::identity::Identity;
use localfirst_core::local_db::Query;
use localfirst_core::phrase::RecoveryPhrase;
use localfirst_core::recovery::vault::{restore_or_backup_with_vault, VaultOptions, VaultOutcome};
use localfirst_core::secret::Secret;
use localfirst_core::secret_store::{
    app_secret, AuthSecretStore, FileStore, SecretPurpose, StorageKey,
};
use localfirst_core::session::AuthMode;
use localfirst_core::token::{decode_claims_unverified, normalize_audience};
use localfirst_provider::{start_provider, ProviderClient, ProviderConfig, ProviderVault};
use localfirst_server::{serve, ServerConfig};
use tokio::runtime::Handle;

use super::{Demo, Failed, DEMO_APP_ID, DEMO_PROVIDER_AUDIENCE};

/// The table the demo writes.
const TABLE: &str = "todos";

/// Rows written while the JWT has expired.
const OFFLINE_WRITES: usize = 5;

/// Runs every step; `Err` names the first failed check.
pub(super) async fn run(
    demo: &mut Demo,
    clock: Arc<FixedClock>,
    runtime: Handle,
) -> Result<(), Failed> {
    let shared_clock: Arc<dyn Clock> = clock.clone();

    demo.step("Start the embedded identity provider (HTTP on loopback, fresh ES256 key)");
    let provider = demo.ok(
        "start the provider",
        start_provider(demo_provider_config(Arc::clone(&shared_clock))).await,
    )?;
    demo.detail("jwks", provider.jwks_url());
    demo.detail("kid", provider.kid());
    let jwks_body = demo.ok("fetch the JWKS", fetch_text(&provider.jwks_url()).await)?;
    demo.check(
        "the JWKS endpoint serves the public key under its kid",
        jwks_body.contains(&provider.kid()) && !jwks_body.contains("\"d\""),
    )?;

    demo.step("Start the embedded sync server (SQLite in a temp dir, free loopback port)");
    let temp = demo.ok("make a temp dir", tempfile::tempdir())?;
    let mut config = ServerConfig::new(DEMO_APP_ID);
    config.data_dir = Some(temp.path().join("server"));
    config.in_memory = false;
    config.allow_local_first_auth = true;
    // The server expects the provider's issuer, and this app as the audience.
    let Some(external) = provider.external_auth() else {
        return Err(demo.failed("the provider issues tokens without an audience"));
    };
    config.external = Some(external);
    config.clock = Arc::clone(&shared_clock);
    let server = demo.ok("start the server", serve(config).await)?;
    let server_url = format!("ws://{}", server.local_addr());
    demo.detail("url", format!("{server_url}/sync/{DEMO_APP_ID}"));
    let server_db = temp.path().join("server").join("server.sqlite3");
    demo.detail("storage", server_db.display().to_string());
    demo.check("the server's SQLite file exists", server_db.is_file())?;

    let deps = DbDeps::with_clock(Arc::clone(&shared_clock)).with_runtime(runtime);
    let dir_a = temp.path().join("device-a");
    let dir_b = temp.path().join("device-b");

    demo.step("Device A: create a local-first identity (file secret store)");
    let store_a = demo.ok("open device A's secret store", file_store(&dir_a))?;
    let secret = demo.ok(
        "get or create the secret",
        app_secret(&store_a, SecretPurpose::Write),
    )?;
    let Some(secret) = secret else {
        return Err(demo.failed("the store gave no secret for a write"));
    };
    let user_id = Identity::from_secret(&secret).user_id().to_string();
    let db_a = demo.ok(
        "open device A's Db",
        Db::open(
            local_first(&dir_a, secret.clone(), &server_url),
            deps.clone(),
        ),
    )?;
    demo.detail("secret store", store_a.path().display().to_string());
    demo.detail("user id", user_id.clone());
    demo.auth_state(&db_a);
    demo.check(
        "auth mode is local-first and the session is this user",
        is_session(&db_a, AuthMode::LocalFirst, &user_id),
    )?;

    demo.step("Show the recovery phrase");
    let phrase = RecoveryPhrase::from_secret(&secret);
    demo.note("Keep it secret: these 24 words ARE the account. Shown once for the demo.");
    demo.detail("recovery phrase", phrase.expose().to_owned());
    demo.check(
        "the phrase has 24 words",
        phrase.expose().split_whitespace().count() == 24,
    )?;

    demo.step("Device A: write rows and sync");
    for title in ["buy milk", "call the bank", "water the plants"] {
        demo.ok(
            "insert a row",
            db_a.insert(TABLE, RowValues::new().set("title", title)),
        )?;
    }
    let report = demo.ok("sync device A", db_a.sync_once().await)?;
    demo.detail(
        "sync",
        format!(
            "pushed {}, acknowledged {}, pulled {}",
            report.pushed, report.acknowledged, report.pulled
        ),
    );
    let rows_a = demo.ok("read device A's rows", titles(&db_a))?;
    demo.check(
        "the server acknowledged all 3 rows",
        report.acknowledged == 3,
    )?;
    demo.check(
        "nothing is left in the outbox",
        demo_outbox(&db_a) == Some(0),
    )?;

    demo.step("Device B: restore from the recovery phrase and sync");
    let restored = demo.ok(
        "parse the phrase",
        RecoveryPhrase::parse(phrase.expose()).and_then(|p| p.to_secret()),
    )?;
    let store_b = demo.ok("open device B's secret store", file_store(&dir_b))?;
    demo.ok("save the restored secret", store_b.create_secret(restored))?;
    let secret_b = demo.ok(
        "load device B's secret",
        app_secret(&store_b, SecretPurpose::Read),
    )?;
    let Some(secret_b) = secret_b else {
        return Err(demo.failed("device B's store holds no secret"));
    };
    let db_b = demo.ok(
        "open device B's Db",
        Db::open(local_first(&dir_b, secret_b, &server_url), deps.clone()),
    )?;
    demo.auth_state(&db_b);
    demo.check(
        "device B is the same user",
        is_session(&db_b, AuthMode::LocalFirst, &user_id),
    )?;
    let report = demo.ok("sync device B", db_b.sync_once().await)?;
    demo.detail("sync", format!("pulled {}", report.pulled));
    let rows_b = demo.ok("read device B's rows", titles(&db_b))?;
    demo.detail(
        "rows",
        rows_b.iter().cloned().collect::<Vec<_>>().join(", "),
    );
    demo.check("device B sees the same rows", rows_b == rows_a)?;

    demo.step("Device A: mint an identity proof for the provider");
    let proof = demo.ok(
        "mint the proof",
        db_a.get_local_first_identity_proof(60, Some(DEMO_PROVIDER_AUDIENCE.to_owned())),
    )?;
    let Some(proof) = proof else {
        return Err(demo.failed("a local-first Db gave no identity proof"));
    };
    let claims = demo.ok("read the proof's claims", decode_claims_unverified(&proof))?;
    demo.detail("proof", "a 60 s self-signed token (not printed)");
    demo.detail("proof sub", claims.get("sub").cloned().unwrap_or_default());
    let audience = normalize_audience(DEMO_PROVIDER_AUDIENCE);
    demo.detail(
        "proof aud",
        format!("{audience} (the normalized form of {DEMO_PROVIDER_AUDIENCE:?})"),
    );
    demo.check(
        "the proof names this user and the provider's audience",
        claims.get("sub").and_then(|s| s.as_str()) == Some(user_id.as_str())
            && claims.get("aud").and_then(|a| a.as_str()) == Some(audience.as_str()),
    )?;

    demo.step("The provider verifies the proof and issues a JWT (sign-up)");
    let client = demo.ok(
        "make a provider client",
        ProviderClient::new(&provider.base_url()),
    )?;
    let issued = demo.ok("sign up", client.signup(&proof).await)?;
    let jwt_claims = demo.ok(
        "read the JWT's claims",
        decode_claims_unverified(&issued.token),
    )?;
    demo.detail(
        "jwt iss",
        jwt_claims.get("iss").cloned().unwrap_or_default(),
    );
    demo.detail("jwt sub", issued.user_id.clone());
    demo.detail(
        "jwt exp",
        format!(
            "{} (in {} s)",
            issued.expires_at,
            issued.expires_at.saturating_sub(clock.now_unix())
        ),
    );
    demo.check(
        "the JWT's sub is the local-first user id",
        issued.user_id == user_id
            && jwt_claims.get("sub").and_then(|s| s.as_str()) == Some(user_id.as_str()),
    )?;
    demo.check(
        "the provider recorded the account",
        provider.accounts() == vec![user_id.clone()],
    )?;

    demo.step("Device A: back up the secret into the provider's vault (signed in with the JWT)");
    let vault_a = Arc::new(ProviderVault::new(client.clone(), &issued.token));
    let store_for_vault = demo.ok("open device A's secret store", file_store(&dir_a))?;
    let backed_up = demo.ok(
        "restore or back up with the vault",
        restore_or_backup_with_vault(vault_a, Arc::new(store_for_vault), VaultOptions::default())
            .await,
    )?;
    demo.detail("vault outcome", format!("{:?}", backed_up.outcome));
    demo.detail("provider vault writes", provider.vault_writes());
    demo.check(
        "the vault was empty: device A's secret was written and read back",
        backed_up.outcome == VaultOutcome::BackedUp { created: false }
            && backed_up.user_id == user_id
            && provider.vault_writes() == 1,
    )?;

    demo.step("Device C: sign in through the provider and restore from the vault (no phrase)");
    demo.ok(
        "ask for a sign-in code",
        client.start_signin(&user_id).await,
    )?;
    let Some(code) = provider.mailbox(&user_id) else {
        return Err(demo.failed("the provider sent no sign-in code"));
    };
    demo.note("The provider \"emails\" a one-time code; the demo reads its mailbox.");
    let signed_in = demo.ok(
        "sign in with the code",
        client.signin(&user_id, &code).await,
    )?;
    let dir_c = temp.path().join("device-c");
    let store_c = demo.ok("open device C's secret store", file_store(&dir_c))?;
    let restored_c = demo.ok(
        "restore or back up with the vault",
        restore_or_backup_with_vault(
            Arc::new(ProviderVault::new(client.clone(), &signed_in.token)),
            Arc::new(store_c),
            VaultOptions::default(),
        )
        .await,
    )?;
    demo.detail("vault outcome", format!("{:?}", restored_c.outcome));
    demo.detail("user id", restored_c.user_id.clone());
    demo.check(
        "device C got the same user id from the vault, no phrase typed",
        restored_c.outcome == VaultOutcome::Restored
            && restored_c.user_id == user_id
            && signed_in.user_id == user_id,
    )?;
    let db_c = demo.ok(
        "open device C's Db",
        Db::open(
            local_first(&dir_c, restored_c.secret.clone(), &server_url),
            deps.clone(),
        ),
    )?;
    demo.ok("sync device C", db_c.sync_once().await)?;
    let rows_c = demo.ok("read device C's rows", titles(&db_c))?;
    demo.ok("close device C", db_c.logout())?;
    demo.check("device C sees the same rows", rows_c == rows_a)?;

    demo.step("Device A: recreate the Db in external mode (JWT + refresher)");
    demo.ok("close the local-first Db", db_a.logout())?;
    let current = Arc::new(Mutex::new(issued.token.clone()));
    let refresher = {
        let client = client.clone();
        let current = Arc::clone(&current);
        move || {
            let client = client.clone();
            let current = Arc::clone(&current);
            async move {
                let token = lock(&current).clone();
                match client.refresh(&token).await {
                    Ok(fresh) => {
                        lock(&current).clone_from(&fresh.token);
                        Ok(Some(fresh.token))
                    }
                    Err(error) => Err(RefreshError::new(error.to_string())),
                }
            }
        }
    };
    let external = DbConfig::new(
        DEMO_APP_ID,
        storage(&dir_a),
        AuthConfig::Jwt(issued.token.clone()),
    )
    .with_server_url(server_url.clone())
    .with_jwt_refresher(Arc::new(refresher));
    let db_a = demo.ok("open the external Db", Db::open(external, deps.clone()))?;
    demo.auth_state(&db_a);
    demo.check(
        "auth mode is external with the same user id",
        is_session(&db_a, AuthMode::External, &user_id),
    )?;
    let rows = demo.ok("read the rows", titles(&db_a))?;
    demo.check("the same rows are there", rows == rows_a)?;
    let report = demo.ok("sync with the JWT", db_a.sync_once().await)?;
    demo.check(
        "the server accepts the JWT (verified through the JWKS)",
        report.rejected == 0 && provider.token_requests() == 0,
    )?;

    demo.step("The JWT expires (the shared clock moves past exp); write while it is stale");
    clock.set(issued.expires_at + 1);
    demo.detail(
        "clock",
        format!("now {} (exp was {})", clock.now_unix(), issued.expires_at),
    );
    for n in 1..=OFFLINE_WRITES {
        demo.ok(
            "insert a row",
            db_a.insert(
                TABLE,
                RowValues::new().set("title", format!("offline note {n}")),
            ),
        )?;
    }
    demo.check(
        &format!("{OFFLINE_WRITES} writes wait in the outbox"),
        demo_outbox(&db_a) == Some(OFFLINE_WRITES as u64),
    )?;
    demo.auth_state(&db_a);

    demo.step("Sync: the server rejects the expired JWT, exactly one refresh, the queue flushes");
    let seen = Arc::new(Mutex::new(Vec::<String>::new()));
    let listener = {
        let seen = Arc::clone(&seen);
        move |state: AuthState| {
            if let Some(error) = state.error {
                lock(&seen).push(error.as_str().to_owned());
            }
        }
    };
    let watching = db_a.on_auth_changed(Arc::new(listener));
    let report = demo.ok("sync after expiry", db_a.sync_once().await)?;
    watching.cancel();
    let errors = lock(&seen).clone();
    demo.detail("auth errors seen", errors.join(", "));
    demo.detail("provider /token calls", provider.token_requests());
    demo.detail(
        "sync",
        format!(
            "pushed {}, acknowledged {}",
            report.pushed, report.acknowledged
        ),
    );
    demo.auth_state(&db_a);
    demo.check(
        "the server rejected the expired JWT (auth state error: expired)",
        errors.iter().any(|e| e == "expired"),
    )?;
    demo.check(
        "exactly one refresh (one /token call)",
        provider.token_requests() == 1 && provider.tokens_refreshed() == 1,
    )?;
    demo.check(
        &format!("all {OFFLINE_WRITES} queued writes were acknowledged"),
        report.acknowledged == OFFLINE_WRITES as u64 && demo_outbox(&db_a) == Some(0),
    )?;
    demo.check(
        "the auth state carries no error",
        db_a.get_auth_state().error.is_none(),
    )?;
    let report = demo.ok("sync device B", db_b.sync_once().await)?;
    let rows_b = demo.ok("read device B's rows", titles(&db_b))?;
    demo.detail("device B pulled", report.pulled);
    let rows_a = demo.ok("read device A's rows", titles(&db_a))?;
    demo.check(
        &format!(
            "the server has them: device B now sees all {} rows",
            3 + OFFLINE_WRITES
        ),
        rows_b.len() == 3 + OFFLINE_WRITES && rows_b == rows_a,
    )?;

    demo.step("Device A: log out with wipe");
    let database = db_a.database_path();
    demo.ok("log out and wipe", db_a.logout_and_wipe())?;
    demo.check(
        "the local database files are gone",
        database.as_deref().is_some_and(|p| !Path::new(p).exists()),
    )?;
    let reopened = demo.ok(
        "reopen device A's data dir",
        Db::open(
            DbConfig::new(
                DEMO_APP_ID,
                storage(&dir_a),
                AuthConfig::LocalFirst(secret.clone()),
            ),
            deps.clone(),
        ),
    )?;
    let left = demo.ok("read the rows", titles(&reopened))?;
    demo.ok("close the reopened Db", reopened.logout())?;
    demo.check("no rows are left locally", left.is_empty())?;
    let kept = demo.ok("load the secret", app_secret(&store_a, SecretPurpose::Read))?;
    demo.check(
        "the secret is still in the store (same user id)",
        kept.is_some_and(|s| Identity::from_secret(&s).user_id().to_string() == user_id),
    )?;

    demo.step("Shut down");
    demo.ok("close device B", db_b.logout())?;
    demo.ok("stop the server", server.shutdown().await)?;
    provider.shutdown().await;
    demo.check("every check passed", true)?;
    Ok(())
}

/// A file secret store under `<device>/secrets` for the demo app.
/// The demo provider: proofs for its own audience, JWTs for the demo app (their `aud`).
fn demo_provider_config(clock: Arc<dyn Clock>) -> ProviderConfig {
    let mut config = ProviderConfig::new(DEMO_PROVIDER_AUDIENCE, clock);
    config.token_audience = Some(DEMO_APP_ID.to_owned());
    config
}

fn file_store(device: &Path) -> Result<FileStore, localfirst_core::secret_store::StoreError> {
    FileStore::open(device.join("secrets"), StorageKey::for_app(DEMO_APP_ID))
}

fn storage(device: &Path) -> StorageMode {
    StorageMode::DataDir(device.join("data").display().to_string())
}

fn local_first(device: &Path, secret: Secret, server_url: &str) -> DbConfig {
    DbConfig::new(DEMO_APP_ID, storage(device), AuthConfig::LocalFirst(secret))
        .with_server_url(server_url)
}

fn is_session(db: &Db, mode: AuthMode, user_id: &str) -> bool {
    let state = db.get_auth_state();
    state.auth_mode == mode
        && state.error.is_none()
        && state.session.is_some_and(|s| s.user_id == user_id)
        && db.user_id() == user_id
}

/// The titles of the demo table's rows (sorted).
fn titles(db: &Db) -> Result<BTreeSet<String>, localfirst_core::db::DbError> {
    let rows = db.query(&Query::table(TABLE))?;
    Ok(rows.iter().map(title).collect())
}

fn title(row: &Row) -> String {
    row.get("title")
        .and_then(|v| v.as_str())
        .unwrap_or_default()
        .to_owned()
}

fn demo_outbox(db: &Db) -> Option<u64> {
    db.outbox_len().ok()
}

fn lock<T>(value: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    value.lock().unwrap_or_else(PoisonError::into_inner)
}

/// GET `url` as text (bounded by the provider's own response limit).
async fn fetch_text(url: &str) -> Result<String, String> {
    let stream = url
        .strip_prefix("http://")
        .and_then(|rest| rest.split_once('/'))
        .ok_or_else(|| format!("not a loopback http URL: {url}"))?;
    let (host, path) = stream;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut socket = tokio::net::TcpStream::connect(host)
        .await
        .map_err(|e| e.to_string())?;
    let request = format!("GET /{path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n");
    socket
        .write_all(request.as_bytes())
        .await
        .map_err(|e| e.to_string())?;
    let mut body = Vec::new();
    socket
        .take(64 * 1024)
        .read_to_end(&mut body)
        .await
        .map_err(|e| e.to_string())?;
    String::from_utf8(body).map_err(|e| e.to_string())
}
