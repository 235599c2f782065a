import CQPackRuntime
import QPackContainer
import QPackPacking

extension ContainerFile.Tensor {
    /// How the C runtime runs this tensor as a linear's weights: f32 and f16 as stored, a packed
    /// layout the runtime has kernels for as packed (its tile; dispatch picks mr per call); nil
    /// for everything else (bf16, keep, layouts without kernels), which callers decode to f32.
    var runtimeWeights: (kind: qp_weight_kind, tile: qp_matmul_tile, bl: Int)? {
        switch scheme {
        case .f32: return (QP_WEIGHT_F32, qp_matmul_tile(), 0)
        case .f16: return (QP_WEIGHT_F16, qp_matmul_tile(), 0)
        default:
            guard let layout, let k = matrix?.columns else { return nil }
            var kind = QP_WEIGHT_F32
            let tile = qp_matmul_tile(mr: 0, nr: layout.nr, kr: layout.kr, sr: layout.sr)
            let bl = layout.blockLength ?? 0
            var choice = qp_matmul_choice()
            guard qp_layout_weight_kind(layout.id, &kind) == 1,
                qp_matmul_choose(layout.id, tile, 1, k, bl, 0, &choice) == 1
            else { return nil }
            return (kind, tile, bl)
        }
    }
}

extension ContainerFile.Tensor {
    /// How the runtime runs this linear, for reports: the activation packer and the packed
    /// layout its kernels read (`qsi8d32pscalef32 x qai4c32p`), `f32`/`f16` float kernels, or
    /// `decoded to f32` for what has no kernel.
    public var execution: String {
        guard let w = runtimeWeights else { return "decoded to f32" }
        switch w.kind {
        case QP_WEIGHT_F32: return "f32"
        case QP_WEIGHT_F16: return "f16"
        default:
            guard let family = scheme.family, let layout else { return "decoded to f32" }
            return family.activationPacker + " x " + layout.id
        }
    }
}
