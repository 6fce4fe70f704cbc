//! The provider's per-user vault and sign-in codes over real loopback HTTP, and
//! the core's vault flow through `ProviderVault`: empty vault, populated vault,
//! another identity on the device, corrupt entry, provider down or silent, a
//! write that another device overwrote, expired credentials.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code: a failed unwrap is a failed test

use std::sync::Arc;
use std::time::Duration;

use localfirst_core::clock::FixedClock;
use localfirst_core::identity::Identity;
use localfirst_core::recovery::vault::{
    adopt_vault_identity, restore_or_backup_with_vault, SecretVault, VaultError, VaultFuture,
    VaultOptions, VaultOutcome, VaultValue,
};
use localfirst_core::secret::Secret;
use localfirst_core::secret_store::{AuthSecretStore, MemoryStore, StorageKey};
use localfirst_core::token::identity_proof;
use localfirst_core::ErrorCode;
use localfirst_provider::{
    start_provider, ProviderClient, ProviderConfig, ProviderError, ProviderVault, RunningProvider,
    MAX_VAULT_VALUE_BYTES, SIGNIN_CODE_TTL_SECONDS,
};

const NOW: u64 = 1_800_000_000;
const AUDIENCE: &str = "demo-provider";

struct Setup {
    clock: Arc<FixedClock>,
    provider: RunningProvider,
    client: ProviderClient,
}

async fn setup() -> Setup {
    let clock = Arc::new(FixedClock::new(NOW));
    let provider = start_provider(ProviderConfig::new(AUDIENCE, clock.clone()))
        .await
        .unwrap();
    let client = ProviderClient::new(&provider.base_url()).unwrap();
    Setup {
        clock,
        provider,
        client,
    }
}

impl Setup {
    /// Signs `secret` up; its JWT.
    async fn signup(&self, secret: &Secret) -> String {
        let proof = identity_proof(secret, 60, AUDIENCE, self.clock.as_ref()).unwrap();
        self.client.signup(&proof).await.unwrap().token
    }

    /// Signs in to `user_id` on another device with a code from the mailbox.
    async fn signin(&self, user_id: &str) -> String {
        self.client.start_signin(user_id).await.unwrap();
        let code = self.provider.mailbox(user_id).unwrap();
        self.client.signin(user_id, &code).await.unwrap().token
    }

    fn vault(&self, jwt: &str) -> Arc<ProviderVault> {
        Arc::new(ProviderVault::new(self.client.clone(), jwt))
    }
}

fn store() -> Arc<MemoryStore> {
    Arc::new(MemoryStore::new(StorageKey::for_app("provider-vault")))
}

fn user(secret: &Secret) -> String {
    Identity::from_secret(secret).user_id().to_string()
}

fn refused(error: ProviderError) -> (u16, String) {
    match error {
        ProviderError::Rejected { status, code, .. } => (status, code),
        other => panic!("expected an HTTP refusal, got {other:?}"),
    }
}

#[tokio::test]
async fn backup_then_a_second_device_signs_in_and_restores_without_a_phrase() {
    let s = setup().await;
    let secret_a = Secret::generate().unwrap();
    let jwt_a = s.signup(&secret_a).await;
    let store_a = store();
    store_a.save_secret(secret_a.clone()).unwrap();

    // Device A: the vault is empty, so A's secret goes in and reads back.
    let backed_up = restore_or_backup_with_vault(s.vault(&jwt_a), store_a, VaultOptions::default())
        .await
        .unwrap();
    assert_eq!(backed_up.outcome, VaultOutcome::BackedUp { created: false });
    assert_eq!(backed_up.user_id, user(&secret_a));
    assert_eq!(s.provider.vault_writes(), 1);

    // Device B signs in through the provider (a sign-in code, no phrase).
    let jwt_b = s.signin(&user(&secret_a)).await;
    let store_b = store();
    let restored =
        restore_or_backup_with_vault(s.vault(&jwt_b), store_b.clone(), VaultOptions::default())
            .await
            .unwrap();
    assert_eq!(restored.outcome, VaultOutcome::Restored);
    assert_eq!(restored.user_id, user(&secret_a));
    assert_eq!(store_b.load_secret().unwrap(), Some(secret_a));
    assert_eq!(s.provider.vault_writes(), 1, "a restore never writes");
    s.provider.shutdown().await;
}

