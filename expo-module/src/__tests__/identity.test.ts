import {
  AuthSecret,
  ExpoAuthSecretStore,
  LocalFirstError,
  RecoveryPhrase,
  RecoveryPhraseError,
  getLocalFirstIdentityProof,
  mintLocalFirstToken,
  verifyLocalFirstIdentityProof,
} from '..';
import { renderHook, waitFor } from '@testing-library/react-native';

import { useLocalFirstAuth } from '../useLocalFirstAuth';
import { freshDevice, identityVectors, rejectionOf, thrownBy } from './helpers';

/** `exp - iat` of a token, read from its claims. */
function lifetimeOf(token: string): number {
  const claims = JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString('utf8'));
  return claims.exp - claims.iat;
}

beforeEach(freshDevice);

describe('identity vectors (core/tests/data/identity.json)', () => {
  const vectors = identityVectors();

  test('there are vectors', () => {
    expect(vectors.length).toBeGreaterThan(2);
  });

  test.each(vectors.map((v) => [v.name, v] as const))('%s', (_name, vector) => {
    expect(AuthSecret.userId(vector.seed_b64url)).toBe(vector.user_id);
    expect(AuthSecret.publicKey(vector.seed_b64url)).toBe(vector.public_key_b64url);
    expect(RecoveryPhrase.fromSecret(vector.seed_b64url)).toBe(vector.recovery_phrase);
    expect(RecoveryPhrase.toSecret(vector.recovery_phrase)).toBe(vector.seed_b64url);
    expect(RecoveryPhrase.toSecret(`  ${vector.recovery_phrase.toUpperCase().split(' ').join('\n\t ')} `)).toBe(
      vector.seed_b64url,
    );
  });
});

describe('RecoveryPhraseError', () => {
  const phrase = identityVectors()[0]!.recovery_phrase;
  const words = phrase.split(' ');

  test.each([
    ['invalid-length', words.slice(0, 23).join(' ')],
    ['invalid-word', [...words.slice(0, 23), 'notaword'].join(' ')],
    ['invalid-checksum', [...words.slice(0, 23), 'abandon'].join(' ')],
  ])('%s', (code, input) => {
    const error = thrownBy(() => RecoveryPhrase.toSecret(input));
    expect(error).toBeInstanceOf(RecoveryPhraseError);
    expect(error).toBeInstanceOf(LocalFirstError);
    expect(error.code).toBe(code);
    expect(error.name).toBe('RecoveryPhraseError');
  });

  test('the core\'s details cross: which word, how many words', () => {
    const wrongWord = thrownBy(() =>
      RecoveryPhrase.toSecret([...words.slice(0, 23), 'NotAWord'].join(' ')),
    ) as RecoveryPhraseError;
    expect(wrongWord.details).toEqual({ kind: 'invalidWord', position: 24, word: 'notaword' });
    const short = thrownBy(() => RecoveryPhrase.toSecret('abandon')) as RecoveryPhraseError;
    expect(short.details).toEqual({ kind: 'phraseLength', got: 1 });
    const checksum = thrownBy(() =>
      RecoveryPhrase.toSecret([...words.slice(0, 23), 'abandon'].join(' ')),
    ) as RecoveryPhraseError;
    expect(checksum.details).toBeNull();
  });

  test('the length error says how many words came', () => {
    expect(thrownBy(() => RecoveryPhrase.toSecret('abandon')).message).toMatch(/24 words, got 1/);
  });

  test('a non-string is invalid-argument, not a phrase error', () => {
    const error = thrownBy(() => RecoveryPhrase.toSecret(undefined as unknown as string));
    expect(error.code).toBe('invalid-argument');
    expect(error).not.toBeInstanceOf(RecoveryPhraseError);
  });
});

describe('AuthSecret', () => {
  test('generate makes distinct valid secrets', () => {
    const a = AuthSecret.generate();
    const b = AuthSecret.generate();
    expect(a).not.toBe(b);
    expect(AuthSecret.isValid(a)).toBe(true);
    expect(AuthSecret.isValid('nope')).toBe(false);
    expect(AuthSecret.isValid(7)).toBe(false);
  });

  test('a malformed secret has the core\'s code', () => {
    expect(thrownBy(() => AuthSecret.userId('short')).code).toBe('secret-invalid-length');
  });
});

