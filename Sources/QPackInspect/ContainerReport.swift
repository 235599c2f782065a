import QPackBinary
import QPackModel
import QPackContainer
import QPackConvert
import QPackReaders

/// What `qpack inspect` shows about a `.qpack` file (JSON: schema `qpack-inspect/1`, format
/// `qpack`; see Formats/qpack-inspect-json.md).
public struct ContainerReport: Sendable, Codable, Equatable {
    public struct Activation: Sendable, Codable, Equatable {
        public var observer: String
        public var min: Float
        public var max: Float
        /// Smoothing strength when the inputs are divided per channel first (absent: none).
        public var smoothing: Double?
    }

    public struct Tensor: Sendable, Codable, Equatable {
        public var name: String
        public var role: String
        public var scheme: String
        public var layout: String?
        public var shape: [Int]
        public var matrix: [Int]?
        public var parameters: Int
        public var bytes: Int
        public var storedBytes: Int
        public var rule: String
        /// The tensor's slot in its architecture's graph (container 1.1).
        public var slot: String?
        /// How a packed tensor's inputs are quantized: "dynamic" (per row at run time) or
        /// "static" (with `activation`'s range); absent for float tensors.
        public var activationMode: String?
        /// Static activation range (absent: dynamic).
        public var activation: Activation?
        /// What a budget search changed (absent: the rules' scheme).
        public var promotion: ContainerFile.Promotion?
        /// The section holding the source's float copy (`convert --with-reference`).
        public var referenceSection: String?
        public var stats: TensorStatistics?
        /// Decoded values against the source tensor (`--dequant --source`).
        public var error: ErrorMetrics?
    }

    public var path: String
    public var format = "qpack"
    public var version: String
    public var fileBytes: Int
    public var contentDigest: String
    public var producer: String
    public var target: String
    public var architecture: String?
    /// False for files converted with --allow-unsupported (no graph runs them).
    public var runnable = true
    /// The source's hyperparameters as the manifest copied them, typed.
    public var hyperparameters: [String: ManifestValue]
    /// The normalised, typed hyperparameters (container 1.1 `model.config`), empty for older files.
    public var config: [String: ManifestValue] = [:]
    public var tokenizer: String?
    public var sections: Int
    public var sectionBytes: Int
    public var storedSectionBytes: Int
    public var compressionRatio: Double
    public var tensorCount: Int
    public var parameterCount: Int
    public var schemes: [InspectReport.TypeSummary]
    public var tensors: [Tensor]

    public struct Options: Sendable {
        public var filters: [NameGlob] = []
        /// Unpack and dequantize the listed tensors and compute statistics.
        public var dequantize = false
        /// Source checkpoint to compare dequantized values with.
        public var source: Checkpoint?
        public var histogramBins = TensorStatistics.defaultBins
        public init() {}
    }

