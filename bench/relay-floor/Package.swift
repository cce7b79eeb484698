// swift-tools-version:6.1
// The floor of a swift-nio relay: bytes in, the same bytes out, no parsing, no recording, no events (bench/floor.sh,
// docs/performance.md "The floor"). A package of its own so the product never carries it.
import PackageDescription

let package = Package(
    name: "relay-floor",
    platforms: [.macOS(.v14)],
    dependencies: [
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2")
    ],
    targets: [
        .executableTarget(
            name: "relay-floor",
            dependencies: [
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ],
            swiftSettings: [.unsafeFlags(["-enforce-exclusivity=unchecked"])]
        )
    ],
    swiftLanguageModes: [.v6]
)
