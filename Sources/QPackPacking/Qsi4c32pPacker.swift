import QPackModel

/// KleidiAI's `qsi4c32p` RHS layout (int4 per block of `bl` along K, bf16 scales), as produced by
/// `kai_run_rhs_pack_{nxk,kxn}_qsi4c32p_qsu4c32s1s0` (Formats/kleidiai-layouts.md, section 2).
///
/// Panel of `nr` rows: for each block, `nr*bl/2` bytes of nibbles (element k in the low nibble,
/// k+16 in the high, in segments of L = kr/sr values per row, rows interleaved) then `nr` bf16
/// scales; after all blocks `nr` f32 row sums and `nr` f32 biases. Rows past N repeat row N-1.
public enum Qsi4c32pPacker {
    public struct ShapeError: Error, Sendable, Equatable, CustomStringConvertible {
        public let description: String
    }

    public static func validate(k: Int, blockLength bl: Int, tile: KleidiAITile) throws(ShapeError) {
        guard bl > 0, bl % 32 == 0 else { throw ShapeError(description: "block length \(bl) is not a multiple of 32") }
        guard k % bl == 0 else { throw ShapeError(description: "K = \(k) is not a multiple of the block length \(bl)") }
        guard tile.sr > 0, tile.kr % tile.sr == 0, bl % tile.kr == 0, 16 % tile.depth == 0, tile.nr % 4 == 0 else {
            throw ShapeError(description: "tile \(tile) does not fit block length \(bl)")
        }
    }

    /// Bytes per panel of `nr` rows (`kai_get_rhs_packed_stride_…`).
    public static func panelStride(k: Int, blockLength bl: Int, tile: KleidiAITile) -> Int {
        tile.nr * ((k / bl) * (bl / 2 + 2) + 4 + 4)
    }

    public static func packedSize(n: Int, k: Int, blockLength bl: Int, tile: KleidiAITile) -> Int {
        ceilDiv(n, tile.nr) * panelStride(k: k, blockLength: bl, tile: tile)
    }

    /// Offset of the panel holding row `nIndex` (`nIndex % nr == 0`).
    public static func packedOffset(nIndex: Int, k: Int, blockLength bl: Int, tile: KleidiAITile) -> Int {
        (nIndex / tile.nr) * panelStride(k: k, blockLength: bl, tile: tile)
    }

    /// Packs nxk weights. `bias` nil packs zeros, as KleidiAI does for a NULL bias. `fill` is the
    /// buffer's initial byte; every byte is overwritten (tests pass sentinels to prove it).
    public static func pack(_ m: Int4BlockMatrix, bias: [Float]?, tile: KleidiAITile, fill: UInt8 = 0) -> [UInt8] {
        let n = m.rows, k = m.columns, bl = m.blockLength, nr = tile.nr, L = tile.depth
        let blocks = k / bl
        let stride = panelStride(k: k, blockLength: bl, tile: tile)
        let panels = ceilDiv(n, nr)
        var out = [UInt8](repeating: fill, count: panels * stride)
        m.codes.withUnsafeBufferPointer { codes in
            m.scales.withUnsafeBufferPointer { scales in
                out.withUnsafeMutableBufferPointer { o in
                    let base = o.baseAddress!
                    var rowSums = [Float](repeating: 0, count: nr)
                    for g in 0..<panels {
                        let panel = base + g * stride
                        for r in 0..<nr { rowSums[r] = 0 }
                        for b in 0..<blocks {
                            let blockBase = panel + b * nr * (bl / 2 + 2)
                            var i = 0
                            for c in 0..<(bl / 32) {
                                for s in 0..<(16 / L) {
                                    for r in 0..<nr {
                                        let row = Swift.min(g * nr + r, n - 1)
                                        let d = FloatBitsLite.bfloat16ToFloat(scales[row * blocks + b])
                                        let src = codes.baseAddress! + row * k + b * bl + 32 * c + s * L
                                        var partial: Int32 = 0
                                        for j in 0..<L {
                                            let lo = src[j], hi = src[j + 16]
                                            partial &+= Int32(lo) &+ Int32(hi)
                                            blockBase[i] =
                                                UInt8(bitPattern: lo) & 0x0F | (UInt8(bitPattern: hi) & 0x0F) << 4
                                            i += 1
                                        }
                                        // KleidiAI's scalar packer accumulates per segment in storage order.
                                        rowSums[r] += Float(partial) * d
                                    }
                                }
                            }
                            let sc = blockBase + nr * bl / 2
                            for r in 0..<nr {
                                let bits = scales[Swift.min(g * nr + r, n - 1) * blocks + b]
                                sc[2 * r] = UInt8(truncatingIfNeeded: bits)
                                sc[2 * r + 1] = UInt8(truncatingIfNeeded: bits >> 8)
                            }
                        }
                        let tail = panel + blocks * nr * (bl / 2 + 2)
                        for r in 0..<nr {
                            storeFloat(rowSums[r], tail + 4 * r)
                            storeFloat(bias?[Swift.min(g * nr + r, n - 1)] ?? 0, tail + 4 * nr + 4 * r)
                        }
                    }
                }
            }
        }
        return out
    }

