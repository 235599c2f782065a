import QPackReaders
import QPackTestSupport
import Testing

/// Reading a tensor a chunk at a time (inspect --stats on tensors of any size) gives exactly the
/// values of reading it whole, at every chunk size, for every GGUF type and safetensors dtype.
@Suite struct ChunkedValuesTests {
    @Test(arguments: [
        "gguf/types.gguf", "safetensors/dtypes.safetensors", "safetensors/sharded/model.safetensors.index.json",
    ])
    func chunksConcatenateToTheWholeTensor(_ fixture: String) throws {
        let checkpoint = try Checkpoint.open(path: TestPaths.fixture(fixture))
        var compared = 0
        for r in checkpoint.records {
            guard let whole = try? checkpoint.floatValues(of: r.name) else { continue }
            for chunk in [1, 7, 32, 33, 100, 1 << 20] {
                var parts: [Float] = []
                var calls = 0
                let found = try checkpoint.forEachFloatChunk(of: r.name, chunk: chunk) {
                    parts += $0
                    calls += 1
                }
                #expect(found)
                #expect(parts.count == whole.count, "\(fixture) \(r.name) chunk \(chunk)")
                #expect(zip(parts, whole).allSatisfy { $0.bitPattern == $1.bitPattern }, "\(r.name) chunk \(chunk)")
                if chunk == 1 && whole.count > 64 { #expect(calls > 1) }
            }
            compared += 1
        }
        #expect(compared >= 2)
        #expect(try checkpoint.forEachFloatChunk(of: "no such tensor") { _ in } == false)
    }
}
