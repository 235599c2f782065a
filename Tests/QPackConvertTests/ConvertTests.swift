import Foundation
import Testing
import QPackBinary
import QPackModel
import QPackTestSupport
@testable import QPackContainer
@testable import QPackConvert
@testable import QPackPlanning
@testable import QPackReaders

func convert(
    _ modelPath: String, rules: RuleSet = DefaultRules.ruleSet, target: KernelTarget = .neonI8mm,
    to output: String, jobs: Int = 2, compress: Bool = false, withReference: Bool = false
) throws -> (QuantPlan, ConvertResult) {
    let checkpoint = try Checkpoint.open(path: modelPath)
    let plan = Planner.plan(checkpoint.planInputs, rules: rules, target: target, allowUnsupported: true)
    var options = ConvertOptions(target: target, compress: compress, jobs: jobs)
    options.withReference = withReference
    let result = try Converter.convert(
        checkpoint, path: modelPath, plan: plan, rules: rules, output: output, options: options)
    return (plan, result)
}

func littleEndianFloats(_ b: [UInt8]) -> [Float] {
    (0..<(b.count / 4)).map {
        Float(
            bitPattern: UInt32(b[4 * $0]) | UInt32(b[4 * $0 + 1]) << 8 | UInt32(b[4 * $0 + 2]) << 16 | UInt32(
                b[4 * $0 + 3]) << 24)
    }
}

/// Checks a decoded tensor against its source within the scheme's bound, element by element.
func checkBound(_ t: ContainerFile.Tensor, decoded: [Float], source: [Float], file: ContainerFile) throws {
    #expect(decoded.count == source.count, "\(t.name)")
    switch t.scheme {
    case .f32, .keep:
        #expect(decoded.map(\.bitPattern) == source.map(\.bitPattern), "\(t.name)")
    case .f16:
        for (d, s) in zip(decoded, source) {
            // Half an ulp of binary16 at s's binade (subnormals: 2^-25).
            let ulp = max(Float(0x1p-24), Float(sign: .plus, exponent: max(s.exponent, -14) - 10, significand: 1))
            #expect(abs(d - s) <= ulp / 2, "\(t.name): \(s) -> \(d)")
        }
    case let .qsi4c32(bl):
        // Per block: |w - q·s| ≤ max(s/2, absmax - 7s) (rounding inside the clip range, clipping outside).
        let k = t.matrix!.columns
        for start in stride(from: 0, to: source.count, by: bl) {
            let block = start..<(start + bl)
            let absmax = source[block].map { abs($0) }.max()!
            let s = try blockScale(t, file: file, row: start / k, block: (start % k) / bl)
            // Float rounding of w / s and q · s adds a few ulps of the block's largest value.
            let bound = max(s / 2, absmax - 7 * s) + 4 * absmax * Float.ulpOfOne
            for i in block where abs(decoded[i] - source[i]) > bound {
                Issue.record("\(t.name)[\(i)]: \(source[i]) -> \(decoded[i]) exceeds \(bound)")
                return
            }
        }
    case .qsi4cx, .qsi8cx:
        let k = t.matrix!.columns, qmax: Float = t.scheme == .qsi4cx ? 7 : 127
        for r in 0..<t.matrix!.rows {
            let row = (r * k)..<((r + 1) * k)
            let absmax = source[row].map { abs($0) }.max()!
            let step = decoded[row].map { abs($0) }.max()!
            let s = step > 0 ? try rowScale(t, file: file, row: r) : 0
            let bound = max(s / 2, absmax - qmax * s) + 4 * absmax * Float.ulpOfOne
            for i in row where abs(decoded[i] - source[i]) > bound {
                Issue.record("\(t.name)[\(i)]: \(source[i]) -> \(decoded[i]) exceeds \(bound)")
                return
            }
        }
    default:
        break
    }
}

import QPackPacking

func blockScale(_ t: ContainerFile.Tensor, file: ContainerFile, row: Int, block: Int) throws -> Float {
    let cache = ScaleCache.shared
    let scales = try cache.scales(t, file: file)
    return scales[row * (t.matrix!.columns / t.layout!.blockLength!) + block]
}

