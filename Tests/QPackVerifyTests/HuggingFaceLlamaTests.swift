import Foundation
import CQPackRuntime
import Testing
import QPackBinary
import QPackTestSupport
@testable import QPackContainer
@testable import QPackConvert
@testable import QPackPlanning
@testable import QPackReaders
@testable import QPackTokenizers
@testable import QPackVerify

/// Llama checkpoints with Hugging Face names, config.json and tokenizer.json (derived from the
/// SmolLM2 GGUF by scripts/make-hf-llama.sh): the float graph (half-split RoPE, rope_scaling)
/// against an independent numpy reference, and the packed model against the GGUF one.
@Suite(.enabled(if: TestPaths.runHFLlamaTests, "Hugging Face Llama checkpoints absent"), .serialized)
struct HuggingFaceLlamaTests {
    struct Reference {
        let json: JSONNode
        let prompt: [Float]  // every position of the prompt
        let passageLast: [Float]
        var ids: [Int32] { json["ids"]!.items.map { Int32($0.int!) } }
        var passageIds: [Int32] { json["passage_ids"]!.items.map { Int32($0.int!) } }
    }

    static func reference(_ dir: String, vocab: Int) throws -> Reference {
        let json = try TestPaths.json(dir + "/reference.json")
        let all = LlamaTests.littleEndianFloats(try TestPaths.read(dir + "/reference.logits.f32"))
        let n = json["ids"]!.items.count
        #expect(all.count == (n + 1) * vocab)
        return Reference(json: json, prompt: Array(all[..<(n * vocab)]), passageLast: Array(all[(n * vocab)...]))
    }

    static func maxDiff(_ a: ArraySlice<Float>, _ b: ArraySlice<Float>) -> (diff: Double, scale: Double) {
        (zip(a, b).map { abs(Double($0) - Double($1)) }.max()!, b.map { abs(Double($0)) }.max()!)
    }

    static func floatModel(_ dir: String) throws -> (RuntimeModel, ModelDescription) {
        let path = dir + "/model.safetensors"
        let checkpoint = try Checkpoint.open(path: path)
        let description = try ModelDescription.source(checkpoint, path: path)
        return (try FloatReference(checkpoint: checkpoint, path: path).model(), description)
    }

    @Test func floatPathMatchesNumpyAndTheGGUFModel() throws {
        let (model, description) = try Self.floatModel(TestPaths.hfLlamaDirectory)
        let graph = try #require(model.decoderGraph)
        let vocab = model.vocabularySize
        // Hugging Face's rotate_half pairs, no scaling, the head tied to the embeddings.
        #expect(graph.rope_half_split == 1 && graph.rope_inv_freq == nil)
        #expect(graph.output.weights == graph.token_embeddings.weights)
        #expect(model.linearWeightNames.last == "model.embed_tokens.weight")
        let ref = try Self.reference(TestPaths.hfLlamaDirectory, vocab: vocab)
        // tokenizer.json (saved by the tokenizers package) read into qpack's BPE gives its ids.
        #expect(description.tokenizer?["pre"]?.string == "smollm")
        let bpe = try DecoderVerifier.tokenizer(from: description)
        #expect(bpe.encode(ref.json["prompt"]!.string!).map(Int32.init) == ref.ids)
        #expect(bpe.encode(ref.json["passage"]!.string!).map(Int32.init) == ref.passageIds)
        let logits = try #require(model.logits(ref.ids))
        let (d, scale) = Self.maxDiff(logits[...], ref.prompt[...])
        // float32 runtime vs float64 numpy over 30 layers, as for the GGUF model.
        #expect(d < 1e-3 * scale, "max |logit diff| \(d) of \(scale)")
        let passage = try #require(model.logits(ref.passageIds))
        let (dp, sp) = Self.maxDiff(passage[((ref.passageIds.count - 1) * vocab)...], ref.passageLast[...])
        #expect(dp < 1e-3 * sp, "passage: max |logit diff| \(dp) of \(sp)")
        // The committed GGUF reference (adjacent-pair RoPE over the permuted rows) agrees too.
        let gguf = LlamaTests.littleEndianFloats(try TestPaths.read(TestPaths.fixture("verify/smollm2.logits.f32")))
        let (dg, sg) = Self.maxDiff(logits[((ref.ids.count - 1) * vocab)...], gguf[...])
        #expect(dg < 1e-3 * sg, "vs GGUF reference: \(dg) of \(sg)")
        #expect(model.greedy(ref.ids, steps: 3) == ref.json["greedy"]!.items.map { Int32($0.int!) })
        #expect(bpe.decode(model.greedy(ref.ids, steps: 1).map(Int.init)) == " Paris")
    }

