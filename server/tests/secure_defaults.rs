//! What a real server checks by default: external tokens must name the expected issuer
//! and audience, a start without them is refused, rejections read as plain text.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code: a failed unwrap is a failed test

mod common;

use common::jwks::{self, claims, data, expecting, AUDIENCE, ES256, ISSUER};
use common::{bearer, config, connect, start, Client};
use localfirst_core::ErrorCode as _;
use localfirst_server::auth::external::{ExternalAuthConfig, ExternalKeySource};
use localfirst_server::serve;
use serde_json::{json, Value};

fn es256_key() -> ExternalKeySource {
    ExternalKeySource::Static {
        key: data("es256.pub.pem"),
    }
}

async fn rejection(client: &mut Client) -> Value {
    let frame = client.recv().await;
    assert_eq!(frame["type"], "auth-rejected", "{frame}");
    assert_eq!(client.closed().await.map(|c| c.0), Some(4001));
    frame
}

#[tokio::test]
async fn external_keys_without_expected_issuer_and_audience_do_not_start() {
    let clock = jwks::clock();
    let unchecked = ExternalAuthConfig {
        issuers: vec![],
        audiences: vec![],
        ..expecting(es256_key())
    };
    let mut server_config = config(&clock);
    server_config.external = Some(unchecked.clone());
    let error = serve(server_config).await.unwrap_err();
    assert_eq!(error.code(), "server-config", "{error}");
    assert!(
        error
            .to_string()
            .contains("an expected issuer and an expected audience"),
        "{error}"
    );
    // Skipping both checks is an explicit choice: the server starts, and then a token
    // of any issuer and audience whose key is trusted gets in.
    let mut server_config = config(&clock);
    server_config.external = Some(ExternalAuthConfig {
        insecure_skip_issuer_check: true,
        insecure_skip_audience_check: true,
        ..unchecked
    });
    let server = start(server_config).await;
    let mut other = claims("someone");
    other["iss"] = json!("https://elsewhere.example.com");
    other["aud"] = json!("another-app");
    let mut client = connect(server.local_addr(), &[bearer(&ES256.sign(&other))]).await;
    assert_eq!(client.hello("c").await["session"]["userId"], "someone");
    server.shutdown().await.unwrap();
}

#[tokio::test]
async fn tokens_for_another_app_or_from_another_issuer_are_refused() {
    let clock = jwks::clock();
    let mut server_config = config(&clock);
    server_config.external = Some(expecting(es256_key()));
    let server = start(server_config).await;
    let addr = server.local_addr();
    let mut ours = connect(addr, &[bearer(&ES256.sign(&claims("ada")))]).await;
    let welcome = ours.hello("a").await;
    assert_eq!(welcome["session"]["userId"], "ada");
    assert_eq!(welcome["session"]["authMode"], "external");
    for (claim, value, message) in [
        (
            "aud",
            "another-app",
            "token audience is not one this server accepts",
        ),
        (
            "iss",
            "https://elsewhere.example.com",
            "token issuer is not one this server accepts",
        ),
    ] {
        let mut foreign = claims("ada");
        foreign[claim] = json!(value);
        let mut client = connect(addr, &[bearer(&ES256.sign(&foreign))]).await;
        let frame = rejection(&mut client).await;
        assert_eq!(frame["code"], "invalid", "{frame}");
        assert_eq!(frame["message"], message);
    }
    assert_eq!((ISSUER, AUDIENCE), ("https://id.example.com", "my-app"));
    server.shutdown().await.unwrap();
}

#[tokio::test]
async fn an_unknown_key_is_rejected_in_plain_words() {
    let clock = jwks::clock();
    let mut server_config = config(&clock);
    // A JWK names its key id (the PEM key has none, so it would be tried for any kid).
    server_config.external = Some(expecting(ExternalKeySource::Static {
        key: data("es256.jwk.json"),
    }));
    let server = start(server_config).await;
    let token = ES256.sign_with_kid(Some("es1".into()), &claims("ada"));
    let mut client = connect(server.local_addr(), &[bearer(&token)]).await;
    let frame = rejection(&mut client).await;
    assert_eq!(frame["code"], "invalid");
    assert_eq!(
        frame["message"],
        r#"no key matches the token's key id "es1""#
    );
    server.shutdown().await.unwrap();
}
