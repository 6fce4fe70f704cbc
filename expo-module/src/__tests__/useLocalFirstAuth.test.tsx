import { act, renderHook, waitFor } from '@testing-library/react-native';

import { AuthSecret, ExpoAuthSecretStore, RecoveryPhrase, useLocalFirstAuth, type LocalFirstAuth } from '..';
import { resetAuthState } from '../authState';
import { freshDevice, identityVectors, native, nativeError, rejectionOf } from './helpers';

beforeEach(freshDevice);

const vector = identityVectors()[1]!;

/** A secret stored by an earlier run of the app: written, then the process "restarts". */
async function storedEarlier(secret: string, options?: { appId?: string }) {
  await ExpoAuthSecretStore.saveSecret(secret, options);
  resetAuthState();
}

async function ready(options?: Parameters<typeof useLocalFirstAuth>[0]) {
  const hook = await renderHook(() => useLocalFirstAuth(options));
  await waitFor(() => expect(hook.result.current.isLoading).toBe(false));
  return hook;
}

test('loading, then ready with a new identity that is stored', async () => {
  const renders: LocalFirstAuth[] = [];
  const hook = await renderHook(() => {
    const auth = useLocalFirstAuth({ appId: 'my-app' });
    renders.push(auth);
    return auth;
  });
  // The first render happens before any load finished.
  expect(renders[0]).toMatchObject({ isLoading: true, secret: null, userId: null, error: null });
  await waitFor(() => expect(hook.result.current.isLoading).toBe(false));
  const { secret, userId, error } = hook.result.current;
  expect(error).toBeNull();
  expect(secret).not.toBeNull();
  expect(userId).toBe(AuthSecret.userId(secret!));
  expect(await ExpoAuthSecretStore.loadSecret({ appId: 'my-app' })).toBe(secret);
});

test('an existing identity is loaded, not replaced', async () => {
  await storedEarlier(vector.seed_b64url);
  const hook = await ready();
  expect(hook.result.current.secret).toBe(vector.seed_b64url);
  expect(hook.result.current.userId).toBe(vector.user_id);
});

test('a failed read is an error, never a fresh identity; the failure is not cached', async () => {
  await storedEarlier(vector.seed_b64url);
  native.getOrCreateSecret.mockRejectedValueOnce(nativeError('secret-store-unavailable'));
  const hook = await ready();
  expect(hook.result.current.secret).toBeNull();
  expect(hook.result.current.error).toMatchObject({ code: 'secret-store-unavailable' });
  expect(await ExpoAuthSecretStore.loadSecret()).toBe(vector.seed_b64url);

  // A later mount tries again (Jazz kept the rejected first load).
  await hook.unmount();
  const again = await ready();
  expect(again.result.current.error).toBeNull();
  expect(again.result.current.secret).toBe(vector.seed_b64url);
});

test('getOrCreateSecret retries after an error', async () => {
  native.getOrCreateSecret.mockRejectedValueOnce(nativeError('secret-store-key-invalidated'));
  const hook = await ready();
  expect(hook.result.current.error).toMatchObject({ code: 'secret-store-key-invalidated' });
  let secret = '';
  await act(async () => {
    secret = await hook.result.current.getOrCreateSecret();
  });
  expect(hook.result.current.error).toBeNull();
  expect(hook.result.current.secret).toBe(secret);
});

test('login replaces the identity in every mounted hook and in the store', async () => {
  const first = await ready();
  const second = await ready();
  const before = first.result.current.secret;
  expect(second.result.current.secret).toBe(before);

  const restored = RecoveryPhrase.toSecret(vector.recovery_phrase);
  await act(() => first.result.current.login(restored));
  expect(first.result.current.secret).toBe(restored);
  await waitFor(() => expect(second.result.current.secret).toBe(restored));
  expect(second.result.current.userId).toBe(vector.user_id);
  expect(await ExpoAuthSecretStore.loadSecret()).toBe(restored);
});

test('a saveSecret outside the hook invalidates its cached secret', async () => {
  const hook = await ready({ appId: 'my-app' });
  // Same storage key reached through other options.
  await act(() => ExpoAuthSecretStore.saveSecret(vector.seed_b64url, { key: 'jazz-auth-secret:my-app' }));
  await waitFor(() => expect(hook.result.current.secret).toBe(vector.seed_b64url));
});

test('login with a malformed secret throws its code and changes nothing', async () => {
  const hook = await ready();
  const before = hook.result.current.secret;
  expect((await rejectionOf(hook.result.current.login('not-a-secret'))).code).toBe('secret-invalid-length');
  expect(hook.result.current.secret).toBe(before);
  expect(await ExpoAuthSecretStore.loadSecret()).toBe(before);
});

test('signOut clears the stored secret; no identity is created until the app asks', async () => {
  const hook = await ready();
  const old = hook.result.current.secret;
  await act(() => hook.result.current.signOut());
  expect(hook.result.current).toMatchObject({ secret: null, userId: null, isLoading: false, error: null });
  expect(await ExpoAuthSecretStore.loadSecret()).toBeNull();

  // Remounting does not create one either.
  await hook.unmount();
  const later = await ready();
  expect(later.result.current.secret).toBeNull();
  expect(await ExpoAuthSecretStore.loadSecret()).toBeNull();

  // The app asks: a new identity.
  let created = '';
  await act(async () => {
    created = await later.result.current.getOrCreateSecret();
  });
  expect(created).not.toBe(old);
  expect(later.result.current.secret).toBe(created);
  expect(await ExpoAuthSecretStore.loadSecret()).toBe(created);
});

test('hooks mounting together share one native getOrCreateSecret and one identity', async () => {
  // Three hooks in one commit: their mount effects run back to back.
  const hook = await renderHook(() => [useLocalFirstAuth(), useLocalFirstAuth(), useLocalFirstAuth()]);
  await waitFor(() => hook.result.current.forEach((auth) => expect(auth.isLoading).toBe(false)));
  const secrets = new Set(hook.result.current.map((auth) => auth.secret));
  expect(secrets.size).toBe(1);
  expect([...secrets][0]).not.toBeNull();
  expect(native.getOrCreateSecret).toHaveBeenCalledTimes(1);
});

test('createOnMount false only reads', async () => {
  const hook = await ready({ createOnMount: false });
  expect(hook.result.current.secret).toBeNull();
  expect(native.getOrCreateSecret).not.toHaveBeenCalled();
  expect(await ExpoAuthSecretStore.loadSecret()).toBeNull();
});

test('hooks on different stores are independent', async () => {
  const a = await ready({ appId: 'a' });
  const b = await ready({ appId: 'b' });
  expect(a.result.current.secret).not.toBe(b.result.current.secret);
  await act(() => a.result.current.signOut());
  expect(a.result.current.secret).toBeNull();
  await waitFor(() => expect(b.result.current.isLoading).toBe(false));
  expect(b.result.current.secret).not.toBeNull();
});

test('a login whose write fails rejects with its code; the hook shows what is stored', async () => {
  const hook = await ready();
  const before = hook.result.current.secret;
  native.saveSecret.mockRejectedValueOnce(nativeError('secret-store-unavailable'));
  let failure: { code?: string } = {};
  await act(async () => {
    failure = await rejectionOf(hook.result.current.login(vector.seed_b64url));
  });
  expect(failure.code).toBe('secret-store-unavailable');
  await waitFor(() => expect(hook.result.current.isLoading).toBe(false));
  expect(hook.result.current.secret).toBe(before);
  expect(await ExpoAuthSecretStore.loadSecret()).toBe(before);
});
