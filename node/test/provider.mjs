// A tiny identity provider for the tests, on a real loopback socket: a
// BetterAuth-style sign-up endpoint that links the account to the proven
// local-first user id and issues ES256 JWTs with that id as `sub`, and the JWKS
// endpoint a SessionResolver fetches its keys from. Keys are made here with
// node:crypto.
import { createServer } from 'node:http'
import { generateKeyPairSync, sign } from 'node:crypto'

import { verifyLocalFirstIdentityProof } from '../index.js'

export const SIGNUP_AUDIENCE = 'betterauth-signup'
export const ISSUER = 'https://id.example.test'
export const JWT_AUDIENCE = 'my-app'

const b64 = (text) => Buffer.from(text).toString('base64url')

/** A fresh P-256 key pair with its public JWK (kid `kid`). */
export function keyPair(kid = 'key-1') {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' })
  const jwk = { ...publicKey.export({ format: 'jwk' }), kid, alg: 'ES256', use: 'sig' }
  return { privateKey, publicKey, jwk, kid }
}

/** A compact ES256 JWT over `claims`, signed with `keys`. */
export function signJwt(claims, keys) {
  const header = b64(JSON.stringify({ alg: 'ES256', typ: 'JWT', kid: keys.kid }))
  const body = b64(JSON.stringify(claims))
  const signature = sign('sha256', Buffer.from(`${header}.${body}`), {
    key: keys.privateKey,
    dsaEncoding: 'ieee-p1363',
  })
  return `${header}.${body}.${signature.toString('base64url')}`
}

/** Claims of a JWT, unverified (for assertions). */
export function jwtClaims(token) {
  return JSON.parse(Buffer.from(token.split('.')[1], 'base64url').toString('utf8'))
}

export const now = () => Math.floor(Date.now() / 1000)

function readJson(req) {
  return new Promise((resolve, reject) => {
    const chunks = []
    let size = 0
    req.on('data', (chunk) => {
      size += chunk.length
      if (size > 64 * 1024) reject(new Error('body too large'))
      else chunks.push(chunk)
    })
    req.on('end', () => {
      try {
        resolve(JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}'))
      } catch (error) {
        reject(error)
      }
    })
    req.on('error', reject)
  })
}

function reply(res, status, body) {
  res.writeHead(status, { 'content-type': 'application/json' })
  res.end(JSON.stringify(body))
}

/**
 * Starts the provider on 127.0.0.1 (a free port). Returns its URLs, its keys, the
 * users it created and how often its JWKS was fetched; `close()` stops it.
 */
export async function startProvider() {
  const keys = keyPair()
  const users = new Map()
  const state = { jwksFetches: 0 }
  const server = createServer(async (req, res) => {
    try {
      if (req.method === 'GET' && req.url === '/.well-known/jwks.json') {
        state.jwksFetches += 1
        return reply(res, 200, { keys: [keys.jwk] })
      }
      if (req.method === 'POST' && req.url === '/sign-up/email') {
        const body = await readJson(req)
        // The BetterAuth `before` hook: verify the proof, keep the proven id.
        const { ok, id, error, code } = verifyLocalFirstIdentityProof(body.proofToken, SIGNUP_AUDIENCE)
        if (!ok) return reply(res, 400, { error, code })
        if (typeof body.email !== 'string' || !body.email) {
          return reply(res, 400, { error: 'email is required', code: 'invalid-argument' })
        }
        // The `user.create.before` hook: the new user gets the proven id.
        users.set(id, { id, email: body.email })
        const iat = now()
        const token = signJwt(
          { iss: ISSUER, aud: JWT_AUDIENCE, sub: id, email: body.email, iat, exp: iat + 600 },
          keys,
        )
        return reply(res, 200, { user: users.get(id), token })
      }
      return reply(res, 404, { error: 'not found' })
    } catch (error) {
      return reply(res, 400, { error: String(error.message ?? error), code: 'invalid-json' })
    }
  })
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve))
  const base = `http://127.0.0.1:${server.address().port}`
  return {
    base,
    jwksUrl: `${base}/.well-known/jwks.json`,
    keys,
    users,
    state,
    close: () => new Promise((resolve) => server.close(resolve)),
  }
}

/** POSTs a sign-up; returns the HTTP status and the JSON body. */
export async function signUp(provider, body) {
  const res = await fetch(`${provider.base}/sign-up/email`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  })
  return { status: res.status, body: await res.json() }
}
