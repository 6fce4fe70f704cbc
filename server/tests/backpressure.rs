//! Clients that pipeline many frames and read slowly: the server stops reading
//! while a socket's send queue is full (backpressure) and answers everything
//! once the client reads; only a client that does not read for longer than
//! the slow-consumer timeout is cut off, and it is told why (an `error` frame
//! `slow-consumer`, then close code 4003).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code

mod common;

use std::net::SocketAddr;
use std::time::Duration;

use common::*;
use futures_util::{SinkExt as _, StreamExt as _};
use serde_json::{json, Value};
use tokio_tungstenite::tungstenite::protocol::CloseFrame;
use tokio_tungstenite::tungstenite::Message;

/// Rows whose pages make each pull answer about 40 KiB, so that a few hundred
/// unread answers fill every socket buffer on the way.
async fn seed(addr: SocketAddr) {
    let mut writer = connect_user(addr, 1, "seeder").await;
    let text = "x".repeat(400);
    let entries: Vec<Value> = (0..100)
        .map(|i| insert(i + 1, "notes", &format!("n{i}"), json!({"text": text})))
        .collect();
    let (rejected, _) = writer.push(json!(entries)).await;
    assert!(rejected.is_empty());
}

/// Sends `pairs` pulls and pings alternately without reading anything.
async fn pipeline(client: &mut Client, pairs: usize) {
    let pull = json!({"type": "pull", "cursor": 0, "limit": 100, "live": false}).to_string();
    let ping = json!({"type": "ping"}).to_string();
    for _ in 0..pairs {
        client.ws.feed(Message::text(pull.clone())).await.unwrap();
        client.ws.feed(Message::text(ping.clone())).await.unwrap();
    }
    client.ws.flush().await.unwrap();
}

/// Reads every text frame up to the close frame (which must come).
async fn read_to_close(client: &mut Client) -> (Vec<Value>, CloseFrame) {
    let mut frames = Vec::new();
    loop {
        let message = tokio::time::timeout(Duration::from_secs(20), client.ws.next())
            .await
            .expect("the server says why before closing");
        match message {
            Some(Ok(Message::Text(text))) => frames.push(serde_json::from_str(&text).unwrap()),
            Some(Ok(Message::Close(Some(frame)))) => return (frames, frame),
            Some(Ok(Message::Close(None))) => panic!("a close frame without a code"),
            Some(Ok(_)) => {}
            other => panic!("the socket ended without a close frame: {other:?}"),
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_that_reads_late_gets_every_answer() {
    let clock = clock();
    let server = start(config(&clock)).await;
    seed(server.local_addr()).await;
    let mut client = connect_user(server.local_addr(), 1, "slow-reader").await;
    pipeline(&mut client, 1000).await;
    // Far more than the send queue (256 frames) and the socket buffers hold.
    tokio::time::sleep(Duration::from_secs(2)).await;
    for i in 0..1000 {
        let answer = client.recv().await;
        assert_eq!(answer["type"], "changes", "answer {i}: {answer}");
        assert_eq!(answer["changes"].as_array().unwrap().len(), 100);
        assert_eq!(client.recv().await["type"], "pong", "answer {i}");
    }
    // The socket is still served.
    assert!(client.ping().await.is_empty());
    server.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_that_never_reads_is_told_why_it_is_cut_off() {
    let clock = clock();
    let mut config = config(&clock);
    config.limits.slow_consumer_timeout = Duration::from_secs(2);
    let server = start(config).await;
    seed(server.local_addr()).await;
    let mut client = connect_user(server.local_addr(), 1, "never-reads").await;
    pipeline(&mut client, 1000).await;
    // Read nothing until the server has given up on the socket (the queue
    // stayed full for the timeout), then read at once: its last frames wait
    // for the client. How long the queue takes to fill depends on the load of
    // the machine, so wait for the event itself, not for a fixed time.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(120);
    while server.slow_consumers() == 0 {
        assert!(
            tokio::time::Instant::now() < deadline,
            "the server never cut off a client that reads nothing"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let (frames, close) = read_to_close(&mut client).await;
    let answers = frames.iter().filter(|f| f["type"] != "error").count();
    let last_text = frames.last().cloned();
    let last = last_text.unwrap();
    assert_eq!(last["type"], "error", "{last}");
    assert_eq!(last["code"], "slow-consumer");
    assert_eq!(u16::from(close.code), 4003);
    assert_eq!(close.reason.as_str(), "slow-consumer");
    assert!(
        answers < 2000,
        "cut off before answering everything ({answers})"
    );
    assert_eq!(server.slow_consumers(), 1);
    // The server goes on with other clients.
    let mut other = connect_user(server.local_addr(), 2, "other").await;
    assert!(other.ping().await.is_empty());
    server.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_shutdown_reaches_a_client_that_is_not_reading() {
    let clock = clock();
    let server = start(config(&clock)).await;
    seed(server.local_addr()).await;
    let mut client = connect_user(server.local_addr(), 1, "not-reading").await;
    pipeline(&mut client, 1000).await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    let stopping = tokio::spawn(server.shutdown());
    tokio::time::sleep(Duration::from_secs(1)).await;
    let (frames, close) = read_to_close(&mut client).await;
    let last = frames.last().cloned();
    assert_eq!(last.unwrap()["code"], "shutting-down");
    assert_eq!(u16::from(close.code), 1001);
    assert_eq!(close.reason.as_str(), "shutting-down");
    tokio::time::timeout(Duration::from_secs(30), stopping)
        .await
        .unwrap()
        .unwrap()
        .unwrap();
}
