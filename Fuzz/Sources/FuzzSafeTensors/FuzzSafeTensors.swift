import BackpropNN
import FuzzSupport

/// libFuzzer's entry point: any bytes read as a safetensors file; errors are fine, traps are not.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ count: Int) -> CInt {
    if let file = try? SafeTensorsFile(bytes: Array(UnsafeBufferPointer(start: data, count: count))) {
        for name in file.tensors.keys.prefix(4) { _ = file.tensors[name]?.tensor(as: Float.self) }
    }
    return 0
}

/// The executable's entry point as SwiftPM names it: hands the command line to libFuzzer.
@_cdecl("FuzzSafeTensors_main")
public func fuzzMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    runFuzzer(argc, argv, fuzz)
}
