#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#endif

/// A `.qpack` file built in memory (the float reference verify and calibration run): bytes the
/// C runtime opens with `qp_model_open_memory`. Owns its buffer, which never moves once the
/// writer has finished.
public final class ContainerImage: @unchecked Sendable {
    public private(set) var bytes: UnsafeMutableRawPointer?
    public private(set) var count = 0
    private var capacity = 0

    /// `capacity`: the expected size, so a large image is not copied while it grows.
    public init(capacity: Int = 0) {
        if capacity > 0, let p = malloc(capacity) {
            bytes = p
            self.capacity = capacity
        }
    }

    deinit { free(bytes) }

    /// False when memory runs out.
    func append(_ data: UnsafeRawBufferPointer) -> Bool {
        guard !data.isEmpty, let source = data.baseAddress else { return true }
        if count + data.count > capacity {
            let wanted = max(count + data.count, 2 * capacity, 1 << 16)
            guard let p = realloc(bytes, wanted) else { return false }
            bytes = p
            capacity = wanted
        }
        (bytes! + count).copyMemory(from: source, byteCount: data.count)
        count += data.count
        return true
    }

    /// Overwrites bytes already appended (the header, written last).
    func overwrite(at offset: Int, _ data: [UInt8]) {
        precondition(offset >= 0 && offset + data.count <= count, "overwrite outside the image")
        data.withUnsafeBytes { (bytes! + offset).copyMemory(from: $0.baseAddress!, byteCount: data.count) }
    }
}
