import QPackCalibration

/// Runs a float model over calibration samples and records what every linear layer sees.
public enum Calibrator {
    public struct Options: Sendable {
        public var samples: Int
        public var sequenceLength: Int
        public var seed: UInt64
        public init(samples: Int = 64, sequenceLength: Int = 128, seed: UInt64 = 0) {
            self.samples = samples
            self.sequenceLength = sequenceLength
            self.seed = seed
        }
    }

    /// The token id sequences calibration runs: `samples` picked by the seeded shuffle,
    /// tokenized, cut to `sequenceLength` (and the model's context); empty ones dropped.
    public static func sequences(_ data: [CalibrationSample], runner: ModelRunner, options: Options) throws(ModelRunner
        .Failure) -> [[Int32]]
    {
        var out: [[Int32]] = []
        for s in CalibrationData.select(data, count: options.samples, seed: options.seed) {
            let ids: [Int32]
            switch s {
            case let .text(t):
                if let refusal = runner.textRefusal { throw ModelRunner.Failure(description: refusal) }
                ids = runner.encode(t, limit: options.sequenceLength)
            case let .ids(v):
                ids = Array(v.prefix(min(options.sequenceLength, runner.maxPositions)))
                if let bad = ids.first(where: { Int($0) >= runner.vocabularySize }) {
                    throw ModelRunner.Failure(
                        description: "token id \(bad) is outside the vocabulary of \(runner.vocabularySize)")
                }
            }
            if !ids.isEmpty { out.append(ids) }
        }
        guard !out.isEmpty else { throw ModelRunner.Failure(description: "no calibration samples (the data is empty)") }
        return out
    }

    /// Statistics of every linear's input over `sequences`.
    public static func calibrate(
        _ runner: ModelRunner, sequences: [[Int32]], source: String, options: Options,
        progress: (Int, Int) -> Void = { _, _ in }
    ) throws(ModelRunner.Failure) -> CalibrationStats {
        var stats: [String: ActivationStats] = [:]
        for (i, ids) in sequences.enumerated() {
            _ = try runner.run(ids) { name, m, k, _, input, _ in
                if stats[name] == nil { stats[name] = ActivationStats(tensor: name, channels: k) }
                stats[name]!.observe(rows: m, input)
            }
            progress(i + 1, sequences.count)
        }
        let data = CalibrationStats.DataSet(
            sha256: CalibrationData.digest(sequences), source: source, samples: sequences.count,
            tokens: sequences.reduce(0) { $0 + $1.count }, sequenceLength: options.sequenceLength,
            seed: options.seed)
        return CalibrationStats(architecture: runner.architecture, data: [data], linears: Array(stats.values))
    }
}
