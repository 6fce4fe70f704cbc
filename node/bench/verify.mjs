// Identity-proof verification from Node: the addon (Rust core) against two
// JavaScript verifiers doing the same checks, one with pure-JS Ed25519
// (@noble/ed25519, RFC 8032 strict mode) and one with node:crypto's Ed25519
// (OpenSSL). Before timing, all three must agree on a valid proof and on each
// refusal below; then each verifies the same proof N times.
//
//   node bench/verify.mjs [--iterations N]     (default 5000; docs/PERFORMANCE.md)
//
// The Rust-only number is the criterion bench `verify/token_verify` in
// core/benches/identity.rs (`cargo bench -p localfirst-core --bench identity -- verify`).
import { createHash, createPublicKey, verify as cryptoVerify } from 'node:crypto'
import { performance } from 'node:perf_hooks'
import * as ed from '@noble/ed25519'

import { AuthSecret, localFirstIdentityProof, mintLocalFirstToken, verifyLocalFirstIdentityProof } from '../index.js'

ed.hashes.sha512 = (message) => new Uint8Array(createHash('sha512').update(message).digest())

const argIndex = process.argv.indexOf('--iterations')
const iterations = argIndex > 0 ? Number(process.argv[argIndex + 1]) : 5000
if (!Number.isInteger(iterations) || iterations < 1) throw new Error('--iterations must be a positive integer')

// ---- the JavaScript verifier: the core's checks, in the core's order ----------

const HEADER_JSON = '{"alg":"EdDSA","typ":"JWT"}'
const LOCAL_FIRST = 'urn:jazz:local-first'
const CLAIMS = new Set(['iss', 'sub', 'aud', 'jazz_pub_key', 'iat', 'exp'])
const MAX_TOKEN_LEN = 4096
const MAX_TIMESTAMP = 2 ** 53 - 1
const SKEW = 60
const PROOF_MAX_TTL = 600
const USER_ID_NAMESPACE = Buffer.from('jazz-auth-key-v1')
const DNS_NAMESPACE = Buffer.from('6ba7b8109dad11d180b400c04fd430c8', 'hex')
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i
const BASE64URL = /^[A-Za-z0-9_-]*$/

