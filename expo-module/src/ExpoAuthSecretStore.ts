import {
  ExpoLocalFirst,
  KEYCHAIN_ACCESSIBILITY,
  type KeychainAccessibility,
  type NativeStoreOptions,
} from './ExpoLocalFirstModule';
import { LocalFirstError, rethrowing, rethrowingAsync, toLocalFirstError } from './errors';
import { secretChanged } from './authState';
import { onProcessStateReset } from './processState';

/** Options of an `ExpoAuthSecretStore`. All are optional. */
export interface ExpoAuthSecretStoreOptions {
  /**
   * An explicit storage key, used verbatim (1 to 255 bytes). Combined with
   * `appId`/`userId`/`sessionId` it is refused (`invalid-storage-key`, the core's rule).
   */
  key?: string;
  /** Namespaces the secret per app: key `jazz-auth-secret:<appId>`. */
  appId?: string;
  /** Namespaces the secret per user (after `appId`). */
  userId?: string;
  /** Namespaces the secret per session (after `userId`). */
  sessionId?: string;
  /**
   * iOS: when the Keychain item can be read. Default `afterFirstUnlockThisDeviceOnly`
   * (background refreshes work; a backup never carries the identity to another phone).
   */
  accessibility?: KeychainAccessibility;
  /** iOS: a shared Keychain access group (`TEAMID.group.name`) for app extensions. */
  accessGroup?: string;
  /**
   * iOS: ask for Face ID, Touch ID or the passcode before the secret is read. Android: not
   * supported yet (refused with `invalid-argument`).
   */
  requireAuthentication?: boolean;
}

/** The default storage key, shared with Jazz's stores. */
export const DEFAULT_STORAGE_KEY = 'jazz-auth-secret';

/**
 * Keeps the account secret in the platform's secure storage: the iOS Keychain or an
 * Android Keystore-encrypted file, through the Rust core. Jazz's `ExpoAuthSecretStore`
 * names: `getOrCreateSecret`, `loadSecret`, `saveSecret`, `clearSecret`, as instance
 * methods and as static methods on the default store (`ExpoAuthSecretStore.loadSecret()`).
 *
 * A read that fails (device locked, key invalidated, corrupted item) rejects with a
 * `LocalFirstError`; it never resolves `null` and `getOrCreateSecret` never mints a new
 * identity over it.
 */
export class ExpoAuthSecretStore {
  /** The store with default options (key `jazz-auth-secret`), made on first use. */
  static get default(): ExpoAuthSecretStore {
    defaultStore ??= new ExpoAuthSecretStore();
    return defaultStore;
  }

  /** The options, with defaults filled in, exactly as the native side receives them. */
  readonly nativeOptions: Readonly<NativeStoreOptions>;

  /** Identifies stores with equal options (used to share in-flight work and cached state). */
  readonly cacheKey: string;

  /**
   * A store for `options`. The key they name is checked now, by the core: a `key` given with
   * `appId`/`userId`/`sessionId`, or a blank or over-long `key`, throws `invalid-storage-key`.
   */
  constructor(options: ExpoAuthSecretStoreOptions = {}) {
    this.nativeOptions = Object.freeze(normalizeOptions(options));
    this.cacheKey = JSON.stringify(this.nativeOptions);
    rethrowing(() => ExpoLocalFirst.storageKeyFor(this.nativeOptions));
  }

  /** The store for `options`, or the default store when none are given. */
  static of(options?: ExpoAuthSecretStoreOptions | ExpoAuthSecretStore): ExpoAuthSecretStore {
    if (options instanceof ExpoAuthSecretStore) {
      return options;
    }
    return options === undefined ? ExpoAuthSecretStore.default : new ExpoAuthSecretStore(options);
  }

  /** The storage key this store reads and writes (e.g. `jazz-auth-secret:my-app`). */
  get storageKey(): string {
    return rethrowing(() => ExpoLocalFirst.storageKeyFor(this.nativeOptions));
  }

  /** The app id this store is namespaced by, if any. */
  get appId(): string | undefined {
    return this.nativeOptions.appId;
  }

  /** The stored secret, or `null` when none is stored. */
  loadSecret(): Promise<string | null> {
    return rethrowingAsync(() => ExpoLocalFirst.loadSecret(this.nativeOptions));
  }

  /**
   * Stores `secret`, replacing any previous one (e.g. restoring from a recovery phrase).
   * Every mounted `useLocalFirstAuth()` sees the change.
   */
  async saveSecret(secret: string): Promise<void> {
    if (typeof secret !== 'string') {
      throw new LocalFirstError('invalid-argument', 'secret must be a base64url string');
    }
    await afterWrite(this, () => ({ secret }), () => ExpoLocalFirst.saveSecret(this.nativeOptions, secret));
  }

