import QPackBinary
import QPackContainer
import QPackModel
import QPackPacking
import QPackQuant

/// Reads a tensor of a `.qpack` file back to float32: unpacks the KleidiAI layout into codes
/// and scales and dequantizes them (Formats/qpack-container.md §5). Used by `inspect --dequant`
/// and by the tests that check every packed tensor against its source.
public enum ContainerTensorDecoder {
    /// Values in the source's element order; for matrices, row-major N x K. A smoothed tensor's
    /// stored values are divided back by its divisors (spec §4.5.2), into the source's space.
    public static func floats(_ t: ContainerFile.Tensor, in file: ContainerFile) throws(ContainerError) -> [Float] {
        var v = try storedFloats(t, in: file)
        if let d = try divisors(t, in: file) {
            for i in v.indices { v[i] /= d[i % d.count] }
        }
        return v
    }

    /// The smoothing divisors of a tensor (K positive finite float32 values), or nil.
    public static func divisors(_ t: ContainerFile.Tensor, in file: ContainerFile) throws(ContainerError) -> [Float]? {
        guard let sm = t.activation?.smoothing else { return nil }
        let d = FloatBits.littleEndianFloats(try file.sectionBytes(sm.section))
        if let bad = d.firstIndex(where: { !($0.isFinite && $0 > 0) }) {
            throw ContainerError(
                .malformed, file: file.fileName, subject: "tensor '\(t.name)'",
                "smoothing divisor \(bad) in section '\(sm.section)' is \(d[bad]), not a positive finite number")
        }
        return d
    }

    /// The values as stored: for a smoothed tensor, the weights times the divisors.
    public static func storedFloats(_ t: ContainerFile.Tensor, in file: ContainerFile) throws(ContainerError) -> [Float]
    {
        let bytes = try file.sectionBytes(t.section)
        func u16(_ i: Int) -> UInt16 { UInt16(bytes[2 * i]) | UInt16(bytes[2 * i + 1]) << 8 }
        switch t.scheme {
        case .f32: return FloatBits.littleEndianFloats(bytes)
        case .f16: return (0..<(bytes.count / 2)).map { FloatBits.halfToFloat(u16($0)) }
        case .bf16: return (0..<(bytes.count / 2)).map { FloatBits.bfloat16ToFloat(u16($0)) }
        case .keep:
            guard t.sourceType == "F32" else {
                throw ContainerError(
                    .malformed, file: file.fileName, subject: "tensor '\(t.name)'",
                    "kept as \(t.sourceType); no float view")
            }
            return FloatBits.littleEndianFloats(bytes)
        default:
            guard let family = t.scheme.family, let m = t.matrix, let l = t.layout else {
                throw ContainerError(
                    .malformed, file: file.fileName, subject: "tensor '\(t.name)'",
                    "\(t.scheme.name) needs a matrix and a layout")
            }
            return family.unpack(
                bytes, m.rows, m.columns, t.scheme.blockLength ?? 0, KleidiAITile(nr: l.nr, kr: l.kr, sr: l.sr)
            ).values
        }
    }
}

/// How far decoded values are from reference values.
public struct ErrorMetrics: Sendable, Codable, Equatable {
    public let rmse: Double
    public let maxAbsError: Double
    /// Root-mean-square error relative to the reference's root-mean-square.
    public let relativeRMSE: Double
    /// 10·log10(signal power / error power); infinite when exact.
    public let snrDB: Double
    public let cosine: Double

    public init(reference: [Float], values: [Float]) {
        precondition(reference.count == values.count)
        var err2 = 0.0, sig2 = 0.0, dot = 0.0, val2 = 0.0, maxErr = 0.0
        for (r, v) in zip(reference, values) {
            let d = Double(v) - Double(r)
            err2 += d * d
            sig2 += Double(r) * Double(r)
            val2 += Double(v) * Double(v)
            dot += Double(r) * Double(v)
            maxErr = max(maxErr, abs(d))
        }
        let n = Double(max(reference.count, 1))
        rmse = (err2 / n).squareRoot()
        maxAbsError = maxErr
        relativeRMSE = sig2 > 0 ? (err2 / sig2).squareRoot() : (err2 == 0 ? 0 : .infinity)
        snrDB = err2 == 0 ? .infinity : 10 * log10(sig2 / err2)
        cosine = (sig2 > 0 && val2 > 0) ? dot / (sig2.squareRoot() * val2.squareRoot()) : (sig2 == val2 ? 1 : 0)
    }
}

import Foundation
