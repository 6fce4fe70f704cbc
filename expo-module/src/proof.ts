import { ExpoAuthSecretStore, type ExpoAuthSecretStoreOptions } from './ExpoAuthSecretStore';
import { ExpoLocalFirst, type ProofVerification } from './ExpoLocalFirstModule';
import { LocalFirstError, rethrowing } from './errors';
import { requireString } from './identity';

/** Options of `getLocalFirstIdentityProof()`. */
export interface IdentityProofOptions {
  /** How long the proof is valid. Default 60 seconds; at most 600. */
  ttlSeconds?: number;
  /**
   * Who the proof is for; the backend verifies with the same string. Default: the store's
   * `appId`. Required when the store has no `appId`.
   */
  audience?: string;
  /** Which stored identity to prove (an `ExpoAuthSecretStore` or its options). Default store when omitted. */
  store?: ExpoAuthSecretStore | ExpoAuthSecretStoreOptions;
}

/** The default lifetime of an identity proof, in seconds. */
export const DEFAULT_PROOF_TTL_SECONDS = 60;

/**
 * A short-lived proof that this device holds the stored identity, to hand to a sign-up
 * endpoint (Jazz's `getLocalFirstIdentityProof`). Resolves `null` when no identity is stored.
 * The backend checks it with `verifyLocalFirstIdentityProof(token, audience)`.
 */
export async function getLocalFirstIdentityProof(
  options: IdentityProofOptions = {},
): Promise<string | null> {
  const store = ExpoAuthSecretStore.of(options.store);
  const ttlSeconds = options.ttlSeconds ?? DEFAULT_PROOF_TTL_SECONDS;
  if (!Number.isInteger(ttlSeconds) || ttlSeconds <= 0) {
    throw new LocalFirstError('invalid-argument', 'ttlSeconds must be a positive integer');
  }
  const audience = options.audience ?? store.appId;
  if (audience === undefined || audience.trim() === '') {
    throw new LocalFirstError(
      'invalid-argument',
      'audience is required when the store has no appId',
    );
  }
  const secret = await store.loadSecret();
  if (secret === null) {
    return null;
  }
  return rethrowing(() => ExpoLocalFirst.localFirstIdentityProof(secret, audience, ttlSeconds));
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
