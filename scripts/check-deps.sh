#!/usr/bin/env bash
# Dependency rules the crate layout promises (docs/ARCHITECTURE.md), checked on the
# resolved graph (`cargo tree`, offline from Cargo.lock):
#
# - no C crypto library where a Rust one serves: neither aws-lc nor OpenSSL is in any
#   build of any member, for any target (TLS is rustls with the ring provider);
# - the Node addon resolves sessions through localfirst-auth, not the sync server: it
#   builds neither the server nor its HTTP server, PostgreSQL client or WebSocket stack;
# - the sync server and the mobile library carry no demo identity provider.
# Usage: scripts/check-deps.sh
set -euo pipefail
cd "$(dirname "$0")/.."

failed=0
# `cargo tree -i CRATE` fails when CRATE is not in the selected graph.
absent() {
  local what="$1" crate="$2"
  shift 2
  if cargo tree --locked "$@" -i "$crate" >/dev/null 2>&1; then
    echo "FAIL: $what: $crate is in the graph (cargo tree $* -i $crate)" >&2
    failed=1
  else
    echo "ok: $what: no $crate"
  fi
}

for crate in aws-lc-sys aws-lc-rs openssl-sys; do
  absent "workspace, every target and feature" "$crate" --workspace --all-features --target all
done
for crate in localfirst-server axum tokio-postgres tokio-tungstenite; do
  absent "Node addon" "$crate" -p localfirst-node -e normal,build --target all
done
absent "sync server" localfirst-provider -p localfirst-server -e normal,build --target all
absent "mobile library" localfirst-provider -p localfirst-ffi -e normal,build --target all
exit "$failed"
