import Foundation
import QPackBinary

/// Where each format keeps the values worth editing. Written from the format specs, not from
/// qpack's readers, and tolerant: a walk stops at the first thing it does not understand and
/// returns what it found so far.
public enum FormatMaps {
    /// Every integer field of a GGUF header, key/value section and tensor table (gguf.md):
    /// version, counts, string lengths, value types, array counts, dimensions, tensor types and
    /// offsets.
    public static func ggufFields(_ b: [UInt8]) -> [IntegerField] {
        var fields: [IntegerField] = []
        var p = 4
        func u(_ width: Int) -> UInt64? {
            guard p + width <= b.count else { return nil }
            var v: UInt64 = 0
            for i in 0..<width { v |= UInt64(b[p + i]) << (8 * UInt64(i)) }
            fields.append(IntegerField(offset: p, width: width))
            p += width
            return v
        }
        func string() -> Bool {
            guard let n = u(8), n <= UInt64(b.count - p) else { return false }
            p += Int(n)
            return true
        }
        func value(_ type: UInt64, depth: Int) -> Bool {
            let widths: [UInt64: Int] = [0: 1, 1: 1, 2: 2, 3: 2, 4: 4, 5: 4, 6: 4, 7: 1, 10: 8, 11: 8, 12: 8]
            if let w = widths[type] {
                guard p + w <= b.count else { return false }
                // Scalars are values, not structure; integer ones are still worth editing.
                if type != 6 && type != 12 { fields.append(IntegerField(offset: p, width: w)) }
                p += w
                return true
            }
            if type == 8 { return string() }
            guard type == 9, depth < 3, let inner = u(4), let count = u(8) else { return false }
            for _ in 0..<min(count, 4096) where !value(inner, depth: depth + 1) { return false }
            return true
        }
        guard b.count >= 24, b[0..<4].elementsEqual("GGUF".utf8), u(4) != nil, let tensors = u(8), let kvs = u(8)
        else { return fields }
        for _ in 0..<min(kvs, 4096) {
            guard string(), let type = u(4), value(type, depth: 0) else { return fields }
        }
        for _ in 0..<min(tensors, 4096) {
            guard string(), let dims = u(4), dims <= 8 else { return fields }
            for _ in 0..<dims where u(8) == nil { return fields }
            guard u(4) != nil, u(8) != nil else { return fields }
        }
        return fields
    }

    /// The numbers and strings of a JSON (or flow-style YAML) text, by byte range, offset by
    /// `base`. A lexer only: it does not need the document to be valid.
    public static func jsonSpans(_ b: some Collection<UInt8>, base: Int = 0) -> [TextSpan] {
        let bytes = Array(b)
        var spans: [TextSpan] = []
        var i = 0
        while i < bytes.count {
            let c = bytes[i]
            if c == 0x22 {  // a string, escapes skipped
                var j = i + 1
                while j < bytes.count && bytes[j] != 0x22 { j += bytes[j] == 0x5C ? 2 : 1 }
                let end = min(j + 1, bytes.count)
                spans.append(TextSpan(range: (base + i)..<(base + end), kind: .string))
                i = end
            } else if c == 0x2D || (0x30...0x39).contains(c) {
                var j = i + 1
                while j < bytes.count, "0123456789.eE+-".utf8.contains(bytes[j]) { j += 1 }
                spans.append(TextSpan(range: (base + i)..<(base + j), kind: .number))
                i = j
            } else {
                i += 1
            }
        }
        return spans
    }

    /// A safetensors file: the 8-byte header length, and the header's JSON values.
    public static func safetensors(_ b: [UInt8]) -> ([IntegerField], [TextSpan]) {
        guard b.count >= 8 else { return ([], []) }
        var n = 0
        for i in 0..<8 { n |= Int(b[i]) << (8 * i) }
        let end = min(b.count, 8 + max(0, min(n, b.count)))
        return ([IntegerField(offset: 0, width: 8)], jsonSpans(b[8..<end], base: 8))
    }

    /// A `.qpack` file's manifest position (qpack-container.md §2), when header and footer agree.
    public static func containerManifest(_ b: [UInt8]) -> Range<Int>? {
        guard b.count >= 128 else { return nil }
        func u64(_ at: Int) -> Int {
            var v = 0
            for i in 0..<8 { v |= Int(b[at + i]) << (8 * i) }
            return v
        }
        let offset = u64(16), length = u64(24)
        guard offset >= 64, length > 0, offset <= b.count - 64, length <= b.count - 64 - offset else { return nil }
        return offset..<(offset + length)
    }

    /// Replaces a `.qpack` file's manifest with `manifest` and rewrites everything that vouches for
    /// it (header and footer lengths, file length, SHA-256), so the reader trusts the lie.
    public static func replacingManifest(_ b: [UInt8], with manifest: [UInt8]) -> [UInt8]? {
        guard let range = containerManifest(b) else { return nil }
        var out = Array(b[0..<range.lowerBound]) + manifest
        let digest = SHA256.hash(manifest)
        var footer = Array(b[(b.count - 64)...])
        func put(_ v: Int, _ at: Int, in a: inout [UInt8]) {
            for i in 0..<8 { a[at + i] = UInt8(truncatingIfNeeded: v >> (8 * i)) }
        }
        put(manifest.count, 24, in: &out)
        out.replaceSubrange(32..<64, with: digest)
        put(manifest.count, 16, in: &footer)
        put(out.count + 64, 24, in: &footer)
        footer.replaceSubrange(32..<64, with: digest)
        return out + footer
    }

    /// A `.qpack` file with the uncompressed section at `offset` edited by `edit`, its SHA-256 in
    /// the manifest replaced by the new one and the manifest re-vouched for.
    public static func editingSection(
        _ b: [UInt8], containing position: Int, edit: (inout ArraySlice<UInt8>) -> Void
    ) -> [UInt8]? {
        guard let manifestRange = containerManifest(b), position >= 64, position < manifestRange.lowerBound else {
            return nil
        }
        let manifest = String(decoding: b[manifestRange], as: UTF8.self)
        // Sections in the manifest: "offset":O,"stored_length":S,...,"sha256":"H" (in this order).
        var best: (offset: Int, length: Int, sha: String)?
        for part in manifest.split(separator: "{").dropFirst() {
            guard let o = number(after: "\"offset\":", in: part), let s = number(after: "\"stored_length\":", in: part),
                part.contains("\"compression\":\"none\""), let sha = string(after: "\"sha256\":\"", in: part),
                o <= position, position < o + s, o + s <= manifestRange.lowerBound
            else { continue }
            best = (o, s, sha)
        }
        guard let section = best else { return nil }
        var out = b
        var slice = out[section.offset..<(section.offset + section.length)]
        edit(&slice)
        guard slice.count == section.length else { return nil }
        out.replaceSubrange(section.offset..<(section.offset + section.length), with: slice)
        let newSHA = SHA256.hex(SHA256.hash(Array(slice)))
        let newManifest = manifest.replacingOccurrences(of: section.sha, with: newSHA)
        return replacingManifest(out, with: Array(newManifest.utf8))
    }

    static func number(after key: String, in text: Substring) -> Int? {
        guard let r = text.range(of: key) else { return nil }
        return Int(text[r.upperBound...].prefix { $0.isNumber })
    }

    static func string(after key: String, in text: Substring) -> String? {
        guard let r = text.range(of: key) else { return nil }
        return String(text[r.upperBound...].prefix { $0 != "\"" })
    }
}
