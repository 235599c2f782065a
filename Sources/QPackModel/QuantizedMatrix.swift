/// Quantized weights of one linear layer in "nxk" orientation: `rows` output channels (N),
/// `columns` reduction length (K), codes row-major, one signed code per element.

/// Symmetric int4 per block of `blockLength` along K, bf16 scales (KleidiAI `qsi4c32`).
public struct Int4BlockMatrix: Sendable, Equatable {
    public let rows: Int
    public let columns: Int
    public let blockLength: Int
    /// q in -8...7, rows x columns.
    public var codes: [Int8]
    /// Raw bfloat16 bits, rows x (columns / blockLength).
    public var scales: [UInt16]

    public init(rows: Int, columns: Int, blockLength: Int, codes: [Int8], scales: [UInt16]) {
        precondition(
            columns % blockLength == 0 && codes.count == rows * columns
                && scales.count == rows * (columns / blockLength))
        self.rows = rows
        self.columns = columns
        self.blockLength = blockLength
        self.codes = codes
        self.scales = scales
    }

    public var blocksPerRow: Int { columns / blockLength }
}

/// Symmetric int4 (q in -8...7) or int8 (q in -128...127) per output channel with f32 scales
/// (KleidiAI `qsi4cx`, `qsi8cx`).
public struct ChannelQuantizedMatrix: Sendable, Equatable {
    public let rows: Int
    public let columns: Int
    public let bits: Int
    public var codes: [Int8]
    public var scales: [Float]

    public init(rows: Int, columns: Int, bits: Int, codes: [Int8], scales: [Float]) {
        precondition(bits == 4 || bits == 8)
        precondition(codes.count == rows * columns && scales.count == rows)
        self.rows = rows
        self.columns = columns
        self.bits = bits
        self.codes = codes
        self.scales = scales
    }
}
