import ArgumentParser
import Foundation
import QPackBinary
import QPackCalibration
import QPackInspect
import QPackContainer
import QPackReaders

struct InspectCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "inspect",
        abstract: "Show what a safetensors file, sharded index, GGUF file, .qpack or .qcal holds.",
        discussion: """
            Prints a summary (format, version, tensor and parameter counts, bytes, a histogram of \
            tensor types, the architecture and its sizes, the tokenizer) and a table of tensors. \
            The file is validated completely and mapped, not read into memory.

            Examples:
              qpack inspect model.safetensors
              qpack inspect SmolLM2.gguf --filter 'blk.0.*'
              qpack inspect model.gguf --tensor token_embd.weight --stats
              qpack inspect model.safetensors.index.json --json
            """
    )

    @Argument(
        help: "Checkpoints (.safetensors, .safetensors.index.json, .gguf, a model directory), .qpack or .qcal files.")
    var files: [String]

    @Flag(help: "Print JSON (schema qpack-inspect/1, see docs/cli.md) instead of text.")
    var json = false

    @Option(
        name: .customLong("filter"),
        help: ArgumentHelp("List only tensors whose name matches this glob (repeatable).", valueName: "glob"))
    var filters: [String] = []

    @Option(help: ArgumentHelp("Show only this tensor (exact name; repeatable).", valueName: "name"))
    var tensor: [String] = []

    @Flag(help: "Compute statistics (min, max, mean, std, absmax, zeros, NaN, Inf, histogram) of the listed tensors.")
    var stats = false

    @Option(help: "Histogram bins for --stats.")
    var bins = 16

    @Flag(help: "Leave the metadata listing out of the text output.")
    var noMetadata = false

    @Flag(help: "Do not shorten long tensor names to fit 80 columns.")
    var wide = false

    @Flag(help: "For .qpack files: unpack and dequantize the listed tensors and show their statistics.")
    var dequant = false

    @Option(
        help: ArgumentHelp(
            "For .qpack files with --dequant: the source checkpoint to compare with (RMSE, max error, SNR).",
            valueName: "model"))
    var source: String?

    func validate() throws {
        guard !files.isEmpty else { throw ValidationError("give at least one file to inspect") }
        guard (1...1024).contains(bins) else { throw ValidationError("--bins must be between 1 and 1024") }
    }

    func run() throws {
        var outputs: [InspectOutput] = []
        for path in files {
            if Self.isContainer(path) {
                outputs.append(.container(try inspectContainer(path)))
                continue
            }
            if Self.isCalibration(path) {
                do {
                    outputs.append(
                        .calibration(CalibrationReport(path: path, stats: try CalibrationStats.read(path: path))))
                } catch { throw fail(error) }
                continue
            }
            do {
                let path = try Checkpoint.modelPath(path)
                let checkpoint = try Checkpoint.open(path: path)
                var options = InspectReport.Options()
                options.filters = filters.map(NameGlob.init)
                options.statistics = stats
                options.histogramBins = bins
                var report = try InspectReport.build(path: path, checkpoint: checkpoint, options: options)
                if !tensor.isEmpty {
                    let missing = tensor.filter { name in !report.tensors.contains { $0.name == name } }
                    if !missing.isEmpty {
                        printError("\(path): no tensor named \(missing.map { "'\($0)'" }.joined(separator: ", "))")
                        throw QPackExit.usage
                    }
                    report.tensors = report.tensors.filter { tensor.contains($0.name) }
                }
                outputs.append(.checkpoint(report))
            } catch let error as ReaderError {
                throw fail(error)
            }
        }
        if json {
            print(try InspectJSON.encode(outputs))
        } else {
            let renderer = InspectTextRenderer(width: wide ? Int.max : 80, showMetadata: !noMetadata)
            print(
                outputs.map { o in
                    switch o {
                    case let .checkpoint(r): return renderer.render(r)
                    case let .container(r): return renderer.render(r)
                    case let .calibration(r): return r.text(width: wide ? Int.max : 160)
                    }
                }.joined(separator: "\n"), terminator: "")
        }
    }

    /// `.qpack` by name, or by its magic for other names.
    static func isContainer(_ path: String) -> Bool {
        if path.lowercased().hasSuffix(".qpack") { return true }
        guard let h = FileHandle(forReadingAtPath: path) else { return false }
        defer { try? h.close() }
        return (try? h.read(upToCount: 8)).map { Array($0) == ContainerFormat.magic } ?? false
    }

    /// `.qcal` by name, or by its format member for other names.
    static func isCalibration(_ path: String) -> Bool {
        if path.lowercased().hasSuffix(".qcal") { return true }
        guard let h = FileHandle(forReadingAtPath: path) else { return false }
        defer { try? h.close() }
        guard let head = try? h.read(upToCount: 256) else { return false }
        let text = String(decoding: head, as: UTF8.self)
        return text.hasPrefix("{") && text.contains(CalibrationStats.format)
    }

    func inspectContainer(_ path: String) throws -> ContainerReport {
        do {
            let file = try ContainerFile(path: path)
            // Every section's SHA-256, so a flipped byte anywhere is an error (65), not a summary.
            for s in file.sections { _ = try file.sectionBytes(s.name) }
            var options = ContainerReport.Options()
            options.filters = filters.map(NameGlob.init)
            options.dequantize = dequant || stats
            options.histogramBins = bins
            if let source {
                do { options.source = try Checkpoint.open(path: source) } catch {
                    throw fail(error)
                }
            }
            if !tensor.isEmpty {
                let missing = tensor.filter { name in !file.tensors.contains { $0.name == name } }
                if !missing.isEmpty {
                    printError("\(path): no tensor named \(missing.map { "'\($0)'" }.joined(separator: ", "))")
                    throw QPackExit.usage
                }
                // Exact names: escape glob characters so only these tensors are decoded.
                options.filters = tensor.map {
                    NameGlob(
                        $0.replacingOccurrences(of: "[", with: "[[]").replacingOccurrences(of: "*", with: "[*]")
                            .replacingOccurrences(of: "?", with: "[?]"))
                }
            }
            let report = try ContainerReport.build(path: path, file: file, options: options)
            return report
        } catch let error as ContainerError {
            throw fail(error)
        }
    }
}

enum InspectOutput: Encodable {
    case checkpoint(InspectReport)
    case container(ContainerReport)
    case calibration(CalibrationReport)

    func encode(to encoder: Encoder) throws {
        switch self {
        case let .checkpoint(r): try r.encode(to: encoder)
        case let .container(r): try r.encode(to: encoder)
        case let .calibration(r): try r.encode(to: encoder)
        }
    }
}

/// The JSON document `qpack inspect --json` prints: `{"schema": "qpack-inspect/1", "inputs": [...]}`.
enum InspectJSON {
    struct Document: Encodable {
        let schema = "qpack-inspect/1"
        let inputs: [InspectOutput]
    }

    static func encode(_ reports: [InspectOutput]) throws -> String {
        try ReportOutput.json(Document(inputs: reports))
    }
}
