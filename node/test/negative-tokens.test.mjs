// The negative token corpus (core/tests/data/negative_tokens.json): one crafted token
// per rejection reason; each must fail with its own code through the addon too.
import { test } from 'node:test'
import assert from 'node:assert/strict'

import { verifyLocalFirstIdentityProof, verifyLocalFirstToken } from '../index.js'
import { hasCode, testData } from './data.mjs'

const corpus = testData('negative_tokens.json')

test('the corpus has cases', () => {
  assert.ok(corpus.cases.length >= 30)
})

for (const c of corpus.cases) {
  test(`${c.name} fails with ${c.code}`, () => {
    assert.throws(
      () =>
        verifyLocalFirstToken(c.token, c.audience, {
          now: c.now,
          maxTtlSeconds: c.max_ttl,
          issuers: c.issuers,
        }),
      hasCode(c.code),
    )
    // As a proof, the token is refused too, never thrown on.
    const proof = verifyLocalFirstIdentityProof(c.token, c.audience, { now: c.now })
    assert.equal(proof.ok, false)
    assert.equal(proof.id, undefined)
    assert.equal(typeof proof.code, 'string')
  })
}
