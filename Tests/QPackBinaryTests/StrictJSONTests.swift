import Testing
@testable import QPackBinary

@Suite struct StrictJSONTests {
    func parse(_ s: String, maxDepth: Int = 32) throws(JSONError) -> JSONNode {
        try StrictJSONParser.parse(Array(s.utf8), maxDepth: maxDepth)
    }

    @Test func parsesNestedValuesWithOffsets() throws {
        let node = try parse(#"  {"a": [1, -2.5e3, true, false, null], "b": {"c": "d\u00e9\n"}}  "#)
        guard case let .object(m) = node.value else { Issue.record("not an object"); return }
        #expect(node.offset == 2)
        #expect(m.map(\.key) == ["a", "b"])
        #expect(m[0].keyOffset == 3)
        #expect(
            m[0].node.value
                == .array([
                    JSONNode(value: .number("1"), offset: 9), JSONNode(value: .number("-2.5e3"), offset: 12),
                    JSONNode(value: .bool(true), offset: 20), JSONNode(value: .bool(false), offset: 26),
                    JSONNode(value: .null, offset: 33),
                ]))
        guard case let .object(inner) = m[1].node.value else { Issue.record("b not an object"); return }
        #expect(inner[0].node.value == .string("dé\n"))
    }

    @Test func decodesSurrogatePairsAndRawUTF8() throws {
        #expect(try parse(#""\ud83d\ude42""#).value == .string("🙂"))
        #expect(try parse("\"世界🙂\"").value == .string("世界🙂"))
    }

    @Test func exactUnsignedIntegers() throws {
        #expect(try parse("18446744073709551615").value.exactUInt64 == UInt64.max)
        #expect(try parse("9007199254740993").value.exactUInt64 == 9_007_199_254_740_993)  // 2^53 + 1, not rounded
        #expect(try parse("18446744073709551616").value.exactUInt64 == nil)
        #expect(try parse("-1").value.exactUInt64 == nil)
        #expect(try parse("2.0").value.exactUInt64 == nil)
        #expect(try parse("1e2").value.exactUInt64 == nil)
        #expect(try parse("0").value.exactUInt64 == 0)
    }

    static let rejected: [(String, String)] = [
        ("\u{FEFF}{}", "byte-order mark"),
        ("{} {}", "after the end"),
        ("{}\u{0}", "after the end"),
        ("[1,]", "expected a value"),
        (#"{"a":1,}"#, "expected a string key"),
        ("{/* c */}", "expected a string key"),
        ("// c\n{}", "expected a value"),
        ("NaN", "expected a value"),
        ("Infinity", "expected a value"),
        ("-Infinity", "invalid number"),
        ("'a'", "expected a value"),
        ("{'a':1}", "expected a string key"),
        ("01", "leading zero"),
        ("1.", "no digits after"),
        ("1e", "no digits in exponent"),
        (#"{"a":1,"a":2}"#, "duplicate key \"a\""),
        (#"{"x":{"a":1,"a":1}}"#, "duplicate key \"a\""),
        (#""\ud800""#, "lone surrogate"),
        (#""\udc00x""#, "lone surrogate"),
        (#""\ud800\u0041""#, "lone surrogate"),
        (#""\x""#, "invalid escape"),
        ("\"a\u{1}\"", "control character"),
        ("\"abc", "unterminated string"),
        ("tru", "invalid literal"),
        ("", "end of input"),
        ("   ", "end of input"),
        ("[1 2]", "expected ',' or ']'"),
    ]

    @Test(arguments: rejected)
    func rejectsWhatLenientParsersAccept(_ input: String, _ message: String) {
        #expect {
            try parse(input)
        } throws: { error in
            (error as? JSONError)?.message.contains(message) == true
        }
    }

    @Test(arguments: [
        ([0xC0, 0xAF] as [UInt8], "invalid UTF-8 lead byte"),  // overlong '/'
        ([0xE0, 0x80, 0xAF], "overlong"),
        ([0xED, 0xA0, 0x80], "surrogate"),  // UTF-8 encoded surrogate
        ([0xF4, 0x90, 0x80, 0x80], "out of range"),
        ([0xFF], "invalid UTF-8 lead byte"),
        ([0xC3], "continuation"),  // the closing quote is not a continuation byte
        ([0xC3, 0x41], "continuation"),
    ])
    func rejectsInvalidUTF8(_ bytes: [UInt8], _ message: String) {
        let input = [UInt8(ascii: "\"")] + bytes + [UInt8(ascii: "\"")]
        #expect {
            try StrictJSONParser.parse(input)
        } throws: { error in
            (error as? JSONError)?.message.contains(message) == true
        }
    }

    @Test func depthLimitCountsEveryContainer() throws {
        let ok = String(repeating: "[", count: 32) + String(repeating: "]", count: 32)
        #expect(throws: Never.self) { try parse(ok) }
        let deep = String(repeating: "[", count: 33) + String(repeating: "]", count: 33)
        #expect { try parse(deep) } throws: { ($0 as? JSONError)?.message.contains("deeper than 32") == true }
        // A hostile depth fails fast without recursing a million frames.
        let hostile = String(repeating: "[", count: 1_000_000)
        #expect { try parse(hostile) } throws: { ($0 as? JSONError)?.offset == 32 }
    }

    @Test func errorOffsetsIncludeTheBaseOffset() {
        #expect {
            try StrictJSONParser.parse(Array(#"{"a":1,"a":2}"#.utf8), baseOffset: 8)
        } throws: { ($0 as? JSONError)?.offset == 15 }
    }
}
