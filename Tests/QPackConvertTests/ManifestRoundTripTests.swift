import QPackBinary
import QPackContainer
import QPackTestSupport
import Testing

/// A tensor's manifest entry has one encoder (`ContainerFile.Tensor.manifestJSON`) and one
/// decoder (the reader): decoding every tensor of a file and encoding it again gives the entry the
/// file holds, member for member, for every committed fixture (float, packed, zstd, static ranges,
/// smoothing).
@Suite struct ManifestRoundTripTests {
    static var files: [String] {
        ["types", "types-zstd", "tiny", "static", "smoothed"].map { TestPaths.fixture("qpack/\($0).qpack") }
    }

    @Test(arguments: files)
    func everyTensorEntryReencodesToItself(_ path: String) throws {
        let file = try ContainerFile(path: path)
        let entries = try #require(file.manifest["tensors"]?.items)
        #expect(entries.count == file.tensors.count && !entries.isEmpty)
        for (t, entry) in zip(file.tensors, entries) {
            #expect(t.manifestJSON.text() == JSONOut(copying: entry).text(), "\(t.name)")
        }
    }
}
