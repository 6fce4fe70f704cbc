// Test helper over the test-only export `runSecretStoreConformance` (the library's
// `testing` feature; a shipped library has no conformance suite).
package dev.localfirst

/**
 * Runs the core's secret-store conformance suite against the stores [open] returns.
 * Every call with the same key must reach the same stored item; different keys must be
 * independent; start from empty storage.
 */
fun runSecretStoreConformance(open: (StorageKey) -> AuthSecretStore): ConformanceReport =
    runSecretStoreConformance(
        object : SecretStoreHarness {
            override fun open(storageKey: StorageKey): AuthSecretStore = open(storageKey)
        },
    )
