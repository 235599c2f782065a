/// KleidiAI's `qai4c32p` layout (asymmetric int4 in blocks of `bl` along K with an f32 scale and
/// an f32 offset per block, f32 bias per row), as written by
/// `kai_run_rhs_pack_nxk_qai4c32p_qau4c32s0s1_f32_f32_f32_neon` (Formats/qpack-container.md §5.5).
/// A weight is `scale · (code − 8) + offset`; GGUF Q4_1 (`d·q + m`) maps onto it exactly with
/// `code = q`, `scale = d`, `offset = m + 8d` whenever that sum is a float32 number.
public enum Qai4c32pPacker {
    public static let q4_1BlockBytes = 20
    public static let q4_KBlockBytes = 144

    public static func packedSize(n: Int, k: Int, blockLength bl: Int, tile: KleidiAITile) -> Int {
        ceilDiv(n, tile.nr) * panelStride(k: k, blockLength: bl, tile: tile)
    }

    public static func panelStride(k: Int, blockLength bl: Int, tile: KleidiAITile) -> Int {
        tile.nr * ((k / bl) * (bl / 2 + 8) + 4)
    }

    /// Why the shape or tile cannot be packed, or nil: KleidiAI's packer needs sr 2, an even kr of
    /// at most 16 dividing bl, bl a multiple of 32 and K a multiple of bl.
    public static func problem(k: Int, blockLength bl: Int, tile: KleidiAITile) -> String? {
        guard tile.nr > 0, tile.sr == 2, tile.kr > 0, tile.kr <= 16, tile.kr % 2 == 0, bl > 0, bl % 32 == 0,
            bl % tile.kr == 0, k % bl == 0
        else { return "tile \(tile) with bl \(bl) and K = \(k) is not a qai4c32p layout" }
        return nil
    }

    /// The K index held in the low nibble of data byte `kl` (0 ≤ kl < bl/2) of a row's block; the
    /// high nibble holds the value 16 further (pairs inside every 32 values).
    @inline(__always) static func lowIndex(_ kl: Int) -> Int { 32 * (kl / 16) + kl % 16 }

    /// `codes`: N x K values in 0...15 (zero point 8), row-major; `scales`, `offsets`: N x (K/bl);
    /// `bias`: N or nil (zeros). Rows past N in the last panel repeat row N−1.
    public static func pack(
        codes: [UInt8], scales: [Float], offsets: [Float], bias: [Float]?, n: Int, k: Int, blockLength bl: Int,
        tile: KleidiAITile, fill: UInt8 = 0
    ) -> [UInt8] {
        let nr = tile.nr, L = tile.kr / tile.sr, blocks = k / bl,
            stride = panelStride(k: k, blockLength: bl, tile: tile)
        let record = nr * (bl / 2 + 8)
        var out = [UInt8](repeating: fill, count: ceilDiv(n, nr) * stride)
        out.withUnsafeMutableBufferPointer { o in
            for g in 0..<ceilDiv(n, nr) {
                let panel = g * stride
                for b in 0..<blocks {
                    let base = panel + b * record
                    for i in 0..<(nr * bl / 2) {
                        let t = i / L, r = t % nr, kl = (t / nr) * L + i % L
                        let row = Swift.min(g * nr + r, n - 1), k0 = row * k + b * bl + lowIndex(kl)
                        o[base + i] = (codes[k0] & 0x0F | (codes[k0 + 16] & 0x0F) << 4) ^ 0x88
                    }
                    for r in 0..<nr {
                        let row = Swift.min(g * nr + r, n - 1)
                        store(offsets[row * blocks + b].bitPattern, o, base + nr * bl / 2 + 4 * r)
                        store((scales[row * blocks + b] * 0.0625).bitPattern, o, base + nr * bl / 2 + 4 * nr + 4 * r)
                    }
                }
                for r in 0..<nr {
                    store((bias?[Swift.min(g * nr + r, n - 1)] ?? 0).bitPattern, o, panel + blocks * record + 4 * r)
                }
            }
        }
        return out
    }

    /// A source block that `qai4c32p` cannot hold exactly: its offset (Q4_1 `m + 8d`, Q4_K
    /// `8·d·sc − dmin·m`) is not a float32 number. `block` counts blocks of 32 along the row.
    public struct InexactBlock: Error, CustomStringConvertible {
        public let source: String
        public let row: Int, block: Int
        public let scale: Float, offset: Double
        public var description: String {
            "\(source) block \(block) of row \(row) (scale \(scale)): its offset \(offset) is not a float32 number, so"
                + " qai4c32p cannot hold it exactly"
        }
    }

