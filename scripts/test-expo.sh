#!/usr/bin/env bash
# The Expo module (expo-module/, npm expo-localfirst) and its example app
# (examples/expo-app/): one npm workspace install from the committed lock, the module and
# its config plugin compiled (tsc), the module, plugin and example type-checked, the jest
# suites (the module's TypeScript against the real core through @localfirst/node, the config
# plugin's mods against sample projects, the example's screen on the shipped mock), the
# example's config through the Expo CLI, and the example bundled by Metro for iOS and Android.
#
# Needs @localfirst/node built (node/*.node): runs after the Node step of test-all.sh, and
# builds the addon itself when it is missing.
# The Swift and Kotlin modules are written, not built, here (no Xcode, no Android SDK).
set -euo pipefail
cd "$(dirname "$0")/.."

step() { printf '\n--> %s\n' "$*"; }

command -v npm >/dev/null || { echo "npm not found: install Node.js 20 or newer" >&2; exit 1; }

if ! ls node/localfirst.*.node >/dev/null 2>&1; then
  step "build @localfirst/node (normally done by the Node step before this one)"
  (cd node && npm ci --no-audit --no-fund --loglevel=error && npm run build)
fi

step "npm ci (workspace: expo-module + examples/expo-app)"
npm ci --no-audit --no-fund --loglevel=error

step "@localfirst/node loads (the jest stand-in runs the real core through it)"
(cd expo-module && node -e "
  const core = require('@localfirst/node');
  const secret = core.AuthSecret.generate();
  if (core.AuthSecret.fromBase64Url(secret.toBase64Url()).userId() !== secret.userId()) process.exit(1);
") || { echo "@localfirst/node does not load" >&2; exit 1; }

step "type-check and build the module and its config plugin"
(cd expo-module && npm run --silent typecheck && npm run --silent build)

step "type-check the example app against the built module"
(cd examples/expo-app && npx tsc --noEmit)

step "jest: the module over the real core, the config plugin over sample projects"
(cd expo-module && npx jest --ci)

step "jest: the example's screen through the whole lifecycle, on the module's shipped mock"
(cd examples/expo-app && npx jest --ci)

step "the example's config through the Expo CLI: plugin applied, module autolinked"
(cd examples/expo-app && npx expo config --type introspect --json 2>/dev/null) | node -e "
  let text = '';
  process.stdin.on('data', (chunk) => (text += chunk));
  process.stdin.on('end', () => {
    const config = JSON.parse(text.slice(text.indexOf('{')));
    const app = config._internal.modResults.android.manifest.manifest.application[0].\$;
    const checks = {
      'Face ID text': config.ios.infoPlist.NSFaceIDUsageDescription?.includes('Face ID'),
      'passkey associated domain': (config.ios.entitlements?.['com.apple.developer.associated-domains'] ?? [])
        .includes('webcredentials:localfirst.example'),
      'backup rules': app['android:fullBackupContent'] === '@xml/localfirst_backup_rules',
      'data extraction rules': app['android:dataExtractionRules'] === '@xml/localfirst_data_extraction_rules',
      'module autolinked': config._internal.autolinkedModules.includes('expo-localfirst'),
    };
    let failed = 0;
    for (const [name, ok] of Object.entries(checks)) {
      console.log((ok ? 'ok   ' : 'FAIL ') + name);
      if (!ok) failed++;
    }
    console.log(\`\${Object.keys(checks).length - failed} passed, \${failed} failed\`);
    process.exit(failed === 0 ? 0 : 1);
  });
"

step "Metro bundles the example for iOS and Android (expo export, Hermes bytecode)"
export_dir="$(mktemp -d)"
trap 'rm -rf "$export_dir"' EXIT
(cd examples/expo-app && npx expo export --platform ios --platform android --output-dir "$export_dir" 2>&1 \
  | grep -E 'Bundled|Exported|rror' || true)
ls "$export_dir"/_expo/static/js/ios/*.hbc "$export_dir"/_expo/static/js/android/*.hbc >/dev/null

step "Swift and Kotlin modules"
echo "SKIPPED: expo-module/ios and expo-module/android are written, not built, here (no Xcode, no Android SDK)"
