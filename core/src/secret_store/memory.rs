//! An in-memory secret store: for tests, previews and anonymous-by-design apps.
//! Its contents vanish with the process.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use super::{AuthSecretStore, StorageKey, StoreError};
use crate::secret::Secret;

type Shelf = Arc<Mutex<HashMap<StorageKey, Secret>>>;

/// Keeps secrets in process memory. Clones share the same contents; stores made
/// with [`MemoryStore::sibling`] share contents under another key.
#[derive(Clone, Default)]
pub struct MemoryStore {
    key: StorageKey,
    shelf: Shelf,
}

impl MemoryStore {
    /// An empty store bound to `key`.
    pub fn new(key: StorageKey) -> MemoryStore {
        MemoryStore {
            key,
            shelf: Shelf::default(),
        }
    }

    /// A store over the same memory, bound to another key.
    pub fn sibling(&self, key: StorageKey) -> MemoryStore {
        MemoryStore {
            key,
            shelf: Arc::clone(&self.shelf),
        }
    }

    fn shelf(&self) -> Result<std::sync::MutexGuard<'_, HashMap<StorageKey, Secret>>, StoreError> {
        self.shelf.lock().map_err(|_| StoreError::Backend {
            reason: "memory store lock poisoned".into(),
        })
    }
}

impl std::fmt::Debug for MemoryStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MemoryStore")
            .field("key", &self.key)
            .finish_non_exhaustive()
    }
}

impl AuthSecretStore for MemoryStore {
    fn storage_key(&self) -> StorageKey {
        self.key.clone()
    }

    fn load_secret(&self) -> Result<Option<Secret>, StoreError> {
        Ok(self.shelf()?.get(&self.key).cloned())
    }

    fn save_secret(&self, secret: Secret) -> Result<(), StoreError> {
        self.shelf()?.insert(self.key.clone(), secret);
        Ok(())
    }

    fn clear_secret(&self) -> Result<(), StoreError> {
        self.shelf()?.remove(&self.key);
        Ok(())
    }

    fn lock_scope(&self) -> String {
        format!("memory:{:p}:{}", Arc::as_ptr(&self.shelf), self.key)
    }
}
