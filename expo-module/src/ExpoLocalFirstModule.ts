import { requireNativeModule } from 'expo';

/** iOS Keychain accessibility of the stored secret (ignored on Android). */
export type KeychainAccessibility =
  | 'afterFirstUnlockThisDeviceOnly'
  | 'afterFirstUnlock'
  | 'whenUnlockedThisDeviceOnly'
  | 'whenUnlocked'
  | 'whenPasscodeSetThisDeviceOnly';

/** Every accessibility value, in the order the docs list them. */
export const KEYCHAIN_ACCESSIBILITY: readonly KeychainAccessibility[] = [
  'afterFirstUnlockThisDeviceOnly',
  'afterFirstUnlock',
  'whenUnlockedThisDeviceOnly',
  'whenUnlocked',
  'whenPasscodeSetThisDeviceOnly',
];

/**
 * What the native side gets for every store operation: which storage key, and how the
 * iOS Keychain item is protected. Built by `ExpoAuthSecretStore` from its options.
 */
export interface NativeStoreOptions {
  /** An explicit storage key, used verbatim (replaces the namespaced parts). */
  key?: string;
  /** App id part of the namespaced key `jazz-auth-secret:<app>:<user>:<session>`. */
  appId?: string;
  /** User id part of the namespaced key. */
  userId?: string;
  /** Session id part of the namespaced key. */
  sessionId?: string;
  /** iOS: Keychain accessibility. */
  accessibility: KeychainAccessibility;
  /** iOS: a shared Keychain access group (`TEAMID.group.name`). */
  accessGroup?: string;
  /** iOS: ask for biometry or the passcode before the secret is read. */
  requireAuthentication: boolean;
}

/** The outcome of verifying an identity proof (never thrown). */
export interface ProofVerification {
  /** Whether the proof is valid. */
  ok: boolean;
  /** The proven user id when `ok`. */
  id: string | null;
  /** Why the proof was refused when not `ok`. */
  error: string | null;
  /** The catalogue code of the refusal when not `ok`. */
  code: string | null;
}

/**
 * The native module `ExpoLocalFirst` (Swift on iOS, Kotlin on Android): thin calls into the
 * localfirst bindings. Secrets cross the bridge as unpadded base64url strings. Errors carry the
 * catalogue code as `code`.
 */
export interface ExpoLocalFirstModule {
  /** A fresh random secret. */
  generateSecret(): string;
  /** The user id of `secret` (throws a `secret-*` code when it is not a valid secret). */
  userIdOf(secret: string): string;
  /** The base64url Ed25519 public key of `secret`. */
  publicKeyOf(secret: string): string;
  /** The 24-word recovery phrase of `secret`. */
  recoveryPhraseFromSecret(secret: string): string;
  /** The secret a recovery phrase encodes. */
  recoveryPhraseToSecret(phrase: string): string;
  /** A local-first token for `audience`, living `ttlSeconds`. */
  mintLocalFirstToken(secret: string, audience: string, ttlSeconds: number): string;
  /** An identity proof (a short-lived local-first token) for `audience`. */
  localFirstIdentityProof(secret: string, audience: string, ttlSeconds: number): string;
  /** Verifies an identity proof against `audience` now. */
  verifyLocalFirstIdentityProof(token: string, audience: string): ProofVerification;
  /** The storage key string these options select. */
  storageKeyFor(options: NativeStoreOptions): string;
  /** Reads the secret; `null` only when definitively absent. */
  loadSecret(options: NativeStoreOptions): Promise<string | null>;
  /** Stores `secret`, replacing any previous one. */
  saveSecret(options: NativeStoreOptions, secret: string): Promise<void>;
  /** Removes the secret (succeeds when absent). */
  clearSecret(options: NativeStoreOptions): Promise<void>;
  /** Stores `secret` only if nothing is stored; returns what is stored afterwards. */
  createSecret(options: NativeStoreOptions, secret: string): Promise<string>;
  /** The stored secret, or a new one when definitively absent (atomic). */
  getOrCreateSecret(options: NativeStoreOptions): Promise<string>;
}

/** The native module. In jest-expo suites this is `mocks/ExpoLocalFirst.ts`. */
export const ExpoLocalFirst = requireNativeModule<ExpoLocalFirstModule>('ExpoLocalFirst');
