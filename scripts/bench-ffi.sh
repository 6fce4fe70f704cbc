#!/usr/bin/env bash
# FFI overhead of the bindings, measured on one machine in one run: minting a token
# from Kotlin (JNA, desktop JVM) against the same exported Rust function called from
# Rust. Builds the release library, generates the Kotlin from it, runs the criterion
# bench (bindings/benches/mint.rs) and then the Kotlin loop (MintOverheadBench), and
# prints the ratio. Run on a quiet machine; numbers go to docs/PERFORMANCE.md.
set -euo pipefail
cd "$(dirname "$0")/.."

target_dir="${CARGO_TARGET_DIR:-target}"
# The Kotlin suite (MintOverheadBench among its test sources) needs the test flavour.
bash scripts/gen-bindings.sh --release --testing
cargo bench -p localfirst-ffi --bench mint --locked -- --noplot

estimate() { python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["median"]["point_estimate"])' "$1"; }
rust_ns="$(estimate "$target_dir/criterion/ffi_mint/rust_direct/new/estimates.json")"
core_ns="$(estimate "$target_dir/criterion/ffi_mint/core_token_mint/new/estimates.json")"

out="$(mktemp)"
trap 'rm -f "$out"' EXIT
lib_dir="$(cd "$target_dir/release" && pwd)"
mvn -q -B -Dstyle.color=never -f android-lib/jvm/pom.xml test -Dtest=MintOverheadBench \
  -Dsurefire.failIfNoSpecifiedTests=false -Dlocalfirst.bench=true \
  -Dlocalfirst.bench.out="$out" -Dlocalfirst.lib.dir="$lib_dir"
kotlin_ns="$(cat "$out")"

python3 - "$kotlin_ns" "$rust_ns" "$core_ns" <<'PY'
import sys
kotlin, rust, core = map(float, sys.argv[1:])
print(f"Kotlin mintLocalFirstToken (JNA)     {kotlin/1000:8.2f} us")
print(f"Rust   mint_local_first_token        {rust/1000:8.2f} us")
print(f"Rust   token::mint (derived identity) {core/1000:7.2f} us")
print(f"FFI overhead: Kotlin / Rust = {kotlin/rust:.2f}x (goal <= 1.2x)")
PY
