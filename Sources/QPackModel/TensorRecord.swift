/// One tensor of a checkpoint as every reader describes it: enough to inspect and plan,
/// without touching the data.
public struct TensorRecord: Sendable, Hashable {
    public let name: String
    /// The type as the source format names it (`F32`, `BF16`, `Q4_1`...).
    public let typeName: String
    /// Shape in the source's reported order: row-major outermost first for safetensors,
    /// ggml order (`ne[0]` first, the fastest-varying dimension) for GGUF.
    public let shape: [Int]
    public let elementCount: Int
    public let byteCount: Int
    /// Absolute byte offset of the data in `file`.
    public let fileOffset: Int
    /// The file holding the data (its base name).
    public let file: String

    public init(
        name: String, typeName: String, shape: [Int], elementCount: Int, byteCount: Int, fileOffset: Int, file: String
    ) {
        self.name = name
        self.typeName = typeName
        self.shape = shape
        self.elementCount = elementCount
        self.byteCount = byteCount
        self.fileOffset = fileOffset
        self.file = file
    }
}
