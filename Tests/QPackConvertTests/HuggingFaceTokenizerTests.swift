import Testing
import QPackBinary
@testable import QPackConvert

/// tokenizer.json into the container's BPE data: ids dense, merges in both spellings, the
/// pre-tokenizer named only when qpack runs it exactly, and malformed files named precisely.
struct HuggingFaceTokenizerTests {
    func read(_ text: String) throws(ConvertError) -> HuggingFaceTokenizer {
        let node: JSONNode
        do { node = try StrictJSONParser.parse(Array(text.utf8)) } catch { throw ConvertError(.malformed, "\(error)") }
        return try HuggingFaceTokenizer.read(node, file: "tokenizer.json")
    }

    static let byteLevel = #"{"type": "ByteLevel", "add_prefix_space": false, "trim_offsets": true, "use_regex": true}"#
    static func file(
        vocab: String = #"{"a": 0, "b": 1, "ab": 2}"#, merges: String = #"[["a", "b"]]"#,
        pre: String = byteLevel, added: String = #"[{"id": 3, "content": "<s>", "special": true}]"#,
        normalizer: String = "null"
    ) -> String {
        #"{"version": "1.0", "added_tokens": \#(added), "normalizer": \#(normalizer), "pre_tokenizer": \#(pre), "#
            + #""model": {"type": "BPE", "vocab": \#(vocab), "merges": \#(merges)}}"#
    }

    @Test func readsVocabularyMergesAndAddedTokens() throws {
        let t = try read(Self.file())
        #expect(t.tokens == ["a", "b", "ab", "<s>"])
        #expect(t.merges == ["a b"])
        #expect(t.pre == "gpt2")
        #expect(try read(Self.file(merges: #"["a b"]"#)).merges == ["a b"])
        let config = try StrictJSONParser.parse(
            Array(#"{"bos_token": {"content": "<s>"}, "eos_token": "ab", "add_bos_token": true}"#.utf8))
        let (meta, sections) = t.metadata(config: config)
        let text = meta.text()
        #expect(
            text.contains(#""bos_token_id":3"#) && text.contains(#""eos_token_id":2"#)
                && text.contains(#""add_bos_token":true"#), "\(text)")
        #expect(sections.map(\.0) == ["tokenizer.tokens", "tokenizer.merges"])
        #expect(sections[1].1 == [3, 0, 0, 0] + Array("a b".utf8))
    }

    @Test func namesThePreTokenizer() throws {
        let smollm =
            #"{"type": "Sequence", "pretokenizers": [{"type": "Digits", "individual_digits": true}, \#(Self.byteLevel)]}"#
        #expect(try read(Self.file(pre: smollm)).pre == "smollm")
        let split =
            #"{"type": "Sequence", "pretokenizers": [{"type": "Split", "pattern": {"Regex": "x"}, "behavior": "Isolated"}, \#(Self.byteLevel)]}"#
        #expect(try read(Self.file(pre: split)).pre == "unsupported: pre_tokenizer Sequence")
        #expect(try read(Self.file(normalizer: #"{"type": "NFC"}"#)).pre == "unsupported: normalizer NFC")
        #expect(
            try read(Self.file(pre: #"{"type": "ByteLevel", "add_prefix_space": true, "use_regex": true}"#)).pre
                .hasPrefix("unsupported"))
    }

    @Test func malformedFilesNameTheField() {
        let cases: [(String, String)] = [
            (Self.file(vocab: #"{"a": 0, "b": 5}"#, added: "[]"), "model.vocab: ids are not dense"),
            (Self.file(vocab: #"{"a": 0, "b": 0}"#, added: "[]"), "model.vocab[1] 'b': id 0 is both 'a' and 'b'"),
            (Self.file(vocab: #"{"a": -1}"#, added: "[]"), "model.vocab[0] 'a': id is not an integer"),
            (Self.file(merges: #"[["a"]]"#), "model.merges[0]"),
            (Self.file(merges: #"["a b c"]"#), "model.merges[0]: not two tokens"),
            (Self.file(added: #"[{"id": 3}]"#), "added_tokens[0].content"),
            (#"{"model": {"type": "WordPiece", "vocab": {}}}"#, "model.type: 'WordPiece' is not supported"),
            (#"{"model": {"type": "BPE", "vocab": {"a": 0}}}"#, "model.merges: missing"),
        ]
        for (text, message) in cases {
            do {
                _ = try read(text)
                Issue.record("accepted: \(text)")
            } catch {
                #expect(error.kind == .malformed)
                #expect(error.message.hasPrefix("tokenizer.json: " + message), "\(error.message)")
            }
        }
    }
}
