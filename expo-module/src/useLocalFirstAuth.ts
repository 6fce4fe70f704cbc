import { useCallback, useEffect, useMemo, useRef, useState, useSyncExternalStore } from 'react';

import { ExpoAuthSecretStore, type ExpoAuthSecretStoreOptions } from './ExpoAuthSecretStore';
import { ensureSecret, getSnapshot, subscribe } from './authState';
import { LocalFirstError, failureOf } from './errors';
import { AuthSecret } from './identity';
import {
  adoptVaultIdentity as adoptFromVault,
  restoreOrBackupWithVault,
  type AdoptedIdentity,
  type SecretVault,
  type VaultIdentity,
} from './vault';

/** Options of `useLocalFirstAuth()`: the store's options, plus what to do on mount. */
export interface UseLocalFirstAuthOptions extends ExpoAuthSecretStoreOptions {
  /**
   * Create an identity on mount when the store holds none and the app has not signed out
   * in this process. Default `true` (Jazz's behaviour). With `false` the hook only reads.
   */
  createOnMount?: boolean;
  /**
   * A provider-held vault. After the load, the hook runs `restoreOrBackupWithVault` once per
   * mount: the vault's identity is restored, or this device's is backed up (created when none,
   * instead of `createOnMount`). A vault that fails creates nothing and a conflict replaces
   * nothing: both are `error` (a `VaultError`; a conflict has `deviceUserId` and `vaultUserId`).
   */
  vault?: SecretVault;
  /** Bound on each vault call, milliseconds (default 10 000). */
  vaultTimeoutMs?: number;
}

/** What `useLocalFirstAuth()` returns. */
export interface LocalFirstAuth {
  /** The account secret (base64url), or `null` while loading, signed out, or on error. */
  secret: string | null;
  /** The user id of `secret`, or `null`. */
  userId: string | null;
  /** `true` until the first load (and, with a vault, its flow) has finished, and during a reload. */
  isLoading: boolean;
  /**
   * Why the secret could not be read (`secret-store-unavailable` while the device is locked,
   * `secret-store-key-invalidated`, `secret-store-corrupted`, ...). Never hidden behind a
   * fresh identity: offer recovery, or retry with `getOrCreateSecret()`.
   */
  error: LocalFirstError | Error | null;
  /** Replaces the stored secret with `secret` (e.g. from a recovery phrase); every hook updates. */
  login(secret: string): Promise<void>;
  /** Clears the stored secret. No new identity is created until the app asks for one. */
  signOut(): Promise<void>;
  /** The stored secret, or a new identity when none is stored: after sign-out, or to retry. */
  getOrCreateSecret(): Promise<string>;
  /**
   * With a `vault`: runs the vault flow again (e.g. to retry after a vault error), updating
   * `error`; resolves what it did. Without one: rejects with `invalid-argument`.
   */
  syncWithVault(): Promise<VaultIdentity>;
  /**
   * With a `vault`, after a `vault-identity-conflict` and the user's consent: replaces this
   * device's identity with the vault's (`vaultUserId` from the error) and clears `error`.
   * Show `replaced`'s recovery phrase before dropping it.
   */
  adoptVaultIdentity(vaultUserId: string): Promise<AdoptedIdentity>;
}

/**
 * The local-first account of this app, kept in the platform's secure storage
 * (Jazz's `useLocalFirstAuth`). Pass store options (`appId`, `key`, Keychain options) or an
 * `ExpoAuthSecretStore`; every hook on the same store shares one state.
 */
