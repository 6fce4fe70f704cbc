// Secret stores: the storage key rule, the memory store and the file store, with
// the core's get-or-create (create only if absent, never replace) across
// instances and processes.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'

import { AuthSecret, FileSecretStore, MemorySecretStore, storageKeyFor } from '../index.js'
import { hasCode } from './data.mjs'

const run = promisify(execFile)

function tempDir(t) {
  const dir = mkdtempSync(join(tmpdir(), 'localfirst-node-'))
  t.after(() => rmSync(dir, { recursive: true, force: true }))
  return dir
}

test('storage keys follow the one rule', () => {
  assert.equal(storageKeyFor(), 'jazz-auth-secret')
  assert.equal(storageKeyFor({}), 'jazz-auth-secret')
  assert.equal(storageKeyFor({ appId: 'my-app' }), 'jazz-auth-secret:my-app')
  assert.equal(storageKeyFor({ appId: ' my app ', userId: 'a/b' }), 'jazz-auth-secret:my%20app:a%2Fb')
  assert.equal(storageKeyFor({ appId: 'a', userId: 'u', sessionId: 's' }), 'jazz-auth-secret:a:u:s')
  // A part missing before a present one: every part is tagged.
  assert.equal(storageKeyFor({ userId: 'alice' }), 'jazz-auth-secret:user=alice')
  assert.equal(storageKeyFor({ appId: 'a', sessionId: 's' }), 'jazz-auth-secret:app=a:session=s')
  assert.equal(storageKeyFor({ appId: '  ' }), 'jazz-auth-secret')
  assert.equal(storageKeyFor({ key: 'my own key' }), 'my own key')
  assert.throws(() => storageKeyFor({ key: '  ' }), hasCode('invalid-storage-key'))
  assert.throws(() => storageKeyFor({ key: 'k'.repeat(256) }), hasCode('invalid-storage-key'))
  assert.throws(() => storageKeyFor({ key: 'k', appId: 'a' }), hasCode('invalid-storage-key'))
  assert.throws(() => new MemorySecretStore({ key: '' }), hasCode('invalid-storage-key'))
})

test('memory store: load, get-or-create, save, clear, siblings', () => {
  const store = new MemorySecretStore({ appId: 'my-app' })
  assert.equal(store.storageKey, 'jazz-auth-secret:my-app')
  assert.equal(store.loadSecret(), null)
  const created = store.getOrCreateSecret()
  assert.ok(store.getOrCreateSecret().equals(created))
  assert.ok(store.loadSecret().equals(created))

  const sibling = store.sibling({ appId: 'my-app' })
  assert.ok(sibling.loadSecret().equals(created))
  const other = store.sibling({ appId: 'other-app' })
  assert.equal(other.loadSecret(), null)
  assert.equal(new MemorySecretStore({ appId: 'my-app' }).loadSecret(), null)

  const replacement = AuthSecret.generate()
  store.saveSecret(replacement)
  assert.ok(sibling.loadSecret().equals(replacement))
  store.clearSecret()
  store.clearSecret()
  assert.equal(sibling.loadSecret(), null)
  assert.equal(other.loadSecret(), null)
})

test('file store: survives new instances, mode 0600, never replaces', (t) => {
  const dir = tempDir(t)
  const store = new FileSecretStore(dir, { appId: 'my-app' })
  assert.equal(store.storageKey, 'jazz-auth-secret:my-app')
  assert.ok(store.path.startsWith(dir))
  assert.equal(store.loadSecret(), null)

  const saved = AuthSecret.generate()
  store.saveSecret(saved)
  assert.equal(statSync(store.path).mode & 0o777, 0o600)
  // A later launch finds it, and get-or-create returns it instead of minting.
  const later = new FileSecretStore(dir, { appId: 'my-app' })
  assert.ok(later.loadSecret().equals(saved))
  assert.ok(later.getOrCreateSecret().equals(saved))
  // Keys are independent.
  const other = new FileSecretStore(dir, { userId: 'alice' })
  assert.equal(other.loadSecret(), null)
  assert.notEqual(other.path, store.path)

  later.clearSecret()
  assert.equal(store.loadSecret(), null)
  const fresh = store.getOrCreateSecret()
  assert.ok(later.loadSecret().equals(fresh))
})

test('file store: a corrupted file is an error, not an absence', (t) => {
  const dir = tempDir(t)
  const store = new FileSecretStore(dir)
  store.getOrCreateSecret()
  writeFileSync(store.path, 'garbage')
  assert.throws(() => store.loadSecret(), hasCode('secret-store-corrupted'))
  assert.throws(() => store.getOrCreateSecret(), hasCode('secret-store-corrupted'))
  // Nothing was minted over it.
  assert.equal(readFileSync(store.path, 'utf8'), 'garbage')
})

test('file store: concurrent processes all get the same secret', async (t) => {
  const dir = tempDir(t)
  const index = new URL('../index.js', import.meta.url).pathname
  const script = `
    const { FileSecretStore } = require(${JSON.stringify(index)});
    const store = new FileSecretStore(${JSON.stringify(dir)}, { appId: 'race' });
    process.stdout.write(store.getOrCreateSecret().userId());
  `
  const ids = await Promise.all(
    Array.from({ length: 6 }, () => run(process.execPath, ['-e', script]).then((out) => out.stdout)),
  )
  assert.equal(new Set(ids).size, 1, ids.join(' '))
  assert.equal(new FileSecretStore(dir, { appId: 'race' }).loadSecret().userId(), ids[0])
})

test('file store: an unusable directory fails with a store code', (t) => {
  const dir = tempDir(t)
  const file = join(dir, 'not-a-dir')
  writeFileSync(file, 'x')
  assert.throws(() => new FileSecretStore(join(file, 'sub')), (error) => {
    assert.match(error.code, /^secret-store-/)
    return true
  })
})
