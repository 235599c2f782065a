import QPackModel

// The registry rows: one per layout family. Tiles and kernel names are the targets' choices
// (docs/kernels.md); size formulas and readers are the packers'.

extension LayoutFamily {
    /// Every packed layout family qpack writes (the runtime's rows are in qp_layouts.c).
    public static let all: [LayoutFamily] = [.qsi4c32p, .qsi4cxp, .qsi8cxp, .qsi4c32pscalef16, .qai4c32p]

    /// Symmetric int4 in blocks of 32/64/128/256 along K, bf16 scales (`qsi4c32*` schemes).
    public static let qsi4c32p = LayoutFamily(
        id: "qsi4c32p", codeBits: 4, scaleType: "bf16", grouped: true, losslessSources: [], embeddingRows: true,
        activationPacker: "qai8dxp",
        tiles: [
            .neonDotprod: TargetTile(
                tile: KleidiAITile(nr: 8, kr: 8, sr: 2),
                kernels: ["qai8dxp1x4_qsi4c32p8x4_1x8_neon_dotprod", "qai8dxp4x4_qsi4c32p8x4_4x8_neon_dotprod"]),
            .neonI8mm: TargetTile(
                tile: KleidiAITile(nr: 8, kr: 16, sr: 2),
                kernels: ["qai8dxp1x8_qsi4c32p8x8_1x8x32_neon_dotprod", "qai8dxp4x8_qsi4c32p8x8_4x8x32_neon_i8mm"]),
        ],
        packedSize: { n, k, bl, tile in Qsi4c32pPacker.packedSize(n: n, k: k, blockLength: bl, tile: tile) },
        tileProblem: { k, bl, tile in
            do throws(Qsi4c32pPacker.ShapeError) {
                try Qsi4c32pPacker.validate(k: k, blockLength: bl, tile: tile)
            } catch { return error.description }
            return nil
        },
        unpack: { bytes, n, k, bl, tile in
            let m = Qsi4c32pPacker.unpack(bytes, n: n, k: k, blockLength: bl, tile: tile).matrix
            let scales = m.scales.map { Float(bitPattern: UInt32($0) << 16) }
            var values = [Float](repeating: 0, count: n * k)
            for i in values.indices { values[i] = Float(m.codes[i]) * scales[i / bl] }
            return UnpackedWeights(values: values, groupLength: bl, scales: scales, qmax: 7)
        })

    /// Symmetric int4 per output channel, f32 scales (`qsi4cx`).
    public static let qsi4cxp = LayoutFamily(
        id: "qsi4cxp", codeBits: 4, scaleType: "f32", grouped: false, losslessSources: [], activationPacker: "qai8dxp",
        tiles: [
            .neonDotprod: TargetTile(
                tile: KleidiAITile(nr: 4, kr: 8, sr: 2),
                kernels: ["qai8dxp1x4_qsi4cxp4x4_1x4_neon_dotprod", "qai8dxp4x8_qsi4cxp4x4_16x4x32_neon_dotprod"]),
            .neonI8mm: TargetTile(
                tile: KleidiAITile(nr: 8, kr: 16, sr: 2),
                kernels: ["qai8dxp1x8_qsi4cxp8x8_1x8x32_neon_dotprod", "qai8dxp4x8_qsi4cxp8x8_8x8x32_neon_i8mm"]),
        ],
        packedSize: { n, k, _, tile in Qsi4cxpPacker.packedSize(n: n, k: k, tile: tile) },
        tileProblem: { _, _, tile in
            tile.nr > 0 && tile.sr > 0 && tile.kr % tile.sr == 0 && 16 % tile.depth == 0
                ? nil : "tile \(tile) is not a qsi4cxp tile"
        },
        unpack: { bytes, n, k, _, tile in
            channelValues(Qsi4cxpPacker.unpack(bytes, n: n, k: k, tile: tile).matrix, qmax: 7)
        })

