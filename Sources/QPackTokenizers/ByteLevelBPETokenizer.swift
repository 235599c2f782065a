import CQPackRuntime
import QPackModel

/// GPT-2 style byte-level BPE as Hugging Face `tokenizers` runs it (llama.cpp's `smollm`
/// pre-tokenizer: digits one by one, then the GPT-2 regex; or `gpt2`: the regex alone), through
/// the runtime's C implementation (`qp_tokenizer.h`).
public struct ByteLevelBPETokenizer: Sendable {
    let runtime: RuntimeTokenizer

    /// The pre-tokenizers the runtime runs exactly, by llama.cpp's name (`tokenizer.ggml.pre`).
    public static let supportedPreTokenizers = ["smollm", "gpt2"]

    public struct Specials: Sendable {
        public var bos: Int?, eos: Int?, unknown: Int?, padding: Int?
        public var addBOS = false, addEOS = false
        public init(
            bos: Int? = nil, eos: Int? = nil, unknown: Int? = nil, padding: Int? = nil, addBOS: Bool = false,
            addEOS: Bool = false
        ) {
            (self.bos, self.eos, self.unknown, self.padding, self.addBOS, self.addEOS) =
                (bos, eos, unknown, padding, addBOS, addEOS)
        }
    }

    public struct SectionError: Error, Sendable, CustomStringConvertible {
        public let description: String
    }

    /// From a container's sections (u32-length-prefixed strings; merges are "left right"). A
    /// `pre` other than the supported ones gives a tokenizer that decodes but cannot encode text.
    public init(
        tokensSection: [UInt8], mergesSection: [UInt8]?, tokenTypes: [Int32]? = nil, pre: String?,
        specials: Specials = Specials()
    ) throws(SectionError) {
        func id(_ v: Int?) -> Int32 { v.flatMap { Int32(exactly: $0) } ?? -1 }
        var s = qp_tokenizer_specials(
            bos: id(specials.bos), eos: id(specials.eos), unknown: id(specials.unknown), padding: id(specials.padding),
            cls: -1, sep: -1, mask: -1, add_bos: specials.addBOS ? 1 : 0, add_eos: specials.addEOS ? 1 : 0)
        do {
            runtime = try RuntimeTokenizer.make { out, message, size in
                tokensSection.withUnsafeBufferPointer { tokens in
                    (mergesSection ?? []).withUnsafeBufferPointer { merges in
                        (tokenTypes ?? []).withUnsafeBufferPointer { types in
                            qp_tokenizer_create_bpe(
                                tokens.baseAddress, tokens.count, mergesSection == nil ? nil : merges.baseAddress,
                                merges.count, tokenTypes == nil ? nil : types.baseAddress, types.count, pre, &s, out,
                                message, size)
                        }
                    }
                }
            }
        } catch { throw SectionError(description: error.description) }
    }

    /// From token and merge strings; `splitsDigits` picks `smollm` (true) or `gpt2`.
    public init(tokens: [String], merges: [String], splitsDigits: Bool = true) throws(SectionError) {
        try self.init(
            tokensSection: RuntimeTokenizer.lengthPrefixed(tokens),
            mergesSection: RuntimeTokenizer.lengthPrefixed(merges), pre: splitsDigits ? "smollm" : "gpt2")
    }

    public var vocabularySize: Int { runtime.vocabularySize }

    /// Why text cannot be encoded (an unsupported pre-tokenizer), or nil.
    public var textRefusal: String? { runtime.textRefusal }

    /// Token ids of `text`; with `special`, BOS/EOS as the file says the model adds them. Empty
    /// when `textRefusal` is set.
    public func encode(_ text: String, special: Bool = false) -> [Int] { runtime.encode(text, special: special) }

    /// Text of token ids: byte-level characters mapped back to bytes, decoded as UTF-8 (invalid
    /// sequences replaced).
    public func decode(_ ids: [Int]) -> String { String(decoding: decodeBytes(ids), as: UTF8.self) }

    /// The bytes of token ids (a prefix of a text can end inside a UTF-8 character).
    public func decodeBytes(_ ids: [Int]) -> [UInt8] { runtime.decodeBytes(ids, skipSpecial: false) }
}

extension ByteLevelBPETokenizer.SectionError: QPackFailure {
    public var failureKind: FailureKind { .malformed }
}
