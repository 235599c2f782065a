import ArgumentParser
import Foundation
import QPackCalibrate
import QPackCalibration
import QPackContainer
import QPackConvert
import QPackReaders
import QPackVerify

/// Which samples to run: a file (text, JSON lines, token ids) or a split of the Debian license
/// corpus, how many, how long, which shuffle.
struct SampleOptions: ParsableArguments {
    @Option(name: .customLong("samples"), help: "Samples to use (picked by a seeded shuffle).")
    var sampleCount: Int = 32

    @Option(name: .customLong("seq-len"), help: "Tokens per sample at most.")
    var sequenceLength: Int = 128

    @Option(help: "Seed of the shuffle that picks the samples.")
    var seed: UInt64 = 0

    @Option(
        name: .customLong("data-format"),
        help: ArgumentHelp(
            "text (one sample per line), jsonl (a 'text' field) or ids (token ids per line); default from the file name.",
            valueName: "format"))
    var dataFormat: CalibrationData.Format?

    func validate() throws {
        guard sampleCount >= 1 && sampleCount <= 1 << 20 else {
            throw ValidationError("--samples must be between 1 and 1048576")
        }
        guard sequenceLength >= 1 && sequenceLength <= 1 << 16 else {
            throw ValidationError("--seq-len must be between 1 and 65536")
        }
    }

    var calibratorOptions: Calibrator.Options {
        Calibrator.Options(samples: sampleCount, sequenceLength: sequenceLength, seed: seed)
    }

    /// The samples of `spec`: `licenses:calibration`, `licenses:evaluation`, or a file.
    func load(_ spec: String) throws -> [CalibrationSample] {
        do {
            if let split = LicenseCorpus.split(named: spec) {
                return try LicenseCorpus.paragraphs(split).map { .text($0) }
            }
            if spec.hasPrefix("licenses:") {
                throw CalibrationData.LoadError(
                    description: "\(spec): the license corpus has the splits calibration and evaluation")
            }
            return try CalibrationData.load(
                path: spec, format: dataFormat)
        } catch {
            throw fail(error)
        }
    }
}

/// The float model of a source checkpoint, with its tokenizer; its linears split among `threads`.
func floatRunner(source: String, threads: Int = 1) throws -> ModelRunner {
    let path = try modelFile(source)
    let checkpoint: Checkpoint
    do { checkpoint = try Checkpoint.open(path: path) } catch {
        throw fail(error)
    }
    do {
        let description = try ModelDescription.source(checkpoint, path: path)
        return try ModelRunner.float(
            description: description, reference: FloatReference(checkpoint: checkpoint, path: path), threads: threads)
    } catch {
        throw fail(error)
    }
}

/// Calibrates `runner` over the samples of `spec`, with a progress bar.
func runCalibration(_ runner: ModelRunner, spec: String, samples: SampleOptions, quiet: Bool) throws -> CalibrationStats
{
    let data = try samples.load(spec)
    let bar = ProgressBar(label: "calibrating", quiet: quiet)
    defer { bar.finish() }
    do {
        let sequences = try Calibrator.sequences(data, runner: runner, options: samples.calibratorOptions)
        let name = spec.hasPrefix("licenses:") ? spec : (spec.split(separator: "/").last.map(String.init) ?? spec)
        let stats = try Calibrator.calibrate(
            runner, sequences: sequences, source: name, options: samples.calibratorOptions
        ) { done, total in
            bar.update(done: done, total: total, item: "sample \(done)")
        }
        // Ranges from a model that produced only NaN or infinities would be meaningless.
        if let dead = stats.linears.first(where: { $0.rows > 0 && !($0.minimum <= $0.maximum) }) {
            printError(
                "\(spec): the float model gave '\(dead.tensor)' no finite input on this data "
                    + "(it diverges: check the model's hyperparameters); nothing calibrated")
            throw QPackExit.malformedInput
        }
        return stats
    } catch let exit as ExitCode {
        throw exit
    } catch {
        throw fail(error, context: spec)
    }
}

/// Reads and merges `.qcal` files.
func readCalibrationStats(_ paths: [String]) throws -> CalibrationStats {
    var files: [(name: String, stats: CalibrationStats)] = []
    for p in paths {
        do { files.append((p, try CalibrationStats.read(path: p))) } catch {
            throw fail(error)
        }
    }
    if files.count == 1 { return files[0].stats }
    do { return try CalibrationStats.merged(files) } catch {
        throw fail(error)
    }
}