    /// Symmetric int8 per output channel (per row for embeddings), f32 scales (`qsi8cx`).
    public static let qsi8cxp = LayoutFamily(
        id: "qsi8cxp", codeBits: 8, scaleType: "f32", grouped: false, losslessSources: [], embeddingRows: true,
        activationPacker: "qai8dxp",
        tiles: [
            .neonDotprod: TargetTile(
                tile: KleidiAITile(nr: 4, kr: 4, sr: 1),
                kernels: ["qai8dxp1x4_qsi8cxp4x4_1x4_neon_dotprod", "qai8dxp4x4_qsi8cxp4x4_16x4_neon_dotprod"]),
            .neonI8mm: TargetTile(
                tile: KleidiAITile(nr: 4, kr: 8, sr: 1),
                kernels: ["qai8dxp1x8_qsi8cxp4x8_1x4_neon_dotprod", "qai8dxp4x8_qsi8cxp4x8_16x4_neon_i8mm"]),
        ],
        packedSize: { n, k, _, tile in Qsi8cxpPacker.packedSize(n: n, k: k, tile: tile) },
        tileProblem: { k, _, tile in
            // Rows are padded to a multiple of 32 values, stored kr at a time.
            tile.nr > 0 && tile.kr > 0 && tile.sr == 1 && roundUp(k, 32) % tile.kr == 0
                ? nil : "tile \(tile) is not a qsi8cxp tile for K = \(k) (sr 1, kr dividing K rounded up to 32)"
        },
        unpack: { bytes, n, k, _, tile in
            channelValues(Qsi8cxpPacker.unpack(bytes, n: n, k: k, tile: tile).matrix, qmax: 127)
        })

    /// GGUF Q4_0 blocks moved bit for bit into the f16-scale int4 layout (`q4_0-repack`).
    public static let qsi4c32pscalef16: LayoutFamily = {
        var f = LayoutFamily(
            id: "qsi4c32pscalef16", codeBits: 4, scaleType: "f16", grouped: true, losslessSources: ["Q4_0"],
            activationPacker: "qsi8d32p",
            tiles: [
                .neonDotprod: TargetTile(
                    tile: KleidiAITile(nr: 4, kr: 8, sr: 2),
                    kernels: ["qsi8d32p1x4_qsi4c32p4x4_1x4_neon_dotprod", "qsi8d32p4x4_qsi4c32p4x4_16x4_neon_dotprod"]),
                .neonI8mm: TargetTile(
                    tile: KleidiAITile(nr: 4, kr: 16, sr: 2),
                    kernels: ["qsi8d32p1x8_qsi4c32p4x8_1x4x32_neon_dotprod", "qsi8d32p4x8_qsi4c32p4x8_16x4_neon_i8mm"]),
            ],
            packedSize: { n, k, _, tile in Qsi4c32pScaleF16Packer.packedSize(n: n, k: k, tile: tile) },
            tileProblem: { k, bl, tile in
                bl == 32 && k % 32 == 0 && tile.nr > 0 && tile.kr > 0 && 32 % tile.kr == 0 && tile.kr % 2 == 0
                    ? nil
                    : "tile \(tile) with bl \(bl) and K = \(k) is not a qsi4c32pscalef16 layout"
            },
            unpack: { bytes, n, k, _, tile in
                let blocks = Qsi4c32pScaleF16Packer.unpack(bytes, n: n, k: k, tile: tile)
                let count = blocks.count / Qsi4c32pScaleF16Packer.q4_0BlockBytes
                var values = [Float](repeating: 0, count: n * k), scales = [Float](repeating: 0, count: count)
                for b in 0..<count {
                    let base = Qsi4c32pScaleF16Packer.q4_0BlockBytes * b
                    let d = Float(Float16(bitPattern: UInt16(blocks[base]) | UInt16(blocks[base + 1]) << 8))
                    scales[b] = d
                    for j in 0..<32 {
                        let byte = blocks[base + 2 + j % 16]
                        values[32 * b + j] = d * Float(Int(j < 16 ? byte & 0x0F : byte >> 4) - 8)
                    }
                }
                return UnpackedWeights(values: values, groupLength: 32, scales: scales, qmax: 8)
            })
        f.fixedBlockLength = Qsi4c32pScaleF16Packer.blockLength
        f.repack = { _, blocks, n, k, tile in Qsi4c32pScaleF16Packer.pack(q4_0: blocks, n: n, k: k, tile: tile) }
        return f
    }()

