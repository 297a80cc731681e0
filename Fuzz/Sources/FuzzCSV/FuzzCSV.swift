import BackpropNN
import FuzzSupport

/// libFuzzer's entry point: any bytes read as a labelled numeric CSV file; errors are fine, traps are not.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ count: Int) -> CInt {
    let bytes = Array(UnsafeBufferPointer(start: data, count: count))
    _ = try? Dataset<Float>(csvBytes: bytes)
    _ = try? Dataset<Float>(csvBytes: bytes, labelColumn: 0, hasHeader: true, labelKind: .classes)
    return 0
}

/// The executable's entry point as SwiftPM names it: hands the command line to libFuzzer.
@_cdecl("FuzzCSV_main")
public func fuzzMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    runFuzzer(argc, argv, fuzz)
}
