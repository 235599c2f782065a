import Foundation
import QPackBinary
import QPackModel

/// A `.qcal` file: activation statistics of every linear layer's input, gathered by running a
/// float model over calibration data (Formats/qpack-calibration.md).
public struct CalibrationStats: Sendable, Equatable {
    public static let format = "qpack-calibration"
    /// 2: per-channel `channel_min` and `channel_max` (for smoothing).
    public static let version = 2
    /// Largest file the reader accepts.
    public static let maximumFileSize = 512 << 20

    /// One calibration data set that went into the statistics.
    public struct DataSet: Sendable, Equatable {
        /// SHA-256 of the token ids the model saw (little-endian int32, samples in order, each
        /// preceded by its length as a little-endian uint32).
        public let sha256: String
        public let source: String
        public let samples: Int
        public let tokens: Int
        public let sequenceLength: Int
        public let seed: UInt64

        public init(sha256: String, source: String, samples: Int, tokens: Int, sequenceLength: Int, seed: UInt64) {
            self.sha256 = sha256
            self.source = source
            self.samples = samples
            self.tokens = tokens
            self.sequenceLength = sequenceLength
            self.seed = seed
        }
    }

    public var architecture: String
    /// Sorted by digest.
    public private(set) var data: [DataSet]
    /// Sorted by tensor name.
    public private(set) var linears: [ActivationStats]

    public init(architecture: String, data: [DataSet], linears: [ActivationStats]) {
        self.architecture = architecture
        self.data = data.sorted { $0.sha256 < $1.sha256 }
        self.linears = linears.sorted { Self.byteOrder($0.tensor, $1.tensor) }
    }

    public func stats(for tensor: String) -> ActivationStats? {
        // Sorted by name: binary search.
        var lo = 0, hi = linears.count
        while lo < hi {
            let mid = (lo + hi) / 2
            if Self.byteOrder(linears[mid].tensor, tensor) { lo = mid + 1 } else { hi = mid }
        }
        return lo < linears.count && linears[lo].tensor == tensor ? linears[lo] : nil
    }

    /// The order the spec sorts tensor names in: their UTF-8 bytes (Swift's `<` on strings
    /// compares normalized Unicode, which differs for some non-ASCII names).
    static func byteOrder(_ a: String, _ b: String) -> Bool { a.utf8.lexicographicallyPrecedes(b.utf8) }

    public struct MergeError: Error, Sendable, CustomStringConvertible {
        public let description: String
    }

    /// Merges statistics of the same model over different data. Inputs are folded in order of
    /// their data digests, so the result does not depend on the order they are given in.
    public static func merged(_ files: [(name: String, stats: CalibrationStats)]) throws(MergeError) -> CalibrationStats
    {
        guard let first = files.first else { throw MergeError(description: "nothing to merge") }
        let ordered = files.sorted {
            $0.stats.data.map(\.sha256).joined(separator: ",") < $1.stats.data.map(\.sha256).joined(separator: ",")
        }
        var out = ordered[0].stats
        var seen = Set(out.data.map(\.sha256))
        for (name, s) in ordered.dropFirst() {
            guard s.architecture == out.architecture else {
                throw MergeError(
                    description:
                        "\(name): architecture '\(s.architecture)' differs from '\(out.architecture)' (\(first.name))")
            }
            for d in s.data where seen.contains(d.sha256) {
                throw MergeError(
                    description:
                        "\(name): data set \(d.sha256.prefix(16))… (\(d.source)) is already in the merge; merging it twice would count it twice"
                )
            }
            guard s.linears.map(\.tensor) == out.linears.map(\.tensor) else {
                throw MergeError(
                    description: "\(name): its linear layers differ from the other files' (not the same model)")
            }
            for (i, l) in s.linears.enumerated() {
                guard l.channels == out.linears[i].channels else {
                    throw MergeError(
                        description:
                            "\(name): tensor '\(l.tensor)' has \(l.channels) input channels, the other files \(out.linears[i].channels)"
                    )
                }
                out.linears[i].merge(l)
            }
            seen.formUnion(s.data.map(\.sha256))
            out.data = (out.data + s.data).sorted { $0.sha256 < $1.sha256 }
        }
        return out
    }

    // MARK: writing

    public func json() -> JSONOut {
        .object([
            ("format", .string(Self.format)),
            ("version", .int(Self.version)),
            ("architecture", .string(architecture)),
            ("histogram_bins", .int(ActivationHistogram.binCount)),
            (
                "data",
                .array(
                    data.map { d in
                        .object([
                            ("sha256", .string(d.sha256)), ("source", .string(d.source)), ("samples", .int(d.samples)),
                            ("tokens", .int(d.tokens)), ("sequence_length", .int(d.sequenceLength)),
                            ("seed", .uint64(d.seed)),
                        ])
                    })
            ),
            (
                "linears",
                .array(
                    linears.map { l in
                        .object([
                            ("tensor", .string(l.tensor)), ("channels", .int(l.channels)), ("rows", .uint64(l.rows)),
                            // No finite value seen (no rows, or a model that diverged): 0, as the spec says.
                            ("min", .float(l.minimum <= l.maximum ? l.minimum : 0)),
                            ("max", .float(l.minimum <= l.maximum ? l.maximum : 0)),
                            ("histogram_exponent", .int(l.histogram.exponent)),
                            ("histogram", .array(l.histogram.counts.map { .uint64($0) })),
                            ("sum_squares", .array(l.sumSquares.map { .double($0) })),
                            ("channel_absmax", .array(l.channelAbsMax.map { .float($0) })),
                            // A channel that saw no finite value is written as 0, like min/max of no rows.
                            ("channel_min", .array(l.channelMin.map { .float($0.isFinite ? $0 : 0) })),
                            ("channel_max", .array(l.channelMax.map { .float($0.isFinite ? $0 : 0) })),
                        ])
                    })
            ),
        ])
    }

