import QPackBinary
import QPackModel
import QPackReaders

/// Everything besides tensors that a `.qpack` file carries about its model: architecture and
/// hyperparameters, the tokenizer and its data, and the files they came from.
struct ModelMetadata {
    var model: JSONOut
    var tokenizer: JSONOut
    /// Extra sections (tokenizer data), in the order they are written.
    var sections: [(name: String, bytes: [UInt8])]
    /// Files read besides the checkpoint: (path).
    var extraInputs: [String]

    /// `runnable` false (converted with --allow-unsupported) adds `"runnable": false` to the
    /// model object; runnable files carry no such member.
    static func collect(_ checkpoint: Checkpoint, path: String, profile: String, runnable: Bool = true)
        throws(ConvertError) -> ModelMetadata
    {
        var m: ModelMetadata
        switch checkpoint {
        case .safetensors, .sharded:
            m = try huggingFace(checkpoint, path: path, profile: profile)
        case let .gguf(g):
            m = try gguf(g, profile: profile)
        }
        if !runnable, case let .object(members) = m.model { m.model = .object(members + [("runnable", .bool(false))]) }
        return m
    }

    static func directory(of path: String) -> String {
        guard let i = path.lastIndex(of: "/") else { return "." }
        let d = String(path[..<i])
        return d.isEmpty ? "/" : d
    }

    static func readJSON(_ path: String, limit: Int = 16 << 20) throws(ConvertError) -> JSONNode? {
        guard let file = try? MappedFile(path: path) else { return nil }
        guard file.size <= limit else { throw ConvertError(.malformed, "\(path): larger than \(limit >> 20) MiB") }
        do { return try StrictJSONParser.parse(file.bytes) } catch {
            throw ConvertError(
                .malformed, "\(path.split(separator: "/").last.map(String.init) ?? path): \(error.description)")
        }
    }

    static func huggingFace(_ checkpoint: Checkpoint, path: String, profile: String) throws(ConvertError)
        -> ModelMetadata
    {
        let dir = directory(of: path)
        var inputs: [String] = []
        var architecture = "unknown"
        var hyper: [(String, JSONOut)] = []
        var configMembers: [(key: String, node: JSONNode)] = []
        if let config = try readJSON(dir + "/config.json") {
            inputs.append(dir + "/config.json")
            guard case let .object(members) = config.value else {
                throw ConvertError(.malformed, "config.json: not a JSON object")
            }
            configMembers = members.map { ($0.key, $0.node) }
            if let m = members.first(where: { $0.key == "model_type" }), case let .string(t) = m.node.value {
                architecture = t
            }
            // The members the architecture's graph reads; an unsupported one (converted with
            // --allow-unsupported) keeps BERT's list, as files of 1.0 did.
            let wanted = (ModelArchitecture.labelled(architecture) ?? .bert).configMembers
            for m in members where wanted.contains(m.key) {
                switch m.node.value {
                case .number, .string, .bool: hyper.append((m.key, JSONOut(copying: m.node)))
                case .object where m.key == "rope_scaling": hyper.append((m.key, JSONOut(copying: m.node)))
                default: continue
                }
            }
        }
        var tokenizer = JSONOut.null
        var sections: [(String, [UInt8])] = []
        if let vocab = try? MappedFile(path: dir + "/vocab.txt") {
            guard vocab.size <= 64 << 20 else { throw ConvertError(.malformed, "vocab.txt: larger than 64 MiB") }
            inputs.append(dir + "/vocab.txt")
            let bytes = Array(vocab.bytes)
            guard String(validating: bytes, as: UTF8.self) != nil else {
                throw ConvertError(.malformed, "vocab.txt: not valid UTF-8")
            }
            let count =
                bytes.split(separator: 0x0A, omittingEmptySubsequences: false).count - (bytes.last == 0x0A ? 1 : 0)
            var lowerCase = true
            if let tc = try readJSON(dir + "/tokenizer_config.json") {
                inputs.append(dir + "/tokenizer_config.json")
                if case let .object(ms) = tc.value, let m = ms.first(where: { $0.key == "do_lower_case" }),
                    case let .bool(b) = m.node.value
                {
                    lowerCase = b
                }
            }
            sections.append(("tokenizer.vocab", bytes))
            tokenizer = .object([
                ("type", .string("wordpiece")), ("vocab_section", .string("tokenizer.vocab")),
                ("vocab_size", .int(count)), ("lower_case", .bool(lowerCase)),
            ])
        }
        // A BERT saved with tokenizer.json only: the same vocabulary section vocab.txt would give.
        if tokenizer == .null, ModelArchitecture.labelled(architecture) == .bert,
            let tj = try readJSON(dir + "/tokenizer.json", limit: 64 << 20)
        {
            inputs.append(dir + "/tokenizer.json")
            let wp = try HuggingFaceWordPiece.read(tj, file: "tokenizer.json")
            sections.append(("tokenizer.vocab", wp.vocabText))
            tokenizer = .object([
                ("type", .string("wordpiece")), ("vocab_section", .string("tokenizer.vocab")),
                ("vocab_size", .int(wp.count)), ("lower_case", .bool(wp.lowerCase)),
            ])
        }
        if tokenizer == .null, ModelArchitecture.labelled(architecture)?.isDecoder == true,
            let tj = try readJSON(dir + "/tokenizer.json", limit: 64 << 20)
        {
            inputs.append(dir + "/tokenizer.json")
            let hf = try HuggingFaceTokenizer.read(tj, file: "tokenizer.json")
            let tc = try readJSON(dir + "/tokenizer_config.json")
            if tc != nil { inputs.append(dir + "/tokenizer_config.json") }
            let (t, s) = hf.metadata(config: tc)
            tokenizer = t
            sections += s
        }
        let model = JSONOut.object(
            [
                ("architecture", .string(architecture)), ("profile", .string(profile)),
                (
                    "source_format",
                    .string(checkpoint.formatName == "safetensors" ? "safetensors" : "safetensors-sharded")
                ),
                ("hyperparameters", .object(hyper)),
            ]
                + (try config(architecture, file: "config.json") { spec in
                    guard let key = spec.configKey, let n = configMembers.first(where: { $0.key == key })?.node else {
                        return nil
                    }
                    switch n.value {
                    case let .number(lexeme): return .number(lexeme)
                    case let .bool(b): return .flag(b)
                    case let .string(s): return .text(s)
                    case .null: return nil  // e.g. "pad_token_id": null: not given
                    default: return .other
                    }
                }))
        return ModelMetadata(model: model, tokenizer: tokenizer, sections: sections, extraInputs: inputs)
    }

