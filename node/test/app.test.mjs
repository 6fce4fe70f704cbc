// The core's app-facing operations through Node: the storage-key choice, the
// identity-proof mint rule with its default lifetime, and the Jazz secret import,
// with the core's outcomes and codes.
import { test } from 'node:test'
import assert from 'node:assert/strict'

import {
  AuthSecret,
  MemorySecretStore,
  identityProofFor,
  importJazzSecret,
  localFirstIdentityProof,
  storageKeyFor,
  verifyLocalFirstIdentityProof,
  verifyLocalFirstToken,
} from '../index.js'
import { hasCode } from './data.mjs'

const IAT = 1_700_000_000

test('storageKeyFor refuses a key with any id, even a blank one', () => {
  assert.equal(storageKeyFor({ key: 'mine' }), 'mine')
  for (const parts of [{ appId: 'a' }, { userId: '' }, { sessionId: 's' }]) {
    assert.throws(() => storageKeyFor({ key: 'mine', ...parts }), hasCode('invalid-storage-key'))
    assert.throws(() => new MemorySecretStore({ key: 'mine', ...parts }), hasCode('invalid-storage-key'))
  }
})

test('identityProofFor lives 60 s by default and never over 600 s', () => {
  const secret = AuthSecret.generate()
  for (const ttl of [undefined, null]) {
    const proof = identityProofFor(secret, ttl, 'signup', IAT)
    const verified = verifyLocalFirstToken(proof, 'signup', { now: IAT })
    assert.equal(verified.expiresAt - verified.issuedAt, 60)
    assert.equal(verified.userId, secret.userId())
    assert.deepEqual(verifyLocalFirstIdentityProof(proof, 'signup', { now: IAT + 30 }), {
      ok: true,
      id: secret.userId(),
    })
  }
  const longest = identityProofFor(secret, 600, 'signup', IAT)
  assert.equal(verifyLocalFirstIdentityProof(longest, 'signup', { now: IAT }).ok, true)
  for (const ttl of [0, 601, 3600]) {
    assert.throws(() => identityProofFor(secret, ttl, 'signup'), hasCode('invalid-ttl'))
  }
  // The older export applies the same rule.
  assert.throws(() => localFirstIdentityProof(secret, 'signup', 3600), hasCode('invalid-ttl'))
  assert.throws(() => identityProofFor(secret, undefined, '  '), hasCode('invalid-argument'))
  assert.throws(() => identityProofFor(secret, 1.5, 'signup'), hasCode('invalid-argument'))
})

test('importJazzSecret imports once, then says so, and reports a conflict with both ids', () => {
  const store = new MemorySecretStore({ appId: 'jazz-import' })
  assert.deepEqual(importJazzSecret(store, null), { outcome: 'not-found', removeSource: false })
  const jazz = AuthSecret.generate()
  assert.deepEqual(importJazzSecret(store, jazz.toBase64Url()), {
    outcome: 'imported',
    userId: jazz.userId(),
    removeSource: true,
  })
  assert.equal(store.loadSecret().userId(), jazz.userId())
  assert.deepEqual(importJazzSecret(store, jazz.toBase64Url()), {
    outcome: 'already-imported',
    userId: jazz.userId(),
    removeSource: true,
  })
  const other = AuthSecret.generate()
  assert.deepEqual(importJazzSecret(store, other.toBase64Url()), {
    outcome: 'conflict',
    userId: other.userId(),
    existingUserId: jazz.userId(),
    removeSource: false,
  })
  assert.throws(() => importJazzSecret(store, 'not a secret'), hasCode('secret-store-corrupted'))
  assert.equal(store.loadSecret().userId(), jazz.userId())
})
