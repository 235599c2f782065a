import CQPackHash

/// XXH64, a fast non-cryptographic checksum (per-tensor source checksums).
public enum XXH64 {
    public static func hash(_ bytes: UnsafeRawBufferPointer, seed: UInt64 = 0) -> UInt64 {
        qp_xxh64(bytes.baseAddress, bytes.count, seed)
    }

    public static func hash(_ bytes: [UInt8], seed: UInt64 = 0) -> UInt64 {
        bytes.withUnsafeBytes { hash($0, seed: seed) }
    }

    /// 16 lower-case hex digits, most significant first (as `xxhsum` prints it).
    public static func hex(_ v: UInt64) -> String {
        let s = String(v, radix: 16)
        return String(repeating: "0", count: 16 - s.count) + s
    }
}

extension XXH64 {
    /// The hash of data given in pieces (equal to `hash` of their concatenation).
    public struct Streaming {
        private var state = qp_xxh64_state()

        public init(seed: UInt64 = 0) { qp_xxh64_reset(&state, seed) }

        public mutating func update(_ bytes: UnsafeRawBufferPointer) {
            guard let base = bytes.baseAddress, bytes.count > 0 else { return }
            qp_xxh64_update(&state, base, bytes.count)
        }

        /// `update(a)` on this state and `other.update(b)`, interleaved (about the cost of one).
        public mutating func update(
            _ a: UnsafeRawBufferPointer, alongside other: inout Streaming, _ b: UnsafeRawBufferPointer
        ) {
            qp_xxh64_update_pair(&state, a.baseAddress, a.count, &other.state, b.baseAddress, b.count)
        }

        public func digest() -> UInt64 {
            withUnsafePointer(to: state) { qp_xxh64_digest($0) }
        }
    }
}
