import QPackBinary
import QPackContainer
import QPackConvert
import QPackReaders

/// Where the float reference's weights come from: the source checkpoint (`--source`), or the
/// float copy a container carries when converted with `--with-reference`. `model()` builds the
/// float model through the C runtime's loader, like the packed one.
public struct FloatReference {
    /// Shown in reports: the checkpoint's path or "the float copy in FILE".
    public let origin: String
    private let lookup: (String) throws -> [Float]?
    private let image: () throws(ConvertError) -> ContainerImage

    /// `path` is the checkpoint's path (its config.json and tokenizer sit beside it).
    public init(checkpoint: Checkpoint, path: String) {
        origin = path
        lookup = { name in try checkpoint.floatValues(of: name) }
        image = { () throws(ConvertError) in try FloatImage.build(checkpoint, path: path) }
    }

    /// The container's `reference_section`s, and its f32 tensors (stored exactly). Tensors in a
    /// lossy scheme without a reference have no float values here.
    public init(container: ContainerFile) {
        origin = "the float copy in \(container.fileName)"
        let byName = Dictionary(container.tensors.map { ($0.name, $0) }, uniquingKeysWith: { a, _ in a })
        lookup = { name in
            guard let t = byName[name] else { return nil }
            return try FloatImage.floatCopy(t, in: container)
        }
        image = { () throws(ConvertError) in try FloatImage.build(container: container) }
    }

    /// True when every tensor of `container` quantized or stored below f32 has a float copy.
    public static func containerCarriesReference(_ container: ContainerFile) -> Bool {
        container.tensors.allSatisfy { $0.scheme == .f32 || $0.scheme == .keep || $0.referenceSection != nil }
    }

    public func floatValues(of name: String) throws -> [Float]? { try lookup(name) }

    /// The float model, built by the runtime's loader from a float image of the source; its
    /// linears split among `threads` (the same bits for any count).
    public func model(threads: Int = 1) throws(RuntimeModel.LoadError) -> RuntimeModel {
        let built: ContainerImage
        do { built = try image() } catch { throw RuntimeModel.LoadError(description: error.description) }
        return try RuntimeModel(image: built, name: "float reference (\(origin))", threads: threads)
    }
}
