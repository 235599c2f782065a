import QPackBinary
import QPackModel

/// Converts raw little-endian safetensors elements to Float.
enum ElementDecoder {
    static func floats(from raw: UnsafeRawBufferPointer, dtype: SafetensorsDType, count: Int) -> [Float] {
        precondition(raw.count == count * dtype.byteSize)
        return [Float](unsafeUninitializedCapacity: count) { out, initialized in
            switch dtype {
            case .f32:
                #if _endian(little)
                    if count > 0 {
                        UnsafeMutableRawPointer(out.baseAddress!).copyMemory(
                            from: raw.baseAddress!, byteCount: 4 * count)
                    }
                #else
                    for i in 0..<count {
                        out[i] = Float(
                            bitPattern: UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: 4 * i, as: UInt32.self)))
                    }
                #endif
            case .f16:
                for i in 0..<count {
                    out[i] = FloatBits.halfToFloat(
                        UInt16(littleEndian: raw.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self)))
                }
            case .bf16:
                for i in 0..<count {
                    out[i] = FloatBits.bfloat16ToFloat(
                        UInt16(littleEndian: raw.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self)))
                }
            case .f64:
                for i in 0..<count {
                    out[i] = FloatBits.doubleToFloat(
                        Double(
                            bitPattern: UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: 8 * i, as: UInt64.self)))
                    )
                }
            case .i64:
                for i in 0..<count {
                    out[i] = Float(Int64(littleEndian: raw.loadUnaligned(fromByteOffset: 8 * i, as: Int64.self)))
                }
            case .i32:
                for i in 0..<count {
                    out[i] = Float(Int32(littleEndian: raw.loadUnaligned(fromByteOffset: 4 * i, as: Int32.self)))
                }
            case .i16:
                for i in 0..<count {
                    out[i] = Float(Int16(littleEndian: raw.loadUnaligned(fromByteOffset: 2 * i, as: Int16.self)))
                }
            case .i8:
                for i in 0..<count { out[i] = Float(Int8(bitPattern: raw[i])) }
            case .u8:
                for i in 0..<count { out[i] = Float(raw[i]) }
            case .bool:
                for i in 0..<count { out[i] = raw[i] != 0 ? 1 : 0 }
            }
            initialized = count
        }
    }
}
