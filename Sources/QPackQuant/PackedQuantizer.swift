import CQPackQuantKernels
import Dispatch
import QPackModel
import QPackPacking

/// Quantizes weights straight into KleidiAI's packed layouts, one panel of rows at a time,
/// reading F32/F16/BF16 source bytes as they are (qp_quant_pack.c). The bytes equal
/// `Qsi4c32pPacker.pack(WeightQuantizer.int4Blocks(...))` and its per-channel counterparts
/// exactly (the tests compare them), without a float copy of the tensor or a matrix of codes:
/// the conversion's hot path. The importance search is not here (it stays in WeightQuantizer).
public enum PackedQuantizer {
    /// A row-major `rows` x `columns` matrix stored as `encoding` (any alignment).
    public struct Source {
        public let bytes: UnsafeRawBufferPointer
        public let encoding: PlainFloatEncoding
        public let rows: Int
        public let columns: Int

        public init(bytes: UnsafeRawBufferPointer, encoding: PlainFloatEncoding, rows: Int, columns: Int) {
            precondition(bytes.count == rows * columns * encoding.byteWidth)
            self.bytes = bytes
            self.encoding = encoding
            self.rows = rows
            self.columns = columns
        }
    }

    /// `qsi4c32p`; `fill` (tests) presets every byte so one never written shows.
    public static func qsi4c32p(
        _ w: Source, blockLength bl: Int, tile: KleidiAITile, search: ScaleSearch, nonFinite: NonFinitePolicy,
        threads: Int = 1, fill: UInt8? = nil
    ) throws(QuantizationError) -> [UInt8] {
        precondition(w.columns % bl == 0)
        let size = Qsi4c32pPacker.packedSize(n: w.rows, k: w.columns, blockLength: bl, tile: tile)
        return try run(w, size: size, nr: tile.nr, search: search, nonFinite: nonFinite, threads: threads, fill: fill) {
            src, s, g0, g1, out in
            qp_quant_pack_qsi4c32p(src, bl, tile.nr, tile.depth, s, g0, g1, out)
        }
    }

    /// `qsi4cxp` (int4 per row).
    public static func qsi4cxp(
        _ w: Source, tile: KleidiAITile, search: ScaleSearch, nonFinite: NonFinitePolicy,
        threads: Int = 1, fill: UInt8? = nil
    ) throws(QuantizationError) -> [UInt8] {
        let size = Qsi4cxpPacker.packedSize(n: w.rows, k: w.columns, tile: tile)
        return try run(w, size: size, nr: tile.nr, search: search, nonFinite: nonFinite, threads: threads, fill: fill) {
            src, s, g0, g1, out in
            qp_quant_pack_qsi4cxp(src, tile.nr, tile.depth, s, g0, g1, out)
        }
    }

    /// `qsi8cxp` (int8 per row).
    public static func qsi8cxp(
        _ w: Source, tile: KleidiAITile, search: ScaleSearch, nonFinite: NonFinitePolicy,
        threads: Int = 1, fill: UInt8? = nil
    ) throws(QuantizationError) -> [UInt8] {
        let size = Qsi8cxpPacker.packedSize(n: w.rows, k: w.columns, tile: tile)
        return try run(w, size: size, nr: tile.nr, search: search, nonFinite: nonFinite, threads: threads, fill: fill) {
            src, s, g0, g1, out in
            qp_quant_pack_qsi8cxp(src, tile.nr, tile.kr, s, g0, g1, out)
        }
    }

    typealias Kernel =
        @Sendable (UnsafePointer<qp_weight_source>, qp_scale_search, Int, Int, UnsafeMutablePointer<UInt8>) -> Int64

    /// Splits the panels into contiguous runs, one per thread; each panel depends only on its
    /// own rows, so the split never changes the bytes. The first non-finite value is the
    /// smallest index any run stopped at (runs cover the rows in order).
    static func run(
        _ w: Source, size: Int, nr: Int, search: ScaleSearch, nonFinite: NonFinitePolicy, threads: Int, fill: UInt8?,
        _ kernel: Kernel
    ) throws(QuantizationError) -> [UInt8] {
        let ratios: [Float]
        switch search {
        case .absmax: ratios = []
        case let .mse(r): ratios = r
        case .importance: preconditionFailure("the importance search needs weights; use WeightQuantizer")
        }
        let panels = (w.rows + nr - 1) / nr
        let runs = max(1, min(threads, panels, w.rows * w.columns / 65_536))
        let stops = UnsafeMutableBufferPointer<Int64>.allocate(capacity: runs)
        defer { stops.deallocate() }
        stops.initialize(repeating: -1)
        let out = [UInt8](unsafeUninitializedCapacity: size) { buffer, count in
            if let fill { buffer.initialize(repeating: fill) }
            count = size
            guard size > 0 else { return }
            var source = qp_weight_source(
                data: w.bytes.baseAddress, encoding: w.encoding.cCode, rows: w.rows, cols: w.columns)
            ratios.withUnsafeBufferPointer { r in
                var s = qp_scale_search(
                    ratios: r.baseAddress, nratios: r.count, zero_nonfinite: nonFinite == .zero ? 1 : 0)
                let (o, st) = (SendablePointer(buffer.baseAddress!), SendablePointer(stops.baseAddress!))
                withUnsafeMutablePointer(to: &source) { src in
                    withUnsafeMutablePointer(to: &s) { search in
                        let (sp, sc) = (SendablePointer(src), SendablePointer(search))
                        DispatchQueue.concurrentPerform(iterations: runs) { i in
                            st.p[i] = kernel(
                                UnsafePointer(sp.p), sc.p.pointee, i * panels / runs, (i + 1) * panels / runs, o.p)
                        }
                    }
                }
            }
        }
        if stops.contains(-2) { fatalError("out of memory for a few rows of scratch") }
        if let first = stops.filter({ $0 >= 0 }).min() {
            throw QuantizationError(index: Int(first), value: w.value(at: Int(first)))
        }
        return out
    }
}

extension PackedQuantizer.Source {
    /// Element `i` as Float (for error messages).
    func value(at i: Int) -> Float {
        switch encoding {
        case .f32: return Float(bitPattern: bytes.loadUnaligned(fromByteOffset: 4 * i, as: UInt32.self).littleEndian)
        case .f16:
            return Float(Float16(bitPattern: bytes.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self).littleEndian))
        case .bf16:
            return Float(
                bitPattern: UInt32(bytes.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self).littleEndian) << 16)
        }
    }
}

extension PlainFloatEncoding {
    var cCode: Int32 {
        switch self {
        case .f32: return Int32(QP_SOURCE_F32)
        case .f16: return Int32(QP_SOURCE_F16)
        case .bf16: return Int32(QP_SOURCE_BF16)
        }
    }
}
