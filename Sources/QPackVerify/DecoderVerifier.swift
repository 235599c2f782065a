import CQPackRuntime
import Foundation
import QPackContainer
import QPackConvert
import QPackTokenizers
import QPackModel

/// Packed vs float Llama decoder on text samples: per-position KL divergence of next-token
/// distributions, top-1 agreement, perplexity of each sample under both, greedy continuations,
/// and per-linear errors on the same inputs.
public struct DecoderReport: Sendable, Codable {
    public struct Sample: Sendable, Codable {
        public let text: String
        public let tokens: Int
        public let meanKL: Double
        public let maxKL: Double
        public let top1Agreement: Double
        public let perplexityFloat: Double
        public let perplexityPacked: Double
        public let continuationFloat: String
        public let continuationPacked: String
        /// Logits that were NaN or infinite, per model (any fails verification).
        public let nonFiniteFloat: Int
        public let nonFinitePacked: Int
    }

    public let architecture: String
    public let samples: [Sample]
    public let meanKL: Double
    public let top1Agreement: Double
    public let layers: [VerifyReport.Layer]
    public var layoutChecks: [LayoutCheck.Result] = []
    /// Logits per position of every sample, packed and float (for `--output`; not in JSON).
    public var outputs: [OutputTensor] = []

    enum CodingKeys: String, CodingKey {
        case architecture, samples, meanKL, top1Agreement, layers, layoutChecks
    }
}

public enum DecoderVerifier {
    static func logSoftmax(_ x: ArraySlice<Float>) -> [Double] {
        let m = Double(x.max()!)
        let lse = m + log(x.reduce(0.0) { $0 + exp(Double($1) - m) })
        return x.map { Double($0) - lse }
    }

    public static func verify(
        container: ContainerFile, reference: RuntimeModel, packed: RuntimeModel, tokenizer: ByteLevelBPETokenizer?,
        samples: [(text: String, ids: [Int32])], continuation: Int = 8
    ) throws(Verifier.Failure) -> DecoderReport {
        // Without a tokenizer (a file given token ids only) continuations read as ids.
        func text(_ ids: [Int32]) -> String {
            tokenizer?.decode(ids.map(Int.init)) ?? "ids: " + ids.map(String.init).joined(separator: ",")
        }
        try Verifier.sameGraph(reference, packed, container)
        let errors = LayerErrors(reference: reference)
        let v = reference.vocabularySize
        var results: [DecoderReport.Sample] = []
        var allKL: [Double] = [], agreeAll = 0, positions = 0
        var outputs: [OutputTensor] = []
        for (index, s) in samples.enumerated() {
            guard !s.ids.isEmpty else { continue }
            guard let a = reference.logits(s.ids) else {
                throw Verifier.Failure(description: "runtime error on \"\(s.text)\"")
            }
            let run = packed.forward(s.ids, observer: errors.observer)
            let b = run.output
            guard run.status == QP_OK else { throw Verifier.Failure(description: "runtime error on \"\(s.text)\"") }
            var kls: [Double] = [], agree = 0, nllA = 0.0, nllB = 0.0
            for t in 0..<s.ids.count {
                let la = logSoftmax(a[(t * v)..<((t + 1) * v)]), lb = logSoftmax(b[(t * v)..<((t + 1) * v)])
                var kl = 0.0
                for i in 0..<v { let p = exp(la[i]); if p > 0 { kl += p * (la[i] - lb[i]) } }
                // A row with NaN or infinite logits has no distribution: its KL is NaN, not 0.
                if !la.allSatisfy(\.isFinite) || !lb.allSatisfy(\.isFinite) { kl = .nan }
                kls.append(kl)
                if la.indices.max(by: { la[$0] < la[$1] }) == lb.indices.max(by: { lb[$0] < lb[$1] }) { agree += 1 }
                if t + 1 < s.ids.count {
                    nllA -= la[Int(s.ids[t + 1])]
                    nllB -= lb[Int(s.ids[t + 1])]
                }
            }
            let predicted = Double(max(s.ids.count - 1, 1))
            results.append(
                .init(
                    text: s.text, tokens: s.ids.count, meanKL: kls.reduce(0, +) / Double(kls.count), maxKL: kls.max()!,
                    top1Agreement: Double(agree) / Double(kls.count), perplexityFloat: exp(nllA / predicted),
                    perplexityPacked: exp(nllB / predicted),
                    continuationFloat: text(reference.greedy(s.ids, steps: continuation)),
                    continuationPacked: text(packed.greedy(s.ids, steps: continuation)),
                    nonFiniteFloat: a.count { !$0.isFinite }, nonFinitePacked: b.count { !$0.isFinite }))
            outputs.append(OutputTensor(name: "float.logits.\(index)", shape: [s.ids.count, v], values: a))
            outputs.append(OutputTensor(name: "packed.logits.\(index)", shape: [s.ids.count, v], values: b))
            allKL += kls
            agreeAll += agree
            positions += kls.count
        }
        let layers = errors.report(container)
        var report = DecoderReport(
            architecture: packed.architecture, samples: results,
            meanKL: allKL.reduce(0, +) / Double(max(allKL.count, 1)),
            top1Agreement: Double(agreeAll) / Double(max(positions, 1)), layers: layers)
        report.outputs = outputs
        return report
    }

