// swift-tools-version: 6.0
// Runnable examples against the Backprop library alone: `cd Examples && swift run LogisticRegression`.
import PackageDescription

let package = Package(
    name: "BackpropExamples",
    platforms: [.macOS(.v13)],
    dependencies: [.package(name: "Backprop", path: "..")],
    targets: [
        .executableTarget(
            name: "LogisticRegression", dependencies: [.product(name: "BackpropNN", package: "Backprop")]),
        .executableTarget(name: "DigitsMLP", dependencies: [.product(name: "BackpropNN", package: "Backprop")]),
    ]
)
