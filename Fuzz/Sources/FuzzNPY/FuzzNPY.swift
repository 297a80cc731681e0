import BackpropNN
import FuzzSupport

/// libFuzzer's entry point: any bytes read as a .npy file; errors are fine, traps are not.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ count: Int) -> CInt {
    if let array = try? NPYArray(bytes: Array(UnsafeBufferPointer(start: data, count: count))), array.count < 1 << 20 {
        _ = array.tensor(as: Double.self)
        _ = array.integers()
    }
    return 0
}

/// The executable's entry point as SwiftPM names it: hands the command line to libFuzzer.
@_cdecl("FuzzNPY_main")
public func fuzzMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    runFuzzer(argc, argv, fuzz)
}
