import QPackBinary
import QPackModel
import QPackPacking
import QPackPlanning
import QPackQuant
import QPackReaders

/// Produces the section bytes of one planned tensor: converts, quantizes and packs.
enum TensorEncoder {
    struct Options: Sendable {
        var target: KernelTarget
        /// Overrides the rules' `nan` and `search` when set.
        var nonFinite: NonFinitePolicy?
        var search: ScaleSearch?
        /// Threads that share the rows of one tensor (never changes the result).
        var threads: Int = 1
    }

    /// `importance`: mean x² per input channel from calibration, for the importance search.
    /// `columnScale`: smoothing divisors; column j of the matrix is multiplied by columnScale[j]
    /// (float32) before quantization.
    static func encode(
        _ e: PlanEntry, from checkpoint: Checkpoint, file: String, options: Options,
        importance: [Float]? = nil, columnScale: [Float]? = nil
    ) throws(ConvertError) -> [UInt8] {
        let subject = "\(file): tensor '\(e.name)'"
        func values() throws(ConvertError) -> [Float] {
            var v: [Float]
            do {
                guard let f = try checkpoint.floatValues(of: e.name) else {
                    throw ConvertError(.malformed, "\(subject): not found")
                }
                v = f
            } catch let error as ConvertError { throw error } catch let error as ReaderError {
                throw ConvertError(error)
            } catch {
                throw ConvertError(.malformed, "\(subject): \(error)")
            }
            if let cs = columnScale {
                guard let k = e.matrix?[1], cs.count == k, v.count % k == 0 else {
                    throw ConvertError(.malformed, "\(subject): smoothing needs a matrix of K = \(cs.count) columns")
                }
                for i in v.indices { v[i] *= cs[i % k] }
            }
            return v
        }
        let policy = options.nonFinite ?? e.nonFinite
        // The option's search carries its grid; otherwise the plan's method with the documented grids.
        var search = options.search ?? ScaleSearch(e.search == .importance ? .mse : e.search)
        // Importance weights come only for tensors that use them (Converter decides); without
        // them an importance request falls back to the plain search.
        if importance != nil {
            search = .importance(ratios: ScaleSearch.importanceRatios)
        } else if case .importance = search {
            search = .default
        }
        let weights = importance
        func nonFinite(_ i: Int, _ v: Float) -> ConvertError {
            ConvertError(.malformed, "\(subject): \(QuantizationError(index: i, value: v))")
        }
        switch e.scheme {
        case .keep:
            guard let raw = checkpoint.rawBytes(of: e.name) else {
                throw ConvertError(.malformed, "\(subject): not found")
            }
            return Array(raw)
        case .f32:
            var v = try values()
            try sanitize(&v, policy: policy, nonFinite)
            return v.withUnsafeBytes { Array($0) }
        case .f16, .bf16:
            let count = e.shape.reduce(1, *)
            let format: HalfPrecisionStore.Format = e.scheme == .f16 ? .f16 : .bf16
            func store(_ w: PackedQuantizer.Source) throws(ConvertError) -> [UInt8] {
                switch HalfPrecisionStore.store(w, as: format, nonFinite: policy, threads: options.threads) {
                case let .stored(bytes): return bytes
                case let .nonFinite(i, v): throw nonFinite(i, v)
                case let .tooLarge(i, v):
                    throw ConvertError(
                        .malformed,
                        "\(subject): value \(v) at element \(i) does not fit in f16 (max 65504); use f32 or bf16 for this tensor"
                    )
                }
            }
            if columnScale == nil, let plain = checkpoint.plainFloats(of: e.name),
                plain.bytes.count == count * plain.encoding.byteWidth
            {
                return try store(
                    PackedQuantizer.Source(bytes: plain.bytes, encoding: plain.encoding, rows: count, columns: 1))
            }
            let v = try values()
            let result = v.withUnsafeBytes { raw in
                Result { () throws(ConvertError) in
                    try store(PackedQuantizer.Source(bytes: raw, encoding: .f32, rows: v.count, columns: 1))
                }
            }
            return try result.get()
        case let .qsi4c32(bl):
            let m = e.matrix!, tile = tileOf(e)
            if weights == nil {
                return try packedDirectly(
                    e, from: checkpoint, subject: subject, columnScale: columnScale, values: values
                ) { w throws(QuantizationError) in
                    try PackedQuantizer.qsi4c32p(
                        w, blockLength: bl, tile: tile, search: search, nonFinite: policy, threads: options.threads)
                }
            }
            let v = try values()
            do {
                let q = try v.withUnsafeBufferPointer { w throws(QuantizationError) in
                    try WeightQuantizer.int4Blocks(
                        w, rows: m[0], columns: m[1], blockLength: bl, search: search, nonFinite: policy,
                        threads: options.threads, importance: weights)
                }
                return Qsi4c32pPacker.pack(q, bias: nil, tile: tile)
            } catch { throw ConvertError(.malformed, "\(subject): \(error)") }
        case .qai4c32:
            let m = e.matrix!
            let v = try values()
            do {
                let q = try v.withUnsafeBufferPointer { w throws(QuantizationError) in
                    try AsymmetricQuantizer.int4Blocks(
                        w, rows: m[0], columns: m[1], search: search, nonFinite: policy, threads: options.threads,
                        importance: weights)
                }
                return Qai4c32pPacker.pack(
                    codes: q.codes, scales: q.scales, offsets: q.offsets, bias: nil, n: m[0], k: m[1], blockLength: 32,
                    tile: tileOf(e))
            } catch { throw ConvertError(.malformed, "\(subject): \(error)") }
        case .qsi4cx, .qsi8cx:
            let m = e.matrix!, tile = tileOf(e)
            let bits = e.scheme == .qsi4cx ? 4 : 8
            if weights == nil {
                return try packedDirectly(
                    e, from: checkpoint, subject: subject, columnScale: columnScale, values: values
                ) { w throws(QuantizationError) in
                    bits == 4
                        ? try PackedQuantizer.qsi4cxp(
                            w, tile: tile, search: search, nonFinite: policy, threads: options.threads)
                        : try PackedQuantizer.qsi8cxp(
                            w, tile: tile, search: search, nonFinite: policy, threads: options.threads)
                }
            }
            let v = try values()
            do {
                let q = try v.withUnsafeBufferPointer { w throws(QuantizationError) in
                    try WeightQuantizer.perChannel(
                        w, rows: m[0], columns: m[1], bits: bits, search: search, nonFinite: policy,
                        threads: options.threads, importance: weights)
                }
                return bits == 4
                    ? Qsi4cxpPacker.pack(q, bias: nil, tile: tile) : Qsi8cxpPacker.pack(q, bias: nil, tile: tile)
            } catch { throw ConvertError(.malformed, "\(subject): \(error)") }
        case .repack:
            guard columnScale == nil else {
                throw ConvertError(.usage, "\(subject): a lossless repack cannot be smoothed")
            }
            guard let raw = checkpoint.rawBytes(of: e.name), let repack = e.scheme.family?.repack, let m = e.matrix,
                case let .repack(source) = e.scheme
            else {
                throw ConvertError(.malformed, "\(subject): no \(e.scheme.name) source blocks")
            }
            do throws(RepackError) {
                return try repack(source, raw, m[0], m[1], tileOf(e))
            } catch {
                throw ConvertError(.malformed, "\(subject): \(error); choose another scheme for it in a rule")
            }
        }
    }

