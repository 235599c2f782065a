import Testing
import QPackModel
import QPackBinary
import QPackTestSupport
@testable import QPackPacking

/// The qsi8d32p families' RHS layouts: qpack's packers give Arm KleidiAI's own packers' bytes
/// for every NEON case of the golden vectors (Fixtures/kleidiai-qsi8d32p; the full
/// ../shared/oracle/kleidiai-qsi8d32p set when present), from the same inputs convert has: Q4_0
/// blocks, GGUF Q4_1 blocks (the real layers of SmolLM2), or codes with scales and offsets.
@Suite struct KleidiAIQsi8d32pOracleTests {
    static let oracle = Oracle.best(set: "kleidiai-qsi8d32p")

    static func tile(_ p: JSONNode) -> KleidiAITile {
        KleidiAITile(nr: p["nr"]!.int!, kr: p["kr"]!.int!, sr: p["sr"]!.int!)
    }

    /// `u4_nxk_s0s1_zp8` codes: row stride K/2, even k in the high nibble.
    static func s0s1Codes(_ bytes: [UInt8], n: Int, k: Int) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: n * k)
        for i in out.indices {
            let byte = bytes[i / k * (k / 2) + i % k / 2]
            out[i] = i % 2 == 0 ? byte >> 4 : byte & 0x0F
        }
        return out
    }

    static let sme2Only = "qai4c32ps1s0nrx4"

    /// The NEON-readable rhs_pack cases (the SME2-only nrx4 format is layout data only).
    static var neonCases: [JSONNode] {
        oracle.cases(kind: "rhs_pack").filter { !$0["function"]!.string!.contains(sme2Only) }
    }

    @Test func oracleIsThere() {
        #expect(Self.neonCases.count >= 100)
        #expect(Self.neonCases.contains { $0["inputs"]!["q4_1_blocks"] != nil }, "no GGUF Q4_1 case")
    }

    @Test(arguments: [UInt8(0), 0xA5])
    func everyScaleF16CaseMatchesFromQ4_0Blocks(fill: UInt8) throws {
        var checked = 0
        for c in Self.neonCases where c["function"]!.string!.contains("qsi4c32pscalef16") {
            let p = c["params"]!, id = c["id"]!.string!
            let n = p["n"]!.int!, k = p["k"]!.int!, bl = p["bl"]!.int!, t = Self.tile(p)
            let blocks = try Self.oracle.bytes(c["inputs"]!["blocks"]!)
            let got = blocks.withUnsafeBytes {
                Qsi4c32pScaleF16Packer.pack(q4_0: $0, n: n, k: k, blockLength: bl, tile: t, fill: fill)
            }
            #expect(got == (try Self.oracle.bytes(c["output"]!)), "\(id)")
            #expect(
                Qsi4c32pScaleF16Packer.packedSize(n: n, k: k, blockLength: bl, tile: t)
                    == c["getters"]!["packed_size"]!.int, "\(id)")
            if bl == 32 {  // q4_0-repack's family: its size formula and reader
                #expect(LayoutFamily.qsi4c32pscalef16.packedSize(n, k, bl, t) == got.count, "\(id)")
                #expect(Qsi4c32pScaleF16Packer.unpack(got, n: n, k: k, tile: t) == blocks, "\(id) unpack")
            }
            checked += 1
        }
        #expect(checked >= 40)
    }

    @Test(arguments: [UInt8(0), 0x5A])
    func everyQai4c32pCaseMatchesFromCodesScalesAndOffsets(fill: UInt8) throws {
        var checked = 0
        for c in Self.neonCases where c["function"]!.string!.contains("qai4c32p_qau4c32s0s1") {
            let p = c["params"]!, inputs = c["inputs"]!, id = c["id"]!.string!
            let n = p["n"]!.int!, k = p["k"]!.int!, bl = p["bl"]!.int!, t = Self.tile(p)
            let codes = Self.s0s1Codes(try Self.oracle.bytes(inputs["codes"]!), n: n, k: k)
            let scales = try Self.oracle.floats(inputs["scales"]!), offsets = try Self.oracle.floats(inputs["offsets"]!)
            let bias: [Float]? = inputs["bias"]!.isNull ? nil : try Self.oracle.floats(inputs["bias"]!)
            let want = try Self.oracle.bytes(c["output"]!)
            let got = Qai4c32pPacker.pack(
                codes: codes, scales: scales, offsets: offsets, bias: bias, n: n, k: k, blockLength: bl, tile: t,
                fill: fill)
            #expect(got == want, "\(id)")
            #expect(
                Qai4c32pPacker.packedSize(n: n, k: k, blockLength: bl, tile: t) == c["getters"]!["packed_size"]!.int)
            #expect(
                Qai4c32pPacker.panelStride(k: k, blockLength: bl, tile: t)
                    == c["getters"]!["packed_offset(n_idx=nr)"]!.int)
            let back = Qai4c32pPacker.unpack(want, n: n, k: k, blockLength: bl, tile: t)
            #expect(back.codes == codes && back.scales == scales && back.offsets == offsets, "\(id) unpack")
            checked += 1
        }
        #expect(checked >= 40)
    }

    /// The SME2-only variant of the layout (no NEON kernel reads it; layout data), from s0s1 and
    /// s1s0 codes alike.
    @Test func everySME2Nrx4CaseMatches() throws {
        var checked = 0
        for c in Self.oracle.cases(kind: "rhs_pack") where c["function"]!.string!.contains(Self.sme2Only) {
            let p = c["params"]!, inputs = c["inputs"]!, id = c["id"]!.string!
            let n = p["n"]!.int!, k = p["k"]!.int!, bl = p["bl"]!.int!, t = Self.tile(p)
            let raw = try Self.oracle.bytes(inputs["codes"]!)
            var codes = Self.s0s1Codes(raw, n: n, k: k)
            if c["function"]!.string!.contains("s1s0_f32") {  // even k in the low nibble
                codes = (0..<(n * k)).map { i in
                    let byte = raw[i / k * (k / 2) + i % k / 2]
                    return i % 2 == 0 ? byte & 0x0F : byte >> 4
                }
            }
            let bias: [Float]? = inputs["bias"]!.isNull ? nil : try Self.oracle.floats(inputs["bias"]!)
            let got = Qai4c32pPacker.packSME2(
                codes: codes, scales: try Self.oracle.floats(inputs["scales"]!),
                offsets: try Self.oracle.floats(inputs["offsets"]!), bias: bias, n: n, k: k, blockLength: bl, tile: t,
                fill: 0xA5)
            #expect(got == (try Self.oracle.bytes(c["output"]!)), "\(id)")
            checked += 1
        }
        #expect(checked == Self.oracle.cases(kind: "rhs_pack").count - Self.neonCases.count && checked >= 6)
    }

    /// convert's `q4_1-repack` packer, from the GGUF Q4_1 blocks themselves (real SmolLM2 layers).
    @Test func realQ4_1LayersRepackToKleidiAIBytes() throws {
        var checked = 0
        for c in Self.neonCases {
            guard let blocksEntry = c["inputs"]!["q4_1_blocks"], c["inputs"]!["bias"]!.isNull else { continue }
            let p = c["params"]!
            let n = p["n"]!.int!, k = p["k"]!.int!, t = Self.tile(p)
            let blocks = try Self.oracle.bytes(blocksEntry)
            let repack = try #require(LayoutFamily.qai4c32p.repack)
            let got = try blocks.withUnsafeBytes { try repack("Q4_1", $0, n, k, t) }
            #expect(got == (try Self.oracle.bytes(c["output"]!)), "\(c["id"]!.string!)")
            checked += 1
        }
        // The committed subset keeps one real layer (ga02); the full set has two.
        #expect(checked >= 2)
    }

    /// A Q4_1 block whose offset m + 8d needs more than float32's 24 bits is refused, named.
    @Test func inexactQ4_1BlockIsRefused() throws {
        var block = [UInt8](repeating: 0x11, count: 20 * 2)
        // Block 1 of the row: d = 2^-24 (f16 0x0001), m = 2048 (f16 0x6800): m + 8d = 2^11 + 2^-21
        // needs 33 significant bits.
        block[20] = 0x01
        block[21] = 0x00
        block[22] = 0x00
        block[23] = 0x68
        let error = #expect(throws: Qai4c32pPacker.InexactBlock.self) {
            try block.withUnsafeBytes {
                _ = try Qai4c32pPacker.repack(q4_1: $0, n: 1, k: 64, tile: KleidiAITile(nr: 4, kr: 16, sr: 2))
            }
        }
        #expect(error?.row == 0 && error?.block == 1)
        #expect(error?.description.contains("block 1 of row 0") == true)
    }

    /// Q4_K: a sub-block whose offset 8·d·sc − dmin·m is not a float32 is refused the same way.
    @Test func inexactQ4_KSubBlockIsRefused() throws {
        var block = [UInt8](repeating: 0, count: 144)
        block[0] = 0x00  // d = 1
        block[1] = 0x3C
        block[2] = 0x01  // dmin = 2^-24
        block[4] = 0x3F  // sub-block 0: sc 63
        block[8] = 0x01  // m 1: offset 504 − 2^-24
        let error = #expect(throws: Qai4c32pPacker.InexactBlock.self) {
            try block.withUnsafeBytes {
                _ = try Qai4c32pPacker.repack(q4_K: $0, n: 1, k: 256, tile: KleidiAITile(nr: 4, kr: 16, sr: 2))
            }
        }
        #expect(error?.source == "Q4_K" && error?.row == 0 && error?.block == 0)
        block[2] = 0x00  // dmin 0: exact
        #expect(throws: Never.self) {
            try block.withUnsafeBytes {
                _ = try Qai4c32pPacker.repack(q4_K: $0, n: 1, k: 256, tile: KleidiAITile(nr: 4, kr: 16, sr: 2))
            }
        }
    }
}
