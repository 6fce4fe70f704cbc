//! An in-memory model of the Keychain's generic-password semantics, for tests.
//!
//! It reproduces what the store's logic depends on: items identified by
//! service + account + access group, `errSecDuplicateItem` on a second add and
//! the update that follows, label-constrained searches, entitlement checks on
//! access groups, data that cannot be read while the device is locked (by
//! accessibility class) or when the user cancels a presence prompt, reads
//! that report `errSecItemNotFound` although the item exists (as in an app
//! prewarmed before first unlock), and a process that dies after a given
//! number of writes. It keeps no secrets safe and must never back a real app.

use std::sync::{Mutex, MutexGuard};

use zeroize::Zeroizing;

use super::{status, Accessibility, ItemQuery, KeychainBackend, NewItem};

/// The lock state of the simulated device.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum DeviceState {
    /// Unlocked: everything is readable.
    #[default]
    Unlocked,
    /// Locked after having been unlocked once since boot: only
    /// after-first-unlock items are readable or writable.
    Locked,
    /// Booted and never unlocked (or an app prewarmed early): nothing is.
    BeforeFirstUnlock,
}

/// What is known about a stored item, without its data.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SimulatedItem {
    /// Service name.
    pub service: String,
    /// Account (the storage key).
    pub account: String,
    /// Access group the item lives in.
    pub access_group: String,
    /// Label, if any.
    pub label: Option<String>,
    /// Accessibility of its access control.
    pub accessibility: Accessibility,
    /// Whether reading requires user presence.
    pub user_presence: bool,
}

struct Item {
    meta: SimulatedItem,
    data: Zeroizing<Vec<u8>>,
}

#[derive(Default)]
struct State {
    items: Vec<Item>,
    device: DeviceState,
    presence_refused: bool,
    fail_all: Option<i32>,
    spurious_data_reads: usize,
    spurious_attribute_reads: usize,
    writes_left: Option<usize>,
    dead: bool,
    log: Vec<String>,
}

/// A simulated Keychain. See the module documentation.
pub struct SimulatedKeychain {
    state: Mutex<State>,
    default_group: String,
    groups: Vec<String>,
}

impl Default for SimulatedKeychain {
    fn default() -> SimulatedKeychain {
        SimulatedKeychain::with_access_groups("TEAMID.app", &[])
    }
}

impl SimulatedKeychain {
    /// An empty, unlocked keychain whose app may use only its default group.
    pub fn new() -> SimulatedKeychain {
        SimulatedKeychain::default()
    }

    /// An empty keychain whose app is entitled to `default_group` (used when
    /// an add names no group) and to `shared`.
    pub fn with_access_groups(default_group: &str, shared: &[&str]) -> SimulatedKeychain {
        let mut groups = vec![default_group.to_owned()];
        groups.extend(shared.iter().map(|g| (*g).to_owned()));
        SimulatedKeychain {
            state: Mutex::new(State::default()),
            default_group: default_group.to_owned(),
            groups,
        }
    }

    fn state(&self) -> MutexGuard<'_, State> {
        // Plain data, consistent after any panic elsewhere.
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Locks or unlocks the simulated device.
    pub fn set_device_state(&self, device: DeviceState) {
        self.state().device = device;
    }

    /// Makes the user cancel (`true`) or accept (`false`) presence prompts.
    pub fn set_presence_refused(&self, refused: bool) {
        self.state().presence_refused = refused;
    }

    /// Makes every call fail with `code` (or work again with `None`).
    pub fn fail_all(&self, code: Option<i32>) {
        self.state().fail_all = code;
    }

    /// Makes the next `data_reads` data reads (`copy_data`) and the next
    /// `attribute_reads` attribute lookups (`exists`) report
    /// `errSecItemNotFound` whether or not a matching item exists, as the
    /// Keychain of a prewarmed app or a device before first unlock may do.
    /// `usize::MAX` keeps it up for good; `0, 0`
    /// ends it.
    pub fn spurious_not_found(&self, data_reads: usize, attribute_reads: usize) {
        let mut state = self.state();
        state.spurious_data_reads = data_reads;
        state.spurious_attribute_reads = attribute_reads;
    }

    /// Lets `writes` more adds/deletes succeed, then "kills the process":
    /// every later call fails with `errSecIO` until reset with `None`.
    pub fn die_after_writes(&self, writes: Option<usize>) {
        let mut state = self.state();
        state.writes_left = writes;
        state.dead = false;
    }

    /// Stores an item directly, as another program would (e.g. data written by
    /// another library, or damaged data).
    pub fn insert_raw(&self, item: SimulatedItem, data: &[u8]) {
        self.state().items.push(Item {
            meta: item,
            data: Zeroizing::new(data.to_vec()),
        });
    }

    /// The stored items, without their data.
    pub fn items(&self) -> Vec<SimulatedItem> {
        self.state()
            .items
            .iter()
            .map(|item| item.meta.clone())
            .collect()
    }

    /// The operations performed so far (`copy`, `exists`, `add` (both kinds),
    /// `update` (after a duplicate `add_or_update`), `delete`, with their service
    /// and account), oldest first.
    pub fn operations(&self) -> Vec<String> {
        self.state().log.clone()
    }

    fn matches(item: &SimulatedItem, query: &ItemQuery) -> bool {
        item.service == query.service
            && item.account == query.account
            && query
                .access_group
                .as_ref()
                .is_none_or(|g| *g == item.access_group)
            && query
                .label
                .as_ref()
                .is_none_or(|l| item.label.as_ref() == Some(l))
    }

