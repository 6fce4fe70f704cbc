// Wire vectors (core/tests/data/identity.json): every language derives the same user
// id, public key, phrase and tokens, byte for byte, from the same secret.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { inspect } from 'node:util'

import {
  AuthSecret,
  RecoveryPhrase,
  localFirstIdentityProof,
  mintLocalFirstToken,
  verifyLocalFirstIdentityProof,
  verifyLocalFirstToken,
} from '../index.js'
import { hasCode, testData } from './data.mjs'

const vectors = testData('identity.json')
const IAT = 1700000000

test('the vector file has cases', () => {
  assert.ok(vectors.vectors.length >= 3)
})

for (const v of vectors.vectors) {
  test(`vector ${v.name}: secret, user id, public key, phrase`, () => {
    const secret = AuthSecret.fromBase64Url(v.seed_b64url)
    assert.equal(secret.toBase64Url(), v.seed_b64url)
    assert.equal(secret.userId(), v.user_id)
    assert.equal(secret.publicKey(), v.public_key_b64url)
    assert.equal(Buffer.from(v.seed_hex, 'hex').toString('base64url'), v.seed_b64url)

    assert.equal(RecoveryPhrase.fromSecret(secret), v.recovery_phrase)
    const back = RecoveryPhrase.toSecret(v.recovery_phrase)
    assert.ok(back.equals(secret))
    // The parser is case-insensitive and tolerant of extra whitespace.
    const messy = `  ${v.recovery_phrase.toUpperCase().split(' ').join(' \n\t ')}  `
    assert.ok(RecoveryPhrase.toSecret(messy).equals(secret))
  })

  test(`vector ${v.name}: tokens and proofs byte for byte`, () => {
    const secret = AuthSecret.fromBase64Url(v.seed_b64url)
    const token = mintLocalFirstToken(secret, 'my-app', 3600, IAT)
    assert.equal(token, v.local_first_token_my_app_iat1700000000_ttl3600)
    const proof = localFirstIdentityProof(secret, 'betterauth-signup', 60, IAT)
    assert.equal(proof, v.proof_token_betterauth_signup_iat1700000000_ttl60)

    assert.deepEqual(verifyLocalFirstIdentityProof(proof, 'betterauth-signup', { now: IAT + 1 }), {
      ok: true,
      id: v.user_id,
    })
    assert.deepEqual(verifyLocalFirstToken(token, 'my-app', { now: IAT + 1 }), {
      userId: v.user_id,
      issuer: 'local-first',
      publicKey: v.public_key_b64url,
      audience: 'my-app',
      audienceUuid: vectors.audience_normalisation['my-app'],
      issuedAt: IAT,
      expiresAt: IAT + 3600,
    })
    const anonymous = verifyLocalFirstToken(v.anonymous_token_my_app_iat1700000000_ttl3600, 'my-app', {
      now: IAT + 1,
    })
    assert.equal(anonymous.issuer, 'anonymous')
    assert.equal(anonymous.userId, v.user_id)
    // The vector proofs were minted in 2023: expired on the system clock.
    const expired = verifyLocalFirstIdentityProof(proof, 'betterauth-signup')
    assert.equal(expired.ok, false)
    assert.equal(expired.code, 'expired')
  })
}

test('audiences normalise as in the vectors', () => {
  const secret = AuthSecret.generate()
  for (const [audience, uuid] of Object.entries(vectors.audience_normalisation)) {
    const token = mintLocalFirstToken(secret, audience, 60)
    // The caller's audience comes back as given, beside the UUID on the wire.
    const verified = verifyLocalFirstToken(token, audience)
    assert.equal(verified.audience, audience)
    assert.equal(verified.audienceUuid, uuid)
    // A UUID audience is used as is, so the normalised form verifies too.
    assert.equal(verifyLocalFirstToken(token, uuid).userId, secret.userId())
    assert.equal(verifyLocalFirstToken(token, uuid).audience, uuid)
  }
})

