'use strict'
// Loads the compiled addon and re-exports it by name (so ESM `import { ... }`
// works too). Where the addon comes from, first match wins:
//   1. the path in LOCALFIRST_NODE_ADDON, if set;
//   2. localfirst.<platform>.node next to this file (what `napi build --platform` writes);
//   3. the platform package @localfirst/node-<platform> (prebuilt binaries).
// <platform> is napi's name: linux-x64-gnu, linux-arm64-musl, darwin-arm64,
// win32-x64-msvc, ...

const { existsSync } = require('node:fs')
const { join } = require('node:path')

function isMusl() {
  if (process.platform !== 'linux') return false
  const report = process.report && process.report.getReport ? process.report.getReport() : null
  const header = report && (typeof report === 'string' ? JSON.parse(report).header : report.header)
  return !(header && header.glibcVersionRuntime)
}

function platformName() {
  const { platform, arch } = process
  if (platform === 'linux') return `linux-${arch}-${isMusl() ? 'musl' : 'gnu'}`
  if (platform === 'win32') return `win32-${arch}-msvc`
  return `${platform}-${arch}`
}

function load() {
  const tried = []
  const attempt = (candidate) => {
    tried.push(candidate)
    return require(candidate)
  }
  if (process.env.LOCALFIRST_NODE_ADDON) return attempt(process.env.LOCALFIRST_NODE_ADDON)
  const name = platformName()
  const local = join(__dirname, `localfirst.${name}.node`)
  if (existsSync(local)) return attempt(local)
  try {
    return attempt(`@localfirst/node-${name}`)
  } catch (cause) {
    throw new Error(
      `@localfirst/node: no addon for ${name} (tried ${tried.join(', ')}); ` +
        'build it with `npm run build` in the package folder',
      { cause },
    )
  }
}

const addon = load()

module.exports.AuthSecret = addon.AuthSecret
module.exports.RecoveryPhrase = addon.RecoveryPhrase
module.exports.mintLocalFirstToken = addon.mintLocalFirstToken
module.exports.localFirstIdentityProof = addon.localFirstIdentityProof
module.exports.identityProofFor = addon.identityProofFor
module.exports.verifyLocalFirstIdentityProof = addon.verifyLocalFirstIdentityProof
module.exports.verifyLocalFirstToken = addon.verifyLocalFirstToken
module.exports.storageKeyFor = addon.storageKeyFor
module.exports.importJazzSecret = addon.importJazzSecret
module.exports.MemorySecretStore = addon.MemorySecretStore
module.exports.FileSecretStore = addon.FileSecretStore
module.exports.SessionResolver = addon.SessionResolver
module.exports.VaultIdentity = addon.VaultIdentity
module.exports.VaultBackup = addon.VaultBackup
module.exports.AdoptedIdentity = addon.AdoptedIdentity
module.exports.vaultRestore = addon.vaultRestore
module.exports.vaultBackupSecret = addon.vaultBackupSecret
module.exports.vaultConfirmReadback = addon.vaultConfirmReadback
module.exports.vaultAdopt = addon.vaultAdopt
module.exports.PasskeyCeremony = addon.PasskeyCeremony
module.exports.secretFromAssertionJson = addon.secretFromAssertionJson
module.exports.secretFromAssertion = addon.secretFromAssertion
