// swift-tools-version:6.1
// libFuzzer targets over pgreel's decoders (docs/testing.md). A package of its own, so that the main build and
// `make test` never see the fuzzer flags: `make fuzz` builds it with `-sanitize=fuzzer,address` and runs each target.
import PackageDescription

let package = Package(
    name: "pgreel-fuzz",
    platforms: [.macOS(.v14)],
    dependencies: [
        .package(name: "pgreel", path: ".."),
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
    ],
    targets: [
        .target(name: "CFuzzerDriver"),
        .target(
            name: "FuzzSupport",
            dependencies: [
                "CFuzzerDriver",
                .product(name: "ProxyEngine", package: "pgreel"),
                .product(name: "NIOCore", package: "swift-nio"),
            ]
        ),
        .executableTarget(name: "FrontendFramingFuzz", dependencies: ["FuzzSupport"]),
        .executableTarget(name: "BackendFramingFuzz", dependencies: ["FuzzSupport"]),
        .executableTarget(name: "StartupPacketFuzz", dependencies: ["FuzzSupport"]),
        .executableTarget(name: "SessionTrackerFuzz", dependencies: ["FuzzSupport"]),
        .executableTarget(name: "JSONParserFuzz", dependencies: ["FuzzSupport"]),
    ],
    swiftLanguageModes: [.v6]
)
