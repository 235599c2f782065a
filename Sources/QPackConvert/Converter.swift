#if canImport(Glibc)
    import Glibc
#endif
import QPackBinary
import QPackCalibration
import QPackContainer
import QPackModel
import QPackPlanning
import QPackQuant
import QPackReaders

public struct ConvertOptions: Sendable {
    public var target: KernelTarget
    public var compress: Bool
    /// Tensors encoded at once. Never changes the output: sections are written in plan order.
    public var jobs: Int
    public var force: Bool
    /// Overrides every rule's `nan` / `search` when set.
    public var nonFinite: NonFinitePolicy?
    public var search: ScaleSearch?
    /// Also store the source's float values of every tensor not kept as f32, for `qpack verify`
    /// without the source checkpoint.
    public var withReference = false
    /// Calibration statistics: static activation ranges and importance-weighted scale search.
    public var calibration: CalibrationStats?
    /// The budget search's record (provenance.budget), when one chose the schemes.
    public var budget: JSONOut?
    /// How the provenance identifies each input file.
    public var inputDigest: InputDigest = .xxh64
    /// Run on a finished runnable file before it is published (the argument is a path to it): a
    /// message refuses it (exit 65, nothing written). The CLI opens it with the C runtime, so no
    /// file is marked runnable that the runtime would refuse (hyperparameters the tensors contradict).
    public var acceptance: (@Sendable (String) -> String?)?

    public init(
        target: KernelTarget, compress: Bool = false, jobs: Int = 1, force: Bool = false,
        nonFinite: NonFinitePolicy? = nil, search: ScaleSearch? = nil
    ) {
        self.target = target
        self.compress = compress
        self.jobs = max(1, jobs)
        self.force = force
        self.nonFinite = nonFinite
        self.search = search
    }
}

public struct ConvertResult: Sendable {
    public let output: String
    public let fileBytes: Int
    public let contentDigest: String
    public let tensorBytes: Int
    public let storedTensorBytes: Int
}

/// The conversion pipeline: plan entries in, a `.qpack` file out.
public enum Converter {
    public static let version = "0.1.0"

