import Foundation
import QPackBinary
import QPackModel

/// One calibration or evaluation sample: text for the model's tokenizer, or token ids.
public enum CalibrationSample: Sendable, Equatable {
    case text(String)
    case ids([Int32])
}

/// Reads calibration data: plain text (one sample per line), JSON lines with a `text` field, or
/// token ids (one sample per line, integers separated by spaces or commas), and picks samples
/// reproducibly.
public enum CalibrationData {
    public enum Format: String, Sendable, CaseIterable {
        case text, jsonl, ids

        /// From the file name: `.jsonl` → jsonl, `.ids` → ids, anything else → text.
        public static func guess(_ path: String) -> Format {
            if path.hasSuffix(".jsonl") { return .jsonl }
            if path.hasSuffix(".ids") { return .ids }
            return .text
        }
    }

    public struct LoadError: Error, Sendable, CustomStringConvertible {
        public let description: String
        /// The file could not be read at all (exit 74), rather than read and found malformed.
        public var isIO = false
        public init(description: String, isIO: Bool = false) {
            self.description = description
            self.isIO = isIO
        }
    }

    public static let maximumFileSize = 256 << 20

    /// The samples of a file, in file order; empty lines are skipped.
    public static func load(path: String, format: Format? = nil) throws(LoadError) -> [CalibrationSample] {
        let name = path.split(separator: "/").last.map(String.init) ?? path
        let file: MappedFile
        do { file = try MappedFile(path: path) } catch {
            throw LoadError(description: "\(path): cannot read: \(error)", isIO: true)
        }
        guard file.size <= maximumFileSize else {
            throw LoadError(description: "\(name): larger than \(maximumFileSize >> 20) MiB")
        }
        return try parse(Array(file.bytes), name: name, format: format ?? .guess(path))
    }

    public static func parse(_ bytes: [UInt8], name: String, format: Format) throws(LoadError) -> [CalibrationSample] {
        var out: [CalibrationSample] = []
        var offset = 0, lineNumber = 0
        for line in bytes.split(separator: 0x0A, omittingEmptySubsequences: false) {
            defer { offset += line.count + 1 }
            lineNumber += 1
            var body = Array(line)
            if body.last == 0x0D { body.removeLast() }
            guard let text = String(validating: body, as: UTF8.self) else {
                throw LoadError(description: "\(name): line \(lineNumber) (byte \(offset)): not valid UTF-8")
            }
            if text.allSatisfy(\.isWhitespace) { continue }
            switch format {
            case .text:
                out.append(.text(text))
            case .jsonl:
                let node: JSONNode
                do { node = try StrictJSONParser.parse(body, baseOffset: offset) } catch {
                    throw LoadError(description: "\(name): line \(lineNumber): \(error.description)")
                }
                guard let t = node["text"]?.string else {
                    throw LoadError(
                        description:
                            "\(name): line \(lineNumber) (byte \(offset)): field 'text' missing or not a string")
                }
                out.append(.text(t))
            case .ids:
                var ids: [Int32] = []
                for word in text.split(whereSeparator: { $0 == " " || $0 == "," || $0 == "\t" }) {
                    guard let v = Int32(word), v >= 0 else {
                        throw LoadError(
                            description: "\(name): line \(lineNumber) (byte \(offset)): '\(word)' is not a token id")
                    }
                    ids.append(v)
                }
                out.append(.ids(ids))
            }
        }
        return out
    }

    /// `count` samples chosen by a Fisher–Yates shuffle driven by SplitMix64(seed), in the
    /// shuffled order; all of them when count ≥ the number of samples (still shuffled).
    public static func select<T>(_ samples: [T], count: Int, seed: UInt64) -> [T] {
        var a = samples
        var rng = SplitMix64(seed: seed)
        if a.count > 1 {
            for i in stride(from: a.count - 1, to: 0, by: -1) {
                let j = Int(rng.next() % UInt64(i + 1))
                a.swapAt(i, j)
            }
        }
        return Array(a.prefix(max(0, count)))
    }

