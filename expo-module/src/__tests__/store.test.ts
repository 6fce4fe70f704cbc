import { ExpoAuthSecretStore, LocalFirstError } from '..';
import { freshDevice, native, nativeError, rejectionOf, thrownBy } from './helpers';

beforeEach(freshDevice);

describe('ExpoAuthSecretStore over the core', () => {
  test('load of an empty store is null; getOrCreate creates once and then reads it back', async () => {
    const store = new ExpoAuthSecretStore({ appId: 'my-app' });
    expect(await store.loadSecret()).toBeNull();
    const created = await store.getOrCreateSecret();
    expect(created).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(await store.getOrCreateSecret()).toBe(created);
    expect(await new ExpoAuthSecretStore({ appId: 'my-app' }).loadSecret()).toBe(created);
  });

  test('save replaces, clear removes, clearing twice succeeds', async () => {
    const store = new ExpoAuthSecretStore();
    const first = await store.getOrCreateSecret();
    const second = (await new ExpoAuthSecretStore({ key: 'scratch' }).getOrCreateSecret());
    await store.saveSecret(second);
    expect(await store.loadSecret()).toBe(second);
    expect(await store.loadSecret()).not.toBe(first);
    await store.clearSecret();
    expect(await store.loadSecret()).toBeNull();
    await store.clearSecret();
    expect(await store.loadSecret()).toBeNull();
  });

  test('stores are namespaced by storage key exactly as the core names them', async () => {
    const app = new ExpoAuthSecretStore({ appId: 'my app' });
    const user = new ExpoAuthSecretStore({ appId: 'my app', userId: 'u1' });
    const explicit = new ExpoAuthSecretStore({ key: 'jazz-auth-secret:my%20app' });
    expect(ExpoAuthSecretStore.default.storageKey).toBe('jazz-auth-secret');
    expect(app.storageKey).toBe('jazz-auth-secret:my%20app');
    expect(user.storageKey).toBe('jazz-auth-secret:my%20app:u1');
    const secret = await app.getOrCreateSecret();
    expect(await user.loadSecret()).toBeNull();
    expect(await ExpoAuthSecretStore.default.loadSecret()).toBeNull();
    // The same key reached through an explicit name is the same item.
    expect(await explicit.loadSecret()).toBe(secret);
  });

  test('static forms act on the default store or the one the options name', async () => {
    const secret = await ExpoAuthSecretStore.getOrCreateSecret();
    expect(await ExpoAuthSecretStore.loadSecret()).toBe(secret);
    expect(await ExpoAuthSecretStore.default.loadSecret()).toBe(secret);
    await ExpoAuthSecretStore.saveSecret(secret, { appId: 'other' });
    expect(await ExpoAuthSecretStore.loadSecret({ appId: 'other' })).toBe(secret);
    await ExpoAuthSecretStore.clearSecret();
    expect(await ExpoAuthSecretStore.loadSecret()).toBeNull();
    expect(await ExpoAuthSecretStore.loadSecret({ appId: 'other' })).toBe(secret);
  });

  test('createSecret stores only into an empty store and never replaces', async () => {
    const store = new ExpoAuthSecretStore();
    const mine = await new ExpoAuthSecretStore({ key: 'a' }).getOrCreateSecret();
    const theirs = await new ExpoAuthSecretStore({ key: 'b' }).getOrCreateSecret();
    expect(await store.createSecret(mine)).toBe(mine);
    expect(await store.createSecret(theirs)).toBe(mine);
    expect(await store.loadSecret()).toBe(mine);
  });

  test('concurrent getOrCreateSecret calls, from any instance, resolve to one identity', async () => {
    const results = await Promise.all(
      Array.from({ length: 16 }, (_, i) =>
        i % 2 === 0
          ? new ExpoAuthSecretStore({ appId: 'race' }).getOrCreateSecret()
          : ExpoAuthSecretStore.getOrCreateSecret({ appId: 'race' }),
      ),
    );
    expect(new Set(results).size).toBe(1);
    expect(native.getOrCreateSecret).toHaveBeenCalledTimes(1);
    expect(await ExpoAuthSecretStore.loadSecret({ appId: 'race' })).toBe(results[0]);
  });

  test('the native side gets the defaults: after-first-unlock this device only, no gate', async () => {
    await new ExpoAuthSecretStore({ appId: 'x', accessGroup: 'TEAM123456.shared' }).loadSecret();
    expect(native.loadSecret).toHaveBeenCalledWith({
      appId: 'x',
      accessGroup: 'TEAM123456.shared',
      accessibility: 'afterFirstUnlockThisDeviceOnly',
      requireAuthentication: false,
    });
    await new ExpoAuthSecretStore({ accessibility: 'whenUnlocked', requireAuthentication: true }).loadSecret();
    expect(native.loadSecret).toHaveBeenLastCalledWith({
      accessibility: 'whenUnlocked',
      requireAuthentication: true,
    });
  });
});

