// The repository's shared test data (the same files the Rust and Kotlin suites read).
import { readFileSync } from 'node:fs'

const dataDir = new URL('../../core/tests/data/', import.meta.url)

/** Parses one JSON file of core/tests/data. */
export function testData(name) {
  return JSON.parse(readFileSync(new URL(name, dataDir), 'utf8'))
}

/** Asserts that `fn` throws (or `promise` rejects with) an Error whose `code` is `code`. */
export function hasCode(code) {
  return (error) => {
    if (!(error instanceof Error)) throw new Error(`expected an Error, got ${error}`)
    if (error.code !== code) {
      throw new Error(`expected code ${code}, got ${error.code} (${error.message})`)
    }
    if (!error.message) throw new Error('the error has no message')
    return true
  }
}
