// The library's settings from the environment: every BACKPROP_* variable it honours, read in one place,
// once. docs/settings.md lists them for users.
import CBackpropKernels
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#elseif canImport(Musl)
import Musl
#endif

/// The settings the library takes from environment variables, all named `BACKPROP_*`.
///
/// The process's settings are read once, the first time the library needs one (``current``), and do not
/// change afterwards. Nothing is applied when the library is loaded: the thread count and the kernel path
/// take effect when the first parallel loop or kernel asks for them, and the memory bound only when a
/// program applies it with ``TensorMemory/retainFreedMemory(upTo:)`` (the command-line tools do so at start).
///
/// | Variable | Meaning | Default |
/// | --- | --- | --- |
/// | `BACKPROP_THREADS` | threads for large products, elementwise loops and convolutions (1...1024) | the processors the process may run on |
/// | `BACKPROP_DISABLE_AVX2` | any value: run the portable C kernels | unset |
/// | `BACKPROP_DISABLE_AVX512` | any value: run the AVX2 kernels where AVX-512 exists | unset |
/// | `BACKPROP_RETAINED_MEMORY` | bytes of freed memory to keep for reuse (0: the C library's behaviour) | 536870912 (512 MB) |
/// | `BACKPROP_DEBUG_COMPILE` | any value: print each compiled program | unset |
///
/// The former names `BP_DISABLE_AVX2` and `BP_DISABLE_AVX512` are still honoured, with a one-line
/// deprecation warning on standard error naming the new variable.
public struct BackpropSettings: Sendable, Equatable {
    /// How many threads large products, elementwise loops and convolutions are split over
    /// (`BACKPROP_THREADS`, else the processors the process may run on).
    public var threadCount: Int
    /// Whether the kernels may take their vector path, AVX2+FMA on x86-64 or NEON on arm64 (false when
    /// `BACKPROP_DISABLE_AVX2` is set). The CPU must also support it.
    public var allowsAVX2: Bool
    /// Whether the kernels that have an AVX-512 version may take it (false when `BACKPROP_DISABLE_AVX512` or
    /// `BACKPROP_DISABLE_AVX2` is set). The CPU must also support it.
    public var allowsAVX512: Bool
    /// The bytes of freed memory a program keeps for later tensors when it applies this setting with
    /// `TensorMemory.retainFreedMemory(upTo:)` (`BACKPROP_RETAINED_MEMORY`, else 512 MB; 0 keeps the C
    /// library's behaviour).
    public var retainedMemory: Int
    /// Whether compiled programs are printed as they are built (`BACKPROP_DEBUG_COMPILE`).
    public var printsCompiledPrograms: Bool
    /// One line for each variable that was set to a value the library could not use (and ignored) or under
    /// a deprecated name; printed on standard error when ``current`` is first read.
    public var warnings: [String]

    /// The default for ``retainedMemory``: 512 MB.
    public static let defaultRetainedMemory = 512 << 20

    /// Reads the settings from `environment` (variable names to values), on a machine where the process
    /// may run on `usableProcessors` processors.
    public init(environment: [String: String], usableProcessors: Int) {
        var warnings: [String] = []
        let (threads, threadProblem) = Backprop.threadCount(setting: environment["BACKPROP_THREADS"], online: usableProcessors)
        if let threadProblem { warnings.append(threadProblem) }
        threadCount = threads

        func flag(_ name: String, formerly former: String) -> Bool {
            if environment[name] != nil { return true }
            guard environment[former] != nil else { return false }
            warnings.append("\(former) is deprecated; set \(name) instead (honoured this time)")
            return true
        }
        allowsAVX2 = !flag("BACKPROP_DISABLE_AVX2", formerly: "BP_DISABLE_AVX2")
        allowsAVX512 = !flag("BACKPROP_DISABLE_AVX512", formerly: "BP_DISABLE_AVX512") && allowsAVX2

        retainedMemory = Self.defaultRetainedMemory
        if let setting = environment["BACKPROP_RETAINED_MEMORY"], !setting.isEmpty {
            if let bytes = Int(setting), bytes >= 0 {
                retainedMemory = bytes
            } else {
                warnings.append("BACKPROP_RETAINED_MEMORY=\(setting) is not a whole number of bytes; "
                    + "keeping \(Self.defaultRetainedMemory)")
            }
        }
        printsCompiledPrograms = environment["BACKPROP_DEBUG_COMPILE"] != nil
        self.warnings = warnings
    }

    /// The process's settings, read from its environment the first time they are needed. Reading them
    /// prints their ``warnings`` on standard error and hands the kernel path to the C kernels.
    public static let current: BackpropSettings = {
        let names = [
            "BACKPROP_THREADS", "BACKPROP_DISABLE_AVX2", "BACKPROP_DISABLE_AVX512", "BACKPROP_RETAINED_MEMORY",
            "BACKPROP_DEBUG_COMPILE", "BP_DISABLE_AVX2", "BP_DISABLE_AVX512",
        ]
        var environment: [String: String] = [:]
        for name in names {
            if let value = getenv(name) { environment[name] = String(cString: value) }
        }
        let settings = BackpropSettings(environment: environment, usableProcessors: Int(bp_usable_processors()))
        for warning in settings.warnings {
            // Standard error, unbuffered (the C `stderr` global is not concurrency-safe to name from Swift).
            let line = Array("backprop: \(warning)\n".utf8)
            _ = line.withUnsafeBufferPointer { write(2, $0.baseAddress, $0.count) }
        }
        bp_kernels_limit_path(settings.allowsAVX512 ? 2 : settings.allowsAVX2 ? 1 : 0)
        return settings
    }()
}

/// The thread count for a `BACKPROP_THREADS` setting (nil when unset) on a machine with `online`
/// processors, and a warning when the setting is not a whole number from 1 to 1024 (it is then ignored).
func threadCount(setting: String?, online: Int) -> (count: Int, problem: String?) {
    guard let setting else { return (online, nil) }
    if let n = Int(setting), (1...1024).contains(n) { return (n, nil) }
    return (online, "BACKPROP_THREADS=\(setting) is not a whole number from 1 to 1024; using \(online) threads")
}

/// How many threads large products, elementwise loops and convolutions are split over: the settings'
/// `threadCount`, kept apart so that hot loops read one integer (the first read also applies the settings'
/// kernel path).
package let parallelThreadCount: Int = BackpropSettings.current.threadCount

/// Reads the settings if they have not been read yet, so that the kernel path they allow is in force before
/// a kernel runs (every `_ScalarKernels` member of Float and Double calls it; after the first read it costs
/// one check).
@inline(__always) func useKernelSettings() { _ = parallelThreadCount }

/// The former name of `parallelThreadCount`, still read by the compiled-program code.
var gemmThreadCount: Int { parallelThreadCount }