    public static func convert(
        _ checkpoint: Checkpoint, path: String, plan: QuantPlan, rules: RuleSet, output: String,
        options: ConvertOptions, image: ContainerImage? = nil,
        progress: (_ done: Int, _ total: Int, _ tensor: String) -> Void = { _, _, _ in }
    ) throws(ConvertError) -> ConvertResult {
        guard !plan.hasErrors else {
            throw ConvertError(.malformed, "the plan has errors; run `qpack plan` to see them")
        }
        guard plan.entries.count <= ContainerFormat.maxTensors else {
            throw ConvertError(
                .malformed,
                "\(plan.entries.count) tensors exceed the container's limit of \(ContainerFormat.maxTensors); nothing written"
            )
        }
        let plan = plan.applying(nonFinite: options.nonFinite, search: options.search?.method)
        let fileName = path.split(separator: "/").last.map(String.init) ?? path
        let metadata = try ModelMetadata.collect(checkpoint, path: path, profile: plan.profile, runnable: plan.runnable)
        let activations = try staticActivations(plan, options.calibration, checkpoint: checkpoint, file: fileName)
        let divisorsOf = activations.compactMapValues(\.divisors)
        let calibration = options.calibration
        let importanceWanted =
            options.search.map { if case .importance = $0 { return true } else { return false } } ?? false
        // The importance weights a quantized tensor's search uses: asked for (option or rule),
        // seen by calibration, one per input channel. Decided once, for the encoder and the manifest.
        let importanceOf: @Sendable (PlanEntry) -> [Float]? = { e in
            guard e.scheme.isQuantized, !e.scheme.isRepack,
                importanceWanted || e.search == .importance,
                let w = calibration?.stats(for: e.name)?.importance, w.count == e.matrix?[1]
            else { return nil }
            // A smoothed column meets inputs divided by its divisor: E[(x/s)²] = E[x²]/s².
            guard let d = divisorsOf[e.name] else { return w }
            return zip(w, d).map { $0 / ($1 * $1) }
        }
        let writer: ContainerWriter
        do throws(ContainerError) {
            // With `image`, the file is built in memory (FloatImage) and `output` only names it.
            if let image {
                writer = try ContainerWriter(image: image, name: output)
            } else {
                writer = try ContainerWriter(path: output, force: options.force)
            }
        } catch { throw ConvertError(error) }
        do throws(ConvertError) {
            let encoderOptions = TensorEncoder.Options(
                target: options.target, nonFinite: options.nonFinite, search: options.search,
                threads: options.jobs)
            // Input digests and tensor checksums are computed on their own thread meanwhile.
            let inputPaths = checkpoint.filePaths + metadata.extraInputs
            let inputsAtStart = inputPaths.map(FileIdentity.init)
            var ranges: [String: [InputDigests.TensorRange]] = [:]
            for r in checkpoint.records {
                ranges[r.file, default: []].append(.init(name: r.name, offset: r.fileOffset, count: r.byteCount))
            }
            let digests = InputDigests(paths: inputPaths, digest: options.inputDigest, tensors: ranges)
            var written: [(entry: PlanEntry, section: String, reference: String?, search: SearchMethod)] = []
            var tensorBytes = 0, storedBytes = 0
            let entries = plan.entries
            let compress = options.compress
            // Up to 2·jobs tensors are in flight (each on up to `jobs` threads), so small tensors
            // keep the cores busy while a large one finishes; sections are written strictly in
            // plan order as they complete, so the file never depends on scheduling.
            let withReference = options.withReference
            typealias Encoded = (tensor: ContainerWriter.PreparedSection, reference: ContainerWriter.PreparedSection?)
            let pipeline = OrderedPipeline<Encoded>(count: entries.count, window: 2 * options.jobs) {
                i throws(ConvertError) in
                let e = entries[i]
                let bytes = try TensorEncoder.encode(
                    e, from: checkpoint, file: fileName, options: encoderOptions, importance: importanceOf(e),
                    columnScale: divisorsOf[e.name])
                var reference: [UInt8]?
                if withReference && e.scheme != .f32 && e.scheme != .keep {
                    do {
                        guard let values = try checkpoint.floatValues(of: e.name) else {
                            throw ConvertError(
                                .malformed, "\(fileName): tensor '\(e.name)' has no float values for --with-reference")
                        }
                        reference = FloatBits.littleEndianBytes(values)
                    } catch let error as ConvertError { throw error } catch {
                        throw ConvertError(.malformed, "\(fileName): tensor '\(e.name)': \(error)")
                    }
                }
                checkpoint.release(e.name)
                do throws(ContainerError) {
                    return (
                        try ContainerWriter.PreparedSection(bytes, compress: compress),
                        try reference.map { r throws(ContainerError) in
                            try ContainerWriter.PreparedSection(r, compress: compress)
                        }
                    )
                } catch {
                    throw ConvertError(.io, "\(fileName): tensor '\(e.name)': \(error.detail)")
                }
            }
            for (i, e) in entries.enumerated() {
                let encoded = try pipeline.result(i)
                let section: SectionRecord
                var referenceSection: SectionRecord?
                do throws(ContainerError) {
                    section = try writer.addSection(name: "tensor:" + e.name, prepared: encoded.tensor)
                    if let r = encoded.reference {
                        referenceSection = try writer.addSection(name: "reference:" + e.name, prepared: r)
                    }
                    if let a = activations[e.name]?.activation.smoothing, let d = divisorsOf[e.name] {
                        try writer.addSection(
                            name: a.section, bytes: FloatBits.littleEndianBytes(d), compress: compress)
                    }
                } catch {
                    pipeline.cancel()
                    throw ConvertError(error)
                }
                tensorBytes += section.length
                storedBytes += section.storedLength
                // What the encoder did: importance with weights; otherwise the plain search it fell back to.
                let asked = options.search?.method ?? e.search
                let searched: SearchMethod =
                    importanceOf(e) != nil ? .importance : (asked == .importance ? .mse : asked)
                written.append((e, section.name, referenceSection?.name, searched))
                progress(i + 1, entries.count, e.name)
            }
            for s in metadata.sections {
                do { try writer.addSection(name: s.name, bytes: s.bytes, compress: options.compress) } catch {
                    throw ConvertError(error)
                }
            }
            let rulesBytes = Array(rules.text.utf8)
            do { try writer.addSection(name: "provenance.rules", bytes: rulesBytes, compress: options.compress) } catch
            { throw ConvertError(error) }

            let (inputs, checksums) = try digests.wait()
            var tensorsJSON: [JSONOut] = []
            for w in written {
                guard let checksum = checksums[w.entry.name] else {
                    throw ConvertError(.io, "\(fileName): tensor '\(w.entry.name)': its stored bytes were not read")
                }
                tensorsJSON.append(
                    tensorJSON(
                        w.entry, section: w.section, reference: w.reference, sourceChecksum: checksum,
                        checkpoint: checkpoint,
                        search: w.search, activation: activations[w.entry.name]?.activation))
            }
            let manifest = JSONOut.object([
                ("format", .string("qpack")),
                (
                    "version",
                    .object([("major", .int(Int(ContainerFormat.major))), ("minor", .int(Int(ContainerFormat.minor)))])
                ),
                ("producer", .object([("name", .string("qpack")), ("version", .string(version))])),
                (
                    "provenance",
                    .object(
                        [
                            ("inputs", .array(inputs)),
                            (
                                "rules",
                                .object([
                                    (
                                        "origin",
                                        .string(
                                            rules.origin.split(separator: "/").last.map(String.init) ?? rules.origin)
                                    ),
                                    ("sha256", .string(SHA256.hex(SHA256.hash(rulesBytes)))),
                                    ("section", .string("provenance.rules")),
                                ])
                            ),
                            (
                                "options",
                                .object([
                                    ("target", .string(options.target.rawValue)),
                                    ("compression", .string(options.compress ? "zstd" : "none")),
                                    ("nan", .string(options.nonFinite?.rawValue ?? "per rule")),
                                    ("search", .string(options.search?.name ?? "per rule")),
                                ])
                            ),
                        ]
                            + (calibration.map { c in
                                [
                                    (
                                        "calibration",
                                        JSONOut.object([
                                            ("architecture", .string(c.architecture)),
                                            (
                                                "data",
                                                .array(
                                                    c.data.map { d in
                                                        .object([
                                                            ("sha256", .string(d.sha256)),
                                                            ("source", .string(d.source)),
                                                            ("samples", .int(d.samples)), ("tokens", .int(d.tokens)),
                                                        ])
                                                    })
                                            ),
                                            ("sha256", .string(SHA256.hex(SHA256.hash(c.bytes())))),
                                        ])
                                    )
                                ]
                            } ?? []) + (options.budget.map { [("budget", $0)] } ?? []))
                ),
                ("target", .object([("name", .string(options.target.rawValue))])),
                ("model", metadata.model),
                ("tokenizer", metadata.tokenizer),
                ("sections", writer.sectionsJSON),
                ("tensors", .array(tensorsJSON)),
            ])
            // An input rewritten while it was read (in place, through the map) would make the
            // digests describe other bytes than those converted: fail rather than publish.
            for (path, before) in zip(inputPaths, inputsAtStart) where FileIdentity(path) != before {
                throw ConvertError(
                    .io,
                    "\(path.split(separator: "/").last.map(String.init) ?? path): changed while it was converted; nothing written"
                )
            }
            let digest: String
            let acceptance: ((String) -> String?)? =
                plan.runnable ? options.acceptance.map { check in { check($0) } } : nil
            do { digest = try writer.finish(manifest: manifest, acceptance: acceptance) } catch {
                throw ConvertError(error)
            }
            let size = image?.count ?? (try? MappedFile(path: output).size) ?? 0
            return ConvertResult(
                output: output, fileBytes: size, contentDigest: digest, tensorBytes: tensorBytes,
                storedTensorBytes: storedBytes)
        } catch {
            writer.abandon()
            throw error
        }
    }

