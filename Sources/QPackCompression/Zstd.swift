import CZstd
import QPackModel

/// zstd compression for container sections, with the safety rules of qpack's bad-input
/// checklist: frames carry a content checksum, decompression is sized only by the size the
/// caller declares (never by the frame header), the window is capped, and the input must be
/// exactly one frame with nothing after it.
public enum Zstd {
    public static let maxWindowLog: Int32 = 27

    public struct Failure: Error, Sendable, Equatable, CustomStringConvertible {
        public let message: String
        public var description: String { message }
    }

    /// One frame with the content size and a content checksum.
    public static func compress(_ input: [UInt8], level: Int32 = 3) throws(Failure) -> [UInt8] {
        guard let cctx = ZSTD_createCCtx() else {
            throw Failure(message: "zstd: cannot allocate a compression context")
        }
        defer { ZSTD_freeCCtx(cctx) }
        ZSTD_CCtx_setParameter(cctx, ZSTD_c_compressionLevel, level)
        ZSTD_CCtx_setParameter(cctx, ZSTD_c_checksumFlag, 1)
        ZSTD_CCtx_setParameter(cctx, ZSTD_c_contentSizeFlag, 1)
        ZSTD_CCtx_setParameter(cctx, ZSTD_c_windowLog, min(maxWindowLog, 23))
        var out = [UInt8](repeating: 0, count: ZSTD_compressBound(input.count))
        let n = out.withUnsafeMutableBytes { o in
            input.withUnsafeBytes { i in ZSTD_compress2(cctx, o.baseAddress, o.count, i.baseAddress, i.count) }
        }
        if ZSTD_isError(n) != 0 { throw Failure(message: "zstd: " + String(cString: ZSTD_getErrorName(n))) }
        out.removeSubrange(n...)
        return out
    }

    /// Decompresses exactly one frame into exactly `declaredSize` bytes.
    public static func decompress(_ frame: UnsafeRawBufferPointer, declaredSize: Int) throws(Failure) -> [UInt8] {
        guard declaredSize >= 0 else { throw Failure(message: "negative declared size") }
        let frameSize = ZSTD_findFrameCompressedSize(frame.baseAddress, frame.count)
        if ZSTD_isError(frameSize) != 0 {
            throw Failure(message: "zstd: not a complete frame: " + String(cString: ZSTD_getErrorName(frameSize)))
        }
        guard frameSize == frame.count else {
            throw Failure(message: "zstd: \(frame.count - frameSize) bytes follow the frame")
        }
        let contentSize = ZSTD_getFrameContentSize(frame.baseAddress, frame.count)
        // ZSTD_CONTENTSIZE_UNKNOWN / ZSTD_CONTENTSIZE_ERROR are the two largest UInt64 values.
        guard contentSize < UInt64.max - 1 else {
            throw Failure(message: "zstd: frame does not declare its content size")
        }
        guard contentSize == UInt64(declaredSize) else {
            throw Failure(message: "zstd: frame declares \(contentSize) bytes, expected \(declaredSize)")
        }
        guard let dctx = ZSTD_createDCtx() else {
            throw Failure(message: "zstd: cannot allocate a decompression context")
        }
        defer { ZSTD_freeDCtx(dctx) }
        ZSTD_DCtx_setParameter(dctx, ZSTD_d_windowLogMax, maxWindowLog)
        var out = [UInt8](repeating: 0, count: declaredSize)
        var inBuf = ZSTD_inBuffer(src: frame.baseAddress, size: frame.count, pos: 0)
        let result: Int = out.withUnsafeMutableBytes { o in
            var outBuf = ZSTD_outBuffer(dst: o.baseAddress, size: o.count, pos: 0)
            while true {
                let r = ZSTD_decompressStream(dctx, &outBuf, &inBuf)
                if ZSTD_isError(r) != 0 { return r }
                if r == 0 { return outBuf.pos == declaredSize ? 0 : -1 }
                // Output full but the frame wants more: more data than declared.
                if outBuf.pos == outBuf.size && inBuf.pos == inBuf.size { return -1 }
                if outBuf.pos == outBuf.size {
                    var probe: UInt8 = 0
                    let extra = withUnsafeMutableBytes(of: &probe) { p -> Int in
                        var o2 = ZSTD_outBuffer(dst: p.baseAddress, size: 1, pos: 0)
                        let r2 = ZSTD_decompressStream(dctx, &o2, &inBuf)
                        return ZSTD_isError(r2) != 0 ? r2 : o2.pos
                    }
                    if extra != 0 { return -1 }
                }
            }
        }
        if result == -1 {
            throw Failure(message: "zstd: decompressed size differs from the declared \(declaredSize) bytes")
        }
        if result != 0 { throw Failure(message: "zstd: " + String(cString: ZSTD_getErrorName(result))) }
        return out
    }

    public static func decompress(_ frame: [UInt8], declaredSize: Int) throws(Failure) -> [UInt8] {
        let r: Result<[UInt8], Failure> = frame.withUnsafeBytes { raw in
            do throws(Failure) { return .success(try decompress(raw, declaredSize: declaredSize)) } catch {
                return .failure(error)
            }
        }
        return try r.get()
    }
}

extension Zstd.Failure: QPackFailure {
    public var failureKind: FailureKind { .malformed }
}
