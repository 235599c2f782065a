import ArgumentParser
import Foundation
import QPackBinary
import QPackCalibrate
import QPackCalibration
import QPackConvert
import QPackModel
import QPackPlanning
import QPackQuant
import QPackReaders
import QPackVerify

struct ConvertCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "convert",
        abstract: "Quantize and pack a checkpoint into a .qpack file for Arm CPUs.",
        discussion: """
            Plans the conversion (see `qpack plan`), then quantizes and packs every tensor in \
            KleidiAI's layouts for the target's kernels and writes a .qpack container \
            (Formats/qpack-container.md). The output appears only when complete: it is written to \
            an unnamed temporary file beside it, synced, and renamed into place; an existing \
            output is replaced only with --force. Same inputs and options, same bytes.
            """
    )

    @Argument(help: "Checkpoint: .safetensors, .safetensors.index.json or .gguf.")
    var model: String

    @Option(name: [.customShort("o"), .long], help: ArgumentHelp("Output .qpack file.", valueName: "file"))
    var output: String

    @OptionGroup var planning: PlanningOptions

    @Option(help: ArgumentHelp("Section compression: none or zstd.", valueName: "method"))
    var compress: SectionCompression = .none

    @Option(help: "Threads converting tensors (default: the number of cores). The output does not depend on it.")
    var jobs: Int = ProcessInfo.processInfo.activeProcessorCount

    @Option(
        help: ArgumentHelp("Override every rule's handling of NaN/Inf weights: error or zero.", valueName: "policy"))
    var nan: NonFinitePolicy?

    @Option(
        help: ArgumentHelp(
            "How the provenance identifies each input file: xxh64 (fast, as xxhsum prints it) or sha256 (as sha256sum and model hubs print it).",
            valueName: "algorithm"))
    var inputDigest: InputDigest = .xxh64

    @OptionGroup var calibrationUse: CalibrationUse

    @Flag(
        help:
            "Also store the source's float values of every tensor not kept as f32, so `qpack verify` runs without --source."
    )
    var withReference = false

    @Flag(help: "Replace an existing output file.")
    var force = false

    @Flag(name: .shortAndLong, help: "No progress and no summary.")
    var quiet = false

    func validate() throws {
        guard jobs >= 1 && jobs <= 256 else { throw ValidationError("--jobs must be between 1 and 256") }
    }

    func run() throws {
        // A file-size limit must surface as a write error (EFBIG), not kill the process.
        signal(SIGXFSZ, SIG_IGN)
        let started = DispatchTime.now()
        let model = try modelFile(self.model)
        let checkpoint: Checkpoint
        do { checkpoint = try Checkpoint.open(path: model) } catch {
            throw fail(error)
        }
        let inputs =
            checkpoint.filePaths.flatMap(OutputPolicy.companions)
            + [planning.rules, calibrationUse.calibration]
            .compactMap { $0 } + calibrationUse.calibrationStats
        try OutputPolicy.check(output, force: force, inputs: inputs)
        var options = ConvertOptions(
            target: planning.kernelTarget, compress: compress == .zstd, jobs: jobs, force: force)
        options.nonFinite = nan
        options.withReference = withReference
        options.inputDigest = inputDigest
        options.acceptance = { RuntimeModel.refusal(opening: $0) }
        let (plan, rules, prepared) = try calibrationUse.prepare(
            model: model, checkpoint: checkpoint, planning: planning, options: options, quiet: quiet)
        options = prepared
        let bar = ProgressBar(label: "converting", quiet: quiet)
        let result: ConvertResult
        do {
            result = try Converter.convert(
                checkpoint, path: model, plan: plan, rules: rules, output: output, options: options
            ) { done, total, name in
                bar.update(done: done, total: total, item: name)
            }
        } catch {
            bar.finish()
            throw fail(error)
        }
        bar.finish()
        guard !quiet else { return }
        let seconds = Double(DispatchTime.now().uptimeNanoseconds - started.uptimeNanoseconds) / 1e9
        print("wrote \(output)")
        for c in plan.coverage {
            print(
                "  " + c.scheme.padding(12) + String(c.tensors).leftPad(5) + " tensors"
                    + String(c.parameters).leftPad(12) + " params"
                    + String(format: "%7.2f bits/weight", c.bitsPerWeight))
        }
        let ratio = result.tensorBytes > 0 ? Double(result.storedTensorBytes) / Double(result.tensorBytes) : 1
        print(
            "  \(plan.entries.count) tensors, \(String(format: "%.2f", plan.bitsPerWeight)) bits per weight; file \(Units.bytes(result.fileBytes, exact: false))"
                + (options.compress ? String(format: " (zstd: %.1f%% of packed size)", ratio * 100) : "")
                + String(format: ", %.1f s", seconds))
        print("  content digest \(result.contentDigest)")
    }
}
