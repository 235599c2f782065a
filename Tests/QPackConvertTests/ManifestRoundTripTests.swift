import QPackBinary
import QPackContainer
import QPackTestSupport
import Testing

/// A tensor's manifest entry has one encoder (`ContainerFile.Tensor.manifestJSON`) and one
/// decoder (the reader): decoding every tensor of a file and encoding it again gives the entry the
/// file holds, member for member, for every committed fixture (float, packed, zstd, static ranges,
/// smoothing).
@Suite struct ManifestRoundTripTests {
    /// A parsed value written back with its lexemes (what the file says, not a re-formatting).
    static func out(_ n: JSONNode) -> JSONOut {
        switch n.value {
        case let .object(ms): return .object(ms.map { ($0.key, out($0.node)) })
        case let .array(a): return .array(a.map(out))
        case let .string(s): return .string(s)
        case let .number(x): return .number(x)
        case let .bool(b): return .bool(b)
        case .null: return .null
        }
    }

    static var files: [String] {
        ["types", "types-zstd", "tiny", "static", "smoothed"].map { TestPaths.fixture("qpack/\($0).qpack") }
    }

    @Test(arguments: files)
    func everyTensorEntryReencodesToItself(_ path: String) throws {
        let file = try ContainerFile(path: path)
        let entries = try #require(file.manifest["tensors"]?.items)
        #expect(entries.count == file.tensors.count && !entries.isEmpty)
        for (t, entry) in zip(file.tensors, entries) {
            #expect(t.manifestJSON.text() == Self.out(entry).text(), "\(t.name)")
        }
    }
}
