// Session resolution for a Node backend: the server's resolver, fed Node's request
// headers, against a real loopback JWKS endpoint, static keys, local-first tokens
// and backend impersonation.
import { after, before, test } from 'node:test'
import assert from 'node:assert/strict'
import { createServer } from 'node:http'

import { AuthSecret, SessionResolver, mintLocalFirstToken } from '../index.js'
import { hasCode, testData } from './data.mjs'
import { ISSUER, JWT_AUDIENCE, keyPair, now, signJwt, startProvider } from './provider.mjs'

let provider
before(async () => {
  provider = await startProvider()
})
after(() => provider.close())

const bearer = (token) => ({ authorization: `Bearer ${token}` })
const externalClaims = (overrides = {}) => {
  const iat = now()
  return { iss: ISSUER, aud: JWT_AUDIENCE, sub: 'user-42', iat, exp: iat + 300, role: 'editor', ...overrides }
}
const jwksResolver = (extra = {}) =>
  new SessionResolver({
    appId: 'my-app',
    allowLocalFirst: true,
    jwksUrl: provider.jwksUrl,
    jwtIssuer: ISSUER,
    jwtAudience: JWT_AUDIENCE,
    ...extra,
  })

test('a local-first token resolves to its user', async () => {
  const secret = AuthSecret.generate()
  const token = mintLocalFirstToken(secret, 'my-app', 120)
  const session = await jwksResolver().resolve(bearer(token))
  assert.equal(session.userId, secret.userId())
  assert.equal(session.mode, 'local-first')
  assert.equal(session.claims.iss, 'urn:jazz:local-first')
  assert.equal(session.expiresAt, session.claims.iat + 120)
})

test('local-first refusals: disabled, expired, wrong app, no credential', async () => {
  const secret = AuthSecret.generate()
  const token = mintLocalFirstToken(secret, 'my-app', 120)
  const off = new SessionResolver({ appId: 'my-app' })
  await assert.rejects(off.resolve(bearer(token)), hasCode('disabled'))
  const resolver = jwksResolver()
  const expired = testData('identity.json').vectors[0].local_first_token_my_app_iat1700000000_ttl3600
  await assert.rejects(resolver.resolve(bearer(expired)), hasCode('expired'))
  await assert.rejects(resolver.resolve(bearer(mintLocalFirstToken(secret, 'other-app', 120))), hasCode('invalid'))
  await assert.rejects(resolver.resolve({}), hasCode('missing'))
  await assert.rejects(resolver.resolve({ authorization: 'Basic abc' }), hasCode('invalid'))
  await assert.rejects(resolver.resolve(bearer('not.a.token')), hasCode('invalid'))
})

test('an external JWT resolves through the JWKS endpoint', async () => {
  const resolver = jwksResolver()
  const fetchesBefore = provider.state.jwksFetches
  const claims = externalClaims()
  const session = await resolver.resolve(bearer(signJwt(claims, provider.keys)))
  assert.equal(session.userId, 'user-42')
  assert.equal(session.mode, 'external')
  assert.equal(session.claims.role, 'editor')
  assert.equal(session.expiresAt, claims.exp)
  assert.equal(provider.state.jwksFetches, fetchesBefore + 1)
  // The key set is cached: a second token needs no fetch.
  await resolver.resolve(bearer(signJwt(externalClaims({ sub: 'user-43' }), provider.keys)))
  assert.equal(provider.state.jwksFetches, fetchesBefore + 1)
})

test('external refusals: foreign key, expired, wrong issuer or audience, not configured', async () => {
  const resolver = jwksResolver()
  const stranger = keyPair(provider.keys.kid)
  await assert.rejects(resolver.resolve(bearer(signJwt(externalClaims(), stranger))), hasCode('invalid'))
  const past = now() - 1000
  await assert.rejects(
    resolver.resolve(bearer(signJwt(externalClaims({ iat: past, exp: past + 10 }), provider.keys))),
    hasCode('expired'),
  )
  await assert.rejects(
    resolver.resolve(bearer(signJwt(externalClaims({ iss: 'https://evil.test' }), provider.keys))),
    hasCode('invalid'),
  )
  await assert.rejects(
    resolver.resolve(bearer(signJwt(externalClaims({ aud: 'other' }), provider.keys))),
    hasCode('invalid'),
  )
  const noExternal = new SessionResolver({ appId: 'my-app', allowLocalFirst: true })
  await assert.rejects(noExternal.resolve(bearer(signJwt(externalClaims(), provider.keys))), hasCode('disabled'))
})

