#!/usr/bin/env bash
# The install path, tested the way a new user takes it (README, "Install"): the artefacts of
# scripts/package.sh are installed into fresh projects in a temporary directory outside the
# repository (no workspace, no links into the checkout), which then run:
#
#   expo    a new app from the blank TypeScript template, expo-localfirst from its tarball and
#           its config plugin in app.json: `expo prebuild --no-install` must write the
#           documented entitlements, Info.plist key and Android backup rules; the app
#           type-checks; a jest test of a screen using useLocalFirstAuth passes on the
#           package's shipped mock (@localfirst/node from its tarballs as devDependency).
#   node    a backend project with @localfirst/node from its tarballs (no Rust toolchain on
#           the PATH during the install) verifying an identity proof.
#   kotlin  a Maven project depending on dev.localfirst:localfirst-jvm, installed with
#           `mvn install:install-file` into a local repository of its own, running the
#           README's Kotlin snippet against a real `localfirst server` on 127.0.0.1.
#
# npm packages come from npm's cache where the earlier steps of test-all.sh put them
# (--prefer-offline), Maven plugins from ~/.m2 (read through, see kotlin_check).
# Usage: scripts/test-install.sh [--keep] [--dist DIR] [expo|node|kotlin ...]
# (dist/ and all three by default; --keep leaves the temporary projects and prints where)
set -euo pipefail
cd "$(dirname "$0")/.."
root="$(pwd)"
here="$root/scripts/test-install"

keep=false
dist="$root/dist"
checks=()
while [ $# -gt 0 ]; do
  case "$1" in
    --keep) keep=true ;;
    --dist) dist="$(cd "$2" && pwd)"; shift ;;
    expo | node | kotlin) checks+=("$1") ;;
    *) echo "usage: scripts/test-install.sh [--keep] [--dist DIR] [expo|node|kotlin ...]" >&2; exit 2 ;;
  esac
  shift
done
[ "${#checks[@]}" -gt 0 ] || checks=(node kotlin expo)

step() { printf '\n--> %s\n' "$*"; }
for tool in npm npx node mvn python3; do
  command -v "$tool" >/dev/null || { echo "$tool not found" >&2; exit 1; }
done

one() {
  local found=("$dist"/$1)
  [ "${#found[@]}" -eq 1 ] && [ -f "${found[0]}" ] || { echo "expected one $1 in $dist (run scripts/package.sh)" >&2; exit 1; }
  echo "${found[0]}"
}

tmp="$(mktemp -d "${TMPDIR:-/tmp}/localfirst-install.XXXXXX")"
server_pid=""
cleanup() {
  [ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null || true
  if [ "$keep" = true ]; then echo "projects kept in $tmp"; else rm -rf "$tmp"; fi
}
trap cleanup EXIT

# Installs see no parent package.json, lock or workspace of the checkout.
npm_install() { npm install --no-audit --no-fund --loglevel=error --prefer-offline "$@"; }
# A version pinned by expo-module/package.json (its devDependencies pin the Expo SDK the
# module is built and tested with).
pinned() { node -p "require('$root/expo-module/package.json').devDependencies['$1']"; }

node_check() {
  local node_tgz addon_tgz
  node_tgz="$(one 'npm/localfirst-node-[0-9]*.tgz')"
  addon_tgz="$(one 'npm/localfirst-node-[a-z]*.tgz')"
  step "node: a backend project installs @localfirst/node from the tarballs and verifies a proof"
  mkdir -p "$tmp/backend" && cd "$tmp/backend"
  npm init -y >/dev/null
  # No Rust toolchain: every PATH entry holding cargo is dropped for the install.
  local path_without_cargo
  path_without_cargo="$(tr ':' '\n' <<<"$PATH" | while read -r dir; do
    [ -x "$dir/cargo" ] || printf '%s:' "$dir"
  done)"
  PATH="${path_without_cargo%:}" npm_install "$addon_tgz" "$node_tgz"
  cp "$here/node/verify-proof.js" .
  local secret
  secret="$("$root/${CARGO_TARGET_DIR:-target}/debug/localfirst" identity new --json \
    | node -p 'JSON.parse(require("fs").readFileSync(0, "utf8")).secret')"
  node verify-proof.js "$secret"
}

