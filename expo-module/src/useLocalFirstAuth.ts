import { useCallback, useEffect, useMemo, useSyncExternalStore } from 'react';

import { ExpoAuthSecretStore, type ExpoAuthSecretStoreOptions } from './ExpoAuthSecretStore';
import { ensureSecret, getSnapshot, subscribe } from './authState';
import { type LocalFirstError } from './errors';
import { AuthSecret } from './identity';

/** Options of `useLocalFirstAuth()`: the store's options, plus what to do on mount. */
export interface UseLocalFirstAuthOptions extends ExpoAuthSecretStoreOptions {
  /**
   * Create an identity on mount when the store holds none and the app has not signed out
   * in this process. Default `true` (Jazz's behaviour). With `false` the hook only reads.
   */
  createOnMount?: boolean;
}

/** What `useLocalFirstAuth()` returns. */
export interface LocalFirstAuth {
  /** The account secret (base64url), or `null` while loading, signed out, or on error. */
  secret: string | null;
  /** The user id of `secret`, or `null`. */
  userId: string | null;
  /** `true` until the first load has finished (and during a reload). */
  isLoading: boolean;
  /**
   * Why the secret could not be read (`secret-store-unavailable` while the device is locked,
   * `secret-store-key-invalidated`, `secret-store-corrupted`, ...). Never hidden behind a
   * fresh identity: offer recovery, or retry with `getOrCreateSecret()`.
   */
  error: LocalFirstError | null;
  /** Replaces the stored secret with `secret` (e.g. from a recovery phrase); every hook updates. */
  login(secret: string): Promise<void>;
  /** Clears the stored secret. No new identity is created until the app asks for one. */
  signOut(): Promise<void>;
  /** The stored secret, or a new identity when none is stored: after sign-out, or to retry. */
  getOrCreateSecret(): Promise<string>;
}

/**
 * The local-first account of this app, kept in the platform's secure storage
 * (Jazz's `useLocalFirstAuth`). Pass store options (`appId`, `key`, Keychain options) or an
 * `ExpoAuthSecretStore`; every hook on the same store shares one state.
 */
export function useLocalFirstAuth(
  options?: UseLocalFirstAuthOptions | ExpoAuthSecretStore,
): LocalFirstAuth {
  const createOnMount =
    options instanceof ExpoAuthSecretStore ? true : (options?.createOnMount ?? true);
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

  useEffect(() => {
    const { status } = getSnapshot(store);
    if (status === 'idle' || status === 'error') {
      ensureSecret(store, createOnMount ? 'create' : 'load').catch(() => {
        // Shown as `error`.
      });
    }
  }, [store, createOnMount]);

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
    isLoading: snapshot.status === 'idle' || snapshot.status === 'loading',
    error: snapshot.error,
    login,
    signOut,
    getOrCreateSecret,
  };
}

function withoutHookOptions(
  options: UseLocalFirstAuthOptions | undefined,
): ExpoAuthSecretStoreOptions | undefined {
  if (options === undefined) {
    return undefined;
  }
  const { createOnMount: _ignored, ...rest } = options;
  return Object.keys(rest).length === 0 ? undefined : rest;
}
