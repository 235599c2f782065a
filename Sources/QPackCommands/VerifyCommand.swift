import ArgumentParser
import Foundation
import QPackConvert
import QPackContainer
import QPackModel
import QPackReaders
import QPackTokenizers
import QPackVerify

struct VerifyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify",
        abstract: "Run real samples through the packed model and the float model and show how far apart they are.",
        discussion: """
            The bundled C runtime runs the packed .qpack model and the float model (weights from \
            --source, or from the float copy a file converted with --with-reference carries) on each sample and reports the end-to-end cosine of the sentence embeddings, \
            and for every linear layer its output error against the float layer on the same input \
            (relative RMSE, SNR, cosine), worst first, with the rule that chose its scheme. \
            For Llama decoders: per-position KL divergence of the next-token distributions, top-1 \
            agreement, perplexity of each sample under both models, and greedy continuations.
            """
    )

    @Argument(help: "The .qpack file.")
    var file: String

    @Option(
        help: ArgumentHelp(
            "Source checkpoint for the float reference (optional when the file carries a float copy).",
            valueName: "model"))
    var source: String?

    @OptionGroup var threading: ThreadOptions

    @Option(help: ArgumentHelp("A sample text (repeatable).", valueName: "text"))
    var runSample: [String] = []

    @Option(help: ArgumentHelp("A file with one sample per line.", valueName: "file"))
    var sampleFile: String?

    @Option(help: ArgumentHelp("A sample given as token ids, comma-separated (repeatable).", valueName: "ids"))
    var ids: [String] = []

    @Option(
        help: ArgumentHelp(
            "Write the packed and float outputs (pooled embeddings or logits per position) to this safetensors file.",
            valueName: "file"))
    var output: String?

    @Flag(help: "Replace an existing --output file.")
    var force = false

    @Option(help: ArgumentHelp("Encoders: fail (exit 1) when a sample's cosine is below this.", valueName: "x"))
    var minCosine: Double?

    @Option(
        help: ArgumentHelp("Decoders: fail (exit 1) when a sample's mean KL divergence is above this.", valueName: "x"))
    var maxKl: Double?

    @Option(help: "Decoders: tokens of greedy continuation to show.")
    var continuation: Int = 8

    @Flag(help: "Print JSON instead of text.")
    var json = false

    func validate() throws {
        if runSample.isEmpty && sampleFile == nil && ids.isEmpty {
            throw ValidationError("give --run-sample TEXT, --sample-file FILE or --ids IDS")
        }
        for list in ids {
            guard !list.isEmpty,
                list.split(separator: ",").allSatisfy({
                    Int32($0.trimmingCharacters(in: .whitespaces)).map { $0 >= 0 } ?? false
                })
            else {
                throw ValidationError("--ids takes non-negative integers separated by commas, got '\(list)'")
            }
        }
        if let m = minCosine, !(m >= -1 && m <= 1) { throw ValidationError("--min-cosine must be in [-1, 1]") }
    }

    func run() throws {
        if let output {
            let sources = [source.map { (try? Checkpoint.modelPath($0)) ?? $0 }].compactMap { $0 }
            try OutputPolicy.check(
                output, force: force,
                inputs: [file] + sources.flatMap(OutputPolicy.companions) + [sampleFile].compactMap { $0 })
        }
        var texts = runSample
        if let sampleFile {
            guard let text = try? String(contentsOfFile: sampleFile, encoding: .utf8) else {
                printError("\(sampleFile): cannot read the samples")
                throw QPackExit.ioError
            }
            texts += text.split(separator: "\n").map(String.init).filter { !$0.isEmpty }
        }
        let container: ContainerFile
        do { container = try ContainerFile(path: file) } catch {
            throw fail(error)
        }
        let checkpoint: FloatReference
        if let source {
            do {
                let source = try Checkpoint.modelPath(source)
                checkpoint = FloatReference(checkpoint: try Checkpoint.open(path: source), path: source)
            } catch {
                throw fail(error)
            }
        } else {
            guard FloatReference.containerCarriesReference(container) else {
                printError(
                    "\(container.fileName): no --source given and the file carries no float copy (convert with --with-reference)"
                )
                throw QPackExit.usage
            }
            checkpoint = FloatReference(container: container)
        }
        let decoder =
            container.manifest["model"]?["architecture"]?.string.flatMap(ModelArchitecture.labelled)?.isDecoder == true
        // A threshold of the other kind of model would never be checked: a CI gate that always passes.
        if decoder, minCosine != nil {
            printError("\(container.fileName): --min-cosine applies to encoders; this is a decoder (use --max-kl)")
            throw QPackExit.usage
        }
        if !decoder, maxKl != nil {
            printError("\(container.fileName): --max-kl applies to decoders; this is an encoder (use --min-cosine)")
            throw QPackExit.usage
        }
        if decoder {
            try verifyDecoder(container, checkpoint, texts)
            return
        }
        let report: VerifyReport
        do {
            if let why = ModelDescription(container: container).notRunnableReason {
                throw RuntimeModel.LoadError(description: why)
            }
            // Token ids need no tokenizer: the vocabulary is read only for text samples.
            var tokenizer: WordPieceTokenizer?
            if !texts.isEmpty {
                let vocab: [UInt8]
                do { vocab = try container.sectionBytes("tokenizer.vocab") } catch {
                    throw fail(error, context: "\(container.fileName): no WordPiece vocabulary in the container")
                }
                do { tokenizer = try WordPieceTokenizer(vocab: vocab) } catch {
                    throw fail(error, context: container.fileName)
                }
            }
            let packed = try RuntimeModel(path: container.path, options: threading.modelOptions)
            let reference = try checkpoint.model(threads: threading.count)
            let positions = packed.maxPositions
            let samples =
                texts.map { t in
                    (text: t, ids: (tokenizer?.encode(t) ?? []).prefix(positions).map(Int32.init))
                }
                + idSamples.map { (text: $0.text, ids: Array($0.ids.prefix(positions))) }
            let vocabulary = packed.vocabularySize
            for s in samples where s.ids.contains(where: { Int($0) >= vocabulary }) {
                printError("\(s.text): token id outside the vocabulary of \(vocabulary)")
                throw QPackExit.usage
            }
            var r = try Verifier.verifyEncoder(
                container: container, reference: reference, packed: packed, samples: samples)
            do { r.layoutChecks = try LayoutCheck.run(container, reference: checkpoint) } catch {
                throw fail(error, context: "layout check")
            }
            report = r
        } catch let e as RuntimeModel.LoadError {
            throw fail(e)
        } catch let e as Verifier.Failure {
            throw fail(e)
        }
        try writeOutput(report.outputs)
        if json {
            print(try ReportOutput.json(report))
        } else {
            print(Self.render(report, file: file))
        }
        let failedLayouts = report.layoutChecks.filter { $0.violations > 0 }
        if !failedLayouts.isEmpty {
            for f in failedLayouts {
                printError(
                    "\(file): tensor '\(f.tensor)' (\(f.scheme)): \(f.violations) values outside the scheme's bound of the source"
                )
            }
            throw QPackExit.verificationFailed
        }
        try ReportOutput.requireFinite(
            file: file, what: "embedding values",
            samples: report.samples.map { ($0.text, $0.nonFiniteFloat, $0.nonFinitePacked) })
        if let minCosine, !(report.minimumCosine >= minCosine) {
            let worst = report.layers.first.map { " (worst layer: \($0.name), \($0.scheme), rule '\($0.rule)')" } ?? ""
            printError(
                "\(file): cosine \(String(format: "%.4f", report.minimumCosine)) is below --min-cosine \(minCosine)\(worst)"
            )
            throw QPackExit.verificationFailed
        }
    }

    /// Samples given as ids, shown as "ids: 1,2,3".
    var idSamples: [(text: String, ids: [Int32])] {
        ids.map { list in
            ("ids: " + list, list.split(separator: ",").map { Int32($0.trimmingCharacters(in: .whitespaces))! })
        }
    }

    func writeOutput(_ tensors: [OutputTensor]) throws {
        guard let output else { return }
        try OutputPolicy.write([UInt8](SafetensorsWriter.data(tensors)), to: output, force: force)
    }

    func verifyDecoder(_ container: ContainerFile, _ checkpoint: FloatReference, _ texts: [String]) throws {
        var report: DecoderReport
        do {
            if let why = ModelDescription(container: container).notRunnableReason {
                throw RuntimeModel.LoadError(description: why)
            }
            // Token ids need no tokenizer: it is read only for text samples (or when present).
            let tokenizer =
                texts.isEmpty
                ? try? DecoderVerifier.tokenizer(from: container) : try DecoderVerifier.tokenizer(from: container)
            if !texts.isEmpty { try DecoderVerifier.checkEncodesText(ModelDescription(container: container)) }
            let packed = try RuntimeModel(path: container.path, options: threading.modelOptions)
            let reference = try checkpoint.model(threads: threading.count)
            let positions = packed.maxPositions, vocabulary = packed.vocabularySize
            let samples =
                texts.map { t in
                    (
                        text: t,
                        ids: Array(
                            (tokenizer?.encode(t, special: true) ?? []).map(Int32.init).prefix(positions))
                    )
                }
                + idSamples.map { (text: $0.text, ids: Array($0.ids.prefix(positions))) }
            for s in samples where s.ids.contains(where: { Int($0) >= vocabulary }) {
                printError("\(s.text): token id outside the vocabulary of \(vocabulary)")
                throw QPackExit.usage
            }
            report = try DecoderVerifier.verify(
                container: container, reference: reference, packed: packed, tokenizer: tokenizer,
                samples: samples, continuation: max(0, min(continuation, 64)))
            report.layoutChecks = try LayoutCheck.run(container, reference: checkpoint)
        } catch let exit as ExitCode {
            throw exit  // already reported (a usage error such as an id outside the vocabulary)
        } catch {
            throw fail(error)
        }
        try writeOutput(report.outputs)
        if json {
            print(try ReportOutput.json(report))
        } else {
            var out = "\(file): \(report.architecture), \(report.samples.count) samples\n"
            out +=
                "  mean KL \(String(format: "%.4f", report.meanKL)), top-1 agreement \(String(format: "%.1f%%", 100 * report.top1Agreement))\n"
            let failed = report.layoutChecks.filter { $0.violations > 0 }.count
            out +=
                "  layout checks: \(report.layoutChecks.count) tensors, "
                + (failed == 0 ? "all within their scheme's bound\n" : "\(failed) outside it\n")
            for s in report.samples {
                out += "\nSample (\(s.tokens) tokens): \(s.text)\n"
                out +=
                    "  KL mean \(String(format: "%.4f", s.meanKL)) max \(String(format: "%.4f", s.maxKL)), top-1 \(String(format: "%.0f%%", 100 * s.top1Agreement)), "
                out +=
                    "perplexity float \(String(format: "%.2f", s.perplexityFloat)) packed \(String(format: "%.2f", s.perplexityPacked))\n"
                out +=
                    "  float:  \(s.continuationFloat.debugDescription)\n  packed: \(s.continuationPacked.debugDescription)\n"
            }
            out += "\nLayers, worst first (packed linear vs float linear on the same input):\n"
            // As wide as the longest name: Hugging Face names overran a fixed column.
            let width = max(24, (report.layers.map(\.name.count).max() ?? 0) + 2)
            out +=
                "  " + "LAYER".padding(width) + "SCHEME".padding(12) + "RUN AS".padding(29) + "REL RMSE".leftPad(9)
                + "SNR dB".leftPad(8) + "  RULE\n"
            for l in report.layers {
                out +=
                    "  " + l.name.padding(width) + l.scheme.padding(12) + l.execution.padding(29)
                    + String(format: "%9.5f", l.relativeRMSE) + String(format: "%8.2f", l.snrDB) + "  " + l.rule + "\n"
            }
            print(out)
        }
        if let f = report.layoutChecks.first(where: { $0.violations > 0 }) {
            printError(
                "\(file): tensor '\(f.tensor)' (\(f.scheme)): \(f.violations) values outside the scheme's bound of the source"
            )
            throw QPackExit.verificationFailed
        }
        try ReportOutput.requireFinite(
            file: file, what: "logits", samples: report.samples.map { ($0.text, $0.nonFiniteFloat, $0.nonFinitePacked) }
        )
        if let maxKl, let worst = report.samples.max(by: { $0.meanKL < $1.meanKL }), !(worst.meanKL <= maxKl) {
            let layer = report.layers.first.map { " (worst layer: \($0.name), \($0.scheme), rule '\($0.rule)')" } ?? ""
            printError(
                "\(file): mean KL \(String(format: "%.4f", worst.meanKL)) on \"\(worst.text)\" is above --max-kl \(maxKl)\(layer)"
            )
            throw QPackExit.verificationFailed
        }
    }

    static func render(_ r: VerifyReport, file: String) -> String {
        var out = "\(file): \(r.architecture), \(r.samples.count) samples\n"
        out +=
            "  mean cosine \(String(format: "%.5f", r.meanCosine)), min \(String(format: "%.5f", r.minimumCosine))\n\n"
        out += "Samples (cosine of pooled embeddings, packed vs float):\n"
        for s in r.samples {
            var text = s.text.replacingOccurrences(of: "\t", with: " ")
            if text.count > 56 { text = String(text.prefix(55)) + "…" }
            out += "  " + String(format: "%.5f", s.cosine) + "  " + String(s.tokens).leftPad(4) + " tok  " + text + "\n"
        }
        let failed = r.layoutChecks.filter { $0.violations > 0 }.count
        out +=
            "  layout checks: \(r.layoutChecks.count) tensors unpacked and compared with the source, "
            + (failed == 0 ? "all within their scheme's bound\n" : "\(failed) outside it\n")
        out += "\nLayers, worst first (packed linear vs float linear on the same input):\n"
        out +=
            "  " + "LAYER".padding(40) + "SCHEME".padding(9) + "RUN AS".padding(28) + "REL RMSE".leftPad(9)
            + "SNR dB".leftPad(8) + "  RULE\n"
        for l in r.layers {
            out +=
                "  " + Units.elide(l.name, to: 40).padding(40) + l.scheme.padding(9) + l.execution.padding(28)
                + String(format: "%9.5f", l.relativeRMSE)
                + String(format: "%8.2f", l.snrDB) + "  " + l.rule + "\n"
        }
        return out
    }
}