function uuidV5(namespace, name) {
  const bytes = createHash('sha1').update(namespace).update(name).digest().subarray(0, 16)
  bytes[6] = (bytes[6] & 0x0f) | 0x50
  bytes[8] = (bytes[8] & 0x3f) | 0x80
  const hex = bytes.toString('hex')
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`
}

const normalizeAudience = (audience) =>
  UUID.test(audience) ? audience.toLowerCase() : uuidV5(DNS_NAMESPACE, Buffer.from(audience))

/** Strict unpadded base64url (canonical trailing bits), else null. */
function decode(part) {
  if (!BASE64URL.test(part) || part.length % 4 === 1) return null
  const bytes = Buffer.from(part, 'base64url')
  return bytes.toString('base64url') === part ? bytes : null
}

const refuse = (code) => ({ ok: false, code })
const isTime = (value) => Number.isSafeInteger(value) && value >= 0

function verifyProofJs(token, audience, now, signatureOk) {
  if (typeof token !== 'string' || token.trim() === '') return refuse('proof-token-required')
  if (token.length > MAX_TOKEN_LEN) return refuse('token-too-large')
  const parts = token.split('.')
  if (parts.length !== 3) return refuse('token-malformed')
  const [headerPart, claimsPart, signaturePart] = parts
  const header = decode(headerPart)
  if (!header) return refuse('token-encoding')
  if (header.toString('utf8') !== HEADER_JSON) return refuse('invalid-header')
  const claimsBytes = decode(claimsPart)
  if (!claimsBytes) return refuse('token-encoding')
  let claims
  try {
    claims = JSON.parse(claimsBytes.toString('utf8'))
  } catch {
    return refuse('invalid-claims')
  }
  if (claims === null || typeof claims !== 'object' || Array.isArray(claims)) return refuse('invalid-claims')
  for (const name of Object.keys(claims)) if (!CLAIMS.has(name)) return refuse('unknown-claim')
  const { iss, sub, aud, jazz_pub_key: key, iat, exp } = claims
  for (const text of [iss, sub, aud, key]) if (text !== undefined && typeof text !== 'string') return refuse('invalid-claims')
  for (const time of [iat, exp]) if (time !== undefined && !Number.isInteger(time)) return refuse('invalid-claims')
  if (iss === undefined) return refuse('missing-claim')
  if (iss !== LOCAL_FIRST) return refuse(iss === 'urn:jazz:anonymous' ? 'issuer-not-allowed' : 'unknown-issuer')
  if (key === undefined) return refuse('missing-claim')
  const publicKey = decode(key)
  if (!publicKey) return refuse('token-public-key-invalid')
  if (publicKey.length !== 32) return refuse('token-public-key-length')
  const signature = decode(signaturePart)
  if (!signature) return refuse('token-encoding')
  if (signature.length !== 64) return refuse('signature-length')
  const signed = Buffer.from(`${headerPart}.${claimsPart}`)
  if (!signatureOk(signature, signed, publicKey, key)) return refuse('invalid-signature')
  if (sub === undefined) return refuse('missing-claim')
  if (sub !== uuidV5(USER_ID_NAMESPACE, publicKey)) return refuse('subject-mismatch')
  if (aud === undefined) return refuse('missing-claim')
  if (aud !== normalizeAudience(audience)) return refuse('audience-mismatch')
  if (iat === undefined || exp === undefined) return refuse('missing-claim')
  if (!isTime(iat) || !isTime(exp) || iat > MAX_TIMESTAMP || exp > MAX_TIMESTAMP) return refuse('invalid-claims')
  if (iat > now + SKEW) return refuse('issued-in-future')
  if (exp <= now) return refuse('expired')
  if (exp <= iat) return refuse('invalid-lifetime')
  if (exp - iat > PROOF_MAX_TTL) return refuse('ttl-too-long')
  return { ok: true, id: sub }
}

const nobleSignature = (signature, message, publicKey) => {
  try {
    return ed.verify(signature, message, publicKey, { zip215: false })
  } catch {
    return false
  }
}

const opensslSignature = (signature, message, _publicKey, keyText) => {
  try {
    const key = createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: keyText }, format: 'jwk' })
    return cryptoVerify(null, message, key, signature)
  } catch {
    return false
  }
}

// ---- agreement, then timing ---------------------------------------------------

const IAT = 1700000000
const NOW = IAT + 1
const AUDIENCE = 'betterauth-signup'
const secret = AuthSecret.generate()
const proof = localFirstIdentityProof(secret, AUDIENCE, 60, IAT)
const [h, c, s] = proof.split('.')

const verifiers = {
  'addon (Rust core)': (token, audience) => verifyLocalFirstIdentityProof(token, audience, { now: NOW }),
  'JS + @noble/ed25519': (token, audience) => verifyProofJs(token, audience, NOW, nobleSignature),
  'JS + node:crypto': (token, audience) => verifyProofJs(token, audience, NOW, opensslSignature),
}

const cases = [
  ['valid proof', proof, AUDIENCE, null],
  ['empty', '', AUDIENCE, 'proof-token-required'],
  ['tampered signature', `${h}.${c}.${s[0] === 'A' ? 'B' : 'A'}${s.slice(1)}`, AUDIENCE, 'invalid-signature'],
  ['other audience', proof, 'other-app', 'audience-mismatch'],
  ['long-lived token', mintLocalFirstToken(secret, AUDIENCE, 3600, IAT), AUDIENCE, 'ttl-too-long'],
  ['proof minted long ago', localFirstIdentityProof(secret, AUDIENCE, 60, IAT - 1000), AUDIENCE, 'expired'],
]
for (const [name, token, audience, code] of cases) {
  for (const [verifier, run] of Object.entries(verifiers)) {
    const outcome = run(token, audience)
    const expected = code === null ? outcome.ok && outcome.id === secret.userId() : !outcome.ok && outcome.code === code
    if (!expected) throw new Error(`${verifier} disagrees on "${name}": ${JSON.stringify(outcome)}`)
  }
}

console.log(`verifying one identity proof, ${iterations} iterations each (Node ${process.version})`)
console.log('(the addon must be a release build for meaningful numbers: npm run build:release)')
let baseline
for (const [verifier, run] of Object.entries(verifiers)) {
  for (let i = 0; i < Math.min(200, iterations); i += 1) run(proof, AUDIENCE)
  const start = performance.now()
  for (let i = 0; i < iterations; i += 1) {
    if (!run(proof, AUDIENCE).ok) throw new Error(`${verifier} refused the proof`)
  }
  const microseconds = ((performance.now() - start) * 1000) / iterations
  baseline ??= microseconds
  console.log(
    `${verifier.padEnd(22)} ${microseconds.toFixed(1).padStart(9)} µs/op  ${(1e6 / microseconds).toFixed(0).padStart(8)} ops/s  ${(microseconds / baseline).toFixed(2)}x the addon`,
  )
}
