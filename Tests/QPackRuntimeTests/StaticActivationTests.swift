import CQPackRuntime
import QPackCalibration
import QPackModel
import QPackPacking
import QPackQuant
import QPackTestSupport
import Testing

/// Static activation quantization: the LHS packer with a stored range.
@Suite struct StaticActivationTests {
    static let oracle = Oracle.best

    /// Row r of a packed LHS (mr rows per panel): its kp codes, -zero point and scale bytes.
    static func row(_ packed: [UInt8], r: Int, kp: Int, mr: Int, L: Int) -> [UInt8] {
        let panel: Int = r / mr * mr * (kp + 8)
        let i: Int = r % mr
        var out: [UInt8] = []
        for c in 0..<kp {
            let at: Int = panel + (c / L * mr + i) * L + c % L
            out.append(packed[at])
        }
        let zp: Int = panel + mr * kp + 4 * i
        let scale: Int = panel + mr * kp + 4 * mr + 4 * i
        out += packed[zp..<(zp + 4)]
        out += packed[scale..<(scale + 4)]
        return out
    }

    /// With a row's own min and max as the static range, the static packer gives the bytes
    /// KleidiAI's dynamic packer gave for that row: every row of every lhs_pack oracle case.
    @Test func ownRangeGivesKleidiAIBytes() throws {
        var rowsChecked = 0
        for c in Self.oracle.cases(kind: "lhs_pack") {
            let p = c["params"]!
            let m = p["m"]!.int!, k = p["k"]!.int!, mr = p["mr"]!.int!, kr = p["kr"]!.int!, sr = p["sr"]!.int!
            let kp = (k + 31) / 32 * 32, L = kr / sr
            let x = try Self.oracle.floats(c["inputs"]!["lhs_f32"]!)
            let want = try Self.oracle.bytes(c["output"]!)
            for r in 0..<m {
                let own = x[(r * k)..<((r + 1) * k)]
                var one = [UInt8](repeating: 0, count: qp_lhs_packed_size_qai8dxp(1, k, mr))
                x.withUnsafeBufferPointer { xp in
                    one.withUnsafeMutableBytes {
                        qp_lhs_quant_pack_qai8dxp_f32_range(
                            1, k, mr, kr, sr, xp.baseAddress! + r * k, 4 * k, $0.baseAddress, own.min()!, own.max()!)
                    }
                }
                #expect(
                    Self.row(one, r: 0, kp: kp, mr: mr, L: L) == Self.row(want, r: r, kp: kp, mr: mr, L: L),
                    "\(c["id"]!.string!) row \(r)")
                rowsChecked += 1
            }
        }
        #expect(rowsChecked > 0)
    }

    /// Codes of the static packer equal the Swift quantizer the observers use (the same float32
    /// arithmetic written independently), including saturation outside the range.
    @Test func codesMatchTheSwiftQuantizerAndSaturate() {
        let k = 64, mr = 1, kr = 4, sr = 1
        var rows: [Float] = []
        for i in 0..<(3 * k) { rows.append(Float(i % 29) * 0.37 - 4.1 + (i == 5 ? 100 : 0) + (i == 70 ? -50 : 0)) }
        let lo: Float = -3, hi: Float = 2.5
        var packed = [UInt8](repeating: 0, count: qp_lhs_packed_size_qai8dxp(3, k, mr))
        rows.withUnsafeBufferPointer { xp in
            packed.withUnsafeMutableBytes {
                qp_lhs_quant_pack_qai8dxp_f32_range(3, k, mr, kr, sr, xp.baseAddress, 4 * k, $0.baseAddress, lo, hi)
            }
        }
        let q = ActivationQuantizer(lo: lo, hi: hi)
        let kp = 64, L = kr / sr
        for r in 0..<3 {
            let panel = r * (kp + 8)
            for c in 0..<k {
                let byte = packed[panel + (c / L * mr) * L + c % L]
                #expect(Int8(bitPattern: byte) == q.code(rows[r * k + c]), "row \(r) col \(c)")
            }
            let negZP = packed[(panel + kp)..<(panel + kp + 4)].withUnsafeBytes { $0.loadUnaligned(as: Int32.self) }
            let step = packed[(panel + kp + 4)..<(panel + kp + 8)].withUnsafeBytes { $0.loadUnaligned(as: Float.self) }
            #expect(negZP == -q.zeroPoint && step == q.step)
        }
        #expect(q.code(100) == 127 && q.code(-50) == -128)
    }
}