func rowScale(_ t: ContainerFile.Tensor, file: ContainerFile, row: Int) throws -> Float {
    try ScaleCache.shared.scales(t, file: file)[row]
}

/// Scales read straight from the packed bytes through the unpackers.
final class ScaleCache: @unchecked Sendable {
    static let shared = ScaleCache()
    private var cache: [String: [Float]] = [:]
    private let lock = NSLock()

    func scales(_ t: ContainerFile.Tensor, file: ContainerFile) throws -> [Float] {
        let key = file.path + "|" + t.name
        lock.lock()
        defer { lock.unlock() }
        if let s = cache[key] { return s }
        let bytes = try file.sectionBytes(t.section)
        let m = t.matrix!, l = t.layout!
        let tile = KleidiAITile(nr: l.nr, kr: l.kr, sr: l.sr)
        let s: [Float]
        switch t.scheme {
        case let .qsi4c32(bl):
            s = Qsi4c32pPacker.unpack(bytes, n: m.rows, k: m.columns, blockLength: bl, tile: tile).matrix.scales.map {
                Float(bitPattern: UInt32($0) << 16)
            }
        case .qsi4cx: s = Qsi4cxpPacker.unpack(bytes, n: m.rows, k: m.columns, tile: tile).matrix.scales
        default: s = Qsi8cxpPacker.unpack(bytes, n: m.rows, k: m.columns, tile: tile).matrix.scales
        }
        cache[key] = s
        return s
    }
}

@Suite struct FixtureConvertTests {
    /// Q4_0, Q4_1 and Q4_K blocks repacked into KleidiAI's qsi4c32pscalef16 / qai4c32p layouts decode to
    /// exactly gguf-py's values.
    @Test func q4_0RepackIsBitExact() throws {
        let dir = try temporaryDirectory("repack")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let rules = try RuleSet.parse(
            """
            version: 1
            rules:
              - {name: repack, match: {name: t.q4_0}, scheme: q4_0-repack}
              - {name: repack1, match: {name: t.q4_1}, scheme: q4_1-repack}
              - {name: repackk, match: {name: t.q4_k}, scheme: q4_k-repack}
              - {name: float, match: {name: ["t.f16", "t.bf16", "t.q8_0"]}, scheme: f32}
              - {name: rest, scheme: keep}
            """, origin: "test")
        let (plan, _) = try convert(TestPaths.fixture("gguf/types.gguf"), rules: rules, to: dir + "/t.qpack")
        #expect(plan.entries.first { $0.name == "t.q4_0" }?.lossless == true)
        #expect(plan.entries.first { $0.name == "t.q4_1" }?.lossless == true)
        #expect(plan.entries.first { $0.name == "t.q4_k" }?.lossless == true)
        let file = try ContainerFile(path: dir + "/t.qpack")
        #expect(file.tensor(named: "t.q4_1")?.layout?.id == "qai4c32p")
        #expect(file.tensor(named: "t.q4_k")?.layout?.id == "qai4c32p")
        // Q4_0, Q4_1 and Q4_K (random K-quant blocks written by gguf-py) decode to gguf-py's values.
        for name in ["t.q4_0", "t.q4_1", "t.q4_k", "t.f16", "t.bf16", "t.q8_0"] {
            let t = try #require(file.tensor(named: name))
            let decoded = try ContainerTensorDecoder.floats(t, in: file)
            let want = littleEndianFloats(try TestPaths.read(TestPaths.fixture("gguf/types.expected/\(name).f32")))
            #expect(decoded.map(\.bitPattern) == want.map(\.bitPattern), "\(name)")
        }
        #expect(file.tensor(named: "t.q4_0")?.layout?.id == "qsi4c32pscalef16")
        #expect(file.tensors.count == 14)
    }

