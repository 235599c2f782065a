import ArgumentParser
import CQPackRuntime
import Foundation
import QPackVerify

/// What `qpack run` and `qpack embed` open: the C runtime's model (`qp_model_open`), the same
/// code a C application embeds.
extension RuntimeModel {
    /// Opens `path` with `threads` threads for the linears (the output is the same bits for any
    /// count), reporting a refusal once with the runtime's message (the field it names).
    static func open(path: String, threads: Int) throws(ExitCode) -> RuntimeModel {
        do {
            return try RuntimeModel(
                path: path, options: qp_model_options(variant: QP_VARIANT_AUTO, threads: max(1, threads)))
        } catch {
            printError(error.description)
            throw error.status == QP_ERR_IO ? QPackExit.ioError : QPackExit.malformedInput
        }
    }

    /// Refuses the other kind of model with a usage error naming the command to use.
    func require(_ kind: qp_model_kind, file: String) throws(ExitCode) {
        guard description.kind != kind else { return }
        printError(
            kind == QP_MODEL_DECODER
                ? "\(file): a \(architecture) encoder; use qpack embed"
                : "\(file): a \(architecture) decoder; use qpack run")
        throw QPackExit.usage
    }
}
