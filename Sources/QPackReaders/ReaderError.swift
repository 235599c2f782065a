import QPackModel
/// Why a checkpoint could not be read. Every case names the file, the field or tensor, and the
/// byte offset where the problem was found, so a user can find it with a hex editor.
public struct ReaderError: Error, Sendable, Equatable, CustomStringConvertible {
    public enum Kind: Sendable, Equatable {
        /// The bytes break the format or qpack's limits (exit code 65).
        case malformed
        /// Well-formed, but uses something qpack does not implement (exit code 65).
        case unsupported
        /// The file could not be opened or mapped (exit code 74).
        case io
    }

    public let kind: Kind
    /// Base name of the file.
    public let file: String
    /// The field, key or tensor the problem is about, e.g. `header` or `tensor 'x'`.
    public let subject: String
    /// Absolute byte offset in `file`, when the problem has one.
    public let offset: Int?
    public let detail: String

    public init(_ kind: Kind, file: String, subject: String, offset: Int?, _ detail: String) {
        self.kind = kind
        self.file = file
        self.subject = subject
        self.offset = offset
        self.detail = detail
    }

    public var description: String {
        var s = "\(file): \(subject)"
        if let offset { s += " at offset \(offset)" }
        return s + ": " + detail
    }
}

extension String {
    /// The last path component, for error messages.
    var baseName: String {
        split(separator: "/", omittingEmptySubsequences: false).last.map(String.init) ?? self
    }
}

extension ReaderError: QPackFailure {
    public var failureKind: FailureKind { kind == .io ? .io : .malformed }
}