    /// Llama 3.1 rope_scaling: the frequencies equal numpy's (written from transformers' rule),
    /// and the logits follow them on a 62-token passage, where they move by ~0.25 against the
    /// unscaled model, far beyond the tolerance.
    @Test func llama3RopeScalingMatchesNumpy() throws {
        let (model, _) = try Self.floatModel(TestPaths.hfLlama3Directory)
        let graph = try #require(model.decoderGraph)
        let vocab = model.vocabularySize, headDim = graph.hidden / graph.heads
        let ref = try Self.reference(TestPaths.hfLlama3Directory, vocab: vocab)
        let want = ref.json["inverse_frequencies"]!.items.map { $0.double! }
        // The C loader's frequencies (from model.config's rope_scaling).
        let inv = try #require(graph.rope_inv_freq)
        let got = (0..<(headDim / 2)).map { inv[$0] }
        #expect(got.count == want.count)
        for (g, w) in zip(got, want) { #expect(abs(g - w) <= 1e-12 * w, "\(g) vs \(w)") }
        // A second implementation of the scaling agrees with it.
        let json = try TestPaths.json(TestPaths.hfLlama3Directory + "/config.json")
        let scaling = try #require(json["rope_scaling"])
        let computed = try RopeFrequencies.huggingFace(
            base: Double(graph.rope_base), headDim: headDim, scaling: scaling)
        let swift = try #require(computed)
        #expect(zip(got, swift).allSatisfy { abs($0 - $1) <= 1e-15 * $1 })
        let plain = RopeFrequencies.plain(base: Double(graph.rope_base), headDim: headDim)
        #expect(
            zip(got, plain).filter { $0 == $1 }.count > 0
                && zip(got, plain).filter { abs($0 - $1 * 0.125) < 1e-15 * $1 }.count > 0
                && zip(got, plain).contains { $0 != $1 && abs($0 - $1 / 8) > 1e-12 * $1 },
            "all three bands of the scaling occur")
        let passage = try #require(model.logits(ref.passageIds))
        let last = passage[((ref.passageIds.count - 1) * vocab)...]
        let (d, scale) = Self.maxDiff(last, ref.passageLast[...])
        #expect(d < 1e-3 * scale, "max |logit diff| \(d) of \(scale)")
        let unscaled = try Self.reference(TestPaths.hfLlamaDirectory, vocab: vocab)
        #expect(
            Self.maxDiff(last, unscaled.passageLast[...]).diff > 10 * 1e-3 * scale,
            "the scaling changes the logits measurably")
    }

    @Test func ropeScalingRefusesWhatItDoesNotRun() throws {
        func node(_ s: String) throws -> JSONNode { try StrictJSONParser.parse(Array(s.utf8)) }
        #expect(try RopeFrequencies.huggingFace(base: 10000, headDim: 64, scaling: node("null")) == nil)
        #expect(
            try RopeFrequencies.huggingFace(base: 10000, headDim: 64, scaling: node(#"{"rope_type": "default"}"#))
                == nil)
        let lin = try #require(
            try RopeFrequencies.huggingFace(base: 10000, headDim: 4, scaling: node(#"{"type": "linear", "factor": 2}"#))
        )
        #expect(lin == [0.5, 0.005])
        for bad in [
            #"{"rope_type": "yarn", "factor": 4}"#, #"{"rope_type": "dynamic", "factor": 2}"#,
            #"{"rope_type": "linear"}"#,
            #"{"rope_type": "llama3", "factor": 8, "low_freq_factor": 4, "high_freq_factor": 1, "original_max_position_embeddings": 8192}"#,
            "3",
        ] {
            #expect(throws: RopeFrequencies.Unsupported.self, "\(bad)") {
                try RopeFrequencies.huggingFace(base: 10000, headDim: 64, scaling: node(bad))
            }
        }
    }

    /// The same model converted from Hugging Face names and from GGUF names: every tensor's
    /// packed bytes are identical, except q/k whose rows are permuted (their codes then match
    /// row for row once un-permuted). The packed model keeps the answer.
    @Test func packedHFModelMatchesThePackedGGUFModel() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("qpack-hf-llama-\(getpid())").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let path = TestPaths.hfLlamaDirectory + "/model.safetensors"
        let checkpoint = try Checkpoint.open(path: path)
        let plan = Planner.plan(checkpoint.planInputs, rules: DefaultRules.ruleSet, target: .neonDotprod)
        #expect(plan.entries.first { $0.name == "model.layers.0.self_attn.o_proj.weight" }?.scheme == .f16)
        #expect(
            plan.entries.first { $0.name == "model.layers.0.mlp.down_proj.weight" }?.scheme == .qsi4c32(blockLength: 32)
        )
        _ = try Converter.convert(
            checkpoint, path: path, plan: plan, rules: DefaultRules.ruleSet, output: dir + "/hf.qpack",
            options: ConvertOptions(target: .neonDotprod, jobs: 2, force: true))
        let file = try ContainerFile(path: dir + "/hf.qpack")
        let packed = try RuntimeModel(path: file.path)
        let config = packed.description
        let headDim = config.hidden / config.heads
        #expect(packed.decoderGraph?.rope_half_split == 1)  // Hugging Face's rotate_half pairs
        let ggufFile = try LlamaTests.container(requantizing: true)
        let ggufModel = try RuntimeModel(path: ggufFile.path)
        var compared = 0
        for layer in 0..<config.layers {
            for which in 0..<7 {
                let hf = try #require(file.tensor(named: packed.linearWeightNames[7 * layer + which]))
                let gg = try #require(ggufFile.tensor(named: ggufModel.linearWeightNames[7 * layer + which]))
                #expect(hf.scheme == gg.scheme)
                if which >= 2 {
                    #expect(try file.sectionBytes(hf.section) == ggufFile.sectionBytes(gg.section), "\(hf.name)")
                } else {
                    // GGUF row (h, i, j) is Hugging Face row (h, j, i): i < head_dim/2, j < 2.
                    let a = try ContainerTensorDecoder.floats(hf, in: file),
                        b = try ContainerTensorDecoder.floats(gg, in: ggufFile)
                    let k = config.hidden, half = headDim / 2
                    let rows = a.count / k
                    var same = a.count == b.count
                    for r in 0..<rows where same {
                        let h = r / headDim, j = (r % headDim) / half, i = r % half
                        let g = h * headDim + 2 * i + j
                        same = a[(r * k)..<((r + 1) * k)] == b[(g * k)..<((g + 1) * k)]
                    }
                    #expect(same, "\(hf.name): rows differ from the GGUF model's once un-permuted")
                }
                compared += 1
            }
        }
        #expect(compared == 7 * config.layers)
        #expect(
            try file.sectionBytes(file.tensor(named: "model.embed_tokens.weight")!.section)
                == ggufFile.sectionBytes(ggufFile.tensor(named: "token_embd.weight")!.section))
        let ids = try Self.reference(TestPaths.hfLlamaDirectory, vocab: config.vocab).ids
        #expect(packed.greedy(ids, steps: 1) == [7042])  // " Paris", as the packed GGUF model says
        // The container alone carries what text needs: tokenizer.json's data.
        let bpe = try DecoderVerifier.tokenizer(from: file)
        #expect(bpe.encode("The capital of France is").map(Int32.init) == ids)
    }
}