test('audience-mismatch names the audiences the caller passed', () => {
  const secret = AuthSecret.generate()
  const token = mintLocalFirstToken(secret, 'billing-app', 60)
  const uuid = vectors.audience_normalisation['my-app']
  assert.throws(
    () => verifyLocalFirstToken(token, 'my-app'),
    (error) =>
      error.code === 'audience-mismatch' && error.message.includes('"my-app"') && error.message.includes(uuid),
  )
  const proof = verifyLocalFirstIdentityProof(localFirstIdentityProof(secret, 'billing-app', 60), 'my-app')
  assert.equal(proof.code, 'audience-mismatch')
  assert.match(proof.error, /"my-app"/)
})

test('generated secrets are fresh, round-trip, and never print', () => {
  const a = AuthSecret.generate()
  const b = AuthSecret.generate()
  assert.notEqual(a.userId(), b.userId())
  assert.ok(!a.equals(b))
  assert.match(a.userId(), /^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/)
  assert.match(a.toBase64Url(), /^[A-Za-z0-9_-]{43}$/)
  assert.ok(AuthSecret.fromBase64Url(a.toBase64Url()).equals(a))
  const text = a.toBase64Url()
  for (const shown of [String(a), `${a}`, inspect(a), JSON.stringify(a), JSON.stringify({ a })]) {
    assert.ok(!shown.includes(text), shown)
  }
  assert.equal(String(a), 'AuthSecret(<redacted>)')
})

test('bad secret text fails with its code', () => {
  const good = 'AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA'
  assert.throws(() => AuthSecret.fromBase64Url(`${good}=`), hasCode('secret-padding'))
  assert.throws(() => AuthSecret.fromBase64Url(`${good.slice(1)}+`), hasCode('secret-invalid-character'))
  assert.throws(() => AuthSecret.fromBase64Url(good.slice(1)), hasCode('secret-invalid-length'))
  assert.throws(() => AuthSecret.fromBase64Url(`${good.slice(0, 42)}B`), hasCode('secret-non-canonical'))
  assert.throws(() => AuthSecret.fromBase64Url(''), hasCode('secret-invalid-length'))
})

test('bad recovery phrases fail with their codes', () => {
  const phrase = vectors.vectors[1].recovery_phrase.split(' ')
  assert.throws(
    () => RecoveryPhrase.toSecret(phrase.slice(1).join(' ')),
    hasCode('invalid-length', { kind: 'phraseLength', got: 23 }),
  )
  assert.throws(() => RecoveryPhrase.toSecret(''), hasCode('invalid-length', { kind: 'phraseLength', got: 0 }))
  const unknown = [...phrase.slice(0, 23), 'NotAWord']
  assert.throws(
    () => RecoveryPhrase.toSecret(unknown.join(' ')),
    hasCode('invalid-word', { kind: 'invalidWord', position: 24, word: 'notaword' }),
  )
  const swapped = [phrase[1], phrase[0], ...phrase.slice(2)]
  assert.throws(() => RecoveryPhrase.toSecret(swapped.join(' ')), (error) => {
    hasCode('invalid-checksum')(error)
    assert.equal('details' in error, false)
    return true
  })
})

