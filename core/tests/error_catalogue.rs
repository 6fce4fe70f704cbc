//! The error catalogue: `Code::ALL`, `docs/ERRORS.md` and every module's error
//! variants agree; every code is unique, kebab-case and reachable.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code: a failed unwrap is a failed test

use std::collections::{BTreeMap, BTreeSet};

use localfirst_core::auth::{AuthError, AuthFailure, PrincipalChangeKind};
use localfirst_core::db::DbError;
use localfirst_core::error::{Code, ErrorCode};
use localfirst_core::identity::{IdentityError, PublicKey, UserId};
use localfirst_core::local_db::{NameKind, StorageError};
use localfirst_core::phrase::{PhraseError, RecoveryPhrase};
use localfirst_core::policy::{Operation, PolicyError};
use localfirst_core::recovery::passkey::PasskeyError;
use localfirst_core::recovery::vault::VaultError;
use localfirst_core::secret::{Secret, SecretError};
use localfirst_core::secret_store::{StorageKey, StoreError};
use localfirst_core::token::{RequiredClaim, TokenError, TokenPart};

/// Codes only the CLI (or the bindings) return: no core error maps to them.
const CLI_ONLY: &[&str] = &[
    "usage",
    "stdin",
    "output",
    "absent",
    "invalid-json",
    "internal",
    "input-too-large",
    "input-not-a-file",
    "input-read",
    "sync-rejected",
    "sync-incomplete",
    "demo-check-failed",
    "callback-failed",
];

/// Codes only the sync server crate returns (its error enums live there and its
/// own tests check their codes).
const SERVER_ONLY: &[&str] = &[
    "invalid-subject",
    "not-yet-valid",
    "issuer-mismatch",
    "unknown-key",
    "algorithm-mismatch",
    "invalid-key",
    "invalid-jwks-url",
    "jwks-unavailable",
    "empty-key-set",
    "server-config",
    "server-bind",
    "server-io",
    "server-external-keys",
    "server-storage-database",
    "server-storage-corrupt",
    "server-storage-closed",
    "server-storage-open",
    "shared-secret-too-short",
    "too-many-connections",
    "provider-config",
    "provider-key",
    "provider-bind",
    "provider-body-too-large",
    "provider-malformed-request",
    "provider-proof-required",
    "provider-proof-invalid",
    "provider-token-missing",
    "provider-token-invalid",
    "provider-unknown-account",
    "provider-signin-invalid",
    "provider-signing",
    "provider-http",
    "provider-rejected",
];

/// Codes of the sync protocol (docs/PROTOCOL.md): the `code` of `error` frames,
/// rejections, skipped changes and HTTP refusals, and of the client's own protocol
/// checks inside `sync-protocol`. No error enum returns them as its own code; they
/// travel as text in frames and in the sync errors' `code` field.
const PROTOCOL_ONLY: &[&str] = &[
    "row-too-large",
    "malformed-frame",
    "unknown-message",
    "unsupported-frame",
    "frame-too-large",
    "batch-too-large",
    "hello-required",
    "handshake-timeout",
    "unsupported-version",
    "invalid-client-id",
    "storage",
    "slow-consumer",
    "shutting-down",
    "row-exists",
    "invalid-entry",
    "client-id-reused",
    "cursor-not-advancing",
    "cursor-out-of-range",
    "unexpected-ack",
    "unexpected-rejection",
    "unexpected-changes",
    "too-many-pulls",
    "server-busy",
    "unknown-app",
];

