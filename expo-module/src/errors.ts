/**
 * Errors thrown by expo-localfirst. Every error is an `Error` whose `code` is a stable
 * code from the project's error catalogue (docs/ERRORS.md), the same code the Rust core,
 * the Swift and Kotlin bindings and the Node package use.
 */
export class LocalFirstError<C extends string = string> extends Error {
  /** The stable code from the error catalogue, e.g. `secret-store-unavailable`. */
  readonly code: C;

  constructor(code: C, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'LocalFirstError';
    this.code = code;
  }
}

/** The codes a recovery phrase can be refused with. */
export type RecoveryPhraseErrorCode =
  | 'invalid-length'
  | 'invalid-word'
  | 'invalid-checksum'
  | 'invalid-secret';

const PHRASE_CODES: readonly string[] = [
  'invalid-length',
  'invalid-word',
  'invalid-checksum',
  'invalid-secret',
];

/** A recovery phrase that does not decode to a secret (Jazz's `RecoveryPhraseError`). */
export class RecoveryPhraseError extends LocalFirstError<RecoveryPhraseErrorCode> {
  constructor(code: RecoveryPhraseErrorCode, message: string, options?: { cause?: unknown }) {
    super(code, message, options);
    this.name = 'RecoveryPhraseError';
  }
}

/** Whether `code` is one a recovery phrase is refused with. */
export function isRecoveryPhraseErrorCode(code: string): code is RecoveryPhraseErrorCode {
  return PHRASE_CODES.includes(code);
}

/**
 * Turns anything thrown by the native module into a `LocalFirstError`, keeping its code.
 * A thrown value without a string `code` becomes `internal`.
 */
export function toLocalFirstError(error: unknown): LocalFirstError {
  if (error instanceof LocalFirstError) {
    return error;
  }
  const code = codeOf(error) ?? 'internal';
  const message = error instanceof Error ? error.message : String(error);
  return new LocalFirstError(code, message, { cause: error });
}

/** The string `code` of a thrown value, if it has one. */
export function codeOf(error: unknown): string | undefined {
  if (typeof error === 'object' && error !== null && 'code' in error) {
    const { code } = error as { code: unknown };
    if (typeof code === 'string' && code.length > 0) {
      return code;
    }
  }
  return undefined;
}

/** Runs `body`, rethrowing whatever it throws as a `LocalFirstError`. */
export function rethrowing<T>(body: () => T): T {
  try {
    return body();
  } catch (error) {
    throw toLocalFirstError(error);
  }
}

/** Awaits `body()`, rethrowing whatever it rejects with as a `LocalFirstError`. */
export async function rethrowingAsync<T>(body: () => Promise<T>): Promise<T> {
  try {
    return await body();
  } catch (error) {
    throw toLocalFirstError(error);
  }
}
