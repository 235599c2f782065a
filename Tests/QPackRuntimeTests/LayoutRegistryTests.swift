import CQPackRuntime
import QPackModel
import QPackPacking
import Testing

/// The layout registry has a Swift half (QPackPacking's rows: planner, writer, reader) and a C
/// half (qp_layouts.c: loader, dispatch): they must name the same families and agree on every
/// packed size and on which tiles a family holds.
@Suite struct LayoutRegistryTests {
    static let schemes: [WeightScheme] = [
        .qsi4c32(blockLength: 32), .qsi4c32(blockLength: 64), .qsi4c32(blockLength: 128), .qsi4cx, .qsi8cx, .q4_0Repack,
    ]

    @Test(arguments: schemes)
    func bothHalvesAgreeOnSizesAndTiles(_ scheme: WeightScheme) throws {
        let family = try #require(scheme.family)
        var kind = QP_WEIGHT_F32
        #expect(qp_layout_weight_kind(family.id, &kind) == 1, "\(family.id) is in the C registry")
        let bl = scheme.blockLength ?? 0
        // Every target's tile, and tiles that are not a family's: both halves must say the same.
        var tiles = KernelTarget.allCases.compactMap { family.tile(for: $0)?.tile }
        tiles += [
            KleidiAITile(nr: 4, kr: 4, sr: 1), KleidiAITile(nr: 8, kr: 8, sr: 2), KleidiAITile(nr: 6, kr: 12, sr: 3),
            KleidiAITile(nr: 4, kr: 24, sr: 1), KleidiAITile(nr: 4, kr: 1, sr: 1), KleidiAITile(nr: 3, kr: 16, sr: 2),
        ]
        for tile in tiles {
            for (n, k) in [(1, 256), (7, 512), (33, 1024), (64, 768)] {
                let swiftProblem = family.tileProblem(k, bl, tile)
                var size: UInt64 = 0
                let accepted = qp_layout_packed_size(
                    family.id, scheme.name, UInt64(n), UInt64(k), UInt64(bl), UInt64(tile.nr), UInt64(tile.kr),
                    UInt64(tile.sr), &size)
                #expect(
                    (accepted == 1) == (swiftProblem == nil), "\(scheme.name) \(tile) k \(k): \(swiftProblem ?? "ok")")
                if accepted == 1 {
                    #expect(Int(size) == family.packedSize(n, k, bl, tile), "\(scheme.name) \(tile) \(n)x\(k)")
                }
            }
        }
    }
}
