#!/usr/bin/env bash
# Identity-proof verification from Node against the same call in Rust, one run on one
# machine: builds the release addon, runs the criterion bench of the core function the
# addon calls (core/benches/identity.rs, group `proof`) and node/bench/verify.mjs (the
# addon and two pure-JS verifiers), and prints the ratios. Run on a quiet machine;
# numbers go to docs/PERFORMANCE.md.
set -euo pipefail
cd "$(dirname "$0")/.."

target_dir="${CARGO_TARGET_DIR:-target}"
(cd node && npm ci --silent && npm run build:release)
cargo bench -p localfirst-core --bench identity --locked -- --noplot proof/
rust_ns="$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["median"]["point_estimate"])' \
  "$target_dir/criterion/proof/verify_local_first_identity_proof/new/estimates.json")"

out="$(cd node && node bench/verify.mjs --iterations "${ITERATIONS:-20000}")"
printf '%s\n' "$out"
python3 - "$rust_ns" "$out" <<'PY'
import re, sys
rust_us = float(sys.argv[1]) / 1000
rows = dict(re.findall(r'^(.*?)\s{2,}([0-9.]+) µs/op', sys.argv[2], re.M))
addon = float(rows["addon (Rust core)"])
print(f"Rust verify_local_first_identity_proof   {rust_us:8.1f} us")
print(f"Node addon / Rust = {addon / rust_us:.2f}x (goal <= 1.3x)")
for name, us in rows.items():
    if name != "addon (Rust core)":
        print(f"{name} / addon = {float(us) / addon:.2f}x")
PY
