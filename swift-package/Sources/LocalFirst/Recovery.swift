// Recovery beyond the phrase, the platform-neutral part: the vault flow's closure and
// `TimeInterval` forms. The names match the
// Kotlin layer (android-lib/src/main/kotlin/dev/localfirst/Recovery.kt). The passkey
// ceremony itself is in PasskeyBackup.swift (AuthenticationServices).
import Foundation

/// A `SecretVault` from two async closures over the app's identity provider.
///
/// `load` returns the stored text (the secret's 43-character base64url) or `nil` **only**
/// when the provider definitively holds nothing for the signed-in user; `store` keeps the
/// text given, replacing what is there. Any error they throw (network, refused credential,
/// unexpected answer) fails the vault call: the flow reports `vault-unavailable` and never
/// makes a new identity over it.
public func secretVault(
    load: @escaping @Sendable () async throws -> String?,
    store: @escaping @Sendable (String) async throws -> Void
) -> SecretVault {
    ClosureSecretVault(load: load, store: store)
}

/// A `SecretVault` from closures (see `secretVault(load:store:)`).
public final class ClosureSecretVault: SecretVault {
    private let loadBody: @Sendable () async throws -> String?
    private let storeBody: @Sendable (String) async throws -> Void

    /// Wraps `load` and `store`.
    public init(
        load: @escaping @Sendable () async throws -> String?,
        store: @escaping @Sendable (String) async throws -> Void
    ) {
        loadBody = load
        storeBody = store
    }

    public func load() async throws -> String? {
        try await loadBody()
    }

    public func store(secret: String) async throws {
        try await storeBody(secret)
    }
}

/// `restoreOrBackupWithVault(vault:store:timeoutMs:)` with the bound on each vault call in
/// seconds (default 10 s): makes `store` and `vault` hold the same identity. On a
/// `LocalFirstError` `.vaultIdentityConflict` nothing was replaced: ask the user, then call
/// `adoptVaultIdentity(vault:store:vaultUserId:timeout:)` with the `vaultUserId` of its
/// `details()` (`.identityConflict`).
public func restoreOrBackupWithVault(
    vault: SecretVault,
    store: AuthSecretStore,
    timeout: TimeInterval? = nil
) async throws -> VaultIdentity {
    try await restoreOrBackupWithVault(vault: vault, store: store, timeoutMs: timeout.map(milliseconds))
}

/// `adoptVaultIdentity(vault:store:vaultUserId:timeoutMs:)` with the bound in seconds:
/// replaces the device's identity with the vault's `vaultUserId` after the user agreed.
public func adoptVaultIdentity(
    vault: SecretVault,
    store: AuthSecretStore,
    vaultUserId: String,
    timeout: TimeInterval? = nil
) async throws -> AdoptedIdentity {
    try await adoptVaultIdentity(
        vault: vault, store: store, vaultUserId: vaultUserId, timeoutMs: timeout.map(milliseconds)
    )
}

private func milliseconds(_ seconds: TimeInterval) -> UInt64 {
    let ms = (seconds * 1000).rounded()
    return ms.isFinite && ms > 0 ? UInt64(min(ms, Double(UInt64.max / 2))) : 0
}
