// backprop-mpi: data-parallel training over MPI. Run under `mpirun --allow-run-as-root --oversubscribe -np N`.
import ArgumentParser
import BackpropCommandLine
import Foundation

/// The `backprop-mpi` tool: `train` (the flags of `backprop train`, one process a rank), `check` (a
/// hand-written data-parallel loop over the library API), `bench-allreduce` (loopback allreduce timings).
///
/// Exit status as `backprop`'s: 0 on success, 2 for a user error, 1 when a run fails (a peer died, a
/// collective timed out, training diverged). Every message names the rank it comes from.
struct BackpropMPI: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "backprop-mpi",
        abstract: "Data-parallel training over MPI (run it under mpirun -np N).",
        subcommands: [MPITrainCommand.self, CheckCommand.self, BenchAllreduceCommand.self])
}

/// The rank as the launcher tells it (Open MPI, MPICH), for messages printed before or without MPI.
let launcherRank = ProcessInfo.processInfo.environment["OMPI_COMM_WORLD_RANK"]
    ?? ProcessInfo.processInfo.environment["PMI_RANK"]
BackpropMPI.mainReportingErrors(prefix: "backprop-mpi: " + (launcherRank.map { "rank \($0): " } ?? ""))
