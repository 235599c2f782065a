import Testing
import QPackTestSupport
import QPackModel
@testable import QPackPacking

/// unpack(pack(q)) == q over random shapes, for every tile the NEON kernels use.
@Suite struct RoundTripTests {
    static let int4Tiles = [
        KleidiAITile(nr: 4, kr: 8, sr: 2), KleidiAITile(nr: 8, kr: 8, sr: 2),
        KleidiAITile(nr: 4, kr: 16, sr: 2), KleidiAITile(nr: 8, kr: 16, sr: 2),
    ]
    static let int8Tiles = [KleidiAITile(nr: 4, kr: 4, sr: 1), KleidiAITile(nr: 4, kr: 8, sr: 1)]

    @Test(arguments: int4Tiles)
    func qsi4c32pRoundTrips(_ tile: KleidiAITile) {
        var g = SplitMix64(state: 1)
        for _ in 0..<20 {
            let bl = [32, 64, 128, 256].randomElement(using: &g)!
            let n = Int.random(in: 1...37, using: &g), k = bl * Int.random(in: 1...4, using: &g)
            let codes = (0..<(n * k)).map { _ in Int8.random(in: -8...7, using: &g) }
            let scales = (0..<(n * k / bl)).map { _ in UInt16.random(in: 0...0x7F7F, using: &g) }
            let bias = (0..<n).map { _ in Float.random(in: -1...1, using: &g) }
            let m = Int4BlockMatrix(rows: n, columns: k, blockLength: bl, codes: codes, scales: scales)
            let packed = Qsi4c32pPacker.pack(m, bias: bias, tile: tile)
            #expect(packed.count == Qsi4c32pPacker.packedSize(n: n, k: k, blockLength: bl, tile: tile))
            let back = Qsi4c32pPacker.unpack(packed, n: n, k: k, blockLength: bl, tile: tile)
            #expect(back.matrix == m, "n=\(n) k=\(k) bl=\(bl)")
            #expect(back.bias == bias)
        }
    }

    @Test(arguments: int4Tiles)
    func qsi4cxpRoundTrips(_ tile: KleidiAITile) {
        var g = SplitMix64(state: 2)
        for _ in 0..<20 {
            let n = Int.random(in: 1...37, using: &g), k = Int.random(in: 1...300, using: &g)
            let codes = (0..<(n * k)).map { _ in Int8.random(in: -8...7, using: &g) }
            let scales = (0..<n).map { _ in Float.random(in: 0.001...1, using: &g) }
            let m = ChannelQuantizedMatrix(rows: n, columns: k, bits: 4, codes: codes, scales: scales)
            let packed = Qsi4cxpPacker.pack(m, bias: nil, tile: tile)
            let back = Qsi4cxpPacker.unpack(packed, n: n, k: k, tile: tile)
            #expect(back.matrix.codes == codes, "n=\(n) k=\(k)")
            // Scales are stored divided by 16 (an exact power-of-two step) and read back times 16.
            #expect(back.matrix.scales == scales)
            #expect(
                back.rowSums
                    == (0..<n).map { r in 16 * codes[(r * k)..<((r + 1) * k)].reduce(Int32(0)) { $0 + Int32($1) } })
        }
    }

    @Test(arguments: int8Tiles)
    func qsi8cxpRoundTrips(_ tile: KleidiAITile) {
        var g = SplitMix64(state: 3)
        for _ in 0..<20 {
            let n = Int.random(in: 1...37, using: &g), k = Int.random(in: 1...300, using: &g)
            let codes = (0..<(n * k)).map { _ in Int8.random(in: -128...127, using: &g) }
            let scales = (0..<n).map { _ in Float.random(in: 0.001...1, using: &g) }
            let m = ChannelQuantizedMatrix(rows: n, columns: k, bits: 8, codes: codes, scales: scales)
            let back = Qsi8cxpPacker.unpack(Qsi8cxpPacker.pack(m, bias: nil, tile: tile), n: n, k: k, tile: tile)
            #expect(back.matrix == m, "n=\(n) k=\(k)")
            #expect(back.bias == [Float](repeating: 0, count: n))
        }
    }

    @Test(arguments: [KleidiAITile(nr: 4, kr: 8, sr: 2), KleidiAITile(nr: 4, kr: 16, sr: 2)])
    func q4_0RepackIsLossless(_ tile: KleidiAITile) {
        var g = SplitMix64(state: 4)
        for _ in 0..<20 {
            let n = Int.random(in: 1...21, using: &g), k = 32 * Int.random(in: 1...6, using: &g)
            let blocks = (0..<(n * k / 32 * 18)).map { _ in UInt8.random(in: 0...255, using: &g) }
            let packed = blocks.withUnsafeBytes { Qsi4c32pScaleF16Packer.pack(q4_0: $0, n: n, k: k, tile: tile) }
            #expect(Qsi4c32pScaleF16Packer.unpack(packed, n: n, k: k, tile: tile) == blocks)
        }
    }
}
