/// The CPU kernel family a `.qpack` file is packed for. Each layout family (QPackPacking's
/// `LayoutFamily`) names its KleidiAI tile per target, shared by a GEMV (decode) and a GEMM
/// (prefill) micro-kernel.
public enum KernelTarget: String, Sendable, Hashable, Codable, CaseIterable {
    /// Armv8.2-A with FEAT_DotProd (`sdot`).
    case neonDotprod = "neon-dotprod"
    /// Armv8.6-A / FEAT_I8MM (`smmla`) for prefill; dotprod for decode.
    case neonI8mm = "neon-i8mm"
}
