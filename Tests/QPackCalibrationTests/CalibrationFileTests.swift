import Foundation
import Testing
@testable import QPackCalibration

func randomStats(_ name: String, channels: Int, rows: Int, seed: UInt64, scale: Float) -> ActivationStats {
    var state = seed
    var values: [Float] = []
    for _ in 0..<(rows * channels) {
        state = state &* 6364136223846793005 &+ 1442695040888963407
        values.append((Float(state >> 40) / Float(1 << 24) - 0.3) * scale)
    }
    var s = ActivationStats(tensor: name, channels: channels)
    values.withUnsafeBufferPointer { s.observe(rows: rows, $0.baseAddress!) }
    return s
}

func dataSet(_ c: Character) -> CalibrationStats.DataSet {
    .init(
        sha256: String(repeating: c, count: 64), source: "part-\(c).txt", samples: 4, tokens: 64, sequenceLength: 16,
        seed: 7)
}

@Suite struct CalibrationFileTests {
    @Test func writesAndReadsBackExactly() throws {
        let s = CalibrationStats(
            architecture: "llama", data: [dataSet("a")],
            linears: [
                randomStats("blk.0.ffn_down.weight", channels: 12, rows: 9, seed: 1, scale: 3),
                randomStats("blk.0.attn_q.weight", channels: 8, rows: 9, seed: 2, scale: 0.01),
            ])
        let back = try CalibrationStats.parse(s.bytes(), name: "x.qcal")
        #expect(back == s)
        #expect(back.bytes() == s.bytes())
        #expect(back.linears.map(\.tensor) == ["blk.0.attn_q.weight", "blk.0.ffn_down.weight"])  // sorted
    }

    /// A linear that saw rows but never a finite value (a diverging model) is written with min and
    /// max 0, as the spec says, instead of trapping on an infinite range.
    @Test func rowsWithoutAFiniteValueWriteZeroRange() throws {
        var dead = ActivationStats(tensor: "t", channels: 3)
        let values: [Float] = [.nan, .infinity, -.infinity, .nan, .nan, .nan]
        values.withUnsafeBufferPointer { dead.observe(rows: 2, $0.baseAddress!) }
        #expect(dead.rows == 2 && !(dead.minimum <= dead.maximum))
        let s = CalibrationStats(architecture: "llama", data: [dataSet("a")], linears: [dead])
        let back = try CalibrationStats.parse(s.bytes(), name: "x.qcal")
        #expect(back.linears[0].rows == 2 && back.linears[0].minimum == 0 && back.linears[0].maximum == 0)
        #expect(back.linears[0].histogram.total == 0)
    }

    @Test func tensorsSortByUTF8Bytes() throws {
        // "a" + combining acute (61 CC 81) < "b" (62) < "z" (7A) < precomposed "á" (C3 A1).
        let names = ["z", "\u{E1}", "b", "a\u{301}"]
        let s = CalibrationStats(
            architecture: "bert", data: [], linears: names.map { ActivationStats(tensor: $0, channels: 1) })
        #expect(s.linears.map { Array($0.tensor.utf8) } == [[0x61, 0xCC, 0x81], [0x62], [0x7A], [0xC3, 0xA1]])
        let back = try CalibrationStats.parse(s.bytes(), name: "u.qcal")
        #expect(back.stats(for: "\u{E1}")?.tensor.utf8.count == 2 && back.stats(for: "z") != nil)
    }

