// The screen on expo-localfirst's shipped jest mock (the real core through @localfirst/node),
// in an app that installed both from their tarballs.
import { configure, fireEvent, render, screen } from '@testing-library/react-native';
import {
  AuthSecret,
  ExpoAuthSecretStore,
  getLocalFirstIdentityProof,
  verifyLocalFirstIdentityProof,
} from 'expo-localfirst';

import LocalFirstScreen, { APP_ID } from '../LocalFirstScreen';

// Slow is allowed on a loaded machine, wrong is not: findBy* waits up to 30 s.
configure({ asyncUtilTimeout: 30_000 });

const USER = /^User: ([0-9a-f-]{36})$/;

async function shownUserId(): Promise<string> {
  const text = await screen.findByText(USER);
  return USER.exec([text.props.children].flat().join(''))![1]!;
}

test('an identity is created on mount, signed out, and created again', async () => {
  await render(<LocalFirstScreen />);
  const first = await shownUserId();
  const stored = await ExpoAuthSecretStore.loadSecret({ appId: APP_ID });
  expect(stored).not.toBeNull();
  expect(AuthSecret.userId(stored!)).toBe(first);
  expect(screen.getByText('Phrase words: 24')).toBeTruthy();

  const proof = await getLocalFirstIdentityProof({ store: { appId: APP_ID }, audience: 'my-backend' });
  expect(verifyLocalFirstIdentityProof(proof!, 'my-backend')).toMatchObject({ ok: true, id: first });

  await fireEvent.press(screen.getByRole('button', { name: 'Sign out' }));
  expect(await screen.findByRole('button', { name: 'Create account' })).toBeTruthy();
  expect(await ExpoAuthSecretStore.loadSecret({ appId: APP_ID })).toBeNull();

  await fireEvent.press(screen.getByRole('button', { name: 'Create account' }));
  const second = await shownUserId();
  expect(second).not.toBe(first);
});
