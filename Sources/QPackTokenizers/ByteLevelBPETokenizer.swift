/// GPT-2 style byte-level BPE, as Hugging Face `tokenizers` runs it for SmolLM2 (llama.cpp's
/// "smollm" pre-tokenizer): digits split one by one, then the GPT-2 regex, bytes mapped to
/// printable characters, merges applied lowest rank first.
public struct ByteLevelBPETokenizer: Sendable {
    public let tokens: [String]
    private let ids: [String: Int]
    private let ranks: [String: Int]  // "left right" -> rank
    /// GPT-2's byte -> character table.
    static let byteCharacters: [Character] = {
        var bs = Array(33...126) + Array(161...172) + Array(174...255)
        var cs = bs
        var n = 0
        for b in 0..<256 where !bs.contains(b) {
            bs.append(b)
            cs.append(256 + n)
            n += 1
        }
        var table = [Character](repeating: " ", count: 256)
        for (b, c) in zip(bs, cs) { table[b] = Character(Unicode.Scalar(UInt32(c))!) }
        return table
    }()

    /// Whether digits are split one by one before the GPT-2 regex (llama.cpp's `smollm`
    /// pre-tokenizer; `gpt2` does not).
    public let splitsDigits: Bool

    /// The pre-tokenizers this type runs exactly, by llama.cpp's name (`tokenizer.ggml.pre`).
    public static let supportedPreTokenizers = ["smollm", "gpt2"]

    public init(tokens: [String], merges: [String], splitsDigits: Bool = true) {
        self.splitsDigits = splitsDigits
        self.tokens = tokens
        var ids: [String: Int] = [:]
        for (i, t) in tokens.enumerated() where ids[t] == nil { ids[t] = i }
        self.ids = ids
        var ranks: [String: Int] = [:]
        for (i, m) in merges.enumerated() where ranks[m] == nil { ranks[m] = i }
        self.ranks = ranks
    }

    public func encode(_ text: String) -> [Int] {
        var out: [Int] = []
        for piece in splitsDigits ? Self.splitDigits(text) : [text] {
            for word in Self.gpt2Split(piece) {
                let mapped = word.utf8.map { Self.byteCharacters[Int($0)] }
                out += bpe(mapped.map { String($0) })
            }
        }
        return out
    }

    /// Text of token ids: byte-level characters mapped back to bytes, decoded as UTF-8
    /// (invalid sequences replaced).
    public func decode(_ ids: [Int]) -> String { String(decoding: decodeBytes(ids), as: UTF8.self) }

    /// The bytes of token ids (a prefix of a text can end inside a UTF-8 character).
    public func decodeBytes(_ ids: [Int]) -> [UInt8] {
        var inverse: [Character: UInt8] = [:]
        for (b, c) in Self.byteCharacters.enumerated() { inverse[c] = UInt8(b) }
        var bytes: [UInt8] = []
        for id in ids where id >= 0 && id < tokens.count {
            for ch in tokens[id] {
                if let b = inverse[ch] { bytes.append(b) } else { bytes += Array(String(ch).utf8) }
            }
        }
        return bytes
    }

    /// Pre-tokenizer `Digits(individual_digits: true)`: every numeric character alone.
    static func splitDigits(_ text: String) -> [String] {
        var pieces: [String] = []
        var run = String.UnicodeScalarView()
        for s in text.unicodeScalars {
            switch s.properties.numericType {
            case .some:
                if !run.isEmpty { pieces.append(String(run)); run = String.UnicodeScalarView() }
                pieces.append(String(s))
            case .none:
                run.append(s)
            }
        }
        if !run.isEmpty { pieces.append(String(run)) }
        return pieces
    }

    /// The GPT-2 pre-tokenization regex, matched on Unicode scalars.
    static func gpt2Split(_ text: String) -> [String] {
        let pattern = #"'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+"#
        // The pattern is a constant; it compiles or the program is wrong.
        let regex = (try! Regex(pattern)).matchingSemantics(.unicodeScalar)
        var out: [String] = []
        for m in text.matches(of: regex) { out.append(String(text[m.range])) }
        return out
    }

    func bpe(_ symbols: [String]) -> [Int] {
        var word = symbols
        while word.count > 1 {
            var best: (rank: Int, index: Int)?
            for i in 0..<(word.count - 1) {
                if let r = ranks[word[i] + " " + word[i + 1]], best == nil || r < best!.rank { best = (r, i) }
            }
            guard let (rank, _) = best else { break }
            // Merge every occurrence of the best pair, left to right.
            var merged: [String] = []
            var i = 0
            while i < word.count {
                if i + 1 < word.count, ranks[word[i] + " " + word[i + 1]] == rank {
                    merged.append(word[i] + word[i + 1])
                    i += 2
                } else {
                    merged.append(word[i])
                    i += 1
                }
            }
            word = merged
        }
        return word.map { ids[$0] ?? 0 }
    }
}
