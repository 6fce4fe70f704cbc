//! # localfirst-node
//!
//! The Node.js addon of localfirst (npm package `@localfirst/node`), built with
//! napi-rs. Like the UniFFI bindings, it holds no logic: every export converts
//! JavaScript values to core (or localfirst-auth) types, calls the one implementation, and
//! converts the result back. The core's and localfirst-auth's tests cover behaviour;
//! the package's `node --test` suite covers the crossing.
//!
//! What JavaScript sees (names are the same in Swift, Kotlin and TypeScript):
//!
//! - [`AuthSecret`](identity::AuthSecret): `AuthSecret.generate()`,
//!   `AuthSecret.fromBase64Url(s)`, `toBase64Url()`, `userId()`, `publicKey()`.
//! - [`RecoveryPhrase`](identity::RecoveryPhrase): `RecoveryPhrase.fromSecret(secret)`,
//!   `RecoveryPhrase.toSecret(phrase)`.
//! - Tokens: [`mintLocalFirstToken`](token::mint_local_first_token),
//!   [`identityProofFor`](app::identity_proof_for) (the core's mint rule, default 60 s),
//!   [`localFirstIdentityProof`](token::local_first_identity_proof),
//!   [`verifyLocalFirstIdentityProof`](token::verify_local_first_identity_proof)
//!   (`{ ok, id, error, code }`, never throws) and
//!   [`verifyLocalFirstToken`](token::verify_local_first_token). Time is the
//!   system clock unless the caller passes one (`issuedAt`, `now`).
//! - Secret stores: [`storageKeyFor`](store::storage_key_for),
//!   [`MemorySecretStore`](store::MemorySecretStore) and
//!   [`FileSecretStore`](store::FileSecretStore) with `loadSecret`, `saveSecret`,
//!   `clearSecret` and `getOrCreateSecret` (the core's create-only-if-absent rule), and
//!   [`importJazzSecret`](app::import_jazz_secret) (the core's Jazz import decision).
//! - [`SessionResolver`](session::SessionResolver): the sync server's (crate `localfirst-auth`)
//!   resolution (backend impersonation, self-signed token, external JWT via a JWKS
//!   URL or a static key) for a Node backend's requests; `resolve(headers)` returns
//!   a promise.
//!
//! - Recovery ([`recovery`]): the vault flow's steps over a store
//!   ([`vaultRestore`](recovery::vault_restore),
//!   [`vaultBackupSecret`](recovery::vault_backup_secret),
//!   [`vaultConfirmReadback`](recovery::vault_confirm_readback),
//!   [`vaultAdopt`](recovery::vault_adopt)) for an app that does the vault I/O
//!   itself, and the passkey backup's requests
//!   ([`PasskeyCeremony`](recovery::PasskeyCeremony)) and assertion checks
//!   ([`secretFromAssertionJson`](recovery::secret_from_assertion_json),
//!   [`secretFromAssertion`](recovery::secret_from_assertion)).
//!
//! Errors are JavaScript `Error`s whose `code` is the catalogue code
//! (`docs/ERRORS.md`) and whose `message` is the reason. Secrets cross the
//! boundary only as `AuthSecret` objects, base64url text or a recovery phrase;
//! inside Rust they are wiped when dropped.
//!
//! Build and test: `scripts/test-node.sh` (`npm ci`, `napi build --platform`,
//! `node --test`). The JavaScript loader is `node/index.js`; the TypeScript
//! declarations `node/index.d.ts` are checked against the ones napi generates.

pub mod app;
mod args;
mod error;
pub mod identity;
pub mod recovery;
pub mod session;
pub mod store;
pub mod token;
