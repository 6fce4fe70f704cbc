//! The core's app-facing operations through the exported functions: the storage-key
//! choice, the identity-proof mint rule, token verification and the Jazz import keep
//! the core's outcomes and codes.

use std::sync::Arc;

use localfirst_ffi::*;

/// A code's catalogue text.
fn code_of(error: LocalFirstError) -> String {
    error.code().to_string()
}

#[test]
fn storage_key_for_picks_one_key_and_refuses_a_key_with_ids() {
    let key = |k: Option<&str>, app: Option<&str>, user: Option<&str>| {
        storage_key_for(
            k.map(str::to_owned),
            app.map(str::to_owned),
            user.map(str::to_owned),
            None,
        )
    };
    assert_eq!(
        key(None, None, None).unwrap().as_string(),
        "jazz-auth-secret"
    );
    assert_eq!(
        key(None, Some("my app"), Some("u1")).unwrap().as_string(),
        "jazz-auth-secret:my%20app:u1"
    );
    assert_eq!(key(Some("mine"), None, None).unwrap().as_string(), "mine");
    // A key with any id, even a blank one, is refused rather than silently preferred.
    for refused in [
        key(Some("mine"), Some("app"), None),
        key(Some("mine"), None, Some("")),
        key(Some("  "), None, None),
        key(Some(&"k".repeat(256)), None, None),
    ] {
        assert_eq!(code_of(refused.unwrap_err()), "invalid-storage-key");
    }
}

#[test]
fn identity_proof_for_applies_the_default_and_the_limit() {
    let secret = AuthSecret::generate().unwrap();
    let proof = identity_proof_for(Arc::clone(&secret), None, "signup".into()).unwrap();
    let verified = verify_local_first_token(proof.clone(), "signup".into(), None, None).unwrap();
    assert_eq!(verified.expires_at - verified.issued_at, 60);
    assert_eq!(verified.user_id, secret.user_id());
    assert_eq!(verified.issuer, Issuer::LocalFirst);
    let outcome = verify_local_first_identity_proof(proof, "signup".into(), None);
    assert!(outcome.ok, "{:?}", outcome.error);

    let longest = identity_proof_for(Arc::clone(&secret), Some(600), "signup".into()).unwrap();
    assert!(verify_local_first_identity_proof(longest, "signup".into(), None).ok);
    for ttl in [0, 601, 3600] {
        let refused = identity_proof_for(Arc::clone(&secret), Some(ttl), "signup".into());
        assert_eq!(code_of(refused.unwrap_err()), "invalid-ttl", "{ttl}");
    }
    // The older export forwards to the same rule: nothing we ship mints over 600 s.
    let old = local_first_identity_proof(Arc::clone(&secret), "signup".into(), 3600);
    assert_eq!(code_of(old.unwrap_err()), "invalid-ttl");
    let blank = identity_proof_for(secret, None, "  ".into()).unwrap_err();
    assert_eq!(code_of(blank), "invalid-argument");
}

#[test]
fn verify_local_first_token_checks_audience_lifetime_and_issuer() {
    let secret = AuthSecret::generate().unwrap();
    let token = mint_local_first_token(Arc::clone(&secret), "my-app".into(), 900).unwrap();
    let verified = verify_local_first_token(token.clone(), "my-app".into(), None, None).unwrap();
    assert_eq!(verified.audience, "my-app");
    assert_eq!(verified.public_key, secret.public_key());
    assert_eq!(verified.expires_at - verified.issued_at, 900);

    let cases = [
        (
            verify_local_first_token(token.clone(), "other".into(), None, None),
            "audience-mismatch",
        ),
        (
            verify_local_first_token(token.clone(), "my-app".into(), Some(600), None),
            "ttl-too-long",
        ),
        (
            verify_local_first_token(
                token.clone(),
                "my-app".into(),
                None,
                Some(vec![Issuer::Anonymous]),
            ),
            "issuer-not-allowed",
        ),
        (
            verify_local_first_token("a.b".into(), "my-app".into(), None, None),
            "token-malformed",
        ),
    ];
    for (outcome, code) in cases {
        assert_eq!(code_of(outcome.unwrap_err()), code);
    }
}

#[test]
fn import_jazz_secret_imports_once_and_reports_a_conflict() {
    let store: Arc<dyn AuthSecretStore> = MemorySecretStore::new(StorageKey::default_key());
    let none = import_jazz_secret(Arc::clone(&store), None).unwrap();
    assert_eq!(none.outcome, JazzImportOutcome::NotFound);
    assert!(!none.remove_source);

    let jazz = AuthSecret::generate().unwrap();
    let value = Some(jazz.to_base64_url());
    let first = import_jazz_secret(Arc::clone(&store), value.clone()).unwrap();
    assert_eq!(
        first.outcome,
        JazzImportOutcome::Imported {
            user_id: jazz.user_id()
        }
    );
    assert!(first.remove_source);
    assert_eq!(
        store.load_secret().unwrap().unwrap().user_id(),
        jazz.user_id()
    );
    let again = import_jazz_secret(Arc::clone(&store), value).unwrap();
    assert_eq!(
        again.outcome,
        JazzImportOutcome::AlreadyImported {
            user_id: jazz.user_id()
        }
    );

    let other = AuthSecret::generate().unwrap();
    let conflict = import_jazz_secret(Arc::clone(&store), Some(other.to_base64_url())).unwrap();
    assert_eq!(
        conflict.outcome,
        JazzImportOutcome::Conflict {
            user_id: other.user_id(),
            existing_user_id: jazz.user_id()
        }
    );
    assert!(!conflict.remove_source);
    let garbage = import_jazz_secret(Arc::clone(&store), Some("not a secret".into()));
    assert_eq!(code_of(garbage.unwrap_err()), "secret-store-corrupted");
    assert_eq!(
        store.load_secret().unwrap().unwrap().user_id(),
        jazz.user_id()
    );
}