/// The codes in the first column of the table under `## Catalogue` in docs/ERRORS.md.
fn documented_codes() -> Vec<String> {
    let text = include_str!("../../docs/ERRORS.md");
    let mut in_catalogue = false;
    let mut codes = Vec::new();
    for line in text.lines() {
        if line.starts_with("## ") {
            in_catalogue = line == "## Catalogue";
            continue;
        }
        if !in_catalogue || !line.starts_with('|') {
            continue;
        }
        let cells: Vec<&str> = line.trim_matches('|').split(" | ").map(str::trim).collect();
        if cells[0] == "Code" || cells[0].starts_with("---") {
            continue;
        }
        assert_eq!(cells.len(), 3, "a row needs code, meaning, action: {line}");
        assert!(
            cells.iter().all(|cell| !cell.is_empty()),
            "empty cell: {line}"
        );
        let code = cells[0]
            .strip_prefix('`')
            .and_then(|rest| rest.strip_suffix('`'))
            .unwrap_or_else(|| panic!("the code must be in backticks: {line}"));
        codes.push(code.to_owned());
    }
    assert!(
        !codes.is_empty(),
        "no catalogue table found in docs/ERRORS.md"
    );
    codes
}

/// One constructed error per variant of every public error enum, with the code
/// each must have.
fn samples() -> Vec<(Code, &'static str, String)> {
    let mut out: Vec<(Code, &'static str, String)> = Vec::new();
    let mut add = |error: &dyn Sample, expected: &'static str| {
        out.push((error.sample_code(), expected, error.describe()));
    };

    for (e, code) in [
        (SecretError::Padding, "secret-padding"),
        (
            SecretError::InvalidCharacter { position: 3 },
            "secret-invalid-character",
        ),
        (
            SecretError::InvalidLength {
                expected: 43,
                actual: 2,
            },
            "secret-invalid-length",
        ),
        (SecretError::NonCanonical, "secret-non-canonical"),
        (SecretError::Rng, "rng-failure"),
    ] {
        add(&e, code);
    }

    for (e, code) in [
        (IdentityError::PublicKeyEncoding, "public-key-encoding"),
        (
            IdentityError::PublicKeyLength { actual: 31 },
            "public-key-length",
        ),
        (IdentityError::PublicKeyInvalid, "public-key-invalid"),
        (IdentityError::UserIdInvalid, "user-id-invalid"),
    ] {
        add(&e, code);
    }

    for (e, code) in [
        (PhraseError::InvalidLength { got: 3 }, "invalid-length"),
        (
            PhraseError::InvalidWord {
                position: 1,
                word: "zzz".into(),
            },
            "invalid-word",
        ),
        (PhraseError::InvalidChecksum, "invalid-checksum"),
        (PhraseError::InvalidSecret, "invalid-secret"),
    ] {
        add(&e, code);
    }

    let reason = || "x".to_owned();
    for (e, code) in [
        (
            PasskeyError::NotSupported { reason: reason() },
            "not-supported",
        ),
        (PasskeyError::InvalidSecret, "invalid-secret"),
        (
            PasskeyError::CreateFailed { reason: reason() },
            "create-failed",
        ),
        (PasskeyError::GetFailed { reason: reason() }, "get-failed"),
        (PasskeyError::NoCredential, "no-credential"),
        (
            PasskeyError::InvalidCredential { reason: reason() },
            "invalid-credential",
        ),
        (
            PasskeyError::VerificationFailed { flags: 1 },
            "verification-failed",
        ),
        (
            PasskeyError::InvalidArgument { reason: reason() },
            "invalid-argument",
        ),
        (PasskeyError::Rng, "rng-failure"),
    ] {
        add(&e, code);
    }

    for (e, code) in [
        (
            VaultError::Unavailable { reason: reason() },
            "vault-unavailable",
        ),
        (
            VaultError::Timeout {
                timeout: std::time::Duration::from_secs(1),
            },
            "vault-timeout",
        ),
        (VaultError::Corrupt { reason: reason() }, "vault-corrupt"),
        (VaultError::WriteUnconfirmed, "vault-write-unconfirmed"),
        (
            VaultError::IdentityConflict {
                device_user_id: "a".into(),
                vault_user_id: "b".into(),
            },
            "vault-identity-conflict",
        ),
        (
            VaultError::Store(StoreError::Unavailable { reason: reason() }),
            "secret-store-unavailable",
        ),
        (
            VaultError::Runtime { reason: reason() },
            "runtime-unavailable",
        ),
        (
            VaultError::InvalidArgument { reason: reason() },
            "invalid-argument",
        ),
    ] {
        add(&e, code);
    }

    for (e, code) in [
        (TokenError::TooLarge { len: 9, max: 8 }, "token-too-large"),
        (TokenError::WrongPartCount { parts: 2 }, "token-malformed"),
        (
            TokenError::InvalidEncoding {
                part: TokenPart::Claims,
            },
            "token-encoding",
        ),
        (TokenError::InvalidHeader, "invalid-header"),
        (
            TokenError::UnsupportedAlgorithm {
                alg: "HS256".into(),
            },
            "unsupported-algorithm",
        ),
        (
            TokenError::InvalidClaims { reason: "x".into() },
            "invalid-claims",
        ),
        (
            TokenError::UnknownClaim {
                claim: "extra".into(),
            },
            "unknown-claim",
        ),
        (
            TokenError::MissingClaim {
                claim: RequiredClaim::JazzPubKey,
            },
            "missing-claim",
        ),
        (
            TokenError::UnknownIssuer { issuer: "x".into() },
            "unknown-issuer",
        ),
        (
            TokenError::IssuerNotAllowed {
                issuer: "urn:jazz:anonymous".into(),
            },
            "issuer-not-allowed",
        ),
        (
            TokenError::AudienceMismatch {
                audience: "my-app".into(),
                expected: "a".into(),
                actual: "b".into(),
            },
            "audience-mismatch",
        ),
        (TokenError::InvalidPublicKey, "token-public-key-invalid"),
        (
            TokenError::PublicKeyLength { actual: 31 },
            "token-public-key-length",
        ),
        (
            TokenError::SignatureLength { actual: 63 },
            "signature-length",
        ),
        (TokenError::InvalidSignature, "invalid-signature"),
        (TokenError::SubjectMismatch, "subject-mismatch"),
        (
            TokenError::IssuedInFuture { iat: 2, now: 1 },
            "issued-in-future",
        ),
        (TokenError::Expired { exp: 1, now: 2 }, "expired"),
        (TokenError::TtlTooLong { ttl: 2, max: 1 }, "ttl-too-long"),
        (
            TokenError::InvalidLifetime { iat: 2, exp: 1 },
            "invalid-lifetime",
        ),
        (TokenError::InvalidTtl, "invalid-ttl"),
        (
            TokenError::ProofTtlTooLong { ttl: 601, max: 600 },
            "invalid-ttl",
        ),
        (TokenError::ProofAudienceRequired, "invalid-argument"),
    ] {
        add(&e, code);
    }

    for (e, code) in [
        (AuthFailure::Expired, "expired"),
        (AuthFailure::Missing, "missing"),
        (AuthFailure::Invalid, "invalid"),
        (AuthFailure::Disabled, "disabled"),
    ] {
        add(&e, code);
    }

    let principal_change = AuthError::PrincipalChange {
        current: "alice".into(),
        requested: Some("bob".into()),
        detail: PrincipalChangeKind::TokenForOtherUser,
    };
    for (e, code) in [
        (principal_change.clone(), "principal-change"),
        (
            AuthError::InvalidToken { reason: "x".into() },
            "invalid-token",
        ),
        (
            AuthError::InvalidCookieSession { reason: "x".into() },
            "invalid-cookie-session",
        ),
    ] {
        add(&e, code);
    }

    for (e, code) in [
        (
            StoreError::Unavailable { reason: reason() },
            "secret-store-unavailable",
        ),
        (
            StoreError::KeyInvalidated { reason: reason() },
            "secret-store-key-invalidated",
        ),
        (
            StoreError::Corrupted { reason: reason() },
            "secret-store-corrupted",
        ),
        (
            StoreError::PermissionDenied { reason: reason() },
            "secret-store-permission-denied",
        ),
        (StoreError::Io { reason: reason() }, "secret-store-io"),
        (
            StoreError::Backend { reason: reason() },
            "secret-store-backend",
        ),
        (
            StoreError::Locked { reason: reason() },
            "secret-store-locked",
        ),
        (StoreError::InvalidStorageKey, "invalid-storage-key"),
        (StoreError::ExplicitKeyWithParts, "invalid-storage-key"),
        (StoreError::Rng, "rng-failure"),
    ] {
        add(&e, code);
    }

    let denied = PolicyError::Denied {
        table: "t".into(),
        operation: Operation::Insert,
    };
    let invalid_policy = PolicyError::Invalid {
        location: "$".into(),
        message: "x".into(),
    };
    for (e, code) in [
        (denied.clone(), "policy-denied"),
        (invalid_policy.clone(), "policy-invalid"),
        (
            PolicyError::Io {
                path: "p".into(),
                reason: reason(),
            },
            "policy-io",
        ),
        (
            PolicyError::TooLarge {
                path: "p".into(),
                limit: 1,
            },
            "policy-too-large",
        ),
    ] {
        add(&e, code);
    }

    let busy = StorageError::Busy { reason: reason() };
    for (e, code) in [
        (
            StorageError::InvalidName {
                kind: NameKind::Table,
                name: "1x".into(),
            },
            "invalid-name",
        ),
        (StorageError::InvalidRow { reason: reason() }, "invalid-row"),
        (
            StorageError::InvalidFilter { reason: reason() },
            "invalid-filter",
        ),
        (
            StorageError::NotFound {
                table: "t".into(),
                id: "1".into(),
            },
            "not-found",
        ),
        (
            StorageError::AlreadyExists {
                table: "t".into(),
                id: "1".into(),
            },
            "already-exists",
        ),
        (StorageError::Reset, "storage-reset"),
        (busy.clone(), "busy"),
        (StorageError::Corrupt { reason: reason() }, "corrupt"),
        (
            StorageError::UnsupportedSchema {
                found: 9,
                supported: 3,
            },
            "unsupported-schema",
        ),
        (StorageError::Sqlite { reason: reason() }, "sqlite"),
        (
            StorageError::Io {
                path: "p".into(),
                reason: reason(),
            },
            "local-db-io",
        ),
        (StorageError::Closed, "logged-out"),
        (StorageError::Rng, "rng-failure"),
        (
            StorageError::TableNameClash {
                table: "Todos".into(),
                existing: "todos".into(),
            },
            "table-name-clash",
        ),
    ] {
        add(&e, code);
    }

    for (e, code) in [
        (DbError::Runtime { reason: reason() }, "runtime-unavailable"),
        (DbError::Config { reason: reason() }, "invalid-config"),
        (
            DbError::SyncUnavailable { reason: reason() },
            "sync-unavailable",
        ),
        (
            DbError::SyncAuthRejected {
                code: "expired".into(),
                message: reason(),
            },
            "sync-auth-rejected",
        ),
        (DbError::SyncNetwork { reason: reason() }, "sync-network"),
        (
            DbError::SyncProtocol {
                code: "storage".into(),
                message: reason(),
            },
            "sync-protocol",
        ),
        (
            DbError::InvalidArgument { reason: reason() },
            "invalid-argument",
        ),
        (
            DbError::AnonymousWriteDenied {
                table: "t".into(),
                operation: Operation::Delete,
            },
            "anonymous-write-denied",
        ),
        (DbError::from(principal_change), "principal-change"),
        (
            DbError::Auth(AuthError::InvalidToken { reason: reason() }),
            "invalid-token",
        ),
        (DbError::from(denied), "policy-denied"),
        (DbError::from(invalid_policy), "policy-invalid"),
        (
            DbError::NotFound {
                table: "t".into(),
                id: "1".into(),
            },
            "not-found",
        ),
        (DbError::StorageReset, "storage-reset"),
        (DbError::LoggedOut, "logged-out"),
        (DbError::from(busy), "busy"),
        (DbError::from(TokenError::InvalidTtl), "invalid-ttl"),
        (
            DbError::MigrationFailed { reason: reason() },
            "migration-failed",
        ),
        (DbError::Rng, "rng-failure"),
    ] {
        add(&e, code);
    }
    out
}