    /// A Q4_1 block qai4c32p cannot hold exactly (m + 8d not a float32) fails the conversion,
    /// naming the tensor, row and block, and writes nothing.
    @Test func inexactQ4_1BlockFailsNamingIt() throws {
        let dir = try temporaryDirectory("repack-inexact")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let source = TestPaths.fixture("gguf/types.gguf")
        var bytes = try TestPaths.read(source)
        let gguf = try GGUFFile(path: source)
        let t = try #require(gguf.tensor(named: "t.q4_1"))
        let at = gguf.fileOffset(of: t) + 20  // block 1 of row 0: d = 2^-24, m = 2048
        bytes.replaceSubrange(at..<(at + 4), with: [0x01, 0x00, 0x00, 0x68])
        let path = dir + "/inexact.gguf"
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        let rules = try RuleSet.parse(
            "version: 1\nrules:\n  - {name: r, match: {name: t.q4_1}, scheme: q4_1-repack}\n  - {name: rest, scheme: keep}\n",
            origin: "test")
        let error = #expect(throws: ConvertError.self) { _ = try convert(path, rules: rules, to: dir + "/x.qpack") }
        #expect(error?.kind == .malformed)
        #expect(error?.message.contains("t.q4_1") == true && error?.message.contains("block 1 of row 0") == true)
        #expect(!FileManager.default.fileExists(atPath: dir + "/x.qpack"))
    }

    /// `--with-reference`: every tensor stored below f32 gets a section of its source values as
    /// F32, equal bit for bit to gguf-py's dequantization; f32 and kept tensors get none; the
    /// file without the option is unchanged (no key, no section).
    @Test func referenceSectionsHoldGGUFPyValues() throws {
        let dir = try temporaryDirectory("reference")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let rules = try RuleSet.parse(
            """
            version: 1
            rules:
              - {name: repack, match: {name: t.q4_0}, scheme: q4_0-repack}
              - {name: half, match: {name: t.q8_0}, scheme: f16}
              - {name: float, match: {name: ["t.f16", "t.bf16"]}, scheme: f32}
              - {name: rest, scheme: keep}
            """, origin: "test")
        _ = try convert(
            TestPaths.fixture("gguf/types.gguf"), rules: rules, to: dir + "/r.qpack", compress: true,
            withReference: true)
        _ = try convert(TestPaths.fixture("gguf/types.gguf"), rules: rules, to: dir + "/p.qpack", compress: true)
        let file = try ContainerFile(path: dir + "/r.qpack"), plain = try ContainerFile(path: dir + "/p.qpack")
        for name in ["t.q4_0", "t.q8_0"] {
            let t = try #require(file.tensor(named: name))
            let section = try #require(t.referenceSection)
            let want = littleEndianFloats(try TestPaths.read(TestPaths.fixture("gguf/types.expected/\(name).f32")))
            #expect(
                littleEndianFloats(try file.sectionBytes(section)).map(\.bitPattern) == want.map(\.bitPattern),
                "\(name)")
        }
        for name in ["t.f16", "t.bf16", "t.q4_1"] {
            #expect(file.tensor(named: name)?.referenceSection == nil, "\(name)")
        }
        #expect(plain.tensors.allSatisfy { $0.referenceSection == nil })
        #expect(file.sections.count == plain.sections.count + 2)
    }

    @Test func nonFiniteWeightsStopTheConversionAndLeaveNothing() throws {
        let dir = try temporaryDirectory("nan")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let rules = try RuleSet.parse(
            "version: 1\nrules: [{name: all, match: {name: t.f32}, scheme: f32}, {name: rest, scheme: keep}]",
            origin: "t")
        // dtypes.safetensors' t.f32 holds NaN at element 20.
        #expect {
            _ = try convert(TestPaths.fixture("safetensors/dtypes.safetensors"), rules: rules, to: dir + "/x.qpack")
        } throws: { error in
            (error as? ConvertError)?.description.contains("tensor 't.f32': non-finite value nan at element 20") == true
        }
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir).isEmpty)
    }
}

