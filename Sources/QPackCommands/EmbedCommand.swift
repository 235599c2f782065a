import ArgumentParser
import CQPackRuntime
import Foundation
import QPackBinary
import QPackContainer
import QPackTokenizers
import QPackVerify

struct EmbedCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "embed",
        abstract: "Print sentence embeddings of an encoder .qpack, through the C runtime a device app embeds.",
        discussion: """
            Each text is tokenized with the file's WordPiece vocabulary, run through the encoder, \
            mean-pooled and L2-normalised as sentence-transformers does. Text output: one line per \
            text, the floats separated by spaces; --json: {"embeddings": [{"text", "tokens", \
            "embedding"}]}. Values print as the shortest text that reads back to the same float32.
            """
    )

    @Argument(help: "The .qpack file (an encoder).")
    var file: String

    @Argument(help: "One or more texts.")
    var texts: [String]

    @Flag(help: "Print JSON.")
    var json = false

    @OptionGroup var threading: ThreadOptions

    func validate() throws {
        guard !texts.isEmpty else { throw ValidationError("give at least one text") }
    }

    func run() throws {
        let model = try RuntimeModel.open(path: file, threads: threading.count)
        try model.require(QP_MODEL_ENCODER, file: file)
        let tokenizer: WordPieceTokenizer
        do {
            let container = try ContainerFile(path: file)
            let vocab = try container.sectionBytes("tokenizer.vocab")
            tokenizer = try WordPieceTokenizer(vocab: vocab)
        } catch { throw fail(error, context: "\(file): its WordPiece vocabulary") }
        let hidden = Int(model.description.hidden), positions = Int(model.description.max_positions)
        var rows: [(text: String, tokens: Int, values: [Float])] = []
        for text in texts {
            let ids = tokenizer.encode(text).prefix(positions).map(Int32.init)
            var pooled = [Float](repeating: 0, count: hidden)
            let status = qp_model_embed(model.pointer, ids, ids.count, &pooled)
            guard status == QP_OK else {
                printError("\(file): \"\(text)\": \(String(cString: qp_status_string(status)))")
                throw QPackExit.malformedInput
            }
            rows.append((text, ids.count, pooled))
        }
        if json {
            let doc = JSONOut.object([
                (
                    "embeddings",
                    .array(
                        rows.map { r in
                            .object([
                                ("text", .string(r.text)), ("tokens", .int(r.tokens)),
                                ("embedding", .array(r.values.map { .float($0) })),
                            ])
                        })
                )
            ])
            print(doc.text())
        } else {
            for r in rows { print(r.values.map { "\($0)" }.joined(separator: " ")) }
        }
    }
}
