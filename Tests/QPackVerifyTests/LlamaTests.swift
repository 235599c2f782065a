import Foundation
import CQPackRuntime
import Testing
import QPackBinary
import QPackModel
import QPackTestSupport
@testable import QPackContainer
@testable import QPackConvert
@testable import QPackPlanning
@testable import QPackReaders
@testable import QPackTokenizers
@testable import QPackVerify

/// SmolLM2 through the C runtime's Llama graph: the float path reproduces an independent numpy
/// implementation's next-token logits and continues "The capital of France is" with " Paris".
@Suite(.enabled(if: TestPaths.runModelTests, "real models absent"), .serialized)
struct LlamaTests {
    /// The default rules without the ones that keep a GGUF source's blocks (what a float
    /// checkpoint of the same model gets).
    static var requantizingRules: RuleSet {
        var r = DefaultRules.ruleSet
        r.rules.removeAll { !$0.match.sourceTypes.isEmpty }
        return r
    }

    /// SmolLM2 converted with the default rules, or with `requantizing` ones.
    static func container(requantizing: Bool = false) throws -> ContainerFile {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("qpack-llama-\(getpid())").path
        try? FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        let out = dir + (requantizing ? "/smollm2-requantized.qpack" : "/smollm2.qpack")
        let rules = requantizing ? requantizingRules : DefaultRules.ruleSet
        if !FileManager.default.fileExists(atPath: out) {
            let checkpoint = try Checkpoint.open(path: TestPaths.smolLMPath)
            let plan = Planner.plan(checkpoint.planInputs, rules: rules, target: .neonDotprod)
            _ = try Converter.convert(
                checkpoint, path: TestPaths.smolLMPath, plan: plan, rules: rules, output: out,
                options: ConvertOptions(target: .neonDotprod, jobs: 2, force: true))
        }
        return try ContainerFile(path: out)
    }

    static func littleEndianFloats(_ b: [UInt8]) -> [Float] {
        (0..<(b.count / 4)).map {
            Float(
                bitPattern: UInt32(b[4 * $0]) | UInt32(b[4 * $0 + 1]) << 8 | UInt32(b[4 * $0 + 2]) << 16 | UInt32(
                    b[4 * $0 + 3]) << 24)
        }
    }

    @Test func floatPathMatchesNumpyAndSaysParis() throws {
        let file = try Self.container()
        let config = try RuntimeModel(path: file.path).description
        let reference = try FloatReference(
            checkpoint: Checkpoint.open(path: TestPaths.smolLMPath), path: TestPaths.smolLMPath
        ).model()
        let expected = try TestPaths.json(TestPaths.fixture("verify/smollm2.expected.json"))
        let ids = expected["ids"]!.items.map { Int32($0.int!) }
        // The ids also come out of qpack's own BPE tokenizer.
        let data = try GGUFFile(path: TestPaths.smolLMPath)
        let tok = try data.array("tokenizer.ggml.tokens", of: .string)!,
            mer = try data.array("tokenizer.ggml.merges", of: .string)!
        let bpe = try ByteLevelBPETokenizer(
            tokens: (0..<tok.count).map { data.string(at: $0, of: tok).text! },
            merges: (0..<mer.count).map { data.string(at: $0, of: mer).text! })
        #expect(bpe.encode(expected["prompt"]!.string!).map(Int32.init) == ids)
        let logits = try #require(reference.logits(ids))
        let last = Array(logits[((ids.count - 1) * config.vocab)...])
        let want = Self.littleEndianFloats(try TestPaths.read(TestPaths.fixture("verify/smollm2.logits.f32")))
        #expect(want.count == config.vocab)
        let maxDiff = zip(last, want).map { abs(Double($0) - Double($1)) }.max()!
        let scale = want.map { abs(Double($0)) }.max()!
        // float32 runtime vs float64 numpy over 30 layers: within 1e-3 of logits of magnitude ~20.
        #expect(maxDiff < 1e-3 * scale, "max |logit diff| \(maxDiff) (largest logit \(scale))")
        #expect(last.indices.max { last[$0] < last[$1] } == expected["top5"]!.items[0].int!)
        let greedy = reference.greedy(ids, steps: 3)
        #expect(greedy == expected["greedy"]!.items.map { Int32($0.int!) })
        #expect(greedy.first == 7042)  // " Paris"
        #expect(bpe.decode([7042]) == " Paris")
    }

