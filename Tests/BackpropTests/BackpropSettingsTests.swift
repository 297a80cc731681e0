@testable import Backprop
import Testing

/// `BackpropSettings`: every `BACKPROP_*` variable read in one place, bad values ignored with a warning that
/// names them, the former `BP_DISABLE_*` names honoured with a deprecation warning.
@Suite struct BackpropSettingsTests {
    @Test func defaultsWhenNothingIsSet() {
        let settings = BackpropSettings(environment: [:], usableProcessors: 3)
        #expect(settings.threadCount == 3)
        #expect(settings.allowsAVX2 && settings.allowsAVX512)
        #expect(settings.retainedMemory == 512 << 20)
        #expect(!settings.printsCompiledPrograms)
        #expect(settings.warnings.isEmpty)
    }

    @Test func everyVariableIsRead() {
        let settings = BackpropSettings(environment: [
            "BACKPROP_THREADS": "5", "BACKPROP_DISABLE_AVX512": "1", "BACKPROP_RETAINED_MEMORY": "0",
            "BACKPROP_DEBUG_COMPILE": "",
        ], usableProcessors: 2)
        #expect(settings.threadCount == 5)
        #expect(settings.allowsAVX2 && !settings.allowsAVX512)
        #expect(settings.retainedMemory == 0)
        #expect(settings.printsCompiledPrograms)
        #expect(settings.warnings.isEmpty)
        // Without AVX2 there is no AVX-512 either.
        let portable = BackpropSettings(environment: ["BACKPROP_DISABLE_AVX2": "yes"], usableProcessors: 2)
        #expect(!portable.allowsAVX2 && !portable.allowsAVX512)
    }

    @Test func badValuesAreIgnoredWithAWarningNamingThem() {
        let settings = BackpropSettings(
            environment: ["BACKPROP_THREADS": "many", "BACKPROP_RETAINED_MEMORY": "-5"], usableProcessors: 2)
        #expect(settings.threadCount == 2)
        #expect(settings.retainedMemory == 512 << 20)
        #expect(settings.warnings.count == 2)
        #expect(settings.warnings.contains { $0.contains("BACKPROP_THREADS=many ") })
        #expect(settings.warnings.contains { $0.contains("BACKPROP_RETAINED_MEMORY=-5 ") })
    }

    @Test func formerNamesAreHonouredWithADeprecationWarning() {
        let avx512 = BackpropSettings(environment: ["BP_DISABLE_AVX512": "1"], usableProcessors: 2)
        #expect(avx512.allowsAVX2 && !avx512.allowsAVX512)
        #expect(avx512.warnings == ["BP_DISABLE_AVX512 is deprecated; set BACKPROP_DISABLE_AVX512 instead (honoured this time)"])
        let avx2 = BackpropSettings(environment: ["BP_DISABLE_AVX2": "1"], usableProcessors: 2)
        #expect(!avx2.allowsAVX2 && !avx2.allowsAVX512)
        #expect(avx2.warnings.count == 1 && avx2.warnings[0].contains("set BACKPROP_DISABLE_AVX2 instead"))
        // The new name set as well: no warning needed.
        let both = BackpropSettings(environment: ["BP_DISABLE_AVX2": "1", "BACKPROP_DISABLE_AVX2": "1"], usableProcessors: 2)
        #expect(both.warnings.isEmpty)
    }

    @Test func theProcessSettingsDecideTheThreadCount() {
        #expect(parallelThreadCount == BackpropSettings.current.threadCount)
        #expect(parallelThreadCount >= 1)
    }
}
