//! Recovery beyond the phrase: a [`passkey`] backup (Jazz's browser scheme, so one
//! passkey serves web and mobile) and a provider-held [`vault`].
//!
//! Both keep the same 32-byte secret the recovery phrase encodes, so every method
//! restores the same user id; docs/RECOVERY.md compares them and describes how to
//! combine them.

#[cfg(any(test, feature = "testing"))]
pub mod memory_vault;
pub mod passkey;
pub mod vault;
