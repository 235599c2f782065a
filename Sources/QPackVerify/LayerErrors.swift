import CQPackRuntime
import Foundation
import QPackContainer

/// Per-linear errors of a packed run: each packed linear's output against the float
/// reference's same linear on the same input, summed over every row the observer sees.
final class LayerErrors {
    private let reference: RuntimeModel
    private var sums: [Int: (err: Double, sig: Double, dot: Double, val: Double)] = [:]

    init(reference: RuntimeModel) { self.reference = reference }

    /// The observer to run the packed model with.
    var observer: RuntimeModel.Observer {
        { [self] index, rows, input, output in observe(index, rows, input, output) }
    }

    private func observe(_ index: Int, _ rows: Int, _ input: UnsafePointer<Float>, _ output: UnsafePointer<Float>) {
        var l = reference.linear(index)
        var ref = [Float](repeating: 0, count: rows * l.n)
        _ = ref.withUnsafeMutableBufferPointer { qp_linear_forward(&l, rows, input, $0.baseAddress) }
        var s = sums[index] ?? (0, 0, 0, 0)
        for i in 0..<(rows * l.n) {
            let r = Double(ref[i]), v = Double(output[i])
            s.err += (v - r) * (v - r)
            s.sig += r * r
            s.dot += r * v
            s.val += v * v
        }
        sums[index] = s
    }

    /// One row per linear seen, named by its weight tensor without `.weight`, worst first.
    func report(_ container: ContainerFile) -> [VerifyReport.Layer] {
        sums.map { index, s in
            let weight = reference.linearWeightNames[index]
            let t = container.tensor(named: weight)
            return VerifyReport.Layer(
                name: weight.hasSuffix(".weight") ? String(weight.dropLast(".weight".count)) : weight,
                scheme: t?.scheme.name ?? "?", rule: t?.rule ?? "?", execution: t?.execution ?? "?",
                relativeRMSE: s.sig > 0 ? (s.err / s.sig).squareRoot() : 0,
                snrDB: s.err == 0 ? 999 : 10 * log10(s.sig / s.err),
                cosine: s.sig > 0 && s.val > 0 ? s.dot / (s.sig.squareRoot() * s.val.squareRoot()) : 1)
        }.sorted { ($0.relativeRMSE, $0.name) > ($1.relativeRMSE, $1.name) }
    }
}
