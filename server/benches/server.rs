//! WebSocket handshakes per second: a local-first bearer token (full self-signed
//! verification) beside the same server and message flow with a backend session
//! (no signature check), in the same run.
//!
//! Run with `cargo bench -p localfirst-server --bench server`.

#![allow(missing_docs)] // criterion_group! generates undocumented items.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use base64::Engine as _;
use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use futures_util::{SinkExt as _, StreamExt as _};
use localfirst_core::clock::FixedClock;
use localfirst_core::identity::Identity;
use localfirst_core::secret::Secret;
use localfirst_core::token::{self, Issuer};
use localfirst_server::{serve, ServerConfig, SharedSecret};
use tokio_tungstenite::tungstenite::client::IntoClientRequest as _;
use tokio_tungstenite::tungstenite::http::HeaderValue;
use tokio_tungstenite::tungstenite::Message;

const APP: &str = "bench-app";
const NOW: u64 = 1_700_000_000;
const HELLO: &str = r#"{"type":"hello","version":1,"clientId":"bench"}"#;

/// Connects, says hello, waits for the welcome, closes.
async fn handshake(addr: SocketAddr, headers: &[(&'static str, HeaderValue)]) {
    let Ok(mut request) = format!("ws://{addr}/sync/{APP}").into_client_request() else {
        return;
    };
    for (name, value) in headers {
        request.headers_mut().insert(*name, value.clone());
    }
    let Ok((mut ws, _)) = tokio_tungstenite::connect_async(request).await else {
        return;
    };
    let _ = ws.send(Message::Text(HELLO.into())).await;
    if let Some(Ok(Message::Text(text))) = ws.next().await {
        assert!(text.contains("welcome"), "{text}");
    }
    let _ = ws.close(None).await;
}

fn handshakes(c: &mut Criterion) {
    let Ok(runtime) = tokio::runtime::Runtime::new() else {
        return;
    };
    let mut config = ServerConfig::new(APP);
    config.allow_local_first_auth = true;
    config.backend_secret = SharedSecret::new("bench-secret-0123456").ok();
    config.clock = Arc::new(FixedClock::new(NOW));
    let Ok(server) = runtime.block_on(serve(config)) else {
        return;
    };
    let addr = server.local_addr();
    let identity = Identity::from_secret(&Secret::from_bytes([7; 32]));
    let Ok(jwt) = token::mint(&identity, Issuer::LocalFirst, APP, NOW, 3600) else {
        return;
    };
    let Ok(bearer) = HeaderValue::from_str(&format!("Bearer {jwt}")) else {
        return;
    };
    let session = base64::engine::general_purpose::STANDARD.encode(r#"{"userId":"bench-user"}"#);
    let Ok(session) = HeaderValue::from_str(&session) else {
        return;
    };
    let secret = HeaderValue::from_static("bench-secret-0123456");

    let mut group = c.benchmark_group("ws-handshake");
    group.throughput(Throughput::Elements(1));
    group.sample_size(20);
    group.warm_up_time(Duration::from_millis(500));
    group.measurement_time(Duration::from_secs(2));
    let local_first = [("authorization", bearer)];
    let backend = [
        ("x-jazz-backend-secret", secret),
        ("x-jazz-session", session),
    ];
    group.bench_function("local-first-token", |b| {
        b.to_async(&runtime).iter(|| handshake(addr, &local_first));
    });
    group.bench_function("backend-session-baseline", |b| {
        b.to_async(&runtime).iter(|| handshake(addr, &backend));
    });
    group.finish();
    let _ = runtime.block_on(server.shutdown());
}

criterion_group!(benches, handshakes);
criterion_main!(benches);