    @Test func mergeEqualsObservingEverythingAndIgnoresOrder() throws {
        let a = CalibrationStats(
            architecture: "bert", data: [dataSet("a")],
            linears: [randomStats("w", channels: 6, rows: 20, seed: 3, scale: 1)])
        let b = CalibrationStats(
            architecture: "bert", data: [dataSet("b")],
            linears: [randomStats("w", channels: 6, rows: 30, seed: 4, scale: 50)])
        let ab = try CalibrationStats.merged([("a", a), ("b", b)]),
            ba = try CalibrationStats.merged([("b", b), ("a", a)])
        #expect(ab.bytes() == ba.bytes())
        #expect(ab.data.map(\.sha256) == [dataSet("a").sha256, dataSet("b").sha256])
        // Against one pass over both data sets: histogram, range and counts are exact; the sums
        // of squares differ only by rounding order.
        var whole = randomStats("w", channels: 6, rows: 20, seed: 3, scale: 1)
        var more = ActivationStats(tensor: "w", channels: 6)
        more = randomStats("w", channels: 6, rows: 30, seed: 4, scale: 50)
        whole.merge(more)
        let m = ab.linears[0]
        #expect(
            m.histogram == whole.histogram && m.rows == 50 && m.minimum == whole.minimum && m.maximum == whole.maximum)
        for c in 0..<6 { #expect(abs(m.sumSquares[c] - whole.sumSquares[c]) <= 1e-12 * whole.sumSquares[c]) }
        // The same data twice would count it twice: refused.
        #expect(throws: CalibrationStats.MergeError.self) { try CalibrationStats.merged([("a", a), ("a2", a)]) }
        // Different models: refused.
        let other = CalibrationStats(
            architecture: "bert", data: [dataSet("c")],
            linears: [randomStats("v", channels: 6, rows: 2, seed: 5, scale: 1)])
        #expect(throws: CalibrationStats.MergeError.self) { try CalibrationStats.merged([("a", a), ("c", other)]) }
    }

    @Test func rejectsMalformedFilesNamingTheField() throws {
        let good = CalibrationStats(
            architecture: "bert", data: [dataSet("a")],
            linears: [randomStats("w", channels: 3, rows: 2, seed: 3, scale: 1)])
        let text = String(decoding: good.bytes(), as: UTF8.self)
        func error(_ t: String) -> String {
            do { _ = try CalibrationStats.parse(Array(t.utf8), name: "bad.qcal"); return "accepted" } catch {
                return error.description
            }
        }
        #expect(
            error(text.replacingOccurrences(of: "\"version\":2", with: "\"version\":3")).contains("field 'version'"))
        #expect(
            error(text.replacingOccurrences(of: "\"channels\":3", with: "\"channels\":4")).contains(
                "linears[0].sum_squares"))
        #expect(error(text.replacingOccurrences(of: "\"rows\":2", with: "\"rows\":1")).contains("linears[0].histogram"))
        #expect(error(String(text.dropLast(3))).contains("bad.qcal"))
        #expect(
            error(text.replacingOccurrences(of: "\"format\":\"qpack-calibration\"", with: "\"format\":\"x\"")).contains(
                "field 'format' at byte"))
    }
}

@Suite struct CalibrationDataTests {
    @Test func readsTextJSONLinesAndIds() throws {
        #expect(
            try CalibrationData.parse(Array("one\n\n two \r\n".utf8), name: "a", format: .text) == [
                .text("one"), .text(" two "),
            ])
        #expect(
            try CalibrationData.parse(Array("{\"text\":\"a\\nb\",\"id\":3}\n".utf8), name: "a", format: .jsonl) == [
                .text("a\nb")
            ])
        #expect(
            try CalibrationData.parse(Array("1 2,3\n4\n".utf8), name: "a", format: .ids) == [
                .ids([1, 2, 3]), .ids([4]),
            ])
        #expect(throws: CalibrationData.LoadError.self) {
            try CalibrationData.parse(Array("{\"txt\":1}\n".utf8), name: "a", format: .jsonl)
        }
        do {
            _ = try CalibrationData.parse(Array("1 2\n3 x\n".utf8), name: "ids.ids", format: .ids)
            Issue.record("accepted")
        } catch { #expect(error.description == "ids.ids: line 2 (byte 4): 'x' is not a token id") }
    }

    @Test func selectionIsASeededPermutation() {
        let a = CalibrationData.select(Array(0..<100), count: 10, seed: 42)
        #expect(a == CalibrationData.select(Array(0..<100), count: 10, seed: 42))
        #expect(a != CalibrationData.select(Array(0..<100), count: 10, seed: 43))
        #expect(Set(CalibrationData.select(Array(0..<100), count: 1000, seed: 1)) == Set(0..<100))
    }

    @Test func licenseSplitsNeverShareAParagraph() throws {
        let cal = try LicenseCorpus.paragraphs(.calibration), eval = try LicenseCorpus.paragraphs(.evaluation)
        #expect(cal.count > 50 && eval.count > 50)
        #expect(Set(cal).isDisjoint(with: Set(eval)))
        #expect(
            LicenseCorpus.family("GPL-3") == "GPL" && LicenseCorpus.family("LGPL-2.1") == "LGPL"
                && LicenseCorpus.family("CC0-1.0") == "CC0")
        #expect(LicenseCorpus.family("BSD") == "BSD")
    }
}
