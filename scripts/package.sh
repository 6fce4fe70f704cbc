#!/usr/bin/env bash
# Builds every release artefact into dist/ (README, "Install"):
#
#   dist/npm/expo-localfirst-<v>.tgz                    the Expo module, config plugin and jest mock
#   dist/npm/localfirst-node-<v>.tgz                    @localfirst/node (JavaScript, types)
#   dist/npm/localfirst-node-<platform>-<v>.tgz         its prebuilt addon for this machine
#   dist/maven/localfirst-jvm-<v>.jar + .pom            dev.localfirst:localfirst-jvm (desktop JVM)
#   dist/lib/<jna-platform>/liblocalfirst_ffi.<ext>     the stripped bindings library
#   dist/apple/LocalFirstFFI.xcframework.zip + .sha256  SwiftPM binary target (macOS with Xcode only)
#   dist/android/localfirst-android-<v>.aar             the Android library (Android SDK only)
#   dist/SHA256SUMS
#
# Release builds by default: the Node addon with the release profile, the bindings library
# with the size profile (the one scripts/measure-lib-size.sh measures). `--debug` packs the
# debug builds instead (the ones the test steps of scripts/test-all.sh have already built),
# in the same layout, so CI checks the packaging and the install path without compiling two
# more profiles; never publish those. Every library is stripped; Kotlin is generated from
# the very library that ships (UniFFI checks their checksums against each other at load).
#
# npm packages follow napi-rs's layout: the platform packages come from
# `napi create-npm-dirs` (every target in node/package.json's napi.targets), the main package
# lists them all as optionalDependencies, and this machine's one carries the addon.
# Usage: scripts/package.sh [--debug] [--out DIR]
set -euo pipefail
cd "$(dirname "$0")/.."
root="$(pwd)"

mode=release
out="$root/dist"
while [ $# -gt 0 ]; do
  case "$1" in
    --debug) mode=debug ;;
    --out) out="$(mkdir -p "$2" && cd "$2" && pwd)"; shift ;;
    *) echo "usage: scripts/package.sh [--debug] [--out DIR]" >&2; exit 2 ;;
  esac
  shift
done

step() { printf '\n--> %s\n' "$*"; }
skipped() { echo "SKIPPED: $*"; }

for tool in cargo npm node mvn jar python3 strip; do
  command -v "$tool" >/dev/null || { echo "$tool not found (see README, Set-up)" >&2; exit 1; }
done

target_dir="$(mkdir -p "${CARGO_TARGET_DIR:-target}" && cd "${CARGO_TARGET_DIR:-target}" && pwd)"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
rm -rf "$out/npm" "$out/maven" "$out/lib" "$out/apple" "$out/android" "$out/SHA256SUMS"
mkdir -p "$out/npm" "$out/maven" "$out/lib"

# JNA's name for this platform (com.sun.jna.Platform.RESOURCE_PREFIX): the folder of the
# library inside the jar, where JNA finds it on the class path.
case "$(uname -s)-$(uname -m)" in
  Linux-x86_64) jna_platform=linux-x86-64 ;;
  Linux-aarch64) jna_platform=linux-aarch64 ;;
  Darwin-x86_64) jna_platform=darwin-x86-64 ;;
  Darwin-arm64) jna_platform=darwin-aarch64 ;;
  *) echo "no JNA platform name known for $(uname -s)-$(uname -m)" >&2; exit 1 ;;
esac
lib_file=liblocalfirst_ffi.so
[ "$(uname -s)" = Darwin ] && lib_file=liblocalfirst_ffi.dylib
strip_copy() {
  if [ "$(uname -s)" = Darwin ]; then strip -x -o "$2" "$1"; else strip --strip-unneeded -o "$2" "$1"; fi
}

step "the bindings library ($mode) and uniffi-bindgen"
if [ "$mode" = release ]; then
  # The size profile, linked as scripts/measure-lib-size.sh links it (packed relative
  # relocations), so both share one build.
  RUSTFLAGS="${RUSTFLAGS:-} -C link-arg=-Wl,-z,pack-relative-relocs" \
    cargo build -p localfirst-ffi --lib --profile release-size --locked
  lib="$target_dir/release-size/$lib_file"
else
  cargo build -p localfirst-ffi --lib --locked
  lib="$target_dir/debug/$lib_file"
fi
cargo build -p localfirst-ffi --bin uniffi-bindgen --locked
mkdir -p "$out/lib/$jna_platform"
strip_copy "$lib" "$out/lib/$jna_platform/$lib_file"
ls -l "$out/lib/$jna_platform/$lib_file"

step "dev.localfirst:localfirst-jvm: Kotlin generated from that library, compiled, the library as a JNA resource"
# Kotlin with android = false, from the names in the root uniffi.toml (as gen-bindings.sh).
generated=android-lib/jvm/target/generated/kotlin
sed 's/^\[bindings\./[defaults.bindings./' uniffi.toml >"$work/uniffi.toml"
rm -rf "$generated" && mkdir -p "$generated"
"$target_dir/debug/uniffi-bindgen" generate "$lib" --no-format --config "$work/uniffi.toml" \
  --language kotlin --out-dir "$generated" >/dev/null
