// Which code the C kernels run: AVX-512 (where the CPU has it and a kernel has such a version), AVX2+FMA, or
// the portable C. The best one the CPU supports is chosen automatically; tests pin a path per thread to check
// each one on one machine.
import CBackpropKernels

/// A family of kernel implementations.
enum KernelPath: Int32, Sendable, CaseIterable, CustomStringConvertible {
    /// Plain C, on every CPU.
    case portable = 0
    /// AVX2+FMA on x86-64 (NEON on arm64).
    case avx2 = 1
    /// AVX-512 for the kernels that have it (GEMM, the narrow products, vector math, the tile interpreter,
    /// pooling, patches; the others run their AVX2 code); x86-64 only. Where 512-bit operations run as two
    /// halves (Zen 4) the double GEMM and the tile interpreter keep their AVX2 code, unless a thread pins this
    /// path by name.
    case avx512 = 2

    /// Whether this CPU can run the path.
    var isSupported: Bool {
        switch self {
        case .portable: true
        case .avx2: bp_cpu_has_vector_kernels() != 0
        case .avx512: bp_cpu_has_avx512() != 0
        }
    }

    var description: String { ["portable", "avx2", "avx512"][Int(rawValue)] }
}

/// Makes later kernel calls on this thread (and the workers it starts) use `path` when the CPU supports it
/// (else the best supported path below it); nil restores the automatic choice. Results are correct either
/// way; this only changes speed and rounding order, and never what other threads compute.
func setKernelPath(_ path: KernelPath?) { bp_kernels_set_use_avx2(path?.rawValue ?? -1) }

/// This thread's kernel-path override, or nil when it uses the automatic choice.
var kernelPathOverride: KernelPath? {
    let value = bp_kernels_avx2_override()
    return value < 0 ? nil : KernelPath(rawValue: value)
}
