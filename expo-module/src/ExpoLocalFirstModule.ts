import { requireNativeModule } from 'expo';

import type { ErrorCode } from './codes';

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
  code: ErrorCode | null;
}

/**
 * What a native vault step resolves to. A step never rejects for its own failure: `code` (and
 * for `vault-identity-conflict` both user ids) says why, because the bridge carries only a code
 * and a message in an error. Built by the core (`vault_steps` in the bindings).
 */
export interface NativeVaultStep {
  /** The failure's catalogue code, or `null` on success. */
  code: ErrorCode | null;
  /** Why it failed, or `null`. */
  message: string | null;
  /** `vault-identity-conflict`: the device's user id (empty when it holds none). */
  deviceUserId: string | null;
  /** `vault-identity-conflict`: the vault's user id. */
  vaultUserId: string | null;
  /** `restored`, `in-sync`, `backed-up`, `backup` (the secret to write) or `adopted`. */
  outcome: string | null;
  /** Whether the device's secret was created for the backup. */
  created: boolean;
  /** The user id the device now holds. */
  userId: string | null;
  /** The secret the device now holds (base64url). */
  secret: string | null;
  /** `adopted`: the secret the device held before, if another. */
  replaced: string | null;
}

/** What the core's Jazz import decided (`import_jazz_secret`), as the bridge carries it. */
export interface NativeJazzImport {
  /** What was found and done. */
  outcome: 'not-found' | 'imported' | 'already-imported' | 'conflict';
  /** The user id of Jazz's secret (every outcome but `not-found`). */
  userId: string | null;
  /** `conflict`: the user id of the secret our store holds. */
  existingUserId: string | null;
  /** Whether Jazz's copy may now be deleted (our store holds the very same secret). */
  removeSource: boolean;
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
  /**
   * The core's `identity_proof_for`: an identity proof for `audience`, living `ttlSeconds`
   * (`null`: the core's default, 60); `invalid-ttl` over 600 s.
   */
  identityProofFor(secret: string, ttlSeconds: number | null, audience: string): string;
  /** Verifies an identity proof against `audience` now. */
  verifyLocalFirstIdentityProof(token: string, audience: string): ProofVerification;
  /** The core's `storage_key_for`: the key these options select (`invalid-storage-key`). */
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
  /**
   * The core's `import_jazz_secret`: moves `jazzValue` (read from Jazz's store; `null` when
   * absent) into the store, only when it holds nothing (`secret-store-corrupted` for a value
   * that is not a secret).
   */
  importJazzSecret(options: NativeStoreOptions, jazzValue: string | null): Promise<NativeJazzImport>;
  /** Vault step: the vault held `value`; validate it and make it the store's identity. */
  vaultRestore(options: NativeStoreOptions, value: string): Promise<NativeVaultStep>;
  /** Vault step: the vault is empty; the store's secret to write (created if none). */
  vaultBackupSecret(options: NativeStoreOptions): Promise<NativeVaultStep>;
  /** Vault step: check the vault's read-back after `secret` was written. */
  vaultConfirmReadback(secret: string, created: boolean, readBack: string | null): NativeVaultStep;
  /** Vault step: after consent, store the vault's `value` in place of the device's identity. */
  vaultAdopt(options: NativeStoreOptions, value: string | null, vaultUserId: string): Promise<NativeVaultStep>;
  /** Creates a passkey on `rpId` holding `secret` (the platform sheet shows `displayName`). */
  passkeyBackup(appName: string, rpId: string, secret: string, displayName: string): Promise<void>;
  /** Asks the platform for this `rpId`'s passkey and returns the secret it holds. */
  passkeyRestore(appName: string, rpId: string): Promise<string>;
}

/** The native module. In jest-expo suites this is `mocks/ExpoLocalFirst.ts`. */
export const ExpoLocalFirst = requireNativeModule<ExpoLocalFirstModule>('ExpoLocalFirst');
