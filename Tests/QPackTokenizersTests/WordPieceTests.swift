import Foundation
import Testing
import QPackBinary
import QPackTestSupport
@testable import QPackTokenizers

/// WordPiece ids (and decoded text) equal the PyPI `tokenizers` package's on every committed
/// sentence (Fixtures/tokenizers: punctuation, digits, accents, CJK, Hangul, kana, emoji, control
/// characters, special tokens written in the text...), through the runtime's C tokenizer.
@Suite(.enabled(if: TestPaths.runModelTests, "real models absent"))
struct WordPieceTests {
    @Test func matchesHuggingFaceTokenizers() throws {
        let vocab = try String(
            contentsOfFile: TestPaths.modelsDirectory + "/all-MiniLM-L6-v2/vocab.txt", encoding: .utf8)
        let tokenizer = try WordPieceTokenizer(vocab: vocab)
        #expect(tokenizer.vocabularySize == 30522)
        let expected = try TestPaths.json(TestPaths.fixture("tokenizers/expected.json"))["wordpiece"]!.items
        #expect(expected.count >= 24)
        for e in expected {
            let text = e["text"]!.string!
            let ids = tokenizer.encode(text)
            #expect(ids == e["ids"]!.items.map { $0.int! }, "\(text)")
            #expect(tokenizer.decode(ids) == e["decoded"]!.string!, "\(text)")
        }
        // Korean is decomposed into jamo as `tokenizers` does, not [UNK].
        #expect(!tokenizer.encode("안녕하세요").dropFirst().dropLast().contains(100))
    }
}

@Suite struct WordPieceUnitTests {
    let tokenizer = try! WordPieceTokenizer(vocab: "[PAD]\n[UNK]\n[CLS]\n[SEP]\nun\n##aff\n##able\nhello\n,\n!\n")

    @Test func greedyLongestMatchWithContinuations() {
        #expect(tokenizer.encode("unaffable") == [2, 4, 5, 6, 3])
        #expect(tokenizer.encode("Hello, HELLO!") == [2, 7, 8, 7, 9, 3])
        #expect(tokenizer.encode("unknownword") == [2, 1, 3])
        #expect(tokenizer.encode("") == [2, 3])
    }

    @Test func missingSpecialTokensAreAnError() {
        #expect(throws: WordPieceTokenizer.VocabularyError.self) { try WordPieceTokenizer(vocab: "a\nb\n") }
    }
}

/// Byte-level BPE over SmolLM2's GGUF vocabulary and merges gives the ids of the PyPI
/// `tokenizers` package on every committed sentence.
@Suite(.enabled(if: TestPaths.runModelTests, "real models absent"))
struct ByteLevelBPETests {
    /// `bpe`: SmolLM2's pre-tokenizer (single digits, then GPT-2's regex); `bpe_gpt2`: the plain
    /// GPT-2 one (tokenizer.json with ByteLevel alone). SmolLM2's vocabulary holds single digits
    /// only, so both give the same ids here; DigitSplitTests shows the difference.
    @Test(arguments: [("bpe", true), ("bpe_gpt2", false)])
    func matchesHuggingFaceTokenizers(_ set: (key: String, splitsDigits: Bool)) throws {
        let file = try GGUFTokenizerData.load(TestPaths.smolLMPath)
        let tokenizer = try ByteLevelBPETokenizer(
            tokens: file.tokens, merges: file.merges, splitsDigits: set.splitsDigits)
        let expected = try TestPaths.json(TestPaths.fixture("tokenizers/expected.json"))[set.key]!.items
        #expect(expected.count >= 24)
        for e in expected {
            let text = e["text"]!.string!
            let ids = tokenizer.encode(text)
            #expect(ids == e["ids"]!.items.map { $0.int! }, "\(text)")
            #expect(tokenizer.decode(ids) == e["decoded"]!.string!, "\(text)")
        }
    }
}

/// Splitting digits one by one before the GPT-2 regex (`smollm`) or not (`gpt2`), on a
/// vocabulary that can merge digits: "12" is one token only without the split.
struct DigitSplitTests {
    @Test func digitsSplitOnlyForSmolLM() throws {
        let tokens = ["1", "2", "12", "a", "Ġ", "Ġa"], merges = ["1 2", "Ġ a"]
        let smollm = try ByteLevelBPETokenizer(tokens: tokens, merges: merges)
        let gpt2 = try ByteLevelBPETokenizer(tokens: tokens, merges: merges, splitsDigits: false)
        #expect(smollm.encode("12") == [0, 1])
        #expect(gpt2.encode("12") == [2])
        #expect(smollm.encode("a a") == gpt2.encode("a a") && gpt2.encode("a a") == [3, 5])
    }
}