    public static func build(path: String, file: ContainerFile, options: Options = Options()) throws(ContainerError)
        -> ContainerReport
    {
        let m = file.manifest
        func text(_ n: JSONNode?) -> String? {
            guard let n else { return nil }
            switch n.value {
            case let .string(s): return s
            case let .number(x): return x
            case let .bool(b): return b ? "true" : "false"
            case .null: return "null"
            // rope_scaling and the like: shown compactly, members in file order.
            case let .object(ms):
                return "{" + ms.map { "\($0.key): \(text($0.node) ?? "?")" }.joined(separator: ", ") + "}"
            case let .array(a): return "[" + a.map { text($0) ?? "?" }.joined(separator: ", ") + "]"
            }
        }
        func member(_ n: JSONNode?, _ k: String) -> JSONNode? {
            guard let n, case let .object(ms) = n.value else { return nil }
            return ms.first { $0.key == k }?.node
        }
        var hyper: [String: ManifestValue] = [:], config: [String: ManifestValue] = [:]
        if let h = member(member(m, "model"), "hyperparameters"), case let .object(ms) = h.value {
            for x in ms { hyper[x.key] = ManifestValue(x.node) }
        }
        if let h = member(member(m, "model"), "config"), case let .object(ms) = h.value {
            for x in ms { config[x.key] = ManifestValue(x.node) }
        }
        var tokenizer: String?
        if let t = member(m, "tokenizer"), t.value != .null {
            tokenizer = [
                text(member(t, "type")), text(member(t, "model")), text(member(t, "vocab_size")).map { "\($0) tokens" },
            ]
            .compactMap { $0 }.joined(separator: ", ")
        }
        var schemes: [String: InspectReport.TypeSummary] = [:]
        var order: [String] = []
        var tensors: [Tensor] = []
        for t in file.tensors {
            let section = file.section(named: t.section)!
            let name = t.scheme.name
            if schemes[name] == nil { order.append(name) }
            var s = schemes[name] ?? InspectReport.TypeSummary(type: name, tensors: 0, parameters: 0, bytes: 0)
            s.tensors += 1
            s.parameters += t.elementCount
            s.bytes += section.length
            schemes[name] = s
            guard NameGlob.any(options.filters, match: t.name) else { continue }
            var entry = Tensor(
                name: t.name, role: t.role, scheme: name,
                layout: t.layout.map {
                    "\($0.id) nr=\($0.nr) kr=\($0.kr) sr=\($0.sr)" + ($0.blockLength.map { " bl=\($0)" } ?? "")
                },
                shape: t.shape, matrix: t.matrix.map { [$0.rows, $0.columns] }, parameters: t.elementCount,
                bytes: section.length, storedBytes: section.storedLength, rule: t.rule, slot: t.slot,
                activationMode: t.layout == nil ? nil : (t.activation == nil ? "dynamic" : "static"),
                activation: t.activation.map {
                    Activation(observer: $0.observer, min: $0.min, max: $0.max, smoothing: $0.smoothing?.alpha)
                },
                promotion: t.promotion, referenceSection: t.referenceSection)
            if options.dequantize && !(t.scheme == .keep && t.sourceType != "F32") {
                let values = try ContainerTensorDecoder.floats(t, in: file)
                entry.stats = TensorStatistics(values: values, bins: options.histogramBins)
                if let source = options.source {
                    let reference: [Float]?
                    do { reference = try source.floatValues(of: t.name) } catch {
                        throw ContainerError(
                            .malformed, file: file.fileName, subject: "tensor '\(t.name)'",
                            "source: \(error.description)")
                    }
                    guard let reference, reference.count == values.count else {
                        throw ContainerError(
                            .malformed, file: file.fileName, subject: "tensor '\(t.name)'",
                            "the source has no tensor of this name and size")
                    }
                    entry.error = ErrorMetrics(reference: reference, values: values)
                }
            }
            tensors.append(entry)
        }
        let total = file.sections.reduce(0) { $0 + $1.length },
            stored = file.sections.reduce(0) { $0 + $1.storedLength }
        var report = ContainerReport(
            path: path, version: "\(file.major).\(file.minor)", fileBytes: file.fileSize,
            contentDigest: file.contentDigest,
            producer: [text(member(member(m, "producer"), "name")), text(member(member(m, "producer"), "version"))]
                .compactMap { $0 }.joined(separator: " "),
            target: text(member(member(m, "target"), "name")) ?? "?",
            architecture: text(member(member(m, "model"), "architecture")),
            hyperparameters: hyper, tokenizer: tokenizer, sections: file.sections.count, sectionBytes: total,
            storedSectionBytes: stored,
            compressionRatio: total == 0 ? 1 : Double(stored) / Double(total), tensorCount: file.tensors.count,
            parameterCount: file.tensors.reduce(0) { $0 + $1.elementCount },
            schemes: order.sorted {
                (WeightScheme(name: $0)?.summaryRank ?? (Int.max, $0))
                    < (WeightScheme(name: $1)?.summaryRank ?? (Int.max, $1))
            }.map { schemes[$0]! },
            tensors: tensors)
        report.runnable = member(member(m, "model"), "runnable")?.bool != false
        report.config = config
        return report
    }
}
