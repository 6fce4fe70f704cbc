/**
 * The `ExpoLocalFirst` native module for jest: jest-expo loads this file in place of the
 * native module (it maps `requireNativeModule('ExpoLocalFirst')` to `<package>/mocks/<name>`).
 *
 * It is not a fake: every function runs the same Rust core as the app, through
 * `@localfirst/node`, with an in-memory secret store standing in for the Keychain/Keystore
 * (one memory per jest module registry, namespaced by storage key exactly as on a device).
 * Apps that run their jest suites against it add `@localfirst/node` as a devDependency.
 * Store operations resolve asynchronously, as over the bridge.
 */
import type { NativeStoreOptions, ProofVerification } from '../src/ExpoLocalFirstModule';

/** The part of `@localfirst/node` this stand-in uses. */
interface NodeAuthSecret {
  toBase64Url(): string;
  userId(): string;
  publicKey(): string;
}
interface NodeStore {
  readonly storageKey: string;
  loadSecret(): NodeAuthSecret | null;
  saveSecret(secret: NodeAuthSecret): void;
  clearSecret(): void;
  getOrCreateSecret(): NodeAuthSecret;
  sibling(options?: StorageKeyOptions): NodeStore;
}
interface StorageKeyOptions {
  key?: string;
  appId?: string;
  userId?: string;
  sessionId?: string;
}
interface LocalFirstNode {
  AuthSecret: {
    generate(): NodeAuthSecret;
    fromBase64Url(text: string): NodeAuthSecret;
  };
  RecoveryPhrase: {
    fromSecret(secret: NodeAuthSecret): string;
    toSecret(phrase: string): NodeAuthSecret;
  };
  mintLocalFirstToken(secret: NodeAuthSecret, audience: string, ttlSeconds: number): string;
  localFirstIdentityProof(secret: NodeAuthSecret, audience: string, ttlSeconds: number): string;
  verifyLocalFirstIdentityProof(token: string, audience: string): ProofVerification;
  storageKeyFor(options?: StorageKeyOptions): string;
  MemorySecretStore: new (options?: StorageKeyOptions) => NodeStore;
}

declare const require: (name: string) => unknown;

let core: LocalFirstNode | null = null;
let memory: NodeStore | null = null;

function localFirst(): LocalFirstNode {
  if (core === null) {
    try {
      core = require('@localfirst/node') as LocalFirstNode;
    } catch (cause) {
      const error = new Error(
        "expo-localfirst's jest mock runs the real core: add @localfirst/node as a devDependency",
      ) as Error & { code: string; cause: unknown };
      error.code = 'runtime-unavailable';
      error.cause = cause;
      throw error;
    }
  }
  return core;
}

function parse(secret: string): NodeAuthSecret {
  return localFirst().AuthSecret.fromBase64Url(secret);
}

function keyOptions(options: NativeStoreOptions): StorageKeyOptions {
  const { key, appId, userId, sessionId } = options;
  const picked: StorageKeyOptions = {};
  if (key !== undefined) picked.key = key;
  if (appId !== undefined) picked.appId = appId;
  if (userId !== undefined) picked.userId = userId;
  if (sessionId !== undefined) picked.sessionId = sessionId;
  return picked;
}

/** The in-memory store for `options` (one memory shared by every key, like a Keychain). */
function storeFor(options: NativeStoreOptions): NodeStore {
  if (memory === null) {
    memory = new (localFirst().MemorySecretStore)();
  }
  return memory.sibling(keyOptions(options));
}

/** Lets the caller's synchronous code run first, as a call over the bridge would. */
async function bridge<T>(body: () => T): Promise<T> {
  await Promise.resolve();
  return body();
}

/** A fresh random secret (base64url). */
export function generateSecret(): string {
  return localFirst().AuthSecret.generate().toBase64Url();
}

/** The user id of `secret`. */
export function userIdOf(secret: string): string {
  return parse(secret).userId();
}

/** The base64url public key of `secret`. */
export function publicKeyOf(secret: string): string {
  return parse(secret).publicKey();
}

/** The 24-word phrase of `secret`. */
export function recoveryPhraseFromSecret(secret: string): string {
  return localFirst().RecoveryPhrase.fromSecret(parse(secret));
}

/** The secret `phrase` encodes. */
export function recoveryPhraseToSecret(phrase: string): string {
  return localFirst().RecoveryPhrase.toSecret(phrase).toBase64Url();
}

/** A local-first token for `audience`. */
export function mintLocalFirstToken(secret: string, audience: string, ttlSeconds: number): string {
  return localFirst().mintLocalFirstToken(parse(secret), audience, ttlSeconds);
}

/** An identity proof for `audience`. */
export function localFirstIdentityProof(
  secret: string,
  audience: string,
  ttlSeconds: number,
): string {
  return localFirst().localFirstIdentityProof(parse(secret), audience, ttlSeconds);
}

/** Verifies an identity proof now; never throws. */
export function verifyLocalFirstIdentityProof(token: string, audience: string): ProofVerification {
  const { ok, id, error, code } = localFirst().verifyLocalFirstIdentityProof(token, audience);
  return { ok, id: id ?? null, error: error ?? null, code: code ?? null };
}

/** The storage key the options select. */
export function storageKeyFor(options: NativeStoreOptions): string {
  return localFirst().storageKeyFor(keyOptions(options));
}

/** Reads the secret; `null` only when absent. */
export function loadSecret(options: NativeStoreOptions): Promise<string | null> {
  return bridge(() => storeFor(options).loadSecret()?.toBase64Url() ?? null);
}

/** Stores `secret`, replacing any previous one. */
export function saveSecret(options: NativeStoreOptions, secret: string): Promise<void> {
  return bridge(() => storeFor(options).saveSecret(parse(secret)));
}

/** Removes the secret. */
export function clearSecret(options: NativeStoreOptions): Promise<void> {
  return bridge(() => storeFor(options).clearSecret());
}

/** Stores `secret` only into an empty store; resolves what is stored. */
export function createSecret(options: NativeStoreOptions, secret: string): Promise<string> {
  return bridge(() => {
    // Synchronous from load to save: nothing else runs in between, as under the native lock.
    const store = storeFor(options);
    const existing = store.loadSecret();
    if (existing !== null) {
      return existing.toBase64Url();
    }
    store.saveSecret(parse(secret));
    return secret;
  });
}

/** The stored secret, or a new one when absent. */
export function getOrCreateSecret(options: NativeStoreOptions): Promise<string> {
  return bridge(() => storeFor(options).getOrCreateSecret().toBase64Url());
}

/** Empties the stand-in's memory (call in `beforeEach` for a fresh "device"). */
export function resetSecretMemory(): void {
  memory = null;
}
