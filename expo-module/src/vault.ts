/**
 * A provider-held vault (Jazz's Clerk integration): the app's identity provider keeps the
 * account secret for the signed-in user, and signing in on a new device hands it back.
 *
 * The vault is a JavaScript object the app writes (over Clerk user metadata, a key-value
 * endpoint). This file only drives its I/O and the timeout; every decision is the core's, made
 * by the native vault steps (docs/RECOVERY.md, "The same flow, step by step"):
 *
 * - the vault holds a secret → it becomes this device's identity (`restored`), or already is
 *   (`in-sync`); a device holding **another** identity is never replaced: the flow rejects with
 *   `vault-identity-conflict` carrying both user ids, and the app may call `adoptVaultIdentity`;
 * - the vault is empty → this device's secret (created if none) is written, read back and
 *   compared (`backed-up`; `vault-write-unconfirmed` when it does not read back);
 * - a vault that fails or does not answer in time never leads to a new identity; a value that
 *   is not a secret is `vault-corrupt` and replaces nothing.
 */
import { secretChanged } from './authState';
import { ExpoAuthSecretStore, type ExpoAuthSecretStoreOptions } from './ExpoAuthSecretStore';
import { ExpoLocalFirst, type NativeVaultStep } from './ExpoLocalFirstModule';
import { type ErrorCode, LocalFirstError, rethrowingAsync } from './errors';

/** Where the provider keeps the secret for the signed-in user. */
export interface SecretVault {
  /**
   * The stored secret (base64url text), or `null` **only** when the provider definitively
   * holds nothing. Any failure must reject, never resolve `null` (or `undefined`, which is
   * treated as a failure), or a new identity would be made and written over nothing.
   */
  load(): Promise<string | null>;
  /** Stores `secret` for the signed-in user, replacing what is there. */
  store(secret: string): Promise<void>;
}

/** Options of the vault flow: the store's options (or a store), and the timeout. */
export interface VaultFlowOptions extends ExpoAuthSecretStoreOptions {
  /** The device store (instead of the options above). */
  store?: ExpoAuthSecretStore;
  /** Bound on each vault call, milliseconds. Default 10 000. */
  timeoutMs?: number;
}

/** The default bound on each vault call (as the core's), milliseconds. */
export const DEFAULT_VAULT_TIMEOUT_MS = 10_000;

/** What `restoreOrBackupWithVault` did. */
export type VaultOutcome = 'restored' | 'in-sync' | 'backed-up';

/** The identity the device and the vault now share. */
export interface VaultIdentity {
  /** What the flow did. */
  outcome: VaultOutcome;
  /** For `backed-up`: whether the device's identity was created by this call. */
  created: boolean;
  /** The shared user id. */
  userId: string;
  /** The shared secret (base64url). */
  secret: string;
}

/** What `adoptVaultIdentity` did. */
export interface AdoptedIdentity {
  /** The vault's user id, now this device's. */
  userId: string;
  /** The vault's secret, now stored on the device. */
  secret: string;
  /**
   * The secret the device held before, if another: it is no longer stored. Offer its recovery
   * phrase before dropping it.
   */
  replaced: string | null;
}

/** The codes the vault flow adds to the catalogue's. */
export type VaultErrorCode = Extract<
  ErrorCode,
  | 'vault-unavailable'
  | 'vault-timeout'
  | 'vault-corrupt'
  | 'vault-write-unconfirmed'
  | 'vault-identity-conflict'
>;

/**
 * A failure of the vault flow. For `vault-identity-conflict`, `deviceUserId` and `vaultUserId`
 * name both identities (nothing was replaced); otherwise they are `null`.
 */
export class VaultError extends LocalFirstError<VaultErrorCode> {
  /** The identity the device holds (empty when none), for a conflict. */
  readonly deviceUserId: string | null;
  /** The identity the vault holds, for a conflict. */
  readonly vaultUserId: string | null;

  constructor(
    code: VaultErrorCode,
    message: string,
    ids: { deviceUserId?: string | null; vaultUserId?: string | null } = {},
    options?: { cause?: unknown },
  ) {
    super(code, message, {
      ...options,
      details:
        code === 'vault-identity-conflict'
          ? {
              kind: 'identityConflict',
              deviceUserId: ids.deviceUserId ?? '',
              vaultUserId: ids.vaultUserId ?? '',
            }
          : null,
    });
    this.name = 'VaultError';
    this.deviceUserId = ids.deviceUserId ?? null;
    this.vaultUserId = ids.vaultUserId ?? null;
  }
}

/**
 * Makes the device's store and the vault hold the same identity (see the file's comment for
 * each case). Rejects with a `VaultError` (`vault-*`) or the store's `LocalFirstError`.
 */
