//! Session resolution over real sockets: every resolution path (docs/PROTOCOL.md) and its rejections.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code: a failed unwrap is a failed test

mod common;

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use common::*;
use localfirst_core::token::Issuer;
use localfirst_server::SharedSecret;
use serde_json::{json, Value};

async fn rejection(client: &mut Client) -> (Value, Option<(u16, String)>) {
    let frame = client.recv().await;
    assert_eq!(frame["type"], "auth-rejected", "{frame}");
    (frame, client.closed().await)
}

/// The backend secret of these tests (16 bytes or more, as the server requires).
const BACKEND: &str = "s3cret-backend-0123";
/// The admin secret of these tests.
const ADMIN: &str = "admin-password-0123";

fn session_header(value: Value) -> (String, String) {
    ("x-jazz-session".into(), STANDARD.encode(value.to_string()))
}

fn secret_header(secret: &str) -> (String, String) {
    ("x-jazz-backend-secret".into(), secret.into())
}

#[tokio::test]
async fn local_first_is_disabled_unless_allowed() {
    let clock = clock();
    let mut config = config(&clock);
    config.allow_local_first_auth = false;
    let server = start(config).await;
    let mut client = connect(server.local_addr(), &[bearer(&local_first(1))]).await;
    let (frame, close) = rejection(&mut client).await;
    assert_eq!(frame["code"], "disabled");
    assert_eq!(close, Some((4001, "disabled".into())));
    // Anonymous self-signed tokens still work.
    let mut guest = connect(
        server.local_addr(),
        &[bearer(&token_for(2, Issuer::Anonymous, APP))],
    )
    .await;
    assert_eq!(guest.hello("g").await["type"], "welcome");
    server.shutdown().await.unwrap();
}

#[tokio::test]
async fn wrong_audience_is_invalid() {
    let clock = clock();
    let server = start(config(&clock)).await;
    let token = token_for(1, Issuer::LocalFirst, "another-app");
    let mut client = connect(server.local_addr(), &[bearer(&token)]).await;
    let (frame, close) = rejection(&mut client).await;
    assert_eq!(frame["code"], "invalid");
    assert!(
        frame["message"].as_str().unwrap().contains("audience"),
        "{frame}"
    );
    assert_eq!(close.map(|c| c.0), Some(4001));
    server.shutdown().await.unwrap();
}

#[tokio::test]
async fn no_credential_is_missing_and_garbage_is_invalid() {
    let clock = clock();
    let server = start(config(&clock)).await;
    let mut none = connect(server.local_addr(), &[]).await;
    assert_eq!(rejection(&mut none).await.0["code"], "missing");
    let mut garbage = connect(server.local_addr(), &[bearer("not.a.jwt")]).await;
    assert_eq!(rejection(&mut garbage).await.0["code"], "invalid");
    let mut scheme = connect(
        server.local_addr(),
        &[("authorization".into(), "Basic abc".into())],
    )
    .await;
    assert_eq!(rejection(&mut scheme).await.0["code"], "invalid");
    server.shutdown().await.unwrap();
}

#[tokio::test]
async fn expired_tokens_are_rejected_at_connect_and_while_connected() {
    let clock = clock();
    let server = start(config(&clock)).await;
    let addr = server.local_addr();
    let mut client = connect_user(addr, 1, "d").await;
    clock.advance(3600);
    let mut late = connect(addr, &[bearer(&local_first(1))]).await;
    let (frame, _) = rejection(&mut late).await;
    assert_eq!(frame["code"], "expired");
    // The open socket learns on its next message.
    client.send(json!({"type": "ping"})).await;
    let (frame, close) = rejection(&mut client).await;
    assert_eq!(frame["code"], "expired");
    assert_eq!(close, Some((4001, "expired".into())));
    server.shutdown().await.unwrap();
}

#[tokio::test]
async fn a_subscriber_whose_token_expired_gets_no_more_live_changes() {
    let clock = clock();
    let mut config = config(&clock);
    config.backend_secret = SharedSecret::new(BACKEND).ok();
    let server = start(config).await;
    let addr = server.local_addr();
    let mut subscriber = connect_user(addr, 1, "s").await;
    subscriber.send(json!({"type": "pull", "cursor": 0})).await;
    assert_eq!(subscriber.recv().await["type"], "changes");
    // A backend session never expires; it keeps writing after the token's exp.
    let headers = [
        secret_header(BACKEND),
        session_header(json!({"userId": "svc"})),
    ];
    let mut backend = connect(addr, &headers).await;
    backend.hello("svc").await;
    clock.advance(3600);
    backend
        .push(json!([insert(1, "notes", "late", json!({}))]))
        .await;
    let (frame, close) = rejection(&mut subscriber).await;
    assert_eq!(frame["code"], "expired");
    assert_eq!(close.map(|c| c.0), Some(4001));
    server.shutdown().await.unwrap();
}

#[tokio::test]
async fn a_token_cookie_is_a_bearer_token() {
    let clock = clock();
    let server = start(config(&clock)).await;
    let cookie = format!("theme=dark; localfirst-token={}", local_first(3));
    let mut client = connect(server.local_addr(), &[("cookie".into(), cookie)]).await;
    let welcome = client.hello("c").await;
    assert_eq!(welcome["session"]["userId"], user_id(3));
    server.shutdown().await.unwrap();
}

