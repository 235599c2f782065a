import Foundation
import Testing
import QPackBinary
import QPackModel
import QPackTestSupport
@testable import QPackReaders

@Suite struct GGUFTests {
    static let typeNames = [
        "t.f32", "t.f16", "t.bf16", "t.q4_0", "t.q4_1", "t.q5_0", "t.q5_1", "t.q8_0",
        "t.q2_k", "t.q3_k", "t.q4_k", "t.q5_k", "t.q6_k", "t.q8_k",
    ]

    /// Dequantization equals gguf-py's `dequantize` bit for bit (Q8_K: numpy, as gguf-py has none).
    @Test(arguments: typeNames)
    func dequantizationMatchesGGUFPy(_ name: String) throws {
        let file = try GGUFFile(path: TestPaths.fixture("gguf/types.gguf"))
        let expected = try TestPaths.json(TestPaths.fixture("gguf/types.expected.json"))["tensors"]![name]!
        let t = try #require(file.tensor(named: name))
        #expect(t.type.name == expected["type"]!.string)
        #expect(Int(t.type.id) == expected["type_id"]!.int)
        #expect(t.dimensions == expected["shape"]!.items.map { $0.int! })
        #expect(t.byteCount == expected["bytes"]!.int)
        let want = try TestPaths.read(TestPaths.fixture("gguf/types.expected/\(name).f32"))
        let got = try file.floatValues(of: t)
        #expect(got.count * 4 == want.count)
        var mismatches = 0
        for (i, v) in got.enumerated() {
            let w =
                UInt32(want[4 * i]) | UInt32(want[4 * i + 1]) << 8 | UInt32(want[4 * i + 2]) << 16 | UInt32(
                    want[4 * i + 3]) << 24
            if v.bitPattern != w { mismatches += 1 }
        }
        #expect(mismatches == 0, "\(mismatches) of \(got.count) values differ for \(name)")
    }

    @Test func allZeroBlocksDecodeToExactZero() throws {
        let file = try GGUFFile(path: TestPaths.fixture("gguf/types.gguf"))
        for name in ["t.q4_0", "t.q5_0", "t.q8_0"] {
            let values = try file.floatValues(of: file.tensor(named: name)!)
            #expect(values.prefix(32).allSatisfy { $0 == 0 }, "\(name)")
        }
    }

    @Test func everyMetadataTypeMatchesWhatGGUFPyWrote() throws {
        let file = try GGUFFile(path: TestPaths.fixture("gguf/metadata.gguf"))
        let expected = try TestPaths.json(TestPaths.fixture("gguf/metadata.expected.json"))
        #expect(file.version == 3)
        for entry in expected["scalars"]!.members {
            let v = try #require(file.value(entry.key), "missing \(entry.key)")
            let want = entry.node["value"]!
            switch v {
            case let .uint8(x): #expect(UInt64(x) == want.uint64)
            case let .uint16(x): #expect(UInt64(x) == want.uint64)
            case let .uint32(x): #expect(UInt64(x) == want.uint64)
            case let .uint64(x): #expect(x == want.uint64)
            case let .int8(x): #expect(Int(x) == want.int)
            case let .int16(x): #expect(Int(x) == want.int)
            case let .int32(x): #expect(Int(x) == want.int)
            case let .int64(x): #expect(Int(x) == want.int)
            case let .float32(x): #expect(Double(x) == want.double)
            case let .float64(x): #expect(x == want.double)
            case let .bool(x): #expect(x == want.bool)
            case let .string(x): #expect(x.text == want.string)
            case .array: Issue.record("\(entry.key) is an array")
            }
            #expect(v.type.name == Self.shortName(entry.node["type"]!.string!), "\(entry.key)")
        }
        for entry in expected["arrays"]!.members {
            let a = try #require(try file.array(entry.key))
            #expect(a.elementType.name == Self.shortName(entry.node["element_type"]!.string!))
            #expect(Self.render(a, in: file) == Self.render(entry.node["values"]!))
        }
        #expect(try file.string("tokenizer.ggml.model") == "gpt2")
        #expect(try file.array("tokenizer.ggml.tokens", of: .string)?.count == 4)
        // Type-checked access: a u32 asked for as a string is an error, never a cast.
        #expect(throws: ReaderError.self) { try file.string("test.u32") }
        #expect(throws: ReaderError.self) { try file.array("test.array.i32", of: .string) }
    }

    static func shortName(_ python: String) -> String {
        [
            "uint8": "u8", "int8": "i8", "uint16": "u16", "int16": "i16", "uint32": "u32", "int32": "i32",
            "uint64": "u64", "int64": "i64", "float32": "f32", "float64": "f64",
        ][python] ?? python
    }

