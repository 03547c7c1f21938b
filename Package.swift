// swift-tools-version:6.0
import PackageDescription

// GSL is linked statically (`libgsl.a`) and its CBLAS calls resolve to OpenBLAS: the shared
// `libgsl.so` on Debian carries a NEEDED entry for the slow reference `libgslcblas`, which would
// then be loaded too (ARCHITECTURE.md, `CGSL`). `ldd .build/release/gauntlet` shows OpenBLAS only.
let numericLinking: [LinkerSetting] = [
    .unsafeFlags(["-Xlinker", "-l:libgsl.a"]),
    .linkedLibrary("openblas"),
    .linkedLibrary("m"),
]

// MuJoCo 3.3.7 from the PyPI wheel, unpacked into .deps/ by scripts/install-wheel-libraries.sh (setup.sh
// and .ci/run call it); the rpath lets the binaries find it without environment variables.
let mujocoLibrary = Context.packageDirectory + "/.deps/mujoco-3.3.7/lib"
let mujocoLinking: [LinkerSetting] = [
    .linkedLibrary("mujoco"),
    .unsafeFlags(["-L" + mujocoLibrary, "-Xlinker", "-rpath", "-Xlinker", mujocoLibrary]),
]

// HiGHS 1.15.1 from its binary distribution on PyPI (`highsbox`), unpacked into .deps/ by the same
// script. Its headers include each other relative to their `highs` folder (its pkg-config file
// says `-I include/highs`), hence the search path for C and for the Swift module that imports it.
let highsLibrary = Context.packageDirectory + "/.deps/highs-1.15.1/lib"
let highsHeaders: [SwiftSetting] = [
    .unsafeFlags(["-Xcc", "-I" + Context.packageDirectory + "/.deps/highs-1.15.1/include/highs"])
]
let highsLinking: [LinkerSetting] = [
    .linkedLibrary("highs"),
    .unsafeFlags(["-L" + highsLibrary, "-Xlinker", "-rpath", "-Xlinker", highsLibrary]),
]

let package = Package(
    name: "Gauntlet",
    products: [
        .executable(name: "gauntlet", targets: ["gauntlet"]),
        .library(name: "Linalg", targets: ["Linalg"]),
        .library(name: "NeuralNet", targets: ["NeuralNet"]),
        .library(name: "Environments", targets: ["Environments"]),
        .library(name: "Agents", targets: ["Agents"]),
        .library(name: "Verification", targets: ["Verification"]),
        .library(name: "Attacks", targets: ["Attacks"]),
        .library(name: "Defenses", targets: ["Defenses"]),
        .library(name: "Evaluation", targets: ["Evaluation"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-numerics", from: "1.1.1"),
        .package(url: "https://github.com/x-sheep/swift-property-based", from: "2.0.1"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.2.2"),
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.10.0"),
        .package(url: "https://github.com/weichsel/ZIPFoundation", from: "0.9.20"),
    ],
    targets: [
        .systemLibrary(name: "CGSL"),
        .target(name: "CKernels"),
        .target(name: "CMuJoCo", linkerSettings: mujocoLinking),
        .target(name: "CHiGHS", cSettings: [.headerSearchPath("include/highs")], linkerSettings: highsLinking),
        .target(name: "CSharedMemory"),
        .target(
            name: "Linalg",
            dependencies: ["CGSL", "CKernels", .product(name: "RealModule", package: "swift-numerics")],
            linkerSettings: numericLinking),
        .target(name: "NeuralNet", dependencies: ["Linalg", "CKernels", "ZIPFoundation"]),
        .target(name: "Environments", dependencies: ["Linalg", "CMuJoCo", "CSharedMemory"]),
        .target(name: "Agents", dependencies: ["NeuralNet", "Environments", "Yams", "ZIPFoundation"]),
        .target(name: "Verification", dependencies: ["Agents", "NeuralNet", "Linalg", "CHiGHS"], swiftSettings: highsHeaders),
        .target(name: "Attacks", dependencies: ["Agents", "Verification"]),
        .target(name: "Defenses", dependencies: ["Attacks"]),
        .target(
            name: "Evaluation",
            dependencies: [
                "Defenses", "Attacks", "Agents", "Environments", "Verification", "Yams",
                .product(name: "GRDB", package: "GRDB.swift"),
            ]),
        .executableTarget(
            name: "gauntlet",
            dependencies: [
                "Evaluation", .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]),

        .target(name: "TestSupport", dependencies: ["Linalg", "ZIPFoundation"], path: "Tests/TestSupport"),
        .testTarget(
            name: "LinalgTests",
            dependencies: [
                "Linalg", "TestSupport",
                .product(name: "PropertyBased", package: "swift-property-based"),
            ]),
        .testTarget(
            name: "EnvironmentsTests",
            dependencies: [
                "Environments", "TestSupport",
                .product(name: "PropertyBased", package: "swift-property-based"),
            ]),
        .testTarget(name: "AgentsTests", dependencies: ["Agents", "Defenses", "Evaluation", "TestSupport"]),
        .testTarget(
            name: "AttacksTests",
            dependencies: [
                "Attacks", "Agents", "Defenses", "Evaluation", "TestSupport",
                .product(name: "PropertyBased", package: "swift-property-based"),
            ]),
        .testTarget(
            name: "EvaluationTests",
            dependencies: ["Evaluation", "Attacks", "Agents", "Environments", "NeuralNet", "Verification", "TestSupport"]),
        .testTarget(name: "GauntletCLITests", dependencies: ["gauntlet", "TestSupport"]),
        .testTarget(name: "VerificationTests", dependencies: ["Verification", "NeuralNet", "Linalg", "TestSupport"]),
        .testTarget(
            name: "DefensesTests",
            dependencies: [
                "Defenses", "Attacks", "Agents", "Environments", "NeuralNet", "Linalg", "Evaluation", "Verification",
                "TestSupport",
            ]),
        .testTarget(name: "FuzzTests", dependencies: ["Evaluation", "Agents", "Environments", "NeuralNet", "TestSupport"]),
        .testTarget(
            name: "NeuralNetTests",
            dependencies: [
                "NeuralNet", "TestSupport",
                .product(name: "PropertyBased", package: "swift-property-based"),
            ]),
    ]
)