export async function restoreOrBackupWithVault(
  vault: SecretVault,
  options?: VaultFlowOptions,
): Promise<VaultIdentity> {
  const { store, timeoutMs } = flowOptions(options);
  // The vault first: until it answers, nothing on the device changes.
  const value = await loadVault(vault, timeoutMs);
  if (value !== null) {
    const restored = await step(() => ExpoLocalFirst.vaultRestore(store.nativeOptions, value));
    if (restored.outcome === 'restored') {
      secretChanged(store, { secret: restored.secret });
    }
    return identity(restored);
  }
  const backup = await step(() => ExpoLocalFirst.vaultBackupSecret(store.nativeOptions));
  const secret = backup.secret as string;
  if (backup.created) {
    secretChanged(store, { secret });
  }
  await bounded(() => vault.store(secret), timeoutMs);
  const readBack = await loadVault(vault, timeoutMs);
  return identity(
    await step(async () => ExpoLocalFirst.vaultConfirmReadback(secret, backup.created, readBack)),
  );
}

/**
 * Replaces the device's identity with the vault's, after a `vault-identity-conflict` and the
 * user's consent to `vaultUserId` (the conflict's `vaultUserId`). Re-reads the vault; if it now
 * holds another id, nothing is replaced and the conflict is reported again. Every mounted
 * `useLocalFirstAuth()` sees the new identity.
 */
export async function adoptVaultIdentity(
  vault: SecretVault,
  vaultUserId: string,
  options?: VaultFlowOptions,
): Promise<AdoptedIdentity> {
  if (typeof vaultUserId !== 'string') {
    throw new LocalFirstError('invalid-argument', 'vaultUserId must be a string');
  }
  const { store, timeoutMs } = flowOptions(options);
  const value = await loadVault(vault, timeoutMs);
  const adopted = await step(() => ExpoLocalFirst.vaultAdopt(store.nativeOptions, value, vaultUserId));
  secretChanged(store, { secret: adopted.secret });
  return { userId: adopted.userId as string, secret: adopted.secret as string, replaced: adopted.replaced };
}

function flowOptions(options: VaultFlowOptions | undefined): {
  store: ExpoAuthSecretStore;
  timeoutMs: number;
} {
  const { store, timeoutMs = DEFAULT_VAULT_TIMEOUT_MS, ...storeOptions } = options ?? {};
  if (typeof timeoutMs !== 'number' || !Number.isFinite(timeoutMs) || timeoutMs <= 0) {
    throw new LocalFirstError('invalid-argument', 'timeoutMs must be a positive number of milliseconds');
  }
  if (store !== undefined && Object.keys(storeOptions).length > 0) {
    throw new LocalFirstError('invalid-argument', 'give either store or the store options');
  }
  return { store: store ?? ExpoAuthSecretStore.of(storeOptions), timeoutMs };
}

/** The vault's value: text, or `null` when definitively empty. */
async function loadVault(vault: SecretVault, timeoutMs: number): Promise<string | null> {
  const value: unknown = await bounded(() => vault.load(), timeoutMs);
  if (value === null || typeof value === 'string') {
    return value;
  }
  if (value === undefined) {
    throw new VaultError('vault-unavailable', 'the vault answered undefined: load() must resolve a string or null');
  }
  throw new VaultError('vault-corrupt', `the vault holds a ${typeof value}, not a secret`);
}

/** Runs one vault call, bounded by `timeoutMs`; its failure is `vault-unavailable`. */
async function bounded<T>(call: () => Promise<T>, timeoutMs: number): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new VaultError('vault-timeout', `the vault did not answer within ${timeoutMs} ms`)),
      timeoutMs,
    );
  });
  try {
    return await Promise.race([
      Promise.resolve()
        .then(call)
        .catch((cause: unknown) => {
          const reason = cause instanceof Error ? cause.message : String(cause);
          throw new VaultError('vault-unavailable', `the vault failed: ${reason}`, {}, { cause });
        }),
      timeout,
    ]);
  } finally {
    clearTimeout(timer);
  }
}

/** Runs a native step; its `code` becomes the thrown error. */
async function step(call: () => Promise<NativeVaultStep>): Promise<NativeVaultStep> {
  const result = await rethrowingAsync(call);
  if (result.code === null) {
    return result;
  }
  const message = result.message ?? result.code;
  if (result.code.startsWith('vault-')) {
    throw new VaultError(result.code as VaultErrorCode, message, result);
  }
  throw new LocalFirstError(result.code, message);
}

function identity(result: NativeVaultStep): VaultIdentity {
  return {
    outcome: result.outcome as VaultOutcome,
    created: result.created,
    userId: result.userId as string,
    secret: result.secret as string,
  };
}
