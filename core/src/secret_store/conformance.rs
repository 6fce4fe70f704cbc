//! The conformance suite every [`AuthSecretStore`] backend must pass.
//!
//! A backend is described by a [`StoreHarness`]: something that opens store
//! instances bound to a given [`StorageKey`] over one isolated piece of storage
//! (a fresh temporary directory, a fresh keystore file, a fresh in-memory map).
//! Each check takes a harness, exercises the store contract (docs/STORES.md) and returns a
//! [`ConformanceFailure`] describing the first broken promise, so the suite is
//! plain library code: no panics, usable from any crate's tests, including
//! those of apps that implement their own store.
//!
//! In a test file, [`store_conformance_tests!`](crate::store_conformance_tests)
//! expands to one `#[test]` per check:
//!
//! ```
//! use localfirst_core::secret_store::{AuthSecretStore, MemoryStore, StorageKey, StoreError};
//!
//! fn memory_harness() -> impl Fn(StorageKey) -> Result<Box<dyn AuthSecretStore>, StoreError> {
//!     let root = MemoryStore::default();
//!     move |key| Ok(Box::new(root.sibling(key)) as Box<dyn AuthSecretStore>)
//! }
//!
//! // In a test module: `localfirst_core::store_conformance_tests!(memory_harness());`
//! localfirst_core::secret_store::conformance::run_all(&memory_harness()).unwrap();
//! ```
//!
//! The checks:
//!
//! | check | promise |
//! | --- | --- |
//! | [`absent_create_load`] | absent → `get_or_create` creates → `load` and a reopened store return the same secret |
//! | [`save_replaces`] | `save` replaces the previous secret, byte for byte |
//! | [`clear_then_absent`] | after `clear`, `load` is absent; clearing twice succeeds |
//! | [`namespacing`] | different storage keys never see each other's secrets |
//! | [`concurrent_get_or_create`] | 64 threads calling `get_or_create` at once all get one secret |
//! | [`failures_never_mint`] | every error of a failing backend propagates; none becomes a new secret |
//! | [`spurious_absence_never_replaces`] | a load that wrongly reports "absent" never lets `get_or_create` replace the stored secret |
//!
//! [`FaultInjectingStore`] is the wrapper the last two checks use; backends' own
//! tests may use it too.

use std::sync::{Arc, Barrier, Mutex};

use super::{AuthSecretStore, AuthSecretStoreExt, StorageKey, StoreError, StoreLock};
use crate::error::ErrorCode;
use crate::secret::Secret;

/// Number of threads racing in [`concurrent_get_or_create`].
pub const RACING_THREADS: usize = 64;

/// Opens stores over one isolated piece of storage.
///
/// Every call with the same key must reach the same stored item (as two app
/// launches would); different keys must be independent namespaces.
pub trait StoreHarness {
    /// Opens a new store instance bound to `key`.
    fn open(&self, key: StorageKey) -> Result<Box<dyn AuthSecretStore>, StoreError>;
}

impl<F> StoreHarness for F
where
    F: Fn(StorageKey) -> Result<Box<dyn AuthSecretStore>, StoreError>,
{
    fn open(&self, key: StorageKey) -> Result<Box<dyn AuthSecretStore>, StoreError> {
        self(key)
    }
}

/// A broken promise found by the suite: which check, and what went wrong.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("secret store conformance check `{check}` failed: {message}")]
pub struct ConformanceFailure {
    /// The name of the check (the function name).
    pub check: &'static str,
    /// What the store did wrong.
    pub message: String,
}

/// A check of the suite.
pub type Check = fn(&dyn StoreHarness) -> Result<(), ConformanceFailure>;

/// Every check, by name, in the order [`run_all`] runs them.
pub const CHECKS: &[(&str, Check)] = &[
    ("absent_create_load", absent_create_load),
    ("save_replaces", save_replaces),
    ("clear_then_absent", clear_then_absent),
    ("namespacing", namespacing),
    ("concurrent_get_or_create", concurrent_get_or_create),
    ("failures_never_mint", failures_never_mint),
    (
        "spurious_absence_never_replaces",
        spurious_absence_never_replaces,
    ),
];

/// Runs every check against one harness, stopping at the first failure.
///
/// Checks share the harness's storage, each under its own storage keys; prefer
/// the [`store_conformance_tests!`](crate::store_conformance_tests) macro, which
/// gives each check a fresh harness and its own test.
pub fn run_all(harness: &dyn StoreHarness) -> Result<(), ConformanceFailure> {
    for (_, check) in CHECKS {
        check(harness)?;
    }
    Ok(())
}