    /// Arrays rendered as text on both sides, so nesting compares structurally.
    static func render(_ a: GGUFArray, in file: GGUFFile) -> String {
        if a.elementType == .array { return "[" + a.nested.map { render($0, in: file) }.joined(separator: ",") + "]" }
        if a.elementType == .string {
            return "[" + (0..<a.count).map { "\"\(file.string(at: $0, of: a).text!)\"" }.joined(separator: ",") + "]"
        }
        let p = file.payload(of: a)
        let items: [String] = (0..<a.count).map { i in
            switch a.elementType {
            case .int32: return String(Int32(littleEndian: p.loadUnaligned(fromByteOffset: 4 * i, as: Int32.self)))
            case .uint64: return String(UInt64(littleEndian: p.loadUnaligned(fromByteOffset: 8 * i, as: UInt64.self)))
            case .float32:
                return String(Double(Float(bitPattern: p.loadUnaligned(fromByteOffset: 4 * i, as: UInt32.self))))
            case .bool: return p[i] == 1 ? "true" : "false"
            default: return "?"
            }
        }
        return "[" + items.joined(separator: ",") + "]"
    }

    static func render(_ node: JSONNode) -> String {
        switch node.value {
        case let .array(items): return "[" + items.map(render).joined(separator: ",") + "]"
        case let .string(s): return "\"\(s)\""
        case let .number(n): return n.contains(".") ? String(Double(n)!) : n
        case let .bool(b): return b ? "true" : "false"
        default: return "?"
        }
    }

    @Test func version2ReadsLikeVersion3() throws {
        let v2 = try GGUFFile(path: TestPaths.fixture("gguf/v2.gguf"))
        let v3 = try GGUFFile(path: TestPaths.fixture("gguf/metadata.gguf"))
        #expect(v2.version == 2)
        #expect(v2.metadata.map(\.key) == v3.metadata.map(\.key))
        #expect(try v2.floatValues(of: v2.tensors[0]) == v3.floatValues(of: v3.tensors[0]))
    }

    @Test func customAlignmentPlacesTheDataSection() throws {
        let file = try GGUFFile(path: TestPaths.fixture("gguf/aligned64.gguf"))
        #expect(file.alignment == 64)
        #expect(file.dataStart % 64 == 0)
        #expect(file.tensors.map(\.relativeOffset) == [0, 64])
    }

    /// G20: a zero dimension is an empty tensor, with no division by zero anywhere after it.
    @Test func zeroDimensionIsAnEmptyTensor() throws {
        let file = try GGUFFile(path: TestPaths.fixture("gguf/zero-dim.gguf"))
        let empty = try #require(file.tensor(named: "empty"))
        #expect(empty.dimensions == [8, 0] && empty.elementCount == 0 && empty.byteCount == 0)
        #expect(try file.floatValues(of: empty).isEmpty)
        #expect(try file.floatValues(of: file.tensor(named: "w")!) == [0, 1, 2, 3])
    }

    /// G13: opaque string values keep their exact bytes; reading them as text is an error.
    @Test func opaqueStringsKeepTheirBytes() throws {
        let file = try GGUFFile(path: TestPaths.fixture("gguf/opaque-string.gguf"))
        guard case let .string(s)? = file.value("general.description") else { Issue.record("missing"); return }
        #expect(s.bytes == [0x63, 0x61, 0x66, 0xE9, 0x20, 0xFF])
        #expect(s.text == nil)
        #expect { try file.string("general.description") } throws: {
            ($0 as? ReaderError)?.detail == "value is not valid UTF-8"
        }
    }

    @Test func unsupportedTypesAreNamedWhenDequantizing() throws {
        // IQ4_NL (id 20) is a known ggml type the reader accepts but cannot dequantize.
        var bytes = try TestPaths.read(TestPaths.fixture("gguf/aligned64.gguf"))
        let file = try GGUFFile(mapped: MappedFile(copying: bytes, path: "x.gguf"))
        let t = file.tensors[0]
        // Rewrite tensor 'a' as IQ4_NL with 32 elements: type field sits 12 bytes before the info end.
        bytes = Self.patchTensor(bytes, info: t, dims: [32], typeID: 20)
        let patched = try GGUFFile(mapped: MappedFile(copying: bytes, path: "x.gguf"))
        #expect {
            try patched.floatValues(of: patched.tensors[0])
        } throws: { error in
            let e = error as? ReaderError
            return e?.kind == .unsupported && e?.subject == "tensor 'a'"
                && e?.detail.contains("unsupported tensor type IQ4_NL") == true
        }
    }

    /// Rewrites one tensor info in place (same n_dims) and fixes up the following offsets
    /// so the layout stays valid; used to reach states the writer would not produce.
    static func patchTensor(_ bytes: [UInt8], info: GGUFTensorInfo, dims: [Int], typeID: UInt32) -> [UInt8] {
        var b = bytes
        var at = info.infoOffset + 8 + info.name.utf8.count + 4
        for d in dims {
            withUnsafeBytes(of: UInt64(d).littleEndian) { b.replaceSubrange(at..<(at + 8), with: $0) }
            at += 8
        }
        withUnsafeBytes(of: typeID.littleEndian) { b.replaceSubrange(at..<(at + 4), with: $0) }
        return b
    }
}
