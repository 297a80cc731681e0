import BackpropNN
import CMPI

/// An error returned by an MPI call (the world communicator uses `MPI_ERRORS_RETURN`, so a dead peer
/// surfaces here instead of aborting or hanging silently).
public struct MPIError: Error, CustomStringConvertible {
    /// The MPI call that failed.
    public let operation: String
    /// MPI's error code.
    public let code: Int32
    /// MPI's own text for the code.
    public var description: String {
        var buffer = [CChar](repeating: 0, count: Int(MPI_MAX_ERROR_STRING) + 1)
        var length: Int32 = 0
        MPI_Error_string(code, &buffer, &length)
        let text = String(decoding: buffer.prefix(Int(length)).map { UInt8(bitPattern: $0) }, as: UTF8.self)
        return "\(operation) failed: \(text) (MPI error \(code))"
    }
}

/// The MPI world: this process's rank, the number of processes, and the collectives data-parallel
/// training needs. Create one per process (it calls `MPI_Init`) and call `finalize()` at the end.
public final class Communicator {
    /// This process's rank, 0 ..< size.
    public let rank: Int
    /// The number of processes in the job.
    public let size: Int
    /// When set, every collective runs under this watchdog: a collective that does not complete in time, or
    /// a SIGTERM from the launcher, ends the process with a message instead of a hang.
    public var watchdog: CollectiveWatchdog?

    /// Initialises MPI and switches the world communicator to `MPI_ERRORS_RETURN`.
    public init() throws {
        var initialized: Int32 = 0
        MPI_Initialized(&initialized)
        if initialized == 0 { try Communicator.check("MPI_Init", MPI_Init(nil, nil)) }
        try Communicator.check(
            "MPI_Comm_set_errhandler", MPI_Comm_set_errhandler(cmpi_comm_world(), cmpi_errors_return()))
        var r: Int32 = 0
        var s: Int32 = 0
        try Communicator.check("MPI_Comm_rank", MPI_Comm_rank(cmpi_comm_world(), &r))
        try Communicator.check("MPI_Comm_size", MPI_Comm_size(cmpi_comm_world(), &s))
        rank = Int(r)
        size = Int(s)
    }

    /// Whether this is rank 0 (the one that prints and writes checkpoints).
    public var isRoot: Bool { rank == 0 }

    /// Shuts MPI down; call once, after the last collective.
    public func finalize() { MPI_Finalize() }

    /// Sums `values` over all ranks in place (every rank ends with the same sums).
    public func allreduceSum(_ values: inout [Double]) throws {
        let count = Int32(values.count)
        try values.withUnsafeMutableBufferPointer { buffer in
            try collective("MPI_Allreduce") {
                MPI_Allreduce(cmpi_in_place(), buffer.baseAddress, count, cmpi_double(), cmpi_sum(), cmpi_comm_world())
            }
        }
    }

    /// Sums `values` over all ranks in place.
    public func allreduceSum(_ values: inout [Float]) throws {
        let count = Int32(values.count)
        try values.withUnsafeMutableBufferPointer { buffer in
            try collective("MPI_Allreduce") {
                MPI_Allreduce(cmpi_in_place(), buffer.baseAddress, count, cmpi_float(), cmpi_sum(), cmpi_comm_world())
            }
        }
    }

    /// Replaces `values` on every rank with rank 0's.
    public func broadcast(_ values: inout [Float]) throws {
        let count = Int32(values.count)
        try values.withUnsafeMutableBufferPointer { buffer in
            try collective("MPI_Bcast") { MPI_Bcast(buffer.baseAddress, count, cmpi_float(), 0, cmpi_comm_world()) }
        }
    }

    /// Replaces `values` on every rank with rank 0's.
    public func broadcast(_ values: inout [Double]) throws {
        let count = Int32(values.count)
        try values.withUnsafeMutableBufferPointer { buffer in
            try collective("MPI_Bcast") { MPI_Bcast(buffer.baseAddress, count, cmpi_double(), 0, cmpi_comm_world()) }
        }
    }

    /// Waits until every rank arrives.
    public func barrier() throws { try collective("MPI_Barrier") { MPI_Barrier(cmpi_comm_world()) } }

    /// Runs one MPI collective, under the watchdog when there is one, and turns its error code into `MPIError`.
    func collective(_ operation: String, _ call: () -> Int32) throws {
        let code = watchdog.map { $0.watching(call) } ?? call()
        try Communicator.check(operation, code)
    }

    static func check(_ operation: String, _ code: Int32) throws {
        if code != MPI_SUCCESS { throw MPIError(operation: operation, code: code) }
    }
}
