import { AndroidConfig, compileModsAsync } from 'expo/config-plugins';
import type { ExpoConfig } from 'expo/config';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

import plugin, {
  ASSOCIATED_DOMAINS,
  BACKUP_RULES_XML,
  DATA_EXTRACTION_RULES_XML,
  FACE_ID_USAGE,
  withLocalFirst,
  type LocalFirstPluginProps,
} from '..';

const SAMPLE_MANIFEST = `<?xml version="1.0" encoding="utf-8"?>
<manifest xmlns:android="http://schemas.android.com/apk/res/android">
  <application android:name=".MainApplication" android:label="@string/app_name" %ATTRS%>
    <activity android:name=".MainActivity" android:exported="true" />
  </application>
</manifest>
`;

let projectRoot: string;

beforeEach(() => {
  projectRoot = fs.mkdtempSync(path.join(os.tmpdir(), 'localfirst-plugin-'));
});

afterEach(() => {
  fs.rmSync(projectRoot, { recursive: true, force: true });
});

function baseConfig(extra: Partial<ExpoConfig> = {}): ExpoConfig {
  return {
    name: 'Sample',
    slug: 'sample',
    ios: { bundleIdentifier: 'com.example.sample' },
    android: { package: 'com.example.sample' },
    ...extra,
  };
}

/** Runs the iOS mods in introspection mode (no Xcode project needed): Info.plist and entitlements. */
async function compileIos(props?: LocalFirstPluginProps, config = baseConfig()) {
  const compiled = await compileModsAsync(withLocalFirst(config, props), {
    projectRoot,
    platforms: ['ios'],
    introspect: true,
  });
  return { infoPlist: compiled.ios?.infoPlist ?? {}, entitlements: compiled.ios?.entitlements ?? {} };
}

/** Writes a sample Android project, runs the Android mods for real, and reads what they wrote. */
async function compileAndroid(props?: LocalFirstPluginProps, manifestAttributes = '') {
  const main = path.join(projectRoot, 'android/app/src/main');
  fs.mkdirSync(main, { recursive: true });
  fs.writeFileSync(path.join(main, 'AndroidManifest.xml'), SAMPLE_MANIFEST.replace('%ATTRS%', manifestAttributes));
  await compileModsAsync(withLocalFirst(baseConfig(), props), { projectRoot, platforms: ['android'] });
  const manifest = await AndroidConfig.Manifest.readAndroidManifestAsync(path.join(main, 'AndroidManifest.xml'));
  const application = AndroidConfig.Manifest.getMainApplicationOrThrow(manifest).$ as Record<string, string>;
  const read = (name: string) => {
    const file = path.join(main, 'res/xml', `${name}.xml`);
    return fs.existsSync(file) ? fs.readFileSync(file, 'utf8') : null;
  };
  return {
    application,
    backupRules: read('localfirst_backup_rules'),
    extractionRules: read('localfirst_data_extraction_rules'),
  };
}

describe('iOS', () => {
  test('adds the default Face ID text and no entitlement by default', async () => {
    const { infoPlist, entitlements } = await compileIos();
    expect(infoPlist.NSFaceIDUsageDescription).toBe(FACE_ID_USAGE);
    expect(entitlements['keychain-access-groups']).toBeUndefined();
  });

  test('a given Face ID text wins; an existing one is kept when none is given; false leaves it', async () => {
    expect((await compileIos({ faceIDPermission: 'Unlock your key' })).infoPlist.NSFaceIDUsageDescription).toBe(
      'Unlock your key',
    );
    const existing = baseConfig({ ios: { infoPlist: { NSFaceIDUsageDescription: 'Mine' } } });
    expect((await compileIos(undefined, existing)).infoPlist.NSFaceIDUsageDescription).toBe('Mine');
    expect((await compileIos({ faceIDPermission: false })).infoPlist.NSFaceIDUsageDescription).toBeUndefined();
  });

  test("lists the app's own group first (the default group), then the shared ones with the team prefix, once", async () => {
    const { entitlements } = await compileIos({
      keychainAccessGroups: ['com.example.shared', 'ABCDE12345.com.example.team', 'com.example.shared'],
    });
    expect(entitlements['keychain-access-groups']).toEqual([
      '$(AppIdentifierPrefix)com.example.sample',
      '$(AppIdentifierPrefix)com.example.shared',
      'ABCDE12345.com.example.team',
    ]);
  });

  test("keeps the app's existing groups after its own group, which moves first (with a warning)", async () => {
    const warnings = jest.spyOn(console, 'warn').mockImplementation(() => {});
    const config = baseConfig({
      ios: {
        bundleIdentifier: 'com.example.sample',
        entitlements: {
          'keychain-access-groups': ['$(AppIdentifierPrefix)com.example.existing', 'ABCDE12345.com.example.sample'],
        },
      },
    });
    const { entitlements } = await compileIos({ keychainAccessGroups: ['com.example.shared'] }, config);
    expect(entitlements['keychain-access-groups']).toEqual([
      'ABCDE12345.com.example.sample',
      '$(AppIdentifierPrefix)com.example.existing',
      '$(AppIdentifierPrefix)com.example.shared',
    ]);
    expect(warnings).toHaveBeenCalledWith(expect.stringMatching(/expo-localfirst[\s\S]*com\.example\.existing/));
    warnings.mockRestore();
  });

  test("an own group already first stays, without a warning", async () => {
    const warnings = jest.spyOn(console, 'warn').mockImplementation(() => {});
    const config = baseConfig({
      ios: {
        bundleIdentifier: 'com.example.sample',
        entitlements: { 'keychain-access-groups': ['$(AppIdentifierPrefix)com.example.sample'] },
      },
    });
    const { entitlements } = await compileIos({ keychainAccessGroups: ['com.example.shared'] }, config);
    expect(entitlements['keychain-access-groups']).toEqual([
      '$(AppIdentifierPrefix)com.example.sample',
      '$(AppIdentifierPrefix)com.example.shared',
    ]);
    expect(warnings).not.toHaveBeenCalled();
    warnings.mockRestore();
  });

  test("without a bundle identifier the own group is the target's, expanded by Xcode", async () => {
    const { entitlements } = await compileIos(
      { keychainAccessGroups: ['com.example.shared'] },
      baseConfig({ ios: {} }),
    );
    expect(entitlements['keychain-access-groups']).toEqual([
      '$(AppIdentifierPrefix)$(PRODUCT_BUNDLE_IDENTIFIER)',
      '$(AppIdentifierPrefix)com.example.shared',
    ]);
  });

  test('refuses malformed access groups', () => {
    expect(() => withLocalFirst(baseConfig(), { keychainAccessGroups: [''] })).toThrow(/keychainAccessGroups/);
  });
});

