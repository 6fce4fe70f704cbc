//! PostgreSQL test support: the database URL from `LOCALFIRST_TEST_DATABASE_URL`
//! (set by `scripts/with-postgres.sh`) and one fresh schema per test.

#![allow(dead_code)]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code: a failed unwrap is a failed test

use std::io::Write as _;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use tokio_postgres::NoTls;

pub const URL_VAR: &str = "LOCALFIRST_TEST_DATABASE_URL";

/// The test database, or `None` (after a loud message) when none is configured
/// outside CI. Under CI (`CI` set) a missing database fails the test.
pub fn base_url(test: &str) -> Option<String> {
    match std::env::var(URL_VAR) {
        Ok(url) if !url.trim().is_empty() => Some(url),
        _ => {
            assert!(
                std::env::var_os("CI").is_none(),
                "{URL_VAR} is not set under CI: run the PostgreSQL tests through \
                 `bash scripts/with-postgres.sh cargo test ...`"
            );
            // Written to the stderr handle, not `eprintln!`, so the test harness
            // does not capture it: a skipped test must be seen.
            let _ = writeln!(
                std::io::stderr(),
                "\n==================== SKIPPED ====================\n\
                 {test}: {URL_VAR} is not set, so this PostgreSQL test did not run.\n\
                 Run it with: bash scripts/with-postgres.sh cargo test -p localfirst-server \
                 --test store_postgres --test replicas\n\
                 =================================================\n"
            );
            None
        }
    }
}

/// `base` with `schema` as the search path.
pub fn with_schema(base: &str, schema: &str) -> String {
    let sep = if base.contains('?') { '&' } else { '?' };
    format!("{base}{sep}options=-c%20search_path%3D{schema}")
}

/// A unique schema name for this process.
pub fn schema_name() -> String {
    static COUNTER: AtomicU32 = AtomicU32::new(0);
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    format!("t_{}_{nanos}_{n}", std::process::id())
}

/// Runs SQL on `base` with a short-lived connection.
pub async fn admin(base: &str, sql: &str) {
    let (client, connection) = tokio_postgres::connect(base, NoTls).await.unwrap();
    let task = tokio::spawn(connection);
    client.batch_execute(sql).await.unwrap();
    drop(client);
    let _ = task.await;
}

/// Creates a fresh schema; returns its name and a URL using it.
pub async fn fresh_schema(base: &str) -> (String, String) {
    let schema = schema_name();
    admin(base, &format!("CREATE SCHEMA {schema}")).await;
    let url = with_schema(base, &schema);
    (schema, url)
}

/// Drops a schema made by [`fresh_schema`].
pub async fn drop_schema(base: &str, schema: &str) {
    admin(base, &format!("DROP SCHEMA IF EXISTS {schema} CASCADE")).await;
}
