import CQPackRuntime
import QPackContainer
import QPackModel

/// A model the C runtime built (`qp_model_open`): a packed `.qpack`, the float reference (a
/// float image of the source, `FloatReference.model()`), or a mix of either's linears. Verify,
/// eval, calibration and the budget search run exactly what a C application gets, whatever the
/// architecture: the runtime's loader is the one place that knows how a graph is wired.
/// Immutable once built (the graphs only read their weights), so it may run on several threads.
public final class RuntimeModel: @unchecked Sendable {
    public struct LoadError: Error, Sendable, CustomStringConvertible {
        public let description: String
        /// The runtime's status (QP_ERR_IO: the file could not be read).
        public var status = QP_ERR_FORMAT

        public init(description: String, status: qp_status = QP_ERR_FORMAT) {
            self.description = description
            self.status = status
        }
    }

    public let pointer: OpaquePointer
    /// What the model's memory belongs to: the image it was opened from, or the models a mix borrows.
    private let retained: [AnyObject]
    public let description: qp_model_description
    /// The architecture label ("bert", "llama").
    public let architecture: String
    /// Every linear's weight tensor name, in observer order (the head last for a decoder).
    public let linearWeightNames: [String]

    /// The packed model of a `.qpack` file.
    public convenience init(path: String, options: qp_model_options? = nil) throws(LoadError) {
        var model: OpaquePointer?
        var message = [CChar](repeating: 0, count: 1024)
        var o = options ?? qp_model_options()
        let status = qp_model_open(path, &o, &model, &message, message.count)
        guard status == QP_OK, let model else {
            let name = path.split(separator: "/").last.map(String.init) ?? path
            throw LoadError(description: "\(name): \(Self.text(message))", status: status)
        }
        self.init(model, retained: [])
    }

    /// Why the C runtime refuses to build a model from the file at `path`, or nil when it builds
    /// one (what `convert` asks before it publishes a runnable file).
    public static func refusal(opening path: String) -> String? {
        var model: OpaquePointer?
        var message = [CChar](repeating: 0, count: 1024)
        var o = qp_model_options()
        guard qp_model_open(path, &o, &model, &message, message.count) == QP_OK, let model else {
            return "the runtime refuses the model: " + text(message)
        }
        qp_model_close(model)
        return nil
    }

    /// The model of a container built in memory (it is kept alive with the model).
    public convenience init(image: ContainerImage, name: String, threads: Int = 1) throws(LoadError) {
        var model: OpaquePointer?
        var message = [CChar](repeating: 0, count: 1024)
        let bytes = image.bytes?.assumingMemoryBound(to: UInt8.self)
        var o = qp_model_options(variant: QP_VARIANT_AUTO, threads: max(1, threads))
        guard qp_model_open_memory(bytes, image.count, &o, &model, &message, message.count) == QP_OK, let model else {
            throw LoadError(description: "\(name): \(Self.text(message))")
        }
        self.init(model, retained: [image])
    }

    private init(_ pointer: OpaquePointer, retained: [AnyObject]) {
        self.pointer = pointer
        self.retained = retained
        var d = qp_model_description()
        _ = qp_model_describe(pointer, &d)
        description = d
        architecture = d.architecture.map { String(cString: $0) } ?? ""
        linearWeightNames = (0..<qp_model_linear_count(pointer)).map { i in
            var name: UnsafePointer<CChar>?
            _ = qp_model_linear(pointer, i, &name, nil)
            return name.map { String(cString: $0) } ?? ""
        }
    }

    deinit { qp_model_close(pointer) }

