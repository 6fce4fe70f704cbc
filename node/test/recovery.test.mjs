// Recovery from Node: the vault flow's steps over the memory and file stores (each
// decision of the core, driven the way an app that owns the vault I/O drives it),
// and the passkey requests and assertion checks against the shared corpus.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

import {
  AuthSecret,
  FileSecretStore,
  MemorySecretStore,
  PasskeyCeremony,
  secretFromAssertion,
  secretFromAssertionJson,
  VaultBackup,
  vaultAdopt,
  vaultBackupSecret,
  vaultConfirmReadback,
  vaultRestore,
} from '../index.js'
import { hasCode, testData } from './data.mjs'

const requests = testData('passkey/requests.json')
const assertions = testData('passkey/assertions.json')

function secretOf(byte) {
  return AuthSecret.fromBase64Url(Buffer.alloc(32, byte).toString('base64url'))
}

/** Runs the whole flow against a vault held in `vault.value`, as an app would. */
function flow(store, vault) {
  if (vault.value !== null) return vaultRestore(store, vault.value)
  const backup = vaultBackupSecret(store)
  vault.value = backup.secret.toBase64Url()
  return vaultConfirmReadback(backup, vault.value)
}

test('an empty vault: the new device creates, backs up and reads back; then in sync', () => {
  const store = new MemorySecretStore({ appId: 'vault' })
  const vault = { value: null }
  const first = flow(store, vault)
  assert.equal(first.outcome, 'backed-up')
  assert.equal(first.created, true)
  assert.ok(first.secret.equals(store.loadSecret()))
  assert.equal(first.userId, store.loadSecret().userId())
  assert.equal(vault.value, store.loadSecret().toBase64Url())

  const second = flow(store, vault)
  assert.equal(second.outcome, 'in-sync')
  assert.equal(second.created, false)
})

test('a populated vault restores onto a new device (file store)', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'localfirst-vault-'))
  t.after(() => rmSync(dir, { recursive: true, force: true }))
  const theirs = secretOf(4)
  const store = new FileSecretStore(dir, { appId: 'vault' })
  const restored = vaultRestore(store, theirs.toBase64Url())
  assert.equal(restored.outcome, 'restored')
  assert.equal(restored.userId, theirs.userId())
  assert.ok(new FileSecretStore(dir, { appId: 'vault' }).loadSecret().equals(theirs))
})

test('another identity: a conflict with both ids, nothing replaced; adopt on consent', () => {
  const store = new MemorySecretStore()
  const mine = secretOf(7)
  const theirs = secretOf(6)
  store.saveSecret(mine)
  assert.throws(
    () => vaultRestore(store, theirs.toBase64Url()),
    (error) => {
      hasCode('vault-identity-conflict')(error)
      assert.deepEqual(error.details, {
        kind: 'identityConflict',
        deviceUserId: mine.userId(),
        vaultUserId: theirs.userId(),
      })
      return true
    },
  )
  assert.ok(store.loadSecret().equals(mine))

  // Consent to an id the vault does not hold: refused, nothing replaced.
  assert.throws(() => vaultAdopt(store, theirs.toBase64Url(), mine.userId()), hasCode('vault-identity-conflict'))
  assert.throws(() => vaultAdopt(store, null, theirs.userId()), hasCode('vault-unavailable'))
  assert.ok(store.loadSecret().equals(mine))

  const adopted = vaultAdopt(store, theirs.toBase64Url(), theirs.userId())
  assert.equal(adopted.userId, theirs.userId())
  assert.ok(adopted.secret.equals(theirs))
  assert.ok(adopted.replaced.equals(mine))
  assert.ok(store.loadSecret().equals(theirs))
  assert.equal(vaultAdopt(store, theirs.toBase64Url(), theirs.userId()).replaced, null)
})

