//! The crossing as Rust sees it: the exported functions and adapters keep the core's
//! behaviour and codes. The foreign side is tested by android-lib/jvm (Kotlin).

use std::sync::Arc;

use localfirst_core::error::ErrorCode;
use localfirst_core::secret_store::conformance::every_error_kind;
use localfirst_core::secret_store::StoreError;
use localfirst_ffi::*;

struct MemoryHarness(Arc<MemorySecretStore>);

impl SecretStoreHarness for MemoryHarness {
    fn open(&self, key: Arc<StorageKey>) -> Result<Arc<dyn AuthSecretStore>, SecretStoreError> {
        Ok(self.0.sibling(key))
    }
}

/// Every instance forgets: the suite must say so.
struct AmnesiacHarness;

impl SecretStoreHarness for AmnesiacHarness {
    fn open(&self, key: Arc<StorageKey>) -> Result<Arc<dyn AuthSecretStore>, SecretStoreError> {
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
    for error in every_error_kind()
        .into_iter()
        .chain([StoreError::InvalidStorageKey, StoreError::Rng])
    {
        let exported = SecretStoreError::from(error.clone());
        let code = match &exported {
            SecretStoreError::Unavailable { code, .. }
            | SecretStoreError::KeyInvalidated { code, .. }
            | SecretStoreError::Corrupted { code, .. }
            | SecretStoreError::PermissionDenied { code, .. }
            | SecretStoreError::Io { code, .. }
            | SecretStoreError::Backend { code, .. }
            | SecretStoreError::InvalidStorageKey { code, .. }
            | SecretStoreError::Rng { code, .. } => code.clone(),
        };
        assert_eq!(code, error.code().as_str());
        assert_eq!(StoreError::from(exported), error);
    }
}

#[test]
fn phrase_and_secret_errors_carry_codes() {
    match recovery_phrase_to_secret("abandon abandon".into()) {
        Err(PhraseError::InvalidLength { code, reason, got }) => {
            assert_eq!(code, "invalid-length");
            assert_eq!(reason, "Expected 24 words, got 2");
            assert_eq!(got, 2);
        }
        other => panic!("{other:?}"),
    }
    match AuthSecret::from_base64_url("AAAA".into()) {
        Err(SecretError::Invalid { code, .. }) => assert_eq!(code, "secret-invalid-length"),
        other => panic!("{other:?}"),
    }
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
    assert_eq!(empty.code.as_deref(), Some("proof-token-required"));
    // A backend taking Jazz clients' longer proofs chooses its limit (1 to 3600 s).
    let long = mint_local_first_token(Arc::clone(&secret), "signup".into(), 900).unwrap();
    let refused = verify_local_first_identity_proof(long.clone(), "signup".into(), None);
    assert_eq!(refused.code.as_deref(), Some("ttl-too-long"));
    assert!(verify_local_first_identity_proof(long.clone(), "signup".into(), Some(900)).ok);
    for bad in [0, 3601] {
        let outcome = verify_local_first_identity_proof(long.clone(), "signup".into(), Some(bad));
        assert_eq!(outcome.code.as_deref(), Some("invalid-argument"), "{bad}");
    }
    let other = verify_local_first_identity_proof(long, "other-app".into(), Some(900));
    assert!(other.error.unwrap().contains("\"other-app\""));
    match mint_local_first_token(secret, "my-app".into(), 0) {
        Err(TokenError::InvalidTtl { code, .. }) => assert_eq!(code, "invalid-ttl"),
        other => panic!("{other:?}"),
    }
}
