import QPackBinary
import QPackModel
import QPackReaders

extension InspectReport {
    public struct Options: Sendable {
        /// Only tensors matching one of these are listed (all when empty).
        public var filters: [NameGlob] = []
        /// Compute statistics for the listed tensors.
        public var statistics = false
        public var histogramBins = TensorStatistics.defaultBins
        public init() {}
    }

    /// Builds the report for an opened checkpoint. Throws only when statistics need tensor
    /// values that cannot be decoded (an unsupported GGUF type).
    public static func build(path: String, checkpoint: Checkpoint, options: Options = Options()) throws(ReaderError)
        -> InspectReport
    {
        let records = checkpoint.records
        var byType: [String: TypeSummary] = [:]
        var typeOrder: [String] = []
        for r in records {
            if byType[r.typeName] == nil { typeOrder.append(r.typeName) }
            byType[r.typeName, default: TypeSummary(type: r.typeName, tensors: 0, parameters: 0, bytes: 0)].tensors += 1
            byType[r.typeName]!.parameters += r.elementCount
            byType[r.typeName]!.bytes += r.byteCount
        }
        var tensors: [Tensor] = []
        for r in records where NameGlob.any(options.filters, match: r.name) {
            var stats: TensorStatistics?
            if options.statistics {
                var found = false
                let s = try TensorStatistics(bins: options.histogramBins) { body throws(ReaderError) in
                    found = try checkpoint.forEachFloatChunk(of: r.name, body)
                    checkpoint.release(r.name)
                }
                if found { stats = s }
            }
            tensors.append(
                Tensor(
                    name: r.name, type: r.typeName, shape: r.shape, parameters: r.elementCount,
                    bytes: r.byteCount, offset: r.fileOffset, file: r.file, stats: stats))
        }
        var report = InspectReport(
            path: path, format: "", version: nil, files: [], fileBytes: 0,
            tensorCount: records.count, parameterCount: records.reduce(0) { $0 + $1.elementCount },
            tensorBytes: records.reduce(0) { $0 + $1.byteCount },
            types: typeOrder.map { byType[$0]! }, model: nil, tokenizer: nil, metadata: [], tensors: tensors,
            warnings: [])

        switch checkpoint {
        case let .safetensors(f):
            report.format = "safetensors"
            report.files = [f.fileName]
            report.fileBytes = f.fileSize
            report.metadata = f.metadata.map {
                MetadataEntry(key: $0.key, type: "string", value: Self.shorten($0.value))
            }
            report.applyConfig(nextTo: f.path)
        case let .sharded(s):
            report.format = "safetensors-sharded"
            report.files = [s.indexName] + s.shards.map(\.fileName)
            report.fileBytes = s.shards.reduce(0) { $0 + $1.fileSize }
            report.metadata = s.metadata.map {
                MetadataEntry(key: $0.key, type: "index", value: Self.shorten($0.value))
            }
            report.applyConfig(nextTo: s.indexPath)
        case let .gguf(g):
            report.format = "gguf"
            report.version = Int(g.version)
            report.files = [g.fileName]
            report.fileBytes = g.fileSize
            report.metadata = g.metadata.map { Self.entry($0, in: g) }
            report.model = Self.modelFacts(g, warnings: &report.warnings)
            report.tokenizer = Self.tokenizerFacts(g, warnings: &report.warnings)
        }
        return report
    }

    static func shorten(_ s: String, limit: Int = 120) -> String {
        let escaped = s.unicodeScalars.map {
            $0.value < 0x20 || $0.value == 0x7F ? "\\u{\(String($0.value, radix: 16))}" : String($0)
        }.joined()
        guard escaped.utf8.count > limit else { return escaped }
        var out = ""
        for ch in escaped {
            if out.utf8.count + ch.utf8.count > limit { break }
            out.append(ch)
        }
        return out + "… (\(s.utf8.count) bytes)"
    }

    static func entry(_ kv: GGUFKeyValue, in g: GGUFFile) -> MetadataEntry {
        let text: String
        switch kv.value {
        case let .uint8(v): text = "\(v)"
        case let .int8(v): text = "\(v)"
        case let .uint16(v): text = "\(v)"
        case let .int16(v): text = "\(v)"
        case let .uint32(v): text = "\(v)"
        case let .int32(v): text = "\(v)"
        case let .uint64(v): text = "\(v)"
        case let .int64(v): text = "\(v)"
        case let .float32(v): text = "\(v)"
        case let .float64(v): text = "\(v)"
        case let .bool(v): text = v ? "true" : "false"
        case let .string(s):
            if kv.key == "tokenizer.chat_template" {
                text = "(\(s.bytes.count) bytes, sha256 \(SHA256.hex(SHA256.hash(s.bytes))))"
            } else {
                text = shorten(s.displayText)
            }
        case let .array(a):
            text = "[\(a.count) x \(a.elementType.name)]"
        }
        var type = kv.value.type.name
        if case let .array(a) = kv.value { type = "array[\(a.elementType.name)]" }
        return MetadataEntry(key: kv.key, type: type, value: text)
    }

    static func modelFacts(_ g: GGUFFile, warnings: inout [String]) -> ModelFacts? {
        func int(_ key: String) -> Int? {
            do { return try g.integer(key).flatMap { Int(exactly: $0) } } catch {
                warnings.append(error.description)
                return nil
            }
        }
        let arch: String?
        do { arch = try g.string("general.architecture") } catch {
            warnings.append(error.description)
            arch = nil
        }
        var name: String?
        do { name = try g.string("general.name") } catch { warnings.append(error.description) }
        guard let arch else { return name.map { ModelFacts(architecture: nil, source: "gguf metadata", name: $0) } }
        var vocab = int("\(arch).vocab_size")
        if vocab == nil, let tokens = try? g.array("tokenizer.ggml.tokens") { vocab = tokens.count }
        return ModelFacts(
            architecture: arch, source: "gguf metadata", name: name,
            blockCount: int("\(arch).block_count"), embeddingLength: int("\(arch).embedding_length"),
            feedForwardLength: int("\(arch).feed_forward_length"), headCount: int("\(arch).attention.head_count"),
            headCountKV: int("\(arch).attention.head_count_kv"), contextLength: int("\(arch).context_length"),
            vocabSize: vocab)
    }

    static func tokenizerFacts(_ g: GGUFFile, warnings: inout [String]) -> TokenizerFacts? {
        var facts = TokenizerFacts()
        do {
            facts.model = try g.string("tokenizer.ggml.model")
            facts.tokens = try g.array("tokenizer.ggml.tokens", of: .string)?.count
            facts.merges = try g.array("tokenizer.ggml.merges", of: .string)?.count
        } catch {
            warnings.append(error.description)
        }
        if case let .string(t)? = g.value("tokenizer.chat_template") {
            facts.chatTemplateBytes = t.bytes.count
            facts.chatTemplateSHA256 = SHA256.hex(SHA256.hash(t.bytes))
        }
        return facts == TokenizerFacts() ? nil : facts
    }
}

extension InspectReport.ModelFacts {
    init(architecture: String?, source: String, name: String?) {
        self.init(
            architecture: architecture, source: source, name: name, blockCount: nil, embeddingLength: nil,
            feedForwardLength: nil, headCount: nil, headCountKV: nil, contextLength: nil, vocabSize: nil)
    }
}
