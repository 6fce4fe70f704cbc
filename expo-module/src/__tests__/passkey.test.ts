/**
 * ExpoPasskeyBackup against the stand-in's simulated authenticator: registration keeps the user
 * handle of the request the real core built, and every restore is an assertion built as an
 * authenticator builds it (SHA-256(rpId) | flags | counter, and the user handle) and checked by
 * the real core. Platform failures keep their codes.
 */
import { readFileSync } from 'fs';
import { join } from 'path';

import { simulatedAuthenticator } from '../../mocks/ExpoLocalFirst';
import {
  AuthSecret,
  ExpoAuthSecretStore,
  ExpoPasskeyBackup,
  LocalFirstError,
  PasskeyBackupError,
} from '..';
import { freshDevice, identityVectors, native, rejectionOf, thrownBy } from './helpers';

beforeEach(freshDevice);

const secret = identityVectors()[0]!.seed_b64url;
const backup = new ExpoPasskeyBackup({ appName: 'My App', appHostname: 'myapp.example' });

test("Jazz's shape: backup(secret, displayName), then restore() returns the secret", async () => {
  expect(backup).toMatchObject({ appName: 'My App', appHostname: 'myapp.example' });
  await backup.backup(secret, 'alice@myapp.example');
  expect(simulatedAuthenticator.passkeys).toEqual([
    { rpId: 'myapp.example', userHandle: secret, displayName: 'alice@myapp.example' },
  ]);
  expect(await backup.restore()).toBe(secret);

  // A restore on a "new device" signs in as the same user.
  const restored = await backup.restore();
  await ExpoAuthSecretStore.saveSecret(restored);
  expect(AuthSecret.userId((await ExpoAuthSecretStore.loadSecret())!)).toBe(AuthSecret.userId(secret));
});

test('a passkey made by the web app (the shared corpus) restores here', async () => {
  const corpus = JSON.parse(
    readFileSync(join(__dirname, '../../../core/tests/data/passkey/assertions.json'), 'utf8'),
  ) as { rp_id: string; secret: string };
  simulatedAuthenticator.passkeys = [{ rpId: corpus.rp_id, userHandle: corpus.secret, displayName: 'web' }];
  expect(await backup.restore()).toBe(corpus.secret);
});

test('passkeys are scoped to the relying-party id', async () => {
  await backup.backup(secret, 'alice');
  const other = new ExpoPasskeyBackup({ appName: 'My App', appHostname: 'preview.myapp.example' });
  const error = await rejectionOf(other.restore());
  expect(error).toBeInstanceOf(PasskeyBackupError);
  expect(error).toBeInstanceOf(LocalFirstError);
  expect(error).toMatchObject({ code: 'no-credential', name: 'PasskeyBackupError' });
});

test('no passkey: no-credential', async () => {
  expect(await rejectionOf(backup.restore())).toMatchObject({ code: 'no-credential' });
});

test('the core refuses an assertion without user presence and verification', async () => {
  await backup.backup(secret, 'alice');
  for (const flags of [0x00, 0x01, 0x04, 0x18, 0x41, 0xfa]) {
    simulatedAuthenticator.flags = flags;
    expect(await rejectionOf(backup.restore())).toMatchObject({ code: 'verification-failed' });
  }
  for (const flags of [0x05, 0x1d, 0x45, 0xff]) {
    simulatedAuthenticator.flags = flags;
    expect(await backup.restore()).toBe(secret);
  }
});

test('a user handle that is not a secret: invalid-credential', async () => {
  await backup.backup(secret, 'alice');
  for (const handle of [null, '', secret.slice(0, 42), `${secret}AA`]) {
    simulatedAuthenticator.userHandleNext = handle;
    expect(await rejectionOf(backup.restore())).toMatchObject({ code: 'invalid-credential' });
  }
  expect(await backup.restore()).toBe(secret);
});

test('platform failures keep their codes', async () => {
  simulatedAuthenticator.failNext = { code: 'create-failed', message: 'the user cancelled' };
  expect(await rejectionOf(backup.backup(secret, 'alice'))).toMatchObject({
    code: 'create-failed',
    message: 'the user cancelled',
  });
  expect(simulatedAuthenticator.passkeys).toEqual([]);
  await backup.backup(secret, 'alice');
  simulatedAuthenticator.failNext = { code: 'get-failed', message: 'timed out' };
  expect(await rejectionOf(backup.restore())).toMatchObject({ code: 'get-failed' });

  simulatedAuthenticator.supported = false;
  expect(await rejectionOf(backup.backup(secret, 'alice'))).toMatchObject({ code: 'not-supported' });
  expect(await rejectionOf(backup.restore())).toMatchObject({ code: 'not-supported' });
});

test('a value that is not a secret is refused before the platform is asked', async () => {
  for (const bad of ['', 'not a secret', `${secret}=`, 42 as unknown as string]) {
    expect(await rejectionOf(backup.backup(bad, 'alice'))).toMatchObject({ code: 'invalid-secret' });
  }
  expect(native.passkeyBackup).not.toHaveBeenCalled();
});

test('bad names are refused by the core with invalid-argument', async () => {
  const badHost = new ExpoPasskeyBackup({ appName: 'My App', appHostname: 'https://myapp.example' });
  expect(await rejectionOf(badHost.backup(secret, 'alice'))).toMatchObject({ code: 'invalid-argument' });
  expect(await rejectionOf(badHost.restore())).toMatchObject({ code: 'invalid-argument' });
  expect(await rejectionOf(backup.backup(secret, ''))).toMatchObject({ code: 'invalid-argument' });
  expect(
    thrownBy(() => new ExpoPasskeyBackup({ appName: 'My App' } as unknown as { appName: string; appHostname: string })),
  ).toMatchObject({ code: 'invalid-argument' });
  expect(simulatedAuthenticator.passkeys).toEqual([]);
});

test('an unexpected native failure stays a LocalFirstError with its code', async () => {
  native.passkeyRestore.mockRejectedValueOnce(Object.assign(new Error('boom'), { code: 'secret-store-backend' }));
  const error = await rejectionOf(backup.restore());
  expect(error).not.toBeInstanceOf(PasskeyBackupError);
  expect(error).toMatchObject({ code: 'secret-store-backend' });
});
