//! Slow and greedy clients against a real server: unfinished request headers are cut
//! off, one user id or one address cannot take every socket.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code: a failed unwrap is a failed test

mod common;

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use common::*;
use serde_json::Value;
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::client::IntoClientRequest as _;

/// Reads until the server closes the connection (at most 20 s).
async fn closed_after(stream: &mut TcpStream) {
    let mut buffer = [0u8; 1024];
    loop {
        let read = tokio::time::timeout(Duration::from_secs(20), stream.read(&mut buffer))
            .await
            .expect("still open after 20 s");
        match read {
            Ok(0) | Err(_) => return,
            Ok(_) => continue,
        }
    }
}

/// `GET /health` on a fresh connection: the status line and the body.
async fn health(addr: SocketAddr) -> (String, String) {
    let mut stream = TcpStream::connect(addr).await.unwrap();
    stream
        .write_all(b"GET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        .await
        .unwrap();
    let mut response = String::new();
    tokio::time::timeout(
        Duration::from_secs(10),
        stream.read_to_string(&mut response),
    )
    .await
    .unwrap()
    .unwrap();
    let status = response.lines().next().unwrap_or_default().to_owned();
    let body = response
        .split("\r\n\r\n")
        .nth(1)
        .unwrap_or_default()
        .to_owned();
    (status, body)
}

#[tokio::test]
async fn unfinished_request_headers_are_cut_off_after_the_timeout() {
    let clock = clock();
    let mut config = config(&clock);
    config.limits.header_read_timeout = Duration::from_millis(500);
    let server = start(config).await;
    let addr = server.local_addr();
    // Half a request, and a connection that never sends a byte.
    let mut half = TcpStream::connect(addr).await.unwrap();
    half.write_all(b"GET /health HTTP/1.1\r\nHost: x\r\n")
        .await
        .unwrap();
    let mut silent = TcpStream::connect(addr).await.unwrap();
    let started = Instant::now();
    for stream in [&mut half, &mut silent] {
        closed_after(stream).await;
        let after = started.elapsed();
        assert!(
            after >= Duration::from_millis(300),
            "closed after {after:?}"
        );
    }
    // Complete requests are served as before.
    let (status, body) = health(addr).await;
    assert!(status.starts_with("HTTP/1.1 200"), "{status}");
    assert!(body.contains(r#""ok":true"#), "{body}");
    server.shutdown().await.unwrap();
}

/// Tries a sync upgrade for identity `n`: `Ok` with the socket, or `Err` with the
/// HTTP status and the JSON body.
async fn try_sync(addr: SocketAddr, n: u8) -> Result<Client, (u16, Value)> {
    let mut request = format!("ws://{addr}/sync/{APP}")
        .into_client_request()
        .unwrap();
    let (_, value) = bearer(&local_first(n));
    request
        .headers_mut()
        .insert("authorization", value.parse().unwrap());
    match tokio_tungstenite::connect_async(request).await {
        Ok((ws, _)) => Ok(Client { ws }),
        Err(tokio_tungstenite::tungstenite::Error::Http(response)) => {
            let status = response.status().as_u16();
            let body = response.body().clone().unwrap_or_default();
            Err((status, serde_json::from_slice(&body).unwrap()))
        }
        Err(other) => panic!("unexpected {other}"),
    }
}

#[tokio::test]
async fn one_user_cannot_take_every_socket() {
    let clock = clock();
    let mut config = config(&clock);
    config.limits.max_connections_per_user = 3;
    let server = start(config).await;
    let addr = server.local_addr();
    let mut held = Vec::new();
    for i in 0..3 {
        held.push(connect_user(addr, 1, &format!("d{i}")).await);
    }
    let (status, body) = try_sync(addr, 1).await.err().expect("a fourth socket");
    assert_eq!(status, 429);
    assert_eq!(body["code"], "too-many-connections", "{body}");
    assert_eq!(
        body["code"],
        localfirst_core::Code::TooManyConnections.as_str()
    );
    assert!(body["message"].as_str().unwrap().contains("user"), "{body}");
    // Everybody else still gets in.
    let mut other = try_sync(addr, 2).await.expect("another user");
    assert_eq!(other.hello("o").await["type"], "welcome");
    // A closed socket gives its slot back.
    drop(held.pop());
    let started = Instant::now();
    let mut again = loop {
        match try_sync(addr, 1).await {
            Ok(client) => break client,
            Err(refused) => assert!(
                started.elapsed() < Duration::from_secs(10),
                "still refused: {refused:?}"
            ),
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    assert_eq!(again.hello("d3").await["type"], "welcome");
    server.shutdown().await.unwrap();
}

#[tokio::test]
async fn one_address_cannot_take_every_connection() {
    let clock = clock();
    let mut config = config(&clock);
    config.limits.max_connections_per_address = 3;
    let server = start(config).await;
    let addr = server.local_addr();
    // Two idle connections and a sync socket from 127.0.0.1.
    let idle = [
        TcpStream::connect(addr).await.unwrap(),
        TcpStream::connect(addr).await.unwrap(),
    ];
    let mut socket = connect_user(addr, 1, "d").await;
    let (status, body) = health(addr).await;
    assert!(status.starts_with("HTTP/1.1 429"), "{status}");
    let body: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(body["code"], "too-many-connections", "{body}");
    assert!(
        body["message"].as_str().unwrap().contains("address"),
        "{body}"
    );
    let (status, _) = try_sync(addr, 2).await.err().expect("refused");
    assert_eq!(status, 429);
    // The open socket keeps working; closing a connection gives its slot back.
    assert!(socket.ping().await.is_empty());
    drop(idle);
    let started = Instant::now();
    loop {
        let (status, _) = health(addr).await;
        if status.starts_with("HTTP/1.1 200") {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "still refused: {status}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    server.shutdown().await.unwrap();
}

#[tokio::test]
async fn limits_that_would_lock_everyone_out_are_refused_at_start() {
    let clock = clock();
    for broken in 0..4 {
        let mut config = config(&clock);
        match broken {
            0 => config.limits.max_connections = 0,
            1 => config.limits.max_connections_per_user = 0,
            2 => config.limits.max_connections_per_address = 0,
            _ => config.limits.header_read_timeout = Duration::ZERO,
        }
        let error = localfirst_server::serve(config).await.unwrap_err();
        assert_eq!(
            localfirst_core::ErrorCode::code(&error),
            "server-config",
            "{error}"
        );
    }
}
