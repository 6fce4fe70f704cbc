/**
 * Errors thrown by expo-localfirst. Every error of the library is a `LocalFirstError`: its
 * `code` is a code of the project's one error catalogue (docs/ERRORS.md; the union `ErrorCode`
 * is generated from it), the same text the Rust core, the Swift and Kotlin `ErrorCode` and the
 * Node package use; its `message` is the reason, for people; its `details` are the core's typed
 * facts when the error has them (which word of a phrase, both user ids of a vault conflict).
 *
 * A thrown value that carries no catalogue code is not the library's (an Expo bridge failure,
 * a bug in the app's own callback): it is passed on unchanged, never renamed.
 */
import { ERROR_CODES, type ErrorCode, type ErrorDetails } from './codes';

export { ERROR_CODES } from './codes';
export type { ErrorCode, ErrorDetails, Operation } from './codes';

/** An error of the library: a catalogue `code`, a `message` and, when known, `details`. */
export class LocalFirstError<C extends ErrorCode = ErrorCode> extends Error {
  /** The catalogue code, e.g. `secret-store-unavailable`: match on it. */
  readonly code: C;
  /** The core's typed facts about the failure (told apart by `kind`), or `null`. */
  readonly details: ErrorDetails | null;

  constructor(
    code: C,
    message: string,
    options?: { cause?: unknown; details?: ErrorDetails | null },
  ) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'LocalFirstError';
    this.code = code;
    this.details = options?.details ?? null;
  }
}

/** Whether `text` is a code of the catalogue this version was built with. */
export function isErrorCode(text: unknown): text is ErrorCode {
  return typeof text === 'string' && (ERROR_CODES as readonly string[]).includes(text);
}

/** The codes a recovery phrase can be refused with. */
export type RecoveryPhraseErrorCode = Extract<
  ErrorCode,
  'invalid-length' | 'invalid-word' | 'invalid-checksum' | 'invalid-secret'
>;

const PHRASE_CODES: readonly string[] = [
  'invalid-length',
  'invalid-word',
  'invalid-checksum',
  'invalid-secret',
];

/** A recovery phrase that does not decode to a secret (Jazz's `RecoveryPhraseError`). */
export class RecoveryPhraseError extends LocalFirstError<RecoveryPhraseErrorCode> {
  constructor(
    code: RecoveryPhraseErrorCode,
    message: string,
    options?: { cause?: unknown; details?: ErrorDetails | null },
  ) {
    super(code, message, options);
    this.name = 'RecoveryPhraseError';
  }
}

/** Whether `code` is one a recovery phrase is refused with. */
export function isRecoveryPhraseErrorCode(code: string): code is RecoveryPhraseErrorCode {
  return PHRASE_CODES.includes(code);
}

/**
 * A thrown value as the library's error: a `LocalFirstError` as is; an error from the native
 * module or the core (an `Error` whose `code` is a catalogue code) as a `LocalFirstError` with
 * the same code, message and details; anything else unchanged.
 */
export function toLocalFirstError(error: unknown): unknown {
  if (error instanceof LocalFirstError) {
    return error;
  }
  const code = codeOf(error);
  if (!isErrorCode(code)) {
    return error;
  }
  const message = error instanceof Error ? error.message : String(error);
  return new LocalFirstError(code, message, { cause: error, details: detailsOf(error) });
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

/** The `details` a thrown value carries (an object with a string `kind`), or `null`. */
export function detailsOf(error: unknown): ErrorDetails | null {
  if (typeof error === 'object' && error !== null && 'details' in error) {
    const { details } = error as { details: unknown };
    if (typeof details === 'object' && details !== null && typeof (details as { kind?: unknown }).kind === 'string') {
      return details as ErrorDetails;
    }
  }
  return null;
}

/** Runs `body`; a catalogue-coded failure is rethrown as a `LocalFirstError` (`toLocalFirstError`). */
export function rethrowing<T>(body: () => T): T {
  try {
    return body();
  } catch (error) {
    throw toLocalFirstError(error);
  }
}

/** Awaits `body()`; a catalogue-coded rejection is rethrown as a `LocalFirstError`. */
export async function rethrowingAsync<T>(body: () => Promise<T>): Promise<T> {
  try {
    return await body();
  } catch (error) {
    throw toLocalFirstError(error);
  }
}

/**
 * What a failed load or vault flow shows as `error`: the library's `LocalFirstError`
 * (`toLocalFirstError`), or, for a failure that is not the library's, the thrown `Error` itself
 * (a thrown non-`Error` value becomes an `Error` whose `cause` it is).
 */
export function failureOf(reason: unknown): LocalFirstError | Error {
  const error = toLocalFirstError(reason);
  return error instanceof Error ? error : new Error(String(error), { cause: error });
}
