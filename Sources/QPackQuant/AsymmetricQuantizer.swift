import QPackModel

/// Asymmetric int4 per block of `blockLength` along K (`qai4c32`, KleidiAI's `qai4c32p`): a
/// weight is `scale · (u − 8) + offset`, `u` in 0…15, one f32 scale and one f32 offset per block.
public struct AsymmetricInt4Blocks: Sendable, Hashable {
    public let rows: Int, columns: Int, blockLength: Int
    /// `u` in 0…15, row-major.
    public var codes: [UInt8]
    /// rows × (columns / blockLength).
    public var scales: [Float]
    public var offsets: [Float]

    /// The values the kernels compute with, in float32: `scale · (u − 8) + offset`.
    public func dequantized() -> [Float] {
        (0..<codes.count).map { i in
            let b = i / columns * (columns / blockLength) + i % columns / blockLength
            return scales[b] * Float(Int(codes[i]) - 8) + offsets[b]
        }
    }
}

/// The block search (Formats/qpack-rules.md, `search`): per block of values `x` with minimum
/// `mn` and maximum `mx`, for each ratio α of the search's grid (absmax: α = 1 only; mse: 1.00,
/// 0.98, …, 0.70; importance: 1.14 … 0.555), `scale = α·(mx − mn)/15` (float32), the codes of
/// the grid centred on the block's midpoint, `u = clamp(round((x − lo)/scale), 0, 15)` with
/// `lo = (mn + mx)/2 − 7.5·scale`; then (mse, importance) the offset refitted by (weighted)
/// least squares for those codes and the codes recomputed on the refitted grid; absmax keeps
/// `offset = lo + 8·scale`. The candidate with the least (importance-weighted) squared error of
/// the stored values wins, the first on ties. Float32 throughout, no contraction, so results do
/// not depend on the machine or the thread count.
public enum AsymmetricQuantizer {
    public static func int4Blocks(
        _ w: UnsafeBufferPointer<Float>, rows: Int, columns: Int, blockLength: Int = 32,
        search: ScaleSearch = .default, nonFinite: NonFinitePolicy = .error, threads: Int = 1,
        importance: [Float]? = nil
    ) throws(QuantizationError) -> AsymmetricInt4Blocks {
        precondition(importance == nil || importance!.count == columns)
        precondition(columns % blockLength == 0 && w.count == rows * columns)
        if nonFinite == .error { try WeightQuantizer.checkFinite(w) }
        let blocks = columns / blockLength
        var codes = [UInt8](repeating: 0, count: rows * columns)
        var scales = [Float](repeating: 0, count: rows * blocks), offsets = scales
        codes.withUnsafeMutableBufferPointer { q in
            scales.withUnsafeMutableBufferPointer { sc in
                offsets.withUnsafeMutableBufferPointer { of in
                    let qp = SendablePointer(q.baseAddress!), sp = SendablePointer(sc.baseAddress!)
                    let op = SendablePointer(of.baseAddress!)
                    let wp = SendablePointer(UnsafeMutablePointer(mutating: w.baseAddress!))
                    WeightQuantizer.forEachRowChunk(rows: rows, columns: columns, threads: threads) { rowRange in
                        var x = [Float](repeating: 0, count: blockLength)
                        var weights = [Float](repeating: 1, count: blockLength)
                        var u = [UInt8](repeating: 0, count: blockLength), best = u
                        for r in rowRange {
                            for b in 0..<blocks {
                                let start = r * columns + b * blockLength
                                for j in 0..<blockLength {
                                    let v = wp.p[start + j]
                                    x[j] = v.isFinite ? v : 0
                                    weights[j] = importance?[b * blockLength + j] ?? 1
                                }
                                let (s, o) = quantizeBlock(
                                    x, weights: weights, search: search, codes: &u, best: &best)
                                for j in 0..<blockLength { qp.p[start + j] = best[j] }
                                sp.p[r * blocks + b] = s
                                op.p[r * blocks + b] = o
                            }
                        }
                    }
                }
            }
        }
        return AsymmetricInt4Blocks(
            rows: rows, columns: columns, blockLength: blockLength, codes: codes, scales: scales, offsets: offsets)
    }

    /// One block: the chosen (scale, offset), its codes in `best`.
    static func quantizeBlock(
        _ x: [Float], weights: [Float], search: ScaleSearch, codes u: inout [UInt8], best: inout [UInt8]
    ) -> (Float, Float) {
        var mn = x[0], mx = x[0]
        for v in x {
            mn = min(mn, v)
            mx = max(mx, v)
        }
        guard mx > mn else {  // a constant block: the offset alone
            for j in best.indices { best[j] = 8 }
            return (0, mn)
        }
        // An importance search whose weights are all zero has nothing to weigh: plain mse.
        let weighted = search.method == .importance && weights.contains { $0 > 0 }
        let ratios: [Float]
        switch search {
        case .absmax: ratios = [1]
        case let .mse(r): ratios = r
        case let .importance(r): ratios = weighted ? r : ScaleSearch.defaultRatios
        }
        let mid = mn * 0.5 + mx * 0.5
        var bestError = Float.infinity, bestScale: Float = 0, bestOffset: Float = 0
        for alpha in ratios {
            let scale = alpha * (mx - mn) / 15
            guard scale > 0, scale.isFinite else { continue }
            var offset = (mid - 7.5 * scale) + 8 * scale
            assign(x, scale: scale, offset: offset, to: &u)
            if search.method != .absmax {
                // Least squares offset for these codes, then the codes of the refitted grid.
                var num: Float = 0, den: Float = 0
                for j in x.indices {
                    let wt = weighted ? weights[j] : 1
                    num = num + wt * (x[j] - scale * Float(Int(u[j]) - 8))
                    den = den + wt
                }
                if den > 0 { offset = num / den }
                assign(x, scale: scale, offset: offset, to: &u)
            }
            var error: Float = 0
            for j in x.indices {
                let d = x[j] - (scale * Float(Int(u[j]) - 8) + offset)
                error = error + (weighted ? weights[j] : 1) * (d * d)
            }
            if error < bestError {
                (bestError, bestScale, bestOffset) = (error, scale, offset)
                best = u
            }
        }
        return (bestScale, bestOffset)
    }

    /// u = clamp(round_half_even((x − (offset − 8·scale)) / scale), 0, 15).
    @inline(__always) static func assign(_ x: [Float], scale: Float, offset: Float, to u: inout [UInt8]) {
        let lo = offset - 8 * scale
        for j in x.indices {
            let q = ((x[j] - lo) / scale).rounded(.toNearestOrEven)
            u[j] = UInt8(q < 0 ? 0 : q > 15 ? 15 : q)
        }
    }
}