expo_check() {
  local expo_tgz node_tgz addon_tgz
  expo_tgz="$(one 'npm/expo-localfirst-*.tgz')"
  node_tgz="$(one 'npm/localfirst-node-[0-9]*.tgz')"
  addon_tgz="$(one 'npm/localfirst-node-[a-z]*.tgz')"
  step "expo: a new app from the blank TypeScript template"
  cd "$tmp"
  local template
  template="expo-template-blank-typescript@$(node -p "require('$here/expo/versions.json').template")"
  EXPO_NO_TELEMETRY=1 npx --yes "create-expo-app@$(node -p "require('$here/expo/versions.json')['create-expo-app']")" \
    app --template "$template" --no-install </dev/null >"$tmp/create-expo-app.log" 2>&1 \
    || { cat "$tmp/create-expo-app.log" >&2; exit 1; }
  echo "created app/ from $template"
  cd "$tmp/app"
  [ -f app.json ] && [ -f App.tsx ] || { echo "create-expo-app made no app" >&2; exit 1; }

  step "expo: the SDK the module pins, expo-localfirst from its tarball, @localfirst/node for jest"
  npm pkg set "dependencies.expo=$(pinned expo)" "dependencies.react=$(pinned react)" \
    "dependencies.react-native=$(pinned react-native)" \
    "devDependencies.typescript=$(pinned typescript)" "devDependencies.@types/react=$(pinned @types/react)"
  npm_install "$expo_tgz"
  npm_install --save-dev --save-exact "$addon_tgz" "$node_tgz" \
    "jest@$(pinned jest)" "jest-expo@$(pinned jest-expo)" "@types/jest@$(pinned @types/jest)" \
    "@testing-library/react-native@$(pinned @testing-library/react-native)" \
    "react-test-renderer@$(pinned react-test-renderer)" "test-renderer@$(pinned test-renderer)"
  [ ! -L node_modules/expo-localfirst ] || { echo "expo-localfirst is a link, not an install" >&2; exit 1; }

  step "expo: the config plugin in app.json, then expo prebuild --no-install"
  node - <<'JS'
const fs = require('node:fs')
const app = JSON.parse(fs.readFileSync('app.json', 'utf8'))
app.expo.ios = { ...app.expo.ios, bundleIdentifier: 'com.example.installcheck' }
app.expo.android = { ...app.expo.android, package: 'com.example.installcheck' }
app.expo.plugins = [
  ['expo-localfirst', {
    faceIDPermission: 'Unlock your account key with Face ID.',
    keychainAccessGroups: ['com.example.shared'],
    passkeyDomains: ['auth.example.com'],
  }],
]
fs.writeFileSync('app.json', JSON.stringify(app, null, 2) + '\n')
JS
  CI=1 EXPO_NO_TELEMETRY=1 EXPO_NO_GIT_STATUS=1 npx expo prebuild --no-install --platform all </dev/null
  python3 "$here/expo/check_prebuild.py" .

  step "expo: a screen using useLocalFirstAuth type-checks and passes jest on the shipped mock"
  cp "$here/expo/LocalFirstScreen.tsx" "$here/expo/jest.config.js" .
  mkdir -p __tests__ && cp "$here/expo/LocalFirstScreen.test.tsx" __tests__/
  npm pkg set scripts.test=jest
  npx tsc --noEmit
  npx jest --ci
}

