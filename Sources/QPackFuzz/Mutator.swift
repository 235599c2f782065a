import QPackBinary

/// The fuzzer's draws: a (seed, target, iteration) triple names one case exactly, so a crash can
/// be replayed by its iteration number.
extension SplitMix64 {
    public mutating func below(_ n: Int) -> Int { Int(next() % UInt64(max(n, 1))) }

    public mutating func chance(_ percent: Int) -> Bool { below(100) < percent }

    public mutating func pick<T>(_ items: [T]) -> T { items[below(items.count)] }
}

/// An integer field of a binary format: where it is and how wide (little-endian).
public struct IntegerField: Sendable, Equatable {
    public var offset: Int
    public var width: Int
    public init(offset: Int, width: Int) {
        self.offset = offset
        self.width = width
    }
}

/// A span of text inside a document (a JSON or YAML number or string), by byte range.
public struct TextSpan: Sendable, Equatable {
    public enum Kind: Sendable { case number, string }
    public var range: Range<Int>
    public var kind: Kind
}

/// Mutations of bytes: generic ones (flips, truncations, splices, duplications) and ones that
/// know where a format keeps its integers and its JSON values, so that mutated files get past
/// the first length check and reach deeper code.
public enum Mutator {
    /// Values that sit on the edges readers get wrong: zero, one, all ones, powers of two around
    /// 2^31, 2^32, 2^53, 2^62, 2^63.
    static let interestingIntegers: [UInt64] = [
        0, 1, 2, 3, 7, 8, 31, 32, 33, 63, 64, 127, 128, 255, 256, 1023, 1024, 4095, 4096, 65535, 65536,
        0x7FFF_FFFF, 0x8000_0000, 0xFFFF_FFFF, 0x1_0000_0000, 1 << 40, 1 << 53, (1 << 53) + 1, 1 << 62,
        0x7FFF_FFFF_FFFF_FFFF, 0x8000_0000_0000_0000, UInt64.max, UInt64.max - 1,
    ]

    /// Numbers written as JSON/YAML text, including ones no reader should accept.
    static let interestingNumbers: [String] = [
        "0", "-0", "1", "-1", "2", "3", "64", "65", "-64", "255", "256", "1024", "65536", "2147483647", "2147483648",
        "-2147483649", "4294967296", "9007199254740993", "4611686018427387904", "9223372036854775807",
        "9223372036854775808", "18446744073709551615", "18446744073709551616", "1e308", "1e309", "-1e309", "1.5",
        "0.5", "1e-320", "0.0", "-0.0", "1e3", "100000000000000000000000000000", "NaN", "Infinity", "nan",
    ]

    static let interestingStrings: [String] = [
        "", "a", "\\u0000", "\\ud800", "../../x", "/etc/passwd", String(repeating: "A", count: 300),
        "F32", "F16", "BF16", "I64", "U8", "Q4_0", "llama", "bert", "qsi4c32", "f16", "zstd", "none", "BPE",
        "model.layers.0.self_attn.q_proj.weight", "token_embd.weight", "blk.0.attn_q.weight", "\u{00e9}\u{1F600}",
        "(.*)*x", "(a|a)*$", "[", "*",
    ]

    /// Applies one to four mutations, chosen by `rng`, to `bytes`. `fields` and `spans` describe
    /// the format; `others` are corpus members for splices.
    public static func mutate(
        _ bytes: inout [UInt8], rng: inout SplitMix64, fields: [IntegerField], spans: [TextSpan],
        others: [[UInt8]]
    ) {
        let rounds = 1 + rng.below(4)
        for _ in 0..<rounds {
            // Structure-aware edits first (most cases), then the generic ones.
            let choice = rng.below(100)
            if choice < 30, !fields.isEmpty {
                editField(&bytes, rng.pick(fields), rng: &rng)
            } else if choice < 55, !spans.isEmpty {
                // Spans describe the unmutated layout: edit one to three of them, last first so
                // the earlier ones stay where they were, and nothing else.
                var chosen = Set<Int>()
                for _ in 0..<(1 + rng.below(3)) { chosen.insert(rng.below(spans.count)) }
                for k in chosen.sorted(by: >) { editSpan(&bytes, spans[k], rng: &rng) }
                return
            } else {
                generic(&bytes, rng: &rng, others: others)
            }
        }
    }

