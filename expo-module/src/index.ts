/**
 * expo-localfirst: local-first identity for Expo apps, with Jazz's names. The account
 * secret lives in the iOS Keychain or behind the Android Keystore; every rule runs in the
 * localfirst Rust core through its Swift and Kotlin bindings.
 */
export { ExpoAuthSecretStore, DEFAULT_STORAGE_KEY } from './ExpoAuthSecretStore';
export type { ExpoAuthSecretStoreOptions } from './ExpoAuthSecretStore';
export { KEYCHAIN_ACCESSIBILITY } from './ExpoLocalFirstModule';
export type { KeychainAccessibility, ProofVerification } from './ExpoLocalFirstModule';
export { AuthSecret, RecoveryPhrase } from './identity';
export { ERROR_CODES, LocalFirstError, RecoveryPhraseError, isErrorCode } from './errors';
export type { ErrorCode, ErrorDetails, Operation, RecoveryPhraseErrorCode } from './errors';
export { useLocalFirstAuth } from './useLocalFirstAuth';
export type { LocalFirstAuth, UseLocalFirstAuthOptions } from './useLocalFirstAuth';
export {
  getLocalFirstIdentityProof,
  verifyLocalFirstIdentityProof,
  mintLocalFirstToken,
} from './proof';
export type { IdentityProofOptions } from './proof';
export { importJazzSecret, JAZZ_SECURE_STORE_KEY } from './jazzImport';
export type { JazzImportOptions, JazzImportResult, SecureStoreLike } from './jazzImport';
export {
  restoreOrBackupWithVault,
  adoptVaultIdentity,
  VaultError,
  DEFAULT_VAULT_TIMEOUT_MS,
} from './vault';
export type {
  SecretVault,
  VaultFlowOptions,
  VaultIdentity,
  VaultOutcome,
  AdoptedIdentity,
  VaultErrorCode,
} from './vault';
export { ExpoPasskeyBackup, PasskeyBackupError } from './passkey';
export type { ExpoPasskeyBackupOptions, PasskeyBackupErrorCode } from './passkey';
