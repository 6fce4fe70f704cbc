#!/usr/bin/env bash
# Builds the Node addon (node/, npm package @localfirst/node) with napi-rs's CLI and
# runs its node:test suite. Fails when the install, the build or any test fails, or
# when the committed node/index.d.ts differs from the one napi generates. Also runs
# the verification benchmark with a few iterations, so that it keeps working (its
# numbers mean nothing in a debug build; see docs/PERFORMANCE.md).
set -euo pipefail
cd "$(dirname "$0")/../node"

command -v node >/dev/null || { echo "node not found: install Node.js 20 or newer" >&2; exit 1; }
command -v npm >/dev/null || { echo "npm not found: install npm" >&2; exit 1; }
major="$(node -p 'process.versions.node.split(".")[0]')"
[ "$major" -ge 20 ] || { echo "Node.js $(node --version) is too old: 20 or newer is needed" >&2; exit 1; }

npm ci --no-audit --no-fund
# A debug build, next to the package as localfirst.<platform>.node, with the
# TypeScript declarations regenerated into index.d.ts.
npx napi build --platform --no-js -- --locked

if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
  git diff --exit-code -- index.d.ts || {
    echo "node/index.d.ts is out of date: commit the file the build regenerated" >&2
    exit 1
  }
fi

node --test test/
node bench/verify.mjs --iterations 20
