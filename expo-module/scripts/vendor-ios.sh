#!/usr/bin/env bash
# Fills ios/vendor/ for packing: the Rust core as LocalFirstFFI.xcframework and the Swift
# bindings (generated + hand-written layer) from swift-package/. macOS with Xcode only.
set -euo pipefail
cd "$(dirname "$0")/../.."
bash scripts/build-xcframework.sh
vendor=expo-module/ios/vendor
rm -rf "$vendor" && mkdir -p "$vendor/LocalFirst"
cp -R swift-package/LocalFirstFFI.xcframework "$vendor/"
cp -R swift-package/Sources/LocalFirst/. "$vendor/LocalFirst/"
