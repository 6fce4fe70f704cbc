/**
 * The expo-localfirst config plugin (`plugins: ["expo-localfirst"]` in app.json):
 *
 * - iOS: the Face ID usage text (`NSFaceIDUsageDescription`), needed when a store uses
 *   `requireAuthentication`; the Keychain access groups entitlement for `accessGroup` (the
 *   app's own group first, so that it stays the default group); the
 *   associated domain `webcredentials:<rpId>` for `ExpoPasskeyBackup`.
 * - Android: Auto Backup and device-transfer rules that exclude the Keystore envelope
 *   (`no_backup/<alias>.envelope.json`). A restored envelope could never be decrypted:
 *   Keystore keys are not backed up.
 */
import {
  AndroidConfig,
  type ConfigPlugin,
  WarningAggregator,
  createRunOncePlugin,
  withAndroidManifest,
  withDangerousMod,
  withEntitlementsPlist,
  withInfoPlist,
} from 'expo/config-plugins';
import * as fs from 'fs';
import * as path from 'path';

/** Options of the plugin. */
export interface LocalFirstPluginProps {
  /**
   * The Face ID usage text. Default: a text naming the app; an existing value is kept.
   * `false` leaves Info.plist alone.
   */
  faceIDPermission?: string | false;
  /**
   * Keychain access groups to add to the entitlements (`keychain-access-groups`), e.g.
   * `com.example.shared`; `$(AppIdentifierPrefix)` is prepended unless the group already
   * starts with a team prefix. The app's own group (`$(AppIdentifierPrefix)<bundle id>`) is
   * listed first: it stays the default group. Pass the full `TEAMID.com.example.shared` as
   * the store's `accessGroup` at run time.
   */
  keychainAccessGroups?: string[];
  /**
   * Relying-party ids of `ExpoPasskeyBackup` (its `appHostname`, e.g. `myapp.com`): each
   * becomes `webcredentials:<id>` in the associated domains entitlement. `?mode=developer` may
   * follow the host. The domain must serve an `apple-app-site-association` file naming the app.
   */
  passkeyDomains?: string[];
  /** Set the Android backup rules. Default `true`. */
  configureAndroidBackup?: boolean;
}

/** Default Face ID usage text. */
export const FACE_ID_USAGE =
  'Allow $(PRODUCT_NAME) to use Face ID to unlock the key of your account.';

/** Resource names of the rules (same as the Android library's `res/xml`). */
export const BACKUP_RULES = 'localfirst_backup_rules';
/** Android 12+ rules resource. */
export const DATA_EXTRACTION_RULES = 'localfirst_data_extraction_rules';

/** The Keystore store keeps its envelope in `Context.getNoBackupFilesDir()`, i.e. `no_backup/`. */
const EXCLUDE = '<exclude domain="root" path="no_backup/" />';

/** `android:fullBackupContent` rules (Android 6 to 11). */
export const BACKUP_RULES_XML = `<?xml version="1.0" encoding="utf-8"?>
<!-- Written by expo-localfirst: keeps the Keystore envelope (no_backup/) out of Auto Backup.
     Keystore keys never leave the device, so a restored envelope could not be decrypted. -->
<full-backup-content>
    ${EXCLUDE}
</full-backup-content>
`;

/** `android:dataExtractionRules` (Android 12+). */
export const DATA_EXTRACTION_RULES_XML = `<?xml version="1.0" encoding="utf-8"?>
<!-- Written by expo-localfirst: keeps the Keystore envelope (no_backup/) out of cloud backups
     and device transfers. -->
<data-extraction-rules>
    <cloud-backup>
        ${EXCLUDE}
    </cloud-backup>
    <device-transfer>
        ${EXCLUDE}
    </device-transfer>
</data-extraction-rules>
`;

const TEAM_PREFIX = /^(\$\(AppIdentifierPrefix\)|\$\(TeamIdentifierPrefix\)|[A-Z0-9]{10}\.)/;

/** The entitlement value for an access group. */
export function accessGroupEntitlement(group: string): string {
  return TEAM_PREFIX.test(group) ? group : `$(AppIdentifierPrefix)${group}`;
}

/** The associated domains entitlement. */
export const ASSOCIATED_DOMAINS = 'com.apple.developer.associated-domains';

const PASSKEY_DOMAIN = /^[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)*(?:\?mode=(?:developer|managed|developer\+managed))?$/;

/** The associated domain entry for a passkey relying-party id. */
export function webCredentialsDomain(rpId: string): string {
  return `webcredentials:${rpId}`;
}

/** Adds `values` to the entitlement list `key`, once each, keeping what is there. */
const withEntitlementList: ConfigPlugin<{ key: string; values: string[] }> = (config, { key, values }) =>
  withEntitlementsPlist(config, (mod) => {
    mod.modResults[key] = withValues(stringList(mod.modResults[key]), values);
    return mod;
  });

function stringList(value: unknown): string[] {
  return Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string') : [];
}

function withValues(list: string[], values: string[]): string[] {
  const result = [...list];
  for (const value of values) {
    if (!result.includes(value)) {
      result.push(value);
    }
  }
  return result;
}

/**
 * The app's own Keychain access group, `$(AppIdentifierPrefix)<bundle id>`. Without a
 * `ios.bundleIdentifier` in the config, `$(PRODUCT_BUNDLE_IDENTIFIER)`, which Xcode expands
 * to the target's bundle id when it signs the app.
 */
export function ownAccessGroup(bundleIdentifier: string | undefined): string {
  return `$(AppIdentifierPrefix)${bundleIdentifier ?? '$(PRODUCT_BUNDLE_IDENTIFIER)'}`;
}