#[tokio::test]
async fn a_device_with_another_identity_gets_both_ids_then_adopts() {
    let s = setup().await;
    let secret_a = Secret::generate().unwrap();
    let jwt_a = s.signup(&secret_a).await;
    s.client
        .vault_put(&jwt_a, VaultValue::of(&secret_a).expose())
        .await
        .unwrap();

    let jwt_c = s.signin(&user(&secret_a)).await;
    let store_c = store();
    let mine = Secret::generate().unwrap();
    store_c.save_secret(mine.clone()).unwrap();
    let error =
        restore_or_backup_with_vault(s.vault(&jwt_c), store_c.clone(), VaultOptions::default())
            .await
            .unwrap_err();
    assert_eq!(
        error,
        VaultError::IdentityConflict {
            device_user_id: user(&mine),
            vault_user_id: user(&secret_a),
        }
    );
    assert_eq!(store_c.load_secret().unwrap(), Some(mine.clone()));

    let adopted = adopt_vault_identity(
        s.vault(&jwt_c),
        store_c.clone(),
        &user(&secret_a),
        VaultOptions::default(),
    )
    .await
    .unwrap();
    assert_eq!(adopted.replaced, Some(mine));
    assert_eq!(store_c.load_secret().unwrap(), Some(secret_a));
    s.provider.shutdown().await;
}

#[tokio::test]
async fn a_corrupt_entry_replaces_nothing() {
    let s = setup().await;
    let secret = Secret::generate().unwrap();
    let jwt = s.signup(&secret).await;
    s.client
        .vault_put(&jwt, "not a secret at all")
        .await
        .unwrap();
    for device in [None, Some(Secret::generate().unwrap())] {
        let store = store();
        if let Some(mine) = &device {
            store.save_secret(mine.clone()).unwrap();
        }
        let error =
            restore_or_backup_with_vault(s.vault(&jwt), store.clone(), VaultOptions::default())
                .await
                .unwrap_err();
        assert_eq!(error.code(), "vault-corrupt");
        assert_eq!(store.load_secret().unwrap(), device);
    }
    s.provider.shutdown().await;
}

#[tokio::test]
async fn a_provider_that_is_down_or_refuses_never_leads_to_a_new_identity() {
    let s = setup().await;
    let secret = Secret::generate().unwrap();
    let jwt = s.signup(&secret).await;

    // An expired JWT: the provider refuses, nothing is created.
    s.clock.set(NOW + 3600);
    let store = store();
    let error = restore_or_backup_with_vault(s.vault(&jwt), store.clone(), VaultOptions::default())
        .await
        .unwrap_err();
    assert_eq!(error.code(), "vault-unavailable");
    assert!(
        error.to_string().contains("provider-token-invalid"),
        "{error}"
    );
    assert_eq!(store.load_secret().unwrap(), None);

    // The provider is gone.
    let vault = s.vault(&jwt);
    s.provider.shutdown().await;
    let error = restore_or_backup_with_vault(vault, store.clone(), VaultOptions::default())
        .await
        .unwrap_err();
    assert_eq!(error.code(), "vault-unavailable");
    assert!(error.to_string().contains("provider-http"), "{error}");
    assert_eq!(store.load_secret().unwrap(), None);
}

/// A listener that accepts connections and never answers. Time is paused, so
/// the flow's timeout fires without waiting.
#[tokio::test(start_paused = true)]
async fn a_provider_that_never_answers_times_out_and_creates_nothing() {
    let silent = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", silent.local_addr().unwrap());
    let keep = tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((socket, _)) = silent.accept().await {
            held.push(socket);
        }
    });
    let vault = Arc::new(ProviderVault::new(
        ProviderClient::new(&url).unwrap(),
        "jwt",
    ));
    let store = store();
    let error = restore_or_backup_with_vault(
        vault,
        store.clone(),
        VaultOptions::with_timeout(Duration::from_secs(2)),
    )
    .await
    .unwrap_err();
    assert_eq!(
        error,
        VaultError::Timeout {
            timeout: Duration::from_secs(2)
        }
    );
    assert_eq!(store.load_secret().unwrap(), None);
    keep.abort();
}

/// Writes through HTTP, then another device's write lands before the read-back.
struct RacedVault {
    inner: Arc<ProviderVault>,
    client: ProviderClient,
    other_jwt: String,
    other: VaultValue,
}

impl SecretVault for RacedVault {
    fn load(&self) -> VaultFuture<Option<VaultValue>> {
        self.inner.load()
    }

    fn store(&self, value: VaultValue) -> VaultFuture<()> {
        let write = self.inner.store(value);
        let client = self.client.clone();
        let jwt = self.other_jwt.clone();
        let other = self.other.clone();
        Box::pin(async move {
            write.await?;
            client
                .vault_put(&jwt, other.expose())
                .await
                .map_err(|e| localfirst_core::recovery::vault::VaultAccessError::new(e.to_string()))
        })
    }
}

