import { ExpoAuthSecretStore, type ExpoAuthSecretStoreOptions } from './ExpoAuthSecretStore';
import { ExpoLocalFirst } from './ExpoLocalFirstModule';
import { secretChanged } from './authState';
import { LocalFirstError, codeOf, rethrowingAsync } from './errors';

/** The expo-secure-store key under which Jazz's JavaScript `ExpoAuthSecretStore` keeps its secret. */
export const JAZZ_SECURE_STORE_KEY = 'jazz-auth-secret';

/** The part of expo-secure-store the import uses. */
export interface SecureStoreLike {
  getItemAsync(key: string, options?: Record<string, unknown>): Promise<string | null>;
  deleteItemAsync(key: string, options?: Record<string, unknown>): Promise<void>;
}

/** Options of `importJazzSecret()`. */
export interface JazzImportOptions {
  /** Where to move the secret. Default: the default store. */
  store?: ExpoAuthSecretStore | ExpoAuthSecretStoreOptions;
  /** The expo-secure-store key Jazz used. Default `jazz-auth-secret`. */
  jazzKey?: string;
  /** Options Jazz's items were written with (expo-secure-store's). Default none, as Jazz. */
  secureStoreOptions?: Record<string, unknown>;
  /** expo-secure-store itself, or a stand-in. Default: the installed package, if any. */
  secureStore?: SecureStoreLike | null;
}

/** What `importJazzSecret()` did. Nothing is ever lost: see each status. */
export type JazzImportResult =
  /** The secret was copied into our store, read back, and Jazz's copy was deleted (when `jazzCopyRemoved`). */
  | { status: 'imported'; userId: string; jazzCopyRemoved: boolean }
  /** Our store already held the same secret; Jazz's copy was deleted (when `jazzCopyRemoved`). */
  | { status: 'already-imported'; userId: string; jazzCopyRemoved: boolean }
  /** Our store holds a different identity: nothing was changed, both stay. The app decides. */
  | { status: 'conflict'; userId: string; existingUserId: string }
  /** Jazz stored no secret under the key. */
  | { status: 'not-found' }
  /** expo-secure-store is not installed: there is nothing Jazz could have saved. */
  | { status: 'unavailable' };

/**
 * Moves the secret that Jazz's JavaScript `ExpoAuthSecretStore` saved in expo-secure-store
 * (key `jazz-auth-secret`, unpadded base64url) into an `ExpoAuthSecretStore`, so a Jazz app
 * keeps its users' identities. Run it once at start-up, before `useLocalFirstAuth()` can
 * create an identity.
 *
 * Never loses the secret. The decision is the core's (`import_jazz_secret`): the value is
 * validated (a malformed value is left in place and reported as `secret-store-corrupted`),
 * copied only if our store holds nothing (a different identity there is a `conflict`), read
 * back and compared; only when the core says so is it deleted from expo-secure-store. A failed
 * read of expo-secure-store rejects with `secret-store-unavailable`.
 */
export async function importJazzSecret(options: JazzImportOptions = {}): Promise<JazzImportResult> {
  const secureStore = options.secureStore === undefined ? loadSecureStore() : options.secureStore;
  if (secureStore === null) {
    return { status: 'unavailable' };
  }
  const jazzKey = options.jazzKey ?? JAZZ_SECURE_STORE_KEY;
  const store = ExpoAuthSecretStore.of(options.store);

  let value: string | null;
  try {
    value = await secureStore.getItemAsync(jazzKey, options.secureStoreOptions);
  } catch (error) {
    throw new LocalFirstError(
      'secret-store-unavailable',
      `could not read "${jazzKey}" from expo-secure-store`,
      { cause: error },
    );
  }

  const done = await rethrowingAsync(() => ExpoLocalFirst.importJazzSecret(store.nativeOptions, value ?? null));
  switch (done.outcome) {
    case 'not-found':
      return { status: 'not-found' };
    case 'conflict':
      return { status: 'conflict', userId: done.userId!, existingUserId: done.existingUserId! };
    case 'imported':
      secretChanged(store, { secret: value });
      break;
    case 'already-imported':
      break;
  }
  const jazzCopyRemoved = done.removeSource
    ? await deleteQuietly(secureStore, jazzKey, options.secureStoreOptions)
    : false;
  return { status: done.outcome, userId: done.userId!, jazzCopyRemoved };
}

async function deleteQuietly(
  secureStore: SecureStoreLike,
  key: string,
  options: Record<string, unknown> | undefined,
): Promise<boolean> {
  try {
    await secureStore.deleteItemAsync(key, options);
    return true;
  } catch {
    // The secret is safe in both places; the next import finds it again and deletes it then.
    return false;
  }
}

declare const require: (name: string) => unknown;

/** expo-secure-store when installed (an optional peer dependency), else `null`. */
export function loadSecureStore(): SecureStoreLike | null {
  try {
    // In a try block: Metro treats the dependency as optional, and a missing package throws here.
    return require('expo-secure-store') as SecureStoreLike;
  } catch (error) {
    if (codeOf(error) === 'MODULE_NOT_FOUND' || /Cannot find module/.test(String(error))) {
      return null;
    }
    throw new LocalFirstError('secret-store-unavailable', 'expo-secure-store failed to load', {
      cause: error,
    });
  }
}