test('a corrupt vault value replaces nothing', () => {
  for (const bad of ['', 'not a secret', 'QUJD', 'A'.repeat(44)]) {
    const store = new MemorySecretStore()
    assert.throws(() => vaultRestore(store, bad), hasCode('vault-corrupt'))
    assert.equal(store.loadSecret(), null)
    const mine = secretOf(8)
    store.saveSecret(mine)
    assert.throws(() => vaultRestore(store, bad), hasCode('vault-corrupt'))
    assert.throws(() => vaultAdopt(store, bad, 'any'), hasCode('vault-corrupt'))
    assert.ok(store.loadSecret().equals(mine))
  }
})

test('the read-back decides: nothing, another identity, or a bad value', () => {
  const store = new MemorySecretStore()
  const backup = vaultBackupSecret(store)
  assert.equal(backup.created, true)
  assert.equal(vaultBackupSecret(store).created, false)
  assert.throws(() => vaultConfirmReadback(backup, null), hasCode('vault-write-unconfirmed'))
  const winner = secretOf(10)
  assert.throws(
    () => vaultConfirmReadback(backup, winner.toBase64Url()),
    (error) => error.code === 'vault-identity-conflict' && error.details.vaultUserId === winner.userId(),
  )
  assert.throws(() => vaultConfirmReadback(backup, 'QUJD'), hasCode('vault-corrupt'))
  // Rebuilt from its parts, as across a bridge.
  const rebuilt = vaultConfirmReadback(new VaultBackup(backup.secret, true), backup.secret.toBase64Url())
  assert.equal(rebuilt.outcome, 'backed-up')
  assert.equal(rebuilt.created, true)
  assert.ok(store.loadSecret().equals(backup.secret))
})

test('the steps take only the package stores', () => {
  assert.throws(() => vaultRestore({}, secretOf(1).toBase64Url()))
  assert.throws(() => vaultBackupSecret(null))
})

test('passkey requests are the corpus JSON, byte for byte', () => {
  const ceremony = new PasskeyCeremony(requests.app_name, requests.rp_id)
  assert.equal(ceremony.appName, requests.app_name)
  assert.equal(ceremony.rpId, requests.rp_id)
  const challenge = Buffer.from(requests.challenge, 'base64url')
  const secret = AuthSecret.fromBase64Url(requests.secret)
  assert.equal(
    ceremony.registrationRequestJson(secret, requests.display_name, challenge),
    requests.registration_json,
  )
  assert.equal(ceremony.assertionRequestJson(challenge), requests.assertion_json)

  // Random challenges: a fresh one each time, the rest unchanged.
  const a = JSON.parse(ceremony.registrationRequestJson(secret, requests.display_name))
  const b = JSON.parse(ceremony.registrationRequestJson(secret, requests.display_name))
  assert.notEqual(a.challenge, b.challenge)
  assert.equal(a.user.id, requests.secret)
  assert.equal(JSON.parse(ceremony.assertionRequestJson()).rpId, requests.rp_id)
})

test('passkey arguments are refused with invalid-argument', () => {
  assert.throws(() => new PasskeyCeremony('', 'myapp.example'), hasCode('invalid-argument'))
  assert.throws(() => new PasskeyCeremony('App', 'https://myapp.example'), hasCode('invalid-argument'))
  const ceremony = new PasskeyCeremony('App', 'myapp.example')
  assert.throws(() => ceremony.assertionRequestJson(Buffer.alloc(8)), hasCode('invalid-argument'))
  assert.throws(() => ceremony.registrationRequestJson(secretOf(1), ''), hasCode('invalid-argument'))
})

test('every assertion of the corpus gives its secret or its code', () => {
  assert.ok(assertions.cases.length >= 30)
  for (const c of assertions.cases) {
    const json = 'raw' in c ? c.raw : JSON.stringify(c.response)
    if (c.expect.secret) {
      assert.equal(secretFromAssertionJson(json).toBase64Url(), c.expect.secret, c.name)
    } else {
      assert.throws(() => secretFromAssertionJson(json), hasCode(c.expect.code), c.name)
    }
  }
})

