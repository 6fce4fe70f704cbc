// The package's loader and types: everything the addon exports is exported by
// index.js (also as ESM named exports) and declared in index.d.ts.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { readFileSync, readdirSync } from 'node:fs'
import { createRequire } from 'node:module'
import { promisify } from 'node:util'

import * as esm from '../index.js'

const require = createRequire(import.meta.url)
const packageDir = new URL('../', import.meta.url)
const addonFile = readdirSync(packageDir).find((name) => /^localfirst\..+\.node$/.test(name))

test('index.js re-exports every export of the addon, by name', () => {
  assert.ok(addonFile, 'the addon is built')
  const addon = require(`../${addonFile}`)
  const loader = require('../index.js')
  assert.deepEqual(Object.keys(loader).sort(), Object.keys(addon).sort())
  for (const name of Object.keys(addon)) {
    assert.equal(loader[name], addon[name], name)
    assert.equal(esm[name], addon[name], `ESM ${name}`)
  }
})

test('index.d.ts declares every export', () => {
  const dts = readFileSync(new URL('index.d.ts', packageDir), 'utf8')
  const declared = [...dts.matchAll(/^export declare (?:class|function) (\w+)/gm)].map((m) => m[1])
  assert.deepEqual(declared.sort(), Object.keys(require('../index.js')).sort())
})

test('LOCALFIRST_NODE_ADDON overrides the search, and a missing addon fails loudly', async () => {
  const index = new URL('../index.js', import.meta.url).pathname
  const env = { ...process.env, LOCALFIRST_NODE_ADDON: '/nonexistent/localfirst.node' }
  await assert.rejects(
    promisify(execFile)(process.execPath, ['-e', `require(${JSON.stringify(index)})`], { env }),
    (error) => /nonexistent\/localfirst\.node/.test(error.stderr),
  )
})
