/// The CPU kernel family a `.qpack` file is packed for. Each picks, per layout, the KleidiAI tile
/// (nr, kr, sr) shared by a GEMV (decode) and a GEMM (prefill) micro-kernel of that family.
public enum KernelTarget: String, Sendable, Hashable, Codable, CaseIterable {
    /// Armv8.2-A with FEAT_DotProd (`sdot`).
    case neonDotprod = "neon-dotprod"
    /// Armv8.6-A / FEAT_I8MM (`smmla`) for prefill; dotprod for decode.
    case neonI8mm = "neon-i8mm"

    /// (nr, kr, sr) for a layout and the kernels that consume it.
    public func tile(for scheme: WeightScheme) -> (nr: Int, kr: Int, sr: Int, kernels: [String])? {
        switch (self, scheme) {
        case (.neonDotprod, .qsi4c32):
            return (8, 8, 2, ["qai8dxp1x4_qsi4c32p8x4_1x8_neon_dotprod", "qai8dxp4x4_qsi4c32p8x4_4x8_neon_dotprod"])
        case (.neonI8mm, .qsi4c32):
            return (8, 16, 2, ["qai8dxp1x8_qsi4c32p8x8_1x8x32_neon_dotprod", "qai8dxp4x8_qsi4c32p8x8_4x8x32_neon_i8mm"])
        case (.neonDotprod, .qsi4cx):
            return (4, 8, 2, ["qai8dxp1x4_qsi4cxp4x4_1x4_neon_dotprod", "qai8dxp4x8_qsi4cxp4x4_16x4x32_neon_dotprod"])
        case (.neonI8mm, .qsi4cx):
            return (8, 16, 2, ["qai8dxp1x8_qsi4cxp8x8_1x8x32_neon_dotprod", "qai8dxp4x8_qsi4cxp8x8_8x8x32_neon_i8mm"])
        case (.neonDotprod, .qsi8cx):
            return (4, 4, 1, ["qai8dxp1x4_qsi8cxp4x4_1x4_neon_dotprod", "qai8dxp4x4_qsi8cxp4x4_16x4_neon_dotprod"])
        case (.neonI8mm, .qsi8cx):
            return (4, 8, 1, ["qai8dxp1x8_qsi8cxp4x8_1x4_neon_dotprod", "qai8dxp4x8_qsi8cxp4x8_16x4_neon_i8mm"])
        case (.neonDotprod, .q4_0Repack):
            return (4, 8, 2, ["qsi8d32p1x4_qsi4c32p4x4_1x4_neon_dotprod"])
        case (.neonI8mm, .q4_0Repack):
            return (4, 16, 2, ["qsi8d32p4x8_qsi4c32p4x8_16x4_neon_i8mm"])
        default:
            return nil
        }
    }

    /// KleidiAI's layout identifier for a scheme (`qsi4c32p`, ...), nil for float and keep.
    public static func layoutID(for scheme: WeightScheme) -> String? {
        switch scheme {
        case .qsi4c32: return "qsi4c32p"
        case .qsi4cx: return "qsi4cxp"
        case .qsi8cx: return "qsi8cxp"
        case .q4_0Repack: return "qsi4c32pscalef16"
        default: return nil
        }
    }
}
