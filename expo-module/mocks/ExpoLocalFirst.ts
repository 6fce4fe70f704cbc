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
import type {
  NativeJazzImport,
  NativeStoreOptions,
  NativeVaultStep,
  ProofVerification,
} from '../src/ExpoLocalFirstModule';
import { isErrorCode } from '../src/errors';
import { resetProcessState } from '../src/processState';

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
interface NodeVaultIdentity {
  readonly outcome: string;
  readonly created: boolean;
  readonly userId: string;
  readonly secret: NodeAuthSecret;
}
interface NodeVaultBackup {
  readonly secret: NodeAuthSecret;
  readonly created: boolean;
}
interface NodePasskeyCeremony {
  registrationRequestJson(secret: NodeAuthSecret, displayName: string): string;
  assertionRequestJson(): string;
}
interface NodeBuffer {
  readonly length: number;
}
interface NodeBufferStatic {
  from(text: string, encoding: 'base64url' | 'hex'): NodeBuffer;
  from(bytes: number[]): NodeBuffer;
  concat(parts: NodeBuffer[]): NodeBuffer;
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
  identityProofFor(
    secret: NodeAuthSecret,
    ttlSeconds: number | null,
    audience: string,
  ): string;
  verifyLocalFirstIdentityProof(token: string, audience: string): ProofVerification;
  storageKeyFor(options?: StorageKeyOptions): string;
  importJazzSecret(
    store: NodeStore,
    jazzValue: string | null,
  ): {
    outcome: NativeJazzImport['outcome'];
    userId?: string;
    existingUserId?: string;
    removeSource: boolean;
  };
  MemorySecretStore: new (options?: StorageKeyOptions) => NodeStore;
  vaultRestore(store: NodeStore, value: string): NodeVaultIdentity;
  vaultBackupSecret(store: NodeStore): NodeVaultBackup;
  vaultConfirmReadback(backup: NodeVaultBackup, readBack: string | null): NodeVaultIdentity;
  vaultAdopt(
    store: NodeStore,
    value: string | null,
    vaultUserId: string,
  ): { userId: string; secret: NodeAuthSecret; replaced: NodeAuthSecret | null };
  VaultBackup: new (secret: NodeAuthSecret, created: boolean) => NodeVaultBackup;
  PasskeyCeremony: new (appName: string, rpId: string) => NodePasskeyCeremony;
  secretFromAssertion(authenticatorData: NodeBuffer, userHandle: NodeBuffer | null): NodeAuthSecret;
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

/** An identity proof for `audience` (the core's `identity_proof_for`). */
export function identityProofFor(
  secret: string,
  ttlSeconds: number | null,
  audience: string,
): string {
  return localFirst().identityProofFor(parse(secret), ttlSeconds, audience);
}

/** Verifies an identity proof now; never throws. */
export function verifyLocalFirstIdentityProof(token: string, audience: string): ProofVerification {
  const { ok, id, error, code } = localFirst().verifyLocalFirstIdentityProof(token, audience);
  return { ok, id: id ?? null, error: error ?? null, code: isErrorCode(code) ? code : null };
}

/** The storage key the options select (the core's `storage_key_for`). */
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

const NO_STEP: NativeVaultStep = {
  code: null,
  message: null,
  deviceUserId: null,
  vaultUserId: null,
  outcome: null,
  created: false,
  userId: null,
  secret: null,
  replaced: null,
};

/** A core step as the bindings' `VaultStep` record: its failure is the record's `code`. */
function vaultStep(body: () => Partial<NativeVaultStep>): NativeVaultStep {
  try {
    return { ...NO_STEP, ...body() };
  } catch (error) {
    const { code, message, details } = error as {
      code?: string;
      message?: string;
      details?: { kind: string; deviceUserId?: string; vaultUserId?: string };
    };
    if (!isErrorCode(code)) {
      throw error;
    }
    const conflict = details?.kind === 'identityConflict' ? details : undefined;
    return {
      ...NO_STEP,
      code,
      message: message ?? code,
      deviceUserId: conflict?.deviceUserId ?? null,
      vaultUserId: conflict?.vaultUserId ?? null,
    };
  }
}

function identityStep(identity: NodeVaultIdentity): Partial<NativeVaultStep> {
  return {
    outcome: identity.outcome,
    created: identity.created,
    userId: identity.userId,
    secret: identity.secret.toBase64Url(),
  };
}

/** Vault step: the vault held `value`. */
/** The core's Jazz import decision over the in-memory store. */
export function importJazzSecret(
  options: NativeStoreOptions,
  jazzValue: string | null,
): Promise<NativeJazzImport> {
  return bridge(() => {
    const done = localFirst().importJazzSecret(storeFor(options), jazzValue);
    return {
      outcome: done.outcome,
      userId: done.userId ?? null,
      existingUserId: done.existingUserId ?? null,
      removeSource: done.removeSource,
    };
  });
}

export function vaultRestore(options: NativeStoreOptions, value: string): Promise<NativeVaultStep> {
  return bridge(() => vaultStep(() => identityStep(localFirst().vaultRestore(storeFor(options), value))));
}

/** Vault step: the vault is empty; the secret to write. */
export function vaultBackupSecret(options: NativeStoreOptions): Promise<NativeVaultStep> {
  return bridge(() =>
    vaultStep(() => {
      const backup = localFirst().vaultBackupSecret(storeFor(options));
      return {
        outcome: 'backup',
        created: backup.created,
        userId: backup.secret.userId(),
        secret: backup.secret.toBase64Url(),
      };
    }),
  );
}

/** Vault step: the read-back after `secret` was written. */
export function vaultConfirmReadback(
  secret: string,
  created: boolean,
  readBack: string | null,
): NativeVaultStep {
  const core = localFirst();
  const backup = new core.VaultBackup(parse(secret), created);
  return vaultStep(() => identityStep(core.vaultConfirmReadback(backup, readBack)));
}

/** Vault step: adopt the vault's identity after consent. */
export function vaultAdopt(
  options: NativeStoreOptions,
  value: string | null,
  vaultUserId: string,
): Promise<NativeVaultStep> {
  return bridge(() =>
    vaultStep(() => {
      const adopted = localFirst().vaultAdopt(storeFor(options), value, vaultUserId);
      return {
        outcome: 'adopted',
        userId: adopted.userId,
        secret: adopted.secret.toBase64Url(),
        replaced: adopted.replaced?.toBase64Url() ?? null,
      };
    }),
  );
}

/** One passkey the simulated authenticator holds. */
export interface SimulatedPasskey {
  /** Its relying-party id. */
  rpId: string;
  /** Its user handle, base64url (the secret, as the core's request put it). */
  userHandle: string;
  /** The name shown in the platform's sheet. */
  displayName: string;
}

/**
 * The platform's passkey provider as the stand-in simulates it: registration keeps the user
 * handle of the request the core built; an assertion is built as an authenticator would
 * (authenticator data = SHA-256(rpId) | flags | counter, and the user handle) and checked by
 * the core. Tests change `flags`, remove credentials, or make the platform fail.
 */
export const simulatedAuthenticator = {
  /** Whether the device supports passkeys (`not-supported` otherwise). */
  supported: true,
  /** The flags byte of the next assertions (0x05: user present and verified). */
  flags: 0x05,
  /** The passkeys held, newest last. */
  passkeys: [] as SimulatedPasskey[],
  /** The platform's next failure (e.g. the user cancelled: `create-failed`, `get-failed`). */
  failNext: null as { code: string; message: string } | null,
  /** Overrides the user handle of the next assertion (a malformed credential). */
  userHandleNext: undefined as string | null | undefined,
  /** Back to a supporting device without passkeys. */
  reset(): void {
    this.supported = true;
    this.flags = 0x05;
    this.passkeys = [];
    this.failNext = null;
    this.userHandleNext = undefined;
  },
};

function platformFailure(): void {
  const failure = simulatedAuthenticator.failNext;
  simulatedAuthenticator.failNext = null;
  if (!simulatedAuthenticator.supported) {
    throw coded('not-supported', 'passkeys are not supported on this simulated device');
  }
  if (failure !== null) {
    throw coded(failure.code, failure.message);
  }
}

function coded(code: string, message: string): Error {
  return Object.assign(new Error(message), { code });
}

function nodeBuffer(): NodeBufferStatic {
  return (require('buffer') as { Buffer: NodeBufferStatic }).Buffer;
}

/** Creates a passkey: the core builds the request, the simulated provider keeps it. */
export function passkeyBackup(
  appName: string,
  rpId: string,
  secret: string,
  displayName: string,
): Promise<void> {
  return bridge(() => {
    const core = localFirst();
    const request = JSON.parse(
      new core.PasskeyCeremony(appName, rpId).registrationRequestJson(parse(secret), displayName),
    ) as { rp: { id: string }; user: { id: string; displayName: string } };
    platformFailure();
    const passkeys = simulatedAuthenticator.passkeys.filter(
      (p) => p.rpId !== request.rp.id || p.userHandle !== request.user.id,
    );
    passkeys.push({ rpId: request.rp.id, userHandle: request.user.id, displayName: request.user.displayName });
    simulatedAuthenticator.passkeys = passkeys;
  });
}

/** Gets an assertion from the simulated provider and has the core check it. */
export function passkeyRestore(appName: string, rpId: string): Promise<string> {
  return bridge(() => {
    const core = localFirst();
    const request = JSON.parse(new core.PasskeyCeremony(appName, rpId).assertionRequestJson()) as {
      rpId: string;
    };
    platformFailure();
    const passkey = [...simulatedAuthenticator.passkeys].reverse().find((p) => p.rpId === request.rpId);
    if (passkey === undefined) {
      throw coded('no-credential', 'no passkey credential was returned');
    }
    const Buffer = nodeBuffer();
    const { createHash } = require('crypto') as {
      createHash(name: string): { update(text: string): { digest(encoding: 'hex'): string } };
    };
    const authenticatorData = Buffer.concat([
      Buffer.from(createHash('sha256').update(request.rpId).digest('hex'), 'hex'),
      Buffer.from([simulatedAuthenticator.flags, 0, 0, 0, 1]),
    ]);
    const override = simulatedAuthenticator.userHandleNext;
    simulatedAuthenticator.userHandleNext = undefined;
    const handle = override === undefined ? passkey.userHandle : override;
    const userHandle = handle === null ? null : Buffer.from(handle, 'base64url');
    return core.secretFromAssertion(authenticatorData, userHandle).toBase64Url();
  });
}

/**
 * A fresh "device" (call in `beforeEach`): empties the stand-in's memory, resets the
 * simulated authenticator, and makes the module forget everything it caches for the process
 * (the hooks' shared secret and sign-out state, calls and vault flows in flight).
 */
export function resetSecretMemory(): void {
  memory = null;
  simulatedAuthenticator.reset();
  resetProcessState();
}
