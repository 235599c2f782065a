import QPackBinary

/// A byte-level BPE tokenizer from a Hugging Face `tokenizer.json` (Llama-family checkpoints),
/// turned into the same container tokenizer data GGUF's `tokenizer.ggml.*` keys give: a dense
/// token table by id, merges as "left right" strings, and the pre-tokenizer's name.
struct HuggingFaceTokenizer {
    var tokens: [String]
    var merges: [String]
    /// `smollm` (digits one by one, then GPT-2's regex), `gpt2`, or `unsupported: ...` (the
    /// graph then takes token ids only).
    var pre: String
    var vocab: [String: Int]

    /// Upper bound on tokens and merges, against unbounded allocation on a hostile file.
    static let limit = 4_000_000

    static func read(_ root: JSONNode, file: String) throws(ConvertError) -> HuggingFaceTokenizer {
        func fail(_ field: String, _ why: String) -> ConvertError {
            ConvertError(.malformed, "\(file): \(field): \(why)")
        }
        guard let model = root["model"], case .object = model.value else {
            throw fail("model", "missing or not an object")
        }
        guard model["type"]?.string == "BPE" else {
            throw fail("model.type", "'\(model["type"]?.string ?? "?")' is not supported (byte-level BPE only)")
        }
        guard let vocabNode = model["vocab"], case let .object(vocabMembers) = vocabNode.value else {
            throw fail("model.vocab", "missing or not an object")
        }
        guard vocabMembers.count <= limit else {
            throw fail("model.vocab", "\(vocabMembers.count) entries exceed \(limit)")
        }
        var byId: [Int: String] = [:]
        var vocab: [String: Int] = [:]
        func add(_ token: String, _ idNode: JSONNode?, field: String) throws(ConvertError) {
            guard let raw = idNode?.value.exactUInt64, raw < UInt64(limit) else {
                throw fail(field, "id is not an integer in 0..<\(limit)")
            }
            let id = Int(raw)
            if let old = byId[id], old != token { throw fail(field, "id \(id) is both '\(old)' and '\(token)'") }
            byId[id] = token
            if vocab[token] == nil { vocab[token] = id }
        }
        for (i, m) in vocabMembers.enumerated() { try add(m.key, m.node, field: "model.vocab[\(i)] '\(m.key)'") }
        if let node = root["added_tokens"], case let .array(added) = node.value {
            guard added.count <= limit else { throw fail("added_tokens", "\(added.count) entries exceed \(limit)") }
            for (i, t) in added.enumerated() {
                guard let content = t["content"]?.string else {
                    throw fail("added_tokens[\(i)].content", "missing or not a string")
                }
                try add(content, t["id"], field: "added_tokens[\(i)]")
            }
        }
        let count = byId.count
        var tokens = [String](repeating: "", count: count)
        for (id, t) in byId {
            guard id < count else { throw fail("model.vocab", "ids are not dense: id \(id) with \(count) tokens") }
            tokens[id] = t
        }
        var merges: [String] = []
        if let node = model["merges"], case let .array(list) = node.value {
            guard list.count <= limit else { throw fail("model.merges", "\(list.count) entries exceed \(limit)") }
            merges.reserveCapacity(list.count)
            for (i, m) in list.enumerated() {
                // Older files write "left right"; tokenizers >= 0.20 writes ["left", "right"].
                if let s = m.string {
                    guard s.split(separator: " ", omittingEmptySubsequences: false).count == 2 else {
                        throw fail("model.merges[\(i)]", "not two tokens")
                    }
                    merges.append(s)
                } else if case let .array(pair) = m.value, pair.count == 2, let a = pair[0].string,
                    let b = pair[1].string,
                    !a.contains(" "), !b.contains(" ")
                {
                    merges.append(a + " " + b)
                } else {
                    throw fail("model.merges[\(i)]", "not a \"left right\" string or a pair of space-free strings")
                }
            }
        } else {
            throw fail("model.merges", "missing or not an array")
        }
        return HuggingFaceTokenizer(tokens: tokens, merges: merges, pre: preTokenizer(root), vocab: vocab)
    }

    /// Names the pre-tokenization when it is one qpack's tokenizer runs exactly.
    static func preTokenizer(_ root: JSONNode) -> String {
        if let n = root["normalizer"], n.value != .null { return "unsupported: normalizer \(n["type"]?.string ?? "?")" }
        func byteLevel(_ p: JSONNode) -> Bool {
            p["type"]?.string == "ByteLevel" && p["add_prefix_space"]?.bool == false && p["use_regex"]?.bool != false
        }
        guard let p = root["pre_tokenizer"] else { return "unsupported: no pre_tokenizer" }
        if byteLevel(p) { return "gpt2" }
        let list = p["pretokenizers"]?.items ?? []
        if p["type"]?.string == "Sequence", list.count == 2,
            list[0]["type"]?.string == "Digits", list[0]["individual_digits"]?.bool == true, byteLevel(list[1])
        {
            return "smollm"
        }
        return "unsupported: pre_tokenizer \(p["type"]?.string ?? "?")"
    }

