import ArgumentParser
import CQPackRuntime
import Foundation

/// `--threads`: how many threads the runtime's linears split their work among, for every command
/// that runs a model (run, embed, verify, eval, calibrate). The outputs are the same bits for any
/// count (the runtime computes each output element with the same code on whichever thread).
struct ThreadOptions: ParsableArguments {
    @Option(
        help: """
            Threads the linears split their work among (default: the processors, at most 8). The \
            output is the same bits for any count.
            """)
    var threads: Int?

    func validate() throws {
        if let t = threads, !(1...64).contains(t) { throw ValidationError("--threads must be in 1...64") }
    }

    /// The count to use: the option, else the processors (at most 8: beyond that a model this size
    /// gains little).
    var count: Int { threads ?? min(ProcessInfo.processInfo.activeProcessorCount, 8) }

    var modelOptions: qp_model_options { qp_model_options(variant: QP_VARIANT_AUTO, threads: count) }
}
