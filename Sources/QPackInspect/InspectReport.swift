import QPackModel

/// Everything `qpack inspect` shows about one input, as plain data. The JSON form of this type
/// is the documented schema `qpack-inspect/1` (docs/cli.md); field names are stable.
public struct InspectReport: Sendable, Codable, Equatable {
    public struct TypeSummary: Sendable, Codable, Equatable {
        public var type: String
        public var tensors: Int
        public var parameters: Int
        public var bytes: Int
    }

    public struct ModelFacts: Sendable, Codable, Equatable {
        /// `general.architecture` for GGUF; `model_type` of config.json for safetensors.
        public var architecture: String?
        /// Where the facts came from (`gguf metadata`, `config.json`).
        public var source: String
        public var name: String?
        public var blockCount: Int?
        public var embeddingLength: Int?
        public var feedForwardLength: Int?
        public var headCount: Int?
        public var headCountKV: Int?
        public var contextLength: Int?
        public var vocabSize: Int?
    }

    public struct TokenizerFacts: Sendable, Codable, Equatable {
        public var model: String?
        public var tokens: Int?
        public var merges: Int?
        public var chatTemplateBytes: Int?
        /// SHA-256 of the chat template bytes; the template itself is never rendered.
        public var chatTemplateSHA256: String?
    }

    public struct MetadataEntry: Sendable, Codable, Equatable {
        public var key: String
        public var type: String
        /// Scalars as text; arrays summarised as `[N x type]`; long strings cut to 120 bytes.
        public var value: String
    }

    public struct Tensor: Sendable, Codable, Equatable {
        public var name: String
        public var type: String
        public var shape: [Int]
        public var parameters: Int
        public var bytes: Int
        public var offset: Int
        public var file: String
        public var stats: TensorStatistics?
    }

    public var path: String
    public var format: String
    public var version: Int?
    public var files: [String]
    public var fileBytes: Int
    public var tensorCount: Int
    public var parameterCount: Int
    public var tensorBytes: Int
    public var types: [TypeSummary]
    public var model: ModelFacts?
    public var tokenizer: TokenizerFacts?
    public var metadata: [MetadataEntry]
    /// Tensors after name filtering (all of them when no filter is given).
    public var tensors: [Tensor]
    /// Problems that did not stop inspection (an unreadable config.json, say).
    public var warnings: [String]
}
