import { ExpoAuthSecretStore, type ExpoAuthSecretStoreOptions } from './ExpoAuthSecretStore';
import { ExpoLocalFirst, type ProofVerification } from './ExpoLocalFirstModule';
import { LocalFirstError, rethrowing } from './errors';
import { requireString } from './identity';
import { storesInUse } from './authState';

/** Options of `getLocalFirstIdentityProof()`. */
export interface IdentityProofOptions {
  /** How long the proof is valid, in seconds: the core's default (60) when omitted; at most 600. */
  ttlSeconds?: number;
  /**
   * Who the proof is for; the backend verifies with the same string. Default: the store's
   * `appId`. Required when the store has no `appId`.
   */
  audience?: string;
  /**
   * Which stored identity to prove (an `ExpoAuthSecretStore` or its options). When omitted:
   * the store the mounted `useLocalFirstAuth()` hooks use, or the default store when none is
   * mounted; with hooks on several stores, pass it (`invalid-argument` otherwise).
   */
  store?: ExpoAuthSecretStore | ExpoAuthSecretStoreOptions;
}

/**
 * A short-lived proof that this device holds the stored identity, to hand to a sign-up
 * endpoint (Jazz's `getLocalFirstIdentityProof`). Resolves `null` when no identity is stored.
 * The backend checks it with `verifyLocalFirstIdentityProof(token, audience)`. The lifetime
 * and audience rule is the core's: a lifetime of 0 or over 600 s is `invalid-ttl`, a blank
 * audience `invalid-argument`.
 */
export async function getLocalFirstIdentityProof(
  options: IdentityProofOptions = {},
): Promise<string | null> {
  const store = proofStore(options.store);
  const { ttlSeconds } = options;
  if (ttlSeconds !== undefined && typeof ttlSeconds !== 'number') {
    throw new LocalFirstError('invalid-argument', 'ttlSeconds must be a number');
  }
  const audience = options.audience ?? store.appId ?? '';
  if (typeof audience !== 'string') {
    throw new LocalFirstError('invalid-argument', 'audience must be a string');
  }
  const secret = await store.loadSecret();
  if (secret === null) {
    return null;
  }
  return rethrowing(() => ExpoLocalFirst.identityProofFor(secret, ttlSeconds ?? null, audience));
}

/** The store `getLocalFirstIdentityProof()` proves: the given one, else the hooks' one. */
function proofStore(given: IdentityProofOptions['store']): ExpoAuthSecretStore {
  if (given !== undefined) {
    return ExpoAuthSecretStore.of(given);
  }
  const inUse = storesInUse();
  if (inUse.length > 1) {
    throw new LocalFirstError(
      'invalid-argument',
      'useLocalFirstAuth() runs on several stores: pass the store to prove as `store`',
    );
  }
  return inUse[0] ?? ExpoAuthSecretStore.default;
}

/**
 * Verifies an identity proof for `audience` now. Never throws for a bad proof: resolves
 * `{ ok: false, error, code }` (`proofToken is required` / `proof-token-required` for an empty
 * token). Usually run on the backend (`@localfirst/node`); here for apps that check locally.
 */
export function verifyLocalFirstIdentityProof(token: string, audience: string): ProofVerification {
  return rethrowing(() =>
    ExpoLocalFirst.verifyLocalFirstIdentityProof(
      typeof token === 'string' ? token : '',
      requireString(audience, 'audience'),
    ),
  );
}

/** A local-first token for `audience` living `ttlSeconds`, signed by `secret`. */
export function mintLocalFirstToken(secret: string, audience: string, ttlSeconds: number): string {
  return rethrowing(() =>
    ExpoLocalFirst.mintLocalFirstToken(
      requireString(secret, 'secret'),
      requireString(audience, 'audience'),
      ttlSeconds,
    ),
  );
}
