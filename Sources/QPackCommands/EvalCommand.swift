import ArgumentParser
import Foundation
import QPackCalibrate
import QPackCalibration
import QPackContainer
import QPackConvert
import QPackReaders
import QPackVerify

struct EvalCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "eval",
        abstract: "Measure a packed model against its float model over a data set.",
        discussion: """
            Decoders: perplexity of the data under the float and the packed model, mean KL divergence \
            of the next-token distributions (float ‖ packed) over every position, and top-1 agreement. \
            Encoders: mean and minimum cosine of the pooled embeddings. The default data is \
            licenses:evaluation, the evaluation half of the license texts Debian's base-files \
            installs (never overlapping licenses:calibration).
            """
    )

    @Argument(help: "The .qpack file.")
    var file: String

    @Option(
        help: ArgumentHelp(
            "Source checkpoint for the float model (optional when the file carries a float copy).", valueName: "model"))
    var source: String?

    @Option(help: ArgumentHelp("Evaluation data: a file or licenses:evaluation.", valueName: "data"))
    var dataset: String = "licenses:evaluation"

    @OptionGroup var samples: SampleOptions

    @OptionGroup var threading: ThreadOptions

    @Flag(help: "Print JSON.")
    var json = false

    @Flag(name: .shortAndLong, help: "No progress.")
    var quiet = false

    func run() throws {
        let container: ContainerFile
        do { container = try ContainerFile(path: file) } catch {
            throw fail(error)
        }
        let float: ModelRunner
        if let source {
            float = try floatRunner(source: source, threads: threading.count)
        } else {
            guard FloatReference.containerCarriesReference(container) else {
                printError(
                    "\(container.fileName): no --source given and the file carries no float copy (convert with --with-reference)"
                )
                throw QPackExit.usage
            }
            do {
                float = try ModelRunner.float(
                    description: ModelDescription(container: container),
                    reference: FloatReference(container: container),
                    threads: threading.count)
            } catch {
                throw fail(error)
            }
        }
        let packed: ModelRunner
        do { packed = try ModelRunner.packed(container, threads: threading.count) } catch {
            throw fail(error)
        }
        guard packed.architecture == float.architecture else {
            printError("\(file): a \(packed.architecture) model, but the source is \(float.architecture)")
            throw QPackExit.usage
        }
        let data = try samples.load(dataset)
        var report: EvaluationReport
        let bar = ProgressBar(label: "evaluating", quiet: quiet)
        do {
            let sequences = try Calibrator.sequences(data, runner: float, options: samples.calibratorOptions)
            report = try Evaluator.compare(float: float, packed: packed, sequences: sequences) {
                bar.update(done: $0, total: $1, item: "sample \($0)")
            }
            bar.finish()
        } catch {
            bar.finish()
            throw fail(error)
        }
        report.bitsPerWeight = Self.bitsPerWeight(container)
        if json {
            print(try ReportOutput.json(report))
            try requireFinite(report)
            return
        }
        let bpw = Self.bitsPerWeight(container)
        var out =
            "\(file): \(report.architecture), \(String(format: "%.2f", bpw)) bits per weight; \(report.samples) samples of \(dataset), \(report.positions) positions\n"
        if let kl = report.meanKL {
            out += String(
                format: "  mean KL %.4f (worst sample %.4f), top-1 agreement %.1f%%\n", kl, report.maxSampleKL ?? 0,
                100 * (report.top1Agreement ?? 0))
            out += String(
                format: "  perplexity: float %.3f, packed %.3f\n", report.perplexityFloat ?? 0,
                report.perplexityPacked ?? 0)
        } else {
            out += String(
                format: "  cosine of pooled embeddings: mean %.5f, min %.5f\n", report.meanCosine ?? 0,
                report.minimumCosine ?? 0)
        }
        print(out, terminator: "")
        try requireFinite(report)
    }

    /// NaN or infinite outputs make every number above meaningless: exit 1 saying which model.
    func requireFinite(_ report: EvaluationReport) throws(ExitCode) {
        try ReportOutput.requireFinite(
            file: file, what: "outputs", samples: [(dataset, report.nonFiniteFloat, report.nonFinitePacked)])
    }

    /// Stored tensor bits over all parameters of the file.
    static func bitsPerWeight(_ c: ContainerFile) -> Double {
        var bits = 0, params = 0
        for t in c.tensors {
            bits += 8 * (c.sections.first { $0.name == t.section }?.length ?? 0)
            params += t.elementCount
        }
        return params == 0 ? 0 : Double(bits) / Double(params)
    }
}