describe('identity proofs', () => {
  test('a proof of the stored identity verifies for its audience and names the user', async () => {
    const store = new ExpoAuthSecretStore({ appId: 'my-app' });
    const secret = await store.getOrCreateSecret();
    const token = await getLocalFirstIdentityProof({ ttlSeconds: 60, audience: 'betterauth-signup', store });
    expect(token).not.toBeNull();
    const outcome = verifyLocalFirstIdentityProof(token!, 'betterauth-signup');
    expect(outcome).toEqual({ ok: true, id: AuthSecret.userId(secret), error: null, code: null });
    const wrong = verifyLocalFirstIdentityProof(token!, 'another-audience');
    expect(wrong.ok).toBe(false);
    expect(wrong.code).toBe('audience-mismatch');
  });

  test('the audience defaults to the store\'s app id', async () => {
    const store = new ExpoAuthSecretStore({ appId: 'my-app' });
    await store.getOrCreateSecret();
    const token = await getLocalFirstIdentityProof({ store });
    expect(verifyLocalFirstIdentityProof(token!, 'my-app').ok).toBe(true);
  });

  test('no stored identity gives null; the core refuses a missing audience or a bad ttl', async () => {
    expect(await getLocalFirstIdentityProof({ audience: 'x' })).toBeNull();
    await ExpoAuthSecretStore.getOrCreateSecret();
    expect((await rejectionOf(getLocalFirstIdentityProof())).code).toBe('invalid-argument');
    for (const ttlSeconds of [0, 601, 3600]) {
      expect((await rejectionOf(getLocalFirstIdentityProof({ audience: 'x', ttlSeconds }))).code).toBe(
        'invalid-ttl',
      );
    }
    expect((await rejectionOf(getLocalFirstIdentityProof({ audience: 'x', ttlSeconds: 1.5 }))).code).toBe(
      'invalid-argument',
    );
    expect(lifetimeOf((await getLocalFirstIdentityProof({ audience: 'x' }))!)).toBe(60);
    const longest = (await getLocalFirstIdentityProof({ audience: 'x', ttlSeconds: 600 }))!;
    expect(lifetimeOf(longest)).toBe(600);
    expect(verifyLocalFirstIdentityProof(longest, 'x').ok).toBe(true);
  });

  test('without `store`, the proof is of the identity the mounted hook uses', async () => {
    const hook = await renderHook(() => useLocalFirstAuth({ appId: 'my-app' }));
    await waitFor(() => expect(hook.result.current.isLoading).toBe(false));
    const userId = hook.result.current.userId;
    expect(userId).not.toBeNull();
    // The default store holds nothing: the proof must not silently come from there.
    expect(await ExpoAuthSecretStore.loadSecret()).toBeNull();
    const token = await getLocalFirstIdentityProof({ audience: 'signup' });
    expect(verifyLocalFirstIdentityProof(token!, 'signup')).toMatchObject({ ok: true, id: userId });
    // The audience defaults to the hook's app id.
    expect(verifyLocalFirstIdentityProof((await getLocalFirstIdentityProof())!, 'my-app').ok).toBe(true);

    const other = await renderHook(() => useLocalFirstAuth({ appId: 'other-app' }));
    await waitFor(() => expect(other.result.current.isLoading).toBe(false));
    expect((await rejectionOf(getLocalFirstIdentityProof({ audience: 'signup' }))).code).toBe(
      'invalid-argument',
    );
    await other.unmount();
    await hook.unmount();
    expect(await getLocalFirstIdentityProof({ audience: 'signup' })).toBeNull();
  });

  test('a proof living longer than the verifier allows is refused', async () => {
    const secret = await ExpoAuthSecretStore.getOrCreateSecret();
    const token = mintLocalFirstToken(secret, 'aud', 3600);
    const outcome = verifyLocalFirstIdentityProof(token, 'aud');
    expect(outcome.ok).toBe(false);
    expect(outcome.code).toBe('ttl-too-long');
  });

  test('an empty token is refused with proof-token-required', () => {
    expect(verifyLocalFirstIdentityProof('', 'aud')).toEqual({
      ok: false,
      id: null,
      error: 'proofToken is required',
      code: 'proof-token-required',
    });
  });
});
