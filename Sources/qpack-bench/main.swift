// Benchmarks that need the Swift side (not tests). Results go to docs/performance.md.
//   swift run -c release qpack-bench bert MODEL.qpack SOURCE [SENTENCES.txt]
//   swift run -c release qpack-bench llama MODEL.qpack SOURCE [PROMPT] [TOKENS]
import CQPackRuntime
import Foundation
import QPackContainer
import QPackReaders
import QPackTokenizers
import QPackVerify

func seconds(_ body: () -> Void) -> Double {
    let t0 = DispatchTime.now().uptimeNanoseconds
    body()
    return Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e9
}

func bert(_ args: [String]) throws {
    let file = try ContainerFile(path: args[2])
    let reference = try FloatReference(checkpoint: Checkpoint.open(path: args[3]), path: args[3]).model()
    let packed = try RuntimeModel(path: args[2])
    let tokenizer = try WordPieceTokenizer(vocab: try file.sectionBytes("tokenizer.vocab"))
    let texts =
        args.count > 4
        ? try String(contentsOfFile: args[4], encoding: .utf8).split(separator: "\n").map(String.init)
        : ["A man is eating food.", "The quick brown fox jumps over the lazy dog!"]
    let samples = texts.filter { !$0.isEmpty }.map { tokenizer.encode($0).map(Int32.init) }
    let tokens = samples.reduce(0) { $0 + $1.count }
    for (name, model) in [("float (f32 weights)", reference), ("packed (default rules)", packed)] {
        let rounds = 5
        let t = seconds { for _ in 0..<rounds { for ids in samples { _ = model.forward(ids) } } }
        let n = Double(rounds * samples.count)
        print(
            String(
                format: "| %@ | %.1f sentences/s | %.0f tokens/s | %.2f ms/sentence |", name, n / t,
                Double(rounds * tokens) / t, 1000 * t / n))
    }
}

/// Prompt processing (prefill) and greedy decoding through the KV cache, float vs packed.
func llama(_ args: [String]) throws {
    let file = try ContainerFile(path: args[2])
    let reference = try FloatReference(checkpoint: Checkpoint.open(path: args[3]), path: args[3]).model()
    let packed = try RuntimeModel(path: args[2])
    let tokenizer = try DecoderVerifier.tokenizer(from: file)
    let prompt = tokenizer.encode(args.count > 4 ? args[4] : "The capital of France is").map(Int32.init)
    let steps = args.count > 5 ? Int(args[5]) ?? 32 : 32
    for (name, model) in [("float (f32 weights)", reference), ("packed (default rules)", packed)] {
        let rounds = 3
        let prefill = seconds { for _ in 0..<rounds { _ = model.logits(prompt) } } / Double(rounds)
        var generated: [Int32] = []
        let total = seconds { for _ in 0..<rounds { generated = model.greedy(prompt, steps: steps) } } / Double(rounds)
        let decode = max(total - prefill, 1e-9)
        print(
            String(
                format: "| %@ | %d | %.1f tokens/s | %d | %.1f tokens/s |", name, prompt.count,
                Double(prompt.count) / prefill,
                generated.count, Double(generated.count - 1) / decode))
    }
}

let args = CommandLine.arguments
switch args.count >= 4 ? args[1] : "" {
case "bert": try bert(args)
case "llama": try llama(args)
default:
    FileHandle.standardError.write(
        Data(
            "usage: qpack-bench bert MODEL.qpack SOURCE [SENTENCES.txt] | llama MODEL.qpack SOURCE [PROMPT] [TOKENS]\n"
                .utf8))
    exit(64)
}
