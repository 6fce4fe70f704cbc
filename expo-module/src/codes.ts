// Generated from the error catalogue (localfirst_core::error, docs/ERRORS.md): do not edit.
// `cargo test -p localfirst-core --test typescript_codes` checks this file against the
// catalogue; with LOCALFIRST_BLESS=1 the same command rewrites it.

/** A code of the error catalogue (docs/ERRORS.md). */
export type ErrorCode =
  | 'secret-padding'
  | 'secret-invalid-character'
  | 'secret-invalid-length'
  | 'secret-non-canonical'
  | 'rng-failure'
  | 'public-key-encoding'
  | 'public-key-length'
  | 'public-key-invalid'
  | 'user-id-invalid'
  | 'invalid-length'
  | 'invalid-word'
  | 'invalid-checksum'
  | 'invalid-secret'
  | 'not-supported'
  | 'create-failed'
  | 'get-failed'
  | 'no-credential'
  | 'invalid-credential'
  | 'verification-failed'
  | 'vault-unavailable'
  | 'vault-timeout'
  | 'vault-corrupt'
  | 'vault-write-unconfirmed'
  | 'vault-identity-conflict'
  | 'token-too-large'
  | 'token-malformed'
  | 'token-encoding'
  | 'invalid-header'
  | 'unsupported-algorithm'
  | 'invalid-claims'
  | 'unknown-claim'
  | 'missing-claim'
  | 'unknown-issuer'
  | 'issuer-not-allowed'
  | 'audience-mismatch'
  | 'token-public-key-invalid'
  | 'token-public-key-length'
  | 'signature-length'
  | 'invalid-signature'
  | 'subject-mismatch'
  | 'issued-in-future'
  | 'expired'
  | 'ttl-too-long'
  | 'invalid-lifetime'
  | 'invalid-ttl'
  | 'proof-token-required'
  | 'missing'
  | 'invalid'
  | 'disabled'
  | 'principal-change'
  | 'invalid-token'
  | 'invalid-cookie-session'
  | 'secret-store-unavailable'
  | 'secret-store-key-invalidated'
  | 'secret-store-corrupted'
  | 'secret-store-permission-denied'
  | 'secret-store-io'
  | 'secret-store-backend'
  | 'secret-store-locked'
  | 'invalid-storage-key'
  | 'policy-denied'
  | 'policy-invalid'
  | 'policy-io'
  | 'policy-too-large'
  | 'invalid-name'
  | 'invalid-row'
  | 'invalid-filter'
  | 'not-found'
  | 'already-exists'
  | 'storage-reset'
  | 'busy'
  | 'corrupt'
  | 'unsupported-schema'
  | 'table-name-clash'
  | 'sqlite'
  | 'local-db-io'
  | 'logged-out'
  | 'invalid-config'
  | 'invalid-argument'
  | 'anonymous-write-denied'
  | 'migration-failed'
  | 'runtime-unavailable'
  | 'sync-unavailable'
  | 'sync-auth-rejected'
  | 'sync-network'
  | 'sync-protocol'
  | 'row-too-large'
  | 'malformed-frame'
  | 'unknown-message'
  | 'unsupported-frame'
  | 'frame-too-large'
  | 'batch-too-large'
  | 'hello-required'
  | 'handshake-timeout'
  | 'unsupported-version'
  | 'invalid-client-id'
  | 'storage'
  | 'slow-consumer'
  | 'shutting-down'
  | 'row-exists'
  | 'invalid-entry'
  | 'client-id-reused'
  | 'cursor-not-advancing'
  | 'cursor-out-of-range'
  | 'unexpected-ack'
  | 'unexpected-rejection'
  | 'unexpected-changes'
  | 'too-many-pulls'
  | 'server-busy'
  | 'unknown-app'
  | 'usage'
  | 'stdin'
  | 'output'
  | 'absent'
  | 'invalid-json'
  | 'internal'
  | 'input-too-large'
  | 'input-not-a-file'
  | 'input-read'
  | 'sync-rejected'
  | 'sync-incomplete'
  | 'demo-check-failed'
  | 'callback-failed'
  | 'invalid-subject'
  | 'not-yet-valid'
  | 'issuer-mismatch'
  | 'unknown-key'
  | 'algorithm-mismatch'
  | 'invalid-key'
  | 'invalid-jwks-url'
  | 'jwks-unavailable'
  | 'empty-key-set'
  | 'server-config'
  | 'server-bind'
  | 'server-io'
  | 'server-external-keys'
  | 'server-storage-database'
  | 'server-storage-corrupt'
  | 'server-storage-closed'
  | 'server-storage-open'
  | 'shared-secret-too-short'
  | 'too-many-connections'
  | 'provider-config'
  | 'provider-key'
  | 'provider-bind'
  | 'provider-body-too-large'
  | 'provider-malformed-request'
  | 'provider-proof-required'
  | 'provider-proof-invalid'
  | 'provider-token-missing'
  | 'provider-token-invalid'
  | 'provider-unknown-account'
  | 'provider-signin-invalid'
  | 'provider-signing'
  | 'provider-http'
  | 'provider-rejected';

