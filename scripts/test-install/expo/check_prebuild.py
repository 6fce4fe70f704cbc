"""Checks what `expo prebuild` wrote for expo-localfirst's config plugin in a new app.

Usage: python3 check_prebuild.py APP_DIR (the app.json options are the ones
scripts/test-install.sh writes). Prints one line per check and "N passed, N failed";
exits 1 when any check failed.
"""

import glob
import plistlib
import sys
import xml.etree.ElementTree as ET

ANDROID = "{http://schemas.android.com/apk/res/android}"
app = sys.argv[1]
results = []


def check(name, ok):
    results.append(bool(ok))
    print(("ok   " if ok else "FAIL ") + name)


def one(pattern):
    found = glob.glob(f"{app}/{pattern}")
    if len(found) != 1:
        raise SystemExit(f"expected one {pattern}, found {found}")
    return found[0]


with open(one("ios/*/Info.plist"), "rb") as f:
    info = plistlib.load(f)
with open(one("ios/*/*.entitlements"), "rb") as f:
    entitlements = plistlib.load(f)
check(
    "Info.plist: NSFaceIDUsageDescription is the configured text",
    info.get("NSFaceIDUsageDescription") == "Unlock your account key with Face ID.",
)
check(
    "entitlements: the shared keychain access group, team-prefixed",
    "$(AppIdentifierPrefix)com.example.shared" in entitlements.get("keychain-access-groups", []),
)
check(
    "entitlements: the passkey domain",
    "webcredentials:auth.example.com"
    in entitlements.get("com.apple.developer.associated-domains", []),
)

res = f"{app}/android/app/src/main/res/xml"
application = ET.parse(f"{app}/android/app/src/main/AndroidManifest.xml").getroot().find("application")
check(
    "AndroidManifest: android:fullBackupContent points at the plugin's rules",
    application.get(ANDROID + "fullBackupContent") == "@xml/localfirst_backup_rules",
)
check(
    "AndroidManifest: android:dataExtractionRules points at the plugin's rules",
    application.get(ANDROID + "dataExtractionRules") == "@xml/localfirst_data_extraction_rules",
)


def excludes_no_backup(path):
    try:
        root = ET.parse(path).getroot()
    except (OSError, ET.ParseError):
        return False
    return any(e.get("domain") == "root" and e.get("path") == "no_backup/" for e in root.iter("exclude"))


check(
    "res/xml/localfirst_backup_rules.xml excludes no_backup/",
    excludes_no_backup(f"{res}/localfirst_backup_rules.xml"),
)
data_rules = f"{res}/localfirst_data_extraction_rules.xml"
check(
    "res/xml/localfirst_data_extraction_rules.xml excludes no_backup/ from cloud backup and device transfer",
    excludes_no_backup(data_rules)
    and {s.tag for s in ET.parse(data_rules).getroot() if any(e.tag == "exclude" for e in s)}
    >= {"cloud-backup", "device-transfer"},
)

failed = results.count(False)
print(f"{len(results) - failed} passed, {failed} failed")
sys.exit(1 if failed else 0)
