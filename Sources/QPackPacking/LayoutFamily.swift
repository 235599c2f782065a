import QPackModel

/// One KleidiAI packed-weight layout family as data: which schemes it holds, its tile for each
/// kernel target, its size formula, the shapes it accepts, how to read it back, and which
/// activation packer its kernels take. The planner, encoder, container reader, layout check,
/// inspect and budget ladder read these rows; the C runtime has the matching rows in
/// `qp_layouts.c`. Adding a family adds a row here (docs/architecture.md).
public struct LayoutFamily: Sendable {
    /// KleidiAI's layout identifier (`qsi4c32p`).
    public let id: String
    /// Bits per stored weight code.
    public let codeBits: Int
    /// The scales' type, as the manifest records it (`bf16`, `f32`, `f16`).
    public let scaleType: String
    /// Values per scale along K: nil per output channel, else the scheme's block length.
    public let grouped: Bool
    /// The GGUF types whose blocks this family holds exactly (lossless repacks, schemes
    /// `<type>-repack`); empty when it only holds values quantized from floats.
    public let losslessSources: [String]
    /// Whether the runtime can look up a row of an embedding table stored in this layout
    /// (`qp_embedding_row`; the C loader refuses an embedding table in any other layout).
    public var embeddingRows = false
    /// The values per scale a repack family fixes (the source's block size), nil otherwise.
    public var fixedBlockLength: Int? = nil
    /// A repack family's packer: N rows of blocks of the source type (one of `losslessSources`)
    /// for an N x K matrix, into the layout with `tile`. A block the family cannot hold exactly
    /// is an error naming it.
    public var repack:
        (
            @Sendable (_ source: String, _ blocks: UnsafeRawBufferPointer, _ n: Int, _ k: Int, _ tile: KleidiAITile)
                throws(RepackError) -> [UInt8]
        )? = nil
    /// The LHS packer the family's kernels take (`qai8dxp`).
    public let activationPacker: String
    /// Whether its activations can use one calibrated range (static mode); the per-block
    /// packers (`qsi8d32p*`) always quantize at run time.
    public var staticActivations: Bool { activationPacker == "qai8dxp" }
    /// Tile and micro-kernel names per target (GEMV first, then GEMM).
    public let tiles: [KernelTarget: TargetTile]
    /// Packed bytes for N x K with block length `bl` (ignored when not grouped).
    public let packedSize: @Sendable (_ n: Int, _ k: Int, _ bl: Int, _ tile: KleidiAITile) -> Int
    /// Why a tile read from a file cannot be this family's, or nil.
    public let tileProblem: @Sendable (_ k: Int, _ bl: Int, _ tile: KleidiAITile) -> String?
    /// The stored values and their quantization groups, read back from packed bytes.
    public let unpack:
        @Sendable (_ packed: [UInt8], _ n: Int, _ k: Int, _ bl: Int, _ tile: KleidiAITile) -> UnpackedWeights

    public struct TargetTile: Sendable, Hashable {
        public let tile: KleidiAITile
        public let kernels: [String]
    }

    public func tile(for target: KernelTarget) -> TargetTile? { tiles[target] }
}

/// Why source blocks cannot be repacked exactly (a row and block named).
public struct RepackError: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}

/// Weights read back from a packed layout: the values exactly as the kernels see them, and the
/// scale of each group of `groupLength` consecutive values of a row (for error bounds).
public struct UnpackedWeights: Sendable {
    public var values: [Float]
    public var groupLength: Int
    public var scales: [Float]
    /// The largest code magnitude (7 for int4, 127 for int8).
    public var qmax: Float
    /// Asymmetric layouts: each group's offset; its grid is offset + scale·(−8 … 7).
    public var offsets: [Float]? = nil
}

extension WeightScheme {
    /// The packed layout family holding this scheme; nil for float and kept tensors, and for a
    /// repack of a type no family holds.
    public var family: LayoutFamily? {
        switch self {
        case .qsi4c32: return .qsi4c32p
        case .qsi4cx: return .qsi4cxp
        case .qsi8cx: return .qsi8cxp
        case .qai4c32: return .qai4c32p
        case let .repack(source): return LayoutFamily.all.first { $0.losslessSources.contains(source) }
        case .f32, .f16, .bf16, .keep: return nil
        }
    }

    /// Values per scale along K for block schemes, nil otherwise.
    public var blockLength: Int? {
        switch self {
        case let .qsi4c32(bl): return bl
        case .repack, .qai4c32: return family?.fixedBlockLength
        default: return nil
        }
    }

    /// Bytes this scheme stores for a tensor of `elements` values, `sourceBytes` source bytes and
    /// (packed schemes) an N x K matrix with `tile`.
    public func storedBytes(elements: Int, sourceBytes: Int, matrix: (rows: Int, columns: Int)?, tile: KleidiAITile?)
        -> Int?
    {
        switch self {
        // A count no file can hold (from a manifest that lies) gives Int.max, never a trap: it
        // then matches no section's length.
        case .keep: return sourceBytes
        case .f32: return elements.multipliedReportingOverflow(by: 4).overflow ? Int.max : 4 * elements
        case .f16, .bf16: return elements.multipliedReportingOverflow(by: 2).overflow ? Int.max : 2 * elements
        default:
            guard let f = family, let m = matrix, let tile else { return nil }
            return f.packedSize(m.rows, m.columns, blockLength ?? 0, tile)
        }
    }
}