    /// GGUF Q4_1 rows (N rows of K/32 blocks: f16 d, f16 m, 16 bytes with value j low and j+16
    /// high) into the layout, bit for bit: every block is checked to be exact first.
    public static func repack(q4_1 blocks: UnsafeRawBufferPointer, n: Int, k: Int, tile: KleidiAITile, fill: UInt8 = 0)
        throws(InexactBlock) -> [UInt8]
    {
        let perRow = k / 32
        precondition(blocks.count == n * perRow * q4_1BlockBytes)
        var codes = [UInt8](repeating: 0, count: n * k)
        var scales = [Float](repeating: 0, count: n * perRow), offsets = scales
        for row in 0..<n {
            for b in 0..<perRow {
                let at = (row * perRow + b) * q4_1BlockBytes
                let d = Float(Float16(bitPattern: UInt16(blocks[at]) | UInt16(blocks[at + 1]) << 8))
                let m = Float(Float16(bitPattern: UInt16(blocks[at + 2]) | UInt16(blocks[at + 3]) << 8))
                let offset = m + 8 * d  // 8d is exact; the sum must be too
                guard Double(offset) == Double(m) + 8 * Double(d) else {
                    throw InexactBlock(source: "Q4_1", row: row, block: b, scale: d, offset: Double(m) + 8 * Double(d))
                }
                scales[row * perRow + b] = d
                offsets[row * perRow + b] = offset
                for j in 0..<16 {
                    let byte = blocks[at + 4 + j]
                    codes[row * k + 32 * b + j] = byte & 0x0F
                    codes[row * k + 32 * b + j + 16] = byte >> 4
                }
            }
        }
        return pack(
            codes: codes, scales: scales, offsets: offsets, bias: nil, n: n, k: k, blockLength: 32, tile: tile,
            fill: fill)
    }

    /// GGUF Q4_K rows (N rows of K/256 super-blocks: f16 d, f16 dmin, 12 bytes of 6-bit sub-block
    /// scales and mins, 128 bytes of nibbles) into the layout: each 32-value sub-block j is a
    /// block with `scale = d·sc_j` (exact: 11 x 6 bits) and `offset = 8·d·sc_j − dmin·m_j`,
    /// checked exact, codes unchanged.
    public static func repack(q4_K blocks: UnsafeRawBufferPointer, n: Int, k: Int, tile: KleidiAITile, fill: UInt8 = 0)
        throws(InexactBlock) -> [UInt8]
    {
        let perRow = k / 256
        precondition(blocks.count == n * perRow * q4_KBlockBytes)
        var codes = [UInt8](repeating: 0, count: n * k)
        var scales = [Float](repeating: 0, count: n * k / 32), offsets = scales
        func half(_ at: Int) -> Float { Float(Float16(bitPattern: UInt16(blocks[at]) | UInt16(blocks[at + 1]) << 8)) }
        for row in 0..<n {
            for sb in 0..<perRow {
                let at = (row * perRow + sb) * q4_KBlockBytes
                let d = half(at), dmin = half(at + 2)
                for j in 0..<8 {
                    // ggml's get_scale_min_k4: 6-bit scale and min of sub-block j.
                    let q = { (i: Int) in blocks[at + 4 + i] }
                    let sc = j < 4 ? q(j) & 0x3F : (q(j + 4) & 0x0F) | ((q(j - 4) >> 2) & 0x30)
                    let mn = j < 4 ? q(j + 4) & 0x3F : (q(j + 4) >> 4) | ((q(j) >> 2) & 0x30)
                    let scale = d * Float(sc), minimum = dmin * Float(mn)  // both exact
                    let exact = 8 * Double(scale) - Double(minimum)
                    let block = sb * 8 + j
                    guard Double(Float(exact)) == exact else {
                        throw InexactBlock(source: "Q4_K", row: row, block: block, scale: scale, offset: exact)
                    }
                    scales[row * (k / 32) + block] = scale
                    offsets[row * (k / 32) + block] = Float(exact)
                    for l in 0..<32 {
                        let byte = blocks[at + 16 + (j / 2) * 32 + l]
                        codes[row * k + 32 * block + l] = j % 2 == 0 ? byte & 0x0F : byte >> 4
                    }
                }
            }
        }
        return pack(
            codes: codes, scales: scales, offsets: offsets, bias: nil, n: n, k: k, blockLength: 32, tile: tile,
            fill: fill)
    }