/** Every code of the catalogue, in catalogue order. */
export const ERROR_CODES: readonly ErrorCode[] = [
  'secret-padding',
  'secret-invalid-character',
  'secret-invalid-length',
  'secret-non-canonical',
  'rng-failure',
  'public-key-encoding',
  'public-key-length',
  'public-key-invalid',
  'user-id-invalid',
  'invalid-length',
  'invalid-word',
  'invalid-checksum',
  'invalid-secret',
  'not-supported',
  'create-failed',
  'get-failed',
  'no-credential',
  'invalid-credential',
  'verification-failed',
  'vault-unavailable',
  'vault-timeout',
  'vault-corrupt',
  'vault-write-unconfirmed',
  'vault-identity-conflict',
  'token-too-large',
  'token-malformed',
  'token-encoding',
  'invalid-header',
  'unsupported-algorithm',
  'invalid-claims',
  'unknown-claim',
  'missing-claim',
  'unknown-issuer',
  'issuer-not-allowed',
  'audience-mismatch',
  'token-public-key-invalid',
  'token-public-key-length',
  'signature-length',
  'invalid-signature',
  'subject-mismatch',
  'issued-in-future',
  'expired',
  'ttl-too-long',
  'invalid-lifetime',
  'invalid-ttl',
  'proof-token-required',
  'missing',
  'invalid',
  'disabled',
  'principal-change',
  'invalid-token',
  'invalid-cookie-session',
  'secret-store-unavailable',
  'secret-store-key-invalidated',
  'secret-store-corrupted',
  'secret-store-permission-denied',
  'secret-store-io',
  'secret-store-backend',
  'secret-store-locked',
  'invalid-storage-key',
  'policy-denied',
  'policy-invalid',
  'policy-io',
  'policy-too-large',
  'invalid-name',
  'invalid-row',
  'invalid-filter',
  'not-found',
  'already-exists',
  'storage-reset',
  'busy',
  'corrupt',
  'unsupported-schema',
  'table-name-clash',
  'sqlite',
  'local-db-io',
  'logged-out',
  'invalid-config',
  'invalid-argument',
  'anonymous-write-denied',
  'migration-failed',
  'runtime-unavailable',
  'sync-unavailable',
  'sync-auth-rejected',
  'sync-network',
  'sync-protocol',
  'row-too-large',
  'malformed-frame',
  'unknown-message',
  'unsupported-frame',
  'frame-too-large',
  'batch-too-large',
  'hello-required',
  'handshake-timeout',
  'unsupported-version',
  'invalid-client-id',
  'storage',
  'slow-consumer',
  'shutting-down',
  'row-exists',
  'invalid-entry',
  'client-id-reused',
  'cursor-not-advancing',
  'cursor-out-of-range',
  'unexpected-ack',
  'unexpected-rejection',
  'unexpected-changes',
  'too-many-pulls',
  'server-busy',
  'unknown-app',
  'usage',
  'stdin',
  'output',
  'absent',
  'invalid-json',
  'internal',
  'input-too-large',
  'input-not-a-file',
  'input-read',
  'sync-rejected',
  'sync-incomplete',
  'demo-check-failed',
  'callback-failed',
  'invalid-subject',
  'not-yet-valid',
  'issuer-mismatch',
  'unknown-key',
  'algorithm-mismatch',
  'invalid-key',
  'invalid-jwks-url',
  'jwks-unavailable',
  'empty-key-set',
  'server-config',
  'server-bind',
  'server-io',
  'server-external-keys',
  'server-storage-database',
  'server-storage-corrupt',
  'server-storage-closed',
  'server-storage-open',
  'shared-secret-too-short',
  'too-many-connections',
  'provider-config',
  'provider-key',
  'provider-bind',
  'provider-body-too-large',
  'provider-malformed-request',
  'provider-proof-required',
  'provider-proof-invalid',
  'provider-token-missing',
  'provider-token-invalid',
  'provider-unknown-account',
  'provider-signin-invalid',
  'provider-signing',
  'provider-http',
  'provider-rejected',
];

/** An operation on a table, as policies name it. */
export type Operation = 'read' | 'insert' | 'update' | 'delete';

/**
 * Typed facts some errors carry beyond their code (`LocalFirstError.details`), told apart
 * by `kind`: which word of a recovery phrase is wrong, both user ids of a vault conflict, ...
 */
export type ErrorDetails =
  | { kind: 'phraseLength'; got: number }
  | { kind: 'invalidWord'; position: number; word: string }
  | { kind: 'authenticatorFlags'; flags: number }
  | { kind: 'vaultTimeout'; timeoutMs: number }
  | { kind: 'identityConflict'; deviceUserId: string; vaultUserId: string }
  | { kind: 'tableOperation'; operation: Operation; table: string }
  | { kind: 'row'; id: string; table: string }
  | { kind: 'tableNameClash'; existing: string; table: string }
  | { kind: 'syncCode'; code: string };
