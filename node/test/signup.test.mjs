// Signing up with a BetterAuth-style provider: the client proves it owns its
// local-first identity, the provider verifies the proof with the addon and issues
// JWTs whose `sub` is the same user id, so the account carries over.
import { after, before, test } from 'node:test'
import assert from 'node:assert/strict'
import { createPublicKey, verify } from 'node:crypto'

import {
  AuthSecret,
  SessionResolver,
  localFirstIdentityProof,
  mintLocalFirstToken,
} from '../index.js'
import { testData } from './data.mjs'
import { ISSUER, JWT_AUDIENCE, SIGNUP_AUDIENCE, jwtClaims, signUp, startProvider } from './provider.mjs'

let provider
before(async () => {
  provider = await startProvider()
})
after(() => provider.close())

test('a valid proof signs up the same user id, and both credentials resolve to it', async () => {
  const secret = AuthSecret.generate()
  const proofToken = localFirstIdentityProof(secret, SIGNUP_AUDIENCE, 60)
  const { status, body } = await signUp(provider, { email: 'ada@example.test', password: 'pw', proofToken })
  assert.equal(status, 200, JSON.stringify(body))
  assert.equal(body.user.id, secret.userId())

  const claims = jwtClaims(body.token)
  assert.equal(claims.sub, secret.userId())
  assert.equal(claims.iss, ISSUER)
  // The JWT really is signed by the provider's key.
  const [header, payload, signature] = body.token.split('.')
  assert.ok(
    verify(
      'sha256',
      Buffer.from(`${header}.${payload}`),
      { key: createPublicKey({ key: provider.keys.jwk, format: 'jwk' }), dsaEncoding: 'ieee-p1363' },
      Buffer.from(signature, 'base64url'),
    ),
  )

  const resolver = new SessionResolver({
    appId: 'my-app',
    allowLocalFirst: true,
    jwksUrl: provider.jwksUrl,
    jwtIssuer: ISSUER,
    jwtAudience: JWT_AUDIENCE,
  })
  const before = await resolver.resolve({ authorization: `Bearer ${mintLocalFirstToken(secret, 'my-app', 60)}` })
  const afterSignUp = await resolver.resolve({ authorization: `Bearer ${body.token}` })
  assert.equal(before.mode, 'local-first')
  assert.equal(afterSignUp.mode, 'external')
  assert.equal(before.userId, secret.userId())
  assert.equal(afterSignUp.userId, secret.userId())
  assert.equal(afterSignUp.claims.email, 'ada@example.test')
})

test('a bad proof gets 400 with its code and creates no user', async () => {
  const secret = AuthSecret.generate()
  const proof = localFirstIdentityProof(secret, SIGNUP_AUDIENCE, 60)
  const [head, claims, signature] = proof.split('.')
  const flipped = `${signature[0] === 'A' ? 'B' : 'A'}${signature.slice(1)}`
  const cases = [
    [{}, 'proof-token-required'],
    [{ proofToken: '' }, 'proof-token-required'],
    [{ proofToken: localFirstIdentityProof(secret, 'another-audience', 60) }, 'audience-mismatch'],
    [{ proofToken: `${head}.${claims}.${flipped}` }, 'invalid-signature'],
    [{ proofToken: mintLocalFirstToken(secret, SIGNUP_AUDIENCE, 3600) }, 'ttl-too-long'],
    [{ proofToken: testData('identity.json').vectors[0].proof_token_betterauth_signup_iat1700000000_ttl60 }, 'expired'],
    [{ proofToken: 'not-a-token' }, 'token-malformed'],
  ]
  const usersBefore = provider.users.size
  for (const [fields, code] of cases) {
    const { status, body } = await signUp(provider, { email: 'eve@example.test', password: 'pw', ...fields })
    assert.equal(status, 400, code)
    assert.equal(body.code, code)
    assert.equal(typeof body.error, 'string')
    assert.equal(body.token, undefined)
  }
  assert.equal(provider.users.size, usersBefore)
  assert.ok(!provider.users.has(secret.userId()))
})
