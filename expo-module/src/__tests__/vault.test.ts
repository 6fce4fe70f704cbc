/**
 * The vault flow in TypeScript: the vault's I/O and timeout here, every decision in the real
 * core (through the native vault steps, here `@localfirst/node`): empty vault, populated vault,
 * another identity and its adoption, corrupt values, a vault that fails or stays silent, a
 * write that does not read back, and store failures.
 */
import {
  AuthSecret,
  ExpoAuthSecretStore,
  LocalFirstError,
  VaultError,
  adoptVaultIdentity,
  restoreOrBackupWithVault,
} from '..';
import { freshDevice, identityVectors, native, rejectionOf } from './helpers';
import { TestVault } from './vaultDouble';

beforeEach(freshDevice);
afterEach(() => jest.useRealTimers());

const [mine, theirs] = identityVectors().map((v) => v.seed_b64url) as [string, string];

test('an empty vault on a new device: created, backed up, read back; then in sync', async () => {
  const vault = new TestVault();
  const identity = await restoreOrBackupWithVault(vault, { appId: 'vault' });
  expect(identity).toMatchObject({ outcome: 'backed-up', created: true });
  const stored = await ExpoAuthSecretStore.loadSecret({ appId: 'vault' });
  expect(identity.secret).toBe(stored);
  expect(identity.userId).toBe(AuthSecret.userId(stored!));
  expect(vault.value).toBe(stored);
  expect([vault.loads, vault.stores]).toEqual([2, 1]);

  const again = await restoreOrBackupWithVault(vault, { appId: 'vault' });
  expect(again).toMatchObject({ outcome: 'in-sync', created: false, secret: stored });
});

test('an empty vault on a device with an identity backs that identity up', async () => {
  await ExpoAuthSecretStore.saveSecret(mine);
  const vault = new TestVault();
  const identity = await restoreOrBackupWithVault(vault);
  expect(identity).toMatchObject({ outcome: 'backed-up', created: false, secret: mine });
  expect(vault.value).toBe(mine);
});

test('a populated vault restores onto a new device and is never written', async () => {
  const vault = new TestVault(theirs);
  const store = new ExpoAuthSecretStore({ key: 'vault-restore' });
  const identity = await restoreOrBackupWithVault(vault, { store });
  expect(identity).toMatchObject({ outcome: 'restored', secret: theirs, userId: AuthSecret.userId(theirs) });
  expect(await store.loadSecret()).toBe(theirs);
  expect(vault.stores).toBe(0);
});

test('another identity: a conflict with both ids, nothing replaced; adopted only on consent', async () => {
  await ExpoAuthSecretStore.saveSecret(mine);
  const vault = new TestVault(theirs);
  const conflict = await rejectionOf(restoreOrBackupWithVault(vault));
  expect(conflict).toBeInstanceOf(VaultError);
  expect(conflict).toBeInstanceOf(LocalFirstError);
  expect(conflict).toMatchObject({
    code: 'vault-identity-conflict',
    deviceUserId: AuthSecret.userId(mine),
    vaultUserId: AuthSecret.userId(theirs),
  });
  expect(await ExpoAuthSecretStore.loadSecret()).toBe(mine);
  expect([vault.value, vault.stores]).toEqual([theirs, 0]);

  // Consent to an id the vault does not hold: refused, nothing replaced.
  expect(await rejectionOf(adoptVaultIdentity(vault, AuthSecret.userId(mine)))).toMatchObject({
    code: 'vault-identity-conflict',
  });
  expect(await ExpoAuthSecretStore.loadSecret()).toBe(mine);

  const adopted = await adoptVaultIdentity(vault, (conflict as VaultError).vaultUserId!);
  expect(adopted).toEqual({ userId: AuthSecret.userId(theirs), secret: theirs, replaced: mine });
  expect(await ExpoAuthSecretStore.loadSecret()).toBe(theirs);
  expect((await restoreOrBackupWithVault(vault)).outcome).toBe('in-sync');
});

test('adopting from an empty or failing vault replaces nothing', async () => {
  await ExpoAuthSecretStore.saveSecret(mine);
  expect(await rejectionOf(adoptVaultIdentity(new TestVault(), AuthSecret.userId(theirs)))).toMatchObject({
    code: 'vault-unavailable',
  });
  const failing = new TestVault(theirs);
  failing.faults = { loadError: 'HTTP 503' };
  expect(await rejectionOf(adoptVaultIdentity(failing, AuthSecret.userId(theirs)))).toMatchObject({
    code: 'vault-unavailable',
  });
  expect(await ExpoAuthSecretStore.loadSecret()).toBe(mine);
});

