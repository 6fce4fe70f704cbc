// What an app's suite does: only `resetSecretMemory()` from the shipped mock before each test
// (no internal reset). Every test must then start on a fresh "device": nothing the module
// cached in an earlier test (the hooks' secret, a sign-out, a vault flow) is seen again.
import { act, renderHook, waitFor } from '@testing-library/react-native';

import { resetSecretMemory } from '../../mocks/ExpoLocalFirst';
import { ExpoAuthSecretStore, useLocalFirstAuth } from '..';

beforeEach(resetSecretMemory);

const seen: string[] = [];

async function mountedUserId(options?: { appId?: string }): Promise<string> {
  const hook = await renderHook(() => useLocalFirstAuth(options));
  await waitFor(() => expect(hook.result.current.userId).not.toBeNull());
  const userId = hook.result.current.userId!;
  await hook.unmount();
  return userId;
}

test('a first test creates an identity', async () => {
  seen.push(await mountedUserId());
  seen.push(await mountedUserId({ appId: 'my-app' }));
  expect(await ExpoAuthSecretStore.loadSecret()).not.toBeNull();
});

test('a second test sees a new identity, not the first test’s', async () => {
  expect(seen).toHaveLength(2);
  const userId = await mountedUserId();
  expect(userId).not.toBe(seen[0]);
  expect(await mountedUserId({ appId: 'my-app' })).not.toBe(seen[1]);
});

test('a test that signs out ...', async () => {
  const hook = await renderHook(() => useLocalFirstAuth({ appId: 'signed-out' }));
  await waitFor(() => expect(hook.result.current.userId).not.toBeNull());
  await act(() => hook.result.current.signOut());
  await waitFor(() => expect(hook.result.current.isLoading).toBe(false));
  expect(hook.result.current.secret).toBeNull();
  await hook.unmount();
});

test('... leaves no sign-out behind: the next test’s hook creates an identity on mount', async () => {
  expect(await mountedUserId({ appId: 'signed-out' })).toMatch(/^[0-9a-f-]{36}$/);
});