    /// Packs kxn codes (K rows of ceil(N/2) bytes, low nibble = even n, zero point 8) exactly as
    /// `kai_run_rhs_pack_kxn_qsi4c32p_qsu4c32s1s0` does, including its padded-row quirk: rows past
    /// N take the byte of row N-1 but the nibble chosen by their own parity.
    public static func packKxN(
        codes: [UInt8], n: Int, k: Int, blockLength bl: Int, scales: [UInt16], bias: [Float]?, tile: KleidiAITile,
        fill: UInt8 = 0
    ) -> [UInt8] {
        let stride = (n + 1) / 2
        let blocks = k / bl
        return pack(
            n: n, k: k, blockLength: bl, tile: tile, fill: fill,
            code: { row, col in
                let byte = codes[col * stride + Swift.min(row, n - 1) / 2]
                let u = row % 2 == 0 ? byte & 0x0F : byte >> 4
                return Int8(u) - 8
            },
            scale: { row, b in scales[Swift.min(row, n - 1) * blocks + b] },
            bias: { row in bias?[Swift.min(row, n - 1)] ?? 0 })
    }

    /// The packing loop, over accessors so nxk and kxn share it. `code(row, k)` is called with
    /// unclamped rows (up to the padded panel end).
    static func pack(
        n: Int, k: Int, blockLength bl: Int, tile: KleidiAITile, fill: UInt8,
        code: (Int, Int) -> Int8, scale: (Int, Int) -> UInt16, bias: (Int) -> Float
    ) -> [UInt8] {
        let nr = tile.nr, L = tile.depth
        let blocks = k / bl
        let stride = panelStride(k: k, blockLength: bl, tile: tile)
        let panels = ceilDiv(n, nr)
        var out = [UInt8](repeating: fill, count: panels * stride)
        out.withUnsafeMutableBytes { raw in
            let o = raw.baseAddress!.assumingMemoryBound(to: UInt8.self)
            for g in 0..<panels {
                let panel = o + g * stride
                var rowSums = [Float](repeating: 0, count: nr)
                for b in 0..<blocks {
                    let blockBase = panel + b * nr * (bl / 2 + 2)
                    var i = 0
                    for c in 0..<(bl / 32) {
                        for s in 0..<(16 / L) {
                            for r in 0..<nr {
                                let row = g * nr + r
                                let d = FloatBitsLite.bfloat16ToFloat(scale(row, b))
                                var partial: Int32 = 0
                                for j in 0..<L {
                                    let kk = b * bl + 32 * c + s * L + j
                                    let lo = code(row, kk), hi = code(row, kk + 16)
                                    partial += Int32(lo) + Int32(hi)
                                    blockBase[i] = UInt8(bitPattern: lo) & 0x0F | (UInt8(bitPattern: hi) & 0x0F) << 4
                                    i += 1
                                }
                                // KleidiAI's scalar packer accumulates per segment in storage order.
                                rowSums[r] += Float(partial) * d
                            }
                        }
                    }
                    let scales = blockBase + nr * bl / 2
                    for r in 0..<nr {
                        let bits = scale(g * nr + r, b)
                        scales[2 * r] = UInt8(truncatingIfNeeded: bits)
                        scales[2 * r + 1] = UInt8(truncatingIfNeeded: bits >> 8)
                    }
                }
                let tail = panel + blocks * nr * (bl / 2 + 2)
                for r in 0..<nr {
                    storeFloat(rowSums[r], tail + 4 * r)
                    storeFloat(bias(g * nr + r), tail + 4 * nr + 4 * r)
                }
            }
        }
        return out
    }

