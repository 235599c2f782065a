import CQPackHash

/// SHA-256 (FIPS 180-4) for the digests qpack records. Backed by C code that uses the x86 SHA
/// extensions when present (checked against a plain Swift implementation in the tests).
public struct SHA256 {
    private var ctx = qp_sha256()

    public init() { qp_sha256_init(&ctx) }

    public mutating func update(_ bytes: UnsafeRawBufferPointer) {
        guard let base = bytes.baseAddress, bytes.count > 0 else { return }
        qp_sha256_update(&ctx, base, bytes.count)
    }

    public mutating func update(_ bytes: [UInt8]) {
        bytes.withUnsafeBytes { update($0) }
    }

    public mutating func finalize() -> [UInt8] {
        var out = [UInt8](repeating: 0, count: 32)
        out.withUnsafeMutableBufferPointer { qp_sha256_final(&ctx, $0.baseAddress!) }
        return out
    }

    public static func hash(_ bytes: UnsafeRawBufferPointer) -> [UInt8] {
        var h = SHA256()
        h.update(bytes)
        return h.finalize()
    }

    public static func hash(_ bytes: [UInt8]) -> [UInt8] {
        bytes.withUnsafeBytes { hash($0) }
    }

    public static func hex(_ digest: [UInt8]) -> String {
        let digits = Array("0123456789abcdef")
        return String(digest.flatMap { [digits[Int($0 >> 4)], digits[Int($0 & 15)]] })
    }

    /// Whether the hardware path is in use.
    public static var isAccelerated: Bool { qp_sha256_accelerated() != 0 }

    /// Forces the portable C path (tests compare both paths).
    public static func forcePortable(_ on: Bool) { qp_sha256_force_portable(on ? 1 : 0) }
}
