import BackpropNN
import FuzzSupport

/// libFuzzer's entry point: any bytes decompressed as gzip (capped at 16 MB of output); errors are fine.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ count: Int) -> CInt {
    let bytes = Array(UnsafeBufferPointer(start: data, count: count))
    _ = try? Gzip.decompress(bytes, maximumOutputCount: 16 << 20)
    _ = try? Gzip.decompressedPrefix(bytes, count: 1024)
    _ = try? Inflate.inflate(bytes, maximumOutputCount: 16 << 20)
    return 0
}

/// The executable's entry point as SwiftPM names it: hands the command line to libFuzzer.
@_cdecl("FuzzGzip_main")
public func fuzzMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    runFuzzer(argc, argv, fuzz)
}