    fn enter(
        &self,
        op: &str,
        query: &ItemQuery,
        write: bool,
    ) -> Result<MutexGuard<'_, State>, i32> {
        let mut state = self.state();
        state
            .log
            .push(format!("{op} {}/{}", query.service, query.account));
        if state.dead {
            return Err(status::IO);
        }
        if let Some(code) = state.fail_all {
            return Err(code);
        }
        if write {
            match state.writes_left {
                Some(0) => {
                    state.dead = true;
                    return Err(status::IO);
                }
                Some(n) => state.writes_left = Some(n - 1),
                None => {}
            }
        }
        Ok(state)
    }

    /// The access group an add of `item` writes to, if the app is entitled to it.
    fn add_group(&self, item: &NewItem) -> Result<String, i32> {
        let group = item
            .query
            .access_group
            .clone()
            .unwrap_or_else(|| self.default_group.clone());
        if self.groups.contains(&group) {
            Ok(group)
        } else {
            Err(status::MISSING_ENTITLEMENT)
        }
    }

    /// Whether an add of `item` into `group` collides with a stored item (the
    /// Keychain's uniqueness: class, service, account, access group).
    fn duplicate(state: &State, item: &NewItem, group: &str) -> bool {
        state.items.iter().any(|existing| {
            existing.meta.service == item.query.service
                && existing.meta.account == item.query.account
                && existing.meta.access_group == group
        })
    }

    fn push(state: &mut State, item: &NewItem, group: String, data: &[u8]) {
        state.items.push(Item {
            meta: SimulatedItem {
                service: item.query.service.clone(),
                account: item.query.account.clone(),
                access_group: group,
                label: item.query.label.clone(),
                accessibility: item.accessibility,
                user_presence: item.user_presence,
            },
            data: Zeroizing::new(data.to_vec()),
        });
    }

    fn accessible(device: DeviceState, accessibility: Accessibility) -> Result<(), i32> {
        match device {
            DeviceState::Unlocked => Ok(()),
            DeviceState::Locked if !accessibility.needs_unlocked_device() => Ok(()),
            _ => Err(status::INTERACTION_NOT_ALLOWED),
        }
    }
}

impl std::fmt::Debug for SimulatedKeychain {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SimulatedKeychain")
            .field("items", &self.items())
            .finish_non_exhaustive()
    }
}

impl KeychainBackend for SimulatedKeychain {
    fn copy_data(&self, query: &ItemQuery) -> Result<Zeroizing<Vec<u8>>, i32> {
        let mut state = self.enter("copy", query, false)?;
        if state.spurious_data_reads > 0 {
            state.spurious_data_reads -= 1;
            return Err(status::ITEM_NOT_FOUND);
        }
        let item = state
            .items
            .iter()
            .find(|item| Self::matches(&item.meta, query))
            .ok_or(status::ITEM_NOT_FOUND)?;
        Self::accessible(state.device, item.meta.accessibility)?;
        if item.meta.user_presence && state.presence_refused {
            return Err(status::USER_CANCELED);
        }
        Ok(item.data.clone())
    }

    fn exists(&self, query: &ItemQuery) -> Result<(), i32> {
        let mut state = self.enter("exists", query, false)?;
        if state.spurious_attribute_reads > 0 {
            state.spurious_attribute_reads -= 1;
            return Err(status::ITEM_NOT_FOUND);
        }
        if state.device == DeviceState::BeforeFirstUnlock {
            return Err(status::INTERACTION_NOT_ALLOWED);
        }
        if state
            .items
            .iter()
            .any(|item| Self::matches(&item.meta, query))
        {
            Ok(())
        } else {
            Err(status::ITEM_NOT_FOUND)
        }
    }

    fn add_or_update(&self, item: &NewItem, data: &[u8]) -> Result<(), i32> {
        let mut state = self.enter("add", &item.query, true)?;
        let group = self.add_group(item)?;
        Self::accessible(state.device, item.accessibility)?;
        if Self::duplicate(&state, item, &group) {
            // What security-framework does next: update the data of the item
            // matching the add's attributes (label included).
            state.log.push(format!(
                "update {}/{}",
                item.query.service, item.query.account
            ));
            let query = ItemQuery {
                access_group: Some(group),
                ..item.query.clone()
            };
            let target = state
                .items
                .iter_mut()
                .find(|existing| Self::matches(&existing.meta, &query))
                .ok_or(status::ITEM_NOT_FOUND)?;
            target.data = Zeroizing::new(data.to_vec());
            return Ok(());
        }
        Self::push(&mut state, item, group, data);
        Ok(())
    }

    fn add_only(&self, item: &NewItem, data: &[u8]) -> Result<(), i32> {
        let mut state = self.enter("add", &item.query, true)?;
        let group = self.add_group(item)?;
        Self::accessible(state.device, item.accessibility)?;
        if Self::duplicate(&state, item, &group) {
            return Err(status::DUPLICATE_ITEM);
        }
        Self::push(&mut state, item, group, data);
        Ok(())
    }

    fn delete(&self, query: &ItemQuery) -> Result<(), i32> {
        let mut state = self.enter("delete", query, true)?;
        let before = state.items.len();
        state.items.retain(|item| !Self::matches(&item.meta, query));
        if state.items.len() == before {
            Err(status::ITEM_NOT_FOUND)
        } else {
            Ok(())
        }
    }
}
