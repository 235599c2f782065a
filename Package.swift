// swift-tools-version:6.0
import PackageDescription

// The numeric libraries are compiled optimized even in debug builds: the test suite converts
// real models, which takes minutes unoptimized and seconds optimized.
let optimized: [SwiftSetting] = [.unsafeFlags(["-O"])]

let package = Package(
    name: "qpack",
    products: [
        .executable(name: "qpack", targets: ["qpack"]),
        .library(name: "QPackReaders", targets: ["QPackReaders"]),
    ],
    // Exact versions instead of a committed Package.resolved: the offline package mirrors this
    // project builds from carry their own commit ids, so a resolved file would not travel.
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", exact: "1.8.2"),
        .package(url: "https://github.com/jpsim/Yams", exact: "6.2.2"),
    ],
    targets: [
        // System libraries named by the design (Debian: libzstd-dev, libjson-c-dev).
        .systemLibrary(name: "CZstd", pkgConfig: "libzstd", providers: [.apt(["libzstd-dev"])]),
        .systemLibrary(name: "CJSONC", pkgConfig: "json-c", providers: [.apt(["libjson-c-dev"])]),

        .target(name: "QPackModel", exclude: ["README.md"]),
        .target(name: "QPackTokenizers", dependencies: ["QPackModel", "CQPackRuntime"], exclude: ["README.md"]),
        .target(name: "CQPackHash"),
        .target(name: "CQPackFiles"),
        .target(
            name: "QPackBinary", dependencies: ["QPackModel", "CQPackHash", "CQPackFiles"], exclude: ["README.md"],
            swiftSettings: optimized),
        .target(
            name: "QPackCompression", dependencies: ["CZstd", "QPackBinary", "QPackModel"], exclude: ["README.md"]),
        .target(
            name: "QPackReaders", dependencies: ["QPackBinary", "QPackModel"], exclude: ["README.md"],
            swiftSettings: optimized),
        .target(name: "CQPackQuantKernels", cSettings: [.unsafeFlags(["-O3", "-ffp-contract=off"])]),
        .target(
            name: "QPackQuant", dependencies: ["QPackModel", "QPackPacking", "CQPackQuantKernels"],
            exclude: ["README.md"], swiftSettings: optimized),
        .target(name: "QPackPacking", dependencies: ["QPackModel"], exclude: ["README.md"], swiftSettings: optimized),
        .target(
            name: "QPackPlanning",
            dependencies: ["QPackModel", "QPackBinary", "QPackPacking", .product(name: "Yams", package: "Yams")],
            exclude: ["README.md"]
        ),
        .target(
            name: "QPackContainer",
            dependencies: ["QPackBinary", "QPackCompression", "QPackModel", "QPackPacking"],
            exclude: ["README.md"],
            swiftSettings: optimized
        ),
        .target(
            name: "QPackConvert",
            dependencies: [
                "QPackContainer", "QPackReaders", "QPackPlanning", "QPackQuant", "QPackPacking", "QPackModel",
                "QPackBinary",
                "QPackCalibration",
            ],
            exclude: ["README.md"],
            swiftSettings: optimized
        ),
        .target(
            name: "QPackVerify",
            dependencies: [
                "CQPackRuntime", "QPackContainer", "QPackConvert", "QPackReaders", "QPackTokenizers", "QPackBinary",
                "QPackPacking", "QPackModel",
            ],
            exclude: ["README.md"]
        ),
        .target(
            name: "QPackCalibration", dependencies: ["QPackBinary", "QPackModel"], exclude: ["README.md"],
            swiftSettings: optimized),
        .target(
            name: "QPackCalibrate",
            dependencies: [
                "QPackCalibration", "QPackVerify", "QPackConvert", "QPackContainer", "QPackReaders", "QPackTokenizers",
                "QPackPlanning", "QPackPacking", "QPackModel", "QPackBinary", "CQPackRuntime",
            ],
            exclude: ["README.md"],
            swiftSettings: optimized
        ),
        .target(
            name: "QPackInspect",
            dependencies: ["QPackReaders", "QPackBinary", "QPackModel", "QPackContainer", "QPackConvert"],
            exclude: ["README.md"]
        ),
        .target(
            name: "CQPackRuntime",
            dependencies: ["CJSONC", "CZstd", "CQPackHash"],
            exclude: ["README.md"],
            cSettings: [.unsafeFlags(["-O2", "-ffp-contract=off"])]
        ),
        .target(
            name: "QPackCommands",
            dependencies: [
                "QPackInspect", "QPackReaders", "QPackPlanning", "QPackConvert", "QPackVerify", "QPackCalibrate",
                "QPackCalibration", "QPackTokenizers", "QPackQuant", "QPackPacking", "QPackModel", "QPackBinary",
                "QPackCompression", "CQPackRuntime",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            exclude: ["README.md"]
        ),
        .executableTarget(name: "qpack", dependencies: ["QPackCommands"]),
        .target(
            name: "QPackFuzz",
            dependencies: [
                "QPackCommands", "QPackBinary", .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]),
        .executableTarget(
            name: "qpack-fuzz",
            dependencies: ["QPackFuzz", .product(name: "ArgumentParser", package: "swift-argument-parser")]),
        .executableTarget(
            name: "qpack-bench",
            dependencies: ["QPackVerify", "QPackContainer", "QPackReaders", "QPackTokenizers", "CQPackRuntime"]
        ),

        .target(name: "QPackTestSupport", dependencies: ["QPackBinary"], path: "Tests/QPackTestSupport"),
        .testTarget(name: "QPackBinaryTests", dependencies: ["QPackBinary", "QPackModel", "QPackTestSupport"]),
        .testTarget(name: "QPackCompressionTests", dependencies: ["QPackCompression"]),
        .testTarget(
            name: "QPackReadersTests", dependencies: ["QPackReaders", "QPackBinary", "QPackModel", "QPackTestSupport"]),
        .testTarget(
            name: "QPackInspectTests",
            dependencies: [
                "QPackInspect", "QPackReaders", "QPackBinary", "QPackContainer", "QPackConvert", "QPackPlanning",
                "QPackTestSupport",
            ]
        ),
        .testTarget(
            name: "QPackPlanningTests",
            dependencies: [
                "QPackPlanning", "QPackConvert", "QPackModel", "QPackPacking", "QPackReaders", "QPackTestSupport",
            ]
        ),
        .testTarget(
            name: "QPackQuantTests", dependencies: ["QPackQuant", "QPackModel", "QPackBinary", "QPackTestSupport"]),
        .testTarget(
            name: "QPackPackingTests",
            dependencies: ["QPackPacking", "QPackQuant", "QPackModel", "QPackBinary", "QPackTestSupport"]),
        .testTarget(
            name: "QPackConvertTests",
            dependencies: [
                "QPackConvert", "QPackContainer", "QPackPlanning", "QPackReaders", "QPackQuant", "QPackPacking",
                "QPackBinary", "QPackModel", "QPackTestSupport",
            ]
        ),
        .testTarget(
            name: "QPackRuntimeTests",
            dependencies: [
                "CQPackRuntime", "QPackPacking", "QPackModel", "QPackBinary", "QPackContainer", "QPackConvert",
                "QPackPlanning", "QPackReaders", "QPackTestSupport", "QPackCalibration", "QPackVerify",
            ]
        ),
        .testTarget(
            name: "QPackTokenizersTests",
            dependencies: ["QPackTokenizers", "QPackReaders", "QPackBinary", "QPackTestSupport"]),
        .testTarget(
            name: "QPackVerifyTests",
            dependencies: [
                "QPackVerify", "QPackContainer", "QPackConvert", "QPackPlanning", "QPackReaders", "QPackTokenizers",
                "QPackBinary", "QPackTestSupport", "CQPackRuntime",
            ]
        ),
        .testTarget(
            name: "QPackCalibrateTests",
            dependencies: [
                "QPackCalibrate", "QPackCalibration", "QPackVerify", "QPackContainer", "QPackConvert", "QPackPlanning",
                "QPackReaders", "QPackBinary", "QPackTestSupport", "CQPackRuntime", "QPackQuant",
            ]
        ),
        .testTarget(name: "QPackCalibrationTests", dependencies: ["QPackCalibration", "QPackBinary"]),
        .testTarget(
            name: "QPackCommandsTests",
            dependencies: ["QPackBinary", "QPackCommands", "QPackContainer", "QPackModel", "QPackTestSupport"]),
    ],
    swiftLanguageModes: [.v6]
)
