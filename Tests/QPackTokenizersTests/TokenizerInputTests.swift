import Testing
@testable import QPackTokenizers

/// Malformed tokenizer data is refused with a message naming the entry and byte; what a
/// tokenizer cannot do is said, never guessed.
struct TokenizerInputTests {
    @Test func invalidUTF8InAVocabularyNamesTheLine() {
        let vocab = Array("[PAD]\n[UNK]\n[CLS]\n[SEP]\n".utf8) + [0x61, 0xFF, 0x0A]
        #expect {
            try WordPieceTokenizer(vocab: vocab)
        } throws: { ($0 as? WordPieceTokenizer.VocabularyError)?.description.contains("line 5") == true }
    }

    @Test func truncatedSectionsNameTheEntryAndOffset() {
        // Two tokens, the second declaring 9 bytes where 2 remain.
        let tokens: [UInt8] = [1, 0, 0, 0, 0x61, 9, 0, 0, 0, 0x62, 0x63]
        #expect {
            try ByteLevelBPETokenizer(tokensSection: tokens, mergesSection: nil, pre: "gpt2")
        } throws: {
            let d = ($0 as? ByteLevelBPETokenizer.SectionError)?.description ?? ""
            return d.contains("tokenizer.tokens") && d.contains("entry 1") && d.contains("byte 5")
        }
        #expect(throws: ByteLevelBPETokenizer.SectionError.self) {
            try ByteLevelBPETokenizer(tokensSection: [1, 0, 0], mergesSection: nil, pre: "gpt2")
        }
    }

    @Test func anUnsupportedPreTokenizerDecodesButRefusesText() throws {
        let t = try ByteLevelBPETokenizer(
            tokensSection: RuntimeTokenizer.lengthPrefixed(["a", "b", "Ġ"]), mergesSection: nil, pre: "llama-bpe")
        #expect(t.textRefusal?.contains("'llama-bpe'") == true)
        #expect(t.encode("ab").isEmpty)
        #expect(t.decode([0, 2, 1]) == "a b")
    }

    @Test func bosAndEOSAreAddedOnlyWhenTheFileSaysSo() throws {
        let tokens = RuntimeTokenizer.lengthPrefixed(["<s>", "</s>", "a", "b", "ab"])
        let merges = RuntimeTokenizer.lengthPrefixed(["a b"])
        let plain = try ByteLevelBPETokenizer(
            tokensSection: tokens, mergesSection: merges, pre: "gpt2", specials: .init(bos: 0, eos: 1))
        #expect(plain.encode("ab", special: true) == [4])
        let adding = try ByteLevelBPETokenizer(
            tokensSection: tokens, mergesSection: merges, pre: "gpt2",
            specials: .init(bos: 0, eos: 1, addBOS: true, addEOS: true))
        #expect(adding.encode("ab", special: true) == [0, 4, 1])
        #expect(adding.encode("ab") == [4])
    }
}
