import QPackBinary
import QPackContainer
import QPackModel
import QPackPlanning
import QPackReaders

/// The float model of a source checkpoint as a `.qpack` in memory: every tensor decoded to f32
/// by the converter itself (the same plan, slots and model metadata as `qpack convert`), so the C
/// runtime's loader builds the float reference the way it builds the packed model, from slots
/// and `model.config`, with the same checks.
public enum FloatImage {
    static let rulesText = """
        version: 1
        rules:
          - name: float-reference
            match: {}
            scheme: f32
            fallback: keep
            why: the float reference holds every float tensor as float32 (integer tensors as they are)
        """

    public static func build(_ checkpoint: Checkpoint, path: String) throws(ConvertError) -> ContainerImage {
        let rules: RuleSet
        do { rules = try RuleSet.parse(rulesText, origin: "float reference") } catch {
            throw ConvertError(.malformed, "float reference rules: \(error)")
        }
        let plan = Planner.plan(
            checkpoint.planInputs, rules: rules, target: .neonDotprod,
            declared: try checkpoint.declaredModel(path: path))
        if let e = plan.diagnostics.first(where: { $0.severity == .error }) {
            let file = path.split(separator: "/").last.map(String.init) ?? path
            throw ConvertError(.malformed, "\(file): \(e.detail)")
        }
        let floats = plan.entries.reduce(0) { $0 + $1.parameters }
        let image = ContainerImage(capacity: 4 * floats + (1 << 20))
        _ = try Converter.convert(
            checkpoint, path: path, plan: plan, rules: rules, output: "(float reference)",
            options: ConvertOptions(target: .neonDotprod), image: image)
        return image
    }
}

extension FloatImage {
    /// The float model a container carries (`--with-reference`): its reference sections and f32
    /// tensors, with the container's own model object, slots and shapes.
    public static func build(container: ContainerFile) throws(ConvertError) -> ContainerImage {
        let file = container.fileName
        let image = ContainerImage(capacity: 4 * container.tensors.reduce(0) { $0 + $1.elementCount } + (1 << 20))
        do throws(ContainerError) {
            let writer = try ContainerWriter(image: image, name: "(float reference of \(file))")
            var entries: [JSONOut] = []
            for t in container.tensors {
                // Float values as f32; a kept tensor (integer ids) as it is stored.
                let scheme: WeightScheme
                let bytes: [UInt8]
                if let values = try floatCopy(t, in: container) {
                    (scheme, bytes) = (.f32, FloatBits.littleEndianBytes(values))
                } else if t.scheme == .keep {
                    (scheme, bytes) = (.keep, try container.sectionBytes(t.section))
                } else {
                    throw ContainerError(
                        .malformed, file: file, subject: "tensor '\(t.name)'",
                        "stored as \(t.scheme.name) without a float copy (convert with --with-reference)")
                }
                let section = "tensor:" + t.name
                try writer.addSection(name: section, bytes: bytes, compress: false)
                var f = ContainerFile.Tensor(
                    name: t.name, role: t.role, layer: t.layer, sourceType: t.sourceType, shape: t.shape,
                    matrix: t.matrix, scheme: scheme, rule: "float-reference", section: section,
                    sourceXXH64: t.sourceXXH64, sourceBytes: t.sourceBytes, layout: nil)
                f.slot = t.slot
                entries.append(f.manifestJSON)
            }
            let manifest = JSONOut.object([
                ("format", .string("qpack")),
                (
                    "version",
                    .object([("major", .int(Int(ContainerFormat.major))), ("minor", .int(Int(ContainerFormat.minor)))])
                ),
                ("producer", .object([("name", .string("qpack")), ("version", .string(Converter.version))])),
                ("model", container.manifest["model"].map { JSONOut(copying: $0) } ?? .null),
                ("tokenizer", .null),
                ("sections", writer.sectionsJSON),
                ("tensors", .array(entries)),
            ])
            _ = try writer.finish(manifest: manifest)
        } catch { throw ConvertError(error) }
        return image
    }
}

extension FloatImage {
    /// The float values a container holds for `t`: its reference section, or the tensor itself
    /// when stored as f32; nil for a lossy scheme without a copy.
    public static func floatCopy(_ t: ContainerFile.Tensor, in container: ContainerFile) throws(ContainerError)
        -> [Float]?
    {
        if let r = t.referenceSection { return FloatBits.littleEndianFloats(try container.sectionBytes(r)) }
        if t.scheme == .f32 { return try ContainerTensorDecoder.floats(t, in: container) }
        return nil
    }
}
