#if canImport(Glibc)
    import Glibc
#endif
import Foundation
import QPackBinary
import QPackModel

/// Reads every input file once, front to back, on a thread of its own while tensors are being
/// converted, and computes in that one pass each file's digest (provenance) and the XXH64 of
/// every tensor's stored bytes (`source_xxh64`): each small slice of the file is hashed into the
/// file's digest and into the checksum of the tensor it belongs to while it is in cache. Files
/// are read through a moving 64 MiB mapping that is unmapped before the next, so resident
/// memory does not grow with the input.
final class InputDigests: @unchecked Sendable {
    struct TensorRange {
        let name: String
        let offset: Int
        let count: Int
    }

    private let done = DispatchSemaphore(value: 0)
    private var outcome: Result<(inputs: [JSONOut], tensors: [String: String]), ConvertError> = .success(([], [:]))

    /// `tensors`: the stored byte range of each tensor, by the base name of the file holding it.
    /// `window` (a multiple of the page size) and `slice` are the mapping and hashing steps
    /// (smaller in tests, to cross their boundaries).
    init(
        paths: [String], digest: InputDigest, tensors: [String: [TensorRange]], window: Int = 64 << 20,
        slice: Int = 256 << 10
    ) {
        let thread = Thread { [self] in
            var inputs: [JSONOut] = [], checksums: [String: String] = [:]
            do throws(ConvertError) {
                for p in paths {
                    let name = p.split(separator: "/").last.map(String.init) ?? p
                    inputs.append(
                        try Self.read(
                            p, name: name, digest: digest, tensors: tensors[name] ?? [], window: window, slice: slice,
                            checksums: &checksums))
                }
                outcome = .success((inputs, checksums))
            } catch {
                outcome = .failure(error)
            }
            done.signal()
        }
        thread.name = "qpack input digests"
        thread.start()
    }

    /// The input files' provenance entries, in order, and the tensors' XXH64 (16 hex digits).
    func wait() throws(ConvertError) -> (inputs: [JSONOut], tensors: [String: String]) {
        done.wait()
        done.signal()
        return try outcome.get()
    }

    private static func read(
        _ path: String, name: String, digest: InputDigest, tensors: [TensorRange], window: Int, slice: Int,
        checksums: inout [String: String]
    ) throws(ConvertError) -> JSONOut {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw ConvertError(.io, "\(name): cannot open to compute its digest") }
        defer { close(fd) }
        var st = stat()
        guard fstat(fd, &st) == 0 else { throw ConvertError(.io, "\(name): cannot stat to compute its digest") }
        let size = Int(st.st_size)
        let ranges = tensors.filter { $0.count >= 0 && $0.offset >= 0 && $0.offset + $0.count <= size }.sorted {
            $0.offset < $1.offset
        }
        var states = ranges.map { _ in XXH64.Streaming() }
        var sha = SHA256(), xxh = XXH64.Streaming()
        var offset = 0, firstOpen = 0  // ranges before firstOpen end before `offset`
        while offset < size {
            let count = min(window, size - offset)
            guard let p = mmap(nil, count, PROT_READ, MAP_PRIVATE, fd, off_t(offset)), p != MAP_FAILED else {
                throw ConvertError(.io, "\(name): cannot map bytes \(offset)..<\(offset + count) to compute its digest")
            }
            _ = madvise(p, count, MADV_SEQUENTIAL)
            var at = 0
            while at < count {
                let n = min(slice, count - at)
                let lo = offset + at, hi = lo + n
                func bytes(_ from: Int, _ to: Int) -> UnsafeRawBufferPointer {
                    UnsafeRawBufferPointer(start: p + (from - offset), count: to - from)
                }
                while firstOpen < ranges.count && ranges[firstOpen].offset + ranges[firstOpen].count <= lo {
                    firstOpen += 1
                }
                // The file's digest takes the slice in order; where a tensor's bytes lie, an XXH64
                // file digest and the tensor's checksum are updated side by side.
                var fileAt = lo, r = firstOpen
                while r < ranges.count && ranges[r].offset < hi {
                    let from = max(lo, ranges[r].offset), to = min(hi, ranges[r].offset + ranges[r].count)
                    if from < to {
                        if digest == .xxh64 && from >= fileAt {
                            xxh.update(bytes(fileAt, from))
                            xxh.update(bytes(from, to), alongside: &states[r], bytes(from, to))
                            fileAt = to
                        } else {
                            states[r].update(bytes(from, to))
                        }
                    }
                    r += 1
                }
                switch digest {
                case .xxh64: xxh.update(bytes(fileAt, hi))
                case .sha256: sha.update(bytes(lo, hi))
                }
                at += n
            }
            munmap(p, count)
            offset += count
        }
        for (r, s) in zip(ranges, states) { checksums[r.name] = XXH64.hex(s.digest()) }
        let value = digest == .xxh64 ? XXH64.hex(xxh.digest()) : SHA256.hex(sha.finalize())
        return .object([("file", .string(name)), ("bytes", .int(size)), (digest.rawValue, .string(value))])
    }
}
