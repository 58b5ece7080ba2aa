// swift-tools-version:5.9
// Billfold's wallet core for iOS and macOS: the uniffi-generated Swift API
// (Sources/BillfoldCore, written by `make bindings`) over the Rust library,
// which ships as a static-library xcframework (built by
// build-xcframework.sh on macOS). See ../README.md.
import PackageDescription

let package = Package(
    name: "BillfoldCore",
    platforms: [.iOS(.v15), .macOS(.v12)],
    products: [
        .library(name: "BillfoldCore", targets: ["BillfoldCore"]),
    ],
    targets: [
        // The Rust static library plus BillfoldCoreFFI.h and its module map.
        .binaryTarget(name: "BillfoldCoreFFI", path: "BillfoldCoreFFI.xcframework"),
        .target(
            name: "BillfoldCore",
            dependencies: ["BillfoldCoreFFI"],
            path: "Sources/BillfoldCore",
            // The core's QR decoder (zxing-cpp) is C++; a binary target
            // cannot declare its own link dependencies, so they go here.
            linkerSettings: [.linkedLibrary("c++")]
        ),
        .testTarget(
            name: "BillfoldCoreTests",
            dependencies: ["BillfoldCore"],
            path: "Tests/BillfoldCoreTests"
        ),
    ]
)
