import QPackReaders

/// The tokenizer arrays of a GGUF file, read with qpack's reader.
struct GGUFTokenizerData {
    let tokens: [String]
    let merges: [String]

    static func load(_ path: String) throws -> GGUFTokenizerData {
        let g = try GGUFFile(path: path)
        let t = try g.array("tokenizer.ggml.tokens", of: .string)!
        let m = try g.array("tokenizer.ggml.merges", of: .string)!
        return GGUFTokenizerData(
            tokens: (0..<t.count).map { g.string(at: $0, of: t).text ?? "" },
            merges: (0..<m.count).map { g.string(at: $0, of: m).text ?? "" })
    }
}
