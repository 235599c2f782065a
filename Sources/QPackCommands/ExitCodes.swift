import ArgumentParser
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

    static func code(for error: ReaderError) -> ExitCode {
        switch error.kind {
        case .malformed, .unsupported: return malformedInput
        case .io: return ioError
        }
    }
}

/// Writes one error line to standard error.
func printError(_ message: String) {
    var line = "qpack: error: " + message + "\n"
    line.withUTF8 { buf in
        _ = write(STDERR_FILENO, buf.baseAddress, buf.count)
    }
}
