// swift-tools-version:6.2
import PackageDescription

// Pure cores (no I/O imports): JSONValue, SocketIOProtocol, ScorerState, JSONDiff.
// I/O shells: SocketIOServer, SocketIOClient, Storage, Engine (and later Compare, Tee).
// Only the `statetee` executable wires them together and bootstraps logging.
let swiftSettings: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("MemberImportVisibility"),
]

let package = Package(
    name: "StateTee",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "statetee", targets: ["statetee"]),
        .library(name: "JSONValue", targets: ["JSONValue"]),
        .library(name: "SocketIOProtocol", targets: ["SocketIOProtocol"]),
        .library(name: "ScorerState", targets: ["ScorerState"]),
        .library(name: "JSONDiff", targets: ["JSONDiff"]),
        .library(name: "SocketIOServer", targets: ["SocketIOServer"]),
        .library(name: "SocketIOClient", targets: ["SocketIOClient"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-metrics", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-collections", from: "1.6.0"),
        .package(url: "https://github.com/apple/swift-async-algorithms", from: "1.1.4"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1"),
        .package(url: "https://github.com/hummingbird-project/hummingbird-websocket", from: "2.8.1"),
        .package(url: "https://github.com/hummingbird-project/swift-websocket", from: "1.6.2"),
        .package(url: "https://github.com/swift-server/async-http-client", from: "1.37.0"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.10.0"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.2.2"),
        .package(url: "https://github.com/HdrHistogram/hdrhistogram-swift", from: "0.2.0"),
        .package(url: "https://github.com/x-sheep/swift-property-based", from: "2.0.1"),
    ],
    targets: [
        // MARK: pure cores
        .target(
            name: "JSONValue",
            dependencies: [.product(name: "OrderedCollections", package: "swift-collections")],
            swiftSettings: swiftSettings
        ),
        .target(name: "SocketIOProtocol", dependencies: ["JSONValue"], swiftSettings: swiftSettings),
        .target(name: "ScorerState", dependencies: ["JSONValue"], swiftSettings: swiftSettings),
        .target(name: "JSONDiff", dependencies: ["JSONValue"], swiftSettings: swiftSettings),
        .target(name: "StateTeeConfig", swiftSettings: swiftSettings),

        // MARK: I/O
        .target(
            name: "SocketIOServer",
            dependencies: [
                "SocketIOProtocol",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdWebSocket", package: "hummingbird-websocket"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "SocketIOClient",
            dependencies: [
                "SocketIOProtocol",
                .product(name: "WSClient", package: "swift-websocket"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOWebSocket", package: "swift-nio"),
            ],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "Storage",
            dependencies: [
                "JSONValue",
                .product(name: "GRDB", package: "GRDB.swift"),
            ],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "Compare",
            dependencies: [
                "JSONDiff",
                .product(name: "Yams", package: "Yams"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
            ],
            exclude: ["README.md"],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "Engine",
            dependencies: [
                "ScorerState", "SocketIOServer", "SocketIOProtocol", "Storage",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings
        ),

        .target(
            name: "Tee",
            dependencies: [
                "Compare", "Engine", "SocketIOServer", "SocketIOClient",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings
        ),

        // MARK: the executable
        .executableTarget(
            name: "statetee",
            dependencies: [
                "Tee", "Engine", "Storage", "SocketIOServer", "SocketIOClient", "JSONDiff", "Compare", "StateTeeConfig",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Histogram", package: "hdrhistogram-swift"),
            ],
            swiftSettings: swiftSettings
        ),

        // MARK: tests
        .target(
            name: "StateTeeTesting",
            dependencies: ["JSONValue", .product(name: "Logging", package: "swift-log")],
            path: "Tests/StateTeeTesting",
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "JSONValueTests",
            dependencies: ["JSONValue", .product(name: "PropertyBased", package: "swift-property-based")],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "SocketIOProtocolTests",
            dependencies: ["SocketIOProtocol", .product(name: "PropertyBased", package: "swift-property-based")],
            swiftSettings: swiftSettings
        ),
        .testTarget(name: "ScorerStateTests", dependencies: ["ScorerState"], swiftSettings: swiftSettings),
        .testTarget(
            name: "JSONDiffTests",
            dependencies: ["JSONDiff", .product(name: "PropertyBased", package: "swift-property-based")],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "SocketIOTests",
            dependencies: [
                "SocketIOServer", "SocketIOClient", "StateTeeTesting",
                .product(name: "NIOEmbedded", package: "swift-nio"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "StorageTests",
            dependencies: ["Storage", .product(name: "GRDB", package: "GRDB.swift")],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "CompareTests",
            dependencies: ["Compare", .product(name: "MetricsTestKit", package: "swift-metrics")],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "TeeTests",
            dependencies: ["Tee", "Storage", "SocketIOClient", "StateTeeTesting"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "EngineTests",
            dependencies: ["Engine", "Compare", "SocketIOClient", "StateTeeTesting", "ScorerState", "Storage"],
            swiftSettings: swiftSettings
        ),
        .testTarget(name: "StateTeeConfigTests", dependencies: ["StateTeeConfig"], swiftSettings: swiftSettings),
    ]
)
