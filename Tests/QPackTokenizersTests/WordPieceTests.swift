import Foundation
import Testing
import QPackBinary
import QPackTestSupport
@testable import QPackTokenizers

/// WordPiece ids equal the PyPI `tokenizers` package's on every committed sentence
/// (Fixtures/tokenizers: punctuation, digits, accents, CJK, emoji, control characters...).
@Suite(.enabled(if: TestPaths.runModelTests, "real models absent"))
struct WordPieceTests {
    @Test func matchesHuggingFaceTokenizers() throws {
        let vocab = try String(
            contentsOfFile: TestPaths.modelsDirectory + "/all-MiniLM-L6-v2/vocab.txt", encoding: .utf8)
        let tokenizer = try WordPieceTokenizer(vocab: vocab)
        #expect(tokenizer.vocabulary.count == 30522)
        let expected = try TestPaths.json(TestPaths.fixture("tokenizers/expected.json"))["wordpiece"]!.items
        #expect(expected.count >= 15)
        for e in expected {
            let text = e["text"]!.string!
            #expect(tokenizer.encode(text) == e["ids"]!.items.map { $0.int! }, "\(text)")
        }
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
        let tokenizer = ByteLevelBPETokenizer(tokens: file.tokens, merges: file.merges, splitsDigits: set.splitsDigits)
        let expected = try TestPaths.json(TestPaths.fixture("tokenizers/expected.json"))[set.key]!.items
        #expect(expected.count >= 15)
        for e in expected {
            let text = e["text"]!.string!
            #expect(tokenizer.encode(text) == e["ids"]!.items.map { $0.int! }, "\(text)")
        }
    }
}

/// Splitting digits one by one before the GPT-2 regex (`smollm`) or not (`gpt2`), on a
/// vocabulary that can merge digits: "12" is one token only without the split.
struct DigitSplitTests {
    @Test func digitsSplitOnlyForSmolLM() {
        let tokens = ["1", "2", "12", "a", "Ġ", "Ġa"], merges = ["1 2", "Ġ a"]
        let smollm = ByteLevelBPETokenizer(tokens: tokens, merges: merges)
        let gpt2 = ByteLevelBPETokenizer(tokens: tokens, merges: merges, splitsDigits: false)
        #expect(smollm.encode("12") == [0, 1])
        #expect(gpt2.encode("12") == [2])
        #expect(smollm.encode("a a") == gpt2.encode("a a") && gpt2.encode("a a") == [3, 5])
    }
}
