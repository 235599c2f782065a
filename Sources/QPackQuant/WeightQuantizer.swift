import CQPackQuantKernels
import Dispatch
import QPackModel

/// Symmetric weight quantizers for the KleidiAI schemes. Float32 arithmetic in a fixed order,
/// never contracted by the compiler (the clip search's squared errors use explicit fused
/// multiply-adds, which IEEE 754 defines exactly), so results do not depend on the machine or on
/// how many threads share the rows.
public enum WeightQuantizer {
    /// `qsi4c32`: int4 per block of `blockLength` along each row, bf16 scales.
    public static func int4Blocks(
        _ w: UnsafeBufferPointer<Float>, rows: Int, columns: Int, blockLength: Int,
        search: ScaleSearch = .default, nonFinite: NonFinitePolicy = .error,
        threads: Int = 1, importance: [Float]? = nil
    ) throws(QuantizationError) -> Int4BlockMatrix {
        precondition(importance == nil || importance!.count == columns)
        precondition(columns % blockLength == 0 && w.count == rows * columns)
        if nonFinite == .error { try checkFinite(w) }
        let blocks = columns / blockLength
        var codes = [Int8](repeating: 0, count: rows * columns)
        var scales = [UInt16](repeating: 0, count: rows * blocks)
        codes.withUnsafeMutableBufferPointer { q in
            scales.withUnsafeMutableBufferPointer { sc in
                let (qp, sp) = (SendablePointer(q.baseAddress!), SendablePointer(sc.baseAddress!))
                let wp = SendablePointer(UnsafeMutablePointer(mutating: w.baseAddress!))
                forEachRowChunk(rows: rows, columns: columns, threads: threads) { rowRange in
                    var buffer = [Float](repeating: 0, count: blockLength)
                    buffer.withUnsafeMutableBufferPointer { x in
                        for r in rowRange {
                            for b in 0..<blocks {
                                let start = r * columns + b * blockLength
                                for j in 0..<blockLength {
                                    let v = wp.p[start + j]
                                    x[j] = v.isFinite ? v : 0
                                }
                                let s = importance.withOptionalPointer(offset: b * blockLength) { wt in
                                    quantizeGroup(
                                        UnsafeBufferPointer(x), qmax: 7, qmin: -8, search: search,
                                        out: qp.p + start, storeScale: roundToBFloat16, weights: wt)
                                }
                                sp.p[r * blocks + b] = BFloat16.fromFloat(s)
                            }
                        }
                    }
                }
            }
        }
        return Int4BlockMatrix(rows: rows, columns: columns, blockLength: blockLength, codes: codes, scales: scales)
    }

    /// `qsi4cx` (bits 4) or `qsi8cx` (bits 8): one f32 scale per row.
    public static func perChannel(
        _ w: UnsafeBufferPointer<Float>, rows: Int, columns: Int, bits: Int,
        search: ScaleSearch = .default, nonFinite: NonFinitePolicy = .error,
        threads: Int = 1, importance: [Float]? = nil
    ) throws(QuantizationError) -> ChannelQuantizedMatrix {
        precondition(importance == nil || importance!.count == columns)
        precondition(w.count == rows * columns && (bits == 4 || bits == 8))
        if nonFinite == .error { try checkFinite(w) }
        let qmax: Float = bits == 4 ? 7 : 127, qmin: Float = bits == 4 ? -8 : -128
        var codes = [Int8](repeating: 0, count: rows * columns)
        var scales = [Float](repeating: 0, count: rows)
        codes.withUnsafeMutableBufferPointer { q in
            scales.withUnsafeMutableBufferPointer { sc in
                let (qp, sp) = (SendablePointer(q.baseAddress!), SendablePointer(sc.baseAddress!))
                let wp = SendablePointer(UnsafeMutablePointer(mutating: w.baseAddress!))
                forEachRowChunk(rows: rows, columns: columns, threads: threads) { rowRange in
                    var buffer = [Float](repeating: 0, count: columns)
                    buffer.withUnsafeMutableBufferPointer { x in
                        for r in rowRange {
                            for j in 0..<columns {
                                let v = wp.p[r * columns + j]
                                x[j] = v.isFinite ? v : 0
                            }
                            sp.p[r] = importance.withOptionalPointer(offset: 0) { wt in
                                quantizeGroup(
                                    UnsafeBufferPointer(x), qmax: qmax, qmin: qmin, search: search,
                                    out: qp.p + r * columns, storeScale: { $0 }, weights: wt)
                            }
                        }
                    }
                }
            }
        }
        return ChannelQuantizedMatrix(rows: rows, columns: columns, bits: bits, codes: codes, scales: scales)
    }

    /// Splits rows into contiguous chunks processed on up to `threads` threads. Each row is
    /// quantized independently, so the split never changes the result.
    static func forEachRowChunk(rows: Int, columns: Int, threads: Int, _ body: @Sendable (Range<Int>) -> Void) {
        let chunks = max(1, min(threads, rows, rows * columns / 65_536))
        if chunks == 1 {
            body(0..<rows)
            return
        }
        DispatchQueue.concurrentPerform(iterations: chunks) { c in
            body((c * rows / chunks)..<((c + 1) * rows / chunks))
        }
    }

