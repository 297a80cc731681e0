// swift-tools-version: 6.0
import PackageDescription

let package = Package(
    name: "Backprop",
    platforms: [.macOS(.v13)],
    products: [
        .library(name: "Backprop", targets: ["Backprop"]),
        .library(name: "BackpropNN", targets: ["BackpropNN"]),
        .library(name: "BackpropTeaching", targets: ["BackpropTeaching"]),
        .library(name: "BackpropCommandLine", targets: ["BackpropCommandLine"]),
        .library(name: "BackpropFiles", targets: ["BackpropFiles"]),
        .executable(name: "backprop", targets: ["backprop"]),
        .executable(name: "backprop-bench", targets: ["backprop-bench"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
    ],
    targets: [
        // Hot kernels in C: functions carry target attributes (AVX2/FMA) and are chosen at run time,
        // so the package needs no unsafeFlags and stays usable as a dependency.
        .target(name: "CBackpropKernels"),
        // Tensors, primitives with their derivatives, the tape, transforms, gradient checking.
        .target(name: "Backprop", dependencies: ["CBackpropKernels"]),
        // Files written atomically (checkpoints, plots, graphs), with their temporary files cleaned up.
        .target(name: "BackpropFiles"),
        // Layers, losses, optimizers, data sets, checkpoints.
        .target(name: "BackpropNN", dependencies: ["Backprop", "BackpropFiles"], resources: [.copy("Resources/digits.csv")]),
        // The teaching side: expression language, lecture-style traces, graph export, gradient descent.
        .target(name: "BackpropTeaching", dependencies: ["Backprop", "BackpropFiles"]),
        // What the command-line tools share: `backprop train`'s flags and run (also `backprop-mpi train`'s,
        // in the Distributed package), data sources, progress display, user-error reporting.
        .target(
            name: "BackpropCommandLine",
            dependencies: ["BackpropNN", "BackpropFiles", .product(name: "ArgumentParser", package: "swift-argument-parser")]),
        .executableTarget(
            name: "backprop",
            dependencies: [
                "Backprop", "BackpropNN", "BackpropTeaching", "BackpropCommandLine",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        // The benchmark (workloads timed beside the peers' scripts, and the soak check), apart from the user's tool.
        // Resources/moons.csv: scikit-learn's make_moons(n_samples=100, noise=0.1, random_state=1), micrograd's demo data.
        .executableTarget(
            name: "backprop-bench",
            dependencies: [
                "Backprop", "BackpropNN", "BackpropCommandLine",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            resources: [.copy("Resources/moons.csv")]
        ),
        .testTarget(name: "BackpropTests", dependencies: ["Backprop"]),
        .testTarget(name: "BackpropFilesTests", dependencies: ["BackpropFiles"]),
        .testTarget(name: "BackpropNNTests", dependencies: ["BackpropNN", "BackpropFiles"], resources: [.copy("Fixtures")]),
        .testTarget(name: "BackpropTeachingTests", dependencies: ["BackpropTeaching"]),
        // The CLI's commands, parsed and run in-process: flags, files, exit-status mapping.
        .testTarget(name: "BackpropCLITests", dependencies: ["backprop", "BackpropNN", "BackpropCommandLine"]),
        // The benchmark tool's arguments and data files (not its timings: those belong to `backprop-bench` itself).
        .testTarget(name: "BackpropBenchTests", dependencies: ["backprop-bench", "BackpropCommandLine"]),
    ]
)

// The DocC catalogs are built with swift-docc-plugin (scripts/build_documentation.sh sets
// BACKPROP_DOCUMENTATION=1). SwiftPM compiles every plugin in the package graph at the start of a build, which
// cost about 10 CPU-seconds of every fresh build here and of every package depending on this one, so the
// plugin is a dependency only when the documentation is being built.
if Context.environment["BACKPROP_DOCUMENTATION"] != nil {
    package.dependencies.append(.package(url: "https://github.com/swiftlang/swift-docc-plugin", from: "1.5.0"))
}