    public func bytes() -> [UInt8] { Array((json().text() + "\n").utf8) }

    // MARK: reading

    public struct ReadError: Error, Sendable, CustomStringConvertible {
        public let description: String
        /// The file could not be read at all (exit 74), rather than read and found malformed.
        public var isIO = false
    }

    public static func read(path: String) throws(ReadError) -> CalibrationStats {
        let name = path.split(separator: "/").last.map(String.init) ?? path
        let file: MappedFile
        do { file = try MappedFile(path: path) } catch {
            throw ReadError(description: "\(path): cannot read: \(error)", isIO: true)
        }
        guard file.size <= maximumFileSize else {
            throw ReadError(
                description: "\(name): \(file.size) bytes is more than the \(maximumFileSize) a .qcal file may have")
        }
        return try parse(Array(file.bytes), name: name)
    }

    public static func parse(_ bytes: [UInt8], name: String) throws(ReadError) -> CalibrationStats {
        let root: JSONNode
        do { root = try StrictJSONParser.parse(bytes) } catch {
            throw ReadError(description: "\(name): \(error.description)")
        }
        func fail(_ node: JSONNode?, _ field: String, _ what: String) -> ReadError {
            ReadError(description: "\(name): field '\(field)' at byte \(node?.offset ?? 0): \(what)")
        }
        func member(_ n: JSONNode, _ key: String, _ path: String) throws(ReadError) -> JSONNode {
            guard let v = n[key] else { throw fail(n, path + key, "missing") }
            return v
        }
        func count(_ n: JSONNode, _ key: String, _ path: String, max limit: UInt64) throws(ReadError) -> Int {
            let v = try member(n, key, path)
            guard let u = v.uint64, u <= limit else { throw fail(v, path + key, "expected an integer 0…\(limit)") }
            return Int(u)
        }
        func text(_ n: JSONNode, _ key: String, _ path: String) throws(ReadError) -> String {
            let v = try member(n, key, path)
            guard let s = v.string else { throw fail(v, path + key, "expected a string") }
            return s
        }
        func float(_ v: JSONNode, _ field: String) throws(ReadError) -> Float {
            guard let d = v.double, case let f = Float(d), f.isFinite else {
                throw fail(v, field, "expected a finite number")
            }
            return f
        }
        guard case .object = root.value else { throw fail(root, "(root)", "expected an object") }
        guard try text(root, "format", "") == format else { throw fail(root["format"], "format", "not '\(format)'") }
        let version = try count(root, "version", "", max: 1 << 16)
        guard version == Self.version else {
            throw fail(
                root["version"], "version", "version \(version) is not supported (this qpack reads \(Self.version))")
        }
        guard try count(root, "histogram_bins", "", max: 1 << 20) == ActivationHistogram.binCount else {
            throw fail(root["histogram_bins"], "histogram_bins", "expected \(ActivationHistogram.binCount)")
        }
        let architecture = try text(root, "architecture", "")
        let dataNode = try member(root, "data", "")
        guard case let .array(dataItems) = dataNode.value, dataItems.count <= 4096 else {
            throw fail(dataNode, "data", "expected an array of at most 4096 data sets")
        }
        var data: [DataSet] = []
        for (i, d) in dataItems.enumerated() {
            let p = "data[\(i)]."
            let digest = try text(d, "sha256", p)
            guard digest.count == 64,
                digest.utf8.allSatisfy({ (0x30...0x39).contains($0) || (0x61...0x66).contains($0) })
            else {
                throw fail(d["sha256"], p + "sha256", "expected 64 lowercase hex digits")
            }
            let seedNode = try member(d, "seed", p)
            guard let seed = seedNode.uint64 else { throw fail(seedNode, p + "seed", "expected an unsigned integer") }
            data.append(
                DataSet(
                    sha256: digest, source: try text(d, "source", p), samples: try count(d, "samples", p, max: 1 << 40),
                    tokens: try count(d, "tokens", p, max: 1 << 50),
                    sequenceLength: try count(d, "sequence_length", p, max: 1 << 24),
                    seed: seed))
        }
        guard Set(data.map(\.sha256)).count == data.count else {
            throw fail(dataNode, "data", "the same data set is listed twice")
        }
        let linearsNode = try member(root, "linears", "")
        guard case let .array(items) = linearsNode.value, items.count <= 1 << 16 else {
            throw fail(linearsNode, "linears", "expected an array of at most 65536 entries")
        }
        var linears: [ActivationStats] = []
        for (i, l) in items.enumerated() {
            let p = "linears[\(i)]."
            let tensor = try text(l, "tensor", p)
            let channels = try count(l, "channels", p, max: 1 << 20)
            let rowsNode = try member(l, "rows", p)
            guard let rows = rowsNode.uint64 else { throw fail(rowsNode, p + "rows", "expected an unsigned integer") }
            let lo = try float(try member(l, "min", p), p + "min"), hi = try float(try member(l, "max", p), p + "max")
            guard rows == 0 || lo <= hi else { throw fail(l["min"], p + "min", "min \(lo) is above max \(hi)") }
            let eNode = try member(l, "histogram_exponent", p)
            guard let e = eNode.int, e >= ActivationHistogram.minimumExponent, e <= 128 else {
                throw fail(
                    eNode, p + "histogram_exponent", "expected an integer \(ActivationHistogram.minimumExponent)…128")
            }
            func array(_ key: String, _ n: Int) throws(ReadError) -> [JSONNode] {
                let v = try member(l, key, p)
                guard case let .array(a) = v.value, a.count == n else {
                    throw fail(v, p + key, "expected an array of \(n) numbers")
                }
                return a
            }
            var counts: [UInt64] = []
            counts.reserveCapacity(ActivationHistogram.binCount)
            for (j, c) in try array("histogram", ActivationHistogram.binCount).enumerated() {
                guard let u = c.uint64 else { throw fail(c, p + "histogram[\(j)]", "expected an unsigned integer") }
                counts.append(u)
            }
            var sums: [Double] = []
            sums.reserveCapacity(channels)
            for (j, c) in try array("sum_squares", channels).enumerated() {
                guard let d = c.double, d.isFinite, d >= 0 else {
                    throw fail(c, p + "sum_squares[\(j)]", "expected a finite number >= 0")
                }
                sums.append(d)
            }
            var absmax: [Float] = []
            absmax.reserveCapacity(channels)
            for (j, c) in try array("channel_absmax", channels).enumerated() {
                let f = try float(c, p + "channel_absmax[\(j)]")
                guard f >= 0 else { throw fail(c, p + "channel_absmax[\(j)]", "expected a number >= 0") }
                absmax.append(f)
            }
            var channelMin: [Float] = [], channelMax: [Float] = []
            channelMin.reserveCapacity(channels)
            channelMax.reserveCapacity(channels)
            let mins = try array("channel_min", channels), maxs = try array("channel_max", channels)
            for j in 0..<channels {
                let a = try float(mins[j], p + "channel_min[\(j)]"), b = try float(maxs[j], p + "channel_max[\(j)]")
                guard a <= b else { throw fail(mins[j], p + "channel_min[\(j)]", "\(a) is above channel_max \(b)") }
                guard max(abs(a), abs(b)) <= absmax[j] else {
                    throw fail(
                        mins[j], p + "channel_min[\(j)]",
                        "channel \(j)'s range [\(a), \(b)] exceeds its channel_absmax \(absmax[j])")
                }
                channelMin.append(rows > 0 ? a : .infinity)
                channelMax.append(rows > 0 ? b : -.infinity)
            }
            guard let histogram = ActivationHistogram(exponent: e, counts: counts) else {
                throw fail(l, p + "histogram", "invalid histogram")
            }
            // Summed with overflow checked: a wrapped sum would pass the bound and trap later.
            var values: UInt64 = 0
            var sumOverflows = false
            for c in counts {
                let (sum, o) = values.addingReportingOverflow(c)
                values = sum
                sumOverflows = sumOverflows || o
            }
            let (expected, overflow) = rows.multipliedReportingOverflow(by: UInt64(channels))
            // Non-finite inputs are skipped by the observer, so a histogram may hold fewer values.
            guard !overflow, !sumOverflows, values <= expected else {
                let held = sumOverflows ? "more than 2^64 - 1" : String(values)
                throw fail(
                    l["histogram"], p + "histogram",
                    "holds \(held) values, more than rows × channels = \(overflow ? "too large" : String(expected))")
            }
            if let last = linears.last, !byteOrder(last.tensor, tensor) {
                throw fail(l["tensor"], p + "tensor", "linears must be sorted by tensor name without repeats")
            }
            linears.append(
                ActivationStats(
                    tensor: tensor, channels: channels, rows: rows, minimum: rows > 0 ? lo : .infinity,
                    maximum: rows > 0 ? hi : -.infinity, sumSquares: sums, channelAbsMax: absmax,
                    channelMin: channelMin, channelMax: channelMax, histogram: histogram))
        }
        return CalibrationStats(architecture: architecture, data: data, linears: linears)
    }
}

extension CalibrationStats.MergeError: QPackFailure {
    public var failureKind: FailureKind { .malformed }
}

extension CalibrationStats.ReadError: QPackFailure {
    public var failureKind: FailureKind { isIO ? .io : .malformed }
}