    /// The manifest's `tokenizer` object and the sections it names (container spec §4.8).
    /// `config` is tokenizer_config.json, for the BOS/EOS tokens and whether BOS is added.
    func metadata(config: JSONNode?) -> (JSONOut, [(String, [UInt8])]) {
        var t: [(String, JSONOut)] = [
            ("type", .string("bpe")), ("model", .string("gpt2")), ("pre", .string(pre)),
            ("source", .string("tokenizer.json")),
            ("tokens_section", .string("tokenizer.tokens")), ("vocab_size", .int(tokens.count)),
            ("merges_section", .string("tokenizer.merges")),
        ]
        // A special token in tokenizer_config.json is a string or {"content": ...}.
        func special(_ key: String) -> Int? {
            guard let n = config?[key] else { return nil }
            guard let s = n.string ?? n["content"]?.string else { return nil }
            return vocab[s]
        }
        if let b = special("bos_token") { t.append(("bos_token_id", .int(b))) }
        if let e = special("eos_token") { t.append(("eos_token_id", .int(e))) }
        if let u = special("unk_token") { t.append(("unknown_token_id", .int(u))) }
        if let p = special("pad_token") { t.append(("padding_token_id", .int(p))) }
        for key in ["add_bos_token", "add_eos_token"] {
            if let b = config?[key]?.bool { t.append((key, .bool(b))) }
        }
        return (
            .object(t),
            [
                ("tokenizer.tokens", ModelMetadata.lengthPrefixed(tokens.lazy.map { Array($0.utf8) })),
                ("tokenizer.merges", ModelMetadata.lengthPrefixed(merges.lazy.map { Array($0.utf8) })),
            ]
        )
    }
}

/// A BERT WordPiece tokenizer from a Hugging Face `tokenizer.json` (for a directory without
/// vocab.txt): the vocabulary as vocab.txt lines by id, and the normalizer's lower-casing. Only
/// what the runtime's WordPiece does is accepted (BertNormalizer with Chinese characters split,
/// accents stripped exactly when lower-casing, BertPreTokenizer, `##`, `[UNK]`, 100 characters);
/// anything else is refused naming the field, never tokenized differently.
struct HuggingFaceWordPiece {
    var vocabText: [UInt8]
    var count: Int
    var lowerCase: Bool

    static func read(_ root: JSONNode, file: String) throws(ConvertError) -> HuggingFaceWordPiece {
        func fail(_ field: String, _ why: String) -> ConvertError {
            ConvertError(.malformed, "\(file): \(field): \(why)")
        }
        guard let model = root["model"], case .object = model.value else {
            throw fail("model", "missing or not an object")
        }
        guard model["type"]?.string == "WordPiece" else {
            throw fail("model.type", "'\(model["type"]?.string ?? "?")' is not WordPiece (a BERT needs WordPiece)")
        }
        for (key, wanted) in [("unk_token", "[UNK]"), ("continuing_subword_prefix", "##")]
        where model[key]?.string != wanted {
            throw fail("model.\(key)", "'\(model[key]?.string ?? "?")' is not supported ('\(wanted)' is)")
        }
        if let m = model["max_input_chars_per_word"], m.uint64 != 100 {
            throw fail("model.max_input_chars_per_word", "only 100 is supported")
        }
        guard let normalizer = root["normalizer"], normalizer["type"]?.string == "BertNormalizer" else {
            throw fail("normalizer", "only BertNormalizer is supported")
        }
        let lowerCase = normalizer["lowercase"]?.bool ?? true
        for key in ["clean_text", "handle_chinese_chars"] where normalizer[key]?.bool == false {
            throw fail("normalizer.\(key)", "false is not supported")
        }
        if let strip = normalizer["strip_accents"], !strip.isNull, strip.bool != lowerCase {
            throw fail("normalizer.strip_accents", "must follow lowercase (null) in the runtime's WordPiece")
        }
        guard root["pre_tokenizer"]?["type"]?.string == "BertPreTokenizer" else {
            throw fail("pre_tokenizer", "only BertPreTokenizer is supported")
        }
        guard let vocab = model["vocab"], case let .object(members) = vocab.value else {
            throw fail("model.vocab", "missing or not an object")
        }
        guard members.count <= HuggingFaceTokenizer.limit else {
            throw fail("model.vocab", "\(members.count) entries exceed \(HuggingFaceTokenizer.limit)")
        }
        var byId = [String?](repeating: nil, count: members.count)
        for m in members {
            guard let raw = m.node.uint64, raw < UInt64(members.count) else {
                throw fail(
                    "model.vocab['\(m.key)']", "id is not an integer in 0..<\(members.count) (ids must be dense)")
            }
            guard byId[Int(raw)] == nil else { throw fail("model.vocab['\(m.key)']", "id \(raw) is used twice") }
            guard !m.key.isEmpty, !m.key.contains("\n"), !m.key.contains("\r") else {
                throw fail("model.vocab", "token \(raw) is empty or holds a line break")
            }
            byId[Int(raw)] = m.key
        }
        var text: [UInt8] = []
        for token in byId { text += Array((token ?? "").utf8) + [0x0A] }
        return HuggingFaceWordPiece(vocabText: text, count: members.count, lowerCase: lowerCase)
    }
}
