// Every export answers JavaScript values of the wrong type with a catalogue code
// (docs/ERRORS.md), never with one of napi's own statuses (`StringExpected`,
// `InvalidArg`, ...). Each call below is made with valid arguments, then with
// each argument in turn replaced by a number, a string, an object, null and
// undefined. A replacement the parameter's type does not allow must be refused
// with `invalid-argument`; any other outcome must be a success or a catalogue
// code. `verifyLocalFirstIdentityProof` never throws: it answers `ok: false`.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

import * as localfirst from '../index.js'
import { isLocalFirstError } from './data.mjs'

const {
  AuthSecret,
  FileSecretStore,
  MemorySecretStore,
  PasskeyCeremony,
  RecoveryPhrase,
  SessionResolver,
  VaultBackup,
} = localfirst

const catalogue = new Set(
  [...readFileSync(new URL('../../docs/ERRORS.md', import.meta.url), 'utf8').matchAll(/^\| `([a-z-]+)` \|/gm)].map(
    (m) => m[1],
  ),
)

const dir = mkdtempSync(join(tmpdir(), 'localfirst-arguments-'))
test.after(() => rmSync(dir, { recursive: true, force: true }))
// A string given where a directory is expected is a valid directory: keep it in `dir`.
process.chdir(dir)

const secret = AuthSecret.generate()
const memory = new MemorySecretStore({ appId: 'arguments' })
const file = new FileSecretStore(join(dir, 'store'), { appId: 'arguments' })
const ceremony = new PasskeyCeremony('App', 'myapp.example')
const backup = new VaultBackup(secret, false)
const resolver = new SessionResolver({ appId: 'arguments' })
const proof = localfirst.localFirstIdentityProof(secret, 'signup', 60)
const authenticatorData = new Uint8Array(37)
authenticatorData[32] = 0x05
const userHandle = Buffer.from(secret.toBase64Url(), 'base64url')

/** Which values a parameter type allows (others must be refused). */
const allows = {
  string: (v) => typeof v === 'string',
  number: (v) => typeof v === 'number',
  boolean: (v) => typeof v === 'boolean',
  object: (v) => typeof v === 'object' && v !== null,
  json: (v) => typeof v === 'string' || typeof v === 'object',
  bytes: (v) => v instanceof ArrayBuffer || ArrayBuffer.isView(v),
  AuthSecret: (v) => v instanceof AuthSecret,
  VaultBackup: (v) => v instanceof VaultBackup,
  store: (v) => v instanceof MemorySecretStore || v instanceof FileSecretStore,
}

function allowed(type, value) {
  if (type.endsWith('?')) return value === undefined || value === null || allowed(type.slice(0, -1), value)
  return allows[type](value)
}

/**
 * Every callable export: its name (`fn`, `Class.static`, `Class#method`,
 * `new Class`), parameter types, valid arguments and the call; a fourth element
 * is the code even valid arguments get (`new` of a class whose objects come from
 * other calls).
 */
