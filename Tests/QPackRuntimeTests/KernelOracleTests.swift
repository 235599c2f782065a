import CQPackRuntime
import Testing
import QPackBinary
import QPackTestSupport

typealias MatmulKernel = (
    Int, Int, Int, Int, qp_matmul_tile, UnsafeRawPointer, UnsafeRawPointer, UnsafeMutablePointer<Float>, Int, Float,
    Float
) -> Void

/// The C runtime against Arm KleidiAI's own outputs: LHS packing byte for byte, and every
/// matmul case of the golden vectors bit for bit from the oracle's packed LHS and RHS.
@Suite struct KernelOracleTests {
    static let oracle = Oracle.best

    static func family(_ kernel: String) -> String {
        kernel.contains("qsi4c32p") ? "qsi4c32p" : kernel.contains("qsi4cxp") ? "qsi4cxp" : "qsi8cxp"
    }

    static func run(
        _ family: String, variant: String, m: Int, n: Int, k: Int, bl: Int, tile: qp_matmul_tile,
        lhs: [UInt8], rhs: [UInt8], clampMin: Float, clampMax: Float
    ) -> [Float] {
        var dst = [Float](repeating: .nan, count: m * n)
        lhs.withUnsafeBytes { l in
            rhs.withUnsafeBytes { r in
                dst.withUnsafeMutableBufferPointer { d in
                    switch (family, variant) {
                    case ("qsi4c32p", "scalar"):
                        qp_matmul_f32_qai8dxp_qsi4c32p_scalar(
                            m, n, k, bl, tile, l.baseAddress, r.baseAddress, d.baseAddress, 4 * n, clampMin, clampMax)
                    case ("qsi4c32p", "neon_i8mm"):
                        qp_matmul_f32_qai8dxp_qsi4c32p_neon_i8mm(
                            m, n, k, bl, tile, l.baseAddress, r.baseAddress, d.baseAddress, 4 * n, clampMin, clampMax)
                    case ("qsi4c32p", "neon_dotprod"):
                        qp_matmul_f32_qai8dxp_qsi4c32p_neon_dotprod(
                            m, n, k, bl, tile, l.baseAddress, r.baseAddress, d.baseAddress, 4 * n, clampMin, clampMax)
                    case ("qsi4cxp", "scalar"):
                        qp_matmul_f32_qai8dxp_qsi4cxp_scalar(
                            m, n, k, tile, l.baseAddress, r.baseAddress, d.baseAddress, 4 * n, clampMin, clampMax)
                    case ("qsi4cxp", "neon_i8mm"):
                        qp_matmul_f32_qai8dxp_qsi4cxp_neon_i8mm(
                            m, n, k, tile, l.baseAddress, r.baseAddress, d.baseAddress, 4 * n, clampMin, clampMax)
                    case ("qsi8cxp", "neon_i8mm"):
                        qp_matmul_f32_qai8dxp_qsi8cxp_neon_i8mm(
                            m, n, k, tile, l.baseAddress, r.baseAddress, d.baseAddress, 4 * n, clampMin, clampMax)
                    case ("qsi4cxp", _):
                        qp_matmul_f32_qai8dxp_qsi4cxp_neon_dotprod(
                            m, n, k, tile, l.baseAddress, r.baseAddress, d.baseAddress, 4 * n, clampMin, clampMax)
                    case ("qsi8cxp", "scalar"):
                        qp_matmul_f32_qai8dxp_qsi8cxp_scalar(
                            m, n, k, tile, l.baseAddress, r.baseAddress, d.baseAddress, 4 * n, clampMin, clampMax)
                    default:
                        qp_matmul_f32_qai8dxp_qsi8cxp_neon_dotprod(
                            m, n, k, tile, l.baseAddress, r.baseAddress, d.baseAddress, 4 * n, clampMin, clampMax)
                    }
                }
            }
        }
        return dst
    }

