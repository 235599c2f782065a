import Foundation
import QPackModel

/// BERT's WordPiece tokenizer, as Hugging Face `tokenizers` runs it for uncased models:
/// BertNormalizer (clean text, spaces around CJK ideographs, accents stripped, lower case),
/// BertPreTokenizer (split on whitespace and punctuation), greedy longest-match WordPiece with
/// the `##` continuation prefix, then `[CLS] ... [SEP]`.
public struct WordPieceTokenizer: Sendable {
    public let vocabulary: [String]
    private let ids: [String: Int]
    public let lowercase: Bool
    public let unknownID: Int
    public let clsID: Int
    public let sepID: Int
    public let maxCharactersPerWord = 100

    public struct VocabularyError: Error, Sendable, CustomStringConvertible {
        public let description: String
    }

    /// `vocab` is the text of `vocab.txt`: one token per line, ids by line number.
    public init(vocab: String, lowercase: Bool = true) throws(VocabularyError) {
        var lines = vocab.components(separatedBy: "\n")
        if lines.last == "" { lines.removeLast() }
        lines = lines.map { $0.hasSuffix("\r") ? String($0.dropLast()) : $0 }
        var ids: [String: Int] = [:]
        for (i, t) in lines.enumerated() where ids[t] == nil { ids[t] = i }
        guard let unk = ids["[UNK]"], let cls = ids["[CLS]"], let sep = ids["[SEP]"] else {
            throw VocabularyError(description: "vocabulary lacks [UNK], [CLS] or [SEP]")
        }
        vocabulary = lines
        self.ids = ids
        self.lowercase = lowercase
        unknownID = unk
        clsID = cls
        sepID = sep
    }

    /// Token ids of `text`, with `[CLS]` first and `[SEP]` last.
    public func encode(_ text: String) -> [Int] {
        var out = [clsID]
        for word in preTokenize(normalize(text)) {
            out += wordPiece(word)
        }
        out.append(sepID)
        return out
    }

    // MARK: BertNormalizer

    func normalize(_ text: String) -> String {
        var cleaned = String.UnicodeScalarView()
        for s in text.unicodeScalars {
            if s.value == 0 || s.value == 0xFFFD || Self.isControl(s) { continue }
            if Self.isWhitespace(s) {
                cleaned.append(" ")
            } else if Self.isChineseCharacter(s) {
                cleaned.append(" ")
                cleaned.append(s)
                cleaned.append(" ")
            } else {
                cleaned.append(s)
            }
        }
        var result = String(cleaned)
        if lowercase {
            // strip_accents follows lowercase when unset: NFD, drop nonspacing marks.
            let decomposed = result.decomposedStringWithCanonicalMapping
            var kept = String.UnicodeScalarView()
            for s in decomposed.unicodeScalars where s.properties.generalCategory != .nonspacingMark { kept.append(s) }
            result = String(kept).lowercased()
        }
        return result
    }

    static func isWhitespace(_ s: Unicode.Scalar) -> Bool {
        if s == " " || s == "\t" || s == "\n" || s == "\r" { return true }
        return s.properties.generalCategory == .spaceSeparator
    }

    static func isControl(_ s: Unicode.Scalar) -> Bool {
        if s == "\t" || s == "\n" || s == "\r" { return false }
        switch s.properties.generalCategory {
        case .control, .format, .unassigned, .privateUse, .surrogate: return true
        default: return false
        }
    }

    static func isChineseCharacter(_ s: Unicode.Scalar) -> Bool {
        switch s.value {
        case 0x4E00...0x9FFF, 0x3400...0x4DBF, 0x20000...0x2A6DF, 0x2A700...0x2B73F, 0x2B740...0x2B81F,
            0x2B820...0x2CEAF, 0xF900...0xFAFF, 0x2F800...0x2FA1F:
            return true
        default:
            return false
        }
    }

    static func isPunctuation(_ s: Unicode.Scalar) -> Bool {
        let v = s.value
        if (33...47).contains(v) || (58...64).contains(v) || (91...96).contains(v) || (123...126).contains(v) {
            return true
        }
        switch s.properties.generalCategory {
        case .connectorPunctuation, .dashPunctuation, .openPunctuation, .closePunctuation,
            .initialPunctuation, .finalPunctuation, .otherPunctuation:
            return true
        default:
            return false
        }
    }

    // MARK: BertPreTokenizer

    func preTokenize(_ text: String) -> [String] {
        var words: [String] = []
        var current = String.UnicodeScalarView()
        func flush() {
            if !current.isEmpty { words.append(String(current)) }
            current = String.UnicodeScalarView()
        }
        for s in text.unicodeScalars {
            if Self.isWhitespace(s) {
                flush()
            } else if Self.isPunctuation(s) {
                flush()
                words.append(String(s))
            } else {
                current.append(s)
            }
        }
        flush()
        return words
    }

    // MARK: WordPiece

    func wordPiece(_ word: String) -> [Int] {
        let chars = Array(word)
        if chars.count > maxCharactersPerWord { return [unknownID] }
        var pieces: [Int] = []
        var start = 0
        while start < chars.count {
            var end = chars.count
            var found: Int?
            while start < end {
                var candidate = String(chars[start..<end])
                if start > 0 { candidate = "##" + candidate }
                if let id = ids[candidate] {
                    found = id
                    break
                }
                end -= 1
            }
            guard let id = found else { return [unknownID] }
            pieces.append(id)
            start = end
        }
        return pieces
    }
}

extension WordPieceTokenizer.VocabularyError: QPackFailure {
    public var failureKind: FailureKind { .malformed }
}
