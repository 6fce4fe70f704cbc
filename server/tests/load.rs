//! 1,000 concurrent sockets on one server process, and memory per idle socket.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code: a failed unwrap is a failed test

mod common;

use common::*;
use serde_json::json;

/// File descriptors needed: one per client socket and one per server socket, plus slack.
const NEEDED_FDS: u64 = 2 * 1000 + 256;

/// The backend secret of the test.
const SECRET: &str = "load-secret-0123456";

fn ensure_fd_limit() {
    let (soft, hard) = rlimit::Resource::NOFILE.get().unwrap();
    if soft < NEEDED_FDS {
        assert!(
            hard >= NEEDED_FDS,
            "the hard open-file limit ({hard}) is below the {NEEDED_FDS} this test needs; raise it (ulimit -Hn)"
        );
        rlimit::Resource::NOFILE.set(NEEDED_FDS, hard).unwrap();
    }
}

fn rss_bytes() -> Option<u64> {
    let statm = std::fs::read_to_string("/proc/self/statm").ok()?;
    let pages: u64 = statm.split_whitespace().nth(1)?.parse().ok()?;
    Some(pages * 4096)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn holds_a_thousand_concurrent_connections() {
    ensure_fd_limit();
    let clock = clock();
    let mut config = config(&clock);
    config.limits.max_connections = 1000;
    // One user on one address holds them all.
    config.limits.max_connections_per_user = 1000;
    config.limits.max_connections_per_address = 2000;
    // Backend sessions: no signature check per socket, so the test measures holding
    // sockets rather than Ed25519 in a debug build.
    config.backend_secret = localfirst_server::SharedSecret::new(SECRET).ok();
    let server = start(config).await;
    let addr = server.local_addr();
    let token = local_first(1);
    let session = base64::Engine::encode(
        &base64::engine::general_purpose::STANDARD,
        json!({"userId": "load-user"}).to_string(),
    );
    let before = rss_bytes();

    let mut clients = Vec::with_capacity(1000);
    for chunk in 0..10 {
        let mut tasks = Vec::new();
        for i in 0..100 {
            let headers = [
                ("x-jazz-backend-secret".to_owned(), SECRET.to_owned()),
                ("x-jazz-session".to_owned(), session.clone()),
            ];
            tasks.push(tokio::spawn(async move {
                let mut client = connect(addr, &headers).await;
                let welcome = client.hello(&format!("c{chunk}-{i}")).await;
                assert_eq!(welcome["type"], "welcome");
                client
            }));
        }
        for task in tasks {
            clients.push(task.await.unwrap());
        }
    }
    assert_eq!(server.connections(), 1000);
    if let (Some(before), Some(after)) = (before, rss_bytes()) {
        // Client and server sockets live in this process: an upper bound for the server side.
        println!(
            "rss per idle connection (client + server side): {} bytes",
            after.saturating_sub(before) / 1000
        );
    }

    // The 1,001st socket is refused with 503 while the others stay up.
    let mut request =
        tokio_tungstenite::tungstenite::client::IntoClientRequest::into_client_request(format!(
            "ws://{addr}/sync/{APP}"
        ))
        .unwrap();
    request
        .headers_mut()
        .insert("authorization", format!("Bearer {token}").parse().unwrap());
    match tokio_tungstenite::connect_async(request).await {
        Err(tokio_tungstenite::tungstenite::Error::Http(response)) => {
            assert_eq!(response.status(), 503)
        }
        other => panic!("expected a 503, got {:?}", other.map(|_| ())),
    }

    // Every socket is alive: a write from one reaches all the subscribed others.
    for client in clients.iter_mut() {
        client.send(json!({"type": "pull", "cursor": 0})).await;
    }
    for client in clients.iter_mut() {
        assert_eq!(client.recv().await["type"], "changes");
    }
    let (_, ack) = clients[0]
        .push(json!([insert(1, "notes", "hi", json!({}))]))
        .await;
    assert_eq!(ack["seqs"], json!([1]));
    for client in clients.iter_mut().skip(1) {
        let live = client.recv().await;
        assert_eq!(live["changes"][0]["id"], "hi");
    }
    drop(clients);
    server.shutdown().await.unwrap();
}
