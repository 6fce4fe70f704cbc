//! Helpers shared by the integration tests: a real server on 127.0.0.1 and a
//! tokio-tungstenite client.

#![allow(dead_code)]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code: a failed unwrap is a failed test

pub mod db_client;
// Shared with the auth crate, whose tests own the JWKS stub and the test keys.
#[path = "../../../auth/tests/common/jwks.rs"]
pub mod jwks;
pub mod store_suite;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use futures_util::{SinkExt as _, StreamExt as _};
use localfirst_core::clock::FixedClock;
use localfirst_core::identity::Identity;
use localfirst_core::secret::Secret;
use localfirst_core::token::{self, Issuer};
use localfirst_server::{serve, RunningServer, ServerConfig};
use serde_json::{json, Value};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::client::IntoClientRequest as _;
use tokio_tungstenite::tungstenite::http::HeaderValue;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

pub const APP: &str = "my-app";
pub const NOW: u64 = 1_700_000_000;

pub fn clock() -> Arc<FixedClock> {
    Arc::new(FixedClock::new(NOW))
}

/// A config for `APP` on a free loopback port, in memory, local-first allowed.
pub fn config(clock: &Arc<FixedClock>) -> ServerConfig {
    let mut config = ServerConfig::new(APP);
    config.allow_local_first_auth = true;
    config.clock = clock.clone();
    config
}

pub async fn start(config: ServerConfig) -> RunningServer {
    serve(config).await.unwrap()
}

pub fn identity(n: u8) -> Identity {
    Identity::from_secret(&Secret::from_bytes([n; 32]))
}

pub fn user_id(n: u8) -> String {
    identity(n).user_id().to_string()
}

/// A token minted now (test clock) for identity `n`.
pub fn token_for(n: u8, issuer: Issuer, audience: &str) -> String {
    token::mint(&identity(n), issuer, audience, NOW, 3600).unwrap()
}

pub fn local_first(n: u8) -> String {
    token_for(n, Issuer::LocalFirst, APP)
}

pub fn bearer(token: &str) -> (String, String) {
    ("authorization".into(), format!("Bearer {token}"))
}

pub struct Client {
    pub ws: WebSocketStream<MaybeTlsStream<TcpStream>>,
}

pub async fn connect(addr: SocketAddr, headers: &[(String, String)]) -> Client {
    let mut request = format!("ws://{addr}/sync/{APP}")
        .into_client_request()
        .unwrap();
    for (name, value) in headers {
        request.headers_mut().insert(
            tokio_tungstenite::tungstenite::http::HeaderName::from_bytes(name.as_bytes()).unwrap(),
            HeaderValue::from_str(value).unwrap(),
        );
    }
    let small = tokio_tungstenite::tungstenite::protocol::WebSocketConfig::default()
        .read_buffer_size(4096)
        .write_buffer_size(0);
    let (ws, _) = tokio_tungstenite::connect_async_with_config(request, Some(small), false)
        .await
        .unwrap();
    Client { ws }
}

/// Connects with a local-first token for identity `n` and completes the handshake.
pub async fn connect_user(addr: SocketAddr, n: u8, client_id: &str) -> Client {
    let mut client = connect(addr, &[bearer(&local_first(n))]).await;
    let welcome = client.hello(client_id).await;
    assert_eq!(welcome["type"], "welcome", "{welcome}");
    client
}

impl Client {
    pub async fn send(&mut self, value: Value) {
        self.ws
            .send(Message::Text(value.to_string().into()))
            .await
            .unwrap();
    }

    pub async fn send_text(&mut self, text: String) {
        self.ws.send(Message::Text(text.into())).await.unwrap();
    }

    /// The next JSON frame; `None` when the socket closed.
    pub async fn next(&mut self) -> Option<Value> {
        loop {
            let message = tokio::time::timeout(Duration::from_secs(10), self.ws.next())
                .await
                .expect("no frame within 10 s");
            match message {
                None | Some(Err(_)) | Some(Ok(Message::Close(_))) => return None,
                Some(Ok(Message::Text(text))) => return Some(serde_json::from_str(&text).unwrap()),
                Some(Ok(_)) => continue,
            }
        }
    }

    pub async fn recv(&mut self) -> Value {
        self.next().await.expect("socket closed")
    }

    /// The close frame's code and reason after the remaining frames.
    pub async fn closed(&mut self) -> Option<(u16, String)> {
        loop {
            match tokio::time::timeout(Duration::from_secs(10), self.ws.next())
                .await
                .unwrap()
            {
                Some(Ok(Message::Close(frame))) => {
                    return frame.map(|f| (u16::from(f.code), f.reason.to_string()))
                }
                None | Some(Err(_)) => return None,
                Some(Ok(_)) => continue,
            }
        }
    }

    pub async fn hello(&mut self, client_id: &str) -> Value {
        self.send(json!({"type": "hello", "version": 1, "clientId": client_id}))
            .await;
        self.recv().await
    }

    /// Pushes entries; returns the rejected frames and the ack.
    pub async fn push(&mut self, entries: Value) -> (Vec<Value>, Value) {
        self.send(json!({"type": "push", "entries": entries})).await;
        let mut rejected = Vec::new();
        loop {
            let frame = self.recv().await;
            match frame["type"].as_str() {
                Some("rejected") => rejected.push(frame),
                Some("ack") => return (rejected, frame),
                Some("changes") if frame["live"] == true => continue,
                _ => panic!("unexpected frame {frame}"),
            }
        }
    }

    /// Pulls every page after `cursor` (not live); returns the changes and the final cursor.
    pub async fn pull_all(&mut self, mut cursor: u64) -> (Vec<Value>, u64) {
        let mut all = Vec::new();
        loop {
            self.send(json!({"type": "pull", "cursor": cursor, "live": false}))
                .await;
            let frame = self.recv().await;
            assert_eq!(frame["type"], "changes", "{frame}");
            all.extend(frame["changes"].as_array().unwrap().iter().cloned());
            cursor = frame["cursor"].as_u64().unwrap();
            if frame["more"] == false {
                return (all, cursor);
            }
        }
    }

    /// Sends a ping and reads until the pong; returns the frames before it.
    pub async fn ping(&mut self) -> Vec<Value> {
        self.send(json!({"type": "ping"})).await;
        let mut before = Vec::new();
        loop {
            let frame = self.recv().await;
            if frame["type"] == "pong" {
                return before;
            }
            before.push(frame);
        }
    }
}

pub fn insert(seq: i64, table: &str, id: &str, payload: Value) -> Value {
    json!({"seq": seq, "table": table, "op": "insert", "id": id, "payload": payload})
}

/// Rows by id from a list of changes (last write wins, deletes remove).
pub fn apply(changes: &[Value]) -> std::collections::BTreeMap<String, Value> {
    let mut rows = std::collections::BTreeMap::new();
    for change in changes {
        let key = format!(
            "{}/{}",
            change["table"].as_str().unwrap(),
            change["id"].as_str().unwrap()
        );
        if change["op"] == "put" {
            rows.insert(key, change["row"].clone());
        } else {
            rows.remove(&key);
        }
    }
    rows
}
