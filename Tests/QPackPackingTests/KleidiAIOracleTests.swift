import Testing
import QPackModel
import QPackBinary
import QPackTestSupport
@testable import QPackPacking

/// Packed bytes equal Arm KleidiAI's own packers' output for every case of the golden vectors
/// (Fixtures/kleidiai; the full ../shared/oracle/kleidiai set when present).
@Suite struct KleidiAIOracleTests {
    static let oracle = Oracle.best

    static func tile(_ p: JSONNode) -> KleidiAITile {
        KleidiAITile(nr: p["nr"]!.int!, kr: p["kr"]!.int!, sr: p["sr"]!.int!)
    }

    /// Unpacks nibble codes: rows of `stride` bytes, element i of a row in byte i/2, low nibble first.
    static func nibbles(_ bytes: [UInt8], rows: Int, cols: Int, stride: Int) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: rows * cols)
        for r in 0..<rows {
            for c in 0..<cols {
                let byte = bytes[r * stride + c / 2]
                out[r * cols + c] = c % 2 == 0 ? byte & 0x0F : byte >> 4
            }
        }
        return out
    }

    /// Packs one rhs_pack case with qpack's packer; nil for a function qpack does not implement.
    static func packRHS(_ c: JSONNode, fill: UInt8 = 0) throws -> [UInt8]? {
        let p = c["params"]!, inputs = c["inputs"]!
        let n = p["n"]!.int!, k = p["k"]!.int!, t = tile(p)
        let bias: [Float]? = inputs["bias"].flatMap { $0.isNull ? nil : try? oracle.floats($0) }
        switch c["function"]!.string! {
        case "kai_run_rhs_pack_nxk_qsi4c32p_qsu4c32s1s0":
            let bl = p["bl"]!.int!
            let u = nibbles(try oracle.bytes(inputs["codes"]!), rows: n, cols: k, stride: p["rhs_stride"]!.int!)
            let m = Int4BlockMatrix(
                rows: n, columns: k, blockLength: bl, codes: u.map { Int8($0) - 8 },
                scales: try oracle.uint16s(inputs["scales"]!))
            return Qsi4c32pPacker.pack(m, bias: bias, tile: t, fill: fill)
        case "kai_run_rhs_pack_kxn_qsi4c32p_qsu4c32s1s0":
            return Qsi4c32pPacker.packKxN(
                codes: try oracle.bytes(inputs["codes"]!), n: n, k: k, blockLength: p["bl"]!.int!,
                scales: try oracle.uint16s(inputs["scales"]!), bias: bias, tile: t, fill: fill)
        case "kai_run_rhs_pack_nxk_qsi4cxp_qs4cxs1s0":
            let u = nibbles(try oracle.bytes(inputs["codes"]!), rows: n, cols: k, stride: p["rhs_stride"]!.int!)
            let zp8 = p["rhs_zero_point"]!.int! == 8
            let q = u.map { zp8 ? Int8($0) - 8 : Int8(bitPattern: $0 << 4) >> 4 }
            let m = ChannelQuantizedMatrix(
                rows: n, columns: k, bits: 4, codes: q, scales: try oracle.floats(inputs["scales"]!))
            return Qsi4cxpPacker.pack(m, bias: bias, tile: t, fill: fill)
        case "kai_run_rhs_pack_nxk_qsi8cxp_qsi8cx_neon":
            let q = try oracle.bytes(inputs["codes"]!).map { Int8(bitPattern: $0) }
            let m = ChannelQuantizedMatrix(
                rows: n, columns: k, bits: 8, codes: q, scales: try oracle.floats(inputs["scales"]!))
            return Qsi8cxpPacker.pack(m, bias: bias, tile: t, fill: fill)
        case "kai_run_rhs_pack_nxk_qsi4c32pscalef16_qsu4c32s16s0":
            let blocks = try oracle.bytes(inputs["blocks"]!)
            return blocks.withUnsafeBytes { Qsi4c32pScaleF16Packer.pack(q4_0: $0, n: n, k: k, tile: t, fill: fill) }
        default:
            return nil
        }
    }

    static func packedSize(_ c: JSONNode) -> (size: Int, stride: Int, offset: Int)? {
        let p = c["params"]!
        let n = p["n"]!.int!, k = p["k"]!.int!, t = tile(p)
        switch c["function"]!.string! {
        case "kai_run_rhs_pack_nxk_qsi4c32p_qsu4c32s1s0", "kai_run_rhs_pack_kxn_qsi4c32p_qsu4c32s1s0":
            let bl = p["bl"]!.int!
            return (
                Qsi4c32pPacker.packedSize(n: n, k: k, blockLength: bl, tile: t),
                Qsi4c32pPacker.panelStride(k: k, blockLength: bl, tile: t),
                Qsi4c32pPacker.packedOffset(nIndex: t.nr, k: k, blockLength: bl, tile: t)
            )
        case "kai_run_rhs_pack_nxk_qsi4cxp_qs4cxs1s0":
            return (
                Qsi4cxpPacker.packedSize(n: n, k: k, tile: t), Qsi4cxpPacker.panelStride(k: k, tile: t),
                Qsi4cxpPacker.packedOffset(nIndex: t.nr, k: k, tile: t)
            )
        case "kai_run_rhs_pack_nxk_qsi8cxp_qsi8cx_neon":
            return (
                Qsi8cxpPacker.packedSize(n: n, k: k, tile: t), Qsi8cxpPacker.panelStride(k: k, tile: t),
                Qsi8cxpPacker.packedOffset(nIndex: t.nr, k: k, tile: t)
            )
        case "kai_run_rhs_pack_nxk_qsi4c32pscalef16_qsu4c32s16s0":
            return (
                Qsi4c32pScaleF16Packer.packedSize(n: n, k: k, tile: t),
                Qsi4c32pScaleF16Packer.panelStride(k: k, tile: t),
                Qsi4c32pScaleF16Packer.panelStride(k: k, tile: t)
            )
        default:
            return nil
        }
    }

    @Test func oracleIsThere() {
        #expect(Self.oracle.cases(kind: "rhs_pack").count >= 40)
        #expect(Self.oracle.cases(kind: "lhs_pack").count >= 70)
    }

    @Test func everyRHSCaseMatchesByteForByte() throws {
        var checked = 0
        for c in Self.oracle.cases(kind: "rhs_pack") {
            let id = c["id"]!.string!
            let want = try Self.oracle.bytes(c["output"]!)
            let got = try #require(try Self.packRHS(c), "\(id): \(c["function"]!.string!) not implemented")
            #expect(got.count == want.count, "\(id)")
            if got != want {
                let first = zip(got, want).enumerated().first { $0.element.0 != $0.element.1 }?.offset ?? -1
                Issue.record("\(id): bytes differ, first at \(first)")
            }
            // Sentinel fills: a byte the packer forgot to write would keep its sentinel.
            #expect(try Self.packRHS(c, fill: 0xA5) == want, "\(id) with 0xA5 fill")
            #expect(try Self.packRHS(c, fill: 0x5A) == want, "\(id) with 0x5A fill")
            let g = c["getters"]!
            let sizes = try #require(Self.packedSize(c))
            #expect(sizes.size == g["packed_size"]!.int, "\(id) packed_size")
            #expect(sizes.stride == g["packed_stride"]!.int, "\(id) packed_stride")
            #expect(sizes.offset == g["packed_offset(n_idx=nr)"]!.int, "\(id) packed_offset")
            checked += 1
        }
        #expect(checked == Self.oracle.cases(kind: "rhs_pack").count)
    }

    @Test func everyLHSCaseMatchesOnWrittenBytes() throws {
        for c in Self.oracle.cases(kind: "lhs_pack") {
            let id = c["id"]!.string!
            let p = c["params"]!
            let m = p["m"]!.int!, k = p["k"]!.int!, mr = p["mr"]!.int!
            let lhs = try Self.oracle.floats(c["inputs"]!["lhs_f32"]!)
            let want = try Self.oracle.bytes(c["output"]!)
            let mask = try Self.oracle.unwrittenMask(c["output"]!, count: want.count)
            #expect(Qai8dxpPacker.packedSize(m: m, k: k, mr: mr) == c["getters"]!["packed_size"]!.int, "\(id)")
            #expect(
                Qai8dxpPacker.packedOffset(mIndex: mr, k: k, mr: mr) == c["getters"]!["packed_offset(m_idx=mr)"]!.int,
                "\(id)")
            for fill in [UInt8(0), 0xFF] {
                let got = Qai8dxpPacker.pack(lhs, m: m, k: k, mr: mr, kr: p["kr"]!.int!, sr: p["sr"]!.int!, fill: fill)
                #expect(got.count == want.count, "\(id)")
                var differ = 0
                for i in 0..<min(got.count, want.count) {
                    if let mask, mask[i] {
                        #expect(got[i] == fill, "\(id): unwritten byte \(i) was written")
                        continue
                    }
                    if got[i] != want[i] { differ += 1 }
                }
                #expect(differ == 0, "\(id): \(differ) bytes differ (fill \(fill))")
            }
        }
    }
}