/// Expands to one `#[test]` per conformance check, each with a fresh harness
/// built by evaluating the given expression (which must produce a value
/// implementing [`StoreHarness`]).
///
/// ```ignore
/// localfirst_core::store_conformance_tests!(FileHarness::new());
/// ```
#[macro_export]
macro_rules! store_conformance_tests {
    ($harness:expr) => {
        $crate::store_conformance_tests!(@one $harness, conformance_absent_create_load, absent_create_load);
        $crate::store_conformance_tests!(@one $harness, conformance_save_replaces, save_replaces);
        $crate::store_conformance_tests!(@one $harness, conformance_clear_then_absent, clear_then_absent);
        $crate::store_conformance_tests!(@one $harness, conformance_namespacing, namespacing);
        $crate::store_conformance_tests!(@one $harness, conformance_concurrent_get_or_create, concurrent_get_or_create);
        $crate::store_conformance_tests!(@one $harness, conformance_failures_never_mint, failures_never_mint);
        $crate::store_conformance_tests!(@one $harness, conformance_spurious_absence_never_replaces, spurious_absence_never_replaces);
    };
    (@one $harness:expr, $test:ident, $check:ident) => {
        #[test]
        fn $test() {
            let harness = $harness;
            if let Err(failure) = $crate::secret_store::conformance::$check(&harness) {
                panic!("{failure}");
            }
        }
    };
}

struct Checker {
    check: &'static str,
}

impl Checker {
    fn fail(&self, message: impl Into<String>) -> ConformanceFailure {
        ConformanceFailure {
            check: self.check,
            message: message.into(),
        }
    }

    fn ok<T>(&self, what: &str, result: Result<T, StoreError>) -> Result<T, ConformanceFailure> {
        result.map_err(|e| self.fail(format!("{what} failed: [{}] {e}", e.code())))
    }

    fn open(
        &self,
        harness: &dyn StoreHarness,
        key: &StorageKey,
    ) -> Result<Box<dyn AuthSecretStore>, ConformanceFailure> {
        self.ok(
            &format!("opening a store for `{key}`"),
            harness.open(key.clone()),
        )
    }

    fn expect_absent(
        &self,
        what: &str,
        store: &dyn AuthSecretStore,
    ) -> Result<(), ConformanceFailure> {
        match self.ok(what, store.load_secret())? {
            None => Ok(()),
            Some(_) => Err(self.fail(format!("{what}: expected no secret, found one"))),
        }
    }

    fn expect_secret(
        &self,
        what: &str,
        store: &dyn AuthSecretStore,
        expected: &Secret,
    ) -> Result<(), ConformanceFailure> {
        match self.ok(what, store.load_secret())? {
            Some(found) if &found == expected => Ok(()),
            Some(_) => Err(self.fail(format!("{what}: found a different secret than expected"))),
            None => Err(self.fail(format!("{what}: expected a secret, found none"))),
        }
    }

    fn same(&self, what: &str, left: &Secret, right: &Secret) -> Result<(), ConformanceFailure> {
        if left == right {
            Ok(())
        } else {
            Err(self.fail(format!("{what}: the secrets differ")))
        }
    }
}

fn check_key(name: &str) -> StorageKey {
    StorageKey::namespaced(Some("conformance"), Some(name), None)
}

fn fresh(checker: &Checker) -> Result<Secret, ConformanceFailure> {
    Secret::generate().map_err(|e| checker.fail(format!("generating a test secret failed: {e}")))
}

/// Absent → `get_or_create_secret` creates → `load_secret` returns the same,
/// a second `get_or_create_secret` returns it again, and so does a store
/// reopened over the same storage (an app restart).
pub fn absent_create_load(harness: &dyn StoreHarness) -> Result<(), ConformanceFailure> {
    let c = Checker {
        check: "absent_create_load",
    };
    let key = check_key("absent-create-load");
    let store = c.open(harness, &key)?;
    if store.storage_key() != key {
        return Err(c.fail(format!(
            "storage_key() is `{}`, opened with `{key}`",
            store.storage_key()
        )));
    }
    c.expect_absent("load on a fresh store", store.as_ref())?;
    let created = c.ok(
        "get_or_create on a fresh store",
        store.get_or_create_secret(),
    )?;
    c.expect_secret("load after get_or_create", store.as_ref(), &created)?;
    let again = c.ok("second get_or_create", store.get_or_create_secret())?;
    c.same(
        "second get_or_create returned a new secret",
        &created,
        &again,
    )?;
    drop(store);

    let reopened = c.open(harness, &key)?;
    c.expect_secret("load from a reopened store", reopened.as_ref(), &created)?;
    let after_restart = c.ok(
        "get_or_create on a reopened store",
        reopened.get_or_create_secret(),
    )?;
    c.same("get_or_create after reopening", &created, &after_restart)
}