#[tokio::test]
async fn a_write_that_does_not_read_back_is_reported() {
    let s = setup().await;
    let secret = Secret::generate().unwrap();
    let jwt = s.signup(&secret).await;
    let jwt_other_device = s.signin(&user(&secret)).await;
    let winner = Secret::generate().unwrap();
    let raced = Arc::new(RacedVault {
        inner: s.vault(&jwt),
        client: s.client.clone(),
        other_jwt: jwt_other_device,
        other: VaultValue::of(&winner),
    });
    let store = store();
    store.save_secret(secret.clone()).unwrap();
    let error = restore_or_backup_with_vault(raced, store.clone(), VaultOptions::default())
        .await
        .unwrap_err();
    assert_eq!(
        error,
        VaultError::IdentityConflict {
            device_user_id: user(&secret),
            vault_user_id: user(&winner),
        }
    );
    assert_eq!(store.load_secret().unwrap(), Some(secret));
    assert_eq!(s.provider.vault_writes(), 2);
    s.provider.shutdown().await;
}

#[tokio::test]
async fn vault_endpoints_need_a_live_token_and_bound_the_entry() {
    let s = setup().await;
    let secret = Secret::generate().unwrap();
    let jwt = s.signup(&secret).await;
    assert_eq!(s.client.vault_get(&jwt).await.unwrap(), None);

    let http = localfirst_auth::tls::client_builder()
        .unwrap()
        .build()
        .unwrap();
    let url = format!("{}/vault", s.provider.base_url());
    let status = http.get(&url).send().await.unwrap().status();
    assert_eq!(status.as_u16(), 401);
    let body = http.get(&url).send().await.unwrap().text().await.unwrap();
    let body: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(body["code"], "provider-token-missing");

    let too_long = "A".repeat(MAX_VAULT_VALUE_BYTES + 1);
    let (status, code) = refused(s.client.vault_put(&jwt, &too_long).await.unwrap_err());
    assert_eq!((status, code.as_str()), (413, "provider-body-too-large"));
    let (status, code) = refused(s.client.vault_put(&jwt, "").await.unwrap_err());
    assert_eq!((status, code.as_str()), (400, "provider-malformed-request"));
    let (status, code) = refused(s.client.vault_get("not.a.jwt").await.unwrap_err());
    assert_eq!((status, code.as_str()), (401, "provider-token-invalid"));

    // Entries are per user.
    s.client.vault_put(&jwt, "one").await.unwrap();
    let other = Secret::generate().unwrap();
    let other_jwt = s.signup(&other).await;
    assert_eq!(s.client.vault_get(&other_jwt).await.unwrap(), None);
    assert_eq!(
        s.client
            .vault_get(&jwt)
            .await
            .unwrap()
            .as_deref()
            .map(String::as_str),
        Some("one")
    );
    s.provider.shutdown().await;
}

#[tokio::test]
async fn signin_codes_are_single_use_expire_and_reveal_no_accounts() {
    let s = setup().await;
    let secret = Secret::generate().unwrap();
    s.signup(&secret).await;
    let id = user(&secret);

    // Unknown accounts get the same answer and no code.
    let stranger = user(&Secret::generate().unwrap());
    s.client.start_signin(&stranger).await.unwrap();
    assert_eq!(s.provider.mailbox(&stranger), None);

    s.client.start_signin(&id).await.unwrap();
    let code = s.provider.mailbox(&id).unwrap();
    let (status, error) = refused(s.client.signin(&id, "wrong").await.unwrap_err());
    assert_eq!((status, error.as_str()), (401, "provider-signin-invalid"));
    let (_, error) = refused(s.client.signin(&stranger, &code).await.unwrap_err());
    assert_eq!(error, "provider-signin-invalid");
    let issued = s.client.signin(&id, &code).await.unwrap();
    assert_eq!(issued.user_id, id);
    let (_, error) = refused(s.client.signin(&id, &code).await.unwrap_err());
    assert_eq!(error, "provider-signin-invalid", "a code works once");

    s.client.start_signin(&id).await.unwrap();
    let code = s.provider.mailbox(&id).unwrap();
    s.clock.set(NOW + SIGNIN_CODE_TTL_SECONDS);
    assert_eq!(s.provider.mailbox(&id), None);
    let (_, error) = refused(s.client.signin(&id, &code).await.unwrap_err());
    assert_eq!(error, "provider-signin-invalid", "an expired code");
    s.provider.shutdown().await;
}
