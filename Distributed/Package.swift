// swift-tools-version: 6.0
// Data-parallel training over MPI, kept out of the root package so that `swift build` and `swift test`
// at the repository root never need Open MPI. This package depends on the root by path.
import PackageDescription

let package = Package(
    name: "BackpropDistributed",
    products: [
        .library(name: "BackpropDistributed", targets: ["BackpropDistributed"]),
        .executable(name: "backprop-mpi", targets: ["backprop-mpi"]),
    ],
    dependencies: [
        .package(name: "Backprop", path: ".."),
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
    ],
    targets: [
        // Debian's Open MPI (libopenmpi-dev): headers and libmpi found through pkg-config's ompi-c.
        .systemLibrary(
            name: "CMPI", pkgConfig: "ompi-c",
            providers: [.apt(["libopenmpi-dev", "openmpi-bin"])]),
        // Rank, size, allreduce of a step's gradients, broadcast of parameters.
        .target(
            name: "BackpropDistributed",
            dependencies: ["CMPI", .product(name: "BackpropNN", package: "Backprop"), .product(name: "BackpropFiles", package: "Backprop")]),
        // The MPI executable: `train` (backprop train's flags, data parallel), the hand-written loop `check`,
        // and the allreduce benchmark.
        .executableTarget(
            name: "backprop-mpi",
            dependencies: [
                "BackpropDistributed", .product(name: "BackpropNN", package: "Backprop"),
                .product(name: "BackpropCommandLine", package: "Backprop"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]),
        // The DistributedTraining article's hand-written loop, exactly as the article prints it.
        .executableTarget(
            name: "DataParallelLoop",
            dependencies: ["BackpropDistributed", .product(name: "BackpropNN", package: "Backprop")]),
    ]
)
