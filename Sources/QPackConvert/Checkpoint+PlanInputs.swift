import Foundation
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
                return PlanInput(
                    name: r.name, sourceType: r.typeName, shape: r.shape, elementCount: r.elementCount,
                    byteCount: r.byteCount, ggmlOrder: false, decodable: floatType)
            }
        case let .gguf(g):
            return g.tensors.map { t in
                PlanInput(
                    name: t.name, sourceType: t.type.name, shape: t.dimensions, elementCount: t.elementCount,
                    byteCount: t.byteCount, ggmlOrder: true, decodable: t.type.isDequantizable)
            }
        }
    }
}

extension Checkpoint {
    /// What the checkpoint declares about its model: GGUF `general.architecture` and
    /// `<arch>.block_count`, or the `model_type` and `num_hidden_layers` of the config.json beside
    /// a safetensors file or index.
    public func declaredModel(path: String) throws(ConvertError) -> DeclaredModel {
        switch self {
        case let .gguf(g):
            do {
                guard let label = try g.string("general.architecture") else { return .unlabelled }
                let layers = try g.integer(label + ".block_count").flatMap {
                    $0 >= 0 && $0 <= Int64(Int32.max) ? Int($0) : nil
                }
                return DeclaredModel(label: label, labelSource: "\(g.fileName): general.architecture", layers: layers)
            } catch { throw ConvertError(error) }
        case .safetensors, .sharded:
            let dir = ModelMetadata.directory(of: path)
            var declared = DeclaredModel.unlabelled
            if let config = try ModelMetadata.readJSON(dir + "/config.json"), let label = config["model_type"]?.string {
                let layers = config["num_hidden_layers"]?.uint64.flatMap { $0 <= UInt64(Int32.max) ? Int($0) : nil }
                declared = DeclaredModel(label: label, labelSource: "config.json model_type", layers: layers)
            }
            if case .safetensors = self { declared.shardOf = try Self.index(listing: path) }
            return declared
        }
    }
}

extension Checkpoint {
    /// The sharded index beside `path` that lists it as a shard: `model.safetensors.index.json`,
    /// or `X.safetensors.index.json` for a shard named `X-00001-of-00002.safetensors`.
    static func index(listing path: String) throws(ConvertError) -> String? {
        let dir = ModelMetadata.directory(of: path)
        let base = path.split(separator: "/").last.map(String.init) ?? path
        var candidates = ["model.safetensors.index.json"]
        if let r = base.range(of: #"-[0-9]+-of-[0-9]+\.safetensors$"#, options: .regularExpression) {
            candidates.insert(String(base[..<r.lowerBound]) + ".safetensors.index.json", at: 0)
        }
        for c in candidates {
            guard let index = try? ModelMetadata.readJSON(dir + "/" + c),
                case let .object(map)? = index["weight_map"]?.value
            else { continue }
            if map.contains(where: { $0.node.string == base }) { return c }
        }
        return nil
    }
}
