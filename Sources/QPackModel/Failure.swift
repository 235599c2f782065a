/// What went wrong, as far as the caller's exit status is concerned. Every library error type
/// says which it is; QPackCommands maps the kind to the exit code in one place.
public enum FailureKind: Sendable, Hashable {
    /// The command was asked for something it cannot do with these options (exit 64).
    case usage
    /// An input file is malformed, inconsistent or unsupported (exit 65).
    case malformed
    /// A file could not be read or written (exit 74).
    case io
    /// The model was measured and missed its threshold (exit 1).
    case verification
}

/// An error qpack reports: its kind and a message that names the file, tensor or field (and the
/// byte offset where there is one), without a level prefix.
public protocol QPackFailure: Error, CustomStringConvertible {
    var failureKind: FailureKind { get }
}
