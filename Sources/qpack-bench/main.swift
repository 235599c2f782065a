// Benchmarks that need the Swift side (not tests). Results go to docs/performance.md.
//   swift run -c release qpack-bench bert MODEL.qpack SOURCE [SENTENCES.txt]
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

let args = CommandLine.arguments
guard args.count >= 4, args[1] == "bert" else {
    FileHandle.standardError.write(Data("usage: qpack-bench bert MODEL.qpack SOURCE [SENTENCES.txt]\n".utf8))
    exit(64)
}
let file = try ContainerFile(path: args[2])
let config = try BERTModel.config(from: file)
let reference = try BERTModel.float(from: Checkpoint.open(path: args[3]), config: config)
let packed = try BERTModel.packed(from: file, config: config)
let tokenizer = try WordPieceTokenizer(vocab: String(decoding: try file.sectionBytes("tokenizer.vocab"), as: UTF8.self))
let texts = args.count > 4 ? try String(contentsOfFile: args[4], encoding: .utf8).split(separator: "\n").map(String.init)
                           : ["A man is eating food.", "The quick brown fox jumps over the lazy dog!"]
let samples = texts.filter { !$0.isEmpty }.map { tokenizer.encode($0).map(Int32.init) }
let tokens = samples.reduce(0) { $0 + $1.count }
for (name, model) in [("float (f32 weights)", reference), ("packed (default rules)", packed)] {
    var m = model.model
    var out = [Float](repeating: 0, count: config.hidden)
    let rounds = 5
    let t = seconds {
        for _ in 0..<rounds {
            for ids in samples { _ = ids.withUnsafeBufferPointer { qp_bert_embed(&m, $0.baseAddress, $0.count, &out, nil, nil) } }
        }
    }
    let n = Double(rounds * samples.count)
    print(String(format: "| %@ | %.1f sentences/s | %.0f tokens/s | %.2f ms/sentence |", name, n / t, Double(rounds * tokens) / t, 1000 * t / n))
}