  /** Removes the stored secret (succeeds when none is stored). The account is gone unless backed up. */
  async clearSecret(): Promise<void> {
    await afterWrite(this, () => ({ secret: null }), () => ExpoLocalFirst.clearSecret(this.nativeOptions));
  }

  /**
   * Stores `secret` only when nothing is stored, and resolves what is stored afterwards
   * (`secret`, or the secret that was already there). Never replaces.
   */
  async createSecret(secret: string): Promise<string> {
    let stored = secret;
    await afterWrite(this, () => ({ secret: stored }), async () => {
      stored = await ExpoLocalFirst.createSecret(this.nativeOptions, secret);
    });
    return stored;
  }

  /**
   * The stored secret, or a new one stored and returned when definitively none is stored.
   * Concurrent calls (from any store with the same options) resolve to the same secret.
   */
  getOrCreateSecret(): Promise<string> {
    const running = inFlight.get(this.cacheKey);
    if (running !== undefined) {
      return running;
    }
    const created = rethrowingAsync(() => ExpoLocalFirst.getOrCreateSecret(this.nativeOptions));
    const tracked = created.finally(() => {
      if (inFlight.get(this.cacheKey) === tracked) {
        inFlight.delete(this.cacheKey);
      }
    });
    inFlight.set(this.cacheKey, tracked);
    return tracked;
  }

  /** `getOrCreateSecret()` of the store for `options` (default store when omitted). */
  static getOrCreateSecret(options?: ExpoAuthSecretStoreOptions): Promise<string> {
    return ExpoAuthSecretStore.of(options).getOrCreateSecret();
  }

  /** `loadSecret()` of the store for `options`. */
  static loadSecret(options?: ExpoAuthSecretStoreOptions): Promise<string | null> {
    return ExpoAuthSecretStore.of(options).loadSecret();
  }

  /** `saveSecret(secret)` of the store for `options`. */
  static saveSecret(secret: string, options?: ExpoAuthSecretStoreOptions): Promise<void> {
    return ExpoAuthSecretStore.of(options).saveSecret(secret);
  }

  /** `clearSecret()` of the store for `options`. */
  static clearSecret(options?: ExpoAuthSecretStoreOptions): Promise<void> {
    return ExpoAuthSecretStore.of(options).clearSecret();
  }
}

let defaultStore: ExpoAuthSecretStore | undefined;

const inFlight = new Map<string, Promise<string>>();
onProcessStateReset(() => inFlight.clear());

/**
 * Runs a write, then tells every cached state: this store now holds `held()` when the
 * write succeeded; when it failed, what is stored is unknown and every state reloads.
 */
async function afterWrite(
  store: ExpoAuthSecretStore,
  held: () => { secret: string | null },
  write: () => Promise<void>,
): Promise<void> {
  try {
    await write();
  } catch (error) {
    secretChanged(store, undefined);
    throw toLocalFirstError(error);
  }
  secretChanged(store, held());
}

function normalizeOptions(options: ExpoAuthSecretStoreOptions): NativeStoreOptions {
  if (typeof options !== 'object' || options === null) {
    throw new LocalFirstError('invalid-argument', 'options must be an object');
  }
  const { key, appId, userId, sessionId, accessGroup } = options;
  for (const [name, value] of Object.entries({ key, appId, userId, sessionId, accessGroup })) {
    if (value !== undefined && typeof value !== 'string') {
      throw new LocalFirstError('invalid-argument', `${name} must be a string`);
    }
  }
  const accessibility = options.accessibility ?? 'afterFirstUnlockThisDeviceOnly';
  if (!KEYCHAIN_ACCESSIBILITY.includes(accessibility)) {
    throw new LocalFirstError(
      'invalid-argument',
      `accessibility must be one of ${KEYCHAIN_ACCESSIBILITY.join(', ')}`,
    );
  }
  const requireAuthentication = options.requireAuthentication ?? false;
  if (typeof requireAuthentication !== 'boolean') {
    throw new LocalFirstError('invalid-argument', 'requireAuthentication must be a boolean');
  }
  const normalized: NativeStoreOptions = { accessibility, requireAuthentication };
  if (key !== undefined) normalized.key = key;
  if (appId !== undefined) normalized.appId = appId;
  if (userId !== undefined) normalized.userId = userId;
  if (sessionId !== undefined) normalized.sessionId = sessionId;
  if (accessGroup !== undefined) normalized.accessGroup = accessGroup;
  return normalized;
}
