// The repository's shared test data (the same files the Rust and Kotlin suites read).
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'

const dataDir = new URL('../../core/tests/data/', import.meta.url)

/** Parses one JSON file of core/tests/data. */
export function testData(name) {
  return JSON.parse(readFileSync(new URL(name, dataDir), 'utf8'))
}

/**
 * Asserts that `fn` throws (or `promise` rejects with) an Error of the addon's one shape
 * ({@link isLocalFirstError}) whose `code` is `code` and, when `details` is given, whose
 * `details` equal it.
 */
export function hasCode(code, details) {
  return (error) => {
    isLocalFirstError(error)
    if (error.code !== code) {
      throw new Error(`expected code ${code}, got ${error.code} (${error.message})`)
    }
    if (details !== undefined) assert.deepEqual(error.details, details)
    return true
  }
}

/**
 * Asserts the one shape of every error the addon throws: an `Error` with a string `code`,
 * a non-empty `message` and, only when the core has typed details, `details` (an object
 * with a string `kind`); no other properties of its own.
 */
export function isLocalFirstError(error) {
  if (!(error instanceof Error)) throw new Error(`expected an Error, got ${error}`)
  if (typeof error.code !== 'string') throw new Error(`the error has no code: ${error}`)
  if (!error.message) throw new Error('the error has no message')
  const extra = Object.keys(error).filter((key) => key !== 'code' && key !== 'details')
  if (extra.length > 0) throw new Error(`unexpected properties ${extra} on ${error.code}`)
  if ('details' in error && (typeof error.details !== 'object' || typeof error.details.kind !== 'string')) {
    throw new Error(`details without a kind: ${JSON.stringify(error.details)}`)
  }
  return true
}