/// An error value whose code the catalogue test reads.
trait Sample {
    fn sample_code(&self) -> Code;
    fn describe(&self) -> String;
}

impl<E: ErrorCode + std::fmt::Debug> Sample for E {
    fn sample_code(&self) -> Code {
        self.code()
    }
    fn describe(&self) -> String {
        format!("{self:?}")
    }
}

#[test]
fn every_code_is_listed_once() {
    let texts: Vec<&str> = Code::ALL.iter().map(|code| code.as_str()).collect();
    let unique: BTreeSet<&str> = texts.iter().copied().collect();
    assert_eq!(unique.len(), texts.len(), "a code text appears twice");
    let variants: BTreeSet<Code> = Code::ALL.iter().copied().collect();
    assert_eq!(variants.len(), Code::ALL.len(), "a variant appears twice");
}

#[test]
fn every_code_is_kebab_case_and_round_trips() {
    for &code in Code::ALL {
        let text = code.as_str();
        assert!(Code::is_well_formed(text), "{text:?} is not kebab-case");
        assert!(
            text.bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-'),
            "{text:?}"
        );
        assert_eq!(text.parse::<Code>(), Ok(code));
        assert_eq!(code.to_string(), text);
        assert_eq!(code, text);
    }
}

#[test]
fn docs_table_lists_exactly_the_catalogue_each_code_once() {
    let documented = documented_codes();
    let mut seen = BTreeSet::new();
    for code in &documented {
        assert!(
            seen.insert(code.as_str()),
            "{code} has two rows in docs/ERRORS.md"
        );
    }
    let catalogue: BTreeSet<&str> = Code::ALL.iter().map(|code| code.as_str()).collect();
    let missing: Vec<_> = catalogue.difference(&seen).collect();
    let unknown: Vec<_> = seen.difference(&catalogue).collect();
    assert!(
        missing.is_empty(),
        "codes without a row in docs/ERRORS.md: {missing:?}"
    );
    assert!(
        unknown.is_empty(),
        "rows in docs/ERRORS.md for unknown codes: {unknown:?}"
    );
    // Same order as the enum, so the doc reads like the code.
    let in_order: Vec<&str> = Code::ALL.iter().map(|code| code.as_str()).collect();
    assert_eq!(documented, in_order);
}