    /// The BPE tokenizer a container carries (length-prefixed token and merge strings).
    public static func tokenizer(from file: ContainerFile) throws -> ByteLevelBPETokenizer {
        try tokenizer(from: ModelDescription(container: file))
    }

    public static func tokenizer(from file: ModelDescription) throws -> ByteLevelBPETokenizer {
        let t = file.tokenizer
        func section(_ key: String, _ fallback: String?) throws -> [UInt8]? {
            guard let name = t?[key]?.string ?? fallback else { return nil }
            return try file.section(name)
        }
        var types: [Int32]?
        if let b = try section("token_types_section", nil) {
            guard b.count % 4 == 0 else {
                throw Verifier.Failure(
                    description:
                        "\(file.fileName): tokenizer.token_types: \(b.count) bytes is not a whole number of int32")
            }
            types = stride(from: 0, to: b.count, by: 4).map {
                Int32(
                    bitPattern: UInt32(b[$0]) | UInt32(b[$0 + 1]) << 8 | UInt32(b[$0 + 2]) << 16 | UInt32(b[$0 + 3])
                        << 24)
            }
        }
        let specials = ByteLevelBPETokenizer.Specials(
            bos: t?["bos_token_id"]?.int, eos: t?["eos_token_id"]?.int, unknown: t?["unknown_token_id"]?.int,
            padding: t?["padding_token_id"]?.int, addBOS: t?["add_bos_token"]?.bool ?? false,
            addEOS: t?["add_eos_token"]?.bool ?? false)
        let tokens = try section("tokens_section", "tokenizer.tokens") ?? [],
            merges = try section("merges_section", nil)
        do {
            return try ByteLevelBPETokenizer(
                tokensSection: tokens, mergesSection: merges, tokenTypes: types, pre: t?["pre"]?.string,
                specials: specials)
        } catch { throw Verifier.Failure(description: "\(file.fileName): \(error.description)") }
    }

    /// Refuses to turn text into ids when the container's pre-tokenizer is not one qpack runs
    /// exactly (token ids still work).
    public static func checkEncodesText(_ file: ModelDescription) throws(Verifier.Failure) {
        let pre = file.tokenizer?["pre"]?.string ?? "(none)"
        guard ByteLevelBPETokenizer.supportedPreTokenizers.contains(pre) else {
            throw Verifier.Failure(
                description:
                    "\(file.fileName): tokenizer pre-tokenizer '\(pre)' is not supported (\(ByteLevelBPETokenizer.supportedPreTokenizers.joined(separator: ", ")) are); give token ids instead of text"
            )
        }
    }
}
