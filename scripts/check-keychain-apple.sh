#!/usr/bin/env bash
# Type-checks the Apple-only Keychain layer (core/src/secret_store/keychain/apple.rs)
# on a machine without an Apple toolchain.
#
# security-framework compiles only for target_vendor = "apple". This script
# copies the locked version of its source, removes that crate-level cfg, and
# `cargo check`s apple.rs against it in a scratch crate. What it proves: the
# calls, types and signatures used exist as written (as on iOS; the one
# macOS-only call is not checked). What it cannot prove: behaviour on a device.
set -euo pipefail
cd "$(dirname "$0")/.."
root="$(pwd)"

version="$(awk '/^name = "security-framework"$/ { getline; gsub(/version = |"/, ""); print; exit }' Cargo.lock)"
[ -n "$version" ] || { echo "security-framework is not in Cargo.lock" >&2; exit 1; }
cf_version="$(awk '/^name = "core-foundation"$/ { getline; gsub(/version = |"/, ""); print; exit }' Cargo.lock)"
[ -n "$cf_version" ] || { echo "core-foundation is not in Cargo.lock" >&2; exit 1; }
cargo fetch --locked >/dev/null
cargo_home="${CARGO_HOME:-$HOME/.cargo}"
src="$(find "$cargo_home/registry/src" -maxdepth 2 -type d -name "security-framework-$version" | head -n 1)"
[ -n "$src" ] || { echo "source of security-framework $version not found" >&2; exit 1; }

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
cp -r "$src" "$work/security-framework"
sed -i 's/^#!\[cfg(target_vendor = "apple")\]$//' "$work/security-framework/src/lib.rs"
mkdir -p "$work/check/src"
cat >"$work/check/Cargo.toml" <<EOF
[package]
name = "keychain-apple-check"
version = "0.0.0"
edition = "2021"
publish = false

[dependencies]
localfirst-core = { path = "$root/core" }
security-framework = { version = "=$version", features = ["OSX_10_15"] }
core-foundation = "=$cf_version"
zeroize = "1"

[patch.crates-io]
security-framework = { path = "$work/security-framework" }

[workspace]
EOF
cat >"$work/check/src/lib.rs" <<EOF
#![deny(warnings)]
pub mod keychain {
    pub use localfirst_core::secret_store::keychain::{Accessibility, ItemQuery, KeychainBackend, NewItem};
    #[path = "$root/core/src/secret_store/keychain/apple.rs"]
    pub mod apple;
}
pub fn backend() -> impl localfirst_core::secret_store::keychain::KeychainBackend {
    keychain::apple::SystemKeychain
}
EOF
(cd "$work/check" && CARGO_TARGET_DIR="$root/target/keychain-apple-check" cargo check --quiet)
echo "apple.rs type-checks against security-framework $version"
