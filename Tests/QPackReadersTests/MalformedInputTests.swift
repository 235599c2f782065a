import Foundation
import Testing
import QPackBinary
import QPackTestSupport
@testable import QPackReaders

/// The malformed-input corpus (Fixtures/malformed, rows of the bad-input checklist): every file
/// is rejected with the expected kind of error, naming the expected field, at the expected offset.
@Suite struct MalformedInputTests {
    struct Case: CustomTestStringConvertible, Sendable {
        let id: String
        let file: String
        let kind: String
        let subject: String
        let detail: String
        let offset: Int?
        var testDescription: String { "\(id) \(file)" }
    }

    static let cases: [Case] = {
        guard let doc = try? TestPaths.json(TestPaths.fixture("malformed/expected.json")) else { return [] }
        return doc["cases"]!.items.compactMap { c in
            if c["generated"]?.bool == true { return nil }  // built inside a test below
            return Case(
                id: c["id"]!.string!, file: c["file"]!.string!, kind: c["kind"]!.string!,
                subject: c["subject"]!.string!, detail: c["detail"]!.string!, offset: c["offset"]?.int)
        }
    }()

    @Test func corpusCoversTheChecklist() {
        #expect(Self.cases.count >= 40)
        let ids = Set(Self.cases.map(\.id))
        for id in [
            "S01", "S03", "S05", "S07", "S11", "S13", "S16", "S20", "S23", "S25", "S29",
            "G01", "G02", "G03", "G08", "G12", "G15", "G21", "G23", "G26", "G28",
            "F01", "F02", "F03", "F04",
        ] {
            #expect(ids.contains(id), "no fixture for \(id)")
        }
    }

    @Test(arguments: cases)
    func isRejectedWithTheExpectedError(_ c: Case) {
        let path = TestPaths.fixture("malformed/" + c.file)
        do {
            _ = try Checkpoint.open(path: path)
            Issue.record("\(c.file) was accepted")
        } catch {
            let kind: String
            switch error.kind {
            case .malformed: kind = "malformed"
            case .unsupported: kind = "unsupported"
            case .io: kind = "io"
            }
            #expect(kind == c.kind, "\(error)")
            #expect(error.subject.contains(c.subject), "\(error)")
            #expect(error.detail.contains(c.detail), "\(error)")
            if let offset = c.offset { #expect(error.offset == offset, "\(error)") }
            #expect(!error.file.isEmpty && error.description.hasPrefix(error.file + ": "))
        }
    }

    /// G11: a huge array of empty strings hits the metadata cap (limit lowered so the test file
    /// stays small; the mechanism is the same at 64 MiB).
    @Test func metadataCapStopsHugeStringArrays() throws {
        var limits = GGUFFile.Limits()
        limits.maxMetadataBytes = 1 << 20
        let count = 200_000
        var b: [UInt8] = Array("GGUF".utf8)
        func u32(_ v: UInt32) { withUnsafeBytes(of: v.littleEndian) { b += $0 } }
        func u64(_ v: UInt64) { withUnsafeBytes(of: v.littleEndian) { b += $0 } }
        u32(3); u64(0); u64(1)
        u64(9); b += Array("general.x".utf8); u32(9); u32(8); u64(UInt64(count))
        for _ in 0..<count { u64(0) }
        #expect {
            try GGUFFile(mapped: MappedFile(copying: b, path: "g11.gguf"), limits: limits)
        } throws: { ($0 as? ReaderError)?.detail.contains("metadata exceeds the limit") == true }
    }

    @Test func headerByteCapIsSixteenMebibytes() throws {
        // A header one byte over the cap is refused from its length alone.
        let bytes = withUnsafeBytes(of: UInt64((16 << 20) + 1).littleEndian, Array.init) + Array("{}".utf8)
        #expect {
            try SafetensorsFile(mapped: MappedFile(copying: bytes, path: "big.safetensors"))
        } throws: { ($0 as? ReaderError)?.detail.contains("exceeds the limit of 16777216 bytes") == true }
    }
}

/// Every truncation and every single-byte flip of the small golden files ends in a typed error
/// or a successful parse; a successful parse then decodes every tensor without trapping.
@Suite struct MutationWalkTests {
    static let goldens = [
        "safetensors/dtypes.safetensors", "gguf/metadata.gguf", "gguf/types.gguf", "gguf/aligned64.gguf",
    ]

    static func parse(_ bytes: [UInt8], name: String, decodeTensors: Bool) -> Bool {
        let file = MappedFile(copying: bytes, path: name)
        do {
            if name.hasSuffix(".gguf") {
                let g = try GGUFFile(mapped: file)
                if decodeTensors { for t in g.tensors where t.type.isDequantizable { _ = try g.floatValues(of: t) } }
            } else {
                let s = try SafetensorsFile(mapped: file)
                if decodeTensors { for t in s.tensors { _ = s.floatValues(of: t) } }
            }
            return true
        } catch {
            #expect(!error.description.isEmpty)
            return false
        }
    }

    @Test(arguments: goldens)
    func everyTruncationIsATypedError(_ golden: String) throws {
        let bytes = try TestPaths.read(TestPaths.fixture(golden))
        var accepted = 0
        for n in 0..<bytes.count where Self.parse(Array(bytes[..<n]), name: golden, decodeTensors: false) {
            accepted += 1
        }
        // A truncated file can only parse when nothing but trailing padding was cut.
        #expect(accepted <= 64, "\(accepted) truncations of \(golden) were accepted")
    }

    @Test(arguments: goldens)
    func everySingleByteFlipIsHandled(_ golden: String) throws {
        let bytes = try TestPaths.read(TestPaths.fixture(golden))
        let headerEnd: Int
        if golden.hasSuffix(".gguf") {
            headerEnd = try GGUFFile(mapped: MappedFile(copying: bytes, path: golden)).dataStart
        } else {
            headerEnd = try SafetensorsFile(mapped: MappedFile(copying: bytes, path: golden)).dataStart
        }
        var rejected = 0
        for i in 0..<bytes.count {
            var m = bytes
            m[i] ^= 0xFF
            // Flips inside the data can only change values; decode those in the header region.
            if !Self.parse(m, name: golden, decodeTensors: i < headerEnd) { rejected += 1 }
        }
        #expect(rejected > 0)
    }
}