test('a static key works as PEM and as a JWK', async () => {
  const token = signJwt(externalClaims(), provider.keys)
  for (const key of [
    provider.keys.publicKey.export({ type: 'spki', format: 'pem' }),
    JSON.stringify(provider.keys.jwk),
  ]) {
    const resolver = new SessionResolver({
      appId: 'my-app',
      jwtPublicKey: key,
      jwtIssuer: ISSUER,
      jwtAudience: JWT_AUDIENCE,
    })
    assert.equal((await resolver.resolve(bearer(token))).userId, 'user-42')
    await assert.rejects(resolver.resolve(bearer(signJwt(externalClaims(), keyPair()))), hasCode('invalid'))
  }
})

test('bad configurations throw with their codes', () => {
  assert.throws(() => new SessionResolver({ appId: '  ' }), hasCode('invalid-config'))
  assert.throws(
    () => new SessionResolver({ appId: 'my-app', jwksUrl: provider.jwksUrl, jwtPublicKey: '{}' }),
    hasCode('invalid-config'),
  )
  const checked = { jwtIssuer: ISSUER, jwtAudience: JWT_AUDIENCE }
  assert.throws(
    () => new SessionResolver({ appId: 'my-app', jwksUrl: 'http://jwks.example.test/keys', ...checked }),
    hasCode('invalid-jwks-url'),
  )
  assert.throws(
    () => new SessionResolver({ appId: 'my-app', jwtPublicKey: 'not a key', ...checked }),
    hasCode('invalid-key'),
  )
  assert.throws(
    () => new SessionResolver({ appId: 'my-app', backendSecret: '' }),
    hasCode('shared-secret-too-short'),
  )
  assert.throws(
    () => new SessionResolver({ appId: 'my-app', backendSecret: 'fifteen-bytes!!' }),
    hasCode('shared-secret-too-short'),
  )
})

test('external keys need the expected issuer and audience, or an explicit skip', async () => {
  for (const missing of [{}, { jwtIssuer: ISSUER }, { jwtAudience: JWT_AUDIENCE }, { jwtIssuer: [] }]) {
    assert.throws(
      () => new SessionResolver({ appId: 'my-app', jwksUrl: provider.jwksUrl, ...missing }),
      (error) => error.code === 'invalid-config' && /jwtIssuer and jwtAudience/.test(error.message),
    )
  }
  // Several accepted values; the token needs one of each.
  const several = jwksResolver({ jwtIssuer: ['https://old.example.test', ISSUER], jwtAudience: ['a', JWT_AUDIENCE] })
  assert.equal((await several.resolve(bearer(signJwt(externalClaims(), provider.keys)))).userId, 'user-42')
  await assert.rejects(
    several.resolve(bearer(signJwt(externalClaims({ aud: 'another-app' }), provider.keys))),
    hasCode('invalid'),
  )
  // Skipping the checks is explicit, and then a token for another app gets in.
  const unchecked = new SessionResolver({
    appId: 'my-app',
    jwksUrl: provider.jwksUrl,
    insecureSkipIssuerCheck: true,
    insecureSkipAudienceCheck: true,
  })
  const foreign = signJwt(externalClaims({ iss: 'https://elsewhere.test', aud: 'another-app' }), provider.keys)
  assert.equal((await unchecked.resolve(bearer(foreign))).userId, 'user-42')
})

