import { fireEvent, render, screen, waitFor } from '@testing-library/react-native';
import { resetSecretMemory } from 'expo-localfirst/mocks/ExpoLocalFirst';

import App, { resetDemoVault } from '../App';

/** expo-secure-store holding what Jazz's JavaScript store left behind (nothing by default). */
const mockJazzItems = new Map<string, string>();
/** How long each read of expo-secure-store takes (a loaded or slow device when set). */
const mockSecureStore = { delayMs: 0 };
jest.mock('expo-secure-store', () => ({
  getItemAsync: async (key: string) => {
    if (mockSecureStore.delayMs > 0) await new Promise((done) => setTimeout(done, mockSecureStore.delayMs));
    return mockJazzItems.get(key) ?? null;
  },
  deleteItemAsync: async (key: string) => {
    mockJazzItems.delete(key);
  },
}));

beforeEach(() => {
  resetSecretMemory();
  resetDemoVault();
  mockJazzItems.clear();
  mockSecureStore.delayMs = 0;
});

const USER_ID = /User id: ([0-9a-f-]{36})/;

async function userIdShown(): Promise<string> {
  const text = await screen.findByText(USER_ID);
  return USER_ID.exec(String(text.props.children.join('')))![1]!;
}

test('the whole lifecycle on one screen', async () => {
  await render(<App />);
  expect(await screen.findByText('Jazz import: not-found')).toBeTruthy();
  const first = await userIdShown();

  // Back up: the phrase is shown on request.
  await fireEvent.press(screen.getByRole('button', { name: 'Show recovery phrase' }));
  const phrase = String(screen.getByText(/^(\w+ ){23}\w+$/).props.children);

  // Proof for a backend.
  await fireEvent.press(screen.getByRole('button', { name: 'Make an identity proof' }));
  expect(await screen.findByText(`Proof verified for ${first}`)).toBeTruthy();

  // Sign out: no new identity until asked.
  await fireEvent.press(screen.getByRole('button', { name: 'Sign out' }));
  expect(await screen.findByText('Signed out.')).toBeTruthy();

  // A mistyped phrase is refused with its code.
  await fireEvent.changeText(screen.getByPlaceholderText('24-word recovery phrase'), 'abandon abandon');
  await fireEvent.press(screen.getByRole('button', { name: 'Restore account' }));
  expect(await screen.findByText(/^invalid-length: /)).toBeTruthy();

  // Restore from the phrase: the same user comes back.
  await fireEvent.changeText(screen.getByPlaceholderText('24-word recovery phrase'), ` ${phrase.toUpperCase()} `);
  await fireEvent.press(screen.getByRole('button', { name: 'Restore account' }));
  expect(await screen.findByText('Restored.')).toBeTruthy();
  expect(await userIdShown()).toBe(first);
});

test('a screen that takes longer than jest\'s and testing-library\'s defaults to appear is waited for', async () => {
  // As on a loaded machine: the first screen appears only after 6 s, beyond jest's
  // default 5 s per test and testing-library's default 1 s per find.
  mockSecureStore.delayMs = 6_000;
  await render(<App />);
  expect(await screen.findByText('Jazz import: not-found')).toBeTruthy();
  expect(await userIdShown()).toMatch(/^[0-9a-f-]{36}$/);
});

test('a Jazz identity left in expo-secure-store is imported before any identity is created', async () => {
  // The "ones" vector of core/tests/data/identity.json.
  mockJazzItems.set('jazz-auth-secret', 'AQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQE');
  await render(<App />);
  expect(await screen.findByText('Jazz import: imported')).toBeTruthy();
  await waitFor(() => expect(mockJazzItems.size).toBe(0));
  expect(await userIdShown()).toBe('047599db-77b8-5c5f-a75b-eff9fb852217');
});

test('a passkey backup restores the same user after a sign-out', async () => {
  await render(<App />);
  const first = await userIdShown();
  await fireEvent.press(screen.getByRole('button', { name: 'Back up to a passkey' }));
  expect(await screen.findByText('Backed up to a passkey.')).toBeTruthy();
  await fireEvent.press(screen.getByRole('button', { name: 'Sign out' }));
  expect(await screen.findByText('Signed out.')).toBeTruthy();
  await fireEvent.press(screen.getByRole('button', { name: 'Restore from a passkey' }));
  expect(await screen.findByText('Restored from the passkey.')).toBeTruthy();
  expect(await userIdShown()).toBe(first);
});

test('the vault: backed up, restored after a sign-out, and a conflict adopted only on request', async () => {
  await render(<App />);
  await userIdShown();
  await fireEvent.press(screen.getByRole('button', { name: 'Sync with the vault' }));
  const backedUp = await screen.findByText(/^Vault: backed-up \(/);
  const first = /\(([0-9a-f-]{36})\)/.exec(String(backedUp.props.children))![1]!;
  expect(await userIdShown()).toBe(first);

  // Signed out (a new device): the vault brings the same user back.
  await fireEvent.press(screen.getByRole('button', { name: 'Sign out' }));
  expect(await screen.findByText('Signed out.')).toBeTruthy();
  await fireEvent.press(screen.getByRole('button', { name: 'Sync with the vault' }));
  expect(await screen.findByText(`Vault: restored (${first})`)).toBeTruthy();
  expect(await userIdShown()).toBe(first);

  // Another identity on this device: reported with both ids, not replaced.
  await fireEvent.press(screen.getByRole('button', { name: 'Sign out' }));
  await fireEvent.press(await screen.findByRole('button', { name: 'Create a new identity' }));
  const second = await userIdShown();
  expect(second).not.toBe(first);
  await fireEvent.press(screen.getByRole('button', { name: 'Sync with the vault' }));
  expect(await screen.findByText(`The vault holds account ${first}; this device is ${second}.`)).toBeTruthy();
  expect(await userIdShown()).toBe(second);

  await fireEvent.press(screen.getByRole('button', { name: "Use the vault's account" }));
  expect(await screen.findByText(`Now using ${first}.`)).toBeTruthy();
  expect(await userIdShown()).toBe(first);
});
