import ArgumentParser
import QPackModel
import QPackReaders

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// The exit codes qpack promises (sysexits.h values).
enum QPackExit {
    static let verificationFailed = ExitCode(1)
    static let usage = ExitCode(64)
    static let malformedInput = ExitCode(65)
    static let ioError = ExitCode(74)

    /// The one mapping from a failure's kind to the exit code.
    static func code(for kind: FailureKind) -> ExitCode {
        switch kind {
        case .usage: return usage
        case .malformed: return malformedInput
        case .io: return ioError
        case .verification: return verificationFailed
        }
    }
}

/// Reports `error` once, in the one format (`qpack: error: [context: ]message`), and returns the
/// exit code its kind maps to; errors of no known kind count as malformed input.
func fail(_ error: any Error, context: String? = nil) -> ExitCode {
    let message = String(describing: error)
    printError(context.map { "\($0): " + message } ?? message)
    return QPackExit.code(for: (error as? any QPackFailure)?.failureKind ?? .malformed)
}

/// Writes one error line to standard error.
func printError(_ message: String) {
    var line = "qpack: error: " + message + "\n"
    line.withUTF8 { buf in
        _ = write(STDERR_FILENO, buf.baseAddress, buf.count)
    }
}

/// The checkpoint file a command's model argument names (a model directory: the model file in
/// it), so everything read beside the model is read beside that file.
func modelFile(_ path: String) throws -> String {
    do { return try Checkpoint.modelPath(path) } catch { throw fail(error) }
}
