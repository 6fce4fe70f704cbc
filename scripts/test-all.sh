#!/usr/bin/env bash
# Runs every test suite of the repository. This is the README's test command and
# what CI runs. Fails on the first failing step.
set -euo pipefail
cd "$(dirname "$0")/.."

step() { printf '\n==> %s\n' "$*"; }

step "toolchain"
command -v cargo >/dev/null || { echo "cargo not found: install Rust stable (rustup) first" >&2; exit 1; }
cargo --version
rustup component add rustfmt clippy >/dev/null 2>&1 || true

# The Android Keystore store is tested through JNI on a desktop JVM.
if [ -z "${JAVA_HOME:-}" ] && command -v javac >/dev/null; then
  JAVA_HOME="$(dirname "$(dirname "$(readlink -f "$(command -v javac)")")")"
  export JAVA_HOME
fi
if [ -n "${JAVA_HOME:-}" ]; then
  libjvm="$(find "$JAVA_HOME" -name libjvm.so -path '*server*' 2>/dev/null | head -n 1)"
  [ -n "$libjvm" ] && export LD_LIBRARY_PATH="$(dirname "$libjvm")${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
fi

step "format"
cargo fmt --all -- --check

step "lint (every target: libraries, binaries, tests, benchmarks)"
cargo clippy --workspace --all-targets --all-features --locked -- -D warnings

step "dependency rules (no C crypto library; the Node addon without the server; no demo provider in the server or the mobile library)"
bash scripts/check-deps.sh

step "docs build without broken links"
RUSTDOCFLAGS="-D warnings" cargo doc --workspace --all-features --no-deps --locked --quiet

step "rust tests (all crates, all features; a throwaway PostgreSQL cluster for the server's replica tests)"
bash scripts/with-postgres.sh cargo test --workspace --all-features --locked

step "benchmarks, smoke run (each built and run once, not timed; numbers come from quiet runs by hand, docs/PERFORMANCE.md)"
bash scripts/bench-smoke.sh

step "Kotlin bindings on the desktop JVM (bindings generated from the host library, Maven, JUnit)"
bash scripts/test-kotlin.sh

step "Node addon (napi-rs build, node:test against real loopback servers)"
bash scripts/test-node.sh

step "Expo module and example app (one npm workspace install; tsc; jest over the real core through @localfirst/node; config plugin)"
bash scripts/test-expo.sh

step "install path: package dist/ (debug builds), install it into new projects outside the repository, run them"
bash scripts/package.sh --debug
bash scripts/test-install.sh

step "Swift package (XCTest through the Linux system-library target)"
if command -v swift >/dev/null 2>&1; then
  # The Db suites start target/debug/localfirst as a server (built by test-kotlin.sh).
  (cd swift-package && LD_LIBRARY_PATH="$(pwd)/../target/debug" \
    LOCALFIRST_SERVER_BIN="$(pwd)/../target/debug/localfirst" \
    swift test -Xlinker -L"$(pwd)/../target/debug")
else
  echo "SKIPPED: no Swift toolchain on PATH; the Swift package is written, not built, on this machine"
fi

step "Apple Keychain layer type-checks (no Apple toolchain here)"
bash scripts/check-keychain-apple.sh

printf '\nall test suites passed\n'
