#!/usr/bin/env bash
# Generates the bindings from the host library and runs the Kotlin JUnit suite on
# the desktop JVM (android-lib/jvm, Maven; plugins and libraries from Maven
# Central): first a compile of the main sources against the shipped flavour (no test
# code), then the suite against the test flavour (`testing` feature). Fails when
# generation, compilation or any test fails. Prints
# surefire's "Tests run: N, Failures: F" lines and a total. Extra arguments go to
# Maven (e.g. -Dmaven.repo.local=DIR, -Dtest=SecretStoreTest). The Db suite
# starts the `localfirst` binary built here as a server on 127.0.0.1. Then the Android glue
# that needs only the framework (LocalFirstAndroid) compiled against Robolectric's android-all
# jar (API 34) and its tests with a real framework Context (android-lib/robolectric).
set -euo pipefail
cd "$(dirname "$0")/.."

command -v mvn >/dev/null || { echo "mvn not found: install Maven (apt-get install maven)" >&2; exit 1; }
command -v javac >/dev/null || { echo "javac not found: install a JDK 17" >&2; exit 1; }

target_dir="${CARGO_TARGET_DIR:-target}"

# 1. The shipped flavour (no `testing`): the library holds no test code, and the
# hand-written main Kotlin compiles against the Kotlin generated from it (test-only
# exports may only be used by the test sources).
bash scripts/gen-bindings.sh
shipped_lib="$target_dir/debug/liblocalfirst_ffi.so"
[ "$(uname -s)" = "Darwin" ] && shipped_lib="$target_dir/debug/liblocalfirst_ffi.dylib"
bash scripts/check-no-test-code.sh "$shipped_lib"
# No class of an earlier (test-flavour) build may satisfy a reference.
rm -rf android-lib/jvm/target/classes android-lib/jvm/target/test-classes
mvn -q -B -Dstyle.color=never -f android-lib/jvm/pom.xml compile "$@"
echo "shipped flavour: main Kotlin compiles without the test-only exports"

# 2. The test flavour (`testing`): the suite runs against it.
bash scripts/gen-bindings.sh --testing
# The Db suite starts a real `localfirst server` (target/debug/localfirst).
cargo build -p localfirst-cli --locked

lib_dir="$(cd "$target_dir/debug" && pwd)"

reports=android-lib/jvm/target/surefire-reports
robolectric_reports=android-lib/robolectric/target/surefire-reports
rm -rf "$reports" "$robolectric_reports"

# -q hides Maven's chatter (and surefire's INFO summary with it); failures are
# still printed as errors. The summary is printed below from surefire's reports.
status=0
mvn -q -B -Dstyle.color=never -f android-lib/jvm/pom.xml test -Dlocalfirst.lib.dir="$lib_dir" "$@" || status=$?
mvn -q -B -Dstyle.color=never -f android-lib/robolectric/pom.xml test -Dlocalfirst.lib.dir="$lib_dir" \
  -Dsurefire.failIfNoSpecifiedTests=false "$@" || status=$?

if compgen -G "$reports/TEST-*.xml" >/dev/null; then
  cat "$reports"/*.txt "$robolectric_reports"/*.txt 2>/dev/null | grep -E '^Tests run:' || true
  python3 - "$reports" "$robolectric_reports" <<'PY'
import glob, sys, xml.etree.ElementTree as ET
totals = {"tests": 0, "failures": 0, "errors": 0, "skipped": 0}
for path in glob.glob(sys.argv[1] + "/TEST-*.xml") + glob.glob(sys.argv[2] + "/TEST-*.xml"):
    suite = ET.parse(path).getroot()
    for key in totals:
        totals[key] += int(suite.get(key, 0))
print("Kotlin (desktop JVM) -- Tests run: {tests}, Failures: {failures}, Errors: {errors}, Skipped: {skipped}".format(**totals))
PY
else
  echo "no surefire reports: the Kotlin build failed before the tests ran" >&2
fi
exit "$status"