@Suite(.enabled(if: TestPaths.runModelTests, "real models absent"), .serialized)
struct RealModelConvertTests {
    @Test func miniLMConvertsAndEveryTensorDecodesWithinItsBound() throws {
        let dir = try temporaryDirectory("minilm")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let (plan, result) = try convert(TestPaths.miniLMPath, to: dir + "/m.qpack")
        let file = try ContainerFile(path: dir + "/m.qpack")
        #expect(file.contentDigest == result.contentDigest)
        #expect(file.tensors.count == 104)
        #expect(file.tensors.map(\.name) == plan.entries.map(\.name))
        let source = try Checkpoint.open(path: TestPaths.miniLMPath)
        for t in file.tensors {
            let raw = try #require(source.rawBytes(of: t.name))
            #expect(t.sourceXXH64 == XXH64.hex(XXH64.hash(raw)))
            guard t.sourceType == "F32" else { continue }
            let decoded = try ContainerTensorDecoder.floats(t, in: file)
            try checkBound(t, decoded: decoded, source: try source.floatValues(of: t.name)!, file: file)
        }
        #expect(file.tensors.filter { $0.name.contains("LayerNorm") }.allSatisfy { $0.scheme == .f32 })
        #expect(
            file.tensors.filter { $0.name.hasSuffix("attention.output.dense.weight") }.allSatisfy { $0.scheme == .f16 })
        // The WordPiece vocabulary travels verbatim.
        #expect(
            try file.sectionBytes("tokenizer.vocab")
                == TestPaths.read(TestPaths.modelsDirectory + "/all-MiniLM-L6-v2/vocab.txt"))
        #expect(file.manifest["model"]?["hyperparameters"]?["num_hidden_layers"]?.int == 6)
        #expect(file.manifest["model"]?["hyperparameters"]?["layer_norm_eps"]?.double == 1e-12)
        #expect(file.manifest["tokenizer"]?["vocab_size"]?.int == 30522)
        // The normalised config (container 1.1): canonical names, integers typed as integers,
        // each equal to the model's own config.json.
        let sourceConfig = try StrictJSONParser.parse(
            try TestPaths.read(TestPaths.modelsDirectory + "/all-MiniLM-L6-v2/config.json"))
        let config = try #require(file.manifest["model"]?["config"])
        for (name, key) in [
            ("hidden", "hidden_size"), ("layers", "num_hidden_layers"), ("heads", "num_attention_heads"),
            ("ffn", "intermediate_size"), ("max_positions", "max_position_embeddings"), ("vocab", "vocab_size"),
        ] {
            #expect(config[name]?.int == sourceConfig[key]?.int, "\(name)")
            if case .number(let lexeme)? = config[name]?.value { #expect(Int(lexeme) != nil, "\(name) is an integer") }
        }
        #expect(config["kv_heads"]?.int == sourceConfig["num_attention_heads"]?.int)
        #expect(config["norm_eps"]?.double == 1e-12 && config["activation"]?.string == "gelu")
    }

    @Test func conversionIsDeterministicAcrossJobsAndCompression() throws {
        let dir = try temporaryDirectory("determinism")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        _ = try convert(TestPaths.miniLMPath, to: dir + "/a.qpack", jobs: 1)
        _ = try convert(TestPaths.miniLMPath, to: dir + "/b.qpack", jobs: 2)
        #expect(try TestPaths.read(dir + "/a.qpack") == TestPaths.read(dir + "/b.qpack"))
        _ = try convert(TestPaths.miniLMPath, to: dir + "/c.qpack", jobs: 2, compress: true)
        _ = try convert(TestPaths.miniLMPath, to: dir + "/d.qpack", jobs: 1, compress: true)
        #expect(try TestPaths.read(dir + "/c.qpack") == TestPaths.read(dir + "/d.qpack"))
        let plain = try ContainerFile(path: dir + "/a.qpack"), packed = try ContainerFile(path: dir + "/c.qpack")
        #expect(packed.fileSize < plain.fileSize)
        for s in plain.sections { #expect(try packed.sectionBytes(s.name) == plain.sectionBytes(s.name)) }
        #expect(
            try FileManager.default.contentsOfDirectory(atPath: dir).sorted() == [
                "a.qpack", "b.qpack", "c.qpack", "d.qpack",
            ])
    }

    @Test func smolLMConvertsWithItsTokenizer() throws {
        let dir = try temporaryDirectory("smollm")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        _ = try convert(TestPaths.smolLMPath, target: .neonDotprod, to: dir + "/s.qpack")
        let file = try ContainerFile(path: dir + "/s.qpack")
        #expect(file.tensors.count == 272)
        #expect(file.manifest["model"]?["architecture"]?.string == "llama")
        #expect(file.manifest["model"]?["hyperparameters"]?["block_count"]?.int == 30)
        #expect(file.manifest["tokenizer"]?["vocab_size"]?.int == 49152)
        // GGUF keys normalised to the same names; block count and width as gguf-py read them.
        let expected = try StrictJSONParser.parse(try TestPaths.read(TestPaths.fixture("real-models/expected.json")))
        let config = try #require(file.manifest["model"]?["config"])
        #expect(config["layers"]?.int == expected["smollm2"]?["block_count"]?.int)
        #expect(config["hidden"]?.int == expected["smollm2"]?["embedding_length"]?.int)
        #expect(config["heads"]?.int == 9 && config["kv_heads"]?.int == 3 && config["vocab"]?.int == 49152)
        let tokens = try file.sectionBytes("tokenizer.tokens")
        var count = 0, at = 0
        while at < tokens.count {
            at +=
                4
                + Int(
                    UInt32(tokens[at]) | UInt32(tokens[at + 1]) << 8 | UInt32(tokens[at + 2]) << 16 | UInt32(
                        tokens[at + 3]) << 24)
            count += 1
        }
        #expect(count == 49152 && at == tokens.count)
        let source = try Checkpoint.open(path: TestPaths.smolLMPath)
        for name in ["blk.0.attn_q.weight", "blk.29.ffn_down.weight", "blk.0.attn_output.weight", "output_norm.weight"]
        {
            let t = try #require(file.tensor(named: name))
            try checkBound(
                t, decoded: try ContainerTensorDecoder.floats(t, in: file), source: try source.floatValues(of: name)!,
                file: file)
        }
        let q = file.tensor(named: "blk.0.attn_q.weight")?.layout
        #expect(q?.id == "qai4c32p" && q?.nr == 4 && q?.kr == 8 && q?.sr == 2 && q?.blockLength == 32)
    }
}

