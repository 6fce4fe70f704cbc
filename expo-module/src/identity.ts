import { ExpoLocalFirst } from './ExpoLocalFirstModule';
import {
  LocalFirstError,
  RecoveryPhraseError,
  codeOf,
  detailsOf,
  isRecoveryPhraseErrorCode,
  rethrowing,
  toLocalFirstError,
} from './errors';

/**
 * Account secrets as unpadded base64url strings (43 characters), the form Jazz uses in
 * JavaScript. The same names as the Swift and Kotlin `AuthSecret`; every rule (parsing,
 * derivation) runs in the Rust core.
 */
export const AuthSecret = {
  /** A fresh random secret. Prefer `ExpoAuthSecretStore.getOrCreateSecret()`, which stores it. */
  generate(): string {
    return rethrowing(() => ExpoLocalFirst.generateSecret());
  },

  /** The stable user id of `secret` (UUID). Throws a `secret-*` code for a malformed secret. */
  userId(secret: string): string {
    return rethrowing(() => ExpoLocalFirst.userIdOf(requireString(secret, 'secret')));
  },

  /** The base64url Ed25519 public key of `secret`. */
  publicKey(secret: string): string {
    return rethrowing(() => ExpoLocalFirst.publicKeyOf(requireString(secret, 'secret')));
  },

  /** Whether `secret` is a well-formed secret (strict unpadded base64url of 32 bytes). */
  isValid(secret: unknown): secret is string {
    if (typeof secret !== 'string') {
      return false;
    }
    try {
      ExpoLocalFirst.userIdOf(secret);
      return true;
    } catch {
      return false;
    }
  },
};

/**
 * Recovery phrases: the 24 BIP39 English words that *are* the account secret (Jazz's
 * `RecoveryPhrase`). Whoever sees the phrase can sign in as the user.
 */
export const RecoveryPhrase = {
  /** The 24-word phrase of `secret` (lowercase, single spaces). */
  fromSecret(secret: string): string {
    return rethrowing(() =>
      ExpoLocalFirst.recoveryPhraseFromSecret(requireString(secret, 'secret')),
    );
  },

  /**
   * The secret `phrase` encodes. Case and extra whitespace are ignored. Throws
   * `RecoveryPhraseError` with code `invalid-length`, `invalid-word`, `invalid-checksum` or
   * `invalid-secret`.
   */
  toSecret(phrase: string): string {
    try {
      return ExpoLocalFirst.recoveryPhraseToSecret(requireString(phrase, 'phrase'));
    } catch (error) {
      const code = codeOf(error);
      if (code !== undefined && isRecoveryPhraseErrorCode(code)) {
        const message = error instanceof Error ? error.message : String(error);
        throw new RecoveryPhraseError(code, message, { cause: error, details: detailsOf(error) });
      }
      throw toLocalFirstError(error);
    }
  },
};

/** `value` when it is a string, else an `invalid-argument` error naming `what`. */
export function requireString(value: unknown, what: string): string {
  if (typeof value !== 'string') {
    throw new LocalFirstError('invalid-argument', `${what} must be a string`);
  }
  return value;
}
