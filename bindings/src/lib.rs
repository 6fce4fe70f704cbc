//! # localfirst-ffi
//!
//! The UniFFI face of [`localfirst_core`] for Swift and Kotlin. This crate holds
//! no logic: every exported item converts types and forwards to the core, so
//! the core's tests cover the behaviour and the foreign test suites cover the
//! crossing.
//!
//! What is exported (names as Kotlin and Swift see them):
//!
//! - [`AuthSecret`]: the opaque 32-byte account secret, with `AuthSecret.generate()`,
//!   `AuthSecret.fromBase64Url(s)`, `toBase64Url()`, `userId()`, `publicKey()`.
//! - Recovery phrases: [`recovery_phrase_from_secret`] / [`recovery_phrase_to_secret`]
//!   (`recoveryPhraseFromSecret`, `recoveryPhraseToSecret`); the hand-written Kotlin and
//!   Swift layers wrap them as `RecoveryPhrase.fromSecret` / `RecoveryPhrase.toSecret`.
//! - Tokens: [`mint_local_first_token`], [`identity_proof_for`] (the core's mint rule:
//!   60 s by default, at most 600 s) and the older [`local_first_identity_proof`] that
//!   forwards to it, [`verify_local_first_identity_proof`] and [`verify_local_first_token`]
//!   (a [`VerifiedToken`], or the first failed check's code); system clock at the boundary.
//! - The core's app-facing choices: [`storage_key_for`] (which key holds a secret; a key
//!   given with ids is `invalid-storage-key`) and [`import_jazz_secret`] (a [`JazzImport`]).
//! - Secret stores: the foreign-implementable [`AuthSecretStore`] trait, the
//!   built-in [`FileSecretStore`] and [`MemorySecretStore`], and [`StorageKey`].
//! - Platform stores, on every platform with one API: [`KeychainSecretStore`] (Apple)
//!   and [`KeystoreSecretStore`] (Android); where a store does not exist its
//!   constructors fail with `secret-store-unavailable`.
//! - Only with the `testing` feature (test builds, never a shipped library): the
//!   core's conformance suite for any store (`runSecretStoreConformance` over a
//!   `SecretStoreHarness`, giving a `ConformanceReport`) and
//!   `KeystoreSecretStore.withDesktopKeystore`, the Keystore store over a PKCS12 file
//!   on a desktop JVM.
//! - Errors: one type, [`LocalFirstError`] (Kotlin `LocalFirstException`), thrown by every
//!   fallible export and by every interface the app implements: `code()` (an
//!   [`ErrorCode`], the catalogue of `docs/ERRORS.md`), `reason()` and `details()` (the
//!   core's typed [`ErrorDetails`]).
//! - The [`Db`]: `Db.open(config)` with [`DbConfig`] / [`AuthConfig`] (a
//!   [`CookieSession`] object for cookie auth), rows as JSON ([`Row`], `insertMany`),
//!   auth and query listeners ([`AuthStateListener`], [`RowsListener`],
//!   [`Subscription`]), the app's async [`JwtRefresher`] and [`AccountDiscardMigrator`]
//!   (handed a [`DiscardedAccount`]), sync with its [`SyncRejection`]s.
//! - Recovery beyond the phrase: [`PasskeyCeremony`] (the passkey requests, as
//!   [`PasskeyRegistrationRequest`] / [`PasskeyAssertionRequest`]) with
//!   [`secret_from_assertion_json`] (Android) and [`secret_from_assertion`] (iOS),
//!   [`passkey_platform_error`] for the platform layers' `PasskeyBackup`; the app's
//!   async [`SecretVault`] with [`restore_or_backup_with_vault`] and
//!   [`adopt_vault_identity`]. For a vault the platform layer drives itself (the Expo
//!   module's JavaScript vault), the same flow step by step: [`vault_restore`],
//!   [`vault_backup_secret`], [`vault_confirm_readback`], [`vault_adopt`], each
//!   returning a [`VaultStep`] record (a failure is its `code`).
//!
//! Rules kept here: no `unwrap`/`expect`, every fallible export returns `Result`,
//! no panic crosses the boundary, and no secret is ever a plain string inside.
//! Generation and packaging: `docs/BINDINGS.md`.

uniffi::setup_scaffolding!();

// The JNI entry point: where the Java KeyStore store exists (build.rs).
#[cfg(jni_store)]
pub mod android;
mod app;
mod db;
mod error;
mod identity;
mod platform_store;
mod recovery;
mod store;
#[cfg(feature = "testing")]
mod testing;
mod token;
mod vault_steps;

pub use app::{
    identity_proof_for, import_jazz_secret, storage_key_for, verify_local_first_token,
    VerifiedToken,
};
pub use db::{
    AccountDiscardMigrator, AuthConfig, AuthMode, AuthState, AuthStateListener, CookieSession, Db,
    DbConfig, DiscardedAccount, JwtRefresher, Row, RowsListener, StorageMode, Subscription,
    SyncRejection, SyncReport, SyncState, SyncStatus, SyncStatusListener, SyncWhen,
};
pub use error::{error_code_from_text, ErrorCode, LocalFirstError};
pub use identity::{recovery_phrase_from_secret, recovery_phrase_to_secret, AuthSecret};
pub use localfirst_core::error::ErrorDetails;
pub use localfirst_core::policy::Operation;
pub use localfirst_core::secret_store::{JazzImport, JazzImportOutcome};
pub use localfirst_core::token::Issuer;
pub use platform_store::{
    KeychainAccessibility, KeychainOptions, KeychainSecretStore, KeystoreSecretStore,
};
pub use recovery::passkey::{
    passkey_platform_error, secret_from_assertion, secret_from_assertion_json,
    PasskeyAssertionRequest, PasskeyCeremony, PasskeyPlatformFailure, PasskeyRegistrationRequest,
};
pub use recovery::vault::{
    adopt_vault_identity, restore_or_backup_with_vault, AdoptedIdentity, SecretVault,
    VaultIdentity, VaultOutcome,
};
pub use store::{
    default_get_or_create_secret, AuthSecretStore, FileSecretStore, MemorySecretStore, StorageKey,
};
#[cfg(feature = "testing")]
pub use testing::{run_secret_store_conformance, ConformanceReport, SecretStoreHarness};
pub use token::{
    local_first_identity_proof, mint_local_first_token, verify_local_first_identity_proof,
    ProofVerification,
};
pub use vault_steps::{
    vault_adopt, vault_backup_secret, vault_confirm_readback, vault_restore, VaultStep,
};