    static func text(_ message: [CChar]) -> String {
        String(decoding: message.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    public var isDecoder: Bool { description.kind == QP_MODEL_DECODER }
    public var hidden: Int { description.hidden }
    public var layers: Int { description.layers }
    public var vocabularySize: Int { description.vocab }
    public var maxPositions: Int { description.max_positions }

    /// Floats `forward` returns for `count` ids: hidden (encoder), count x vocab (decoder).
    public func outputSize(_ count: Int) -> Int { qp_model_output_size(pointer, count) }

    /// Linear `index` as the graph runs it.
    public func linear(_ index: Int) -> qp_linear {
        var l: UnsafePointer<qp_linear>?
        guard qp_model_linear(pointer, index, nil, &l) == QP_OK, let l else { return qp_linear() }
        return l.pointee
    }

    /// After linear `index` ran on `rows` rows: its input (rows x k) and output (rows x n).
    public typealias Observer = (
        _ index: Int, _ rows: Int, _ input: UnsafePointer<Float>, _ output: UnsafePointer<Float>
    ) -> Void

    /// The pooled embedding (encoder) or every position's logits (decoder); nil on a runtime error.
    public func forward(_ ids: [Int32], observer: Observer? = nil) -> (output: [Float], status: qp_status) {
        final class Box {
            let f: Observer
            init(_ f: @escaping Observer) { self.f = f }
        }
        var out = [Float](repeating: 0, count: max(outputSize(ids.count), 1))
        let box = observer.map(Box.init)
        let context = box.map { Unmanaged.passUnretained($0).toOpaque() }
        let callback: qp_model_observer? =
            observer == nil
            ? nil
            : { c, index, rows, input, output in
                Unmanaged<Box>.fromOpaque(c!).takeUnretainedValue().f(index, rows, input!, output!)
            }
        let status = ids.withUnsafeBufferPointer { i in
            out.withUnsafeMutableBufferPointer {
                qp_model_forward(pointer, i.baseAddress, i.count, $0.baseAddress, callback, context)
            }
        }
        withExtendedLifetime(box) {}
        return (out, status)
    }

    /// A model that runs linear `name` from `variants[choose(name)]` (the same source and
    /// configuration) and everything else from this one; it keeps them all alive.
    public func mixing(_ variants: [RuntimeModel], choose: (String) -> Int?) throws(LoadError) -> RuntimeModel {
        guard !variants.isEmpty else { return self }  // nothing to take from another model
        let choice = linearWeightNames.map { name in Int32(choose(name) ?? -1) }
        var sources: [OpaquePointer?] = variants.map(\.pointer)
        var mix: OpaquePointer?
        var message = [CChar](repeating: 0, count: 1024)
        let status = sources.withUnsafeMutableBufferPointer { s in
            choice.withUnsafeBufferPointer { c in
                s.baseAddress!.withMemoryRebound(to: OpaquePointer?.self, capacity: max(s.count, 1)) {
                    qp_model_mix(pointer, $0, s.count, c.baseAddress, &mix, &message, message.count)
                }
            }
        }
        guard status == QP_OK, let mix else { throw LoadError(description: "mixing models: \(Self.text(message))") }
        return RuntimeModel(mix, retained: [self] + variants)
    }

    // MARK: decoders

    /// The encoder graph (nil for a decoder).
    public var encoderGraph: qp_bert? { qp_model_bert(pointer)?.pointee }

    /// The decoder graph, for sessions (nil for an encoder).
    public var decoderGraph: qp_llama? { qp_model_llama(pointer)?.pointee }

    /// Logits of every position (count x vocab).
    public func logits(_ ids: [Int32]) -> [Float]? {
        let r = forward(ids)
        return r.status == QP_OK ? r.output : nil
    }

    /// Logits of every position, fed to one session `chunk` tokens per step (through the KV cache).
    public func logitsThroughCache(_ ids: [Int32], chunk: Int) -> [Float]? {
        guard !ids.isEmpty, chunk > 0, var m = decoderGraph else { return nil }
        var session = qp_llama_session()
        guard qp_llama_session_init(&session, &m, ids.count, min(chunk, ids.count)) == QP_OK else { return nil }
        defer { qp_llama_session_free(&session) }
        let vocab = vocabularySize
        var out = [Float](repeating: 0, count: ids.count * vocab)
        for start in stride(from: 0, to: ids.count, by: chunk) {
            let part = Array(ids[start..<min(start + chunk, ids.count)])
            let st = part.withUnsafeBufferPointer { i in
                out.withUnsafeMutableBufferPointer {
                    qp_llama_session_step(&session, i.baseAddress, i.count, $0.baseAddress! + start * vocab, nil, nil)
                }
            }
            guard st == QP_OK else { return nil }
        }
        return out
    }

    /// Greedy continuation of `ids` by `steps` tokens: the prompt in one step, then one token per
    /// step over a session's KV cache (`qp_model_generate`; stops early at the context length).
    public func greedy(_ ids: [Int32], steps: Int) -> [Int32] {
        let steps = min(steps, maxPositions - ids.count)
        guard !ids.isEmpty, steps > 0, isDecoder else { return [] }
        var out = [Int32](repeating: 0, count: steps)
        var generated = 0
        let st = ids.withUnsafeBufferPointer { i in
            out.withUnsafeMutableBufferPointer {
                qp_model_generate(
                    pointer, i.baseAddress, i.count, nil, nil, 0, steps, $0.baseAddress, &generated, nil, nil)
            }
        }
        return st == QP_OK ? Array(out.prefix(generated)) : []
    }

    /// Greedy continuation recomputing the whole sequence per token, without the cache: the
    /// independent path the cached one is tested against.
    public func greedyWithoutCache(_ ids: [Int32], steps: Int) -> [Int32] {
        var seq = ids
        let vocab = vocabularySize
        for _ in 0..<steps where seq.count < maxPositions {
            guard let l = logits(seq) else { break }
            let last = l[((seq.count - 1) * vocab)...]
            guard let best = last.indices.max(by: { last[$0] < last[$1] }) else { break }
            seq.append(Int32(best - (seq.count - 1) * vocab))
        }
        return Array(seq.dropFirst(ids.count))
    }
}

extension RuntimeModel.LoadError: QPackFailure {
    public var failureKind: FailureKind { status == QP_ERR_IO ? .io : .malformed }
}
