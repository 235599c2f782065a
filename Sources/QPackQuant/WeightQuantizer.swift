import QPackModel

/// Symmetric weight quantizers for the KleidiAI schemes. Float32 arithmetic without fused
/// multiply-add, so results do not depend on the machine.
public enum WeightQuantizer {
    /// `qsi4c32`: int4 per block of `blockLength` along each row, bf16 scales.
    public static func int4Blocks(_ w: UnsafeBufferPointer<Float>, rows: Int, columns: Int, blockLength: Int,
                                  search: ScaleSearch = .default, nonFinite: NonFinitePolicy = .error) throws(QuantizationError) -> Int4BlockMatrix {
        precondition(columns % blockLength == 0 && w.count == rows * columns)
        if nonFinite == .error { try checkFinite(w) }
        let blocks = columns / blockLength
        var codes = [Int8](repeating: 0, count: rows * columns)
        var scales = [UInt16](repeating: 0, count: rows * blocks)
        codes.withUnsafeMutableBufferPointer { q in
            var buffer = [Float](repeating: 0, count: blockLength)
            for r in 0..<rows {
                for b in 0..<blocks {
                    let start = r * columns + b * blockLength
                    for j in 0..<blockLength {
                        let v = w[start + j]
                        buffer[j] = v.isFinite ? v : 0
                    }
                    let bits = buffer.withUnsafeBufferPointer { x in
                        quantizeGroup(x, qmax: 7, qmin: -8, search: search, out: UnsafeMutableBufferPointer(rebasing: q[start..<(start + blockLength)]),
                                      storeScale: { Float(bitPattern: UInt32(BFloat16.fromFloat($0)) << 16) })
                    }
                    scales[r * blocks + b] = BFloat16.fromFloat(bits)
                }
            }
        }
        return Int4BlockMatrix(rows: rows, columns: columns, blockLength: blockLength, codes: codes, scales: scales)
    }

    /// `qsi4cx` (bits 4) or `qsi8cx` (bits 8): one f32 scale per row.
    public static func perChannel(_ w: UnsafeBufferPointer<Float>, rows: Int, columns: Int, bits: Int,
                                  search: ScaleSearch = .default, nonFinite: NonFinitePolicy = .error) throws(QuantizationError) -> ChannelQuantizedMatrix {
        precondition(w.count == rows * columns && (bits == 4 || bits == 8))
        if nonFinite == .error { try checkFinite(w) }
        let qmax: Float = bits == 4 ? 7 : 127, qmin: Float = bits == 4 ? -8 : -128
        var codes = [Int8](repeating: 0, count: rows * columns)
        var scales = [Float](repeating: 0, count: rows)
        codes.withUnsafeMutableBufferPointer { q in
            var buffer = [Float](repeating: 0, count: columns)
            for r in 0..<rows {
                for j in 0..<columns {
                    let v = w[r * columns + j]
                    buffer[j] = v.isFinite ? v : 0
                }
                scales[r] = buffer.withUnsafeBufferPointer { x in
                    quantizeGroup(x, qmax: qmax, qmin: qmin, search: search,
                                  out: UnsafeMutableBufferPointer(rebasing: q[(r * columns)..<((r + 1) * columns)]), storeScale: { $0 })
                }
            }
        }
        return ChannelQuantizedMatrix(rows: rows, columns: columns, bits: bits, codes: codes, scales: scales)
    }

    static func checkFinite(_ w: UnsafeBufferPointer<Float>) throws(QuantizationError) {
        for i in 0..<w.count where !w[i].isFinite {
            throw QuantizationError(index: i, value: w[i])
        }
    }

    /// Quantizes one group in place into `out`; returns the f32 scale to store (before any
    /// storage rounding the caller applies). `storeScale` rounds a scale the way it will be stored.
    @inline(__always)
    static func quantizeGroup(_ x: UnsafeBufferPointer<Float>, qmax: Float, qmin: Float, search: ScaleSearch,
                              out: UnsafeMutableBufferPointer<Int8>, storeScale: (Float) -> Float) -> Float {
        var absmax: Float = 0
        for v in x { absmax = Swift.max(absmax, abs(v)) }
        if absmax == 0 {
            for i in 0..<out.count { out[i] = 0 }
            return 0
        }
        switch search {
        case .absmax:
            // KleidiAI's reference: codes from the f32 scale; the stored scale is rounded after.
            let scale = absmax / qmax
            let inv: Float = scale != 0 ? 1 / scale : 0
            for i in 0..<x.count { out[i] = code(x[i] * inv, qmin, qmax) }
            return scale
        case let .mse(ratios):
            var bestScale: Float = 0, bestError = Float.infinity
            for alpha in ratios {
                let s = storeScale(alpha * absmax / qmax)
                guard s > 0, s.isFinite else { continue }
                let inv = 1 / s
                var err: Float = 0
                for v in x {
                    let d = v - Float(code(v * inv, qmin, qmax)) * s
                    err += d * d
                }
                if err < bestError {
                    bestError = err
                    bestScale = s
                }
            }
            if bestScale == 0 { bestScale = storeScale(absmax / qmax) }
            let inv = 1 / bestScale
            for i in 0..<x.count { out[i] = code(x[i] * inv, qmin, qmax) }
            return bestScale
        }
    }

    @inline(__always) static func code(_ v: Float, _ qmin: Float, _ qmax: Float) -> Int8 {
        Int8(Swift.max(qmin, Swift.min(qmax, v.rounded(.toNearestOrEven))))
    }

    /// Dequantized values of a `qsi4c32` matrix (q · bf16 scale).
    public static func dequantize(_ m: Int4BlockMatrix) -> [Float] {
        var out = [Float](repeating: 0, count: m.rows * m.columns)
        for r in 0..<m.rows {
            for b in 0..<m.blocksPerRow {
                let s = Float(bitPattern: UInt32(m.scales[r * m.blocksPerRow + b]) << 16)
                for j in 0..<m.blockLength {
                    let i = r * m.columns + b * m.blockLength + j
                    out[i] = Float(m.codes[i]) * s
                }
            }
        }
        return out
    }

    public static func dequantize(_ m: ChannelQuantizedMatrix) -> [Float] {
        var out = [Float](repeating: 0, count: m.rows * m.columns)
        for r in 0..<m.rows {
            for j in 0..<m.columns { out[r * m.columns + j] = Float(m.codes[r * m.columns + j]) * m.scales[r] }
        }
        return out
    }
}

/// bfloat16 rounding (round to nearest even; NaN stays NaN), as PyTorch's `to(bfloat16)` and
/// Arm's BFCVT do.
public enum BFloat16 {
    public static func fromFloat(_ f: Float) -> UInt16 {
        let x = f.bitPattern
        if f.isNaN { return UInt16(x >> 16) | 0x40 }
        let rounded = x &+ 0x7FFF &+ ((x >> 16) & 1)
        return UInt16(rounded >> 16)
    }
}
