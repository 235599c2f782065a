import QPackModel

/// KleidiAI's `qsi4cxp` RHS layout (int4 per output channel, f32 scales), as produced by
/// `kai_run_rhs_pack_nxk_qsi4cxp_qs4cxs1s0`: panel = `nr*Kp/2` bytes of nibbles (k low, k+16
/// high, segments of L = kr/sr values, rows interleaved; zero past K), then `nr` int32 row sums
/// times 16, `nr` f32 scales divided by 16, `nr` f32 biases. `Kp` = K rounded up to 32.
public enum Qsi4cxpPacker {
    public static func panelStride(k: Int, tile: KleidiAITile) -> Int {
        tile.nr * (roundUp(k, 32) / 2 + 4 + 4 + 4)
    }

    public static func packedSize(n: Int, k: Int, tile: KleidiAITile) -> Int {
        ceilDiv(n, tile.nr) * panelStride(k: k, tile: tile)
    }

    public static func packedOffset(nIndex: Int, k: Int, tile: KleidiAITile) -> Int {
        (nIndex / tile.nr) * panelStride(k: k, tile: tile)
    }

    public static func pack(_ m: ChannelQuantizedMatrix, bias: [Float]?, tile: KleidiAITile, fill: UInt8 = 0) -> [UInt8]
    {
        precondition(m.bits == 4)
        let n = m.rows, k = m.columns, nr = tile.nr, L = tile.depth
        let kp = roundUp(k, 32)
        let stride = panelStride(k: k, tile: tile)
        let panels = ceilDiv(n, nr)
        var out = [UInt8](repeating: fill, count: panels * stride)
        m.codes.withUnsafeBufferPointer { codes in
            func q(_ row: Int, _ col: Int) -> Int8 { col < k ? codes[row * k + col] : 0 }
            out.withUnsafeMutableBufferPointer { o in
                for g in 0..<panels {
                    let base = g * stride
                    for i in 0..<(nr * kp / 2) {
                        let t = i / L, j = i % L
                        let s = t / nr, r = t % nr
                        let row = Swift.min(g * nr + r, n - 1)
                        let kl = s * L + j
                        let k0 = 32 * (kl / 16) + kl % 16
                        o[base + i] =
                            UInt8(bitPattern: q(row, k0)) & 0x0F | (UInt8(bitPattern: q(row, k0 + 16)) & 0x0F) << 4
                    }
                    CxpPanelTail.write(
                        o, at: base + nr * kp / 2, panel: g, nr: nr, codes: codes, matrix: m, bias: bias, sumFactor: 16,
                        scaleFactor: 0.0625)
                }
            }
        }
        return out
    }

    public static func unpack(_ packed: [UInt8], n: Int, k: Int, tile: KleidiAITile) -> (
        matrix: ChannelQuantizedMatrix, bias: [Float], rowSums: [Int32]
    ) {
        let nr = tile.nr, L = tile.depth, kp = roundUp(k, 32)
        let stride = panelStride(k: k, tile: tile)
        var codes = [Int8](repeating: 0, count: n * k)
        var scales = [Float](repeating: 0, count: n), bias = scales
        var sums = [Int32](repeating: 0, count: n)
        for g in 0..<ceilDiv(n, nr) {
            let base = g * stride
            for i in 0..<(nr * kp / 2) {
                let t = i / L, j = i % L, s = t / nr, r = t % nr
                let row = g * nr + r
                guard row < n else { continue }
                let kl = s * L + j
                let k0 = 32 * (kl / 16) + kl % 16
                let byte = packed[base + i]
                if k0 < k { codes[row * k + k0] = signExtend4(byte & 0x0F) }
                if k0 + 16 < k { codes[row * k + k0 + 16] = signExtend4(byte >> 4) }
            }
            CxpPanelTail.read(
                packed, at: base + nr * kp / 2, panel: g, nr: nr, n: n, sums: &sums, scales: &scales, bias: &bias,
                scaleFactor: 16)
        }
        return (ChannelQuantizedMatrix(rows: n, columns: k, bits: 4, codes: codes, scales: scales), bias, sums)
    }
}

/// KleidiAI's `qsi8cxp` RHS layout (int8 per output channel, f32 scales), as produced by
/// `kai_run_rhs_pack_nxk_qsi8cxp_qsi8cx_neon`: panel = for each group of `kr` K values, `kr`
/// bytes of each of the `nr` rows (zero past K), then `nr` int32 row sums (lhs zero point 1),
/// `nr` f32 scales, `nr` f32 biases. `sr` is 1.
public enum Qsi8cxpPacker {
    public static func panelStride(k: Int, tile: KleidiAITile) -> Int {
        tile.nr * (roundUp(k, 32) + 4 + 4 + 4)
    }