test('raw assertions: flags, lengths and the user handle', () => {
  const secret = secretOf(9)
  const handle = Buffer.from(secret.toBase64Url(), 'base64url')
  const data = (flags, length = 37) => {
    const bytes = Buffer.alloc(length)
    bytes[32] = flags
    return bytes
  }
  assert.ok(secretFromAssertion(data(0x05), handle).equals(secret))
  assert.ok(secretFromAssertion(data(0x1d, 80), handle).equals(secret))
  assert.throws(() => secretFromAssertion(data(0x01), handle), hasCode('verification-failed'))
  assert.throws(() => secretFromAssertion(data(0x04), handle), hasCode('verification-failed'))
  assert.throws(() => secretFromAssertion(data(0x05, 36), handle), hasCode('invalid-credential'))
  assert.throws(() => secretFromAssertion(data(0x05), handle.subarray(1)), hasCode('invalid-credential'))
  assert.throws(() => secretFromAssertion(data(0x05), null), hasCode('invalid-credential'))
})

test('an assertion may be given as the object its JSON parses to', () => {
  let objects = 0
  for (const c of assertions.cases) {
    if ('raw' in c) continue
    const parsed = structuredClone(c.response)
    if (c.expect.secret) {
      assert.equal(secretFromAssertionJson(parsed).toBase64Url(), c.expect.secret, c.name)
    } else {
      assert.throws(() => secretFromAssertionJson(parsed), hasCode(c.expect.code), c.name)
    }
    objects += 1
  }
  assert.ok(objects >= 20, `${objects} cases given as objects`)
  assert.throws(() => secretFromAssertionJson(null), hasCode('no-credential'))
  for (const bad of [42, true]) {
    assert.throws(() => secretFromAssertionJson(bad), hasCode('invalid-argument'))
  }
})

test('raw assertions take what WebAuthn returns: ArrayBuffers, and any typed array view', () => {
  const secret = secretOf(11)
  const handle = Buffer.from(secret.toBase64Url(), 'base64url')
  const data = Buffer.alloc(37)
  data[32] = 0x05
  const arrayBuffer = (bytes) => bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.length)
  // A view into the middle of a larger buffer: only its own bytes count.
  const padded = new Uint8Array(100).fill(0xee)
  padded.set(data, 10)
  const view = padded.subarray(10, 47)
  // 38 bytes (still valid authenticator data) seen through 16-bit elements.
  const wide = new Uint16Array(arrayBuffer(Buffer.concat([data, Buffer.alloc(1)])))
  for (const [name, authenticatorData, userHandle] of [
    ['ArrayBuffer', arrayBuffer(data), arrayBuffer(handle)],
    ['Uint8Array', new Uint8Array(data), new Uint8Array(handle)],
    ['offset view', view, handle],
    ['Uint16Array', wide, handle],
  ]) {
    assert.ok(secretFromAssertion(authenticatorData, userHandle).equals(secret), name)
  }
  const ceremony = new PasskeyCeremony('App', 'myapp.example')
  const challenge = new Uint8Array(32).fill(7)
  const fromArrayBuffer = JSON.parse(ceremony.assertionRequestJson(challenge.buffer))
  const fromBuffer = JSON.parse(ceremony.assertionRequestJson(Buffer.from(challenge)))
  assert.equal(fromArrayBuffer.challenge, Buffer.from(challenge).toString('base64url'))
  assert.equal(fromBuffer.challenge, fromArrayBuffer.challenge)
  for (const bad of ['bytes', 37, {}, [1, 2, 3], new DataView(new ArrayBuffer(37))]) {
    assert.throws(() => secretFromAssertion(bad, handle), hasCode('invalid-argument'))
    assert.throws(() => secretFromAssertion(data, bad), hasCode('invalid-argument'))
    assert.throws(() => ceremony.assertionRequestJson(bad), hasCode('invalid-argument'))
  }
})
