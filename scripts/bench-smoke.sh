#!/usr/bin/env bash
# Smoke run of every benchmark (what CI runs): builds each bench target of the workspace
# with the test profile and runs each benchmark function once, so a benchmark that no
# longer builds, panics or measures a failing call is caught. Times nothing: the numbers
# in docs/PERFORMANCE.md come from quiet runs by hand (`cargo bench`,
# scripts/bench-instructions.sh). Criterion runs each function once when started without
# `--bench`, as `cargo test` starts it; the instruction-count harness runs each of its
# operations once and checks each result.
set -euo pipefail
cd "$(dirname "$0")/.."

cargo test --workspace --bench '*' --all-features --locked
