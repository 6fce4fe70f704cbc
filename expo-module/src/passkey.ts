/**
 * Passkey backup with Jazz's `BrowserPasskeyBackup` shape: the account secret is kept as the
 * user handle of a resident passkey on the app's relying-party id, so one passkey serves the
 * web app (Jazz's browser backup) and this one. The platform runs the ceremony (iOS
 * AuthenticationServices, Android Credential Manager); the core builds the requests and checks
 * the assertion (user present and verified, a 32-byte user handle).
 *
 * The app needs the relying-party id's association: iOS `webcredentials:<rpId>` (the config
 * plugin's `passkeyDomains` option) and an `apple-app-site-association` file on the domain;
 * Android a Digital Asset Links file on the domain naming the app's signing certificate.
 */
import { ExpoLocalFirst } from './ExpoLocalFirstModule';
import {
  type ErrorCode,
  type ErrorDetails,
  LocalFirstError,
  codeOf,
  detailsOf,
  toLocalFirstError,
} from './errors';
import { AuthSecret } from './identity';

/** Options of `new ExpoPasskeyBackup(...)` (Jazz's names). */
export interface ExpoPasskeyBackupOptions {
  /** The app's name (the passkey's relying-party name). */
  appName: string;
  /**
   * The relying-party id: the canonical production host name, e.g. `myapp.com` (no scheme,
   * port or path). Passkeys are scoped to it: never change it. Required here (a browser
   * defaults to `location.hostname`; an app has none).
   */
  appHostname: string;
}

/** The codes a passkey backup or restore fails with. */
export type PasskeyBackupErrorCode = Extract<
  ErrorCode,
  | 'not-supported'
  | 'invalid-secret'
  | 'create-failed'
  | 'get-failed'
  | 'no-credential'
  | 'invalid-credential'
  | 'verification-failed'
  | 'invalid-argument'
>;

const PASSKEY_CODES: readonly string[] = [
  'not-supported',
  'invalid-secret',
  'create-failed',
  'get-failed',
  'no-credential',
  'invalid-credential',
  'verification-failed',
  'invalid-argument',
];

/** A failed passkey backup or restore (Jazz's `PasskeyBackupError`). */
export class PasskeyBackupError extends LocalFirstError<PasskeyBackupErrorCode> {
  constructor(
    code: PasskeyBackupErrorCode,
    message: string,
    options?: { cause?: unknown; details?: ErrorDetails | null },
  ) {
    super(code, message, options);
    this.name = 'PasskeyBackupError';
  }
}

/** Backs the account secret up to a passkey and restores it (Jazz's `BrowserPasskeyBackup`). */
export class ExpoPasskeyBackup {
  /** The relying-party name. */
  readonly appName: string;
  /** The relying-party id. */
  readonly appHostname: string;

  constructor(options: ExpoPasskeyBackupOptions) {
    const { appName, appHostname } = options ?? ({} as ExpoPasskeyBackupOptions);
    if (typeof appName !== 'string' || typeof appHostname !== 'string') {
      throw new PasskeyBackupError('invalid-argument', 'appName and appHostname must be strings');
    }
    this.appName = appName;
    this.appHostname = appHostname;
  }

  /**
   * Creates a passkey holding `secret` (base64url, as `useLocalFirstAuth().secret`), shown in
   * the platform's passkey sheet as `displayName`. The user verifies (Face ID, fingerprint).
   */
  async backup(secret: string, displayName: string): Promise<void> {
    if (!AuthSecret.isValid(secret)) {
      throw new PasskeyBackupError('invalid-secret', 'the secret must be 32 bytes of unpadded base64url');
    }
    await passkeyCall(() =>
      ExpoLocalFirst.passkeyBackup(this.appName, this.appHostname, secret, displayName),
    );
  }

  /**
   * Asks the user for this app's passkey and returns the secret it holds (base64url); pass it
   * to `useLocalFirstAuth().login(secret)`.
   */
  restore(): Promise<string> {
    return passkeyCall(() => ExpoLocalFirst.passkeyRestore(this.appName, this.appHostname));
  }
}

async function passkeyCall<T>(call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (error) {
    const code = codeOf(error);
    const message = error instanceof Error ? error.message : String(error);
    if (code !== undefined && PASSKEY_CODES.includes(code)) {
      throw new PasskeyBackupError(code as PasskeyBackupErrorCode, message, {
        cause: error,
        details: detailsOf(error),
      });
    }
    throw toLocalFirstError(error);
  }
}
