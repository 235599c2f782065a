import CQPackQuantKernels
import Dispatch
import QPackModel

/// Float tensors stored as f16 or bf16 (round to nearest even), straight from the source's
/// bytes (qp_float_store.c; F16C on x86 when present): the same bytes as
/// `FloatBits.floatToHalf` / `BFloat16.fromFloat` per element, checked by the tests.
public enum HalfPrecisionStore {
    public enum Format: Sendable { case f16, bf16 }

    public enum Outcome: Sendable, Equatable {
        case stored([UInt8])
        /// The first NaN or ±Inf (only without `nonFinite: .zero`).
        case nonFinite(index: Int, value: Float)
        /// The first finite value beyond f16's range (|x| > 65504).
        case tooLarge(index: Int, value: Float)
    }

    public static func store(
        _ w: PackedQuantizer.Source, as format: Format, nonFinite: NonFinitePolicy, threads: Int = 1
    ) -> Outcome {
        let count = w.rows * w.columns
        let runs = max(1, min(threads, count / 262_144))
        let firsts = UnsafeMutableBufferPointer<(Int, Int)>.allocate(capacity: runs)
        defer { firsts.deallocate() }
        firsts.initialize(repeating: (Int.max, Int.max))
        let out = [UInt8](unsafeUninitializedCapacity: 2 * count) { buffer, written in
            written = 2 * count
            guard count > 0 else { return }
            var source = qp_weight_source(
                data: w.bytes.baseAddress, encoding: w.encoding.cCode, rows: w.rows, cols: w.columns)
            let code = Int32(format == .f16 ? QP_STORE_F16 : QP_STORE_BF16), zero: Int32 = nonFinite == .zero ? 1 : 0
            withUnsafeMutablePointer(to: &source) { src in
                let (sp, o, f) = (
                    SendablePointer(src), SendablePointer(buffer.baseAddress!), SendablePointer(firsts.baseAddress!)
                )
                DispatchQueue.concurrentPerform(iterations: runs) { i in
                    let begin = i * count / runs, end = (i + 1) * count / runs
                    var bad = 0, large = 0
                    qp_store_floats(UnsafePointer(sp.p), begin, end, code, zero, o.p + 2 * begin, &bad, &large)
                    f.p[i] = (bad < 0 ? Int.max : bad, large < 0 ? Int.max : large)  // SIZE_MAX reads as -1
                }
            }
        }
        let bad = firsts.map(\.0).min()!, large = firsts.map(\.1).min()!
        if nonFinite != .zero && bad != Int.max { return .nonFinite(index: bad, value: w.value(at: bad)) }
        if large != Int.max { return .tooLarge(index: large, value: w.value(at: large)) }
        return .stored(out)
    }
}
