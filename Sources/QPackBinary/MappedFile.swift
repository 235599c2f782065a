#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// A regular file mapped read-only into memory. Readers work on its bytes without copying.
///
/// If another process truncates the file while it is mapped, touching the lost pages raises
/// SIGBUS; qpack accepts that risk (as the safetensors reference does) and documents it.
public final class MappedFile: @unchecked Sendable {
    public let path: String
    public let size: Int
    private let base: UnsafeRawPointer?

    public enum OpenError: Error, Sendable, Equatable {
        case cannotOpen(path: String, reason: String)
        case notRegularFile(path: String)
        case cannotMap(path: String, reason: String)
    }

    public init(path: String) throws(OpenError) {
        self.path = path
        let fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK)
        guard fd >= 0 else { throw .cannotOpen(path: path, reason: String(cString: strerror(errno))) }
        defer { close(fd) }
        var st = stat()
        guard fstat(fd, &st) == 0 else { throw .cannotOpen(path: path, reason: String(cString: strerror(errno))) }
        // FIFOs, devices and directories are refused after open, on the opened descriptor.
        guard (st.st_mode & S_IFMT) == S_IFREG else { throw .notRegularFile(path: path) }
        size = Int(st.st_size)
        isMapped = size > 0
        if size == 0 {
            base = nil
            return
        }
        guard let p = mmap(nil, size, PROT_READ, MAP_PRIVATE, fd, 0), p != MAP_FAILED else {
            throw .cannotMap(path: path, reason: String(cString: strerror(errno)))
        }
        base = UnsafeRawPointer(p)
    }

    /// Whether `base` came from mmap (else from malloc, or nil for an empty file).
    private let isMapped: Bool

    fileprivate init(ownedCopyOf bytes: [UInt8], path: String) {
        self.path = path
        self.size = bytes.count
        self.isMapped = false
        if bytes.isEmpty {
            base = nil
        } else {
            let p = UnsafeMutableRawPointer.allocate(byteCount: bytes.count, alignment: 64)
            bytes.withUnsafeBytes { p.copyMemory(from: $0.baseAddress!, byteCount: bytes.count) }
            base = UnsafeRawPointer(p)
        }
    }

    deinit {
        guard let base else { return }
        if isMapped {
            munmap(UnsafeMutableRawPointer(mutating: base), size)
        } else {
            UnsafeMutableRawPointer(mutating: base).deallocate()
        }
    }

    /// All bytes of the file. Valid while this object is alive.
    public var bytes: UnsafeRawBufferPointer {
        UnsafeRawBufferPointer(start: base, count: size)
    }

    /// Tells the kernel the pages wholly inside this range are no longer needed, so a long
    /// conversion's resident memory does not grow with the input (the data can be read again
    /// later; it is reloaded from the file).
    public func release(offset: Int, count: Int) {
        guard isMapped, let base, count > 0 else { return }
        let page = Int(sysconf(Int32(_SC_PAGESIZE)))
        let start = (offset + page - 1) / page * page
        let end = (offset + count) / page * page
        guard end > start else { return }
        madvise(UnsafeMutableRawPointer(mutating: base) + start, end - start, Int32(MADV_DONTNEED))
    }

    /// A sub-range of the file, which the caller has already bounds-checked.
    public func bytes(offset: Int, count: Int) -> UnsafeRawBufferPointer {
        precondition(offset >= 0 && count >= 0 && offset <= size && count <= size - offset, "range outside the mapping")
        return UnsafeRawBufferPointer(rebasing: bytes[offset..<(offset + count)])
    }
}

extension MappedFile.OpenError: CustomStringConvertible {
    public var description: String {
        switch self {
        case let .cannotOpen(path, reason): return "\(path): cannot open: \(reason)"
        case let .notRegularFile(path): return "\(path): not a regular file"
        case let .cannotMap(path, reason): return "\(path): cannot map: \(reason)"
        }
    }
}

extension MappedFile {
    /// A private in-memory copy of `bytes` that behaves like a mapped file named `path`
    /// (used to parse generated and mutated inputs without touching the disk).
    public convenience init(copying bytes: [UInt8], path: String) {
        self.init(ownedCopyOf: bytes, path: path)
    }
}
