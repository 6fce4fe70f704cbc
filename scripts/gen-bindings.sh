#!/usr/bin/env bash
# Builds the host bindings library (debug, unstripped: UniFFI reads its metadata
# from the symbols) and generates the foreign sources from it with the
# workspace's own `uniffi-bindgen` (same pinned UniFFI version as the library):
#
#   android-lib/jvm/target/generated/kotlin   Kotlin, android = false (desktop-JVM tests)
#   android-lib/build/generated/uniffi/kotlin Kotlin, android = true  (the AAR)
#   swift-package/Sources/LocalFirstFFI/      C header + module map (Linux system library)
#   swift-package/Sources/LocalFirst/Generated/LocalFirst.swift
#
# Generated sources are build products, never committed (.gitignore); see
# docs/BINDINGS.md. Names come from the root uniffi.toml: UniFFI 0.32's --config
# takes a global file ([defaults], [crates.<name>]), so the script turns the root
# file's [bindings.*] tables into [defaults.bindings.*] tables of a temporary one.
#
# Two flavours, and sources must come from a library of the flavour they run with:
# the shipped one (default: no test code) and, with --testing, the test one (the
# `testing` feature: the conformance suite and KeystoreSecretStore.withDesktopKeystore,
# for the desktop-JVM suite and the Swift tests on Linux).
# Usage: scripts/gen-bindings.sh [--release] [--testing]
set -euo pipefail
cd "$(dirname "$0")/.."

profile=debug
cargo_flags=()
flavour=shipped
for arg in "$@"; do
  case "$arg" in
    --release) profile=release; cargo_flags+=(--release) ;;
    --testing) flavour=testing; cargo_flags+=(--features testing) ;;
    *) echo "usage: scripts/gen-bindings.sh [--release] [--testing]" >&2; exit 2 ;;
  esac
done

cargo build -p localfirst-ffi --lib --bin uniffi-bindgen --locked ${cargo_flags[@]+"${cargo_flags[@]}"}

target_dir="${CARGO_TARGET_DIR:-target}"
lib="$target_dir/$profile/liblocalfirst_ffi.so"
[ "$(uname -s)" = "Darwin" ] && lib="$target_dir/$profile/liblocalfirst_ffi.dylib"
bindgen="$target_dir/$profile/uniffi-bindgen"
[ -f "$lib" ] || { echo "missing $lib" >&2; exit 1; }

gen() { "$bindgen" generate "$lib" --no-format --config "$1" --language "$2" --out-dir "$3"; }

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
sed 's/^\[bindings\./[defaults.bindings./' uniffi.toml >"$work/desktop.toml"
sed '/^\[defaults.bindings.kotlin\]/a android = true\nandroid_cleaner = true' \
  "$work/desktop.toml" >"$work/android.toml"

# Kotlin for the desktop JVM (android = false).
jvm_out=android-lib/jvm/target/generated/kotlin
rm -rf "$jvm_out" && mkdir -p "$jvm_out"
gen "$work/desktop.toml" kotlin "$jvm_out"

# Kotlin for Android: the same names plus android = true (androidx annotations,
# android.system.SystemCleaner).
android_out=android-lib/build/generated/uniffi/kotlin
rm -rf "$android_out" && mkdir -p "$android_out"
gen "$work/android.toml" kotlin "$android_out"

# Swift: the generated Swift goes to the LocalFirst target, the C header and the
# module map to the LocalFirstFFI system-library target.
swift_tmp="$work/swift"
gen "$work/desktop.toml" swift "$swift_tmp"
mkdir -p swift-package/Sources/LocalFirst/Generated swift-package/Sources/LocalFirstFFI
cp "$swift_tmp/LocalFirst.swift" swift-package/Sources/LocalFirst/Generated/LocalFirst.swift
cp "$swift_tmp/LocalFirstFFI.h" swift-package/Sources/LocalFirstFFI/LocalFirstFFI.h
# The system-library target (Linux) links the host library by name; UniFFI's own
# module map (used in the XCFramework by build-xcframework.sh) names Darwin modules.
cat >swift-package/Sources/LocalFirstFFI/module.modulemap <<'MODULEMAP'
module LocalFirstFFI {
    header "LocalFirstFFI.h"
    link "localfirst_ffi"
    export *
}
MODULEMAP

echo "bindings generated from $lib ($flavour flavour)"