    /// Quantize-and-pack (every search but importance, which needs WeightQuantizer): straight
    /// from the checkpoint's bytes when they are plain floats (no float copy of the tensor), else
    /// from its decoded values (GGUF block types, smoothed columns).
    static func packedDirectly(
        _ e: PlanEntry, from checkpoint: Checkpoint, subject: String, columnScale: [Float]?,
        values: () throws(ConvertError) -> [Float],
        encode: (PackedQuantizer.Source) throws(QuantizationError) -> [UInt8]
    ) throws(ConvertError) -> [UInt8] {
        let m = e.matrix!
        func run(_ w: PackedQuantizer.Source) throws(ConvertError) -> [UInt8] {
            do throws(QuantizationError) { return try encode(w) } catch {
                throw ConvertError(.malformed, "\(subject): \(error)")
            }
        }
        if columnScale == nil, let plain = checkpoint.plainFloats(of: e.name),
            plain.bytes.count == m[0] * m[1] * plain.encoding.byteWidth
        {
            return try run(
                PackedQuantizer.Source(bytes: plain.bytes, encoding: plain.encoding, rows: m[0], columns: m[1]))
        }
        let v = try values()
        guard v.count == m[0] * m[1] else {
            throw ConvertError(.malformed, "\(subject): \(v.count) values for a \(m[0])x\(m[1]) matrix")
        }
        let result = v.withUnsafeBytes { raw in
            Result { () throws(ConvertError) in
                try run(PackedQuantizer.Source(bytes: raw, encoding: .f32, rows: m[0], columns: m[1]))
            }
        }
        return try result.get()
    }

    static func tileOf(_ e: PlanEntry) -> KleidiAITile {
        KleidiAITile(nr: e.tile!.nr, kr: e.tile!.kr, sr: e.tile!.sr)
    }

    /// Applies the non-finite policy to float-kept tensors.
    static func sanitize(_ v: inout [Float], policy: NonFinitePolicy, _ error: (Int, Float) -> ConvertError)
        throws(ConvertError)
    {
        for i in 0..<v.count where !v[i].isFinite {
            if policy == .error { throw error(i, v[i]) }
            v[i] = 0
        }
    }
}