    static func editField(_ bytes: inout [UInt8], _ field: IntegerField, rng: inout SplitMix64) {
        guard field.offset >= 0, field.offset + field.width <= bytes.count else { return }
        var old: UInt64 = 0
        for i in 0..<field.width { old |= UInt64(bytes[field.offset + i]) << (8 * UInt64(i)) }
        let value: UInt64
        switch rng.below(4) {
        case 0: value = old &+ 1
        case 1: value = old &- 1
        case 2: value = old &* 2 &+ UInt64(rng.below(3))
        default: value = rng.pick(interestingIntegers)
        }
        for i in 0..<field.width { bytes[field.offset + i] = UInt8(truncatingIfNeeded: value >> (8 * UInt64(i))) }
    }

    static func editSpan(_ bytes: inout [UInt8], _ span: TextSpan, rng: inout SplitMix64) {
        guard span.range.upperBound <= bytes.count else { return }
        var replacement: String
        switch span.kind {
        case .number:
            let old = String(decoding: bytes[span.range], as: UTF8.self)
            switch rng.below(4) {
            case 0: replacement = Int(old).map { String($0 &+ 1) } ?? "1"
            case 1: replacement = Int(old).map { String($0 &- 1) } ?? "-1"
            case 2: replacement = "\"" + old + "\""
            default: replacement = rng.pick(interestingNumbers)
            }
        case .string:
            switch rng.below(3) {
            case 0: replacement = "\"" + rng.pick(interestingStrings) + "\""
            case 1: replacement = rng.pick(interestingNumbers)
            default:
                // A string twice as long: names and keys that collide or overflow.
                let inner = bytes[
                    (span.range.lowerBound + 1)..<max(span.range.lowerBound + 1, span.range.upperBound - 1)]
                replacement =
                    "\"" + String(decoding: inner, as: UTF8.self) + String(decoding: inner, as: UTF8.self) + "\""
            }
        }
        bytes.replaceSubrange(span.range, with: Array(replacement.utf8))
    }

    static func generic(_ bytes: inout [UInt8], rng: inout SplitMix64, others: [[UInt8]]) {
        let n = bytes.count
        switch rng.below(9) {
        case 0 where n > 0:  // flip one bit
            let i = rng.below(n)
            bytes[i] ^= UInt8(1) << UInt8(rng.below(8))
        case 1 where n > 0:  // an interesting byte
            bytes[rng.below(n)] = rng.pick([0, 1, 0x7F, 0x80, 0xFF, 0x22, 0x5C, 0x7B, 0x5B, 0x0A, 0x30])
        case 2 where n > 0:  // truncate
            bytes.removeSubrange(rng.below(n)..<n)
        case 3 where n > 0:  // delete a run
            let i = rng.below(n)
            bytes.removeSubrange(i..<min(n, i + 1 + rng.below(64)))
        case 4 where n > 0:  // duplicate a run in place
            let i = rng.below(n)
            let run = Array(bytes[i..<min(n, i + 1 + rng.below(256))])
            bytes.insert(contentsOf: run, at: rng.below(n + 1))
        case 5:  // insert random bytes
            var run: [UInt8] = []
            for _ in 0..<(1 + rng.below(16)) { run.append(UInt8(truncatingIfNeeded: rng.next())) }
            bytes.insert(contentsOf: run, at: rng.below(n + 1))
        case 6 where !others.isEmpty:  // splice: our head, another file's tail
            let other = rng.pick(others)
            let cut = n == 0 ? 0 : rng.below(n)
            let from = other.isEmpty ? 0 : rng.below(other.count)
            bytes = Array(bytes[0..<cut]) + Array(other[from...])
        case 7 where n >= 8:  // an interesting 4- or 8-byte integer anywhere
            let width = rng.chance(50) ? 4 : 8
            editField(&bytes, IntegerField(offset: rng.below(n - width + 1), width: width), rng: &rng)
        default:  // append junk
            for _ in 0..<(1 + rng.below(32)) { bytes.append(UInt8(truncatingIfNeeded: rng.next())) }
        }
    }
}