test('a corrupt vault value replaces nothing', async () => {
  for (const device of [null, mine]) {
    for (const bad of ['', 'not a secret', 'QUJD', 'A'.repeat(44), 42, { secret: mine }]) {
      freshDevice();
      if (device !== null) await ExpoAuthSecretStore.saveSecret(device);
      const vault = new TestVault();
      vault.faults = { loadAnswer: bad };
      const error = await rejectionOf(restoreOrBackupWithVault(vault));
      expect(error).toMatchObject({ code: 'vault-corrupt' });
      expect(await ExpoAuthSecretStore.loadSecret()).toBe(device);
      expect(vault.stores).toBe(0);
    }
  }
});

test('a vault that fails, answers undefined or stays silent never leads to a new identity', async () => {
  jest.useFakeTimers();
  const cases: [TestVault['faults'], string][] = [
    [{ loadError: 'HTTP 503' }, 'vault-unavailable'],
    [{ loadAnswer: undefined }, 'vault-unavailable'],
    [{ hangLoad: true }, 'vault-timeout'],
  ];
  for (const [faults, code] of cases) {
    freshDevice();
    const vault = new TestVault();
    vault.faults = faults;
    const flow = rejectionOf(restoreOrBackupWithVault(vault, { timeoutMs: 3000 }));
    await jest.advanceTimersByTimeAsync(3000);
    expect(await flow).toMatchObject({ code });
    expect(await ExpoAuthSecretStore.loadSecret()).toBeNull();
    expect(native.getOrCreateSecret).not.toHaveBeenCalled();
    expect(native.vaultBackupSecret).not.toHaveBeenCalled();
    expect(vault.stores).toBe(0);
  }
});

test('the timeout bounds each call and only fires when the vault is silent', async () => {
  jest.useFakeTimers();
  const vault = new TestVault();
  vault.faults = { hangLoad: true };
  let settled = false;
  const flow = rejectionOf(restoreOrBackupWithVault(vault, { timeoutMs: 3000 })).finally(() => {
    settled = true;
  });
  await jest.advanceTimersByTimeAsync(2999);
  expect(settled).toBe(false);
  await jest.advanceTimersByTimeAsync(1);
  expect(await flow).toMatchObject({ code: 'vault-timeout' });
});

test('a failed, silent, dropped or overtaken backup write keeps the device identity', async () => {
  jest.useFakeTimers();
  const cases: [TestVault['faults'], string][] = [
    [{ storeError: 'quota' }, 'vault-unavailable'],
    [{ hangStore: true }, 'vault-timeout'],
    [{ dropWrites: true }, 'vault-write-unconfirmed'],
    [{ storeInstead: theirs }, 'vault-identity-conflict'],
  ];
  for (const [faults, code] of cases) {
    freshDevice();
    await ExpoAuthSecretStore.saveSecret(mine);
    const vault = new TestVault();
    vault.faults = faults;
    const flow = rejectionOf(restoreOrBackupWithVault(vault, { timeoutMs: 1000 }));
    await jest.advanceTimersByTimeAsync(1000);
    const error = await flow;
    expect(error).toMatchObject({ code });
    if (code === 'vault-identity-conflict') {
      expect(error).toMatchObject({ deviceUserId: AuthSecret.userId(mine), vaultUserId: AuthSecret.userId(theirs) });
    }
    expect(await ExpoAuthSecretStore.loadSecret()).toBe(mine);
    expect(vault.stores).toBe(1);
  }
});

test('store failures keep their own code and are not vault errors', async () => {
  native.vaultRestore.mockResolvedValueOnce({
    code: 'secret-store-unavailable',
    message: 'device locked',
    deviceUserId: null,
    vaultUserId: null,
    outcome: null,
    created: false,
    userId: null,
    secret: null,
    replaced: null,
  });
  const error = await rejectionOf(restoreOrBackupWithVault(new TestVault(theirs)));
  expect(error).toBeInstanceOf(LocalFirstError);
  expect(error).not.toBeInstanceOf(VaultError);
  expect(error).toMatchObject({ code: 'secret-store-unavailable' });
  expect(await ExpoAuthSecretStore.loadSecret()).toBeNull();
});

test('bad options are refused before the vault is asked', async () => {
  const vault = new TestVault();
  for (const options of [{ timeoutMs: 0 }, { timeoutMs: Number.NaN }, { store: ExpoAuthSecretStore.default, appId: 'x' }]) {
    await expect(restoreOrBackupWithVault(vault, options)).rejects.toMatchObject({ code: 'invalid-argument' });
  }
  await expect(adoptVaultIdentity(vault, 42 as unknown as string)).rejects.toMatchObject({ code: 'invalid-argument' });
  expect(vault.loads).toBe(0);
});
