import QPackContainer
import QPackReaders
import QPackModel

/// Why a conversion stopped. Every case names the file or tensor.
public struct ConvertError: Error, Sendable, CustomStringConvertible {
    public enum Kind: Sendable { case usage, malformed, io }
    public let kind: Kind
    public let message: String

    public init(_ kind: Kind, _ message: String) {
        self.kind = kind
        self.message = message
    }

    public var description: String { message }

    init(_ e: ContainerError) {
        switch e.kind {
        case .usage: kind = .usage
        case .io: kind = .io
        case .malformed: kind = .malformed
        }
        message = e.description
    }

    init(_ e: ReaderError) {
        kind = e.kind == .io ? .io : .malformed
        message = e.description
    }
}

extension ConvertError: QPackFailure {
    public var failureKind: FailureKind {
        switch kind {
        case .usage: return .usage
        case .malformed: return .malformed
        case .io: return .io
        }
    }
}