    public static func packedSize(n: Int, k: Int, tile: KleidiAITile) -> Int {
        ceilDiv(n, tile.nr) * panelStride(k: k, tile: tile)
    }

    public static func packedOffset(nIndex: Int, k: Int, tile: KleidiAITile) -> Int {
        (nIndex / tile.nr) * panelStride(k: k, tile: tile)
    }

    public static func pack(_ m: ChannelQuantizedMatrix, bias: [Float]?, tile: KleidiAITile, fill: UInt8 = 0) -> [UInt8]
    {
        precondition(m.bits == 8)
        let n = m.rows, k = m.columns, nr = tile.nr, kr = tile.kr
        let kp = roundUp(k, 32)
        let stride = panelStride(k: k, tile: tile)
        let panels = ceilDiv(n, nr)
        var out = [UInt8](repeating: fill, count: panels * stride)
        m.codes.withUnsafeBufferPointer { codes in
            out.withUnsafeMutableBufferPointer { o in
                for g in 0..<panels {
                    let base = g * stride
                    var i = base
                    for s in 0..<(kp / kr) {
                        for r in 0..<nr {
                            let row = Swift.min(g * nr + r, n - 1)
                            for j in 0..<kr {
                                let col = s * kr + j
                                o[i] = col < k ? UInt8(bitPattern: codes[row * k + col]) : 0
                                i += 1
                            }
                        }
                    }
                    CxpPanelTail.write(
                        o, at: base + nr * kp, panel: g, nr: nr, codes: codes, matrix: m, bias: bias, sumFactor: 1,
                        scaleFactor: 1)
                }
            }
        }
        return out
    }

    public static func unpack(_ packed: [UInt8], n: Int, k: Int, tile: KleidiAITile) -> (
        matrix: ChannelQuantizedMatrix, bias: [Float], rowSums: [Int32]
    ) {
        let nr = tile.nr, kr = tile.kr, kp = roundUp(k, 32)
        let stride = panelStride(k: k, tile: tile)
        var codes = [Int8](repeating: 0, count: n * k)
        var scales = [Float](repeating: 0, count: n), bias = scales
        var sums = [Int32](repeating: 0, count: n)
        for g in 0..<ceilDiv(n, nr) {
            let base = g * stride
            var i = base
            for s in 0..<(kp / kr) {
                for r in 0..<nr {
                    for j in 0..<kr {
                        let row = g * nr + r, col = s * kr + j
                        if row < n && col < k { codes[row * k + col] = Int8(bitPattern: packed[i]) }
                        i += 1
                    }
                }
            }
            CxpPanelTail.read(
                packed, at: base + nr * kp, panel: g, nr: nr, n: n, sums: &sums, scales: &scales, bias: &bias,
                scaleFactor: 1)
        }
        return (ChannelQuantizedMatrix(rows: n, columns: k, bits: 8, codes: codes, scales: scales), bias, sums)
    }
}

/// The tail both cxp layouts end a panel with: `nr` int32 row sums of the codes (times `sumFactor`),
/// `nr` f32 scales (times `scaleFactor`), `nr` f32 biases; rows past N repeat the last row.
enum CxpPanelTail {
    static func write(
        _ o: UnsafeMutableBufferPointer<UInt8>, at tail: Int, panel g: Int, nr: Int, codes: UnsafeBufferPointer<Int8>,
        matrix m: ChannelQuantizedMatrix, bias: [Float]?, sumFactor: Int32, scaleFactor: Float
    ) {
        let n = m.rows, k = m.columns
        for r in 0..<nr {
            let row = Swift.min(g * nr + r, n - 1)
            var sum: Int32 = 0
            for c in 0..<k { sum += Int32(codes[row * k + c]) }
            store(UInt32(bitPattern: sum &* sumFactor), o, tail + 4 * r)
            store((m.scales[row] * scaleFactor).bitPattern, o, tail + 4 * nr + 4 * r)
            store((bias?[row] ?? 0).bitPattern, o, tail + 8 * nr + 4 * r)
        }
    }

    /// The inverse for the rows of panel `g` that exist (`scaleFactor` undoes the writer's).
    static func read(
        _ packed: [UInt8], at tail: Int, panel g: Int, nr: Int, n: Int, sums: inout [Int32], scales: inout [Float],
        bias: inout [Float], scaleFactor: Float
    ) {
        for r in 0..<nr where g * nr + r < n {
            sums[g * nr + r] = Int32(bitPattern: loadUInt32(packed, tail + 4 * r))
            scales[g * nr + r] = loadFloat(packed, tail + 4 * nr + 4 * r) * scaleFactor
            bias[g * nr + r] = loadFloat(packed, tail + 8 * nr + 4 * r)
        }
    }
}

