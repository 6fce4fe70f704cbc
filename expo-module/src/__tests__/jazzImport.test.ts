import { ExpoAuthSecretStore, JAZZ_SECURE_STORE_KEY, importJazzSecret, type SecureStoreLike } from '..';
import { loadSecureStore } from '../jazzImport';
import { freshDevice, identityVectors, native, nativeError, rejectionOf } from './helpers';

beforeEach(freshDevice);

const [jazz, other] = identityVectors().slice(1, 3) as [
  ReturnType<typeof identityVectors>[number],
  ReturnType<typeof identityVectors>[number],
];

/** expo-secure-store as Jazz's JS store used it: string values under string keys. */
class SecureStoreStandIn implements SecureStoreLike {
  readonly items = new Map<string, string>();
  failReads = false;
  failDeletes = false;

  async getItemAsync(key: string): Promise<string | null> {
    if (this.failReads) throw Object.assign(new Error('User interaction is not allowed.'), { code: 'ERR_KEY_CHAIN' });
    return this.items.get(key) ?? null;
  }

  async deleteItemAsync(key: string): Promise<void> {
    if (this.failDeletes) throw new Error('delete failed');
    this.items.delete(key);
  }
}

test('absent: expo-secure-store not installed', async () => {
  expect(await importJazzSecret({ secureStore: null })).toEqual({ status: 'unavailable' });
});

test('nothing saved by Jazz', async () => {
  expect(await importJazzSecret({ secureStore: new SecureStoreStandIn() })).toEqual({ status: 'not-found' });
  expect(await ExpoAuthSecretStore.loadSecret()).toBeNull();
});

test('present: moved into our store, read back, then deleted from expo-secure-store', async () => {
  const secureStore = new SecureStoreStandIn();
  secureStore.items.set(JAZZ_SECURE_STORE_KEY, jazz.seed_b64url);
  const result = await importJazzSecret({ secureStore });
  expect(result).toEqual({ status: 'imported', userId: jazz.user_id, jazzCopyRemoved: true });
  expect(await ExpoAuthSecretStore.loadSecret()).toBe(jazz.seed_b64url);
  expect(secureStore.items.has(JAZZ_SECURE_STORE_KEY)).toBe(false);
  // Running it again finds nothing to do.
  expect(await importJazzSecret({ secureStore })).toEqual({ status: 'not-found' });
});

test('into a namespaced store, from a custom key', async () => {
  const secureStore = new SecureStoreStandIn();
  secureStore.items.set('legacy', jazz.seed_b64url);
  const store = new ExpoAuthSecretStore({ appId: 'my-app' });
  expect((await importJazzSecret({ secureStore, store, jazzKey: 'legacy' })).status).toBe('imported');
  expect(await store.loadSecret()).toBe(jazz.seed_b64url);
});

test('corrupt value: left in place and reported as secret-store-corrupted', async () => {
  for (const bad of ['', 'not base64url!', `${jazz.seed_b64url}=`, jazz.seed_b64url.slice(1)]) {
    freshDevice();
    const secureStore = new SecureStoreStandIn();
    secureStore.items.set(JAZZ_SECURE_STORE_KEY, bad);
    const error = await rejectionOf(importJazzSecret({ secureStore }));
    expect(error.code).toBe('secret-store-corrupted');
    expect(secureStore.items.get(JAZZ_SECURE_STORE_KEY)).toBe(bad);
    expect(await ExpoAuthSecretStore.loadSecret()).toBeNull();
  }
});

test('a failed read of expo-secure-store is secret-store-unavailable, nothing changes', async () => {
  const secureStore = new SecureStoreStandIn();
  secureStore.items.set(JAZZ_SECURE_STORE_KEY, jazz.seed_b64url);
  secureStore.failReads = true;
  expect((await rejectionOf(importJazzSecret({ secureStore }))).code).toBe('secret-store-unavailable');
  expect(secureStore.items.get(JAZZ_SECURE_STORE_KEY)).toBe(jazz.seed_b64url);
  expect(await ExpoAuthSecretStore.loadSecret()).toBeNull();
});

