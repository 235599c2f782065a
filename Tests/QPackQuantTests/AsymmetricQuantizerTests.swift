import Testing
import QPackBinary
import QPackModel
import QPackTestSupport
@testable import QPackQuant

/// `qai4c32`'s block search against a second implementation written from the spec in numpy
/// (Fixtures/generate.py, `qai4c32_reference`: Fixtures/quant/qai4c32.json), bit for bit.
@Suite struct AsymmetricQuantizerTests {
    static let reference = try! TestPaths.json(TestPaths.fixture("quant/qai4c32.json"))
    static func floats(_ node: JSONNode) -> [Float] { node.items.map { Float(bitPattern: UInt32($0.int!)) } }

    static func quantize(_ method: SearchMethod, threads: Int = 1) throws -> AsymmetricInt4Blocks {
        let r = reference, rows = r["rows"]!.int!, columns = r["columns"]!.int!
        let w = floats(r["weights_f32"]!)
        return try w.withUnsafeBufferPointer {
            try AsymmetricQuantizer.int4Blocks(
                $0, rows: rows, columns: columns, search: ScaleSearch(method), threads: threads,
                importance: method == .importance ? floats(r["importance_f32"]!) : nil)
        }
    }

    @Test(arguments: [SearchMethod.absmax, .mse, .importance])
    func matchesTheNumpyReference(method: SearchMethod) throws {
        let want = Self.reference["searches"]![method.rawValue]!
        let q = try Self.quantize(method)
        #expect(q.codes == want["codes"]!.items.map { UInt8($0.int!) })
        #expect(q.scales.map(\.bitPattern) == Self.floats(want["scales_f32"]!).map(\.bitPattern))
        #expect(q.offsets.map(\.bitPattern) == Self.floats(want["offsets_f32"]!).map(\.bitPattern))
        #expect(try Self.quantize(method, threads: 4) == q)  // any thread count, same result
    }

    /// The searches' promise: mse is never worse than absmax in squared error, block by block
    /// (α = 1 is on its grid), and the constant and all-zero blocks are stored exactly.
    @Test func mseIsNeverWorseThanAbsmaxAndConstantsAreExact() throws {
        let w = Self.floats(Self.reference["weights_f32"]!)
        let a = try Self.quantize(.absmax).dequantized(), m = try Self.quantize(.mse).dequantized()
        for b in 0..<(w.count / 32) {
            let range = (32 * b)..<(32 * b + 32)
            let ea = range.reduce(0.0) { $0 + Double((w[$1] - a[$1]) * (w[$1] - a[$1])) }
            let em = range.reduce(0.0) { $0 + Double((w[$1] - m[$1]) * (w[$1] - m[$1])) }
            #expect(em <= ea * (1 + 1e-5) + 1e-12, "block \(b)")
        }
        let columns = Self.reference["columns"]!.int!
        for i in (1 * columns + 32)..<(1 * columns + 64) { #expect(m[i] == 0.125) }
        for i in (2 * columns + 64)..<(2 * columns + 96) { #expect(m[i] == 0) }
    }

    @Test func nonFiniteWeightsAreRefusedOrZeroed() throws {
        var w = [Float](repeating: 0.5, count: 64)
        w[40] = .nan
        let error = #expect(throws: QuantizationError.self) {
            _ = try w.withUnsafeBufferPointer { p throws(QuantizationError) in
                try AsymmetricQuantizer.int4Blocks(p, rows: 1, columns: 64)
            }
        }
        #expect(error?.index == 40)
        let q = try w.withUnsafeBufferPointer {
            try AsymmetricQuantizer.int4Blocks($0, rows: 1, columns: 64, nonFinite: .zero)
        }
        #expect(q.dequantized().allSatisfy { $0.isFinite })
    }
}
