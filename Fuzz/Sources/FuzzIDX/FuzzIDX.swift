import BackpropNN
import FuzzSupport

/// libFuzzer's entry point: any bytes read as an IDX file (gzip-compressed or not); errors are fine.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ count: Int) -> CInt {
    if let array = try? IDXArray(bytes: Array(UnsafeBufferPointer(start: data, count: count))), array.count < 1 << 20 {
        _ = array.tensor(as: Float.self)
        _ = array.integers()
    }
    return 0
}

/// The executable's entry point as SwiftPM names it: hands the command line to libFuzzer.
@_cdecl("FuzzIDX_main")
public func fuzzMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    runFuzzer(argc, argv, fuzz)
}
