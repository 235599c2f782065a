import Testing
import QPackModel
import QPackPacking
import QPackTestSupport
@testable import QPackQuant

/// The quantize-and-pack path against the two-step one it replaces in `qpack convert`
/// (WeightQuantizer then the Swift packers, which the KleidiAI oracle tests pin): byte for byte,
/// over random shapes, every tile of both targets, the three source encodings, both searches,
/// both non-finite policies, padded panels and thread splits.
@Suite struct PackedQuantizerTests {
    static let encodings: [PlainFloatEncoding] = [.f32, .f16, .bf16]
    static let searches: [ScaleSearch] = [.absmax, .default, .mse(ratios: [0.9, 1.05, 0.75])]

    /// Random values of the kinds that matter: ordinary weights, outliers, all-zero groups,
    /// groups whose largest magnitude is subnormal or barely normal (1/scale near overflow),
    /// and, when asked, NaN and ±Inf.
    static func values(_ count: Int, groups: Int, nonFinite: Bool, rng: inout SplitMix64) -> [Float] {
        var v = (0..<count).map { _ in Float(Int64(bitPattern: rng.next() % 2_000_001) - 1_000_000) * 1e-6 }
        let groupLength = count / max(1, groups)
        for g in 0..<groups where groupLength > 0 {
            let range = (g * groupLength)..<((g + 1) * groupLength)
            switch rng.next() % 8 {
            case 0: for i in range { v[i] = 0 }
            case 1: for i in range { v[i] *= 0x1p-130 }  // subnormal
            case 2: for i in range { v[i] *= 3e-38 }
            case 3: v[range.lowerBound + Int(rng.next() % UInt64(groupLength))] = 40
            default: break
            }
        }
        if nonFinite {
            for _ in 0..<3 {
                v[Int(rng.next() % UInt64(count))] = [Float.nan, .infinity, -.infinity][Int(rng.next() % 3)]
            }
        }
        return v
    }

    /// The bytes of `v` in `encoding` and the floats those bytes decode to.
    static func encode(_ v: [Float], _ encoding: PlainFloatEncoding) -> (bytes: [UInt8], decoded: [Float]) {
        var bytes: [UInt8] = [], decoded: [Float] = []
        for x in v {
            switch encoding {
            case .f32:
                bytes += withUnsafeBytes(of: x.bitPattern.littleEndian, Array.init)
                decoded.append(x)
            case .f16:
                let h = Float16(x)
                bytes += withUnsafeBytes(of: h.bitPattern.littleEndian, Array.init)
                decoded.append(Float(h))
            case .bf16:
                let b = BFloat16.fromFloat(x)
                bytes += withUnsafeBytes(of: b.littleEndian, Array.init)
                decoded.append(Float(bitPattern: UInt32(b) << 16))
            }
        }
        return (bytes, decoded)
    }

    /// Both paths' result: the packed bytes, or the error (index and value).
    static func outcome(_ body: () throws(QuantizationError) -> [UInt8]) -> Result<[UInt8], QuantizationError> {
        do throws(QuantizationError) { return .success(try body()) } catch { return .failure(error) }
    }

