#!/usr/bin/env bash
# Builds the bindings library as it ships (the size profile, no `testing` feature),
# checks that it holds no test code, generates the foreign sources from the unstripped
# library (UniFFI reads its metadata from the symbols), then strips a copy and prints
# the sizes. Usage: scripts/measure-lib-size.sh
set -euo pipefail
cd "$(dirname "$0")/.."

target_dir="${CARGO_TARGET_DIR:-target}"
# Packed relative relocations (DT_RELR; glibc >= 2.36, Android API >= 28) shrink the
# relocation table of the position-independent library by ~250 KB.
RUSTFLAGS="${RUSTFLAGS:-} -C link-arg=-Wl,-z,pack-relative-relocs" \
  cargo build -p localfirst-ffi --lib --profile release-size --locked
lib="$target_dir/release-size/liblocalfirst_ffi.so"
bash scripts/check-no-test-code.sh "$lib"

# Generation must work from this very library before it is stripped.
cargo build -p localfirst-ffi --bin uniffi-bindgen --locked
out="$(mktemp -d)"
trap 'rm -rf "$out"' EXIT
sed 's/^\[bindings\./[defaults.bindings./' uniffi.toml >"$out/uniffi.toml"
"$target_dir/debug/uniffi-bindgen" generate "$lib" --no-format --config "$out/uniffi.toml" \
  --language kotlin --out-dir "$out/kotlin" >/dev/null
kotlin_lines="$(find "$out/kotlin" -name '*.kt' -exec cat {} + | wc -l)"

stripped="$out/liblocalfirst_ffi.stripped.so"
strip --strip-unneeded -o "$stripped" "$lib"
size_of() { stat -c %s "$1"; }
printf 'unstripped  %9d bytes  %s\n' "$(size_of "$lib")" "$lib"
printf 'stripped    %9d bytes  (%.2f MiB; goal <= 3 MB)\n' "$(size_of "$stripped")" \
  "$(echo "$(size_of "$stripped") / 1048576" | bc -l)"
printf 'kotlin generated from the unstripped library: %d lines\n' "$kotlin_lines"
