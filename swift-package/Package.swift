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
// hard error in Swift 6 mode (fixed upstream after 0.32.2). Our foreign traits are
// synchronous today, but the Db slice adds an async one (the JWT refresher), so the
// package stays in Swift 5 mode until UniFFI is upgraded.
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
    targets: [
        ffiTarget,
        .target(
            name: "LocalFirst",
            dependencies: ["LocalFirstFFI"],
            path: "Sources/LocalFirst"
        ),
        .testTarget(
            name: "LocalFirstTests",
            dependencies: ["LocalFirst"],
            path: "Tests/LocalFirstTests"
        ),
    ],
    swiftLanguageVersions: [.v5]
)