/// An input rewritten while it is converted (here: its modification time moved after the first
/// tensor, as any write through a path or a mapping does) stops the conversion before the file is
/// published: the digests would describe other bytes than those converted.
@Suite struct ChangedInputTests {
    @Test func anInputChangedDuringConversionIsRefused() throws {
        let fm = FileManager.default
        let dir = fm.temporaryDirectory.appendingPathComponent("qpack-changed-\(getpid())").path
        try fm.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? fm.removeItem(atPath: dir) }
        let source = dir + "/types.gguf"
        try fm.copyItem(atPath: TestPaths.fixture("gguf/types.gguf"), toPath: source)
        let rules = try RuleSet.parse(
            String(contentsOfFile: TestPaths.fixture("qpack/rules.yaml"), encoding: .utf8), origin: "rules.yaml")
        let checkpoint = try Checkpoint.open(path: source)
        let plan = Planner.plan(checkpoint.planInputs, rules: rules, target: .neonI8mm, allowUnsupported: true)
        var touched = false
        #expect {
            _ = try Converter.convert(
                checkpoint, path: source, plan: plan, rules: rules, output: dir + "/out.qpack",
                options: ConvertOptions(target: .neonI8mm)
            ) { _, _, _ in
                guard !touched else { return }
                touched = true
                try? fm.setAttributes([.modificationDate: Date(timeIntervalSince1970: 1_000_000)], ofItemAtPath: source)
            }
        } throws: { "\($0)".contains("changed while it was converted") }
        #expect(touched && !fm.fileExists(atPath: dir + "/out.qpack"))
        // Untouched, the same conversion succeeds.
        _ = try Converter.convert(
            checkpoint, path: source, plan: plan, rules: rules, output: dir + "/out.qpack",
            options: ConvertOptions(target: .neonI8mm))
        #expect(fm.fileExists(atPath: dir + "/out.qpack"))
    }
}
