//! The crossing as Rust sees it: the exported functions and adapters keep the core's
//! behaviour and codes. The foreign side is tested by android-lib/jvm (Kotlin).

use std::sync::Arc;

use localfirst_core::error::{Code, ErrorCode as _, ErrorReport};
use localfirst_core::secret_store::conformance::every_error_kind;
use localfirst_core::secret_store::StoreError;
use localfirst_ffi::*;

/// A code's catalogue text.
fn text(code: ErrorCode) -> String {
    code.to_string()
}

struct MemoryHarness(Arc<MemorySecretStore>);

impl SecretStoreHarness for MemoryHarness {
    fn open(&self, key: Arc<StorageKey>) -> Result<Arc<dyn AuthSecretStore>, LocalFirstError> {
        Ok(self.0.sibling(key))
    }
}

/// Every instance forgets: the suite must say so.
struct AmnesiacHarness;

impl SecretStoreHarness for AmnesiacHarness {
    fn open(&self, key: Arc<StorageKey>) -> Result<Arc<dyn AuthSecretStore>, LocalFirstError> {
        Ok(MemorySecretStore::new(key))
    }
}

#[test]
fn conformance_passes_through_the_exported_trait_and_reports_failures() {
    let root = MemorySecretStore::new(StorageKey::default_key());
    let report = run_secret_store_conformance(Arc::new(MemoryHarness(root)));
    assert_eq!(report.failures, Vec::<String>::new());
    assert!(report.passed);
    assert_eq!(report.checks.len(), 7);

    let report = run_secret_store_conformance(Arc::new(AmnesiacHarness));
    assert!(!report.passed);
    assert!(
        report
            .failures
            .iter()
            .any(|f| f.starts_with("absent_create_load:")),
        "{:?}",
        report.failures
    );
}

#[test]
fn store_errors_keep_kind_code_and_reason_both_ways() {
    for error in every_error_kind().into_iter().chain([
        StoreError::InvalidStorageKey,
        StoreError::Rng,
        StoreError::Locked {
            reason: "held".into(),
        },
    ]) {
        let exported = LocalFirstError::from(error.clone());
        assert_eq!(text(exported.code()), error.code().as_str());
        assert_eq!(exported.reason(), error.to_string());
        // What a foreign store throws back: the code decides the kind.
        let reason = match &error {
            StoreError::Unavailable { reason }
            | StoreError::KeyInvalidated { reason }
            | StoreError::Corrupted { reason }
            | StoreError::PermissionDenied { reason }
            | StoreError::Io { reason }
            | StoreError::Backend { reason }
            | StoreError::Locked { reason } => reason.clone(),
            _ => String::new(),
        };
        let thrown = LocalFirstError::Failed {
            code: exported.code(),
            reason,
            details: None,
        };
        assert_eq!(StoreError::from(thrown), error);
    }
    // A code that is no store's is a backend failure naming it; so is a foreign
    // exception of another type.
    let odd = LocalFirstError::from(ErrorReport::new(Code::VaultTimeout, "late"));
    assert_eq!(
        StoreError::from(odd),
        StoreError::Backend {
            reason: "[vault-timeout] late".into()
        }
    );
    let thrown = LocalFirstError::from(uniffi::UnexpectedUniFFICallbackError::new("boom"));
    assert_eq!(thrown.code(), ErrorCode::CallbackFailed);
    assert_eq!(
        StoreError::from(thrown),
        StoreError::Backend {
            reason: "[callback-failed] boom".into()
        }
    );
}

#[test]
fn the_exported_code_enum_is_the_catalogue() {
    for &code in Code::ALL {
        let exported = ErrorCode::from(code);
        assert_eq!(Code::from(exported), code);
        assert_eq!(text(exported), code.as_str());
        assert_eq!(error_code_from_text(code.as_str().into()), Some(exported));
    }
    assert_eq!(error_code_from_text("no-such-code".into()), None);
}

#[test]
fn phrase_and_secret_errors_carry_codes() {
    let short = recovery_phrase_to_secret("abandon abandon".into()).unwrap_err();
    assert_eq!(text(short.code()), "invalid-length");
    assert_eq!(short.reason(), "Expected 24 words, got 2");
    assert_eq!(short.details(), Some(ErrorDetails::PhraseLength { got: 2 }));
    let mut words = vec!["abandon"; 24];
    words[4] = "abandonn";
    let word = recovery_phrase_to_secret(words.join(" ")).unwrap_err();
    assert_eq!(word.code(), ErrorCode::InvalidWord);
    assert_eq!(
        word.details(),
        Some(ErrorDetails::InvalidWord {
            position: 5,
            word: "abandonn".into()
        })
    );
    assert_eq!(
        word.details_json().as_deref(),
        Some(r#"{"kind":"invalidWord","position":5,"word":"abandonn"}"#)
    );
    let bad = AuthSecret::from_base64_url("AAAA".into()).unwrap_err();
    assert_eq!(text(bad.code()), "secret-invalid-length");
    assert_eq!(bad.details(), None);
    let secret = AuthSecret::from_base64_url("A".repeat(43)).unwrap();
    assert_eq!(secret.user_id(), "412a3d72-132d-5e55-bad2-d3bad0eb5ea5");
    assert!(!format!("{secret:?}").contains(&secret.to_base64_url()));
    let phrase = recovery_phrase_from_secret(Arc::clone(&secret));
    assert_eq!(*recovery_phrase_to_secret(phrase).unwrap(), *secret);
}

#[test]
fn proofs_round_trip_and_empty_is_required() {
    let secret = AuthSecret::generate().unwrap();
    let proof = local_first_identity_proof(Arc::clone(&secret), "signup".into(), 60).unwrap();
    let ok = verify_local_first_identity_proof(proof, "signup".into(), None);
    assert_eq!(
        ok,
        ProofVerification {
            ok: true,
            id: Some(secret.user_id()),
            error: None,
            code: None
        }
    );
    let empty = verify_local_first_identity_proof(String::new(), "signup".into(), None);
    assert_eq!(empty.error.as_deref(), Some("proofToken is required"));
    assert_eq!(
        empty.code.map(text).as_deref(),
        Some("proof-token-required")
    );
    // A backend taking Jazz clients' longer proofs chooses its limit (1 to 3600 s).
    let long = mint_local_first_token(Arc::clone(&secret), "signup".into(), 900).unwrap();
    let refused = verify_local_first_identity_proof(long.clone(), "signup".into(), None);
    assert_eq!(refused.code.map(text).as_deref(), Some("ttl-too-long"));
    assert!(verify_local_first_identity_proof(long.clone(), "signup".into(), Some(900)).ok);
    for bad in [0, 3601] {
        let outcome = verify_local_first_identity_proof(long.clone(), "signup".into(), Some(bad));
        assert_eq!(
            outcome.code.map(text).as_deref(),
            Some("invalid-argument"),
            "{bad}"
        );
    }
    let other = verify_local_first_identity_proof(long, "other-app".into(), Some(900));
    assert!(other.error.unwrap().contains("\"other-app\""));
    let zero = mint_local_first_token(secret, "my-app".into(), 0).unwrap_err();
    assert_eq!(text(zero.code()), "invalid-ttl");
}