    /// SHA-256 of token id sequences: each as a little-endian uint32 length then int32 ids.
    public static func digest(_ sequences: [[Int32]]) -> String {
        var h = SHA256()
        for s in sequences {
            var bytes: [UInt8] = []
            bytes.reserveCapacity(4 + 4 * s.count)
            let n = UInt32(s.count)
            for v in [n] + s.map({ UInt32(bitPattern: $0) }) {
                bytes += [
                    UInt8(truncatingIfNeeded: v), UInt8(truncatingIfNeeded: v >> 8), UInt8(truncatingIfNeeded: v >> 16),
                    UInt8(truncatingIfNeeded: v >> 24),
                ]
            }
            bytes.withUnsafeBytes { h.update($0) }
        }
        return SHA256.hex(h.finalize())
    }
}

/// Text no one here wrote: the license texts Debian's base-files installs, read at run time and
/// split by license family so calibration and evaluation never share a paragraph.
public enum LicenseCorpus {
    public enum Split: String, Sendable, CaseIterable {
        case calibration, evaluation
    }

    public static let directory = "/usr/share/common-licenses"
    /// Paragraphs shorter than this many words (titles, headings) are left out.
    public static let minimumWords = 8

    /// `licenses:calibration` or `licenses:evaluation` names a split instead of a file.
    public static func split(named spec: String) -> Split? {
        guard spec.hasPrefix("licenses:") else { return nil }
        return Split(rawValue: String(spec.dropFirst("licenses:".count)))
    }

    /// The license family of a file name: the name without a trailing `-<digits and dots>`.
    static func family(_ name: String) -> String {
        guard let dash = name.lastIndex(of: "-") else { return name }
        let tail = name[name.index(after: dash)...]
        return !tail.isEmpty && tail.allSatisfy({ $0.isNumber || $0 == "." }) ? String(name[..<dash]) : name
    }

    /// Paragraphs (blank-line separated, whitespace collapsed) of the regular files in
    /// `directory`, sorted by file name. Families at even positions of the sorted family list go
    /// to calibration, odd ones to evaluation; repeated paragraphs are kept once, and a paragraph
    /// of an evaluation file that also occurs in a calibration file is dropped.
    public static func paragraphs(_ split: Split, directory: String = directory) throws(CalibrationData.LoadError)
        -> [String]
    {
        let fm = FileManager.default
        guard let names = try? fm.contentsOfDirectory(atPath: directory) else {
            throw CalibrationData.LoadError(
                description: "\(directory): cannot list (Debian's base-files package installs it)")
        }
        var files: [(name: String, family: String)] = []
        for n in names.sorted() {
            let path = directory + "/" + n
            guard let attrs = try? fm.attributesOfItem(atPath: path), attrs[.type] as? FileAttributeType == .typeRegular
            else { continue }
            files.append((n, family(n)))
        }
        let families = Array(Set(files.map(\.family))).sorted()
        var sets: [Split: [String]] = [.calibration: [], .evaluation: []]
        var seen: [Split: Set<String>] = [.calibration: [], .evaluation: []]
        for f in files {
            let s: Split = families.firstIndex(of: f.family)! % 2 == 0 ? .calibration : .evaluation
            guard let data = fm.contents(atPath: directory + "/" + f.name) else {
                throw CalibrationData.LoadError(description: "\(directory)/\(f.name): cannot read")
            }
            let text = String(decoding: data, as: UTF8.self)
            for block in text.components(separatedBy: "\n\n") {
                let words = block.split(whereSeparator: \.isWhitespace)
                guard words.count >= minimumWords else { continue }
                let p = words.joined(separator: " ")
                if seen[s]!.insert(p).inserted { sets[s]!.append(p) }
            }
        }
        let calibration = seen[.calibration]!
        if split == .evaluation { return sets[.evaluation]!.filter { !calibration.contains($0) } }
        return sets[.calibration]!
    }
}

extension CalibrationData.LoadError: QPackFailure {
    public var failureKind: FailureKind { isIO ? .io : .malformed }
}