    static func checkFinite(_ w: UnsafeBufferPointer<Float>) throws(QuantizationError) {
        guard let base = w.baseAddress else { return }
        let i = qp_first_nonfinite_f32(base, w.count)
        if i < w.count { throw QuantizationError(index: i, value: w[i]) }
    }

    static func roundToBFloat16(_ s: Float) -> Float { Float(bitPattern: UInt32(BFloat16.fromFloat(s)) << 16) }

    /// Quantizes one group into `out`; returns the scale to store (the caller rounds it to the
    /// storage type; `storeScale` does the same rounding for the search). Groups whose scale
    /// (absmax/qmax) would be subnormal are flushed to zero, and candidate scales whose inverse
    /// overflows are skipped, so 1/scale never overflows (BAD-INPUTS N05); such groups hold
    /// nothing above 1.5e-36.
    @inline(__always)
    static func quantizeGroup(
        _ x: UnsafeBufferPointer<Float>, qmax: Float, qmin: Float, search: ScaleSearch,
        out: UnsafeMutablePointer<Int8>, storeScale: (Float) -> Float,
        weights: UnsafePointer<Float>? = nil
    ) -> Float {
        let absmax = absoluteMaximum(x)
        if absmax / qmax < Float.leastNormalMagnitude {
            for i in 0..<x.count { out[i] = 0 }
            return 0
        }
        switch search {
        case .absmax:
            // KleidiAI's reference: codes from the f32 scale; the stored scale is rounded after.
            let scale = absmax / qmax
            encode(x, inv: 1 / scale, qmin: qmin, qmax: qmax, out: out)
            return scale
        case .mse(let ratios), .importance(let ratios):
            var weighted: UnsafePointer<Float>?
            if case .importance = search, let weights, (0..<x.count).contains(where: { weights[$0] > 0 }) {
                weighted = weights
            }
            var grid = ratios
            if case .importance = search, weighted == nil { grid = ScaleSearch.defaultRatios }
            var bestScale: Float = 0, bestError = Float.infinity
            for alpha in grid {
                let s = storeScale(alpha * absmax / qmax)
                guard s > 0, s.isFinite, (1 / s).isFinite else { continue }
                let err =
                    weighted.map { qp_weighted_sq_error_f32(x.baseAddress!, $0, x.count, s, 1 / s, qmin, qmax) }
                    ?? squaredError(x, scale: s, inv: 1 / s, qmin: qmin, qmax: qmax)
                if err < bestError {
                    bestError = err
                    bestScale = s
                }
                // The importance search also tries the weighted least-squares scale for the codes
                // this candidate gives (Σ w·x·q / Σ w·q²), as llama.cpp's importance quantizers do.
                if let w = weighted {
                    let refit = storeScale(qp_weighted_refit_scale_f32(x.baseAddress!, w, x.count, 1 / s, qmin, qmax))
                    guard refit > 0, refit.isFinite, (1 / refit).isFinite, refit != s else { continue }
                    let e2 = qp_weighted_sq_error_f32(x.baseAddress!, w, x.count, refit, 1 / refit, qmin, qmax)
                    if e2 < bestError {
                        bestError = e2
                        bestScale = refit
                    }
                }
            }
            if bestScale == 0 { bestScale = storeScale(absmax / qmax) }
            encode(x, inv: 1 / bestScale, qmin: qmin, qmax: qmax, out: out)
            return bestScale
        }
    }

    /// Round to nearest, ties to even, for |v| ≤ 2^22: adding and subtracting 1.5·2^23 leaves
    /// exactly the rounded value (IEEE addition rounds to nearest even). The C kernels use the
    /// same trick; this Swift form is the scalar definition the tests compare them with.
    @inline(__always) static func roundEven(_ v: Float) -> Float {
        (v + 12_582_912) - 12_582_912
    }

    @inline(__always)
    static func absoluteMaximum(_ x: UnsafeBufferPointer<Float>) -> Float {
        qp_absmax_f32(x.baseAddress!, x.count)
    }

    @inline(__always)
    static func squaredError(_ x: UnsafeBufferPointer<Float>, scale: Float, inv: Float, qmin: Float, qmax: Float)
        -> Float
    {
        qp_sq_error_f32(x.baseAddress!, x.count, scale, inv, qmin, qmax)
    }

    @inline(__always)
    static func encode(
        _ x: UnsafeBufferPointer<Float>, inv: Float, qmin: Float, qmax: Float, out: UnsafeMutablePointer<Int8>
    ) {
        qp_encode_f32(x.baseAddress!, x.count, inv, qmin, qmax, out)
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

extension Optional where Wrapped == [Float] {
    /// Calls `body` with a pointer to element `offset` of the array, or nil.
    @inline(__always)
    func withOptionalPointer<R>(offset: Int, _ body: (UnsafePointer<Float>?) -> R) -> R {
        guard let a = self else { return body(nil) }
        return a.withUnsafeBufferPointer { body($0.baseAddress! + offset) }
    }
}

/// A pointer handed to worker threads that write disjoint ranges of it.
struct SendablePointer<T>: @unchecked Sendable {
    let p: UnsafeMutablePointer<T>
    init(_ p: UnsafeMutablePointer<T>) { self.p = p }
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
