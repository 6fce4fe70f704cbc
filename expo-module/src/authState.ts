/**
 * The state `useLocalFirstAuth()` shows, shared by every mounted hook: one entry per store
 * (by its options). The rules that Jazz's hook got wrong are kept here:
 *
 * - any write through an `ExpoAuthSecretStore` (save, clear, create, login, sign-out)
 *   invalidates every entry, so no hook keeps showing a replaced secret;
 * - a failed load is shown as `error` and is not kept: the next mount, or the app calling
 *   `getOrCreateSecret()`, tries again;
 * - after a sign-out the entry is `signed-out`: a new identity is created only when the
 *   app asks for one;
 * - concurrent requests for the same store share one native call.
 */
import type { ExpoAuthSecretStore } from './ExpoAuthSecretStore';
import { type LocalFirstError, failureOf } from './errors';
import { onProcessStateReset } from './processState';

/** Where an entry is in its life. */
export type AuthStatus = 'idle' | 'loading' | 'ready' | 'signed-out' | 'error';

/** What a hook renders. Snapshots are immutable; a change makes a new one. */
export interface AuthSnapshot {
  /** Where the entry is. */
  readonly status: AuthStatus;
  /** The secret when `ready`. */
  readonly secret: string | null;
  /** Why the last load failed when `error`. */
  readonly error: LocalFirstError | Error | null;
}

/** How a load that finds nothing ends: create an identity, or report signed-out. */
export type LoadMode = 'create' | 'load';

const IDLE: AuthSnapshot = Object.freeze({ status: 'idle', secret: null, error: null });

interface Entry {
  store: ExpoAuthSecretStore;
  snapshot: AuthSnapshot;
  listeners: Set<() => void>;
  /** Increased by every invalidation; a load that finishes under an older ticket is dropped. */
  ticket: number;
  pending: Promise<string | null> | null;
  pendingMode: LoadMode | null;
  /** A signed-out entry invalidated while no hook was mounted: re-read it, never create. */
  stale: boolean;
}

const entries = new Map<string, Entry>();

function entryFor(store: ExpoAuthSecretStore): Entry {
  let entry = entries.get(store.cacheKey);
  if (entry === undefined) {
    entry = {
      store,
      snapshot: IDLE,
      listeners: new Set(),
      ticket: 0,
      pending: null,
      pendingMode: null,
      stale: false,
    };
    entries.set(store.cacheKey, entry);
  }
  return entry;
}

function publish(entry: Entry, snapshot: AuthSnapshot): void {
  entry.snapshot = Object.freeze(snapshot);
  for (const listener of [...entry.listeners]) {
    listener();
  }
}

/** Subscribes `listener` to changes of the store's entry; returns the unsubscribe function. */
export function subscribe(store: ExpoAuthSecretStore, listener: () => void): () => void {
  const entry = entryFor(store);
  entry.listeners.add(listener);
  return () => {
    entry.listeners.delete(listener);
  };
}

/** The distinct stores that mounted hooks are subscribed to, in the order first used. */
export function storesInUse(): ExpoAuthSecretStore[] {
  return [...entries.values()].filter((entry) => entry.listeners.size > 0).map((entry) => entry.store);
}

/** The store's current snapshot (`idle` before anything was loaded). */
export function getSnapshot(store: ExpoAuthSecretStore): AuthSnapshot {
  return entries.get(store.cacheKey)?.snapshot ?? IDLE;
}

/**
 * Resolves the store's secret: the shown one when `ready`, `null` when `signed-out` and
 * `mode` is `load`, else a (shared) native load. With `create`, a store that holds nothing
 * gets a new identity. Rejects with the load's `LocalFirstError`, which the entry shows
 * until the next attempt.
 */
export function ensureSecret(store: ExpoAuthSecretStore, mode: LoadMode): Promise<string | null> {
  const entry = entryFor(store);
  const { status, secret } = entry.snapshot;
  if (entry.stale) {
    entry.stale = false;
    return startLoad(entry, 'load');
  }
  if (status === 'ready') {
    return Promise.resolve(secret);
  }
  if (status === 'signed-out' && mode === 'load') {
    return Promise.resolve(null);
  }
  if (entry.pending !== null && (entry.pendingMode === mode || mode === 'load')) {
    return entry.pending;
  }
  return startLoad(entry, mode);
}

function startLoad(entry: Entry, mode: LoadMode): Promise<string | null> {
  const ticket = ++entry.ticket;
  const request: Promise<string | null> =
    mode === 'create' ? entry.store.getOrCreateSecret() : entry.store.loadSecret();
  const pending = request.then(
    (secret) => {
      if (entry.ticket === ticket) {
        entry.pending = null;
        entry.pendingMode = null;
        publish(entry, {
          status: secret === null ? 'signed-out' : 'ready',
          secret,
          error: null,
        });
      }
      return secret;
    },
    (reason: unknown) => {
      const error = failureOf(reason);
      if (entry.ticket === ticket) {
        entry.pending = null;
        entry.pendingMode = null;
        publish(entry, { status: 'error', secret: null, error });
      }
      throw error;
    },
  );
  entry.pending = pending;
  entry.pendingMode = mode;
  if (entry.snapshot.status !== 'loading') {
    publish(entry, { status: 'loading', secret: entry.snapshot.secret, error: null });
  }
  return pending;
}

/**
 * Called after every write through a store. `known` is what `store` now holds when the
 * write succeeded; `undefined` when it failed (what is stored is then unknown). Every entry
 * is invalidated: the writer's entry shows `known` at once, entries with mounted hooks
 * reload (without creating), signed-out ones are re-read (without creating) when next used,
 * the others are forgotten and load afresh when next used.
 */
export function secretChanged(
  store: ExpoAuthSecretStore,
  known: { secret: string | null } | undefined,
): void {
  for (const [cacheKey, entry] of entries) {
    entry.ticket++;
    entry.pending = null;
    entry.pendingMode = null;
    entry.stale = false;
    if (known !== undefined && cacheKey === store.cacheKey) {
      publish(entry, {
        status: known.secret === null ? 'signed-out' : 'ready',
        secret: known.secret,
        error: null,
      });
    } else if (entry.listeners.size > 0) {
      startLoad(entry, 'load').catch(() => {
        // Shown as the entry's error; nobody awaits this reload.
      });
    } else if (entry.snapshot.status === 'signed-out') {
      entry.stale = true;
    } else {
      entries.delete(cacheKey);
    }
  }
  if (known !== undefined && !entries.has(store.cacheKey)) {
    const entry = entryFor(store);
    publish(entry, {
      status: known.secret === null ? 'signed-out' : 'ready',
      secret: known.secret,
      error: null,
    });
  }
}

/** Forgets every entry (for tests that start from a fresh process state). */
export function resetAuthState(): void {
  for (const entry of entries.values()) {
    entry.ticket++;
  }
  entries.clear();
}

onProcessStateReset(resetAuthState);