#[tokio::test]
async fn backend_impersonation_beats_a_bearer_token() {
    let clock = clock();
    let mut config = config(&clock);
    config.backend_secret = SharedSecret::new(BACKEND).ok();
    let server = start(config).await;
    let headers = [
        bearer(&local_first(1)),
        secret_header(BACKEND),
        session_header(json!({"userId": "backend-user", "claims": {"role": "admin"}})),
    ];
    let mut client = connect(server.local_addr(), &headers).await;
    let welcome = client.hello("backend").await;
    assert_eq!(welcome["session"]["userId"], "backend-user");
    assert_eq!(welcome["session"]["authMode"], "external");
    let (_, ack) = client
        .push(json!([insert(1, "notes", "b1", json!({}))]))
        .await;
    assert_eq!(ack["seqs"], json!([1]));
    let (changes, _) = client.pull_all(0).await;
    assert_eq!(changes[0]["row"]["$createdBy"], "backend-user");
    server.shutdown().await.unwrap();
}

#[tokio::test]
async fn a_wrong_or_missing_backend_secret_is_rejected() {
    let clock = clock();
    let mut config = config(&clock);
    config.backend_secret = SharedSecret::new(BACKEND).ok();
    let server = start(config).await;
    let addr = server.local_addr();
    let session = session_header(json!({"userId": "u"}));
    for headers in [
        vec![secret_header("s3cret-backend-0123X"), session.clone()],
        vec![secret_header("s3cret-backend-012"), session.clone()],
        vec![secret_header(""), session.clone()],
        vec![session.clone(), bearer(&local_first(1))],
        vec![
            secret_header(BACKEND),
            ("x-jazz-session".into(), "%%%".into()),
        ],
        vec![
            secret_header(BACKEND),
            session_header(json!({"userId": " "})),
        ],
        vec![secret_header(BACKEND)],
    ] {
        let mut client = connect(addr, &headers).await;
        let (frame, _) = rejection(&mut client).await;
        assert_eq!(frame["code"], "invalid", "{headers:?}: {frame}");
    }
    server.shutdown().await.unwrap();

    // Without a configured backend secret, impersonation is disabled.
    let server = start(common::config(&clock)).await;
    let headers = [secret_header("anything"), session];
    let mut client = connect(server.local_addr(), &headers).await;
    assert_eq!(rejection(&mut client).await.0["code"], "disabled");
    server.shutdown().await.unwrap();
}

#[tokio::test]
async fn external_tokens_without_a_key_source_are_disabled() {
    let clock = clock();
    let server = start(config(&clock)).await;
    // A JWT from some other issuer.
    let header = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(r#"{"alg":"ES256"}"#);
    let claims = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .encode(json!({"iss": "https://idp.example", "sub": "u", "exp": NOW + 60}).to_string());
    let token = format!("{header}.{claims}.c2ln");
    let mut client = connect(server.local_addr(), &[bearer(&token)]).await;
    assert_eq!(rejection(&mut client).await.0["code"], "disabled");
    server.shutdown().await.unwrap();
}

#[tokio::test]
async fn health_and_admin_stats() {
    let clock = clock();
    let mut config = config(&clock);
    config.admin_secret = SharedSecret::new(ADMIN).ok();
    let server = start(config).await;
    let addr = server.local_addr();
    let _client = connect_user(addr, 1, "d").await;
    let health = http_get(addr, "/health", &[]).await;
    assert!(health.starts_with("HTTP/1.1 200"), "{health}");
    assert!(health.contains(r#""appId":"my-app""#), "{health}");
    for header in [
        &[("x-admin-secret", "nope")][..],
        &[("x-admin-secret", "")],
        &[],
    ] {
        let denied = http_get(addr, "/admin/stats", header).await;
        assert!(denied.starts_with("HTTP/1.1 401"), "{denied}");
    }
    let stats = http_get(addr, "/admin/stats", &[("x-admin-secret", ADMIN)]).await;
    assert!(stats.contains(r#""connections":1"#), "{stats}");
    let other_app = http_get(addr, "/sync/other", &[]).await;
    assert!(other_app.starts_with("HTTP/1.1 404"), "{other_app}");
    server.shutdown().await.unwrap();
}

async fn http_get(addr: std::net::SocketAddr, path: &str, headers: &[(&str, &str)]) -> String {
    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
    let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    let mut request = format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n");
    for (name, value) in headers {
        request.push_str(&format!("{name}: {value}\r\n"));
    }
    request.push_str("\r\n");
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).await.unwrap();
    response
}

#[tokio::test]
async fn impersonated_user_ids_follow_the_one_user_id_rule() {
    let clock = clock();
    let mut config = config(&clock);
    config.backend_secret = SharedSecret::new(BACKEND).ok();
    let server = start(config).await;
    let addr = server.local_addr();
    let long = "x".repeat(257);
    for bad in ["a\u{7}b", "line\nbreak", "\u{0}", "\t", long.as_str()] {
        let headers = [
            secret_header(BACKEND),
            session_header(json!({ "userId": bad })),
        ];
        let mut client = connect(addr, &headers).await;
        let (frame, close) = rejection(&mut client).await;
        assert_eq!(frame["code"], "invalid", "{bad:?}: {frame}");
        assert!(
            frame["message"].as_str().unwrap().contains("user id"),
            "{frame}"
        );
        assert_eq!(close.map(|c| c.0), Some(4001));
    }
    // Surrounding blanks are trimmed, as for an external `sub`; 256 bytes is the limit.
    for (given, seen) in [(" padded ", "padded"), (&long[1..], &long[1..])] {
        let headers = [
            secret_header(BACKEND),
            session_header(json!({ "userId": given })),
        ];
        let mut client = connect(addr, &headers).await;
        assert_eq!(client.hello("b").await["session"]["userId"], seen);
    }
    server.shutdown().await.unwrap();
}
