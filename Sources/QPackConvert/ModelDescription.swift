import QPackBinary
import QPackContainer
import QPackReaders

/// What a model graph needs besides weights: the manifest's `model` object (architecture,
/// hyperparameters), its `tokenizer` object and the tokenizer's sections, from a `.qpack` file
/// or straight from a source checkpoint (as convert would write them).
public struct ModelDescription: @unchecked Sendable {
    public let fileName: String
    public let model: JSONNode?
    public let tokenizer: JSONNode?
    private let sectionBytes: (String) throws -> [UInt8]

    public init(container: ContainerFile) {
        fileName = container.fileName
        model = container.manifest["model"]
        tokenizer = container.manifest["tokenizer"]
        sectionBytes = { try container.sectionBytes($0) }
    }

    public static func source(_ checkpoint: Checkpoint, path: String) throws(ConvertError) -> ModelDescription {
        let meta = try ModelMetadata.collect(checkpoint, path: path, profile: "source")
        func node(_ j: JSONOut) throws(ConvertError) -> JSONNode {
            do { return try StrictJSONParser.parse(Array(j.text().utf8)) } catch {
                throw ConvertError(.malformed, "\(path): metadata: \(error)")
            }
        }
        let sections = Dictionary(meta.sections.map { ($0.name, $0.bytes) }, uniquingKeysWith: { a, _ in a })
        let name = path.split(separator: "/").last.map(String.init) ?? path
        return ModelDescription(
            fileName: name, model: try node(meta.model),
            tokenizer: meta.tokenizer == .null ? nil : try node(meta.tokenizer),
            sectionBytes: { s in
                guard let b = sections[s] else { throw ConvertError(.malformed, "\(name): no tokenizer data '\(s)'") }
                return b
            })
    }

    private init(
        fileName: String, model: JSONNode?, tokenizer: JSONNode?, sectionBytes: @escaping (String) throws -> [UInt8]
    ) {
        self.fileName = fileName
        self.model = model
        self.tokenizer = tokenizer
        self.sectionBytes = sectionBytes
    }

    public var architecture: String? { model?["architecture"]?.string }
    /// False for files converted with --allow-unsupported: no graph may run them.
    public var runnable: Bool { model?["runnable"]?.bool != false }
    /// Why no graph can run this model, or nil when one can.
    public var notRunnableReason: String? {
        runnable
            ? nil
            : "\(fileName): converted with --allow-unsupported (architecture '\(architecture ?? "unknown")', "
                + "\(model?["profile"]?.string ?? "no profile")): qpack cannot run or verify it"
    }
    public var hyperparameters: JSONNode? { model?["hyperparameters"] }
    public func section(_ name: String) throws -> [UInt8] { try sectionBytes(name) }
}