/// Embedding rows straight from packed int4 tables, against the Swift packer's own input.
@Suite struct EmbeddingRowTests {
    @Test(arguments: [(8, 8, 2, 32), (8, 16, 2, 32), (8, 16, 2, 64), (4, 8, 2, 128)])
    func qsi4c32pRowsDequantizeToTheCodesTimesScales(_ tile: (Int, Int, Int, Int)) throws {
        let (nr, kr, sr, bl) = tile
        let n = 13, k = 256
        var state: UInt64 = 7
        let codes: [Int8] = (0..<(n * k)).map { _ in
            state = state &* 6364136223846793005 &+ 1; return Int8(Int(state >> 60) - 8)
        }
        // bf16 bits near 0.008 ... 1.5
        let scales: [UInt16] = (0..<(n * k / bl)).map { i in UInt16(0x3C00 + (i * 37) % 900) }
        let m = Int4BlockMatrix(rows: n, columns: k, blockLength: bl, codes: codes, scales: scales)
        let packed = Qsi4c32pPacker.pack(m, bias: nil, tile: KleidiAITile(nr: nr, kr: kr, sr: sr))
        try packed.withUnsafeBytes { p in
            var table = qp_linear()
            table.kind = QP_WEIGHT_QSI4C32P
            table.n = n
            table.k = k
            table.bl = bl
            table.tile = qp_matmul_tile(mr: 1, nr: nr, kr: kr, sr: sr)
            table.weights = p.baseAddress
            for row in 0..<n {
                var out = [Float](repeating: .nan, count: k)
                #expect(qp_embedding_row(&table, row, &out) == QP_OK)
                for c in 0..<k {
                    let s = Float(bitPattern: UInt32(scales[row * (k / bl) + c / bl]) << 16)
                    #expect(out[c] == Float(codes[row * k + c]) * s, "row \(row) col \(c)")
                }
            }
            var out = [Float](repeating: 0, count: k)
            #expect(qp_embedding_row(&table, n, &out) == QP_ERR_ARGUMENT)
        }
    }
}

/// Smoothing in the runtime: a static linear with divisors gives bit for bit what the same
/// linear without them gives on inputs divided beforehand (float32 division), for odd row
/// counts and K tails; the scratch it asks for covers the divided copy.
@Suite struct SmoothingRuntimeTests {
    @Test(arguments: [(1, 64), (3, 96), (5, 160)]) func dividesTheInputsBeforeQuantizing(_ shape: (Int, Int)) throws {
        let (m, k) = shape, n = 12
        var rng = SplitMix64(seed: UInt64(m * 1000 + k))
        let w = (0..<(n * k)).map { _ in rng.float(-1, 1) }
        let x = (0..<(m * k)).map { i in rng.float(-2, 2) * (i % k == 7 ? 30 : 1) }  // an outlier channel
        let d = (0..<k).map { j in j == 7 ? Float(12.5) : rng.float(0.5, 2) }
        let q = try w.withUnsafeBufferPointer { try WeightQuantizer.perChannel($0, rows: n, columns: k, bits: 8) }
        let tile = KleidiAITile(nr: 4, kr: 4, sr: 1)
        let packed = Qsi8cxpPacker.pack(q, bias: nil, tile: tile)
        let divided = (0..<(m * k)).map { x[$0] / d[$0 % k] }
        func run(_ input: [Float], divisors: [Float]?) -> [Float] {
            var y = [Float](repeating: 0, count: m * n)
            packed.withUnsafeBytes { p in
                (divisors ?? []).withUnsafeBufferPointer { dv in
                    var l = qp_linear(
                        kind: QP_WEIGHT_QSI8CXP, n: n, k: k, bl: 0, tile: qp_matmul_tile(mr: 1, nr: 4, kr: 4, sr: 1),
                        weights: p.baseAddress,
                        bias: nil, activation: QP_ACTIVATION_STATIC, activation_min: -3, activation_max: 3.5,
                        activation_divisor: divisors == nil ? nil : dv.baseAddress, pool: nil)
                    if divisors != nil {
                        #expect(qp_linear_scratch_size(&l, m) >= qp_lhs_packed_size_qai8dxp(m, k, 1) + m * k * 4)
                    }
                    #expect(qp_linear_forward(&l, m, input, &y) == QP_OK)
                }
            }
            return y
        }
        let smoothed = run(x, divisors: d), reference = run(divided, divisors: nil)
        #expect(smoothed.map(\.bitPattern) == reference.map(\.bitPattern))
        #expect(smoothed != run(x, divisors: nil))
    }
}
