// swift-tools-version:5.9
//
// The localfirst Swift package: the generated bindings (module LocalFirst) over the
// Rust library (C module LocalFirstFFI).
//
// - Apple platforms: LocalFirstFFI is an XCFramework (scripts/build-xcframework.sh).
//   Development uses the local path; a release replaces it with
//   `.binaryTarget(name: "LocalFirstFFI", url: "<release asset>", checksum: "<swift package compute-checksum>")`.
// - Linux: LocalFirstFFI is a system-library target over the host library built by
//   scripts/gen-bindings.sh (swift build/test -Xlinker -L../target/debug), so the same
//   Swift code builds and tests without Apple tooling.
//
// Swift 5 language mode: UniFFI 0.32.2's generated Swift for async foreign traits is a
// hard error in Swift 6 mode (fixed upstream after 0.32.2), and the `Db`'s JwtRefresher is
// one (`func refresh() async throws -> String?`, the app's async token provider). The
// package stays in Swift 5 mode until UniFFI is upgraded.
//
// Tests sign ES256 JWTs for the Db suites: CryptoKit on Apple platforms, swift-crypto (the
// same API) on Linux only. SwiftPM's target-based resolution (5.2+) does not fetch a
// dependency that only a test target uses for apps that depend on the library.
import PackageDescription

#if os(Linux)
let ffiTarget: Target = .systemLibrary(name: "LocalFirstFFI", path: "Sources/LocalFirstFFI")
#else
let ffiTarget: Target = .binaryTarget(name: "LocalFirstFFI", path: "LocalFirstFFI.xcframework")
#endif

let package = Package(
    name: "LocalFirst",
    platforms: [.iOS(.v15), .macOS(.v12)],
    products: [
        .library(name: "LocalFirst", targets: ["LocalFirst"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-crypto.git", "3.0.0"..<"5.0.0"),
    ],
    targets: [
        ffiTarget,
        .target(
            name: "LocalFirst",
            dependencies: ["LocalFirstFFI"],
            path: "Sources/LocalFirst"
        ),
        .testTarget(
            name: "LocalFirstTests",
            dependencies: [
                "LocalFirst",
                .product(name: "Crypto", package: "swift-crypto", condition: .when(platforms: [.linux])),
            ],
            path: "Tests/LocalFirstTests"
        ),
    ],
    swiftLanguageVersions: [.v5]
)
