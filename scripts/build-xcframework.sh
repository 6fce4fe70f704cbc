#!/usr/bin/env bash
# Builds swift-package/LocalFirstFFI.xcframework (static libraries) for iOS devices,
# the iOS simulator (arm64 + x86_64, lipo'd) and macOS (arm64 + x86_64, lipo'd),
# with the C header and module map under Headers/LocalFirstFFI/ (a flat
# Headers/module.modulemap collides with other XCFrameworks in one app).
# Needs macOS with Xcode and the five rustup targets; not run in this repository's CI.
# Bindings are generated from the unstripped macOS library before anything is stripped.
# The shipped flavour has no test code; `--testing` builds the test flavour instead (the
# `testing` feature: what the XCTest suite needs on a Mac; never ship it).
# Usage: scripts/build-xcframework.sh [--testing]
set -euo pipefail
cd "$(dirname "$0")/.."

[ "$(uname -s)" = "Darwin" ] || { echo "build-xcframework.sh needs macOS and Xcode" >&2; exit 1; }

features=()
gen_flags=(--release)
case "${1:-}" in
  "") ;;
  --testing) features=(--features testing); gen_flags+=(--testing) ;;
  *) echo "usage: scripts/build-xcframework.sh [--testing]" >&2; exit 2 ;;
esac

targets=(aarch64-apple-ios aarch64-apple-ios-sim x86_64-apple-ios aarch64-apple-darwin x86_64-apple-darwin)
for target in "${targets[@]}"; do
  rustup target add "$target" >/dev/null
  # The size profile (Cargo.toml; docs/PERFORMANCE.md), as for Android.
  cargo build -p localfirst-ffi --lib --profile release-size --locked --target "$target" --no-default-features ${features[@]+"${features[@]}"}
done

target_dir="${CARGO_TARGET_DIR:-target}"
lib=liblocalfirst_ffi.a
out="$target_dir/xcframework"
rm -rf "$out" && mkdir -p "$out/ios-sim" "$out/macos" "$out/headers/LocalFirstFFI"

# Swift sources, header and module map from the unstripped host library.
bash scripts/gen-bindings.sh "${gen_flags[@]}"
gen_dir="$out/generated"
cargo build -p localfirst-ffi --bin uniffi-bindgen --release --locked ${features[@]+"${features[@]}"}
sed 's/^\[bindings\./[defaults.bindings./' uniffi.toml >"$out/uniffi-global.toml"
"$target_dir/release/uniffi-bindgen" generate "$target_dir/release/liblocalfirst_ffi.dylib" \
  --no-format --config "$out/uniffi-global.toml" --language swift --out-dir "$gen_dir"
cp "$gen_dir/LocalFirstFFI.h" "$out/headers/LocalFirstFFI/"
cp "$gen_dir/LocalFirstFFI.modulemap" "$out/headers/LocalFirstFFI/module.modulemap"

lipo -create "$target_dir/aarch64-apple-ios-sim/release-size/$lib" "$target_dir/x86_64-apple-ios/release-size/$lib" \
  -output "$out/ios-sim/$lib"
lipo -create "$target_dir/aarch64-apple-darwin/release-size/$lib" "$target_dir/x86_64-apple-darwin/release-size/$lib" \
  -output "$out/macos/$lib"

rm -rf swift-package/LocalFirstFFI.xcframework
xcodebuild -create-xcframework \
  -library "$target_dir/aarch64-apple-ios/release-size/$lib" -headers "$out/headers" \
  -library "$out/ios-sim/$lib" -headers "$out/headers" \
  -library "$out/macos/$lib" -headers "$out/headers" \
  -output swift-package/LocalFirstFFI.xcframework

echo "swift-package/LocalFirstFFI.xcframework built; for a release, zip it and put"
echo "its 'swift package compute-checksum' into Package.swift's url/checksum target."
