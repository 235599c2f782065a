import CQPackRuntime
import QPackModel

/// BERT's WordPiece tokenizer as Hugging Face `tokenizers` runs it (BertNormalizer,
/// BertPreTokenizer, greedy longest match with `##` continuations, `[CLS] ... [SEP]`), through
/// the runtime's C implementation (`qp_tokenizer.h`).
public struct WordPieceTokenizer: Sendable {
    let runtime: RuntimeTokenizer

    public struct VocabularyError: Error, Sendable, CustomStringConvertible {
        public let description: String
    }

    /// `vocab` is the text of `vocab.txt`: one token per line, ids by line number.
    public init(vocab: [UInt8], lowercase: Bool = true) throws(VocabularyError) {
        do {
            runtime = try RuntimeTokenizer.make { out, message, size in
                vocab.withUnsafeBufferPointer { bytes in
                    bytes.withMemoryRebound(to: CChar.self) {
                        qp_tokenizer_create_wordpiece($0.baseAddress, $0.count, lowercase ? 1 : 0, out, message, size)
                    }
                }
            }
        } catch { throw VocabularyError(description: error.description) }
    }

    public init(vocab: String, lowercase: Bool = true) throws(VocabularyError) {
        try self.init(vocab: Array(vocab.utf8), lowercase: lowercase)
    }

    public var vocabularySize: Int { runtime.vocabularySize }

    /// Token ids of `text`, with `[CLS]` first and `[SEP]` last.
    public func encode(_ text: String) -> [Int] { runtime.encode(text, special: true) }

    /// Text of ids as `tokenizers` decodes them (special tokens left out, `##` joined).
    public func decode(_ ids: [Int]) -> String {
        String(decoding: runtime.decodeBytes(ids, skipSpecial: true), as: UTF8.self)
    }
}

extension WordPieceTokenizer.VocabularyError: QPackFailure {
    public var failureKind: FailureKind { .malformed }
}