    /// KleidiAI's SME2 variant of the layout (`qai4c32ps1s0nrx4`, written by
    /// `kai_run_rhs_pack_nxk_qai4c32ps1s0nrx4_qau4c32{s0s1,s1s0}_f32_f32_f32_neon`; kr/sr = 4, nr a
    /// multiple of 4): the same panel and block sizes, but per block, for each 16-value group g
    /// and jj < 4, for each row two bytes of unsigned sequential nibbles (values 16g + 4jj … + 3,
    /// low nibble first), then the offsets and the scales not divided by 16; the bias after the
    /// blocks is 0 for rows past N. No kernel qpack runs reads it; convert does not write it.
    public static func packSME2(
        codes: [UInt8], scales: [Float], offsets: [Float], bias: [Float]?, n: Int, k: Int, blockLength bl: Int,
        tile: KleidiAITile, fill: UInt8 = 0
    ) -> [UInt8] {
        let nr = tile.nr, blocks = k / bl, stride = panelStride(k: k, blockLength: bl, tile: tile)
        let record = nr * (bl / 2 + 8)
        var out = [UInt8](repeating: fill, count: ceilDiv(n, nr) * stride)
        out.withUnsafeMutableBufferPointer { o in
            for g in 0..<ceilDiv(n, nr) {
                let panel = g * stride
                for b in 0..<blocks {
                    let base = panel + b * record
                    for r in 0..<nr {
                        let row = Swift.min(g * nr + r, n - 1)
                        for group in 0..<(bl / 16) {
                            for jj in 0..<4 {
                                let k0 = row * k + b * bl + 16 * group + 4 * jj,
                                    at = base + group * nr * 8 + jj * nr * 2 + 2 * r
                                o[at] = codes[k0] & 0x0F | (codes[k0 + 1] & 0x0F) << 4
                                o[at + 1] = codes[k0 + 2] & 0x0F | (codes[k0 + 3] & 0x0F) << 4
                            }
                        }
                        store(offsets[row * blocks + b].bitPattern, o, base + nr * bl / 2 + 4 * r)
                        store(scales[row * blocks + b].bitPattern, o, base + nr * bl / 2 + 4 * nr + 4 * r)
                    }
                }
                for r in 0..<nr {
                    let value = g * nr + r < n ? bias?[g * nr + r] ?? 0 : 0
                    store(value.bitPattern, o, panel + blocks * record + 4 * r)
                }
            }
        }
        return out
    }

    /// Codes, scales, offsets and bias read back from a packed buffer.
    public static func unpack(_ packed: [UInt8], n: Int, k: Int, blockLength bl: Int, tile: KleidiAITile) -> (
        codes: [UInt8], scales: [Float], offsets: [Float], bias: [Float]
    ) {
        let nr = tile.nr, L = tile.kr / tile.sr, blocks = k / bl,
            stride = panelStride(k: k, blockLength: bl, tile: tile)
        let record = nr * (bl / 2 + 8)
        var codes = [UInt8](repeating: 0, count: n * k)
        var scales = [Float](repeating: 0, count: n * blocks), offsets = scales
        var bias = [Float](repeating: 0, count: n)
        for row in 0..<n {
            let g = row / nr, r = row % nr, panel = g * stride
            for b in 0..<blocks {
                let base = panel + b * record
                for kl in 0..<(bl / 2) {
                    let byte = packed[base + ((kl / L) * nr + r) * L + kl % L] ^ 0x88
                    codes[row * k + b * bl + lowIndex(kl)] = byte & 0x0F
                    codes[row * k + b * bl + lowIndex(kl) + 16] = byte >> 4
                }
                offsets[row * blocks + b] = loadFloat(packed, base + nr * bl / 2 + 4 * r)
                scales[row * blocks + b] = loadFloat(packed, base + nr * bl / 2 + 4 * nr + 4 * r) * 16
            }
            bias[row] = loadFloat(packed, panel + blocks * record + 4 * r)
        }
        return (codes, scales, offsets, bias)
    }
}