const calls = {
  mintLocalFirstToken: [['AuthSecret', 'string', 'number', 'number?'], [secret, 'app', 60, 1e9], (a) => localfirst.mintLocalFirstToken(...a)],
  localFirstIdentityProof: [['AuthSecret', 'string', 'number', 'number?'], [secret, 'app', 60, 1e9], (a) => localfirst.localFirstIdentityProof(...a)],
  verifyLocalFirstIdentityProof: [['string?', 'string', 'object?'], [proof, 'signup', { maxTtlSeconds: 600 }], (a) => localfirst.verifyLocalFirstIdentityProof(...a)],
  verifyLocalFirstToken: [['string', 'string', 'object?'], [proof, 'signup', {}], (a) => localfirst.verifyLocalFirstToken(...a)],
  identityProofFor: [['AuthSecret', 'number?', 'string', 'number?'], [secret, 60, 'app', 1e9], (a) => localfirst.identityProofFor(...a)],
  storageKeyFor: [['object?'], [{ appId: 'a' }], (a) => localfirst.storageKeyFor(...a)],
  importJazzSecret: [['store', 'string?'], [new MemorySecretStore({ appId: 'jazz' }), secret.toBase64Url()], (a) => localfirst.importJazzSecret(...a)],
  vaultRestore: [['store', 'string'], [memory, secret.toBase64Url()], (a) => localfirst.vaultRestore(...a)],
  vaultBackupSecret: [['store'], [memory], (a) => localfirst.vaultBackupSecret(...a)],
  vaultConfirmReadback: [['VaultBackup', 'string?'], [backup, secret.toBase64Url()], (a) => localfirst.vaultConfirmReadback(...a)],
  vaultAdopt: [['store', 'string?', 'string'], [file, secret.toBase64Url(), secret.userId()], (a) => localfirst.vaultAdopt(...a)],
  secretFromAssertionJson: [['json?'], ['null'], (a) => localfirst.secretFromAssertionJson(...a)],
  secretFromAssertion: [['bytes', 'bytes?'], [authenticatorData, userHandle], (a) => localfirst.secretFromAssertion(...a)],

  'new AuthSecret': [[], [], () => new localfirst.AuthSecret(), 'invalid-argument'],
  'AuthSecret.generate': [[], [], () => AuthSecret.generate()],
  'AuthSecret.fromBase64Url': [['string'], [secret.toBase64Url()], (a) => AuthSecret.fromBase64Url(...a)],
  'AuthSecret#toBase64Url': [[], [], () => secret.toBase64Url()],
  'AuthSecret#userId': [[], [], () => secret.userId()],
  'AuthSecret#publicKey': [[], [], () => secret.publicKey()],
  'AuthSecret#equals': [['AuthSecret'], [secret], (a) => secret.equals(...a)],
  'AuthSecret#toString': [[], [], () => secret.toString()],

  'new RecoveryPhrase': [[], [], () => new localfirst.RecoveryPhrase(), 'invalid-argument'],
  'RecoveryPhrase.fromSecret': [['AuthSecret'], [secret], (a) => RecoveryPhrase.fromSecret(...a)],
  'RecoveryPhrase.toSecret': [['string'], [RecoveryPhrase.fromSecret(secret)], (a) => RecoveryPhrase.toSecret(...a)],

  'new MemorySecretStore': [['object?'], [{ appId: 'a' }], (a) => new MemorySecretStore(...a)],
  'MemorySecretStore#sibling': [['object?'], [{ appId: 'b' }], (a) => memory.sibling(...a)],
  'MemorySecretStore#loadSecret': [[], [], () => memory.loadSecret()],
  'MemorySecretStore#saveSecret': [['AuthSecret'], [secret], (a) => memory.saveSecret(...a)],
  'MemorySecretStore#clearSecret': [[], [], () => memory.clearSecret()],
  'MemorySecretStore#getOrCreateSecret': [[], [], () => memory.getOrCreateSecret()],

  'new FileSecretStore': [['string', 'object?'], [join(dir, 'other'), { appId: 'a' }], (a) => new FileSecretStore(...a)],
  'FileSecretStore#loadSecret': [[], [], () => file.loadSecret()],
  'FileSecretStore#saveSecret': [['AuthSecret'], [secret], (a) => file.saveSecret(...a)],
  'FileSecretStore#clearSecret': [[], [], () => file.clearSecret()],
  'FileSecretStore#getOrCreateSecret': [[], [], () => file.getOrCreateSecret()],

  'new SessionResolver': [['object'], [{ appId: 'a' }], (a) => new SessionResolver(...a)],
  'SessionResolver#resolve': [['object'], [{}], (a) => resolver.resolve(...a)],

  'new VaultIdentity': [[], [], () => new localfirst.VaultIdentity(), 'invalid-argument'],
  'new VaultBackup': [['AuthSecret', 'boolean'], [secret, true], (a) => new VaultBackup(...a)],
  'new AdoptedIdentity': [[], [], () => new localfirst.AdoptedIdentity(), 'invalid-argument'],

  'new PasskeyCeremony': [['string', 'string'], ['App', 'myapp.example'], (a) => new PasskeyCeremony(...a)],
  'PasskeyCeremony#registrationRequestJson': [['AuthSecret', 'string', 'bytes?'], [secret, 'alice', new Uint8Array(32)], (a) => ceremony.registrationRequestJson(...a)],
  'PasskeyCeremony#assertionRequestJson': [['bytes?'], [new ArrayBuffer(32)], (a) => ceremony.assertionRequestJson(...a)],
}