    @Test func lhsPackingMatchesEveryCase() throws {
        for c in Self.oracle.cases(kind: "lhs_pack") {
            let p = c["params"]!
            let m = p["m"]!.int!, k = p["k"]!.int!, mr = p["mr"]!.int!
            let lhs = try Self.oracle.floats(c["inputs"]!["lhs_f32"]!)
            let want = try Self.oracle.bytes(c["output"]!)
            #expect(qp_lhs_packed_size_qai8dxp(m, k, mr) == want.count)
            var got = [UInt8](repeating: 0, count: want.count)
            lhs.withUnsafeBufferPointer { x in
                got.withUnsafeMutableBytes {
                    qp_lhs_quant_pack_qai8dxp_f32(
                        m, k, mr, p["kr"]!.int!, p["sr"]!.int!, x.baseAddress, 4 * k, $0.baseAddress)
                }
            }
            #expect(got == want, "\(c["id"]!.string!)")  // unwritten rows are zero on both sides
        }
    }

    static let variants: [String: qp_variant] = [
        "scalar": QP_VARIANT_SCALAR, "neon_dotprod": QP_VARIANT_NEON_DOTPROD, "neon_i8mm": QP_VARIANT_NEON_I8MM,
    ]

    /// Each variant runs every case whose tile it declares (dispatch never gives it others), bit
    /// for bit. The declared tiles must cover KleidiAI's: the scalar reference runs every case,
    /// and each NEON variant at least every case of KleidiAI's kernels of its kind.
    @Test(arguments: ["scalar", "neon_dotprod", "neon_i8mm"])
    func everyMatmulCaseIsBitExact(_ variant: String) throws {
        var checked = 0, skippedOwn: [String] = []
        for c in Self.oracle.cases(kind: "matmul") {
            let kernel = c["kernel"]!.string!
            let family = Self.family(kernel)
            let p = c["params"]!
            let m = p["m"]!.int!, n = p["n"]!.int!, k = p["k"]!.int!
            let tile = qp_matmul_tile(mr: p["mr"]!.int!, nr: p["nr"]!.int!, kr: p["kr"]!.int!, sr: p["sr"]!.int!)
            guard qp_matmul_variant_runs(family, Self.variants[variant]!, tile, k, p["bl"]?.int ?? 0) == 1 else {
                if variant == "scalar" || kernel.hasSuffix(variant) { skippedOwn.append(kernel) }
                continue
            }
            // The LHS is packed here from the case's float activations with the runtime's own
            // packer, and must equal the LHS KleidiAI packed inside the run (rows past M are
            // unwritten by both and zero here).
            let x = try Self.oracle.floats(c["inputs"]!["lhs_f32"]!)
            var lhs = [UInt8](repeating: 0, count: qp_lhs_packed_size_qai8dxp(m, k, tile.mr))
            x.withUnsafeBufferPointer { xp in
                lhs.withUnsafeMutableBytes {
                    qp_lhs_quant_pack_qai8dxp_f32(
                        m, k, tile.mr, tile.kr, tile.sr, xp.baseAddress, 4 * k, $0.baseAddress)
                }
            }
            #expect(lhs == (try Self.oracle.bytes(c["inputs"]!["lhs_packed"]!)), "\(c["id"]!.string!): LHS packing")
            let rhs = try Self.oracle.bytes(c["inputs"]!["rhs_packed"]!)
            let clampMin = Float(bitPattern: UInt32(p["clamp_min_bits"]!.string!.dropFirst(2), radix: 16)!)
            let clampMax = Float(bitPattern: UInt32(p["clamp_max_bits"]!.string!.dropFirst(2), radix: 16)!)
            let got = Self.run(
                family, variant: variant, m: m, n: n, k: k, bl: p["bl"]?.int ?? 0, tile: tile, lhs: lhs, rhs: rhs,
                clampMin: clampMin, clampMax: clampMax)
            let want = try Self.oracle.floats(c["output"]!)
            let differ = zip(got, want).filter { $0.0.bitPattern != $0.1.bitPattern }.count
            #expect(differ == 0, "\(c["id"]!.string!) \(kernel): \(differ) of \(want.count) outputs differ")
            checked += 1
        }
        #expect(skippedOwn.isEmpty, "\(variant) declares no tile for \(skippedOwn)")
        #expect(checked >= (variant == "neon_i8mm" ? 10 : 40), "\(variant): \(checked) cases")
    }
}
