import Foundation
import QPackBinary

/// KleidiAI's golden vectors: the subset committed in Fixtures/kleidiai, and the full set in
/// ../shared/oracle/kleidiai when that folder is present (or QPACK_ORACLE_DIR names it).
public struct Oracle: Sendable {
    public let directory: String
    public let index: JSONNode

    public init(directory: String) throws {
        self.directory = directory
        index = try StrictJSONParser.parse(try TestPaths.read(directory + "/index.json"), maxDepth: 64)
    }

    public static var committed: Oracle { try! Oracle(directory: TestPaths.fixture("kleidiai")) }

    public static var full: Oracle? {
        let dir =
            ProcessInfo.processInfo.environment["QPACK_ORACLE_DIR"] ?? TestPaths.repoRoot + "/../shared/oracle/kleidiai"
        guard FileManager.default.fileExists(atPath: dir + "/index.json") else { return nil }
        return try? Oracle(directory: dir)
    }

    /// The full set when present, else the committed subset.
    public static var best: Oracle { full ?? committed }

    /// Another set (`kleidiai-qsi8d32p`): ../shared/oracle/<set> when present (or the folder
    /// QPACK_ORACLE_QSI8D32P_DIR names), else the subset committed in Fixtures/<set>.
    public static func best(set: String) -> Oracle {
        let dir =
            ProcessInfo.processInfo.environment["QPACK_ORACLE_QSI8D32P_DIR"].flatMap {
                set == "kleidiai-qsi8d32p" ? $0 : nil
            }
            ?? TestPaths.repoRoot + "/../shared/oracle/" + set
        if FileManager.default.fileExists(atPath: dir + "/index.json"), let o = try? Oracle(directory: dir) { return o }
        return try! Oracle(directory: TestPaths.fixture(set))
    }

    public func cases(kind: String) -> [JSONNode] {
        index["cases"]!.items.filter { $0["kind"]?.string == kind }
    }

    public func bytes(_ fileEntry: JSONNode) throws -> [UInt8] {
        try TestPaths.read(directory + "/" + fileEntry["file"]!.string!)
    }

    public func floats(_ fileEntry: JSONNode) throws -> [Float] {
        let b = try bytes(fileEntry)
        return (0..<(b.count / 4)).map { i in
            Float(
                bitPattern: UInt32(b[4 * i]) | UInt32(b[4 * i + 1]) << 8 | UInt32(b[4 * i + 2]) << 16 | UInt32(
                    b[4 * i + 3]) << 24)
        }
    }

    public func uint16s(_ fileEntry: JSONNode) throws -> [UInt16] {
        let b = try bytes(fileEntry)
        return (0..<(b.count / 2)).map { i in UInt16(b[2 * i]) | UInt16(b[2 * i + 1]) << 8 }
    }

    /// Bytes the packer did not write (1 = unwritten), or nil when it wrote all of them.
    public func unwrittenMask(_ output: JSONNode, count: Int) throws -> [Bool]? {
        guard let mask = output["unwritten_mask"], !mask.isNull else { return nil }
        let bits = try TestPaths.read(directory + "/" + (mask["file"]?.string ?? mask.string!))
        return (0..<count).map { bits[$0 / 8] >> UInt8($0 % 8) & 1 == 1 }
    }
}
