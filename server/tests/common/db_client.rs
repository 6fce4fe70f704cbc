//! The core's `Db` as a sync client of a test server, and a scripted fake
//! server for what no honest server sends.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures_util::{SinkExt as _, StreamExt as _};
use localfirst_core::clock::Clock;
use localfirst_core::db::{AuthConfig, Db, DbConfig, DbDeps, StorageMode};
use localfirst_core::secret::Secret;
use serde_json::{json, Value};
use tokio::net::TcpListener;
use tokio_tungstenite::tungstenite::Message;

use super::APP;

/// A `Db` of the local-first identity `n`, in memory, syncing with `url`
/// (`ws://host:port`), on `clock`.
pub fn db_for(url: &str, n: u8, clock: Arc<dyn Clock>) -> Db {
    let auth = AuthConfig::LocalFirst(Secret::from_bytes([n; 32]));
    let config = DbConfig::new(APP, StorageMode::InMemory, auth).with_server_url(url);
    Db::open(config, DbDeps::with_clock(clock)).unwrap()
}

/// Waits (up to 30 s) until `check` holds.
pub async fn eventually(what: &str, mut check: impl FnMut() -> bool) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    while !check() {
        assert!(tokio::time::Instant::now() < deadline, "timed out: {what}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// What a [`FakeServer`] heard.
#[derive(Debug, Default)]
pub struct Heard {
    /// Every pushed entry, in order.
    pub pushed: Vec<Value>,
    /// The cursor of every pull, in order.
    pub pulls: Vec<u64>,
}

/// A sync server that says what the test wants: `welcome` with `limits` and,
/// as its latest cursor, the highest cursor of the scripted pages (as an
/// honest server announces it: a client stores no cursor beyond it), the
/// scripted `changes` frames (one per pull, in order, then empty ones at the
/// last cursor), an `ack` of every push, and nothing else.
pub struct FakeServer {
    /// Its address (`ws://` + this is the server URL).
    pub addr: SocketAddr,
    /// What clients sent.
    pub heard: Arc<Mutex<Heard>>,
}

impl FakeServer {
    /// Starts it on a free loopback port.
    pub async fn start(limits: Value, pages: Vec<Value>) -> FakeServer {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let heard = Arc::new(Mutex::new(Heard::default()));
        let log = Arc::clone(&heard);
        let latest = pages
            .iter()
            .filter_map(|page| page["cursor"].as_u64())
            .max()
            .unwrap_or(0);
        let pages = Arc::new(Mutex::new(pages.into_iter()));
        tokio::spawn(async move {
            let mut cursor = 0u64;
            while let Ok((tcp, _)) = listener.accept().await {
                let Ok(mut ws) = tokio_tungstenite::accept_async(tcp).await else {
                    continue;
                };
                while let Some(Ok(Message::Text(text))) = ws.next().await {
                    let frame: Value = serde_json::from_str(&text).unwrap();
                    let answer = match frame["type"].as_str().unwrap() {
                        "hello" => json!({"type": "welcome", "version": 1,
                            "session": {"userId": "u", "authMode": "local-first"},
                            "cursor": latest, "limits": limits}),
                        "pull" => {
                            log.lock()
                                .unwrap()
                                .pulls
                                .push(frame["cursor"].as_u64().unwrap());
                            match pages.lock().unwrap().next() {
                                Some(page) => {
                                    cursor = page["cursor"].as_u64().unwrap();
                                    page
                                }
                                None => json!({"type": "changes", "changes": [],
                                    "cursor": cursor, "more": false}),
                            }
                        }
                        "push" => {
                            let entries = frame["entries"].as_array().unwrap().clone();
                            let seqs: Vec<Value> =
                                entries.iter().map(|e| e["seq"].clone()).collect();
                            log.lock().unwrap().pushed.extend(entries);
                            json!({"type": "ack", "seqs": seqs, "cursor": cursor})
                        }
                        _ => json!({"type": "pong"}),
                    };
                    if ws
                        .send(Message::Text(answer.to_string().into()))
                        .await
                        .is_err()
                    {
                        break;
                    }
                }
            }
        });
        FakeServer { addr, heard }
    }

    /// The server URL for a `Db`.
    pub fn url(&self) -> String {
        format!("ws://{}", self.addr)
    }
}

/// The default limits of a real server, as `welcome` announces them.
pub fn default_limits() -> Value {
    json!({"maxFrameBytes": 1_048_576, "maxBatch": 1000, "maxPull": 1000})
}