#[test]
fn every_error_variant_maps_to_its_catalogued_code() {
    for (code, expected, error) in samples() {
        assert_eq!(code, expected, "{error}");
        assert!(
            Code::ALL.contains(&code),
            "{error}: {code} is not in Code::ALL"
        );
    }
}

#[test]
fn every_code_is_returned_by_some_error() {
    let mut reached: BTreeMap<&str, usize> = BTreeMap::new();
    for (code, _, _) in samples() {
        *reached.entry(code.as_str()).or_default() += 1;
    }
    for other in CLI_ONLY.iter().chain(SERVER_ONLY).chain(PROTOCOL_ONLY) {
        assert!(
            !reached.contains_key(other),
            "{other} is returned by a core error too"
        );
        reached.insert(other, 1);
    }
    let catalogue: BTreeSet<&str> = Code::ALL.iter().map(|code| code.as_str()).collect();
    let reached: BTreeSet<&str> = reached.into_keys().collect();
    let unused: Vec<_> = catalogue.difference(&reached).collect();
    // `proof-token-required` is not an error enum variant: it is the `code` of a
    // refused identity proof, checked below.
    assert_eq!(unused, vec![&"proof-token-required"]);
    assert!(reached.is_subset(&catalogue));
}

/// The backticked code in `cell`, if the cell is exactly one.
fn code_cell(cell: &str) -> Option<&str> {
    let code = cell.trim().strip_prefix('`')?.strip_suffix('`')?;
    Code::is_well_formed(code).then_some(code)
}