/** The names of everything callable the package exports. */
function exportedCallables() {
  const names = []
  for (const [name, value] of Object.entries(localfirst)) {
    if (typeof value !== 'function') continue
    if (!/^[A-Z]/.test(name)) {
      names.push(name)
      continue
    }
    names.push(`new ${name}`)
    for (const key of Object.getOwnPropertyNames(value)) {
      if (!['length', 'name', 'prototype'].includes(key) && typeof value[key] === 'function') {
        names.push(`${name}.${key}`)
      }
    }
    for (const [key, descriptor] of Object.entries(Object.getOwnPropertyDescriptors(value.prototype))) {
      if (key !== 'constructor' && typeof descriptor.value === 'function') names.push(`${name}#${key}`)
    }
  }
  return names.sort()
}

/** What a call did: `{ value }` or `{ error }`; promises are awaited. */
async function outcome(call, args) {
  try {
    return { value: await call(args) }
  } catch (error) {
    return { error }
  }
}

function describe(value) {
  if (value === null) return 'null'
  if (typeof value === 'string') return JSON.stringify(value)
  if (typeof value === 'object') return '{}'
  return String(value)
}

test('the table lists every callable export', () => {
  assert.deepEqual(Object.keys(calls).sort(), exportedCallables())
})

test('valid arguments are accepted', async () => {
  for (const [name, [, args, call, always]] of Object.entries(calls)) {
    const { error } = await outcome(call, args)
    if (always) assert.equal(error?.code, always, name)
    // Some valid calls still have their own answer (a vault conflict, no credential).
    if (error) {
      isLocalFirstError(error)
      assert.ok(catalogue.has(error.code), `${name}: ${error.code} ${error.message}`)
    }
  }
})

test('every argument of the wrong type is refused with a catalogue code', async () => {
  const bad = [42, 'text', { any: 'object' }, null, undefined]
  let refusals = 0
  for (const [name, [types, valid, call]] of Object.entries(calls)) {
    for (const [index, type] of types.entries()) {
      for (const value of bad) {
        const args = [...valid]
        args[index] = value
        const what = `${name}: argument ${index} (${type}) = ${describe(value)}`
        const { value: result, error } = await outcome(call, args)
        const refused = !allowed(type, value)
        if (name === 'verifyLocalFirstIdentityProof') {
          assert.equal(error, undefined, `${what} threw ${error?.code}`)
          if (refused) assert.equal(result.code, 'invalid-argument', `${what}: ${JSON.stringify(result)}`)
          if (!result.ok) assert.ok(catalogue.has(result.code), `${what}: ${result.code}`)
        } else if (refused) {
          assert.ok(error, `${what} was accepted`)
          assert.equal(error.code, 'invalid-argument', `${what}: ${error.code} ${error.message}`)
          isLocalFirstError(error)
        } else if (error) {
          isLocalFirstError(error)
          assert.ok(catalogue.has(error.code), `${what}: ${error.code} ${error.message}`)
        }
        if (refused) refusals += 1
      }
    }
  }
  assert.ok(refusals > 100, `${refusals} refusals checked`)
})

test('a token that is not a string is a refused proof, never a throw', () => {
  for (const token of [42, {}, [], true, () => 'x']) {
    const result = localfirst.verifyLocalFirstIdentityProof(token, 'signup')
    assert.equal(result.ok, false)
    assert.equal(result.code, 'invalid-argument')
    assert.match(result.error, /^token must be a string, got /)
  }
  for (const token of [null, undefined, '']) {
    assert.equal(localfirst.verifyLocalFirstIdentityProof(token, 'signup').code, 'proof-token-required')
  }
})
