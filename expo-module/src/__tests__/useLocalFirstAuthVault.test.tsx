/**
 * useLocalFirstAuth({ vault }): after the load, the hook runs the vault flow. The vault's
 * identity is restored, or this device's is backed up; nothing is created before the vault has
 * answered; a failing vault and a conflict are `error`, never a fresh or replaced identity.
 */
import { act, renderHook, waitFor } from '@testing-library/react-native';

import { AuthSecret, ExpoAuthSecretStore, VaultError, useLocalFirstAuth, type LocalFirstAuth } from '..';
import { resetAuthState } from '../authState';
import { freshDevice, identityVectors, native, rejectionOf } from './helpers';
import { TestVault } from './vaultDouble';

beforeEach(freshDevice);

const [mine, theirs] = identityVectors().map((v) => v.seed_b64url) as [string, string];

async function storedEarlier(secret: string) {
  await ExpoAuthSecretStore.saveSecret(secret);
  resetAuthState();
}

async function settled(vault: TestVault) {
  const renders: LocalFirstAuth[] = [];
  const hook = await renderHook(() => {
    const auth = useLocalFirstAuth({ vault });
    renders.push(auth);
    return auth;
  });
  // Loading until the vault has answered and the flow has settled: never signed out meanwhile.
  const beforeSettled = renders.slice(0, renders.findIndex((r) => !r.isLoading));
  expect(beforeSettled.length).toBeGreaterThan(0);
  for (const render of beforeSettled) {
    expect(render).toMatchObject({ isLoading: true, error: null });
  }
  await waitFor(() => expect(hook.result.current.isLoading).toBe(false));
  expect(vault.loads).toBeGreaterThan(0);
  return hook;
}

test("a new device signs in with the vault's identity; nothing is created first", async () => {
  const vault = new TestVault(theirs);
  const hook = await settled(vault);
  await waitFor(() => expect(hook.result.current.secret).toBe(theirs));
  expect(hook.result.current.userId).toBe(AuthSecret.userId(theirs));
  expect(hook.result.current.error).toBeNull();
  expect(native.getOrCreateSecret).not.toHaveBeenCalled();
  expect(vault.stores).toBe(0);
});

test("an empty vault: the device's new identity is created and backed up once, for every hook", async () => {
  const vault = new TestVault();
  const first = await renderHook(() => useLocalFirstAuth({ vault }));
  const second = await renderHook(() => useLocalFirstAuth({ vault }));
  await waitFor(() => expect(first.result.current.secret).not.toBeNull());
  await waitFor(() => expect(second.result.current.secret).toBe(first.result.current.secret));
  expect(vault.value).toBe(first.result.current.secret);
  expect(await ExpoAuthSecretStore.loadSecret()).toBe(vault.value);
  expect(vault.stores).toBe(1);
});

test('a vault that fails is an error and creates nothing; syncWithVault retries', async () => {
  const vault = new TestVault();
  vault.faults = { loadError: 'offline' };
  const hook = await settled(vault);
  await waitFor(() => expect(hook.result.current.error).toMatchObject({ code: 'vault-unavailable' }));
  expect(hook.result.current.secret).toBeNull();
  expect(await ExpoAuthSecretStore.loadSecret()).toBeNull();
  expect(native.getOrCreateSecret).not.toHaveBeenCalled();

  vault.faults = {};
  vault.value = theirs;
  await act(async () => {
    expect((await hook.result.current.syncWithVault()).outcome).toBe('restored');
  });
  expect(hook.result.current.error).toBeNull();
  expect(hook.result.current.secret).toBe(theirs);
});

test('a conflict is an error with both ids, never a replaced identity; adopting clears it', async () => {
  await storedEarlier(mine);
  const vault = new TestVault(theirs);
  const hook = await settled(vault);
  await waitFor(() => expect(hook.result.current.error).toMatchObject({ code: 'vault-identity-conflict' }));
  const error = hook.result.current.error as VaultError;
  expect(error).toBeInstanceOf(VaultError);
  expect(error.deviceUserId).toBe(AuthSecret.userId(mine));
  expect(error.vaultUserId).toBe(AuthSecret.userId(theirs));
  // The device keeps (and shows) its own identity.
  expect(hook.result.current.secret).toBe(mine);
  expect(await ExpoAuthSecretStore.loadSecret()).toBe(mine);

  await act(async () => {
    const adopted = await hook.result.current.adoptVaultIdentity(error.vaultUserId!);
    expect(adopted.replaced).toBe(mine);
  });
  expect(hook.result.current.error).toBeNull();
  expect(hook.result.current.secret).toBe(theirs);
});

test('without a vault, the vault functions refuse', async () => {
  const hook = await renderHook(() => useLocalFirstAuth());
  await waitFor(() => expect(hook.result.current.isLoading).toBe(false));
  expect(await rejectionOf(hook.result.current.syncWithVault())).toMatchObject({ code: 'invalid-argument' });
  expect(native.vaultRestore).not.toHaveBeenCalled();
});

test('a new vault object on every render runs the flow once per mount', async () => {
  const vault = new TestVault(theirs);
  const hook = await renderHook(() => useLocalFirstAuth({ vault: { load: () => vault.load(), store: (s) => vault.store(s) } }));
  await waitFor(() => expect(hook.result.current.secret).toBe(theirs));
  await hook.rerender({});
  await act(async () => {});
  expect(vault.loads).toBe(1);
});