test('conflict: our store holds another identity; both are kept', async () => {
  await ExpoAuthSecretStore.saveSecret(other.seed_b64url);
  const secureStore = new SecureStoreStandIn();
  secureStore.items.set(JAZZ_SECURE_STORE_KEY, jazz.seed_b64url);
  expect(await importJazzSecret({ secureStore })).toEqual({
    status: 'conflict',
    userId: jazz.user_id,
    existingUserId: other.user_id,
  });
  expect(await ExpoAuthSecretStore.loadSecret()).toBe(other.seed_b64url);
  expect(secureStore.items.get(JAZZ_SECURE_STORE_KEY)).toBe(jazz.seed_b64url);
});

test('already imported: the leftover Jazz copy is removed', async () => {
  await ExpoAuthSecretStore.saveSecret(jazz.seed_b64url);
  const secureStore = new SecureStoreStandIn();
  secureStore.items.set(JAZZ_SECURE_STORE_KEY, jazz.seed_b64url);
  expect(await importJazzSecret({ secureStore })).toEqual({
    status: 'already-imported',
    userId: jazz.user_id,
    jazzCopyRemoved: true,
  });
  expect(secureStore.items.size).toBe(0);
});

test('a failed delete keeps both copies and says so', async () => {
  const secureStore = new SecureStoreStandIn();
  secureStore.items.set(JAZZ_SECURE_STORE_KEY, jazz.seed_b64url);
  secureStore.failDeletes = true;
  expect(await importJazzSecret({ secureStore })).toEqual({
    status: 'imported',
    userId: jazz.user_id,
    jazzCopyRemoved: false,
  });
  expect(await ExpoAuthSecretStore.loadSecret()).toBe(jazz.seed_b64url);
  expect(secureStore.items.get(JAZZ_SECURE_STORE_KEY)).toBe(jazz.seed_b64url);
});

test('a read-back that differs keeps the Jazz copy and fails', async () => {
  // The core's import reads back through the device store; here that store fails the check.
  native.importJazzSecret.mockRejectedValueOnce(nativeError('secret-store-backend'));
  const secureStore = new SecureStoreStandIn();
  secureStore.items.set(JAZZ_SECURE_STORE_KEY, jazz.seed_b64url);
  expect((await rejectionOf(importJazzSecret({ secureStore }))).code).toBe('secret-store-backend');
  expect(secureStore.items.get(JAZZ_SECURE_STORE_KEY)).toBe(jazz.seed_b64url);
});

describe('the installed-package lookup', () => {
  test('absent package: unavailable', () => {
    jest.isolateModules(() => {
      jest.doMock('expo-secure-store', () => {
        throw Object.assign(new Error("Cannot find module 'expo-secure-store'"), { code: 'MODULE_NOT_FOUND' });
      });
      const { loadSecureStore: load } = jest.requireActual('../jazzImport') as typeof import('../jazzImport');
      expect(load()).toBeNull();
    });
  });

  test('present package: its functions are used (default options, as Jazz wrote them)', async () => {
    const secureStore = new SecureStoreStandIn();
    secureStore.items.set(JAZZ_SECURE_STORE_KEY, jazz.seed_b64url);
    jest.doMock('expo-secure-store', () => secureStore);
    expect(loadSecureStore()).toBe(secureStore);
    expect((await importJazzSecret()).status).toBe('imported');
    expect(secureStore.items.size).toBe(0);
    jest.dontMock('expo-secure-store');
  });
});

test('a failed read of our store rejects with its code; nothing moves', async () => {
  const secureStore = new SecureStoreStandIn();
  secureStore.items.set(JAZZ_SECURE_STORE_KEY, jazz.seed_b64url);
  native.importJazzSecret.mockRejectedValueOnce(
    Object.assign(new Error('locked'), { code: 'secret-store-unavailable' }),
  );
  expect((await rejectionOf(importJazzSecret({ secureStore }))).code).toBe('secret-store-unavailable');
  expect(secureStore.items.get(JAZZ_SECURE_STORE_KEY)).toBe(jazz.seed_b64url);
  expect(await ExpoAuthSecretStore.loadSecret()).toBeNull();
});
