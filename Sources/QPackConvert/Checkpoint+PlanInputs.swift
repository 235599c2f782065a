import QPackModel
import QPackPlanning
import QPackReaders

extension Checkpoint {
    /// The planner's view of every tensor, in checkpoint order.
    public var planInputs: [PlanInput] {
        switch self {
        case .safetensors, .sharded:
            return records.map { r in
                let floatType = SafetensorsDType(rawValue: r.typeName)?.isFloatingPoint ?? false
                return PlanInput(name: r.name, sourceType: r.typeName, shape: r.shape, elementCount: r.elementCount,
                                 byteCount: r.byteCount, ggmlOrder: false, decodable: floatType)
            }
        case let .gguf(g):
            return g.tensors.map { t in
                PlanInput(name: t.name, sourceType: t.type.name, shape: t.dimensions, elementCount: t.elementCount,
                          byteCount: t.byteCount, ggmlOrder: true, decodable: t.type.isDequantizable)
            }
        }
    }
}
