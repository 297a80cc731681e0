// Which code the C kernels run: the AVX2+FMA versions (chosen automatically when the CPU has them) or the
// portable ones. Exposed so tests can check both paths on one machine.
import CBackpropKernels

/// Whether the kernels currently run their AVX2+FMA code.
var kernelsUseAVX2: Bool { bp_kernels_use_avx2() != 0 }

/// Makes later kernel calls on this thread (and the GEMM workers it starts) use the AVX2+FMA code when
/// `enabled` and the CPU supports it, else the portable code; nil restores the automatic choice. Results are
/// correct either way; this only changes speed and rounding order, and never what other threads compute.
func setKernelsUseAVX2(_ enabled: Bool?) { bp_kernels_set_use_avx2(enabled.map { $0 ? 1 : 0 } ?? -1) }

/// This thread's kernel-path override, or nil when it uses the automatic choice.
var kernelPathOverride: Bool? {
    let value = bp_kernels_avx2_override()
    return value < 0 ? nil : value != 0
}

/// Whether this CPU can run the vector kernels at all (AVX2+FMA on x86-64, NEON on arm64).
var cpuSupportsAVX2FMA: Bool { bp_cpu_has_vector_kernels() != 0 }