test('identity proofs: audience, lifetime, empty token', () => {
  const secret = AuthSecret.generate()
  const proof = localFirstIdentityProof(secret, 'betterauth-signup', 60)
  assert.deepEqual(verifyLocalFirstIdentityProof(proof, 'betterauth-signup'), { ok: true, id: secret.userId() })

  const wrong = verifyLocalFirstIdentityProof(proof, 'other-app')
  assert.equal(wrong.ok, false)
  assert.equal(wrong.id, undefined)
  assert.equal(wrong.code, 'audience-mismatch')
  assert.equal(typeof wrong.error, 'string')

  const required = { ok: false, error: 'proofToken is required', code: 'proof-token-required' }
  assert.deepEqual(verifyLocalFirstIdentityProof('', 'betterauth-signup'), required)
  assert.deepEqual(verifyLocalFirstIdentityProof('   ', 'betterauth-signup'), required)
  assert.deepEqual(verifyLocalFirstIdentityProof(undefined, 'betterauth-signup'), required)
  assert.deepEqual(verifyLocalFirstIdentityProof(null, 'betterauth-signup'), required)

  // A long-lived token is not a proof; proofs may live at most 600 s.
  const long = mintLocalFirstToken(secret, 'betterauth-signup', 3600)
  assert.equal(verifyLocalFirstIdentityProof(long, 'betterauth-signup').code, 'ttl-too-long')
  const tenMinutes = localFirstIdentityProof(secret, 'betterauth-signup', 600)
  assert.equal(verifyLocalFirstIdentityProof(tenMinutes, 'betterauth-signup').ok, true)

  // Time is injectable: a proof is valid until exp, not at exp.
  const pinned = localFirstIdentityProof(secret, 'betterauth-signup', 60, IAT)
  assert.equal(verifyLocalFirstIdentityProof(pinned, 'betterauth-signup', { now: IAT + 59 }).ok, true)
  assert.equal(verifyLocalFirstIdentityProof(pinned, 'betterauth-signup', { now: IAT + 60 }).code, 'expired')

  const badNow = verifyLocalFirstIdentityProof(pinned, 'betterauth-signup', { now: -1 })
  assert.equal(badNow.ok, false)
  assert.equal(badNow.code, 'invalid-argument')
})

test('a backend chooses the proof lifetime limit, up to the 3600 s Jazz accepts', () => {
  const secret = AuthSecret.generate()
  // A Jazz client asking for a 900 s proof: over our default of 600 s.
  const jazzLike = mintLocalFirstToken(secret, 'betterauth-signup', 900, IAT)
  const now = { now: IAT + 1 }
  assert.equal(verifyLocalFirstIdentityProof(jazzLike, 'betterauth-signup', now).code, 'ttl-too-long')
  assert.deepEqual(verifyLocalFirstIdentityProof(jazzLike, 'betterauth-signup', { ...now, maxTtlSeconds: 900 }), {
    ok: true,
    id: secret.userId(),
  })
  const hour = mintLocalFirstToken(secret, 'betterauth-signup', 3600, IAT)
  assert.equal(verifyLocalFirstIdentityProof(hour, 'betterauth-signup', { ...now, maxTtlSeconds: 3600 }).ok, true)
  for (const bad of [0, 3601, -1, 1.5, Number.NaN]) {
    const refused = verifyLocalFirstIdentityProof(jazzLike, 'betterauth-signup', { ...now, maxTtlSeconds: bad })
    assert.equal(refused.ok, false, String(bad))
    assert.equal(refused.code, 'invalid-argument', String(bad))
  }
})

test('lifetimes and times are checked', () => {
  const secret = AuthSecret.generate()
  assert.throws(() => mintLocalFirstToken(secret, 'my-app', 0), hasCode('invalid-ttl'))
  assert.throws(() => localFirstIdentityProof(secret, 'my-app', 0), hasCode('invalid-ttl'))
  for (const bad of [-1, 1.5, Number.NaN, Number.POSITIVE_INFINITY, 2 ** 53]) {
    assert.throws(() => mintLocalFirstToken(secret, 'my-app', bad), hasCode('invalid-argument'))
    assert.throws(() => mintLocalFirstToken(secret, 'my-app', 60, bad), hasCode('invalid-argument'))
  }
  // exp beyond 2^53 - 1 is not a valid lifetime.
  assert.throws(() => mintLocalFirstToken(secret, 'my-app', 2 ** 53 - 1, 1), hasCode('invalid-ttl'))
  const token = mintLocalFirstToken(secret, 'my-app', 60, IAT)
  assert.throws(() => verifyLocalFirstToken(token, 'my-app', { issuers: ['external'] }), hasCode('invalid-argument'))
  assert.throws(() => verifyLocalFirstToken(token, 'my-app', { now: IAT, maxTtlSeconds: 30 }), hasCode('ttl-too-long'))
  assert.throws(() => verifyLocalFirstToken(token, 'my-app', { now: IAT + 60 }), hasCode('expired'))
  assert.equal(verifyLocalFirstToken(token, 'my-app', { now: IAT, issuers: ['local-first'] }).issuer, 'local-first')
})
