//! Recovery beyond the phrase: the core's passkey request builder and checks
//! ([`passkey`]) and the provider-held vault flow ([`vault`]). Type conversion
//! only; the hand-written `PasskeyBackup` of the Swift package and the Android
//! library drives the platform's passkey API with these.

pub mod passkey;
pub mod vault;