    static func gguf(_ g: GGUFFile, profile: String) throws(ConvertError) -> ModelMetadata {
        let arch: String
        do { arch = try g.string("general.architecture") ?? "unknown" } catch { throw ConvertError(error) }
        var hyper: [(String, JSONOut)] = []
        for kv in g.metadata where kv.key.hasPrefix(arch + ".") {
            let key = String(kv.key.dropFirst(arch.count + 1))
            switch kv.value {
            case let .float32(v) where v.isFinite: hyper.append((key, .float(v)))
            case let .float64(v) where v.isFinite: hyper.append((key, .double(v)))
            case let .bool(b): hyper.append((key, .bool(b)))
            case let .string(s): if let t = s.text { hyper.append((key, .string(t))) }
            case .array: continue
            default: if let i = kv.value.integer { hyper.append((key, .int(Int(i)))) }
            }
        }
        var sections: [(String, [UInt8])] = []
        var tok: [(String, JSONOut)] = []
        do {
            if let tokens = try g.array("tokenizer.ggml.tokens", of: .string) {
                tok.append(("type", .string("bpe")))
                if let m = try g.string("tokenizer.ggml.model") { tok.append(("model", .string(m))) }
                if let p = try g.string("tokenizer.ggml.pre") { tok.append(("pre", .string(p))) }
                sections.append(("tokenizer.tokens", lengthPrefixed(g, tokens)))
                tok.append(("tokens_section", .string("tokenizer.tokens")))
                tok.append(("vocab_size", .int(tokens.count)))
                if let merges = try g.array("tokenizer.ggml.merges", of: .string) {
                    sections.append(("tokenizer.merges", lengthPrefixed(g, merges)))
                    tok.append(("merges_section", .string("tokenizer.merges")))
                }
                if let types = try g.array("tokenizer.ggml.token_type", of: .int32) {
                    guard types.count == tokens.count else {
                        throw ConvertError(
                            .malformed,
                            "\(g.fileName): tokenizer.ggml.token_type has \(types.count) entries for \(tokens.count) tokens"
                        )
                    }
                    sections.append(("tokenizer.token_types", Array(g.payload(of: types))))
                    tok.append(("token_types_section", .string("tokenizer.token_types")))
                }
                for key in ["bos_token_id", "eos_token_id", "unknown_token_id", "padding_token_id"] {
                    if let v = try g.integer("tokenizer.ggml." + key) {
                        // G30: ids index the vocabulary; check the range before recording them.
                        guard v >= 0, v < tokens.count else {
                            throw ConvertError(
                                .malformed,
                                "\(g.fileName): tokenizer.ggml.\(key) = \(v) is outside the vocabulary of \(tokens.count)"
                            )
                        }
                        tok.append((key, .int(Int(v))))
                    }
                }
                for key in ["add_bos_token", "add_eos_token"] {
                    if case let .bool(b)? = g.value("tokenizer.ggml." + key) { tok.append((key, .bool(b))) }
                }
                if case let .string(t)? = g.value("tokenizer.chat_template") {
                    sections.append(("tokenizer.chat_template", t.bytes))
                    tok.append(("chat_template_section", .string("tokenizer.chat_template")))
                    tok.append(("chat_template_sha256", .string(SHA256.hex(SHA256.hash(t.bytes)))))
                }
            }
        } catch let e as ConvertError { throw e } catch let e as ReaderError { throw ConvertError(e) } catch {
            throw ConvertError(.malformed, "\(g.fileName): \(error)")
        }
        let model = JSONOut.object(
            [
                ("architecture", .string(arch)), ("profile", .string(profile)), ("source_format", .string("gguf")),
                ("hyperparameters", .object(hyper)),
            ]
                + (try config(arch, file: g.fileName) { spec in
                    guard let key = spec.ggufKey, let v = g.value(arch + "." + key) else { return nil }
                    switch v {
                    case let .float32(f): return .float32(f)
                    case let .float64(d): return .double(d)
                    case let .bool(b): return .flag(b)
                    case let .string(s): return s.text.map(SourceValue.text) ?? .other
                    case .array: return .other
                    default: return v.integer.map(SourceValue.integer) ?? .other
                    }
                }))
        return ModelMetadata(
            model: model, tokenizer: tok.isEmpty ? .null : .object(tok), sections: sections, extraInputs: [])
    }

