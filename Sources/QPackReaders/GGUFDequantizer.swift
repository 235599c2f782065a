import QPackBinary
import QPackModel

/// Dequantizes ggml blocks to Float with exactly the arithmetic gguf-py uses (float32 products
/// and sums in the same order, no fused multiply-add), so results are bit-identical to
/// `gguf.quants.dequantize`. Q8_K, which gguf-py lacks, follows ggml's `d * q`.
public enum GGUFDequantizer {
    public static func dequantize(_ raw: UnsafeRawBufferPointer, type: GGMLType, count: Int) -> [Float] {
        precondition(type.isDequantizable, "caller checks isDequantizable")
        precondition(
            count % type.blockSize == 0 && raw.count == count / type.blockSize * type.typeSize,
            "caller validated the size")
        guard count > 0 else { return [] }
        let p = raw.baseAddress!.assumingMemoryBound(to: UInt8.self)
        let blocks = count / type.blockSize
        return [Float](unsafeUninitializedCapacity: count) { out, initialized in
            let o = out.baseAddress!
            for b in 0..<blocks {
                let src = p + b * type.typeSize
                let dst = o + b * type.blockSize
                switch type.id {
                case GGMLType.f32.id: dst[0] = Float(bitPattern: u32(src))
                case GGMLType.f16.id: dst[0] = FloatBits.halfToFloat(u16(src))
                case GGMLType.bf16.id: dst[0] = FloatBits.bfloat16ToFloat(u16(src))
                case GGMLType.q4_0.id: q4_0(src, dst)
                case GGMLType.q4_1.id: q4_1(src, dst)
                case GGMLType.q5_0.id: q5_0(src, dst)
                case GGMLType.q5_1.id: q5_1(src, dst)
                case GGMLType.q8_0.id: q8_0(src, dst)
                case GGMLType.q2_K.id: q2_K(src, dst)
                case GGMLType.q3_K.id: q3_K(src, dst)
                case GGMLType.q4_K.id: q4_K(src, dst)
                case GGMLType.q5_K.id: q5_K(src, dst)
                case GGMLType.q6_K.id: q6_K(src, dst)
                case GGMLType.q8_K.id: q8_K(src, dst)
                default: preconditionFailure("unreachable: \(type.name)")
                }
            }
            initialized = count
        }
    }

    @inline(__always) static func u16(_ p: UnsafePointer<UInt8>) -> UInt16 { UInt16(p[0]) | UInt16(p[1]) << 8 }
    @inline(__always) static func u32(_ p: UnsafePointer<UInt8>) -> UInt32 {
        UInt32(p[0]) | UInt32(p[1]) << 8 | UInt32(p[2]) << 16 | UInt32(p[3]) << 24
    }
    @inline(__always) static func half(_ p: UnsafePointer<UInt8>) -> Float { FloatBits.halfToFloat(u16(p)) }

    /// Element j of a 32-element block packed as 16 bytes: low nibbles first, then high nibbles.
    @inline(__always) static func nibble(_ qs: UnsafePointer<UInt8>, _ j: Int) -> UInt8 {
        j < 16 ? qs[j] & 0x0F : qs[j - 16] >> 4
    }

    static func q4_0(_ s: UnsafePointer<UInt8>, _ y: UnsafeMutablePointer<Float>) {
        let d = half(s)
        for j in 0..<32 { y[j] = d * Float(Int(nibble(s + 2, j)) - 8) }
    }

    static func q4_1(_ s: UnsafePointer<UInt8>, _ y: UnsafeMutablePointer<Float>) {
        let d = half(s), m = half(s + 2)
        for j in 0..<32 { y[j] = (d * Float(nibble(s + 4, j))) + m }
    }

    static func q5_0(_ s: UnsafePointer<UInt8>, _ y: UnsafeMutablePointer<Float>) {
        let d = half(s), qh = u32(s + 2)
        for j in 0..<32 {
            let q = nibble(s + 6, j) | UInt8((qh >> UInt32(j)) & 1) << 4
            y[j] = d * Float(Int(q) - 16)
        }
    }

    static func q5_1(_ s: UnsafePointer<UInt8>, _ y: UnsafeMutablePointer<Float>) {
        let d = half(s), m = half(s + 2), qh = u32(s + 4)
        for j in 0..<32 {
            let q = nibble(s + 8, j) | UInt8((qh >> UInt32(j)) & 1) << 4
            y[j] = (d * Float(q)) + m
        }
    }

    static func q8_0(_ s: UnsafePointer<UInt8>, _ y: UnsafeMutablePointer<Float>) {
        let d = half(s)
        for j in 0..<32 { y[j] = Float(Int8(bitPattern: s[2 + j])) * d }
    }