    /// Asymmetric int4 per block of 32 with an f32 scale and offset: GGUF Q4_1 blocks held exactly
    /// (`q4_1-repack`: scale d, offset m + 8d, codes unchanged) and Q4_K's 32-value sub-blocks
    /// (`q4_k-repack`: scale d·sc, offset 8·d·sc − dmin·m). Its kernels take per-block
    /// activations with f32 scales and block sums (`qsi8d32pscalef32`).
    public static let qai4c32p: LayoutFamily = {
        var f = LayoutFamily(
            id: "qai4c32p", codeBits: 4, scaleType: "f32", grouped: true, losslessSources: ["Q4_1", "Q4_K"],
            activationPacker: "qsi8d32pscalef32",
            tiles: [
                .neonDotprod: TargetTile(
                    tile: KleidiAITile(nr: 4, kr: 8, sr: 2),
                    kernels: ["qsi8d32p1x4_qai4c32p4x4_1x4_neon_dotprod", "qsi8d32p4x4_qai4c32p4x4_8x4_neon_dotprod"]),
                .neonI8mm: TargetTile(
                    tile: KleidiAITile(nr: 4, kr: 16, sr: 2),
                    kernels: ["qsi8d32p1x8_qai4c32p4x8_1x4_neon_dotprod", "qsi8d32p4x8_qai4c32p4x8_8x4_neon_i8mm"]),
            ],
            packedSize: { n, k, bl, tile in Qai4c32pPacker.packedSize(n: n, k: k, blockLength: bl, tile: tile) },
            tileProblem: { k, bl, tile in
                bl == 32
                    ? Qai4c32pPacker.problem(k: k, blockLength: bl, tile: tile)
                    : "tile \(tile) with bl \(bl) and K = \(k) is not a qai4c32p layout (blocks of 32)"
            },
            unpack: { bytes, n, k, bl, tile in
                // Q4_1's values as ggml computes them: d·q + m in float32, m = offset − 8d (exact).
                let u = Qai4c32pPacker.unpack(bytes, n: n, k: k, blockLength: bl, tile: tile)
                var values = [Float](repeating: 0, count: n * k)
                for i in values.indices {
                    let b = i / bl, d = u.scales[b]
                    values[i] = d * Float(u.codes[i]) + (u.offsets[b] - 8 * d)
                }
                return UnpackedWeights(values: values, groupLength: bl, scales: u.scales, qmax: 8, offsets: u.offsets)
            })
        f.fixedBlockLength = 32
        f.repack = { source, blocks, n, k, tile throws(RepackError) in
            do throws(Qai4c32pPacker.InexactBlock) {
                return source == "Q4_K"
                    ? try Qai4c32pPacker.repack(q4_K: blocks, n: n, k: k, tile: tile)
                    : try Qai4c32pPacker.repack(q4_1: blocks, n: n, k: k, tile: tile)
            } catch { throw RepackError(error.description) }
        }
        return f
    }()

    static func channelValues(_ m: ChannelQuantizedMatrix, qmax: Float) -> UnpackedWeights {
        var values = [Float](repeating: 0, count: m.rows * m.columns)
        for i in values.indices { values[i] = Float(m.codes[i]) * m.scales[i / max(m.columns, 1)] }
        return UnpackedWeights(values: values, groupLength: m.columns, scales: m.scales, qmax: qmax)
    }
}
