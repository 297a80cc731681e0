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
        // A model of one's own, the new way: a regression on noisy sin(3x), saved and loaded.
        .executableTarget(name: "SineRegression", dependencies: [.product(name: "BackpropNN", package: "Backprop")]),
        // A classifier of one's own trained with backward() and zeroGradients().
        .executableTarget(name: "CustomClassifier", dependencies: [.product(name: "BackpropNN", package: "Backprop")]),
    ]
)
