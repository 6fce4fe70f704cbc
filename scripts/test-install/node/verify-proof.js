// A Node backend that installed @localfirst/node from its tarballs (scripts/test-install.sh):
// it checks an identity proof the way node/README.md shows ("Verifying an identity proof at
// sign-up"). The proof comes from the `localfirst` CLI's identity: a client of another build.
// Usage: node verify-proof.js SECRET (base64url, the client's account secret)
'use strict'
const assert = require('node:assert/strict')
const fs = require('node:fs')
const path = require('node:path')
const {
  AuthSecret,
  localFirstIdentityProof,
  verifyLocalFirstIdentityProof,
} = require('@localfirst/node')

// The addon comes from the one platform package npm installed (of those the main package
// lists as optional dependencies), not from a build in the package folder.
const main = require('@localfirst/node/package.json')
const installed = Object.keys(main.optionalDependencies).filter((name) => {
  try {
    return require.resolve(name).endsWith('.node')
  } catch {
    return false
  }
})
assert.equal(installed.length, 1, `platform packages installed: ${installed}`)
const folder = path.dirname(require.resolve('@localfirst/node'))
assert.deepEqual(fs.readdirSync(folder).filter((file) => file.endsWith('.node')), [])

const client = AuthSecret.fromBase64Url(process.argv[2])
const proofToken = localFirstIdentityProof(client, 'betterauth-signup', 60)

const { ok, id, error, code } = verifyLocalFirstIdentityProof(proofToken, 'betterauth-signup')
assert.equal(ok, true, `refused: ${code} ${error}`)
assert.equal(id, client.userId())

const other = verifyLocalFirstIdentityProof(proofToken, 'another-backend')
assert.equal(other.ok, false)
assert.equal(other.code, 'audience-mismatch')
assert.equal(verifyLocalFirstIdentityProof('', 'betterauth-signup').code, 'proof-token-required')
console.log(`proof verified: user ${id}`)