    /// Reads codes, scales and biases back out of a packed buffer (rows < n only).
    public static func unpack(_ packed: [UInt8], n: Int, k: Int, blockLength bl: Int, tile: KleidiAITile) -> (
        matrix: Int4BlockMatrix, bias: [Float], rowSums: [Float]
    ) {
        let nr = tile.nr, L = tile.depth, blocks = k / bl
        let stride = panelStride(k: k, blockLength: bl, tile: tile)
        var codes = [Int8](repeating: 0, count: n * k)
        var scales = [UInt16](repeating: 0, count: n * blocks)
        var bias = [Float](repeating: 0, count: n)
        var sums = [Float](repeating: 0, count: n)
        for g in 0..<ceilDiv(n, nr) {
            let panel = g * stride
            for b in 0..<blocks {
                let blockBase = panel + b * nr * (bl / 2 + 2)
                var i = 0
                for c in 0..<(bl / 32) {
                    for s in 0..<(16 / L) {
                        for r in 0..<nr {
                            for j in 0..<L {
                                let row = g * nr + r
                                let byte = packed[blockBase + i]
                                i += 1
                                guard row < n else { continue }
                                let kk = b * bl + 32 * c + s * L + j
                                codes[row * k + kk] = signExtend4(byte & 0x0F)
                                codes[row * k + kk + 16] = signExtend4(byte >> 4)
                            }
                        }
                    }
                }
                for r in 0..<nr where g * nr + r < n {
                    let at = blockBase + nr * bl / 2 + 2 * r
                    scales[(g * nr + r) * blocks + b] = UInt16(packed[at]) | UInt16(packed[at + 1]) << 8
                }
            }
            let tail = panel + blocks * nr * (bl / 2 + 2)
            for r in 0..<nr where g * nr + r < n {
                sums[g * nr + r] = loadFloat(packed, tail + 4 * r)
                bias[g * nr + r] = loadFloat(packed, tail + 4 * nr + 4 * r)
            }
        }
        return (Int4BlockMatrix(rows: n, columns: k, blockLength: bl, codes: codes, scales: scales), bias, sums)
    }
}

@inline(__always) func signExtend4(_ nibble: UInt8) -> Int8 {
    Int8(bitPattern: nibble << 4) >> 4
}

@inline(__always) func storeFloat(_ v: Float, _ p: UnsafeMutablePointer<UInt8>) {
    storeUInt32(v.bitPattern, p)
}

@inline(__always) func storeUInt32(_ v: UInt32, _ p: UnsafeMutablePointer<UInt8>) {
    p[0] = UInt8(truncatingIfNeeded: v)
    p[1] = UInt8(truncatingIfNeeded: v >> 8)
    p[2] = UInt8(truncatingIfNeeded: v >> 16)
    p[3] = UInt8(truncatingIfNeeded: v >> 24)
}

@inline(__always) func loadUInt32(_ a: [UInt8], _ at: Int) -> UInt32 {
    UInt32(a[at]) | UInt32(a[at + 1]) << 8 | UInt32(a[at + 2]) << 16 | UInt32(a[at + 3]) << 24
}

@inline(__always) func loadFloat(_ a: [UInt8], _ at: Int) -> Float { Float(bitPattern: loadUInt32(a, at)) }

/// bf16 and f16 bit conversions (QPackPacking may import only QPackModel).
enum FloatBitsLite {
    @inline(__always) static func bfloat16ToFloat(_ b: UInt16) -> Float { Float(bitPattern: UInt32(b) << 16) }
}