    /// Q2_K: scales[16] | qs[64] | d | dmin. Element j uses 2 bits of qs[(j/128)*32 + j%32] at
    /// shift 2*((j/32)%4), and the 4-bit scale and min of sub-block j/16.
    static func q2_K(_ s: UnsafePointer<UInt8>, _ y: UnsafeMutablePointer<Float>) {
        let scales = s, qs = s + 16
        let d = half(s + 80), dmin = half(s + 82)
        for k in 0..<16 {
            let dl = d * Float(scales[k] & 0x0F)
            let ml = dmin * Float(scales[k] >> 4)
            for i in 0..<16 {
                let j = k * 16 + i
                let c = j / 32
                let q = (qs[(c / 4) * 32 + j % 32] >> UInt8(2 * (c % 4))) & 3
                y[j] = dl * Float(q) - ml
            }
        }
    }

    /// Q3_K: hmask[32] | qs[64] | scales[12] (6-bit, packed) | d.
    static func q3_K(_ s: UnsafePointer<UInt8>, _ y: UnsafeMutablePointer<Float>) {
        let hmask = s, qs = s + 32, sc = s + 96
        let d = half(s + 108)
        for k in 0..<16 {
            let low = k < 8 ? sc[k] & 0x0F : sc[k - 8] >> 4
            let high = (sc[8 + k % 4] >> UInt8(2 * (k / 4))) & 0x03
            let scale = Int(low | high << 4) - 32
            let dl = d * Float(scale)
            for i in 0..<16 {
                let j = k * 16 + i
                let c = j / 32
                let ql = (qs[(c / 4) * 32 + j % 32] >> UInt8(2 * (c % 4))) & 3
                let hbit = (hmask[j % 32] >> UInt8(c)) & 1
                let q = Int(ql) - (hbit == 1 ? 0 : 4)
                y[j] = dl * Float(q)
            }
        }
    }

    /// The 6-bit scale and min of sub-block k of a Q4_K/Q5_K 12-byte scale field.
    @inline(__always) static func scaleMin(_ sc: UnsafePointer<UInt8>, _ k: Int) -> (UInt8, UInt8) {
        if k < 4 { return (sc[k] & 0x3F, sc[k + 4] & 0x3F) }
        let scale = (sc[k + 4] & 0x0F) | ((sc[k - 4] >> 2) & 0x30)
        let min = (sc[k + 4] >> 4) | ((sc[k] >> 2) & 0x30)
        return (scale, min)
    }

    /// Q4_K: d | dmin | scales[12] | qs[128]. Sub-block k (32 elements) reads nibbles of
    /// qs[(k/2)*32 ...], low for even k, high for odd k.
    static func q4_K(_ s: UnsafePointer<UInt8>, _ y: UnsafeMutablePointer<Float>) {
        let d = half(s), dmin = half(s + 2), sc = s + 4, qs = s + 16
        for k in 0..<8 {
            let (scale, min) = scaleMin(sc, k)
            let dk = d * Float(scale), mk = dmin * Float(min)
            let base = qs + (k / 2) * 32
            for i in 0..<32 {
                let q = k % 2 == 0 ? base[i] & 0x0F : base[i] >> 4
                y[k * 32 + i] = dk * Float(q) - mk
            }
        }
    }

    /// Q5_K: d | dmin | scales[12] | qh[32] | qs[128]; the fifth bit of element j is bit j/32 of qh[j%32].
    static func q5_K(_ s: UnsafePointer<UInt8>, _ y: UnsafeMutablePointer<Float>) {
        let d = half(s), dmin = half(s + 2), sc = s + 4, qh = s + 16, qs = s + 48
        for k in 0..<8 {
            let (scale, min) = scaleMin(sc, k)
            let dk = d * Float(scale), mk = dmin * Float(min)
            let base = qs + (k / 2) * 32
            for i in 0..<32 {
                let low = k % 2 == 0 ? base[i] & 0x0F : base[i] >> 4
                let q = low | ((qh[i] >> UInt8(k)) & 1) << 4
                y[k * 32 + i] = dk * Float(q) - mk
            }
        }
    }

    /// Q6_K: ql[128] | qh[64] | scales[16] (int8) | d.
    static func q6_K(_ s: UnsafePointer<UInt8>, _ y: UnsafeMutablePointer<Float>) {
        let ql = s, qh = s + 128, scales = s + 192
        let d = half(s + 208)
        for k in 0..<16 {
            let dk = d * Float(Int8(bitPattern: scales[k]))
            for i in 0..<16 {
                let j = k * 16 + i
                let c = j / 32, g = c / 4, r = c % 4
                let lowByte = ql[g * 64 + (r % 2) * 32 + j % 32]
                let low = r / 2 == 0 ? lowByte & 0x0F : lowByte >> 4
                let high = (qh[g * 32 + j % 32] >> UInt8(2 * r)) & 0x03
                let q = Int(low | high << 4) - 32
                y[j] = dk * Float(q)
            }
        }
    }

    /// Q8_K: d (f32) | qs[256] (int8) | bsums[16] (int16, not needed to dequantize).
    static func q8_K(_ s: UnsafePointer<UInt8>, _ y: UnsafeMutablePointer<Float>) {
        let d = Float(bitPattern: u32(s))
        for j in 0..<256 { y[j] = d * Float(Int8(bitPattern: s[4 + j])) }
    }
}