    /// The plan with static activations turned dynamic for linears calibration never saw run (BERT's
    /// pooler under mean pooling has no inputs to observe), and a notice for each. Fails when the
    /// statistics name none of the plan's tensors (another model).
    public static func applyCalibration(_ plan: QuantPlan, _ stats: CalibrationStats?, file: String)
        throws(ConvertError) -> (QuantPlan, [String])
    {
        guard let stats else { return (plan, []) }
        guard plan.entries.contains(where: { stats.stats(for: $0.name) != nil }) else {
            throw ConvertError(
                .malformed, "\(file): the calibration statistics name none of this model's tensors (another model?)")
        }
        var p = plan, notes: [String] = []
        p.entries = plan.entries.map { e in
            guard e.activations.isStatic, stats.stats(for: e.name) == nil else { return e }
            var d = e
            d.activations = .dynamic
            d.smoothing = nil
            notes.append(
                "tensor '\(e.name)': calibration never saw it run (not in the runtime graph); its activations stay dynamic"
            )
            return d
        }
        return (p, notes)
    }

    /// Static activation ranges of the plan's static tensors, chosen by their observers from the
    /// calibration statistics, with smoothing divisors where the plan asks for them; an error
    /// names a tensor calibration did not see.
    static func staticActivations(
        _ plan: QuantPlan, _ stats: CalibrationStats?, checkpoint: Checkpoint,
        file: String
    ) throws(ConvertError) -> [String: (activation: ContainerStaticActivation, divisors: [Float]?)] {
        var out: [String: (activation: ContainerStaticActivation, divisors: [Float]?)] = [:]
        for e in plan.entries where e.activations.isStatic {
            guard let stats else {
                throw ConvertError(
                    .usage,
                    "\(file): tensor '\(e.name)' has static activations (rule '\(e.rule)'); give --calibration or --calibration-stats"
                )
            }
            guard let s = stats.stats(for: e.name) else {
                throw ConvertError(
                    .malformed,
                    "\(file): tensor '\(e.name)': the calibration statistics have no entry for it (another model?)")
            }
            guard s.channels == e.matrix?[1] else {
                throw ConvertError(
                    .malformed,
                    "\(file): tensor '\(e.name)': calibration saw \(s.channels) input channels, the tensor has \(e.matrix?[1] ?? 0)"
                )
            }
            guard let observer = RangeObserver(planned: e.activations) else {
                throw ConvertError(
                    .malformed, "\(file): tensor '\(e.name)': unknown activation setting '\(e.activations)'")
            }
            if let alpha = e.smoothing {
                guard case .minmax = observer else {
                    throw ConvertError(.usage, "\(file): tensor '\(e.name)': smoothing needs the minmax observer")
                }
                let weights: [Float]
                do {
                    guard let w = try checkpoint.floatValues(of: e.name) else {
                        throw ConvertError(.malformed, "\(file): tensor '\(e.name)': not found")
                    }
                    weights = w
                } catch let error as ConvertError { throw error } catch {
                    throw ConvertError(.malformed, "\(file): tensor '\(e.name)': \(error)")
                }
                checkpoint.release(e.name)  // read again by the encoder; do not keep every tensor resident
                let d = Smoothing.divisors(inputAbsMax: s.channelAbsMax, weights: weights, alpha: alpha)
                let r = Smoothing.range(channelMin: s.channelMin, channelMax: s.channelMax, divisors: d)
                let a = ContainerStaticActivation(
                    observer: observer.description, min: min(0, r.lo), max: max(0, r.hi),
                    smoothing: .init(alpha: alpha, section: "smooth:" + e.name))
                out[e.name] = (a, d)
            } else {
                let r = observer.range(s)
                out[e.name] = (
                    ContainerStaticActivation(observer: observer.description, min: min(0, r.lo), max: max(0, r.hi)), nil
                )
            }
        }
        return out
    }

