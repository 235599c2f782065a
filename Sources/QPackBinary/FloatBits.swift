/// Exact conversions between the storage float formats and Float, done on bit patterns so the
/// result never depends on the platform's Float16 support.
public enum FloatBits {
    /// IEEE binary16 to binary32. Exact for every input (binary32 holds every binary16 value),
    /// NaN payloads kept in the high mantissa bits, signs of zero kept.
    @inline(__always)
    public static func halfToFloat(_ h: UInt16) -> Float {
        let sign = UInt32(h & 0x8000) << 16
        let exp = UInt32(h >> 10) & 0x1F
        let mant = UInt32(h & 0x3FF)
        if exp == 0 {
            if mant == 0 { return Float(bitPattern: sign) }
            // Subnormal: value = mant * 2^-24, exactly representable.
            let magnitude = Float(mant) * 0x1p-24
            return sign != 0 ? -magnitude : magnitude
        }
        if exp == 0x1F {
            return Float(bitPattern: sign | 0x7F80_0000 | (mant << 13))
        }
        return Float(bitPattern: sign | ((exp + 112) << 23) | (mant << 13))
    }

    /// bfloat16 to binary32: the top 16 bits of a binary32 (exact).
    @inline(__always)
    public static func bfloat16ToFloat(_ b: UInt16) -> Float {
        Float(bitPattern: UInt32(b) << 16)
    }

    /// binary64 to binary32 with IEEE round-to-nearest-even; overflow goes to infinity, as the
    /// C cast does.
    @inline(__always)
    public static func doubleToFloat(_ d: Double) -> Float {
        Float(d)
    }

    /// binary32 to binary16 with round-to-nearest-even (used by writers and tests).
    public static func floatToHalf(_ f: Float) -> UInt16 {
        let x = f.bitPattern
        let sign = UInt16((x >> 16) & 0x8000)
        let exp = Int((x >> 23) & 0xFF)
        var mant = x & 0x7F_FFFF
        if exp == 0xFF {
            return sign | 0x7C00 | (mant != 0 ? UInt16(0x200 | (mant >> 13)) : 0)
        }
        let e = exp - 127 + 15
        if e >= 0x1F { return sign | 0x7C00 }
        if e <= 0 {
            if e < -10 { return sign }
            mant |= 0x80_0000
            let shift = UInt32(14 - e)
            let half = UInt32(1) << (shift - 1)
            var m = mant >> shift
            let rem = mant & ((UInt32(1) << shift) - 1)
            if rem > half || (rem == half && (m & 1) == 1) { m += 1 }
            return sign | UInt16(m)
        }
        var h = UInt32(e) << 10 | (mant >> 13)
        let rem = mant & 0x1FFF
        if rem > 0x1000 || (rem == 0x1000 && (h & 1) == 1) { h += 1 }
        return sign | UInt16(h)
    }

    /// Little-endian bytes (a multiple of 4) as IEEE binary32 values.
    public static func littleEndianFloats(_ bytes: [UInt8]) -> [Float] {
        (0..<(bytes.count / 4)).map { (i: Int) -> Float in
            let b0 = UInt32(bytes[4 * i]), b1 = UInt32(bytes[4 * i + 1]) << 8
            let b2 = UInt32(bytes[4 * i + 2]) << 16, b3 = UInt32(bytes[4 * i + 3]) << 24
            return Float(bitPattern: b0 | b1 | b2 | b3)
        }
    }

    /// IEEE binary32 values as little-endian bytes.
    public static func littleEndianBytes(_ values: [Float]) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: values.count * 4)
        for (i, v) in values.enumerated() {
            let b = v.bitPattern
            out[4 * i] = UInt8(truncatingIfNeeded: b); out[4 * i + 1] = UInt8(truncatingIfNeeded: b >> 8)
            out[4 * i + 2] = UInt8(truncatingIfNeeded: b >> 16); out[4 * i + 3] = UInt8(truncatingIfNeeded: b >> 24)
        }
        return out
    }
}
