/// Static per-tensor int8 activation quantization from a clip range [lo, hi], with exactly the
/// float32 arithmetic KleidiAI's dynamic qai8dxp packer uses on a row's own min and max (the C
/// runtime's qp_lhs_quant_pack_qai8dxp_f32_range does the same): a range equal to a row's min
/// and max gives the dynamic packer's bytes.
public struct ActivationQuantizer: Sendable, Equatable {
    /// Codes per unit (q = round(x·multiplier) + zeroPoint).
    public let multiplier: Float
    /// The dequantization step stored in the packed LHS (1 / multiplier).
    public let step: Float
    public let zeroPoint: Int32

    public init(lo: Float, hi: Float) {
        let rmin = min(0, lo), rmax = max(0, hi)
        let scale: Float = rmin == rmax ? 1 : 255 / (rmax - rmin)
        multiplier = scale
        step = 1 / scale
        let dmin = rmin * scale, dmax = rmax * scale
        let zpf: Float = ((-128 + dmin) + (127 + dmax) > 0) ? (-128 - dmin) : (127 - dmax)
        zeroPoint = Int32(min(127, max(-128, zpf)).rounded(.toNearestOrEven))
    }

    /// The int8 code of x (round half away from zero, then saturate).
    @inline(__always)
    public func code(_ x: Float) -> Int8 {
        // Saturated in float first: a huge or NaN product (data from a file) must not trap the
        // conversion; any value past ±512 saturates the same way after adding the zero point.
        let r = (x * multiplier).rounded(.toNearestOrAwayFromZero)
        let v = Int32(r.isNaN ? 0 : min(512, max(-512, r))) + zeroPoint
        return Int8(min(127, max(-128, v)))
    }

    /// The value the kernels see for x.
    @inline(__always)
    public func dequantized(_ x: Float) -> Float { Float(Int32(code(x)) - zeroPoint) * step }
}

/// A clip range for static activation quantization; lo ≤ 0 ≤ hi once quantized.
public struct ActivationRange: Sendable, Equatable, CustomStringConvertible {
    public let lo: Float
    public let hi: Float
    public init(lo: Float, hi: Float) {
        self.lo = lo
        self.hi = hi
    }
    public var description: String { "[\(lo), \(hi)]" }
}
