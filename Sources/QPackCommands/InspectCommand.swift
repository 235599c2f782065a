import ArgumentParser
import Foundation
import QPackBinary
import QPackInspect
import QPackReaders

struct InspectCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "inspect",
        abstract: "Show what a safetensors file, sharded index or GGUF file holds.",
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

    @Argument(help: "Checkpoint files: .safetensors, .safetensors.index.json or .gguf.")
    var files: [String]

    @Flag(help: "Print JSON (schema qpack-inspect/1, see docs/cli.md) instead of text.")
    var json = false

    @Option(name: .customLong("filter"), help: ArgumentHelp("List only tensors whose name matches this glob (repeatable).", valueName: "glob"))
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

    func validate() throws {
        guard !files.isEmpty else { throw ValidationError("give at least one file to inspect") }
        guard (1...1024).contains(bins) else { throw ValidationError("--bins must be between 1 and 1024") }
    }

    func run() throws {
        var reports: [InspectReport] = []
        for path in files {
            do {
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
                reports.append(report)
            } catch let error as ReaderError {
                printError(error.description)
                throw QPackExit.code(for: error)
            }
        }
        if json {
            print(try InspectJSON.encode(reports))
        } else {
            let renderer = InspectTextRenderer(width: wide ? Int.max : 80, showMetadata: !noMetadata)
            print(reports.map(renderer.render).joined(separator: "\n"), terminator: "")
        }
    }
}

/// The JSON document `qpack inspect --json` prints: `{"schema": "qpack-inspect/1", "inputs": [...]}`.
enum InspectJSON {
    struct Document: Encodable {
        let schema = "qpack-inspect/1"
        let inputs: [InspectReport]
    }

    static func encode(_ reports: [InspectReport]) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        encoder.keyEncodingStrategy = .convertToSnakeCase
        let data = try encoder.encode(Document(inputs: reports))
        return String(decoding: data, as: UTF8.self)
    }
}