export function useLocalFirstAuth(
  options?: UseLocalFirstAuthOptions | ExpoAuthSecretStore,
): LocalFirstAuth {
  const hookOptions = options instanceof ExpoAuthSecretStore ? undefined : options;
  const vault = hookOptions?.vault;
  const vaultTimeoutMs = hookOptions?.vaultTimeoutMs;
  // With a vault, nothing is created before the vault has answered.
  const createOnMount = vault === undefined && (hookOptions?.createOnMount ?? true);
  const storeOptions = options instanceof ExpoAuthSecretStore ? undefined : withoutHookOptions(options);
  const optionsKey = options instanceof ExpoAuthSecretStore ? null : JSON.stringify(storeOptions ?? null);
  const givenStore = options instanceof ExpoAuthSecretStore ? options : null;
  const store = useMemo(
    () => givenStore ?? ExpoAuthSecretStore.of(storeOptions),
    // The options object may be new on every render; its content decides.
    // eslint-disable-next-line react-hooks/exhaustive-deps
    [givenStore, optionsKey],
  );

  const snapshot = useSyncExternalStore(
    useCallback((listener: () => void) => subscribe(store, listener), [store]),
    () => getSnapshot(store),
  );

  // The vault object may be new on every render: the latest one is used, the flow runs once
  // per mount (and on `syncWithVault()`).
  const vaultRef = useRef({ vault, vaultTimeoutMs });
  vaultRef.current = { vault, vaultTimeoutMs };
  const hasVault = vault !== undefined;
  const [vaultError, setVaultError] = useState<LocalFirstError | Error | null>(null);
  // With a vault the hook is loading until the vault flow has settled.
  const [vaultBusy, setVaultBusy] = useState(hasVault);
  const withVault = useCallback(
    async <T>(run: (vault: SecretVault, timeoutMs: number | undefined) => Promise<T>): Promise<T> => {
      const { vault, vaultTimeoutMs } = vaultRef.current;
      if (vault === undefined) {
        throw new LocalFirstError('invalid-argument', 'useLocalFirstAuth was given no vault');
      }
      setVaultBusy(true);
      try {
        const result = await run(vault, vaultTimeoutMs);
        setVaultError(null);
        return result;
      } catch (error) {
        const coded = failureOf(error);
        setVaultError(coded);
        throw coded;
      } finally {
        setVaultBusy(false);
      }
    },
    [],
  );
  const syncWithVault = useCallback(
    () => withVault((vault, timeoutMs) => sharedVaultFlow(store, vault, timeoutMs)),
    [store, withVault],
  );
  const adoptVaultIdentity = useCallback(
    (vaultUserId: string) =>
      withVault((vault, timeoutMs) =>
        adoptFromVault(vault, vaultUserId, timeoutMs === undefined ? { store } : { store, timeoutMs }),
      ),
    [store, withVault],
  );

  useEffect(() => {
    const { status } = getSnapshot(store);
    const loaded =
      status === 'idle' || status === 'error'
        ? ensureSecret(store, createOnMount ? 'create' : 'load')
        : Promise.resolve(null);
    loaded
      .then(() => (hasVault ? syncWithVault() : undefined))
      .catch(() => {
        // Shown as `error`.
      });
  }, [store, createOnMount, hasVault, syncWithVault]);

  const userId = useMemo(
    () => (snapshot.secret === null ? null : AuthSecret.userId(snapshot.secret)),
    [snapshot.secret],
  );

  const login = useCallback(
    async (secret: string) => {
      AuthSecret.userId(secret);
      await store.saveSecret(secret);
    },
    [store],
  );
  const signOut = useCallback(() => store.clearSecret(), [store]);
  const getOrCreateSecret = useCallback(async () => {
    const secret = await ensureSecret(store, 'create');
    if (secret === null) {
      // A sign-out raced this call; ask again, now creating.
      return ensureSecret(store, 'create') as Promise<string>;
    }
    return secret;
  }, [store]);

  return {
    secret: snapshot.status === 'ready' ? snapshot.secret : null,
    userId: snapshot.status === 'ready' ? userId : null,
    isLoading: snapshot.status === 'idle' || snapshot.status === 'loading' || vaultBusy,
    error: vaultError ?? snapshot.error,
    login,
    signOut,
    getOrCreateSecret,
    syncWithVault,
    adoptVaultIdentity,
  };
}

const vaultFlows = new Map<string, Promise<VaultIdentity>>();

/** Hooks mounting together on one store share one run of the vault flow. */
function sharedVaultFlow(
  store: ExpoAuthSecretStore,
  vault: SecretVault,
  timeoutMs: number | undefined,
): Promise<VaultIdentity> {
  const running = vaultFlows.get(store.cacheKey);
  if (running !== undefined) {
    return running;
  }
  const flow = restoreOrBackupWithVault(vault, timeoutMs === undefined ? { store } : { store, timeoutMs });
  const tracked = flow.finally(() => {
    if (vaultFlows.get(store.cacheKey) === tracked) {
      vaultFlows.delete(store.cacheKey);
    }
  });
  vaultFlows.set(store.cacheKey, tracked);
  return tracked;
}

function withoutHookOptions(
  options: UseLocalFirstAuthOptions | undefined,
): ExpoAuthSecretStoreOptions | undefined {
  if (options === undefined) {
    return undefined;
  }
  const { createOnMount: _create, vault: _vault, vaultTimeoutMs: _timeout, ...rest } = options;
  return Object.keys(rest).length === 0 ? undefined : rest;
}