# Not `clean`: the generated sources live under target/ too; stale classes go by hand.
rm -rf android-lib/jvm/target/classes android-lib/jvm/target/*.jar
mvn -q -B -Dstyle.color=never -f android-lib/jvm/pom.xml package -Dmaven.test.skip=true
jvm_version="$(python3 -c '
import sys, xml.etree.ElementTree as ET
ns = {"m": "http://maven.apache.org/POM/4.0.0"}
print(ET.parse(sys.argv[1]).getroot().find("m:version", ns).text)' android-lib/jvm/pom.xml)"
jar_name="localfirst-jvm-$jvm_version"
cp "android-lib/jvm/target/$jar_name.jar" "$out/maven/$jar_name.jar"
(cd "$out/lib" && jar uf "$out/maven/$jar_name.jar" "$jna_platform/$lib_file")
# The build's POM is the published one: its compile dependencies (Kotlin, JNA, coroutines)
# are what a user's build resolves; the test-only parts are not inherited.
cp android-lib/jvm/pom.xml "$out/maven/$jar_name.pom"
jar tf "$out/maven/$jar_name.jar" | grep -E "^$jna_platform/|^dev/localfirst/Db.class$"

step "@localfirst/node: the addon ($mode) in its platform package, the main package"
[ -x node/node_modules/.bin/napi ] || (cd node && npm ci --no-audit --no-fund --loglevel=error)
napi="$root/node/node_modules/.bin/napi"
# Stripped below (napi's --strip would change RUSTFLAGS and so rebuild every dependency).
napi_flags=(--platform --no-js --output-dir "$work/addon")
[ "$mode" = release ] && napi_flags+=(--release)
(cd node && "$napi" build "${napi_flags[@]}" -- --locked)
stage="$work/node"
mkdir -p "$stage"
cp node/package.json node/index.js node/index.d.ts node/README.md "$stage/"
"$napi" create-npm-dirs --cwd "$stage" >/dev/null
# Every platform package as an optional dependency of the main package (npm installs the
# one whose os/cpu/libc match); this machine's package gets the addon just built.
node - "$stage" <<'JS'
const fs = require('node:fs')
const path = require('node:path')
const stage = process.argv[2]
const main = JSON.parse(fs.readFileSync(path.join(stage, 'package.json'), 'utf8'))
main.optionalDependencies = {}
for (const dir of fs.readdirSync(path.join(stage, 'npm')).sort()) {
  const pkg = JSON.parse(fs.readFileSync(path.join(stage, 'npm', dir, 'package.json'), 'utf8'))
  main.optionalDependencies[pkg.name] = pkg.version
}
delete main.devDependencies
delete main.scripts
fs.writeFileSync(path.join(stage, 'package.json'), JSON.stringify(main, null, 2) + '\n')
JS
addon="$(cd "$work/addon" && ls localfirst.*.node)"
platform="${addon#localfirst.}"
platform="${platform%.node}"
[ -d "$stage/npm/$platform" ] || { echo "no platform package for $platform in napi.targets" >&2; exit 1; }
strip_copy "$work/addon/$addon" "$stage/npm/$platform/$addon"
(cd "$stage/npm/$platform" && npm pack --silent --pack-destination "$out/npm" >/dev/null)
(cd "$stage" && npm pack --silent --pack-destination "$out/npm" >/dev/null)

step "expo-localfirst: the module, its config plugin (built by prepack) and the jest mock"
if [ "$(uname -s)" = Darwin ] && command -v xcodebuild >/dev/null; then
  bash expo-module/scripts/vendor-ios.sh
else
  skipped "expo-module/ios/vendor (the XCFramework for CocoaPods) needs macOS with Xcode"
fi
if [ -n "${ANDROID_HOME:-}" ] && command -v gradle >/dev/null; then
  bash expo-module/scripts/vendor-android.sh
else
  skipped "expo-module/android/local-maven-repo (the Android library) needs the Android SDK and Gradle"
fi
[ -x node_modules/.bin/tsc ] || npm ci --no-audit --no-fund --loglevel=error
rm -rf expo-module/build expo-module/plugin/build
(cd expo-module && npm pack --silent --pack-destination "$out/npm" >/dev/null)
tar -tzf "$out/npm"/expo-localfirst-*.tgz | grep -E '^package/(build/index.js|plugin/build/index.js|app.plugin.js|mocks/ExpoLocalFirst.ts|ios/ExpoLocalFirst.podspec|android/build.gradle)$'

step "Swift Package Manager: the XCFramework zip and its checksum"
if [ "$(uname -s)" = Darwin ] && command -v xcodebuild >/dev/null && command -v swift >/dev/null; then
  mkdir -p "$out/apple"
  [ -d swift-package/LocalFirstFFI.xcframework ] || bash scripts/build-xcframework.sh
  (cd swift-package && zip -qry "$out/apple/LocalFirstFFI.xcframework.zip" LocalFirstFFI.xcframework)
  swift package compute-checksum "$out/apple/LocalFirstFFI.xcframework.zip" \
    >"$out/apple/LocalFirstFFI.xcframework.zip.sha256"
else
  skipped "LocalFirstFFI.xcframework.zip needs macOS with Xcode and Swift"
fi

step "Android library (AAR)"
if [ -n "${ANDROID_HOME:-}" ] && command -v gradle >/dev/null; then
  mkdir -p "$out/android"
  (cd android-lib && gradle assembleRelease)
  cp android-lib/build/outputs/aar/*-release.aar "$out/android/localfirst-android-$jvm_version.aar"
else
  skipped "the AAR needs the Android SDK, the NDK, cargo-ndk and Gradle"
fi

(cd "$out" && find . -type f ! -name SHA256SUMS | sort | sed 's|^\./||' | xargs sha256sum >SHA256SUMS)
step "dist ($mode builds)"
(cd "$out" && find . -type f | sort | sed 's|^\./||' | while read -r file; do
  printf '%10d  %s\n' "$(wc -c <"$file")" "$file"
done)