    /// What was written for one planned tensor, as the manifest records it.
    static func tensorJSON(
        _ e: PlanEntry, section: String, reference: String?, sourceChecksum: String, checkpoint: Checkpoint,
        search: SearchMethod, activation: ContainerStaticActivation?
    ) -> JSONOut {
        let family = e.scheme.family
        let layout = family.flatMap { f in
            e.tile.map { t in
                ContainerFile.Layout(
                    id: f.id, nr: t.nr, kr: t.kr, sr: t.sr, blockLength: f.grouped ? e.scheme.blockLength : nil)
            }
        }
        var t = ContainerFile.Tensor(
            name: e.name, role: e.role.rawValue, layer: e.layer, sourceType: e.sourceType, shape: e.shape,
            matrix: e.matrix.map { ($0[0], $0[1]) }, scheme: e.scheme, rule: e.rule, section: section,
            sourceXXH64: sourceChecksum, sourceBytes: checkpoint.rawBytes(of: e.name)?.count ?? 0, layout: layout)
        if let family, layout != nil {
            t.quantization = ContainerFile.Quantization(
                scaleType: family.scaleType, search: e.scheme.isRepack ? "none" : search.rawValue,
                nan: e.nonFinite)
        }
        t.slot = e.slot
        t.referenceSection = reference
        t.activation = activation
        t.promotion = e.promotion
        return t.manifestJSON
    }
}

/// The digest that identifies each input file in the provenance. XXH64 (what `xxhsum` prints)
/// by default: SHA-256 of a 3 GB checkpoint alone costs more than a second of a core, as much
/// as quantizing it; SHA-256 on request, e.g. to compare with a model hub's listed digests.
public enum InputDigest: String, Sendable, CaseIterable {
    case xxh64
    case sha256
}

public typealias ContainerStaticActivation = ContainerFile.StaticActivation

extension RangeObserver {
    /// The observer of a static activation plan (percentile as "percentile(p)"); nil for
    /// dynamic and float tensors.
    public init?(planned: ActivationPlan) {
        guard let o = planned.observer else { return nil }
        if o.hasPrefix("percentile(") && o.hasSuffix(")") {
            guard let p = Double(o.dropFirst("percentile(".count).dropLast()) else { return nil }
            self = .percentile(p)
            return
        }
        self.init(name: o)
    }
}

/// What identifies a file's contents cheaply: device, inode, size, modification and change times.
/// Any write through a path or a mapping changes the times.
struct FileIdentity: Equatable {
    let device: UInt64, inode: UInt64, size: Int64
    let modified: Int, modifiedNanoseconds: Int, changed: Int, changedNanoseconds: Int

    init(_ path: String) {
        var st = stat()
        if stat(path, &st) != 0 { st = stat() }
        device = UInt64(st.st_dev)
        inode = UInt64(st.st_ino)
        size = Int64(st.st_size)
        modified = Int(st.st_mtim.tv_sec)
        modifiedNanoseconds = Int(st.st_mtim.tv_nsec)
        changed = Int(st.st_ctim.tv_sec)
        changedNanoseconds = Int(st.st_ctim.tv_nsec)
    }
}