kotlin_check() {
  local jvm_jar jvm_pom
  jvm_jar="$(one 'maven/localfirst-jvm-*.jar')"
  jvm_pom="$(one 'maven/localfirst-jvm-*.pom')"
  step "kotlin: dev.localfirst:localfirst-jvm into a local Maven repository (mvn install:install-file)"
  # A local repository of its own, so that every run resolves the artefact just built and
  # ~/.m2 never holds a stale copy of it; the plugins and libraries already in ~/.m2 are
  # read through links (what is missing is downloaded into ~/.m2 as usual).
  local repo="$tmp/m2"
  mkdir -p "$repo"
  if [ -d "$HOME/.m2/repository" ]; then
    for entry in "$HOME/.m2/repository"/*; do
      [ "$(basename "$entry")" = dev ] || ln -s "$entry" "$repo/"
    done
  fi
  mvn -q -B -Dstyle.color=never -Dmaven.repo.local="$repo" install:install-file \
    -Dfile="$jvm_jar" -DpomFile="$jvm_pom"

  step "kotlin: a new Maven project runs the README's snippet against a real localfirst server"
  local project="$tmp/kotlin" version kotlin_version
  mkdir -p "$project/src/main/kotlin"
  version="$(basename "$jvm_jar" .jar)"
  version="${version#localfirst-jvm-}"
  kotlin_version="$(python3 -c '
import sys, xml.etree.ElementTree as ET
ns = {"m": "http://maven.apache.org/POM/4.0.0"}
print(ET.parse(sys.argv[1]).getroot().find("m:properties/m:kotlin.version", ns).text)' "$jvm_pom")"
  sed -e "s/@KOTLIN_VERSION@/$kotlin_version/" -e "s/@LOCALFIRST_VERSION@/$version/" \
    "$here/kotlin/pom.xml" >"$project/pom.xml"
  # The snippet is the README's own block (after the marker), so the two cannot drift apart.
  python3 - "$root/README.md" "$project/src/main/kotlin/Main.kt" <<'PY'
import re, sys
text = open(sys.argv[1], encoding="utf-8").read()
match = re.search(r"<!-- desktop-jvm-snippet -->\s*```kotlin\n(.*?)```", text, re.S)
if not match:
    sys.exit("README.md has no Kotlin block after <!-- desktop-jvm-snippet -->")
open(sys.argv[2], "w", encoding="utf-8").write(match.group(1))
PY

  local server_log="$tmp/server.log" port=""
  "$root/${CARGO_TARGET_DIR:-target}/debug/localfirst" --json server my-app --port 0 --in-memory \
    --allow-local-first-auth >"$server_log" 2>"$tmp/server.err" &
  server_pid=$!
  for _ in $(seq 1 600); do
    port="$(python3 -c '
import json, sys
for line in open(sys.argv[1]):
    event = json.loads(line)
    if event.get("event") == "listening" or "listening" in line:
        print(event["port"]); break' "$server_log" 2>/dev/null || true)"
    [ -n "$port" ] && break
    kill -0 "$server_pid" 2>/dev/null || { cat "$tmp/server.err" >&2; echo "the server exited" >&2; exit 1; }
    sleep 0.1
  done
  [ -n "$port" ] || { echo "the server did not listen within 60 s" >&2; exit 1; }
  echo "localfirst server on 127.0.0.1:$port"

  local output
  # Nothing points JNA at a library folder: it must load the one inside the jar.
  local output="$tmp/kotlin.out" status=0
  (cd "$project" && env -u LD_LIBRARY_PATH -u JAVA_TOOL_OPTIONS mvn -q -B -Dstyle.color=never \
    -Dmaven.repo.local="$repo" compile exec:java -Dexec.args="ws://127.0.0.1:$port") >"$output" 2>&1 \
    || status=$?
  sed 's/\x1b\[[0-9;]*m//g' "$output"
  [ "$status" -eq 0 ] || { echo "the Kotlin project failed (mvn exit $status)" >&2; exit 1; }
  grep -Eq '^user [0-9a-f-]{36} wrote [0-9a-f-]+; 1 acknowledged by the server$' \
    <(sed 's/\x1b\[[0-9;]*m//g' "$output") || {
    echo "the snippet's row was not acknowledged by the server" >&2
    exit 1
  }
  kill "$server_pid" && wait "$server_pid" 2>/dev/null || true
  server_pid=""
}

# The `localfirst` CLI makes the Node check's client identity and is the Kotlin check's server.
cargo build -p localfirst-cli --locked --quiet
for check in "${checks[@]}"; do
  "${check}_check"
  cd "$root"
done
printf '\ninstall path: %d passed, 0 failed\n' "${#checks[@]}"
