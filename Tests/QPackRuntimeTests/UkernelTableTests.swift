import CQPackRuntime
import Testing
import QPackBinary
import QPackTestSupport

/// Every micro-kernel in the runtime's table, through its getters and `run`, reproduces the
/// KleidiAI outputs of the oracle cases packed with its tile (LHS packed here with its mr).
@Suite struct UkernelTableTests {
    @Test func everyUkernelMatchesTheOracleForItsTile() throws {
        let oracle = Oracle.best
        var covered = 0
        for i in 0..<qp_matmul_ukernel_count() {
            let u = qp_matmul_ukernel_at(i)!.pointee
            let name = String(cString: u.name), family = String(cString: u.family)
            let mr = u.get_mr(), nr = u.get_nr(), kr = u.get_kr(), sr = u.get_sr()
            #expect(u.get_m_step() == mr && u.get_n_step() == nr, "\(name)")
            var cases = 0
            for c in oracle.cases(kind: "matmul") {
                let p = c["params"]!
                guard c["kernel"]!.string!.contains(family), p["nr"]!.int == nr, p["kr"]!.int == kr, p["sr"]!.int == sr
                else { continue }
                let m = p["m"]!.int!, n = p["n"]!.int!, k = p["k"]!.int!, bl = p["bl"]?.int ?? 0
                #expect(
                    u.get_rhs_packed_offset(nr, k, bl) == c["getters"]!["rhs_packed_offset(n_idx=n_step)"]!.int!,
                    "\(name)")
                let x = try oracle.floats(c["inputs"]!["lhs_f32"]!)
                var lhs = [UInt8](repeating: 0, count: qp_lhs_packed_size_qai8dxp(m, k, mr))
                x.withUnsafeBufferPointer { xp in
                    lhs.withUnsafeMutableBytes {
                        qp_lhs_quant_pack_qai8dxp_f32(m, k, mr, kr, sr, xp.baseAddress, 4 * k, $0.baseAddress)
                    }
                }
                let rhs = try oracle.bytes(c["inputs"]!["rhs_packed"]!)
                var dst = [Float](repeating: .nan, count: u.get_dst_size(m, n) / 4)
                let lo = Float(bitPattern: UInt32(p["clamp_min_bits"]!.string!.dropFirst(2), radix: 16)!)
                let hi = Float(bitPattern: UInt32(p["clamp_max_bits"]!.string!.dropFirst(2), radix: 16)!)
                lhs.withUnsafeBytes { l in
                    rhs.withUnsafeBytes { r in
                        dst.withUnsafeMutableBufferPointer {
                            u.run(m, n, k, bl, l.baseAddress, r.baseAddress, $0.baseAddress, 4 * n, 4, lo, hi)
                        }
                    }
                }
                let want = try oracle.floats(c["output"]!)
                #expect(dst.map(\.bitPattern) == want.map(\.bitPattern), "\(name) on \(c["id"]!.string!)")
                cases += 1
            }
            #expect(cases > 0, "\(name): no oracle case for its tile")
            covered += cases
        }
        #expect(qp_matmul_ukernel_count() == 18)
        #expect(covered >= 24)
    }
}
