import ArgumentParser
import CQPackRuntime
import Foundation

/// A model opened by the C runtime (`qp_model_open`): what `qpack run` and `qpack embed` run, the
/// same code a C application embeds.
final class RuntimeModel {
    let pointer: OpaquePointer
    let description: qp_model_description

    /// Opens `path`, reporting a refusal once with the runtime's message (the field it names).
    /// The processors, at most 8 (beyond that a model this size gains little).
    static var defaultThreads: Int { min(ProcessInfo.processInfo.activeProcessorCount, 8) }

    /// `threads`: how many threads the linears split their work among (the output is the same
    /// bits for any count).
    init(path: String, threads: Int = 1) throws(ExitCode) {
        var model: OpaquePointer?
        var message = [CChar](repeating: 0, count: 1024)
        var options = qp_model_options(variant: QP_VARIANT_AUTO, threads: max(1, threads))
        let status = qp_model_open(path, &options, &model, &message, message.count)
        guard status == QP_OK, let model else {
            printError(String(decoding: message.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self))
            throw status == QP_ERR_IO ? QPackExit.ioError : QPackExit.malformedInput
        }
        pointer = model
        var d = qp_model_description()
        _ = qp_model_describe(model, &d)
        description = d
    }

    deinit { qp_model_close(pointer) }

    var architecture: String { description.architecture.map { String(cString: $0) } ?? "?" }

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