    static func lengthPrefixed(_ g: GGUFFile, _ a: GGUFArray) -> [UInt8] {
        lengthPrefixed((0..<a.count).lazy.map { g.string(at: $0, of: a).bytes }, capacity: a.payloadLength)
    }

    /// Strings as the tokenizer sections hold them (spec §4.8): u32 little-endian length, bytes.
    static func lengthPrefixed(_ strings: some Sequence<[UInt8]>, capacity: Int = 0) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(capacity)
        for s in strings {
            let n = UInt32(s.count)
            out += [
                UInt8(truncatingIfNeeded: n), UInt8(truncatingIfNeeded: n >> 8), UInt8(truncatingIfNeeded: n >> 16),
                UInt8(truncatingIfNeeded: n >> 24),
            ]
            out += s
        }
        return out
    }

    /// A hyperparameter as its source gives it, before typing.
    enum SourceValue {
        case number(String), integer(Int64), float32(Float), double(Double), flag(Bool), text(String), other
    }

    /// The `config` member (Formats/qpack-container.md §4.7): the architecture's hyperparameters
    /// under their canonical names, typed (counts as integers, numbers as numbers), whatever the
    /// source's naming; `kv_heads` defaults to `heads`. Empty for an unsupported architecture. A
    /// value of the wrong type is an error naming the source key.
    static func config(_ label: String, file: String, read: (HyperparameterSpec) -> SourceValue?) throws(ConvertError)
        -> [(String, JSONOut)]
    {
        guard let a = ModelArchitecture.labelled(label) else { return [] }
        var out: [(String, JSONOut)] = []
        for spec in a.hyperparameters {
            guard let v = read(spec) else { continue }
            let key = spec.configKey ?? spec.ggufKey ?? spec.name
            func bad(_ why: String) -> ConvertError {
                ConvertError(.malformed, "\(file): hyperparameter '\(key)' \(why)")
            }
            switch (spec.kind, v) {
            case let (.count, .number(lexeme)):
                guard let n = UInt64(lexeme), n <= UInt64(Int32.max) else { throw bad("is not a count: \(lexeme)") }
                out.append((spec.name, .int(Int(n))))
            case let (.count, .integer(n)):
                guard n >= 0, n <= Int64(Int32.max) else { throw bad("is not a count: \(n)") }
                out.append((spec.name, .int(Int(n))))
            case let (.number, .number(lexeme)):
                guard let d = Double(lexeme), d.isFinite else { throw bad("is not a finite number: \(lexeme)") }
                out.append((spec.name, .number(lexeme)))
            case let (.number, .float32(f)):
                guard f.isFinite else { throw bad("is not finite") }
                out.append((spec.name, .float(f)))
            case let (.number, .double(d)):
                guard d.isFinite else { throw bad("is not finite") }
                out.append((spec.name, .double(d)))
            case let (.number, .integer(n)): out.append((spec.name, .int(Int(clamping: n))))
            case let (.flag, .flag(b)): out.append((spec.name, .bool(b)))
            case let (.text, .text(s)): out.append((spec.name, .string(s)))
            default: throw bad("has the wrong type (\(spec.kind.rawValue) expected)")
            }
        }
        if !out.contains(where: { $0.0 == "kv_heads" }), let heads = out.first(where: { $0.0 == "heads" })?.1 {
            out.append(("kv_heads", heads))
        }
        return [("config", .object(out))]
    }
}
