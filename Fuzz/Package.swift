// swift-tools-version: 6.0
// Coverage-guided fuzz targets for the project's parsers, built with libFuzzer by scripts/fuzz.sh
// (`-sanitize=fuzzer` is passed on that build's command line only, so the root package's build is untouched).
import PackageDescription

let targets = ["FuzzFormula", "FuzzSafeTensors", "FuzzIDX", "FuzzGzip", "FuzzNPY", "FuzzCSV", "FuzzCheckpoint", "FuzzTrainFlags"]

let package = Package(
    name: "BackpropFuzz",
    platforms: [.macOS(.v13)],
    dependencies: [.package(name: "Backprop", path: "..")],
    targets: [.target(name: "FuzzSupport")] + targets.map { name in
        .executableTarget(
            name: name,
            dependencies: [
                "FuzzSupport",
                .product(name: "BackpropNN", package: "Backprop"),
                .product(name: "BackpropTeaching", package: "Backprop"),
                .product(name: "BackpropCommandLine", package: "Backprop"),
            ])
    }
)
