// `src/codes.ts` is generated from the Rust error catalogue (core/tests/typescript_codes.rs
// writes and checks it). This suite checks it again from the Expo side, so that the Expo step
// alone catches a file that drifted: its codes must be docs/ERRORS.md's table, in order (the
// core's catalogue test holds that table to `Code::ALL`), and every error the real core throws
// through @localfirst/node must carry one of them.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

import { ERROR_CODES, isErrorCode, RecoveryPhrase } from '..';

declare const require: (name: string) => unknown;

const documented = [
  ...readFileSync(join(__dirname, '../../../docs/ERRORS.md'), 'utf8').matchAll(/^\| `([a-z0-9-]+)` \|/gm),
].map((match) => match[1]);

test('the generated code union is the catalogue, in catalogue order', () => {
  expect(documented.length).toBeGreaterThan(100);
  expect([...ERROR_CODES]).toEqual(documented);
});

test('codes outside the catalogue are not error codes', () => {
  expect(isErrorCode('vault-identity-conflict')).toBe(true);
  expect(isErrorCode('internal')).toBe(true);
  expect(isErrorCode('ERR_ARGUMENT_CAST')).toBe(false);
  expect(isErrorCode(undefined)).toBe(false);
});

test('errors of the real core carry codes of the union', () => {
  const core = require('@localfirst/node') as {
    AuthSecret: { fromBase64Url(text: unknown): unknown };
    storageKeyFor(options: unknown): string;
  };
  const thrown = [
    () => core.AuthSecret.fromBase64Url('short'),
    () => core.AuthSecret.fromBase64Url(42),
    () => core.storageKeyFor({ key: ' ' }),
    () => RecoveryPhrase.toSecret('abandon'),
  ].map((call) => {
    try {
      call();
    } catch (error) {
      return (error as { code?: unknown }).code;
    }
    return 'no error';
  });
  expect(thrown).toEqual(['secret-invalid-length', 'invalid-argument', 'invalid-storage-key', 'invalid-length']);
  expect(thrown.every(isErrorCode)).toBe(true);
});
