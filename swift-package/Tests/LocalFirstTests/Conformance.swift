// Test helper over the test-only export `runSecretStoreConformance(harness:)` (the
// library's `testing` feature, which the Linux test build and a test XCFramework have;
// a shipped library has no conformance suite).
import LocalFirst

/// Runs the core's conformance suite against the stores `open` returns.
func runSecretStoreConformance(
    _ open: @escaping @Sendable (StorageKey) throws -> AuthSecretStore
) -> ConformanceReport {
    runSecretStoreConformance(harness: ClosureHarness(open: open))
}

private final class ClosureHarness: SecretStoreHarness {
    let openStore: @Sendable (StorageKey) throws -> AuthSecretStore

    init(open: @escaping @Sendable (StorageKey) throws -> AuthSecretStore) {
        openStore = open
    }

    func open(storageKey: StorageKey) throws -> AuthSecretStore {
        try openStore(storageKey)
    }
}