describe('failures are errors with catalogue codes, never absence', () => {
  test('a failed read rejects, and getOrCreate does not mint over it', async () => {
    const store = new ExpoAuthSecretStore();
    native.loadSecret.mockRejectedValueOnce(nativeError('secret-store-unavailable'));
    const error = await rejectionOf(store.loadSecret());
    expect(error).toBeInstanceOf(LocalFirstError);
    expect(error.code).toBe('secret-store-unavailable');

    native.getOrCreateSecret.mockRejectedValueOnce(nativeError('secret-store-key-invalidated'));
    expect((await rejectionOf(store.getOrCreateSecret())).code).toBe('secret-store-key-invalidated');
    expect(await store.loadSecret()).toBeNull();
    // The failed call is not kept: the next one reaches the store again.
    expect(await store.getOrCreateSecret()).toMatch(/^[A-Za-z0-9_-]{43}$/);
  });

  test('malformed secrets are refused by the core with its codes', async () => {
    const store = new ExpoAuthSecretStore();
    expect((await rejectionOf(store.saveSecret('AAAA'))).code).toBe('secret-invalid-length');
    expect((await rejectionOf(store.saveSecret(`${'A'.repeat(43)}=`))).code).toBe('secret-padding');
    expect((await rejectionOf(store.saveSecret(`${'A'.repeat(42)}+`))).code).toBe(
      'secret-invalid-character',
    );
    expect((await rejectionOf(store.saveSecret(42 as unknown as string))).code).toBe('invalid-argument');
    expect(await store.loadSecret()).toBeNull();
  });

  test('bad options are invalid-argument or the core\'s invalid-storage-key', () => {
    // A key with any id, even a blank one, is refused by the core when the store is made.
    for (const parts of [{ appId: 'a' }, { userId: '' }, { sessionId: 's' }]) {
      expect(thrownBy(() => new ExpoAuthSecretStore({ key: 'k', ...parts })).code).toBe(
        'invalid-storage-key',
      );
    }
    expect(
      thrownBy(() => new ExpoAuthSecretStore({ accessibility: 'always' as never })).code,
    ).toBe('invalid-argument');
    expect(
      thrownBy(() => new ExpoAuthSecretStore({ requireAuthentication: 'yes' as never })).code,
    ).toBe('invalid-argument');
    expect(thrownBy(() => new ExpoAuthSecretStore({ key: '   ' })).code).toBe('invalid-storage-key');
    expect(thrownBy(() => new ExpoAuthSecretStore({ key: 'k'.repeat(256) })).code).toBe(
      'invalid-storage-key',
    );
  });

  test('a failure without a catalogue code is passed on unchanged, never renamed', async () => {
    const boom = new Error('boom');
    native.clearSecret.mockRejectedValueOnce(boom);
    expect(await rejectionOf(ExpoAuthSecretStore.clearSecret())).toBe(boom);
    const bridge = Object.assign(new Error('cast failed'), { code: 'ERR_ARGUMENT_CAST' });
    native.clearSecret.mockRejectedValueOnce(bridge);
    expect(await rejectionOf(ExpoAuthSecretStore.clearSecret())).toBe(bridge);
  });

  test('a catalogue-coded native failure becomes a LocalFirstError with its code and details', async () => {
    native.clearSecret.mockRejectedValueOnce(
      Object.assign(new Error('locked'), {
        code: 'secret-store-unavailable',
        details: { kind: 'syncCode', code: 'x' },
      }),
    );
    const error = (await rejectionOf(ExpoAuthSecretStore.clearSecret())) as LocalFirstError;
    expect(error).toBeInstanceOf(LocalFirstError);
    expect(error).toMatchObject({ code: 'secret-store-unavailable', message: 'locked' });
    expect(error.details).toEqual({ kind: 'syncCode', code: 'x' });
  });
});