/// `save_secret` replaces what was stored (byte for byte, including the all-zero
/// and all-0xff secrets), for this instance, a reopened instance and
/// `get_or_create_secret`.
pub fn save_replaces(harness: &dyn StoreHarness) -> Result<(), ConformanceFailure> {
    let c = Checker {
        check: "save_replaces",
    };
    let key = check_key("save-replaces");
    let store = c.open(harness, &key)?;
    let first = fresh(&c)?;
    c.ok("save of the first secret", store.save_secret(first.clone()))?;
    c.expect_secret("load after the first save", store.as_ref(), &first)?;
    let second = fresh(&c)?;
    c.ok(
        "save of the second secret",
        store.save_secret(second.clone()),
    )?;
    c.expect_secret("load after the second save", store.as_ref(), &second)?;
    let via_goc = c.ok(
        "get_or_create after two saves",
        store.get_or_create_secret(),
    )?;
    c.same("get_or_create after a save", &second, &via_goc)?;
    let reopened = c.open(harness, &key)?;
    c.expect_secret(
        "load from a reopened store after save",
        reopened.as_ref(),
        &second,
    )?;

    for (label, bytes) in [("all-zero", [0u8; 32]), ("all-0xff", [0xffu8; 32])] {
        let edge = Secret::from_bytes(bytes);
        c.ok(
            &format!("save of the {label} secret"),
            store.save_secret(edge.clone()),
        )?;
        c.expect_secret(
            &format!("load of the {label} secret"),
            reopened.as_ref(),
            &edge,
        )?;
    }
    Ok(())
}

/// After `clear_secret`, `load_secret` is absent (also from a reopened store),
/// clearing again succeeds, and `get_or_create_secret` then mints a new secret.
pub fn clear_then_absent(harness: &dyn StoreHarness) -> Result<(), ConformanceFailure> {
    let c = Checker {
        check: "clear_then_absent",
    };
    let key = check_key("clear-then-absent");
    let store = c.open(harness, &key)?;
    c.ok("clear of an absent secret", store.clear_secret())?;
    let original = fresh(&c)?;
    c.ok("save", store.save_secret(original.clone()))?;
    c.expect_secret("load before clear", store.as_ref(), &original)?;
    c.ok("clear", store.clear_secret())?;
    c.expect_absent("load after clear", store.as_ref())?;
    let reopened = c.open(harness, &key)?;
    c.expect_absent("load from a reopened store after clear", reopened.as_ref())?;
    c.ok("second clear", store.clear_secret())?;
    let minted = c.ok("get_or_create after clear", store.get_or_create_secret())?;
    if minted == original {
        return Err(c.fail("get_or_create after clear returned the cleared secret"));
    }
    c.expect_secret(
        "reopened load after get_or_create",
        reopened.as_ref(),
        &minted,
    )
}

/// Stores opened with different storage keys (default, per app, per user, per
/// session, explicit) keep separate secrets; clearing one leaves the others.
pub fn namespacing(harness: &dyn StoreHarness) -> Result<(), ConformanceFailure> {
    let c = Checker {
        check: "namespacing",
    };
    let explicit = StorageKey::explicit("conformance-explicit-key")
        .map_err(|e| c.fail(format!("building an explicit key failed: {e}")))?;
    let keys = [
        StorageKey::default(),
        StorageKey::for_app("conformance-app-a"),
        StorageKey::for_app("conformance-app-b"),
        StorageKey::namespaced(Some("conformance-app-a"), Some("user-1"), None),
        StorageKey::namespaced(Some("conformance-app-a"), Some("user-1"), Some("session 1")),
        explicit,
    ];
    let mut stores = Vec::new();
    for key in &keys {
        let store = c.open(harness, key)?;
        c.expect_absent(&format!("load of `{key}` before any save"), store.as_ref())?;
        let secret = fresh(&c)?;
        c.ok(
            &format!("save under `{key}`"),
            store.save_secret(secret.clone()),
        )?;
        stores.push((key.clone(), store, secret));
    }
    for (key, store, secret) in &stores {
        c.expect_secret(&format!("load under `{key}`"), store.as_ref(), secret)?;
        let reopened = c.open(harness, key)?;
        c.expect_secret(
            &format!("reopened load under `{key}`"),
            reopened.as_ref(),
            secret,
        )?;
    }
    let (cleared_key, cleared, _) = &stores[1];
    c.ok(&format!("clear of `{cleared_key}`"), cleared.clear_secret())?;
    c.expect_absent(
        &format!("load of cleared `{cleared_key}`"),
        cleared.as_ref(),
    )?;
    for (key, store, secret) in stores.iter().filter(|(key, ..)| key != cleared_key) {
        c.expect_secret(
            &format!("load under `{key}` after clearing `{cleared_key}`"),
            store.as_ref(),
            secret,
        )?;
        let via_goc = c.ok(
            &format!("get_or_create under `{key}`"),
            store.get_or_create_secret(),
        )?;
        c.same(&format!("get_or_create under `{key}`"), secret, &via_goc)?;
    }
    Ok(())
}

