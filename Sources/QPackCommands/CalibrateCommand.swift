import ArgumentParser
import Foundation
import QPackCalibrate
import QPackCalibration

struct CalibrateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "calibrate",
        abstract: "Run the float model over calibration data and save what every linear layer sees (.qcal).",
        discussion: """
            The bundled runtime runs the float model of MODEL over the samples and records, for the \
            input of every linear layer, its range, a histogram (for the static range observers) and \
            the mean square of each input channel (the importance matrix). The .qcal file \
            (Formats/qpack-calibration.md) records the digest of the token ids it saw; several files \
            of the same model merge with --merge. `qpack convert --calibration-stats` reuses them.
            DATA is a text file (one sample per line), JSON lines with a 'text' field, token ids \
            (one sample per line), or licenses:calibration / licenses:evaluation (the license texts \
            of Debian's base-files, split so the two never share a paragraph).
            """
    )

    @Argument(help: "Source checkpoint (with --calibration), or .qcal files (with --merge).")
    var inputs: [String] = []

    @Option(help: ArgumentHelp("Calibration data.", valueName: "data"))
    var calibration: String?

    @Flag(help: "Merge the .qcal files given as arguments instead of calibrating.")
    var merge = false

    @OptionGroup var samples: SampleOptions

    @OptionGroup var threading: ThreadOptions

    @Option(name: [.customShort("o"), .long], help: ArgumentHelp("Output .qcal file.", valueName: "file"))
    var output: String

    @Flag(help: "Replace an existing output file.")
    var force = false

    @Flag(name: .shortAndLong, help: "No progress and no summary.")
    var quiet = false

    func validate() throws {
        if merge {
            guard inputs.count >= 2, calibration == nil else {
                throw ValidationError("--merge takes two or more .qcal files and no --calibration")
            }
        } else {
            guard inputs.count == 1, calibration != nil else {
                throw ValidationError("give one MODEL and --calibration DATA (or --merge A.qcal B.qcal ...)")
            }
        }
    }

    func run() throws {
        let sources = merge ? inputs : OutputPolicy.companions(of: try modelFile(inputs[0]))
        try OutputPolicy.check(output, force: force, inputs: sources + [calibration].compactMap { $0 })
        let stats: CalibrationStats
        if merge {
            stats = try readCalibrationStats(inputs)
        } else {
            let runner = try floatRunner(source: inputs[0], threads: threading.count)
            stats = try runCalibration(runner, spec: calibration!, samples: samples, quiet: quiet)
        }
        try OutputPolicy.write(stats.bytes(), to: output, force: force)
        guard !quiet else { return }
        let tokens = stats.data.reduce(0) { $0 + $1.tokens }
        print(
            "wrote \(output): \(stats.linears.count) linear inputs, \(stats.data.count) data set(s), \(tokens) tokens")
        for d in stats.data {
            print("  \(d.sha256.prefix(16))…  \(d.samples) samples, \(d.tokens) tokens  \(d.source)")
        }
    }
}