    @Test func int4BlocksEqualQuantizeThenPack() {
        var rng = SplitMix64(seed: 41)
        let tiles = [
            KleidiAITile(nr: 8, kr: 8, sr: 2), KleidiAITile(nr: 8, kr: 16, sr: 2), KleidiAITile(nr: 4, kr: 8, sr: 2),
            KleidiAITile(nr: 4, kr: 4, sr: 2), KleidiAITile(nr: 4, kr: 16, sr: 1),
        ]  // L = 4, 8, 4, 2, 16
        var compared = 0, failures = 0
        for trial in 0..<180 {
            let bl = [32, 64, 128, 256][trial % 4]
            let rows = 1 + Int(rng.next() % 21), columns = bl * (1 + Int(rng.next() % 3))
            let tile = tiles[trial % tiles.count], encoding = Self.encodings[trial % 3]
            let search = Self.searches[(trial / 3) % 3]
            let policy: NonFinitePolicy = trial % 5 == 0 ? .error : .zero
            let (bytes, decoded) = Self.encode(
                Self.values(rows * columns, groups: rows * columns / bl, nonFinite: trial % 5 < 2, rng: &rng), encoding)
            let expected = Self.outcome { () throws(QuantizationError) in
                let q = try decoded.withUnsafeBufferPointer { w throws(QuantizationError) in
                    try WeightQuantizer.int4Blocks(
                        w, rows: rows, columns: columns, blockLength: bl, search: search, nonFinite: policy)
                }
                return Qsi4c32pPacker.pack(q, bias: nil, tile: tile, fill: 0x5A)
            }
            for threads in [1, 3] {
                let got = bytes.withUnsafeBytes { raw in
                    Self.outcome { () throws(QuantizationError) in
                        try PackedQuantizer.qsi4c32p(
                            .init(bytes: raw, encoding: encoding, rows: rows, columns: columns), blockLength: bl,
                            tile: tile, search: search, nonFinite: policy, threads: threads, fill: 0xA5)
                    }
                }
                #expect(
                    got == expected,
                    "trial \(trial): \(rows)x\(columns) bl \(bl) \(tile) \(encoding) \(search.name) \(policy) threads \(threads)"
                )
                compared += 1
                if case .failure = got { failures += 1 }
            }
        }
        #expect(compared == 360 && failures > 20, "both outcomes are exercised")
    }

    @Test(arguments: [4, 8])
    func perChannelEqualsQuantizeThenPack(bits: Int) {
        var rng = SplitMix64(seed: UInt64(bits))
        let tiles =
            bits == 4
            ? [KleidiAITile(nr: 4, kr: 8, sr: 2), KleidiAITile(nr: 8, kr: 16, sr: 2)]
            : [KleidiAITile(nr: 4, kr: 4, sr: 1), KleidiAITile(nr: 4, kr: 8, sr: 1)]
        for trial in 0..<120 {
            let rows = 1 + Int(rng.next() % 19), columns = 1 + Int(rng.next() % 300)
            let tile = tiles[trial % 2], encoding = Self.encodings[trial % 3]
            let search = Self.searches[(trial / 3) % 3]
            let policy: NonFinitePolicy = trial % 5 == 0 ? .error : .zero
            let (bytes, decoded) = Self.encode(
                Self.values(rows * columns, groups: rows, nonFinite: trial % 5 < 2, rng: &rng), encoding)
            let expected = Self.outcome { () throws(QuantizationError) in
                let q = try decoded.withUnsafeBufferPointer { w throws(QuantizationError) in
                    try WeightQuantizer.perChannel(
                        w, rows: rows, columns: columns, bits: bits, search: search, nonFinite: policy)
                }
                return bits == 4
                    ? Qsi4cxpPacker.pack(q, bias: nil, tile: tile, fill: 0x5A)
                    : Qsi8cxpPacker.pack(q, bias: nil, tile: tile, fill: 0x5A)
            }
            for threads in [1, 2] {
                let got = bytes.withUnsafeBytes { raw in
                    Self.outcome { () throws(QuantizationError) in
                        let w = PackedQuantizer.Source(bytes: raw, encoding: encoding, rows: rows, columns: columns)
                        return bits == 4
                            ? try PackedQuantizer.qsi4cxp(
                                w, tile: tile, search: search, nonFinite: policy, threads: threads, fill: 0xA5)
                            : try PackedQuantizer.qsi8cxp(
                                w, tile: tile, search: search, nonFinite: policy, threads: threads, fill: 0xA5)
                    }
                }
                #expect(
                    got == expected,
                    "trial \(trial): \(rows)x\(columns) \(tile) \(encoding) \(search.name) \(policy) threads \(threads)"
                )
            }
        }
    }

    /// Rows split across threads still report the first non-finite value of the whole tensor.
    @Test func firstNonFiniteAcrossThreads() {
        let rows = 64, columns = 2048
        var v = [Float](repeating: 0.5, count: rows * columns)
        v[50 * columns + 7] = .infinity
        v[20 * columns + 3] = .nan
        let (bytes, _) = Self.encode(v, .f32)
        let got = bytes.withUnsafeBytes { raw in
            Self.outcome { () throws(QuantizationError) in
                try PackedQuantizer.qsi4c32p(
                    .init(bytes: raw, encoding: .f32, rows: rows, columns: columns), blockLength: 32,
                    tile: KleidiAITile(nr: 8, kr: 8, sr: 2), search: .absmax, nonFinite: .error, threads: 4)
            }
        }
        guard case let .failure(e) = got else { Issue.record("no error"); return }
        #expect(e.index == 20 * columns + 3 && e.value.isNaN)
    }

    /// BAD-INPUTS N05: a block whose scale (absmax/7) would be subnormal, here one just above
    /// the smallest normal float holding exact zeros, quantizes to zeros with scale 0 instead of
    /// multiplying 0 by 1/scale = inf; a neighbouring block of ordinary values is unaffected.
    @Test func blocksWithSubnormalScalesAreZero() throws {
        var v = [Float](repeating: 0, count: 64)
        v[1] = 2 * Float.leastNormalMagnitude
        v[5] = -3 * Float.leastNormalMagnitude
        for i in 32..<64 { v[i] = Float(i - 48) / 16 }
        let (bytes, _) = Self.encode(v, .f32)
        for search in Self.searches {
            let q = try v.withUnsafeBufferPointer { w throws(QuantizationError) in
                try WeightQuantizer.int4Blocks(w, rows: 1, columns: 64, blockLength: 32, search: search)
            }
            #expect(q.scales[0] == 0 && q.codes[0..<32].allSatisfy { $0 == 0 }, "\(search.name)")
            #expect(q.scales[1] != 0 && q.codes[32..<64].contains { $0 != 0 })
            let packed = try bytes.withUnsafeBytes { raw throws(QuantizationError) in
                try PackedQuantizer.qsi4c32p(
                    .init(bytes: raw, encoding: .f32, rows: 1, columns: 64), blockLength: 32,
                    tile: KleidiAITile(nr: 8, kr: 8, sr: 2), search: search, nonFinite: .error)
            }
            #expect(packed == Qsi4c32pPacker.pack(q, bias: nil, tile: KleidiAITile(nr: 8, kr: 8, sr: 2)))
        }
    }

    /// Long rows (per-channel int8 and int4, K = 2048): the AVX2 search stops a group of
    /// candidates early when none can beat the best so far; the choice must stay the scalar
    /// scan's. Rows mix shapes so the best ratio falls in either group: uniform values, and
    /// narrow ones with outliers (one in 64) that make strong clipping pay.
    @Test(arguments: [4, 8])
    func longRowsChooseAsTheScalarScan(bits: Int) throws {
        var rng = SplitMix64(seed: 99 + UInt64(bits))
        let rows = 24, columns = 2048
        var v: [Float] = []
        for r in 0..<rows {
            for _ in 0..<columns {
                let u = Float(rng.next() % 1_000_001) / 1_000_000 - 0.5
                let outlier = rng.next() % 64 == 0
                v.append(r % 2 == 0 ? u : (outlier ? (u < 0 ? -1 : 1) * (0.5 + abs(u)) : u * 0.3))
            }
        }
        let (bytes, decoded) = Self.encode(v, .f32)
        let tile = bits == 4 ? KleidiAITile(nr: 4, kr: 8, sr: 2) : KleidiAITile(nr: 4, kr: 8, sr: 1)
        for search in Self.searches {
            let q = try decoded.withUnsafeBufferPointer { w throws(QuantizationError) in
                try WeightQuantizer.perChannel(w, rows: rows, columns: columns, bits: bits, search: search)
            }
            let expected =
                bits == 4 ? Qsi4cxpPacker.pack(q, bias: nil, tile: tile) : Qsi8cxpPacker.pack(q, bias: nil, tile: tile)
            let got = try bytes.withUnsafeBytes { raw throws(QuantizationError) in
                let w = PackedQuantizer.Source(bytes: raw, encoding: .f32, rows: rows, columns: columns)
                return bits == 4
                    ? try PackedQuantizer.qsi4cxp(w, tile: tile, search: search, nonFinite: .error)
                    : try PackedQuantizer.qsi8cxp(w, tile: tile, search: search, nonFinite: .error)
            }
            #expect(got == expected, "\(search.name)")
            if case .mse = search, bits == 4 {
                // Both candidate groups win somewhere, so the early stop is exercised both ways
                // (int8 rows keep a ratio near 1: the second group is only ever ruled out).
                let maxima = (0..<rows).map { r in decoded[(r * columns)..<((r + 1) * columns)].map(abs).max()! }
                let ratios = (0..<rows).map { q.scales[$0] * Float(bits == 4 ? 7 : 127) / maxima[$0] }
                #expect(ratios.contains { $0 > 0.85 } && ratios.contains { $0 < 0.85 }, "\(ratios)")
            }
        }
    }
}