    @Test func defaultConversionKeepsTheAnswer() throws {
        let file = try Self.container()
        let config = try RuntimeModel(path: file.path).description
        let reference = try FloatReference(
            checkpoint: Checkpoint.open(path: TestPaths.smolLMPath), path: TestPaths.smolLMPath
        ).model()
        let packed = try RuntimeModel(path: file.path)
        let ids = try TestPaths.json(TestPaths.fixture("verify/smollm2.expected.json"))["ids"]!.items.map {
            Int32($0.int!)
        }
        let a = try #require(reference.logits(ids)), b = try #require(packed.logits(ids))
        let v = config.vocab
        var kl = 0.0, agree = 0
        for t in 0..<ids.count {
            let p = softmax(Array(a[(t * v)..<((t + 1) * v)])), q = softmax(Array(b[(t * v)..<((t + 1) * v)]))
            kl += zip(p, q).reduce(0) { $0 + ($1.0 > 0 ? $1.0 * log($1.0 / max($1.1, 1e-300)) : 0) }
            if p.indices.max(by: { p[$0] < p[$1] }) == q.indices.max(by: { q[$0] < q[$1] }) { agree += 1 }
        }
        kl /= Double(ids.count)
        // The default rules keep the Q4_1 linears exactly (q4_1-repack) and quantize only the
        // activations, per block of 32 (docs/accuracy.md: mean KL 0.004 on held-out text). The
        // requantizing rules (symmetric int4) measured 1.27 here.
        #expect(kl < 0.02, "mean KL \(kl)")
        #expect(agree == ids.count)
        #expect(packed.greedy(ids, steps: 1) == [7042])
    }

    /// The KV cache: feeding the prompt one token (or two) per step gives the logits of the
    /// whole-sequence pass, the cached greedy decoder picks the same tokens as recomputing the
    /// sequence per token, and a session refuses to run past its capacity.
    @Test func kvCacheMatchesTheWholeSequencePass() throws {
        let file = try Self.container()
        let config = try RuntimeModel(path: file.path).description
        let packed = try RuntimeModel(path: file.path)
        let ids = try TestPaths.json(TestPaths.fixture("verify/smollm2.expected.json"))["ids"]!.items.map {
            Int32($0.int!)
        }
        let whole = try #require(packed.logits(ids))
        let scale = whole.map(abs).max()!
        for chunk in [1, 2] {
            let cached = try #require(packed.logitsThroughCache(ids, chunk: chunk))
            let worst = zip(whole, cached).map { abs($0 - $1) }.max()!
            #expect(worst <= 1e-4 * scale, "chunk \(chunk): max difference \(worst) of \(scale)")
        }
        #expect(packed.greedy(ids, steps: 6) == packed.greedyWithoutCache(ids, steps: 6))
        var m = packed.decoderGraph!
        var session = qp_llama_session()
        #expect(qp_llama_session_init(&session, &m, 2, 2) == QP_OK)
        defer { qp_llama_session_free(&session) }
        var logits = [Float](repeating: 0, count: 3 * config.vocab)
        let three: [Int32] = [1, 2, 3]
        #expect(qp_llama_session_step(&session, three, 3, &logits, nil, nil) == QP_ERR_ARGUMENT)  // more than the chunk
        #expect(qp_llama_session_step(&session, three, 2, &logits, nil, nil) == QP_OK)
        #expect(qp_llama_session_step(&session, three, 1, &logits, nil, nil) == QP_ERR_ARGUMENT)  // cache full
        #expect(session.length == 2)
    }

    func softmax(_ x: [Float]) -> [Double] {
        let m = Double(x.max()!)
        let e = x.map { exp(Double($0) - m) }
        let s = e.reduce(0, +)
        return e.map { $0 / s }
    }
}