/// [`RACING_THREADS`] threads, each with its own store instance over the same
/// item, call `get_or_create_secret` at the same moment: all receive the same
/// secret, and it is the one stored.
pub fn concurrent_get_or_create(harness: &dyn StoreHarness) -> Result<(), ConformanceFailure> {
    let c = Checker {
        check: "concurrent_get_or_create",
    };
    let key = check_key("concurrent-get-or-create");
    let mut stores = Vec::with_capacity(RACING_THREADS);
    for _ in 0..RACING_THREADS {
        stores.push(c.open(harness, &key)?);
    }
    let barrier = Arc::new(Barrier::new(RACING_THREADS));
    let results: Vec<Result<Secret, String>> = std::thread::scope(|scope| {
        let handles: Vec<_> = stores
            .iter()
            .map(|store| {
                let barrier = Arc::clone(&barrier);
                scope.spawn(move || {
                    barrier.wait();
                    store
                        .get_or_create_secret()
                        .map_err(|e| format!("[{}] {e}", e.code()))
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|handle| {
                handle
                    .join()
                    .unwrap_or_else(|_| Err("a racing thread panicked".to_owned()))
            })
            .collect()
    });
    let mut first: Option<Secret> = None;
    for (index, result) in results.into_iter().enumerate() {
        let secret =
            result.map_err(|e| c.fail(format!("thread {index}: get_or_create failed: {e}")))?;
        match &first {
            None => first = Some(secret),
            Some(expected) if *expected == secret => {}
            Some(_) => {
                return Err(c.fail(format!(
                    "thread {index} received a different secret: two identities were created"
                )))
            }
        }
    }
    let winner = first.ok_or_else(|| c.fail("no thread ran"))?;
    let reopened = c.open(harness, &key)?;
    c.expect_secret("load after the race", reopened.as_ref(), &winner)
}

/// Every [`StoreError`] kind a backend can report, with a recognisable reason.
pub fn every_error_kind() -> Vec<StoreError> {
    let reason = |kind: &str| format!("injected {kind} fault");
    vec![
        StoreError::Unavailable {
            reason: reason("unavailable"),
        },
        StoreError::KeyInvalidated {
            reason: reason("key-invalidated"),
        },
        StoreError::Corrupted {
            reason: reason("corrupted"),
        },
        StoreError::PermissionDenied {
            reason: reason("permission-denied"),
        },
        StoreError::Io {
            reason: reason("io"),
        },
        StoreError::Backend {
            reason: reason("backend"),
        },
    ]
}

/// Wrapping the backend in a [`FaultInjectingStore`], every error kind injected
/// into `load`, the create (the write of `get_or_create`) or the lock makes `get_or_create_secret` return exactly
/// that error, and the underlying item is left as it was: absent stays absent,
/// an existing secret stays the same.
pub fn failures_never_mint(harness: &dyn StoreHarness) -> Result<(), ConformanceFailure> {
    let c = Checker {
        check: "failures_never_mint",
    };
    for (index, error) in every_error_kind().into_iter().enumerate() {
        let code = error.code();
        let expect_error = |what: &str, result: Result<Secret, StoreError>| match result {
            Err(found) if found == error => Ok(()),
            Err(found) => Err(c.fail(format!(
                "{what}: expected the injected `{code}` error, got [{}] {found}",
                found.code()
            ))),
            Ok(_) => Err(c.fail(format!(
                "{what}: an injected `{code}` error was turned into a secret"
            ))),
        };

        // Nothing stored, the read fails: no secret may be created.
        let key = check_key(&format!("faults-absent-{index}"));
        let faulty = FaultInjectingStore::new(c.open(harness, &key)?);
        faulty.fail_load(Some(error.clone()));
        expect_error(
            &format!("get_or_create with a failing load ({code})"),
            faulty.get_or_create_secret(),
        )?;
        if faulty.save_calls() != 0 || faulty.create_calls() != 0 {
            return Err(c.fail(format!("a failing load ({code}) was followed by a write")));
        }
        let plain = c.open(harness, &key)?;
        c.expect_absent(
            &format!("underlying load after a failing load ({code})"),
            plain.as_ref(),
        )?;

        // A secret is stored, the read fails: it must not be replaced.
        let key = check_key(&format!("faults-present-{index}"));
        let plain = c.open(harness, &key)?;
        let original = fresh(&c)?;
        c.ok(
            "save of the original secret",
            plain.save_secret(original.clone()),
        )?;
        let faulty = FaultInjectingStore::new(c.open(harness, &key)?);
        faulty.fail_load(Some(error.clone()));
        expect_error(
            &format!("get_or_create over a stored secret with a failing load ({code})"),
            faulty.get_or_create_secret(),
        )?;
        c.expect_secret(
            &format!("underlying load after a failing load ({code})"),
            plain.as_ref(),
            &original,
        )?;
        faulty.fail_load(None);
        let recovered = c.ok(
            "get_or_create once the fault is gone",
            faulty.get_or_create_secret(),
        )?;
        c.same(
            "get_or_create once the fault is gone",
            &original,
            &recovered,
        )?;

        // Nothing stored, the write fails: the new secret must not be handed out.
        let key = check_key(&format!("faults-save-{index}"));
        let faulty = FaultInjectingStore::new(c.open(harness, &key)?);
        faulty.fail_create(Some(error.clone()));
        expect_error(
            &format!("get_or_create with a failing write ({code})"),
            faulty.get_or_create_secret(),
        )?;
        let plain = c.open(harness, &key)?;
        c.expect_absent(
            &format!("underlying load after a failing write ({code})"),
            plain.as_ref(),
        )?;

        // The exclusive section cannot be entered: nothing is read or written.
        let faulty = FaultInjectingStore::new(c.open(harness, &key)?);
        faulty.fail_lock(Some(error.clone()));
        expect_error(
            &format!("get_or_create with a failing lock ({code})"),
            faulty.get_or_create_secret(),
        )?;
        if faulty.load_calls() != 0 || faulty.save_calls() != 0 || faulty.create_calls() != 0 {
            return Err(c.fail(format!(
                "a failing lock ({code}) was followed by a load or save"
            )));
        }
        c.expect_absent(
            &format!("underlying load after a failing lock ({code})"),
            plain.as_ref(),
        )?;
    }
    Ok(())
}

/// A load that reports "absent" although a secret is stored (a Keychain read in
/// an app prewarmed before first unlock can do this) must not let
/// `get_or_create_secret` replace that secret: the call returns the stored
/// secret or an error, the store still holds the original afterwards, and once
/// the reads are truthful again `get_or_create_secret` returns the original.
///
/// The wrapper fakes the absence for the first load, then for every load, so a
/// store cannot pass by merely reading twice through the same path.
pub fn spurious_absence_never_replaces(
    harness: &dyn StoreHarness,
) -> Result<(), ConformanceFailure> {
    let c = Checker {
        check: "spurious_absence_never_replaces",
    };
    for (label, loads) in [("one load", 1), ("every load", usize::MAX)] {
        let key = check_key(&format!("spurious-absence-{}", label.replace(' ', "-")));
        let plain = c.open(harness, &key)?;
        let original = fresh(&c)?;
        c.ok(
            "save of the original secret",
            plain.save_secret(original.clone()),
        )?;
        let faulty = FaultInjectingStore::new(c.open(harness, &key)?);
        faulty.fake_absent_loads(loads);
        match faulty.get_or_create_secret() {
            Ok(found) if found == original => {}
            Ok(_) => {
                return Err(c.fail(format!(
                    "with {label} wrongly reporting absence, get_or_create returned a new \
                     secret instead of the stored one"
                )))
            }
            // Refusing is allowed; replacing is not (checked next).
            Err(_) => {}
        }
        c.expect_secret(
            &format!("underlying load after {label} wrongly reported absence"),
            plain.as_ref(),
            &original,
        )
        .map_err(|failure| {
            c.fail(format!(
                "{} (the stored secret was replaced)",
                failure.message
            ))
        })?;
        faulty.fake_absent_loads(0);
        let recovered = c.ok(
            "get_or_create once loads are truthful again",
            faulty.get_or_create_secret(),
        )?;
        c.same(
            "get_or_create once loads are truthful again",
            &original,
            &recovered,
        )?;
    }
    Ok(())
}

#[derive(Default)]
struct Faults {
    load: Option<StoreError>,
    save: Option<StoreError>,
    create: Option<StoreError>,
    clear: Option<StoreError>,
    lock: Option<StoreError>,
    absent_loads: usize,
    load_calls: usize,
    save_calls: usize,
    create_calls: usize,
    clear_calls: usize,
}

/// Wraps a store and makes chosen operations fail with chosen errors, counting
/// the calls that reach it. Faults stay until reset with `None`.
///
/// The wrapper shares the inner store's lock scope and lock, so it takes part
/// in the same exclusive section as unwrapped instances over the same item.
pub struct FaultInjectingStore<S: ?Sized = dyn AuthSecretStore> {
    faults: Mutex<Faults>,
    inner: Box<S>,
}

impl<S: AuthSecretStore + ?Sized> FaultInjectingStore<S> {
    /// Wraps `inner`, initially without faults.
    pub fn new(inner: Box<S>) -> FaultInjectingStore<S> {
        FaultInjectingStore {
            faults: Mutex::new(Faults::default()),
            inner,
        }
    }

    /// Counts a call and returns the fault to inject for it, if any, with the
    /// registry lock released before the caller touches the wrapped store.
    fn call(
        &self,
        count_and_pick: impl FnOnce(&mut Faults) -> Option<StoreError>,
    ) -> Option<StoreError> {
        count_and_pick(&mut self.faults())
    }

    fn faults(&self) -> std::sync::MutexGuard<'_, Faults> {
        // The guarded data is plain counters and options: still valid after a panic.
        self.faults.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Makes `load_secret` fail with `error` (or succeed again with `None`).
    pub fn fail_load(&self, error: Option<StoreError>) {
        self.faults().load = error;
    }

    /// Makes the next `loads` calls of `load_secret` report `Ok(None)` without
    /// asking the wrapped store, whatever it holds (`usize::MAX`: every call;
    /// `0`: none). Models a backend whose read wrongly reports absence. An
    /// injected load error takes precedence.
    pub fn fake_absent_loads(&self, loads: usize) {
        self.faults().absent_loads = loads;
    }

    /// Makes `save_secret` fail with `error` (or succeed again with `None`).
    pub fn fail_save(&self, error: Option<StoreError>) {
        self.faults().save = error;
    }

    /// Makes `create_secret` (the write of `get_or_create_secret`) fail with
    /// `error` (or reach the wrapped store again with `None`).
    pub fn fail_create(&self, error: Option<StoreError>) {
        self.faults().create = error;
    }

    /// Makes `clear_secret` fail with `error` (or succeed again with `None`).
    pub fn fail_clear(&self, error: Option<StoreError>) {
        self.faults().clear = error;
    }

    /// Makes `lock_exclusive` fail with `error` (or succeed again with `None`).
    pub fn fail_lock(&self, error: Option<StoreError>) {
        self.faults().lock = error;
    }

    /// How many times `load_secret` was called (failed calls included).
    pub fn load_calls(&self) -> usize {
        self.faults().load_calls
    }

    /// How many times `save_secret` was called (failed calls included).
    pub fn save_calls(&self) -> usize {
        self.faults().save_calls
    }

    /// How many times `create_secret` was called (failed calls included).
    pub fn create_calls(&self) -> usize {
        self.faults().create_calls
    }

    /// How many times `clear_secret` was called (failed calls included).
    pub fn clear_calls(&self) -> usize {
        self.faults().clear_calls
    }

    /// The wrapped store.
    pub fn inner(&self) -> &S {
        &self.inner
    }
}

impl<S: AuthSecretStore + ?Sized> AuthSecretStore for FaultInjectingStore<S> {
    fn storage_key(&self) -> StorageKey {
        self.inner.storage_key()
    }

    fn load_secret(&self) -> Result<Option<Secret>, StoreError> {
        let (fault, absent) = {
            let mut faults = self.faults();
            faults.load_calls += 1;
            let absent = faults.absent_loads > 0;
            if absent && faults.load.is_none() && faults.absent_loads != usize::MAX {
                faults.absent_loads -= 1;
            }
            (faults.load.clone(), absent)
        };
        match fault {
            Some(error) => Err(error),
            None if absent => Ok(None),
            None => self.inner.load_secret(),
        }
    }

    fn save_secret(&self, secret: Secret) -> Result<(), StoreError> {
        let fault = self.call(|f| {
            f.save_calls += 1;
            f.save.clone()
        });
        fault.map_or_else(|| self.inner.save_secret(secret), Err)
    }

    /// Forwards to the wrapped store's own `create_secret`, so its
    /// no-overwrite guarantee (not this wrapper's faked loads) decides.
    fn create_secret(&self, secret: Secret) -> Result<Secret, StoreError> {
        let fault = self.call(|f| {
            f.create_calls += 1;
            f.create.clone()
        });
        fault.map_or_else(|| self.inner.create_secret(secret), Err)
    }

    fn clear_secret(&self) -> Result<(), StoreError> {
        let fault = self.call(|f| {
            f.clear_calls += 1;
            f.clear.clone()
        });
        fault.map_or_else(|| self.inner.clear_secret(), Err)
    }

    fn lock_scope(&self) -> String {
        self.inner.lock_scope()
    }

    fn lock_exclusive(&self) -> Result<StoreLock, StoreError> {
        let fault = self.call(|f| f.lock.clone());
        fault.map_or_else(|| self.inner.lock_exclusive(), Err)
    }
}

impl<S: ?Sized> std::fmt::Debug for FaultInjectingStore<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FaultInjectingStore")
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::secret_store::MemoryStore;
    use std::sync::atomic::{AtomicUsize, Ordering};

    fn memory_harness() -> impl Fn(StorageKey) -> Result<Box<dyn AuthSecretStore>, StoreError> {
        let root = MemoryStore::default();
        move |key| Ok(Box::new(root.sibling(key)) as Box<dyn AuthSecretStore>)
    }

    crate::store_conformance_tests!(memory_harness());

    /// A store that forgets everything: each open gets fresh memory, so a
    /// reopened store never sees what was saved.
    fn amnesiac_harness() -> impl Fn(StorageKey) -> Result<Box<dyn AuthSecretStore>, StoreError> {
        |key| Ok(Box::new(MemoryStore::new(key)) as Box<dyn AuthSecretStore>)
    }

    /// Maps every load error to "absent", the bug the suite exists to catch.
    struct SwallowsErrors(Box<dyn AuthSecretStore>);

    impl AuthSecretStore for SwallowsErrors {
        fn storage_key(&self) -> StorageKey {
            self.0.storage_key()
        }
        fn load_secret(&self) -> Result<Option<Secret>, StoreError> {
            Ok(self.0.load_secret().ok().flatten())
        }
        fn save_secret(&self, secret: Secret) -> Result<(), StoreError> {
            self.0.save_secret(secret)
        }
        fn clear_secret(&self) -> Result<(), StoreError> {
            self.0.clear_secret()
        }
        fn lock_scope(&self) -> String {
            self.0.lock_scope()
        }
    }

    /// Has no working exclusive section: every lock gets its own scope. Its
    /// loads wait for each other in two rounds of [`RACING_THREADS`] (the load of
    /// `get_or_create` and the second read of the default `create_secret`), so
    /// all racing threads read "absent" twice before any of them writes: a
    /// deterministic race.
    struct Unlocked {
        inner: MemoryStore,
        loads: Arc<(AtomicUsize, Barrier)>,
    }

    static SCOPES: AtomicUsize = AtomicUsize::new(0);

    impl AuthSecretStore for Unlocked {
        fn storage_key(&self) -> StorageKey {
            self.inner.storage_key()
        }
        fn load_secret(&self) -> Result<Option<Secret>, StoreError> {
            let found = self.inner.load_secret();
            let (count, barrier) = &*self.loads;
            if count.fetch_add(1, Ordering::SeqCst) < 2 * RACING_THREADS {
                barrier.wait();
            }
            found
        }
        fn save_secret(&self, secret: Secret) -> Result<(), StoreError> {
            self.inner.save_secret(secret)
        }
        fn clear_secret(&self) -> Result<(), StoreError> {
            self.inner.clear_secret()
        }
        fn lock_scope(&self) -> String {
            format!("unlocked:{}", SCOPES.fetch_add(1, Ordering::SeqCst))
        }
    }

    /// Writes the new secret of `get_or_create` with a replacing save: the
    /// defect that let a spurious "not found" destroy an identity.
    struct OverwritesOnCreate(MemoryStore);

    impl AuthSecretStore for OverwritesOnCreate {
        fn storage_key(&self) -> StorageKey {
            self.0.storage_key()
        }
        fn load_secret(&self) -> Result<Option<Secret>, StoreError> {
            self.0.load_secret()
        }
        fn save_secret(&self, secret: Secret) -> Result<(), StoreError> {
            self.0.save_secret(secret)
        }
        fn create_secret(&self, secret: Secret) -> Result<Secret, StoreError> {
            self.0.save_secret(secret.clone())?;
            Ok(secret)
        }
        fn clear_secret(&self) -> Result<(), StoreError> {
            self.0.clear_secret()
        }
        fn lock_scope(&self) -> String {
            self.0.lock_scope()
        }
    }

    #[test]
    fn suite_detects_a_store_that_overwrites_on_create() {
        let root = MemoryStore::default();
        let harness = move |key| {
            Ok(Box::new(OverwritesOnCreate(root.sibling(key))) as Box<dyn AuthSecretStore>)
        };
        // Every other check passes: only the spurious-absence check sees the defect.
        for (name, check) in CHECKS {
            if *name != "spurious_absence_never_replaces" {
                check(&harness).unwrap();
            }
        }
        let failure = spurious_absence_never_replaces(&harness).unwrap_err();
        assert_eq!(failure.check, "spurious_absence_never_replaces");
        assert!(failure.message.contains("new secret"), "{failure}");
    }

    #[test]
    fn default_create_keeps_what_is_stored() {
        let store = MemoryStore::default();
        let first = Secret::from_bytes([1u8; 32]);
        assert_eq!(store.create_secret(first.clone()).unwrap(), first);
        let second = Secret::from_bytes([2u8; 32]);
        assert_eq!(store.create_secret(second).unwrap(), first);
        assert_eq!(store.load_secret().unwrap(), Some(first));
    }

    #[test]
    fn run_all_passes_on_memory() {
        run_all(&memory_harness()).unwrap();
    }

    #[test]
    fn suite_detects_a_store_that_forgets() {
        let failure = absent_create_load(&amnesiac_harness()).unwrap_err();
        assert_eq!(failure.check, "absent_create_load");
        assert!(failure.message.contains("reopened"), "{failure}");
    }

    #[test]
    fn suite_detects_a_store_that_swallows_errors() {
        let root = MemoryStore::default();
        let harness = move |key| {
            let inner =
                FaultInjectingStore::new(Box::new(root.sibling(key)) as Box<dyn AuthSecretStore>);
            inner.fail_load(Some(StoreError::Unavailable {
                reason: "locked".into(),
            }));
            Ok(Box::new(SwallowsErrors(Box::new(inner))) as Box<dyn AuthSecretStore>)
        };
        // The store under test hides the errors of the failing backend it wraps.
        // Its stored secret reads as absent, which the suite reports.
        let failure = failures_never_mint(&harness).unwrap_err();
        assert_eq!(failure.check, "failures_never_mint");
        assert!(failure.message.contains("found none"), "{failure}");
    }

    #[test]
    fn suite_detects_a_store_without_mutual_exclusion() {
        let root = MemoryStore::default();
        let loads = Arc::new((AtomicUsize::new(0), Barrier::new(RACING_THREADS)));
        let harness = move |key: StorageKey| {
            Ok(Box::new(Unlocked {
                inner: root.sibling(key),
                loads: Arc::clone(&loads),
            }) as Box<dyn AuthSecretStore>)
        };
        let failure = concurrent_get_or_create(&harness).unwrap_err();
        assert!(failure.message.contains("two identities"), "{failure}");
    }

    #[test]
    fn fault_wrapper_counts_and_resets() {
        let store =
            FaultInjectingStore::new(Box::new(MemoryStore::default()) as Box<dyn AuthSecretStore>);
        store.fail_clear(Some(StoreError::Io { reason: "x".into() }));
        assert_eq!(store.clear_secret().unwrap_err().code(), "secret-store-io");
        store.fail_clear(None);
        store.clear_secret().unwrap();
        assert_eq!(store.clear_calls(), 2);
        store.fail_create(Some(StoreError::Unavailable { reason: "x".into() }));
        let secret = Secret::from_bytes([4u8; 32]);
        assert_eq!(
            store.create_secret(secret.clone()).unwrap_err().code(),
            "secret-store-unavailable"
        );
        store.fail_create(None);
        assert_eq!(store.create_secret(secret.clone()).unwrap(), secret);
        assert_eq!(store.create_calls(), 2);
        assert_eq!(store.save_calls(), 0);
        store.fake_absent_loads(1);
        assert_eq!(store.load_secret().unwrap(), None);
        assert_eq!(store.load_secret().unwrap(), Some(secret.clone()));
        store.fake_absent_loads(usize::MAX);
        for _ in 0..3 {
            assert_eq!(store.load_secret().unwrap(), None);
        }
        assert_eq!(store.inner().load_secret().unwrap(), Some(secret));
        store.fake_absent_loads(0);
        store.clear_secret().unwrap();
        assert_eq!(store.load_secret().unwrap(), None);
        assert_eq!(store.load_calls(), 6);
        assert_eq!(every_error_kind().len(), 6);
    }
}
