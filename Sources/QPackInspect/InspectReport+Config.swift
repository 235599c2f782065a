import QPackBinary
import QPackReaders

extension InspectReport {
    /// Reads the Hugging Face `config.json` beside a safetensors checkpoint, when there is one,
    /// for the architecture and its sizes. A config that cannot be read becomes a warning.
    mutating func applyConfig(nextTo checkpointPath: String) {
        let dir = checkpointPath.lastIndex(of: "/").map { String(checkpointPath[..<$0]) } ?? "."
        let path = (dir.isEmpty ? "" : dir) + "/config.json"
        guard let file = try? MappedFile(path: path) else { return }
        guard file.size <= 16 << 20 else {
            warnings.append("config.json: \(file.size) bytes exceed the limit of 16 MiB; ignored")
            return
        }
        let root: JSONNode
        do { root = try StrictJSONParser.parse(file.bytes) } catch {
            warnings.append("config.json: \(error.description); ignored")
            return
        }
        guard case let .object(members) = root.value else {
            warnings.append("config.json: not a JSON object; ignored")
            return
        }
        var fields: [String: JSONValue] = [:]
        for m in members { fields[m.key] = m.node.value }
        func int(_ key: String) -> Int? { fields[key]?.exactUInt64.flatMap { Int(exactly: $0) } }
        var architecture: String?
        if case let .string(t)? = fields["model_type"] { architecture = t }
        var name: String?
        if case let .array(a)? = fields["architectures"], case let .string(n)? = a.first?.value { name = n }
        model = ModelFacts(
            architecture: architecture, source: "config.json", name: name,
            blockCount: int("num_hidden_layers"), embeddingLength: int("hidden_size"),
            feedForwardLength: int("intermediate_size"), headCount: int("num_attention_heads"),
            headCountKV: int("num_key_value_heads"), contextLength: int("max_position_embeddings"),
            vocabSize: int("vocab_size"))
    }
}