function isOwnGroup(entry: string, own: string, bundleIdentifier: string | undefined): boolean {
  if (entry === own) {
    return true;
  }
  const prefix = TEAM_PREFIX.exec(entry)?.[0];
  return bundleIdentifier !== undefined && prefix !== undefined && entry.slice(prefix.length) === bundleIdentifier;
}

/**
 * `keychain-access-groups`: the app's own group first, since the first entry is the default
 * group of every item written without an access group (the account secret, unless the store
 * is given `accessGroup`); then the groups the app already lists, then `shared`.
 */
const withKeychainAccessGroups: ConfigPlugin<string[]> = (config, shared) =>
  withEntitlementsPlist(config, (mod) => {
    const key = 'keychain-access-groups';
    const bundleIdentifier = mod.ios?.bundleIdentifier;
    const own = ownAccessGroup(bundleIdentifier);
    const existing = stringList(mod.modResults[key]);
    const existingOwn = existing.find((entry) => isOwnGroup(entry, own, bundleIdentifier));
    const others = existing.filter((entry) => entry !== existingOwn);
    if (others.length > 0 && existing[0] !== existingOwn) {
      WarningAggregator.addWarningIOS(
        'expo-localfirst',
        `keychain-access-groups started with ${others[0]}: the app's own group ${existingOwn ?? own} ` +
          'is now listed first, so items written without an access group (the account secret) ' +
          'stay in the app\'s own group. Pass accessGroup to a store to use another group.',
      );
    }
    mod.modResults[key] = withValues([existingOwn ?? own, ...others], shared.map(accessGroupEntitlement));
    return mod;
  });

const withFaceId: ConfigPlugin<string | false | undefined> = (config, faceIDPermission) =>
  withInfoPlist(config, (mod) => {
    if (faceIDPermission === false) {
      return mod;
    }
    if (typeof faceIDPermission === 'string') {
      mod.modResults.NSFaceIDUsageDescription = faceIDPermission;
    } else if (typeof mod.modResults.NSFaceIDUsageDescription !== 'string') {
      mod.modResults.NSFaceIDUsageDescription = FACE_ID_USAGE;
    }
    return mod;
  });

const withBackupRules: ConfigPlugin<boolean> = (config, configure) => {
  config = withAndroidManifest(config, (mod) => {
    const application = AndroidConfig.Manifest.getMainApplicationOrThrow(mod.modResults);
    const attributes = application.$ as Record<string, string | undefined>;
    const ours = { full: `@xml/${BACKUP_RULES}`, extraction: `@xml/${DATA_EXTRACTION_RULES}` };
    const full = attributes['android:fullBackupContent'];
    const extraction = attributes['android:dataExtractionRules'];
    if (!configure) {
      if (full === ours.full) delete attributes['android:fullBackupContent'];
      if (extraction === ours.extraction) delete attributes['android:dataExtractionRules'];
      return mod;
    }
    if (attributes['android:allowBackup'] === 'false') {
      return mod;
    }
    const free = (value: string | undefined, mine: string) => value === undefined || value === mine;
    if (free(full, ours.full) && free(extraction, ours.extraction)) {
      attributes['android:fullBackupContent'] = ours.full;
      attributes['android:dataExtractionRules'] = ours.extraction;
    } else {
      WarningAggregator.addWarningAndroid(
        'expo-localfirst',
        'The app already has Android backup rules: add <exclude domain="root" path="no_backup/" /> ' +
          'to them (full-backup-content, and cloud-backup and device-transfer of ' +
          'data-extraction-rules) so the Keystore envelope is never backed up.',
      );
    }
    return mod;
  });
  if (!configure) {
    return config;
  }
  return withDangerousMod(config, [
    'android',
    async (mod) => {
      const xmlDir = path.join(mod.modRequest.platformProjectRoot, 'app/src/main/res/xml');
      await fs.promises.mkdir(xmlDir, { recursive: true });
      await fs.promises.writeFile(path.join(xmlDir, `${BACKUP_RULES}.xml`), BACKUP_RULES_XML);
      await fs.promises.writeFile(
        path.join(xmlDir, `${DATA_EXTRACTION_RULES}.xml`),
        DATA_EXTRACTION_RULES_XML,
      );
      return mod;
    },
  ]);
};

/** The plugin without the run-once guard (for composition and tests). */
export const withLocalFirst: ConfigPlugin<LocalFirstPluginProps | void> = (config, props) => {
  const {
    faceIDPermission,
    keychainAccessGroups = [],
    passkeyDomains = [],
    configureAndroidBackup = true,
  } = props ?? {};
  if (!Array.isArray(passkeyDomains) || passkeyDomains.some((d) => typeof d !== 'string' || !PASSKEY_DOMAIN.test(d))) {
    throw new Error(
      'expo-localfirst: passkeyDomains must be a list of host names (the passkey relying-party ids, e.g. "myapp.com"), without scheme, port or path',
    );
  }
  if (!Array.isArray(keychainAccessGroups) || keychainAccessGroups.some((g) => typeof g !== 'string' || g.trim() === '')) {
    throw new Error('expo-localfirst: keychainAccessGroups must be a list of non-empty strings');
  }
  config = withFaceId(config, faceIDPermission);
  if (keychainAccessGroups.length > 0) {
    config = withKeychainAccessGroups(config, keychainAccessGroups);
  }
  if (passkeyDomains.length > 0) {
    config = withEntitlementList(config, {
      key: ASSOCIATED_DOMAINS,
      values: passkeyDomains.map(webCredentialsDomain),
    });
  }
  return withBackupRules(config, configureAndroidBackup);
};

// eslint-disable-next-line @typescript-eslint/no-require-imports
const pkg = require('../../package.json') as { name: string; version: string };

export default createRunOncePlugin(withLocalFirst, pkg.name, pkg.version);
