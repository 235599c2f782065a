import Foundation
import QPackCalibration

/// What `qpack inspect stats.qcal` shows: the data the statistics came from and, per linear
/// input, the observed range and the clip range each static observer would choose from it
/// (Formats/qpack-calibration.md), so a user can see what `--observer` would do before converting.
struct CalibrationReport: Encodable {
    struct DataSet: Encodable {
        let sha256, source: String
        let samples, tokens, sequenceLength: Int
        let seed: UInt64
    }

    struct Linear: Encodable {
        let tensor: String
        let channels: Int
        let rows: UInt64
        let min, max: Float
        /// Observer name -> [lo, hi].
        let ranges: [String: [Float]]
    }

    let kind = "calibration"
    let file: String
    let format: String
    let version: Int
    let architecture: String
    let data: [DataSet]
    let linears: [Linear]

    static let observers: [RangeObserver] = [.minmax, .percentile(RangeObserver.defaultPercentile), .entropy, .mse]

    init(path: String, stats: CalibrationStats) {
        file = path
        format = CalibrationStats.format
        version = CalibrationStats.version
        architecture = stats.architecture
        data = stats.data.map {
            DataSet(
                sha256: $0.sha256, source: $0.source, samples: $0.samples, tokens: $0.tokens,
                sequenceLength: $0.sequenceLength, seed: $0.seed)
        }
        linears = stats.linears.map { s in
            Linear(
                tensor: s.tensor, channels: s.channels, rows: s.rows, min: s.minimum, max: s.maximum,
                ranges: Dictionary(
                    uniqueKeysWithValues: Self.observers.map { o in
                        let r = o.range(s)
                        return (o.description, [r.lo, r.hi])
                    }))
        }
    }

    func text(width: Int) -> String {
        var out = "\(file)\n"
        out += "  format        \(format) v\(version), architecture \(architecture)\n"
        out += "  linears       \(linears.count) inputs observed\n"
        for d in data {
            out +=
                "  data          \(d.source): \(d.samples) samples, \(d.tokens) tokens, sequence length \(d.sequenceLength), seed \(d.seed), sha256 \(String(d.sha256.prefix(16)))…\n"
        }
        out += "\nRanges per linear input (observed, then what each --observer would clip to):\n"
        let columns = Self.observers.map(\.description)
        let nameWidth = Swift.min(Swift.max(linears.map(\.tensor.count).max() ?? 4, 4), Swift.max(width - 100, 24))
        out += "  " + "TENSOR".padding(nameWidth) + "  " + "ROWS".leftPad(7) + "  " + "OBSERVED".padding(19)
        out += columns.map { "  " + $0.uppercased().padding(19) }.joined().trimmingSuffix() + "\n"
        func pair(_ a: Float, _ b: Float) -> String { String(format: "%8.3g %8.3g", a, b).padding(19) }
        for l in linears {
            let name = l.tensor.count > nameWidth ? "…" + String(l.tensor.suffix(nameWidth - 1)) : l.tensor
            out += "  " + name.padding(nameWidth) + "  " + String(l.rows).leftPad(7) + "  " + pair(l.min, l.max)
            out +=
                columns.map { c in "  " + pair(l.ranges[c]?[0] ?? 0, l.ranges[c]?[1] ?? 0) }.joined().trimmingSuffix()
                + "\n"
        }
        return out
    }
}

extension String {
    fileprivate func trimmingSuffix() -> String {
        var s = self
        while s.last == " " { s.removeLast() }
        return s
    }
}
