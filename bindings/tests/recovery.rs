//! The recovery crossing as Rust sees it: the passkey requests and checks keep the
//! core's bytes and codes, platform failures get the catalogue's codes, and the vault
//! flow's errors keep their fields (both user ids, the timeout). The foreign side is
//! tested by android-lib/jvm (Kotlin, `PasskeyTest`, `VaultTest`).

// Test helpers outside `#[test]` functions unwrap too.
#![allow(clippy::unwrap_used)]

use std::sync::{Arc, Mutex};

use localfirst_ffi::*;
use serde_json::Value;

fn corpus(name: &str) -> Value {
    let path = format!(
        "{}/../core/tests/data/passkey/{name}",
        env!("CARGO_MANIFEST_DIR")
    );
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn text(value: &Value, key: &str) -> String {
    value[key].as_str().unwrap().to_owned()
}

fn passkey_code(error: &LocalFirstError) -> String {
    error.code().to_string()
}

#[test]
fn the_ceremony_builds_the_corpus_requests() {
    let data = corpus("requests.json");
    let ceremony = PasskeyCeremony::new(text(&data, "app_name"), text(&data, "rp_id")).unwrap();
    let secret = AuthSecret::from_base64_url(text(&data, "secret")).unwrap();
    let challenge: Vec<u8> = (0u8..32).collect();
    let request = ceremony
        .registration_request_with_challenge(
            Arc::clone(&secret),
            text(&data, "display_name"),
            challenge.clone(),
        )
        .unwrap();
    assert_eq!(request.to_json(), text(&data, "registration_json"));
    assert_eq!(request.user_id(), (0x40u8..0x60).collect::<Vec<u8>>());
    assert_eq!(request.challenge(), challenge);
    let shown = format!("{request:?}");
    assert!(shown.contains("<redacted>"), "{shown}");
    assert!(!shown.contains(&secret.to_base64_url()), "{shown}");
    let ask = ceremony
        .assertion_request_with_challenge(challenge)
        .unwrap();
    assert_eq!(ask.to_json(), text(&data, "assertion_json"));
}

#[test]
fn checks_keep_the_core_codes_and_fields() {
    let mut data = vec![0u8; 37];
    data[32] = 0x01;
    let error = secret_from_assertion(data.clone(), Some(vec![7; 32])).unwrap_err();
    assert_eq!(
        error.details(),
        Some(ErrorDetails::AuthenticatorFlags { flags: 0x01 }),
        "{error:?}"
    );
    assert_eq!(passkey_code(&error), "verification-failed");
    data[32] = 0x05;
    let secret = secret_from_assertion(data, Some(vec![7; 32])).unwrap();
    assert_eq!(
        secret.to_base64_url(),
        "BwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwc"
    );
    let none = secret_from_assertion_json("null".into()).unwrap_err();
    assert_eq!(none.code(), ErrorCode::NoCredential, "{none:?}");
    let bad = PasskeyCeremony::new("My App".into(), "https://x.example".into()).unwrap_err();
    assert_eq!(passkey_code(&bad), "invalid-argument");
}

#[test]
fn platform_failures_get_the_catalogue_codes() {
    for (failure, code) in [
        (PasskeyPlatformFailure::NotSupported, "not-supported"),
        (PasskeyPlatformFailure::CreateFailed, "create-failed"),
        (PasskeyPlatformFailure::GetFailed, "get-failed"),
        (PasskeyPlatformFailure::NoCredential, "no-credential"),
    ] {
        let error = passkey_platform_error(failure, "the provider said no".into());
        assert_eq!(passkey_code(&error), code);
    }
    let error = passkey_platform_error(PasskeyPlatformFailure::GetFailed, "timeout 60 s".into());
    assert!(error.to_string().contains("timeout 60 s"), "{error}");
}

/// A vault in memory, implemented in Rust through the exported trait.
#[derive(Default)]
struct Vault {
    value: Mutex<Option<String>>,
    fail: Option<String>,
    hang: bool,
}

#[async_trait::async_trait]
impl SecretVault for Vault {
    async fn load(&self) -> Result<Option<String>, LocalFirstError> {
        if self.hang {
            std::future::pending::<()>().await;
        }
        if let Some(reason) = &self.fail {
            return Err(LocalFirstError::Failed {
                code: ErrorCode::VaultUnavailable,
                reason: reason.clone(),
                details: None,
            });
        }
        Ok(self.value.lock().unwrap().clone())
    }

    async fn store(&self, secret: String) -> Result<(), LocalFirstError> {
        *self.value.lock().unwrap() = Some(secret);
        Ok(())
    }
}

fn store() -> Arc<dyn AuthSecretStore> {
    MemorySecretStore::new(StorageKey::for_app("ffi-recovery-test".into()))
}

#[tokio::test]
async fn the_vault_flow_converts_outcomes_and_errors() {
    let vault = Arc::new(Vault::default());
    let device = store();
    let backed_up = restore_or_backup_with_vault(vault.clone(), device.clone(), None)
        .await
        .unwrap();
    assert_eq!(backed_up.outcome, VaultOutcome::BackedUp { created: true });
    assert_eq!(backed_up.user_id, backed_up.secret.user_id());
    assert_eq!(
        vault.value.lock().unwrap().clone(),
        Some(backed_up.secret.to_base64_url())
    );

    // Another device with another identity: a conflict carrying both ids.
    let other = store_with_new_secret();
    let device_id = other.load_secret().unwrap().unwrap().user_id();
    let error = restore_or_backup_with_vault(vault.clone(), other.clone(), None)
        .await
        .unwrap_err();
    assert_eq!(error.code().to_string(), "vault-identity-conflict");
    let Some(ErrorDetails::IdentityConflict {
        device_user_id,
        vault_user_id,
    }) = error.details()
    else {
        panic!("{error:?}");
    };
    assert_eq!(device_user_id, device_id);
    assert_eq!(vault_user_id, backed_up.user_id);
    let adopted = adopt_vault_identity(vault, other.clone(), vault_user_id, None)
        .await
        .unwrap();
    assert_eq!(adopted.user_id, backed_up.user_id);
    assert_eq!(adopted.replaced.unwrap().user_id(), device_id);
}

fn store_with_new_secret() -> Arc<dyn AuthSecretStore> {
    let fresh: Arc<dyn AuthSecretStore> =
        MemorySecretStore::new(StorageKey::for_app("ffi-recovery-other".into()));
    fresh.get_or_create_secret().unwrap();
    fresh
}

#[tokio::test(start_paused = true)]
async fn a_failing_or_silent_vault_keeps_its_code_and_creates_nothing() {
    let failing = Arc::new(Vault {
        fail: Some("provider returned 503".into()),
        ..Vault::default()
    });
    let device = store();
    let error = restore_or_backup_with_vault(failing, device.clone(), None)
        .await
        .unwrap_err();
    assert_eq!(error.code(), ErrorCode::VaultUnavailable, "{error:?}");
    assert!(error.reason().contains("503"), "{error:?}");
    assert_eq!(error.details(), None);
    let silent = Arc::new(Vault {
        hang: true,
        ..Vault::default()
    });
    let error = restore_or_backup_with_vault(silent, device.clone(), Some(250))
        .await
        .unwrap_err();
    assert_eq!(error.code(), ErrorCode::VaultTimeout, "{error:?}");
    assert_eq!(
        error.details(),
        Some(ErrorDetails::VaultTimeout { timeout_ms: 250 })
    );
    assert!(device.load_secret().unwrap().is_none());
}