describe('iOS passkeys', () => {
  test('no associated domain unless asked', async () => {
    expect((await compileIos()).entitlements[ASSOCIATED_DOMAINS]).toBeUndefined();
  });

  test('adds webcredentials:<rpId>, once, keeping existing domains', async () => {
    const config = baseConfig({
      ios: { entitlements: { [ASSOCIATED_DOMAINS]: ['applinks:myapp.com'] } },
    });
    const { entitlements } = await compileIos(
      { passkeyDomains: ['myapp.com', 'login.myapp.com?mode=developer', 'myapp.com'] },
      config,
    );
    expect(entitlements[ASSOCIATED_DOMAINS]).toEqual([
      'applinks:myapp.com',
      'webcredentials:myapp.com',
      'webcredentials:login.myapp.com?mode=developer',
    ]);
  });

  test('refuses what is not a host name', () => {
    for (const bad of ['', 'https://myapp.com', 'myapp.com/path', 'myapp.com:443', 'my app.com', '.myapp.com', 'myapp.com?mode=x']) {
      expect(() => withLocalFirst(baseConfig(), { passkeyDomains: [bad] })).toThrow(/passkeyDomains/);
    }
    expect(() =>
      withLocalFirst(baseConfig(), { passkeyDomains: 'myapp.com' as unknown as string[] }),
    ).toThrow(/passkeyDomains/);
  });
});

describe('Android', () => {
  test('points the manifest at the rules and writes rules that exclude no_backup/', async () => {
    const { application, backupRules, extractionRules } = await compileAndroid();
    expect(application['android:fullBackupContent']).toBe('@xml/localfirst_backup_rules');
    expect(application['android:dataExtractionRules']).toBe('@xml/localfirst_data_extraction_rules');
    expect(backupRules).toBe(BACKUP_RULES_XML);
    expect(extractionRules).toBe(DATA_EXTRACTION_RULES_XML);
    const exclude = '<exclude domain="root" path="no_backup/" />';
    expect(backupRules!.split(exclude)).toHaveLength(2);
    // Both cloud backups and device transfers.
    expect(extractionRules!.split(exclude)).toHaveLength(3);
  });

  test('the written rules match the Android library\'s own', () => {
    const strip = (xml: string) =>
      xml.replace(/<!--[\s\S]*?-->/g, '').replace(/<\?xml[^>]*>/, '').replace(/\s+/g, '');
    const lib = path.join(__dirname, '../../../../android-lib/src/main/res/xml');
    expect(strip(BACKUP_RULES_XML)).toBe(strip(fs.readFileSync(path.join(lib, 'localfirst_backup_rules.xml'), 'utf8')));
    expect(strip(DATA_EXTRACTION_RULES_XML)).toBe(
      strip(fs.readFileSync(path.join(lib, 'localfirst_data_extraction_rules.xml'), 'utf8')),
    );
  });

  test('other rules already present are kept, with a warning', async () => {
    const warn = jest.spyOn(console, 'warn').mockImplementation(() => {});
    const { application } = await compileAndroid(
      {},
      'android:fullBackupContent="@xml/secure_store_backup_rules" android:dataExtractionRules="@xml/secure_store_data_extraction_rules"',
    );
    expect(application['android:fullBackupContent']).toBe('@xml/secure_store_backup_rules');
    expect(application['android:dataExtractionRules']).toBe('@xml/secure_store_data_extraction_rules');
    expect(warn).toHaveBeenCalledWith(expect.stringMatching(/expo-localfirst[\s\S]*no_backup\//));
    warn.mockRestore();
  });

  test('allowBackup="false" needs no rules', async () => {
    const { application } = await compileAndroid({}, 'android:allowBackup="false"');
    expect(application['android:fullBackupContent']).toBeUndefined();
  });

  test('configureAndroidBackup false removes only our attributes and writes nothing', async () => {
    const { application, backupRules } = await compileAndroid(
      { configureAndroidBackup: false },
      'android:fullBackupContent="@xml/localfirst_backup_rules" android:dataExtractionRules="@xml/theirs"',
    );
    expect(application['android:fullBackupContent']).toBeUndefined();
    expect(application['android:dataExtractionRules']).toBe('@xml/theirs');
    expect(backupRules).toBeNull();
  });
});

test('the default export runs once per config', async () => {
  const config = plugin(plugin(baseConfig(), { faceIDPermission: 'first' }), { faceIDPermission: 'second' });
  const compiled = await compileModsAsync(config, { projectRoot, platforms: ['ios'], introspect: true });
  expect(compiled.ios?.infoPlist?.NSFaceIDUsageDescription).toBe('first');
});
