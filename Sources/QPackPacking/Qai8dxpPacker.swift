/// KleidiAI's `qai8dxp` LHS layout: each row of activations quantized to asymmetric int8 at run
/// time, as `kai_run_lhs_quant_pack_qai8dxp_f32` does (Formats/kleidiai-layouts.md, section 3).
/// The C runtime does this on the device; this Swift version defines and tests the bytes.
public enum Qai8dxpPacker {
    public static func packedSize(m: Int, k: Int, mr: Int) -> Int {
        ceilDiv(m, mr) * mr * (roundUp(k, 32) + 8)
    }

    public static func packedOffset(mIndex: Int, k: Int, mr: Int) -> Int {
        (mIndex / mr) * mr * (roundUp(k, 32) + 8)
    }

    /// Quantization of one row: multiplier, stored scale (1 / multiplier) and zero point.
    public static func rowParameters(_ x: UnsafeBufferPointer<Float>) -> (
        multiplier: Float, scale: Float, zeroPoint: Int32
    ) {
        var mn = Float.greatestFiniteMagnitude, mx = -Float.greatestFiniteMagnitude
        for v in x {
            mn = Swift.min(mn, v)
            mx = Swift.max(mx, v)
        }
        let rmin = Swift.min(0, mn), rmax = Swift.max(0, mx)
        let multiplier: Float = rmin == rmax ? 1 : 255 / (rmax - rmin)
        let recip: Float = 1 / multiplier
        let dmin = rmin * multiplier, dmax = rmax * multiplier
        let zpf: Float = ((-128 + dmin) + (127 + dmax) > 0) ? (-128 - dmin) : (127 - dmax)
        let zp = Int32(Swift.max(-128, Swift.min(127, zpf)).rounded(.toNearestOrEven))
        return (multiplier, recip, zp)
    }

    /// Packs `m` rows of `k` floats (row-major). Rows past `m` in the last panel are left as
    /// `fill` (KleidiAI does not write them). Non-finite inputs are not supported (the caller
    /// checks); they are treated as 0 here rather than trapping.
    public static func pack(_ lhs: [Float], m: Int, k: Int, mr: Int, kr: Int, sr: Int, fill: UInt8 = 0) -> [UInt8] {
        precondition(lhs.count == m * k && kr % sr == 0)
        let L = kr / sr, kp = roundUp(k, 32)
        var out = [UInt8](repeating: fill, count: packedSize(m: m, k: k, mr: mr))
        lhs.withUnsafeBufferPointer { x in
            out.withUnsafeMutableBufferPointer { o in
                for row in 0..<m {
                    let xr = UnsafeBufferPointer(rebasing: x[(row * k)..<((row + 1) * k)])
                    let (mul, recip, zp) = rowParameters(xr)
                    let panel = (row / mr) * mr * (kp + 8), r = row % mr
                    var last: Int8 = 0
                    for col in 0..<kp {
                        let q: Int8
                        if col < k {
                            let v = xr[col] * mul
                            let rounded =
                                v.isFinite
                                ? Int32(Swift.max(-1e9, Swift.min(1e9, v)).rounded(.toNearestOrAwayFromZero)) : 0
                            q = Int8(Swift.max(-128, Swift.min(127, rounded + zp)))
                            last = q
                        } else {
                            q = last  // K padding repeats the last valid value
                        }
                        let b = col / L, j = col % L
                        o[panel + (b * mr + r) * L + j] = UInt8(bitPattern: q)
                    }
                    store(UInt32(bitPattern: -zp), o, panel + mr * kp + 4 * r)
                    store(recip.bitPattern, o, panel + mr * kp + 4 * mr + 4 * r)
                }
            }
        }
        return out
    }
}