#[test]
fn every_code_the_protocol_documents_is_catalogued() {
    let text = include_str!("../../docs/PROTOCOL.md");
    let mut documented: Vec<String> = Vec::new();
    let lines: Vec<&str> = text.lines().collect();
    for (at, line) in lines.iter().enumerate() {
        let is_header = lines
            .get(at + 1)
            .is_some_and(|next| next.starts_with("|-") || next.starts_with("| -"));
        if is_header {
            continue;
        }
        let cells: Vec<&str> = line.trim_matches('|').split('|').collect();
        // The HTTP refusals (`| 503 | `server-busy` | ... |`) and the close reasons
        // (`| `4001` | `expired`, `missing`, ... | ... |`, or a list in parentheses:
        // `the `error` code (`handshake-timeout`, ...)`).
        if line.starts_with('|') && cells.len() >= 3 {
            let cell = cells[1];
            let listed = match (cell.find('('), cell.rfind(')')) {
                (Some(open), Some(close)) if open < close => &cell[open + 1..close],
                _ => cell,
            };
            for code in listed.split(',').filter_map(code_cell) {
                documented.push(code.to_owned());
            }
        }
    }
    // The rejection codes: one sentence, `Rejection codes: ... (below).`
    let start = text
        .find("Rejection codes:")
        .expect("the rejection codes sentence");
    let sentence = &text[start..start + text[start..].find(". A ").expect("its end")];
    for (at, part) in sentence.split('`').enumerate() {
        if at % 2 == 1 && Code::is_well_formed(part) {
            documented.push(part.to_owned());
        }
    }
    for code in [
        "server-busy",
        "unknown-app",
        "too-many-connections",
        "row-exists",
        "client-id-reused",
        "storage",
        "slow-consumer",
    ] {
        assert!(
            documented.iter().any(|d| d == code),
            "{code} not found in docs/PROTOCOL.md"
        );
    }
    for code in &documented {
        assert!(
            code.parse::<Code>().is_ok(),
            "docs/PROTOCOL.md names {code}, which is not in the catalogue"
        );
    }
    for code in PROTOCOL_ONLY {
        assert!(code.parse::<Code>().is_ok(), "{code}");
    }
}

