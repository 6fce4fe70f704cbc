/** Shared set-up of the module's suites: a fresh "device" (stand-in memory) and fresh hook state. */
import { readFileSync } from 'fs';
import { join } from 'path';

import { resetSecretMemory } from '../../mocks/ExpoLocalFirst';
import { resetAuthState } from '../authState';
import { ExpoLocalFirst } from '../ExpoLocalFirstModule';

/** One identity vector of core/tests/data/identity.json. */
export interface IdentityVector {
  name: string;
  seed_b64url: string;
  recovery_phrase: string;
  public_key_b64url: string;
  user_id: string;
}

/** The repository's identity vectors (the same file the Rust core is tested against). */
export function identityVectors(): IdentityVector[] {
  const file = join(__dirname, '../../../core/tests/data/identity.json');
  return (JSON.parse(readFileSync(file, 'utf8')) as { vectors: IdentityVector[] }).vectors;
}

/** Empties the stand-in's memory and the hooks' shared state. */
export function freshDevice(): void {
  resetSecretMemory();
  resetAuthState();
}

/** The native module as jest-expo loaded it: every function is a `jest.fn` over the stand-in. */
export const native = ExpoLocalFirst as unknown as {
  [K in keyof typeof ExpoLocalFirst]: jest.Mock;
};

/** An error as the native module throws it: an `Error` whose `code` is a catalogue code. */
export function nativeError(code: string, message = `native failure ${code}`): Error {
  return Object.assign(new Error(message), { code });
}

/** A promise's rejection, for assertions on its `code`. */
export async function rejectionOf(promise: Promise<unknown>): Promise<{ code?: string; name?: string }> {
  try {
    await promise;
  } catch (error) {
    return error as { code?: string };
  }
  throw new Error('expected a rejection');
}

/** What a synchronous call throws. */
export function thrownBy(body: () => unknown): { code?: string; name?: string; message?: string } {
  try {
    body();
  } catch (error) {
    return error as { code?: string };
  }
  throw new Error('expected a throw');
}
