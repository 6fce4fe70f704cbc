#!/usr/bin/env bash
# Fails when a host build of the bindings library (Linux or macOS, unstripped) holds
# test code: the test-only exports of the `testing` feature (the conformance suite,
# KeystoreSecretStore.withDesktopKeystore and its JNI entry point) or the core's test
# doubles (simulated Keychain, fault-injecting store, desktop Keystore profile, memory
# vault). Run on the shipped flavour (built without `testing`): test-kotlin.sh does for
# the debug build, measure-lib-size.sh for the size-profile build.
# Usage: scripts/check-no-test-code.sh LIBRARY
set -euo pipefail

lib="${1:?usage: scripts/check-no-test-code.sh LIBRARY}"
[ -f "$lib" ] || { echo "missing $lib" >&2; exit 1; }
symbols="$(nm --defined-only "$lib" 2>/dev/null | wc -l)"
[ "$symbols" -gt 0 ] || { echo "$lib has no symbol table: check the unstripped library" >&2; exit 1; }
pattern='conformance|SecretStoreHarness|desktop_?keystore|SimulatedKeychain|FaultInjecting|memory_?vault|Java_dev_localfirst_LocalFirstAndroid'
found="$(nm --defined-only "$lib" 2>/dev/null | grep -Eic "$pattern" || true)"
if [ "$found" -ne 0 ]; then
  echo "$lib holds $found symbols of test code, e.g.:" >&2
  nm --defined-only "$lib" | grep -Ei "$pattern" | head -n 5 >&2
  exit 1
fi
echo "no test code in $lib"
