import ArgumentParser
import CQPackRuntime
import Foundation
import QPackContainer
import QPackConvert
import QPackTokenizers
import QPackVerify

struct RunCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Generate text with a decoder .qpack, through the C runtime a device app embeds.",
        discussion: """
            The prompt runs in one step, then one token per step until --max-tokens or the \
            end-of-sequence token. Greedy unless a sampling option is given: --temperature (default 1 \
            when sampling), --top-k, --top-p, drawn from --seed (the same tokens for the same seed on \
            every machine). Prints only the continuation on stdout, streamed; time to first token \
            and tokens per second go to stderr (not with --quiet).
            """
    )

    @Argument(help: "The .qpack file (a decoder).")
    var file: String

    @Option(help: "The prompt text.")
    var prompt: String

    @Option(help: "Tokens to generate at most.")
    var maxTokens: Int = 64

    @Option(help: "Sampling temperature (> 0).")
    var temperature: Float?

    @Option(help: "Sample among the K most likely tokens.")
    var topK: Int?

    @Option(help: "Sample among the most likely tokens whose probability reaches P (0 < P <= 1).")
    var topP: Float?

    @Option(help: "Seed of the sampling.")
    var seed: UInt64 = 0

    @Flag(name: .shortAndLong, help: "No timing on stderr.")
    var quiet = false

    @OptionGroup var threading: ThreadOptions

    func validate() throws {
        guard maxTokens >= 1 else { throw ValidationError("--max-tokens must be at least 1") }
        if let t = temperature, !(t > 0 && t.isFinite) { throw ValidationError("--temperature must be positive") }
        if let k = topK, k < 1 { throw ValidationError("--top-k must be at least 1") }
        if let p = topP, !(p > 0 && p <= 1) { throw ValidationError("--top-p must be in (0, 1]") }
    }

    func run() throws {
        let model = try RuntimeModel.open(path: file, threads: threading.count)
        try model.require(QP_MODEL_DECODER, file: file)
        let container: ContainerFile
        let tokenizer: ByteLevelBPETokenizer
        do {
            container = try ContainerFile(path: file)
            try DecoderVerifier.checkEncodesText(ModelDescription(container: container))
            tokenizer = try DecoderVerifier.tokenizer(from: container)
        } catch { throw fail(error, context: file) }
        let d = model.description
        let ids = tokenizer.encode(prompt, special: true).map(Int32.init)
        guard !ids.isEmpty else {
            printError("\(file): the prompt is empty")
            throw QPackExit.usage
        }
        let stop = d.eos_token >= 0 ? [d.eos_token] : []
        let budget = min(maxTokens, max(0, Int(model.description.max_positions) - ids.count))
        guard budget > 0 else {
            printError(
                "\(file): the prompt (\(ids.count) tokens) fills the model's \(model.description.max_positions) positions"
            )
            throw QPackExit.usage
        }
        let sampled = temperature != nil || topK != nil || topP != nil
        var sampling = qp_sampling(
            temperature: sampled ? temperature ?? 1 : 0, top_k: topK ?? 0, top_p: topP ?? 0, seed: seed)
        let stream = Stream(tokenizer: tokenizer, stop: Set(stop))
        var out = [Int32](repeating: 0, count: budget)
        var generated = 0
        let status = withExtendedLifetime(stream) {
            qp_model_generate(
                model.pointer, ids, ids.count, &sampling, stop, stop.count, budget, &out, &generated,
                { context, token in
                    Unmanaged<Stream>.fromOpaque(context!).takeUnretainedValue().emit(token)
                    return 0
                }, Unmanaged.passUnretained(stream).toOpaque())
        }
        stream.finish()
        guard status == QP_OK else {
            printError("\(file): the runtime stopped: \(String(cString: qp_status_string(status)))")
            throw QPackExit.malformedInput
        }
        if !quiet, let first = stream.firstToken {
            let total = Date().timeIntervalSince(stream.start)
            let rest = generated > 1 ? Double(generated - 1) / max(total - first, 1e-9) : 0
            FileHandle.standardError.write(
                String(
                    format: "%d prompt tokens, %d generated; time to first token %.3f s, %.1f tokens/s after it\n",
                    ids.count, generated, first, rest
                ).data(using: .utf8)!)
        }
    }

    /// Prints the continuation as tokens arrive: the decoded bytes grow; what is new is printed
    /// once its last UTF-8 character is whole (a byte-level token can end inside one).
    final class Stream {
        let tokenizer: ByteLevelBPETokenizer
        let stop: Set<Int32>
        let start = Date()
        var firstToken: TimeInterval?
        var ids: [Int] = []
        var printed = 0

        init(tokenizer: ByteLevelBPETokenizer, stop: Set<Int32>) {
            self.tokenizer = tokenizer
            self.stop = stop
        }

        func emit(_ token: Int32) {
            if firstToken == nil { firstToken = Date().timeIntervalSince(start) }
            guard !stop.contains(token) else { return }
            ids.append(Int(token))
            flush(final: false)
        }

        func finish() { flush(final: true) }

        private func flush(final: Bool) {
            let bytes = tokenizer.decodeBytes(ids)
            var end = bytes.count
            if !final {  // hold back a trailing character whose bytes are not all there yet
                var lead = end
                while lead > printed, bytes[lead - 1] & 0xC0 == 0x80 { lead -= 1 }
                if lead > printed {
                    let b = bytes[lead - 1]
                    let length = b < 0x80 ? 1 : b >= 0xF0 ? 4 : b >= 0xE0 ? 3 : b >= 0xC0 ? 2 : 1
                    if end - (lead - 1) < length { end = lead - 1 }
                }
            }
            guard end > printed else { return }
            FileHandle.standardOutput.write(Data(bytes[printed..<end]))
            printed = end
        }
    }
}
