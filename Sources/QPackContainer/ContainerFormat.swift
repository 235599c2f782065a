import QPackModel
/// Constants of the `.qpack` container (Formats/qpack-container.md).
public enum ContainerFormat {
    public static let magic: [UInt8] = Array("QPACK\r\n".utf8) + [0x1A]
    public static let footerMagic: [UInt8] = Array("QPACKEND".utf8)
    public static let major: UInt16 = 1
    public static let minor: UInt16 = 1
    public static let headerSize = 64
    public static let footerSize = 64
    public static let alignment = 64
    public static let maxManifestBytes = 64 << 20
    /// A container holds at most this many tensors and sections (spec §4.4, §4.5): checked before
    /// converting and on reading, so no one waits for a manifest that cannot be written.
    public static let maxTensors = 100_000
    public static let maxSections = 250_000
    /// `required_features` bits this reader implements (none in 1.0).
    public static let knownFeatures: UInt32 = 0

    static func align(_ v: Int) -> Int { (v + alignment - 1) / alignment * alignment }
}

/// One section as written: where it is and how to check it.
public struct SectionRecord: Sendable, Hashable {
    public let name: String
    public let offset: Int
    public let storedLength: Int
    public let length: Int
    public let compression: String
    public let sha256: String
}

public struct ContainerError: Error, Sendable, Equatable, CustomStringConvertible {
    public enum Kind: Sendable, Equatable {
        /// The output exists and --force was not given, or the path is unusable (exit 64).
        case usage
        /// Reading or writing failed (exit 74).
        case io
        /// The file breaks the format (exit 65).
        case malformed
    }

    public let kind: Kind
    public let file: String
    public let subject: String
    public let offset: Int?
    public let detail: String

    public init(_ kind: Kind, file: String, subject: String, offset: Int? = nil, _ detail: String) {
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

extension ContainerError: QPackFailure {
    public var failureKind: FailureKind {
        switch kind {
        case .usage: return .usage
        case .io: return .io
        default: return .malformed
        }
    }
}
