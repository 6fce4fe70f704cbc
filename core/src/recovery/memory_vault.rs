//! An in-memory [`SecretVault`] with injectable faults, for tests of the vault
//! flow (here and in other crates). Behind the `testing` feature.

use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use super::vault::{SecretVault, VaultAccessError, VaultFuture, VaultValue};

/// How a [`MemoryVault`] misbehaves.
#[derive(Debug, Clone, Default)]
pub struct VaultFaults {
    /// `load` fails with this message.
    pub load_error: Option<String>,
    /// `store` fails with this message.
    pub store_error: Option<String>,
    /// `load` never completes.
    pub hang_load: bool,
    /// `store` never completes.
    pub hang_store: bool,
    /// `store` answers `Ok` but keeps nothing.
    pub drop_writes: bool,
    /// `store` keeps this value instead of the one given (another device won a race).
    pub store_instead: Option<VaultValue>,
}

/// A vault in process memory. Clones share contents, faults and counters.
#[derive(Debug, Clone, Default)]
pub struct MemoryVault {
    state: Arc<Mutex<State>>,
}

#[derive(Debug, Default)]
struct State {
    value: Option<VaultValue>,
    faults: VaultFaults,
    loads: usize,
    stores: usize,
}

impl MemoryVault {
    /// An empty vault.
    pub fn new() -> MemoryVault {
        MemoryVault::default()
    }

    /// A vault holding `value`.
    pub fn holding(value: VaultValue) -> MemoryVault {
        let vault = MemoryVault::new();
        vault.state().value = Some(value);
        vault
    }

    /// What the vault holds now.
    pub fn value(&self) -> Option<VaultValue> {
        self.state().value.clone()
    }

    /// Replaces the faults.
    pub fn set_faults(&self, faults: VaultFaults) {
        self.state().faults = faults;
    }

    /// Calls of `load` so far.
    pub fn loads(&self) -> usize {
        self.state().loads
    }

    /// Calls of `store` so far.
    pub fn stores(&self) -> usize {
        self.state().stores
    }

    fn state(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl SecretVault for MemoryVault {
    fn load(&self) -> VaultFuture<Option<VaultValue>> {
        let mut state = self.state();
        state.loads += 1;
        if state.faults.hang_load {
            return Box::pin(std::future::pending());
        }
        let result = match &state.faults.load_error {
            Some(reason) => Err(VaultAccessError::new(reason.clone())),
            None => Ok(state.value.clone()),
        };
        Box::pin(std::future::ready(result))
    }

    fn store(&self, value: VaultValue) -> VaultFuture<()> {
        let mut state = self.state();
        state.stores += 1;
        if state.faults.hang_store {
            return Box::pin(std::future::pending());
        }
        if let Some(reason) = &state.faults.store_error {
            return Box::pin(std::future::ready(Err(VaultAccessError::new(
                reason.clone(),
            ))));
        }
        if !state.faults.drop_writes {
            state.value = Some(state.faults.store_instead.clone().unwrap_or(value));
        }
        Box::pin(std::future::ready(Ok(())))
    }
}
