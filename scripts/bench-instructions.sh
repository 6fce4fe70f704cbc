#!/usr/bin/env bash
# Counts the CPU instructions of the identity core's operations and of the bare
# primitive each wraps, in one run, and prints the ratios (docs/PERFORMANCE.md).
#
# Each operation runs under valgrind's cachegrind (instruction counts only, no cache
# simulation) in the harness core/benches/instructions.rs: once with N calls and once
# with N = 0; the difference divided by N is the cost of one call, without set-up.
# Instruction counts do not depend on the machine's load, unlike wall-clock time.
#
#   bash scripts/bench-instructions.sh          # N = 200
#   N=1000 bash scripts/bench-instructions.sh
set -euo pipefail
cd "$(dirname "$0")/.."

N="${N:-200}"
command -v valgrind >/dev/null || { echo "valgrind not found (apt-get install valgrind)" >&2; exit 1; }

bin="$(cargo bench -p localfirst-core --bench instructions --no-run --message-format=json 2>/dev/null \
  | jq -r 'select(.reason == "compiler-artifact" and .target.name == "instructions" and .executable != null) | .executable' \
  | tail -n 1)"
[ -x "$bin" ] || { echo "could not build the instructions harness" >&2; exit 1; }
"$bin" >/dev/null # every operation once: the fixture and results are as expected

# Instructions executed by one run of the harness.
count() {
  valgrind --tool=cachegrind --cache-sim=no --cachegrind-out-file=/dev/null "$bin" "$1" "$2" 2>&1 \
    | sed -n 's/.*I *refs: *\([0-9,]*\).*/\1/p' | tr -d ,
}

declare -A per_call
measure() {
  local op="$1" base full
  base="$(count "$op" 0)"
  full="$(count "$op" "$N")"
  [ -n "$base" ] && [ -n "$full" ] || { echo "valgrind gave no count for $op" >&2; exit 1; }
  per_call[$op]=$(( (full - base) / N ))
}

for op in verify_strict key_parse_verify_strict verify verify_first_seen forget_keys \
          server_session proof_verify_strict proof sign mint bip39_parse phrase_decode \
          bip39_encode phrase_encode derive_bare derive; do
  measure "$op"
done
# The first-seen calls empty the key cache before each verify: not part of the verify.
per_call[verify_first_seen]=$(( per_call[verify_first_seen] - per_call[forget_keys] ))

row() { # name, operation, bare operation
  local ours="${per_call[$2]}" bare="${per_call[$3]}"
  printf '%-40s %12s %12s %8s %10s\n' "$1" "$ours" "$bare" \
    "$(awk -v a="$ours" -v b="$bare" 'BEGIN { printf "%.3fx", a / b }')" "$(( ours - bare ))"
}

echo "instructions per call (N = $N; valgrind $(valgrind --version | sed 's/valgrind-//'), $(rustc --version | cut -d' ' -f1-2))"
printf '%-40s %12s %12s %8s %10s\n' operation ours bare ratio extra
row "verify, returning user" verify verify_strict
row "verify, first-seen key" verify_first_seen verify_strict
row "verify, first-seen key vs parse+verify" verify_first_seen key_parse_verify_strict
row "identity proof, returning user" proof proof_verify_strict
row "server: claims + verify, returning" server_session verify_strict
row "mint" mint sign
row "phrase decode" phrase_decode bip39_parse
row "phrase encode" phrase_encode bip39_encode
row "derive" derive derive_bare
