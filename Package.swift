// swift-tools-version:6.1
import PackageDescription

/// Release builds skip the run-time exclusivity checks (debug builds and tests keep them). The relay touches a
/// session's state once per message; the checks cost over 20% of the CPU of relaying a COPY (perf, 1,000,000
/// rows), and Swift 6's static checking already rules out the data races they would catch across threads.
let releaseSettings: [SwiftSetting] = [.unsafeFlags(["-enforce-exclusivity=unchecked"], .when(configuration: .release))]

let package = Package(
    name: "pgreel",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "pgreel", targets: ["pgreel"]),
        .library(name: "ProxyEngine", targets: ["ProxyEngine"]),
        .library(name: "Replay", targets: ["Replay"]),
        .library(name: "Monitor", targets: ["Monitor"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-nio-ssl.git", from: "2.37.6"),
        .package(url: "https://github.com/apple/swift-crypto.git", from: "4.5.2"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/LebJe/TOMLKit.git", from: "0.6.0"),
        .package(url: "https://github.com/x-sheep/swift-property-based.git", from: "2.0.1"),
    ],
    targets: [
        .systemLibrary(name: "CNcurses", path: "Sources/CNcurses"),
        .target(
            name: "ProxyEngine",
            dependencies: [
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOTLS", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "CryptoExtras", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "TOMLKit", package: "TOMLKit"),
            ],
            swiftSettings: releaseSettings
        ),
        .target(
            name: "Replay",
            dependencies: [
                "ProxyEngine",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "Crypto", package: "swift-crypto"),
            ],
            swiftSettings: releaseSettings
        ),
        .target(name: "Monitor", dependencies: ["Replay", "ProxyEngine", "CNcurses"], swiftSettings: releaseSettings),
        .executableTarget(
            name: "pgreel",
            dependencies: [
                "ProxyEngine", "Replay", "Monitor",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // `make bench`'s display cost: what showing one value costs in each place, from 16 bytes to 50 MiB.
        .executableTarget(
            name: "pgreel-display-bench", dependencies: ["ProxyEngine", "Replay", "Monitor"],
            path: "bench/display-cost", swiftSettings: releaseSettings),
        .testTarget(
            name: "ProxyEngineTests",
            dependencies: [
                "ProxyEngine",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOEmbedded", package: "swift-nio"),
                .product(name: "NIOTestUtils", package: "swift-nio"),
                .product(name: "PropertyBased", package: "swift-property-based"),
            ]
        ),
        .testTarget(
            name: "ReplayTests",
            dependencies: ["Replay", "ProxyEngine", .product(name: "NIOCore", package: "swift-nio")]
        ),
        .testTarget(name: "MonitorTests", dependencies: ["Monitor"]),
        .testTarget(
            name: "IntegrationTests",
            dependencies: [
                "ProxyEngine", "Replay",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ]
        ),
    ],
    swiftLanguageModes: [.v6]
)