#[test]
fn real_failures_carry_the_split_codes() {
    // A storage key that is not valid is not a backend failure.
    for bad in ["", "   ", &"k".repeat(256)] {
        let error = StorageKey::explicit(bad).unwrap_err();
        assert_eq!(error, StoreError::InvalidStorageKey);
        assert_eq!(error.code(), Code::InvalidStorageKey);
    }
    // Public keys: given directly versus inside a token.
    let short = "AAAA";
    assert_eq!(
        PublicKey::parse_base64url(short).unwrap_err().code(),
        "public-key-length"
    );
    assert_eq!(UserId::parse("x").unwrap_err().code(), "user-id-invalid");
    assert_eq!(
        Secret::parse_base64url("AAAA=").unwrap_err().code(),
        "secret-padding"
    );
    assert_eq!(
        RecoveryPhrase::parse("abandon").unwrap_err().code(),
        Code::InvalidLength
    );
    let clock = localfirst_core::clock::FixedClock::new(1_700_000_000);
    let proof = localfirst_core::token::verify_local_first_identity_proof(" ", "app", &clock);
    assert_eq!(proof.code, Some(Code::ProofTokenRequired));
    assert_eq!(proof.error.as_deref(), Some("proofToken is required"));
}

#[test]
fn typed_fields_print_as_before() {
    let missing = TokenError::MissingClaim {
        claim: RequiredClaim::JazzPubKey,
    };
    assert_eq!(
        missing.to_string(),
        "token is missing the \"jazz_pub_key\" claim"
    );
    let name = StorageError::InvalidName {
        kind: NameKind::Column,
        name: "$x".into(),
    };
    assert!(
        name.to_string().starts_with("invalid column name \"$x\""),
        "{name}"
    );
    let change = AuthError::PrincipalChange {
        current: "alice".into(),
        requested: None,
        detail: PrincipalChangeKind::TokenCleared,
    };
    assert!(
        change.to_string().contains("clearing the token signs out"),
        "{change}"
    );
}

#[test]
fn codes_serialise_as_their_text() {
    let json = serde_json::to_value(Code::SecretStoreIo).unwrap();
    assert_eq!(json, serde_json::json!("secret-store-io"));
    let back: Code = serde_json::from_value(json).unwrap();
    assert_eq!(back, Code::SecretStoreIo);
    assert!(serde_json::from_value::<Code>(serde_json::json!("io")).is_err());
}