test('backend impersonation wins and is checked', async () => {
  const session = Buffer.from(
    JSON.stringify({ userId: 'alice', authMode: 'local-first', claims: { role: 'admin' } }),
  ).toString('base64')
  const resolver = jwksResolver({ backendSecret: 'backend-secret-1' })
  const secret = AuthSecret.generate()
  const resolved = await resolver.resolve({
    'X-Jazz-Backend-Secret': 'backend-secret-1',
    'X-Jazz-Session': session,
    ...bearer(mintLocalFirstToken(secret, 'my-app', 60)),
  })
  assert.equal(resolved.userId, 'alice')
  assert.equal(resolved.mode, 'local-first')
  assert.deepEqual(resolved.claims, { role: 'admin' })
  assert.equal(resolved.expiresAt, undefined)

  await assert.rejects(
    resolver.resolve({ 'x-jazz-backend-secret': 'wrong', 'x-jazz-session': session }),
    hasCode('invalid'),
  )
  await assert.rejects(
    resolver.resolve({ 'x-jazz-backend-secret': 'backend-secret-1', 'x-jazz-session': 'not base64 json' }),
    hasCode('invalid'),
  )
  await assert.rejects(
    jwksResolver().resolve({ 'x-jazz-backend-secret': 'backend-secret-1', 'x-jazz-session': session }),
    hasCode('disabled'),
  )
  // The server's user-id rule: no control characters, trimmed, at most 256 bytes.
  for (const userId of ['a\u0007b', 'x'.repeat(257), '  ']) {
    const bad = Buffer.from(JSON.stringify({ userId })).toString('base64')
    await assert.rejects(
      resolver.resolve({ 'x-jazz-backend-secret': 'backend-secret-1', 'x-jazz-session': bad }),
      hasCode('invalid'),
    )
  }
  const padded = Buffer.from(JSON.stringify({ userId: ' bob ' })).toString('base64')
  const bob = await resolver.resolve({ 'x-jazz-backend-secret': 'backend-secret-1', 'x-jazz-session': padded })
  assert.equal(bob.userId, 'bob')
})

test('header shapes: any case, arrays, undefined, the token cookie; invalid headers reject', async () => {
  const secret = AuthSecret.generate()
  const token = mintLocalFirstToken(secret, 'my-app', 60)
  const resolver = jwksResolver()
  const shapes = [
    { Authorization: `Bearer ${token}` },
    { authorization: [`Bearer ${token}`], 'x-forwarded-for': ['10.0.0.1', '10.0.0.2'], accept: undefined },
    { cookie: `theme=dark; localfirst-token=${token}` },
  ]
  for (const headers of shapes) {
    assert.equal((await resolver.resolve(headers)).userId, secret.userId())
  }
  await assert.rejects(resolver.resolve({ 'bad header': 'x' }), hasCode('invalid-argument'))
  await assert.rejects(resolver.resolve({ authorization: 'Bearer a\nb' }), hasCode('invalid-argument'))
})

test("a node:http backend resolves its requests' headers", async () => {
  const resolver = jwksResolver()
  const server = createServer(async (req, res) => {
    try {
      const session = await resolver.resolve(req.headers)
      res.writeHead(200, { 'content-type': 'application/json' })
      res.end(JSON.stringify({ userId: session.userId, mode: session.mode }))
    } catch (error) {
      res.writeHead(401, { 'content-type': 'application/json' })
      res.end(JSON.stringify({ code: error.code }))
    }
  })
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve))
  const url = `http://127.0.0.1:${server.address().port}/me`
  try {
    const secret = AuthSecret.generate()
    const ok = await fetch(url, { headers: bearer(mintLocalFirstToken(secret, 'my-app', 60)) })
    assert.equal(ok.status, 200)
    assert.deepEqual(await ok.json(), { userId: secret.userId(), mode: 'local-first' })
    const external = await fetch(url, { headers: bearer(signJwt(externalClaims(), provider.keys)) })
    assert.deepEqual(await external.json(), { userId: 'user-42', mode: 'external' })
    const anonymous = await fetch(url)
    assert.equal(anonymous.status, 401)
    assert.deepEqual(await anonymous.json(), { code: 'missing' })
  } finally {
    await new Promise((resolve) => server.close(resolve))
  }
})