/// KleidiAI's `qsi4c32pscalef16` layout, as produced by
/// `kai_run_rhs_pack_nxk_qsi4c32pscalef16_qsu4c32s16s0` from ggml `block_q4_0` rows: per panel and
/// block, `nr` f16 scales first, then `bl/kr` segments of `kr/2` bytes per row copied from the
/// source block with each nibble's zero point removed (XOR 0x88). No row sums, no bias. The
/// repack is lossless: every Q4_0 bit survives.
public enum Qsi4c32pScaleF16Packer {
    /// Q4_0's block length; the packer also takes 64 (`[f16 d][32 bytes: j low, j+32 high]`).
    public static let blockLength = 32
    public static let q4_0BlockBytes = 18

    public static func packedSize(n: Int, k: Int, blockLength bl: Int = blockLength, tile: KleidiAITile) -> Int {
        ceilDiv(n, tile.nr) * panelStride(k: k, blockLength: bl, tile: tile)
    }

    public static func panelStride(k: Int, blockLength bl: Int = blockLength, tile: KleidiAITile) -> Int {
        tile.nr * (k / bl) * (bl / 2 + 2)
    }

    /// `blocks`: N rows of K/bl records of `2 + bl/2` bytes (f16 d, then nibbles: j low, j + bl/2
    /// high); for bl 32 exactly ggml's `block_q4_0`.
    public static func pack(
        q4_0 blocks: UnsafeRawBufferPointer, n: Int, k: Int, blockLength bl: Int = blockLength, tile: KleidiAITile,
        fill: UInt8 = 0
    ) -> [UInt8] {
        let nr = tile.nr, kr = tile.kr, record = bl / 2 + 2
        let perRow = k / bl
        precondition(blocks.count == n * perRow * record)
        let stride = panelStride(k: k, blockLength: bl, tile: tile)
        let panels = ceilDiv(n, nr)
        var out = [UInt8](repeating: fill, count: panels * stride)
        out.withUnsafeMutableBufferPointer { o in
            var i = 0
            for g in 0..<panels {
                for b in 0..<perRow {
                    for r in 0..<nr {
                        let src = (Swift.min(g * nr + r, n - 1) * perRow + b) * record
                        o[i] = blocks[src]
                        o[i + 1] = blocks[src + 1]
                        i += 2
                    }
                    for s in 0..<(bl / kr) {
                        for r in 0..<nr {
                            let src = (Swift.min(g * nr + r, n - 1) * perRow + b) * record + 2 + s * kr / 2
                            for j in 0..<(kr / 2) {
                                o[i] = blocks[src + j] ^ 0x88
                                i += 1
                            }
                        }
                    }
                }
            }
        }
        return out
    }

    /// Recovers the exact source records (`block_q4_0` rows for bl 32) from a packed buffer.
    public static func unpack(_ packed: [UInt8], n: Int, k: Int, blockLength bl: Int = blockLength, tile: KleidiAITile)
        -> [UInt8]
    {
        let nr = tile.nr, kr = tile.kr, perRow = k / bl, record = bl / 2 + 2
        var blocks = [UInt8](repeating: 0, count: n * perRow * record)
        var i = 0
        for g in 0..<ceilDiv(n, nr) {
            for b in 0..<perRow {
                for r in 0..<nr {
                    if g * nr + r < n {
                        let dst = ((g * nr + r) * perRow + b) * record
                        blocks[dst] = packed[i]
                        blocks[dst + 1] = packed[i + 1]
                    }
                    i += 2
                }
                for s in 0..<(bl / kr) {
                    for r in 0..<nr {
                        for j in 0..<(kr / 2) {
                            if g * nr + r < n {
                                blocks[((g * nr + r) * perRow + b) * record + 2 + s * kr / 2 + j] = packed[i] ^ 0x88
                            }
                            i += 1
                        }
                    }
                }
            }
        }
        return blocks
    }
}

@inline(__always) func store(_ v: UInt32, _ o: UnsafeMutableBufferPointer<UInt8>, _ at: Int) {
    o[at] = UInt8(truncatingIfNeeded: v)
    o[at + 1] = UInt8(truncatingIfNeeded: v >> 8)
    o[at + 2] = UInt8(truncatingIfNeeded: v >> 16)
    o[at + 3] = UInt8(truncatingIfNeeded: v >> 24)
}
